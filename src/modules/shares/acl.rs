//! Bringing the layout's folders and ACLs onto the host, in batch.
//!
//! The host is read with one `getfacl` per 1,000 folders and fixed with one
//! `setfacl --restore=-` for all the folders that differ: thousands of
//! folders cost a few processes, not one per folder.

use super::layout::{Folder, Ids};
use crate::engine::CustomChange;
use crate::host::{Command, Host, HostError};
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;

/// User and group ids from the host's `/etc/passwd` and `/etc/group`
/// (under `--root`), read once.
pub struct HostIds {
    users: HashMap<String, u32>,
    groups: HashMap<String, u32>,
}

fn parse_db(text: Option<Vec<u8>>) -> HashMap<String, u32> {
    let text = String::from_utf8_lossy(text.as_deref().unwrap_or_default()).into_owned();
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 3).then(|| Some((f[0].to_string(), f[2].parse().ok()?)))?
        })
        .collect()
}

impl HostIds {
    pub fn load(host: &dyn Host) -> Result<HostIds, HostError> {
        let mut users = parse_db(host.read(Path::new("/etc/passwd"))?);
        let mut groups = parse_db(host.read(Path::new("/etc/group"))?);
        users.entry("root".into()).or_insert(0);
        groups.entry("root".into()).or_insert(0);
        Ok(HostIds { users, groups })
    }

    /// Members of each group (secondary members from `/etc/group`).
    pub fn members(host: &dyn Host) -> Result<HashMap<String, Vec<String>>, HostError> {
        let text = host.read(Path::new("/etc/group"))?.unwrap_or_default();
        Ok(String::from_utf8_lossy(&text)
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() >= 4).then(|| {
                    (
                        f[0].to_string(),
                        f[3].split(',')
                            .filter(|m| !m.is_empty())
                            .map(String::from)
                            .collect(),
                    )
                })
            })
            .collect())
    }
}

impl Ids for HostIds {
    fn uid(&self, name: &str) -> Option<u32> {
        self.users.get(name).copied()
    }
    fn gid(&self, name: &str) -> Option<u32> {
        self.groups.get(name).copied()
    }
}

/// Splits `getfacl -n -p -E` output into (real path, normalised text
/// without the `# file:` and `# flags:` lines).
pub fn parse_getfacl(output: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut current: Option<(String, String)> = None;
    for line in output.lines() {
        if let Some(path) = line.strip_prefix("# file: ") {
            if let Some((p, t)) = current.take() {
                out.insert(p, t);
            }
            current = Some((unescape(path), String::new()));
        } else if line.is_empty() || line.starts_with("# flags:") {
            continue;
        } else if let Some((_, t)) = current.as_mut() {
            t.push_str(line);
            t.push('\n');
        }
    }
    if let Some((p, t)) = current.take() {
        out.insert(p, t);
    }
    out
}

/// getfacl writes unusual bytes of names as `\ooo` octal escapes.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Folders to create and folders whose owner or ACL differs.
#[derive(Debug, Default)]
pub struct LayoutChange {
    pub create: Vec<Folder>,
    pub fix: Vec<Folder>,
}

/// Compares the wanted folders with the host.
pub fn diff(host: &dyn Host, folders: &[Folder]) -> Result<LayoutChange, HostError> {
    let ids = HostIds::load(host)?;
    let mut change = LayoutChange::default();
    let mut existing: Vec<&Folder> = Vec::new();
    for f in folders {
        match host.meta(&f.path)? {
            None => change.create.push(f.clone()),
            Some(_) => existing.push(f),
        }
    }
    for chunk in existing.chunks(1000) {
        let mut argv = vec!["getfacl".to_string(), "-n".into(), "-p".into(), "-E".into()];
        argv.extend(
            chunk
                .iter()
                .map(|f| host.real_path(&f.path).display().to_string()),
        );
        let out = host.run(&Command::new(argv))?;
        let current = parse_getfacl(&String::from_utf8_lossy(&out.stdout));
        for f in chunk {
            let real = host.real_path(&f.path).display().to_string();
            let wanted = f.acl_text(&ids);
            if wanted.is_none() || current.get(&real) != wanted.as_ref() {
                change.fix.push((*f).clone());
            }
        }
    }
    Ok(change)
}

impl LayoutChange {
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.fix.is_empty()
    }
}

impl CustomChange for LayoutChange {
    fn summary(&self) -> String {
        format!(
            "~ shares layout: create {} folder(s), set owner and ACL of {} folder(s)",
            self.create.len(),
            self.create.len() + self.fix.len()
        )
    }

    fn detail(&self) -> Option<String> {
        let mut lines: Vec<String> = self
            .create
            .iter()
            .map(|f| format!("+ {}", f.path.display()))
            .chain(self.fix.iter().map(|f| format!("~ {}", f.path.display())))
            .collect();
        if lines.len() > 40 {
            let more = lines.len() - 40;
            lines.truncate(40);
            lines.push(format!("… and {more} more"));
        }
        Some(lines.join("\n") + "\n")
    }

    fn to_json(&self) -> serde_json::Value {
        json!({
            "kind": "shares-layout",
            "summary": self.summary(),
            "create": self.create.iter().map(|f| &f.path).collect::<Vec<_>>(),
            "fix": self.fix.iter().map(|f| &f.path).collect::<Vec<_>>(),
        })
    }

    fn apply(&self, host: &dyn Host) -> Result<(), HostError> {
        // Born closed (root, 0700), a thousand per `mkdir` process; the ACL
        // below opens each as wanted.
        for chunk in self.create.chunks(1000) {
            let mut argv = vec![
                "mkdir".to_string(),
                "-p".into(),
                "-m".into(),
                "700".into(),
                "--".into(),
            ];
            argv.extend(
                chunk
                    .iter()
                    .map(|f| host.real_path(&f.path).display().to_string()),
            );
            host.run_ok(&Command::new(argv))?;
        }
        let ids = HostIds::load(host)?;
        let mut text = String::new();
        for f in self.create.iter().chain(&self.fix) {
            let block = f.restore_block(&host.real_path(&f.path), &ids).ok_or_else(|| {
                // Name the first unknown account.
                let missing = std::iter::once(&f.owner).find(|u| ids.uid(u).is_none()).cloned();
                match missing {
                    Some(u) => HostError::NoSuchUser(u),
                    None => f
                        .entries
                        .iter()
                        .find_map(|a| match &a.who {
                            super::layout::Who::User(u) if ids.uid(u).is_none() => {
                                Some(HostError::NoSuchUser(u.clone()))
                            }
                            super::layout::Who::Group(g) if ids.gid(g).is_none() => {
                                Some(HostError::NoSuchGroup(g.clone()))
                            }
                            _ => None,
                        })
                        .unwrap_or_else(|| HostError::NoSuchUser(f.owner.clone())),
                }
            })?;
            text.push_str(&block);
        }
        if !text.is_empty() {
            host.run_ok(&Command::new(["setfacl", "--restore=-"]).stdin(text))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getfacl_output_is_split_per_file() {
        let out = "# file: /srv/a\\040b\n# owner: 0\n# group: 0\n# flags: -s-\nuser::rwx\ngroup::---\nother::---\n\n# file: /srv/c\n# owner: 1\n# group: 0\nuser::rwx\n\n";
        let m = parse_getfacl(out);
        assert_eq!(
            m["/srv/a b"],
            "# owner: 0\n# group: 0\nuser::rwx\ngroup::---\nother::---\n"
        );
        assert_eq!(m["/srv/c"], "# owner: 1\n# group: 0\nuser::rwx\n");
    }
}

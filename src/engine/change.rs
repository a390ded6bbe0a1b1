//! Typed changes: what a module wants done to the host.
//!
//! A plan is a list of these; `plan` prints them, `apply` performs them in
//! order. Modules build them with [`file`] and [`dir`], which compare the
//! wanted state with the host and return nothing when it is already right,
//! so `apply` touches only what differs.

use crate::host::{Command, FileMeta, Host, HostError, Owner};
use serde_json::json;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

/// A change a module defines itself (a batch of accounts, a ruleset…).
pub trait CustomChange: Debug + Send + Sync {
    /// One line saying what will be done.
    fn summary(&self) -> String;
    /// More lines (a diff, a list), shown under the summary by `plan`.
    fn detail(&self) -> Option<String> {
        None
    }
    /// The change as JSON for `plan --json`.
    fn to_json(&self) -> serde_json::Value {
        json!({ "kind": "custom", "summary": self.summary() })
    }
    /// Performs it.
    fn apply(&self, host: &dyn Host) -> Result<(), HostError>;
}

/// One change to the host.
#[derive(Debug)]
pub enum Change {
    /// Write a file (create or replace) with mode and owner.
    File {
        path: PathBuf,
        contents: Vec<u8>,
        mode: u32,
        owner: Owner,
        /// Contents never shown in plans or logs (keys, passwords).
        secret: bool,
        /// What is there now, for the diff and for undo on failure.
        before: Option<Vec<u8>>,
        before_meta: Option<FileMeta>,
    },
    /// Fix mode or owner of a file or directory whose contents are right.
    Meta {
        path: PathBuf,
        mode: u32,
        owner: Owner,
        before: FileMeta,
    },
    /// Create a directory with mode and owner.
    Dir { path: PathBuf, mode: u32, owner: Owner },
    /// Run a command. `live_only` commands (service reloads, live kernel
    /// state) are skipped when the host is not the running system
    /// (`--root`), since nothing runs there.
    Run {
        command: Command,
        why: String,
        live_only: bool,
    },
    /// Something the plan must say that changes nothing by itself (a unit
    /// that takes effect at the next boot).
    Notice { text: String },
    /// A module's own change.
    Custom(Box<dyn CustomChange>),
}

impl Change {
    /// One line for the plan, prefixed by `+` (create), `~` (modify) or `!`
    /// (run).
    pub fn summary(&self) -> String {
        match self {
            Change::File {
                path,
                mode,
                owner,
                before,
                ..
            } => {
                let sign = if before.is_some() { "~ update" } else { "+ create" };
                format!("{sign} file {} ({mode:04o} {owner})", path.display())
            }
            Change::Meta {
                path,
                mode,
                owner,
                before,
            } => format!(
                "~ fix permissions of {} ({:04o} {}:{} -> {mode:04o} {owner})",
                path.display(),
                before.mode,
                before.uid,
                before.gid
            ),
            Change::Dir { path, mode, owner } => {
                format!("+ create directory {} ({mode:04o} {owner})", path.display())
            }
            Change::Run { command, why, .. } => format!("! run `{}` ({why})", command.display()),
            Change::Notice { text } => format!("i {text}"),
            Change::Custom(c) => c.summary(),
        }
    }

    /// Lines shown under the summary: a unified diff for text files.
    pub fn detail(&self) -> Option<String> {
        match self {
            Change::File { secret: true, .. } => Some("(contents hidden: secret)".into()),
            Change::File { contents, before, .. } => {
                let new = std::str::from_utf8(contents).ok()?;
                let old = match before {
                    Some(b) => std::str::from_utf8(b).ok()?,
                    None => "",
                };
                let diff = similar::TextDiff::from_lines(old, new);
                let text = diff
                    .unified_diff()
                    .context_radius(2)
                    .header("current", "wanted")
                    .to_string();
                Some(text)
            }
            Change::Custom(c) => c.detail(),
            _ => None,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Change::File {
                path,
                mode,
                owner,
                before,
                secret,
                ..
            } => json!({
                "kind": "file", "path": path, "mode": format!("{mode:04o}"), "owner": owner,
                "action": if before.is_some() { "update" } else { "create" },
                "diff": if *secret { None } else { self.detail() },
            }),
            Change::Meta {
                path, mode, owner, ..
            } => json!({
                "kind": "permissions", "path": path, "mode": format!("{mode:04o}"), "owner": owner,
            }),
            Change::Dir { path, mode, owner } => json!({
                "kind": "directory", "path": path, "mode": format!("{mode:04o}"), "owner": owner,
            }),
            Change::Run {
                command,
                why,
                live_only,
            } => json!({
                "kind": "command", "argv": command.argv, "why": why, "live_only": live_only,
            }),
            Change::Notice { text } => json!({ "kind": "notice", "text": text }),
            Change::Custom(c) => c.to_json(),
        }
    }

    /// Performs the change. Returns how to undo it if a later change of the
    /// same module fails (only file writes can be undone).
    pub(crate) fn apply(&self, host: &dyn Host) -> Result<Outcome, HostError> {
        match self {
            Change::File {
                path,
                contents,
                mode,
                owner,
                before,
                before_meta,
                ..
            } => {
                host.write_file(path, contents, *mode, owner)?;
                Ok(Outcome::Done(Some(Undo::File {
                    path: path.clone(),
                    before: before.clone(),
                    before_meta: *before_meta,
                })))
            }
            Change::Meta {
                path, mode, owner, ..
            } => {
                host.set_meta(path, *mode, owner)?;
                Ok(Outcome::Done(None))
            }
            Change::Dir { path, mode, owner } => {
                host.create_dir(path, *mode, owner)?;
                Ok(Outcome::Done(None))
            }
            Change::Run {
                command, live_only, ..
            } => {
                if *live_only && !host.is_live() {
                    return Ok(Outcome::Skipped);
                }
                host.run_ok(command)?;
                Ok(Outcome::Done(None))
            }
            Change::Notice { .. } => Ok(Outcome::Noted),
            Change::Custom(c) => {
                c.apply(host)?;
                Ok(Outcome::Done(None))
            }
        }
    }
}

/// What makes systemd take a changed unit file into account; call it only
/// when the unit's file change is in the plan. Under systemd: reload the
/// manager, then enable the unit (`enable`: why it must start at boot).
/// On a running system without systemd (container, chroot, image build,
/// rescue shell: [`Host::systemd_running`] is false) nothing can be
/// reloaded: the unit is enabled offline (`systemctl enable` only makes
/// links) and the plan says that it takes effect at the next boot. Under
/// `--root` the live-only commands are skipped as usual.
pub fn unit_changes(host: &dyn Host, unit: &str, enable: Option<&str>) -> Vec<Change> {
    let run = |argv: &[&str], why: String| Change::Run {
        command: Command::new(argv.iter().copied()),
        why,
        live_only: true,
    };
    if !host.is_live() || host.systemd_running() {
        let mut changes = vec![run(
            &["systemctl", "daemon-reload"],
            format!("the {unit} unit changed"),
        )];
        if let Some(why) = enable {
            changes.push(run(&["systemctl", "enable", unit], why.to_string()));
        }
        return changes;
    }
    let has_systemctl = ["/usr/bin/systemctl", "/bin/systemctl"]
        .iter()
        .any(|p| matches!(host.meta(Path::new(p)), Ok(Some(_))));
    let mut changes = Vec::new();
    match enable {
        Some(why) if has_systemctl => changes.push(run(
            &["systemctl", "enable", unit],
            format!("{why}; systemd is not running, so this only links the unit"),
        )),
        Some(_) => changes.push(Change::Notice {
            text: format!("systemctl is not installed: enable {unit} by hand to start it at boot"),
        }),
        None => {}
    }
    changes.push(Change::Notice {
        text: format!("systemd is not running here: {unit} takes effect at the next boot"),
    });
    changes
}

pub(crate) enum Outcome {
    Done(Option<Undo>),
    Skipped,
    /// A notice: nothing to do, the report repeats it.
    Noted,
}

/// How to put a file back as it was.
pub(crate) enum Undo {
    File {
        path: PathBuf,
        before: Option<Vec<u8>>,
        before_meta: Option<FileMeta>,
    },
}

impl Undo {
    pub(crate) fn run(&self, host: &dyn Host) -> Result<(), HostError> {
        match self {
            Undo::File {
                path,
                before: Some(contents),
                before_meta,
            } => {
                let meta = before_meta.unwrap_or(FileMeta {
                    is_dir: false,
                    mode: 0o644,
                    uid: 0,
                    gid: 0,
                });
                // Owner names are not known here; restore by id through the
                // root user and group names when they match, else keep root.
                let owner = owner_of(host, meta.uid, meta.gid);
                host.write_file(path, contents, meta.mode, &owner)
            }
            Undo::File {
                path, before: None, ..
            } => host.remove_file(path),
        }
    }
}

fn owner_of(host: &dyn Host, uid: u32, gid: u32) -> Owner {
    let name_of = |db: &str, id: u32| -> Option<String> {
        let text = host.read(Path::new(db)).ok()??;
        String::from_utf8_lossy(&text)
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.len() >= 3 && f[2] == id.to_string())
            .map(|f| f[0].to_string())
    };
    Owner {
        user: name_of("/etc/passwd", uid).unwrap_or_else(|| "root".into()),
        group: name_of("/etc/group", gid).unwrap_or_else(|| "root".into()),
    }
}

/// The change that makes `path` hold `contents` with `mode` and `owner`,
/// or `None` if it already does.
pub fn file(
    host: &dyn Host,
    path: impl AsRef<Path>,
    contents: impl Into<Vec<u8>>,
    mode: u32,
    owner: Owner,
) -> Result<Option<Change>, HostError> {
    file_with(host, path.as_ref(), contents.into(), mode, owner, false)
}

/// Like [`file`], for secrets: contents never shown.
pub fn secret_file(
    host: &dyn Host,
    path: impl AsRef<Path>,
    contents: impl Into<Vec<u8>>,
    mode: u32,
    owner: Owner,
) -> Result<Option<Change>, HostError> {
    file_with(host, path.as_ref(), contents.into(), mode, owner, true)
}

fn file_with(
    host: &dyn Host,
    path: &Path,
    contents: Vec<u8>,
    mode: u32,
    owner: Owner,
    secret: bool,
) -> Result<Option<Change>, HostError> {
    let before = host.read(path)?;
    let before_meta = host.meta(path)?;
    if before.as_deref() != Some(contents.as_slice()) {
        return Ok(Some(Change::File {
            path: path.to_path_buf(),
            contents,
            mode,
            owner,
            secret,
            before,
            before_meta,
        }));
    }
    meta_change(host, path, mode, owner, before_meta)
}

/// The change that makes `path` a directory with `mode` and `owner`, or
/// `None` if it already is.
pub fn dir(
    host: &dyn Host,
    path: impl AsRef<Path>,
    mode: u32,
    owner: Owner,
) -> Result<Option<Change>, HostError> {
    let path = path.as_ref();
    match host.meta(path)? {
        None => Ok(Some(Change::Dir {
            path: path.to_path_buf(),
            mode,
            owner,
        })),
        Some(m) => meta_change(host, path, mode, owner, Some(m)),
    }
}

fn meta_change(
    host: &dyn Host,
    path: &Path,
    mode: u32,
    owner: Owner,
    current: Option<FileMeta>,
) -> Result<Option<Change>, HostError> {
    let Some(current) = current else {
        return Ok(None);
    };
    // An owner that does not exist yet will be created by an earlier
    // change of the same apply; treat it as different.
    let wanted = match (host.user_id(&owner.user)?, host.group_id(&owner.group)?) {
        (Some(u), Some(g)) => Some((u, g)),
        _ => None,
    };
    if current.mode == mode && wanted == Some((current.uid, current.gid)) {
        return Ok(None);
    }
    Ok(Some(Change::Meta {
        path: path.to_path_buf(),
        mode,
        owner,
        before: current,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::RecordingHost;

    #[test]
    fn file_change_only_when_different() {
        let host = RecordingHost::new();
        host.seed("/etc/x", b"same\n");
        assert!(
            file(&host, "/etc/x", "same\n", 0o644, Owner::root())
                .unwrap()
                .is_none()
        );
        let c = file(&host, "/etc/x", "other\n", 0o644, Owner::root())
            .unwrap()
            .unwrap();
        assert_eq!(c.summary(), "~ update file /etc/x (0644 root:root)");
        assert_eq!(
            c.detail().unwrap(),
            "--- current\n+++ wanted\n@@ -1 +1 @@\n-same\n+other\n"
        );
        let c = file(&host, "/etc/x", "same\n", 0o600, Owner::root())
            .unwrap()
            .unwrap();
        assert_eq!(
            c.summary(),
            "~ fix permissions of /etc/x (0644 0:0 -> 0600 root:root)"
        );
    }

    #[test]
    fn secrets_are_never_shown() {
        let host = RecordingHost::new();
        let c = secret_file(&host, "/k", "PRIVATE KEY", 0o600, Owner::root())
            .unwrap()
            .unwrap();
        assert_eq!(c.detail().unwrap(), "(contents hidden: secret)");
        assert!(!c.to_json().to_string().contains("PRIVATE"));
    }

    #[test]
    fn dir_change_when_missing_or_wrong() {
        let host = RecordingHost::new();
        let c = dir(&host, "/srv", 0o755, Owner::root()).unwrap().unwrap();
        assert_eq!(c.summary(), "+ create directory /srv (0755 root:root)");
        c.apply(&host).ok().unwrap();
        assert!(dir(&host, "/srv", 0o755, Owner::root()).unwrap().is_none());
        assert!(dir(&host, "/srv", 0o700, Owner::root()).unwrap().is_some());
    }
}

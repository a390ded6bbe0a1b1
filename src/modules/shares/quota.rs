//! Linux user quotas per role, set in one `setquota -b` batch.

use super::layout::Directory;
use super::settings::SharesSettings;
use crate::engine::CustomChange;
use crate::host::{Command, Host, HostError};
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The filesystem holding a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filesystem {
    pub mount_point: String,
    pub fstype: String,
    /// Mounted with user quotas (`usrquota`, `usrjquota=`, `uquota`).
    pub user_quota: bool,
}

/// Parses one line of `findmnt -n -o TARGET,FSTYPE,OPTIONS`.
pub fn parse_findmnt(line: &str) -> Option<Filesystem> {
    let mut f = line.split_whitespace();
    let (target, fstype, options) = (f.next()?, f.next()?, f.next().unwrap_or(""));
    let user_quota = options
        .split(',')
        .any(|o| o == "usrquota" || o == "quota" || o == "uquota" || o.starts_with("usrjquota="));
    Some(Filesystem {
        mount_point: target.to_string(),
        fstype: fstype.to_string(),
        user_quota,
    })
}

/// The filesystem that holds (or will hold) `path`.
pub fn filesystem(host: &dyn Host, path: &Path) -> Result<Filesystem, HostError> {
    // The shares root may not exist yet: ask about its nearest ancestor.
    let mut p: PathBuf = path.to_path_buf();
    while host.meta(&p)?.is_none() {
        match p.parent() {
            Some(parent) => p = parent.to_path_buf(),
            None => break,
        }
    }
    let real = host.real_path(&p).display().to_string();
    let cmd = Command::new([
        "findmnt",
        "-n",
        "-o",
        "TARGET,FSTYPE,OPTIONS",
        "-T",
        real.as_str(),
    ]);
    let out = host.run_ok(&cmd)?;
    parse_findmnt(String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or("")).ok_or_else(|| {
        HostError::Failed {
            command: cmd.display(),
            status: 0,
            stderr: "unexpected output".into(),
        }
    })
}

/// Current block limits (KiB: soft, hard) per uid from `repquota -u -n -O csv`.
pub fn parse_repquota(csv: &str) -> HashMap<u32, (u64, u64)> {
    let mut lines = csv.lines();
    let Some(header) = lines.next() else {
        return HashMap::new();
    };
    let cols: Vec<&str> = header.split(',').collect();
    let at = |name: &str| cols.iter().position(|c| c.trim() == name);
    let (Some(u), Some(s), Some(h)) = (at("User"), at("BlockSoftLimit"), at("BlockHardLimit")) else {
        return HashMap::new();
    };
    lines
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let uid = f.get(u)?.trim().trim_start_matches('#').parse().ok()?;
            Some((
                uid,
                (f.get(s)?.trim().parse().ok()?, f.get(h)?.trim().parse().ok()?),
            ))
        })
        .collect()
}

/// Limits to set: (login, soft KiB, hard KiB).
#[derive(Debug)]
pub struct QuotaChange {
    pub mount_point: String,
    pub limits: Vec<(String, u64, u64)>,
}

/// Wanted limits per login: soft at 95 % of the role's quota, hard at it.
pub fn wanted(s: &SharesSettings, dir: &Directory) -> Vec<(String, u64, u64)> {
    dir.people
        .iter()
        .map(|p| {
            let hard = s.quotas.of(p.role) * 1024;
            (p.login.clone(), hard / 100 * 95, hard)
        })
        .collect()
}

/// The quota change, if any limit differs from the host's.
pub fn plan(
    host: &dyn Host,
    s: &SharesSettings,
    dir: &Directory,
    fs: &Filesystem,
) -> Result<Option<QuotaChange>, HostError> {
    let out = host.run(&Command::new([
        "repquota",
        "-u",
        "-n",
        "-O",
        "csv",
        fs.mount_point.as_str(),
    ]))?;
    let current = parse_repquota(&String::from_utf8_lossy(&out.stdout));
    let ids = super::acl::HostIds::load(host)?;
    use super::layout::Ids;
    let limits: Vec<_> = wanted(s, dir)
        .into_iter()
        .filter(|(login, soft, hard)| match ids.uid(login) {
            Some(uid) => current.get(&uid).copied().unwrap_or((0, 0)) != (*soft, *hard),
            None => true,
        })
        .collect();
    Ok((!limits.is_empty()).then(|| QuotaChange {
        mount_point: fs.mount_point.clone(),
        limits,
    }))
}

impl CustomChange for QuotaChange {
    fn summary(&self) -> String {
        format!(
            "~ set the disk quota of {} account(s) on {}",
            self.limits.len(),
            self.mount_point
        )
    }

    fn to_json(&self) -> serde_json::Value {
        json!({"kind": "quotas", "summary": self.summary(), "mount_point": self.mount_point,
               "limits": self.limits.iter().map(|(l, s, h)| json!({"login": l, "soft_kib": s, "hard_kib": h})).collect::<Vec<_>>()})
    }

    fn apply(&self, host: &dyn Host) -> Result<(), HostError> {
        let input: String = self
            .limits
            .iter()
            .map(|(login, soft, hard)| format!("{login} {soft} {hard} 0 0\n"))
            .collect();
        host.run_ok(&Command::new(["setquota", "-u", "-b", self.mount_point.as_str()]).stdin(input))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findmnt_options() {
        let fs = parse_findmnt("/srv ext4 rw,relatime,usrquota").unwrap();
        assert!(fs.user_quota);
        assert!(!parse_findmnt("/ ext4 rw,relatime,discard").unwrap().user_quota);
        assert!(
            parse_findmnt("/ ext4 rw,usrjquota=aquota.user,jqfmt=vfsv1")
                .unwrap()
                .user_quota
        );
    }

    #[test]
    fn repquota_csv() {
        let csv = "User,BlockStatus,FileStatus,BlockUsed,BlockSoftLimit,BlockHardLimit,BlockGrace,FileUsed,FileSoftLimit,FileHardLimit,FileGrace\n#0,ok,ok,100,0,0,,5,0,0,\n#10001,ok,ok,20,486400,512000,,3,0,0,\n";
        let m = parse_repquota(csv);
        assert_eq!(m[&10001], (486400, 512000));
        assert_eq!(m[&0], (0, 0));
    }

    #[test]
    fn limits_by_role() {
        let s = SharesSettings::default();
        let w = wanted(&s, &super::super::layout::tests::school());
        assert_eq!(w[0], ("alice.martin".into(), 486400, 512000));
    }
}

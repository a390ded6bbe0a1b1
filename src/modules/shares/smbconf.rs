//! `smb.conf`: rendered from a template, checked with `testparm` before it
//! replaces the running one, reloaded without cutting sessions.

use super::settings::{Role, SharesSettings};
use crate::config::Config;
use crate::engine::CustomChange;
use crate::host::{Command, Host, HostError, Owner};
use serde_json::json;
use std::path::Path;

/// Where Samba reads its configuration.
pub const SMB_CONF: &str = "/etc/samba/smb.conf";
/// Where a candidate configuration is checked before it replaces it.
pub const CANDIDATE: &str = "/etc/samba/.smb.conf.preau-check";

/// `valid users` for roles: `@group` for each role's Unix group.
fn users_of(s: &SharesSettings, roles: &[Role]) -> String {
    let mut v: Vec<String> = roles
        .iter()
        .map(|r| format!("@{}", s.role_groups.of(*r)))
        .collect();
    // Administrators always reach every share.
    let admin = format!("@{}", s.role_groups.admin);
    if !v.contains(&admin) {
        v.push(admin);
    }
    v.join(" ")
}

/// The values the template sees.
pub fn values(config: &Config, s: &SharesSettings) -> serde_json::Value {
    json!({
        "workgroup": s.workgroup,
        "netbios_name": s.netbios(&config.establishment.hostname),
        "establishment": config.establishment.name.replace(['\n', '\r'], " "),
        "interfaces": s.interfaces,
        "min_protocol": s.min_protocol.as_samba(),
        "root": s.root,
        "recycle_bin": s.recycle_bin,
        "commun_users": users_of(s, &s.visibility.commun),
        "professeurs_users": users_of(s, &s.visibility.professeurs),
        "administratif_users": users_of(s, &s.visibility.administratif),
    })
}

/// Renders smb.conf (the administrator's override if there is one).
pub fn render(
    host: &dyn Host,
    config: &Config,
    s: &SharesSettings,
) -> Result<String, crate::modules::templates::TemplateError> {
    crate::modules::templates::render(host, "shares", "smb.conf", &values(config, s))
}

/// Why `testparm` refused a configuration.
pub fn testparm_problem(status: i32, stderr: &str) -> Option<String> {
    let bad: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            l.contains("Unknown parameter")
                || l.contains("Ignoring invalid value")
                || l.contains("Error loading services")
                || l.starts_with("ERROR")
        })
        .collect();
    if status != 0 || !bad.is_empty() {
        Some(if bad.is_empty() {
            format!("testparm exited with status {status}")
        } else {
            bad.join("; ")
        })
    } else {
        None
    }
}

/// Checks `contents` with `testparm -s` on a candidate file; the running
/// configuration is never touched.
pub fn testparm(host: &dyn Host, contents: &str) -> Result<(), HostError> {
    let candidate = Path::new(CANDIDATE);
    host.write_file(candidate, contents.as_bytes(), 0o600, &Owner::root())?;
    let real = host.real_path(candidate).display().to_string();
    let out = host.run(&Command::new([
        "testparm",
        "-s",
        "--suppress-prompt",
        real.as_str(),
    ]));
    host.remove_file(candidate)?;
    let out = out?;
    if let Some(problem) = testparm_problem(out.status, &String::from_utf8_lossy(&out.stderr)) {
        return Err(HostError::Failed {
            command: "testparm -s (new smb.conf)".into(),
            status: out.status,
            stderr: format!(
                "{problem}\n    help: the running smb.conf is unchanged; fix the template override in /etc/preau/templates/shares/smb.conf"
            ),
        });
    }
    // testparm accepts any module name: smbd only fails when a client
    // connects ("Error loading module …/vfs/recycle.so"), and every
    // connection to the share is then refused.
    let missing = missing_vfs_modules(host, contents)?;
    if !missing.is_empty() {
        return Err(HostError::Failed {
            command: "smbd -b (VFS modules of the new smb.conf)".into(),
            status: 1,
            stderr: format!(
                "smb.conf names VFS modules this Samba does not have: {}; every share using them would refuse connections\n    help: apt-get install samba-vfs-modules (or set shares.recycle_bin = false); the running smb.conf is unchanged",
                missing.join(", ")
            ),
        });
    }
    Ok(())
}

/// The VFS modules an smb.conf names in its `vfs objects` lines.
pub fn vfs_modules(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key: String = key
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        if key == "vfs objects" || key == "vfs object" {
            for name in value.split(|c: char| c.is_whitespace() || c == ',') {
                if !name.is_empty() && !found.iter().any(|f| f == name) {
                    found.push(name.to_string());
                }
            }
        }
    }
    found
}

/// The VFS modules `contents` names that are neither built into smbd nor
/// installed in its modules directory (`smbd -b` says both). Nothing is
/// reported when smbd itself is missing: the package check says that.
pub fn missing_vfs_modules(host: &dyn Host, contents: &str) -> Result<Vec<String>, HostError> {
    let wanted = vfs_modules(contents);
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let Ok(out) = host.run(&Command::new(["smbd", "-b"])) else {
        return Ok(Vec::new());
    };
    let build = String::from_utf8_lossy(&out.stdout);
    let (modules_dir, builtin) = build_facts(&build);
    let Some(modules_dir) = modules_dir else {
        return Ok(Vec::new());
    };
    let mut missing = Vec::new();
    for name in wanted {
        if builtin.iter().any(|b| *b == format!("vfs_{name}")) {
            continue;
        }
        let so = Path::new(modules_dir).join("vfs").join(format!("{name}.so"));
        if host.meta(&so)?.is_none() {
            missing.push(name);
        }
    }
    Ok(missing)
}

/// `MODULESDIR` and the built-in modules from `smbd -b`.
fn build_facts(build: &str) -> (Option<&str>, Vec<&str>) {
    let modules_dir = build
        .lines()
        .find_map(|l| l.trim().strip_prefix("MODULESDIR:"))
        .map(str::trim);
    let mut builtin = Vec::new();
    let mut lines = build.lines();
    while let Some(l) = lines.next() {
        if l.trim() == "Builtin modules:" {
            for next in lines.by_ref() {
                if !next.starts_with(' ') && !next.starts_with('\t') {
                    break;
                }
                builtin.extend(next.split_whitespace());
            }
            break;
        }
    }
    (modules_dir, builtin)
}

/// Checks the new smb.conf before the file change that installs it.
#[derive(Debug)]
pub struct CheckConf {
    pub contents: String,
}

impl CustomChange for CheckConf {
    fn summary(&self) -> String {
        "! check the new smb.conf with `testparm -s`".into()
    }

    fn apply(&self, host: &dyn Host) -> Result<(), HostError> {
        testparm(host, &self.contents)
    }
}

/// Tells a running smbd to re-read its configuration: open sessions stay.
/// Nothing to do when smbd is not running or the host is not live.
#[derive(Debug)]
pub struct Reload;

impl CustomChange for Reload {
    fn summary(&self) -> String {
        "! run `smbcontrol smbd reload-config` (smb.conf changed; sessions stay open)".into()
    }

    fn apply(&self, host: &dyn Host) -> Result<(), HostError> {
        if !host.is_live() {
            return Ok(());
        }
        let out = host.run(&Command::new(["smbcontrol", "smbd", "reload-config"]))?;
        let text = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
        if out.success() || text.contains("Can't find pid") || text.contains("No such file") {
            Ok(())
        } else {
            Err(HostError::Failed {
                command: "smbcontrol smbd reload-config".into(),
                status: out.status,
                stderr: text.trim().to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::RecordingHost;

    fn config() -> Config {
        Config::example()
    }

    #[test]
    fn default_smb_conf() {
        let host = RecordingHost::new();
        let s = SharesSettings::default();
        insta::assert_snapshot!(render(&host, &config(), &s).unwrap());
    }

    #[test]
    fn smb_conf_with_interfaces_smb3_and_no_recycle_bin() {
        let host = RecordingHost::new();
        let s = SharesSettings {
            interfaces: vec!["lan0".into(), "10.1.0.1/16".into()],
            min_protocol: super::super::settings::MinProtocol::Smb3_11,
            recycle_bin: false,
            workgroup: "TILLEULS".into(),
            ..Default::default()
        };
        insta::assert_snapshot!(render(&host, &config(), &s).unwrap());
    }

    #[test]
    fn vfs_modules_of_a_config() {
        let text = "[global]\n# vfs objects = commented\n  VFS  Objects = recycle, acl_xattr\n[x]\nvfs object = recycle full_audit\n";
        assert_eq!(vfs_modules(text), ["recycle", "acl_xattr", "full_audit"]);
        assert!(vfs_modules("[global]\n").is_empty());
    }

    /// Regression (issue 15): `testparm` accepted `vfs objects = recycle`
    /// without samba-vfs-modules, `check` and `apply` said all was well,
    /// and every connection to `perso` failed.
    #[test]
    fn a_missing_vfs_module_is_refused_before_smb_conf_is_replaced() {
        let host = RecordingHost::new();
        host.respond("testparm", crate::host::Output::default());
        let build = "Paths:\n   MODULESDIR: /usr/lib/x86_64-linux-gnu/samba\nBuiltin modules:\n   vfs_default vfs_posixacl auth_unix\n\nAll OK\n";
        host.respond(
            "smbd -b",
            crate::host::Output {
                status: 0,
                stdout: build.as_bytes().to_vec(),
                stderr: vec![],
            },
        );
        let text = render(&host, &config(), &SharesSettings::default()).unwrap();
        let err = testparm(&host, &text).unwrap_err().to_string();
        assert!(
            err.contains("VFS modules this Samba does not have: recycle"),
            "{err}"
        );
        assert!(err.contains("apt-get install samba-vfs-modules"), "{err}");
        host.seed("/usr/lib/x86_64-linux-gnu/samba/vfs/recycle.so", b"");
        testparm(&host, &text).unwrap();
        // Built-in modules need no file.
        testparm(&host, "[global]\nvfs objects = posixacl\n").unwrap();
    }

    #[test]
    fn testparm_complaints_are_errors() {
        assert!(testparm_problem(0, "Load smb config files from x\nLoaded services file OK.\n").is_none());
        assert_eq!(
            testparm_problem(
                0,
                "Unknown parameter encountered: \"bogus\"\nIgnoring unknown parameter \"bogus\"\n"
            )
            .unwrap(),
            "Unknown parameter encountered: \"bogus\""
        );
        assert!(testparm_problem(1, "Error loading services.\n").is_some());
    }
}

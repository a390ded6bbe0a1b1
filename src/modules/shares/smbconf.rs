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
    match testparm_problem(out.status, &String::from_utf8_lossy(&out.stderr)) {
        None => Ok(()),
        Some(problem) => Err(HostError::Failed {
            command: "testparm -s (new smb.conf)".into(),
            status: out.status,
            stderr: format!(
                "{problem}\n    help: the running smb.conf is unchanged; fix the template override in /etc/preau/templates/shares/smb.conf"
            ),
        }),
    }
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

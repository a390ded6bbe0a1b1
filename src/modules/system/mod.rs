//! The `system` module: the appliance itself. Always enabled.
//!
//! It keeps Préau's own footprint right: the configuration, state and log
//! directories with tight modes, the `preau.service` systemd unit (rendered
//! from a template the administrator may override), and the host name from
//! `[establishment]`. Services and the live host name are only touched on
//! the running system, never under `--root`.

use super::{Context, Finding, Health, Module, ModuleInfo, State};
use crate::engine::{Change, dir, file, unit_changes};
use crate::host::{Command, Owner};
use serde_json::json;
use std::path::Path;
use std::sync::LazyLock;

pub struct System;

pub static SYSTEM: System = System;

static INFO: LazyLock<ModuleInfo> =
    LazyLock::new(|| ModuleInfo::parse(include_str!("../../../modules/system/module.toml")));

/// Where the systemd unit is installed.
pub const UNIT_PATH: &str = "/etc/systemd/system/preau.service";

/// The binary the unit starts: where the Debian package installs it.
pub const BINARY: &str = "/usr/bin/preau";

/// The generated certificate and key, relative to the state directory.
pub const TLS_CERT: &str = "tls/cert.pem";
pub const TLS_KEY: &str = "tls/key.pem";

impl System {
    fn unit(&self, ctx: &Context<'_>) -> anyhow::Result<String> {
        let values = json!({
            "establishment": ctx.config.establishment,
            "binary": BINARY,
            "config_path": ctx.config_path,
            "state_dir": ctx.config.paths.state_dir,
            "log_dir": ctx.config.paths.log_dir,
            "stop_timeout": ctx.config.server.shutdown_grace_seconds + 10,
        });
        Ok(super::templates::render(
            ctx.host,
            "system",
            "preau.service",
            &values,
        )?)
    }
}

/// The systemd units the Debian package ships in `/lib/systemd/system`,
/// rendered from the same built-in templates `apply` uses, with the default
/// paths and no establishment yet: `(file name, contents)`.
pub fn packaged_units() -> anyhow::Result<Vec<(&'static str, String)>> {
    let mut config = crate::config::Config::default();
    config.establishment.name.clear();
    // Built-in templates only: the package is built away from any server.
    let host = crate::host::RecordingHost::new();
    let ctx = Context::new(&config, &host);
    let values = json!({
        "establishment": config.establishment,
        "binary": BINARY,
        "config_path": ctx.config_path,
    });
    let backup = |name| super::templates::render(&host, "system", name, &values);
    Ok(vec![
        ("preau.service", SYSTEM.unit(&ctx)?),
        ("preau-firewall.service", super::firewall::FIREWALL.unit(&ctx)?),
        ("preau-backup.service", backup("preau-backup.service")?),
        ("preau-backup.timer", backup("preau-backup.timer")?),
    ])
}

impl Module for System {
    fn name(&self) -> &'static str {
        "system"
    }

    fn info(&self) -> &ModuleInfo {
        &INFO
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut found = Vec::new();
        if let Err(e) = self.unit(ctx) {
            found.push(Finding::new("system", format!("{e:#}")));
        }
        found
    }

    fn plan(&self, ctx: &Context<'_>) -> anyhow::Result<Vec<Change>> {
        let host = ctx.host;
        let root = Owner::root;
        let state = ctx.state_dir();
        let mut changes: Vec<Option<Change>> = vec![
            dir(host, "/etc/preau", 0o755, root())?,
            dir(host, &state, 0o750, root())?,
            dir(host, state.join("tls"), 0o700, root())?,
            dir(host, ctx.log_dir(), 0o750, root())?,
        ];
        let unit = file(host, UNIT_PATH, self.unit(ctx)?, 0o644, root())?;
        let unit_changed = matches!(unit, Some(Change::File { .. }));
        changes.push(unit);
        if unit_changed {
            changes.extend(unit_changes(host, "preau.service", None).into_iter().map(Some));
        }
        let hostname = &ctx.config.establishment.hostname;
        let name_file = file(host, "/etc/hostname", format!("{hostname}\n"), 0o644, root())?;
        if matches!(name_file, Some(Change::File { .. })) {
            changes.push(name_file);
            changes.push(Some(Change::Run {
                command: Command::new(["hostname", hostname.as_str()]),
                why: "the host name changed".into(),
                live_only: true,
            }));
        } else {
            changes.push(name_file);
        }
        Ok(changes.into_iter().flatten().collect())
    }

    fn status(&self, ctx: &Context<'_>) -> Health {
        let mut details = Vec::new();
        let mut state = State::Ok;
        let state_dir = ctx.state_dir();
        for (what, path) in [
            ("state directory", state_dir.clone()),
            ("TLS certificate", state_dir.join(TLS_CERT)),
            ("configuration", ctx.config_path.clone()),
        ] {
            match ctx.host.meta(Path::new(&path)) {
                Ok(Some(_)) => details.push(format!("{what}: {}", path.display())),
                _ => {
                    state = State::Degraded;
                    details.push(format!("{what} missing: {} (run `preau init`)", path.display()));
                }
            }
        }
        Health {
            module: "system",
            state,
            details,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::host::RecordingHost;

    fn config() -> Config {
        Config::example()
    }

    #[test]
    fn plan_then_apply_then_nothing() {
        let host = RecordingHost::new();
        let config = config();
        let ctx = Context::new(&config, &host);
        let changes = SYSTEM.plan(&ctx).unwrap();
        let summaries: Vec<String> = changes.iter().map(Change::summary).collect();
        assert_eq!(
            summaries,
            vec![
                "+ create directory /etc/preau (0755 root:root)",
                "+ create directory /var/lib/preau (0750 root:root)",
                "+ create directory /var/lib/preau/tls (0700 root:root)",
                "+ create directory /var/log/preau (0750 root:root)",
                "+ create file /etc/systemd/system/preau.service (0644 root:root)",
                "! run `systemctl daemon-reload` (the preau.service unit changed)",
                "+ create file /etc/hostname (0644 root:root)",
                "! run `hostname scribe` (the host name changed)",
            ]
        );
        let plan = crate::engine::Plan::of("system", changes);
        assert!(crate::engine::apply(&host, &plan).ok);
        insta::assert_snapshot!(host.text(UNIT_PATH).unwrap());
        assert!(SYSTEM.plan(&ctx).unwrap().is_empty());
    }

    /// Regression (issue 15): `preau apply` failed on `systemctl
    /// daemon-reload` wherever systemd is not running.
    #[test]
    fn without_systemd_no_reload_is_planned_and_the_plan_says_so() {
        let host = RecordingHost::new().without_systemd();
        let config = config();
        let ctx = Context::new(&config, &host);
        let changes = SYSTEM.plan(&ctx).unwrap();
        let summaries: Vec<String> = changes.iter().map(Change::summary).collect();
        assert!(
            !summaries.iter().any(|s| s.contains("systemctl")),
            "{summaries:?}"
        );
        assert!(
            summaries.contains(
                &"i systemd is not running here: preau.service takes effect at the next boot".to_string()
            ),
            "{summaries:?}"
        );
        let plan = crate::engine::Plan::of("system", changes);
        assert!(crate::engine::apply(&host, &plan).ok);
        assert!(SYSTEM.plan(&ctx).unwrap().is_empty());
    }

    #[test]
    fn packaged_units_use_default_paths_and_no_establishment() {
        let units = packaged_units().unwrap();
        let (name, daemon) = &units[0];
        assert_eq!(*name, "preau.service");
        assert!(daemon.contains("Description=Préau school server\n"), "{daemon}");
        assert!(daemon.contains("ExecStart=/usr/bin/preau --config /etc/preau/preau.toml serve"));
        assert!(daemon.contains("ConditionPathExists=/etc/preau/preau.toml"));
        assert!(daemon.contains("Type=notify") && daemon.contains("WatchdogSec="));
        assert!(daemon.contains("TimeoutStopSec=11s"));
        let (name, firewall) = &units[1];
        assert_eq!(*name, "preau-firewall.service");
        assert!(firewall.contains("Before=network-pre.target"));
        assert!(
            firewall.contains("ConditionPathExists=/var/lib/preau/"),
            "{firewall}"
        );
    }
}

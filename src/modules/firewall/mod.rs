//! The `firewall` module: zones, the policy between them, explicit rules,
//! port forwards, masquerading, which appliance services each zone may
//! reach and the forced use of the proxy — as ONE nftables table,
//! `inet preau`, replaced whole in one `nft -f` transaction.
//!
//! - [`settings`]: `[firewall]`, presets, validation (lock-out risks
//!   included) — all before anything is applied;
//! - [`render`]: the pure function settings → typed ruleset → nft text,
//!   the plain intent as a comment beside each rule;
//! - [`apply`]: loading, the saved previous ruleset, confirm / rollback
//!   with a timer that survives the command;
//! - the `preau-firewall.service` unit restores the last confirmed ruleset
//!   at boot, before the network is up.
//!
//! Limits: the table only covers what Préau manages; other tables (Docker,
//! libvirt…) are left alone and still see the packets. Time windows use
//! the server's local time as the kernel knows it when the ruleset is
//! loaded. Under `--root` the ruleset is written but loaded into the
//! kernel only with `PREAU_FIREWALL_LIVE=1` (tests run Préau inside a
//! network namespace).

pub mod apply;
pub mod cli;
pub mod render;
pub mod room_cut;
pub mod settings;
pub mod web;

use super::{Context, Finding, Health, Module, ModuleInfo, State};
use crate::engine::{Change, dir, file, unit_changes};
use crate::host::{Command, Host, Owner};
use apply::{Files, LoadRuleset};
use serde::Serialize;
use serde_json::json;
use std::sync::LazyLock;

pub use settings::FirewallSettings;

pub struct Firewall;

pub static FIREWALL: Firewall = Firewall;

static INFO: LazyLock<ModuleInfo> =
    LazyLock::new(|| ModuleInfo::parse(include_str!("../../../modules/firewall/module.toml")));

/// Where the boot unit is installed.
pub const UNIT_PATH: &str = "/etc/systemd/system/preau-firewall.service";

impl Firewall {
    pub(crate) fn unit(&self, ctx: &Context<'_>) -> anyhow::Result<String> {
        let files = Files::new(&ctx.state_dir());
        let values = json!({
            "nft": apply::NFT_PATH,
            "boot_file": files.boot(),
            "state_dir": ctx.config.paths.state_dir,
        });
        Ok(super::templates::render(
            ctx.host,
            "firewall",
            "preau-firewall.service",
            &values,
        )?)
    }
}

/// The rendered ruleset for a configuration (an error when a value of
/// the settings cannot be used: validation refuses those first).
pub fn rendered(ctx: &Context<'_>) -> Result<render::Ruleset, settings::Invalid> {
    Ok(render::build(&ctx.config.firewall.effective().typed()?))
}

impl Module for Firewall {
    fn name(&self) -> &'static str {
        "firewall"
    }

    fn info(&self) -> &ModuleInfo {
        &INFO
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut found = Vec::new();
        if let Err(e) = self.unit(ctx) {
            found.push(Finding::new("firewall", format!("{e:#}")));
        }
        let text = match rendered(ctx) {
            Ok(r) => r.to_nft(),
            Err(e) => {
                found.push(Finding::new("firewall", e.to_string()));
                return found;
            }
        };
        // nft -c asks the kernel to check the whole transaction without
        // committing it; it needs CAP_NET_ADMIN.
        match ctx
            .host
            .run(&Command::new([apply::NFT, "-c", "-f", "/dev/stdin"]).stdin(text))
        {
            Ok(out) if out.success() => {}
            Ok(out) => {
                let err = String::from_utf8_lossy(&out.stderr);
                if !err.contains("Operation not permitted") {
                    found.push(
                        Finding::new(
                            "firewall",
                            format!("nft refuses the rendered ruleset: {}", err.trim()),
                        )
                        .hint("`preau firewall show` prints it; please report this as a bug"),
                    );
                }
            }
            Err(_) => {} // no nft here: the Debian package check says so
        }
        if ctx.host.is_live() {
            for z in ctx.config.firewall.effective().zones {
                for i in &z.interfaces {
                    let sys = std::path::Path::new("/sys/class/net").join(i);
                    if !matches!(ctx.host.meta(&sys), Ok(Some(_))) {
                        let message = format!("interface {i} of zone {} does not exist on this host", z.name);
                        found.push(Finding::new("firewall", message).hint(
                            "check `ip link`; a zone on a missing interface gets no traffic (and may lock you out)",
                        ));
                    }
                }
            }
        }
        found
    }

    fn plan(&self, ctx: &Context<'_>) -> anyhow::Result<Vec<Change>> {
        let host = ctx.host;
        let root = Owner::root;
        let files = Files::new(&ctx.state_dir());
        let mut changes: Vec<Option<Change>> = vec![dir(host, &files.dir, 0o750, root())?];
        let unit = file(host, UNIT_PATH, self.unit(ctx)?, 0o644, root())?;
        let unit_changed = matches!(unit, Some(Change::File { .. }));
        changes.push(unit);
        if unit_changed {
            let why = "restore the ruleset at boot, before the network is up";
            changes.extend(
                unit_changes(host, "preau-firewall.service", Some(why))
                    .into_iter()
                    .map(Some),
            );
        }
        let ruleset = rendered(ctx)?;
        let text = ruleset.to_nft();
        let before = host
            .read(&files.ruleset())?
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let loads = apply::loads_kernel(host);
        let live = if loads { apply::live_tag(host) } else { None };
        let live_ok = !loads || live == render::tag_of(&text);
        if before.as_deref() != Some(text.as_str()) || !live_ok {
            let live_is_before = live.is_some() && live == before.as_deref().and_then(render::tag_of);
            changes.push(Some(Change::Custom(Box::new(LoadRuleset {
                live_is_before,
                rules: ruleset.rule_count(),
                sets: ruleset.sets.len(),
                text,
                before,
                files,
            }))));
        }
        Ok(changes.into_iter().flatten().collect())
    }

    fn hooks(&self) -> Option<&dyn crate::engine::session::Hooks> {
        Some(&cli::FirewallHooks)
    }

    fn status(&self, ctx: &Context<'_>) -> Health {
        let files = Files::new(&ctx.state_dir());
        let mut details = Vec::new();
        let mut state = State::Ok;
        let wanted = match rendered(ctx) {
            Ok(r) => render::tag_of(&r.to_nft()),
            Err(e) => {
                return Health {
                    module: "firewall",
                    state: State::Failed,
                    details: vec![e.to_string()],
                };
            }
        };
        let live = if apply::loads_kernel(ctx.host) {
            Some(apply::live_tag(ctx.host))
        } else {
            None
        };
        match &live {
            Some(None) => {
                state = State::Failed;
                details.push("no inet preau table is loaded: the appliance is not protected (run `preau apply firewall`)".into());
            }
            Some(Some(t)) if Some(t) != wanted.as_ref() => {
                state = State::Degraded;
                details.push(format!(
                    "the loaded ruleset ({t}) is not the configured one ({}): run `preau plan firewall`",
                    wanted.unwrap_or_default()
                ));
            }
            Some(Some(t)) => details.push(format!("ruleset {t} loaded")),
            None => details.push("not the running system: the live ruleset is not read".into()),
        }
        if let Some(p) = apply::read_pending(ctx.host, &files) {
            state = State::Degraded;
            let left = apply::seconds_left(&p);
            details.push(if left < -apply::EXPIRY_GRACE {
                "a confirm-apply expired without its rollback (restart?): run `preau rollback`".into()
            } else {
                format!(
                    "confirm-apply pending: rolls back in {} s unless `preau confirm`",
                    left.max(0)
                )
            });
        }
        if live.is_some() {
            let overrides = room_cut::active_overrides(&ctx.db, room_cut::now_unix()).unwrap_or_default();
            match room_cut::live(ctx.host, ctx.config, &overrides) {
                Ok(Some(cut)) if !cut.is_empty() => {
                    let mut rooms: Vec<&str> = cut
                        .iter()
                        .flat_map(|c| c.rooms.iter().map(String::as_str))
                        .collect();
                    rooms.sort_unstable();
                    rooms.dedup();
                    details.push(format!(
                        "rooms cut off from the internet: {} ({} address range(s); `preau firewall status`)",
                        rooms.join(", "),
                        cut.len()
                    ));
                }
                Ok(_) => {}
                Err(e) => details.push(format!("room cut unreadable: {e}")),
            }
            match counters(ctx.host) {
                Ok(rows) => details.extend(rows.iter().map(CounterRow::line)),
                Err(e) => details.push(format!("counters unavailable: {e}")),
            }
        }
        Health {
            module: "firewall",
            state,
            details,
        }
    }
}

/// One rule's counter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CounterRow {
    pub chain: String,
    pub handle: u64,
    pub packets: u64,
    pub bytes: u64,
    pub comment: String,
}

impl CounterRow {
    pub fn line(&self) -> String {
        format!(
            "{:<11} {:>10} pkts {:>12} B  {}",
            self.chain, self.packets, self.bytes, self.comment
        )
    }
}

/// Per-rule counters from `nft -j list table inet preau`.
pub fn counters(host: &dyn Host) -> anyhow::Result<Vec<CounterRow>> {
    let out = host.run_ok(&Command::new([
        apply::NFT,
        "-j",
        "list",
        "table",
        "inet",
        "preau",
    ]))?;
    parse_counters(&out.stdout)
}

/// Parses nft's JSON listing: every rule that has a counter.
pub fn parse_counters(json_text: &[u8]) -> anyhow::Result<Vec<CounterRow>> {
    let v: serde_json::Value = serde_json::from_slice(json_text)?;
    let items = v
        .get("nftables")
        .and_then(|n| n.as_array())
        .ok_or_else(|| anyhow::anyhow!("no \"nftables\" array in nft's JSON output"))?;
    let mut rows = Vec::new();
    for item in items {
        let Some(rule) = item.get("rule") else { continue };
        let Some(exprs) = rule.get("expr").and_then(|e| e.as_array()) else {
            continue;
        };
        let Some(counter) = exprs.iter().find_map(|e| e.get("counter")) else {
            continue;
        };
        rows.push(CounterRow {
            chain: rule["chain"].as_str().unwrap_or("").to_string(),
            handle: rule["handle"].as_u64().unwrap_or(0),
            packets: counter["packets"].as_u64().unwrap_or(0),
            bytes: counter["bytes"].as_u64().unwrap_or(0),
            comment: rule["comment"].as_str().unwrap_or("").to_string(),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::host::RecordingHost;

    fn config() -> Config {
        let mut c = Config::example();
        c.modules.enabled = vec!["firewall".into()];
        c
    }

    #[test]
    fn plan_then_apply_then_nothing() {
        let host = RecordingHost::new();
        let config = config();
        let ctx = Context::new(&config, &host);
        let changes = FIREWALL.plan(&ctx).unwrap();
        let summaries: Vec<String> = changes.iter().map(Change::summary).collect();
        assert_eq!(
            summaries,
            vec![
                "+ create directory /var/lib/preau/firewall (0750 root:root)",
                "+ create file /etc/systemd/system/preau-firewall.service (0644 root:root)",
                "! run `systemctl daemon-reload` (the preau-firewall.service unit changed)",
                "! run `systemctl enable preau-firewall.service` (restore the ruleset at boot, before the network is up)",
                "~ load the firewall ruleset (table inet preau: 41 rules, 2 sets) in one transaction",
            ]
        );
        let plan = crate::engine::Plan::of("firewall", changes);
        let report = crate::engine::apply(&host, &plan);
        assert!(report.ok, "{}", report.render());
        insta::assert_snapshot!(host.text(UNIT_PATH).unwrap());
        let text = host.text("/var/lib/preau/firewall/ruleset.nft").unwrap();
        assert_eq!(host.text("/var/lib/preau/firewall/boot.nft").unwrap(), text);
        // The recording host now "has" the table with its tag.
        host.respond(
            "nft -t list table inet preau",
            crate::host::Output {
                status: 0,
                stdout: text.into_bytes(),
                stderr: vec![],
            },
        );
        assert!(FIREWALL.plan(&ctx).unwrap().is_empty());
    }

    /// Regression (issue 15): without systemd (container, chroot, rescue
    /// shell) the plan made `systemctl daemon-reload` fail, the apply
    /// stopped and no ruleset was ever loaded.
    #[test]
    fn without_systemd_the_unit_is_linked_and_the_ruleset_still_loads() {
        let host = RecordingHost::new().without_systemd();
        host.seed("/usr/bin/systemctl", b"");
        let config = config();
        let ctx = Context::new(&config, &host);
        let changes = FIREWALL.plan(&ctx).unwrap();
        let summaries: Vec<String> = changes.iter().map(Change::summary).collect();
        assert_eq!(
            summaries,
            vec![
                "+ create directory /var/lib/preau/firewall (0750 root:root)",
                "+ create file /etc/systemd/system/preau-firewall.service (0644 root:root)",
                "! run `systemctl enable preau-firewall.service` (restore the ruleset at boot, before the network is up; systemd is not running, so this only links the unit)",
                "i systemd is not running here: preau-firewall.service takes effect at the next boot",
                "~ load the firewall ruleset (table inet preau: 41 rules, 2 sets) in one transaction",
            ]
        );
        let report = crate::engine::apply(&host, &crate::engine::Plan::of("firewall", changes));
        assert!(report.ok, "{}", report.render());
        assert!(
            !host.log().iter().any(|l| l.contains("daemon-reload")),
            "{:?}",
            host.log()
        );
        assert!(
            report
                .render()
                .contains("[info] firewall: i systemd is not running here")
        );
        // Without systemctl at all, the plan says what to do by hand.
        let bare = RecordingHost::new().without_systemd();
        let ctx = Context::new(&config, &bare);
        let summaries: Vec<String> = FIREWALL.plan(&ctx).unwrap().iter().map(Change::summary).collect();
        assert!(
            summaries.contains(
                &"i systemctl is not installed: enable preau-firewall.service by hand to start it at boot"
                    .to_string()
            ),
            "{summaries:?}"
        );
    }

    #[test]
    fn check_reports_what_nft_refuses_but_not_missing_privileges() {
        let host = RecordingHost::new();
        let config = config();
        let ctx = Context::new(&config, &host);
        let found = FIREWALL.check(&ctx);
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(
            found[0].message,
            "interface eth0 of zone outside does not exist on this host"
        );
        for i in ["eth0", "eth1", "eth2"] {
            host.seed(&format!("/sys/class/net/{i}"), b"");
        }
        assert!(FIREWALL.check(&ctx).is_empty());
        assert!(host.log().iter().all(|l| l == "run nft -c -f /dev/stdin"));
        let refused = |stderr: &str| crate::host::Output {
            status: 1,
            stdout: vec![],
            stderr: stderr.as_bytes().to_vec(),
        };
        host.respond("nft -c", refused("Error: Operation not permitted"));
        assert!(FIREWALL.check(&ctx).is_empty());
        host.respond("nft -c", refused("/dev/stdin:12:3: Error: syntax error"));
        let found = FIREWALL.check(&ctx);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.starts_with("nft refuses the rendered ruleset"),
            "{:?}",
            found[0]
        );
    }

    #[test]
    fn counters_from_nft_json() {
        let json = br#"{"nftables": [{"metainfo": {"version": "1.0.6"}},
          {"table": {"family": "inet", "name": "preau", "handle": 1}},
          {"rule": {"family": "inet", "table": "preau", "chain": "forward", "handle": 7,
            "comment": "teaching to admin: reject (zone policy)",
            "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "eth1"}},
                     {"counter": {"packets": 3, "bytes": 180}}, {"goto": {"target": "reject_logged"}}]}},
          {"rule": {"family": "inet", "table": "preau", "chain": "drop_logged", "handle": 9,
            "expr": [{"limit": {"rate": 30}}, {"log": {"prefix": "x"}}]}}]}"#;
        let rows = parse_counters(json).unwrap();
        assert_eq!(
            rows,
            vec![CounterRow {
                chain: "forward".into(),
                handle: 7,
                packets: 3,
                bytes: 180,
                comment: "teaching to admin: reject (zone policy)".into()
            }]
        );
        assert!(parse_counters(b"{}").is_err());
    }
}

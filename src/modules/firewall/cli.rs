//! Commands of the firewall: `confirm`, `rollback`, `firewall show`,
//! `firewall counters` and the timer's own `firewall rollback-after`.

use super::apply::{self, Files, Outcome};
use crate::cli::{Env, exit};
use crate::config::Config;
use serde_json::json;
use std::path::Path;

fn files(config: &Config) -> Files {
    Files::new(Path::new(&config.paths.state_dir))
}

fn report(env: &Env, out: &Outcome) -> u8 {
    if env.json {
        println!("{}", json!(out));
    } else if out.done {
        println!("{}", out.message);
    } else {
        eprintln!("{}", out.message);
    }
    if out.done { exit::OK } else { exit::FAILURE }
}

/// The state directory for confirm and rollback. They must work even
/// when the configuration is being edited and does not validate: then
/// `[paths] state_dir` is read from the raw file, else the default.
fn state_files(env: &Env) -> Files {
    let dir = match env.config() {
        Ok(c) => c.paths.state_dir,
        Err(e) => {
            let raw = std::fs::read_to_string(env.host.real_path(&env.config_path)).ok();
            let from_raw = raw
                .and_then(|t| t.parse::<toml::Table>().ok())
                .and_then(|t| t.get("paths")?.get("state_dir")?.as_str().map(String::from));
            let dir = from_raw.unwrap_or_else(|| crate::config::settings::PathsSettings::default().state_dir);
            eprintln!("warning: the configuration does not load ({e:#}); using the state directory {dir}");
            dir
        }
    };
    Files::new(Path::new(&dir))
}

/// `preau confirm`.
pub fn confirm(env: &Env) -> anyhow::Result<u8> {
    let out = apply::confirm(&env.host, &state_files(env))?;
    Ok(report(env, &out))
}

/// `preau rollback`.
pub fn rollback(env: &Env) -> anyhow::Result<u8> {
    let out = apply::rollback(&env.host, &state_files(env))?;
    Ok(report(env, &out))
}

/// `preau firewall rollback-after SECONDS TOKEN --state-dir DIR` (started
/// by `apply --confirm`, not by hand).
pub fn rollback_after(env: &Env, state_dir: &Path, seconds: u64, token: &str) -> anyhow::Result<u8> {
    let out = apply::rollback_after(&env.host, &Files::new(state_dir), seconds, token)?;
    Ok(if out.done { exit::OK } else { exit::FAILURE })
}

/// `preau firewall rollback-if-pending TOKEN --state-dir DIR` (the systemd
/// timer's end).
pub fn rollback_if_pending(env: &Env, state_dir: &Path, token: &str) -> anyhow::Result<u8> {
    let out = apply::rollback_if_pending(&env.host, &Files::new(state_dir), token)?;
    Ok(if out.done { exit::OK } else { exit::FAILURE })
}

/// `preau firewall show`: the ruleset the configuration renders to.
pub fn show(env: &Env, config: &Config) -> anyhow::Result<u8> {
    let ruleset = super::render::build(&config.firewall.effective());
    let text = ruleset.to_nft();
    if env.json {
        println!(
            "{}",
            json!({ "rules": ruleset.rule_count(), "sets": ruleset.sets.len(), "tag": super::render::tag_of(&text), "text": text })
        );
    } else {
        print!("{text}");
    }
    Ok(exit::OK)
}

/// `preau firewall counters`: per-rule counters of the live table.
pub fn counters(env: &Env) -> anyhow::Result<u8> {
    let rows = super::counters(&env.host)?;
    if env.json {
        println!("{}", serde_json::to_string(&rows)?);
    } else {
        for r in &rows {
            println!("{}", r.line());
        }
    }
    Ok(exit::OK)
}

/// Before an apply: refuses to load a ruleset while a confirm-apply is
/// waiting, and arms the confirm timer for `apply --confirm SECONDS` when
/// the plan loads a new ruleset (`None`, with a note, when it does not).
pub fn before_apply(
    env: &Env,
    config: &Config,
    plan: &crate::engine::Plan,
    confirm: Option<u64>,
) -> anyhow::Result<Option<apply::Armed>> {
    let loads = plan
        .modules
        .iter()
        .filter(|m| m.module == "firewall")
        .flat_map(|m| &m.changes)
        .any(|c| c.summary().starts_with("~ load the firewall ruleset"));
    if loads && let Some(p) = apply::read_pending(&env.host, &files(config)) {
        if apply::seconds_left(&p) < -apply::EXPIRY_GRACE {
            anyhow::bail!(
                "a confirm-apply of the firewall expired but its rollback did not run (was the server restarted?)\n    help: run `preau rollback`, then apply again"
            );
        }
        anyhow::bail!(
            "a confirm-apply of the firewall is waiting ({} s left)\n    help: run `preau confirm` to keep it or `preau rollback` to undo it, then apply again",
            apply::seconds_left(&p).max(0)
        );
    }
    let Some(seconds) = confirm else {
        return Ok(None);
    };
    if !loads {
        if !env.json {
            eprintln!("note: the firewall ruleset does not change: --confirm has nothing to guard");
        }
        return Ok(None);
    }
    let inv = apply::Invocation {
        binary: std::env::current_exe()?,
        root: env.host.root().to_path_buf(),
        config: env.config_path.clone(),
    };
    Ok(Some(apply::arm(&env.host, &files(config), seconds, &inv)?))
}

/// After the apply: keep the timer if the ruleset was loaded, else cancel it.
pub fn after_apply(env: &Env, config: &Config, armed: apply::Armed, report: &crate::engine::ApplyReport) {
    let loaded = report.steps.iter().any(|s| {
        s.module == "firewall" && s.result == "done" && s.change.starts_with("~ load the firewall ruleset")
    });
    if !loaded {
        apply::disarm(&env.host, &files(config), &armed.pending);
        if !env.json {
            eprintln!("the new ruleset was not loaded: the confirm timer is cancelled");
        }
        return;
    }
    if !env.json {
        println!(
            "The new firewall ruleset is live. Run `preau confirm` within {} s to keep it; otherwise it is rolled back.",
            armed.pending.seconds
        );
    }
}

use crate::host::Host as _;

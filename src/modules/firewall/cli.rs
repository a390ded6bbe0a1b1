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

/// `preau confirm`.
pub fn confirm(env: &Env, config: &Config) -> anyhow::Result<u8> {
    let out = apply::confirm(&env.host, &files(config))?;
    Ok(report(env, &out))
}

/// `preau rollback`.
pub fn rollback(env: &Env, config: &Config) -> anyhow::Result<u8> {
    let out = apply::rollback(&env.host, &files(config))?;
    Ok(report(env, &out))
}

/// `preau firewall rollback-after SECONDS TOKEN` (started by `apply
/// --confirm`, not by hand).
pub fn rollback_after(env: &Env, config: &Config, seconds: u64, token: &str) -> anyhow::Result<u8> {
    let out = apply::rollback_after(&env.host, &files(config), seconds, token)?;
    Ok(if out.done { exit::OK } else { exit::FAILURE })
}

/// `preau firewall rollback-if-pending TOKEN` (the systemd timer's end).
pub fn rollback_if_pending(env: &Env, config: &Config, token: &str) -> anyhow::Result<u8> {
    let out = apply::rollback_if_pending(&env.host, &files(config), token)?;
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

/// Arms the confirm timer for `apply --confirm SECONDS` when the plan
/// loads a new ruleset. Returns `None` (with a note) when it does not.
pub fn arm_for_plan(
    env: &Env,
    config: &Config,
    plan: &crate::engine::Plan,
    seconds: u64,
) -> anyhow::Result<Option<apply::Armed>> {
    let loads = plan
        .modules
        .iter()
        .filter(|m| m.module == "firewall")
        .flat_map(|m| &m.changes)
        .any(|c| c.summary().starts_with("~ load the firewall ruleset"));
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

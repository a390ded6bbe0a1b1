//! Commands of the firewall: `confirm`, `rollback`, `firewall show`,
//! `firewall counters` and the timer's own `firewall rollback-after`;
//! and its hooks around an apply session (the confirm timer).

use super::apply::{self, Files, Outcome};
use crate::config::Config;
use crate::engine::session::{Hooks, Note, Options, Prepared};
use crate::engine::{ApplyReport, Context, Env, Plan, exit};
use clap::Subcommand;
use serde_json::json;
use std::path::{Path, PathBuf};

/// The firewall's top-level commands (flattened into `preau`'s).
#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Keep the ruleset of the last `apply --confirm` (firewall).
    Confirm,
    /// Restore the firewall ruleset saved before the last apply.
    Rollback,
    /// The firewall's own commands.
    Firewall {
        #[command(subcommand)]
        command: FirewallCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum FirewallCommand {
    /// Print the nftables ruleset the configuration renders to.
    Show,
    /// Per-rule packet and byte counters of the live table.
    Counters,
    /// The live firewall's state: the loaded ruleset and the rooms cut off
    /// from the internet (classroom tools), with the time left.
    Status,
    /// (internal) Sleep SECONDS, then roll back unless confirmed; started
    /// by `apply --confirm`.
    #[command(hide = true)]
    RollbackAfter {
        seconds: u64,
        token: String,
        /// State directory (the timer must not depend on a configuration
        /// that may be edited meanwhile).
        #[arg(long)]
        state_dir: PathBuf,
    },
    /// (internal) Roll back unless confirmed; run by the systemd timer.
    #[command(hide = true)]
    RollbackIfPending {
        token: String,
        #[arg(long)]
        state_dir: PathBuf,
    },
}

/// Runs one of the firewall's commands.
pub fn run(env: &Env, command: Commands) -> anyhow::Result<u8> {
    match command {
        Commands::Confirm => confirm(env),
        Commands::Rollback => rollback(env),
        Commands::Firewall { command } => match command {
            FirewallCommand::Show => show(env, &env.config()?),
            FirewallCommand::Counters => counters(env),
            FirewallCommand::Status => status(env, &env.config()?),
            FirewallCommand::RollbackAfter {
                seconds,
                token,
                state_dir,
            } => rollback_after(env, &state_dir, seconds, &token),
            FirewallCommand::RollbackIfPending { token, state_dir } => {
                rollback_if_pending(env, &state_dir, &token)
            }
        },
    }
}

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
    let files = state_files(env);
    let out = apply::rollback(&env.host, &files)?;
    if out.done {
        record(env, &files, "`preau rollback`");
    }
    after_rollback(env, &out);
    Ok(report(env, &out))
}

/// Who rolls back when the confirm timer fires.
const TIMER: &str = "not confirmed in time";

fn record(env: &Env, files: &Files, by: &str) {
    let state_dir = files.dir.parent().unwrap_or(Path::new("/var/lib/preau"));
    apply::record_rollback(&env.host, state_dir, by);
}

/// The table a rollback loads holds the room cut as it was saved (with
/// its old expiry): put the stored overrides back instead. Without a
/// configuration that loads, the daemon does it within
/// [`super::room_cut::RESYNC`].
fn after_rollback(env: &Env, out: &Outcome) {
    if !out.done {
        return;
    }
    let Ok(config) = env.config() else { return };
    let mut notes = Vec::new();
    refill(&env.host, &config, &env.db_path(&config), &mut notes);
    for n in notes {
        eprintln!("{}", n.text);
    }
}

/// `preau firewall rollback-after SECONDS TOKEN --state-dir DIR` (started
/// by `apply --confirm`, not by hand).
pub fn rollback_after(env: &Env, state_dir: &Path, seconds: u64, token: &str) -> anyhow::Result<u8> {
    let out = apply::rollback_after(&env.host, &Files::new(state_dir), seconds, token)?;
    if out.done {
        apply::record_rollback(&env.host, state_dir, TIMER);
    }
    after_rollback(env, &out);
    Ok(if out.done { exit::OK } else { exit::FAILURE })
}

/// `preau firewall rollback-if-pending TOKEN --state-dir DIR` (the systemd
/// timer's end).
pub fn rollback_if_pending(env: &Env, state_dir: &Path, token: &str) -> anyhow::Result<u8> {
    let out = apply::rollback_if_pending(&env.host, &Files::new(state_dir), token)?;
    if out.done {
        apply::record_rollback(&env.host, state_dir, TIMER);
    }
    after_rollback(env, &out);
    Ok(if out.done { exit::OK } else { exit::FAILURE })
}

/// `preau firewall show`: the ruleset the configuration renders to.
pub fn show(env: &Env, config: &Config) -> anyhow::Result<u8> {
    let ruleset = super::render::build(&config.firewall.effective().typed()?);
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

/// "44 min 59 s", "12 s".
fn left(secs: u64) -> String {
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, s) => format!("{m} min {s:02} s"),
        (h, m, _) => format!("{h} h {m:02} min"),
    }
}

/// `preau firewall status`: the loaded ruleset's tag and the room cut's
/// elements with their time left (`--json` for both).
pub fn status(env: &Env, config: &Config) -> anyhow::Result<u8> {
    use super::room_cut;
    let enabled = room_cut::enabled(config);
    let loads = apply::loads_kernel(&env.host);
    let tag = if loads { apply::live_tag(&env.host) } else { None };
    let cut = if loads && enabled {
        let now = room_cut::now_unix();
        let overrides = room_cut::active_overrides(&env.db_path(config), now).unwrap_or_default();
        room_cut::live(&env.host, config, &overrides)?
    } else {
        None
    };
    if env.json {
        println!(
            "{}",
            json!({
                "enabled": enabled,
                "live": loads,
                "ruleset": tag,
                "room_cut": cut,
            })
        );
        return Ok(exit::OK);
    }
    if !enabled {
        println!("The firewall module is not enabled: rooms are cut off by the proxy alone.");
        return Ok(exit::OK);
    }
    if !loads {
        println!(
            "Not the running system: the live firewall is not read (PREAU_FIREWALL_LIVE=1 reads it under --root)."
        );
        return Ok(exit::OK);
    }
    match &tag {
        Some(t) => println!("ruleset {t} loaded"),
        None => println!("no inet preau table is loaded (run `preau apply firewall`)"),
    }
    match cut {
        None if tag.is_some() => println!(
            "the loaded ruleset has no room-cut sets: apply the firewall again (`preau apply firewall`)"
        ),
        None => {}
        Some(c) if c.is_empty() => println!("No room is cut off from the internet."),
        Some(c) => {
            println!(
                "Cut off from the internet (sets {}, {}):",
                super::render::ROOM_CUT_V4,
                super::render::ROOM_CUT_V6
            );
            for e in c {
                println!(
                    "  {:<32} {:>14} left  {}",
                    e.addresses,
                    e.expires_secs.map(left).unwrap_or_else(|| "no timeout".into()),
                    if e.rooms.is_empty() {
                        "(no room has these addresses now)".to_string()
                    } else {
                        e.rooms.join(", ")
                    }
                );
            }
        }
    }
    Ok(exit::OK)
}

/// Whether a step or change summary is the load of a new ruleset.
fn is_load(summary: &str) -> bool {
    summary.starts_with("~ load the firewall ruleset")
}

/// The firewall's hooks around an apply session.
pub struct FirewallHooks;

impl Hooks for FirewallHooks {
    /// Refuses to load a ruleset while a confirm-apply is waiting, and
    /// arms the confirm timer for `apply --confirm SECONDS` when the plan
    /// loads a new ruleset (nothing, with a note, when it does not).
    fn before(
        &self,
        ctx: &Context<'_>,
        plan: &Plan,
        options: &Options,
        notes: &mut Vec<Note>,
    ) -> anyhow::Result<Option<Box<dyn Prepared>>> {
        let loads = plan
            .modules
            .iter()
            .filter(|m| m.module == "firewall")
            .flat_map(|m| &m.changes)
            .any(|c| is_load(&c.summary()));
        let files = files(ctx.config);
        if loads && let Some(p) = apply::read_pending(ctx.host, &files) {
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
        let Some(seconds) = options.confirm else {
            // A new ruleset comes with empty room-cut sets: refilled after.
            return Ok(loads.then(|| {
                Box::new(Armed {
                    armed: None,
                    state_dir: PathBuf::from(&ctx.config.paths.state_dir),
                }) as Box<dyn Prepared>
            }));
        };
        if !loads {
            notes.push(Note::warning(
                "note: the firewall ruleset does not change: --confirm has nothing to guard",
            ));
            return Ok(None);
        }
        // The timer runs this same program again.
        let inv = apply::Invocation {
            binary: std::env::current_exe()?,
            root: ctx.host.root().to_path_buf(),
            config: ctx.config_path.clone(),
        };
        let armed = apply::arm(ctx.host, &files, seconds, &inv)?;
        Ok(Some(Box::new(Armed {
            armed: Some(armed),
            state_dir: PathBuf::from(&ctx.config.paths.state_dir),
        })))
    }
}

/// A load of the ruleset, with the confirm timer armed before it when
/// there is one.
struct Armed {
    armed: Option<apply::Armed>,
    state_dir: PathBuf,
}

impl Prepared for Armed {
    /// Refills the room cut into the new table; keeps the timer if the
    /// ruleset was loaded, else cancels it.
    fn after(self: Box<Self>, ctx: &Context<'_>, report: &ApplyReport, notes: &mut Vec<Note>) {
        let loaded = report
            .steps
            .iter()
            .any(|s| s.module == "firewall" && s.result == "done" && is_load(&s.change));
        if loaded {
            refill(ctx.host, ctx.config, &ctx.db, notes);
        }
        let Some(armed) = self.armed else { return };
        if !loaded {
            apply::disarm(ctx.host, &Files::new(&self.state_dir), &armed.pending);
            notes.push(Note::warning(
                "the new ruleset was not loaded: the confirm timer is cancelled",
            ));
            return;
        }
        notes.push(Note::info(format!(
            "The new firewall ruleset is live. Run `preau confirm` within {} s to keep it; otherwise it is rolled back.",
            armed.pending.seconds
        )));
    }
}

/// Puts the rooms cut off from the internet back into a table just
/// loaded (its sets are empty), from the stored overrides; a failure is
/// a warning (the daemon retries within [`super::room_cut::RESYNC`]).
fn refill(host: &dyn crate::host::Host, config: &Config, db: &Path, notes: &mut Vec<Note>) {
    match super::room_cut::sync_from_db(host, config, db, super::room_cut::now_unix()) {
        Ok(super::room_cut::Synced::Loaded { ranges }) if ranges > 0 => notes.push(Note::info(format!(
            "Rooms cut off from the internet: {ranges} address range(s) put back into the new ruleset."
        ))),
        Ok(_) => {}
        Err(e) => notes.push(Note::warning(format!(
            "warning: the rooms cut off from the internet could not be put back ({e:#}); `preau serve` retries"
        ))),
    }
}

use crate::host::Host as _;

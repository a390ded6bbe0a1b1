//! Loading rulesets: one `nft -f` transaction, the previous ruleset saved,
//! confirm-or-roll-back.
//!
//! Files in `<state_dir>/firewall/`:
//! - `ruleset.nft`: the ruleset last rendered and loaded;
//! - `previous.nft`: the live table as it was just before that load (a
//!   file that restores it, or removes the table if there was none);
//! - `boot.nft`: what `preau-firewall.service` loads at boot: the last
//!   *confirmed* ruleset (a pending confirm-apply does not touch it, so a
//!   reboot also undoes an unconfirmed change);
//! - `pending.json`: the confirm-apply waiting for `preau confirm`.
//!
//! `preau apply --confirm N` arms a timer that outlives the command: a
//! transient systemd timer on a live systemd host, else a detached
//! `preau firewall rollback-after N TOKEN` process in its own process
//! group, deaf to SIGHUP (the administrator's SSH session may die with the
//! change). When it fires and the same confirm is still pending, it loads
//! `previous.nft`.

use super::render::{TABLE, tag_of};
use crate::engine::CustomChange;
use crate::host::{Command, FileLock, Host, HostError, LockKind, LockWait, Owner};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The nft program.
pub const NFT: &str = "nft";
/// Where Debian installs nft (for the boot unit).
pub const NFT_PATH: &str = "/usr/sbin/nft";

/// Set to 1 to load rulesets into the kernel even under `--root` (tests
/// and image builders that run Préau inside a network namespace).
pub const LIVE_ENV: &str = "PREAU_FIREWALL_LIVE";
/// Set to "fork" to never use systemd-run for the rollback timer.
pub const TIMER_ENV: &str = "PREAU_ROLLBACK_TIMER";

/// Paths of the module's state files (logical host paths).
#[derive(Debug, Clone)]
pub struct Files {
    pub dir: PathBuf,
}

impl Files {
    pub fn new(state_dir: &Path) -> Files {
        Files {
            dir: state_dir.join("firewall"),
        }
    }
    pub fn ruleset(&self) -> PathBuf {
        self.dir.join("ruleset.nft")
    }
    pub fn previous(&self) -> PathBuf {
        self.dir.join("previous.nft")
    }
    pub fn boot(&self) -> PathBuf {
        self.dir.join("boot.nft")
    }
    pub fn pending(&self) -> PathBuf {
        self.dir.join("pending.json")
    }
}

/// Whether rulesets go into the kernel of the current network namespace.
pub fn loads_kernel(host: &dyn Host) -> bool {
    host.is_live() || std::env::var(LIVE_ENV).is_ok_and(|v| v == "1")
}

/// The first lines of every file that replaces the table.
pub fn replace_header() -> String {
    format!("table {TABLE}\ndelete table {TABLE}\n")
}

/// The live `inet preau` table as nft prints it; `None` when there is none.
pub fn live_table(host: &dyn Host) -> Result<Option<String>, HostError> {
    let out = host.run(&Command::new([NFT, "list", "table", "inet", "preau"]))?;
    if out.success() {
        Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned()))
    } else {
        Ok(None)
    }
}

/// The hash tag of the live table, if it is one of ours (terse listing:
/// set elements left out).
pub fn live_tag(host: &dyn Host) -> Option<String> {
    let out = host
        .run(&Command::new([NFT, "-t", "list", "table", "inet", "preau"]))
        .ok()?;
    if !out.success() {
        return None;
    }
    tag_of(&String::from_utf8_lossy(&out.stdout))
}

/// Saves the live table into `previous.nft` as a file that restores it.
pub fn save_previous(host: &dyn Host, files: &Files) -> Result<(), HostError> {
    let mut text = replace_header();
    if let Some(live) = live_table(host)? {
        text.push_str(&without_room_cut_elements(&live));
    } else {
        text.push_str("# there was no inet preau table: restoring removes it\n");
    }
    host.write_file(&files.previous(), text.as_bytes(), 0o600, &Owner::root())
}

/// The live table's listing without the elements of the room-cut sets
/// (pure): they carry an expiry that would be stale when the file is
/// loaded again (a rollback, or at boot once it is the boot ruleset); the
/// stored overrides are put back instead ([`super::room_cut`]).
pub fn without_room_cut_elements(listing: &str) -> String {
    let mut out = String::with_capacity(listing.len());
    let mut in_cut_set = false;
    let mut in_elements = false;
    for line in listing.split_inclusive('\n') {
        let t = line.trim();
        if let Some(name) = t.strip_prefix("set ").and_then(|r| r.strip_suffix(" {")) {
            in_cut_set = name == super::render::ROOM_CUT_V4 || name == super::render::ROOM_CUT_V6;
        } else if in_cut_set && t == "}" && !in_elements {
            in_cut_set = false;
        }
        if in_cut_set && !in_elements && t.starts_with("elements = {") {
            in_elements = true;
        }
        if in_elements {
            // Elements hold no braces: the list ends at the first "}".
            if t.ends_with('}') {
                in_elements = false;
            }
            continue;
        }
        out.push_str(line);
    }
    out
}

/// `nft -f -`: loads ruleset text given on standard input (one
/// transaction, like a file).
pub fn load_text(host: &dyn Host, text: &str) -> Result<(), HostError> {
    host.run_ok(&Command::new([NFT, "-f", "/dev/stdin"]).stdin(text))
        .map(|_| ())
}

/// `nft -f FILE` for a logical path.
pub fn load_file(host: &dyn Host, path: &Path) -> Result<(), HostError> {
    let real = host.real_path(path);
    host.run_ok(&Command::new([NFT, "-f", &real.display().to_string()]))
        .map(|_| ())
}

/// The confirm-apply waiting for `preau confirm`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Pending {
    pub token: String,
    pub seconds: u64,
    /// Unix time after which the timer rolls back.
    pub deadline: u64,
    /// "systemd" or "process".
    pub timer: String,
}

pub fn read_pending(host: &dyn Host, files: &Files) -> Option<Pending> {
    let bytes = host.read(&files.pending()).ok()??;
    serde_json::from_slice(&bytes).ok()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The change that loads a new ruleset.
#[derive(Debug)]
pub struct LoadRuleset {
    pub text: String,
    pub before: Option<String>,
    pub files: Files,
    pub rules: usize,
    pub sets: usize,
    /// The live table is the one `before` holds (checked by the plan):
    /// `before` is then the previous ruleset, no need to list the kernel's.
    pub live_is_before: bool,
}

impl CustomChange for LoadRuleset {
    fn summary(&self) -> String {
        format!(
            "~ load the firewall ruleset (table {TABLE}: {} rules, {} sets) in one transaction",
            self.rules, self.sets
        )
    }

    fn detail(&self) -> Option<String> {
        let old = self.before.as_deref().unwrap_or("");
        let diff = similar::TextDiff::from_lines(old, &self.text);
        Some(
            diff.unified_diff()
                .context_radius(1)
                .header("loaded", "wanted")
                .to_string(),
        )
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": "firewall-ruleset", "summary": self.summary(),
            "rules": self.rules, "sets": self.sets, "diff": self.detail(),
        })
    }

    fn apply(&self, host: &dyn Host) -> Result<(), HostError> {
        let f = &self.files;
        let root = Owner::root();
        if loads_kernel(host) {
            match (&self.before, self.live_is_before) {
                (Some(before), true) => host.write_file(&f.previous(), before.as_bytes(), 0o600, &root)?,
                _ => save_previous(host, f)?,
            }
            load_text(host, &self.text)?;
        }
        host.write_file(&f.ruleset(), self.text.as_bytes(), 0o600, &root)?;
        if read_pending(host, f).is_none() {
            host.write_file(&f.boot(), self.text.as_bytes(), 0o600, &root)?;
        }
        Ok(())
    }
}

/// What `preau apply --confirm` armed.
#[derive(Debug)]
pub struct Armed {
    pub pending: Pending,
}

fn token() -> String {
    use rand::RngExt as _;
    let mut rng = rand::rng();
    (0..8).map(|_| format!("{:02x}", rng.random::<u8>())).collect()
}

/// How the detached rollback process is started: the binary, and the
/// global options that make it see the same host and configuration.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub binary: PathBuf,
    pub root: PathBuf,
    pub config: PathBuf,
}

impl Invocation {
    fn args(&self, tail: &[String]) -> Vec<String> {
        let mut v = vec![
            self.binary.display().to_string(),
            "--root".into(),
            self.root.display().to_string(),
            "--config".into(),
            self.config.display().to_string(),
        ];
        v.extend(tail.iter().cloned());
        v
    }
}

/// The confirm timer is a transient systemd unit where systemd runs (the
/// same test as the plan's unit reloads: [`Host::systemd_running`]),
/// otherwise a detached process.
fn use_systemd(host: &dyn Host) -> bool {
    host.systemd_running() && std::env::var(TIMER_ENV).map_or(true, |v| v != "fork")
}

/// Writes the pending confirm and starts its timer.
pub fn arm(host: &dyn Host, files: &Files, seconds: u64, inv: &Invocation) -> anyhow::Result<Armed> {
    use anyhow::Context as _;
    let token = token();
    let systemd = use_systemd(host);
    let pending = Pending {
        token: token.clone(),
        seconds,
        deadline: now() + seconds,
        timer: if systemd { "systemd" } else { "process" }.into(),
    };
    host.create_dir(&files.dir, 0o750, &Owner::root())?;
    host.write_file(
        &files.pending(),
        serde_json::to_string_pretty(&pending)?.as_bytes(),
        0o600,
        &Owner::root(),
    )?;
    let started = if systemd {
        let mut argv = vec![
            "systemd-run".to_string(),
            format!("--unit=preau-firewall-rollback-{token}"),
            format!("--on-active={seconds}s"),
            "--timer-property=AccuracySec=1s".into(),
        ];
        argv.extend(inv.args(&[
            "firewall".into(),
            "rollback-if-pending".into(),
            token.clone(),
            "--state-dir".into(),
            files_state_dir(files),
        ]));
        host.run_ok(&Command::new(argv))
            .map(|_| ())
            .map_err(anyhow::Error::from)
    } else {
        host.spawn_detached(&Command::new(inv.args(&[
            "firewall".into(),
            "rollback-after".into(),
            seconds.to_string(),
            token.clone(),
            "--state-dir".into(),
            files_state_dir(files),
        ])))
        .map_err(anyhow::Error::from)
    };
    if let Err(e) = started {
        let _ = host.remove_file(&files.pending());
        return Err(e).context("cannot start the rollback timer; nothing was applied");
    }
    Ok(Armed { pending })
}

fn files_state_dir(files: &Files) -> String {
    files
        .dir
        .parent()
        .unwrap_or(Path::new("/var/lib/preau"))
        .display()
        .to_string()
}

/// Starts a process that outlives this one: its own process group, no
/// standard streams (so nobody waits on its output).
/// Forgets a pending confirm (and its systemd timer).
pub fn disarm(host: &dyn Host, files: &Files, pending: &Pending) {
    let _ = host.remove_file(&files.pending());
    if pending.timer == "systemd" {
        let unit = format!("preau-firewall-rollback-{}.timer", pending.token);
        let _ = host.run(&Command::new(["systemctl", "stop", unit.as_str()]));
    }
}

/// An exclusive lock around confirm / rollback decisions: held, or the
/// decision fails (never made unlocked).
pub fn decision_lock(host: &dyn Host, files: &Files) -> Result<FileLock, HostError> {
    if host.meta(&files.dir)?.is_none() {
        host.create_dir(&files.dir, 0o750, &Owner::root())?;
    }
    host.lock(&files.dir.join("decision.lock"), LockKind::Flock, LockWait::Wait)
}

/// What a confirm or rollback did.
#[derive(Debug, Serialize)]
pub struct Outcome {
    pub action: &'static str,
    pub done: bool,
    pub message: String,
}

/// `preau confirm`: keep the ruleset of the pending confirm-apply.
pub fn confirm(host: &dyn Host, files: &Files) -> Result<Outcome, HostError> {
    let _lock = decision_lock(host, files)?;
    let Some(p) = read_pending(host, files) else {
        return Ok(Outcome {
            action: "confirm",
            done: false,
            message: "nothing to confirm: no confirm-apply is waiting (it may have been rolled back already)"
                .into(),
        });
    };
    if seconds_left(&p) < -EXPIRY_GRACE {
        return Ok(Outcome {
            action: "confirm",
            done: false,
            message: "too late: this confirm-apply expired and its rollback did not run (was the server restarted?)\n    help: run `preau rollback`, then apply again".into(),
        });
    }
    disarm(host, files, &p);
    if let Some(text) = host.read(&files.ruleset())? {
        host.write_file(&files.boot(), &text, 0o600, &Owner::root())?;
    }
    Ok(Outcome {
        action: "confirm",
        done: true,
        message: "confirmed: the new firewall ruleset stays, and is the one restored at boot".into(),
    })
}

/// `preau rollback`: restore the ruleset saved before the last load.
pub fn rollback(host: &dyn Host, files: &Files) -> Result<Outcome, HostError> {
    let _lock = decision_lock(host, files)?;
    rollback_locked(host, files, true)
}

fn rollback_locked(host: &dyn Host, files: &Files, make_boot: bool) -> Result<Outcome, HostError> {
    let Some(previous) = host.read(&files.previous())? else {
        return Ok(Outcome {
            action: "rollback",
            done: false,
            message: "no saved ruleset to go back to: nothing was loaded by `preau apply` yet".into(),
        });
    };
    if loads_kernel(host) {
        load_file(host, &files.previous())?;
    }
    if make_boot {
        host.write_file(&files.boot(), &previous, 0o600, &Owner::root())?;
    }
    if let Some(p) = read_pending(host, files) {
        disarm(host, files, &p);
    }
    Ok(Outcome {
        action: "rollback",
        done: true,
        message: "rolled back: the firewall ruleset saved before the last apply is loaded again".into(),
    })
}

/// The timer's end: roll back if the same confirm is still pending.
pub fn rollback_if_pending(host: &dyn Host, files: &Files, token: &str) -> Result<Outcome, HostError> {
    let _lock = decision_lock(host, files)?;
    match read_pending(host, files) {
        Some(p) if p.token == token => {
            // boot.nft still holds the last confirmed ruleset.
            let out = rollback_locked(host, files, false)?;
            log::warn!(token = token; "confirm-apply not confirmed in time: firewall rolled back");
            Ok(out)
        }
        _ => Ok(Outcome {
            action: "rollback",
            done: false,
            message: "confirmed (or superseded) in time: nothing to roll back".into(),
        }),
    }
}

/// `rollback-after SECONDS TOKEN`: the detached timer process.
pub fn rollback_after(
    host: &dyn Host,
    files: &Files,
    seconds: u64,
    token: &str,
) -> Result<Outcome, HostError> {
    // The administrator's terminal may go away with the change.
    // SAFETY: setting a signal to SIG_IGN installs no handler code.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGHUP,
            nix::sys::signal::SigHandler::SigIgn,
        );
    }
    std::thread::sleep(Duration::from_secs(seconds));
    rollback_if_pending(host, files, token)
}

/// What the history of applies says of a rollback (`by`: who made it).
pub fn rollback_step(by: &str) -> String {
    format!("~ firewall rolled back ({by}): the ruleset saved before the last apply is loaded again")
}

/// Keeps a rollback in the store's history of applies (the console's
/// dashboard and « Mises en œuvre » list it): the timer runs apart from
/// the daemon and the browser, so this is how the administrator learns
/// that an unconfirmed change was undone. A store that cannot be opened
/// (no `preau init` yet) only gets a warning: the rollback itself is done.
pub fn record_rollback(host: &dyn Host, state_dir: &Path, by: &str) {
    let db = host.real_path(&state_dir.join(crate::store::DB_FILE));
    let report = crate::engine::ApplyReport {
        steps: vec![crate::engine::Step {
            module: "firewall",
            change: rollback_step(by),
            result: "done",
            error: None,
        }],
        ok: true,
        duration_ms: 0,
        restored: Vec::new(),
    };
    let recorded = serde_json::to_string(&report)
        .map_err(anyhow::Error::from)
        .and_then(|json| {
            let mut store = crate::store::Store::open_existing(&db)?;
            store.record_apply("firewall", 1, 0, true, None, &json)?;
            Ok(())
        });
    if let Err(e) = recorded {
        log::warn!(error = format!("{e:#}").as_str(); "firewall rolled back, but the history of applies could not record it");
    }
}

/// Seconds past the deadline after which a pending confirm whose timer
/// never fired (a restart) counts as expired.
pub const EXPIRY_GRACE: i64 = 30;

/// Seconds left before a pending confirm rolls back.
pub fn seconds_left(p: &Pending) -> i64 {
    p.deadline as i64 - now() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{Output, RecordingHost};

    #[test]
    fn load_saves_previous_then_loads_and_keeps_boot_until_confirmed() {
        let host = RecordingHost::new();
        host.respond(
            "nft list table inet preau",
            Output {
                status: 0,
                stdout: b"table inet preau {\n\tcomment \"preau ruleset 0123456789ab\"\n}\n".to_vec(),
                stderr: vec![],
            },
        );
        let files = Files::new(Path::new("/var/lib/preau"));
        host.seed(
            "/var/lib/preau/firewall/pending.json",
            br#"{"token":"t","seconds":5,"deadline":99999999999,"timer":"process"}"#,
        );
        let change = LoadRuleset {
            text: "NEW\n".into(),
            before: None,
            files: files.clone(),
            rules: 1,
            sets: 0,
            live_is_before: false,
        };
        change.apply(&host).unwrap();
        assert_eq!(
            host.log(),
            vec![
                "run nft list table inet preau",
                "write /var/lib/preau/firewall/previous.nft 600 root:root (100 bytes)",
                "run nft -f /dev/stdin",
                "write /var/lib/preau/firewall/ruleset.nft 600 root:root (4 bytes)",
            ]
        );
        assert!(
            host.text("/var/lib/preau/firewall/previous.nft")
                .unwrap()
                .starts_with("table inet preau\ndelete table inet preau\ntable inet preau {")
        );
        assert_eq!(host.text("/var/lib/preau/firewall/boot.nft"), None);
        let out = confirm(&host, &files).unwrap();
        assert!(out.done);
        assert_eq!(
            host.text("/var/lib/preau/firewall/boot.nft").as_deref(),
            Some("NEW\n")
        );
        assert!(!confirm(&host, &files).unwrap().done);
    }

    /// Regression (issue 9): when the decision lock could not be taken,
    /// confirm and rollback carried on unlocked. They refuse now.
    #[test]
    fn decisions_refuse_when_the_lock_cannot_be_taken() {
        let host = RecordingHost::new();
        let files = Files::new(Path::new("/s"));
        host.seed("/s/firewall/previous.nft", b"OLD\n");
        host.seed(
            "/s/firewall/pending.json",
            br#"{"token":"abc","seconds":5,"deadline":99999999999,"timer":"process"}"#,
        );
        host.fail_on("/s/firewall/decision.lock");
        assert!(confirm(&host, &files).is_err());
        assert!(rollback(&host, &files).is_err());
        assert!(rollback_if_pending(&host, &files, "abc").is_err());
        assert!(
            !host
                .log()
                .iter()
                .any(|l| l.starts_with("run nft") || l.starts_with("write")),
            "nothing decided: {:?}",
            host.log()
        );
        assert!(host.text("/s/firewall/pending.json").is_some());
    }

    /// A rollback made apart from the daemon (the confirm timer) is kept
    /// in the history of applies the console shows; without a store it
    /// is only a warning.
    #[test]
    fn a_rollback_is_recorded_in_the_history_of_applies() {
        let dir = tempfile::tempdir().unwrap();
        let host = crate::host::RealHost::new(dir.path());
        let state = Path::new("/var/lib/preau");
        record_rollback(&host, state, "nobody's store");
        let db = host.real_path(&state.join(crate::store::DB_FILE));
        assert!(!db.exists(), "no store is created");
        std::fs::create_dir_all(db.parent().unwrap()).unwrap();
        crate::store::Store::open(&db).unwrap();
        record_rollback(&host, state, "not confirmed in time");
        let store = crate::store::Store::open_existing(&db).unwrap();
        let found = store.applies_with_reports(5, 0).unwrap();
        assert_eq!(found.len(), 1);
        let (a, report) = &found[0];
        assert_eq!((a.modules.as_str(), a.changes, a.ok), ("firewall", 1, true));
        assert!(
            report.contains("firewall rolled back (not confirmed in time)"),
            "{report}"
        );
    }

    #[test]
    fn saved_tables_leave_the_room_cut_elements_out() {
        let listing = "table inet preau {\n\tcomment \"preau ruleset 0123456789ab\"\n\
\tset zone_teaching_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 10.1.0.0/24 }\n\t}\n\n\
\tset room_cut_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval,timeout\n\t\tcomment \"x\"\n\
\t\telements = { 10.1.0.8/29 timeout 5m expires 4m12s, 10.1.1.5 timeout 3s expires 2s,\n\
\t\t\t     10.2.0.0-10.2.3.7 timeout 1m expires 59s }\n\t}\n\n\
\tset room_cut_v6 {\n\t\ttype ipv6_addr\n\t\tflags interval,timeout\n\t\telements = { fd00::/112 timeout 1m expires 3s }\n\t}\n\n\
\tchain forward {\n\t\tip saddr @room_cut_v4 counter reject\n\t}\n}\n";
        let kept = without_room_cut_elements(listing);
        assert_eq!(
            kept,
            "table inet preau {\n\tcomment \"preau ruleset 0123456789ab\"\n\
\tset zone_teaching_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 10.1.0.0/24 }\n\t}\n\n\
\tset room_cut_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval,timeout\n\t\tcomment \"x\"\n\t}\n\n\
\tset room_cut_v6 {\n\t\ttype ipv6_addr\n\t\tflags interval,timeout\n\t}\n\n\
\tchain forward {\n\t\tip saddr @room_cut_v4 counter reject\n\t}\n}\n"
        );
        let plain = "table inet preau {\n\tchain input {\n\t}\n}\n";
        assert_eq!(without_room_cut_elements(plain), plain);
    }

    #[test]
    fn rollback_only_for_the_pending_token() {
        let host = RecordingHost::new();
        let files = Files::new(Path::new("/s"));
        host.seed("/s/firewall/previous.nft", b"OLD\n");
        host.seed(
            "/s/firewall/pending.json",
            br#"{"token":"abc","seconds":5,"deadline":1,"timer":"process"}"#,
        );
        assert!(!rollback_if_pending(&host, &files, "other").unwrap().done);
        let late = confirm(&host, &files).unwrap();
        assert!(
            !late.done && late.message.starts_with("too late"),
            "{}",
            late.message
        );
        assert!(rollback_if_pending(&host, &files, "abc").unwrap().done);
        assert!(
            host.log()
                .contains(&"run nft -f /s/firewall/previous.nft".to_string())
        );
        assert_eq!(host.text("/s/firewall/pending.json"), None);
        assert_eq!(
            host.text("/s/firewall/boot.nft"),
            None,
            "boot keeps the confirmed ruleset"
        );
    }
}

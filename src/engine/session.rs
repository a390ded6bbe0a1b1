//! One apply session, for every caller: `preau apply`, the commands that
//! apply as part of their work (`accounts import --apply`, `accounts
//! purge --apply`…) and, next, the web console's apply button.
//!
//! [`run`] takes the apply lock of the state directory (through the host:
//! two applies at once would interleave their changes), plans, opens the
//! store, lets each module's [`Hooks`] refuse or prepare (the firewall
//! arms its confirm timer there), applies, records the outcome in the
//! store's `applies` table, then lets the prepared hooks finish. What the
//! hooks have to say comes back as [`Note`]s for the caller to show.

use super::module::{Context, Module};
use super::{ApplyReport, Plan};
use crate::host::{HostError, LockKind, LockWait};
use crate::store::Store;
use anyhow::bail;
use std::path::Path;

/// What the caller asks of this apply beyond the modules.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `apply --confirm SECONDS`: modules that can undo by themselves
    /// (the firewall) arm a timer that does unless confirmed.
    pub confirm: Option<u64>,
}

/// How a note is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// What happened, on the main output.
    Info,
    /// A warning or remark, apart from the main output.
    Warning,
}

/// Something a hook has to tell the person who applied.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Note {
    pub level: Level,
    pub text: String,
}

impl Note {
    pub fn info(text: impl Into<String>) -> Note {
        Note {
            level: Level::Info,
            text: text.into(),
        }
    }

    pub fn warning(text: impl Into<String>) -> Note {
        Note {
            level: Level::Warning,
            text: text.into(),
        }
    }
}

/// What a module does around an apply session.
pub trait Hooks: Send + Sync {
    /// Under the lock, with the plan made and before any change: refuse
    /// the whole apply (an error), or prepare something that [`Prepared::after`]
    /// finishes once the changes are done.
    fn before(
        &self,
        ctx: &Context<'_>,
        plan: &Plan,
        options: &Options,
        notes: &mut Vec<Note>,
    ) -> anyhow::Result<Option<Box<dyn Prepared>>>;
}

/// What a hook prepared before the changes.
pub trait Prepared {
    /// After the changes (recorded or not): keep or undo what was prepared.
    fn after(self: Box<Self>, ctx: &Context<'_>, report: &ApplyReport, notes: &mut Vec<Note>);
}

/// What an apply session did.
#[derive(Debug)]
pub struct Session {
    pub plan: Plan,
    pub report: ApplyReport,
    /// Notes of the hooks before the changes, then after them.
    pub before: Vec<Note>,
    pub after: Vec<Note>,
}

/// The lock file of apply sessions in a state directory (logical path).
pub fn lock_path(state_dir: &Path) -> std::path::PathBuf {
    state_dir.join("apply.lock")
}

/// Runs one apply session of `modules` (in dependency order).
pub fn run(ctx: &Context<'_>, modules: &[&dyn Module], options: &Options) -> anyhow::Result<Session> {
    let lock = lock_path(&ctx.state_dir());
    let _lock = match ctx.host.lock(&lock, LockKind::Flock, LockWait::NoWait) {
        Ok(l) => l,
        Err(HostError::Busy(real)) => bail!(
            "another `preau apply` is running (lock {}); wait for it to finish",
            real.display()
        ),
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!(
                "cannot lock {}; run `preau init` first",
                ctx.host.real_path(&lock).display()
            )));
        }
    };
    let plan = Plan::make(ctx, modules)?;
    let mut store = Store::open_existing(&ctx.db)?;
    let mut before = Vec::new();
    let mut prepared = Vec::new();
    for m in modules {
        let Some(hooks) = m.hooks() else { continue };
        match hooks.before(ctx, &plan, options, &mut before) {
            Ok(Some(p)) => prepared.push(p),
            Ok(None) => {}
            Err(e) => {
                // What earlier hooks prepared is undone: nothing was applied.
                let nothing = ApplyReport {
                    steps: Vec::new(),
                    ok: false,
                    duration_ms: 0,
                    restored: Vec::new(),
                };
                let mut ignored = Vec::new();
                for p in prepared {
                    p.after(ctx, &nothing, &mut ignored);
                }
                return Err(e.context(format!("module {}: apply refused", m.name())));
            }
        }
    }
    if options.confirm.is_some() && prepared.is_empty() && before.is_empty() {
        before.push(Note::warning(
            "note: no module of this apply can roll back by itself: --confirm has nothing to guard",
        ));
    }
    let report = super::apply(ctx.host, &plan);
    let names = plan
        .modules
        .iter()
        .map(|m| m.module)
        .collect::<Vec<_>>()
        .join(",");
    let error = report.steps.iter().find_map(|s| s.error.clone());
    let recorded = store.record_apply(
        &names,
        plan.change_count(),
        report.duration_ms,
        report.ok,
        error.as_deref(),
        &serde_json::to_string(&report)?,
    );
    log::info!(modules = names.as_str(), changes = plan.change_count(), ok = report.ok, duration_ms = report.duration_ms; "apply finished");
    // What was prepared is finished whatever the record did: a confirm
    // timer must not be left armed for a ruleset that was not loaded.
    let mut after = Vec::new();
    for p in prepared {
        p.after(ctx, &report, &mut after);
    }
    recorded?;
    Ok(Session {
        plan,
        report,
        before,
        after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::module::{Finding, Health, ModuleInfo, State};
    use crate::engine::{Change, file};
    use crate::host::{Host, Owner, RecordingHost};
    use std::sync::LazyLock;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static INFO: LazyLock<ModuleInfo> = LazyLock::new(|| ModuleInfo::parse("summary = \"test\"\n"));

    /// A module writing one file, with hooks that count their calls.
    struct Writer {
        refuse: bool,
        before: AtomicUsize,
        after: std::sync::Arc<AtomicUsize>,
    }

    struct Done(std::sync::Arc<AtomicUsize>);

    impl Prepared for Done {
        fn after(self: Box<Self>, _: &Context<'_>, report: &ApplyReport, notes: &mut Vec<Note>) {
            self.0.fetch_add(1, Ordering::SeqCst);
            notes.push(Note::info(format!("after: ok={}", report.ok)));
        }
    }

    impl Hooks for Writer {
        fn before(
            &self,
            ctx: &Context<'_>,
            _: &Plan,
            _: &Options,
            notes: &mut Vec<Note>,
        ) -> anyhow::Result<Option<Box<dyn Prepared>>> {
            self.before.fetch_add(1, Ordering::SeqCst);
            // The session holds the lock while the hooks run.
            assert!(
                ctx.host
                    .lock(&lock_path(&ctx.state_dir()), LockKind::Flock, LockWait::NoWait)
                    .is_err()
            );
            if self.refuse {
                bail!("not now");
            }
            notes.push(Note::warning("before"));
            Ok(Some(Box::new(Done(self.after.clone()))))
        }
    }

    impl Module for Writer {
        fn name(&self) -> &'static str {
            "writer"
        }
        fn info(&self) -> &ModuleInfo {
            &INFO
        }
        fn check(&self, _: &Context<'_>) -> Vec<Finding> {
            Vec::new()
        }
        fn plan(&self, ctx: &Context<'_>) -> anyhow::Result<Vec<Change>> {
            Ok(file(ctx.host, "/etc/written", "x\n", 0o644, Owner::root())?
                .into_iter()
                .collect())
        }
        fn status(&self, _: &Context<'_>) -> Health {
            Health {
                module: "writer",
                state: State::Ok,
                details: Vec::new(),
            }
        }
        fn hooks(&self) -> Option<&dyn Hooks> {
            Some(self)
        }
    }

    fn writer(refuse: bool) -> Writer {
        Writer {
            refuse,
            before: AtomicUsize::new(0),
            after: Default::default(),
        }
    }

    /// A recording host with a database in a real temporary directory.
    fn setup() -> (tempfile::TempDir, Config) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::example();
        config.paths.state_dir = dir.path().display().to_string();
        (dir, config)
    }

    #[test]
    fn plans_applies_records_and_runs_the_hooks_under_the_lock() {
        let (dir, config) = setup();
        let host = RecordingHost::new();
        let mut ctx = Context::new(&config, &host);
        ctx.db = dir.path().join("preau.db");
        Store::open(&ctx.db).unwrap();
        let m = writer(false);
        let s = run(&ctx, &[&m], &Options::default()).unwrap();
        assert!(s.report.ok);
        assert_eq!(host.text("/etc/written").as_deref(), Some("x\n"));
        assert_eq!(m.before.load(Ordering::SeqCst), 1);
        assert_eq!(m.after.load(Ordering::SeqCst), 1);
        assert_eq!(s.before[0].text, "before");
        assert_eq!(s.after[0].text, "after: ok=true");
        let lock = format!("{}/apply.lock", config.paths.state_dir);
        assert!(
            host.log()[0].starts_with(&format!("lock {lock}")),
            "{:?}",
            host.log()
        );
        assert!(!host.locked(&lock), "released at the end");
        let totals = Store::open_existing(&ctx.db).unwrap().apply_totals().unwrap();
        assert_eq!(totals.ok.0, 1);
    }

    #[test]
    fn a_held_lock_or_a_refusing_hook_stops_before_any_change() {
        let (dir, config) = setup();
        let host = RecordingHost::new();
        let mut ctx = Context::new(&config, &host);
        ctx.db = dir.path().join("preau.db");
        Store::open(&ctx.db).unwrap();
        let m = writer(false);
        let held = host
            .lock(&lock_path(&ctx.state_dir()), LockKind::Flock, LockWait::NoWait)
            .unwrap();
        let err = run(&ctx, &[&m], &Options::default()).unwrap_err();
        assert!(
            err.to_string().contains("another `preau apply` is running"),
            "{err}"
        );
        drop(held);
        // A lock that cannot be taken at all refuses too.
        host.fail_on(&format!("{}/apply.lock", config.paths.state_dir));
        let err = run(&ctx, &[&m], &Options::default()).unwrap_err();
        assert!(format!("{err:#}").contains("cannot lock"), "{err:#}");
        let host = RecordingHost::new();
        let mut ctx = Context::new(&config, &host);
        ctx.db = dir.path().join("preau.db");
        let refusing = writer(true);
        let err = run(&ctx, &[&refusing], &Options::default()).unwrap_err();
        assert!(format!("{err:#}").contains("not now"), "{err:#}");
        assert_eq!(host.text("/etc/written"), None);
        // What an earlier module prepared is undone when a later one refuses.
        let preparing = writer(false);
        assert!(run(&ctx, &[&preparing, &refusing], &Options::default()).is_err());
        assert_eq!(preparing.after.load(Ordering::SeqCst), 1);
        assert_eq!(host.text("/etc/written"), None);
        assert_eq!(m.before.load(Ordering::SeqCst), 0);
    }
}

//! Plan and apply: the layer every module depends on.
//!
//! [`module`] is the shape of a module ([`Module`], [`Context`]); [`session`]
//! is the one apply session (lock, plan, hooks, apply, record) every
//! caller uses; [`env`] is what commands and the daemon run with.
//!
//! The configuration plus the directory is the desired state. Each enabled
//! module compares it with the host and returns typed [`Change`]s; a
//! [`Plan`] is those lists in dependency order. `apply` performs a plan in
//! order and stops at the first failure: the failing module's file writes
//! are put back as they were, earlier modules (already consistent) stay,
//! and the report says what failed and what to do.
//!
//! What the undo covers, exactly: files written by `Change::File` and
//! `Change::SecretFile`. Nothing else is put back — directories created,
//! permissions fixed, commands run (service reloads, `nft -f`, `pdbedit`,
//! `setfacl`, `setquota`), and every `Change::Custom`: the account files
//! (rewritten whole under the shadow lock; the next apply rewrites them
//! again), home directories created, the Samba import (a backup of the
//! passdb is kept beside it), the firewall ruleset (saved first, undone by
//! `preau rollback` or the confirm timer, not by the engine) and the
//! removal of the folders of people past the retention, which cannot be
//! undone at all and is therefore shown, folder by folder, in the plan.

pub mod change;
pub mod env;
pub mod module;
pub mod session;

pub use change::{Change, CustomChange, dir, file, secret_file, unit_changes};
pub use env::{Env, exit};
pub use module::{Context, Finding, Health, Module, ModuleInfo, State};

use crate::host::Host;
use serde::Serialize;
use serde_json::json;
use std::time::Instant;

/// One module's changes.
#[derive(Debug)]
pub struct ModulePlan {
    pub module: &'static str,
    pub changes: Vec<Change>,
}

/// Everything `apply` would do, module by module.
#[derive(Debug, Default)]
pub struct Plan {
    pub modules: Vec<ModulePlan>,
}

/// Why a plan could not be made.
#[derive(Debug, thiserror::Error)]
#[error("module {module}: cannot plan: {source:#}")]
pub struct PlanError {
    pub module: &'static str,
    pub source: anyhow::Error,
}

impl Plan {
    /// A plan of one module's changes.
    pub fn of(module: &'static str, changes: Vec<Change>) -> Plan {
        Plan {
            modules: vec![ModulePlan { module, changes }],
        }
    }

    /// Asks each module, in the given (dependency) order, for its changes.
    pub fn make(ctx: &Context<'_>, modules: &[&dyn Module]) -> Result<Plan, PlanError> {
        let mut plan = Plan::default();
        for m in modules {
            let changes = m.plan(ctx).map_err(|source| PlanError {
                module: m.name(),
                source,
            })?;
            plan.modules.push(ModulePlan {
                module: m.name(),
                changes,
            });
        }
        Ok(plan)
    }

    pub fn change_count(&self) -> usize {
        self.modules.iter().map(|m| m.changes.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.change_count() == 0
    }

    /// The plan as a person reads it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for m in &self.modules {
            if m.changes.is_empty() {
                out.push_str(&format!("{}: up to date\n", m.module));
                continue;
            }
            out.push_str(&format!("{}: {} change(s)\n", m.module, m.changes.len()));
            for c in &m.changes {
                out.push_str(&format!("  {}\n", c.summary()));
                if let Some(detail) = c.detail() {
                    for line in detail.lines() {
                        out.push_str(&format!("      {line}\n"));
                    }
                }
            }
        }
        if self.is_empty() {
            out.push_str("Nothing to do: the system matches the configuration.\n");
        } else {
            out.push_str(&format!(
                "{} change(s) pending; `preau apply` performs them.\n",
                self.change_count()
            ));
        }
        out
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "changes": self.change_count(),
            "modules": self.modules.iter().map(|m| json!({
                "module": m.module,
                "changes": m.changes.iter().map(Change::to_json).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }
}

/// What happened to one change during apply.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub module: &'static str,
    pub change: String,
    /// "done", "skipped" (live-only change on a non-live root), "noted"
    /// (a notice) or "failed".
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The outcome of an apply.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyReport {
    pub steps: Vec<Step>,
    pub ok: bool,
    pub duration_ms: u64,
    /// Files put back after the failure.
    pub restored: Vec<String>,
}

impl ApplyReport {
    pub fn render(&self) -> String {
        let mut out = String::new();
        for s in &self.steps {
            let mark = match s.result {
                "done" => "ok  ",
                "skipped" => "skip",
                "noted" => "info",
                _ => "FAIL",
            };
            out.push_str(&format!("[{mark}] {}: {}\n", s.module, s.change));
            if let Some(e) = &s.error {
                for line in e.lines() {
                    out.push_str(&format!("       {line}\n"));
                }
            }
        }
        for r in &self.restored {
            out.push_str(&format!("restored {r} as it was before this apply\n"));
        }
        let done = self.steps.iter().filter(|s| s.result == "done").count();
        if self.ok {
            out.push_str(&format!("Applied {done} change(s) in {} ms.\n", self.duration_ms));
        } else {
            out.push_str(&format!(
                "Apply stopped at the first failure ({done} change(s) done). Fix the cause above, then run `preau apply` again.\n"
            ));
        }
        out
    }
}

/// Performs a plan. Never panics on a failing change: the report says it.
pub fn apply(host: &dyn Host, plan: &Plan) -> ApplyReport {
    let started = Instant::now();
    let mut steps = Vec::new();
    let mut restored = Vec::new();
    let mut ok = true;
    'modules: for m in &plan.modules {
        let mut undo = Vec::new();
        for c in &m.changes {
            match c.apply(host) {
                Ok(change::Outcome::Done(u)) => {
                    undo.extend(u);
                    steps.push(Step {
                        module: m.module,
                        change: c.summary(),
                        result: "done",
                        error: None,
                    });
                }
                Ok(change::Outcome::Skipped) => steps.push(Step {
                    module: m.module,
                    change: c.summary(),
                    result: "skipped",
                    error: None,
                }),
                Ok(change::Outcome::Noted) => steps.push(Step {
                    module: m.module,
                    change: c.summary(),
                    result: "noted",
                    error: None,
                }),
                Err(e) => {
                    log::error!(module = m.module, change = c.summary().as_str(), error = e.to_string().as_str(); "apply failed");
                    steps.push(Step {
                        module: m.module,
                        change: c.summary(),
                        result: "failed",
                        error: Some(e.to_string()),
                    });
                    for u in undo.iter().rev() {
                        let change::Undo::File { path, .. } = u;
                        match u.run(host) {
                            Ok(()) => restored.push(path.display().to_string()),
                            Err(e) => {
                                log::error!(path = path.display().to_string().as_str(), error = e.to_string().as_str(); "could not restore")
                            }
                        }
                    }
                    ok = false;
                    break 'modules;
                }
            }
        }
    }
    ApplyReport {
        steps,
        ok,
        duration_ms: started.elapsed().as_millis() as u64,
        restored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{Command, Owner, RecordingHost};

    fn plan_of(changes: Vec<Change>) -> Plan {
        Plan::of("test", changes)
    }

    #[test]
    fn apply_performs_in_order_and_second_plan_is_empty() {
        let host = RecordingHost::new();
        let wanted = |host: &RecordingHost| -> Vec<Change> {
            [
                dir(host, "/etc/preau", 0o755, Owner::root()).unwrap(),
                file(host, "/etc/preau/a", "a\n", 0o644, Owner::root()).unwrap(),
            ]
            .into_iter()
            .flatten()
            .collect()
        };
        let plan = plan_of(wanted(&host));
        assert_eq!(plan.change_count(), 2);
        let report = apply(&host, &plan);
        assert!(report.ok, "{}", report.render());
        assert_eq!(
            host.log(),
            vec![
                "mkdir /etc/preau 755 root:root",
                "write /etc/preau/a 644 root:root (2 bytes)"
            ]
        );
        assert!(plan_of(wanted(&host)).is_empty());
    }

    #[test]
    fn failure_stops_and_restores_the_module_files() {
        let host = RecordingHost::new();
        host.seed("/etc/a", b"old\n");
        host.fail_on("boom");
        let plan = plan_of(vec![
            file(&host, "/etc/a", "new\n", 0o644, Owner::root())
                .unwrap()
                .unwrap(),
            file(&host, "/etc/b", "new\n", 0o644, Owner::root())
                .unwrap()
                .unwrap(),
            Change::Run {
                command: Command::new(["boom"]),
                why: "test".into(),
                live_only: false,
            },
            file(&host, "/etc/c", "never\n", 0o644, Owner::root())
                .unwrap()
                .unwrap(),
        ]);
        let report = apply(&host, &plan);
        assert!(!report.ok);
        assert_eq!(host.text("/etc/a").as_deref(), Some("old\n"));
        assert_eq!(host.text("/etc/b"), None);
        assert_eq!(host.text("/etc/c"), None);
        assert_eq!(report.restored, vec!["/etc/b", "/etc/a"]);
        let text = report.render();
        assert!(text.contains("[FAIL] test: ! run `boom` (test)"), "{text}");
        assert!(text.contains("Apply stopped at the first failure"), "{text}");
    }

    #[test]
    fn plan_renders_diff_and_json() {
        let host = RecordingHost::new();
        let plan = plan_of(vec![
            file(&host, "/etc/a", "x\n", 0o644, Owner::root())
                .unwrap()
                .unwrap(),
        ]);
        insta::assert_snapshot!(plan.render(), @r"
        test: 1 change(s)
          + create file /etc/a (0644 root:root)
              --- current
              +++ wanted
              @@ -0,0 +1 @@
              +x
        1 change(s) pending; `preau apply` performs them.
        ");
        assert_eq!(plan.to_json()["changes"], 1);
    }
}

//! After the web changes a password: bring the Unix and Samba accounts in
//! line (the NT hash Samba and the proxy check) through the `accounts`
//! module's plan and the engine's apply, recorded like `preau apply
//! accounts`, when that module is enabled.

use crate::config::Config;
use crate::engine::{self, Plan};
use crate::host::RealHost;
use crate::modules::{self, Context};
use crate::store::Store;
use std::path::Path;

/// What happened to the system accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projected {
    /// The accounts module is not enabled: only the directory changed.
    NotEnabled,
    Done {
        changes: usize,
    },
    Failed(String),
}

/// Plans and applies the `accounts` module and records the apply.
pub fn project_accounts(host: &RealHost, config: &Config, config_path: &Path) -> anyhow::Result<Projected> {
    if !config.modules.enabled.iter().any(|m| m == "accounts") {
        return Ok(Projected::NotEnabled);
    }
    let mut ctx = Context::new(config, host);
    ctx.config_path = config_path.to_path_buf();
    let plan = Plan::make(&ctx, &[&modules::accounts::ACCOUNTS as &dyn modules::Module])
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let report = engine::apply(host, &plan);
    let error = report.steps.iter().find_map(|s| s.error.clone());
    let db = crate::modules::accounts::db_path(host, &config.paths.state_dir);
    let mut store = Store::open_existing(&db)?;
    store.record_apply(
        "accounts",
        plan.change_count(),
        report.duration_ms,
        report.ok,
        error.as_deref(),
        &serde_json::to_string(&report)?,
    )?;
    log::info!(modules = "accounts", changes = plan.change_count(), ok = report.ok, duration_ms = report.duration_ms; "apply finished (web)");
    Ok(if report.ok {
        Projected::Done {
            changes: plan.change_count(),
        }
    } else {
        Projected::Failed(error.unwrap_or_default())
    })
}

//! After the web changes a password or an account's status: bring the
//! Unix and Samba accounts in line (the NT hash Samba and the proxy
//! check) through the engine's one apply session
//! ([`crate::engine::session::run`]) of the `accounts` module — the same
//! call `preau accounts passwd` makes — when that module is enabled.

use crate::config::Config;
use crate::engine::Context;
use crate::engine::session;
use crate::host::RealHost;
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

/// Runs an apply session of the `accounts` module (recorded like `preau
/// apply accounts`).
pub fn project_accounts(host: &RealHost, config: &Config, config_path: &Path) -> anyhow::Result<Projected> {
    if !config.modules.enabled.iter().any(|m| m == "accounts") {
        return Ok(Projected::NotEnabled);
    }
    let ctx = Context::at(config, host, config_path.to_path_buf());
    let chosen = crate::modules::selected(config, &["accounts".into()]).map_err(anyhow::Error::msg)?;
    let s = session::run(&ctx, &chosen, &session::Options::default())?;
    Ok(if s.report.ok {
        Projected::Done {
            changes: s.plan.change_count(),
        }
    } else {
        Projected::Failed(
            s.report
                .steps
                .iter()
                .find_map(|st| st.error.clone())
                .unwrap_or_default(),
        )
    })
}

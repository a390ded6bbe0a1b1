//! The `accounts` module: the school directory (see [`crate::directory`])
//! projected onto the system — Unix users and groups, home directories and
//! Samba accounts — in batch ([`projection`]), and the `preau accounts`
//! commands ([`cli`]).
//!
//! Limits: the module writes the local account databases directly (no
//! LDAP); Samba accounts live in a tdbsam passdb; parents have web logins
//! only.

pub mod cli;
pub mod demo;
pub mod people;
pub mod projection;
pub mod settings;
pub mod sheets;
pub mod web;

use super::{Context, Finding, Health, Module, ModuleInfo, State};
use crate::directory::import::ApplyOptions;
use crate::engine::Change;
use crate::store::Store;
use settings::AccountsSettings;
use std::sync::LazyLock;

pub struct Accounts;

pub static ACCOUNTS: Accounts = Accounts;

static INFO: LazyLock<ModuleInfo> =
    LazyLock::new(|| ModuleInfo::parse(include_str!("../../../modules/accounts/module.toml")));

/// Import options from the settings; `reserved` are the system's own user
/// and group names.
pub fn apply_options(s: &AccountsSettings, reserved: std::collections::HashSet<String>) -> ApplyOptions {
    ApplyOptions {
        login_scheme: s.login_scheme.clone(),
        reserved,
        first_id: projection::people_first_id(s),
        last_id: s.last_id,
        password_syllables: s.password_syllables,
        password_digits: s.password_digits,
        must_change: s.must_change_password,
        retention_days: s.retention_days,
    }
}

/// The system's own user and group names, never given as logins (the
/// import's [`ApplyOptions::reserved`]): the host's `/etc/passwd` and
/// `/etc/group` less the directory's own accounts, and a few fixed names.
pub fn reserved_names(
    host: &dyn crate::host::Host,
    config: &crate::config::Config,
    conn: &rusqlite::Connection,
) -> anyhow::Result<std::collections::HashSet<String>> {
    let w = projection::Wanted::load(conn, &config.accounts)?;
    let mut names = projection::system_names(host, &w.ours)?;
    names.extend(["root", "admin", "administrator", "guest", "nobody"].map(String::from));
    // The console's own pages under /console/personnes/.
    names.extend(["nouvelle", "partants"].map(String::from));
    Ok(names)
}

impl Module for Accounts {
    fn name(&self) -> &'static str {
        "accounts"
    }

    fn info(&self) -> &ModuleInfo {
        &INFO
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut found = Vec::new();
        let s = &ctx.config.accounts;
        if s.samba
            && ctx.host.is_live()
            && ctx
                .host
                .run(&crate::host::Command::new(["pdbedit", "-V"]))
                .is_err()
        {
            found.push(
                Finding::new(
                    "accounts",
                    "pdbedit is not installed: Samba accounts cannot be written",
                )
                .hint("apt-get install samba-common-bin, or set [accounts] samba = false"),
            );
        }
        found
    }

    fn plan(&self, ctx: &Context<'_>) -> anyhow::Result<Vec<Change>> {
        let s = &ctx.config.accounts;
        let path = &ctx.db;
        let wanted = if path.exists() {
            let store = Store::open(path)?;
            projection::Wanted::load(store.conn(), s)?
        } else {
            projection::Wanted::empty(s)
        };
        Ok(projection::plan(ctx.host, &wanted, s, &ctx.state_dir())?)
    }

    fn status(&self, ctx: &Context<'_>) -> Health {
        let path = &ctx.db;
        let counts = Store::open_existing(path)
            .map_err(anyhow::Error::from)
            .and_then(|st| Ok(crate::directory::counts(st.conn())?));
        match counts {
            Ok(c) => Health {
                module: "accounts",
                state: State::Ok,
                details: vec![
                    format!(
                        "{} students, {} teachers, {} staff, {} parents active; {} disabled",
                        c.students, c.teachers, c.staff, c.parents, c.disabled
                    ),
                    format!("{} classes, {} groups", c.classes, c.groups),
                ],
            },
            Err(e) => Health {
                module: "accounts",
                state: State::Degraded,
                details: vec![format!("directory unavailable: {e:#}")],
            },
        }
    }
}

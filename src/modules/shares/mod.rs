//! The `shares` module: the Samba file server with the school's layout.
//!
//! - [`layout`]: the folders and their POSIX ACLs, a pure function of the
//!   directory and the settings (personal, class, group, common, teachers'
//!   and staff folders);
//! - [`acl`]: compares them with the host (`getfacl`) and fixes what
//!   differs in one `setfacl --restore` process;
//! - [`smbconf`]: smb.conf from an overridable template, checked with
//!   `testparm` before it replaces the running one, then reloaded;
//! - [`quota`]: Linux user quotas per role, in one `setquota -b` batch;
//! - [`homework`]: hand-out, collection and return of files;
//! - [`usage`]: space per share and per person, for `status`.
//!
//! Limits: rights are given to role and class Unix groups made by the
//! `accounts` module; folders of people who left are kept (never deleted);
//! quotas need a filesystem mounted with `usrquota` (or `usrjquota`).

pub mod acl;
pub mod cli;
pub mod homework;
pub mod layout;
pub mod quota;
pub mod settings;
pub mod smbconf;
pub mod source;
pub mod usage;
pub mod web;

use super::{Context, Finding, Health, Module, ModuleInfo, State};
use crate::engine::{Change, file};
use crate::host::Owner;
use crate::msg;
use settings::SharesSettings;
use std::path::Path;
use std::sync::LazyLock;

pub struct Shares;

pub static SHARES: Shares = Shares;

static INFO: LazyLock<ModuleInfo> =
    LazyLock::new(|| ModuleInfo::parse(include_str!("../../../modules/shares/module.toml")));

/// The space each share uses now (the walk `preau shares status` does).
pub fn usage_report(ctx: &Context<'_>) -> anyhow::Result<usage::UsageReport> {
    let dir = directory(ctx)?;
    Ok(usage::report(ctx.host, &ctx.config.shares, &dir))
}

/// The directory, from the store.
pub fn directory(ctx: &Context<'_>) -> anyhow::Result<layout::Directory> {
    let db = ctx.db.clone();
    let store = crate::store::Store::open_existing(&db)?;
    Ok(source::load(store.conn())?)
}

/// The changes for a given directory (the module's plan without the store).
pub fn plan_for(ctx: &Context<'_>, dir: &layout::Directory) -> anyhow::Result<Vec<Change>> {
    let s: &SharesSettings = &ctx.config.shares;
    let host = ctx.host;
    let mut changes = Vec::new();
    // Every group named here is made by the accounts module, which is
    // applied first (shares depends on it, and `check` refuses role groups
    // it does not make): the ACL entries name groups that may only exist
    // once the apply has reached this module, on a fresh system.
    let folders = layout::folders(s, dir);
    let layout = acl::diff(host, &folders)?;
    if !layout.is_empty() {
        changes.push(Change::Custom(Box::new(layout)));
    }
    let conf = smbconf::render(host, ctx.config, s)?;
    match file(host, smbconf::SMB_CONF, conf.clone(), 0o644, Owner::root())? {
        Some(c @ Change::File { .. }) => {
            changes.push(Change::Custom(Box::new(smbconf::CheckConf { contents: conf })));
            changes.push(c);
            changes.push(Change::Custom(Box::new(smbconf::Reload)));
        }
        Some(c) => changes.push(c),
        None => {}
    }
    if s.quotas.enabled
        && host.is_live()
        && let Ok(fs) = quota::filesystem(host, Path::new(&s.root))
        && fs.user_quota
        && let Some(c) = quota::plan(host, s, dir, &fs)?
    {
        changes.push(Change::Custom(Box::new(c)));
    }
    Ok(changes)
}

impl Module for Shares {
    fn name(&self) -> &'static str {
        "shares"
    }

    fn info(&self) -> &ModuleInfo {
        &INFO
    }

    /// A home directory and the personal share are one folder: two
    /// would leave people looking for their files in the wrong one.
    fn validate(&self, config: &crate::config::Config, problems: &mut crate::config::problems::Problems) {
        let perso = format!("{}/perso", config.shares.root.trim_end_matches('/'));
        if config.accounts.home_base.trim_end_matches('/') != perso {
            problems.push_hint(
                "accounts.home_base",
                msg!(en("\"{}\" is not the personal share folder {perso}",
                    config.accounts.home_base), fr("« {} » n'est pas le dossier des partages personnels {perso}",
                    config.accounts.home_base)),
                msg!("set accounts.home_base = \"{perso}\" (homes are the personal shares)", "écrivez accounts.home_base = \"{perso}\" (les dossiers personnels sont les partages personnels)"),
            );
        }
        // The shares give rights to the role groups the accounts module
        // makes: another name would be a group nobody is in.
        let a = &config.accounts;
        let g = &config.shares.role_groups;
        for (role, shares_name, key, accounts_name) in [
            ("student", &g.student, "students_group", &a.students_group),
            ("teacher", &g.teacher, "teachers_group", &a.teachers_group),
            ("staff", &g.staff, "staff_group", &a.staff_group),
            ("direction", &g.direction, "direction_group", &a.direction_group),
            ("admin", &g.admin, "admins_group", &a.admins_group),
        ] {
            if shares_name != accounts_name {
                problems.push_hint(
                    format!("shares.role_groups.{role}"),
                    msg!("\"{shares_name}\" is not the group the accounts module makes (accounts.{key} = \"{accounts_name}\")", "« {shares_name} » n'est pas le groupe que crée le module des comptes (accounts.{key} = \"{accounts_name}\")"),
                    msg!("set shares.role_groups.{role} = \"{accounts_name}\"", "écrivez shares.role_groups.{role} = \"{accounts_name}\""),
                );
            }
        }
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut found = Vec::new();
        let finding = |message: String, hint: Option<&str>| Finding {
            hint: hint.map(String::from),
            ..Finding::new("shares", message)
        };
        let s = &ctx.config.shares;
        match smbconf::render(ctx.host, ctx.config, s) {
            Err(e) => found.push(finding(format!("{e:#}"), None)),
            Ok(text) => {
                if let Err(e) = smbconf::testparm(ctx.host, &text) {
                    found.push(finding(
                        format!("the rendered smb.conf is refused: {e}"),
                        Some("the running smb.conf stays until this is fixed"),
                    ));
                }
            }
        }
        if s.quotas.enabled {
            match quota::filesystem(ctx.host, Path::new(&s.root)) {
                Ok(fs) if !fs.user_quota => found.push(finding(
                    format!(
                        "the filesystem holding {} ({} on {}) has no user quotas: quotas per role are not enforced",
                        s.root, fs.fstype, fs.mount_point
                    ),
                    Some("mount it with the usrquota option and run `quotacheck -cum` and `quotaon`, or set shares.quotas.enabled = false; `preau status` still reports each person's usage"),
                )),
                Ok(_) => {}
                Err(e) => found.push(finding(format!("cannot tell whether quotas work: {e}"), None)),
            }
        }
        found
    }

    fn plan(&self, ctx: &Context<'_>) -> anyhow::Result<Vec<Change>> {
        let dir = directory(ctx)?;
        plan_for(ctx, &dir)
    }

    fn status(&self, ctx: &Context<'_>) -> Health {
        let report = match directory(ctx) {
            Ok(dir) => usage::report(ctx.host, &ctx.config.shares, &dir),
            Err(e) => {
                return Health {
                    module: "shares",
                    state: State::Degraded,
                    details: vec![format!("{e:#}")],
                };
            }
        };
        report.health()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::host::{Output, RecordingHost};

    #[test]
    fn plan_creates_the_layout_and_smb_conf() {
        let host = RecordingHost::new();
        host.seed(
            "/etc/passwd",
            b"root:x:0:0::/root:/bin/sh\nalice.martin:x:10001:100::/:/bin/sh\nbob.durand:x:10002:100::/:/bin/sh\ncarla.petit:x:10003:100::/:/bin/sh\nprof.maths:x:10010:100::/:/bin/sh\nprof.latin:x:10011:100::/:/bin/sh\nsec.dupont:x:10020:100::/:/bin/sh\nchef.grand:x:10030:100::/:/bin/sh\n",
        );
        // The role groups, classes and groups the accounts module makes.
        host.seed(
            "/etc/group",
            b"root:x:0:\neleves:x:20001:\nprofs:x:20002:\npersonnels:x:20003:\ndirection:x:20004:\nadmins:x:20005:\nc-6a:x:21001:\nc-6b:x:21002:\ng-6latin:x:21003:\n",
        );
        host.respond("testparm", Output::default());
        let mut config = Config::default();
        config.establishment.name = "Collège".into();
        let ctx = Context::new(&config, &host);
        let changes = plan_for(&ctx, &layout::tests::school()).unwrap();
        let summaries: Vec<String> = changes.iter().map(Change::summary).collect();
        assert_eq!(
            summaries,
            vec![
                "~ shares layout: create 32 folder(s), set owner and ACL of 32 folder(s)",
                "! check the new smb.conf with `testparm -s`",
                "+ create file /etc/samba/smb.conf (0644 root:root)",
                "! run `smbcontrol smbd reload-config` (smb.conf changed; sessions stay open)",
            ]
        );
        let plan = crate::engine::Plan::of("shares", changes);
        let report = crate::engine::apply(&host, &plan);
        assert!(report.ok, "{}", report.render());
        assert!(
            host.log()
                .iter()
                .any(|l| l.starts_with("run setfacl --restore=-")),
            "{:?}",
            host.log()
        );
    }
}

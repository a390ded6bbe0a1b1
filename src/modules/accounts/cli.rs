//! `preau accounts …`: imports, people, passwords, sheets, export, purge.
//!
//! Commands that change accounts (import --apply, add, disable, enable,
//! passwd, purge --apply) update the directory in one transaction, then —
//! when the `accounts` module is enabled and --no-system is not given —
//! bring the Unix and Samba accounts in line at once (the module's
//! plan/apply, recorded like `preau apply accounts`).

use super::{apply_options, sheets};
use crate::config::Config;
use crate::directory::import::{self, PlanOptions, ReadOptions};
use crate::directory::{self, Filter, Kind, Status, password};
use crate::engine::{Env, exit};
use crate::store::Store;
use anyhow::{Context as _, bail};
use clap::Subcommand;
use serde_json::json;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The accounts module's top-level commands (flattened into `preau`'s).
#[derive(Debug, Subcommand)]
pub enum Commands {
    /// The school directory: imports, accounts, passwords, login sheets.
    Accounts {
        #[command(subcommand)]
        command: AccountsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Compare SIECLE / STS-web / CSV files (or .zip) with the directory and
    /// print the diff; with --apply, perform it in one transaction and
    /// update the Unix and Samba accounts.
    Import {
        /// ElevesSansAdresses.xml (or .zip), ResponsablesAvecAdresses.xml,
        /// sts_emp_UAJ_YEAR.xml, CSV files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Perform the import (default: show what it would do).
        #[arg(long)]
        apply: bool,
        /// Accept an import that disables more than [accounts]
        /// max_disable_percent of the active accounts of a kind.
        #[arg(long)]
        allow_mass_disable: bool,
        /// List every person in the diff, not only the first ones.
        #[arg(long)]
        all: bool,
        /// Only the directory: do not update Unix and Samba accounts now.
        #[arg(long)]
        no_system: bool,
    },
    /// List people.
    List {
        /// student, teacher, staff or parent.
        #[arg(long)]
        kind: Option<String>,
        /// Members of this class or group.
        #[arg(long)]
        class: Option<String>,
        /// active, disabled or deleting.
        #[arg(long)]
        status: Option<String>,
    },
    /// Everything about one person.
    Show { login: String },
    /// Add a person by hand.
    Add {
        /// student, teacher, staff or parent.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        last_name: String,
        /// A student's class code.
        #[arg(long)]
        class: Option<String>,
        /// Birth date, JJ/MM/AAAA or AAAA-MM-JJ.
        #[arg(long)]
        birth_date: Option<String>,
        /// Choose the login instead of generating it.
        #[arg(long)]
        login: Option<String>,
        #[arg(long)]
        no_system: bool,
    },
    /// Disable accounts: no login anywhere (Unix, Samba, web).
    Disable {
        #[arg(required = true)]
        logins: Vec<String>,
        #[arg(long)]
        no_system: bool,
    },
    /// Enable disabled accounts again.
    Enable {
        #[arg(required = true)]
        logins: Vec<String>,
        #[arg(long)]
        no_system: bool,
    },
    /// Set a password: read from standard input (one line), or generated
    /// with --generate and printed.
    Passwd {
        login: String,
        #[arg(long)]
        generate: bool,
        #[arg(long)]
        no_system: bool,
    },
    /// Printable login sheets (HTML, one slip per student) and CSV, one pair
    /// of files per class, into DIR.
    Sheets {
        /// Only this class or group (default: every class).
        #[arg(long)]
        class: Option<String>,
        /// Teachers and staff sheets too.
        #[arg(long)]
        staff: bool,
        /// Output directory.
        #[arg(long, default_value = "fiches")]
        out: PathBuf,
    },
    /// Everything the directory holds about a person, as JSON (for
    /// data-protection requests).
    Export { login: String },
    /// Delete the accounts whose retention period is over; shows them
    /// unless --apply.
    Purge {
        #[arg(long)]
        apply: bool,
        #[arg(long)]
        no_system: bool,
    },
}

/// Runs one of the accounts module's commands.
pub fn run(env: &Env, command: Commands) -> anyhow::Result<u8> {
    let Commands::Accounts { command } = command;
    let config = env.config()?;
    match command {
        AccountsCommand::Import {
            files,
            apply,
            allow_mass_disable,
            all,
            no_system,
        } => import_files(env, &config, &files, apply, allow_mass_disable, all, no_system),
        AccountsCommand::List { kind, class, status } => list(env, &config, kind, class, status),
        AccountsCommand::Show { login } => show(env, &config, &login),
        AccountsCommand::Add {
            kind,
            first_name,
            last_name,
            class,
            birth_date,
            login,
            no_system,
        } => add(
            env,
            &config,
            &kind,
            &first_name,
            &last_name,
            class,
            birth_date,
            login,
            no_system,
        ),
        AccountsCommand::Disable { logins, no_system } => set_status(env, &config, &logins, false, no_system),
        AccountsCommand::Enable { logins, no_system } => set_status(env, &config, &logins, true, no_system),
        AccountsCommand::Passwd {
            login,
            generate,
            no_system,
        } => passwd(env, &config, &login, generate, no_system),
        AccountsCommand::Sheets { class, staff, out } => sheets_cmd(env, &config, class, staff, &out),
        AccountsCommand::Export { login } => export(env, &config, &login),
        AccountsCommand::Purge { apply, no_system } => purge(env, &config, apply, no_system),
    }
}

fn open_store(env: &Env, config: &Config) -> anyhow::Result<Store> {
    Ok(Store::open_existing(&env.db_path(config))?)
}

fn spinner(env: &Env, msg: &str) -> indicatif::ProgressBar {
    if env.json || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(std::time::Duration::from_millis(100));
    pb.set_message(msg.to_string());
    pb
}

/// Brings Unix and Samba accounts in line with the directory, if the
/// module is enabled. Returns a line to print, or None.
fn project(env: &Env, config: &Config, no_system: bool) -> anyhow::Result<Option<(String, bool)>> {
    if no_system {
        return Ok(None);
    }
    if !config.modules.enabled.iter().any(|m| m == "accounts") {
        return Ok(Some((
            "The accounts module is not enabled: Unix and Samba accounts were not touched (add \"accounts\" to [modules] enabled).".into(),
            true,
        )));
    }
    let pb = spinner(env, "Updating Unix and Samba accounts");
    let started = Instant::now();
    let ctx = env.context(config);
    let chosen = crate::modules::selected(config, &["accounts".into()]).map_err(anyhow::Error::msg)?;
    let session = crate::engine::session::run(&ctx, &chosen, &Default::default())?;
    let (plan, report) = (session.plan, session.report);
    pb.finish_and_clear();
    if !report.ok {
        return Ok(Some((report.render(), false)));
    }
    Ok(Some((
        format!(
            "System accounts updated: {} change(s) in {} ms.",
            plan.change_count(),
            started.elapsed().as_millis()
        ),
        true,
    )))
}

/// The system's own user and group names (never given as logins).
fn reserved_names(
    env: &Env,
    config: &Config,
    store: &Store,
) -> anyhow::Result<std::collections::HashSet<String>> {
    super::reserved_names(&env.host, config, store.conn())
}

#[allow(clippy::too_many_arguments)]
fn import_files(
    env: &Env,
    config: &Config,
    files: &[PathBuf],
    apply: bool,
    allow_mass_disable: bool,
    all: bool,
    no_system: bool,
) -> anyhow::Result<u8> {
    let started = Instant::now();
    let mut store = Store::open(&env.db_path(config))?;
    let pb = spinner(env, "Reading the files");
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let snapshot = match import::read_files(
        &paths,
        &ReadOptions::new(&config.establishment.uai, &config.accounts),
    ) {
        Ok(s) => s,
        Err(e) => {
            pb.finish_and_clear();
            if env.json {
                println!(
                    "{}",
                    json!({"ok": false, "error": {"file": e.file, "line": e.line, "element": e.element, "message": e.message, "hint": e.hint}})
                );
            } else {
                eprintln!("error: {e}\nNothing was changed.");
            }
            return Ok(exit::FAILURE);
        }
    };
    pb.set_message("Comparing with the directory");
    let plan = import::plan(
        store.conn(),
        snapshot,
        &PlanOptions {
            max_disable_percent: config.accounts.max_disable_percent,
            allow_mass_disable,
        },
    )?;
    pb.finish_and_clear();
    if !env.json {
        print!("{}", plan.render(if all { usize::MAX } else { 20 }));
    }
    if plan.refusal.is_some() {
        if env.json {
            println!("{}", json!({"ok": false, "applied": false, "plan": plan}));
        } else {
            eprintln!("Nothing was changed.");
        }
        return Ok(exit::FAILURE);
    }
    if !apply {
        if env.json {
            println!(
                "{}",
                json!({"ok": true, "applied": false, "pending": !plan.is_empty(), "plan": plan})
            );
        } else if plan.is_empty() {
            println!("The directory already matches these files.");
        } else {
            println!("Nothing changed yet: run again with --apply to perform this import.");
        }
        return Ok(if plan.is_empty() { exit::OK } else { exit::PENDING });
    }
    let mut summary = None;
    if !plan.is_empty() {
        let pb = spinner(env, "Applying the import");
        let options = apply_options(&config.accounts, reserved_names(env, config, &store)?);
        let s = store.write(|tx| import::apply(tx, &plan, &options).map_err(anyhow::Error::from))?;
        pb.finish_and_clear();
        summary = Some(s);
    }
    let system = project(env, config, no_system)?;
    let ok = system.as_ref().is_none_or(|(_, ok)| *ok);
    if env.json {
        println!(
            "{}",
            json!({"ok": ok, "applied": true, "summary": summary, "plan": plan,
                   "system": system.map(|s| s.0), "duration_ms": started.elapsed().as_millis() as u64})
        );
    } else {
        match &summary {
            Some(s) => println!(
                "Imported in {} ms: {} created, {} updated, {} returning, {} disabled.",
                started.elapsed().as_millis(),
                s.created,
                s.updated,
                s.reactivated,
                s.disabled
            ),
            None => println!("The directory already matches these files."),
        }
        if let Some((line, _)) = system {
            println!("{line}");
        }
        if summary.as_ref().is_some_and(|s| s.created > 0) {
            println!("Login sheets: `preau accounts sheets --out DIR`.");
        }
    }
    Ok(if ok { exit::OK } else { exit::FAILURE })
}

fn parse_kind(s: &str) -> anyhow::Result<Kind> {
    Kind::parse(s)
        .with_context(|| format!("unknown kind \"{s}\"\n    help: use student, teacher, staff or parent"))
}

fn list(
    env: &Env,
    config: &Config,
    kind: Option<String>,
    class: Option<String>,
    status: Option<String>,
) -> anyhow::Result<u8> {
    let store = open_store(env, config)?;
    let filter = Filter {
        kind: kind.as_deref().map(parse_kind).transpose()?,
        status: status
            .as_deref()
            .map(|s| {
                Status::parse(s).with_context(|| {
                    format!("unknown status \"{s}\"\n    help: use active, disabled or deleting")
                })
            })
            .transpose()?,
        structure: class,
    };
    let people = directory::people(store.conn(), &filter)?;
    if env.json {
        println!("{}", serde_json::to_string(&people)?);
    } else {
        for p in &people {
            let class = directory::class_of(store.conn(), p.id)?
                .map(|c| c.code)
                .unwrap_or_default();
            println!(
                "{:<20} {:<8} {:<9} {:<6} {}",
                p.login,
                p.kind.as_str(),
                p.status.as_str(),
                class,
                p.full_name()
            );
        }
        println!("{} person(s).", people.len());
    }
    Ok(exit::OK)
}

fn find(store: &Store, login: &str) -> anyhow::Result<directory::Person> {
    directory::person_by_login(store.conn(), login)?
        .with_context(|| format!("no account `{login}`\n    help: `preau accounts list` shows the logins"))
}

/// Everything about a person except secrets.
fn person_json(store: &Store, p: &directory::Person) -> anyhow::Result<serde_json::Value> {
    let c = store.conn();
    let structures = directory::structures_of(c, p.id)?;
    let parents = directory::parents_of(c, p.id)?;
    let children = directory::children_of(c, p.id)?;
    let services = directory::services(c, Some(p.id))?;
    let (initial, hashed): (bool, bool) = c.query_row(
        "SELECT initial_password IS NOT NULL, password_hash IS NOT NULL FROM people WHERE id = ?1",
        [p.id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(json!({
        "person": p,
        "classes_and_groups": structures,
        "parents": parents.iter().map(|x| json!({"login": x.login, "name": x.full_name(), "email": x.email})).collect::<Vec<_>>(),
        "children": children.iter().map(|x| json!({"login": x.login, "name": x.full_name()})).collect::<Vec<_>>(),
        "teaching_services": services,
        "password": {"initial_password_unchanged": initial, "own_password_set": hashed},
    }))
}

fn show(env: &Env, config: &Config, login: &str) -> anyhow::Result<u8> {
    let store = open_store(env, config)?;
    let p = find(&store, login)?;
    let v = person_json(&store, &p)?;
    if env.json {
        println!("{v}");
    } else {
        println!("{} ({}, {})", p.full_name(), p.kind, p.status.as_str());
        println!(
            "  login: {}   uid: {}",
            p.login,
            p.uid.map(|u| u.to_string()).unwrap_or("-".into())
        );
        if let Some(b) = &p.birth_date {
            println!("  born: {b}");
        }
        if let Some(k) = &p.national_key {
            println!("  key ({}): {k}", p.source);
        }
        if let Some(f) = &p.function {
            println!("  function: {f}");
        }
        if let Some(a) = &p.postal_address {
            println!("  address: {}", a.replace('\n', ", "));
        }
        for s in directory::structures_of(store.conn(), p.id)? {
            println!("  {} {} ({})", s.kind.as_str(), s.code, s.group_name);
        }
        for x in directory::parents_of(store.conn(), p.id)? {
            println!("  parent: {} ({})", x.full_name(), x.login);
        }
        for x in directory::children_of(store.conn(), p.id)? {
            println!("  child: {} ({})", x.full_name(), x.login);
        }
        for s in directory::services(store.conn(), Some(p.id))? {
            println!(
                "  teaches {} to {}",
                s.subject_label.as_deref().unwrap_or(&s.subject_code),
                s.structure_code
            );
        }
        if let Some(d) = &p.delete_after {
            println!(
                "  disabled since {}, deleted after {d}",
                p.disabled_at.as_deref().unwrap_or("?")
            );
        }
    }
    Ok(exit::OK)
}

#[allow(clippy::too_many_arguments)]
fn add(
    env: &Env,
    config: &Config,
    kind: &str,
    first: &str,
    last: &str,
    class: Option<String>,
    birth: Option<String>,
    chosen: Option<String>,
    no_system: bool,
) -> anyhow::Result<u8> {
    let kind = parse_kind(kind)?;
    let birth = birth
        .map(|b| {
            import::iso_date(&b).with_context(|| format!("\"{b}\" is not a date\n    help: write JJ/MM/AAAA"))
        })
        .transpose()?;
    let mut store = Store::open(&env.db_path(config))?;
    let super::people::Created {
        id,
        login,
        password: pw,
    } = super::people::create(
        &env.host,
        config,
        &mut store,
        &super::people::Manual {
            kind: Some(kind),
            first_name: first.into(),
            last_name: last.into(),
            birth_date: birth,
            class,
            email: None,
            login: chosen,
        },
    )?;
    let system = project(env, config, no_system)?;
    if env.json {
        println!(
            "{}",
            json!({"ok": true, "id": id, "login": login, "password": pw, "system": system.map(|s| s.0)})
        );
    } else {
        println!("Created `{login}` ({kind}), initial password: {pw}");
        if let Some((line, _)) = system {
            println!("{line}");
        }
    }
    Ok(exit::OK)
}

fn set_status(
    env: &Env,
    config: &Config,
    logins: &[String],
    enable: bool,
    no_system: bool,
) -> anyhow::Result<u8> {
    let mut store = open_store(env, config)?;
    store.write(|tx| -> anyhow::Result<()> {
        for l in logins {
            let status = if enable { Status::Active } else { Status::Disabled };
            if !directory::set_status(tx, l, status, None)? {
                bail!(
                    "no account `{l}`: nothing was changed\n    help: `preau accounts list` shows the logins"
                );
            }
        }
        Ok(())
    })?;
    let system = project(env, config, no_system)?;
    let ok = system.as_ref().is_none_or(|(_, ok)| *ok);
    if env.json {
        println!(
            "{}",
            json!({"ok": ok, "logins": logins, "enabled": enable, "system": system.map(|s| s.0)})
        );
    } else {
        println!(
            "{} {} account(s).",
            if enable { "Enabled" } else { "Disabled" },
            logins.len()
        );
        if let Some((line, _)) = system {
            println!("{line}");
        }
    }
    Ok(if ok { exit::OK } else { exit::FAILURE })
}

fn passwd(env: &Env, config: &Config, login: &str, generate: bool, no_system: bool) -> anyhow::Result<u8> {
    let mut store = open_store(env, config)?;
    let p = find(&store, login)?;
    let s = &config.accounts;
    let pw = if generate {
        password::initial_password(s.password_syllables, s.password_digits)
    } else {
        if std::io::stdin().is_terminal() {
            eprintln!("New password for {login} (one line):");
        }
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let pw = line.trim_end_matches(['\n', '\r']).to_string();
        if let Some((problem, _)) = password::policy_problem(&pw) {
            bail!(
                "{problem}\n    help: use at least {} characters, or --generate",
                password::MIN_LENGTH
            );
        }
        pw
    };
    // A generated password is a new initial one (printable on a sheet); a
    // chosen one is hashed and forgotten.
    store.write(|tx| password::set(tx, p.id, &pw, generate, s.must_change_password))?;
    let system = project(env, config, no_system)?;
    if env.json {
        println!(
            "{}",
            json!({"ok": true, "login": login, "password": if generate { Some(&pw) } else { None }, "system": system.map(|s| s.0)})
        );
    } else {
        if generate {
            println!("New password for {login}: {pw}");
        } else {
            println!("Password of {login} changed.");
        }
        if let Some((line, _)) = system {
            println!("{line}");
        }
    }
    Ok(exit::OK)
}

fn sheets_cmd(
    env: &Env,
    config: &Config,
    class: Option<String>,
    staff: bool,
    out: &Path,
) -> anyhow::Result<u8> {
    let store = open_store(env, config)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let written = sheets::write_all(
        store.conn(),
        &config.establishment.name,
        class.as_deref(),
        staff,
        out,
    )?;
    if env.json {
        println!("{}", json!({"ok": true, "files": written}));
    } else {
        for f in &written {
            println!("{}", f.display());
        }
        println!(
            "{} file(s) written (they hold passwords: readable by you only). Print the .html files; the .csv hold the same.",
            written.len()
        );
    }
    Ok(exit::OK)
}

fn export(env: &Env, config: &Config, login: &str) -> anyhow::Result<u8> {
    let store = open_store(env, config)?;
    let p = find(&store, login)?;
    let mut v = person_json(&store, &p)?;
    v["exported_at"] = json!(import::today());
    v["establishment"] = json!({"uai": config.establishment.uai, "name": config.establishment.name});
    v["note"] = json!("Everything Préau's directory holds about this person; passwords are never exported.");
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(exit::OK)
}

fn purge(env: &Env, config: &Config, apply: bool, no_system: bool) -> anyhow::Result<u8> {
    let mut store = open_store(env, config)?;
    let due = super::people::due_for_purge(store.conn())?;
    if !apply {
        if env.json {
            println!("{}", json!({"ok": true, "applied": false, "due": due}));
        } else {
            for p in &due {
                println!(
                    "- {:<20} {:<8} {} (left {}, deletion due {})",
                    p.login,
                    p.kind.as_str(),
                    p.full_name(),
                    p.disabled_at.as_deref().unwrap_or("?"),
                    p.delete_after.as_deref().unwrap_or("?")
                );
            }
            println!(
                "{} account(s) due for deletion. Nothing was changed: run again with --apply to delete them and their home directories.",
                due.len()
            );
        }
        return Ok(if due.is_empty() { exit::OK } else { exit::PENDING });
    }
    // Their Unix and Samba accounts and their folders go through the
    // module's plan (people past the retention are no longer projected:
    // `preau plan` shows the folders it removes), then the directory
    // forgets them.
    let had_home = super::people::homes_before(&env.host, config, &due);
    let system = project(env, config, no_system)?;
    let purged = super::people::forget(&env.host, config, &mut store, &due, &had_home)?;
    let (kept, removed) = (&purged.kept_home, purged.homes_removed);
    if !kept.is_empty() && !env.json {
        eprintln!(
            "{} account(s) kept in the directory until their home folders are removed (by `preau apply accounts`): {}",
            kept.len(),
            kept.join(", ")
        );
    }
    if !purged.kept_records.is_empty() && !env.json {
        eprintln!(
            "{} account(s) kept in the directory because school-life records name them: {}",
            purged.kept_records.len(),
            purged.kept_records.join(", ")
        );
    }
    if env.json {
        println!(
            "{}",
            json!({"ok": kept.is_empty(), "applied": true, "deleted": purged.deleted.len(), "homes_removed": removed,
                   "kept": kept, "kept_records": purged.kept_records})
        );
    } else {
        println!(
            "Deleted {} account(s), {removed} home directories.",
            purged.deleted.len()
        );
        if let Some((line, _)) = system {
            println!("{line}");
        }
    }
    Ok(exit::OK)
}

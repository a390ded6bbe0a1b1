//! The foundation's commands: init, check, plan, apply, status, modules.

use super::{Env, args::InitArgs, exit};
use crate::config::{Config, LoadError};
use crate::engine::{self, Plan};
use crate::host::{Host, Owner};
use crate::modules::{self, Module};
use crate::store::Store;
use anyhow::bail;
use serde_json::json;
use std::path::Path;

/// The configuration `init` writes for these answers, with `modules`
/// enabled (already checked by [`init_modules`]).
pub fn starter_config(a: &InitArgs, modules: &[String]) -> Config {
    let mut c = Config::default();
    c.establishment.uai = a.uai.clone();
    c.establishment.name = a.name.clone();
    c.establishment.hostname = a.hostname.clone();
    c.establishment.domain = a.domain.clone();
    c.modules.enabled = modules.to_vec();
    // The firewall's preset sends web traffic to the proxy's transparent
    // ports: a starter with both listens there, so that it checks clean.
    if modules.iter().any(|m| m == "proxy") && modules.iter().any(|m| m == "firewall") {
        let fw = &c.firewall;
        c.proxy.transparent_http = vec![format!("0.0.0.0:{}", fw.proxy_transparent_http_port)];
        c.proxy.transparent_https = vec![format!("0.0.0.0:{}", fw.proxy_transparent_https_port)];
    }
    c
}

/// The modules a starter configuration enables: `--modules`, else the
/// answer to a question when a terminal is attached, else none. Unknown
/// names are refused; dependencies are added before what needs them.
fn init_modules(a: &InitArgs, interactive: bool) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    use std::io::{BufRead, Write};
    let all: Vec<&dyn Module> = modules::registry()
        .into_iter()
        .filter(|m| m.name() != "system")
        .collect();
    let names: Vec<&str> = all.iter().map(|m| m.name()).collect();
    let asked: Vec<String> = match &a.modules {
        Some(list) => list
            .iter()
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
            .collect(),
        None if interactive => {
            let default = names.join(",");
            print!("Modules to enable ({default}; \"none\" for none) [{default}]: ");
            std::io::stdout().flush()?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            match line.trim() {
                "" => names.iter().map(|n| n.to_string()).collect(),
                "none" => Vec::new(),
                answer => answer
                    .split(',')
                    .map(|m| m.trim().to_string())
                    .filter(|m| !m.is_empty())
                    .collect(),
            }
        }
        None => Vec::new(),
    };
    if let Some(bad) = asked.iter().find(|m| !names.contains(&m.as_str())) {
        bail!(
            "unknown module \"{bad}\" in --modules; known modules: {}",
            names.join(", ")
        );
    }
    // Registry order puts each module after its dependencies.
    let mut added = Vec::new();
    let mut wanted: Vec<String> = asked.clone();
    let mut i = 0;
    while i < wanted.len() {
        let m = all.iter().find(|m| m.name() == wanted[i]).expect("checked above");
        for dep in m.depends_on() {
            if dep != "system" && !wanted.iter().any(|w| w == dep) {
                wanted.push(dep.to_string());
                added.push(format!("{dep} (needed by {})", m.name()));
            }
        }
        i += 1;
    }
    let ordered = names
        .iter()
        .filter(|n| wanted.iter().any(|w| w == *n))
        .map(|n| n.to_string())
        .collect();
    Ok((ordered, added))
}

impl Default for InitArgs {
    fn default() -> Self {
        Self {
            uai: "0999999X".into(),
            name: "Établissement de démonstration".into(),
            hostname: "preau".into(),
            domain: "ecole.lan".into(),
            admin: "admin".into(),
            force: false,
            modules: None,
        }
    }
}

/// Prints configuration problems (text or JSON) and returns the failure
/// status; other load errors go up.
fn report_config_error(env: &Env, e: LoadError) -> anyhow::Result<u8> {
    match e {
        LoadError::Invalid(errors) => {
            if env.json {
                println!("{}", json!({ "ok": false, "errors": errors.0 }));
            } else {
                eprintln!("{errors}");
                eprintln!("{} problem(s) in the configuration.", errors.0.len());
            }
            Ok(exit::FAILURE)
        }
        other => Err(other.into()),
    }
}

macro_rules! config_or_report {
    ($env:expr) => {
        match $env.config() {
            Ok(c) => c,
            Err(e) => match e.downcast::<LoadError>() {
                Ok(load) => return report_config_error($env, load),
                Err(other) => return Err(other),
            },
        }
    };
}

pub fn init(env: &Env, a: &InitArgs) -> anyhow::Result<u8> {
    let host = &env.host;
    let config_real = host.real_path(&env.config_path);
    let mut notes = Vec::new();
    let config = if config_real.exists() && !a.force {
        if a.modules.is_some() {
            bail!(
                "{} exists: --modules only applies to a new configuration; edit [modules] enabled, or add --force to replace the file",
                env.config_path.display()
            );
        }
        notes.push(format!(
            "kept the existing configuration {}",
            env.config_path.display()
        ));
        config_or_report!(env)
    } else {
        use std::io::IsTerminal;
        let interactive = !env.json && std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
        let (enabled, added) = init_modules(a, interactive)?;
        for a in &added {
            notes.push(format!("enabled {a}"));
        }
        notes.push(if enabled.is_empty() {
            "enabled no module (only `system`): list them in [modules] enabled, or run `preau init --force --modules accounts,shares,firewall,proxy`".to_string()
        } else {
            format!("enabled the modules {}", enabled.join(", "))
        });
        let config = starter_config(a, &enabled);
        let text = crate::config::sample::starter(&config);
        // The answers are validated like any configuration before anything
        // is written.
        if let Err(errors) = crate::config::parse(&text, "preau init") {
            bail!("these answers do not make a valid configuration:\n{errors}");
        }
        if let Some(parent) = env.config_path.parent() {
            host.create_dir(parent, 0o755, &Owner::root())?;
        }
        host.write_file(&env.config_path, text.as_bytes(), 0o640, &Owner::root())?;
        notes.push(format!("wrote the configuration {}", env.config_path.display()));
        config
    };
    let state = Path::new(&config.paths.state_dir);
    host.create_dir(state, 0o750, &Owner::root())?;
    host.create_dir(&state.join("tls"), 0o700, &Owner::root())?;
    let cert_path = state.join(modules::system::TLS_CERT);
    let key_path = state.join(modules::system::TLS_KEY);
    if host.meta(&cert_path)?.is_none() || host.meta(&key_path)?.is_none() {
        let material = crate::tls::self_signed(&config.establishment)?;
        host.write_file(&key_path, material.key_pem.as_bytes(), 0o600, &Owner::root())?;
        host.write_file(&cert_path, material.cert_pem.as_bytes(), 0o644, &Owner::root())?;
        notes.push(format!(
            "generated a self-signed TLS certificate for {} in {}",
            config.establishment.fqdn(),
            cert_path.display()
        ));
    }
    let mut store = Store::open(&env.db_path(&config))?;
    let mut admin_password = None;
    if store.admin_hash(&a.admin)?.is_none() {
        let password = crate::auth::generate_password();
        store.add_admin(&a.admin, &crate::auth::hash_password(&password)?)?;
        admin_password = Some(password);
        notes.push(format!("created the administrator account `{}`", a.admin));
    }
    if env.json {
        println!(
            "{}",
            json!({ "ok": true, "done": notes, "admin": a.admin, "admin_password": admin_password })
        );
    } else {
        for n in &notes {
            println!("{n}");
        }
        if let Some(p) = &admin_password {
            println!(
                "\nAdministrator login: {}\nPassword (shown once, write it down): {p}",
                a.admin
            );
        }
        // Under --root, say the real file and the option to repeat.
        let preau = if host.is_live() {
            "preau".to_string()
        } else {
            format!("preau --root {}", host.root().display())
        };
        println!(
            "\nNext: edit {}, then `{preau} check`, `{preau} plan` and `{preau} apply`.",
            host.real_path(&env.config_path).display()
        );
    }
    Ok(exit::OK)
}

pub fn check(env: &Env) -> anyhow::Result<u8> {
    let config = config_or_report!(env);
    let ctx = env.context(&config);
    let chosen = modules::selected(&config, &[]).map_err(anyhow::Error::msg)?;
    let mut findings = Vec::new();
    for m in &chosen {
        findings.extend(m.check(&ctx));
        findings.extend(missing_packages(&env.host, *m));
    }
    if env.json {
        println!(
            "{}",
            json!({ "ok": findings.is_empty(), "errors": [], "findings": findings })
        );
    } else if findings.is_empty() {
        println!(
            "{}: the configuration is valid ({} module(s): {}).",
            env.config_path.display(),
            chosen.len(),
            chosen.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ")
        );
    } else {
        for f in &findings {
            eprintln!("{}: {}", f.module, f.message);
            if let Some(h) = &f.hint {
                eprintln!("    help: {h}");
            }
        }
        eprintln!("{} problem(s) on this host.", findings.len());
    }
    Ok(if findings.is_empty() {
        exit::OK
    } else {
        exit::FAILURE
    })
}

/// The module's Debian packages that are not installed (live system only:
/// under --root the image builder installs them).
fn missing_packages(host: &dyn Host, m: &dyn Module) -> Vec<modules::Finding> {
    if !host.is_live() || m.info().packages.is_empty() {
        return Vec::new();
    }
    let mut argv = vec![
        "dpkg-query".to_string(),
        "-W".into(),
        "-f=${Package} ${db:Status-Status}\\n".into(),
    ];
    argv.extend(m.info().packages.iter().cloned());
    let installed: Vec<String> = match host.run(&crate::host::Command::new(argv)) {
        Ok(out) => String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.ends_with(" installed"))
            .map(|l| l.split(' ').next().unwrap_or("").to_string())
            .collect(),
        Err(_) => return Vec::new(), // not a Debian system: nothing to say
    };
    let missing: Vec<&String> = m
        .info()
        .packages
        .iter()
        .filter(|p| !installed.contains(p))
        .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    let list = missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
    vec![
        modules::Finding::new(m.name(), format!("Debian packages not installed: {list}"))
            .hint(format!("apt-get install {list}")),
    ]
}

fn make_plan(env: &Env, config: &Config, only: &[String]) -> anyhow::Result<Plan> {
    let ctx = env.context(config);
    let chosen = modules::selected(config, only).map_err(anyhow::Error::msg)?;
    Ok(Plan::make(&ctx, &chosen)?)
}

pub fn plan(env: &Env, only: &[String]) -> anyhow::Result<u8> {
    let config = config_or_report!(env);
    let plan = make_plan(env, &config, only)?;
    if env.json {
        println!("{}", plan.to_json());
    } else {
        print!("{}", plan.render());
    }
    Ok(if plan.is_empty() { exit::OK } else { exit::PENDING })
}

pub fn apply(env: &Env, only: &[String], confirm: Option<u64>) -> anyhow::Result<u8> {
    let config = config_or_report!(env);
    let ctx = env.context(&config);
    let chosen = modules::selected(&config, only).map_err(anyhow::Error::msg)?;
    let session = engine::session::run(&ctx, &chosen, &engine::session::Options { confirm })?;
    let print = |notes: &[engine::session::Note]| {
        if env.json {
            return;
        }
        for n in notes {
            match n.level {
                engine::session::Level::Info => println!("{}", n.text),
                engine::session::Level::Warning => eprintln!("{}", n.text),
            }
        }
    };
    print(&session.before);
    if env.json {
        println!("{}", serde_json::to_string(&session.report)?);
    } else if session.plan.is_empty() {
        println!("Nothing to do: the system matches the configuration.");
    } else {
        print!("{}", session.report.render());
    }
    print(&session.after);
    Ok(if session.report.ok {
        exit::OK
    } else {
        exit::FAILURE
    })
}

pub fn status(env: &Env) -> anyhow::Result<u8> {
    let config = config_or_report!(env);
    let ctx = env.context(&config);
    let report = crate::status::collect(&ctx, Some(&env.db_path(&config)));
    if env.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
    }
    Ok(if report.modules.iter().all(|h| h.state == modules::State::Ok) {
        exit::OK
    } else {
        exit::FAILURE
    })
}

pub fn modules_list(env: &Env) -> anyhow::Result<u8> {
    // The list is useful before any configuration exists.
    let enabled: Vec<String> = env.config().map(|c| c.modules.enabled).unwrap_or_default();
    let rows: Vec<_> = modules::registry()
        .into_iter()
        .map(|m| {
            let on = m.name() == "system" || enabled.iter().any(|e| e == m.name());
            json!({
                "name": m.name(), "enabled": on, "summary": m.summary(),
                "depends_on": m.depends_on(), "packages": m.info().packages, "services": m.info().services,
            })
        })
        .collect();
    if env.json {
        println!("{}", serde_json::Value::Array(rows));
    } else {
        for r in rows {
            println!(
                "{:<12} {:<9} {}",
                r["name"].as_str().unwrap_or(""),
                if r["enabled"] == true {
                    "enabled"
                } else {
                    "disabled"
                },
                r["summary"].as_str().unwrap_or("")
            );
        }
    }
    Ok(exit::OK)
}

pub fn backup(env: &Env, command: super::args::BackupCommand) -> anyhow::Result<u8> {
    use super::args::BackupCommand;
    let print = |value: &dyn erased::Json, text: String| -> anyhow::Result<()> {
        if env.json {
            println!("{}", value.json()?);
        } else {
            println!("{text}");
        }
        Ok(())
    };
    match command {
        BackupCommand::Create { file, with_shares } => {
            let config = config_or_report!(env);
            let options = crate::backup::CreateOptions { with_shares };
            let c = crate::backup::create(&env.host, &config, &file, &options)?;
            let text = created_text(&c);
            print(&c, text)?;
        }
        BackupCommand::Verify { file, identity } => {
            let v = crate::backup::verify(&file, identity.as_deref())?;
            let text = format!(
                "{} is sound: {} files, {} folders, {} bytes, made {} by Préau {} for {}",
                file.display(),
                v.files,
                v.dirs,
                v.bytes,
                v.manifest.created_at,
                v.manifest.version,
                v.manifest.uai
            );
            print(&v, text)?;
        }
        BackupCommand::Restore { file, identity } => {
            let r = crate::backup::restore(&env.host, &file, identity.as_deref())?;
            let text = format!(
                "restored {} files{} of the backup of {} made {}; now run `preau apply`, then `systemctl restart preau`",
                r.files,
                if r.with_shares {
                    format!(" and {} share folders", r.dirs)
                } else {
                    String::new()
                },
                r.uai,
                r.created_at
            );
            print(&r, text)?;
        }
        BackupCommand::Run => {
            let config = config_or_report!(env);
            let r = crate::backup::run(&env.host, &config)?;
            let mut text = created_text(&r.created);
            for n in &r.removed {
                text.push_str(&format!("\nremoved {n} (rotation)"));
            }
            print(&r, text)?;
        }
        BackupCommand::Rotate { dry_run } => {
            let config = config_or_report!(env);
            let removed = crate::backup::rotate(&env.host, &config, dry_run)?;
            let verb = if dry_run { "would remove" } else { "removed" };
            let text = if removed.is_empty() {
                "nothing to remove".to_string()
            } else {
                removed
                    .iter()
                    .map(|n| format!("{verb} {n}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            print(&removed, text)?;
        }
        BackupCommand::Keygen { out } => {
            let public = crate::backup::keygen(&out)?;
            let text = format!(
                "wrote the identity (private key) to {}: keep it off this server, without it encrypted backups cannot be restored\n\
                 public key, for [backup] recipients in preau.toml:\n{public}",
                out.display()
            );
            print(&serde_json::json!({ "identity": out, "recipient": public }), text)?;
        }
    }
    Ok(exit::OK)
}

fn created_text(c: &crate::backup::Created) -> String {
    format!(
        "wrote {} ({} files, {} bytes{}{}{})",
        c.file.display(),
        c.files,
        c.bytes,
        if c.encrypted { ", encrypted" } else { "" },
        if c.with_shares { ", with the shares" } else { "" },
        if c.skipped > 0 {
            format!(", {} links or special files left out", c.skipped)
        } else {
            String::new()
        }
    )
}

mod erased {
    /// Anything the backup commands print as JSON.
    pub trait Json {
        fn json(&self) -> serde_json::Result<String>;
    }

    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> serde_json::Result<String> {
            serde_json::to_string(self)
        }
    }
}

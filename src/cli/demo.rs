//! `preau demo`: everything that runs unprivileged, on an embedded demo
//! establishment, in a temporary directory.

use super::{Env, args::DemoArgs, exit};
use anyhow::Context as _;
use std::path::PathBuf;

/// `json`: stdout gets only the JSON document of WEB.md's demo contract
/// (`{"url": …, "accounts": [{"role", "login", "password"}…]}`) once the
/// server is ready; everything else goes to stderr.
pub fn run(a: &DemoArgs, json: bool) -> anyhow::Result<u8> {
    let (_temp, dir) = match &a.dir {
        Some(d) => (None, d.clone()),
        None => {
            let t = tempfile::Builder::new()
                .prefix("preau-demo-")
                .tempdir()
                .context("cannot create a temporary directory")?;
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    seed_identity(&dir)?;
    let env = Env::new(&dir, &PathBuf::from("/etc/preau/preau.toml"), false)?;
    let init = super::args::InitArgs {
        name: "Collège des Tilleuls (démonstration)".into(),
        hostname: "preau".into(),
        domain: "tilleuls.lan".into(),
        ..Default::default()
    };
    // In JSON mode, what init and the import print goes to stderr.
    let stdout_saved = if json {
        Some(StdoutToStderr::start()?)
    } else {
        None
    };
    println!("Préau demo in {}", dir.display());
    super::commands::init(&env, &init)?;
    add_demo_rooms(&env)?;
    let config = env.config()?;
    // The demo school's directory: students, parents, staff, classes and
    // teaching services from exports built into the binary. Only the
    // directory: system accounts need root.
    let mut store = crate::store::Store::open(&env.db_path(&config))?;
    let imported = crate::modules::accounts::demo::import_demo_school(&mut store, &config.accounts)?;
    if imported.created > 0 {
        println!("imported the demo school: {} people", imported.created);
    }
    // Two leavers past their retention, for the console's purge page.
    let leavers = crate::modules::accounts::demo::add_demo_leavers(&mut store)?;
    if leavers > 0 {
        println!("{leavers} leavers due for deletion (/console/personnes/partants)");
    }
    // Its school life: a week of timetable and rolls, absences, homework,
    // messages, a term of marks and a closed report card.
    let now = crate::modules::viescolaire::calendar::DateTime::now_local();
    let filled = crate::modules::viescolaire::demo::fill(&mut store, &config.viescolaire, now)?;
    if filled.slots > 0 {
        println!(
            "school life: {} timetable slots, {} rolls, {} marks, {} closed report cards",
            filled.slots, filled.rolls, filled.marks, filled.report_cards
        );
    }
    // Bookable resources, the laptop cart booked for lessons of the week.
    let booked = crate::booking::demo::fill(&mut store, now)?;
    if booked > 0 {
        println!("booking: 3 resources, {booked} bookings");
    }
    // One account per role, with passwords that need not be changed.
    let admin_password = crate::auth::generate_password();
    store.set_admin_hash(&init.admin, &crate::auth::hash_password(&admin_password)?)?;
    let mut accounts = vec![crate::modules::accounts::demo::DemoAccount {
        role: "admin",
        login: init.admin.clone(),
        password: admin_password,
    }];
    accounts.extend(crate::modules::accounts::demo::demo_accounts(
        &mut store,
        &config.accounts,
    )?);
    drop(store);
    println!("Try: preau --root {} accounts list --kind student", dir.display());
    drop(stdout_saved);
    let mut options = crate::server::Options::from_env(&env, config);
    options.listen = Some(vec![a.listen.clone()]);
    options.on_ready = Some(Box::new(move |addrs| {
        let url = addrs.first().map(|a| format!("https://{a}/")).unwrap_or_default();
        if json {
            println!("{}", serde_json::json!({ "url": url, "accounts": accounts }));
        } else {
            for addr in addrs {
                println!("\nDemo server ready: https://{addr}/ (self-signed certificate for localhost)");
            }
            println!("Accounts (role, login, password):");
            for a in &accounts {
                println!("  {:<10} {:<28} {}", a.role, a.login, a.password);
            }
            println!("Press Ctrl-C to stop.");
        }
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
    }));
    crate::server::run(options)?;
    Ok(exit::OK)
}

/// The demo timetable's rooms (`S6A`, `S5A`: a room per class) as
/// `[[proxy.sources]]`, so that the classroom tools (`/console/salles`)
/// list them. The demo runs neither the proxy nor the firewall: the page
/// says so, and a switch is recorded as on a real server.
const DEMO_ROOMS: &str = r#"
# The demo's computer rooms (preau demo): a room per class of its timetable.
[[proxy.sources]]
name = "salle-s6a"
addresses = ["10.0.61.0/24"]
rooms = ["S6A"]

[[proxy.sources]]
name = "salle-s5a"
addresses = ["10.0.51.0/24"]
rooms = ["S5A"]
"#;

fn add_demo_rooms(env: &Env) -> anyhow::Result<()> {
    use crate::host::{Host as _, Owner};
    let text = env.host.read(&env.config_path)?.unwrap_or_default();
    let mut text = String::from_utf8(text).context("the demo's preau.toml is not UTF-8")?;
    if text.contains("[[proxy.sources]]") {
        return Ok(()); // a --dir used again
    }
    text.push_str(DEMO_ROOMS);
    env.host
        .write_file(&env.config_path, text.as_bytes(), 0o640, &Owner::root())?;
    Ok(())
}

/// Sends standard output to standard error until dropped (JSON mode:
/// init's and the import's text must not mix with the JSON document).
struct StdoutToStderr(std::os::fd::OwnedFd);

impl StdoutToStderr {
    fn start() -> anyhow::Result<StdoutToStderr> {
        use std::io::Write as _;
        std::io::stdout().flush()?;
        let saved = nix::unistd::dup(std::io::stdout())?;
        nix::unistd::dup2_stdout(std::io::stderr())?;
        Ok(StdoutToStderr(saved))
    }
}

impl Drop for StdoutToStderr {
    fn drop(&mut self) {
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        let _ = nix::unistd::dup2_stdout(&self.0);
    }
}

/// The demo root has no system accounts of its own: its `root` user and
/// group are whoever runs the demo, so that files it writes can be owned
/// by "root" without privileges.
fn seed_identity(dir: &std::path::Path) -> anyhow::Result<()> {
    let etc = dir.join("etc");
    std::fs::create_dir_all(&etc).with_context(|| format!("cannot create {}", etc.display()))?;
    let uid = nix::unistd::getuid();
    let gid = nix::unistd::getgid();
    for (file, line) in [
        ("passwd", format!("root:x:{uid}:{gid}:demo:/root:/bin/sh\n")),
        ("group", format!("root:x:{gid}:\n")),
    ] {
        let path = etc.join(file);
        if !path.exists() {
            std::fs::write(&path, line).with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(())
}

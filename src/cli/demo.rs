//! `preau demo`: everything that runs unprivileged, on an embedded demo
//! establishment, in a temporary directory.

use super::{Env, args::DemoArgs, exit};
use anyhow::Context as _;
use std::path::PathBuf;

pub fn run(a: &DemoArgs) -> anyhow::Result<u8> {
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
    println!("Préau demo in {}", dir.display());
    super::commands::init(&env, &init)?;
    let config = env.config()?;
    // The demo school's directory: students, parents, staff, classes and
    // teaching services from exports built into the binary. Only the
    // directory: system accounts need root.
    let mut store = crate::store::Store::open(&env.db_path(&config))?;
    let imported = crate::modules::accounts::demo::import_demo_school(&mut store, &config.accounts)?;
    if imported.created > 0 {
        println!("imported the demo school: {} people", imported.created);
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
    drop(store);
    println!("Try: preau --root {} accounts list --kind student", dir.display());
    let mut options = crate::server::Options::from_env(&env, config);
    options.listen = Some(vec![a.listen.clone()]);
    options.on_ready = Some(Box::new(|addrs| {
        for addr in addrs {
            println!("\nDemo server ready: https://{addr}/ (self-signed certificate for localhost)");
        }
        println!("Press Ctrl-C to stop.");
    }));
    crate::server::run(options)?;
    Ok(exit::OK)
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

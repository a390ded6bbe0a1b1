//! The binary end to end: init, check, plan, apply, status, config,
//! generate. Unprivileged: everything happens under a temporary --root.

mod support;

use support::{TempRoot, show};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn init_plan_apply_then_nothing_to_do() {
    let root = TempRoot::new();
    let out = root.run(&["init", "--uai", "0999999X", "--name", "Collège des Tilleuls"]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(stdout(&out).contains("Password (shown once"), "{}", show(&out));
    assert!(
        root.read("/etc/preau/preau.toml")
            .contains("name = \"Collège des Tilleuls\"")
    );
    let key = std::fs::metadata(root.path().join("var/lib/preau/tls/key.pem")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&key.permissions()) & 0o777,
        0o600
    );

    let out = root.run(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));

    let out = root.run(&["plan"]);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    assert!(
        stdout(&out).contains("+ create file /etc/systemd/system/preau.service"),
        "{}",
        show(&out)
    );

    let out = root.run(&["--json", "plan"]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(plan["changes"].as_u64().unwrap() >= 2);

    let out = root.run(&["apply"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    // Services are not touched outside the live system.
    assert!(
        stdout(&out).contains("[skip] system: ! run `systemctl daemon-reload`"),
        "{}",
        show(&out)
    );
    assert!(
        root.read("/etc/systemd/system/preau.service")
            .contains("ExecStart=/usr/bin/preau")
    );

    let out = root.run(&["plan"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(stdout(&out).contains("Nothing to do"), "{}", show(&out));

    // A second init keeps the configuration and the administrator.
    let out = root.run(&["init"]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        stdout(&out).contains("kept the existing configuration"),
        "{}",
        show(&out)
    );
    assert!(!stdout(&out).contains("Password"), "{}", show(&out));

    let out = root.run(&["--json", "status"]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["modules"][0]["module"], "system");
    assert_eq!(status["modules"][0]["state"], "ok");
    assert_eq!(status["last_apply"]["ok"], true);
    assert!(status["host"]["memory_total_bytes"].as_u64().unwrap() > 0);
}

const THREE_MISTAKES: &str = r#"[establishment]
uai = "0999999X"
name = "Collège des Tilleuls"
hostnam = "scribe"

[server]
shutdown_grace_seconds = "deux"

[paths]
state_dir = "var/lib/preau"
"#;

#[test]
fn check_reports_every_mistake_with_position() {
    let root = TempRoot::new();
    root.write("/etc/preau/preau.toml", THREE_MISTAKES);
    let out = root.run(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    // Errors name the real file: under --root, inside the root.
    let err = stderr(&out).replace(&root.path().display().to_string(), "");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("/etc/preau/preau.toml:"))
        .collect();
    assert_eq!(
        lines,
        vec![
            "/etc/preau/preau.toml:4:1: establishment.hostnam: unknown key `hostnam`",
            "/etc/preau/preau.toml:7:26: server.shutdown_grace_seconds: expected integer, found the string \"deux\"",
            "/etc/preau/preau.toml:10:13: paths.state_dir: \"var/lib/preau\" is not an absolute path",
        ],
        "{}",
        show(&out)
    );
    assert!(err.contains("help: did you mean `hostname`?"));
    assert!(err.ends_with("3 problem(s) in the configuration.\n"), "{err}");

    let out = root.run(&["--json", "check"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["errors"].as_array().unwrap().len(), 3);
    assert_eq!(report["errors"][1]["line"], 7);
    assert_eq!(report["errors"][1]["column"], 26);
}

/// Issue 9: an unknown key, a wrong type and an invalid UAI in one
/// section gave two errors (the section's semantic checks were skipped).
#[test]
fn check_reports_three_mistakes_of_one_section() {
    let root = TempRoot::new();
    root.write(
        "/etc/preau/preau.toml",
        "[establishment]\nuai = \"12\"\nname = 5\nhostnme = \"scribe\"\n",
    );
    let out = root.run(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = stderr(&out).replace(&root.path().display().to_string(), "");
    // File:line:column and key path of each error.
    let lines: Vec<String> = err
        .lines()
        .filter(|l| l.starts_with("/etc/preau/preau.toml:"))
        .map(|l| l.splitn(3, ": ").take(2).collect::<Vec<_>>().join(": "))
        .collect();
    assert_eq!(
        lines,
        [
            "/etc/preau/preau.toml:2:7: establishment.uai",
            "/etc/preau/preau.toml:3:8: establishment.name",
            "/etc/preau/preau.toml:4:1: establishment.hostnme",
        ],
        "{}",
        show(&out)
    );
    assert!(err.ends_with("3 problem(s) in the configuration.\n"), "{err}");
}

#[test]
fn bad_configuration_files_get_clear_errors() {
    let root = TempRoot::new();
    let out = root.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("run `preau init`"), "{}", show(&out));

    let real = root.path().join("etc/preau/preau.toml");
    std::fs::create_dir_all(real.parent().unwrap()).unwrap();
    std::fs::write(&real, b"[establishment]\nname = \"Coll\xe8ge\"\n").unwrap();
    let out = root.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not valid UTF-8 text (byte 28)"),
        "{}",
        show(&out)
    );

    std::fs::write(&real, "[establishment\n").unwrap();
    let out = root.run(&["check"]);
    assert!(
        stderr(&out).contains("/etc/preau/preau.toml:1:15: TOML syntax error"),
        "{}",
        show(&out)
    );
    assert!(
        stderr(&out).starts_with(&root.path().display().to_string()),
        "{}",
        show(&out)
    );

    // plan and apply refuse an invalid configuration the same way.
    root.write("/etc/preau/preau.toml", THREE_MISTAKES);
    let out = root.run(&["apply"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("3 problem(s)"), "{}", show(&out));
}

#[test]
fn unknown_module_and_usage_errors() {
    let root = TempRoot::new();
    assert!(root.run(&["init"]).status.success());
    let out = root.run(&["plan", "nonesuch"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown module \"nonesuch\"; known modules: system"),
        "{}",
        show(&out)
    );
    let out = root.run(&["--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
}

#[test]
fn broken_template_override_is_refused_by_check() {
    let root = TempRoot::new();
    assert!(root.run(&["init"]).status.success());
    root.write("/etc/preau/templates/system/preau.service", "{% if %}");
    let out = root.run(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stderr(&out).contains("template /etc/preau/templates/system/preau.service is broken"),
        "{}",
        show(&out)
    );
    let out = root.run(&["apply"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(std::fs::metadata(root.path().join("etc/systemd/system/preau.service")).is_err());
}

#[test]
fn config_schema_reference_sample_and_generators() {
    let root = TempRoot::new();
    let out = root.run(&["config", "schema"]);
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(schema["properties"]["establishment"].is_object());
    let out = root.run(&["config", "reference"]);
    assert!(stdout(&out).starts_with("# Settings reference"));
    let out = root.run(&["config", "sample"]);
    root.write("/etc/preau/preau.toml", &stdout(&out));
    assert_eq!(root.run(&["check"]).status.code(), Some(0));

    let out = root.run(&["generate", "completions", "bash"]);
    assert!(stdout(&out).contains("_preau()"), "{}", show(&out));
    let man = root.path().join("man");
    let out = root.run(&["generate", "man", man.to_str().unwrap()]);
    assert!(out.status.success(), "{}", show(&out));
    let page = std::fs::read_to_string(man.join("preau.1")).unwrap();
    assert!(page.contains(".TH preau 1"), "{page}");
    assert!(man.join("preau-plan.1").exists());

    let out = root.run(&["--json", "modules", "list"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["name"], "system");
    assert_eq!(list[0]["enabled"], true);
}

#[test]
fn concurrent_apply_is_refused() {
    let root = TempRoot::new();
    assert!(root.run(&["init"]).status.success());
    let lock_file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.path().join("var/lib/preau/apply.lock"))
        .unwrap();
    let held = nix::fcntl::Flock::lock(lock_file, nix::fcntl::FlockArg::LockExclusiveNonblock).unwrap();
    let out = root.run(&["apply"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        stderr(&out).contains("another `preau apply` is running"),
        "{}",
        show(&out)
    );
    drop(held);
    assert_eq!(root.run(&["apply"]).status.code(), Some(0));
}

#[test]
fn backup_round_trip_and_hostile_archives() {
    let root = TempRoot::new();
    assert!(root.run(&["init", "--name", "Collège A"]).status.success());
    assert!(root.run(&["apply"]).status.success());
    let archive = root.path().join("sauvegarde.tar.gz");
    let out = root.run(&["--json", "backup", "create", archive.to_str().unwrap()]);
    assert!(out.status.success(), "{}", show(&out));
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(created["files"].as_u64().unwrap() >= 4, "{created}");
    let mode = std::fs::metadata(&archive).unwrap().permissions();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777, 0o600);

    // Lose the configuration, the key and the database; restore them.
    let config = root.read("/etc/preau/preau.toml");
    root.write("/etc/preau/preau.toml", "broken");
    std::fs::remove_file(root.path().join("var/lib/preau/tls/key.pem")).unwrap();
    std::fs::remove_file(root.path().join("var/lib/preau/preau.db")).unwrap();
    let out = root.run(&["backup", "restore", archive.to_str().unwrap()]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(root.read("/etc/preau/preau.toml"), config);
    assert!(root.path().join("var/lib/preau/tls/key.pem").exists());
    let out = root.run(&["--json", "status"]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["last_apply"]["ok"], true, "the apply history came back");

    // Archives that are not ours, or that reach outside, change nothing.
    let evil = root.path().join("evil.tar.gz");
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        std::fs::File::create(&evil).unwrap(),
        flate2::Compression::default(),
    ));
    let manifest = br#"{"product":"preau","version":"0","created_at":"x","uai":"0999999X","hostname":"h","state_dir":"/var/lib/preau","files":1}"#;
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        builder.append_data(&mut h, name, data).unwrap();
    };
    add("manifest.json", manifest);
    add("etc/passwd", b"root::0:0::/:/bin/sh\n");
    builder.into_inner().unwrap().finish().unwrap();
    let out = root.run(&["backup", "restore", evil.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("etc/passwd is outside /etc/preau, the state directory and the shares"),
        "{}",
        show(&out)
    );
    assert!(!root.path().join("etc/passwd").exists());

    std::fs::write(&evil, b"not an archive at all").unwrap();
    let out = root.run(&["backup", "restore", evil.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not a usable Préau backup"),
        "{}",
        show(&out)
    );
    assert_eq!(root.read("/etc/preau/preau.toml"), config);
}

/// Regression (issue 15): `init` enabled no module, so a starter
/// configuration ran nothing and `accounts import --apply` touched no
/// account.
#[test]
fn init_enables_the_modules_asked_with_their_dependencies() {
    let root = TempRoot::new();
    let out = root.run(&["init", "--modules", "shares,firewall,proxy"]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        stdout(&out).contains("enabled accounts (needed by shares)"),
        "{}",
        show(&out)
    );
    let text = root.read("/etc/preau/preau.toml");
    assert!(
        text.contains("enabled = [\"accounts\", \"shares\", \"firewall\", \"proxy\"]"),
        "{text}"
    );
    // The firewall's preset redirects web traffic to the proxy's
    // transparent ports: the starter listens there.
    assert!(text.contains("transparent_http = [\"0.0.0.0:3129\"]"), "{text}");
    let out = root.run(&["--json", "modules", "list"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let on: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["enabled"] == true)
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(on, ["system", "accounts", "shares", "firewall", "proxy"]);
    let out = root.run(&["plan", "accounts"]);
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));

    // An unknown name is a usage error and writes nothing; an existing
    // configuration is not silently kept when --modules asks for others.
    let fresh = TempRoot::new();
    let out = fresh.run(&["init", "--modules", "accounts,nope"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(stderr(&out).contains("unknown module"), "{}", show(&out));
    assert!(!fresh.path().join("etc/preau/preau.toml").exists());
    let out = root.run(&["init", "--modules", "accounts"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(stderr(&out).contains("--force"), "{}", show(&out));
}

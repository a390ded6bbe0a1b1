//! The quick start of docs/quickstart.md, step by step, on a machine set up
//! by the project's own install script (`scripts/install-deps`, which
//! installs what the modules declare): `preau init --modules
//! accounts,shares,firewall,proxy`, an import, `preau apply` on the live
//! system (`--root /`) — inside private mount, network, UTS and PID
//! namespaces whose /run has no systemd — then the personal share opened
//! with `smbclient` with the password of the login sheet.
//!
//! Regression (issue 15): on a fresh machine `perso` refused every
//! connection (`NT_STATUS_BAD_NETWORK_NAME`: samba-vfs-modules missing),
//! `apply` failed on `systemctl daemon-reload`, and `init` enabled nothing.

mod support;

use std::time::Duration;
use support::{Sandbox, show, wait_for};

#[test]
#[ignore = "needs root"]
fn quick_start_serves_the_personal_share() {
    let sb = Sandbox::new();
    // No systemd in this /run (as in a container, a chroot, a rescue shell).
    sb.sh("mount -t tmpfs tmpfs /run && mkdir -p /run/samba /run/lock /var/log/samba && test ! -e /run/systemd/system");
    let s = sb.path().to_path_buf();
    let exports = s.join("exports");
    support::gen_school(&exports, 40, &[]);
    let preau_ok = |args: &[&str]| -> String {
        let out = sb.preau(args).output().unwrap();
        assert!(out.status.success(), "preau {args:?}\n{}", show(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    // 1. init with the modules.
    let out = preau_ok(&[
        "init",
        "--uai",
        "0999999X",
        "--name",
        "Collège des Tilleuls",
        "--modules",
        "accounts,shares,firewall,proxy",
    ]);
    assert!(
        out.contains("enabled the modules accounts, shares, firewall, proxy"),
        "{out}"
    );

    // 2. The year's import: a dry run, then --apply.
    let files: Vec<String> = [
        "ElevesSansAdresses.zip",
        "ResponsablesAvecAdresses.xml",
        "sts_emp_0999999X_2026.xml",
    ]
    .iter()
    .map(|f| exports.join(f).display().to_string())
    .collect();
    let mut args = vec!["accounts", "import"];
    args.extend(files.iter().map(String::as_str));
    let dry = sb.preau(&args).output().unwrap();
    assert_eq!(
        dry.status.code(),
        Some(3),
        "dry run: changes pending\n{}",
        show(&dry)
    );
    args.push("--apply");
    preau_ok(&args);

    // 3. apply everything; the plan is then empty.
    let out = preau_ok(&["apply"]);
    assert!(!out.contains("daemon-reload"), "{out}");
    let out = sb.preau(&["plan"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "second plan\n{}", show(&out));
    // The ruleset is loaded in this namespace's kernel.
    let nft = sb.sh("nft list table inet preau");
    assert!(String::from_utf8_lossy(&nft.stdout).contains("preau ruleset"));

    // 4. The login sheets of a class.
    let sheets = s.join("sheets");
    preau_ok(&[
        "accounts",
        "sheets",
        "--class",
        "6A",
        "--out",
        sheets.to_str().unwrap(),
    ]);
    let csv = std::fs::read_to_string(sheets.join("6A.csv")).unwrap();
    let row: Vec<&str> = csv.lines().nth(1).expect("a student of 6A").split(';').collect();
    let (login, password) = (row[3].to_string(), row[4].to_string());

    // 5. smbd with the smb.conf `apply` wrote (port 445 of this private
    // network namespace), and the personal share through smbclient.
    let mut smbd = sb
        .command("smbd")
        .args(["--foreground", "--no-process-group"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_for(Duration::from_secs(20), || sb
            .sh_status("ss -ltn | grep -q ':445 '")
            .status
            .success()),
        "smbd did not start"
    );
    let file = s.join("devoir.txt");
    std::fs::write(&file, "mon devoir\n").unwrap();
    let out = sb
        .command("smbclient")
        .args([
            "//127.0.0.1/perso",
            "-U",
            &format!("{login}%{password}"),
            "-c",
            &format!("put {} devoir.txt; ls", file.display()),
        ])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = smbd.kill();
    let _ = smbd.wait();
    assert!(out.status.success() && !text.contains("NT_STATUS_"), "{text}");
    assert!(text.contains("devoir.txt"), "{text}");
    let stored = sb.sh(&format!("stat -c '%U' /srv/preau/perso/{login}/devoir.txt"));
    assert_eq!(String::from_utf8_lossy(&stored.stdout).trim(), login);
}

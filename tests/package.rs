//! The Debian package: its metadata covers every module's packages, its
//! maintainer scripts are sound, and (as root) it installs, runs, upgrades,
//! is removed and purged inside an [`OverlaySystem`], a throw-away copy of
//! the host, so the host's own packages are never touched.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::overlay::OverlaySystem;
use support::show;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn deb_metadata() -> toml::Table {
    let text = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let cargo: toml::Table = toml::from_str(&text).unwrap();
    cargo["package"]["metadata"]["deb"].as_table().unwrap().clone()
}

fn names(field: &str) -> Vec<String> {
    deb_metadata()
        .get(field)
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .split(',')
        .map(|p| p.split_whitespace().next().unwrap_or("").to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

#[test]
fn every_module_package_is_a_dependency_or_a_recommendation() {
    let mut declared = names("depends");
    declared.extend(names("recommends"));
    let mut checked = 0;
    for entry in std::fs::read_dir(repo().join("modules")).unwrap() {
        let path = entry.unwrap().path().join("module.toml");
        if !path.exists() {
            continue;
        }
        let module: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for p in module["packages"].as_array().unwrap() {
            let p = p.as_str().unwrap();
            assert!(
                declared.iter().any(|d| d == p),
                "{} needs the Debian package {p}: add it to [package.metadata.deb] recommends",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} module packages found");
}

#[test]
fn maintainer_scripts_are_posix_shell_and_handle_every_action() {
    for (name, actions) in [
        ("postinst", &["configure", "abort-upgrade"][..]),
        ("prerm", &["remove", "upgrade"][..]),
        (
            "postrm",
            &["remove", "purge", "upgrade", "abort-install", "disappear"][..],
        ),
    ] {
        let path = repo().join("debian").join(name);
        let out = Command::new("sh").arg("-n").arg(&path).output().unwrap();
        assert!(out.status.success(), "{name}: {}", show(&out));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("#!/bin/sh\n") && text.contains("set -e"),
            "{name}"
        );
        for a in actions {
            assert!(text.contains(a), "{name} does not handle {a}");
        }
        // An unknown action is an error (Debian policy 6.5).
        let out = Command::new("sh").arg(&path).arg("bogus").output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}");
    }
}

/// Builds the package of the test binary under `version`.
fn build_deb(version: &str, out: &Path) -> PathBuf {
    let run = Command::new(repo().join("scripts/build-deb"))
        .args(["--fast", "--version", version, "--out"])
        .arg(out)
        .arg("--binary")
        .arg(support::preau_bin())
        .output()
        .unwrap();
    assert!(run.status.success(), "build-deb: {}", show(&run));
    let stdout = String::from_utf8_lossy(&run.stdout);
    PathBuf::from(stdout.lines().last().unwrap().trim())
}

fn host_has_preau_package() -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Status}", "preau"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout) == "installed")
        .unwrap_or(false)
}

#[test]
#[ignore = "needs root"]
fn package_installs_runs_upgrades_removes_and_purges() {
    let host_had_it = host_has_preau_package();
    let sys = OverlaySystem::new();
    let version = env!("CARGO_PKG_VERSION");
    let previous = build_deb(&format!("{version}-0~previous"), &sys.shared());
    let current = build_deb(&format!("{version}-1"), &sys.shared());
    let inside = |p: &Path| format!("/shared/{}", p.file_name().unwrap().to_string_lossy());

    // Install the previous version on a system that never had Préau.
    sys.sh("! dpkg-query -W preau 2>/dev/null; rm -rf /etc/preau /var/lib/preau /var/log/preau /srv/preau");
    let out = sys.sh(&format!("dpkg -i {}", inside(&previous)));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("Next: preau init"), "{said}");
    sys.sh(
        "test -x /usr/bin/preau && test -f /lib/systemd/system/preau.service \
         && test -f /lib/systemd/system/preau-firewall.service \
         && test -f /usr/share/man/man1/preau.1.gz && test -f /usr/share/bash-completion/completions/preau \
         && test -f /usr/share/doc/preau/examples/preau.toml.example \
         && [ \"$(stat -c %a /var/lib/preau)\" = 750 ]",
    );
    // The units are enabled offline, waiting for their conditions.
    sys.sh(
        "test -L /etc/systemd/system/multi-user.target.wants/preau.service \
         && test -L /etc/systemd/system/timers.target.wants/preau-backup.timer \
         && test -f /lib/systemd/system/preau-backup.service",
    );
    sys.sh("grep -q '^Type=notify' /lib/systemd/system/preau.service && grep -q '^WatchdogSec=' /lib/systemd/system/preau.service");

    // First use, with no systemd running.
    sys.sh(
        "preau init --modules accounts,shares,firewall,proxy --uai 0750001A --name 'Collège des Tilleuls' \
         --hostname scribe --domain tilleuls.lan > /shared/init.txt",
    );
    let out = sys.sh_status("preau apply");
    assert!(out.status.success(), "apply without systemd: {}", show(&out));
    let out = sys.sh_status("preau plan");
    assert_eq!(out.status.code(), Some(0), "second plan: {}", show(&out));
    let out = sys.sh_status("preau status --json");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("status --json: {e}\n{}", show(&out)));
    let modules: Vec<&str> = report["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["module"].as_str().unwrap())
        .collect();
    for m in ["system", "accounts", "shares", "firewall", "proxy"] {
        assert!(modules.contains(&m), "{m} missing from status: {modules:?}");
    }
    let config_before = sys.sh("sha256sum /etc/preau/preau.toml");

    // Upgrade to the current version: data and configuration kept.
    sys.sh(&format!("dpkg -i {}", inside(&current)));
    let out = sys.sh("dpkg-query -W -f='${Version} ${db:Status-Status}' preau");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{version}-1 installed")
    );
    assert_eq!(
        sys.sh("sha256sum /etc/preau/preau.toml").stdout,
        config_before.stdout
    );
    // The new binary reads the old state: nothing to redo.
    let out = sys.sh_status("test -f /var/lib/preau/preau.db && preau plan");
    assert_eq!(out.status.code(), Some(0), "plan after upgrade: {}", show(&out));

    // Remove: the program goes, the configuration and state stay.
    sys.sh("dpkg -r preau");
    sys.sh(
        "! test -e /usr/bin/preau && ! test -e /lib/systemd/system/preau.service \
         && test -f /etc/preau/preau.toml && test -f /var/lib/preau/preau.db \
         && test -f /var/lib/preau/tls/key.pem",
    );
    let out = sys.sh("dpkg-query -W -f='${db:Status-Status}' preau");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "config-files");

    // Purge: asks nothing (no terminal here) and removes the rest.
    sys.sh("dpkg -P preau");
    sys.sh(
        "! test -e /etc/preau && ! test -e /var/lib/preau && ! test -e /var/log/preau \
         && ! test -e /etc/systemd/system/preau.service \
         && ! test -e /etc/systemd/system/multi-user.target.wants/preau.service \
         && ! test -e /etc/systemd/system/timers.target.wants/preau-backup.timer \
         && ! dpkg-query -W preau 2>/dev/null",
    );
    // The school's files are not the package's: purge keeps them.
    sys.sh("test -d /srv/preau");

    // Install, then purge straight away, works too.
    sys.sh(&format!(
        "dpkg -i {} && dpkg -P preau && ! test -e /var/lib/preau",
        inside(&current)
    ));
    drop(sys);
    assert_eq!(
        host_has_preau_package(),
        host_had_it,
        "the host's packages changed"
    );
}

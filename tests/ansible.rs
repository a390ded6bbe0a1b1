//! The Ansible collection (`ansible/`) against three sandboxed
//! establishments. Each is an [`OverlaySystem`] (a throw-away copy of the
//! host with its own mount, PID and network namespaces) running its own
//! `sshd` on a veth address; Ansible runs in a controller network namespace
//! linked to the three, and reaches them over SSH like an academy's
//! servers. The role converges, a second run changes nothing, the status
//! report gathers the three, and a rolling upgrade stops at an
//! establishment made to fail. Needs root, ansible-core, ansible-lint and
//! the openssh-server packages (downloaded, installed only inside the
//! sandboxes): `scripts/test-delivery` provides them.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::overlay::{NetNamespace, OverlaySystem};
use support::show;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
#[ignore = "needs root"]
fn the_collection_passes_ansible_lint() {
    let out = Command::new("ansible-lint")
        .args(["--nocolor", "playbooks/", "collections/"])
        .current_dir(repo().join("ansible"))
        .output()
        .expect("ansible-lint is not installed (scripts/test-delivery installs it)");
    assert!(out.status.success(), "{}", show(&out));
}

fn build_deb(version: &str, out: &Path) -> PathBuf {
    let run = Command::new(repo().join("scripts/build-deb"))
        .args(["--fast", "--version", version, "--out"])
        .arg(out)
        .arg("--binary")
        .arg(support::preau_bin())
        .output()
        .unwrap();
    assert!(run.status.success(), "build-deb: {}", show(&run));
    PathBuf::from(
        String::from_utf8_lossy(&run.stdout)
            .lines()
            .last()
            .unwrap()
            .trim(),
    )
}

/// The openssh-server packages, downloaded once (never installed on the host).
fn ssh_debs() -> PathBuf {
    let dir = repo().join("target/delivery-debs");
    std::fs::create_dir_all(&dir).unwrap();
    let have = |p: &str| {
        std::fs::read_dir(&dir).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(&format!("{p}_"))
        })
    };
    let wanted = [
        "openssh-server",
        "openssh-sftp-server",
        "openssh-client",
        "runit-helper",
    ];
    let missing: Vec<&str> = wanted.iter().copied().filter(|p| !have(p)).collect();
    if !missing.is_empty() {
        let out = Command::new("apt-get")
            .arg("download")
            .args(&missing)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "apt-get download: {}", show(&out));
    }
    dir
}

struct Establishment {
    sys: OverlaySystem,
    sshd: std::process::Child,
    name: String,
    address: String,
}

/// An establishment: SSH server on `10.213.N.2`, an `eth1` toward the
/// outside (one end of a veth pair), no Préau yet.
fn establishment(n: usize, controller: &NetNamespace, key: &Path, debs: &Path) -> Establishment {
    let sys = OverlaySystem::new();
    controller.link(
        &sys,
        &format!("etab{n}"),
        &format!("10.213.{n}.1/24"),
        "eth0",
        &format!("10.213.{n}.2/24"),
    );
    std::fs::create_dir_all(sys.shared().join("debs")).unwrap();
    for e in std::fs::read_dir(debs).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, sys.shared().join("debs").join(p.file_name().unwrap())).unwrap();
    }
    std::fs::copy(key.with_extension("pub"), sys.shared().join("authorized_keys")).unwrap();
    sys.sh(&format!(
        "set -e; ip link add eth1 type veth peer name eth1-peer; ip link set eth1 up; ip link set eth1-peer up; \
         rm -rf /etc/preau /var/lib/preau /srv/preau; dpkg-query -W preau >/dev/null 2>&1 && dpkg -P preau >/dev/null; \
         printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; \
         dpkg -i /shared/debs/*.deb > /shared/ssh-install.log 2>&1; \
         ssh-keygen -A >/dev/null; mkdir -p /run/sshd /root/.ssh; chmod 700 /root/.ssh; \
         install -m 600 /shared/authorized_keys /root/.ssh/authorized_keys; \
         hostname etab{n}; \
         printf 'ListenAddress 10.213.{n}.2\\nPermitRootLogin prohibit-password\\nPasswordAuthentication no\\nUsePAM no\\nSubsystem sftp internal-sftp\\nPidFile /run/sshd.pid\\n' > /shared/sshd_config"
    ));
    // sshd lives as long as the establishment's PID namespace.
    let sshd = sys
        .command("/usr/sbin/sshd")
        .args(["-D", "-e", "-f", "/shared/sshd_config"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(sys.shared().join("sshd.log")).unwrap())
        .spawn()
        .unwrap();
    Establishment {
        sys,
        sshd,
        name: format!("etab{n}"),
        address: format!("10.213.{n}.2"),
    }
}

impl Drop for Establishment {
    fn drop(&mut self) {
        let _ = self.sshd.kill();
        let _ = self.sshd.wait();
    }
}

fn inventory(etabs: &[Establishment], key: &Path, lists: &Path) -> String {
    let mut hosts = String::new();
    for (i, e) in etabs.iter().enumerate() {
        hosts.push_str(&format!(
            "        {name}:\n          ansible_host: {addr}\n          preau_uai: \"{uai}\"\n          preau_name: \"Collège n°{i} des Tilleuls\"\n          preau_hostname: {name}\n",
            name = e.name,
            addr = e.address,
            // The first one is the demo school's, whose exports the import uses.
            uai = if i == 0 { "0999999X".to_string() } else { format!("07500{i:02}A") },
        ));
    }
    format!(
        "---\npreau:\n  hosts:\n{hosts}  vars:\n    ansible_user: root\n    ansible_python_interpreter: /usr/bin/python3\n    ansible_ssh_private_key_file: {key}\n    ansible_ssh_common_args: \"-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\"\n    preau_install_recommends: false\n    preau_modules: [accounts, shares, firewall, proxy]\n    preau_firewall_preset: 2-zones\n    preau_confirm_seconds: 60\n    preau_zones:\n      - name: outside\n        interfaces: [eth1]\n      - name: inside\n        interfaces: [eth0]\n    preau_blacklists: {lists}\n    # The sandboxes' overlay has no quotas.\n    preau_extra_toml: |\n      [shares.quotas]\n      enabled = false\n",
        hosts = hosts.replace("        ", "    "),
        key = key.display(),
        lists = lists.display()
    )
}

struct Controller {
    ns: NetNamespace,
    dir: PathBuf,
}

impl Controller {
    fn playbook(&self, playbook: &str, extra: &[&str]) -> Output {
        let ansible = repo().join("ansible");
        let mut c = self.ns.command("ansible-playbook");
        c.arg("-i")
            .arg(self.dir.join("hosts.yml"))
            .arg(ansible.join("playbooks").join(playbook))
            .args(extra)
            .current_dir(&ansible)
            .env("ANSIBLE_CONFIG", ansible.join("ansible.cfg"))
            .env("ANSIBLE_COLLECTIONS_PATH", ansible.join("collections"))
            .env("ANSIBLE_SSH_CONTROL_PATH_DIR", self.dir.join("cp"))
            .env("ANSIBLE_LOCAL_TEMP", self.dir.join("tmp"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_FORCE_COLOR", "0");
        c.output()
            .expect("ansible-playbook is not installed (scripts/test-delivery installs it)")
    }
}

/// `host -> (changed, failed)` from the PLAY RECAP.
fn recap(out: &Output) -> std::collections::BTreeMap<String, (u32, u32)> {
    let text = String::from_utf8_lossy(&out.stdout);
    let mut map = std::collections::BTreeMap::new();
    let Some(at) = text.rfind("PLAY RECAP") else {
        return map;
    };
    for line in text[at..].lines().skip(1) {
        let mut words = line.split_whitespace();
        let Some(host) = words.next() else { continue };
        let field = |name: &str| -> u32 {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{name}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        if line.contains("changed=") {
            map.insert(host.to_string(), (field("changed"), field("failed")));
        }
    }
    map
}

fn installed_version(e: &Establishment) -> String {
    let out = e.sys.sh_status("dpkg-query -W -f='${Version}' preau");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs root"]
fn the_role_converges_three_establishments_and_upgrades_them_in_waves() {
    let scratch = tempfile::Builder::new()
        .prefix("preau-ansible-")
        .tempdir()
        .unwrap();
    let dir = scratch.path().to_path_buf();
    for d in ["cp", "tmp", "debs"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let version = env!("CARGO_PKG_VERSION");
    let previous = build_deb(&format!("{version}-0~previous"), &dir.join("debs"));
    let current = build_deb(&format!("{version}-1"), &dir.join("debs"));
    let key = dir.join("id_ed25519");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let debs = ssh_debs();
    let controller = Controller {
        ns: NetNamespace::new(),
        dir: dir.clone(),
    };
    let etabs: Vec<Establishment> = (1..=3)
        .map(|n| establishment(n, &controller.ns, &key, &debs))
        .collect();
    // A small UT1-layout archive of category lists.
    let lists = dir.join("blacklists.tar.gz");
    std::fs::create_dir_all(dir.join("ut1/blacklists/adult")).unwrap();
    std::fs::write(dir.join("ut1/blacklists/adult/domains"), "adult.example\n").unwrap();
    std::fs::write(dir.join("ut1/blacklists/adult/urls"), "").unwrap();
    let out = Command::new("tar")
        .arg("-czf")
        .arg(&lists)
        .arg("-C")
        .arg(dir.join("ut1"))
        .arg("blacklists")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    std::fs::write(dir.join("hosts.yml"), inventory(&etabs, &key, &lists)).unwrap();
    let deb_var = |p: &Path| format!("preau_deb={}", p.display());

    // First run: installs the previous version, initialises, applies,
    // confirms the firewall once SSH still answers.
    let out = controller.playbook("site.yml", &["-e", &deb_var(&previous)]);
    assert!(out.status.success(), "site.yml: {}", show(&out));
    for (host, (changed, failed)) in recap(&out) {
        assert!(
            changed > 0 && failed == 0,
            "{host}: changed={changed} failed={failed}"
        );
    }
    assert_eq!(recap(&out).len(), 3, "{}", show(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Show the plan"), "the plan is shown: {text}");
    for e in &etabs {
        assert_eq!(installed_version(e), format!("{version}-0~previous"));
        e.sys
            .sh("nft list table inet preau > /dev/null && preau plan > /dev/null");
        let out = e.sys.sh_status("preau --json status");
        let status = String::from_utf8_lossy(&out.stdout);
        assert!(
            !status.contains("confirm-apply pending"),
            "{}: left unconfirmed: {status}",
            e.name
        );
        e.sys
            .sh("test -s /root/preau-init.txt && [ \"$(stat -c %a /root/preau-init.txt)\" = 600 ]");
    }

    // Second run: nothing changes.
    let out = controller.playbook("site.yml", &["-e", &deb_var(&previous)]);
    assert!(out.status.success(), "second site.yml: {}", show(&out));
    for (host, (changed, failed)) in recap(&out) {
        assert_eq!(
            (changed, failed),
            (0, 0),
            "{host} changed on the second run: {}",
            show(&out)
        );
    }

    // One report for the academy.
    let report = dir.join("report.json");
    let out = controller.playbook(
        "status.yml",
        &["-e", &format!("preau_report={}", report.display())],
    );
    assert!(out.status.success(), "status.yml: {}", show(&out));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    for e in &etabs {
        assert!(report[&e.name]["modules"].is_array(), "{}: {report}", e.name);
    }

    // The year's import on the first establishment: the diff only, then
    // applied on demand.
    let imports = dir.join("imports/etab1");
    std::fs::create_dir_all(&imports).unwrap();
    for f in [
        "ElevesSansAdresses.xml",
        "ResponsablesAvecAdresses.xml",
        "sts_emp_0999999X_2026.xml",
    ] {
        std::fs::copy(repo().join("modules/accounts/demo").join(f), imports.join(f)).unwrap();
    }
    let import_dir = format!("preau_import_dir={}", dir.join("imports").display());
    let out = controller.playbook("import.yml", &["--limit", "etab1", "-e", &import_dir]);
    assert!(out.status.success(), "import.yml: {}", show(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Nothing changed yet"), "the diff is shown: {text}");
    let people = |e: &Establishment| {
        let out = e.sys.sh("preau --json accounts list");
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(people(&etabs[0]), 0, "a dry run imports nobody");
    let out = controller.playbook(
        "import.yml",
        &[
            "--limit",
            "etab1",
            "-e",
            &import_dir,
            "-e",
            "preau_import_apply=true",
        ],
    );
    assert!(out.status.success(), "import.yml --apply: {}", show(&out));
    assert!(recap(&out)["etab1"].0 > 0, "{}", show(&out));
    assert!(people(&etabs[0]) > 50, "the demo school is imported");
    etabs[0].sys.sh("getent passwd $(preau --json accounts list --kind student | python3 -c 'import json,sys; print(json.load(sys.stdin)[0][\"login\"])')");

    // A rolling upgrade, one establishment at a time; the second one is
    // broken (its outside interface vanished): the upgrade stops there.
    etabs[1].sys.sh("ip link del eth1");
    let out = controller.playbook("upgrade.yml", &["-e", &deb_var(&current)]);
    assert!(!out.status.success(), "the upgrade should stop: {}", show(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("interface eth1"), "the failure says why: {text}");
    assert_eq!(
        installed_version(&etabs[0]),
        format!("{version}-1"),
        "first wave upgraded"
    );
    assert_eq!(
        installed_version(&etabs[2]),
        format!("{version}-0~previous"),
        "third never touched"
    );
    let r = recap(&out);
    assert!(
        !r.contains_key("etab3") || r["etab3"] == (0, 0),
        "etab3 ran: {text}"
    );
}

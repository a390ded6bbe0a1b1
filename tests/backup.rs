//! `preau backup`: round trips onto a fresh root, refusals (newer version,
//! damaged archive), encryption with age, scheduled runs with rotation;
//! as root, the whole school (accounts, Unix users, shares' files with
//! their owners and ACLs) restored on a fresh copy of the system.

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use support::overlay::OverlaySystem;
use support::{TempRoot, show};

/// A root with `init` done (database, TLS material, first administrator).
fn school() -> TempRoot {
    let root = TempRoot::new();
    let out = root.run(&["init", "--uai", "0750001A", "--name", "Collège des Tilleuls"]);
    assert!(out.status.success(), "{}", show(&out));
    root
}

fn set_backup(root: &TempRoot, key: &str, value: &str) {
    let config = root.read("/etc/preau/preau.toml");
    let commented = config
        .lines()
        .rev()
        .find(|l| l.starts_with(&format!("#{key} = ")))
        .unwrap_or_else(|| panic!("no #{key} in the starter file"))
        .to_string();
    // [backup] is the starter file's last section: its keys are the last ones.
    let at = config.rfind(&commented).unwrap();
    let mut new = config.clone();
    new.replace_range(at..at + commented.len(), &format!("{key} = {value}"));
    root.write("/etc/preau/preau.toml", &new);
}

fn admins(root: &Path) -> Vec<(String, String)> {
    let conn = preau::store::rusqlite::Connection::open(root.join("var/lib/preau/preau.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT login, password_hash FROM admins ORDER BY login")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Every file under `dir`: relative path → contents.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if !p.ends_with("preau.db-wal") && !p.ends_with("preau.db-shm") && !p.ends_with("preau.db")
            {
                out.push((
                    p.strip_prefix(base).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn round_trip_onto_a_fresh_root() {
    let a = school();
    let archive = a.path().join("backup.tar.gz");
    let out = a.run(&["--json", "backup", "create", archive.to_str().unwrap()]);
    assert!(out.status.success(), "{}", show(&out));
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["encrypted"], false);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&archive).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let out = a.run(&["backup", "verify", archive.to_str().unwrap()]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("is sound"),
        "{}",
        show(&out)
    );

    let b = TempRoot::new();
    let out = b.run(&["backup", "restore", archive.to_str().unwrap()]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0750001A"),
        "{}",
        show(&out)
    );
    assert_eq!(
        tree(&a.path().join("etc/preau")),
        tree(&b.path().join("etc/preau"))
    );
    assert_eq!(
        tree(&a.path().join("var/lib/preau")),
        tree(&b.path().join("var/lib/preau"))
    );
    assert_eq!(admins(a.path()), admins(b.path()));
    assert!(!admins(b.path()).is_empty());
    // The restored server works.
    let out = b.run(&["check"]);
    assert!(out.status.success(), "{}", show(&out));
}

/// Rewrites the archive's manifest with `edit`.
fn tamper_manifest(archive: &Path, edit: impl Fn(&mut serde_json::Value)) -> PathBuf {
    let input = std::fs::File::open(archive).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(input));
    let out_path = archive.with_extension("tampered.tar.gz");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(out, flate2::Compression::fast()));
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut header = entry.header().clone();
        let path = entry.path().unwrap().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if path == Path::new("manifest.json") {
            let mut m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            edit(&mut m);
            bytes = serde_json::to_vec(&m).unwrap();
            header.set_size(bytes.len() as u64);
            header.set_cksum();
        }
        builder.append_data(&mut header, &path, bytes.as_slice()).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
    out_path
}

#[test]
fn a_backup_from_a_newer_version_or_schema_is_refused_and_nothing_is_written() {
    let a = school();
    let archive = a.path().join("backup.tar.gz");
    assert!(
        a.run(&["backup", "create", archive.to_str().unwrap()])
            .status
            .success()
    );
    let b = TempRoot::new();
    for (edit, says) in [
        (
            Box::new(|m: &mut serde_json::Value| m["version"] = "99.0.0".into())
                as Box<dyn Fn(&mut serde_json::Value)>,
            "made by Préau 99.0.0 which is newer than this one",
        ),
        (
            Box::new(|m: &mut serde_json::Value| m["schema"] = 999.into()),
            "database schema (999) is newer",
        ),
        (
            Box::new(|m: &mut serde_json::Value| m["format"] = 7.into()),
            "archive format 7 is newer",
        ),
        (
            Box::new(|m: &mut serde_json::Value| m["product"] = "other".into()),
            "made by \"other\"",
        ),
        (
            Box::new(|m: &mut serde_json::Value| m["state_dir"] = "/var/lib/../../etc".into()),
            "not a plain absolute path",
        ),
    ] {
        let bad = tamper_manifest(&archive, edit);
        let out = b.run(&["backup", "restore", bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{}", show(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{err}");
        assert!(
            std::fs::read_dir(b.path()).unwrap().next().is_none(),
            "something was written"
        );
    }
    // The unchanged copy of the tampered archive still restores: the
    // refusals came from the manifest alone.
    let same = tamper_manifest(&archive, |_| {});
    assert!(
        b.run(&["backup", "restore", same.to_str().unwrap()])
            .status
            .success()
    );
}

#[test]
fn a_damaged_or_truncated_archive_is_refused_before_anything_is_written() {
    let a = school();
    let archive = a.path().join("backup.tar.gz");
    assert!(
        a.run(&["backup", "create", archive.to_str().unwrap()])
            .status
            .success()
    );
    let bytes = std::fs::read(&archive).unwrap();
    let b = TempRoot::new();
    // Cut at several places: gzip, tar or the checksum list notice.
    for cut in [bytes.len() / 3, bytes.len() / 2, bytes.len() - 30] {
        let truncated = a.path().join(format!("cut-{cut}.tar.gz"));
        std::fs::write(&truncated, &bytes[..cut]).unwrap();
        let out = b.run(&["backup", "restore", truncated.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "cut at {cut}: {}", show(&out));
        assert!(
            std::fs::read_dir(b.path()).unwrap().next().is_none(),
            "cut at {cut}: something was written"
        );
    }
    // A file whose contents changed but whose archive is well formed.
    let input = std::fs::File::open(&archive).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(input));
    let evil = a.path().join("evil.tar.gz");
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        std::fs::File::create(&evil).unwrap(),
        flate2::Compression::fast(),
    ));
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut header = entry.header().clone();
        let path = entry.path().unwrap().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if path.ends_with("preau.toml") {
            data = String::from_utf8(data)
                .unwrap()
                .replace("0750001A", "0750002B")
                .into_bytes();
        }
        builder.append_data(&mut header, &path, data.as_slice()).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
    let out = b.run(&["backup", "restore", evil.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("checksum mismatch"),
        "{}",
        show(&out)
    );
    assert!(std::fs::read_dir(b.path()).unwrap().next().is_none());
}

#[test]
fn an_encrypted_backup_is_unreadable_without_its_key() {
    let a = school();
    let key = a.path().join("school.key");
    let out = a.run(&["--json", "backup", "keygen", "--out", key.to_str().unwrap()]);
    assert!(out.status.success(), "{}", show(&out));
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let recipient = made["recipient"].as_str().unwrap().to_string();
    assert!(recipient.starts_with("age1"), "{recipient}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // keygen never overwrites a key.
    assert_eq!(
        a.run(&["backup", "keygen", "--out", key.to_str().unwrap()])
            .status
            .code(),
        Some(1)
    );
    set_backup(&a, "recipients", &format!("[\"{recipient}\"]"));

    let archive = a.path().join("backup.tar.gz.age");
    let out = a.run(&["--json", "backup", "create", archive.to_str().unwrap()]);
    assert!(out.status.success(), "{}", show(&out));
    let bytes = std::fs::read(&archive).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
    // Nothing of the contents shows through: not a gzip stream, no names.
    let mut plain = Vec::new();
    assert!(
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut plain)
            .is_err()
    );
    for needle in [&b"preau.toml"[..], b"0750001A", b"BEGIN PRIVATE KEY", b"manifest"] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{:?} readable",
            String::from_utf8_lossy(needle)
        );
    }

    let b = TempRoot::new();
    let out = b.run(&["backup", "restore", archive.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is encrypted: give the identity"),
        "{}",
        show(&out)
    );
    let other = tempfile::tempdir().unwrap().keep().join("other.key");
    assert!(
        b.run(&["backup", "keygen", "--out", other.to_str().unwrap()])
            .status
            .success()
    );
    let out = b.run(&[
        "backup",
        "restore",
        archive.to_str().unwrap(),
        "--identity",
        other.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot decrypt"),
        "{}",
        show(&out)
    );
    assert!(
        std::fs::read_dir(b.path()).unwrap().next().is_none(),
        "something was written"
    );

    let out = b.run(&[
        "backup",
        "restore",
        archive.to_str().unwrap(),
        "--identity",
        key.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(admins(a.path()), admins(b.path()));
    let _ = std::fs::remove_dir_all(other.parent().unwrap());
}

#[test]
fn scheduled_runs_rotate_old_backups() {
    let a = school();
    let dir = a.path().join("var/backups/preau");
    std::fs::create_dir_all(&dir).unwrap();
    set_backup(&a, "keep_daily", "2");
    set_backup(&a, "keep_weekly", "0");
    set_backup(&a, "keep_monthly", "1");
    // Older scheduled backups, and a file of the administrator's.
    for old in [
        "preau-preau-20200101T023000Z.tar.gz",
        "preau-preau-20200102T023000Z.tar.gz",
        "preau-preau-20200103T023000Z.tar.gz",
        "a-copy-for-the-inspector.tar.gz",
    ] {
        std::fs::write(dir.join(old), b"x").unwrap();
    }
    let out = a.run(&["backup", "rotate", "--dry-run"]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("would remove preau-preau-20200101T023000Z.tar.gz")
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 4);

    let out = a.run(&["--json", "backup", "run"]);
    assert!(out.status.success(), "{}", show(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    // Today's (the newest, this month's), 3 January (the second day), the
    // administrator's file.
    assert_eq!(left.len(), 3, "{left:?}");
    assert_eq!(left[0], "a-copy-for-the-inspector.tar.gz");
    assert_eq!(left[1], "preau-preau-20200103T023000Z.tar.gz");
    assert!(
        left[2].starts_with("preau-preau-20") && left[2].ends_with(".tar.gz"),
        "{left:?}"
    );
    assert_eq!(
        report["removed"],
        serde_json::json!([
            "preau-preau-20200101T023000Z.tar.gz",
            "preau-preau-20200102T023000Z.tar.gz"
        ])
    );
    let made = dir.join(&left[2]);
    assert!(
        a.run(&["backup", "verify", made.to_str().unwrap()])
            .status
            .success()
    );
}

/// Fingerprint of the school on a system, one fact a line, sorted:
/// accounts, Unix entries, share folders and files with owners, modes,
/// contents and ACLs.
fn fingerprint(sys: &OverlaySystem) -> Vec<String> {
    let out = sys.sh(
        "preau --json accounts list | python3 -c 'import json,sys; [print(json.dumps(p, sort_keys=True)) for p in json.load(sys.stdin)]'; \
         for u in $(preau --json accounts list | python3 -c 'import json,sys; print(\" \".join(p[\"login\"] for p in json.load(sys.stdin)))'); do getent passwd \"$u\"; done; \
         getent group eleves profs personnels; \
         cd /srv/preau && find . -type d -printf '%p %u %g %m\\n' && find . -type f -printf '%p %u %g %m %s\\n' -exec sha256sum {} +",
    );
    let mut lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    // getfacl lists in directory order, which differs between two
    // systems: one line per entry and path instead.
    let acl = sys.sh("cd /srv/preau && getfacl -R -p . 2>/dev/null");
    let mut file = String::new();
    for l in String::from_utf8(acl.stdout).unwrap().lines() {
        if let Some(f) = l.strip_prefix("# file: ") {
            file = f.to_string();
        } else if !l.is_empty() {
            lines.push(format!("acl {file} {l}"));
        }
    }
    lines.sort();
    lines
}

#[test]
#[ignore = "needs root"]
fn the_whole_school_comes_back_on_a_fresh_system() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("modules/accounts/demo");
    let a = OverlaySystem::new();
    let files: Vec<String> = [
        "ElevesSansAdresses.xml",
        "ResponsablesAvecAdresses.xml",
        "sts_emp_0999999X_2026.xml",
    ]
    .iter()
    .map(|f| demo.join(f).display().to_string())
    .collect();
    let preau = support::preau_bin().display().to_string();
    a.sh(&format!(
        "rm -rf /etc/preau /var/lib/preau /srv/preau && {preau} init --modules accounts,shares --uai 0999999X --name Tilleuls > /dev/null \
         && {preau} accounts import {} --apply > /dev/null && {preau} apply > /dev/null",
        files.join(" ")
    ));
    // Work of the year: a student's file in their home, a teacher's in
    // the common share, with their owners.
    a.sh(&format!(
        "set -e; ln -sf {preau} /usr/local/bin/preau; \
         u=$(preau --json accounts list --kind student | python3 -c 'import json,sys; print(json.load(sys.stdin)[0][\"login\"])'); \
         h=$(getent passwd $u | cut -d: -f6); echo 'mon devoir' > $h/devoir.txt; chown $u: $h/devoir.txt; chmod 640 $h/devoir.txt; \
         mkdir -p $h/projets/2026 && echo plan > $h/projets/2026/plan.md && chown -R $u: $h/projets; \
         ln -s /etc/shadow $h/lien"
    ));
    let before = fingerprint(&a);
    assert!(before.iter().any(|l| l.contains("devoir.txt")), "{before:?}");
    let out = a.sh("preau --json backup create /shared/school.tar.gz --with-shares");
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["with_shares"], true);
    assert_eq!(created["skipped"], 1, "the planted link is left out");

    // A fresh system: nothing of the school, then restore and apply.
    let b = OverlaySystem::new();
    std::fs::copy(a.shared().join("school.tar.gz"), b.shared().join("school.tar.gz")).unwrap();
    drop(a);
    b.sh(&format!(
        "ln -sf {preau} /usr/local/bin/preau; rm -rf /etc/preau /var/lib/preau /srv/preau"
    ));
    let out = b.sh_status("preau backup restore /shared/school.tar.gz");
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("now run `preau apply`"),
        "{}",
        show(&out)
    );
    let out = b.sh_status("preau apply");
    assert!(out.status.success(), "{}", show(&out));
    let after = fingerprint(&b);
    // The planted link was never saved: drop it from "before" too.
    let before: Vec<String> = before.into_iter().filter(|l| !l.contains("/lien")).collect();
    let lost: Vec<&String> = before.iter().filter(|l| !after.contains(l)).take(15).collect();
    let gained: Vec<&String> = after.iter().filter(|l| !before.contains(l)).take(15).collect();
    assert!(
        lost.is_empty() && gained.is_empty(),
        "{} facts before, {} after\nlost: {lost:#?}\ngained: {gained:#?}",
        before.len(),
        after.len()
    );
    let out = b.sh_status("preau plan");
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
}

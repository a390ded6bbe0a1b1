//! End-to-end tests of the `shares` module: a real `smbd` on a free port
//! inside a private namespace, accounts made with `useradd`/`smbpasswd`
//! the way the accounts module projects them (role and class Unix groups),
//! the directory in the store, and the whole permission matrix checked
//! through `smbclient`.

mod support;

use preau::store::rusqlite;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;
use support::{Sandbox, show, wait_for};

const PASS: &str = "Mot2passe!";

struct School {
    sb: Sandbox,
    config: PathBuf,
    port: u16,
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The people of the test school: login, kind, function, Unix groups.
const PEOPLE: &[(&str, &str, Option<&str>, &str)] = &[
    ("alice.martin", "student", None, "eleves,c-6a,g-latin"),
    ("bob.durand", "student", None, "eleves,c-6a"),
    ("carla.petit", "student", None, "eleves,c-6b"),
    ("prof.maths", "teacher", Some("ENS"), "profs"),
    ("prof.latin", "teacher", Some("ENS"), "profs"),
    ("sec.dupont", "staff", Some("ADM"), "personnels"),
    ("chef.grand", "staff", Some("DIR"), "direction"),
];

fn seed_directory(db: &Path) {
    let store = preau::store::Store::open(db).unwrap();
    let c = store.conn();
    for (i, (login, kind, function, _)) in PEOPLE.iter().enumerate() {
        c.execute(
            "INSERT INTO people (id, kind, source, last_name, first_name, function, login, status, created_at, updated_at)
             VALUES (?1, ?2, 'manual', ?3, ?3, ?4, ?3, 'active', 'now', 'now')",
            rusqlite::params![i as i64 + 1, kind, login, function],
        )
        .unwrap();
    }
    c.execute_batch(
        "INSERT INTO structures (id, kind, code, label, group_name, gid) VALUES
            (10, 'class', '6A', '6e A', 'c-6a', 30010),
            (11, 'class', '6B', '6e B', 'c-6b', 30011),
            (12, 'group', 'LATIN', 'Latin', 'g-latin', 30012);
         INSERT INTO memberships VALUES (1, 10), (1, 12), (2, 10), (3, 11);
         INSERT INTO services VALUES (4, 'MATHS', 10), (5, 'LATIN', 12), (5, 'LATIN', 11);",
    )
    .unwrap();
}

impl School {
    fn new(test: &str) -> School {
        let sb = Sandbox::new_for(test);
        let dir = sb.path().to_path_buf();
        let state = dir.join("state");
        std::fs::create_dir_all(&state).unwrap();
        let config = dir.join("preau.toml");
        std::fs::write(
            &config,
            format!(
                "[establishment]\nuai = \"0999999X\"\nname = \"Collège des Tilleuls\"\nhostname = \"scribe\"\n\n\
                 [modules]\nenabled = [\"accounts\", \"shares\"]\n\n[paths]\nstate_dir = \"{}\"\nlog_dir = \"{}\"\n\n\
                 [shares]\ninterfaces = [\"lo\"]\n\n[shares.quotas]\nenabled = false\n",
                state.display(),
                dir.join("log").display()
            ),
        )
        .unwrap();
        seed_directory(&state.join("preau.db"));
        let mut script = String::from(
            "set -e\nfor g in eleves profs personnels direction admins c-6a c-6b g-latin; do groupadd $g; done\n",
        );
        for (login, _, _, groups) in PEOPLE {
            script.push_str(&format!(
                "useradd -M -N -g users -G {groups} {login}\nprintf '%s\\n%s\\n' '{PASS}' '{PASS}' | smbpasswd -a -s {login} >/dev/null\n"
            ));
        }
        sb.sh(&script);
        let port = sb.free_port();
        School { sb, config, port }
    }

    fn preau(&self, args: &[&str]) -> Output {
        let mut all = vec!["--config", self.config.to_str().unwrap()];
        all.extend_from_slice(args);
        self.sb.preau(&all).output().unwrap()
    }

    fn apply(&self) {
        let out = self.preau(&["apply", "shares"]);
        assert!(out.status.success(), "apply failed\n{}", show(&out));
    }

    /// Starts smbd on the sandbox's port with the applied smb.conf.
    fn start_smbd(&self) -> std::process::Child {
        let conf = self.sb.path().join("smb-test.conf");
        self.sb.sh(&format!(
            "mkdir -p /var/log/samba && sed 's/^   smb ports = 445$/   smb ports = {}/' /etc/samba/smb.conf > {}",
            self.port,
            conf.display()
        ));
        let smbd = self.sb.spawn(
            "smbd",
            &["--foreground", "--no-process-group", "-s", conf.to_str().unwrap()],
        );
        let port = self.port;
        assert!(
            wait_for(Duration::from_secs(20), || {
                self.sb
                    .sh_status(&format!(
                        "bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}' 2>/dev/null"
                    ))
                    .status
                    .success()
            }),
            "smbd did not start"
        );
        smbd
    }

    /// `smbclient //127.0.0.1/SHARE -U user -c CMD`: (success, output).
    fn smb(&self, user: &str, share: &str, cmd: &str) -> (bool, String) {
        let out = self
            .sb
            .command("smbclient")
            .args([
                "-p",
                &self.port.to_string(),
                &format!("//127.0.0.1/{share}"),
                "-U",
                &format!("{user}%{PASS}"),
                "-c",
                cmd,
            ])
            .output()
            .unwrap();
        let t = text(&out);
        (out.status.success() && !t.contains("NT_STATUS_"), t)
    }

    fn shares_seen_by(&self, user: &str) -> String {
        let out = self
            .sb
            .command("smbclient")
            .args([
                "-p",
                &self.port.to_string(),
                "-L",
                "//127.0.0.1",
                "-U",
                &format!("{user}%{PASS}"),
            ])
            .output()
            .unwrap();
        text(&out)
    }

    fn can_write(&self, user: &str, share: &str, dir: &str) -> bool {
        let file = self.sb.path().join("hello.txt");
        std::fs::write(&file, format!("bonjour de {user}\n")).unwrap();
        let name = format!("from-{user}.txt");
        let cmd = if dir.is_empty() {
            format!("put {} {name}", file.display())
        } else {
            format!("cd {dir}; put {} {name}", file.display())
        };
        self.smb(user, share, &cmd).0
    }

    fn can_list(&self, user: &str, share: &str, dir: &str) -> bool {
        let (ok, out) = self.smb(user, share, &format!("ls {dir}/*"));
        ok && !out.contains("NT_STATUS")
    }
}

#[test]
#[ignore = "needs root"]
fn permission_matrix_through_smbclient_and_class_change() {
    let s = School::new("permission_matrix_through_smbclient_and_class_change");
    s.apply();
    // A second apply finds nothing to do.
    let out = s.preau(&["plan", "shares"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "second plan not empty\n{}",
        show(&out)
    );
    let mut smbd = s.start_smbd();

    // Personal shares: each writes his own, nobody sees another's.
    assert!(s.can_write("alice.martin", "perso", ""));
    assert!(s.can_write("alice.martin", "perso", "devoirs"));
    let (_, ls) = s.smb("alice.martin", "perso", "ls");
    assert!(ls.contains("from-alice.martin.txt"), "{ls}");
    let (_, ls) = s.smb("bob.durand", "perso", "ls");
    assert!(
        !ls.contains("from-alice.martin.txt"),
        "bob sees alice's home: {ls}"
    );
    let real = |p: &str| format!("/srv/preau/perso/{p}");
    let out = s.sb.sh(&format!("stat -c '%U %a' {}", real("alice.martin")));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "alice.martin 700");
    // Deleted personal files go to the recycle bin.
    assert!(s.can_write("alice.martin", "perso", "devoirs"));
    let (ok, out) = s.smb("alice.martin", "perso", "cd devoirs; del from-alice.martin.txt");
    assert!(ok, "{out}");
    s.sb.sh("test -f /srv/preau/perso/alice.martin/.corbeille/devoirs/from-alice.martin.txt");

    // Classes: students write travail, read donnees; other classes hidden.
    assert!(s.can_write("alice.martin", "classes", "6A/travail"));
    assert!(!s.can_write("alice.martin", "classes", "6A/donnees"));
    assert!(!s.can_write("alice.martin", "classes", "6B/travail"));
    assert!(!s.can_list("alice.martin", "classes", "6B"));
    let (_, ls) = s.smb("alice.martin", "classes", "ls");
    assert!(ls.contains("6A") && !ls.contains("6B"), "hide unreadable: {ls}");
    // Teachers write donnees of the classes they teach, not the others.
    assert!(s.can_write("prof.maths", "classes", "6A/donnees"));
    assert!(!s.can_write("prof.maths", "classes", "6B/donnees"));
    assert!(s.can_write("prof.latin", "classes", "6B/donnees"));
    assert!(s.can_write("prof.latin", "groupes", "LATIN/donnees"));
    // What a teacher puts in donnees, the class reads (inherited ACL).
    let (ok, out) = s.smb(
        "alice.martin",
        "classes",
        "cd 6A/donnees; get from-prof.maths.txt /dev/null",
    );
    assert!(ok, "alice cannot read the teacher's file: {out}");
    let (ok, _) = s.smb(
        "carla.petit",
        "classes",
        "cd 6A/donnees; get from-prof.maths.txt /dev/null",
    );
    assert!(!ok, "carla (6B) reads 6A");
    // Groups.
    assert!(s.can_write("alice.martin", "groupes", "LATIN/travail"));
    assert!(!s.can_write("bob.durand", "groupes", "LATIN/travail"));
    // Common: everyone reads, teachers write travail, admins logiciels.
    assert!(!s.can_write("alice.martin", "commun", "travail"));
    assert!(s.can_write("prof.maths", "commun", "travail"));
    assert!(!s.can_write("prof.maths", "commun", "logiciels"));
    assert!(s.can_list("alice.martin", "commun", "travail"));

    // Teachers' and staff's shares: hidden from those who may not open them.
    let seen = s.shares_seen_by("alice.martin");
    assert!(seen.contains("perso") && seen.contains("classes"), "{seen}");
    assert!(
        !seen.contains("professeurs") && !seen.contains("administratif"),
        "{seen}"
    );
    assert!(!s.can_write("alice.martin", "professeurs", ""));
    let seen = s.shares_seen_by("prof.maths");
    assert!(
        seen.contains("professeurs") && !seen.contains("administratif"),
        "{seen}"
    );
    assert!(s.can_write("prof.maths", "professeurs", ""));
    assert!(!s.can_write("prof.maths", "administratif", ""));
    let seen = s.shares_seen_by("sec.dupont");
    assert!(
        seen.contains("administratif") && !seen.contains("professeurs"),
        "{seen}"
    );
    assert!(s.can_write("sec.dupont", "administratif", ""));
    assert!(s.can_write("chef.grand", "administratif", ""));
    assert!(s.can_write("chef.grand", "professeurs", ""));

    // Class change at re-import: bob moves from 6A to 6B. The directory
    // and his Unix groups change; no folder needs changing.
    let db = s.sb.path().join("state/preau.db");
    {
        let store = preau::store::Store::open(&db).unwrap();
        store
            .conn()
            .execute(
                "UPDATE memberships SET structure_id = 11 WHERE person_id = 2 AND structure_id = 10",
                [],
            )
            .unwrap();
    }
    s.sb.sh("gpasswd -d bob.durand c-6a >/dev/null && gpasswd -a bob.durand c-6b >/dev/null");
    assert!(s.can_write("bob.durand", "perso", ""));
    let out = s.preau(&["plan", "shares"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a class change needs no folder change\n{}",
        show(&out)
    );
    assert!(s.can_write("bob.durand", "classes", "6B/travail"));
    assert!(!s.can_write("bob.durand", "classes", "6A/travail"));
    assert!(!s.can_list("bob.durand", "classes", "6A"));
    let (_, ls) = s.smb("bob.durand", "perso", "ls");
    assert!(ls.contains("from-bob.durand.txt"), "bob lost his files: {ls}");

    // The module's health is part of `preau status`.
    let out = s.preau(&["--json", "status"]);
    assert!(text(&out).contains("\"shares\""), "{}", show(&out));
    // Status reports usage per share and person.
    let out = s.preau(&["shares", "status", "--json"]);
    assert!(out.status.success(), "{}", show(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["people"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["login"] == "alice.martin" && p["bytes"].as_u64().unwrap() > 0)
    );
    let _ = smbd.kill();
    let _ = smbd.wait();
}

#[test]
#[ignore = "needs root"]
fn homework_for_a_class_of_thirty() {
    let s = School::new("homework_for_a_class_of_thirty");
    // 30 more students in 6A.
    let db = s.sb.path().join("state/preau.db");
    let mut script = String::from("set -e\n");
    {
        let store = preau::store::Store::open(&db).unwrap();
        for i in 0..30 {
            let login = format!("eleve.{i:02}");
            store
                .conn()
                .execute(
                    "INSERT INTO people (id, kind, source, last_name, first_name, login, status, created_at, updated_at)
                     VALUES (?1, 'student', 'manual', ?2, ?2, ?2, 'active', 'now', 'now')",
                    rusqlite::params![100 + i, login],
                )
                .unwrap();
            store
                .conn()
                .execute("INSERT INTO memberships VALUES (?1, 10)", [100 + i])
                .unwrap();
            script.push_str(&format!("useradd -M -N -g users -G eleves,c-6a {login}\n"));
        }
    }
    s.sb.sh(&script);
    s.apply();
    // The teacher's files: two documents in his devoirs/dm1.
    s.sb.sh(
        "d=/srv/preau/perso/prof.maths/devoirs/dm1 && mkdir -p $d/annexes && echo Sujet > $d/sujet.txt && \
         head -c 100000 /dev/urandom > $d/annexes/figure.png && chown -R prof.maths $d",
    );
    let run = |args: &[&str]| {
        let mut all = vec!["shares"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--teacher", "prof.maths", "--to", "6A", "dm1"]);
        let out = s.preau(&all);
        assert!(out.status.success(), "{}", show(&out));
        text(&out)
    };
    let out = run(&["distribute"]);
    assert!(out.contains("32 student(s)): 64 file(s) copied"), "{out}");
    // What the classroom page and the CLI hand out (one module function)
    // is what the student finds through the real smbd.
    let mut smbd = s.start_smbd();
    let (ok, ls) = s.smb("alice.martin", "perso", "cd devoirs\\dm1; ls");
    assert!(ok && ls.contains("sujet.txt") && ls.contains("annexes"), "{ls}");
    let (ok, ls) = s.smb("bob.durand", "perso", "cd devoirs\\dm1; ls");
    assert!(ok && ls.contains("sujet.txt"), "{ls}");
    let _ = smbd.kill();
    let _ = smbd.wait();
    let out = run(&["distribute"]);
    assert!(
        out.contains("0 file(s) copied") && out.contains("64 already there"),
        "{out}"
    );
    let check = |path: &str, owner: &str, mode: &str| {
        let out = s.sb.sh(&format!("stat -c '%U %a' {path}"));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("{owner} {mode}"),
            "{path}"
        );
    };
    for i in [0, 17, 29] {
        let login = format!("eleve.{i:02}");
        let f = format!("/srv/preau/perso/{login}/devoirs/dm1/sujet.txt");
        check(&f, &login, "600");
        check(
            &format!("/srv/preau/perso/{login}/devoirs/dm1/annexes"),
            &login,
            "700",
        );
        s.sb.sh(&format!(
            "cmp /srv/preau/perso/prof.maths/devoirs/dm1/annexes/figure.png /srv/preau/perso/{login}/devoirs/dm1/annexes/figure.png"
        ));
        // The student answers (as himself).
        s.sb.sh(&format!(
            "su -s /bin/sh {login} -c 'echo Réponse de {login} >> {f}'"
        ));
    }
    // A planted link to a secret is never collected.
    s.sb.sh("su -s /bin/sh eleve.03 -c 'ln -s /etc/shadow /srv/preau/perso/eleve.03/devoirs/dm1/vol'");
    let out = run(&["collect"]);
    assert!(out.contains("Collected"), "{out}");
    let got = "/srv/preau/perso/prof.maths/devoirs/ramasses/dm1/eleve.17/sujet.txt";
    check(got, "prof.maths", "600");
    let content = String::from_utf8_lossy(&s.sb.sh(&format!("cat {got}")).stdout).to_string();
    assert_eq!(content, "Sujet\nRéponse de eleve.17\n");
    assert!(
        !s.sb
            .sh_status("test -e /srv/preau/perso/prof.maths/devoirs/ramasses/dm1/eleve.03/vol")
            .status
            .success()
    );
    // The teacher corrects, returns; the student finds it in corrige/.
    s.sb.sh(&format!(
        "sleep 0.02; su -s /bin/sh prof.maths -c 'echo Bien. >> {got}'"
    ));
    let out = run(&["return"]);
    assert!(out.contains("Returned"), "{out}");
    let back = "/srv/preau/perso/eleve.17/devoirs/dm1/corrige/sujet.txt";
    check(back, "eleve.17", "600");
    let content = String::from_utf8_lossy(&s.sb.sh(&format!("cat {back}")).stdout).to_string();
    assert_eq!(content, "Sujet\nRéponse de eleve.17\nBien.\n");
    let out = run(&["return"]);
    assert!(out.contains("0 file(s) copied"), "{out}");
    // Recorded.
    let out = s.preau(&["--json", "shares", "list"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["name"], "dm1");
    assert_eq!(v[0]["students"], 32);
    assert!(v[0]["returned_at"].is_string());
}

#[test]
#[ignore = "needs root"]
fn broken_override_is_refused_and_running_config_stays() {
    let s = School::new("broken_override_is_refused_and_running_config_stays");
    s.apply();
    let before = s.sb.sh("cat /etc/samba/smb.conf").stdout;
    // A template that does not render.
    s.sb.sh("mkdir -p /etc/preau/templates/shares && printf '[global]\\n{%% if %%}\\n' > /etc/preau/templates/shares/smb.conf");
    let out = s.preau(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        text(&out).contains("template /etc/preau/templates/shares/smb.conf is broken"),
        "{}",
        show(&out)
    );
    // A template that renders but that Samba refuses.
    s.sb.sh("printf '[global]\\n   server min protocol = SMB9\\n   bogus parameter = 1\\n' > /etc/preau/templates/shares/smb.conf");
    let out = s.preau(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        text(&out).contains("the rendered smb.conf is refused"),
        "{}",
        show(&out)
    );
    let out = s.preau(&["apply", "shares"]);
    assert!(!out.status.success(), "{}", show(&out));
    assert_eq!(
        s.sb.sh("cat /etc/samba/smb.conf").stdout,
        before,
        "the running smb.conf changed"
    );
    assert!(
        !s.sb
            .sh_status("test -e /etc/samba/.smb.conf.preau-check")
            .status
            .success()
    );
}

/// The whole chain: SIECLE/STS-web files imported by the accounts module
/// (Unix users, role and class groups, Samba passdb), the shares applied,
/// a real smbd; then a re-import moves a student to another class.
#[test]
#[ignore = "needs root"]
fn accounts_import_then_shares_and_class_change_at_reimport() {
    let sb = Sandbox::new_for("accounts_import_then_shares_and_class_change_at_reimport");
    let dir = sb.path().to_path_buf();
    let school = dir.join("school");
    support::gen_school(&school, 60, &[]);
    sb.sh(&format!(
        "cd {} && unzip -o -q ElevesSansAdresses.zip",
        school.display()
    ));
    std::fs::create_dir_all(dir.join("state")).unwrap();
    let config = dir.join("preau.toml");
    std::fs::write(
        &config,
        format!(
            "[establishment]\nuai = \"0999999X\"\nname = \"Collège des Tilleuls\"\nhostname = \"scribe\"\n\n\
             [modules]\nenabled = [\"accounts\", \"shares\"]\n\n[paths]\nstate_dir = \"{0}/state\"\nlog_dir = \"{0}/log\"\n\n\
             [accounts]\nhome_base = \"/srv/preau/perso\"\n\n\
             [shares]\ninterfaces = [\"lo\"]\n\n[shares.quotas]\nenabled = false\n",
            dir.display()
        ),
    )
    .unwrap();
    let port = sb.free_port();
    let s = School {
        sb,
        config: config.clone(),
        port,
    };
    let sb = &s.sb;
    let preau = |args: &[&str]| {
        let mut all = vec!["--config", config.to_str().unwrap()];
        all.extend_from_slice(args);
        sb.preau(&all).output().unwrap()
    };
    let students_xml = school.join("ElevesSansAdresses.xml").display().to_string();
    let sts = school.join("sts_emp_0999999X_2026.xml").display().to_string();
    let import = |students: &str| {
        let out = preau(&["accounts", "import", students, &sts, "--apply"]);
        assert!(out.status.success(), "import failed\n{}", show(&out));
    };
    import(&students_xml);
    let out = preau(&["apply", "shares"]);
    assert!(out.status.success(), "{}", show(&out));
    let out = preau(&["plan", "shares"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "second plan not empty\n{}",
        show(&out)
    );

    // Who is who, from the directory.
    let db = dir.join("state/preau.db");
    let (student, eleve_id, teacher, other_teacher) = {
        let store = preau::store::Store::open(&db).unwrap();
        let c = store.conn();
        let s = preau::directory::students_of(c, "6A").unwrap().remove(0);
        let t6a = preau::directory::teachers_of(c, "6A").unwrap();
        let t = t6a[0].login.clone();
        let teachers = preau::directory::people(
            c,
            &preau::directory::Filter {
                kind: Some(preau::directory::Kind::Teacher),
                ..Default::default()
            },
        )
        .unwrap();
        // A teacher who does not teach 6A, and a class he teaches.
        let other = teachers
            .iter()
            .filter(|p| !t6a.iter().any(|x| x.login == p.login))
            .find_map(|p| {
                preau::directory::services(c, Some(p.id))
                    .unwrap()
                    .into_iter()
                    .next()
                    .map(|v| {
                        let share = match v.structure_kind {
                            preau::directory::StructureKind::Class => "classes",
                            preau::directory::StructureKind::Group => "groupes",
                        };
                        (p.login.clone(), share, v.structure_code)
                    })
            })
            .expect("a teacher who does not teach 6A");
        (s.login, s.national_key.unwrap(), t, other)
    };
    for login in [&student, &teacher, &other_teacher.0] {
        let mut child = sb
            .preau(&["--config", config.to_str().unwrap(), "accounts", "passwd", login])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{PASS}\n").as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "passwd {login}");
    }

    let mut smbd = s.start_smbd();
    assert!(s.can_write(&student, "perso", ""));
    assert!(s.can_write(&student, "classes", "6A/travail"));
    assert!(!s.can_write(&student, "classes", "6A/donnees"));
    assert!(!s.can_list(&student, "classes", "5A"));
    assert!(s.can_write(&teacher, "classes", "6A/donnees"));
    let (other_teacher, other_share, other_code) = &other_teacher;
    assert!(s.can_write(other_teacher, other_share, &format!("{other_code}/donnees")));
    assert!(!s.can_write(other_teacher, "classes", "6A/donnees"));
    let seen = s.shares_seen_by(&student);
    assert!(
        !seen.contains("professeurs") && !seen.contains("administratif"),
        "{seen}"
    );
    let seen = s.shares_seen_by(&teacher);
    assert!(seen.contains("professeurs"), "{seen}");
    assert!(s.can_write(&teacher, "professeurs", ""));

    // Next import: the student is now in 5A.
    // The file is in ISO-8859-15: edit it byte for byte (as Latin-1).
    let xml: String = std::fs::read(&students_xml)
        .unwrap()
        .into_iter()
        .map(char::from)
        .collect();
    let marker = format!("<STRUCTURES_ELEVE ELEVE_ID=\"{eleve_id}\"");
    let at = xml.find(&marker).expect("the student's structures");
    let end = at + xml[at..].find("</STRUCTURES_ELEVE>").unwrap();
    let moved = format!(
        "{}{}{}",
        &xml[..at],
        xml[at..end].replace(
            "<CODE_STRUCTURE>6A</CODE_STRUCTURE>",
            "<CODE_STRUCTURE>5A</CODE_STRUCTURE>"
        ),
        &xml[end..]
    );
    let moved_path = dir.join("school/ElevesSansAdresses-2.xml");
    std::fs::write(&moved_path, moved.chars().map(|c| c as u8).collect::<Vec<u8>>()).unwrap();
    import(moved_path.to_str().unwrap());
    let out = s.preau(&["plan", "shares"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a class change needs no folder change\n{}",
        show(&out)
    );
    assert!(s.can_write(&student, "classes", "5A/travail"));
    assert!(!s.can_write(&student, "classes", "6A/travail"));
    assert!(!s.can_list(&student, "classes", "6A"));
    let (_, ls) = s.smb(&student, "perso", "ls");
    assert!(
        ls.contains(&format!("from-{student}.txt")),
        "the student lost his files: {ls}"
    );
    let _ = smbd.kill();
    let _ = smbd.wait();
}

/// Where the filesystem has no user quotas (this machine's kernel has
/// none at all), `check` says so and `status` still reports usage.
#[test]
fn check_reports_missing_quotas_and_status_still_measures() {
    let root = support::TempRoot::new();
    root.write(
        "/etc/preau/preau.toml",
        "[establishment]\nuai = \"0999999X\"\nname = \"Collège\"\n\n[modules]\nenabled = [\"accounts\", \"shares\"]\n",
    );
    let out = root.run(&["check"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(
        t.contains("has no user quotas: quotas per role are not enforced"),
        "{t}"
    );
    // A directory with one student who uses most of his quota.
    let db = root.path().join("var/lib/preau");
    std::fs::create_dir_all(&db).unwrap();
    {
        let store = preau::store::Store::open(&db.join("preau.db")).unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO people (id, kind, source, last_name, first_name, login, status, created_at, updated_at)
                 VALUES (1, 'student', 'manual', 'x', 'x', 'alice.martin', 'active', 'now', 'now')",
                [],
            )
            .unwrap();
    }
    root.write("/srv/preau/perso/alice.martin/devoirs/.keep", "");
    std::fs::write(
        root.path().join("srv/preau/perso/alice.martin/gros.bin"),
        vec![7u8; 480 * 1024 * 1024 / 100],
    )
    .unwrap();
    let out = root.run(&["--json", "shares", "status"]);
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", show(&out)));
    assert_eq!(v["people"][0]["login"], "alice.martin");
    assert!(v["people"][0]["bytes"].as_u64().unwrap() >= 480 * 1024 * 1024 / 100);
    assert_eq!(v["alerts"].as_array().unwrap().len(), 0);
    // With a 5 MiB quota the same usage is an alert, and the exit status says so.
    let config = root.read("/etc/preau/preau.toml") + "\n[shares.quotas]\nstudent_mib = 5\n";
    root.write("/etc/preau/preau.toml", &config);
    let out = root.run(&["shares", "status"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(text(&out).contains("Quota alerts"), "{}", show(&out));
}

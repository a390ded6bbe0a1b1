//! End to end in a real headless Chromium: `preau serve` on a temporary
//! root with the demo school imported, driven through Debian's
//! chromedriver. Sign-in, the forced change of an initial password, a
//! teacher giving a student of his class a new password and the student
//! signing in with it, the console's pages; every page visited is checked
//! for inline script or style (the CSP forbids them) and screenshots are
//! written to target/screenshots/.

#[path = "support/browser.rs"]
mod browser;
mod support;

use browser::Browser;
use preau::directory;
use std::process::{Child, Stdio};
use std::time::Duration;
use support::{TempRoot, free_port, show, wait_for};

struct Server {
    root: TempRoot,
    child: Child,
    base: String,
    admin_password: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn demo_file(name: &str) -> String {
    format!("{}/modules/accounts/demo/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// init, the demo school imported (directory only, initial passwords to
/// change at first sign-in), `preau serve` on a free loopback port.
fn start_server() -> Server {
    start_server_with(true, |c| c.to_string())
}

/// As [`start_server`]: the demo school only when `demo`, the
/// configuration edited by `edit` before the import.
fn start_server_with(demo: bool, edit: impl Fn(&str) -> String) -> Server {
    let root = TempRoot::new();
    let out = root.run(&["--json", "init", "--name", "Collège des Tilleuls"]);
    assert!(out.status.success(), "{}", show(&out));
    let init: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let admin_password = init["admin_password"].as_str().unwrap().to_string();
    let port = free_port();
    let config = root.read("/etc/preau/preau.toml");
    assert!(config.contains("#must_change_password = false"));
    let config = config
        .replace(
            "#listen = [\"[::]:443\"]",
            &format!("listen = [\"127.0.0.1:{port}\"]"),
        )
        .replace("#must_change_password = false", "must_change_password = true");
    root.write("/etc/preau/preau.toml", &edit(&config));
    let files = [
        demo_file("ElevesSansAdresses.xml"),
        demo_file("ResponsablesAvecAdresses.xml"),
        demo_file("sts_emp_0999999X_2026.xml"),
    ];
    if demo {
        let mut args = vec!["accounts", "import", "--apply", "--no-system"];
        args.extend(files.iter().map(String::as_str));
        let out = root.run(&args);
        assert!(out.status.success(), "{}", show(&out));
    }
    let log = std::fs::File::create(root.path().join("serve.log")).unwrap();
    let child = root
        .preau(&["serve", "-v"])
        .stderr(log)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_for(Duration::from_secs(20), || std::net::TcpStream::connect((
            "127.0.0.1",
            port
        ))
        .is_ok()),
        "serve did not come up"
    );
    Server {
        root,
        child,
        base: format!("https://localhost:{port}"),
        admin_password,
    }
}

/// (login, initial password) of a teacher, of a student of one of his
/// classes, and of another student.
fn people(server: &Server) -> ((String, String), (String, String)) {
    let db = server.root.path().join("var/lib/preau/preau.db");
    let store = preau::store::Store::open_existing(&db).unwrap();
    let conn = store.conn();
    let service = directory::services(conn, None)
        .unwrap()
        .into_iter()
        .find(|s| s.structure_kind == directory::StructureKind::Class)
        .expect("a teacher of a class");
    let student = directory::students_of(conn, &service.structure_code)
        .unwrap()
        .remove(0);
    let teacher = directory::person_by_login(conn, &service.teacher_login)
        .unwrap()
        .unwrap();
    let pw = |id| {
        preau::modules::accounts::sheets::initial_password_of(conn, id)
            .unwrap()
            .expect("an initial password")
    };
    (
        (teacher.login.clone(), pw(teacher.id)),
        (student.login.clone(), pw(student.id)),
    )
}

async fn sign_in(b: &Browser, base: &str, login: &str, password: &str) {
    b.goto(&format!("{base}/connexion")).await;
    b.fill("#login", login).await;
    b.fill("#password", password).await;
    b.click_and_load("button[type=submit]").await;
}

async fn sign_out(b: &Browser, base: &str) {
    b.goto(&format!("{base}/")).await;
    b.click_and_load("header .who button").await;
    b.wait_path("/connexion").await;
}

async fn change_password(b: &Browser, current: &str, new: &str) {
    change_password_twice(b, current, new, new).await;
}

async fn change_password_twice(b: &Browser, current: &str, new: &str, confirm: &str) {
    b.fill("#current", current).await;
    b.fill("#new", new).await;
    b.fill("#confirm", confirm).await;
    b.click_and_load("main button[type=submit]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_change_password_reset_a_student_and_use_the_console() {
    let server = start_server();
    let base = server.base.clone();
    let ((teacher, teacher_pw), (student, student_pw)) = people(&server);
    let b = Browser::start().await;

    // Anonymous: the portal sends to the sign-in page.
    b.goto(&format!("{base}/console")).await;
    b.wait_path("/connexion?suite=%2Fconsole").await;
    b.assert_no_inline().await;
    b.screenshots("connexion").await;

    // A wrong password: a French message, no session.
    sign_in(&b, &base, &teacher, "pas-le-bon").await;
    assert!(b.text("#erreur").await.contains("incorrect"));
    b.assert_no_inline().await;

    // The teacher's first sign-in: he must change the initial password.
    sign_in(&b, &base, &teacher, &teacher_pw).await;
    b.wait_path("/mot-de-passe").await;
    assert!(b.body().await.contains("encore celui de la fiche"));
    b.assert_no_inline().await;
    b.screenshots("changement-mot-de-passe").await;
    change_password_twice(&b, &teacher_pw, "craie-et-tableau-42", "craie-et-tableau-43").await;
    assert!(b.text("#erreur").await.contains("diffèrent"));
    b.assert_no_inline().await;
    change_password(&b, &teacher_pw, "craie-et-tableau-42").await;
    b.wait_path("/").await;
    assert!(b.body().await.contains("Mes classes"));
    b.assert_no_inline().await;
    b.screenshots("portail-enseignant").await;

    // His classes, one class, a new password for one of its students.
    b.click_and_load("a[href='/console/classe']").await;
    b.wait_path("/console/classe").await;
    b.assert_no_inline().await;
    b.click_and_load("main li a").await;
    let class_path = b.path().await;
    assert!(class_path.starts_with("/console/classe/"), "{class_path}");
    assert!(b.body().await.contains(&student));
    b.assert_no_inline().await;
    b.screenshots("classe").await;
    b.mark_page().await;
    b.click(&format!(
        "form[action='/console/personnes/{student}/mot-de-passe'] button"
    ))
    .await;
    b.client.accept_alert().await.unwrap();
    b.wait_new_page().await;
    b.wait_path(&format!("/console/personnes/{student}/mot-de-passe"))
        .await;
    assert!(b.body().await.contains("Fiche de connexion"));
    b.assert_no_inline().await;
    b.screenshots("fiche").await;
    let new_pw = b.text(".slip dd:nth-of-type(2)").await;
    assert_ne!(new_pw, student_pw);
    assert!(new_pw.len() >= 8, "{new_pw}");
    // The audit log is the administrator's, not his.
    b.goto(&format!("{base}/console/journal")).await;
    assert!(b.body().await.contains("Accès refusé"));
    sign_out(&b, &base).await;

    // The student: the old password no longer works, the new one does
    // and must be changed at once.
    sign_in(&b, &base, &student, &student_pw).await;
    let page = b.body().await;
    assert!(
        page.contains("Identifiant ou mot de passe incorrect"),
        "{} {page}",
        b.path().await
    );
    sign_in(&b, &base, &student, &new_pw).await;
    b.wait_path("/mot-de-passe").await;
    change_password(&b, &new_pw, "mon-cartable-bleu").await;
    b.wait_path("/").await;
    b.assert_no_inline().await;
    b.screenshots("portail-eleve").await;
    // The console does not exist for a student.
    b.goto(&format!("{base}/console/personnes")).await;
    assert!(b.body().await.contains("Page introuvable"));
    sign_out(&b, &base).await;

    // The administrator: dashboard, people search, a person, the log.
    sign_in(&b, &base, "admin", &server.admin_password).await;
    b.wait_path("/").await;
    b.goto(&format!("{base}/console")).await;
    assert!(b.body().await.contains("Tableau de bord"));
    b.assert_no_inline().await;
    b.screenshots("tableau-de-bord").await;
    b.goto(&format!("{base}/console/personnes?q={}", &student[..3]))
        .await;
    assert!(b.body().await.contains(&student));
    b.assert_no_inline().await;
    b.screenshots("personnes").await;
    b.click_and_load(&format!("a[href='/console/personnes/{student}']"))
        .await;
    b.wait_path(&format!("/console/personnes/{student}")).await;
    b.assert_no_inline().await;
    b.screenshots("personne").await;
    b.goto(&format!("{base}/console/journal")).await;
    let log = b.body().await;
    assert!(
        log.contains("nouveau mot de passe") && log.contains(&teacher),
        "{log}"
    );
    assert!(!log.contains(&new_pw) && !log.contains("craie-et-tableau-42"));
    b.assert_no_inline().await;
    b.screenshots("journal").await;
    b.close().await;

    // No password or session token in the server's log lines.
    let log = server.root.read("/serve.log");
    assert!(log.contains("web sign-in"), "{log}");
    for secret in [
        teacher_pw.as_str(),
        student_pw.as_str(),
        new_pw.as_str(),
        "craie-et-tableau-42",
        "mon-cartable-bleu",
        server.admin_password.as_str(),
        "__Host-preau=",
    ] {
        assert!(!log.contains(secret), "a secret in the log: {secret}");
    }
}

/// The administrator imports a `gen_school.py` export through the
/// console: the files are sent (the students zipped), the diff is shown,
/// nothing changes before the confirmation; once confirmed the people are
/// in the directory and the console finds them; the history names him.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_imports_a_school_through_the_console() {
    let server = start_server_with(false, |c| c.to_string());
    let base = server.base.clone();
    let school = server.root.path().join("exports");
    std::fs::create_dir_all(&school).unwrap();
    support::gen_school(&school, 40, &[]);
    let files: Vec<String> = [
        "ElevesSansAdresses.zip",
        "ResponsablesAvecAdresses.xml",
        "sts_emp_0999999X_2026.xml",
    ]
    .iter()
    .map(|f| school.join(f).display().to_string())
    .collect();
    let db = server.root.path().join("var/lib/preau/preau.db");
    let count = || {
        let store = preau::store::Store::open_existing(&db).unwrap();
        directory::people(store.conn(), &directory::Filter::default())
            .unwrap()
            .len()
    };
    assert_eq!(count(), 0);

    let b = Browser::start().await;
    sign_in(&b, &base, "admin", &server.admin_password).await;
    b.wait_path("/").await;
    b.goto(&format!("{base}/console/imports")).await;
    assert!(b.body().await.contains("Aucun import"));
    b.assert_no_inline().await;
    b.screenshots("imports").await;
    b.client
        .find(fantoccini::Locator::Css("#fichiers"))
        .await
        .unwrap()
        .send_keys(&files.join("\n"))
        .await
        .unwrap();
    b.click_and_load("form[action='/console/imports'] button[type=submit]")
        .await;
    b.wait_path("/console/imports").await;
    let plan = b.body().await;
    assert!(plan.contains("Aperçu de l'import"), "{plan}");
    assert!(plan.contains("Nouveaux ("), "{plan}");
    assert!(
        plan.contains("ElevesSansAdresses.zip:ElevesSansAdresses.xml"),
        "{plan}"
    );
    b.assert_no_inline().await;
    b.screenshots("import-apercu").await;
    assert_eq!(count(), 0, "the preview changes nothing");

    b.click_and_load("#confirmer").await;
    let done = b.body().await;
    assert!(done.contains("Import effectué"), "{done}");
    b.assert_no_inline().await;
    b.screenshots("import-fait").await;
    let n = count();
    assert!(n > 40, "{n} people after the import");

    // The people appear in the console's search.
    let store = preau::store::Store::open_existing(&db).unwrap();
    let student = directory::people(
        store.conn(),
        &directory::Filter {
            kind: Some(directory::Kind::Student),
            ..Default::default()
        },
    )
    .unwrap()
    .remove(0);
    b.goto(&format!("{base}/console/personnes?q={}", student.login))
        .await;
    assert!(b.body().await.contains(&student.login));
    b.goto(&format!("{base}/console/imports")).await;
    let history = b.text("#historique").await;
    assert!(history.contains("admin") && history.contains("créé"), "{history}");

    // The logs' pages, by their sub-navigation.
    b.goto(&format!("{base}/console/journaux")).await;
    assert!(b.body().await.contains("Connexions du proxy"));
    b.assert_no_inline().await;
    b.screenshots("journaux-proxy").await;
    b.click_and_load("a[href='/console/journaux/pare-feu']").await;
    assert!(b.body().await.contains("qui peut joindre qui"));
    b.assert_no_inline().await;
    b.screenshots("journaux-pare-feu").await;
    b.click_and_load("a[href='/console/journaux/mises-en-oeuvre']")
        .await;
    assert!(b.body().await.contains("Mises en œuvre"));
    b.assert_no_inline().await;
    b.screenshots("journaux-mises-en-oeuvre").await;
    b.close().await;
}

/// Issue 10: the administrator changes the establishment's name through
/// the settings form generated from the schema: a wrong value is refused
/// beside its field, a good one shows the plan, "Appliquer" writes
/// preau.toml (comments kept) and runs an apply that is recorded; the
/// running `preau serve` re-reads its configuration at once (as on
/// SIGHUP), so the next page shows the new name without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_changes_a_setting_and_applies_it() {
    let server = start_server_with(false, |c| c.to_string());
    let base = server.base.clone();
    let before = server.root.read("/etc/preau/preau.toml");
    let b = Browser::start().await;
    sign_in(&b, &base, "admin", &server.admin_password).await;
    b.wait_path("/").await;
    b.goto(&format!("{base}/console/reglages")).await;
    b.assert_no_inline().await;
    b.screenshots("reglages").await;
    b.click_and_load("a[href='/console/reglages/establishment']")
        .await;
    b.wait_path("/console/reglages/establishment").await;
    b.assert_no_inline().await;
    b.screenshots("reglages-etablissement").await;
    // A UAI the validator refuses: the error beside the field, nothing written.
    b.fill("[id='f.uai']", "12").await;
    b.click_and_load("#verifier").await;
    let error = b.text("#erreur-uai").await;
    assert!(error.contains("preau check"), "{error}");
    b.screenshots("reglages-erreur").await;
    assert_eq!(server.root.read("/etc/preau/preau.toml"), before);
    b.fill("[id='f.uai']", "0999999X").await;
    b.fill("[id='f.name']", "Lycée Jean Moulin").await;
    b.click_and_load("#verifier").await;
    let plan = b.body().await;
    assert!(plan.contains("Plan des réglages"), "{plan}");
    assert!(plan.contains("Lycée Jean Moulin"), "{plan}");
    b.assert_no_inline().await;
    b.screenshots("reglages-plan").await;
    assert_eq!(server.root.read("/etc/preau/preau.toml"), before);
    b.click_and_load("#appliquer").await;
    let done = b.text("#resultat").await;
    assert!(done.contains("Configuration enregistrée"), "{done}");
    b.assert_no_inline().await;
    b.screenshots("reglages-applique").await;
    let after = server.root.read("/etc/preau/preau.toml");
    assert_eq!(
        after,
        before.replace("name = \"Collège des Tilleuls\"", "name = \"Lycée Jean Moulin\"")
    );
    let db = server.root.path().join("var/lib/preau/preau.db");
    let store = preau::store::Store::open_existing(&db).unwrap();
    assert!(
        !store.recent_applies(1).unwrap().is_empty(),
        "the apply is recorded"
    );
    // The running daemon took it (its SIGHUP path, no restart): the next
    // page already carries the new name, and /metrics counts the reload.
    assert!(
        b.body().await.contains("Le serveur a relu sa configuration"),
        "{}",
        b.body().await
    );
    b.goto(&format!("{base}/console")).await;
    assert_eq!(b.text("header a").await, "Préau · Lycée Jean Moulin");
    b.goto(&format!("{base}/metrics")).await;
    let metrics = b.body().await;
    assert!(
        metrics.contains("preau_reloads_total 1") && metrics.contains("preau_reloads_refused_total 0"),
        "{metrics}"
    );
    b.close().await;
}

/// `preau demo --json`: the URL and one account per role (WEB.md's demo
/// contract); the parent is the student's, the teacher teaches the
/// student's class, and `preau web explain` agrees with the roles.
#[test]
fn demo_json_gives_one_account_per_role_and_explain_decides() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(support::preau_bin())
        .args(["--json", "demo", "--listen", "127.0.0.1:0", "--dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let demo: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert!(demo["url"].as_str().unwrap().starts_with("https://127.0.0.1:"));
    let accounts = demo["accounts"].as_array().unwrap();
    let roles: Vec<&str> = accounts.iter().map(|a| a["role"].as_str().unwrap()).collect();
    assert_eq!(
        roles,
        ["admin", "direction", "cpe", "teacher", "student", "parent"]
    );
    let login = |role: &str| {
        accounts.iter().find(|a| a["role"] == role).unwrap()["login"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(
        accounts
            .iter()
            .all(|a| a["password"].as_str().unwrap().len() >= 8)
    );
    let explain = |who: &str, url: &str| {
        let out = std::process::Command::new(support::preau_bin())
            .arg("--root")
            .arg(dir.path())
            .args(["--json", "web", "explain", "--as", who, url])
            .output()
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", show(&out)));
        v["status"].as_u64().unwrap()
    };
    let student = login("student");
    assert_eq!(explain(&login("admin"), "/console"), 200);
    assert_eq!(explain(&login("direction"), "/console"), 200);
    assert_eq!(explain(&login("cpe"), "/console/personnes"), 200);
    assert_eq!(
        explain(&login("teacher"), &format!("/console/personnes/{student}")),
        200
    );
    assert_eq!(
        explain(&login("parent"), &format!("/console/personnes/{student}")),
        200
    );
    assert_eq!(explain(&student, "/console"), 404);
    assert_eq!(
        explain(&login("parent"), &format!("/console/personnes/{}", login("cpe"))),
        404
    );
    assert_eq!(explain(&login("teacher"), "/console/journal"), 403);
    // Booking and statistics: the demo's resources exist.
    assert_eq!(explain(&login("teacher"), "/reservations/1"), 200);
    assert_eq!(explain(&student, "/reservations/1"), 404);
    assert_eq!(explain(&login("teacher"), "/reservations/99"), 403);
    assert_eq!(explain(&login("direction"), "/console/statistiques"), 200);
    assert_eq!(explain(&login("teacher"), "/console/statistiques"), 403);
    assert_eq!(explain(&login("parent"), "/console/statistiques"), 404);
    // The classroom tools have the demo timetable's rooms to show.
    let config = preau::config::load(&dir.path().join("etc/preau/preau.toml")).unwrap();
    let rooms: Vec<&str> = config
        .proxy
        .sources
        .iter()
        .flat_map(|g| g.rooms.iter().map(String::as_str))
        .collect();
    assert_eq!(rooms, ["S6A", "S5A"]);
    let _ = child.kill();
    let _ = child.wait();
}

/// Issue 10, classroom tools: a teacher with a lesson in room B12 switches
/// its network ("salle-b12", 127.0.0.0/8 here) to exam mode, then cuts
/// the internet, from `/console/salles`; `preau proxy check` and the real
/// proxy running inside `serve` apply each at once (no restart); he ends
/// it early and the room is back to normal. A student gets 404 there; the
/// administrator's journal has every switch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_switches_exam_mode_and_internet_off_for_his_room() {
    let proxy_port = free_port();
    let server = start_server_with(true, |c| {
        let c = c
            .replace("must_change_password = true", "must_change_password = false")
            .replacen("#enabled = []", "enabled = [\"proxy\"]", 1)
            .replace(
                "#listen = [\"0.0.0.0:3128\"]",
                &format!("listen = [\"127.0.0.1:{proxy_port}\"]"),
            )
            .replace("#exam_allow = []", "exam_allow = [\"examens.test\"]");
        format!(
            "{c}\n[[proxy.sources]]\nname = \"salle-b12\"\naddresses = [\"127.0.0.0/8\"]\nrooms = [\"B12\"]\n\n\
             [[proxy.sources]]\nname = \"salle-c01\"\naddresses = [\"10.0.1.0/24\"]\nrooms = [\"C01\"]\n"
        )
    });
    let base = server.base.clone();
    let ((teacher, teacher_pw), (student, student_pw)) = people(&server);
    // His timetable: a lesson in B12 (none in C01).
    {
        let db = server.root.path().join("var/lib/preau/preau.db");
        let mut store = preau::store::Store::open_existing(&db).unwrap();
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO vs_years (id, label, starts, ends) VALUES (1, '2026-2027', '2026-09-01', '2027-07-04')",
                    [],
                )?;
                tx.execute(
                    "INSERT INTO vs_slots (year_id, teacher_id, subject_code, structure_id, weekday, starts, ends, room, weeks, source)
                     SELECT 1, s.teacher_id, s.subject_code, s.structure_id, 1, '08:00', '08:55', 'B12', 'all', 'csv'
                     FROM services s JOIN people p ON p.id = s.teacher_id WHERE p.login = ?1 LIMIT 1",
                    [&teacher],
                )
            })
            .unwrap();
    }
    let check = |url: &str| {
        let out = server.root.run(&["proxy", "check", url, "--ip", "127.0.0.9"]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    // Through the real proxy of `serve`: a refusal is a 403 from the
    // proxy; an allowed request to a name that does not resolve is a
    // gateway error, never a 403.
    let through_proxy = |url: &str| -> String {
        let out = std::process::Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "10",
                "-x",
            ])
            .arg(format!("http://127.0.0.1:{proxy_port}"))
            .arg(url)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        wait_for(Duration::from_secs(15), || std::net::TcpStream::connect((
            "127.0.0.1",
            proxy_port
        ))
        .is_ok()),
        "the proxy did not come up: {}",
        server.root.read("/serve.log")
    );
    assert_ne!(through_proxy("http://social.invalid/"), "403");
    let (code, text) = check("http://social.invalid/");
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("room:"), "{text}");

    let b = Browser::start().await;
    sign_in(&b, &base, &teacher, &teacher_pw).await;
    b.wait_path("/").await;
    b.goto(&format!("{base}/console/salles")).await;
    let page = b.body().await;
    assert!(page.contains("salle-b12"), "{page}");
    assert!(!page.contains("salle-c01"), "not his room: {page}");
    b.assert_no_inline().await;
    b.screenshots("salles").await;

    // Exam mode for 50 minutes with one extra site.
    b.fill("#duree-salle-b12", "50").await;
    b.fill("#sites-salle-b12", "sujet.invalid").await;
    b.click_and_load("#appliquer-salle-b12").await;
    b.wait_path("/console/salles?fait=examen").await;
    let page = b.body().await;
    assert!(page.contains("mode examen (liste blanche) jusqu"), "{page}");
    b.assert_no_inline().await;
    b.screenshots("salle-examen").await;
    let (code, text) = check("http://social.invalid/");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("room:   salle-b12: exam (whitelist only) until")
            && text.contains(&format!("(by {teacher})"))
            && text.contains("policy: examen salle-b12"),
        "{text}"
    );
    let (code, text) = check("http://sujet.invalid/");
    assert_eq!(code, Some(0), "the exam's site: {text}");
    let (code, text) = check("http://www.examens.test/");
    assert_eq!(code, Some(0), "[proxy] exam_allow: {text}");
    // The running proxy reads it within two seconds.
    assert!(
        wait_for(Duration::from_secs(10), || through_proxy(
            "http://social.invalid/"
        ) == "403"),
        "the running proxy applies exam mode"
    );
    assert_ne!(through_proxy("http://sujet.invalid/"), "403");

    // Internet off replaces it.
    b.click("#coupe-salle-b12").await;
    b.fill("#duree-salle-b12", "20").await;
    b.click_and_load("#appliquer-salle-b12").await;
    b.wait_path("/console/salles?fait=coupe").await;
    assert!(b.body().await.contains("internet coupé jusqu"));
    b.screenshots("salle-coupee").await;
    let (code, text) = check("http://sujet.invalid/");
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("room:   salle-b12: internet off until"), "{text}");
    assert!(
        wait_for(Duration::from_secs(10), || through_proxy("http://sujet.invalid/")
            == "403"),
        "the running proxy cuts everything"
    );

    // He ends it early.
    b.click_and_load("#fin-salle-b12").await;
    b.wait_path("/console/salles?fait=fin").await;
    assert!(b.body().await.contains("Accès habituel"));
    let (code, text) = check("http://social.invalid/");
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("room:"), "{text}");
    assert!(
        wait_for(Duration::from_secs(10), || through_proxy(
            "http://social.invalid/"
        ) != "403"),
        "the running proxy is back to normal"
    );
    sign_out(&b, &base).await;

    // A student: no such page.
    sign_in(&b, &base, &student, &student_pw).await;
    b.goto(&format!("{base}/console/salles")).await;
    assert!(b.body().await.contains("Page introuvable"));
    sign_out(&b, &base).await;

    // The administrator sees every room and the journal has each switch.
    sign_in(&b, &base, "admin", &server.admin_password).await;
    b.goto(&format!("{base}/console/salles")).await;
    let page = b.body().await;
    assert!(page.contains("salle-b12") && page.contains("salle-c01"), "{page}");
    b.goto(&format!("{base}/console/journal?q=salle-b12")).await;
    let log = b.body().await;
    assert!(
        log.contains("mode examen (liste blanche) pendant 50 min")
            && log.contains("internet coupé pendant 20 min")
            && log.contains("fin : accès habituel"),
        "{log}"
    );
    b.close().await;
}

/// The code an authenticator application would show now for the secret
/// printed on the enrolment page, at least one step after `after` (a code
/// is accepted once: the test waits for the next step when needed).
async fn totp_code(secret_text: &str, after: &mut i64) -> String {
    use preau::web::totp;
    let secret = data_encoding::BASE32_NOPAD
        .decode(secret_text.replace(' ', "").as_bytes())
        .expect("a base32 secret");
    loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let step = totp::step_of(now);
        if step > *after {
            *after = step;
            return format!("{:06}", totp::hotp(&secret, step as u64, 6));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Issue 10, TOTP for administrators in a real browser: enrolment (QR code
/// drawn on the server and text secret), confirmation with a computed code,
/// recovery codes shown once; then sign-in asks the code after the
/// password, refuses a wrong one and the replay of a used one, accepts a
/// recovery code once; disabling needs a code. Every step is audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_enrols_totp_and_signs_in_with_a_code() {
    let server = start_server();
    let base = server.base.clone();
    let b = Browser::start().await;
    let admin_pw = server.admin_password.clone();
    sign_in(&b, &base, "admin", &admin_pw).await;
    b.wait_path("/").await;
    b.goto(&format!("{base}/console/securite")).await;
    b.assert_no_inline().await;
    b.click_and_load("#commencer").await;
    let secret = b.text("#secret").await;
    assert_eq!(secret.replace(' ', "").len(), 32, "{secret}");
    let src = b
        .client
        .find(fantoccini::Locator::Css("img.qr"))
        .await
        .unwrap()
        .attr("src")
        .await
        .unwrap()
        .unwrap();
    assert!(src.starts_with("data:image/svg+xml;base64,"), "{src}");
    b.assert_no_inline().await;
    b.screenshots("totp-inscription").await;
    // A wrong code: refused, still pending.
    b.fill("#code", "000000").await;
    b.click_and_load("#confirmer").await;
    assert!(b.text("#erreur").await.contains("Code incorrect"));
    let mut last = 0;
    let code = totp_code(&secret, &mut last).await;
    b.fill("#code", &code).await;
    b.click_and_load("#confirmer").await;
    assert!(b.text("#avis").await.contains("active"));
    let recovery: Vec<String> = b
        .text("#codes-secours")
        .await
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert_eq!(recovery.len(), 10, "{recovery:?}");
    b.screenshots("totp-codes-secours").await;
    // Shown once only.
    b.goto(&format!("{base}/console/securite")).await;
    let page = b.body().await;
    assert!(
        !page.contains(&recovery[0]) && page.contains("restants : 10"),
        "{page}"
    );
    sign_out(&b, &base).await;

    // The password alone no longer opens the console.
    sign_in(&b, &base, "admin", &admin_pw).await;
    b.wait_path("/connexion/code?suite=%2F").await;
    b.assert_no_inline().await;
    b.screenshots("totp-connexion").await;
    b.goto(&format!("{base}/console")).await;
    b.wait_path("/connexion?suite=%2Fconsole").await;
    sign_in(&b, &base, "admin", &admin_pw).await;
    b.wait_path("/connexion/code?suite=%2F").await;
    b.fill("#code", "123456").await;
    b.click_and_load("button[type=submit]").await;
    assert!(b.text("#erreur").await.contains("Code incorrect"));
    // The confirmation's code cannot be replayed; the next one works.
    b.fill("#code", &code).await;
    b.click_and_load("button[type=submit]").await;
    assert!(b.text("#erreur").await.contains("déjà utilisé"));
    let code2 = totp_code(&secret, &mut last).await;
    b.fill("#code", &code2).await;
    b.click_and_load("button[type=submit]").await;
    b.wait_path("/").await;
    b.goto(&format!("{base}/console")).await;
    assert!(b.body().await.contains("Tableau de bord"));
    sign_out(&b, &base).await;
    // Replay of code2 at a new sign-in: refused.
    sign_in(&b, &base, "admin", &admin_pw).await;
    b.wait_path("/connexion/code?suite=%2F").await;
    b.fill("#code", &code2).await;
    b.click_and_load("button[type=submit]").await;
    assert!(b.text("#erreur").await.contains("déjà utilisé"));
    // A recovery code, once.
    b.fill("#code", &recovery[0].to_uppercase()).await;
    b.click_and_load("button[type=submit]").await;
    b.wait_path("/").await;
    sign_out(&b, &base).await;
    sign_in(&b, &base, "admin", &admin_pw).await;
    b.wait_path("/connexion/code?suite=%2F").await;
    b.fill("#code", &recovery[0]).await;
    b.click_and_load("button[type=submit]").await;
    assert!(b.text("#erreur").await.contains("Code incorrect"));
    let code3 = totp_code(&secret, &mut last).await;
    b.fill("#code", &code3).await;
    b.click_and_load("button[type=submit]").await;
    b.wait_path("/").await;

    // Disabling needs a code.
    b.goto(&format!("{base}/console/securite")).await;
    assert!(b.body().await.contains("restants : 9"));
    b.fill("#code-off", "000000").await;
    b.click_and_load("#desactiver").await;
    assert!(b.text("#erreur").await.contains("reste active"));
    let code4 = totp_code(&secret, &mut last).await;
    b.fill("#code-off", &code4).await;
    b.click_and_load("#desactiver").await;
    assert!(b.text("#avis").await.contains("désactivée"));
    sign_out(&b, &base).await;
    sign_in(&b, &base, "admin", &admin_pw).await;
    b.wait_path("/").await;
    b.goto(&format!("{base}/console/journal?q=double")).await;
    let log = b.body().await;
    for what in [
        "inscription commencée",
        "confirmation refusée : code faux",
        "activée",
        "désactivation refusée : code faux",
        "désactivée",
    ] {
        assert!(log.contains(what), "{what}: {log}");
    }
    b.goto(&format!("{base}/console/journal?q=code")).await;
    let log = b.body().await;
    for what in [
        "code à usage unique demandé",
        "code à usage unique faux",
        "réussie (avec code)",
        "code de secours",
    ] {
        assert!(log.contains(what), "{what}: {log}");
    }
    assert!(!log.contains(&recovery[0]) && !log.contains(&code2));
    b.close().await;
}

/// Issue 10, classroom tools: a teacher hands a file out to his class
/// from the class page in Chromium (a real upload), sees each copy as
/// handed out, then modified once the student writes in it, collects and
/// returns; the files are on disk under the shares' root. Every account is
/// the test user here (owners and smbd: tests/shares.rs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_hands_out_a_file_from_the_class_page_and_collects_it() {
    let server = start_server_with(true, |c| {
        c.replace("must_change_password = true", "must_change_password = false")
    });
    let base = server.base.clone();
    let ((teacher, teacher_pw), (student, _)) = people(&server);
    let db = server.root.path().join("var/lib/preau/preau.db");
    let class = {
        let store = preau::store::Store::open_existing(&db).unwrap();
        let service = directory::services(store.conn(), None)
            .unwrap()
            .into_iter()
            .find(|s| s.teacher_login == teacher && s.structure_kind == directory::StructureKind::Class)
            .unwrap();
        let students = directory::students_of(store.conn(), &service.structure_code).unwrap();
        let uid = nix::unistd::getuid().as_raw();
        let gid = nix::unistd::getgid().as_raw();
        let mut passwd = String::new();
        for login in students.iter().map(|p| p.login.clone()).chain([teacher.clone()]) {
            passwd.push_str(&format!("{login}:x:{uid}:{gid}::/:/bin/sh\n"));
            std::fs::create_dir_all(server.root.path().join("srv/preau/perso").join(&login)).unwrap();
        }
        std::fs::write(server.root.path().join("etc/passwd"), passwd).unwrap();
        service.structure_code
    };
    let file = server.root.path().join("sujet-dm1.txt");
    std::fs::write(&file, "Exercice 1 : 3/4 + 1/4 = ?\n").unwrap();
    let b = Browser::start().await;
    sign_in(&b, &base, &teacher, &teacher_pw).await;
    b.wait_path("/").await;
    b.goto(&format!("{base}/console/classe/{class}")).await;
    b.assert_no_inline().await;
    b.fill("#nom", "dm1-fractions").await;
    b.client
        .find(fantoccini::Locator::Css("#fichiers"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    b.screenshots("devoir-formulaire").await;
    b.click_and_load("#distribuer").await;
    b.wait_path(&format!(
        "/console/classe/{class}/devoirs/dm1-fractions?fait=distribue"
    ))
    .await;
    assert!(b.text("#avis").await.contains("distribué"));
    let copy = server.root.path().join(format!(
        "srv/preau/perso/{student}/devoirs/dm1-fractions/sujet-dm1.txt"
    ));
    assert_eq!(
        std::fs::read_to_string(&copy).unwrap(),
        "Exercice 1 : 3/4 + 1/4 = ?\n"
    );
    let row = "tr[data-copie] td.mono";
    assert!(!b.text(row).await.is_empty());
    assert!(!b.body().await.contains("modifié par l"), "nothing modified yet");
    b.assert_no_inline().await;
    b.screenshots("devoir-distribue").await;
    // The student answers.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&copy, "Exercice 1 : 3/4 + 1/4 = 1\n").unwrap();
    b.goto(&format!("{base}/console/classe/{class}/devoirs/dm1-fractions"))
        .await;
    assert!(
        b.text("#bilan").await.contains("1 modifié par l'élève"),
        "{}",
        b.text("#bilan").await
    );
    b.click_and_load("#ramasser").await;
    b.wait_path(&format!(
        "/console/classe/{class}/devoirs/dm1-fractions?fait=ramasse"
    ))
    .await;
    let got = server.root.path().join(format!(
        "srv/preau/perso/{teacher}/devoirs/ramasses/dm1-fractions/{student}/sujet-dm1.txt"
    ));
    assert_eq!(
        std::fs::read_to_string(&got).unwrap(),
        "Exercice 1 : 3/4 + 1/4 = 1\n"
    );
    assert!(b.text("#bilan").await.contains("ramassé"));
    b.click_and_load("#rendre").await;
    b.wait_path(&format!(
        "/console/classe/{class}/devoirs/dm1-fractions?fait=rendu"
    ))
    .await;
    assert!(b.text("#bilan").await.contains("rendu corrigé"));
    assert!(
        server
            .root
            .path()
            .join(format!(
                "srv/preau/perso/{student}/devoirs/dm1-fractions/corrige/sujet-dm1.txt"
            ))
            .is_file()
    );
    b.screenshots("devoir-rendu").await;
    b.close().await;
}

/// Issue 10, English catalogue in a real browser: the sign-in page is
/// French for a French browser; the footer's switch gives English (a
/// cookie), kept across pages and after signing in; it switches back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_switch_gives_english_and_back() {
    let server = start_server();
    let base = server.base.clone();
    let b = Browser::start().await;
    b.goto(&format!("{base}/connexion")).await;
    assert!(b.text("h1").await.contains("Connexion"));
    b.click_and_load("form.lang button").await;
    b.wait_path("/connexion").await;
    assert_eq!(b.text("h1").await, "Sign in");
    assert!(b.body().await.contains("Your login and password"));
    b.assert_no_inline().await;
    b.screenshots("connexion-anglais").await;
    b.goto(&format!("{base}/nulle-part")).await;
    assert!(b.body().await.contains("Page not found"));
    sign_in(&b, &base, "admin", &server.admin_password).await;
    b.wait_path("/").await;
    assert!(b.text("h1").await.starts_with("Hello"));
    assert!(b.body().await.contains("Sign out"));
    b.click_and_load("form.lang button").await;
    b.wait_path("/").await;
    assert!(b.text("h1").await.starts_with("Bonjour"));
    b.close().await;
}

/// A person's count in the directory.
fn people_count(server: &Server) -> usize {
    let db = server.root.path().join("var/lib/preau/preau.db");
    let store = preau::store::Store::open_existing(&db).unwrap();
    directory::people(store.conn(), &directory::Filter::default())
        .unwrap()
        .len()
}

/// Issue 10, People by hand in a real browser: the administrator creates
/// a student through the form — a birth date that is not one first: the
/// French message beside the field, what was typed kept, nothing stored —
/// then a good one: the login and initial password on the slip, printed
/// (WebDriver's print, with the print styles: a PDF kept beside the
/// screenshots). The new student then signs in with them and must change
/// the password at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_creates_a_student_who_then_signs_in() {
    let server = start_server();
    let base = server.base.clone();
    let class = {
        let db = server.root.path().join("var/lib/preau/preau.db");
        let store = preau::store::Store::open_existing(&db).unwrap();
        directory::classes(store.conn()).unwrap().remove(0).code
    };
    let before = people_count(&server);
    let b = Browser::start().await;
    sign_in(&b, &base, "admin", &server.admin_password).await;
    b.wait_path("/").await;
    b.goto(&format!("{base}/console/personnes")).await;
    b.click_and_load("a[href='/console/personnes/nouvelle']").await;
    b.wait_path("/console/personnes/nouvelle").await;
    b.assert_no_inline().await;
    b.screenshots("personne-nouvelle").await;
    let fill_student = |birth: &'static str| {
        let b = &b;
        let class = class.clone();
        async move {
            b.click("input[name=type][value=eleve]").await;
            b.fill("#nom", "Durand-Hélie").await;
            b.fill("#prenom", "Maëlys").await;
            b.fill("#naissance", birth).await;
            b.client
                .find(fantoccini::Locator::Css("#classe"))
                .await
                .unwrap()
                .select_by_value(&class)
                .await
                .unwrap();
            b.click_and_load("form[action='/console/personnes/nouvelle'] button[type=submit]")
                .await;
        }
    };
    // 31 February: refused beside the field, nothing created.
    fill_student("31/02/2014").await;
    b.wait_path("/console/personnes/nouvelle").await;
    let beside = b.text("#erreur-naissance").await;
    assert!(beside.contains("n'est pas une date"), "{beside}");
    assert!(b.text("#erreur").await.contains("n'a pas été créée"));
    let kept = b
        .client
        .find(fantoccini::Locator::Css("#nom"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("Durand-Hélie"), "what was typed is kept");
    b.assert_no_inline().await;
    b.screenshots("personne-nouvelle-erreur").await;
    assert_eq!(people_count(&server), before, "nothing stored");

    // A real date: created, the slip shows the login and the password.
    fill_student("14/03/2014").await;
    let heading = b.text("h1").await;
    assert!(heading.contains("Fiche de connexion de"), "{heading}");
    let login = b.text(".slip dd:nth-of-type(1)").await;
    let password = b.text(".slip dd:nth-of-type(2)").await;
    assert!(login.starts_with("maelys.durand"), "{login}");
    assert!(password.len() >= 8, "{password}");
    let notice = b.text("p.notice").await;
    assert!(
        notice.contains(&format!("identifiant {login}, mot de passe initial {password}")),
        "{notice}"
    );
    assert_eq!(people_count(&server), before + 1);
    // The print button (shown by the page's script) and the printed slip.
    let print = b
        .client
        .find(fantoccini::Locator::Css("[data-print]"))
        .await
        .unwrap();
    assert!(print.is_displayed().await.unwrap(), "Imprimer is shown");
    b.assert_no_inline().await;
    b.screenshots("personne-creee").await;
    let pdf = b
        .client
        .print(fantoccini::wd::PrintConfiguration::default())
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::write(dir.join("personne-creee-fiche.pdf"), &pdf).unwrap();
    // The person's page and the audit log.
    b.goto(&format!("{base}/console/personnes/{login}")).await;
    assert!(b.body().await.contains("Durand-Hélie"));
    b.goto(&format!("{base}/console/journal?q={login}")).await;
    assert!(b.body().await.contains("création d'une personne"));
    sign_out(&b, &base).await;

    // The new student signs in with the slip and must change the password.
    sign_in(&b, &base, &login, &password).await;
    b.wait_path("/mot-de-passe").await;
    assert!(b.body().await.contains("encore celui de la fiche"));
    change_password(&b, &password, "trousse-verte-2026").await;
    b.wait_path("/").await;
    assert!(b.text("h1").await.contains("Maëlys"));
    b.assert_no_inline().await;
    b.screenshots("personne-creee-portail").await;
    sign_out(&b, &base).await;
    sign_in(&b, &base, &login, &password).await;
    assert!(
        b.body().await.contains("Identifiant ou mot de passe incorrect"),
        "the slip's password no longer works"
    );
    b.close().await;
}

/// Issue 10, purge of the leavers in a real browser: a `gen_school.py`
/// school imported, then the next export says two students left
/// (`DATE_SORTIE`): with `retention_days = 0` they are due at once. The
/// console lists them; the purge is confirmed by the ticked box; they are
/// gone from the directory and the list, and the purge is in the journal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_purges_the_leavers_of_an_import() {
    let server = start_server_with(false, |c| {
        assert!(c.contains("#retention_days = 365"), "{c}");
        c.replace("#retention_days = 365", "retention_days = 0")
    });
    let base = server.base.clone();
    let school = server.root.path().join("exports");
    support::gen_school(&school, 40, &[]);
    let import = |students: &std::path::Path| {
        let files = [
            students.display().to_string(),
            school.join("ResponsablesAvecAdresses.xml").display().to_string(),
            school.join("sts_emp_0999999X_2026.xml").display().to_string(),
        ];
        let mut args = vec!["accounts", "import", "--apply", "--no-system"];
        args.extend(files.iter().map(String::as_str));
        let out = server.root.run(&args);
        assert!(out.status.success(), "{}", show(&out));
    };
    let first = school.join("ElevesSansAdresses.xml");
    import(&first);
    // The next export: the first two students left yesterday.
    let yesterday = preau::directory::import::days_from_today(-1);
    let (y, rest) = yesterday.split_once('-').unwrap();
    let (m, d) = rest.split_once('-').unwrap();
    let left = format!("<DATE_SORTIE>{d}/{m}/{y}</DATE_SORTIE>");
    let mut xml = std::fs::read(&first).unwrap();
    for _ in 0..2 {
        let empty = b"<DATE_SORTIE></DATE_SORTIE>";
        let at = xml.windows(empty.len()).position(|w| w == empty).unwrap();
        xml.splice(at..at + empty.len(), left.bytes());
    }
    let second = server.root.path().join("ElevesSansAdresses.xml");
    std::fs::write(&second, xml).unwrap();
    import(&second);
    let db = server.root.path().join("var/lib/preau/preau.db");
    let leavers: Vec<String> = {
        let store = preau::store::Store::open_existing(&db).unwrap();
        preau::modules::accounts::people::due_for_purge(store.conn())
            .unwrap()
            .into_iter()
            .map(|p| p.login)
            .collect()
    };
    assert_eq!(leavers.len(), 2, "{leavers:?}");
    let before = people_count(&server);

    let b = Browser::start().await;
    sign_in(&b, &base, "admin", &server.admin_password).await;
    b.wait_path("/").await;
    b.goto(&format!("{base}/console/personnes")).await;
    b.click_and_load("a[href='/console/personnes/partants']").await;
    b.wait_path("/console/personnes/partants").await;
    let list = b.body().await;
    assert!(list.contains("2 compte(s) à supprimer"), "{list}");
    for l in &leavers {
        assert!(list.contains(l.as_str()), "{l}: {list}");
    }
    b.assert_no_inline().await;
    b.screenshots("partants").await;
    b.click("input[name=confirme]").await;
    b.click_and_load("form[action='/console/personnes/partants'] button[type=submit]")
        .await;
    b.wait_path("/console/personnes/partants").await;
    let done = b.body().await;
    assert!(done.contains("2 compte(s) supprimé(s) de l'annuaire"), "{done}");
    assert!(done.contains("Aucun partant dont la durée de conservation est passée"));
    b.assert_no_inline().await;
    b.screenshots("partants-supprimes").await;
    assert_eq!(people_count(&server), before - 2);
    {
        let store = preau::store::Store::open_existing(&db).unwrap();
        for l in &leavers {
            assert!(
                directory::person_by_login(store.conn(), l).unwrap().is_none(),
                "{l}"
            );
            assert!(
                directory::login_taken(store.conn(), l).unwrap(),
                "never given again"
            );
        }
    }
    b.goto(&format!("{base}/console/journal?q=partants")).await;
    let log = b.body().await;
    assert!(
        log.contains("suppression des partants") && log.contains(leavers[0].as_str()),
        "{log}"
    );
    b.close().await;
}

/// Issue 10: settings applied from the console reach the proxy running
/// inside `serve` at once (the reload of SIGHUP hands it its new
/// settings): the block page's `[proxy] contact`, changed through the
/// generated form, is on the very next refusal — no restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_running_proxy_takes_a_setting_applied_from_the_console() {
    let proxy_port = free_port();
    let server = start_server_with(false, |c| {
        c.replacen("#enabled = []", "enabled = [\"proxy\"]", 1).replace(
            "#listen = [\"0.0.0.0:3128\"]",
            &format!("listen = [\"127.0.0.1:{proxy_port}\"]"),
        )
    });
    let base = server.base.clone();
    // A request for this server itself: refused (`local_destinations`
    // off), with the block page.
    let refusal = || -> String {
        let out = std::process::Command::new("curl")
            .args(["-s", "--max-time", "10", "-x"])
            .arg(format!("http://127.0.0.1:{proxy_port}"))
            .arg("http://localhost:9/")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        wait_for(Duration::from_secs(15), || std::net::TcpStream::connect((
            "127.0.0.1",
            proxy_port
        ))
        .is_ok()),
        "the proxy did not come up: {}",
        server.root.read("/serve.log")
    );
    let page = refusal();
    assert!(
        page.contains("l&#39;administrateur réseau de l&#39;établissement"),
        "{page}"
    );
    let b = Browser::start().await;
    sign_in(&b, &base, "admin", &server.admin_password).await;
    b.wait_path("/").await;
    b.goto(&format!("{base}/console/reglages/proxy")).await;
    b.assert_no_inline().await;
    b.fill("[id='f.contact']", "Mme Roux, au CDI").await;
    b.click_and_load("#verifier").await;
    assert!(b.body().await.contains("Mme Roux, au CDI"));
    b.click_and_load("#appliquer").await;
    let done = b.body().await;
    assert!(done.contains("Le serveur a relu sa configuration"), "{done}");
    let page = refusal();
    assert!(
        page.contains("Mme Roux, au CDI"),
        "the running proxy took it: {page}"
    );
    b.close().await;
}

/// Issue 10: a setting the daemon cannot take (a certificate file that
/// does not exist) is saved and applied, but the running server refuses
/// to reload it, as on SIGHUP: it keeps serving with its configuration and
/// certificate, the page says why, and /metrics counts the refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_the_server_refuses_keeps_it_running_and_is_said() {
    let server = start_server_with(false, |c| c.to_string());
    let base = server.base.clone();
    let b = Browser::start().await;
    sign_in(&b, &base, "admin", &server.admin_password).await;
    b.wait_path("/").await;
    b.goto(&format!("{base}/console/reglages/server")).await;
    b.fill("[id='f.certificate']", "/etc/preau/absent.pem").await;
    b.fill("[id='f.private_key']", "/etc/preau/absent.key").await;
    b.click_and_load("#verifier").await;
    assert!(b.body().await.contains("Plan des réglages"), "{}", b.body().await);
    b.click_and_load("#appliquer").await;
    let done = b.body().await;
    assert!(
        done.contains("Le serveur garde la configuration qu'il avait : il a refusé de la relire"),
        "{done}"
    );
    assert!(done.contains("cannot set up TLS"), "the reason: {done}");
    b.assert_no_inline().await;
    b.screenshots("reglages-rechargement-refuse").await;
    assert!(
        server
            .root
            .read("/etc/preau/preau.toml")
            .contains("certificate = \"/etc/preau/absent.pem\""),
        "the file is saved"
    );
    // Still served, over the running certificate.
    b.goto(&format!("{base}/metrics")).await;
    let metrics = b.body().await;
    assert!(
        metrics.contains("preau_reloads_total 0") && metrics.contains("preau_reloads_refused_total 1"),
        "{metrics}"
    );
    b.goto(&format!("{base}/console/journal?q=r%C3%A9glages")).await;
    assert!(b.body().await.contains("rechargement du serveur refusé"));
    b.close().await;
}

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
    start_server_with(true)
}

/// As [`start_server`]; the demo school only when `demo`.
fn start_server_with(demo: bool) -> Server {
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
    root.write("/etc/preau/preau.toml", &config);
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
    let server = start_server_with(false);
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
/// preau.toml (comments kept) and runs an apply that is recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_changes_a_setting_and_applies_it() {
    let server = start_server_with(false);
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
    let _ = child.kill();
    let _ = child.wait();
}

//! Grades end to end in a real headless Chromium, on `preau demo` (the
//! demo school with its school year): a teacher creates an evaluation and
//! enters a grid of 30 marks with the keyboard alone (saved cell by cell
//! by grades.js, checked in the database), reads the history; the head
//! teacher writes a general comment and a council decision; the class's
//! report cards print (print-media screenshot and a PDF through Chromium's
//! printToPDF, one student per A4 page, kept in target/screenshots/); a
//! parent sees a published mark only once its parents' publication moment
//! has passed.

#[path = "support/browser.rs"]
mod browser;
mod support;

use browser::Browser;
use fantoccini::Locator;
use preau::directory;
use std::io::BufRead;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

struct Demo {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    child: Child,
    base: String,
    accounts: Vec<(String, String, String)>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    fn start() -> Demo {
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
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let url = v["url"]
            .as_str()
            .unwrap()
            .trim_end_matches('/')
            .replace("127.0.0.1", "localhost");
        let accounts = v["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["role"].as_str().unwrap().to_string(),
                    a["login"].as_str().unwrap().to_string(),
                    a["password"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        Demo {
            db: dir.path().join("var/lib/preau/preau.db"),
            _dir: dir,
            child,
            base: url,
            accounts,
        }
    }

    fn account(&self, role: &str) -> (String, String) {
        let a = self.accounts.iter().find(|a| a.0 == role).unwrap();
        (a.1.clone(), a.2.clone())
    }

    fn store(&self) -> preau::store::Store {
        preau::store::Store::open_existing(&self.db).unwrap()
    }
}

async fn sign_in(b: &Browser, base: &str, login: &str, password: &str) {
    b.goto(&format!("{base}/connexion")).await;
    b.fill("#login", login).await;
    b.fill("#password", password).await;
    b.click_and_load("button[type=submit]").await;
    b.wait_path("/").await;
}

async fn sign_out(b: &Browser, base: &str) {
    b.goto(&format!("{base}/")).await;
    b.click_and_load("header .who button").await;
    b.wait_path("/connexion").await;
}

/// Sets a field's value through the DOM (date and time inputs take
/// locale-dependent keystrokes; these are setup, not the keyboard test).
async fn set_value(b: &Browser, css: &str, value: &str) {
    b.client
        .execute(
            "document.querySelector(arguments[0]).value = arguments[1];",
            vec![serde_json::json!(css), serde_json::json!(value)],
        )
        .await
        .unwrap();
}

/// Keys of the WebDriver protocol.
const ENTER: &str = "\u{E007}";
const RIGHT: &str = "\u{E014}";
const UP: &str = "\u{E013}";

async fn keys(b: &Browser, text: &str) {
    b.client
        .active_element()
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// Chromium's DevTools command through chromedriver
/// (`POST /session/{id}/goog/cdp/execute`).
#[derive(Debug)]
struct Cdp(String, serde_json::Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", session_id.unwrap_or("")))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(serde_json::json!({"cmd": self.0, "params": self.1}).to_string()),
        )
    }
}

fn day(offset: i32) -> String {
    let now = preau::modules::viescolaire::calendar::DateTime::now_local();
    now.date.add_days(offset).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_enters_30_marks_by_keyboard_the_head_teacher_comments_the_cards_print_a_parent_waits() {
    let demo = Demo::start();
    let base = demo.base.clone();
    let (teacher, teacher_pw) = demo.account("teacher");
    let (student, _) = demo.account("student");
    let (parent, parent_pw) = demo.account("parent");
    // The teacher's service in the student's class, its roster, and the
    // class's head teacher (given a password here).
    let (class, subject, roster, head, head_pw) = {
        let mut store = demo.store();
        let conn = store.conn();
        let me = directory::person_by_login(conn, &teacher).unwrap().unwrap();
        let st = directory::person_by_login(conn, &student).unwrap().unwrap();
        let class = directory::class_of(conn, st.id).unwrap().unwrap();
        let subject = directory::services(conn, Some(me.id))
            .unwrap()
            .into_iter()
            .find(|s| s.structure_code == class.code)
            .unwrap()
            .subject_code;
        let roster: Vec<i64> = preau::modules::viescolaire::queries::roster(conn, class.id)
            .unwrap()
            .iter()
            .map(|r| r.0)
            .collect();
        let head = directory::head_teachers_of(conn, &class.code)
            .unwrap()
            .into_iter()
            .next()
            .expect("the demo class has a head teacher");
        let pw = "tableau-noir-2026".to_string();
        store
            .write(|tx| directory::password::set(tx, head.id, &pw, false, false))
            .unwrap();
        (class.code, subject, roster, head.login, pw)
    };
    assert!(roster.len() >= 15, "{} students", roster.len());
    let b = Browser::start().await;

    // The teacher: his services, the grid of one, two new evaluations.
    sign_in(&b, &base, &teacher, &teacher_pw).await;
    b.goto(&format!("{base}/vie-scolaire/notes")).await;
    assert!(b.body().await.contains("Mes notes"));
    b.assert_no_inline().await;
    b.screenshots("notes-services").await;
    let grid = format!("{base}/vie-scolaire/notes/{class}/{subject}");
    let mut evaluations = Vec::new();
    for (title, out_of) in [("Contrôle clavier", "17"), ("Exercice maison", "20")] {
        b.goto(&grid).await;
        b.fill("#titre", title).await;
        b.fill("#bareme", out_of).await;
        b.fill("#coefficient", "2").await;
        set_value(&b, "#date", &day(0)).await;
        set_value(&b, "#eleves_date", &day(-1)).await;
        set_value(&b, "#eleves_heure", "08:00").await;
        set_value(&b, "#parents_date", &day(1)).await;
        set_value(&b, "#parents_heure", "08:00").await;
        b.click_and_load("form.evaluation button[type=submit]").await;
        assert!(
            b.body().await.contains("L'évaluation est créée"),
            "{}",
            b.body().await
        );
        let id: i64 = demo
            .store()
            .conn()
            .query_row(
                "SELECT max(id) FROM vs_evaluations WHERE title = ?1",
                [title],
                |r| r.get(0),
            )
            .unwrap();
        evaluations.push(id);
    }
    b.assert_no_inline().await;
    // 30 marks, keyboard only: the first column top to bottom with Enter,
    // then the second column from the top (Right, Up…).
    let values = ["12", "15,5", "ABS", "NR", "8.25", "17", "0", "DISP", "9", "13.5"];
    let mut expected = Vec::new();
    let first = format!("input[name='n-{}-{}']", evaluations[0], roster[0]);
    b.client
        .execute(
            "document.querySelector(arguments[0]).focus();",
            vec![serde_json::json!(first)],
        )
        .await
        .unwrap();
    let (mut row, mut col) = (0usize, 0usize);
    for i in 0..30 {
        let v = values[i % values.len()];
        keys(&b, v).await;
        expected.push((evaluations[col], roster[row], v.to_string()));
        if row + 1 < roster.len() {
            keys(&b, ENTER).await;
            row += 1;
        } else {
            keys(&b, RIGHT).await;
            col += 1;
            for _ in 0..row {
                keys(&b, UP).await;
            }
            row = 0;
        }
    }
    keys(&b, ENTER).await;
    // Saved cell by cell: wait for the indicator, then read the store.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = b.text("#etat-saisie").await;
        if s.contains("Toutes les notes sont enregistrées") {
            break;
        }
        assert!(Instant::now() < deadline, "still saving: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.screenshots("notes-grille").await;
    {
        let store = demo.store();
        let conn = store.conn();
        for (e, s, v) in &expected {
            let (value, special): (Option<i64>, Option<String>) = conn
                .query_row(
                    "SELECT value, special FROM vs_marks WHERE evaluation_id = ?1 AND student_id = ?2",
                    [e, s],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap_or_else(|_| panic!("no mark for {e} {s} ({v})"));
            let want = preau::modules::viescolaire::grades::Mark::parse(v, 2000).unwrap();
            let got =
                preau::modules::viescolaire::grades::Mark::from_columns(value, special.as_deref()).unwrap();
            assert_eq!(got, want, "evaluation {e}, student {s}");
        }
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM vs_marks WHERE evaluation_id IN (?1, ?2)",
                [evaluations[0], evaluations[1]],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 30);
    }
    // The network drops while a mark is typed: the cell waits, is retried,
    // and is saved once the network is back.
    let offline = |off: bool| {
        Cdp(
            "Network.emulateNetworkConditions".into(),
            serde_json::json!({"offline": off, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}),
        )
    };
    b.client
        .issue_cmd(Cdp("Network.enable".into(), serde_json::json!({})))
        .await
        .unwrap();
    b.client.issue_cmd(offline(true)).await.unwrap();
    let late_cell = format!("input[name='n-{}-{}']", evaluations[1], roster[2]);
    b.client
        .execute(
            "var i = document.querySelector(arguments[0]); i.focus(); i.select();",
            vec![serde_json::json!(late_cell)],
        )
        .await
        .unwrap();
    keys(&b, "14").await;
    keys(&b, ENTER).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while !b.text("#etat-saisie").await.contains("Connexion perdue") {
        assert!(Instant::now() < deadline, "no offline indicator");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.screenshots("notes-hors-ligne").await;
    b.client.issue_cmd(offline(false)).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !b
        .text("#etat-saisie")
        .await
        .contains("Toutes les notes sont enregistrées")
    {
        assert!(Instant::now() < deadline, "not saved after the network came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let v: i64 = demo
        .store()
        .conn()
        .query_row(
            "SELECT value FROM vs_marks WHERE evaluation_id = ?1 AND student_id = ?2",
            [evaluations[1], roster[2]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(v, 1400);
    expected.retain(|(e, st, _)| !(*e == evaluations[1] && *st == roster[2]));
    // A column pasted from a spreadsheet fills the cells below.
    b.client
        .execute(
            "var i = document.querySelector(arguments[0]); i.focus();
             var dt = new DataTransfer(); dt.setData('text/plain', arguments[1]);
             i.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));",
            vec![
                serde_json::json!(format!("input[name='n-{}-{}']", evaluations[1], roster[5])),
                serde_json::json!("7\r\n8,5\r\nABS\r\n"),
            ],
        )
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n: i64 = demo
            .store()
            .conn()
            .query_row(
                "SELECT count(*) FROM vs_marks WHERE evaluation_id = ?1 AND student_id IN (?2, ?3, ?4)",
                [evaluations[1], roster[5], roster[6], roster[7]],
                |r| r.get(0),
            )
            .unwrap();
        if n == 3
            && b.text("#etat-saisie")
                .await
                .contains("Toutes les notes sont enregistrées")
        {
            break;
        }
        assert!(Instant::now() < deadline, "the pasted column was not saved");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pasted: Vec<(Option<i64>, Option<String>)> = [roster[5], roster[6], roster[7]]
        .iter()
        .map(|s| {
            demo.store()
                .conn()
                .query_row(
                    "SELECT value, special FROM vs_marks WHERE evaluation_id = ?1 AND student_id = ?2",
                    [evaluations[1], *s],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap()
        })
        .collect();
    assert_eq!(
        pasted,
        [(Some(700), None), (Some(850), None), (None, Some("ABS".into()))]
    );
    expected.retain(|(e, st, _)| !(*e == evaluations[1] && [roster[5], roster[6], roster[7]].contains(st)));
    // A mark above the scale: refused beside the cell, nothing stored.
    let cell = format!("input[name='n-{}-{}']", evaluations[0], roster[1]);
    b.client
        .execute(
            "var i = document.querySelector(arguments[0]); i.focus(); i.select();",
            vec![serde_json::json!(cell)],
        )
        .await
        .unwrap();
    keys(&b, "18").await;
    keys(&b, ENTER).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while !b.body().await.contains("dépasse le barème (sur 17)") {
        assert!(Instant::now() < deadline, "no refusal shown");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The history of the first evaluation.
    b.goto(&format!(
        "{base}/vie-scolaire/notes/evaluations/{}",
        evaluations[0]
    ))
    .await;
    let history = b.text("#historique").await;
    assert!(
        history.contains(&teacher) && history.contains("15.5"),
        "{history}"
    );
    b.assert_no_inline().await;
    b.screenshots("notes-historique").await;
    // The page reloads with the stored values.
    b.goto(&grid).await;
    let v = b
        .client
        .find(Locator::Css(&format!(
            "input[name='n-{}-{}']",
            evaluations[0], roster[1]
        )))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(v.as_deref(), Some("15.5"));
    // Competences of the first evaluation: one positioning, stored with it.
    b.goto(&format!(
        "{base}/vie-scolaire/competences/{class}/{subject}?evaluation={}",
        evaluations[0]
    ))
    .await;
    b.assert_no_inline().await;
    b.client
        .find(Locator::Css(&format!("select[name='c-{}-CPD_FRA']", roster[0])))
        .await
        .unwrap()
        .select_by_value("3")
        .await
        .unwrap();
    b.click_and_load("main form[method=post] button[type=submit]")
        .await;
    assert!(b.body().await.contains("Les positionnements sont enregistrés"));
    b.screenshots("competences").await;
    let level: i64 = demo
        .store()
        .conn()
        .query_row(
            "SELECT level FROM vs_competence_levels WHERE student_id = ?1 AND competence_code = 'CPD_FRA'
             AND evaluation_id = ?2",
            [roster[0], evaluations[0]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(level, 3);
    b.goto(&grid).await;
    // Bad input from the page (same origin, with the session): a French
    // refusal, never a 500, and nothing stored.
    let history_before: i64 = demo
        .store()
        .conn()
        .query_row("SELECT count(*) FROM vs_marks_history", [], |r| r.get(0))
        .unwrap();
    let stranger: i64 = demo
        .store()
        .conn()
        .query_row(
            &format!(
                "SELECT id FROM people WHERE kind = 'student' AND id NOT IN ({}) LIMIT 1",
                roster.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    let foreign: i64 = demo
        .store()
        .conn()
        .query_row(
            "SELECT e.id FROM vs_evaluations e JOIN people p ON p.id = e.teacher_id WHERE p.login <> ?1 LIMIT 1",
            [&teacher],
            |r| r.get(0),
        )
        .unwrap();
    let period_number: i64 = demo
        .store()
        .conn()
        .query_row(
            "SELECT p.number FROM vs_evaluations e JOIN vs_periods p ON p.id = e.period_id WHERE e.id = ?1",
            [evaluations[0]],
            |r| r.get(0),
        )
        .unwrap();
    let cell = |e: i64| format!("/vie-scolaire/notes/evaluations/{e}/cellule");
    let e0 = evaluations[0];
    let big = "x".repeat(100_000);
    let long = "9".repeat(5000);
    let cases: Vec<(String, String, u64, &str)> = vec![
        (cell(e0), "eleve=abc&valeur=12".to_string(), 400, "Élève inconnu"),
        (
            cell(e0),
            format!("eleve={stranger}&valeur=12"),
            400,
            "pas de ce service",
        ),
        (
            cell(e0),
            format!("eleve={}&valeur=12,345", roster[0]),
            400,
            "n'est pas une note",
        ),
        (
            cell(e0),
            format!("eleve={}&valeur={long}", roster[0]),
            400,
            "trop long",
        ),
        (
            cell(e0),
            format!("eleve={}&valeur={big}", roster[0]),
            413,
            "trop volumineux",
        ),
        (
            cell(999_999),
            format!("eleve={}&valeur=12", roster[0]),
            403,
            "Accès refusé",
        ),
        (
            cell(foreign),
            format!("eleve={}&valeur=12", roster[0]),
            403,
            "Accès refusé",
        ),
        (
            format!("/vie-scolaire/notes/{class}/{subject}"),
            format!(
                "periode={period_number}&n-{e0}-{}=25&n-{e0}-{}=3",
                roster[0], roster[1]
            ),
            400,
            "note(s) refusée(s)",
        ),
        (
            format!("/vie-scolaire/notes/{class}/{subject}/evaluations"),
            "titre=&date=demain&coefficient=100&bareme=0&type=x".to_string(),
            400,
            "Donnez un titre",
        ),
    ];
    for (url, body, status, text) in cases {
        let got = b
            .client
            .execute_async(
                "var done = arguments[arguments.length - 1];
                 var csrf = document.querySelector('input[name=csrf]').value;
                 fetch(arguments[0], {method: 'POST', credentials: 'same-origin',
                   headers: {'Content-Type': 'application/x-www-form-urlencoded'},
                   body: 'csrf=' + encodeURIComponent(csrf) + '&' + arguments[1]})
                 .then(function (r) { return r.text().then(function (t) { done([r.status, t]); }); })
                 .catch(function (e) { done([0, String(e)]); });",
                vec![serde_json::json!(url), serde_json::json!(body)],
            )
            .await
            .unwrap();
        assert_eq!(got[0].as_u64(), Some(status), "{url}: {}", got[1]);
        assert!(got[1].as_str().unwrap().contains(text), "{url}: {}", got[1]);
    }
    // A wrong form token.
    let got = b
        .client
        .execute_async(
            "var done = arguments[arguments.length - 1];
             fetch(arguments[0], {method: 'POST', credentials: 'same-origin',
               headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'csrf=faux&eleve=1&valeur=1'})
             .then(function (r) { return r.text().then(function (t) { done([r.status, t]); }); });",
            vec![serde_json::json!(cell(e0))],
        )
        .await
        .unwrap();
    assert_eq!(got[0].as_u64(), Some(403), "{}", got[1]);
    let history_after: i64 = demo
        .store()
        .conn()
        .query_row("SELECT count(*) FROM vs_marks_history", [], |r| r.get(0))
        .unwrap();
    assert_eq!(history_before, history_after, "a refused input changed marks");
    sign_out(&b, &base).await;

    // The parent: published to students yesterday, to parents tomorrow —
    // not yet seen.
    let marks_url = format!("{base}/vie-scolaire/notes/eleve/{student}");
    let child_row = roster.iter().position(|id| {
        let store = demo.store();
        directory::person_by_id(store.conn(), *id).unwrap().unwrap().login == student
    });
    let child_row = child_row.unwrap();
    let child_mark = expected
        .iter()
        .find(|(e, s, _)| *e == evaluations[0] && *s == roster[child_row])
        .map(|x| x.2.replace(',', "."))
        .unwrap();
    sign_in(&b, &base, &parent, &parent_pw).await;
    b.click_and_load("a[href='/vie-scolaire/mes-notes']").await;
    b.assert_no_inline().await;
    b.click_and_load(&format!("a[href='/vie-scolaire/notes/eleve/{student}']"))
        .await;
    let page = b.body().await;
    assert!(page.contains("Notes de"), "{page}");
    assert!(
        !page.contains("/17"),
        "a mark for parents tomorrow is shown: {page}"
    );
    b.assert_no_inline().await;
    b.screenshots("notes-parent-avant").await;
    // Another child's page: not found.
    let other = {
        let store = demo.store();
        directory::person_by_id(store.conn(), roster[(child_row + 1) % roster.len()])
            .unwrap()
            .unwrap()
            .login
    };
    b.goto(&format!("{base}/vie-scolaire/notes/eleve/{other}")).await;
    assert!(b.body().await.contains("Page introuvable"));
    sign_out(&b, &base).await;
    // The teacher moves the parents' publication to yesterday.
    sign_in(&b, &base, &teacher, &teacher_pw).await;
    b.goto(&format!(
        "{base}/vie-scolaire/notes/evaluations/{}",
        evaluations[0]
    ))
    .await;
    set_value(&b, "#parents_date", &day(-1)).await;
    set_value(&b, "#parents_heure", "09:00").await;
    b.fill("#coefficient", "1").await;
    b.click_and_load("main form button[type=submit]").await;
    assert!(b.body().await.contains("L'évaluation est modifiée"));
    sign_out(&b, &base).await;
    sign_in(&b, &base, &parent, &parent_pw).await;
    b.goto(&marks_url).await;
    let page = b.body().await;
    let shown = if child_mark.chars().all(|c| c.is_ascii_digit() || c == '.') {
        let h = preau::modules::viescolaire::grades::parse_hundredths(&child_mark).unwrap();
        preau::modules::viescolaire::grades::show_hundredths(h)
    } else {
        child_mark.clone()
    };
    assert!(page.contains(&format!("{shown}/17")), "{shown}/17 not on {page}");
    // The coefficient changed after marks existed: the class is told.
    assert!(page.contains("coefficient changé de 2 à 1 le"), "{page}");
    b.screenshots("notes-parent-apres").await;
    sign_out(&b, &base).await;

    // The head teacher: a general comment and the council's decision.
    sign_in(&b, &base, &head, &head_pw).await;
    b.goto(&format!("{base}/vie-scolaire/bulletins/{class}/conseil"))
        .await;
    b.assert_no_inline().await;
    let first = roster[0];
    b.fill(
        &format!("textarea[name='a-{first}']"),
        "Trimestre sérieux, continuez ainsi.",
    )
    .await;
    b.fill(&format!("input[name='d-{first}']"), "Poursuite du cycle")
        .await;
    b.click_and_load("main form button[type=submit]").await;
    assert!(b.body().await.contains("Les appréciations sont enregistrées"));
    b.screenshots("bulletins-conseil").await;
    {
        let store = demo.store();
        let (comment, author): (String, i64) = store
            .conn()
            .query_row(
                "SELECT comment, author_id FROM vs_report_comments WHERE student_id = ?1 AND subject_code = ''
                 ORDER BY period_id DESC LIMIT 1",
                [first],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(comment, "Trimestre sérieux, continuez ainsi.");
        let login = directory::person_by_id(store.conn(), author)
            .unwrap()
            .unwrap()
            .login;
        assert_eq!(login, head);
    }

    // The class's report cards, printed: one student per A4 page.
    b.goto(&format!("{base}/vie-scolaire/bulletins/{class}")).await;
    let page = b.body().await;
    assert!(page.contains("Trimestre sérieux, continuez ainsi."), "{page}");
    b.assert_no_inline().await;
    b.screenshots("bulletins-ecran").await;
    b.client
        .issue_cmd(Cdp(
            "Emulation.setEmulatedMedia".into(),
            serde_json::json!({"media": "print"}),
        ))
        .await
        .unwrap();
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("bulletins-impression.png"),
        b.client.screenshot().await.unwrap(),
    )
    .unwrap();
    let pdf = b
        .client
        .issue_cmd(Cdp(
            "Page.printToPDF".into(),
            serde_json::json!({"preferCSSPageSize": true, "printBackground": false}),
        ))
        .await
        .unwrap();
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(pdf["data"].as_str().unwrap())
        .unwrap();
    std::fs::write(dir.join(format!("bulletins-{class}.pdf")), &bytes).unwrap();
    // The page tree's root counts every page: the largest /Count.
    let text = String::from_utf8_lossy(&bytes);
    let count = text
        .split("/Count ")
        .skip(1)
        .filter_map(|r| {
            r.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse::<usize>()
                .ok()
        })
        .max()
        .unwrap_or(0);
    assert_eq!(count, roster.len(), "one A4 page per student");
    // Undo the print emulation for the screenshots that follow.
    b.client
        .issue_cmd(Cdp(
            "Emulation.setEmulatedMedia".into(),
            serde_json::json!({"media": ""}),
        ))
        .await
        .unwrap();
    sign_out(&b, &base).await;

    // Direction: the class's subject coefficient, then the period closed.
    let (direction, direction_pw) = demo.account("direction");
    sign_in(&b, &base, &direction, &direction_pw).await;
    b.goto(&format!("{base}/vie-scolaire/bulletins/{class}/coefficients"))
        .await;
    b.assert_no_inline().await;
    b.fill(&format!("#k-{subject}"), "3").await;
    b.click_and_load("main form button[type=submit]").await;
    assert!(b.body().await.contains("Les coefficients sont enregistrés"));
    b.screenshots("bulletins-coefficients").await;
    b.goto(&format!(
        "{base}/vie-scolaire/bulletins/{class}?periode={period_number}"
    ))
    .await;
    b.mark_page().await;
    b.click("form[action$='/cloture'] button").await;
    b.client.accept_alert().await.unwrap();
    b.wait_new_page().await;
    assert!(b.body().await.contains("Période close : bulletins figés."));
    let frozen: i64 = demo
        .store()
        .conn()
        .query_row(
            "SELECT count(*) FROM vs_report_cards r JOIN vs_periods p ON p.id = r.period_id WHERE p.number = ?1",
            [period_number],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(frozen as usize, roster.len());
    // The LSU file: most students have no council decision this period,
    // so the page lists what is missing, in French.
    b.click_and_load("a[href*='/lsu?periode=']").await;
    let page = b.body().await;
    assert!(
        page.contains("Le fichier LSU ne peut pas être écrit")
            && page.contains("pas de décision du conseil de classe"),
        "{page}"
    );
    b.assert_no_inline().await;
    b.screenshots("bulletins-lsu-manques").await;
    // The council page refuses changes now.
    b.goto(&format!(
        "{base}/vie-scolaire/bulletins/{class}/conseil?periode={period_number}"
    ))
    .await;
    assert!(b.body().await.contains("les bulletins sont figés"));
    sign_out(&b, &base).await;
    // The parent sees the closed card.
    sign_in(&b, &base, &parent, &parent_pw).await;
    b.goto(&format!(
        "{base}/vie-scolaire/bulletins/eleve/{student}?periode={period_number}"
    ))
    .await;
    let page = b.body().await;
    assert!(page.contains("figé le") && page.contains("Bulletin du"), "{page}");
    b.assert_no_inline().await;
    b.screenshots("bulletin-parent").await;
    b.close().await;
}

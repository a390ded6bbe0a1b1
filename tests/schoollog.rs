//! School life, daily part, end to end on `preau demo` in a real headless
//! Chromium: a teacher fills the homework log of a lesson from his
//! timetable and his student sees it in his to-do list at phone width; a
//! message written during the quiet period reaches the parent only once
//! the period ends (the server's school clock is moved through the
//! `PREAU_CLOCK_FILE` test hook, no waiting), with the read receipt back
//! to the teacher; a teacher's iCalendar feed is parsed by Python's
//! independent `icalendar` package, then revoked.

#[path = "support/browser.rs"]
mod browser;
mod support;

use browser::Browser;
use preau::directory;
use preau::modules::viescolaire::attendance;
use preau::modules::viescolaire::calendar::{Date, DateTime, Time};
use preau::modules::viescolaire::queries::{homework, schedule};
use preau::modules::viescolaire::web::ical::paris_offset_minutes;
use preau::modules::viescolaire::web::timetable::fr_date;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Stdio};

/// `preau demo` on a free port, with its school clock in a file.
struct Demo {
    child: Child,
    dir: tempfile::TempDir,
    base: String,
    accounts: serde_json::Value,
    clock: PathBuf,
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
        let clock = dir.path().join("clock");
        let mut child = std::process::Command::new(support::preau_bin())
            .args(["--json", "demo", "--listen", "127.0.0.1:0", "--dir"])
            .arg(dir.path())
            .env("PREAU_CLOCK_FILE", &clock)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let demo: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let base = demo["url"].as_str().unwrap().trim_end_matches('/').to_string();
        Demo {
            child,
            dir,
            base,
            accounts: demo["accounts"].clone(),
            clock,
        }
    }

    fn account(&self, role: &str) -> (String, String) {
        let a = self
            .accounts
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["role"] == role)
            .unwrap();
        (
            a["login"].as_str().unwrap().to_string(),
            a["password"].as_str().unwrap().to_string(),
        )
    }

    fn store(&self) -> preau::store::Store {
        preau::store::Store::open_existing(&self.dir.path().join("var/lib/preau/preau.db")).unwrap()
    }

    /// Sets the server's school clock.
    fn set_clock(&self, t: DateTime) {
        std::fs::write(&self.clock, t.stamp()).unwrap();
    }
}

async fn sign_in(b: &Browser, base: &str, (login, password): &(String, String)) {
    b.goto(&format!("{base}/connexion")).await;
    b.fill("#login", login).await;
    b.fill("#password", password).await;
    b.click_and_load("main button[type=submit]").await;
    assert_eq!(b.path().await, "/", "signed in as {login}");
}

async fn sign_out(b: &Browser, base: &str) {
    b.goto(&format!("{base}/")).await;
    b.click_and_load("header .who button").await;
    b.wait_path("/connexion").await;
}

fn minus_one_minute(t: DateTime) -> DateTime {
    match t.time.minutes() {
        0 => DateTime {
            date: t.date.add_days(-1),
            time: Time::from_minutes(23 * 60 + 59),
        },
        m => DateTime {
            date: t.date,
            time: Time::from_minutes(m - 1),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_logs_a_lesson_the_student_sees_it_and_quiet_messages_wait() {
    let demo = Demo::start();
    let base = demo.base.clone();
    let (teacher, student, parent) = (
        demo.account("teacher"),
        demo.account("student"),
        demo.account("parent"),
    );
    // A lesson of the teacher with the student's class, from today on.
    let today = DateTime::now_local().date;
    let (lesson, key) = {
        let store = demo.store();
        let conn = store.conn();
        let t = directory::person_by_login(conn, &teacher.0).unwrap().unwrap();
        let s = directory::person_by_login(conn, &student.0).unwrap().unwrap();
        let class = directory::class_of(conn, s.id).unwrap().unwrap();
        let lessons =
            schedule::lessons_of(conn, &schedule::Whose::Teacher(t.id), today, today.add_days(21)).unwrap();
        let l = lessons
            .into_iter()
            .find(|l| {
                l.takes_place
                    && l.service.structure_id == class.id
                    && homework::log_of(conn, l).unwrap().is_none()
            })
            .expect("a lesson of the teacher in the student's class, without a log yet, within three weeks");
        let key = schedule::key_of(&l);
        (l, key)
    };
    let due = lesson.date.add_days(7);
    let b = Browser::start().await;

    // The teacher opens the lesson from his week and fills its log.
    sign_in(&b, &base, &teacher).await;
    b.goto(&format!(
        "{base}/vie-scolaire/emploi-du-temps?semaine={}",
        lesson.date
    ))
    .await;
    b.assert_no_inline().await;
    b.screenshots("schoollog-emploi-du-temps").await;
    b.click_and_load(&format!("a[href='/vie-scolaire/cahier-de-textes/seance/{key}']"))
        .await;
    assert_eq!(
        b.path().await,
        format!("/vie-scolaire/cahier-de-textes/seance/{key}")
    );
    b.assert_no_inline().await;
    // Homework without a due date: refused beside the field, nothing stored.
    b.fill("#fait", "Les fractions : définition, exemples.").await;
    b.fill("#travail", "Exercices 3 à 5 page 48, et apprendre la leçon.")
        .await;
    b.click_and_load("main button[type=submit]").await;
    assert!(b.text("#pour-erreur").await.contains("Donnez la date"));
    {
        let store = demo.store();
        assert_eq!(homework::log_of(store.conn(), &lesson).unwrap(), None);
    }
    b.client
        .execute(
            &format!("document.getElementById('pour').value = '{due}';"),
            vec![],
        )
        .await
        .unwrap();
    b.click_and_load("main button[type=submit]").await;
    assert!(b.body().await.contains("Enregistré par"), "{}", b.body().await);
    b.screenshots("schoollog-cahier-de-textes").await;
    {
        let store = demo.store();
        let saved = homework::log_of(store.conn(), &lesson).unwrap().unwrap();
        assert_eq!(saved.due, Some(due));
        assert_eq!(saved.by, teacher.0);
    }
    sign_out(&b, &base).await;

    // The student, on a phone, sees it by due date; the log page is not his.
    sign_in(&b, &base, &student).await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&format!("{base}/vie-scolaire/travail")).await;
    let body = b.body().await;
    assert!(body.contains("Exercices 3 à 5 page 48"), "{body}");
    assert!(body.contains(&format!("Pour le {}", fr_date(due))), "{body}");
    b.assert_no_inline().await;
    let png = b.client.screenshot().await.unwrap();
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    std::fs::write(shots.join("schoollog-travail-phone.png"), png).unwrap();
    b.client.set_window_size(1280, 900).await.unwrap();
    b.goto(&format!("{base}/vie-scolaire/cahier-de-textes/seance/{key}"))
        .await;
    assert!(b.body().await.contains("Page introuvable"));
    sign_out(&b, &base).await;

    // 21:00: the quiet period. The teacher writes to the student's parents.
    let written = DateTime {
        date: today,
        time: Time::hm(21, 0),
    };
    let delivered = attendance::delivery(written, Time::hm(20, 0), Time::hm(7, 0), true);
    assert!(delivered > written);
    demo.set_clock(written);
    sign_in(&b, &base, &teacher).await;
    b.goto(&format!("{base}/vie-scolaire/messages/nouveau")).await;
    let href = format!("/vie-scolaire/messages/nouveau/parents/{}", student.0);
    assert!(
        b.client
            .find(fantoccini::Locator::Css(&format!("a[href='{href}']")))
            .await
            .is_ok()
    );
    b.goto(&format!("{base}{href}")).await;
    assert!(b.body().await.contains("Période de calme"));
    b.fill("#objet", "Sortie au musée").await;
    b.fill(
        "#message",
        "Bonjour, la sortie au musée a lieu jeudi ; prévoir un pique-nique.",
    )
    .await;
    b.click_and_load("main button[type=submit]").await;
    let thread = b.path().await;
    assert!(thread.starts_with("/vie-scolaire/messages/"), "{thread}");
    assert!(b.text(".waiting").await.contains("En attente"));
    b.assert_no_inline().await;
    b.screenshots("schoollog-message-en-attente").await;
    sign_out(&b, &base).await;

    // The parent sees nothing until the end of the period…
    sign_in(&b, &base, &parent).await;
    for t in [written, minus_one_minute(delivered)] {
        demo.set_clock(t);
        b.goto(&format!("{base}/vie-scolaire/messages")).await;
        assert!(!b.body().await.contains("Sortie au musée"), "visible at {t}");
        b.goto(&format!("{base}{thread}")).await;
        assert!(b.body().await.contains("Page introuvable"), "thread open at {t}");
    }
    // …and then it is there, unread; he reads it and replies.
    demo.set_clock(delivered);
    b.goto(&format!("{base}/vie-scolaire/messages")).await;
    assert!(b.text(".threads .unread").await.contains("Sortie au musée"));
    b.assert_no_inline().await;
    b.click_and_load(&format!("a[href='{thread}']")).await;
    assert!(b.body().await.contains("prévoir un pique-nique"));
    b.fill("#message", "Bien reçu, merci.").await;
    b.click_and_load("main button[type=submit]").await;
    assert!(b.body().await.contains("Bien reçu, merci."));
    sign_out(&b, &base).await;

    // The teacher sees the read receipt and the reply.
    sign_in(&b, &base, &teacher).await;
    b.goto(&format!("{base}{thread}")).await;
    let body = b.client.source().await.unwrap();
    assert!(body.contains("lu le"), "{body}");
    assert!(body.contains("Bien reçu, merci."));
    b.screenshots("schoollog-fil").await;
    b.close().await;
}

/// A Python with `icalendar`, in a venv made once under the target dir.
fn python_icalendar() -> PathBuf {
    let venv = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("venv-icalendar");
    let python = venv.join("bin/python");
    let ready = venv.join("ready-7.3.2");
    if !ready.exists() {
        let status = std::process::Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv)
            .status()
            .expect("python3 (scripts/deps.txt: python3, python3-venv)");
        assert!(status.success(), "python3 -m venv failed: install python3-venv");
        let status = std::process::Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "icalendar==7.3.2",
            ])
            .status()
            .unwrap();
        assert!(status.success(), "pip install icalendar failed");
        std::fs::write(&ready, "").unwrap();
    }
    python
}

async fn parse_feed(url: &str) -> serde_json::Value {
    let python = python_icalendar();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schoollog_ical.py");
    let url = url.to_string();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .arg(url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teachers_ical_feed_parses_with_python_icalendar_and_can_be_revoked() {
    let demo = Demo::start();
    let base = demo.base.clone();
    let teacher = demo.account("teacher");
    let b = Browser::start().await;
    sign_in(&b, &base, &teacher).await;
    b.goto(&format!("{base}/vie-scolaire/agenda")).await;
    b.assert_no_inline().await;
    b.click_and_load("main .actions form:first-child button").await;
    let url = b.text(".feed-url a").await;
    assert!(
        url.starts_with(&format!("{base}/vie-scolaire/agenda/")) && url.ends_with(".ics"),
        "{url}"
    );
    b.screenshots("schoollog-agenda").await;

    let feed = parse_feed(&url).await;
    assert_eq!(feed["status"], 200, "{feed}");
    assert_eq!(feed["problems"], serde_json::json!([]), "{feed}");
    assert!(
        feed["content_type"]
            .as_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    assert_eq!(feed["version"], "2.0");
    assert_eq!(feed["zones"], serde_json::json!(["Europe/Paris"]));
    let events = feed["events"].as_array().unwrap();
    assert!(events.len() > 5, "{feed}");
    // Python's reading of each local time agrees with the Paris rules.
    for e in events {
        let local = DateTime::parse(e["start_local"].as_str().unwrap()).unwrap();
        assert_eq!(
            e["utc_offset_minutes"].as_i64().unwrap(),
            i64::from(paris_offset_minutes(local)),
            "{e}"
        );
        assert!(e["summary"].as_str().unwrap().contains(" — "), "{e}");
    }
    // The same lessons as the teacher's timetable.
    {
        let store = demo.store();
        let conn = store.conn();
        let t = directory::person_by_login(conn, &teacher.0).unwrap().unwrap();
        let today = DateTime::now_local().date;
        let from: Date = today.add_days(-14);
        let lessons =
            schedule::lessons_of(conn, &schedule::Whose::Teacher(t.id), from, today.add_days(84)).unwrap();
        assert_eq!(events.len(), lessons.len());
    }

    // A new link replaces the old one; revoking ends the feed.
    b.click_and_load("main .actions form:first-child button").await;
    let second = b.text(".feed-url a").await;
    assert_ne!(second, url);
    assert_eq!(parse_feed(&url).await["status"], 404);
    assert_eq!(parse_feed(&second).await["status"], 200);
    b.mark_page().await;
    b.click("main .actions form:nth-child(2) button").await;
    b.client.accept_alert().await.unwrap();
    b.wait_new_page().await;
    assert!(b.body().await.contains("Lien révoqué"));
    assert_eq!(parse_feed(&second).await["status"], 404);
    b.close().await;
}

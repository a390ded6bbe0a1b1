//! School life, daily, end to end in a real headless Chromium at phone
//! width against `preau demo` (the real server over HTTPS): a teacher
//! takes the roll of his lesson; the school-life office, whose page is
//! open, sees the absence arrive without reloading and records a reason;
//! the parent sends a justification with a photo and sees it accepted by
//! the office; the parent is refused ("not found") on another child's
//! page. Every page is checked for inline script or style; screenshots go
//! to target/screenshots/.

#[path = "support/browser.rs"]
mod browser;
mod support;

use browser::Browser;
use fantoccini::Locator;
use preau::modules::viescolaire::calendar::{DateTime, Time};
use preau::modules::viescolaire::queries;
use preau::modules::viescolaire::timetable::{Exception, ExceptionKind, Service};
use std::io::BufRead;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00,
    0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f, 0x0f, 0x00, 0x02,
    0x87, 0x01, 0x80, 0xeb, 0x47, 0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42,
    0x60, 0x82,
];

struct Demo {
    dir: tempfile::TempDir,
    child: Child,
    url: String,
    accounts: serde_json::Value,
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
        let demo: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        Demo {
            dir,
            child,
            url: demo["url"].as_str().unwrap().to_string(),
            accounts: demo["accounts"].clone(),
        }
    }

    /// (login, password) of a role's account.
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
}

async fn phone() -> Browser {
    let b = Browser::start().await;
    b.client.set_window_size(390, 844).await.unwrap();
    b
}

async fn sign_in(b: &Browser, base: &str, (login, password): &(String, String)) {
    b.goto(&format!("{base}/connexion")).await;
    b.fill("#login", login).await;
    b.fill("#password", password).await;
    b.click_and_load("button[type=submit]").await;
    b.wait_path("/").await;
}

async fn wait_text(b: &Browser, css: &str, want: &str, secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Ok(e) = b.client.find(Locator::Css(css)).await
            && let Ok(t) = e.text().await
            && t.contains(want)
        {
            return t;
        }
        assert!(Instant::now() < deadline, "{css} never showed {want:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roll_office_justification_and_refusal_in_chromium_at_phone_width() {
    let demo = Demo::start();
    let base = demo.url.trim_end_matches('/').to_string();
    let (teacher, cpe, parent, student) = (
        demo.account("teacher"),
        demo.account("cpe"),
        demo.account("parent"),
        demo.account("student"),
    );
    // The teacher's lesson today with the student's class (an exceptional
    // lesson, so that the test runs on any day).
    let (student_id, late_id, other_login, key) = {
        let mut store = demo.store();
        let conn = store.conn();
        let s = preau::directory::person_by_login(conn, &student.0)
            .unwrap()
            .unwrap();
        let class = preau::directory::class_of(conn, s.id).unwrap().unwrap();
        let t = preau::directory::person_by_login(conn, &teacher.0)
            .unwrap()
            .unwrap();
        let subject: String = conn
            .query_row(
                "SELECT subject_code FROM services WHERE teacher_id = ?1 AND structure_id = ?2",
                [t.id, class.id],
                |r| r.get(0),
            )
            .unwrap();
        let classmates = queries::roster(conn, class.id).unwrap();
        let late = classmates.iter().find(|c| c.0 != s.id).unwrap().0;
        let other: String = conn
            .query_row(
                "SELECT p.login FROM people p JOIN memberships m ON m.person_id = p.id
                 WHERE p.kind = 'student' AND m.structure_id <> ?1 LIMIT 1",
                [class.id],
                |r| r.get(0),
            )
            .unwrap();
        let today = DateTime::now_local().date;
        let year = queries::current_year(conn, today).unwrap().unwrap();
        let cal = queries::calendar(conn, &year).unwrap();
        let e = Exception {
            id: 0,
            slot_id: None,
            date: today,
            kind: ExceptionKind::Extra {
                service: Service {
                    teacher_id: t.id,
                    subject_code: subject,
                    structure_id: class.id,
                },
                starts: Time::hm(7, 0),
                ends: Time::hm(7, 55),
                room: "S-TEST".into(),
            },
            reason: "cours de test".into(),
        };
        let id = store
            .write(|tx| queries::add_exception(tx, &cal, &e, "test", &DateTime::now_local().stamp()))
            .unwrap();
        (s.id, late, other, format!("{today}_x{id}"))
    };

    // The office's page is open before the roll is taken.
    let office = phone().await;
    sign_in(&office, &base, &cpe).await;
    office.goto(&format!("{base}/vie-scolaire/absences")).await;
    office.assert_no_inline().await;

    // The teacher: his day, the lesson, the roll on one screen.
    let b = phone().await;
    sign_in(&b, &base, &teacher).await;
    b.click_and_load("a[href='/vie-scolaire/journee']").await;
    b.assert_no_inline().await;
    b.screenshots("vs-journee").await;
    b.click_and_load(&format!("a[href='/vie-scolaire/appel/{key}']"))
        .await;
    b.wait_path(&format!("/vie-scolaire/appel/{key}")).await;
    b.assert_no_inline().await;
    // The labels are the buttons (the radios stay for the keyboard).
    b.click(&format!("#eleve-{student_id} label:has(input[value=absent])"))
        .await;
    b.click(&format!("#eleve-{late_id} label:has(input[value=late])"))
        .await;
    b.fill(&format!("#eleve-{late_id} input[type=number]"), "12")
        .await;
    b.click(&format!("#eleve-{late_id} .roll-remark summary")).await;
    b.fill(&format!("#eleve-{late_id} input[type=text]"), "bus en retard")
        .await;
    assert!(
        b.text("[data-roll-count]")
            .await
            .contains("1 absent(s), 1 retard(s)")
    );
    b.screenshots("vs-appel").await;
    b.click_and_load(".roll-save button").await;
    assert!(b.text("#enregistre").await.contains("Appel enregistré"));
    b.assert_no_inline().await;
    b.screenshots("vs-appel-enregistre").await;
    b.close().await;

    // The office sees the absence arrive (polling, no reload) and records a reason.
    let row = format!("tr[data-eleve='{}']", student.0);
    wait_text(&office, &row, "absent", 20).await;
    office.screenshots("vs-absences-direct").await;
    office
        .client
        .find(Locator::Css(&format!("{row} select[name=motif]")))
        .await
        .unwrap()
        .select_by_value("FAM")
        .await
        .unwrap();
    office
        .click_and_load(&format!("{row} form.inline-reason button"))
        .await;
    assert!(office.text("#enregistre").await.contains("Absence enregistrée"));
    assert!(office.text(&row).await.contains("Raison familiale"));
    office.assert_no_inline().await;

    // The parent: the child's page, a justification with a photo.
    let p = phone().await;
    sign_in(&p, &base, &parent).await;
    p.click_and_load("a[href='/vie-scolaire/assiduite']").await;
    p.wait_path(&format!("/vie-scolaire/eleves/{}/absences", student.0))
        .await;
    p.assert_no_inline().await;
    assert!(p.text("#journee").await.contains("absent"));
    p.click("ul.events details.justify summary").await;
    let form = "ul.events details.justify form";
    p.client
        .find(Locator::Css(&format!("{form} select[name=motif]")))
        .await
        .unwrap()
        .select_by_value("MED")
        .await
        .unwrap();
    p.fill(&format!("{form} textarea"), "Rendez-vous chez le dentiste")
        .await;
    let photo = demo.dir.path().join("ordonnance.png");
    std::fs::write(&photo, PNG).unwrap();
    p.client
        .find(Locator::Css(&format!("{form} input[type=file]")))
        .await
        .unwrap()
        .send_keys(photo.to_str().unwrap())
        .await
        .unwrap();
    p.screenshots("vs-justifier").await;
    p.click_and_load(&format!("{form} button[type=submit]")).await;
    assert!(p.text("#envoye").await.contains("Justificatif envoyé"));
    assert!(p.text("#justificatifs").await.contains("en attente"));
    p.assert_no_inline().await;

    // The office accepts it, after opening the photo.
    office.goto(&format!("{base}/vie-scolaire/justificatifs")).await;
    office.assert_no_inline().await;
    let j: i64 = demo
        .store()
        .conn()
        .query_row(
            "SELECT j.id FROM vs_justifications j JOIN vs_absence_events e ON e.id = j.event_id
             WHERE e.student_id = ?1 AND j.comment = 'Rendez-vous chez le dentiste'",
            [student_id],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        office
            .text(&format!("#justificatif-{j}"))
            .await
            .contains("ouvrir")
    );
    office.screenshots("vs-justificatifs").await;
    office
        .click_and_load(&format!("#justificatif-{j} button[value=accepter]"))
        .await;
    assert!(office.text("#fait").await.contains("accepté"));
    office.close().await;

    // The parent sees it accepted; another child's page is not found.
    p.goto(&format!("{base}/vie-scolaire/eleves/{}/absences", student.0))
        .await;
    assert!(
        p.text(&format!("#justificatif-{j}")).await.contains("accepté"),
        "{}",
        p.body().await
    );
    p.screenshots("vs-justificatif-accepte").await;
    p.goto(&format!("{base}/vie-scolaire/eleves/{other_login}/absences"))
        .await;
    let page = p.body().await;
    assert!(page.contains("Page introuvable"), "{page}");
    p.assert_no_inline().await;
    p.close().await;
}

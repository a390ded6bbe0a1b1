//! The roll, the office's absences and the parents' justifications
//! through the real router and store, in process: every answer of the
//! guard (`authz::decide`), the forms' refusals (nothing changed), the
//! stored attachment and how it is served back.

use crate::config::Config;
use crate::directory::{Kind, NewPerson, insert_person};
use crate::host::{Host as _, RealHost};
use crate::modules::viescolaire::calendar::{DAY_NAMES, DateTime};
use crate::modules::viescolaire::queries;
use crate::store::Store;
use crate::web::{Web, headers, router, session};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;

struct World {
    dir: tempfile::TempDir,
    db: PathBuf,
    app: Router,
    lesson: String,
}

struct Answer {
    status: u16,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: header::HeaderName) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }
}

/// Paul teaches maths to 6A (a lesson today), Léa is in 6A, Tom in 5B;
/// Anne is Léa's legal guardian, Marc a non-legal contact; Claire is the
/// CPE.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::default();
    let host = RealHost::new(dir.path());
    let db = host.real_path(&Path::new(&config.paths.state_dir).join(crate::store::DB_FILE));
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let mut store = Store::open(&db).unwrap();
    store
        .write(|tx| {
            let np = |kind, first: &str, last: &str, function: Option<&str>| NewPerson {
                kind: Some(kind),
                source: "manual".into(),
                first_name: first.into(),
                last_name: last.into(),
                function: function.map(str::to_string),
                ..Default::default()
            };
            let lea = insert_person(tx, &np(Kind::Student, "Léa", "Martin", None), "lea.martin", Some(10000))?;
            let tom = insert_person(tx, &np(Kind::Student, "Tom", "Roux", None), "tom.roux", Some(10003))?;
            let paul = insert_person(tx, &np(Kind::Teacher, "Paul", "Blanc", Some("ENS")), "paul.blanc", Some(10001))?;
            let anne = insert_person(tx, &np(Kind::Parent, "Anne", "Martin", None), "anne.martin", None)?;
            let marc = insert_person(tx, &np(Kind::Parent, "Marc", "Martin", None), "marc.martin", None)?;
            insert_person(tx, &np(Kind::Staff, "Claire", "Dumas", Some("EDU")), "claire.dumas", Some(10004))?;
            for (code, gid) in [("6A", 20000), ("5B", 20001)] {
                tx.execute(
                    "INSERT INTO structures (kind, code, label, group_name, gid) VALUES ('class', ?1, ?1, lower('c-' || ?1), ?2)",
                    rusqlite::params![code, gid],
                )?;
            }
            tx.execute("INSERT INTO memberships SELECT ?1, id FROM structures WHERE code = '6A'", [lea])?;
            tx.execute("INSERT INTO memberships SELECT ?1, id FROM structures WHERE code = '5B'", [tom])?;
            tx.execute("INSERT INTO services SELECT ?1, 'MATHS', id FROM structures WHERE code = '6A'", [paul])?;
            tx.execute(
                "INSERT INTO parent_links (parent_id, child_id, legal) VALUES (?1, ?3, 1), (?2, ?3, 0)",
                [anne, marc, lea],
            )?;
            Ok::<_, anyhow::Error>(())
        })
        .unwrap();
    let today = DateTime::now_local().date;
    let year = store
        .write(|tx| queries::set_year(tx, "année", today.add_days(-60), today.add_days(200), &[]))
        .unwrap();
    let year = queries::Year {
        id: year,
        label: "année".into(),
        starts: today.add_days(-60),
        ends: today.add_days(200),
    };
    let day = DAY_NAMES[usize::from(today.weekday() - 1)];
    let csv =
        format!("teacher;subject;class;day;start;end;room\npaul.blanc;MATHS;6A;{day};08:00;08:55;B12\n");
    crate::modules::viescolaire::import::timetable(
        &mut store,
        &year,
        "t.csv",
        csv.as_bytes(),
        crate::modules::viescolaire::import::Format::Csv,
        year.starts,
    )
    .unwrap();
    let lessons = queries::lessons(store.conn(), &year, today, today).unwrap();
    let lesson = queries::roll::lesson_key(&lessons[0]);
    let config = Arc::new(config);
    let web = Web::new(host, PathBuf::from("/etc/preau/preau.toml"), move || {
        config.clone()
    });
    World {
        dir,
        db,
        app: headers::secure(router(Arc::new(web))),
        lesson,
    }
}

impl World {
    fn store(&self) -> Store {
        Store::open(&self.db).unwrap()
    }

    /// A session of `login`: (cookie header, form token).
    fn session(&self, login: &str) -> (String, String) {
        let mut store = self.store();
        let token = session::create(&mut store, login, false, false, "127.0.0.1", session::now()).unwrap();
        let s = session::lookup(&mut store, &token, session::now(), &Default::default())
            .unwrap()
            .unwrap();
        (format!("{}={token}", session::COOKIE), s.csrf)
    }

    fn count(&self, sql: &str) -> i64 {
        self.store().conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    async fn send(&self, req: Request<Body>) -> Answer {
        let r = self.app.clone().oneshot(req).await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str, who: &(String, String)) -> Answer {
        let req = Request::get(path)
            .header(header::COOKIE, &who.0)
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    async fn post(&self, path: &str, who: &(String, String), form: &str) -> Answer {
        let req = Request::post(path)
            .header(header::COOKIE, &who.0)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(format!("csrf={}&{form}", who.1)))
            .unwrap();
        self.send(req).await
    }

    async fn multipart(
        &self,
        path: &str,
        who: &(String, String),
        fields: &[(&str, &str)],
        file: Option<&[u8]>,
    ) -> Answer {
        let b = "----preau-test-boundary";
        let mut body = Vec::new();
        let mut all = vec![("csrf", who.1.as_str())];
        all.extend_from_slice(fields);
        for (k, v) in all {
            body.extend_from_slice(
                format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
            );
        }
        if let Some(f) = file {
            body.extend_from_slice(
                format!(
                    "--{b}\r\nContent-Disposition: form-data; name=\"piece\"; filename=\"scan.png\"\r\nContent-Type: image/png\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(f);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{b}--\r\n").as_bytes());
        let req = Request::post(path)
            .header(header::COOKIE, &who.0)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={b}"))
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }
}

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
];

#[tokio::test]
async fn roll_office_and_justification_through_the_router() {
    let w = world();
    let (paul, tom, anne, marc, cpe) = (
        w.session("paul.blanc"),
        w.session("tom.roux"),
        w.session("anne.martin"),
        w.session("marc.martin"),
        w.session("claire.dumas"),
    );
    let roll = format!("/vie-scolaire/appel/{}", w.lesson);
    let lea: i64 = w.count("SELECT id FROM people WHERE login = 'lea.martin'");

    // The teacher's day leads to the roll; everybody is present at first.
    let day = w.get("/vie-scolaire/journee", &paul).await;
    assert!(day.text().contains(&roll), "{}", day.text());
    let page = w.get(&roll, &paul).await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains("Martin Léa") && !page.text().contains("Roux Tom"));
    // Wrong minutes: a French message, nothing stored.
    let bad = w
        .post(&roll, &paul, &format!("p{lea}=late&m{lea}=beaucoup"))
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("minutes de retard"), "{}", bad.text());
    assert_eq!(w.count("SELECT count(*) FROM vs_attendance"), 0);
    // Léa absent, saved once; then corrected to late, kept in the history.
    let saved = w
        .post(&roll, &paul, &format!("p{lea}=absent&m{lea}=&r{lea}="))
        .await;
    assert_eq!(saved.status, 303, "{}", saved.text());
    assert!(saved.header(header::LOCATION).contains("enregistre=1"));
    assert_eq!(
        w.count("SELECT count(*) FROM vs_attendance WHERE status = 'absent'"),
        1
    );
    assert_eq!(
        w.count("SELECT count(*) FROM audit_log WHERE action = 'appel'"),
        1
    );

    // Others may not open this roll, nor Léa's absences.
    assert_eq!(w.get(&roll, &tom).await.status, 404);
    assert_eq!(w.get(&roll, &anne).await.status, 404);
    assert_eq!(
        w.get("/vie-scolaire/appel/2026-12-01_999", &paul).await.status,
        403
    );
    for who in [&tom, &marc] {
        let a = w.get("/vie-scolaire/eleves/lea.martin/absences", who).await;
        assert_eq!(a.status, 404);
        assert!(!a.text().contains("Martin Léa"));
    }
    assert_eq!(w.get("/vie-scolaire/absences", &paul).await.status, 403);
    assert_eq!(w.get("/vie-scolaire/absences", &anne).await.status, 404);

    // The office sees it in the day's list and its live fragment.
    let office = w.get("/vie-scolaire/absences", &cpe).await;
    assert_eq!(office.status, 200, "{}", office.text());
    assert!(office.text().contains("Martin Léa"));
    let live = w.get("/vie-scolaire/absences/direct", &cpe).await;
    assert!(live.text().contains("Martin Léa") && !live.text().contains("<html"));
    // It records the reason (an event over the lesson); bad input changes nothing.
    let today = DateTime::now_local().date;
    let bad = w
        .post(
            "/vie-scolaire/absences",
            &cpe,
            &format!("eleve=lea.martin&du={today}&debut=09:00&fin=08:00&motif=MAL"),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("finir après"));
    let bad = w
        .post(
            "/vie-scolaire/absences",
            &cpe,
            &format!("eleve=nobody&du={today}&debut=08:00&fin=08:55&motif=MAL"),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(w.count("SELECT count(*) FROM vs_absence_events"), 0);
    let ok = w
        .post(
            "/vie-scolaire/absences",
            &cpe,
            &format!("eleve=lea.martin&du={today}&debut=08:00&fin=08:55&motif=FAM"),
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text());
    let event: i64 = w.count("SELECT id FROM vs_absence_events");
    assert!(
        w.get("/vie-scolaire/absences", &cpe)
            .await
            .text()
            .contains("Raison familiale")
    );

    // The parent sees it and sends a justification with a scan.
    let mine = w.get("/vie-scolaire/eleves/lea.martin/absences", &anne).await;
    assert_eq!(mine.status, 200, "{}", mine.text());
    assert!(mine.text().contains("Justifier cette absence"), "{}", mine.text());
    assert_eq!(
        w.get("/vie-scolaire/eleves/tom.roux/absences", &anne)
            .await
            .status,
        404
    );
    let html = b"<html><script>alert(1)</script></html>";
    let refused = w
        .multipart(
            "/vie-scolaire/eleves/lea.martin/justificatifs",
            &anne,
            &[
                ("evenement", &event.to_string()),
                ("motif", "MED"),
                ("commentaire", ""),
            ],
            Some(html),
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused.text().contains("PDF, une photo JPEG ou une image PNG"));
    // Over the size limit (5 MiB): refused while reading, nothing stored.
    let mut big = PNG.to_vec();
    big.resize(5 * 1024 * 1024 + 1, 0);
    let too_big = w
        .multipart(
            "/vie-scolaire/eleves/lea.martin/justificatifs",
            &anne,
            &[("evenement", &event.to_string()), ("motif", "MED")],
            Some(&big),
        )
        .await;
    assert_eq!(too_big.status, 400);
    assert!(too_big.text().contains("trop volumineux"), "{}", too_big.text());
    assert_eq!(w.count("SELECT count(*) FROM vs_attachments"), 0);
    // Not a multipart form: a French message, never a 500.
    let plain = w
        .post(
            "/vie-scolaire/eleves/lea.martin/justificatifs",
            &anne,
            "motif=MED",
        )
        .await;
    assert_eq!(plain.status, 400);
    assert!(plain.text().contains("rechargez la page"), "{}", plain.text());
    assert_eq!(w.count("SELECT count(*) FROM vs_justifications"), 0);
    // Another child's justification URL is not found.
    let other = w
        .multipart(
            "/vie-scolaire/eleves/tom.roux/justificatifs",
            &anne,
            &[("evenement", &event.to_string()), ("motif", "MED")],
            Some(PNG),
        )
        .await;
    assert_eq!(other.status, 404);
    let sent = w
        .multipart(
            "/vie-scolaire/eleves/lea.martin/justificatifs",
            &anne,
            &[
                ("evenement", &event.to_string()),
                ("motif", "MED"),
                ("commentaire", "Dentiste"),
            ],
            Some(PNG),
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.text());
    let j: i64 = w.count("SELECT id FROM vs_justifications");
    let rel: String = w
        .store()
        .conn()
        .query_row("SELECT path FROM vs_attachments", [], |r| r.get(0))
        .unwrap();
    let stored = w
        .dir
        .path()
        .join("var/lib/preau/viescolaire/attachments")
        .join(&rel);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&stored).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(std::fs::read(&stored).unwrap(), PNG);

    // The file: to the office and the parent, never sniffed; not to others.
    let piece = format!("/vie-scolaire/justificatifs/{j}/piece");
    let f = w.get(&piece, &cpe).await;
    assert_eq!((f.status, f.body.as_slice()), (200, PNG));
    assert_eq!(f.header(header::CONTENT_TYPE), "image/png");
    assert!(f.header(header::CONTENT_DISPOSITION).starts_with("attachment;"));
    assert_eq!(f.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(w.get(&piece, &anne).await.status, 200);
    assert_eq!(w.get(&piece, &tom).await.status, 404);
    assert_eq!(w.get(&piece, &marc).await.status, 404);
    assert_eq!(w.get(&piece, &paul).await.status, 403);

    // The office accepts it; the parent sees it accepted, the half-day justified.
    let list = w.get("/vie-scolaire/justificatifs", &cpe).await;
    assert!(list.text().contains("Dentiste"));
    assert_eq!(
        w.post(
            &format!("/vie-scolaire/justificatifs/{j}"),
            &cpe,
            "decision=peut-etre"
        )
        .await
        .status,
        400
    );
    let done = w
        .post(
            &format!("/vie-scolaire/justificatifs/{j}"),
            &cpe,
            "decision=accepter",
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.text());
    assert_eq!(
        w.post(
            &format!("/vie-scolaire/justificatifs/{j}"),
            &cpe,
            "decision=refuser"
        )
        .await
        .status,
        400,
        "decided once"
    );
    let mine = w
        .get("/vie-scolaire/eleves/lea.martin/absences", &anne)
        .await
        .text();
    assert!(mine.contains("accepté"), "{mine}");
    assert!(mine.contains("<dt>dont justifiées</dt><dd>1</dd>"), "{mine}");
    // The student sees his own page only.
    let lea_s = w.session("lea.martin");
    assert_eq!(
        w.get("/vie-scolaire/eleves/lea.martin/absences", &lea_s)
            .await
            .status,
        200
    );
    let home = w.get("/vie-scolaire/assiduite", &lea_s).await;
    assert_eq!(
        home.header(header::LOCATION),
        "/vie-scolaire/eleves/lea.martin/absences"
    );
    let home = w.get("/vie-scolaire/assiduite", &anne).await;
    assert_eq!(
        home.header(header::LOCATION),
        "/vie-scolaire/eleves/lea.martin/absences"
    );

    // The class summary and its CSV.
    let csv = w.get("/vie-scolaire/absences/bilan.csv?classe=6A", &cpe).await;
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert!(
        csv.text().contains("Martin Léa;lea.martin;1;1;0;0;1;"),
        "{}",
        csv.text()
    );
    assert_eq!(
        w.get("/vie-scolaire/absences/bilan?classe=9Z", &cpe).await.status,
        400
    );
    assert_eq!(
        w.get("/vie-scolaire/absences/bilan.csv?classe=6A", &anne)
            .await
            .status,
        404
    );
    for action in [
        "appel",
        "absence enregistrée",
        "justificatif envoyé",
        "justificatif",
    ] {
        assert!(
            w.count(&format!(
                "SELECT count(*) FROM audit_log WHERE action = '{action}'"
            )) >= 1,
            "{action} audited"
        );
    }
}

#[tokio::test]
async fn a_roll_correction_is_kept_in_the_history() {
    let w = world();
    let paul = w.session("paul.blanc");
    let roll = format!("/vie-scolaire/appel/{}", w.lesson);
    let lea: i64 = w.count("SELECT id FROM people WHERE login = 'lea.martin'");
    assert_eq!(w.post(&roll, &paul, &format!("p{lea}=absent")).await.status, 303);
    assert_eq!(
        w.post(&roll, &paul, &format!("p{lea}=late&m{lea}=12&r{lea}=bus"))
            .await
            .status,
        303
    );
    let page = w.get(&roll, &paul).await.text();
    assert!(
        page.contains("Corrections") && page.contains("en retard (12 min) — bus"),
        "{page}"
    );
    assert_eq!(w.count("SELECT count(*) FROM vs_attendance_history"), 2);
    // An oversized form is refused before anything is read.
    let big = format!("p{lea}=absent&r{lea}={}", "x".repeat(70 * 1024));
    assert_eq!(w.post(&roll, &paul, &big).await.status, 413);
}

/// The homework log's files: attached by the lesson's teacher once the
/// entry is written (PDF, JPEG, PNG judged by their bytes, the size
/// limit: a French message and nothing stored), stored 0600 under the
/// attachments directory, listed on the log page, the class log and the
/// to-do list, downloaded by the class's students, their legal guardians
/// and its teachers (others 404), removed by the teacher; audited.
#[tokio::test]
async fn homework_files_attached_downloaded_and_removed() {
    use std::os::unix::fs::PermissionsExt;
    let w = world();
    let slot: i64 = w
        .store()
        .conn()
        .query_row("SELECT id FROM vs_slots", [], |r| r.get(0))
        .unwrap();
    let today = DateTime::now_local().date;
    let log = format!("/vie-scolaire/cahier-de-textes/seance/{slot}-{today}");
    let attach = format!("{log}/pieces");
    let paul = w.session("paul.blanc");
    let files = || w.count("SELECT count(*) FROM vs_homework_attachments");
    let stored = || w.count("SELECT count(*) FROM vs_attachments");

    // Before the entry is written: nothing to attach to.
    let a = w.get(&log, &paul).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(a.text().contains("Enregistrez d&#39;abord"), "{}", a.text());
    let a = w.multipart(&attach, &paul, &[], Some(PNG)).await;
    assert_eq!(a.status, 400);
    assert!(
        a.text().contains("Enregistrez d&#39;abord le cahier de textes"),
        "{}",
        a.text()
    );
    assert_eq!(stored(), 0);

    let due = today.add_days(3);
    let a = w
        .post(
            &log,
            &paul,
            &format!("fait=Cours&travail=Lire+le+document&pour={due}"),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.text());

    // Refused: a type judged by its bytes (claimed PNG), too big, no
    // file, no form token; nothing stored.
    let a = w.multipart(&attach, &paul, &[], Some(b"GIF89a\x01\x00")).await;
    assert_eq!(a.status, 400);
    assert!(
        a.text()
            .contains("doit être un PDF, une photo JPEG ou une image PNG"),
        "{}",
        a.text()
    );
    let mut big = PNG.to_vec();
    big.resize(5 * 1024 * 1024 + 1, 0);
    let a = w.multipart(&attach, &paul, &[], Some(&big)).await;
    assert_eq!(a.status, 400);
    assert!(
        a.text().contains("trop volumineux (au plus 5 Mio)"),
        "{}",
        a.text()
    );
    let a = w.multipart(&attach, &paul, &[], None).await;
    assert_eq!(a.status, 400);
    assert!(a.text().contains("Choisissez un fichier"), "{}", a.text());
    let a = w
        .multipart(&attach, &(paul.0.clone(), "faux".into()), &[], Some(PNG))
        .await;
    assert_eq!(a.status, 403);
    assert_eq!((stored(), files()), (0, 0));
    // Not the lesson's teacher: 404 for a student.
    let tom = w.session("tom.roux");
    assert_eq!(w.multipart(&attach, &tom, &[], Some(PNG)).await.status, 404);
    assert_eq!(stored(), 0);

    // Attached: stored 0600 under the attachments directory.
    let a = w.multipart(&attach, &paul, &[], Some(PNG)).await;
    assert_eq!(a.status, 303, "{}", a.text());
    assert_eq!((stored(), files()), (1, 1));
    let (id, rel): (i64, String) = w
        .store()
        .conn()
        .query_row("SELECT id, path FROM vs_attachments", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let host = RealHost::new(w.dir.path());
    let on_disk =
        host.real_path(&crate::modules::viescolaire::attachments_dir(&Config::default()).join(&rel));
    assert_eq!(std::fs::read(&on_disk).unwrap(), PNG);
    assert_eq!(
        std::fs::metadata(&on_disk).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let url = format!("/vie-scolaire/cahier-de-textes/pieces/{id}");
    let page = w.get(&log, &paul).await.text();
    assert!(page.contains(&url) && page.contains("scan.png"), "{page}");

    // Listed on the to-do list and the class log.
    let lea = w.session("lea.martin");
    let todo = w.get("/vie-scolaire/travail", &lea).await.text();
    assert!(todo.contains(&url) && todo.contains("Lire le document"), "{todo}");
    let class = w
        .get("/vie-scolaire/cahier-de-textes/classe/6A", &paul)
        .await
        .text();
    assert!(class.contains(&url), "{class}");

    // Downloaded by Léa, her legal guardian, the teacher: as an attachment.
    for who in ["lea.martin", "anne.martin", "paul.blanc"] {
        let a = w.get(&url, &w.session(who)).await;
        assert_eq!(a.status, 200, "{who}");
        assert_eq!(a.body, PNG);
        assert_eq!(a.header(header::CONTENT_TYPE), "image/png");
        assert_eq!(
            a.header(header::CONTENT_DISPOSITION),
            "attachment; filename=\"scan.png\""
        );
        assert_eq!(a.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    }
    // Not: a student of another class, a non-legal contact; unknown file.
    for who in ["tom.roux", "marc.martin"] {
        assert_eq!(w.get(&url, &w.session(who)).await.status, 404, "{who}");
    }
    assert_eq!(
        w.get("/vie-scolaire/cahier-de-textes/pieces/999", &lea)
            .await
            .status,
        404
    );

    // Removed by the teacher (a student may not): row and file gone.
    let remove = format!("{log}/pieces/{id}/retirer");
    assert_eq!(w.post(&remove, &lea, "").await.status, 404);
    assert_eq!(files(), 1);
    let a = w.post(&remove, &paul, "").await;
    assert_eq!(a.status, 303, "{}", a.text());
    assert_eq!((stored(), files()), (0, 0));
    assert!(!on_disk.exists());
    assert_eq!(w.get(&url, &lea).await.status, 404);
    assert_eq!(w.post(&remove, &paul, "").await.status, 404);
    assert_eq!(
        w.count(
            "SELECT count(*) FROM audit_log WHERE action = 'cahier de textes' AND outcome LIKE 'document %'"
        ),
        2
    );
}

/// The weeks A/B page: the office alternates from a week or sets weeks
/// one by one (through the domain's `edit_weeks`, audited); bad input gets
/// a French message and changes nothing; a teacher gets 403, a student
/// 404.
#[tokio::test]
async fn weeks_a_b_are_set_on_the_web() {
    let w = world();
    let url = "/vie-scolaire/emploi-du-temps/semaines";
    let claire = w.session("claire.dumas");
    let monday = DateTime::now_local().date.monday();
    let next = monday.add_days(7);
    let letter = |m: crate::modules::viescolaire::calendar::Date| -> String {
        w.store()
            .conn()
            .query_row(
                "SELECT week FROM vs_weeks WHERE monday = ?1",
                [m.to_string()],
                |r| r.get(0),
            )
            .unwrap_or_default()
    };
    let weeks = || w.count("SELECT count(*) FROM vs_weeks");

    let a = w.get(url, &claire).await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(
        a.text().contains(&format!("name=\"semaine-{monday}\"")),
        "{}",
        a.text()
    );
    assert_eq!(weeks(), 0);

    let a = w
        .post(
            url,
            &claire,
            &format!("action=alterner&depuis={monday}&premiere=B"),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.text());
    assert_eq!((letter(monday), letter(next)), ("B".into(), "A".into()));
    let n = weeks();
    assert!(n > 20, "{n}");
    let a = w.get(&format!("{url}?enregistre=1"), &claire).await;
    assert!(a.text().contains("Semaines A et B enregistrées"), "{}", a.text());

    // Refused, nothing changed: a letter other than A/B, a day that is not
    // a Monday, a week outside the year, nothing sent, no form token.
    for (form, msg) in [
        (
            format!("action=alterner&depuis={monday}&premiere=C"),
            "Choisissez si",
        ),
        (
            format!("action=alterner&depuis={}&premiere=A", monday.add_days(1)),
            "pas le lundi d",
        ),
        (format!("semaine-{}=A", monday.add_days(7 * 60)), "pas le lundi d"),
        (
            format!("semaine-{monday}=X"),
            "une semaine est A, B ou sans lettre",
        ),
        (String::new(), "Aucune semaine"),
    ] {
        let a = w.post(url, &claire, &form).await;
        assert_eq!(a.status, 400, "{form}");
        assert!(a.text().contains(msg), "{form}: {}", a.text());
    }
    let a = w
        .send(
            axum::http::Request::post(url)
                .header(header::COOKIE, &claire.0)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "same-origin")
                .body(Body::from(format!("semaine-{monday}=A")))
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, 403);
    assert_eq!((weeks(), letter(monday)), (n, "B".into()));

    // Week by week: this week A, next without a letter.
    let a = w
        .post(url, &claire, &format!("semaine-{monday}=A&semaine-{next}="))
        .await;
    assert_eq!(a.status, 303, "{}", a.text());
    assert_eq!((letter(monday), letter(next)), ("A".into(), String::new()));
    assert_eq!(weeks(), n - 1);
    assert_eq!(
        w.count("SELECT count(*) FROM audit_log WHERE action = 'semaines A et B'"),
        2
    );

    // Not for teachers (403) nor students (404).
    let paul = w.session("paul.blanc");
    assert_eq!(w.get(url, &paul).await.status, 403);
    assert_eq!(
        w.post(url, &paul, &format!("semaine-{monday}=B")).await.status,
        403
    );
    let lea = w.session("lea.martin");
    assert_eq!(w.get(url, &lea).await.status, 404);
    assert_eq!(letter(monday), "A");
}

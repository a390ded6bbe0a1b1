//! A student's marks page through the real router and store, in
//! process: the competences positioned per evaluation beside each mark,
//! with the marks' own access rules (published only; a parent reads his
//! child's page after the parents' publication moment; another student
//! gets 404).

use crate::config::Config;
use crate::directory::{Kind, NewPerson, insert_person};
use crate::host::{Host as _, RealHost};
use crate::modules::viescolaire::calendar::{DateTime, Time};
use crate::modules::viescolaire::grades::{EvalKind, Mark};
use crate::modules::viescolaire::queries::{self, NewEvaluation, NewPeriod};
use crate::modules::viescolaire::timetable::Service;
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
    _dir: tempfile::TempDir,
    db: PathBuf,
    app: Router,
}

/// Léa and Tom are in 6A and 5B; Paul teaches maths (061300) to 6A;
/// Anne is Léa's legal guardian. Four
/// evaluations of Léa's maths this period:
/// - "Devoir 1", published yesterday: 15/20, two competences positioned;
/// - "Exposé", published yesterday: no mark, one competence (instead of a mark);
/// - "Devoir 2", published to nobody yet: 8/20 and one competence;
/// - "Oral", published to students yesterday, to parents tomorrow: 12/20
///   and one competence.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::default();
    let host = RealHost::new(dir.path());
    let db = host.real_path(&Path::new(&config.paths.state_dir).join(crate::store::DB_FILE));
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let mut store = Store::open(&db).unwrap();
    let now = DateTime::now_local();
    let today = now.date;
    let at = |days: i32| DateTime {
        date: today.add_days(days),
        time: Time::hm(18, 0),
    };
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
            for (code, gid) in [("6A", 20000), ("5B", 20001)] {
                tx.execute(
                    "INSERT INTO structures (kind, code, label, group_name, gid) VALUES ('class', ?1, ?1, lower('c-' || ?1), ?2)",
                    rusqlite::params![code, gid],
                )?;
            }
            tx.execute("INSERT INTO subjects (code, short, label) VALUES ('061300', 'MATHS', 'Mathématiques')", [])?;
            tx.execute("INSERT INTO memberships SELECT ?1, id FROM structures WHERE code = '6A'", [lea])?;
            tx.execute("INSERT INTO memberships SELECT ?1, id FROM structures WHERE code = '5B'", [tom])?;
            tx.execute("INSERT INTO services SELECT ?1, '061300', id FROM structures WHERE code = '6A'", [paul])?;
            tx.execute(
                "INSERT INTO parent_links (parent_id, child_id, legal) VALUES (?1, ?2, 1)",
                [anne, lea],
            )?;
            let year = queries::set_year(
                tx,
                "année",
                today.add_days(-60),
                today.add_days(200),
                &[NewPeriod {
                    label: "Trimestre 1".into(),
                    starts: today.add_days(-60),
                    ends: today.add_days(200),
                }],
            )?;
            let period = queries::period(tx, year, 1)?;
            let class: i64 = tx.query_row("SELECT id FROM structures WHERE code = '6A'", [], |r| r.get(0))?;
            let evaluation = |title: &str, day: i32, students: i32, parents: i32| -> anyhow::Result<i64> {
                queries::add_evaluation(
                    tx,
                    &NewEvaluation {
                        period_id: period.id,
                        service: Service {
                            teacher_id: paul,
                            subject_code: "061300".into(),
                            structure_id: class,
                        },
                        title: title.into(),
                        date: today.add_days(day),
                        coefficient: 100,
                        out_of: 2000,
                        kind: EvalKind::Counts,
                        publish_students_at: at(students),
                        publish_parents_at: at(parents),
                    },
                    "test",
                )
            };
            let devoir1 = evaluation("Devoir 1", -20, -1, -1)?;
            let expose = evaluation("Exposé", -15, -1, -1)?;
            let devoir2 = evaluation("Devoir 2", -10, 1, 1)?;
            let oral = evaluation("Oral", -5, -1, 1)?;
            for (e, v) in [(devoir1, 1500), (devoir2, 800), (oral, 1200)] {
                queries::set_mark(tx, e, lea, Some(Mark::Value(v)), "paul.blanc", "x")?;
            }
            for (e, code, level) in [
                (devoir1, "CPD_FRA", 3),
                (devoir1, "MET_APP", 4),
                (expose, "CPD_SCI", 2),
                (devoir2, "CPD_FRA", 1),
                (oral, "FRM_CIT", 2),
            ] {
                queries::set_competence(tx, lea, code, period.id, Some(e), level, "paul.blanc", "x")?;
            }
            // A period positioning is not an evaluation's.
            queries::set_competence(tx, lea, "REP_MND", period.id, None, 4, "paul.blanc", "x")?;
            Ok::<_, anyhow::Error>(())
        })
        .unwrap();
    let config = Arc::new(config);
    let web = Web::new(host, PathBuf::from("/etc/preau/preau.toml"), move || {
        config.clone()
    });
    World {
        _dir: dir,
        db,
        app: headers::secure(router(Arc::new(web))),
    }
}

impl World {
    /// The cookie header of a session of `login`.
    fn session(&self, login: &str) -> String {
        let mut store = Store::open(&self.db).unwrap();
        let token = session::create(&mut store, login, false, false, "127.0.0.1", session::now()).unwrap();
        format!("{}={token}", session::COOKIE)
    }

    async fn get(&self, path: &str, cookie: &str) -> (u16, String) {
        let req = Request::get(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap();
        let r = self.app.clone().oneshot(req).await.unwrap();
        let status = r.status().as_u16();
        let body = r.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }
}

/// The marks table of a page.
fn marks_table(page: &str) -> &str {
    let start = page.find("<table id=\"notes\">").expect("a marks table");
    let end = page[start..].find("</table>").unwrap() + start + "</table>".len();
    &page[start..end]
}

#[tokio::test]
async fn competences_per_evaluation_beside_the_marks_published_only() {
    let w = world();
    let page = "/vie-scolaire/notes/eleve/lea.martin";

    // Léa: her published marks, each with its positions; the exposé's
    // positions alone; nothing of "Devoir 2" (not published yet).
    let (status, body) = w.get(page, &w.session("lea.martin")).await;
    assert_eq!(status, 200, "{body}");
    let table = marks_table(&body);
    insta::assert_snapshot!("student_marks_with_competences", table);
    assert!(table.contains("15/20 <span class=\"positions\">(Devoir 1 — Comprendre, s"));
    assert!(table.contains("Exposé — ") && table.contains("Oral — "));
    assert!(!table.contains("Devoir 2") && !table.contains("8/20"), "{table}");
    assert!(table.contains("Maîtrise fragile") && !table.contains("Maîtrise insuffisante"));

    // Anne (legal guardian): the parents' moment of "Oral" is tomorrow.
    let (status, body) = w.get(page, &w.session("anne.martin")).await;
    assert_eq!(status, 200, "{body}");
    let table = marks_table(&body);
    assert!(
        table.contains("Devoir 1 — ") && table.contains("Exposé — "),
        "{table}"
    );
    assert!(!table.contains("Oral") && !table.contains("12/20") && !table.contains("Devoir 2"));

    // The teacher of the class sees every position, published or not.
    let (status, body) = w.get(page, &w.session("paul.blanc")).await;
    assert_eq!(status, 200, "{body}");
    let table = marks_table(&body);
    assert!(
        table.contains("8/20 <span class=\"positions\">(Devoir 2 — "),
        "{table}"
    );
    assert!(table.contains("Maîtrise insuffisante"));

    // Another student: not found.
    assert_eq!(w.get(page, &w.session("tom.roux")).await.0, 404);
}

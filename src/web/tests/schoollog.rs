//! School life, daily part, through the router in process: timetables,
//! the homework log, the timetable entry, messages' refusals; bad input
//! gets a French message and changes nothing; students and parents get
//! 404 for what is not theirs.

use super::*;
use crate::modules::viescolaire::calendar::Date;
use crate::modules::viescolaire::queries;

/// The world of `super::world` with a year and one Monday slot of Paul's
/// (MATHS, 6A, 08:00–08:55, B12); returns the store and the slot's id.
pub(super) fn with_timetable(w: &World) -> (Store, i64) {
    let config = Config::default();
    let db = w
        ._dir
        .path()
        .join(config.paths.state_dir.trim_start_matches('/'))
        .join(crate::store::DB_FILE);
    let mut store = Store::open(&db).unwrap();
    let d = |s| Date::parse(s).unwrap();
    let year = store
        .write(|tx| queries::set_year(tx, "2026-2027", d("2026-09-01"), d("2027-07-04"), &[]))
        .unwrap();
    let year = queries::Year {
        id: year,
        label: "2026-2027".into(),
        starts: d("2026-09-01"),
        ends: d("2027-07-04"),
    };
    let csv = "teacher;subject;class;day;start;end;room\npaul.blanc;MATHS;6A;lundi;08:00;08:55;B12\n";
    crate::modules::viescolaire::import::timetable(
        &mut store,
        &year,
        "t.csv",
        csv.as_bytes(),
        crate::modules::viescolaire::import::Format::Csv,
        year.starts,
    )
    .unwrap();
    let slot: i64 = store
        .conn()
        .query_row("SELECT id FROM vs_slots", [], |r| r.get(0))
        .unwrap();
    (store, slot)
}

fn cookie(token: &str) -> String {
    format!("{}={token}", session::COOKIE)
}

#[tokio::test]
async fn timetable_log_and_entry_with_their_refusals() {
    let w = world();
    let (store, slot) = with_timetable(&w);
    let key = format!("{slot}-2026-11-30");
    let log = format!("/vie-scolaire/cahier-de-textes/seance/{key}");
    let paul = w.sign_in("paul.blanc", PW).await.unwrap();
    let csrf = w.csrf_of(&paul).await;

    let week = w
        .get("/vie-scolaire/emploi-du-temps?semaine=2026-12-02", Some(&paul))
        .await;
    assert_eq!(week.status, 200, "{}", week.body);
    assert!(
        week.body.contains("08:00–08:55") && week.body.contains("B12"),
        "{}",
        week.body
    );
    assert!(week.body.contains(&log));
    no_inline_script_or_style(&week.body);
    for bad in ["?semaine=demain", "?jour=2026-13-01"] {
        let a = w
            .get(&format!("/vie-scolaire/emploi-du-temps{bad}"), Some(&paul))
            .await;
        assert_eq!(a.status, 400, "{bad}");
        assert!(a.body.contains("pas valide"), "{}", a.body);
    }

    // The teacher's log: a bad entry changes nothing, a good one is kept.
    let a = w.get(&log, Some(&paul)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    no_inline_script_or_style(&a.body);
    let a = w
        .post(
            &log,
            &cookie(&paul),
            &format!("csrf={csrf}&fait=&travail=Ex.+1&pour="),
        )
        .await;
    assert_eq!(a.status, 400);
    assert!(a.body.contains("Donnez la date"), "{}", a.body);
    let stored = |s: &Store| -> i64 {
        s.conn()
            .query_row("SELECT count(*) FROM vs_homework", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(stored(&store), 0);
    let a = w
        .post(&log, &cookie(&paul), "fait=x&travail=y&pour=2026-12-07")
        .await;
    assert_eq!(a.status, 403, "no form token");
    assert_eq!(stored(&store), 0);
    let a = w
        .post(
            &log,
            &cookie(&paul),
            &format!("csrf={csrf}&fait=Fractions&travail=Exercice+4+page+12&pour=2026-12-07"),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(stored(&store), 1);
    // His class's timetable links to its whole log, which has the entry.
    let class = w
        .get(
            "/vie-scolaire/emploi-du-temps/classe/6A?semaine=2026-11-30",
            Some(&paul),
        )
        .await;
    assert!(
        class.body.contains("/vie-scolaire/cahier-de-textes/classe/6A"),
        "{}",
        class.body
    );
    let a = w
        .get(
            "/vie-scolaire/cahier-de-textes/classe/6A?du=2026-11-01&au=2026-12-31",
            Some(&paul),
        )
        .await;
    assert!(a.body.contains("Exercice 4 page 12"), "{}", a.body);
    no_inline_script_or_style(&a.body);
    assert_eq!(
        w.get(
            "/vie-scolaire/cahier-de-textes/classe/6A?du=2026-12-31&au=2026-11-01",
            Some(&paul)
        )
        .await
        .status,
        400
    );
    // Another teacher's lesson, an unknown lesson, a malformed key.
    for k in [
        "999-2026-11-30",
        &format!("{slot}-2026-12-01"),
        "x",
        "1-2026-02-30",
    ] {
        let a = w
            .get(&format!("/vie-scolaire/cahier-de-textes/seance/{k}"), Some(&paul))
            .await;
        assert_eq!(a.status, 403, "{k}");
    }

    // Tom (5B) sees neither the log nor Léa's timetable; his list is empty.
    let tom = w.sign_in("tom.roux", PW).await.unwrap();
    for url in [
        log.as_str(),
        "/vie-scolaire/emploi-du-temps/eleve/lea.martin",
        "/vie-scolaire/emploi-du-temps/classe/6A",
        "/vie-scolaire/emploi-du-temps/salle/B12",
        "/vie-scolaire/cahier-de-textes/classe/6A",
        "/vie-scolaire/messages/nouveau",
        "/vie-scolaire/messages/1",
        "/vie-scolaire/emploi-du-temps/saisie",
    ] {
        assert_eq!(w.get(url, Some(&tom)).await.status, 404, "{url}");
    }
    let tom_csrf = w.csrf_of(&tom).await;
    let a = w
        .post(
            "/vie-scolaire/messages/nouveau/eleve/lea.martin",
            &cookie(&tom),
            &format!("csrf={tom_csrf}&objet=a&message=b"),
        )
        .await;
    assert_eq!(a.status, 404);
    let todo = w.get("/vie-scolaire/travail", Some(&tom)).await;
    assert_eq!(todo.status, 200);
    assert!(!todo.body.contains("Exercice 4 page 12"));

    // Anne, Léa's legal guardian, sees Léa's homework and timetable.
    let anne = w.sign_in("anne.martin", PW).await.unwrap();
    let todo = w.get("/vie-scolaire/travail", Some(&anne)).await;
    assert!(
        todo.body.contains("Exercice 4 page 12") && todo.body.contains("Léa Martin"),
        "{}",
        todo.body
    );
    no_inline_script_or_style(&todo.body);
    let a = w
        .get(
            "/vie-scolaire/emploi-du-temps/eleve/lea.martin?semaine=2026-11-30",
            Some(&anne),
        )
        .await;
    assert!(a.body.contains("08:00–08:55"), "{}", a.body);
    assert_eq!(
        w.get("/vie-scolaire/emploi-du-temps/eleve/tom.roux", Some(&anne))
            .await
            .status,
        404
    );

    // A teacher writes only about his classes (403: he is staff).
    let a = w
        .post(
            "/vie-scolaire/messages/nouveau/parents-classe/5B",
            &cookie(&paul),
            &format!("csrf={csrf}&objet=a&message=b"),
        )
        .await;
    assert_eq!(a.status, 403);
    let a = w
        .post(
            "/vie-scolaire/messages/nouveau/parents/lea.martin",
            &cookie(&paul),
            &format!("csrf={csrf}&objet=&message="),
        )
        .await;
    assert_eq!(a.status, 400);
    assert!(a.body.contains("Donnez un objet"), "{}", a.body);

    // The administrator changes the room of the lesson, and enters slots.
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let acsrf = w.csrf_of(&admin).await;
    let change = format!("/vie-scolaire/emploi-du-temps/changement/{key}");
    assert_eq!(w.get(&change, Some(&paul)).await.status, 403);
    let a = w
        .post(
            &change,
            &cookie(&admin),
            &format!("csrf={acsrf}&type=remplacement&remplacant=tom.roux"),
        )
        .await;
    assert_eq!(a.status, 400);
    assert!(a.body.contains("autre enseignant actif"), "{}", a.body);
    let a = w
        .post(
            &change,
            &cookie(&admin),
            &format!("csrf={acsrf}&type=salle&salle=C3&motif=travaux"),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let week = w
        .get("/vie-scolaire/emploi-du-temps?semaine=2026-11-30", Some(&paul))
        .await;
    assert!(
        week.body
            .contains("changement de salle : C3 au lieu de B12 (travaux)"),
        "{}",
        week.body
    );
    let a = w
        .post(
            "/vie-scolaire/emploi-du-temps/saisie",
            &cookie(&admin),
            &format!("csrf={acsrf}&enseignant=paul.blanc&matiere=MATHS&classe=6A&jour=lundi&semaines=toutes&debut=08:30&fin=09:30&salle=B12"),
        )
        .await;
    assert_eq!(a.status, 400);
    assert!(a.body.contains("déjà occupée"), "{}", a.body);
    let a = w
        .post(
            "/vie-scolaire/emploi-du-temps/saisie",
            &cookie(&admin),
            &format!("csrf={acsrf}&enseignant=paul.blanc&matiere=FRANCAIS&classe=6A&jour=mardi&debut=10:00&fin=11:00&salle=B12"),
        )
        .await;
    assert_eq!(a.status, 400);
    assert!(a.body.contains("enseigne pas"), "{}", a.body);
    let slots = |s: &Store| -> i64 {
        s.conn()
            .query_row("SELECT count(*) FROM vs_slots", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(slots(&store), 1);
    let a = w
        .post(
            "/vie-scolaire/emploi-du-temps/saisie",
            &cookie(&admin),
            &format!("csrf={acsrf}&enseignant=paul.blanc&matiere=MATHS&classe=6A&jour=mardi&semaines=A&debut=10:00&fin=11:00&salle=B12"),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("Enregistré"), "{}", a.body);
    assert_eq!(slots(&store), 2);
    let audit = w.get("/console/journal?q=saisie", Some(&admin)).await;
    assert!(audit.body.contains("créneau"), "{}", audit.body);

    // An unknown feed token is a 404, signed in or not.
    assert_eq!(
        w.get(
            "/vie-scolaire/agenda/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics",
            None
        )
        .await
        .status,
        404
    );
}

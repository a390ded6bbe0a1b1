//! Issue 10 for the school-life pages of the term and the log: grades,
//! report cards, the homework log and the phone calendar read in English
//! have no French left outside data, and still come out French by default.

use super::languages::{FRENCH_WORDS, found, get_in, visible_text};
use super::*;
use crate::modules::viescolaire::calendar::{DateTime, Time};
use crate::modules::viescolaire::grades::{EvalKind, Mark};
use crate::modules::viescolaire::queries::{self, NewEvaluation, NewPeriod};
use crate::modules::viescolaire::timetable::Service;

/// A year with one period around today, Paul's maths of 6A with an
/// evaluation ("Devoir 1", Léa 15/20, published) and one lesson a week.
fn with_term(w: &World) -> (i64, Vec<String>) {
    let (mut store, slot) = super::schoollog::with_timetable(w);
    let today = DateTime::now_local().date;
    let d = |s| crate::modules::viescolaire::calendar::Date::parse(s).unwrap();
    store
        .write(|tx| {
            let year = queries::set_year(
                tx,
                "2026-2027",
                d("2026-09-01"),
                d("2027-07-04"),
                &[NewPeriod {
                    label: "Trimestre 1".into(),
                    starts: d("2026-09-01"),
                    ends: d("2027-07-04"),
                }],
            )?;
            let period = queries::period(tx, year, 1)?;
            let id = |sql: &str| -> rusqlite::Result<i64> { tx.query_row(sql, [], |r| r.get(0)) };
            let class = id("SELECT id FROM structures WHERE code = '6A'")?;
            let paul = id("SELECT id FROM people WHERE login = 'paul.blanc'")?;
            let lea = id("SELECT id FROM people WHERE login = 'lea.martin'")?;
            let e = queries::add_evaluation(
                tx,
                &NewEvaluation {
                    period_id: period.id,
                    service: Service {
                        teacher_id: paul,
                        subject_code: "MATHS".into(),
                        structure_id: class,
                    },
                    title: "Devoir 1".into(),
                    date: today.add_days(-2),
                    coefficient: 100,
                    out_of: 2000,
                    kind: EvalKind::Counts,
                    publish_students_at: DateTime {
                        date: today.add_days(-1),
                        time: Time::hm(18, 0),
                    },
                    publish_parents_at: DateTime {
                        date: today.add_days(-1),
                        time: Time::hm(18, 0),
                    },
                },
                "test",
            )?;
            queries::set_mark(tx, e, lea, Some(Mark::Value(1500)), "paul.blanc", "x")?;
            Ok::<_, anyhow::Error>(())
        })
        .unwrap();
    // The socle's domains are the national framework's (reference data).
    let labels = crate::modules::viescolaire::queries::marks::competence_labels(store.conn())
        .unwrap()
        .into_values()
        .collect();
    (slot, labels)
}

/// Issue 10: every page of the share, in English with data, has no
/// frequent French word outside data; by default the same pages are French.
#[tokio::test]
async fn term_and_log_pages_in_english() {
    let w = world();
    let (slot, socle) = with_term(&w);
    let paul = w.sign_in("paul.blanc", PW).await.unwrap();
    let anne = w.sign_in("anne.martin", PW).await.unwrap();
    let mut data: Vec<&str> = socle.iter().map(String::as_str).collect();
    data.extend([
        "Paul Blanc",
        "BLANC Paul",
        "Blanc Paul",
        "Léa Martin",
        "Martin Léa",
        "MARTIN Léa",
        "Tom Roux",
        "Roux Tom",
        "Devoir 1",
        "Trimestre 1",
    ]);
    let pages: Vec<(String, &String, &str)> = vec![
        ("/vie-scolaire/notes".into(), &paul, "Classe ou groupe"),
        (
            "/vie-scolaire/notes/6A/MATHS".into(),
            &paul,
            "Nouvelle évaluation",
        ),
        (
            "/vie-scolaire/notes/evaluations/1".into(),
            &paul,
            "Historique des notes",
        ),
        (
            "/vie-scolaire/competences/6A/MATHS".into(),
            &paul,
            "Positionner sur",
        ),
        (
            "/vie-scolaire/bulletins/6A/appreciations/MATHS".into(),
            &paul,
            "Appréciation",
        ),
        (
            "/vie-scolaire/notes/eleve/lea.martin".into(),
            &anne,
            "Moyenne générale",
        ),
        (
            format!("/vie-scolaire/cahier-de-textes/seance/{slot}-2026-11-30"),
            &paul,
            "Ce qui a été fait",
        ),
        (
            "/vie-scolaire/cahier-de-textes/classe/6A".into(),
            &paul,
            "Aucune séance",
        ),
        ("/vie-scolaire/travail".into(), &anne, "Travail à faire"),
        ("/vie-scolaire/agenda".into(), &paul, "Agenda du téléphone"),
    ];
    let mut failed = Vec::new();
    for (path, who, french) in &pages {
        let en = get_in(&w, path, who, "en").await;
        assert_eq!(en.status, 200, "{path}: {}", en.body);
        let text = visible_text(&en.body, &data);
        let left = found(&text, FRENCH_WORDS);
        if !left.is_empty() || en.body.contains(french) {
            failed.push(format!("{path}: French left {left:?} in {text}"));
        }
        let fr = w.get(path, Some(who)).await;
        assert_eq!(fr.status, 200, "{path}");
        assert!(fr.body.contains(french), "{path}: no {french:?} in {}", fr.body);
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

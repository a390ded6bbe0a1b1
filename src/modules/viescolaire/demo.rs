//! The demo school's school life, for `preau demo`: a school year with
//! its terms and holidays, a week of timetable for classes 6A and 5A,
//! the rolls of that week (an absence with a parent's justification
//! waiting for the office, a late arrival), homework, a message thread, a
//! term of marks with competences, and the first term's report cards of
//! 6A closed. Everything goes through the module's domain functions
//! ([`queries`], [`report`]); marks are deterministic, not random.

use super::attendance::{self, Presence};
use super::calendar::{Date, DateTime, Time};
use super::grades::{EvalKind, Mark};
use super::queries::{self, NewEvaluation, NewPeriod, NewSlot, RollEntry};
use super::settings::VieScolaireSettings;
use super::timetable::{self, Service, Slot, Weeks};
use crate::store::Store;
use anyhow::Context as _;
use serde::Serialize;

/// What the demo filled.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Filled {
    pub slots: usize,
    pub rolls: usize,
    pub evaluations: usize,
    pub marks: usize,
    pub report_cards: usize,
    /// Homework log entries of the coming lessons.
    pub homework_ahead: usize,
}

/// The year `today` falls in (September to August).
fn school_year(today: Date) -> i32 {
    let (y, m, _) = today.parts();
    if m >= 8 { y } else { y - 1 }
}

fn d(y: i32, m: u32, day: u32) -> Date {
    Date::ymd(y, m, day).expect("a valid demo date")
}

/// A small deterministic spread of marks: 4 to 19.5 on /20.
fn spread(a: i64, b: i64) -> u32 {
    let h = (a.wrapping_mul(2_654_435_761) ^ b.wrapping_mul(40_503)).rem_euclid(32) as u32;
    400 + h * 50
}

/// Fills the demo school's school life as of `now`; does nothing when a
/// school year exists already.
pub fn fill(store: &mut Store, settings: &VieScolaireSettings, now: DateTime) -> anyhow::Result<Filled> {
    if queries::current_year(store.conn(), now.date)?.is_some() {
        return Ok(Filled::default());
    }
    let y = school_year(now.date);
    let (starts, ends) = (d(y, 9, 1), d(y + 1, 7, 4));
    let periods = [
        NewPeriod {
            label: "Trimestre 1".into(),
            starts,
            ends: d(y, 11, 30),
        },
        NewPeriod {
            label: "Trimestre 2".into(),
            starts: d(y, 12, 1),
            ends: d(y + 1, 3, 15),
        },
        NewPeriod {
            label: "Trimestre 3".into(),
            starts: d(y + 1, 3, 16),
            ends,
        },
    ];
    let holidays = vec![
        ("Vacances de la Toussaint".to_string(), d(y, 10, 17), d(y, 11, 1)),
        ("Vacances de Noël".to_string(), d(y, 12, 19), d(y + 1, 1, 3)),
        ("Vacances d'hiver".to_string(), d(y + 1, 2, 13), d(y + 1, 2, 28)),
        (
            "Vacances de printemps".to_string(),
            d(y + 1, 4, 10),
            d(y + 1, 4, 25),
        ),
    ];
    let stamp = now.stamp();
    let conn_classes = ["6A", "5A"];
    let mut filled = Filled::default();
    let year = store.write(|tx| {
        let id = queries::set_year(tx, &format!("{y}-{}", y + 1), starts, ends, &periods)?;
        queries::replace_holidays(tx, id, &holidays)?;
        let year = queries::Year {
            id,
            label: format!("{y}-{}", y + 1),
            starts,
            ends,
        };
        let h: Vec<(Date, Date)> = holidays.iter().map(|(_, a, b)| (*a, *b)).collect();
        queries::set_weeks(tx, &year, &timetable::alternate_weeks(starts, ends, &h, true))?;
        Ok::<_, anyhow::Error>(year)
    })?;
    // The timetable: 32 hours a week (no Wednesday afternoon); each
    // service of a class two hours, 5A shifted so no teacher is in two
    // places at once; a room per class.
    let hours = ["08:00", "09:00", "10:00", "11:00", "13:30", "14:30", "15:30"];
    let positions: Vec<(u8, &str)> = (1..=5u8)
        .flat_map(|day| {
            hours
                .iter()
                .enumerate()
                .filter(move |(i, _)| day != 3 || *i < 4)
                .map(move |(_, h)| (day, *h))
        })
        .collect();
    let mut slots = Vec::new();
    for (k, code) in conn_classes.iter().enumerate() {
        let class =
            crate::directory::structure(store.conn(), code)?.with_context(|| format!("demo class {code}"))?;
        let mut stmt = store.conn().prepare(
            "SELECT teacher_id, subject_code FROM services WHERE structure_id = ?1 ORDER BY subject_code",
        )?;
        let services: Vec<(i64, String)> = stmt
            .query_map([class.id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (i, (teacher, subject)) in services.iter().enumerate() {
            for j in 0..2 {
                let (day, at) = positions[(2 * i + j + 11 * k) % positions.len()];
                let starts = Time::parse(at).expect("demo hour");
                slots.push(NewSlot {
                    slot: Slot {
                        id: 0,
                        service: Service {
                            teacher_id: *teacher,
                            subject_code: subject.clone(),
                            structure_id: class.id,
                        },
                        weekday: day,
                        starts,
                        ends: starts.plus(55).expect("demo hour"),
                        room: format!("S{code}"),
                        weeks: if subject == "070200" && j == 1 {
                            Weeks::A
                        } else {
                            Weeks::All
                        },
                        valid_from: None,
                        valid_to: None,
                    },
                    source: "manual".into(),
                    source_key: Some("demo".into()),
                });
            }
        }
    }
    filled.slots = slots.len();
    store.write(|tx| queries::replace_timetable(tx, year.id, year.starts, &slots))?;

    // The rolls of the latest school week up to now.
    let mut monday = now.date.monday();
    let mut week = Vec::new();
    for _ in 0..12 {
        week = queries::lessons(store.conn(), &year, monday, monday.add_days(6))?;
        week.retain(|l| {
            l.takes_place
                && DateTime {
                    date: l.date,
                    time: l.ends,
                } <= now
        });
        if !week.is_empty() || monday <= year.starts {
            break;
        }
        monday = monday.add_days(-7);
    }
    let six_a = crate::directory::structure(store.conn(), "6A")?.context("demo class 6A")?;
    let roster6: Vec<i64> = queries::roster(store.conn(), six_a.id)?
        .iter()
        .map(|r| r.0)
        .collect();
    let (absent, late) = (roster6[0], roster6[1]);
    let first_day = week.first().map(|l| l.date);
    let noon = settings.noon();
    let mut late_done = false;
    for l in &week {
        let roster: Vec<i64> = queries::roster(store.conn(), l.service.structure_id)?
            .iter()
            .map(|r| r.0)
            .collect();
        let mut entries = Vec::new();
        if Some(l.date) == first_day && l.starts < noon && roster.contains(&absent) {
            entries.push(RollEntry {
                student_id: absent,
                presence: Presence::Absent,
                late_minutes: 0,
                remark: String::new(),
            });
        }
        if !late_done && Some(l.date) == first_day && l.starts >= noon && roster.contains(&late) {
            entries.push(RollEntry {
                student_id: late,
                presence: Presence::Late,
                late_minutes: 10,
                remark: "bus en retard".into(),
            });
            late_done = true;
        }
        let teacher: String = store.conn().query_row(
            "SELECT login FROM people WHERE id = ?1",
            [l.service.teacher_id],
            |r| r.get(0),
        )?;
        let at = DateTime {
            date: l.date,
            time: l.starts.plus(5).unwrap_or(l.starts),
        }
        .stamp();
        store.write(|tx| {
            let id = queries::lesson_id(tx, l)?;
            queries::save_roll(tx, id, &roster, &entries, &teacher, &at)?;
            if l.service.structure_id == six_a.id {
                let due = l.date.add_days(7);
                queries::add_homework(
                    tx,
                    id,
                    "Correction des exercices, nouvelle notion.",
                    "Exercices 3 à 5 page 42.",
                    Some(due),
                    &teacher,
                    &at,
                )?;
            }
            Ok::<_, anyhow::Error>(())
        })?;
        filled.rolls += 1;
    }
    // The absence as an event, with a parent's justification waiting.
    if let Some(day) = first_day {
        let parent = crate::directory::parents_of(store.conn(), absent)?
            .into_iter()
            .next();
        store.write(|tx| {
            let ev = queries::add_absence(
                tx,
                absent,
                DateTime {
                    date: day,
                    time: Time::hm(8, 0),
                },
                DateTime {
                    date: day,
                    time: noon,
                },
                None,
                "absent ce matin",
                "cpe",
                &stamp,
            )?;
            if let Some(p) = &parent {
                queries::justify(tx, ev, p.id, "MED", "Rendez-vous chez le médecin.", None, &stamp)?;
            }
            Ok::<_, anyhow::Error>(())
        })?;
    }
    // A message from the head teacher to the parents, and a reply.
    let head = crate::directory::head_teachers_of(store.conn(), "6A")?
        .into_iter()
        .next();
    let teacher_6a = match head {
        Some(h) => h.id,
        None => store.conn().query_row(
            "SELECT teacher_id FROM services WHERE structure_id = ?1 LIMIT 1",
            [six_a.id],
            |r| r.get(0),
        )?,
    };
    let parents: Vec<i64> = crate::directory::parents_of(store.conn(), absent)?
        .iter()
        .map(|p| p.id)
        .collect();
    if !parents.is_empty() {
        let (qs, qe) = settings.quiet();
        store.write(|tx| {
            let written = now;
            let m = queries::send_message(
                tx,
                None,
                "Absence de ce matin",
                teacher_6a,
                &parents,
                "Bonjour, votre enfant était absent ce matin. Pouvez-vous envoyer un justificatif ?",
                written,
                attendance::delivery(written, qs, qe, settings.quiet_weekends),
            )?;
            let thread: i64 = tx.query_row("SELECT thread_id FROM vs_messages WHERE id = ?1", [m], |r| {
                r.get(0)
            })?;
            queries::mark_read(tx, m, parents[0], &stamp)?;
            queries::send_message(
                tx,
                Some(thread),
                "",
                parents[0],
                &[teacher_6a],
                "Bonjour, c'est fait. Merci.",
                written,
                attendance::delivery(written, qs, qe, settings.quiet_weekends),
            )?;
            Ok::<_, anyhow::Error>(())
        })?;
    }
    // A term of marks in both classes, competences, comments, councils.
    let p1 = queries::period(store.conn(), year.id, 1)?;
    for code in conn_classes {
        let class = crate::directory::structure(store.conn(), code)?.context("demo class")?;
        let roster: Vec<i64> = queries::roster(store.conn(), class.id)?
            .iter()
            .map(|r| r.0)
            .collect();
        let mut stmt = store.conn().prepare(
            "SELECT teacher_id, subject_code FROM services WHERE structure_id = ?1 ORDER BY subject_code",
        )?;
        let services: Vec<(i64, String)> = stmt
            .query_map([class.id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        drop(stmt);
        for (teacher_id, subject) in &services {
            let login: String =
                store
                    .conn()
                    .query_row("SELECT login FROM people WHERE id = ?1", [teacher_id], |r| {
                        r.get(0)
                    })?;
            let evals = [
                ("Interrogation", 100u32, 2000u32, EvalKind::Counts, 20),
                ("Devoir surveillé", 200, 2000, EvalKind::Counts, 45),
                ("Exposé (facultatif)", 100, 1000, EvalKind::Optional, 70),
            ];
            for (n, (title, coef, out_of, kind, day)) in evals.iter().enumerate() {
                let date = p1.starts.add_days(*day);
                let publish = DateTime {
                    date: date.add_days(1),
                    time: Time::hm(17, 0),
                };
                let marks: Vec<(i64, Mark)> = roster
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let m = if i == 2 && n == 1 {
                            Mark::Abs
                        } else if i == 3 && subject == "100100" {
                            Mark::Disp
                        } else {
                            Mark::Value(spread(*s, *teacher_id + n as i64) * out_of / 2000)
                        };
                        (*s, m)
                    })
                    .collect();
                store.write(|tx| {
                    let e = queries::add_evaluation(
                        tx,
                        &NewEvaluation {
                            period_id: p1.id,
                            service: Service {
                                teacher_id: *teacher_id,
                                subject_code: subject.clone(),
                                structure_id: class.id,
                            },
                            title: title.to_string(),
                            date,
                            coefficient: *coef,
                            out_of: *out_of,
                            kind: *kind,
                            publish_students_at: publish,
                            publish_parents_at: publish,
                        },
                        &stamp,
                    )?;
                    for (s, m) in &marks {
                        queries::set_mark(tx, e, *s, Some(*m), &login, &stamp)?;
                    }
                    Ok::<_, anyhow::Error>(())
                })?;
                filled.evaluations += 1;
                filled.marks += marks.len();
            }
            store.write(|tx| {
                for s in &roster {
                    queries::set_comment(
                        tx,
                        p1.id,
                        *s,
                        subject,
                        *teacher_id,
                        "Trimestre sérieux, poursuivez vos efforts.",
                        &stamp,
                    )?;
                }
                Ok::<_, anyhow::Error>(())
            })?;
        }
        store.write(|tx| {
            queries::set_subject_coefficient(tx, class.id, "061300", 300, "direction", &stamp)?;
            queries::set_subject_coefficient(tx, class.id, "020100", 300, "direction", &stamp)?;
            for (i, s) in roster.iter().enumerate() {
                for (j, code) in [
                    "CPD_FRA", "CPD_ETR", "CPD_SCI", "CPD_ART", "MET_APP", "FRM_CIT", "SYS_NAT", "REP_MND",
                ]
                .iter()
                .enumerate()
                {
                    queries::set_competence(
                        tx,
                        *s,
                        code,
                        p1.id,
                        None,
                        1 + ((i + j) % 4) as u8,
                        "demo",
                        &stamp,
                    )?;
                }
                queries::set_comment(
                    tx,
                    p1.id,
                    *s,
                    "",
                    teacher_6a,
                    "Bon trimestre dans l'ensemble.",
                    &stamp,
                )?;
                queries::set_council(
                    tx,
                    p1.id,
                    *s,
                    "Passage conseillé",
                    if i % 5 == 0 { "Félicitations" } else { "" },
                    "direction",
                    &format!("{}T17:00", p1.ends),
                )?;
            }
            Ok::<_, anyhow::Error>(())
        })?;
    }
    filled.report_cards = super::report::close(
        store,
        settings,
        &year,
        &p1,
        "6A",
        "direction",
        &format!("{}T18:00", p1.ends.add_days(7)),
    )?;
    filled.homework_ahead = fill_homework_ahead(store, &year, now)?;
    fill_evaluation_competences(store, &p1, &stamp)?;
    Ok(filled)
}

/// Competences positioned per evaluation (branch grades): on each demo
/// class's maths and French "Devoir surveillé" of the first term, every
/// student gets the subject's socle component and "methods and tools"
/// (levels 1–4, spread), shown beside the mark on the student's and
/// parent's page. Returns how many positions.
fn fill_evaluation_competences(
    store: &mut Store,
    p1: &queries::Period,
    stamp: &str,
) -> anyhow::Result<usize> {
    let mut stmt = store.conn().prepare(
        "SELECT e.id, e.teacher_id, e.subject_code, e.structure_id FROM vs_evaluations e
         WHERE e.period_id = ?1 AND e.title = 'Devoir surveillé' AND e.subject_code IN ('061300', '020100')
         ORDER BY e.id",
    )?;
    let evaluations: Vec<(i64, i64, String, i64)> = stmt
        .query_map([p1.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    drop(stmt);
    let mut n = 0;
    for (e, teacher, subject, structure) in evaluations {
        let login: String =
            store
                .conn()
                .query_row("SELECT login FROM people WHERE id = ?1", [teacher], |r| r.get(0))?;
        let roster = queries::roster(store.conn(), structure)?;
        let component = if subject == "061300" { "CPD_SCI" } else { "CPD_FRA" };
        n += store.write(|tx| {
            let mut n = 0;
            for (s, _, _) in &roster {
                for (k, code) in [component, "MET_APP"].iter().enumerate() {
                    let level = 1 + (spread(*s, e + k as i64) % 4) as u8;
                    queries::set_competence(tx, *s, code, p1.id, Some(e), level, &login, stamp)?;
                    n += 1;
                }
            }
            Ok::<_, anyhow::Error>(n)
        })?;
    }
    Ok(n)
}

/// The homework log of the next lessons of every class (branch
/// schoollog): the first two lessons of each class and group from today
/// on get what will be done and homework due a week later, so that every
/// demo student and parent has a to-do list. Returns how many entries.
fn fill_homework_ahead(store: &mut Store, year: &queries::Year, now: DateTime) -> anyhow::Result<usize> {
    let lessons = queries::lessons(store.conn(), year, now.date, now.date.add_days(14))?;
    let mut per_structure: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    let mut n = 0;
    for l in lessons.iter().filter(|l| l.takes_place) {
        let count = per_structure.entry(l.service.structure_id).or_default();
        if *count >= 2 {
            continue;
        }
        *count += 1;
        let teacher: String = store.conn().query_row(
            "SELECT login FROM people WHERE id = ?1",
            [l.service.teacher_id],
            |r| r.get(0),
        )?;
        let work = if *count == 1 {
            "Relire la leçon et faire les exercices 1 et 2 du manuel."
        } else {
            "Préparer l'exposé : une page sur le thème donné en classe."
        };
        store.write(|tx| {
            queries::homework::save_log(
                tx,
                l,
                "Nouvelle notion, exemples au tableau.",
                work,
                Some(l.date.add_days(7)),
                &teacher,
                &now.stamp(),
            )
        })?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::viescolaire::{lsu, report};

    fn filled() -> (tempfile::TempDir, Store, Filled) {
        let (d, mut store) = crate::modules::viescolaire::import::tests::demo();
        let now = DateTime::parse("2026-12-01T12:00").unwrap();
        let f = fill(&mut store, &VieScolaireSettings::default(), now).unwrap();
        (d, store, f)
    }

    fn export(store: &Store) -> Result<String, Vec<lsu::Missing>> {
        let year = queries::current_year(store.conn(), Date::parse("2026-12-01").unwrap())
            .unwrap()
            .unwrap();
        let p1 = queries::period(store.conn(), year.id, 1).unwrap();
        let cards = report::frozen(store.conn(), &p1, "6A")
            .unwrap()
            .expect("6A closed");
        let ctx = lsu::Context {
            uai: "0999999X",
            principal: lsu::principal(store.conn()).unwrap(),
            millesime: "2026".into(),
            periods: 3,
            year_starts: year.starts.to_string(),
        };
        lsu::export(&ctx, &cards)
    }

    #[test]
    fn the_demo_fills_a_week_and_a_term() {
        let (_d, mut store, f) = filled();
        assert_eq!(f.slots, 44);
        assert!(f.rolls > 10, "{f:?}");
        assert_eq!(f.report_cards, 26);
        assert!(f.marks > 1000);
        let c = store.conn();
        let one = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(
            one("SELECT count(*) FROM vs_justifications WHERE state = 'received'"),
            1
        );
        assert!(one("SELECT count(*) FROM vs_attendance WHERE status = 'absent'") >= 1);
        assert_eq!(one("SELECT count(*) FROM vs_attendance WHERE status = 'late'"), 1);
        assert!(one("SELECT count(*) FROM vs_homework") > 0);
        assert_eq!(one("SELECT count(*) FROM vs_messages"), 2);
        assert_eq!(
            one("SELECT count(*) FROM vs_recipients WHERE read_at IS NOT NULL"),
            1
        );
        // The frozen card does not follow later edits, and cannot be edited.
        let before = export(&store).unwrap();
        let s: i64 = one("SELECT student_id FROM vs_report_cards LIMIT 1");
        assert!(
            store
                .write(|tx| tx.execute(
                    "UPDATE vs_report_cards SET content = '{}' WHERE student_id = ?1",
                    [s]
                ))
                .is_err()
        );
        store
            .write(|tx| tx.execute("UPDATE vs_marks SET value = 0 WHERE student_id = ?1", [s]))
            .unwrap();
        assert_eq!(export(&store).unwrap(), before);
        // Running it again changes nothing.
        let again = fill(
            &mut store,
            &VieScolaireSettings::default(),
            DateTime::parse("2026-12-01T12:00").unwrap(),
        )
        .unwrap();
        assert_eq!(again, Filled::default());
    }

    #[test]
    fn the_demo_positions_competences_on_evaluations() {
        let (_d, store, _) = filled();
        let c = store.conn();
        let n: i64 = c
            .query_row(
                "SELECT count(*) FROM vs_competence_levels WHERE evaluation_id > 0",
                [],
                |r| r.get(0),
            )
            .unwrap();
        // Two classes × two subjects × their students × two competences.
        assert!(n > 100, "{n}");
        let (student, period): (i64, i64) = c
            .query_row(
                "SELECT student_id, period_id FROM vs_competence_levels WHERE evaluation_id > 0 LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let seen = queries::marks::seen_evaluations(
            c,
            period,
            student,
            queries::Audience::Students(DateTime::parse("2030-01-01T00:00").unwrap()),
            Time::hm(17, 0),
        )
        .unwrap();
        assert!(
            seen.iter()
                .any(|e| e.title == "Devoir surveillé" && e.levels.len() == 2 && e.mark.is_some())
        );
    }

    /// `xmllint --schema` against the ministry's XSD (Debian
    /// libxml2-utils, listed in scripts/deps.txt).
    #[test]
    fn lsu_export_of_the_demo_school_validates() {
        let (dir, store, _) = filled();
        let xml = export(&store).unwrap();
        let file = dir.path().join("lsu-6A-T1.xml");
        std::fs::write(&file, &xml).unwrap();
        let xsd = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/modules/viescolaire/lsun/import-bilan-complet.xsd"
        );
        let out = std::process::Command::new("xmllint")
            .args(["--noout", "--schema", xsd])
            .arg(&file)
            .output()
            .expect("xmllint (libxml2-utils) is installed");
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            &xml[..xml.len().min(3000)]
        );
        assert!(
            xml.contains("<socle><domaine code=\"CPD_ART\""),
            "the socle is exported"
        );
        assert!(xml.contains("nb-abs-injustifiees=\"1\"") || xml.contains("nb-abs-justifiees=\"1\""));
    }

    #[test]
    fn a_missing_ine_and_council_decision_are_reported_by_name() {
        let (_d, mut store) = crate::modules::viescolaire::import::tests::demo();
        let (login, first, last): (String, String, String) = store
            .conn()
            .query_row(
                "SELECT p.login, p.first_name, p.last_name FROM people p JOIN memberships m ON m.person_id = p.id
                 JOIN structures s ON s.id = m.structure_id WHERE s.code = '6A' ORDER BY p.last_name, p.first_name LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        store
            .write(|tx| tx.execute("UPDATE people SET ine = NULL WHERE login = ?1", [&login]))
            .unwrap();
        fill(
            &mut store,
            &VieScolaireSettings::default(),
            DateTime::parse("2026-12-01T12:00").unwrap(),
        )
        .unwrap();
        let missing = export(&store).unwrap_err();
        assert_eq!(
            lsu::missing_list(&missing).1,
            [format!("{first} {last} ({login}) : pas d'INE")]
        );
    }
}

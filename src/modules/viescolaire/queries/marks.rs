//! SQL of the grade pages: evaluations of a service, the grid's marks,
//! the history of a cell, and the access facts the web's `authz::decide`
//! needs for grades and report cards (head-teacher classes, the service
//! of an evaluation, a class and its groups).

use super::{Period, Year};
use crate::modules::viescolaire::calendar::{Date, DateTime};
use crate::modules::viescolaire::grades::{EvalKind, Mark};
use anyhow::{Context as _, bail};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use std::collections::{BTreeSet, HashMap};

/// Codes of the classes a teacher is head teacher of.
pub fn head_of(conn: &Connection, teacher_id: i64) -> rusqlite::Result<BTreeSet<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.code FROM head_teachers h JOIN structures s ON s.id = h.class_id WHERE h.teacher_id = ?1",
    )?;
    let rows = stmt.query_map([teacher_id], |r| r.get(0))?;
    rows.collect()
}

/// The service of an evaluation: (structure code, subject code).
pub fn evaluation_service(conn: &Connection, id: i64) -> rusqlite::Result<Option<(String, String)>> {
    conn.prepare_cached(
        "SELECT s.code, e.subject_code FROM vs_evaluations e JOIN structures s ON s.id = e.structure_id WHERE e.id = ?1",
    )?
    .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()
}

/// A class's code and the codes of its groups; empty when `code` is not
/// a class.
pub fn class_structures(conn: &Connection, code: &str) -> rusqlite::Result<BTreeSet<String>> {
    let mut stmt = conn.prepare(
        "SELECT c.code FROM structures c WHERE c.code = ?1 AND c.kind = 'class'
         UNION SELECT g.code FROM structures c JOIN group_classes gc ON gc.class_id = c.id
             JOIN structures g ON g.id = gc.group_id WHERE c.code = ?1 AND c.kind = 'class'",
    )?;
    let rows = stmt.query_map([code], |r| r.get(0))?;
    rows.collect()
}

/// The period to show: the one asked for by number, else the one
/// containing `today`, else the last one started, else the first.
pub fn pick_period(
    conn: &Connection,
    year: &Year,
    number: Option<i64>,
    today: Date,
) -> anyhow::Result<Period> {
    let all = super::periods(conn, year.id)?;
    if let Some(n) = number {
        return all
            .into_iter()
            .find(|p| p.number == n)
            .with_context(|| format!("l'année n'a pas de période {n}"));
    }
    let current = all.iter().find(|p| p.starts <= today && today <= p.ends).cloned();
    let started = all.iter().rev().find(|p| p.starts <= today).cloned();
    current
        .or(started)
        .or_else(|| all.first().cloned())
        .context("l'année scolaire n'a aucune période")
}

/// A period's (number, first day, last day) by id.
pub fn period_of(conn: &Connection, period_id: i64) -> rusqlite::Result<(i64, String, String)> {
    conn.query_row(
        "SELECT number, starts, ends FROM vs_periods WHERE id = ?1",
        [period_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

/// Whether `student` is an active student of the structure.
pub fn in_roster(conn: &Connection, structure_id: i64, student: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM memberships m JOIN people p ON p.id = m.person_id
         WHERE m.structure_id = ?1 AND m.person_id = ?2 AND p.kind = 'student' AND p.status = 'active')",
    )?
    .query_row(params![structure_id, student], |r| r.get(0))
}

/// Every competence's label by code.
pub fn competence_labels(conn: &Connection) -> rusqlite::Result<std::collections::BTreeMap<String, String>> {
    let mut st = conn.prepare("SELECT code, label FROM vs_competences")?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// An evaluation as the pages show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub id: i64,
    pub period_id: i64,
    pub teacher_id: i64,
    pub subject_code: String,
    pub structure_id: i64,
    pub structure_code: String,
    pub title: String,
    pub date: Date,
    pub coefficient: u32,
    pub out_of: u32,
    pub kind: EvalKind,
    pub publish_students_at: DateTime,
    pub publish_parents_at: DateTime,
}

const EVAL_COLS: &str =
    "e.id, e.period_id, e.teacher_id, e.subject_code, e.structure_id, s.code, e.title, e.date,
    e.coefficient, e.out_of, e.kind, e.publish_students_at, e.publish_parents_at";

fn eval_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Evaluation> {
    let bad = |i: usize, s: String| rusqlite::Error::InvalidColumnType(i, s, rusqlite::types::Type::Text);
    let date: String = r.get(7)?;
    let kind: String = r.get(10)?;
    let ps: String = r.get(11)?;
    let pp: String = r.get(12)?;
    Ok(Evaluation {
        id: r.get(0)?,
        period_id: r.get(1)?,
        teacher_id: r.get(2)?,
        subject_code: r.get(3)?,
        structure_id: r.get(4)?,
        structure_code: r.get(5)?,
        title: r.get(6)?,
        date: Date::parse(&date).ok_or_else(|| bad(7, date.clone()))?,
        coefficient: r.get::<_, i64>(8)? as u32,
        out_of: r.get::<_, i64>(9)? as u32,
        kind: EvalKind::parse(&kind).unwrap_or(EvalKind::Counts),
        publish_students_at: DateTime::parse(&ps).ok_or_else(|| bad(11, ps.clone()))?,
        publish_parents_at: DateTime::parse(&pp).ok_or_else(|| bad(12, pp.clone()))?,
    })
}

pub fn evaluation(conn: &Connection, id: i64) -> rusqlite::Result<Option<Evaluation>> {
    conn.prepare_cached(&format!(
        "SELECT {EVAL_COLS} FROM vs_evaluations e JOIN structures s ON s.id = e.structure_id WHERE e.id = ?1"
    ))?
    .query_row([id], eval_row)
    .optional()
}

/// The evaluations of a service in a period, by date.
pub fn evaluations(
    conn: &Connection,
    period_id: i64,
    structure_id: i64,
    subject: &str,
) -> rusqlite::Result<Vec<Evaluation>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {EVAL_COLS} FROM vs_evaluations e JOIN structures s ON s.id = e.structure_id
         WHERE e.period_id = ?1 AND e.structure_id = ?2 AND e.subject_code = ?3 ORDER BY e.date, e.id"
    ))?;
    let rows = stmt.query_map(params![period_id, structure_id, subject], eval_row)?;
    rows.collect()
}

/// What an evaluation's edit form changes (the coefficient goes through
/// [`super::set_coefficient`], which records a change once marks exist).
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationEdit {
    pub title: String,
    pub date: Date,
    pub out_of: u32,
    pub kind: EvalKind,
    pub publish_students_at: DateTime,
    pub publish_parents_at: DateTime,
}

/// Updates an evaluation; refuses a scale below a mark already given.
pub fn update_evaluation(tx: &Transaction<'_>, id: i64, e: &EvaluationEdit) -> anyhow::Result<()> {
    if e.out_of == 0 {
        bail!("une évaluation est notée sur un nombre de points positif");
    }
    if e.publish_parents_at < e.publish_students_at {
        bail!("les responsables ne peuvent pas voir les notes avant les élèves");
    }
    let top: Option<i64> = tx.query_row(
        "SELECT max(value) FROM vs_marks WHERE evaluation_id = ?1",
        [id],
        |r| r.get(0),
    )?;
    if top.is_some_and(|t| t > i64::from(e.out_of)) {
        bail!("une note déjà saisie dépasse ce barème");
    }
    tx.execute(
        "UPDATE vs_evaluations SET title = ?2, date = ?3, out_of = ?4, kind = ?5, publish_students_at = ?6,
             publish_parents_at = ?7 WHERE id = ?1",
        params![
            id,
            e.title,
            e.date.to_string(),
            e.out_of,
            e.kind.as_str(),
            e.publish_students_at.stamp(),
            e.publish_parents_at.stamp()
        ],
    )?;
    Ok(())
}

/// The marks of some evaluations: (evaluation, student) → mark.
pub fn marks_of(conn: &Connection, evaluation_ids: &[i64]) -> rusqlite::Result<HashMap<(i64, i64), Mark>> {
    let mut stmt =
        conn.prepare("SELECT student_id, value, special FROM vs_marks WHERE evaluation_id = ?1")?;
    let mut out = HashMap::new();
    for id in evaluation_ids {
        let rows = stmt.query_map([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        for row in rows {
            let (student, v, s) = row?;
            if let Some(m) = Mark::from_columns(v, s.as_deref()) {
                out.insert((*id, student), m);
            }
        }
    }
    Ok(out)
}

/// One change of a cell, as the history shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub student: String,
    pub by: String,
    pub at: String,
    pub before: String,
    pub after: String,
}

/// Every change of an evaluation's marks, newest first.
pub fn history(conn: &Connection, evaluation_id: i64) -> rusqlite::Result<Vec<HistoryRow>> {
    let mut stmt = conn.prepare(
        "SELECT coalesce(p.last_name || ' ' || p.first_name, h.student_id), h.by, h.at,
                coalesce(h.before, ''), coalesce(h.after, '')
         FROM vs_marks_history h LEFT JOIN people p ON p.id = h.student_id
         WHERE h.evaluation_id = ?1 ORDER BY h.id DESC LIMIT 500",
    )?;
    let rows = stmt.query_map([evaluation_id], |r| {
        Ok(HistoryRow {
            student: r.get(0)?,
            by: r.get(1)?,
            at: r.get(2)?,
            before: r.get(3)?,
            after: r.get(4)?,
        })
    })?;
    rows.collect()
}

/// The subject's label, or its code.
pub fn subject_label(conn: &Connection, code: &str) -> rusqlite::Result<String> {
    conn.query_row(
        "SELECT coalesce((SELECT label FROM subjects WHERE code = ?1), ?1)",
        [code],
        |r| r.get(0),
    )
}

/// The classes of the students of a structure (a group spans several).
pub fn classes_of_students(conn: &Connection, students: &[i64]) -> rusqlite::Result<HashMap<i64, i64>> {
    let mut out = HashMap::new();
    for s in students {
        if let Some(c) = crate::directory::class_of(conn, *s)? {
            out.insert(*s, c.id);
        }
    }
    Ok(out)
}

/// The competences a subject's teacher positions: the socle's eight
/// components, then the subject's own, as (code, label).
pub fn competences_for(conn: &Connection, subject: &str) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT code, label FROM vs_competences WHERE kind = 'socle' OR (kind = 'subject' AND subject_code = ?1)
         ORDER BY kind = 'subject', rowid",
    )?;
    let rows = stmt.query_map([subject], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Positionings of some students for a period (`evaluation` 0) or for
/// one evaluation of it.
pub fn period_levels(
    conn: &Connection,
    period_id: i64,
    evaluation: i64,
    students: &[i64],
) -> rusqlite::Result<HashMap<(i64, String), u8>> {
    let mut stmt = conn.prepare(
        "SELECT competence_code, level FROM vs_competence_levels WHERE period_id = ?1 AND student_id = ?2
         AND evaluation_id = ?3",
    )?;
    let mut out = HashMap::new();
    for s in students {
        let rows = stmt.query_map(params![period_id, s, evaluation], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, u8>(1)?))
        })?;
        for row in rows {
            let (code, level) = row?;
            out.insert((*s, code), level);
        }
    }
    Ok(out)
}

/// Sets or clears (None) a positioning for a period (`evaluation` 0) or
/// one evaluation; whether it changed.
pub fn set_period_level(
    tx: &Transaction<'_>,
    student: i64,
    code: &str,
    period_id: i64,
    evaluation: i64,
    level: Option<u8>,
    by: &str,
    at: &str,
) -> anyhow::Result<bool> {
    let current: Option<u8> = tx
        .query_row(
            "SELECT level FROM vs_competence_levels WHERE student_id = ?1 AND competence_code = ?2
             AND period_id = ?3 AND evaluation_id = ?4",
            params![student, code, period_id, evaluation],
            |r| r.get(0),
        )
        .optional()?;
    if current == level {
        return Ok(false);
    }
    match level {
        Some(l) => super::set_competence(
            tx,
            student,
            code,
            period_id,
            (evaluation > 0).then_some(evaluation),
            l,
            by,
            at,
        )?,
        None => {
            tx.execute(
                "DELETE FROM vs_competence_levels WHERE student_id = ?1 AND competence_code = ?2
                 AND period_id = ?3 AND evaluation_id = ?4",
                params![student, code, period_id, evaluation],
            )?;
        }
    }
    Ok(true)
}

/// The subjects taught to a class or its groups: (code, label, class
/// coefficient in hundredths, 100 when unset).
pub fn class_subjects(conn: &Connection, class_id: i64) -> rusqlite::Result<Vec<(String, String, u32)>> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT v.subject_code, coalesce(s.label, v.subject_code),
                coalesce((SELECT coefficient FROM vs_subject_coefficients c WHERE c.class_id = ?1 AND c.subject_code = v.subject_code), 100)
         FROM services v LEFT JOIN subjects s ON s.code = v.subject_code
         WHERE v.structure_id = ?1 OR v.structure_id IN (SELECT group_id FROM group_classes WHERE class_id = ?1)
         ORDER BY 2",
    )?;
    let rows = stmt.query_map([class_id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u32))
    })?;
    rows.collect()
}

/// Per-student coefficients of a class's students: (student, name,
/// subject, coefficient).
pub fn student_coefficients(
    conn: &Connection,
    class_id: i64,
) -> rusqlite::Result<Vec<(i64, String, String, u32)>> {
    let mut stmt = conn.prepare(
        "SELECT p.id, p.last_name || ' ' || p.first_name, c.subject_code, c.coefficient
         FROM vs_student_coefficients c JOIN people p ON p.id = c.student_id
         JOIN memberships m ON m.person_id = p.id AND m.structure_id = ?1
         ORDER BY p.last_name, p.first_name, c.subject_code",
    )?;
    let rows = stmt.query_map([class_id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? as u32))
    })?;
    rows.collect()
}

/// Removes a student's own coefficient (the class's applies again).
pub fn clear_student_coefficient(
    tx: &Transaction<'_>,
    student: i64,
    subject: &str,
) -> rusqlite::Result<bool> {
    Ok(tx.execute(
        "DELETE FROM vs_student_coefficients WHERE student_id = ?1 AND subject_code = ?2",
        params![student, subject],
    )? > 0)
}

/// An evaluation as a student (or his parent) reads it on his marks
/// page: its mark ("12/20", as the report card writes it) and the
/// competences positioned on it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeenEvaluation {
    pub subject_code: String,
    pub title: String,
    pub mark: Option<String>,
    /// (competence label, level 1–4), the socle's components first.
    pub levels: Vec<(String, u8)>,
}

/// The evaluations of a student's class and groups in a period that
/// `audience` sees (published only, [`super::published`]) and that have
/// a mark or a competence position for him, in the report card's order
/// (subject, date).
pub fn seen_evaluations(
    conn: &Connection,
    period_id: i64,
    student_id: i64,
    audience: super::Audience,
    hour: crate::modules::viescolaire::calendar::Time,
) -> rusqlite::Result<Vec<SeenEvaluation>> {
    let mut levels: HashMap<i64, Vec<(String, u8)>> = HashMap::new();
    let mut st = conn.prepare_cached(
        "SELECT l.evaluation_id, c.label, l.level FROM vs_competence_levels l
         JOIN vs_competences c ON c.code = l.competence_code
         WHERE l.student_id = ?1 AND l.period_id = ?2 AND l.evaluation_id > 0
         ORDER BY l.evaluation_id, c.kind = 'subject', c.rowid",
    )?;
    for row in st.query_map(params![student_id, period_id], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, u8>(2)?))
    })? {
        let (e, label, level) = row?;
        levels.entry(e).or_default().push((label, level));
    }
    let mut st = conn.prepare_cached(
        "SELECT e.id, e.subject_code, e.title, e.out_of, m.value, m.special, e.publish_students_at, e.publish_parents_at
         FROM vs_evaluations e LEFT JOIN vs_marks m ON m.evaluation_id = e.id AND m.student_id = ?2
         WHERE e.period_id = ?1 AND e.structure_id IN (SELECT structure_id FROM memberships WHERE person_id = ?2)
         ORDER BY e.subject_code, e.date, e.id",
    )?;
    let rows = st.query_map(params![period_id, student_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, Option<i64>>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, String>(7)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, subject_code, title, out_of, value, special, ps, pp) = row?;
        let visible = match (DateTime::parse(&ps), DateTime::parse(&pp)) {
            (Some(a), Some(b)) => super::published(audience, a, b, hour),
            _ => false,
        };
        if !visible {
            continue;
        }
        let mark = Mark::from_columns(value, special.as_deref()).map(|m| {
            format!(
                "{m}/{}",
                crate::modules::viescolaire::grades::show_hundredths(out_of as u32)
            )
        });
        let levels = levels.remove(&id).unwrap_or_default();
        if mark.is_some() || !levels.is_empty() {
            out.push(SeenEvaluation {
                subject_code,
                title,
                mark,
                levels,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positionings_per_period_and_per_evaluation_are_apart() {
        let (_d, mut store) = crate::modules::viescolaire::import::tests::demo();
        let settings = crate::modules::viescolaire::settings::VieScolaireSettings::default();
        let now = DateTime::parse("2026-12-01T12:00").unwrap();
        crate::modules::viescolaire::demo::fill(&mut store, &settings, now).unwrap();
        let year = super::super::current_year(store.conn(), now.date)
            .unwrap()
            .unwrap();
        let p = super::super::period(store.conn(), year.id, 2).unwrap();
        let class = crate::directory::structure(store.conn(), "6A").unwrap().unwrap();
        let s = super::super::roster(store.conn(), class.id).unwrap()[0].0;
        let e: i64 = store
            .conn()
            .query_row("SELECT min(id) FROM vs_evaluations", [], |r| r.get(0))
            .unwrap();
        let changed = store
            .write(|tx| {
                Ok::<_, anyhow::Error>((
                    set_period_level(tx, s, "CPD_FRA", p.id, 0, Some(3), "t", "x")?,
                    set_period_level(tx, s, "CPD_FRA", p.id, e, Some(1), "t", "x")?,
                    set_period_level(tx, s, "CPD_FRA", p.id, e, Some(1), "t", "x")?,
                ))
            })
            .unwrap();
        assert_eq!(changed, (true, true, false));
        let c = store.conn();
        assert_eq!(
            period_levels(c, p.id, 0, &[s]).unwrap()[&(s, "CPD_FRA".into())],
            3
        );
        assert_eq!(
            period_levels(c, p.id, e, &[s]).unwrap()[&(s, "CPD_FRA".into())],
            1
        );
        store
            .write(|tx| set_period_level(tx, s, "CPD_FRA", p.id, e, None, "t", "x"))
            .unwrap();
        assert!(period_levels(store.conn(), p.id, e, &[s]).unwrap().is_empty());
        assert_eq!(period_levels(store.conn(), p.id, 0, &[s]).unwrap().len(), 1);
        // Unknown levels and competences are refused by the domain.
        assert!(
            store
                .write(|tx| set_period_level(tx, s, "NOPE", p.id, 0, Some(2), "t", "x"))
                .is_err()
        );
        assert!(
            store
                .write(|tx| set_period_level(tx, s, "CPD_FRA", p.id, 0, Some(5), "t", "x"))
                .is_err()
        );
        // The subjects of a class with their coefficients, one override.
        let subjects = class_subjects(store.conn(), class.id).unwrap();
        assert!(subjects.iter().any(|(code, _, k)| code == "061300" && *k == 300));
        store
            .write(|tx| super::super::set_student_coefficient(tx, s, "061300", 150))
            .unwrap();
        assert_eq!(student_coefficients(store.conn(), class.id).unwrap()[0].3, 150);
        assert!(
            store
                .write(|tx| clear_student_coefficient(tx, s, "061300"))
                .unwrap()
        );
        assert!(student_coefficients(store.conn(), class.id).unwrap().is_empty());
    }
}

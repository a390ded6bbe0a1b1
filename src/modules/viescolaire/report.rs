//! Report cards (bulletins): built from the same queries as the grid and
//! the student's page ([`queries::class_averages`]), so their figures are
//! the same; closing a period freezes an immutable copy of each card
//! (JSON), which later edits do not change and which the LSU export and
//! parents read.

use super::calendar::Date;
use super::grades::{self, Q};
use super::queries::{self, Audience, Period, Year};
use super::settings::VieScolaireSettings;
use anyhow::Context as _;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

/// A teacher as a card names him.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardTeacher {
    pub login: String,
    pub name: String,
    pub last_name: String,
    pub first_name: String,
    /// STS-web INDIVIDU id, when the teacher came from STS.
    pub sts_id: Option<String>,
}

/// One subject of a card; averages as shown (rounded once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardSubject {
    pub code: String,
    pub label: String,
    pub teachers: Vec<CardTeacher>,
    /// As shown, e.g. "2" (hundredths rendered).
    pub coefficient: String,
    pub marks: Vec<String>,
    pub average: Option<String>,
    pub class_average: Option<String>,
    pub class_min: Option<String>,
    pub class_max: Option<String>,
    pub comment: Option<String>,
}

/// Absences and lateness of the period, in half-days.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CardAbsences {
    pub justified: usize,
    pub unjustified: usize,
    pub late: u32,
    pub missed_lessons: u32,
}

/// A report card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub student_id: i64,
    pub login: String,
    pub last_name: String,
    pub first_name: String,
    pub ine: Option<String>,
    /// SIECLE ELEVE_ID.
    pub eleve_id: Option<String>,
    pub class_code: String,
    pub year: String,
    pub period_number: i64,
    pub period_label: String,
    pub period_starts: Date,
    pub period_ends: Date,
    pub subjects: Vec<CardSubject>,
    pub overall: Option<String>,
    pub class_overall: Option<String>,
    pub head_teachers: Vec<CardTeacher>,
    pub general_comment: Option<String>,
    pub council_decision: Option<String>,
    pub council_mention: Option<String>,
    /// When the council decided (YYYY-MM-DD).
    pub council_date: Option<String>,
    pub absences: CardAbsences,
    /// The socle's components positioned this period (1–4).
    pub socle: Vec<(String, u8)>,
    /// When the period was closed; None for a live card.
    pub frozen_at: Option<String>,
}

fn show(q: &Option<Q>, s: &VieScolaireSettings) -> Option<String> {
    q.as_ref()
        .map(|q| grades::round(q, s.rounding_step, s.rounding_mode).format(s.rounding_step))
}

fn teacher(conn: &Connection, id: i64) -> rusqlite::Result<CardTeacher> {
    conn.query_row(
        "SELECT login, first_name, last_name, CASE WHEN source = 'sts' THEN national_key END FROM people WHERE id = ?1",
        [id],
        |r| {
            let (first, last): (String, String) = (r.get(1)?, r.get(2)?);
            Ok(CardTeacher {
                login: r.get(0)?,
                name: format!("{first} {last}"),
                last_name: last,
                first_name: first,
                sts_id: r.get(3)?,
            })
        },
    )
}

/// The live report cards of a class for a period, today's roster.
pub fn build(
    conn: &Connection,
    settings: &VieScolaireSettings,
    year: &Year,
    period: &Period,
    class_code: &str,
) -> anyhow::Result<Vec<Card>> {
    build_for(conn, settings, year, period, class_code, Audience::All)
}

/// The live cards with only the marks `audience` may see (a student's or
/// a parent's page): the same computation as the report card, so with
/// every mark published the figures are the report card's.
pub fn build_for(
    conn: &Connection,
    settings: &VieScolaireSettings,
    year: &Year,
    period: &Period,
    class_code: &str,
    audience: Audience,
) -> anyhow::Result<Vec<Card>> {
    let class = crate::directory::structure(conn, class_code)?
        .filter(|s| s.kind == crate::directory::StructureKind::Class)
        .with_context(|| format!("no class {class_code}"))?;
    let students = queries::class_averages(
        conn,
        period.id,
        class.id,
        audience,
        settings.grades_publication_hour(),
    )?;
    let absences = queries::absences_report(conn, year, class.id, period.starts, period.ends, settings)?;
    // Class figures per subject, and overall.
    let mut subject_stats = std::collections::BTreeMap::new();
    for s in &students {
        for line in &s.subjects {
            subject_stats
                .entry(line.subject_code.clone())
                .or_insert_with(Vec::new)
                .push(line.average.clone());
        }
    }
    let stats: std::collections::BTreeMap<String, Option<grades::ClassStats>> = subject_stats
        .into_iter()
        .map(|(k, v)| (k, grades::class_stats(&v)))
        .collect();
    let overall_stats = grades::class_stats(&students.iter().map(|s| s.overall.clone()).collect::<Vec<_>>());
    let heads: Vec<CardTeacher> = crate::directory::head_teachers_of(conn, class_code)?
        .iter()
        .map(|p| teacher(conn, p.id))
        .collect::<rusqlite::Result<_>>()?;
    let mut cards = Vec::new();
    for s in &students {
        let comments = queries::comments(conn, period.id, s.student_id)?;
        let council = queries::council(conn, period.id, s.student_id)?;
        let council_date: Option<String> = conn
            .query_row(
                "SELECT substr(at, 1, 10) FROM vs_council WHERE period_id = ?1 AND student_id = ?2",
                rusqlite::params![period.id, s.student_id],
                |r| r.get(0),
            )
            .ok();
        let eleve_id: Option<String> = conn.query_row(
            "SELECT CASE WHEN source = 'siecle' THEN national_key END FROM people WHERE id = ?1",
            [s.student_id],
            |r| r.get(0),
        )?;
        let person = crate::directory::person_by_id(conn, s.student_id)?.context("student vanished")?;
        let mut subjects = Vec::new();
        for line in &s.subjects {
            let mut stmt = conn.prepare(
                "SELECT DISTINCT teacher_id FROM services WHERE subject_code = ?1
                 AND structure_id IN (SELECT structure_id FROM memberships WHERE person_id = ?2) ORDER BY teacher_id",
            )?;
            let ids: Vec<i64> = stmt
                .query_map(rusqlite::params![line.subject_code, s.student_id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let st = stats.get(&line.subject_code).cloned().flatten();
            subjects.push(CardSubject {
                code: line.subject_code.clone(),
                label: line.subject_label.clone(),
                teachers: ids
                    .iter()
                    .map(|id| teacher(conn, *id))
                    .collect::<rusqlite::Result<_>>()?,
                coefficient: grades::show_hundredths(line.coefficient),
                marks: line.marks.clone(),
                average: show(&line.average, settings),
                class_average: show(&st.as_ref().map(|x| x.average.clone()), settings),
                class_min: show(&st.as_ref().map(|x| x.min.clone()), settings),
                class_max: show(&st.as_ref().map(|x| x.max.clone()), settings),
                comment: comments.get(&line.subject_code).cloned(),
            });
        }
        let abs = absences.iter().find(|a| a.student_id == s.student_id);
        cards.push(Card {
            student_id: s.student_id,
            login: s.login.clone(),
            last_name: person.last_name.clone(),
            first_name: person.first_name.clone(),
            ine: s.ine.clone(),
            eleve_id,
            class_code: class.code.clone(),
            year: year.label.clone(),
            period_number: period.number,
            period_label: period.label.clone(),
            period_starts: period.starts,
            period_ends: period.ends,
            subjects,
            overall: show(&s.overall, settings),
            class_overall: show(&overall_stats.as_ref().map(|x| x.average.clone()), settings),
            head_teachers: heads.clone(),
            general_comment: comments.get("").cloned(),
            council_decision: council.as_ref().map(|c| c.0.clone()),
            council_mention: council.as_ref().map(|c| c.1.clone()).filter(|m| !m.is_empty()),
            council_date,
            absences: abs
                .map(|a| CardAbsences {
                    justified: a.justified,
                    unjustified: a.unjustified,
                    late: a.late,
                    missed_lessons: a.missed_lessons,
                })
                .unwrap_or_default(),
            socle: queries::socle_levels(conn, s.student_id, period.id)?,
            frozen_at: None,
        });
    }
    Ok(cards)
}

/// Closes a period for a class: every card frozen as it is now.
pub fn close(
    store: &mut crate::store::Store,
    settings: &VieScolaireSettings,
    year: &Year,
    period: &Period,
    class_code: &str,
    by: &str,
    at: &str,
) -> anyhow::Result<usize> {
    let cards = build(store.conn(), settings, year, period, class_code)?;
    let class = crate::directory::structure(store.conn(), class_code)?.context("no such class")?;
    let frozen: Vec<(i64, serde_json::Value)> = cards
        .into_iter()
        .map(|mut c| {
            c.frozen_at = Some(at.to_string());
            Ok((c.student_id, serde_json::to_value(&c)?))
        })
        .collect::<anyhow::Result<_>>()?;
    store.write(|tx| queries::close_period(tx, period.id, class.id, &frozen, by, at))
}

/// The frozen cards of a class for a period (students of the class when
/// it was closed), or None when the period is not closed for it.
pub fn frozen(conn: &Connection, period: &Period, class_code: &str) -> anyhow::Result<Option<Vec<Card>>> {
    let class =
        crate::directory::structure(conn, class_code)?.with_context(|| format!("no class {class_code}"))?;
    let closed: i64 = conn.query_row(
        "SELECT count(*) FROM vs_closures WHERE period_id = ?1 AND class_id = ?2",
        rusqlite::params![period.id, class.id],
        |r| r.get(0),
    )?;
    if closed == 0 {
        return Ok(None);
    }
    let mut stmt = conn.prepare(
        "SELECT c.content FROM vs_report_cards c JOIN people p ON p.id = c.student_id
         WHERE c.period_id = ?1 AND c.class_id = ?2 ORDER BY p.last_name, p.first_name, p.id",
    )?;
    let rows = stmt.query_map(rusqlite::params![period.id, class.id], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for text in rows {
        out.push(serde_json::from_str(&text?)?);
    }
    Ok(Some(out))
}

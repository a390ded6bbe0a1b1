//! Rolls, the office's absences and parents' justifications: the SQL of
//! the pages `/vie-scolaire/appel/…`, `/vie-scolaire/absences`,
//! `/vie-scolaire/eleves/{login}/absences` and `/vie-scolaire/justificatifs`.
//! Moments are passed in ("YYYY-MM-DDTHH:MM"), never read from a clock.

use super::{Year, calendar, current_year, events, exceptions, lesson_id, roster, save_roll};
use crate::modules::viescolaire::attendance::{self, Attended, Presence, Summary};
use crate::modules::viescolaire::calendar::{Date, DateTime, Time};
use crate::modules::viescolaire::timetable::{self, Lesson};
use anyhow::bail;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use std::collections::{BTreeSet, HashMap};

// ---------------------------------------------------------------- lesson keys

/// What a lesson key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRef {
    Slot(i64),
    Extra(i64),
}

/// A lesson's key in URLs: `2026-12-01_12` (slot 12 taught that day) or
/// `2026-12-01_x5` (exceptional lesson 5, without a slot).
pub fn lesson_key(l: &Lesson) -> String {
    match (l.slot_id, l.exception_id) {
        (Some(s), _) => format!("{}_{s}", l.date),
        (None, Some(e)) => format!("{}_x{e}", l.date),
        (None, None) => format!("{}_0", l.date),
    }
}

/// Reads a lesson key (pure).
pub fn parse_key(key: &str) -> Option<(Date, KeyRef)> {
    let (date, rest) = key.split_once('_')?;
    let date = Date::parse(date)?;
    let number = |s: &str| {
        (!s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<i64>().ok())
            .flatten()
            .filter(|n| *n > 0)
    };
    Some(match rest.strip_prefix('x') {
        Some(e) => (date, KeyRef::Extra(number(e)?)),
        None => (date, KeyRef::Slot(number(rest)?)),
    })
}

/// The lesson a key names, derived from the timetable and its
/// exceptions for that date (one slot only: cheap).
pub fn find_lesson(conn: &Connection, key: &str) -> rusqlite::Result<Option<Lesson>> {
    let Some((date, what)) = parse_key(key) else {
        return Ok(None);
    };
    let Some(year) = current_year(conn, date)? else {
        return Ok(None);
    };
    let cal = calendar(conn, &year)?;
    let mine: Vec<_> = match what {
        KeyRef::Slot(id) => {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {} FROM vs_slots WHERE id = ?1 AND year_id = ?2",
                super::SLOT_COLS
            ))?;
            stmt.query_map(params![id, year.id], super::slot_from_row)?
                .collect::<rusqlite::Result<_>>()?
        }
        KeyRef::Extra(_) => Vec::new(),
    };
    let found = timetable::lessons(&mine, &exceptions(conn, date, date)?, &cal, date, date)
        .into_iter()
        .filter(|l| {
            l.date == date
                && match what {
                    KeyRef::Slot(id) => l.slot_id == Some(id),
                    KeyRef::Extra(id) => l.slot_id.is_none() && l.exception_id == Some(id),
                }
        })
        .max_by_key(|l| l.takes_place);
    Ok(found)
}

/// The recorded id of a lesson, if anything was attached to it yet.
pub fn recorded_id(conn: &Connection, l: &Lesson) -> rusqlite::Result<Option<i64>> {
    match (l.slot_id, l.exception_id) {
        (Some(s), _) => conn
            .prepare_cached("SELECT id FROM vs_lessons WHERE slot_id = ?1 AND slot_date = ?2")?
            .query_row(params![s, l.slot_date.map(|d| d.to_string())], |r| r.get(0))
            .optional(),
        (None, Some(e)) => conn
            .prepare_cached("SELECT id FROM vs_lessons WHERE exception_id = ?1")?
            .query_row([e], |r| r.get(0))
            .optional(),
        (None, None) => Ok(None),
    }
}

// ---------------------------------------------------------------- the roll

/// One student's line of a roll as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollLine {
    pub student_id: i64,
    pub login: String,
    pub name: String,
    pub presence: Presence,
    pub late_minutes: u32,
    pub remark: String,
}

/// A roll as it stands: who took it and when (None: not yet), its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roll {
    pub taken: Option<(String, String)>,
    pub lines: Vec<RollLine>,
}

/// The roll of a lesson: its roster, every student present unless
/// recorded otherwise.
pub fn roll(conn: &Connection, l: &Lesson) -> rusqlite::Result<Roll> {
    let id = recorded_id(conn, l)?;
    let mut marks: HashMap<i64, (String, u32, String)> = HashMap::new();
    let mut taken = None;
    if let Some(id) = id {
        taken = conn
            .query_row(
                "SELECT roll_taken_by, roll_taken_at FROM vs_lessons WHERE id = ?1 AND roll_taken_at IS NOT NULL",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let mut stmt = conn.prepare_cached(
            "SELECT student_id, status, late_minutes, remark FROM vs_attendance WHERE lesson_id = ?1",
        )?;
        for row in stmt.query_map([id], |r| {
            Ok((r.get::<_, i64>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?)))
        })? {
            let (s, m) = row?;
            marks.insert(s, m);
        }
    }
    let mut lines = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.login, p.last_name || ' ' || p.first_name FROM people p
         JOIN memberships m ON m.person_id = p.id
         WHERE m.structure_id = ?1 AND p.kind = 'student' AND p.status = 'active'
         ORDER BY p.last_name, p.first_name, p.id",
    )?;
    for row in stmt.query_map([l.service.structure_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })? {
        let (student_id, login, name) = row?;
        let (presence, late_minutes, remark) = match marks.remove(&student_id) {
            Some((s, m, r)) => (Presence::parse(&s).unwrap_or(Presence::Present), m, r),
            None => (Presence::Present, 0, String::new()),
        };
        lines.push(RollLine {
            student_id,
            login,
            name,
            presence,
            late_minutes,
            remark,
        });
    }
    Ok(Roll { taken, lines })
}

/// Saves a roll in the caller's transaction: records the lesson, writes
/// the changed lines and their history. `roster`: the lesson's students
/// (read again here when None). Returns how many lines changed.
pub fn save(
    tx: &Transaction<'_>,
    l: &Lesson,
    roster_ids: Option<&[i64]>,
    entries: &[super::RollEntry],
    by: &str,
    at: &str,
) -> anyhow::Result<usize> {
    let id = lesson_id(tx, l)?;
    match roster_ids {
        Some(r) => save_roll(tx, id, r, entries, by, at),
        None => {
            let r: Vec<i64> = roster(tx, l.service.structure_id)?.iter().map(|r| r.0).collect();
            save_roll(tx, id, &r, entries, by, at)
        }
    }
}

/// One change of a roll line, as the history keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub name: String,
    pub by: String,
    pub at: String,
    pub before: Option<String>,
    pub after: String,
}

/// A roll line's JSON state ({"status", "late_minutes", "remark"}) in
/// French (pure).
pub fn describe(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let status = v["status"].as_str().and_then(Presence::parse);
    let minutes = v["late_minutes"].as_u64().unwrap_or(0);
    let mut s = match status {
        Some(Presence::Present) => "présent".to_string(),
        Some(Presence::Absent) => "absent".to_string(),
        Some(Presence::Late) => format!("en retard ({minutes} min)"),
        Some(Presence::Excluded) => "exclu".to_string(),
        None => "?".to_string(),
    };
    if let Some(r) = v["remark"].as_str().filter(|r| !r.is_empty()) {
        s.push_str(" — ");
        s.push_str(r);
    }
    s
}

/// The corrections of a roll (changes after the first taking), newest
/// first.
pub fn history(conn: &Connection, l: &Lesson) -> rusqlite::Result<Vec<Change>> {
    let Some(id) = recorded_id(conn, l)? else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(
        "SELECT p.last_name || ' ' || p.first_name, h.by, h.at, h.before, h.after
         FROM vs_attendance_history h JOIN people p ON p.id = h.student_id
         WHERE h.lesson_id = ?1 AND h.before IS NOT NULL ORDER BY h.id DESC LIMIT 200",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Change {
            name: r.get(0)?,
            by: r.get(1)?,
            at: r.get(2)?,
            before: r.get::<_, Option<String>>(3)?.map(|b| describe(&b)),
            after: describe(&r.get::<_, String>(4)?),
        })
    })?;
    rows.collect()
}

/// Whether a roll may still be saved (pure): the office corrects any
/// roll; a teacher takes and corrects his roll on the lesson's day only.
pub fn editable(office: bool, lesson: Date, today: Date) -> bool {
    office || lesson == today
}

// ---------------------------------------------------------------- the office

/// One line of the day's absences and lateness, as the office sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayMark {
    pub login: String,
    pub name: String,
    pub structure: String,
    pub starts: String,
    pub ends: String,
    pub subject: String,
    pub presence: Presence,
    pub late_minutes: u32,
    pub remark: String,
    pub by: String,
    /// The absence event covering it: (id, reason label, justification).
    pub event: Option<(i64, Option<String>, String)>,
}

/// The day's marks other than present, by start time and name.
pub fn day_marks(conn: &Connection, date: Date) -> rusqlite::Result<Vec<DayMark>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.login, p.last_name || ' ' || p.first_name, s.code, l.starts, l.ends,
                coalesce((SELECT label FROM subjects WHERE code = l.subject_code), l.subject_code),
                a.status, a.late_minutes, a.remark, a.by,
                (SELECT e.id FROM vs_absence_events e WHERE e.student_id = a.student_id
                   AND e.starts < l.date || 'T' || l.ends AND e.ends > l.date || 'T' || l.starts
                 ORDER BY e.id DESC LIMIT 1)
         FROM vs_attendance a JOIN vs_lessons l ON l.id = a.lesson_id
         JOIN people p ON p.id = a.student_id JOIN structures s ON s.id = l.structure_id
         WHERE l.date = ?1 AND a.status <> 'present'
         ORDER BY l.starts, p.last_name, p.first_name",
    )?;
    let rows: Vec<(DayMark, Option<i64>)> = stmt
        .query_map([date.to_string()], |r| {
            let status: String = r.get(6)?;
            Ok((
                DayMark {
                    login: r.get(0)?,
                    name: r.get(1)?,
                    structure: r.get(2)?,
                    starts: r.get(3)?,
                    ends: r.get(4)?,
                    subject: r.get(5)?,
                    presence: Presence::parse(&status).unwrap_or(Presence::Present),
                    late_minutes: r.get(7)?,
                    remark: r.get(8)?,
                    by: r.get(9)?,
                    event: None,
                },
                r.get(10)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(rows.len());
    let mut ev = conn.prepare_cached(
        "SELECT r.label, e.justification FROM vs_absence_events e
         LEFT JOIN vs_reasons r ON r.code = e.reason_code WHERE e.id = ?1",
    )?;
    for (mut m, event) in rows {
        if let Some(id) = event {
            let (label, state): (Option<String>, String) =
                ev.query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            m.event = Some((id, label, state));
        }
        out.push(m);
    }
    Ok(out)
}

/// Rolls taken on a day, and lessons recorded that day.
pub fn rolls_taken(conn: &Connection, date: Date) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM vs_lessons WHERE date = ?1 AND roll_taken_at IS NOT NULL",
        [date.to_string()],
        |r| r.get(0),
    )
}

/// The absence reasons: (code, label).
pub fn reasons(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached("SELECT code, label FROM vs_reasons ORDER BY rowid")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

pub fn reason_known(conn: &Connection, code: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM vs_reasons WHERE code = ?1)",
        [code],
        |r| r.get(0),
    )
}

/// The office records an absence with its reason, or gives a reason to
/// an existing event of the student; `accepted`: the office holds the
/// justification (the absence is then justified when the reason
/// justifies). Returns the event's id.
pub fn record_absence(
    tx: &Transaction<'_>,
    student_id: i64,
    event: Option<i64>,
    span: (DateTime, DateTime),
    reason: &str,
    comment: &str,
    accepted: bool,
    by: &str,
    at: &str,
) -> anyhow::Result<i64> {
    if !reason_known(tx, reason)? {
        bail!("unknown absence reason {reason}");
    }
    let id = match event {
        Some(id) => {
            let n = tx.execute(
                "UPDATE vs_absence_events SET reason_code = ?3,
                     comment = CASE WHEN ?4 = '' THEN comment ELSE ?4 END
                 WHERE id = ?1 AND student_id = ?2",
                params![id, student_id, reason, comment],
            )?;
            if n == 0 {
                bail!("no absence event {id} for this student");
            }
            id
        }
        None => super::add_absence(tx, student_id, span.0, span.1, Some(reason), comment, by, at)?,
    };
    if accepted {
        tx.execute(
            "UPDATE vs_absence_events SET justification = 'accepted' WHERE id = ?1",
            [id],
        )?;
    }
    Ok(id)
}

/// A justification waiting for the office's decision (or decided); its
/// moments read "YYYY-MM-DD HH:MM".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Justification {
    pub id: i64,
    pub student_login: String,
    pub student: String,
    pub class: String,
    pub starts: String,
    pub ends: String,
    pub reason: String,
    pub comment: String,
    pub by: String,
    pub created_at: String,
    pub state: String,
    pub attachment: Option<String>,
}

const JUSTIFICATION_SELECT: &str = "SELECT j.id, c.login, c.last_name || ' ' || c.first_name,
        coalesce((SELECT s.code FROM structures s JOIN memberships m ON m.structure_id = s.id
                  WHERE m.person_id = c.id AND s.kind = 'class' LIMIT 1), ''),
        e.starts, e.ends, r.label, j.comment, b.last_name || ' ' || b.first_name, j.created_at, j.state,
        (SELECT a.media_type FROM vs_attachments a WHERE a.id = j.attachment_id)
     FROM vs_justifications j JOIN vs_absence_events e ON e.id = j.event_id
     JOIN people c ON c.id = e.student_id JOIN people b ON b.id = j.by_person
     JOIN vs_reasons r ON r.code = j.reason_code";

fn justification_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Justification> {
    Ok(Justification {
        id: r.get(0)?,
        student_login: r.get(1)?,
        student: r.get(2)?,
        class: r.get(3)?,
        starts: r.get::<_, String>(4)?.replace('T', " "),
        ends: r.get::<_, String>(5)?.replace('T', " "),
        reason: r.get(6)?,
        comment: r.get(7)?,
        by: r.get(8)?,
        created_at: r.get::<_, String>(9)?.replace('T', " "),
        state: r.get(10)?,
        attachment: r.get(11)?,
    })
}

/// Justifications waiting for a decision, oldest first.
pub fn pending(conn: &Connection) -> rusqlite::Result<Vec<Justification>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{JUSTIFICATION_SELECT} WHERE j.state = 'received' ORDER BY j.id LIMIT 500"
    ))?;
    let rows = stmt.query_map([], justification_row)?;
    rows.collect()
}

/// The student a justification is about.
pub fn justification_student(conn: &Connection, id: i64) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT e.student_id FROM vs_justifications j JOIN vs_absence_events e ON e.id = j.event_id
         WHERE j.id = ?1",
        [id],
        |r| r.get(0),
    )
    .optional()
}

/// The state of a justification, if it exists.
pub fn justification_state(conn: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT state FROM vs_justifications WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .optional()
}

// ---------------------------------------------------------------- a student

/// An absence event of a student as he and his parents see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentEvent {
    pub id: i64,
    pub starts: String,
    pub ends: String,
    pub reason: Option<String>,
    pub comment: String,
    pub justification: String,
}

/// A roll mark other than present of a student.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentMark {
    pub date: Date,
    pub starts: String,
    pub subject: String,
    pub presence: Presence,
    pub late_minutes: u32,
    pub remark: String,
    /// Whether an absence event covers it.
    pub covered: bool,
}

/// A student's events overlapping `from`–`to`, newest first.
pub fn student_events(
    conn: &Connection,
    student: i64,
    from: Date,
    to: Date,
) -> rusqlite::Result<Vec<StudentEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, e.starts, e.ends, r.label, e.comment, e.justification
         FROM vs_absence_events e LEFT JOIN vs_reasons r ON r.code = e.reason_code
         WHERE e.student_id = ?1 AND e.starts < ?3 AND e.ends > ?2 ORDER BY e.starts DESC LIMIT 500",
    )?;
    let rows = stmt.query_map(
        params![
            student,
            format!("{from}T00:00"),
            format!("{}T00:00", to.add_days(1))
        ],
        |r| {
            Ok(StudentEvent {
                id: r.get(0)?,
                starts: r.get(1)?,
                ends: r.get(2)?,
                reason: r.get(3)?,
                comment: r.get(4)?,
                justification: r.get(5)?,
            })
        },
    )?;
    rows.collect()
}

/// A student's marks other than present from `from` to `to`, newest first.
pub fn student_marks(
    conn: &Connection,
    student: i64,
    from: Date,
    to: Date,
) -> rusqlite::Result<Vec<StudentMark>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.date, l.starts, coalesce((SELECT label FROM subjects WHERE code = l.subject_code), l.subject_code),
                a.status, a.late_minutes, a.remark,
                EXISTS (SELECT 1 FROM vs_absence_events e WHERE e.student_id = a.student_id
                   AND e.starts < l.date || 'T' || l.ends AND e.ends > l.date || 'T' || l.starts)
         FROM vs_attendance a JOIN vs_lessons l ON l.id = a.lesson_id
         WHERE a.student_id = ?1 AND l.date BETWEEN ?2 AND ?3 AND a.status <> 'present'
         ORDER BY l.date DESC, l.starts DESC LIMIT 1000",
    )?;
    let rows = stmt.query_map(params![student, from.to_string(), to.to_string()], |r| {
        let status: String = r.get(3)?;
        Ok(StudentMark {
            date: super::date_col(r.get(0)?)?,
            starts: r.get(1)?,
            subject: r.get(2)?,
            presence: Presence::parse(&status).unwrap_or(Presence::Present),
            late_minutes: r.get(4)?,
            remark: r.get(5)?,
            covered: r.get(6)?,
        })
    })?;
    rows.collect()
}

/// A lesson of a student's day with his mark (None: no roll yet).
#[derive(Debug, Clone, PartialEq)]
pub struct DayLine {
    pub lesson: Lesson,
    pub subject: String,
    pub mark: Option<(Presence, u32)>,
}

/// A student's timetable, loaded once per request: his structures'
/// slots and the year's calendar.
struct StudentTimetable {
    structures: BTreeSet<i64>,
    slots: Vec<timetable::Slot>,
    cal: timetable::Calendar,
}

impl StudentTimetable {
    fn load(conn: &Connection, year: &Year, student: i64) -> rusqlite::Result<StudentTimetable> {
        let structures: BTreeSet<i64> = super::structures_of(conn, student)?.into_iter().collect();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {} FROM vs_slots WHERE year_id = ?1 AND structure_id IN (SELECT structure_id FROM memberships WHERE person_id = ?2) ORDER BY id",
            super::SLOT_COLS
        ))?;
        let slots = stmt
            .query_map(params![year.id, student], super::slot_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(StudentTimetable {
            structures,
            slots,
            cal: calendar(conn, year)?,
        })
    }

    /// His lessons of one date.
    fn lessons(&self, conn: &Connection, date: Date) -> rusqlite::Result<Vec<Lesson>> {
        Ok(
            timetable::lessons(&self.slots, &exceptions(conn, date, date)?, &self.cal, date, date)
                .into_iter()
                .filter(|l| l.date == date && self.structures.contains(&l.service.structure_id))
                .collect(),
        )
    }
}

/// A student's lessons of a day with their roll marks.
pub fn student_day(conn: &Connection, student: i64, date: Date) -> rusqlite::Result<Vec<DayLine>> {
    let Some(year) = current_year(conn, date)? else {
        return Ok(Vec::new());
    };
    let tt = StudentTimetable::load(conn, &year, student)?;
    let mut out = Vec::new();
    let mut mark = conn.prepare_cached(
        "SELECT a.status, a.late_minutes FROM vs_attendance a WHERE a.lesson_id = ?1 AND a.student_id = ?2",
    )?;
    let mut subject =
        conn.prepare_cached("SELECT coalesce((SELECT label FROM subjects WHERE code = ?1), ?1)")?;
    for l in tt.lessons(conn, date)? {
        let m = match recorded_id(conn, &l)? {
            Some(id) => mark
                .query_row(params![id, student], |r| {
                    let s: String = r.get(0)?;
                    Ok((Presence::parse(&s).unwrap_or(Presence::Present), r.get(1)?))
                })
                .optional()?,
            None => None,
        };
        let label: String = subject.query_row([&l.service.subject_code], |r| r.get(0))?;
        out.push(DayLine {
            lesson: l,
            subject: label,
            mark: m,
        });
    }
    Ok(out)
}

/// A student's half-days and lateness from `from` to `to` by the rule of
/// [`attendance`], computed only on the days that have a mark other than
/// present or an absence event (the other days count nothing).
pub fn student_summary(
    conn: &Connection,
    student: i64,
    from: Date,
    to: Date,
    noon: Time,
) -> rusqlite::Result<Summary> {
    let Some(year) = current_year(conn, to)? else {
        return Ok(Summary::default());
    };
    let from = from.max(year.starts);
    let to = to.min(year.ends);
    let evs = events(conn, student, from, to)?;
    let mut days: BTreeSet<Date> = student_marks(conn, student, from, to)?
        .iter()
        .map(|m| m.date)
        .collect();
    for e in &evs {
        let (a, b) = (e.starts.date.max(from), e.ends.date.min(to));
        if a <= b && a.days_until(b) <= 366 {
            days.extend(a.through(b));
        }
    }
    let tt = StudentTimetable::load(conn, &year, student)?;
    let mut mark = conn.prepare_cached(
        "SELECT a.status FROM vs_attendance a WHERE a.lesson_id = ?1 AND a.student_id = ?2",
    )?;
    let mut attended = Vec::new();
    for d in days {
        for l in tt.lessons(conn, d)? {
            if !l.takes_place {
                continue;
            }
            let roll = match recorded_id(conn, &l)? {
                Some(id) => mark
                    .query_row(params![id, student], |r| r.get::<_, String>(0))
                    .optional()?
                    .and_then(|s| Presence::parse(&s)),
                None => None,
            };
            attended.push(Attended {
                date: l.date,
                starts: l.starts,
                ends: l.ends,
                roll,
            });
        }
    }
    Ok(attendance::summarize(noon, &attended, &evs))
}

/// The span of a student's absent marks on a day (first start, last
/// end), to make an event of them when a parent justifies that day.
pub fn absent_span(
    conn: &Connection,
    student: i64,
    date: Date,
) -> rusqlite::Result<Option<(DateTime, DateTime)>> {
    let span: (Option<String>, Option<String>) = conn.query_row(
        "SELECT min(l.starts), max(l.ends) FROM vs_attendance a JOIN vs_lessons l ON l.id = a.lesson_id
         WHERE a.student_id = ?1 AND l.date = ?2 AND a.status = 'absent'",
        params![student, date.to_string()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(match span {
        (Some(a), Some(b)) => match (Time::parse(&a), Time::parse(&b)) {
            (Some(a), Some(b)) if a < b => Some((DateTime { date, time: a }, DateTime { date, time: b })),
            _ => None,
        },
        _ => None,
    })
}

/// The state of a student's event (None: not his, or unknown).
pub fn event_state(conn: &Connection, student: i64, event: i64) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT justification FROM vs_absence_events WHERE id = ?1 AND student_id = ?2",
        params![event, student],
        |r| r.get(0),
    )
    .optional()
}

// ---------------------------------------------------------------- attachments

/// Records a stored file; its bytes are written by the caller.
pub fn add_attachment(
    tx: &Transaction<'_>,
    name: &str,
    path: &str,
    media_type: &str,
    bytes: u64,
    sha256: &str,
    by: &str,
    at: &str,
) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT INTO vs_attachments (name, path, media_type, bytes, sha256, by, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![name, path, media_type, bytes as i64, sha256, by, at],
    )?;
    Ok(tx.last_insert_rowid())
}

/// The file of a justification: (path relative to the attachments
/// directory, media type).
pub fn justification_file(conn: &Connection, id: i64) -> rusqlite::Result<Option<(String, String)>> {
    conn.query_row(
        "SELECT a.path, a.media_type FROM vs_justifications j JOIN vs_attachments a ON a.id = j.attachment_id
         WHERE j.id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// A student's justifications, newest first.
pub fn student_justifications(conn: &Connection, student: i64) -> rusqlite::Result<Vec<Justification>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{JUSTIFICATION_SELECT} WHERE e.student_id = ?1 ORDER BY j.id DESC LIMIT 200"
    ))?;
    let rows = stmt.query_map([student], justification_row)?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lesson_keys_round_trip_and_refuse_junk() {
        let d = Date::parse("2026-12-01").unwrap();
        assert_eq!(parse_key("2026-12-01_12"), Some((d, KeyRef::Slot(12))));
        assert_eq!(parse_key("2026-12-01_x5"), Some((d, KeyRef::Extra(5))));
        for bad in [
            "",
            "2026-12-01",
            "2026-12-01_",
            "2026-12-01_x",
            "2026-13-01_1",
            "2026-12-01_-1",
            "2026-12-01_0",
            "2026-12-01_1x",
            "2026-12-01_+1",
            "2026-12-01_99999999999999999",
            "x_1",
        ] {
            assert_eq!(parse_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn teachers_correct_only_the_same_day_the_office_always() {
        let d = |s| Date::parse(s).unwrap();
        assert!(editable(false, d("2026-12-01"), d("2026-12-01")));
        assert!(!editable(false, d("2026-11-30"), d("2026-12-01")));
        assert!(
            !editable(false, d("2026-12-02"), d("2026-12-01")),
            "not in advance"
        );
        assert!(editable(true, d("2026-11-30"), d("2026-12-01")));
    }

    #[test]
    fn history_states_read_in_french() {
        assert_eq!(
            describe(r#"{"status":"late","late_minutes":10,"remark":"bus"}"#),
            "en retard (10 min) — bus"
        );
        assert_eq!(
            describe(r#"{"status":"absent","late_minutes":0,"remark":""}"#),
            "absent"
        );
        assert_eq!(describe("junk"), "?");
    }
}

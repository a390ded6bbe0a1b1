//! The school-life tables: every SQL statement of the module that is not
//! an access fact ([`super::facts`]). Writes take a transaction (one
//! [`crate::store::Store::write`]), reads a connection; moments are
//! passed in ("YYYY-MM-DDTHH:MM"), never read from a clock here.
//!
//! Split by topic: new query functions go in a submodule of this directory
//! (one file per topic), re-exported here.

#![allow(clippy::too_many_arguments)] // rows written from their columns

pub mod homework;
pub mod marks;
pub mod messages;
pub mod roll;
pub mod schedule;

use super::attendance::{self, Attended, Event, Presence};
use super::calendar::{Date, DateTime, Time};
use super::grades::{self, EvalKind, Graded, Mark, Q};
use super::timetable::{self, Calendar, Exception, ExceptionKind, Lesson, Service, Slot, Weeks};
use anyhow::{Context as _, bail};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

fn date_col(s: String) -> rusqlite::Result<Date> {
    Date::parse(&s).ok_or_else(|| rusqlite::Error::InvalidColumnType(0, s, rusqlite::types::Type::Text))
}

fn time_col(s: String) -> rusqlite::Result<Time> {
    Time::parse(&s).ok_or_else(|| rusqlite::Error::InvalidColumnType(0, s, rusqlite::types::Type::Text))
}

// ---------------------------------------------------------------- year

/// A school year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Year {
    pub id: i64,
    pub label: String,
    pub starts: Date,
    pub ends: Date,
}

/// A term or semester.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Period {
    pub id: i64,
    pub number: i64,
    pub label: String,
    pub starts: Date,
    pub ends: Date,
}

/// The current year: the one containing `today`, else the latest.
pub fn current_year(conn: &Connection, today: Date) -> rusqlite::Result<Option<Year>> {
    conn.query_row(
        "SELECT id, label, starts, ends FROM vs_years
         ORDER BY (?1 BETWEEN starts AND ends) DESC, starts DESC LIMIT 1",
        [today.to_string()],
        |r| {
            Ok(Year {
                id: r.get(0)?,
                label: r.get(1)?,
                starts: date_col(r.get(2)?)?,
                ends: date_col(r.get(3)?)?,
            })
        },
    )
    .optional()
}

/// The current year, or a clear error.
pub fn year_or_err(conn: &Connection, today: Date) -> anyhow::Result<Year> {
    current_year(conn, today)?
        .context("no school year is defined: `preau viescolaire year set --label 2026-2027 --from … --to … --period …`")
}

pub fn periods(conn: &Connection, year_id: i64) -> rusqlite::Result<Vec<Period>> {
    let mut stmt = conn.prepare(
        "SELECT id, number, label, starts, ends FROM vs_periods WHERE year_id = ?1 ORDER BY number",
    )?;
    let rows = stmt.query_map([year_id], |r| {
        Ok(Period {
            id: r.get(0)?,
            number: r.get(1)?,
            label: r.get(2)?,
            starts: date_col(r.get(3)?)?,
            ends: date_col(r.get(4)?)?,
        })
    })?;
    rows.collect()
}

pub fn period(conn: &Connection, year_id: i64, number: i64) -> anyhow::Result<Period> {
    periods(conn, year_id)?
        .into_iter()
        .find(|p| p.number == number)
        .with_context(|| format!("the school year has no period {number}"))
}

/// A period as given: label and dates.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPeriod {
    pub label: String,
    pub starts: Date,
    pub ends: Date,
}

/// Checks a year's periods: inside the year, in order, not overlapping.
pub fn check_periods(starts: Date, ends: Date, periods: &[NewPeriod]) -> Result<(), String> {
    if starts >= ends {
        return Err(format!("the year ends ({ends}) before it starts ({starts})"));
    }
    let mut prev: Option<Date> = None;
    for (i, p) in periods.iter().enumerate() {
        let n = i + 1;
        if p.starts > p.ends {
            return Err(format!("period {n} ({}) ends before it starts", p.label));
        }
        if p.starts < starts || p.ends > ends {
            return Err(format!(
                "period {n} ({}) is not inside the year {starts} – {ends}",
                p.label
            ));
        }
        if prev.is_some_and(|e| p.starts <= e) {
            return Err(format!(
                "period {n} ({}) starts before the previous one ends",
                p.label
            ));
        }
        prev = Some(p.ends);
    }
    Ok(())
}

/// Creates or updates a year and its periods (kept by number: marks and
/// report cards stay attached to them). Returns the year's id.
pub fn set_year(
    tx: &Transaction<'_>,
    label: &str,
    starts: Date,
    ends: Date,
    new_periods: &[NewPeriod],
) -> anyhow::Result<i64> {
    if let Err(e) = check_periods(starts, ends, new_periods) {
        bail!(e);
    }
    tx.execute(
        "INSERT INTO vs_years (label, starts, ends) VALUES (?1, ?2, ?3)
         ON CONFLICT(label) DO UPDATE SET starts = excluded.starts, ends = excluded.ends",
        params![label, starts.to_string(), ends.to_string()],
    )?;
    let id: i64 = tx.query_row("SELECT id FROM vs_years WHERE label = ?1", [label], |r| r.get(0))?;
    for (i, p) in new_periods.iter().enumerate() {
        tx.execute(
            "INSERT INTO vs_periods (year_id, number, label, starts, ends) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(year_id, number) DO UPDATE SET label = excluded.label, starts = excluded.starts, ends = excluded.ends",
            params![id, i as i64 + 1, p.label, p.starts.to_string(), p.ends.to_string()],
        )?;
    }
    let extra = tx.execute(
        "DELETE FROM vs_periods WHERE year_id = ?1 AND number > ?2
         AND id NOT IN (SELECT period_id FROM vs_evaluations)
         AND id NOT IN (SELECT period_id FROM vs_report_cards)",
        params![id, new_periods.len() as i64],
    )?;
    let left: i64 = tx.query_row(
        "SELECT count(*) FROM vs_periods WHERE year_id = ?1 AND number > ?2",
        params![id, new_periods.len() as i64],
        |r| r.get(0),
    )?;
    if left > 0 {
        bail!("a period to remove already has evaluations or report cards; keep it");
    }
    let _ = extra;
    Ok(id)
}

pub fn holidays(conn: &Connection, year_id: i64) -> rusqlite::Result<Vec<(String, Date, Date)>> {
    let mut stmt =
        conn.prepare("SELECT label, starts, ends FROM vs_holidays WHERE year_id = ?1 ORDER BY starts")?;
    let rows = stmt.query_map([year_id], |r| {
        Ok((r.get(0)?, date_col(r.get(1)?)?, date_col(r.get(2)?)?))
    })?;
    rows.collect()
}

/// Replaces the holidays of a year.
pub fn replace_holidays(
    tx: &Transaction<'_>,
    year_id: i64,
    list: &[(String, Date, Date)],
) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM vs_holidays WHERE year_id = ?1", [year_id])?;
    for (label, a, b) in list {
        tx.execute(
            "INSERT INTO vs_holidays (year_id, label, starts, ends) VALUES (?1, ?2, ?3, ?4)",
            params![year_id, label, a.to_string(), b.to_string()],
        )?;
    }
    Ok(())
}

/// Replaces the A/B letters of the weeks of a year.
pub fn set_weeks(tx: &Transaction<'_>, year: &Year, weeks: &[(Date, Weeks)]) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM vs_weeks WHERE monday BETWEEN ?1 AND ?2",
        params![year.starts.monday().to_string(), year.ends.to_string()],
    )?;
    for (monday, w) in weeks {
        tx.execute(
            "INSERT INTO vs_weeks (monday, week) VALUES (?1, ?2)",
            params![monday.to_string(), w.as_str()],
        )?;
    }
    Ok(())
}

/// Edits the weeks A/B of a year ([`timetable::edit_weeks`]) and stores
/// them: the CLI's `year set --week-a` and the web's weeks page. The
/// French message of a wrong edit is the error.
pub fn edit_weeks(
    tx: &Transaction<'_>,
    year: &Year,
    edit: &super::timetable::WeekEdit,
) -> anyhow::Result<Vec<(Date, Weeks)>> {
    let cal = calendar(tx, year)?;
    let weeks = super::timetable::edit_weeks((year.starts, year.ends), &cal.holidays, &cal.weeks, edit)
        .map_err(anyhow::Error::msg)?;
    set_weeks(tx, year, &weeks)?;
    Ok(weeks)
}

/// The calendar lessons are derived on.
pub fn calendar(conn: &Connection, year: &Year) -> rusqlite::Result<Calendar> {
    let mut stmt = conn.prepare("SELECT monday, week FROM vs_weeks WHERE monday BETWEEN ?1 AND ?2")?;
    let weeks = stmt
        .query_map(
            params![year.starts.monday().to_string(), year.ends.to_string()],
            |r| {
                let w: String = r.get(1)?;
                Ok((date_col(r.get(0)?)?, Weeks::parse(&w).unwrap_or(Weeks::All)))
            },
        )?
        .collect::<rusqlite::Result<HashMap<_, _>>>()?;
    Ok(Calendar {
        year: Some((year.starts, year.ends)),
        holidays: holidays(conn, year.id)?
            .into_iter()
            .map(|(_, a, b)| (a, b))
            .collect(),
        weeks,
    })
}

// ---------------------------------------------------------------- timetable

/// A slot to store, resolved against the directory.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSlot {
    pub slot: Slot,
    pub source: String,
    pub source_key: Option<String>,
}

const SLOT_COLS: &str =
    "id, teacher_id, subject_code, structure_id, weekday, starts, ends, room, weeks, valid_from, valid_to";

fn slot_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Slot> {
    let weeks: String = r.get(8)?;
    let opt = |v: Option<String>| v.and_then(|s| Date::parse(&s));
    Ok(Slot {
        id: r.get(0)?,
        service: Service {
            teacher_id: r.get(1)?,
            subject_code: r.get(2)?,
            structure_id: r.get(3)?,
        },
        weekday: r.get(4)?,
        starts: time_col(r.get(5)?)?,
        ends: time_col(r.get(6)?)?,
        room: r.get(7)?,
        weeks: Weeks::parse(&weeks).unwrap_or(Weeks::All),
        valid_from: opt(r.get(9)?),
        valid_to: opt(r.get(10)?),
    })
}

/// Every slot of a year.
pub fn slots(conn: &Connection, year_id: i64) -> rusqlite::Result<Vec<Slot>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {SLOT_COLS} FROM vs_slots WHERE year_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([year_id], slot_from_row)?;
    rows.collect()
}

/// Replaces the timetable of a year from `from` on: slots that already
/// have lessons end the day before, the others are deleted, the new ones
/// start at `from`. Returns (ended, deleted, inserted).
pub fn replace_timetable(
    tx: &Transaction<'_>,
    year_id: i64,
    from: Date,
    new: &[NewSlot],
) -> rusqlite::Result<(usize, usize, usize)> {
    let deleted = tx.execute(
        "DELETE FROM vs_slots WHERE year_id = ?1 AND id NOT IN (SELECT slot_id FROM vs_lessons WHERE slot_id IS NOT NULL)
         AND id NOT IN (SELECT slot_id FROM vs_exceptions WHERE slot_id IS NOT NULL)",
        [year_id],
    )?;
    let ended = tx.execute(
        "UPDATE vs_slots SET valid_to = ?2 WHERE year_id = ?1 AND (valid_to IS NULL OR valid_to >= ?3)",
        params![year_id, from.add_days(-1).to_string(), from.to_string()],
    )?;
    for n in new {
        let s = &n.slot;
        let valid_from = Some(s.valid_from.map_or(from, |f| f.max(from)));
        tx.execute(
            "INSERT INTO vs_slots (year_id, teacher_id, subject_code, structure_id, weekday, starts, ends, room, weeks,
                 valid_from, valid_to, source, source_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                year_id,
                s.service.teacher_id,
                s.service.subject_code,
                s.service.structure_id,
                s.weekday,
                s.starts.to_string(),
                s.ends.to_string(),
                s.room,
                s.weeks.as_str(),
                valid_from.map(|d| d.to_string()),
                s.valid_to.map(|d| d.to_string()),
                n.source,
                n.source_key,
            ],
        )?;
    }
    Ok((ended, deleted, new.len()))
}

/// Exceptions about dates in, or lessons moved into, `from`–`to`.
pub fn exceptions(conn: &Connection, from: Date, to: Date) -> rusqlite::Result<Vec<Exception>> {
    let mut stmt = conn.prepare(
        "SELECT id, kind, slot_id, date, new_date, new_starts, new_ends, new_room, replacement_id,
                teacher_id, subject_code, structure_id, reason
         FROM vs_exceptions WHERE date BETWEEN ?1 AND ?2 OR new_date BETWEEN ?1 AND ?2 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![from.to_string(), to.to_string()], |r| {
        let kind: String = r.get(1)?;
        let t = |i: usize| -> rusqlite::Result<Time> {
            let v: Option<String> = r.get(i)?;
            Ok(v.and_then(|s| Time::parse(&s)).unwrap_or(Time::from_minutes(0)))
        };
        let k = match kind.as_str() {
            "cancelled" => ExceptionKind::Cancelled,
            "room" => ExceptionKind::Room {
                room: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
            },
            "moved" => ExceptionKind::Moved {
                date: date_col(r.get(4)?)?,
                starts: t(5)?,
                ends: t(6)?,
                room: r.get(7)?,
            },
            "replacement" => ExceptionKind::Replacement {
                teacher_id: r.get(8)?,
            },
            _ => ExceptionKind::Extra {
                service: Service {
                    teacher_id: r.get(9)?,
                    subject_code: r.get(10)?,
                    structure_id: r.get(11)?,
                },
                starts: t(5)?,
                ends: t(6)?,
                room: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
            },
        };
        Ok(Exception {
            id: r.get(0)?,
            slot_id: r.get(2)?,
            date: date_col(r.get(3)?)?,
            kind: k,
            reason: r.get(12)?,
        })
    })?;
    rows.collect()
}

/// Records a change to the timetable; a slot's change must be about a
/// date the slot takes place on.
pub fn add_exception(
    tx: &Transaction<'_>,
    cal: &Calendar,
    e: &Exception,
    by: &str,
    at: &str,
) -> anyhow::Result<i64> {
    if let Some(sid) = e.slot_id {
        let slot = tx
            .query_row(
                &format!("SELECT {SLOT_COLS} FROM vs_slots WHERE id = ?1"),
                [sid],
                slot_from_row,
            )
            .optional()?
            .with_context(|| format!("no timetable slot {sid}"))?;
        if !cal.slot_occurs(&slot, e.date) {
            bail!("the slot {sid} has no lesson on {}", e.date);
        }
    } else if !matches!(e.kind, ExceptionKind::Extra { .. }) {
        bail!("only an exceptional lesson has no slot");
    }
    let (mut new_date, mut ns, mut ne, mut room, mut repl) = (None, None, None, None, None);
    let (mut teacher, mut subject, mut structure) = (None, None, None);
    let kind = match &e.kind {
        ExceptionKind::Cancelled => "cancelled",
        ExceptionKind::Room { room: r } => {
            room = Some(r.clone());
            "room"
        }
        ExceptionKind::Moved {
            date,
            starts,
            ends,
            room: r,
        } => {
            if starts >= ends {
                bail!("a moved lesson must end after it starts");
            }
            new_date = Some(date.to_string());
            ns = Some(starts.to_string());
            ne = Some(ends.to_string());
            room = r.clone();
            "moved"
        }
        ExceptionKind::Replacement { teacher_id } => {
            repl = Some(*teacher_id);
            "replacement"
        }
        ExceptionKind::Extra {
            service,
            starts,
            ends,
            room: r,
        } => {
            if starts >= ends {
                bail!("an exceptional lesson must end after it starts");
            }
            ns = Some(starts.to_string());
            ne = Some(ends.to_string());
            room = Some(r.clone());
            teacher = Some(service.teacher_id);
            subject = Some(service.subject_code.clone());
            structure = Some(service.structure_id);
            "extra"
        }
    };
    tx.execute(
        "INSERT INTO vs_exceptions (kind, slot_id, date, new_date, new_starts, new_ends, new_room, replacement_id,
             teacher_id, subject_code, structure_id, reason, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            kind,
            e.slot_id,
            e.date.to_string(),
            new_date,
            ns,
            ne,
            room,
            repl,
            teacher,
            subject,
            structure,
            e.reason,
            by,
            at
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// The lessons of the year from `from` to `to`.
pub fn lessons(conn: &Connection, year: &Year, from: Date, to: Date) -> anyhow::Result<Vec<Lesson>> {
    let cal = calendar(conn, year)?;
    Ok(timetable::lessons(
        &slots(conn, year.id)?,
        &exceptions(conn, from, to)?,
        &cal,
        from,
        to,
    ))
}

/// The recorded id of a lesson, recording it on first use (a roll, a
/// homework log entry).
pub fn lesson_id(tx: &Transaction<'_>, l: &Lesson) -> rusqlite::Result<i64> {
    let existing: Option<i64> = match (l.slot_id, l.exception_id) {
        (Some(s), _) => tx
            .query_row(
                "SELECT id FROM vs_lessons WHERE slot_id = ?1 AND slot_date = ?2",
                params![s, l.slot_date.map(|d| d.to_string())],
                |r| r.get(0),
            )
            .optional()?,
        (None, Some(e)) => tx
            .query_row("SELECT id FROM vs_lessons WHERE exception_id = ?1", [e], |r| {
                r.get(0)
            })
            .optional()?,
        (None, None) => None,
    };
    if let Some(id) = existing {
        tx.execute(
            "UPDATE vs_lessons SET date = ?2, starts = ?3, ends = ?4, teacher_id = ?5, room = ?6 WHERE id = ?1",
            params![id, l.date.to_string(), l.starts.to_string(), l.ends.to_string(), l.service.teacher_id, l.room],
        )?;
        return Ok(id);
    }
    tx.execute(
        "INSERT INTO vs_lessons (slot_id, exception_id, slot_date, date, starts, ends, teacher_id, subject_code, structure_id, room)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            l.slot_id,
            l.exception_id,
            l.slot_date.map(|d| d.to_string()),
            l.date.to_string(),
            l.starts.to_string(),
            l.ends.to_string(),
            l.service.teacher_id,
            l.service.subject_code,
            l.service.structure_id,
            l.room
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

// ---------------------------------------------------------------- rolls

/// One student's line of a roll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollEntry {
    pub student_id: i64,
    pub presence: Presence,
    pub late_minutes: u32,
    pub remark: String,
}

/// Saves a roll at once: every student of `roster` not in `entries` is
/// present. Each changed line is kept in the history (who, when, before,
/// after). Returns how many lines changed.
pub fn save_roll(
    tx: &Transaction<'_>,
    lesson_id: i64,
    roster: &[i64],
    entries: &[RollEntry],
    by: &str,
    at: &str,
) -> anyhow::Result<usize> {
    let mut changed = 0;
    for e in entries {
        if !roster.contains(&e.student_id) {
            bail!("student {} is not in this lesson's class or group", e.student_id);
        }
        if e.presence == Presence::Late && e.late_minutes == 0 {
            bail!("a late arrival needs its minutes");
        }
    }
    for &student in roster {
        let entry = entries
            .iter()
            .find(|e| e.student_id == student)
            .cloned()
            .unwrap_or(RollEntry {
                student_id: student,
                presence: Presence::Present,
                late_minutes: 0,
                remark: String::new(),
            });
        let before: Option<(String, i64, String)> = tx
            .prepare_cached(
                "SELECT status, late_minutes, remark FROM vs_attendance WHERE lesson_id = ?1 AND student_id = ?2",
            )?
            .query_row(params![lesson_id, student], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let after = (
            entry.presence.as_str().to_string(),
            i64::from(entry.late_minutes),
            entry.remark.clone(),
        );
        if before.as_ref() == Some(&after) {
            continue;
        }
        tx.prepare_cached(
            "INSERT INTO vs_attendance (lesson_id, student_id, status, late_minutes, remark, by, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(lesson_id, student_id) DO UPDATE SET status = excluded.status,
                 late_minutes = excluded.late_minutes, remark = excluded.remark, by = excluded.by, at = excluded.at",
        )?
        .execute(params![lesson_id, student, after.0, after.1, after.2, by, at])?;
        let json = |v: &(String, i64, String)| {
            serde_json::json!({"status": v.0, "late_minutes": v.1, "remark": v.2}).to_string()
        };
        tx.prepare_cached(
            "INSERT INTO vs_attendance_history (lesson_id, student_id, by, at, before, after) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![lesson_id, student, by, at, before.as_ref().map(json), json(&after)])?;
        changed += 1;
    }
    tx.execute(
        "UPDATE vs_lessons SET roll_taken_by = ?2, roll_taken_at = ?3 WHERE id = ?1",
        params![lesson_id, by, at],
    )?;
    Ok(changed)
}

/// Active students of a structure (class or group) by id, by name.
pub fn roster(conn: &Connection, structure_id: i64) -> rusqlite::Result<Vec<(i64, String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT p.id, p.last_name, p.first_name FROM people p JOIN memberships m ON m.person_id = p.id
         WHERE m.structure_id = ?1 AND p.kind = 'student' AND p.status = 'active'
         ORDER BY p.last_name, p.first_name, p.id",
    )?;
    let rows = stmt.query_map([structure_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}

// ---------------------------------------------------------------- absences

/// Records an absence event (from the office, or declared by a parent).
pub fn add_absence(
    tx: &Transaction<'_>,
    student_id: i64,
    starts: DateTime,
    ends: DateTime,
    reason: Option<&str>,
    comment: &str,
    by: &str,
    at: &str,
) -> anyhow::Result<i64> {
    if starts >= ends {
        bail!("an absence must end after it starts");
    }
    tx.execute(
        "INSERT INTO vs_absence_events (student_id, starts, ends, reason_code, comment, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![student_id, starts.stamp(), ends.stamp(), reason, comment, by, at],
    )?;
    Ok(tx.last_insert_rowid())
}

/// A justification sent for an absence event; the event's state follows.
pub fn justify(
    tx: &Transaction<'_>,
    event_id: i64,
    by_person: i64,
    reason: &str,
    comment: &str,
    attachment_id: Option<i64>,
    at: &str,
) -> anyhow::Result<i64> {
    let known: bool = tx.query_row("SELECT count(*) FROM vs_reasons WHERE code = ?1", [reason], |r| {
        r.get(0)
    })?;
    if !known {
        bail!("unknown absence reason {reason}");
    }
    tx.execute(
        "INSERT INTO vs_justifications (event_id, by_person, reason_code, comment, attachment_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![event_id, by_person, reason, comment, attachment_id, at],
    )?;
    let id = tx.last_insert_rowid();
    tx.execute(
        "UPDATE vs_absence_events SET justification = 'received' WHERE id = ?1",
        [event_id],
    )?;
    Ok(id)
}

/// The office accepts or refuses a justification.
pub fn decide_justification(
    tx: &Transaction<'_>,
    id: i64,
    accept: bool,
    by: &str,
    at: &str,
) -> anyhow::Result<()> {
    let state = if accept { "accepted" } else { "refused" };
    let event: i64 = tx
        .query_row(
            "SELECT event_id FROM vs_justifications WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?
        .with_context(|| format!("no justification {id}"))?;
    tx.execute(
        "UPDATE vs_justifications SET state = ?2, decided_by = ?3, decided_at = ?4 WHERE id = ?1",
        params![id, state, by, at],
    )?;
    tx.execute(
        "UPDATE vs_absence_events SET justification = ?2,
             reason_code = (SELECT reason_code FROM vs_justifications WHERE id = ?3)
         WHERE id = ?1",
        params![event, state, id],
    )?;
    Ok(())
}

/// A student's absence events overlapping `from`–`to`, as the half-day
/// rule reads them.
pub fn events(conn: &Connection, student_id: i64, from: Date, to: Date) -> rusqlite::Result<Vec<Event>> {
    let mut stmt = conn.prepare(
        "SELECT e.starts, e.ends, e.justification = 'accepted' AND coalesce(r.justifies, 0) = 1
         FROM vs_absence_events e LEFT JOIN vs_reasons r ON r.code = e.reason_code
         WHERE e.student_id = ?1 AND e.starts < ?3 AND e.ends > ?2",
    )?;
    let rows = stmt.query_map(
        params![
            student_id,
            format!("{from}T00:00"),
            format!("{}T00:00", to.add_days(1))
        ],
        |r| {
            let (a, b): (String, String) = (r.get(0)?, r.get(1)?);
            Ok((DateTime::parse(&a), DateTime::parse(&b), r.get::<_, bool>(2)?))
        },
    )?;
    Ok(rows
        .filter_map(Result::ok)
        .filter_map(|(a, b, justified)| {
            Some(Event {
                starts: a?,
                ends: b?,
                justified,
            })
        })
        .collect())
}

/// Structures (class and groups) of a student.
pub fn structures_of(conn: &Connection, student_id: i64) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare("SELECT structure_id FROM memberships WHERE person_id = ?1")?;
    let rows = stmt.query_map([student_id], |r| r.get(0))?;
    rows.collect()
}

/// A recorded lesson's key: slot and slot date, or exception.
type LessonKey = (Option<i64>, Option<String>, Option<i64>);

/// Per-student summary of absences over a period.
#[derive(Debug, Clone, Serialize)]
pub struct StudentAbsences {
    pub student_id: i64,
    pub login: String,
    pub name: String,
    pub half_days: usize,
    pub justified: usize,
    pub unjustified: usize,
    pub late: u32,
    pub missed_lessons: u32,
    pub alert: Option<attendance::Alert>,
}

/// Absence summaries of the students of a class from `from` to `to`:
/// their lessons (class and groups) with their rolls, and their events.
pub fn absences_report(
    conn: &Connection,
    year: &Year,
    class_id: i64,
    from: Date,
    to: Date,
    settings: &super::settings::VieScolaireSettings,
) -> anyhow::Result<Vec<StudentAbsences>> {
    let all = lessons(conn, year, from, to)?;
    let mut out = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT l.slot_id, l.slot_date, l.exception_id, a.status FROM vs_attendance a JOIN vs_lessons l ON l.id = a.lesson_id
         WHERE a.student_id = ?1 AND l.date BETWEEN ?2 AND ?3",
    )?;
    for (id, last, first) in roster(conn, class_id)? {
        let mine = structures_of(conn, id)?;
        let rolls: HashMap<LessonKey, Presence> = stmt
            .query_map(params![id, from.to_string(), to.to_string()], |r| {
                let s: String = r.get(3)?;
                Ok((
                    (r.get(0)?, r.get(1)?, r.get(2)?),
                    Presence::parse(&s).unwrap_or(Presence::Present),
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let attended: Vec<Attended> = all
            .iter()
            .filter(|l| l.takes_place && mine.contains(&l.service.structure_id))
            .map(|l| Attended {
                date: l.date,
                starts: l.starts,
                ends: l.ends,
                roll: rolls
                    .get(&(l.slot_id, l.slot_date.map(|d| d.to_string()), l.exception_id))
                    .copied(),
            })
            .collect();
        let s = attendance::summarize(settings.noon(), &attended, &events(conn, id, from, to)?);
        let login: String = conn.query_row("SELECT login FROM people WHERE id = ?1", [id], |r| r.get(0))?;
        out.push(StudentAbsences {
            student_id: id,
            login,
            name: format!("{last} {first}"),
            half_days: s.half_days.len(),
            justified: s.justified(),
            unjustified: s.unjustified(),
            late: s.late,
            missed_lessons: s.missed_lessons,
            alert: attendance::alert(
                &s.half_days,
                to,
                settings.alert_window_days,
                settings.alert_half_days,
            ),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- homework, messages

/// Writes the homework log of a lesson.
pub fn add_homework(
    tx: &Transaction<'_>,
    lesson_id: i64,
    done: &str,
    homework: &str,
    due: Option<Date>,
    by: &str,
    at: &str,
) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT INTO vs_homework (lesson_id, done, homework, due_date, by, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![lesson_id, done, homework, due.map(|d| d.to_string()), by, at],
    )?;
    Ok(tx.last_insert_rowid())
}

/// One thing to do for a student.
#[derive(Debug, Clone, Serialize)]
pub struct ToDo {
    pub due: Date,
    pub subject_code: String,
    pub homework: String,
}

/// A student's homework due from `from` on, by due date.
pub fn todo(conn: &Connection, student_id: i64, from: Date) -> rusqlite::Result<Vec<ToDo>> {
    let mut stmt = conn.prepare(
        "SELECT h.due_date, l.subject_code, h.homework FROM vs_homework h JOIN vs_lessons l ON l.id = h.lesson_id
         WHERE h.due_date >= ?2 AND h.homework <> ''
           AND l.structure_id IN (SELECT structure_id FROM memberships WHERE person_id = ?1)
         ORDER BY h.due_date, l.subject_code",
    )?;
    let rows = stmt.query_map(params![student_id, from.to_string()], |r| {
        Ok(ToDo {
            due: date_col(r.get(0)?)?,
            subject_code: r.get(1)?,
            homework: r.get(2)?,
        })
    })?;
    rows.collect()
}

/// Sends a message (a new thread when `thread` is None) to recipients;
/// it is delivered at `deliver_at` (after the quiet period). Returns the
/// message id.
pub fn send_message(
    tx: &Transaction<'_>,
    thread: Option<i64>,
    subject: &str,
    author_id: i64,
    recipients: &[i64],
    body: &str,
    written_at: DateTime,
    deliver_at: DateTime,
) -> anyhow::Result<i64> {
    if recipients.is_empty() {
        bail!("a message needs at least one recipient");
    }
    if body.trim().is_empty() {
        bail!("a message cannot be empty");
    }
    let thread = match thread {
        Some(t) => t,
        None => {
            tx.execute(
                "INSERT INTO vs_threads (subject, created_by, created_at) VALUES (?1, ?2, ?3)",
                params![subject, author_id, written_at.stamp()],
            )?;
            tx.last_insert_rowid()
        }
    };
    tx.execute(
        "INSERT INTO vs_messages (thread_id, author_id, body, written_at, deliver_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![thread, author_id, body, written_at.stamp(), deliver_at.stamp()],
    )?;
    let id = tx.last_insert_rowid();
    for r in recipients {
        tx.execute(
            "INSERT OR IGNORE INTO vs_recipients (message_id, person_id) VALUES (?1, ?2)",
            params![id, r],
        )?;
    }
    Ok(id)
}

/// Marks a message read by a recipient (the sender's read receipt).
pub fn mark_read(tx: &Transaction<'_>, message_id: i64, person_id: i64, at: &str) -> rusqlite::Result<bool> {
    Ok(tx.execute(
        "UPDATE vs_recipients SET read_at = ?3 WHERE message_id = ?1 AND person_id = ?2 AND read_at IS NULL",
        params![message_id, person_id, at],
    )? == 1)
}

// ---------------------------------------------------------------- grades

/// An evaluation to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvaluation {
    pub period_id: i64,
    pub service: Service,
    pub title: String,
    pub date: Date,
    /// Hundredths.
    pub coefficient: u32,
    /// Hundredths.
    pub out_of: u32,
    pub kind: EvalKind,
    pub publish_students_at: DateTime,
    pub publish_parents_at: DateTime,
}

pub fn add_evaluation(tx: &Transaction<'_>, e: &NewEvaluation, at: &str) -> anyhow::Result<i64> {
    if e.coefficient > 9900 {
        bail!("a coefficient is between 0 and 99");
    }
    if e.out_of == 0 {
        bail!("an evaluation is out of a positive number of points");
    }
    if e.publish_parents_at < e.publish_students_at {
        bail!("parents cannot see marks before students");
    }
    tx.execute(
        "INSERT INTO vs_evaluations (period_id, teacher_id, subject_code, structure_id, title, date, coefficient, out_of,
             kind, publish_students_at, publish_parents_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            e.period_id,
            e.service.teacher_id,
            e.service.subject_code,
            e.service.structure_id,
            e.title,
            e.date.to_string(),
            e.coefficient,
            e.out_of,
            e.kind.as_str(),
            e.publish_students_at.stamp(),
            e.publish_parents_at.stamp(),
            at
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Saves one cell of the grid (None clears it), with its history.
pub fn set_mark(
    tx: &Transaction<'_>,
    evaluation_id: i64,
    student_id: i64,
    mark: Option<Mark>,
    by: &str,
    at: &str,
) -> anyhow::Result<bool> {
    // Cached statements: a grid save runs these once per cell.
    let out_of: i64 = tx
        .prepare_cached("SELECT out_of FROM vs_evaluations WHERE id = ?1")?
        .query_row([evaluation_id], |r| r.get(0))
        .optional()?
        .with_context(|| format!("no evaluation {evaluation_id}"))?;
    if let Some(Mark::Value(v)) = mark
        && i64::from(v) > out_of
    {
        bail!("the mark is above the scale");
    }
    let before: Option<(Option<i64>, Option<String>)> = tx
        .prepare_cached("SELECT value, special FROM vs_marks WHERE evaluation_id = ?1 AND student_id = ?2")?
        .query_row(params![evaluation_id, student_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let before = before.and_then(|(v, s)| Mark::from_columns(v, s.as_deref()));
    if before == mark {
        return Ok(false);
    }
    match mark {
        Some(m) => {
            let (v, s) = m.to_columns();
            tx.prepare_cached(
                "INSERT INTO vs_marks (evaluation_id, student_id, value, special, by, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(evaluation_id, student_id) DO UPDATE SET value = excluded.value, special = excluded.special,
                     by = excluded.by, at = excluded.at",
            )?
            .execute(params![evaluation_id, student_id, v, s, by, at])?;
        }
        None => {
            tx.prepare_cached("DELETE FROM vs_marks WHERE evaluation_id = ?1 AND student_id = ?2")?
                .execute(params![evaluation_id, student_id])?;
        }
    }
    tx.prepare_cached(
        "INSERT INTO vs_marks_history (evaluation_id, student_id, by, at, before, after) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
            evaluation_id,
            student_id,
            by,
            at,
            before.map(|m| m.to_string()),
            mark.map(|m| m.to_string())
        ],
    )?;
    Ok(true)
}

/// Changes an evaluation's coefficient; recorded (and shown to the
/// class) when marks exist already.
pub fn set_coefficient(
    tx: &Transaction<'_>,
    evaluation_id: i64,
    coefficient: u32,
    by: &str,
    at: &str,
) -> anyhow::Result<()> {
    if coefficient > 9900 {
        bail!("a coefficient is between 0 and 99");
    }
    let (before, class): (i64, i64) = tx
        .query_row(
            "SELECT coefficient, structure_id FROM vs_evaluations WHERE id = ?1",
            [evaluation_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .with_context(|| format!("no evaluation {evaluation_id}"))?;
    if before == i64::from(coefficient) {
        return Ok(());
    }
    let marks: i64 = tx.query_row(
        "SELECT count(*) FROM vs_marks WHERE evaluation_id = ?1",
        [evaluation_id],
        |r| r.get(0),
    )?;
    tx.execute(
        "UPDATE vs_evaluations SET coefficient = ?2 WHERE id = ?1",
        params![evaluation_id, coefficient],
    )?;
    if marks > 0 {
        tx.execute(
            "INSERT INTO vs_coefficient_changes (evaluation_id, class_id, before, after, by, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![evaluation_id, class, before, coefficient, by, at],
        )?;
    }
    Ok(())
}

/// Sets a subject's coefficient in a class's overall average.
pub fn set_subject_coefficient(
    tx: &Transaction<'_>,
    class_id: i64,
    subject: &str,
    coefficient: u32,
    by: &str,
    at: &str,
) -> anyhow::Result<()> {
    if coefficient > 9900 {
        bail!("a coefficient is between 0 and 99");
    }
    let before: Option<i64> = tx
        .query_row(
            "SELECT coefficient FROM vs_subject_coefficients WHERE class_id = ?1 AND subject_code = ?2",
            params![class_id, subject],
            |r| r.get(0),
        )
        .optional()?;
    tx.execute(
        "INSERT INTO vs_subject_coefficients (class_id, subject_code, coefficient) VALUES (?1, ?2, ?3)
         ON CONFLICT(class_id, subject_code) DO UPDATE SET coefficient = excluded.coefficient",
        params![class_id, subject, coefficient],
    )?;
    let marks: i64 = tx.query_row(
        "SELECT count(*) FROM vs_marks m JOIN vs_evaluations e ON e.id = m.evaluation_id WHERE e.subject_code = ?1
         AND e.structure_id IN (SELECT ?2 UNION SELECT group_id FROM group_classes WHERE class_id = ?2)",
        params![subject, class_id],
        |r| r.get(0),
    )?;
    if marks > 0 && before != Some(i64::from(coefficient)) {
        tx.execute(
            "INSERT INTO vs_coefficient_changes (class_id, subject_code, before, after, by, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![class_id, subject, before.unwrap_or(100), coefficient, by, at],
        )?;
    }
    Ok(())
}

/// A student's own coefficient for a subject (overrides the class's).
pub fn set_student_coefficient(
    tx: &Transaction<'_>,
    student_id: i64,
    subject: &str,
    coefficient: u32,
) -> anyhow::Result<()> {
    if coefficient > 9900 {
        bail!("a coefficient is between 0 and 99");
    }
    tx.execute(
        "INSERT INTO vs_student_coefficients (student_id, subject_code, coefficient) VALUES (?1, ?2, ?3)
         ON CONFLICT(student_id, subject_code) DO UPDATE SET coefficient = excluded.coefficient",
        params![student_id, subject, coefficient],
    )?;
    Ok(())
}

/// A coefficient change shown to a class's students.
#[derive(Debug, Clone, Serialize)]
pub struct CoefficientChange {
    pub what: String,
    pub before: String,
    pub after: String,
    pub at: String,
}

pub fn coefficient_changes(conn: &Connection, class_id: i64) -> rusqlite::Result<Vec<CoefficientChange>> {
    let mut stmt = conn.prepare(
        "SELECT coalesce(e.title || ' (' || e.subject_code || ')', c.subject_code), c.before, c.after, c.at
         FROM vs_coefficient_changes c LEFT JOIN vs_evaluations e ON e.id = c.evaluation_id
         WHERE c.class_id = ?1 OR e.structure_id IN (SELECT group_id FROM group_classes WHERE class_id = ?1)
         ORDER BY c.at, c.id",
    )?;
    let rows = stmt.query_map([class_id], |r| {
        Ok(CoefficientChange {
            what: r.get(0)?,
            before: grades::show_hundredths(r.get::<_, i64>(1)? as u32),
            after: grades::show_hundredths(r.get::<_, i64>(2)? as u32),
            at: r.get(3)?,
        })
    })?;
    rows.collect()
}

/// Which marks to read: everything (teachers, the report card) or only
/// those published for students or parents at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    All,
    Students(DateTime),
    Parents(DateTime),
}

/// Whether an evaluation published at `at` is visible to `audience`: its
/// publication moment is past, and, for a publication today, the
/// school-wide publication hour too.
pub fn published(audience: Audience, students_at: DateTime, parents_at: DateTime, hour: Time) -> bool {
    let (now, at) = match audience {
        Audience::All => return true,
        Audience::Students(now) => (now, students_at),
        Audience::Parents(now) => (now, parents_at),
    };
    let at = if at.time < hour {
        DateTime {
            date: at.date,
            time: hour,
        }
    } else {
        at
    };
    now >= at
}

/// A student's subject in a period: the marks and their average.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectLine {
    pub subject_code: String,
    pub subject_label: String,
    /// Hundredths, as used in the overall average.
    pub coefficient: u32,
    pub marks: Vec<String>,
    #[serde(skip)]
    pub average: Option<Q>,
}

/// One evaluation of a student's structures with his mark, as the
/// averages read it.
struct MarkRow {
    student_id: i64,
    subject_code: String,
    subject_label: String,
    coefficient: i64,
    out_of: i64,
    kind: String,
    value: Option<i64>,
    special: Option<String>,
    publish_students_at: String,
    publish_parents_at: String,
}

/// The columns [`mark_row`] reads: evaluation `e`, mark `m`, subject `s`
/// and the student's id as `student`.
const MARK_COLS: &str = "student, e.subject_code, coalesce(s.label, e.subject_code), e.coefficient, e.out_of,
    e.kind, m.value, m.special, e.publish_students_at, e.publish_parents_at";

fn mark_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MarkRow> {
    Ok(MarkRow {
        student_id: r.get(0)?,
        subject_code: r.get(1)?,
        subject_label: r.get(2)?,
        coefficient: r.get(3)?,
        out_of: r.get(4)?,
        kind: r.get(5)?,
        value: r.get(6)?,
        special: r.get(7)?,
        publish_students_at: r.get(8)?,
        publish_parents_at: r.get(9)?,
    })
}

/// A student's subject lines from his rows (ordered by subject, date,
/// id), with the marks `audience` sees: THE computation behind the grid,
/// the student's page and the report card. `coefficient` gives the
/// subject's coefficient in his overall average (hundredths).
fn subject_lines<'a>(
    rows: impl IntoIterator<Item = &'a MarkRow>,
    audience: Audience,
    hour: Time,
    coefficient: impl Fn(&str) -> u32,
) -> Vec<SubjectLine> {
    let mut by_subject: BTreeMap<&str, (&str, Vec<Graded>, Vec<String>)> = BTreeMap::new();
    for row in rows {
        let entry = by_subject
            .entry(&row.subject_code)
            .or_insert_with(|| (&row.subject_label, Vec::new(), Vec::new()));
        let visible = match (
            DateTime::parse(&row.publish_students_at),
            DateTime::parse(&row.publish_parents_at),
        ) {
            (Some(a), Some(b)) => published(audience, a, b, hour),
            _ => false,
        };
        if !visible {
            continue;
        }
        if let Some(mark) = Mark::from_columns(row.value, row.special.as_deref()) {
            entry
                .2
                .push(format!("{mark}/{}", grades::show_hundredths(row.out_of as u32)));
            entry.1.push(Graded {
                coefficient: row.coefficient as u32,
                out_of: row.out_of as u32,
                kind: EvalKind::parse(&row.kind).unwrap_or(EvalKind::Counts),
                mark,
            });
        }
    }
    by_subject
        .into_iter()
        .map(|(code, (label, graded, marks))| SubjectLine {
            average: grades::subject_average(&graded),
            coefficient: coefficient(code),
            subject_code: code.to_string(),
            subject_label: label.to_string(),
            marks,
        })
        .collect()
}

/// The subject coefficients of a class (hundredths) by subject, and its
/// students' own ones by (student, subject).
type Coefficients = (HashMap<String, u32>, HashMap<(i64, String), u32>);

/// A class's [`Coefficients`] (of its students, or of one `student`).
fn class_coefficients(
    conn: &Connection,
    class_id: i64,
    student: Option<i64>,
) -> rusqlite::Result<Coefficients> {
    let mut class = HashMap::new();
    let mut st = conn.prepare_cached(
        "SELECT subject_code, coefficient FROM vs_subject_coefficients WHERE class_id = ?1",
    )?;
    for row in st.query_map([class_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (code, k) = row?;
        class.insert(code, k as u32);
    }
    let mut own = HashMap::new();
    let mut st = match student {
        Some(_) => conn.prepare_cached(
            "SELECT student_id, subject_code, coefficient FROM vs_student_coefficients WHERE student_id = ?1",
        )?,
        None => conn.prepare_cached(
            "SELECT c.student_id, c.subject_code, c.coefficient FROM vs_student_coefficients c
             JOIN memberships m ON m.person_id = c.student_id AND m.structure_id = ?1",
        )?,
    };
    let rows = st.query_map([student.unwrap_or(class_id)], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
    })?;
    for row in rows {
        let (s, code, k) = row?;
        own.insert((s, code), k as u32);
    }
    Ok((class, own))
}

/// A student's coefficient for a subject: his own, else his class's,
/// else 1.
fn coefficient_of(coefs: &Coefficients, student: i64, subject: &str) -> u32 {
    coefs
        .1
        .get(&(student, subject.to_string()))
        .or_else(|| coefs.0.get(subject))
        .copied()
        .unwrap_or(100)
}

/// The student's lines in a period: one per subject of his class and
/// groups' evaluations.
pub fn student_subjects(
    conn: &Connection,
    period_id: i64,
    student_id: i64,
    class_id: i64,
    audience: Audience,
    hour: Time,
) -> rusqlite::Result<Vec<SubjectLine>> {
    let rows = student_rows(conn, period_id, student_id, None)?;
    let coefs = class_coefficients(conn, class_id, Some(student_id))?;
    Ok(subject_lines(&rows, audience, hour, |code| {
        coefficient_of(&coefs, student_id, code)
    }))
}

/// A student's average in one subject for a period (what a saved cell
/// answers): [`student_subjects`]'s line of that subject, read alone.
pub fn student_subject_average(
    conn: &Connection,
    period_id: i64,
    student_id: i64,
    subject: &str,
    audience: Audience,
    hour: Time,
) -> rusqlite::Result<Option<Q>> {
    let rows = student_rows(conn, period_id, student_id, Some(subject))?;
    Ok(subject_lines(&rows, audience, hour, |_| 100)
        .into_iter()
        .next()
        .and_then(|l| l.average))
}

/// The rows of one student (of one subject, or all).
fn student_rows(
    conn: &Connection,
    period_id: i64,
    student_id: i64,
    subject: Option<&str>,
) -> rusqlite::Result<Vec<MarkRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MARK_COLS}
         FROM (SELECT ?2 AS student) JOIN vs_evaluations e
         LEFT JOIN vs_marks m ON m.evaluation_id = e.id AND m.student_id = ?2
         LEFT JOIN subjects s ON s.code = e.subject_code
         WHERE e.period_id = ?1 AND (?3 IS NULL OR e.subject_code = ?3)
           AND e.structure_id IN (SELECT structure_id FROM memberships WHERE person_id = ?2)
         ORDER BY e.subject_code, e.date, e.id"
    ))?;
    let rows = stmt.query_map(params![period_id, student_id, subject], mark_row)?;
    rows.collect()
}

/// One student's averages in a period.
#[derive(Debug, Clone)]
pub struct StudentAverages {
    pub student_id: i64,
    pub login: String,
    pub name: String,
    pub ine: Option<String>,
    pub subjects: Vec<SubjectLine>,
    pub overall: Option<Q>,
}

/// Every student of a class (today's roster) with his averages in a
/// period: the same computation ([`subject_lines`]) feeds the grid, the
/// student's page and the report card, so their figures are the same.
/// Four queries for the whole class (the roster, every mark of the
/// period of its students' classes and groups, the coefficients).
pub fn class_averages(
    conn: &Connection,
    period_id: i64,
    class_id: i64,
    audience: Audience,
    hour: Time,
) -> anyhow::Result<Vec<StudentAverages>> {
    let mut st = conn.prepare_cached(
        "SELECT p.id, p.last_name, p.first_name, p.login, p.ine FROM people p JOIN memberships m ON m.person_id = p.id
         WHERE m.structure_id = ?1 AND p.kind = 'student' AND p.status = 'active'
         ORDER BY p.last_name, p.first_name, p.id",
    )?;
    let roster = st
        .query_map([class_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut st = conn.prepare_cached(&format!(
        "SELECT {MARK_COLS}
         FROM (SELECT DISTINCT c.person_id AS student, o.structure_id AS structure
               FROM memberships c JOIN memberships o ON o.person_id = c.person_id WHERE c.structure_id = ?2) x
         JOIN vs_evaluations e ON e.structure_id = x.structure AND e.period_id = ?1
         LEFT JOIN vs_marks m ON m.evaluation_id = e.id AND m.student_id = x.student
         LEFT JOIN subjects s ON s.code = e.subject_code
         ORDER BY x.student, e.subject_code, e.date, e.id"
    ))?;
    let mut rows: HashMap<i64, Vec<MarkRow>> = HashMap::new();
    for row in st.query_map(params![period_id, class_id], mark_row)? {
        let row = row?;
        rows.entry(row.student_id).or_default().push(row);
    }
    let coefs = class_coefficients(conn, class_id, None)?;
    let mut out = Vec::with_capacity(roster.len());
    for (id, last, first, login, ine) in roster {
        let subjects = subject_lines(rows.get(&id).into_iter().flatten(), audience, hour, |code| {
            coefficient_of(&coefs, id, code)
        });
        let overall = grades::overall_average(
            &subjects
                .iter()
                .map(|s| (s.average.clone(), s.coefficient))
                .collect::<Vec<_>>(),
        );
        out.push(StudentAverages {
            student_id: id,
            login,
            name: format!("{last} {first}"),
            ine,
            subjects,
            overall,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- competences, report cards

/// Positions a student on a competence (level 1–4), for a period or an
/// evaluation.
pub fn set_competence(
    tx: &Transaction<'_>,
    student_id: i64,
    code: &str,
    period_id: i64,
    evaluation_id: Option<i64>,
    level: u8,
    by: &str,
    at: &str,
) -> anyhow::Result<()> {
    if !(1..=4).contains(&level) {
        bail!("a competence level is 1 to 4");
    }
    let known: bool = tx.query_row(
        "SELECT count(*) FROM vs_competences WHERE code = ?1",
        [code],
        |r| r.get(0),
    )?;
    if !known {
        bail!("unknown competence {code}");
    }
    tx.execute(
        "INSERT INTO vs_competence_levels (student_id, competence_code, period_id, evaluation_id, level, by, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(student_id, competence_code, period_id, evaluation_id) DO UPDATE SET level = excluded.level,
             by = excluded.by, at = excluded.at",
        params![student_id, code, period_id, evaluation_id.unwrap_or(0), level, by, at],
    )?;
    Ok(())
}

/// A student's period positionings on the socle's components.
pub fn socle_levels(
    conn: &Connection,
    student_id: i64,
    period_id: i64,
) -> rusqlite::Result<Vec<(String, u8)>> {
    let mut stmt = conn.prepare(
        "SELECT l.competence_code, l.level FROM vs_competence_levels l JOIN vs_competences c ON c.code = l.competence_code
         WHERE l.student_id = ?1 AND l.period_id = ?2 AND l.evaluation_id = 0 AND c.kind = 'socle'
         ORDER BY l.competence_code",
    )?;
    let rows = stmt.query_map(params![student_id, period_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// A report-card comment: a subject teacher's, or the head teacher's
/// general one (`subject` empty).
pub fn set_comment(
    tx: &Transaction<'_>,
    period_id: i64,
    student_id: i64,
    subject: &str,
    author_id: i64,
    comment: &str,
    at: &str,
) -> anyhow::Result<()> {
    if closed(tx, period_id, student_id)? {
        bail!("the report card of this period is closed");
    }
    tx.execute(
        "INSERT INTO vs_report_comments (period_id, student_id, subject_code, author_id, comment, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(period_id, student_id, subject_code) DO UPDATE SET author_id = excluded.author_id,
             comment = excluded.comment, at = excluded.at",
        params![period_id, student_id, subject, author_id, comment, at],
    )?;
    Ok(())
}

pub fn set_council(
    tx: &Transaction<'_>,
    period_id: i64,
    student_id: i64,
    decision: &str,
    mention: &str,
    by: &str,
    at: &str,
) -> anyhow::Result<()> {
    if closed(tx, period_id, student_id)? {
        bail!("the report card of this period is closed");
    }
    tx.execute(
        "INSERT INTO vs_council (period_id, student_id, decision, mention, by, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(period_id, student_id) DO UPDATE SET decision = excluded.decision, mention = excluded.mention,
             by = excluded.by, at = excluded.at",
        params![period_id, student_id, decision, mention, by, at],
    )?;
    Ok(())
}

fn closed(conn: &Connection, period_id: i64, student_id: i64) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM vs_report_cards WHERE period_id = ?1 AND student_id = ?2",
        params![period_id, student_id],
        |r| r.get(0),
    )
}

pub fn comments(
    conn: &Connection,
    period_id: i64,
    student_id: i64,
) -> rusqlite::Result<HashMap<String, String>> {
    let mut stmt = conn.prepare(
        "SELECT subject_code, comment FROM vs_report_comments WHERE period_id = ?1 AND student_id = ?2",
    )?;
    let rows = stmt.query_map(params![period_id, student_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

pub fn council(
    conn: &Connection,
    period_id: i64,
    student_id: i64,
) -> rusqlite::Result<Option<(String, String)>> {
    conn.query_row(
        "SELECT decision, mention FROM vs_council WHERE period_id = ?1 AND student_id = ?2",
        params![period_id, student_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Freezes the report cards of a class for a period: an immutable copy
/// of each (JSON), which later edits do not change.
pub fn close_period(
    tx: &Transaction<'_>,
    period_id: i64,
    class_id: i64,
    cards: &[(i64, serde_json::Value)],
    by: &str,
    at: &str,
) -> anyhow::Result<usize> {
    let done: i64 = tx.query_row(
        "SELECT count(*) FROM vs_closures WHERE period_id = ?1 AND class_id = ?2",
        params![period_id, class_id],
        |r| r.get(0),
    )?;
    if done > 0 {
        bail!("this period is already closed for this class");
    }
    tx.execute(
        "INSERT INTO vs_closures (period_id, class_id, closed_by, closed_at) VALUES (?1, ?2, ?3, ?4)",
        params![period_id, class_id, by, at],
    )?;
    for (student, content) in cards {
        tx.execute(
            "INSERT INTO vs_report_cards (period_id, student_id, class_id, frozen_at, content) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![period_id, student, class_id, at, content.to_string()],
        )?;
    }
    Ok(cards.len())
}

/// The frozen report card of a student, if the period is closed.
pub fn frozen_card(
    conn: &Connection,
    period_id: i64,
    student_id: i64,
) -> anyhow::Result<Option<serde_json::Value>> {
    let text: Option<String> = conn
        .query_row(
            "SELECT content FROM vs_report_cards WHERE period_id = ?1 AND student_id = ?2",
            params![period_id, student_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(match text {
        Some(t) => Some(serde_json::from_str(&t)?),
        None => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    /// The demo directory, a year with one term, one Monday maths slot
    /// in 6A; returns (store, year, slot lesson of 2026-11-30, roster).
    fn setup() -> (tempfile::TempDir, Store, Year, Lesson, Vec<i64>) {
        let (dir, mut store) = super::super::import::tests::demo();
        let (login, ..) = super::super::import::tests::teacher_of(&store, "061300");
        store
            .write(|tx| {
                set_year(
                    tx,
                    "2026-2027",
                    d("2026-09-01"),
                    d("2027-07-04"),
                    &[NewPeriod {
                        label: "T1".into(),
                        starts: d("2026-09-01"),
                        ends: d("2026-11-30"),
                    }],
                )
            })
            .unwrap();
        let year = current_year(store.conn(), d("2026-11-30")).unwrap().unwrap();
        let csv =
            format!("teacher;subject;class;day;start;end;room\n{login};MATHS;6A;lundi;08:00;08:55;B12\n");
        super::super::import::timetable(
            &mut store,
            &year,
            "t.csv",
            csv.as_bytes(),
            super::super::import::Format::Csv,
            year.starts,
        )
        .unwrap();
        let lesson = lessons(store.conn(), &year, d("2026-11-30"), d("2026-11-30"))
            .unwrap()
            .remove(0);
        let roster: Vec<i64> = roster(store.conn(), lesson.service.structure_id)
            .unwrap()
            .iter()
            .map(|r| r.0)
            .collect();
        (dir, store, year, lesson, roster)
    }

    #[test]
    fn a_roll_is_saved_once_and_every_change_is_kept() {
        let (_d, mut store, _y, lesson, roster) = setup();
        let absent = RollEntry {
            student_id: roster[0],
            presence: Presence::Absent,
            late_minutes: 0,
            remark: String::new(),
        };
        let id = store.write(|tx| lesson_id(tx, &lesson)).unwrap();
        let n = store
            .write(|tx| {
                save_roll(
                    tx,
                    id,
                    &roster,
                    std::slice::from_ref(&absent),
                    "prof",
                    "2026-11-30T08:05",
                )
            })
            .unwrap();
        assert_eq!(n, roster.len(), "first roll: every line");
        // The same roll again changes nothing; a correction changes one line.
        let n = store
            .write(|tx| {
                save_roll(
                    tx,
                    id,
                    &roster,
                    std::slice::from_ref(&absent),
                    "prof",
                    "2026-11-30T08:06",
                )
            })
            .unwrap();
        assert_eq!(n, 0);
        let late = RollEntry {
            presence: Presence::Late,
            late_minutes: 12,
            ..absent.clone()
        };
        let n = store
            .write(|tx| {
                save_roll(
                    tx,
                    id,
                    &roster,
                    std::slice::from_ref(&late),
                    "cpe",
                    "2026-11-30T08:20",
                )
            })
            .unwrap();
        assert_eq!(n, 1);
        let (by, before, after): (String, String, String) = store
            .conn()
            .query_row(
                "SELECT by, before, after FROM vs_attendance_history WHERE student_id = ?1 ORDER BY id DESC LIMIT 1",
                [roster[0]],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(by, "cpe");
        assert!(
            before.contains("\"absent\"") && after.contains("\"late\"") && after.contains("12"),
            "{before} {after}"
        );
        // The lesson keeps one id; a stranger or a late without minutes is refused.
        assert_eq!(store.write(|tx| lesson_id(tx, &lesson)).unwrap(), id);
        let stranger = RollEntry {
            student_id: 999_999,
            ..absent.clone()
        };
        assert!(
            store
                .write(|tx| save_roll(tx, id, &roster, &[stranger], "prof", "x"))
                .is_err()
        );
        let no_minutes = RollEntry {
            late_minutes: 0,
            ..late
        };
        assert!(
            store
                .write(|tx| save_roll(tx, id, &roster, &[no_minutes], "prof", "x"))
                .is_err()
        );
    }

    #[test]
    fn marks_history_coefficient_changes_and_publication() {
        let (_d, mut store, y, lesson, roster) = setup();
        let p = period(store.conn(), y.id, 1).unwrap();
        let publish = DateTime::parse("2026-10-02T08:00").unwrap();
        let e = NewEvaluation {
            period_id: p.id,
            service: lesson.service.clone(),
            title: "DS".into(),
            date: d("2026-10-01"),
            coefficient: 200,
            out_of: 2000,
            kind: EvalKind::Counts,
            publish_students_at: publish,
            publish_parents_at: publish,
        };
        let id = store
            .write(|tx| add_evaluation(tx, &e, "2026-10-01T10:00"))
            .unwrap();
        // No change recorded while there is no mark.
        store
            .write(|tx| set_coefficient(tx, id, 300, "prof", "t0"))
            .unwrap();
        assert!(
            coefficient_changes(store.conn(), lesson.service.structure_id)
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .write(|tx| set_mark(tx, id, roster[0], Some(Mark::Value(2100)), "prof", "t1"))
                .is_err()
        );
        assert!(
            store
                .write(|tx| set_mark(tx, id, roster[0], Some(Mark::Value(1500)), "prof", "t1"))
                .unwrap()
        );
        assert!(
            !store
                .write(|tx| set_mark(tx, id, roster[0], Some(Mark::Value(1500)), "prof", "t2"))
                .unwrap()
        );
        assert!(
            store
                .write(|tx| set_mark(tx, id, roster[0], Some(Mark::Abs), "prof", "t3"))
                .unwrap()
        );
        let history: Vec<(Option<String>, Option<String>)> = {
            let mut st = store
                .conn()
                .prepare("SELECT before, after FROM vs_marks_history WHERE evaluation_id = ?1 ORDER BY id")
                .unwrap();
            st.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert_eq!(
            history,
            [(None, Some("15".into())), (Some("15".into()), Some("ABS".into()))]
        );
        store
            .write(|tx| set_mark(tx, id, roster[0], Some(Mark::Value(1500)), "prof", "t4"))
            .unwrap();
        store
            .write(|tx| set_coefficient(tx, id, 100, "prof", "2026-10-05T09:00"))
            .unwrap();
        let changes = coefficient_changes(store.conn(), lesson.service.structure_id).unwrap();
        assert_eq!(
            (
                changes.len(),
                changes[0].before.as_str(),
                changes[0].after.as_str()
            ),
            (1, "3", "1")
        );
        // Publication: at 08:00 on the 2nd, but never before 17:00 that day.
        let hour = Time::hm(17, 0);
        let at = |s: &str| DateTime::parse(s).unwrap();
        assert!(!published(
            Audience::Students(at("2026-10-02T16:59")),
            publish,
            publish,
            hour
        ));
        assert!(published(
            Audience::Students(at("2026-10-02T17:00")),
            publish,
            publish,
            hour
        ));
        assert!(published(Audience::All, publish, publish, hour));
        let later = at("2026-10-03T18:00");
        assert!(!published(
            Audience::Parents(at("2026-10-03T17:30")),
            publish,
            later,
            hour
        ));
        assert!(published(
            Audience::Students(at("2026-10-03T17:30")),
            publish,
            later,
            hour
        ));
        // The student's page hides unpublished marks and shows the rest.
        let class = lesson.service.structure_id;
        let early = student_subjects(
            store.conn(),
            p.id,
            roster[0],
            class,
            Audience::Students(at("2026-10-02T12:00")),
            hour,
        )
        .unwrap();
        assert!(early[0].marks.is_empty() && early[0].average.is_none());
        let seen = student_subjects(
            store.conn(),
            p.id,
            roster[0],
            class,
            Audience::Students(at("2026-10-02T18:00")),
            hour,
        )
        .unwrap();
        assert_eq!(seen[0].average, Some(Q::int(15)));
        // Parents cannot see marks before students.
        let bad = NewEvaluation {
            publish_parents_at: at("2026-10-01T00:00"),
            ..e
        };
        assert!(store.write(|tx| add_evaluation(tx, &bad, "x")).is_err());
    }

    #[test]
    fn exceptions_round_trip_through_the_store() {
        let (_d, mut store, y, lesson, _) = setup();
        let cal = calendar(store.conn(), &y).unwrap();
        let slot = lesson.slot_id.unwrap();
        let ex = |id, kind| Exception {
            id,
            slot_id: Some(slot),
            date: d("2026-11-30"),
            kind,
            reason: "prof absent".into(),
        };
        store
            .write(|tx| {
                add_exception(
                    tx,
                    &cal,
                    &ex(0, ExceptionKind::Room { room: "CDI".into() }),
                    "cpe",
                    "t",
                )
            })
            .unwrap();
        // A slot change on a day without the slot is refused.
        let wrong = Exception {
            date: d("2026-12-01"),
            ..ex(0, ExceptionKind::Cancelled)
        };
        assert!(
            store
                .write(|tx| add_exception(tx, &cal, &wrong, "cpe", "t"))
                .is_err()
        );
        store
            .write(|tx| add_exception(tx, &cal, &ex(0, ExceptionKind::Cancelled), "cpe", "t"))
            .unwrap();
        let l = lessons(store.conn(), &y, d("2026-11-30"), d("2026-11-30")).unwrap();
        assert_eq!((l.len(), l[0].room.as_str(), l[0].takes_place), (1, "CDI", false));
        assert_eq!(
            exceptions(store.conn(), d("2026-11-30"), d("2026-11-30"))
                .unwrap()
                .len(),
            2
        );
    }
}

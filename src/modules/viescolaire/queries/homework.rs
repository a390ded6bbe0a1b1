//! The homework log (cahier de textes): one entry per lesson (what was
//! done, the homework and its due date), a class's whole log, and the
//! to-do list of a student.

use super::super::calendar::Date;
use super::super::timetable::Lesson;
use super::{date_col, lesson_id};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

/// A lesson's log entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    pub done: String,
    pub homework: String,
    pub due: Option<Date>,
    pub by: String,
    pub at: String,
}

/// The recorded id of a lesson, without recording it.
fn recorded(conn: &Connection, l: &Lesson) -> rusqlite::Result<Option<i64>> {
    match (l.slot_id, l.exception_id) {
        (Some(s), _) => conn
            .query_row(
                "SELECT id FROM vs_lessons WHERE slot_id = ?1 AND slot_date = ?2",
                params![s, l.slot_date.map(|d| d.to_string())],
                |r| r.get(0),
            )
            .optional(),
        (None, Some(e)) => conn
            .query_row("SELECT id FROM vs_lessons WHERE exception_id = ?1", [e], |r| {
                r.get(0)
            })
            .optional(),
        _ => Ok(None),
    }
}

/// The log entry of a lesson (the latest, when several were written).
pub fn log_of(conn: &Connection, l: &Lesson) -> rusqlite::Result<Option<LogEntry>> {
    let Some(id) = recorded(conn, l)? else {
        return Ok(None);
    };
    conn.query_row(
        "SELECT done, homework, due_date, by, at FROM vs_homework WHERE lesson_id = ?1 ORDER BY id DESC LIMIT 1",
        [id],
        |r| {
            let due: Option<String> = r.get(2)?;
            Ok(LogEntry {
                done: r.get(0)?,
                homework: r.get(1)?,
                due: due.and_then(|d| Date::parse(&d)),
                by: r.get(3)?,
                at: r.get(4)?,
            })
        },
    )
    .optional()
}

/// Writes (or rewrites) the log of a lesson; returns the entry's id.
pub fn save_log(
    tx: &Transaction<'_>,
    l: &Lesson,
    done: &str,
    homework: &str,
    due: Option<Date>,
    by: &str,
    at: &str,
) -> rusqlite::Result<i64> {
    let lesson = lesson_id(tx, l)?;
    let existing: Option<i64> = tx
        .query_row(
            "SELECT id FROM vs_homework WHERE lesson_id = ?1 ORDER BY id DESC LIMIT 1",
            [lesson],
            |r| r.get(0),
        )
        .optional()?;
    let due = due.map(|d| d.to_string());
    match existing {
        Some(id) => {
            tx.execute(
                "UPDATE vs_homework SET done = ?2, homework = ?3, due_date = ?4, by = ?5, at = ?6 WHERE id = ?1",
                params![id, done, homework, due, by, at],
            )?;
            Ok(id)
        }
        None => super::add_homework(
            tx,
            lesson,
            done,
            homework,
            due.as_deref().and_then(Date::parse),
            by,
            at,
        ),
    }
}

/// A line of a class's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// The entry's id (its files: [`files_of`]).
    pub homework_id: i64,
    pub date: Date,
    pub starts: String,
    pub subject_code: String,
    pub structure_id: i64,
    pub teacher_id: i64,
    pub done: String,
    pub homework: String,
    pub due: Option<Date>,
}

/// Every log entry of a class or group (a class's groups included) from
/// `from` to `to`, by date.
pub fn class_log(
    conn: &Connection,
    structure_id: i64,
    from: Date,
    to: Date,
) -> rusqlite::Result<Vec<LogLine>> {
    let mut stmt = conn.prepare(
        "SELECT l.date, l.starts, l.subject_code, l.structure_id, l.teacher_id, h.done, h.homework, h.due_date, h.id
         FROM vs_homework h JOIN vs_lessons l ON l.id = h.lesson_id
         WHERE (l.structure_id = ?1 OR l.structure_id IN (SELECT group_id FROM group_classes WHERE class_id = ?1))
           AND l.date BETWEEN ?2 AND ?3
         ORDER BY l.date, l.starts, h.id",
    )?;
    let rows = stmt.query_map(params![structure_id, from.to_string(), to.to_string()], |r| {
        let due: Option<String> = r.get(7)?;
        Ok(LogLine {
            homework_id: r.get(8)?,
            date: date_col(r.get(0)?)?,
            starts: r.get(1)?,
            subject_code: r.get(2)?,
            structure_id: r.get(3)?,
            teacher_id: r.get(4)?,
            done: r.get(5)?,
            homework: r.get(6)?,
            due: due.and_then(|d| Date::parse(&d)),
        })
    })?;
    rows.collect()
}

/// One thing to do, with the lesson it was given in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    /// The entry's id (its files: [`files_of`]).
    pub homework_id: i64,
    pub due: Date,
    pub subject_code: String,
    pub homework: String,
    pub given_on: Date,
}

/// A student's homework due from `from` on, by due date then subject.
pub fn tasks(conn: &Connection, student_id: i64, from: Date) -> rusqlite::Result<Vec<Task>> {
    let mut stmt = conn.prepare(
        "SELECT h.due_date, l.subject_code, h.homework, l.date, h.id FROM vs_homework h JOIN vs_lessons l ON l.id = h.lesson_id
         WHERE h.due_date >= ?2 AND h.homework <> ''
           AND l.structure_id IN (SELECT structure_id FROM memberships WHERE person_id = ?1)
         ORDER BY h.due_date, l.subject_code, l.date",
    )?;
    let rows = stmt.query_map(params![student_id, from.to_string()], |r| {
        Ok(Task {
            homework_id: r.get(4)?,
            due: date_col(r.get(0)?)?,
            subject_code: r.get(1)?,
            homework: r.get(2)?,
            given_on: date_col(r.get(3)?)?,
        })
    })?;
    rows.collect()
}

/// A file attached to a log entry, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryFile {
    pub id: i64,
    pub name: String,
    pub bytes: u64,
}

/// The id of a lesson's log entry (the latest), when written.
pub fn entry_of(conn: &Connection, l: &Lesson) -> rusqlite::Result<Option<i64>> {
    let Some(id) = recorded(conn, l)? else {
        return Ok(None);
    };
    conn.query_row(
        "SELECT id FROM vs_homework WHERE lesson_id = ?1 ORDER BY id DESC LIMIT 1",
        [id],
        |r| r.get(0),
    )
    .optional()
}

/// The files of a log entry, in the order they were attached.
pub fn files_of(conn: &Connection, homework_id: i64) -> rusqlite::Result<Vec<EntryFile>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, a.name, a.bytes FROM vs_homework_attachments ha JOIN vs_attachments a ON a.id = ha.attachment_id
         WHERE ha.homework_id = ?1 ORDER BY a.id",
    )?;
    let rows = stmt.query_map([homework_id], |r| {
        Ok(EntryFile {
            id: r.get(0)?,
            name: r.get(1)?,
            bytes: r.get::<_, i64>(2)?.max(0) as u64,
        })
    })?;
    rows.collect()
}

/// How many files an entry may have.
pub const MAX_FILES: i64 = 10;

/// Attaches a stored file (already in `vs_attachments`) to an entry.
pub fn attach(tx: &Transaction<'_>, homework_id: i64, attachment_id: i64) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO vs_homework_attachments (homework_id, attachment_id) VALUES (?1, ?2)",
        params![homework_id, attachment_id],
    )?;
    Ok(())
}

/// Detaches and forgets a file of an entry: its stored path (relative to
/// the attachments directory) when it was the entry's.
pub fn detach(
    tx: &Transaction<'_>,
    homework_id: i64,
    attachment_id: i64,
) -> rusqlite::Result<Option<String>> {
    let path: Option<String> = tx
        .query_row(
            "SELECT a.path FROM vs_homework_attachments ha JOIN vs_attachments a ON a.id = ha.attachment_id
             WHERE ha.homework_id = ?1 AND ha.attachment_id = ?2",
            params![homework_id, attachment_id],
            |r| r.get(0),
        )
        .optional()?;
    if path.is_some() {
        tx.execute(
            "DELETE FROM vs_homework_attachments WHERE homework_id = ?1 AND attachment_id = ?2",
            params![homework_id, attachment_id],
        )?;
        tx.execute("DELETE FROM vs_attachments WHERE id = ?1", [attachment_id])?;
    }
    Ok(path)
}

/// A log entry's file: (path relative to the attachments directory,
/// media type, name shown).
pub fn entry_file(
    conn: &Connection,
    attachment_id: i64,
) -> rusqlite::Result<Option<(String, String, String)>> {
    conn.query_row(
        "SELECT a.path, a.media_type, a.name FROM vs_attachments a
         WHERE a.id = ?1 AND a.id IN (SELECT attachment_id FROM vs_homework_attachments)",
        [attachment_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
}

/// Who a log entry's file is for: the lesson's class or group with, for
/// a group, its classes (ids); the students of the lesson's class or
/// group (ids). `None` when it is no entry's file.
pub fn file_audience(
    conn: &Connection,
    attachment_id: i64,
) -> rusqlite::Result<Option<(std::collections::BTreeSet<i64>, std::collections::BTreeSet<i64>)>> {
    let structure: Option<i64> = conn
        .query_row(
            "SELECT l.structure_id FROM vs_homework_attachments ha JOIN vs_homework h ON h.id = ha.homework_id
             JOIN vs_lessons l ON l.id = h.lesson_id WHERE ha.attachment_id = ?1",
            [attachment_id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(structure) = structure else {
        return Ok(None);
    };
    let mut structures: std::collections::BTreeSet<i64> = [structure].into();
    let mut stmt = conn.prepare_cached("SELECT class_id FROM group_classes WHERE group_id = ?1")?;
    for c in stmt.query_map([structure], |r| r.get(0))? {
        structures.insert(c?);
    }
    let mut stmt = conn.prepare_cached("SELECT person_id FROM memberships WHERE structure_id = ?1")?;
    let students = stmt
        .query_map([structure], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some((structures, students)))
}

//! Timetable lookups for the pages and the iCalendar feeds: a lesson by
//! its URL key, the lessons of a teacher, of classes and groups or of a
//! room, the names shown with them, and the private calendar tokens
//! (only their SHA-256 is stored).

use super::super::calendar::Date;
use super::super::timetable::{Change, Lesson};
use super::{current_year, lessons};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use std::collections::{BTreeSet, HashMap};

/// The URL key of a lesson: `SLOT-YYYY-MM-DD` (the slot and its own
/// date), or `xID` for an exceptional lesson.
pub fn key_of(l: &Lesson) -> String {
    match (l.slot_id, l.slot_date, l.exception_id) {
        (Some(s), Some(d), _) => format!("{s}-{d}"),
        (_, _, Some(e)) => format!("x{e}"),
        _ => String::new(),
    }
}

/// A parsed lesson key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LessonKey {
    Slot(i64, Date),
    Exceptional(i64),
}

/// Parses a lesson key (pure); None when malformed.
pub fn parse_key(key: &str) -> Option<LessonKey> {
    if let Some(rest) = key.strip_prefix('x') {
        let id: i64 = rest.parse().ok().filter(|n| *n > 0)?;
        return rest
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then_some(LessonKey::Exceptional(id));
    }
    let (slot, date) = key.split_once('-')?;
    if slot.is_empty() || !slot.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(LessonKey::Slot(slot.parse().ok()?, Date::parse(date)?))
}

/// The lesson a key names, where it takes place (a moved lesson is found
/// at its new date); None when there is no such lesson.
pub fn lesson_by_key(conn: &Connection, key: &str) -> anyhow::Result<Option<Lesson>> {
    let Some(k) = parse_key(key) else { return Ok(None) };
    let date = match k {
        LessonKey::Slot(_, d) => d,
        LessonKey::Exceptional(id) => {
            let d: Option<String> = conn
                .query_row(
                    "SELECT date FROM vs_exceptions WHERE id = ?1 AND kind = 'extra'",
                    [id],
                    |r| r.get(0),
                )
                .optional()?;
            match d.as_deref().and_then(Date::parse) {
                Some(d) => d,
                None => return Ok(None),
            }
        }
    };
    let Some(year) = current_year(conn, date)? else {
        return Ok(None);
    };
    let found = lessons(conn, &year, date, date)?
        .into_iter()
        .find(|l| key_of(l) == key);
    let Some(l) = found else { return Ok(None) };
    // Moved away: the lesson itself is at its new date.
    if let Some(Change::MovedTo { date: to, .. }) =
        l.changes.iter().find(|c| matches!(c, Change::MovedTo { .. }))
    {
        let to = *to;
        if let Some(year) = current_year(conn, to)? {
            return Ok(lessons(conn, &year, to, to)?
                .into_iter()
                .find(|m| key_of(m) == key && m.takes_place)
                .or(Some(l)));
        }
    }
    Ok(Some(l))
}

/// Whose lessons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whose {
    /// A teacher's: those he teaches (replacements included) and those
    /// he is replaced in or that are cancelled (shown, labelled).
    Teacher(i64),
    /// Those of these classes and groups.
    Structures(BTreeSet<i64>),
    Room(String),
}

/// The lessons of `whose` from `from` to `to` (the years they fall in).
pub fn lessons_of(conn: &Connection, whose: &Whose, from: Date, to: Date) -> anyhow::Result<Vec<Lesson>> {
    let mut out = Vec::new();
    let mut d = from;
    while d <= to {
        let Some(year) = current_year(conn, d)? else { break };
        let last = year.ends.min(to);
        if year.starts > to || last < d {
            break;
        }
        for l in lessons(conn, &year, d, last)? {
            let mine = match whose {
                Whose::Teacher(id) => {
                    l.service.teacher_id == *id
                        || l.changes
                            .iter()
                            .any(|c| matches!(c, Change::Replacement { instead_of, .. } if instead_of == id))
                }
                Whose::Structures(s) => s.contains(&l.service.structure_id),
                Whose::Room(r) => l.room == *r,
            };
            if mine {
                out.push(l);
            }
        }
        d = last.add_days(1);
    }
    Ok(out)
}

/// The names shown with lessons.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub structures: HashMap<i64, String>,
    pub subjects: HashMap<String, String>,
    pub people: HashMap<i64, String>,
}

impl Names {
    pub fn structure(&self, id: i64) -> &str {
        self.structures.get(&id).map_or("?", String::as_str)
    }
    pub fn subject<'a>(&'a self, code: &'a str) -> &'a str {
        self.subjects.get(code).map_or(code, String::as_str)
    }
    pub fn person(&self, id: i64) -> &str {
        self.people.get(&id).map_or("?", String::as_str)
    }
}

/// Every structure code, subject label and teacher name.
pub fn names(conn: &Connection) -> rusqlite::Result<Names> {
    let mut n = Names::default();
    let mut stmt = conn.prepare("SELECT id, code FROM structures")?;
    for r in stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))? {
        let (id, code) = r?;
        n.structures.insert(id, code);
    }
    let mut stmt = conn.prepare("SELECT code, label FROM subjects")?;
    for r in stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))? {
        let (code, label) = r?;
        n.subjects.insert(code, label);
    }
    let mut stmt = conn.prepare(
        "SELECT id, first_name || ' ' || last_name FROM people WHERE kind IN ('teacher', 'staff')",
    )?;
    for r in stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))? {
        let (id, name) = r?;
        n.people.insert(id, name);
    }
    Ok(n)
}

/// The classes and groups of a student.
pub fn memberships(conn: &Connection, person_id: i64) -> rusqlite::Result<BTreeSet<i64>> {
    let mut stmt = conn.prepare("SELECT structure_id FROM memberships WHERE person_id = ?1")?;
    let rows = stmt.query_map([person_id], |r| r.get(0))?;
    rows.collect()
}

/// The rooms of the timetable, by name.
pub fn rooms(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT DISTINCT room FROM vs_slots WHERE room <> '' ORDER BY room")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

// ---------------------------------------------------------------- calendar tokens

/// Sets (replaces) a person's calendar token by its SHA-256.
pub fn set_calendar_token(
    tx: &Transaction<'_>,
    person_id: i64,
    sha256: &str,
    at: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO vs_calendar_tokens (person_id, token_sha256, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (person_id) DO UPDATE SET token_sha256 = excluded.token_sha256, created_at = excluded.created_at",
        params![person_id, sha256, at],
    )?;
    Ok(())
}

/// Revokes a person's calendar token; whether there was one.
pub fn revoke_calendar_token(tx: &Transaction<'_>, person_id: i64) -> rusqlite::Result<bool> {
    Ok(tx.execute("DELETE FROM vs_calendar_tokens WHERE person_id = ?1", [person_id])? > 0)
}

/// When a person's current token was made, if any.
pub fn calendar_token_made(conn: &Connection, person_id: i64) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT created_at FROM vs_calendar_tokens WHERE person_id = ?1",
        [person_id],
        |r| r.get(0),
    )
    .optional()
}

/// The active person a token's SHA-256 belongs to.
pub fn person_of_calendar_token(conn: &Connection, sha256: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT t.person_id FROM vs_calendar_tokens t JOIN people p ON p.id = t.person_id
         WHERE t.token_sha256 = ?1 AND p.status = 'active'",
        [sha256],
        |r| r.get(0),
    )
    .optional()
}

// ---------------------------------------------------------------- entry

/// Adds one weekly slot entered by hand (source "manual"); refused when
/// its room is taken at that time by another slot (returns the other's id).
pub fn add_slot(
    tx: &Transaction<'_>,
    year_id: i64,
    slot: &super::super::timetable::Slot,
) -> rusqlite::Result<Result<i64, i64>> {
    let existing = super::slots(tx, year_id)?;
    let mut all: Vec<(super::super::timetable::Slot, Option<String>)> =
        existing.iter().cloned().map(|s| (s, None)).collect();
    all.push((slot.clone(), None));
    let last = all.len() - 1;
    if let Some((i, _)) = super::super::timetable::room_overlaps(&all)
        .into_iter()
        .find(|(_, j)| *j == last)
    {
        return Ok(Err(existing[i].id));
    }
    tx.execute(
        "INSERT INTO vs_slots (year_id, teacher_id, subject_code, structure_id, weekday, starts, ends, room, weeks,
             valid_from, valid_to, source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'manual')",
        params![
            year_id,
            slot.service.teacher_id,
            slot.service.subject_code,
            slot.service.structure_id,
            slot.weekday,
            slot.starts.to_string(),
            slot.ends.to_string(),
            slot.room,
            slot.weeks.as_str(),
            slot.valid_from.map(|d| d.to_string()),
            slot.valid_to.map(|d| d.to_string()),
        ],
    )?;
    Ok(Ok(tx.last_insert_rowid()))
}

/// Whether a teacher has this service (subject in this class or group).
pub fn has_service(conn: &Connection, teacher: i64, subject: &str, structure: i64) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM services WHERE teacher_id = ?1 AND subject_code = ?2 AND structure_id = ?3)",
        params![teacher, subject, structure],
        |r| r.get(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lesson_keys_parse_strictly() {
        let d = Date::parse("2026-12-01").unwrap();
        assert_eq!(parse_key("12-2026-12-01"), Some(LessonKey::Slot(12, d)));
        assert_eq!(parse_key("x7"), Some(LessonKey::Exceptional(7)));
        for bad in [
            "",
            "x",
            "x0",
            "x-1",
            "x+1",
            "12",
            "-2026-12-01",
            "+1-2026-12-01",
            "1-2026-13-01",
            "a-2026-12-01",
            "1-2026-12-01x",
        ] {
            assert_eq!(parse_key(bad), None, "{bad}");
        }
    }
}

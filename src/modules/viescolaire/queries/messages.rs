//! Messages in threads: who a new message goes to, one's threads, a
//! thread as a participant reads it (with read receipts for what he
//! wrote), replies, and the notifications due. `now` ("YYYY-MM-DDTHH:MM")
//! is passed in: a message is visible to its recipients from its
//! `deliver_at` on (after the quiet period).

use super::super::calendar::DateTime;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use std::collections::BTreeSet;

fn ids(conn: &Connection, sql: &str, p: &dyn rusqlite::ToSql) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([p], |r| r.get(0))?;
    rows.collect()
}

/// The active student with this login.
pub fn student(conn: &Connection, login: &str) -> rusqlite::Result<Vec<i64>> {
    ids(
        conn,
        "SELECT id FROM people WHERE login = ?1 AND kind = 'student' AND status = 'active'",
        &login,
    )
}

/// The active legal guardians of a student (by login).
pub fn parents_of(conn: &Connection, login: &str) -> rusqlite::Result<Vec<i64>> {
    ids(
        conn,
        "SELECT p.id FROM people p JOIN parent_links l ON l.parent_id = p.id JOIN people c ON c.id = l.child_id
         WHERE c.login = ?1 AND l.legal > 0 AND p.status = 'active' ORDER BY p.id",
        &login,
    )
}

/// The active legal guardians of the active students of a class or group.
pub fn parents_of_structure(conn: &Connection, code: &str) -> rusqlite::Result<Vec<i64>> {
    ids(
        conn,
        "SELECT DISTINCT p.id FROM people p JOIN parent_links l ON l.parent_id = p.id
         JOIN people c ON c.id = l.child_id JOIN memberships m ON m.person_id = c.id
         JOIN structures s ON s.id = m.structure_id
         WHERE s.code = ?1 AND l.legal > 0 AND p.status = 'active' AND c.status = 'active' ORDER BY p.id",
        &code,
    )
}

/// The active students of a class or group.
pub fn students_of_structure(conn: &Connection, code: &str) -> rusqlite::Result<Vec<i64>> {
    ids(
        conn,
        "SELECT DISTINCT c.id FROM people c JOIN memberships m ON m.person_id = c.id
         JOIN structures s ON s.id = m.structure_id
         WHERE s.code = ?1 AND c.kind = 'student' AND c.status = 'active' ORDER BY c.id",
        &code,
    )
}

/// Starts a thread: its subject and whom it was addressed to.
pub fn new_thread(
    tx: &Transaction<'_>,
    subject: &str,
    audience: &str,
    by: i64,
    at: DateTime,
) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT INTO vs_threads (subject, created_by, created_at, audience) VALUES (?1, ?2, ?3, ?4)",
        params![subject, by, at.stamp(), audience],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Whether a person wrote in a thread or received one of its messages
/// delivered by `now`.
pub fn in_thread(conn: &Connection, thread: i64, person: i64, now: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM vs_messages WHERE thread_id = ?1 AND author_id = ?2)
             OR EXISTS (SELECT 1 FROM vs_messages m JOIN vs_recipients r ON r.message_id = m.id
                        WHERE m.thread_id = ?1 AND r.person_id = ?2 AND m.deliver_at <= ?3)",
        params![thread, person, now],
        |r| r.get(0),
    )
}

/// A line of one's inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThreadLine {
    pub id: i64,
    pub subject: String,
    pub audience: String,
    /// The latest visible message's moment.
    pub last: String,
    pub unread: i64,
    /// Messages one wrote that still wait for the end of the quiet period.
    pub waiting: i64,
}

/// One's threads, the latest first.
pub fn inbox(conn: &Connection, person: i64, now: &str) -> rusqlite::Result<Vec<ThreadLine>> {
    let mut stmt = conn.prepare(
        "WITH visible AS (
             SELECT m.thread_id, m.id, m.written_at AS at, m.deliver_at, m.author_id FROM vs_messages m
             WHERE m.author_id = ?1
                OR (m.deliver_at <= ?2 AND EXISTS (SELECT 1 FROM vs_recipients r WHERE r.message_id = m.id AND r.person_id = ?1)))
         SELECT t.id, t.subject, t.audience, max(max(v.at, v.deliver_at)),
                (SELECT count(*) FROM vs_messages m JOIN vs_recipients r ON r.message_id = m.id
                 WHERE m.thread_id = t.id AND r.person_id = ?1 AND r.read_at IS NULL AND m.deliver_at <= ?2),
                (SELECT count(*) FROM vs_messages m WHERE m.thread_id = t.id AND m.author_id = ?1 AND m.deliver_at > ?2)
         FROM vs_threads t JOIN visible v ON v.thread_id = t.id
         GROUP BY t.id ORDER BY 4 DESC, t.id DESC",
    )?;
    let rows = stmt.query_map(params![person, now], |r| {
        Ok(ThreadLine {
            id: r.get(0)?,
            subject: r.get(1)?,
            audience: r.get(2)?,
            last: r.get(3)?,
            unread: r.get(4)?,
            waiting: r.get(5)?,
        })
    })?;
    rows.collect()
}

/// A recipient of a message and when he read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub person_id: i64,
    pub name: String,
    pub read_at: Option<String>,
}

/// A message as a participant reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageView {
    pub id: i64,
    pub author_id: i64,
    pub author: String,
    pub body: String,
    pub written_at: String,
    pub deliver_at: String,
    /// For the messages one wrote: every recipient and his reading.
    pub receipts: Vec<Receipt>,
}

/// A thread as `person` sees it at `now`: his own messages, and those
/// delivered to him.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThreadView {
    pub id: i64,
    pub subject: String,
    pub audience: String,
    pub messages: Vec<MessageView>,
}

pub fn thread(conn: &Connection, id: i64, person: i64, now: &str) -> rusqlite::Result<Option<ThreadView>> {
    let Some((subject, audience)) = conn
        .query_row(
            "SELECT subject, audience FROM vs_threads WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
    else {
        return Ok(None);
    };
    let mut stmt = conn.prepare(
        "SELECT m.id, m.author_id, p.first_name || ' ' || p.last_name, m.body, m.written_at, m.deliver_at
         FROM vs_messages m JOIN people p ON p.id = m.author_id
         WHERE m.thread_id = ?1 AND (m.author_id = ?2
             OR (m.deliver_at <= ?3 AND EXISTS (SELECT 1 FROM vs_recipients r WHERE r.message_id = m.id AND r.person_id = ?2)))
         ORDER BY m.deliver_at, m.id",
    )?;
    let mut messages = stmt
        .query_map(params![id, person, now], |r| {
            Ok(MessageView {
                id: r.get(0)?,
                author_id: r.get(1)?,
                author: r.get(2)?,
                body: r.get(3)?,
                written_at: r.get(4)?,
                deliver_at: r.get(5)?,
                receipts: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut receipts = conn.prepare(
        "SELECT r.person_id, p.first_name || ' ' || p.last_name, r.read_at FROM vs_recipients r
         JOIN people p ON p.id = r.person_id WHERE r.message_id = ?1 ORDER BY p.last_name, p.first_name",
    )?;
    for m in messages.iter_mut().filter(|m| m.author_id == person) {
        m.receipts = receipts
            .query_map([m.id], |r| {
                Ok(Receipt {
                    person_id: r.get(0)?,
                    name: r.get(1)?,
                    read_at: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
    }
    Ok(Some(ThreadView {
        id,
        subject,
        audience,
        messages,
    }))
}

/// Marks read every message of a thread delivered to `person` by `now`;
/// how many were unread.
pub fn mark_thread_read(
    tx: &Transaction<'_>,
    thread: i64,
    person: i64,
    now: &str,
) -> rusqlite::Result<usize> {
    tx.execute(
        "UPDATE vs_recipients SET read_at = ?3 WHERE person_id = ?2 AND read_at IS NULL
         AND message_id IN (SELECT id FROM vs_messages WHERE thread_id = ?1 AND deliver_at <= ?3)",
        params![thread, person, now],
    )
}

/// Whom a reply of `person` in a thread goes to: the authors of what he
/// received and the recipients of what he wrote, but himself.
pub fn reply_recipients(
    conn: &Connection,
    thread: i64,
    person: i64,
    now: &str,
) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare(
        "SELECT m.author_id FROM vs_messages m JOIN vs_recipients r ON r.message_id = m.id
         WHERE m.thread_id = ?1 AND r.person_id = ?2 AND m.deliver_at <= ?3
         UNION SELECT r.person_id FROM vs_messages m JOIN vs_recipients r ON r.message_id = m.id
         WHERE m.thread_id = ?1 AND m.author_id = ?2",
    )?;
    let set: BTreeSet<i64> = stmt
        .query_map(params![thread, person, now], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(set.into_iter().filter(|p| *p != person).collect())
}

/// Unread delivered messages of a person (the portal's badge).
pub fn unread(conn: &Connection, person: i64, now: &str) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM vs_recipients r JOIN vs_messages m ON m.id = r.message_id
         WHERE r.person_id = ?1 AND r.read_at IS NULL AND m.deliver_at <= ?2",
        params![person, now],
        |r| r.get(0),
    )
}

/// A notification to send: a message delivered to a person with an
/// e-mail address, not yet notified nor read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pending {
    pub message_id: i64,
    pub person_id: i64,
    pub email: String,
    pub author: String,
    pub subject: String,
    pub thread_id: i64,
}

/// The notifications due at `now`: messages delivered between `since`
/// and `now` (older ones are not notified late), at most `limit`.
pub fn pending_notifications(
    conn: &Connection,
    since: &str,
    now: &str,
    limit: i64,
) -> rusqlite::Result<Vec<Pending>> {
    let mut stmt = conn.prepare(
        "SELECT r.message_id, r.person_id, p.email, a.first_name || ' ' || a.last_name, t.subject, t.id
         FROM vs_recipients r JOIN vs_messages m ON m.id = r.message_id
         JOIN vs_threads t ON t.id = m.thread_id
         JOIN people p ON p.id = r.person_id JOIN people a ON a.id = m.author_id
         WHERE r.notified_at IS NULL AND r.read_at IS NULL AND m.deliver_at <= ?2 AND m.deliver_at >= ?1
           AND p.status = 'active' AND coalesce(p.email, '') LIKE '%_@_%'
         ORDER BY m.deliver_at, r.message_id, r.person_id LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![since, now, limit], |r| {
        Ok(Pending {
            message_id: r.get(0)?,
            person_id: r.get(1)?,
            email: r.get(2)?,
            author: r.get(3)?,
            subject: r.get(4)?,
            thread_id: r.get(5)?,
        })
    })?;
    rows.collect()
}

/// Records that a recipient was notified of a message.
pub fn mark_notified(
    tx: &Transaction<'_>,
    message_id: i64,
    person_id: i64,
    at: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE vs_recipients SET notified_at = ?3 WHERE message_id = ?1 AND person_id = ?2",
        params![message_id, person_id, at],
    )?;
    Ok(())
}

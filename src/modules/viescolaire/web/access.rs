//! What the school-life pages share: the facts `authz::decide` needs for
//! their actions (loaded by the web guard through [`load_facts`]), the
//! school clock, form reading with the session's token, and running a
//! handler's work off the async threads.

use super::super::calendar::DateTime;
use super::super::queries::{messages, schedule};
use crate::directory;
use crate::web::authz::{Action, Actor, Facts, Recipients, Role, TimetableOf};
use crate::web::errors::WebError;
use crate::web::{Signed, csrf, forms};
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use rusqlite::Connection;

/// Test hook: a file holding the school's current local time
/// ("YYYY-MM-DDTHH:MM"), read at each use, so that an end-to-end test can
/// move time (the quiet period) without waiting. Unset, unreadable or
/// malformed: the real clock.
pub const CLOCK_ENV: &str = "PREAU_CLOCK_FILE";

/// The school's local time now (see [`CLOCK_ENV`]).
pub fn now() -> DateTime {
    if let Some(path) = std::env::var_os(CLOCK_ENV)
        && let Ok(text) = std::fs::read_to_string(path)
        && let Some(t) = DateTime::parse(text.trim())
    {
        return t;
    }
    DateTime::now_local()
}

/// The facts of the school-life actions, added to `facts` (the platform
/// already loaded the teacher's structures, the parent's children and the
/// target person).
pub fn load_facts(
    conn: &Connection,
    actor: &Actor,
    action: &Action,
    facts: &mut Facts,
) -> rusqlite::Result<()> {
    let school = matches!(
        action,
        Action::Timetable { .. }
            | Action::EditTimetable { .. }
            | Action::WriteLog { .. }
            | Action::ClassLog { .. }
            | Action::WriteMessage { .. }
            | Action::Thread { .. }
    );
    if !school {
        return Ok(());
    }
    // Console administrators enter the timetable too.
    if let Action::EditTimetable { lesson: Some(lesson) } = action {
        facts.lesson_teacher = schedule::lesson_by_key(conn, lesson)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?
            .map(|l| l.service.teacher_id);
    }
    let Some(me) = actor.person_id else { return Ok(()) };
    if actor.has(Role::Teacher) {
        let mut stmt = conn.prepare(
            "SELECT s.code FROM head_teachers h JOIN structures s ON s.id = h.class_id WHERE h.teacher_id = ?1",
        )?;
        facts.head_of = stmt
            .query_map([me], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
    }
    if actor.has(Role::Parent) {
        // Only legal guardians reach a child's school life.
        let mut stmt = conn.prepare(
            "SELECT c.login FROM parent_links l JOIN people c ON c.id = l.child_id
             WHERE l.parent_id = ?1 AND l.legal > 0 AND c.status = 'active'",
        )?;
        facts.children = stmt
            .query_map([me], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
    }
    let structure = match action {
        Action::Timetable {
            of: TimetableOf::Structure(c),
        }
        | Action::ClassLog { structure: c }
        | Action::WriteMessage {
            to: Recipients::ParentsOfStructure(c) | Recipients::Students(c),
        } => Some(c),
        _ => None,
    };
    if let Some(code) = structure {
        facts.structure = directory::structure(conn, code)?
            .filter(|s| s.active)
            .map(|s| s.kind);
    }
    match action {
        Action::WriteLog { lesson } => {
            facts.lesson_teacher = schedule::lesson_by_key(conn, lesson)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?
                .map(|l| l.service.teacher_id);
        }
        Action::Thread { id } => {
            facts.in_thread = messages::in_thread(conn, *id, me, &now().stamp())?;
        }
        _ => {}
    }
    Ok(())
}

/// Runs `f` on the blocking threads and turns its error into a page.
pub async fn blocking(f: impl FnOnce() -> Result<Response, WebError> + Send + 'static) -> Response {
    match crate::web::i18n::spawn_blocking(f).await {
        Ok(r) => r.unwrap_or_else(IntoResponse::into_response),
        Err(e) => WebError::Internal(anyhow::anyhow!("{e}")).into_response(),
    }
}

/// Reads a form posted with the session's token.
pub async fn form(signed: &Signed, body: Body) -> Result<forms::Fields, WebError> {
    let fields = forms::read(body).await?;
    if !csrf::matches(&signed.session.csrf, fields.get("csrf")) {
        return Err(WebError::Forbidden(
            "Le formulaire a expiré : rechargez la page et recommencez.".into(),
        ));
    }
    Ok(fields)
}

/// The signed-in person's id (every school-life page is a person's).
pub fn me(signed: &Signed) -> Result<i64, WebError> {
    signed.actor.person_id.ok_or(WebError::NotFound)
}

/// A date from a query parameter: absent gives `default`, malformed a
/// French error.
pub fn date_param(
    q: &std::collections::HashMap<String, String>,
    key: &str,
    default: super::super::calendar::Date,
) -> Result<super::super::calendar::Date, WebError> {
    match q.get(key).map(String::as_str) {
        None | Some("") => Ok(default),
        Some(d) => super::super::calendar::Date::parse(d)
            .ok_or_else(|| WebError::BadRequest(format!("La date « {d} » n'est pas valide (AAAA-MM-JJ)."))),
    }
}

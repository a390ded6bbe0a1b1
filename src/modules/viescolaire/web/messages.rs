//! Messages: teachers, the school-life office and direction write to a
//! student, a student's legal guardians, the guardians of a class or
//! group, or a group's students; everyone replies in the thread. A
//! message written during the school-wide quiet period (settings
//! `quiet_start`, `quiet_end`, `quiet_weekends`: the right to disconnect)
//! waits: its recipients see it, and are notified, only once the period
//! ends. Senders see who has read what they wrote.

use super::super::attendance;
use super::super::calendar::DateTime;
use super::super::queries::{self, messages};
use super::access::{self, blocking, form, me};
use crate::directory::{self, StructureKind};
use crate::web::authz::{self, Action, Recipients, Role};
use crate::web::errors::WebError;
use crate::web::pages::{self, Page};
use crate::web::{AppState, Signed, audit, see_other};
use askama::Template;
use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Longest subject, in characters.
pub const MAX_SUBJECT: usize = 200;
/// Longest message, in characters.
pub const MAX_BODY: usize = 4000;

/// Checks a message as typed (pure): French messages by field. A reply
/// has no subject.
pub fn check_message(
    subject: Option<&str>,
    body: &str,
) -> Result<(String, String), Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    let subject = subject.map(str::trim);
    if let Some(s) = subject {
        if s.is_empty() {
            errors.push(("objet", "Donnez un objet au message.".to_string()));
        } else if s.chars().count() > MAX_SUBJECT {
            errors.push(("objet", format!("L'objet a au plus {MAX_SUBJECT} caractères.")));
        }
    }
    let body = body.trim();
    if body.is_empty() {
        errors.push(("message", "Le message est vide.".to_string()));
    } else if body.chars().count() > MAX_BODY {
        errors.push(("message", format!("Le message a au plus {MAX_BODY} caractères.")));
    }
    if errors.is_empty() {
        Ok((subject.unwrap_or_default().to_string(), body.to_string()))
    } else {
        Err(errors)
    }
}

/// When a message written at `at` reaches its recipients under the
/// establishment's settings.
pub fn delivery(web: &AppState, at: DateTime) -> DateTime {
    let s = &web.config().viescolaire;
    let (start, end) = s.quiet();
    attendance::delivery(at, start, end, s.quiet_weekends)
}

fn shown(stamp: &str) -> String {
    match DateTime::parse(stamp) {
        Some(t) => format!("{} à {}", super::timetable::fr_date(t.date), t.time),
        None => stamp.to_string(),
    }
}

/// A thread in one's list.
pub struct InboxLine {
    pub href: String,
    pub subject: String,
    pub audience: String,
    pub last: String,
    pub unread: i64,
    pub waiting: i64,
}

#[derive(Template)]
#[template(path = "viescolaire/inbox.html")]
pub struct InboxPage<'a> {
    pub page: &'a Page,
    pub threads: Vec<InboxLine>,
    pub may_write: bool,
}

/// `GET /vie-scolaire/messages`.
pub async fn inbox(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    blocking(move || {
        let me = me(&signed)?;
        let now = access::now().stamp();
        let store = web.store()?;
        let threads = messages::inbox(store.conn(), me, &now)?
            .into_iter()
            .map(|t| InboxLine {
                href: format!("/vie-scolaire/messages/{}", t.id),
                subject: t.subject,
                audience: t.audience,
                last: shown(&t.last),
                unread: t.unread,
                waiting: t.waiting,
            })
            .collect();
        let may_write = authz::decide(&signed.actor, &Action::NewMessage, &signed.facts).allowed();
        let config = web.config();
        let chrome = Page::signed(
            "Messages",
            &config.establishment.name,
            &signed,
            "/vie-scolaire/messages",
        );
        Ok(pages::render(&InboxPage {
            page: &chrome,
            threads,
            may_write,
        }))
    })
    .await
}

/// A class or group one may write about, with its students.
pub struct Choice {
    pub label: String,
    pub parents: Option<String>,
    pub students: Option<String>,
    /// (name, to the student, to his parents).
    pub people: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "viescolaire/compose_choose.html")]
pub struct ChoosePage<'a> {
    pub page: &'a Page,
    pub choices: Vec<Choice>,
}

/// `GET /vie-scolaire/messages/nouveau`: whom to write to, as
/// `authz::decide` allows.
pub async fn choose(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    blocking(move || {
        let store = web.store()?;
        let conn = store.conn();
        let office = signed.actor.has(Role::Direction) || signed.actor.has(Role::SchoolLife);
        let me = me(&signed)?;
        let mut structures = Vec::new();
        if office {
            structures.extend(directory::classes(conn)?.into_iter().filter(|s| s.active));
            structures.extend(directory::groups(conn)?.into_iter().filter(|s| s.active));
        } else {
            let mut seen = std::collections::BTreeSet::new();
            let mut codes: Vec<String> = directory::services(conn, Some(me))?
                .into_iter()
                .map(|s| s.structure_code)
                .collect();
            let mut stmt = conn.prepare(
                "SELECT s.code FROM head_teachers h JOIN structures s ON s.id = h.class_id WHERE h.teacher_id = ?1",
            )?;
            codes.extend(stmt.query_map([me], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?);
            for c in codes {
                if seen.insert(c.clone())
                    && let Some(s) = directory::structure(conn, &c)?
                    && s.active
                {
                    structures.push(s);
                }
            }
        }
        let allowed = |to: Recipients| -> Option<String> {
            let action = Action::WriteMessage { to };
            let facts = authz::Facts::load(conn, &signed.actor, &action, &[]).ok()?;
            let Action::WriteMessage { to } = &action else { return None };
            authz::decide(&signed.actor, &action, &facts)
                .allowed()
                .then(|| format!("/vie-scolaire/messages/nouveau/{}", to.path()))
        };
        let mut choices = Vec::new();
        for s in structures {
            let people = directory::students_of(conn, &s.code)?
                .into_iter()
                .filter_map(|p| {
                    Some((
                        p.full_name(),
                        allowed(Recipients::Student(p.login.clone()))?,
                        allowed(Recipients::ParentsOf(p.login.clone()))?,
                    ))
                })
                .collect();
            choices.push(Choice {
                label: format!(
                    "{} {}",
                    if s.kind == StructureKind::Class { "Classe" } else { "Groupe" },
                    s.label
                ),
                parents: allowed(Recipients::ParentsOfStructure(s.code.clone())),
                students: allowed(Recipients::Students(s.code.clone())),
                people,
            });
        }
        let config = web.config();
        let chrome = Page::signed("Nouveau message", &config.establishment.name, &signed, "/vie-scolaire/messages");
        Ok(pages::render(&ChoosePage { page: &chrome, choices }))
    })
    .await
}

#[derive(Template)]
#[template(path = "viescolaire/compose.html")]
pub struct ComposePage<'a> {
    pub page: &'a Page,
    pub action: String,
    pub audience: String,
    pub count: usize,
    pub subject: String,
    pub body: String,
    pub errors: Vec<(&'static str, String)>,
    pub quiet: Option<String>,
}

impl ComposePage<'_> {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// The recipients of a new message and how the page names them.
fn resolve(conn: &rusqlite::Connection, to: &Recipients) -> Result<(Vec<i64>, String), WebError> {
    let name = |login: &str| -> Result<String, WebError> {
        directory::person_by_login(conn, login)?
            .map(|p| p.full_name())
            .ok_or(WebError::NotFound)
    };
    let label = |code: &str| -> Result<String, WebError> {
        directory::structure(conn, code)?
            .map(|s| s.label)
            .ok_or(WebError::NotFound)
    };
    Ok(match to {
        Recipients::Student(l) => (messages::student(conn, l)?, name(l)?),
        Recipients::ParentsOf(l) => (
            messages::parents_of(conn, l)?,
            format!("les responsables de {}", name(l)?),
        ),
        Recipients::ParentsOfStructure(c) => (
            messages::parents_of_structure(conn, c)?,
            format!("les responsables des élèves de {}", label(c)?),
        ),
        Recipients::Students(c) => (
            messages::students_of_structure(conn, c)?,
            format!("les élèves de {}", label(c)?),
        ),
    })
}

fn quiet_note(web: &AppState, now: DateTime) -> Option<String> {
    let at = delivery(web, now);
    (at != now).then(|| {
        format!(
            "Période de calme (droit à la déconnexion) : le message sera distribué le {}, sans notification avant.",
            shown(&at.stamp())
        )
    })
}

fn compose_page(
    web: &AppState,
    signed: &Signed,
    typed: (&str, &str),
    errors: Vec<(&'static str, String)>,
) -> Result<Response, WebError> {
    let Action::WriteMessage { to } = &signed.action else {
        return Err(WebError::NotFound);
    };
    let store = web.store()?;
    let (ids, audience) = resolve(store.conn(), to)?;
    let config = web.config();
    let chrome = Page::signed(
        "Nouveau message",
        &config.establishment.name,
        signed,
        "/vie-scolaire/messages",
    );
    let bad = !errors.is_empty();
    let mut r = pages::render(&ComposePage {
        page: &chrome,
        action: format!("/vie-scolaire/messages/nouveau/{}", to.path()),
        audience,
        count: ids.len(),
        subject: typed.0.to_string(),
        body: typed.1.to_string(),
        errors,
        quiet: quiet_note(web, access::now()),
    });
    if bad {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

/// `GET /vie-scolaire/messages/nouveau/{kind}/{target}`.
pub async fn compose(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    blocking(move || compose_page(&web, &signed, ("", ""), Vec::new())).await
}

/// `POST /vie-scolaire/messages/nouveau/{kind}/{target}`: `objet`, `message`.
pub async fn send(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    body: Body,
) -> Response {
    let fields = match form(&signed, body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    blocking(move || {
        let Action::WriteMessage { to } = &signed.action else {
            return Err(WebError::NotFound);
        };
        let me = me(&signed)?;
        let (subject, text) = (fields.get("objet"), fields.get("message"));
        let (subject, text) = match check_message(Some(subject), text) {
            Ok(ok) => ok,
            Err(errors) => return compose_page(&web, &signed, (subject, text), errors),
        };
        let mut store = web.store()?;
        let (ids, audience) = resolve(store.conn(), to)?;
        if ids.is_empty() {
            drop(store);
            return compose_page(
                &web,
                &signed,
                (&subject, &text),
                vec![(
                    "message",
                    "Personne ne recevrait ce message (aucun destinataire actif).".to_string(),
                )],
            );
        }
        let now = access::now();
        let at = delivery(&web, now);
        let thread = store.write(|tx| {
            let t = messages::new_thread(tx, &subject, &audience, me, now)?;
            queries::send_message(tx, Some(t), "", me, &ids, &text, now, at)?;
            Ok::<_, anyhow::Error>(t)
        })?;
        audit::record(
            &mut store,
            &signed.actor.login,
            &signed.peer.to_string(),
            "message",
            &to.path(),
            &format!(
                "envoyé à {} destinataires, distribué le {}",
                ids.len(),
                at.stamp()
            ),
        )?;
        Ok(see_other(&format!("/vie-scolaire/messages/{thread}"), &[]))
    })
    .await
}

/// A message as shown in its thread.
pub struct Shown {
    pub author: String,
    pub mine: bool,
    pub body: String,
    pub at: String,
    /// Not yet delivered: when it will be.
    pub waiting: Option<String>,
    /// (name, read at, or None).
    pub receipts: Vec<(String, Option<String>)>,
}

#[derive(Template)]
#[template(path = "viescolaire/thread.html")]
pub struct ThreadPage<'a> {
    pub page: &'a Page,
    pub action: String,
    pub subject: String,
    pub audience: String,
    pub messages: Vec<Shown>,
    pub body: String,
    pub errors: Vec<(&'static str, String)>,
    pub quiet: Option<String>,
}

impl ThreadPage<'_> {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

fn thread_page(
    web: &AppState,
    signed: &Signed,
    typed: &str,
    errors: Vec<(&'static str, String)>,
) -> Result<Response, WebError> {
    let Action::Thread { id } = signed.action else {
        return Err(WebError::NotFound);
    };
    let me = me(signed)?;
    let now = access::now();
    let stamp = now.stamp();
    let mut store = web.store()?;
    store.write(|tx| messages::mark_thread_read(tx, id, me, &stamp))?;
    let t = messages::thread(store.conn(), id, me, &stamp)?.ok_or(WebError::NotFound)?;
    let shown_messages = t
        .messages
        .into_iter()
        .map(|m| Shown {
            mine: m.author_id == me,
            author: m.author,
            body: m.body,
            at: shown(&m.written_at),
            waiting: (m.deliver_at > stamp).then(|| shown(&m.deliver_at)),
            receipts: m
                .receipts
                .into_iter()
                .map(|r| (r.name, r.read_at.map(|a| shown(&a))))
                .collect(),
        })
        .collect();
    let config = web.config();
    let chrome = Page::signed(
        "Messages",
        &config.establishment.name,
        signed,
        "/vie-scolaire/messages",
    );
    let bad = !errors.is_empty();
    let mut r = pages::render(&ThreadPage {
        page: &chrome,
        action: format!("/vie-scolaire/messages/{id}"),
        subject: t.subject,
        audience: t.audience,
        messages: shown_messages,
        body: typed.to_string(),
        errors,
        quiet: quiet_note(web, now),
    });
    if bad {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

/// `GET /vie-scolaire/messages/{id}`: the thread; what was delivered to
/// the reader is marked read (the sender's receipt).
pub async fn thread(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    blocking(move || thread_page(&web, &signed, "", Vec::new())).await
}

/// `POST /vie-scolaire/messages/{id}`: a reply (`message`).
pub async fn reply(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    body: Body,
) -> Response {
    let fields = match form(&signed, body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    blocking(move || {
        let Action::Thread { id } = signed.action else {
            return Err(WebError::NotFound);
        };
        let me = me(&signed)?;
        let text = match check_message(None, fields.get("message")) {
            Ok((_, t)) => t,
            Err(errors) => return thread_page(&web, &signed, fields.get("message"), errors),
        };
        let now = access::now();
        let mut store = web.store()?;
        let ids = messages::reply_recipients(store.conn(), id, me, &now.stamp())?;
        if ids.is_empty() {
            drop(store);
            return thread_page(
                &web,
                &signed,
                &text,
                vec![("message", "Personne ne recevrait cette réponse.".to_string())],
            );
        }
        let at = delivery(&web, now);
        store.write(|tx| queries::send_message(tx, Some(id), "", me, &ids, &text, now, at))?;
        audit::record(
            &mut store,
            &signed.actor.login,
            &signed.peer.to_string(),
            "message",
            &id.to_string(),
            &format!(
                "réponse à {} destinataires, distribuée le {}",
                ids.len(),
                at.stamp()
            ),
        )?;
        Ok(see_other(&format!("/vie-scolaire/messages/{id}"), &[]))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::super::super::calendar::{DateTime, Time};
    use super::super::ical::paris_to_unix_minutes;
    use super::*;

    #[test]
    fn a_message_is_checked_field_by_field() {
        assert_eq!(
            check_message(Some(" Sortie "), " Bonjour "),
            Ok(("Sortie".to_string(), "Bonjour".to_string()))
        );
        let fields = |r: Result<(String, String), Vec<(&'static str, String)>>| -> Vec<&'static str> {
            r.unwrap_err().into_iter().map(|(f, _)| f).collect()
        };
        assert_eq!(fields(check_message(Some(""), "")), ["objet", "message"]);
        assert_eq!(
            fields(check_message(Some(&"x".repeat(MAX_SUBJECT + 1)), "a")),
            ["objet"]
        );
        assert_eq!(
            fields(check_message(None, &"x".repeat(MAX_BODY + 1))),
            ["message"]
        );
        assert!(check_message(None, "Merci").is_ok());
    }

    fn dt(s: &str) -> DateTime {
        DateTime::parse(s).unwrap()
    }

    /// The quiet period is wall-clock time: across the change to summer
    /// time (Sunday 2027-03-28, 02:00 → 03:00) and back (Sunday
    /// 2026-10-25, 03:00 → 02:00) it still ends at 07:00 local, so the
    /// real wait is one hour shorter, or longer.
    #[test]
    fn quiet_period_across_week_ends_and_daylight_saving_time() {
        let (s, e) = (Time::hm(20, 0), Time::hm(7, 0));
        let wait = |from: &str, weekends: bool| {
            let to = attendance::delivery(dt(from), s, e, weekends);
            (
                to.stamp(),
                paris_to_unix_minutes(to) - paris_to_unix_minutes(dt(from)),
            )
        };
        // A Saturday evening before the spring change, week-ends working.
        assert_eq!(
            wait("2027-03-27T21:00", false),
            ("2027-03-28T07:00".into(), 9 * 60)
        );
        // The same with quiet week-ends: Monday morning, 33 h of real time
        // instead of 34.
        assert_eq!(
            wait("2027-03-27T21:00", true),
            ("2027-03-29T07:00".into(), 33 * 60)
        );
        // The autumn night is an hour longer.
        assert_eq!(
            wait("2026-10-24T21:00", false),
            ("2026-10-25T07:00".into(), 11 * 60)
        );
        // Friday evening: Monday 07:00.
        assert_eq!(wait("2026-12-04T20:00", true).0, "2026-12-07T07:00");
        // A weekday afternoon is not quiet; 06:59 is, 07:00 is not.
        assert_eq!(wait("2026-12-01T15:00", true), ("2026-12-01T15:00".into(), 0));
        assert_eq!(wait("2026-12-01T06:59", true), ("2026-12-01T07:00".into(), 1));
        assert_eq!(wait("2026-12-01T07:00", true).1, 0);
        // Sunday 23:30 with quiet week-ends: Monday 07:00.
        assert_eq!(wait("2026-12-06T23:30", true).0, "2026-12-07T07:00");
    }
}

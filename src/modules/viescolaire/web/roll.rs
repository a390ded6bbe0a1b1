//! The roll call, `/vie-scolaire/appel/{lesson}`: the whole class on one
//! screen (a phone's), everybody present by default; absent, late with
//! minutes, excluded and a remark per student; saved at once, corrected
//! the same day, every change kept in the history. Works without
//! JavaScript (plain radio buttons and a submit button).

use super::super::attendance::Presence;
use super::super::calendar::DateTime;
use super::super::queries::{RollEntry, roll};
use super::super::timetable::Lesson;
use crate::web::authz::Role;
use crate::web::errors::WebError;
use crate::web::forms::Path;
use crate::web::i18n::{either, pick};
use crate::web::pages::{self, Page};
use crate::web::{AppState, Signed, audit, csrf, forms};
use askama::Template;
use axum::body::Body;
use axum::extract::{Extension, Query, State};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

/// Runs blocking store work off the async threads.
pub(super) async fn blocking(f: impl FnOnce() -> Result<Response, WebError> + Send + 'static) -> Response {
    match crate::web::i18n::spawn_blocking(f).await {
        Ok(r) => r.unwrap_or_else(IntoResponse::into_response),
        Err(e) => WebError::Internal(anyhow::anyhow!("{e}")).into_response(),
    }
}

/// The form token must be the session's.
pub(super) fn check_token(signed: &Signed, fields: &forms::Fields) -> Result<(), WebError> {
    if csrf::matches(&signed.session.csrf, fields.get("csrf")) {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            either(
                "Le formulaire a expiré : rechargez la page et recommencez.",
                "The form has expired: reload the page and start again.",
            )
            .into(),
        ))
    }
}

pub(super) fn chrome(web: &AppState, signed: &Signed, title: &str, current: &str) -> Page {
    Page::signed(title, &web.config().establishment.name, signed, current)
}

/// Whether the actor is the school-life office or direction.
pub(super) fn office(signed: &Signed) -> bool {
    signed.actor.has(Role::SchoolLife) || signed.actor.has(Role::Direction)
}

/// Longest remark on a roll line.
pub const MAX_REMARK: usize = 200;

/// A roll line as the form shows it.
#[derive(Debug, Clone)]
pub struct Line {
    pub id: i64,
    pub name: String,
    pub presence: &'static str,
    pub minutes: String,
    pub remark: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "viescolaire/roll.html")]
pub struct RollPage<'a> {
    pub page: &'a Page,
    pub key: String,
    pub heading: String,
    pub taken: Option<String>,
    pub editable: bool,
    pub saved: Option<String>,
    pub error: Option<String>,
    pub lines: Vec<Line>,
    pub history: Vec<roll::Change>,
}

/// Reads the roll form (pure): `p{id}` the presence, `m{id}` the minutes
/// late, `r{id}` the remark, for each student of `roster`. Returns the
/// lines other than "present without remark", or the French message of
/// the first wrong line.
pub fn parse_roll(fields: &forms::Fields, roster: &[i64]) -> Result<Vec<RollEntry>, (Option<i64>, String)> {
    let mut out = Vec::new();
    for &id in roster {
        let p = fields.get(&format!("p{id}"));
        let presence = if p.is_empty() {
            Presence::Present
        } else {
            Presence::parse(p).ok_or((
                Some(id),
                either(
                    "Choix inconnu (présent, absent, en retard ou exclu).",
                    "Unknown choice (present, absent, late or excluded).",
                )
                .to_string(),
            ))?
        };
        let m = fields.get(&format!("m{id}")).trim();
        let late_minutes = if presence == Presence::Late {
            match m.parse::<u32>() {
                Ok(n) if (1..=600).contains(&n) => n,
                _ => {
                    return Err((
                        Some(id),
                        either(
                            "Indiquez les minutes de retard (un nombre de 1 à 600).",
                            "Give the minutes late (a number from 1 to 600).",
                        )
                        .into(),
                    ));
                }
            }
        } else {
            0
        };
        let remark = fields.get(&format!("r{id}")).trim().to_string();
        if remark.chars().count() > MAX_REMARK {
            return Err((
                Some(id),
                pick(crate::msg!(
                    en("The remark is too long (at most {MAX_REMARK} characters)."),
                    fr("La remarque est trop longue (au plus {MAX_REMARK} caractères)."),
                )),
            ));
        }
        if remark.chars().any(char::is_control) {
            return Err((
                Some(id),
                either(
                    "La remarque contient un caractère interdit.",
                    "The remark contains a forbidden character.",
                )
                .into(),
            ));
        }
        if presence != Presence::Present || !remark.is_empty() {
            out.push(RollEntry {
                student_id: id,
                presence,
                late_minutes,
                remark,
            });
        }
    }
    Ok(out)
}

fn heading(conn: &rusqlite::Connection, l: &Lesson) -> rusqlite::Result<String> {
    let (structure, subject): (String, String) = conn.query_row(
        "SELECT s.code, coalesce((SELECT label FROM subjects WHERE code = ?2), ?2) FROM structures s WHERE s.id = ?1",
        rusqlite::params![l.service.structure_id, l.service.subject_code],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(pick(crate::msg!(
        en(
            "Roll call — {structure}, {subject}, on {} from {} to {}",
            l.date,
            l.starts,
            l.ends
        ),
        fr(
            "Appel — {structure}, {subject}, le {} de {} à {}",
            l.date,
            l.starts,
            l.ends
        ),
    )))
}

fn lesson_of(conn: &rusqlite::Connection, key: &str) -> Result<Lesson, WebError> {
    roll::find_lesson(conn, key)?
        .filter(|l| l.takes_place)
        .ok_or(WebError::NotFound)
}

fn presence_str(p: Presence) -> &'static str {
    p.as_str()
}

fn render(
    web: &AppState,
    signed: &Signed,
    conn: &rusqlite::Connection,
    key: &str,
    l: &Lesson,
    form: Option<(&forms::Fields, Option<i64>, String)>,
    saved: Option<String>,
) -> Result<Response, WebError> {
    let r = roll::roll(conn, l)?;
    let today = DateTime::now_local().date;
    let lines = r
        .lines
        .iter()
        .map(|x| match &form {
            Some((f, bad, msg)) => {
                let p = f.get(&format!("p{}", x.student_id));
                Line {
                    id: x.student_id,
                    name: x.name.clone(),
                    presence: Presence::parse(p).map_or("present", presence_str),
                    minutes: f.get(&format!("m{}", x.student_id)).to_string(),
                    remark: f.get(&format!("r{}", x.student_id)).to_string(),
                    error: (*bad == Some(x.student_id)).then(|| msg.clone()),
                }
            }
            None => Line {
                id: x.student_id,
                name: x.name.clone(),
                presence: x.presence.as_str(),
                minutes: if x.late_minutes > 0 {
                    x.late_minutes.to_string()
                } else {
                    String::new()
                },
                remark: x.remark.clone(),
                error: None,
            },
        })
        .collect();
    let chrome = chrome(web, signed, either("Appel", "Roll call"), "/vie-scolaire/journee");
    let mut resp = pages::render(&RollPage {
        page: &chrome,
        key: key.to_string(),
        heading: heading(conn, l)?,
        taken: r.taken.map(|(by, at)| {
            pick(crate::msg!(
                en("Roll call taken by {by} on {}", at.replace('T', " at ")),
                fr("Appel fait par {by} le {}", at.replace('T', " à ")),
            ))
        }),
        editable: roll::editable(office(signed), l.date, today),
        saved,
        error: form.as_ref().map(|(_, _, m)| m.clone()),
        lines,
        history: roll::history(conn, l)?,
    });
    if form.is_some() {
        *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

/// `GET /vie-scolaire/appel/{lesson}`.
pub async fn form(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    blocking(move || {
        let store = web.store()?;
        let conn = store.conn();
        let l = lesson_of(conn, &key)?;
        let saved = q
            .get("enregistre")
            .and_then(|n| n.parse::<usize>().ok())
            .map(|n| match n {
                0 => either(
                    "Appel enregistré (aucun changement).",
                    "Roll call saved (no change).",
                )
                .to_string(),
                1 => either(
                    "Appel enregistré (1 ligne changée).",
                    "Roll call saved (1 line changed).",
                )
                .to_string(),
                n => pick(crate::msg!(
                    en("Roll call saved ({n} lines changed)."),
                    fr("Appel enregistré ({n} lignes changées)."),
                )),
            });
        render(&web, &signed, conn, &key, &l, None, saved)
    })
    .await
}

/// `POST /vie-scolaire/appel/{lesson}`: saves the whole roll in one
/// transaction, with its audit entry.
pub async fn save(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(key): Path<String>,
    body: Body,
) -> Response {
    // Three fields per student, a class of up to 150.
    let fields = match forms::read_with(body, forms::MAX_BODY, 3 * 150 + 10).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    blocking(move || {
        check_token(&signed, &fields)?;
        let mut store = web.store()?;
        let l = lesson_of(store.conn(), &key)?;
        let now = DateTime::now_local();
        if !roll::editable(office(&signed), l.date, now.date) {
            return Err(WebError::BadRequest(
                either(
                    "Cet appel ne peut plus être modifié : un appel se corrige le jour même ; adressez-vous à la vie scolaire.",
                    "This roll call can no longer be changed: a roll call is corrected on the same day; ask the school-life office.",
                )
                .into(),
            ));
        }
        let roster: Vec<i64> = roll::roll(store.conn(), &l)?
            .lines
            .iter()
            .map(|x| x.student_id)
            .collect();
        let entries = match parse_roll(&fields, &roster) {
            Ok(e) => e,
            Err((bad, msg)) => return render(&web, &signed, store.conn(), &key, &l, Some((&fields, bad, msg)), None),
        };
        let by = signed.actor.login.clone();
        let peer = signed.peer.to_string();
        let changed = store.write(|tx| {
            let n = roll::save(tx, &l, Some(&roster), &entries, &by, &now.stamp())?;
            let absent = entries.iter().filter(|e| e.presence == Presence::Absent).count();
            audit::record_in(
                tx,
                &by,
                &peer,
                "appel",
                &key,
                &format!("{n} ligne(s) changée(s), {absent} absent(s)"),
            )?;
            Ok::<_, anyhow::Error>(n)
        })?;
        Ok(crate::web::see_other(
            &format!("/vie-scolaire/appel/{key}?enregistre={changed}"),
            &[],
        ))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(s: &str) -> forms::Fields {
        forms::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn everybody_is_present_unless_marked() {
        let f =
            fields("csrf=x&p1=present&m1=&r1=&p2=absent&m2=&r2=&p3=late&m3=10&r3=bus&p4=excluded&m4=&r4=");
        let e = parse_roll(&f, &[1, 2, 3, 4, 5]).unwrap();
        let got: Vec<(i64, Presence, u32, &str)> = e
            .iter()
            .map(|e| (e.student_id, e.presence, e.late_minutes, e.remark.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (2, Presence::Absent, 0, ""),
                (3, Presence::Late, 10, "bus"),
                (4, Presence::Excluded, 0, "")
            ]
        );
        // A remark alone keeps the line; minutes of a present student are ignored.
        let e = parse_roll(&fields("p1=present&m1=5&r1=sans+cahier"), &[1]).unwrap();
        assert_eq!(
            (e[0].presence, e[0].late_minutes, e[0].remark.as_str()),
            (Presence::Present, 0, "sans cahier")
        );
    }

    #[test]
    fn wrong_lines_are_refused_in_french_with_the_student() {
        for (body, why) in [
            ("p7=late&m7=", "minutes"),
            ("p7=late&m7=0", "minutes"),
            ("p7=late&m7=601", "minutes"),
            ("p7=late&m7=dix", "minutes"),
            ("p7=malade", "Choix inconnu"),
        ] {
            let (who, msg) = parse_roll(&fields(body), &[3, 7]).unwrap_err();
            assert_eq!(who, Some(7), "{body}");
            assert!(msg.contains(why), "{body}: {msg}");
        }
        let long = format!("p7=absent&r7={}", "x".repeat(MAX_REMARK + 1));
        assert!(
            parse_roll(&fields(&long), &[7])
                .unwrap_err()
                .1
                .contains("trop longue")
        );
        assert!(parse_roll(&fields("p7=absent&r7=a%0Ab"), &[7]).is_err());
        // Students outside the roster are not read.
        assert!(parse_roll(&fields("p9=absent"), &[7]).unwrap().is_empty());
    }
}

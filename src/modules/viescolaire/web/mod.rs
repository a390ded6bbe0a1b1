//! The school-life pages, on the web platform (`crate::web`): thin
//! handlers that parse, call the domain ([`super::queries`]) and render.
//! The guard has already decided the route's `Action` with
//! `authz::decide`. First page: a teacher's day (`/vie-scolaire/journee`,
//! `?date=YYYY-MM-DD`); the roll-call screen comes next.

#[cfg(test)]
mod daily_tests;
pub mod grades;
#[cfg(test)]
mod grades_tests;
pub mod justify;
pub mod office;
pub mod report_cards;
pub mod roll;

use super::calendar::{DAY_NAMES, Date, DateTime};
use super::queries;
use super::timetable::Change;
use crate::web::errors::WebError;
use crate::web::pages::{self, DayLesson, DayPage, Page};
use crate::web::{AppState, Signed};
use axum::extract::{Extension, Query, State};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

/// A change as a teacher reads it.
fn label(c: &Change) -> String {
    use crate::web::i18n::{either, pick};
    match c {
        Change::Cancelled { .. } => either("annulé", "cancelled").into(),
        Change::RoomChanged { from, .. } => pick(crate::msg!(
            en("room changed (instead of {from})"),
            fr("salle changée (au lieu de {from})"),
        )),
        Change::MovedFrom { date, starts, .. } => pick(crate::msg!(
            en("moved from {date} {starts}"),
            fr("déplacé du {date} {starts}"),
        )),
        Change::MovedTo { date, starts, .. } => pick(crate::msg!(
            en("moved to {date} {starts}"),
            fr("déplacé au {date} {starts}"),
        )),
        Change::Replacement { .. } => either("remplacement", "replacement").into(),
        Change::Exceptional { .. } => either("cours exceptionnel", "one-off lesson").into(),
    }
}

/// `GET /vie-scolaire/journee`: the signed-in teacher's lessons of a day.
pub async fn day(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let run = move || -> Result<Response, WebError> {
        let date = match q.get("date") {
            Some(d) => {
                Date::parse(d).ok_or_else(|| WebError::BadRequest("date invalide (AAAA-MM-JJ)".into()))?
            }
            None => DateTime::now_local().date,
        };
        let Some(me) = signed.actor.person_id else {
            return Err(WebError::NotFound);
        };
        let store = web.store()?;
        let conn = store.conn();
        let mut lessons = Vec::new();
        if let Some(year) = queries::current_year(conn, date)? {
            let all = queries::lessons(conn, &year, date, date).map_err(WebError::Internal)?;
            for l in all.iter().filter(|l| {
                l.service.teacher_id == me
                    || l.changes
                        .iter()
                        .any(|c| matches!(c, Change::Replacement { instead_of, .. } if *instead_of == me))
            }) {
                let structure: String = conn.query_row(
                    "SELECT code FROM structures WHERE id = ?1",
                    [l.service.structure_id],
                    |r| r.get(0),
                )?;
                let subject: String = conn.query_row(
                    "SELECT coalesce((SELECT label FROM subjects WHERE code = ?1), ?1)",
                    [&l.service.subject_code],
                    |r| r.get(0),
                )?;
                lessons.push(DayLesson {
                    time: format!("{}–{}", l.starts, l.ends),
                    subject,
                    structure,
                    room: l.room.clone(),
                    changes: l.changes.iter().map(label).collect(),
                    taught: l.takes_place && l.service.teacher_id == me,
                    roll: (l.takes_place && l.service.teacher_id == me).then(|| queries::roll::lesson_key(l)),
                });
            }
        }
        let config = web.config();
        let chrome = Page::signed(
            crate::web::i18n::either("Ma journée", "My day"),
            &config.establishment.name,
            &signed,
            "/vie-scolaire/journee",
        );
        Ok(pages::render(&DayPage {
            page: &chrome,
            heading: crate::web::i18n::pick(crate::msg!(
                en("My day: {} {date}", timetable::day_name(date)),
                fr(
                    "Ma journée du {} {date}",
                    DAY_NAMES[usize::from(date.weekday() - 1)]
                ),
            )),
            lessons,
        }))
    };
    match crate::web::i18n::spawn_blocking(run).await {
        Ok(r) => r.unwrap_or_else(IntoResponse::into_response),
        Err(e) => WebError::Internal(anyhow::anyhow!("{e}")).into_response(),
    }
}

pub mod access;
pub mod attachments;
pub mod homework;
pub mod ical;
pub mod messages;
pub mod timetable;
pub mod timetable_edit;
pub mod weeks;

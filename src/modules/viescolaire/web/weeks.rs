//! The weeks A and B of the school year on the web
//! (`/vie-scolaire/emploi-du-temps/semaines`), for the administrator,
//! direction and the school-life office: every week of the year with its
//! letter, set week by week or alternating from a week on, through the
//! domain's [`queries::edit_weeks`] (the CLI's `year set --week-a` too);
//! audited.

use super::super::calendar::Date;
use super::super::queries;
use super::super::timetable::{self, WeekEdit, Weeks};
use super::access::{self, blocking, form};
use super::timetable::fr_date;
use crate::web::errors::WebError;
use crate::web::forms::Fields;
use crate::web::pages::{self, Page};
use crate::web::{AppState, Signed, audit, see_other};
use askama::Template;
use axum::body::Body;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

/// Reads the weeks form (pure): `action=alterner` with `depuis` (a
/// Monday) and `premiere` (A or B), or one `semaine-YYYY-MM-DD` per week
/// (A, B, or empty for no letter). A French message when wrong.
pub fn check_weeks_form(f: &Fields) -> Result<WeekEdit, String> {
    if f.get("action") == "alterner" {
        let v = f.get("depuis").trim();
        let monday = Date::parse(v).ok_or_else(|| {
            crate::web::i18n::pick(crate::msg!(
                en("“{v}” is not a date (YYYY-MM-DD)."),
                fr("« {v} » n'est pas une date (AAAA-MM-JJ).")
            ))
        })?;
        let first = match f.get("premiere").trim() {
            "A" => Weeks::A,
            "B" => Weeks::B,
            _ => {
                return Err(crate::web::i18n::either(
                    "Choisissez si l'alternance commence par une semaine A ou B.",
                    "Choose whether the alternation starts with an A or a B week.",
                )
                .into());
            }
        };
        return Ok(WeekEdit::AlternateFrom { monday, first });
    }
    let mut list = Vec::new();
    for (k, v) in f.iter() {
        let Some(d) = k.strip_prefix("semaine-") else {
            continue;
        };
        let monday = Date::parse(d).ok_or_else(|| {
            crate::web::i18n::pick(crate::msg!(
                en("“{d}” is not a date (YYYY-MM-DD)."),
                fr("« {d} » n'est pas une date (AAAA-MM-JJ).")
            ))
        })?;
        let w = match v.trim() {
            "A" => Some(Weeks::A),
            "B" => Some(Weeks::B),
            "" => None,
            other => {
                return Err(crate::web::i18n::pick(crate::msg!(
                    en("“{other}”: a week is A, B or without a letter."),
                    fr("« {other} » : une semaine est A, B ou sans lettre.")
                )));
            }
        };
        list.push((monday, w));
    }
    if list.is_empty() {
        return Err(crate::web::i18n::either("Aucune semaine n'a été envoyée.", "No week was sent.").into());
    }
    Ok(WeekEdit::Set(list))
}

/// A week as shown.
pub struct WeekRow {
    pub monday: String,
    pub label: String,
    pub holidays: bool,
    pub letter: String,
}

#[derive(Template)]
#[template(path = "viescolaire/weeks.html")]
pub struct WeeksPage<'a> {
    pub page: &'a Page,
    pub year: String,
    pub weeks: Vec<WeekRow>,
    pub notice: Option<String>,
    pub error: Option<String>,
}

fn render(
    web: &AppState,
    signed: &Signed,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let store = web.store()?;
    let conn = store.conn();
    let Some(year) = queries::current_year(conn, access::now().date)? else {
        return Err(WebError::BadRequest(
            crate::web::i18n::either(
                "Aucune année scolaire n'est définie : `preau viescolaire year set …` d'abord.",
                "No school year is defined: `preau viescolaire year set …` first.",
            )
            .into(),
        ));
    };
    let cal = queries::calendar(conn, &year)?;
    let weeks = timetable::year_mondays(year.starts, year.ends)
        .into_iter()
        .map(|m| WeekRow {
            monday: m.to_string(),
            label: crate::web::i18n::pick(crate::msg!(
                en("Week of {}", super::timetable::date_label(m)),
                fr("Semaine du {}", fr_date(m))
            )),
            holidays: timetable::holiday_week(m, &cal.holidays),
            letter: match cal.weeks.get(&m) {
                Some(Weeks::A) => "A",
                Some(Weeks::B) => "B",
                _ => "",
            }
            .to_string(),
        })
        .collect();
    let config = web.config();
    let chrome = Page::signed(
        crate::web::i18n::either("Semaines A et B", "A and B weeks"),
        &config.establishment.name,
        signed,
        "/vie-scolaire/emploi-du-temps",
    );
    let bad = error.is_some();
    let mut r = pages::render(&WeeksPage {
        page: &chrome,
        year: year.label,
        weeks,
        notice,
        error,
    });
    if bad {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

/// `GET /vie-scolaire/emploi-du-temps/semaines`.
pub async fn page(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    blocking(move || {
        let notice = q.contains_key("enregistre").then(|| {
            crate::web::i18n::either("Semaines A et B enregistrées.", "A and B weeks saved.").to_string()
        });
        render(&web, &signed, notice, None)
    })
    .await
}

/// `POST /vie-scolaire/emploi-du-temps/semaines`.
pub async fn submit(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    body: Body,
) -> Response {
    let fields = match form(&signed, body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    blocking(move || {
        let edit = match check_weeks_form(&fields) {
            Ok(e) => e,
            Err(msg) => return render(&web, &signed, None, Some(msg)),
        };
        let mut store = web.store()?;
        let Some(year) = queries::current_year(store.conn(), access::now().date)? else {
            return Err(WebError::BadRequest(
                crate::web::i18n::either(
                    "Aucune année scolaire n'est définie.",
                    "No school year is defined.",
                )
                .into(),
            ));
        };
        // The domain checks the weeks against the year: its message.
        let cal = queries::calendar(store.conn(), &year)?;
        if let Err(msg) = timetable::edit_weeks((year.starts, year.ends), &cal.holidays, &cal.weeks, &edit) {
            return render(&web, &signed, None, Some(msg));
        }
        let what = match &edit {
            WeekEdit::AlternateFrom { monday, first } => {
                format!("alternance depuis le {monday} (semaine {})", first.as_str())
            }
            WeekEdit::Set(list) => format!("{} semaines envoyées", list.len()),
        };
        let (by, peer) = (signed.actor.login.clone(), signed.peer.to_string());
        store.write(|tx| {
            let weeks = queries::edit_weeks(tx, &year, &edit)?;
            audit::record_in(
                tx,
                &by,
                &peer,
                "semaines A et B",
                &year.label,
                &format!("{what} ; {} semaines avec une lettre", weeks.len()),
            )?;
            Ok::<_, anyhow::Error>(())
        })?;
        Ok(see_other(
            "/vie-scolaire/emploi-du-temps/semaines?enregistre=1",
            &[],
        ))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_weeks_form_is_read_in_one_place() {
        let f = |s: &str| crate::web::forms::parse(s.as_bytes()).unwrap();
        assert_eq!(
            check_weeks_form(&f("action=alterner&depuis=2026-09-07&premiere=B")).unwrap(),
            WeekEdit::AlternateFrom {
                monday: Date::parse("2026-09-07").unwrap(),
                first: Weeks::B
            }
        );
        assert_eq!(
            check_weeks_form(&f("semaine-2026-09-07=A&semaine-2026-09-14=")).unwrap(),
            WeekEdit::Set(vec![
                (Date::parse("2026-09-07").unwrap(), Some(Weeks::A)),
                (Date::parse("2026-09-14").unwrap(), None)
            ])
        );
        for bad in [
            "action=alterner&depuis=demain&premiere=A",
            "action=alterner&depuis=2026-09-07&premiere=C",
            "semaine-2026-09-07=C",
            "semaine-2026-13-07=A",
            "csrf=x",
        ] {
            assert!(check_weeks_form(&f(bad)).is_err(), "{bad}");
        }
    }
}

//! The school-life office (CPE, direction): the day's absences and
//! lateness as the rolls come in (`/vie-scolaire/absences`, its fragment
//! `/vie-scolaire/absences/direct` polled by a little JavaScript),
//! absences recorded with their reason (over several lessons or days),
//! justifications to accept or refuse (`/vie-scolaire/justificatifs`),
//! and summaries per class over a period with their CSV export
//! (`/vie-scolaire/absences/bilan`, `…/bilan.csv`).

use super::roll::{blocking, check_token, chrome};
use crate::modules::viescolaire::attendance::Presence;
use crate::modules::viescolaire::calendar::{Date, DateTime, Time};
use crate::modules::viescolaire::queries::{self, StudentAbsences, roll};
use crate::web::errors::WebError;
use crate::web::forms::Path;
use crate::web::pages::{self, Page};
use crate::web::{AppState, Signed, audit, forms};
use askama::Template;
use axum::body::Body;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

/// A day mark as the office's table shows it.
#[derive(Debug, Clone)]
pub struct Mark {
    pub login: String,
    pub name: String,
    pub structure: String,
    pub time: String,
    pub starts: String,
    pub ends: String,
    pub subject: String,
    pub what: String,
    pub absent: bool,
    pub remark: String,
    pub by: String,
    pub event: Option<i64>,
    pub reason: String,
}

fn what(p: Presence, minutes: u32) -> String {
    match p {
        Presence::Present => crate::web::i18n::either("présent", "present").into(),
        Presence::Absent => crate::web::i18n::either("absent", "absent").into(),
        Presence::Late => {
            crate::web::i18n::pick(crate::msg!(en("late {minutes} min"), fr("retard {minutes} min")))
        }
        Presence::Excluded => crate::web::i18n::either("exclu", "excluded").into(),
    }
}

/// The label of a justification state.
pub fn state_label(s: &str) -> &'static str {
    match s {
        "received" => {
            crate::web::i18n::either("justificatif reçu, en attente", "justification received, pending")
        }
        "accepted" => crate::web::i18n::either("justifiée", "justified"),
        "refused" => crate::web::i18n::either("justificatif refusé", "justification refused"),
        _ => crate::web::i18n::either("non justifiée", "not justified"),
    }
}

#[derive(Template)]
#[template(path = "viescolaire/absences_live.html")]
pub struct LiveFragment {
    pub date: String,
    pub csrf: String,
    pub taken: i64,
    pub marks: Vec<Mark>,
    pub reasons: Vec<(String, String)>,
}

impl LiveFragment {
    /// Message `id` of the catalogue in the current language.
    pub fn t(&self, id: &str) -> &'static str {
        crate::web::i18n::t(crate::web::i18n::current(), id)
    }
}

#[derive(Template)]
#[template(path = "viescolaire/absences.html")]
pub struct AbsencesPage<'a> {
    pub page: &'a Page,
    pub date: String,
    pub live: LiveFragment,
    pub pending: usize,
    pub notice: Option<String>,
    pub reasons: Vec<(String, String)>,
}

fn date_param(q: &HashMap<String, String>, name: &str) -> Result<Option<Date>, WebError> {
    match q.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(d) => Date::parse(d).map(Some).ok_or_else(|| {
            WebError::BadRequest(crate::web::i18n::pick(crate::msg!(
                en("Invalid date: “{d}” (expected YYYY-MM-DD)."),
                fr("Date invalide : « {d} » (attendu AAAA-MM-JJ).")
            )))
        }),
    }
}

fn live(conn: &rusqlite::Connection, date: Date, csrf: &str) -> Result<LiveFragment, WebError> {
    let marks = roll::day_marks(conn, date)?
        .into_iter()
        .map(|m| Mark {
            time: format!("{}–{}", m.starts, m.ends),
            what: what(m.presence, m.late_minutes),
            absent: m.presence == Presence::Absent,
            event: m.event.as_ref().map(|e| e.0),
            reason: match &m.event {
                Some((_, label, state)) => match label {
                    Some(l) => format!("{l} ({})", state_label(state)),
                    None => state_label(state).to_string(),
                },
                None => String::new(),
            },
            login: m.login,
            name: m.name,
            structure: m.structure,
            starts: m.starts,
            ends: m.ends,
            subject: m.subject,
            remark: m.remark,
            by: m.by,
        })
        .collect();
    Ok(LiveFragment {
        date: date.to_string(),
        csrf: csrf.to_string(),
        taken: roll::rolls_taken(conn, date)?,
        marks,
        reasons: roll::reasons(conn)?,
    })
}

/// `GET /vie-scolaire/absences?date=`.
pub async fn day(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    blocking(move || {
        let date = date_param(&q, "date")?.unwrap_or(DateTime::now_local().date);
        let store = web.store()?;
        let conn = store.conn();
        let chrome = chrome(
            &web,
            &signed,
            crate::web::i18n::either("Absences du jour", "Today's absences"),
            "/vie-scolaire/absences",
        );
        let notice = q
            .contains_key("enregistre")
            .then(|| crate::web::i18n::either("Absence enregistrée.", "Absence saved.").to_string());
        Ok(pages::render(&AbsencesPage {
            page: &chrome,
            date: date.to_string(),
            live: live(conn, date, &signed.session.csrf)?,
            pending: roll::pending(conn)?.len(),
            notice,
            reasons: roll::reasons(conn)?,
        }))
    })
    .await
}

/// `GET /vie-scolaire/absences/direct?date=`: the table alone, for the
/// page's polling.
pub async fn fragment(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    blocking(move || {
        let date = date_param(&q, "date")?.unwrap_or(DateTime::now_local().date);
        let store = web.store()?;
        let mut r = pages::render(&live(store.conn(), date, &signed.session.csrf)?);
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(r)
    })
    .await
}

/// An absence as the office's form gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAbsence {
    pub student: String,
    pub event: Option<i64>,
    pub starts: DateTime,
    pub ends: DateTime,
    pub reason: String,
    pub comment: String,
    pub accepted: bool,
}

/// Reads the office's absence form (pure): `eleve`, `evenement`
/// (optional), `du` and `au` (dates; `au` defaults to `du`), `debut` and
/// `fin` (times), `motif`, `commentaire`, `accepte`.
pub fn parse_absence(f: &forms::Fields) -> Result<NewAbsence, String> {
    let student = f.get("eleve").trim();
    if student.is_empty() || student.len() > 100 {
        return Err(crate::web::i18n::either(
            "Indiquez l'identifiant de l'élève.",
            "Give the student's login.",
        )
        .into());
    }
    let event = match f.get("evenement").trim() {
        "" => None,
        e => Some(
            e.parse::<i64>()
                .map_err(|_| crate::web::i18n::either("Absence inconnue.", "Unknown absence.").to_string())?,
        ),
    };
    let from = Date::parse(f.get("du").trim()).ok_or(crate::web::i18n::either(
        "Date de début invalide (AAAA-MM-JJ).",
        "Invalid start date (YYYY-MM-DD).",
    ))?;
    let to = match f.get("au").trim() {
        "" => from,
        s => Date::parse(s).ok_or(crate::web::i18n::either(
            "Date de fin invalide (AAAA-MM-JJ).",
            "Invalid end date (YYYY-MM-DD).",
        ))?,
    };
    let t = |name: &str, what: &str| {
        Time::parse(f.get(name).trim()).ok_or_else(|| {
            crate::web::i18n::pick(crate::msg!(
                en("Invalid {what} time (HH:MM)."),
                fr("Heure de {what} invalide (HH:MM).")
            ))
        })
    };
    let starts = DateTime {
        date: from,
        time: t("debut", crate::web::i18n::either("début", "start"))?,
    };
    let ends = DateTime {
        date: to,
        time: t("fin", crate::web::i18n::either("fin", "end"))?,
    };
    if starts >= ends {
        return Err(crate::web::i18n::either(
            "L'absence doit finir après avoir commencé.",
            "The absence must end after it starts.",
        )
        .into());
    }
    if from.days_until(to) > 366 {
        return Err(crate::web::i18n::either(
            "Une absence dure au plus un an.",
            "An absence lasts at most a year.",
        )
        .into());
    }
    let reason = f.get("motif").trim();
    if reason.is_empty() {
        return Err(crate::web::i18n::either("Choisissez un motif.", "Choose a reason.").into());
    }
    let comment = f.get("commentaire").trim();
    if comment.chars().count() > 500 {
        return Err(crate::web::i18n::either(
            "Le commentaire est trop long (au plus 500 caractères).",
            "The comment is too long (at most 500 characters).",
        )
        .into());
    }
    Ok(NewAbsence {
        student: student.to_string(),
        event,
        starts,
        ends,
        reason: reason.to_string(),
        comment: comment.to_string(),
        accepted: f.get("accepte") == "oui",
    })
}

/// `POST /vie-scolaire/absences`: records an absence or its reason.
pub async fn record(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    body: Body,
) -> Response {
    let fields = match forms::read(body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    blocking(move || {
        check_token(&signed, &fields)?;
        let a = parse_absence(&fields).map_err(WebError::BadRequest)?;
        let mut store = web.store()?;
        let student = match crate::directory::person_by_login(store.conn(), &a.student)? {
            Some(p) if p.kind == crate::directory::Kind::Student => p,
            _ => {
                return Err(WebError::BadRequest(crate::web::i18n::pick(crate::msg!(
                    en("No student has the login “{}”.", a.student),
                    fr("Aucun élève n'a l'identifiant « {} ».", a.student),
                ))));
            }
        };
        if !roll::reason_known(store.conn(), &a.reason)? {
            return Err(WebError::BadRequest(
                crate::web::i18n::either("Motif inconnu.", "Unknown reason.").into(),
            ));
        }
        if let Some(e) = a.event
            && roll::event_state(store.conn(), student.id, e)?.is_none()
        {
            return Err(WebError::BadRequest(
                crate::web::i18n::either(
                    "Cette absence n'est pas celle de cet élève.",
                    "This absence is not this student's.",
                )
                .into(),
            ));
        }
        let now = DateTime::now_local().stamp();
        let (by, peer) = (signed.actor.login.clone(), signed.peer.to_string());
        store.write(|tx| {
            let id = roll::record_absence(
                tx,
                student.id,
                a.event,
                (a.starts, a.ends),
                &a.reason,
                &a.comment,
                a.accepted,
                &by,
                &now,
            )?;
            audit::record_in(
                tx,
                &by,
                &peer,
                "absence enregistrée",
                &student.login,
                &format!(
                    "absence {id} du {} au {}, motif {}{}",
                    a.starts.stamp(),
                    a.ends.stamp(),
                    a.reason,
                    if a.accepted { ", justifiée" } else { "" }
                ),
            )?;
            Ok::<_, anyhow::Error>(())
        })?;
        Ok(crate::web::see_other(
            &format!("/vie-scolaire/absences?date={}&enregistre=1", a.starts.date),
            &[],
        ))
    })
    .await
}

#[derive(Template)]
#[template(path = "viescolaire/justifications.html")]
pub struct JustificationsPage<'a> {
    pub page: &'a Page,
    pub pending: Vec<roll::Justification>,
    pub notice: Option<String>,
}

/// `GET /vie-scolaire/justificatifs`: waiting for a decision.
pub async fn justifications(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    blocking(move || {
        let store = web.store()?;
        let chrome = chrome(
            &web,
            &signed,
            crate::web::i18n::either("Justificatifs", "Justifications"),
            "/vie-scolaire/absences",
        );
        let notice = match q.get("fait").map(String::as_str) {
            Some("accepte") => {
                Some(crate::web::i18n::either("Justificatif accepté.", "Justification accepted.").to_string())
            }
            Some("refuse") => {
                Some(crate::web::i18n::either("Justificatif refusé.", "Justification refused.").to_string())
            }
            _ => None,
        };
        Ok(pages::render(&JustificationsPage {
            page: &chrome,
            pending: roll::pending(store.conn())?,
            notice,
        }))
    })
    .await
}

/// `POST /vie-scolaire/justificatifs/{id}`: `decision` = accepter | refuser.
pub async fn decide(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(id): Path<i64>,
    body: Body,
) -> Response {
    let fields = match forms::read(body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    blocking(move || {
        check_token(&signed, &fields)?;
        let accept = match fields.get("decision") {
            "accepter" => true,
            "refuser" => false,
            _ => {
                return Err(WebError::BadRequest(
                    crate::web::i18n::either(
                        "Choisissez d'accepter ou de refuser.",
                        "Choose to accept or to refuse.",
                    )
                    .into(),
                ));
            }
        };
        let mut store = web.store()?;
        match roll::justification_state(store.conn(), id)?.as_deref() {
            None => return Err(WebError::NotFound),
            Some("received") => {}
            Some(_) => {
                return Err(WebError::BadRequest(
                    crate::web::i18n::either(
                        "Ce justificatif a déjà été traité.",
                        "This justification has already been dealt with.",
                    )
                    .into(),
                ));
            }
        }
        let student = roll::justification_student(store.conn(), id)?.unwrap_or_default();
        let login: String =
            store
                .conn()
                .query_row("SELECT login FROM people WHERE id = ?1", [student], |r| r.get(0))?;
        let now = DateTime::now_local().stamp();
        let (by, peer) = (signed.actor.login.clone(), signed.peer.to_string());
        store.write(|tx| {
            queries::decide_justification(tx, id, accept, &by, &now)?;
            audit::record_in(
                tx,
                &by,
                &peer,
                "justificatif",
                &login,
                &format!("justificatif {id} {}", if accept { "accepté" } else { "refusé" }),
            )?;
            Ok::<_, anyhow::Error>(())
        })?;
        Ok(crate::web::see_other(
            &format!(
                "/vie-scolaire/justificatifs?fait={}",
                if accept { "accepte" } else { "refuse" }
            ),
            &[],
        ))
    })
    .await
}

#[derive(Template)]
#[template(path = "viescolaire/summary.html")]
pub struct SummaryPage<'a> {
    pub page: &'a Page,
    pub class: String,
    pub from: String,
    pub to: String,
    pub classes: Vec<String>,
    pub rows: Vec<StudentAbsences>,
    pub csv: String,
}

/// A summary's year, class (id, code) and period.
type SummaryOf = (queries::Year, i64, String, Date, Date);

/// The class and period of a summary, with their defaults (the school
/// year up to today).
fn summary_query(
    conn: &rusqlite::Connection,
    q: &HashMap<String, String>,
) -> Result<Option<SummaryOf>, WebError> {
    let today = DateTime::now_local().date;
    let Some(year) = queries::current_year(conn, today)? else {
        return Ok(None);
    };
    let from = date_param(q, "du")?.unwrap_or(year.starts);
    let to = date_param(q, "au")?.unwrap_or(today.min(year.ends));
    if from > to || from.days_until(to) > 400 {
        return Err(WebError::BadRequest(
            crate::web::i18n::either(
                "Période invalide : la fin doit suivre le début, sur une année au plus.",
                "Invalid period: the end must follow the start, over a year at most.",
            )
            .into(),
        ));
    }
    let code = q.get("classe").map(|s| s.trim()).unwrap_or("");
    if code.is_empty() {
        return Ok(None);
    }
    match crate::directory::structure(conn, code)? {
        Some(s) if s.kind == crate::directory::StructureKind::Class => {
            Ok(Some((year, s.id, s.code, from, to)))
        }
        _ => Err(WebError::BadRequest(crate::web::i18n::pick(crate::msg!(
            en("Unknown class: “{code}”."),
            fr("Classe inconnue : « {code} ».")
        )))),
    }
}

fn classes(conn: &rusqlite::Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT code FROM structures WHERE kind = 'class' ORDER BY code")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

/// `GET /vie-scolaire/absences/bilan?classe=&du=&au=`.
pub async fn summary(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    blocking(move || {
        let store = web.store()?;
        let conn = store.conn();
        let config = web.config();
        let chrome = chrome(
            &web,
            &signed,
            crate::web::i18n::either("Bilan des absences", "Absence summary"),
            "/vie-scolaire/absences",
        );
        let (class, from, to, rows) = match summary_query(conn, &q)? {
            Some((year, id, code, from, to)) => {
                let rows = queries::absences_report(conn, &year, id, from, to, &config.viescolaire)?;
                (code, from.to_string(), to.to_string(), rows)
            }
            None => Default::default(),
        };
        let csv = format!("/vie-scolaire/absences/bilan.csv?classe={class}&du={from}&au={to}");
        Ok(pages::render(&SummaryPage {
            page: &chrome,
            classes: classes(conn)?,
            class,
            from,
            to,
            rows,
            csv,
        }))
    })
    .await
}

/// One CSV field (pure): quoted when needed, and a leading `=`, `+`,
/// `-` or `@` neutralised so that a spreadsheet never runs it.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The summary as CSV (pure; semicolons, as French spreadsheets read).
pub fn summary_csv(rows: &[StudentAbsences]) -> String {
    let mut out = String::from(
        "\u{feff}Élève;Identifiant;Demi-journées;Justifiées;Injustifiées;Retards;Cours manqués;Alerte\r\n",
    );
    for r in rows {
        let alert = r
            .alert
            .as_ref()
            .map(|a| format!("{} depuis le {}", a.unjustified, a.since))
            .unwrap_or_default();
        out.push_str(&format!(
            "{};{};{};{};{};{};{};{}\r\n",
            csv_field(&r.name),
            csv_field(&r.login),
            r.half_days,
            r.justified,
            r.unjustified,
            r.late,
            r.missed_lessons,
            csv_field(&alert)
        ));
    }
    out
}

/// `GET /vie-scolaire/absences/bilan.csv?classe=&du=&au=`.
pub async fn summary_export(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    blocking(move || {
        let store = web.store()?;
        let conn = store.conn();
        let Some((year, id, code, from, to)) = summary_query(conn, &q)? else {
            return Err(WebError::BadRequest(
                crate::web::i18n::either("Choisissez une classe.", "Choose a class.").into(),
            ));
        };
        let rows = queries::absences_report(conn, &year, id, from, to, &web.config().viescolaire)?;
        drop(store);
        let mut store = web.store()?;
        audit::record(
            &mut store,
            &signed.actor.login,
            &signed.peer.to_string(),
            "export des absences",
            &code,
            &format!("du {from} au {to}"),
        )?;
        let name = format!(
            "absences-{}-{from}-{to}.csv",
            code.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            summary_csv(&rows),
        )
            .into_response())
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
    fn absences_over_days_and_bad_forms() {
        let a = parse_absence(&fields(
            "eleve=lea&du=2026-11-30&au=2026-12-02&debut=08:00&fin=17:00&motif=MAL&commentaire=grippe&accepte=oui",
        ))
        .unwrap();
        assert_eq!(
            (a.starts.stamp(), a.ends.stamp(), a.accepted, a.event),
            ("2026-11-30T08:00".into(), "2026-12-02T17:00".into(), true, None)
        );
        let a = parse_absence(&fields(
            "eleve=lea&evenement=4&du=2026-12-01&debut=08:00&fin=09:00&motif=MAL",
        ))
        .unwrap();
        assert_eq!(
            (a.event, a.ends.date.to_string(), a.accepted),
            (Some(4), "2026-12-01".into(), false)
        );
        for (body, why) in [
            ("du=2026-12-01&debut=08:00&fin=09:00&motif=MAL", "identifiant"),
            (
                "eleve=l&du=2026-02-30&debut=08:00&fin=09:00&motif=MAL",
                "Date de début",
            ),
            (
                "eleve=l&du=2026-12-01&debut=25:70&fin=09:00&motif=MAL",
                "Heure de début",
            ),
            (
                "eleve=l&du=2026-12-01&debut=09:00&fin=08:00&motif=MAL",
                "finir après",
            ),
            ("eleve=l&du=2026-12-01&debut=08:00&fin=09:00", "motif"),
            (
                "eleve=l&evenement=x&du=2026-12-01&debut=08:00&fin=09:00&motif=MAL",
                "inconnue",
            ),
            (
                "eleve=l&du=2026-12-01&au=2028-12-01&debut=08:00&fin=09:00&motif=MAL",
                "un an",
            ),
        ] {
            let e = parse_absence(&fields(body)).unwrap_err();
            assert!(e.contains(why), "{body}: {e}");
        }
    }

    #[test]
    fn csv_is_quoted_and_never_a_formula() {
        assert_eq!(csv_field("Martin Léa"), "Martin Léa");
        assert_eq!(csv_field("a;b"), "\"a;b\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        let rows = [StudentAbsences {
            student_id: 1,
            login: "lea".into(),
            name: "Martin Léa".into(),
            half_days: 3,
            justified: 1,
            unjustified: 2,
            late: 1,
            missed_lessons: 7,
            alert: None,
        }];
        let csv = summary_csv(&rows);
        assert!(csv.ends_with("Martin Léa;lea;3;1;2;1;7;\r\n"), "{csv}");
    }
}

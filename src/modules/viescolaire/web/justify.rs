//! A student's absences and lateness (`/vie-scolaire/eleves/{login}/absences`:
//! his day, his half-days, his absences and their justifications) and
//! the parents' justification sent online with a scan or a photo
//! (`POST /vie-scolaire/eleves/{login}/justificatifs`), stored on the
//! appliance (the attachments directory, mode 0600) and served back only
//! to those `authz::decide` allows (`/vie-scolaire/justificatifs/{id}/piece`).
//! `/vie-scolaire/assiduite` leads a student or a parent there.

use super::attachments;
use super::office::state_label;
use super::roll::{blocking, chrome, office};
use crate::modules::viescolaire::attendance::{self, Presence};
use crate::modules::viescolaire::calendar::{Date, DateTime};
use crate::modules::viescolaire::queries::{self, roll};
use crate::web::authz::Role;
use crate::web::errors::WebError;
use crate::web::forms::Path;
use crate::web::pages::{self, Page};
use crate::web::{AppState, Signed, audit, forms};
use askama::Template;
use axum::extract::{Extension, Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::HashMap;
use std::sync::Arc;

pub use super::attachments::sniff;

/// A lesson of the student's day as shown.
#[derive(Debug, Clone)]
pub struct DayRow {
    pub time: String,
    pub subject: String,
    pub state: String,
}

/// An absence event as shown.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: i64,
    pub span: String,
    pub reason: String,
    pub state: String,
    pub justifiable: bool,
}

/// A mark as shown (absent without an event: justifiable by its day).
#[derive(Debug, Clone)]
pub struct MarkRow {
    pub date: String,
    pub time: String,
    pub subject: String,
    pub what: String,
    pub justifiable: bool,
}

#[derive(Template)]
#[template(path = "viescolaire/student_absences.html")]
pub struct StudentPage<'a> {
    pub page: &'a Page,
    pub login: String,
    pub name: String,
    pub date: String,
    pub day: Vec<DayRow>,
    pub half_days: usize,
    pub justified: usize,
    pub unjustified: usize,
    pub late: u32,
    pub alert: Option<String>,
    pub events: Vec<EventRow>,
    pub marks: Vec<MarkRow>,
    pub justifications: Vec<roll::Justification>,
    pub can_justify: bool,
    pub reasons: Vec<(String, String)>,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub max_mib: u64,
}

fn span(a: &str, b: &str) -> String {
    match (a.split_once('T'), b.split_once('T')) {
        (Some((da, ta)), Some((db, tb))) if da == db => crate::web::i18n::pick(crate::msg!(
            en("on {da} from {ta} to {tb}"),
            fr("le {da} de {ta} à {tb}"),
        )),
        _ => crate::web::i18n::pick(crate::msg!(
            en("from {} to {}", a.replace('T', " "), b.replace('T', " ")),
            fr("du {} au {}", a.replace('T', " "), b.replace('T', " ")),
        )),
    }
}

fn may_justify(signed: &Signed, student: i64) -> bool {
    signed
        .facts
        .school
        .as_ref()
        .is_some_and(|f| f.may_justify(student))
}

fn student_page(
    web: &AppState,
    signed: &Signed,
    login: &str,
    date: Option<Date>,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let store = web.store()?;
    let conn = store.conn();
    let Some(p) = crate::directory::person_by_login(conn, login)? else {
        return Err(WebError::NotFound);
    };
    let config = web.config();
    let s = &config.viescolaire;
    let today = DateTime::now_local().date;
    let date = date.unwrap_or(today);
    let year = queries::current_year(conn, today)?;
    let from = year.as_ref().map_or(today, |y| y.starts);
    let day = roll::student_day(conn, p.id, date)?
        .into_iter()
        .map(|d| DayRow {
            time: format!("{}–{}", d.lesson.starts, d.lesson.ends),
            subject: d.subject,
            state: if !d.lesson.takes_place {
                crate::web::i18n::either("cours annulé ou déplacé", "lesson cancelled or moved").into()
            } else {
                match d.mark {
                    None => {
                        crate::web::i18n::either("appel pas encore fait", "roll call not taken yet").into()
                    }
                    Some((Presence::Present, _)) => crate::web::i18n::either("présent", "present").into(),
                    Some((Presence::Absent, _)) => crate::web::i18n::either("absent", "absent").into(),
                    Some((Presence::Late, m)) => {
                        crate::web::i18n::pick(crate::msg!(en("late ({m} min)"), fr("en retard ({m} min)")))
                    }
                    Some((Presence::Excluded, _)) => {
                        crate::web::i18n::either("exclu du cours", "excluded from the lesson").into()
                    }
                }
            },
        })
        .collect();
    let summary = roll::student_summary(conn, p.id, from, today, s.noon())?;
    let alert =
        attendance::alert(&summary.half_days, today, s.alert_window_days, s.alert_half_days).map(|a| {
            crate::web::i18n::pick(crate::msg!(
                en(
                    "{} unjustified half-days of absence since {} (threshold: {}).",
                    a.unjustified,
                    a.since,
                    a.threshold
                ),
                fr(
                    "{} demi-journées d'absence non justifiées depuis le {} (seuil : {}).",
                    a.unjustified,
                    a.since,
                    a.threshold
                ),
            ))
        });
    let can_justify = may_justify(signed, p.id);
    let events = roll::student_events(conn, p.id, from, today.add_days(366))?
        .into_iter()
        .map(|e| EventRow {
            span: span(&e.starts, &e.ends),
            reason: e.reason.unwrap_or_default(),
            state: state_label(&e.justification).to_string(),
            justifiable: can_justify && matches!(e.justification.as_str(), "none" | "refused"),
            id: e.id,
        })
        .collect();
    let marks = roll::student_marks(conn, p.id, from, today)?
        .into_iter()
        .map(|m| MarkRow {
            date: m.date.to_string(),
            time: m.starts.clone(),
            subject: m.subject,
            what: match m.presence {
                Presence::Late => crate::web::i18n::pick(crate::msg!(
                    en("late ({} min)", m.late_minutes),
                    fr("retard ({} min)", m.late_minutes)
                )),
                Presence::Absent => crate::web::i18n::either("absence", "absence").into(),
                Presence::Excluded => {
                    crate::web::i18n::either("exclusion de cours", "exclusion from the lesson").into()
                }
                Presence::Present => crate::web::i18n::either("présent", "present").into(),
            },
            justifiable: can_justify && m.presence == Presence::Absent && !m.covered,
        })
        .collect();
    let chrome = chrome(
        web,
        signed,
        crate::web::i18n::either("Absences et retards", "Absences and late arrivals"),
        "/vie-scolaire/assiduite",
    );
    let mut r = pages::render(&StudentPage {
        page: &chrome,
        login: p.login.clone(),
        name: p.full_name(),
        date: date.to_string(),
        day,
        half_days: summary.half_days.len(),
        justified: summary.justified(),
        unjustified: summary.unjustified(),
        late: summary.late,
        alert,
        events,
        marks,
        justifications: roll::student_justifications(conn, p.id)?,
        can_justify,
        reasons: roll::reasons(conn)?,
        notice,
        max_mib: s.attachment_max_bytes / (1024 * 1024),
        error: error.clone(),
    });
    if error.is_some() {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

/// `GET /vie-scolaire/eleves/{login}/absences?date=`.
pub async fn student(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(login): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    blocking(move || {
        let date = match q.get("date").map(|d| d.trim()).filter(|d| !d.is_empty()) {
            Some(d) => Some(Date::parse(d).ok_or_else(|| {
                WebError::BadRequest(
                    crate::web::i18n::either("Date invalide (AAAA-MM-JJ).", "Invalid date (YYYY-MM-DD).")
                        .into(),
                )
            })?),
            None => None,
        };
        let notice = q.contains_key("envoye").then(|| {
            crate::web::i18n::either(
                "Justificatif envoyé : la vie scolaire va l'examiner.",
                "Justification sent: the school-life office will examine it.",
            )
            .to_string()
        });
        student_page(&web, &signed, &login, date, notice, None)
    })
    .await
}

/// A justification as the parent's form gives it.
#[derive(Debug, Clone, Default)]
pub struct Sent {
    pub csrf: String,
    pub event: String,
    pub day: String,
    pub reason: String,
    pub comment: String,
    /// (bytes, media type, extension).
    pub file: Option<(Vec<u8>, &'static str, &'static str)>,
}

/// Reads the multipart form, with limits: what was read, and a French
/// message when it went wrong (the token read so far is still checked
/// first: a post without it is a 403 whatever else it holds).
async fn read_sent(m: Multipart, max_bytes: u64) -> (Sent, Option<String>) {
    let mut sent = Sent::default();
    let problem = read_parts(m, max_bytes, &mut sent).await.err();
    (sent, problem)
}

async fn read_parts(mut m: Multipart, max_bytes: u64, sent: &mut Sent) -> Result<(), String> {
    let mut fields = 0;
    loop {
        let field = match m.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                return Err(crate::web::i18n::either(
                    "Le formulaire n'a pas été reçu en entier, ou il est trop volumineux.",
                    "The form was not received in full, or it is too large.",
                )
                .into());
            }
        };
        fields += 1;
        if fields > 20 {
            return Err(crate::web::i18n::either(
                "Le formulaire contient trop de champs.",
                "The form has too many fields.",
            )
            .into());
        }
        let name = field.name().unwrap_or("").to_string();
        if name == "piece" {
            if let Some(f) = attachments::read_field(field, max_bytes).await? {
                sent.file = Some((f.bytes, f.mime, f.ext));
            }
            continue;
        }
        let text = field.text().await.map_err(|_| {
            crate::web::i18n::either(
                "Le formulaire n'a pas été reçu en entier.",
                "The form was not received in full.",
            )
            .to_string()
        })?;
        if text.chars().count() > forms::MAX_VALUE || text.contains('\0') {
            return Err(crate::web::i18n::either(
                "Un champ du formulaire est trop long ou contient un caractère interdit.",
                "A field of the form is too long or contains a forbidden character.",
            )
            .into());
        }
        match name.as_str() {
            "csrf" => sent.csrf = text,
            "evenement" => sent.event = text,
            "jour" => sent.day = text,
            "motif" => sent.reason = text,
            "commentaire" => sent.comment = text,
            _ => {}
        }
    }
    Ok(())
}

/// `POST /vie-scolaire/eleves/{login}/justificatifs` (multipart):
/// `evenement` (an absence event) or `jour` (the absent marks of a day),
/// `motif`, `commentaire`, `piece` (optional PDF, JPEG or PNG).
pub async fn send(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(login): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let config = web.config();
    let max = config.viescolaire.attachment_max_bytes;
    let not_multipart = multipart.is_err();
    let (sent, problem) = match multipart {
        Ok(m) => read_sent(m, max).await,
        Err(_) => {
            let msg = crate::web::i18n::either(
                "Le formulaire n'a pas été envoyé comme il faut (pièce jointe) : rechargez la page et recommencez.",
                "The form was not sent properly (attachment): reload the page and start again.",
            );
            (Sent::default(), Some(msg.to_string()))
        }
    };
    blocking(move || {
        // Not multipart at all: said so (there was no token to read).
        if not_multipart {
            return student_page(&web, &signed, &login, None, None, problem);
        }
        if !crate::web::csrf::matches(&signed.session.csrf, &sent.csrf) {
            return Err(WebError::Forbidden(
                crate::web::i18n::either(
                    "Le formulaire a expiré : rechargez la page et recommencez.",
                    "The form has expired: reload the page and start again.",
                )
                .into(),
            ));
        }
        if let Some(msg) = problem {
            return student_page(&web, &signed, &login, None, None, Some(msg));
        }
        let fail = |msg: &str| student_page(&web, &signed, &login, None, None, Some(msg.to_string()));
        let mut store = web.store()?;
        let Some(p) = crate::directory::person_by_login(store.conn(), &login)? else {
            return Err(WebError::NotFound);
        };
        if !roll::reason_known(store.conn(), sent.reason.trim())? {
            return fail(crate::web::i18n::either(
                "Choisissez un motif.",
                "Choose a reason.",
            ));
        }
        if sent.comment.trim().chars().count() > 500 {
            return fail(crate::web::i18n::either(
                "Le commentaire est trop long (au plus 500 caractères).",
                "The comment is too long (at most 500 characters).",
            ));
        }
        if let Some((_, mime, _)) = &sent.file
            && let Err(msg) = attachments::accepted(&config, mime)
        {
            return fail(&msg);
        }
        // The absence: an event of this student, or the absent marks of a day.
        let target: Result<i64, (DateTime, DateTime)> = match (sent.event.trim(), sent.day.trim()) {
            (e, _) if !e.is_empty() => {
                let Ok(id) = e.parse::<i64>() else {
                    return fail(crate::web::i18n::either("Absence inconnue.", "Unknown absence."));
                };
                match roll::event_state(store.conn(), p.id, id)?.as_deref() {
                    None => return Err(WebError::NotFound),
                    Some("none" | "refused") => Ok(id),
                    Some(_) => {
                        return fail(crate::web::i18n::either(
                            "Cette absence a déjà un justificatif.",
                            "This absence already has a justification.",
                        ));
                    }
                }
            }
            (_, d) if !d.is_empty() => {
                let Some(day) = Date::parse(d) else {
                    return fail(crate::web::i18n::either("Date invalide.", "Invalid date."));
                };
                match roll::absent_span(store.conn(), p.id, day)? {
                    Some(span) => Err(span),
                    None => {
                        return fail(crate::web::i18n::either(
                            "Aucune absence relevée ce jour-là.",
                            "No absence recorded on that day.",
                        ));
                    }
                }
            }
            _ => {
                return fail(crate::web::i18n::either(
                    "Choisissez l'absence à justifier.",
                    "Choose the absence to justify.",
                ));
            }
        };
        let now = DateTime::now_local().stamp();
        let by = signed.actor.login.clone();
        let me = signed.actor.person_id.ok_or(WebError::NotFound)?;
        // The file first (a name nobody can guess); its row with the rest.
        let stored = match &sent.file {
            Some((bytes, mime, ext)) => {
                let (rel, sha) = attachments::store(&web, &config, "justificatifs", bytes, ext)?;
                Some((rel, *mime, bytes.len() as u64, sha, *ext))
            }
            None => None,
        };
        let peer = signed.peer.to_string();
        let reason = sent.reason.trim().to_string();
        let comment = sent.comment.trim().to_string();
        store.write(|tx| {
            let event = match target {
                Ok(id) => id,
                Err((a, b)) => queries::add_absence(tx, p.id, a, b, None, "", &by, &now)?,
            };
            let attachment = match &stored {
                Some((rel, mime, n, sha, ext)) => Some(roll::add_attachment(
                    tx,
                    &format!("justificatif.{ext}"),
                    rel,
                    mime,
                    *n,
                    sha,
                    &by,
                    &now,
                )?),
                None => None,
            };
            let j = queries::justify(tx, event, me, &reason, &comment, attachment, &now)?;
            audit::record_in(
                tx,
                &by,
                &peer,
                "justificatif envoyé",
                &p.login,
                &format!(
                    "justificatif {j}, motif {reason}{}",
                    if attachment.is_some() { ", avec pièce" } else { "" }
                ),
            )?;
            Ok::<_, anyhow::Error>(())
        })?;
        Ok(crate::web::see_other(
            &format!("/vie-scolaire/eleves/{}/absences?envoye=1", p.login),
            &[],
        ))
    })
    .await
}

/// `GET /vie-scolaire/justificatifs/{id}/piece`: the file, as an
/// attachment, never sniffed by the browser.
pub async fn file(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(id): Path<i64>,
) -> Response {
    blocking(move || {
        let store = web.store()?;
        let Some((rel, mime)) = roll::justification_file(store.conn(), id)? else {
            return Err(WebError::NotFound);
        };
        let config = web.config();
        let Some(bytes) = attachments::load(&web, &config, &rel)? else {
            return Err(WebError::NotFound);
        };
        if office(&signed) {
            drop(store);
            let mut store = web.store()?;
            audit::record(
                &mut store,
                &signed.actor.login,
                &signed.peer.to_string(),
                "pièce d'un justificatif",
                &id.to_string(),
                "ouverte",
            )?;
        }
        let ext = rel.rsplit('.').next().unwrap_or("bin");
        Ok(attachments::serve(
            bytes,
            &mime,
            &format!("justificatif-{id}.{ext}"),
        ))
    })
    .await
}

#[derive(Template)]
#[template(path = "viescolaire/attendance_home.html")]
pub struct HomePage<'a> {
    pub page: &'a Page,
    /// (login, name).
    pub children: Vec<(String, String)>,
}

/// `GET /vie-scolaire/assiduite`: a student to his page, a parent to his
/// child's (or the list of his children).
pub async fn home(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    blocking(move || {
        if signed.actor.has(Role::Student) {
            return Ok(crate::web::see_other(
                &format!("/vie-scolaire/eleves/{}/absences", signed.actor.login),
                &[],
            ));
        }
        let store = web.store()?;
        let me = signed.actor.person_id.ok_or(WebError::NotFound)?;
        let legal = crate::modules::viescolaire::facts::load(store.conn(), me)?
            .map(|f| f.children)
            .unwrap_or_default();
        let children: Vec<(String, String)> = crate::directory::children_of(store.conn(), me)?
            .into_iter()
            .filter(|c| legal.contains(&c.id))
            .map(|c| (c.login.clone(), c.full_name()))
            .collect();
        if let [(login, _)] = children.as_slice() {
            return Ok(crate::web::see_other(
                &format!("/vie-scolaire/eleves/{login}/absences"),
                &[],
            ));
        }
        let chrome = chrome(
            &web,
            &signed,
            crate::web::i18n::either("Absences et retards", "Absences and late arrivals"),
            "/vie-scolaire/assiduite",
        );
        Ok(pages::render(&HomePage {
            page: &chrome,
            children,
        }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_in_french() {
        assert_eq!(
            span("2026-12-01T08:00", "2026-12-01T12:00"),
            "le 2026-12-01 de 08:00 à 12:00"
        );
        assert_eq!(
            span("2026-11-30T08:00", "2026-12-02T17:00"),
            "du 2026-11-30 08:00 au 2026-12-02 17:00"
        );
    }
}

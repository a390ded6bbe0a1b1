//! Report-card pages: a class's cards for print
//! (`/vie-scolaire/bulletins/{classe}`: live until the period is closed,
//! then the frozen copy), a student's card
//! (`/vie-scolaire/bulletins/eleve/{login}`: students and parents see only
//! closed ones), the subject teachers' comments (`…/appreciations/{matiere}`),
//! the head teacher's general comments and the council's decisions
//! (`…/conseil`), closing a period (`…/cloture`), the LSU file (`…/lsu`),
//! and the competences entry (`/vie-scolaire/competences/{classe}/{matiere}`).

use super::grades::{PeriodLink, audience_for, blocking, check_token, may, now, respond, year_and_period};
use crate::modules::viescolaire::queries::{self, Audience, Period, Year};
use crate::modules::viescolaire::report::{self, Card};
use crate::modules::viescolaire::{lsu, queries::marks as gq};
use crate::web::authz::Action;
use crate::web::errors::WebError;
use crate::web::forms::Path;
use crate::web::forms::{self, Fields};
use crate::web::pages::{self, Page};
use crate::web::{AppState, Signed, audit, i18n, see_other};
use askama::Template;
use axum::body::Body;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

/// A class's comment forms: 40 students × 3 fields of up to 600 characters.
const COMMENTS_BODY: usize = 1024 * 1024;
const COMMENTS_FIELDS: usize = 400;
/// Longest comment.
pub const MAX_COMMENT: usize = 600;
/// Council mentions (the usual French ones).
pub const MENTIONS: [&str; 6] = [
    "",
    "Encouragements",
    "Compliments",
    "Félicitations",
    "Mise en garde (travail)",
    "Mise en garde (comportement)",
];

fn chrome(web: &AppState, signed: &Signed, title: &str) -> Page {
    Page::signed(
        title,
        &web.config().establishment.name,
        signed,
        "/vie-scolaire/notes",
    )
}

fn class_of(conn: &rusqlite::Connection, code: &str) -> Result<crate::directory::Structure, WebError> {
    crate::directory::structure(conn, code)?
        .filter(|s| s.kind == crate::directory::StructureKind::Class)
        .ok_or(WebError::NotFound)
}

fn css() -> String {
    crate::web::assets::url("grades.css")
}

/// The cards of a class: frozen when the period is closed, else live.
fn cards_of(
    conn: &rusqlite::Connection,
    web: &AppState,
    year: &Year,
    period: &Period,
    class: &str,
) -> Result<(Vec<Card>, bool), WebError> {
    if let Some(cards) = report::frozen(conn, period, class)? {
        return Ok((cards, true));
    }
    Ok((
        report::build(conn, &web.config().viescolaire, year, period, class)?,
        false,
    ))
}

#[derive(Template)]
#[template(path = "viescolaire/report_cards.html")]
pub struct CardsPage<'a> {
    pub page: &'a Page,
    pub heading: String,
    pub establishment: String,
    pub periods: Vec<PeriodLink>,
    pub period_number: i64,
    pub class: String,
    pub cards: Vec<Card>,
    pub frozen: bool,
    pub notice: Option<String>,
    pub may_close: bool,
    pub may_council: bool,
    pub may_lsu: bool,
    pub may_coefficients: bool,
    pub css: String,
}

/// `GET /vie-scolaire/bulletins/{classe}`.
pub async fn class_cards(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(class): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    respond(
        blocking(move || {
            let store = web.store()?;
            let conn = store.conn();
            class_of(conn, &class)?;
            let (year, period, periods) = year_and_period(conn, &q)?;
            let (cards, frozen) = cards_of(conn, &web, &year, &period, &class)?;
            let page = chrome(
                &web,
                &signed,
                &format!("{} {class}", i18n::either("Bulletins", "Report cards")),
            );
            let notice = match q.get("fait").map(String::as_str) {
                Some("cloture") => Some(
                    i18n::either(
                        "La période est close : les bulletins sont figés.",
                        "The period is closed: the report cards are frozen.",
                    )
                    .to_string(),
                ),
                _ => None,
            };
            Ok(pages::render(&CardsPage {
                page: &page,
                heading: format!(
                    "{} {class} — {}",
                    i18n::either("Bulletins de", "Report cards of"),
                    period.label
                ),
                establishment: web.config().establishment.name.clone(),
                periods,
                period_number: period.number,
                may_close: !frozen && may(&signed, &Action::ClosePeriod { class: class.clone() }),
                may_council: !frozen && may(&signed, &Action::GeneralComments { class: class.clone() }),
                may_lsu: frozen && may(&signed, &Action::LsuExport { class: class.clone() }),
                may_coefficients: may(&signed, &Action::SetCoefficients { class: class.clone() }),
                class,
                cards,
                frozen,
                notice,
                css: css(),
            }))
        })
        .await,
    )
}

/// `GET /vie-scolaire/bulletins/eleve/{login}`: the student's card; for
/// students and parents only once the period is closed.
pub async fn student_card(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(login): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    respond(
        blocking(move || {
            let store = web.store()?;
            let conn = store.conn();
            let p = crate::directory::person_by_login(conn, &login)?.ok_or(WebError::NotFound)?;
            let (year, period, periods) = year_and_period(conn, &q)?;
            let frozen = queries::frozen_card(conn, period.id, p.id)?
                .map(serde_json::from_value::<Card>)
                .transpose()
                .map_err(|e| WebError::Internal(e.into()))?;
            let staff = audience_for(&signed, &login, now()) == Audience::All;
            let (cards, is_frozen) = match frozen {
                Some(c) => (vec![c], true),
                None if staff => {
                    let class = crate::directory::class_of(conn, p.id)?.ok_or(WebError::NotFound)?;
                    let mut all =
                        report::build(conn, &web.config().viescolaire, &year, &period, &class.code)?;
                    all.retain(|c| c.student_id == p.id);
                    (all, false)
                }
                None => (Vec::new(), false),
            };
            let page = chrome(&web, &signed, i18n::either("Bulletin", "Report card"));
            Ok(pages::render(&CardsPage {
                page: &page,
                heading: format!(
                    "{} {} — {}",
                    i18n::either("Bulletin de", "Report card of"),
                    p.full_name(),
                    period.label
                ),
                establishment: web.config().establishment.name.clone(),
                periods,
                period_number: period.number,
                class: String::new(),
                cards,
                frozen: is_frozen,
                notice: None,
                may_close: false,
                may_council: false,
                may_lsu: false,
                may_coefficients: false,
                css: css(),
            }))
        })
        .await,
    )
}

// ------------------------------------------------------------ comments

/// One student's line of a comment form.
#[derive(Debug, Clone)]
pub struct CommentRow {
    pub student_id: i64,
    pub name: String,
    pub average: String,
    pub comment: String,
    pub decision: String,
    pub mention: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "viescolaire/comments.html")]
pub struct CommentsPage<'a> {
    pub page: &'a Page,
    pub heading: String,
    pub action: String,
    pub periods: Vec<PeriodLink>,
    pub period_number: i64,
    /// The council's page: decision and mention too.
    pub council: bool,
    pub rows: Vec<CommentRow>,
    pub mentions: &'static [&'static str],
    pub notice: Option<String>,
    pub error: Option<String>,
    pub frozen: bool,
}

/// Who writes: a subject's comments, or the general comment and council.
#[derive(Debug, Clone)]
enum Which {
    Subject(String),
    General,
}

fn comment_rows(
    conn: &rusqlite::Connection,
    web: &AppState,
    year: &Year,
    period: &Period,
    class: &str,
    which: &Which,
) -> Result<(Vec<CommentRow>, bool), WebError> {
    let (cards, frozen) = cards_of(conn, web, year, period, class)?;
    let rows = cards
        .iter()
        .map(|c| {
            let (average, comment) = match which {
                Which::Subject(code) => {
                    let s = c.subjects.iter().find(|s| &s.code == code);
                    (
                        s.and_then(|s| s.average.clone()).unwrap_or_default(),
                        s.and_then(|s| s.comment.clone()).unwrap_or_default(),
                    )
                }
                Which::General => (
                    c.overall.clone().unwrap_or_default(),
                    c.general_comment.clone().unwrap_or_default(),
                ),
            };
            CommentRow {
                student_id: c.student_id,
                name: format!("{} {}", c.last_name, c.first_name),
                average,
                comment,
                decision: c.council_decision.clone().unwrap_or_default(),
                mention: c.council_mention.clone().unwrap_or_default(),
                error: None,
            }
        })
        .collect();
    Ok((rows, frozen))
}

fn comments_page(
    web: &AppState,
    signed: &Signed,
    class: &str,
    which: &Which,
    q: &HashMap<String, String>,
    posted: Option<(&Fields, Vec<(i64, String)>)>,
) -> Result<Response, WebError> {
    let store = web.store()?;
    let conn = store.conn();
    class_of(conn, class)?;
    let (year, period, periods) = year_and_period(conn, q)?;
    let (mut rows, frozen) = comment_rows(conn, web, &year, &period, class, which)?;
    let failed = posted.is_some();
    if let Some((fields, errors)) = posted {
        for r in &mut rows {
            r.comment = fields.get(&format!("a-{}", r.student_id)).to_string();
            r.decision = fields.get(&format!("d-{}", r.student_id)).to_string();
            r.mention = fields.get(&format!("m-{}", r.student_id)).to_string();
            r.error = errors.iter().find(|e| e.0 == r.student_id).map(|e| e.1.clone());
        }
    }
    let (heading, action) = match which {
        Which::Subject(code) => (
            format!(
                "{} {} — {class} — {}",
                i18n::either("Appréciations de", "Comments of"),
                gq::subject_label(conn, code)?,
                period.label
            ),
            format!("/vie-scolaire/bulletins/{class}/appreciations/{code}"),
        ),
        Which::General => (
            format!(
                "{} {class} — {}",
                i18n::either("Conseil de classe de", "Class council of"),
                period.label
            ),
            format!("/vie-scolaire/bulletins/{class}/conseil"),
        ),
    };
    let page = chrome(web, signed, i18n::either("Appréciations", "Comments"));
    let mut r = pages::render(&CommentsPage {
        page: &page,
        heading,
        action,
        periods,
        period_number: period.number,
        council: matches!(which, Which::General),
        rows,
        mentions: &MENTIONS,
        notice: q.contains_key("fait").then(|| {
            i18n::either("Les appréciations sont enregistrées.", "The comments are saved.").to_string()
        }),
        error: failed.then(|| {
            i18n::either(
                "Des appréciations sont refusées : rien n'a été enregistré.",
                "Some comments are refused: nothing was saved.",
            )
            .to_string()
        }),
        frozen,
    });
    if failed {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

/// Checks a comment form (pure): per student (comment, decision,
/// mention), or the errors by student.
#[allow(clippy::type_complexity)]
pub fn comments_form(
    fields: &Fields,
    students: &[i64],
    council: bool,
) -> Result<Vec<(i64, String, String, String)>, Vec<(i64, String)>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for s in students {
        let comment = fields.get(&format!("a-{s}")).trim().to_string();
        let decision = fields.get(&format!("d-{s}")).trim().to_string();
        let mention = fields.get(&format!("m-{s}")).trim().to_string();
        if comment.chars().count() > MAX_COMMENT {
            errors.push((
                *s,
                format!("appréciation trop longue (au plus {MAX_COMMENT} caractères)"),
            ));
        } else if council && decision.chars().count() > 200 {
            errors.push((*s, "décision trop longue (au plus 200 caractères)".to_string()));
        } else if council && !MENTIONS.contains(&mention.as_str()) {
            errors.push((*s, "mention inconnue".to_string()));
        } else {
            out.push((*s, comment, decision, mention));
        }
    }
    let known: std::collections::HashSet<String> = students
        .iter()
        .flat_map(|s| [format!("a-{s}"), format!("d-{s}"), format!("m-{s}")])
        .collect();
    if fields.iter().any(|(k, _)| {
        (k.starts_with("a-") || k.starts_with("d-") || k.starts_with("m-")) && !known.contains(k)
    }) {
        errors.push((0, "un élève du formulaire n'est pas de cette classe".to_string()));
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

async fn comments_get(
    web: AppState,
    signed: Arc<Signed>,
    class: String,
    which: Which,
    q: HashMap<String, String>,
) -> Response {
    respond(blocking(move || comments_page(&web, &signed, &class, &which, &q, None)).await)
}

async fn comments_post(
    web: AppState,
    signed: Arc<Signed>,
    class: String,
    which: Which,
    body: Body,
) -> Response {
    let fields = match forms::read_with(body, COMMENTS_BODY, COMMENTS_FIELDS).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    respond(
        blocking(move || {
            check_token(&signed, &fields)?;
            let me = signed.actor.person_id.ok_or(WebError::NotFound)?;
            let q: HashMap<String, String> = [("periode".to_string(), fields.get("periode").to_string())]
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .collect();
            let mut store = web.store()?;
            let c = class_of(store.conn(), &class)?;
            let (_year, period, _) = year_and_period(store.conn(), &q)?;
            if report::frozen(store.conn(), &period, &class)?.is_some() {
                return Err(WebError::BadRequest(
                    "Cette période est close pour la classe : les bulletins ne changent plus.".into(),
                ));
            }
            let students: Vec<i64> = queries::roster(store.conn(), c.id)?.iter().map(|r| r.0).collect();
            let council = matches!(which, Which::General);
            let lines = match comments_form(&fields, &students, council) {
                Ok(l) => l,
                Err(errors) => {
                    drop(store);
                    return comments_page(&web, &signed, &class, &which, &q, Some((&fields, errors)));
                }
            };
            let stamp = now().stamp();
            let login = signed.actor.login.clone();
            let subject = match &which {
                Which::Subject(s) => s.clone(),
                Which::General => String::new(),
            };
            let n = store.write(|tx| {
                let mut n = 0;
                for (s, comment, decision, mention) in &lines {
                    let current = queries::comments(tx, period.id, *s)?
                        .get(&subject)
                        .cloned()
                        .unwrap_or_default();
                    if &current != comment {
                        queries::set_comment(tx, period.id, *s, &subject, me, comment, &stamp)?;
                        n += 1;
                    }
                    if council {
                        let now_c = queries::council(tx, period.id, *s)?.unwrap_or_default();
                        if (&now_c.0, &now_c.1) != (decision, mention) {
                            queries::set_council(tx, period.id, *s, decision, mention, &login, &stamp)?;
                            n += 1;
                        }
                    }
                }
                Ok::<_, anyhow::Error>(n)
            })?;
            audit::record(
                &mut store,
                &signed.actor.login,
                &signed.peer.to_string(),
                if council {
                    "appréciation générale et conseil"
                } else {
                    "appréciations"
                },
                &format!("{class} {subject} période {}", period.number),
                &format!("{n} changement(s)"),
            )?;
            let to = match &which {
                Which::Subject(s) => format!("/vie-scolaire/bulletins/{class}/appreciations/{s}"),
                Which::General => format!("/vie-scolaire/bulletins/{class}/conseil"),
            };
            Ok(see_other(&format!("{to}?periode={}&fait=1", period.number), &[]))
        })
        .await,
    )
}

/// `GET /vie-scolaire/bulletins/{classe}/appreciations/{matiere}`.
pub async fn subject_comments(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path((class, subject)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    comments_get(web, signed, class, Which::Subject(subject), q).await
}

/// `POST /vie-scolaire/bulletins/{classe}/appreciations/{matiere}`.
pub async fn save_subject_comments(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path((class, subject)): Path<(String, String)>,
    body: Body,
) -> Response {
    comments_post(web, signed, class, Which::Subject(subject), body).await
}

/// `GET /vie-scolaire/bulletins/{classe}/conseil`.
pub async fn general_comments(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(class): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    comments_get(web, signed, class, Which::General, q).await
}

/// `POST /vie-scolaire/bulletins/{classe}/conseil`.
pub async fn save_general_comments(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(class): Path<String>,
    body: Body,
) -> Response {
    comments_post(web, signed, class, Which::General, body).await
}

/// `POST /vie-scolaire/bulletins/{classe}/cloture` (`periode`): freezes
/// the cards of the period.
pub async fn close(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(class): Path<String>,
    body: Body,
) -> Response {
    let fields = match forms::read(body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    respond(
        blocking(move || {
            check_token(&signed, &fields)?;
            let q: HashMap<String, String> =
                [("periode".to_string(), fields.get("periode").to_string())].into();
            let mut store = web.store()?;
            class_of(store.conn(), &class)?;
            let (year, period, _) = year_and_period(store.conn(), &q)?;
            if report::frozen(store.conn(), &period, &class)?.is_some() {
                return Err(WebError::BadRequest(
                    "Cette période est déjà close pour cette classe.".into(),
                ));
            }
            let n = report::close(
                &mut store,
                &web.config().viescolaire,
                &year,
                &period,
                &class,
                &signed.actor.login,
                &now().stamp(),
            )?;
            audit::record(
                &mut store,
                &signed.actor.login,
                &signed.peer.to_string(),
                "clôture de période",
                &format!("{class} période {}", period.number),
                &format!("{n} bulletin(s) figé(s)"),
            )?;
            Ok(see_other(
                &format!(
                    "/vie-scolaire/bulletins/{class}?periode={}&fait=cloture",
                    period.number
                ),
                &[],
            ))
        })
        .await,
    )
}

#[derive(Template)]
#[template(path = "viescolaire/lsu.html")]
pub struct LsuPage<'a> {
    pub page: &'a Page,
    pub heading: String,
    pub back: String,
    pub closed: bool,
    /// What is missing ([`lsu::missing_list`]): its sentence and items.
    pub missing_heading: String,
    pub missing: Vec<String>,
}

/// `GET /vie-scolaire/bulletins/{classe}/lsu`: the LSU file of a closed
/// period, or what is missing.
pub async fn lsu_export(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(class): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    respond(
        blocking(move || {
            let store = web.store()?;
            let conn = store.conn();
            class_of(conn, &class)?;
            let (year, period, _) = year_and_period(conn, &q)?;
            let config = web.config();
            let back = format!("/vie-scolaire/bulletins/{class}?periode={}", period.number);
            let page = chrome(&web, &signed, i18n::either("Export LSU", "LSU export"));
            let heading = format!(
                "{} {class} — {}",
                i18n::either("Export LSU de", "LSU export of"),
                period.label
            );
            let Some(cards) = report::frozen(conn, &period, &class)? else {
                let mut r = pages::render(&LsuPage {
                    page: &page,
                    heading,
                    back,
                    closed: false,
                    missing_heading: String::new(),
                    missing: Vec::new(),
                });
                *r.status_mut() = StatusCode::CONFLICT;
                return Ok(r);
            };
            let ctx = lsu::Context {
                uai: &config.establishment.uai,
                principal: lsu::principal(conn)?,
                millesime: year.starts.parts().0.to_string(),
                periods: queries::periods(conn, year.id)?.len(),
                year_starts: year.starts.to_string(),
            };
            match lsu::export(&ctx, &cards) {
                Ok(xml) => {
                    let mut r = xml.into_response();
                    let h = r.headers_mut();
                    h.insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/xml; charset=utf-8"),
                    );
                    let name = format!(
                        "lsu-{}-periode-{}.xml",
                        class.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
                        period.number
                    );
                    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
                        h.insert(header::CONTENT_DISPOSITION, v);
                    }
                    Ok(r)
                }
                Err(missing) => {
                    let (missing_heading, missing) = lsu::missing_list(&missing);
                    let mut r = pages::render(&LsuPage {
                        page: &page,
                        heading,
                        back,
                        closed: true,
                        missing_heading,
                        missing,
                    });
                    *r.status_mut() = StatusCode::CONFLICT;
                    Ok(r)
                }
            }
        })
        .await,
    )
}

// ------------------------------------------------------------ competences

/// One student's line of the competences grid.
#[derive(Debug, Clone)]
pub struct CompetenceRow {
    pub student_id: i64,
    pub name: String,
    /// (competence code, level 0–4).
    pub levels: Vec<(String, u8)>,
}

#[derive(Template)]
#[template(path = "viescolaire/competences.html")]
pub struct CompetencesPage<'a> {
    pub page: &'a Page,
    pub heading: String,
    pub action: String,
    pub periods: Vec<PeriodLink>,
    pub period_number: i64,
    /// (code, label).
    pub competences: Vec<(String, String)>,
    pub rows: Vec<CompetenceRow>,
    pub levels: &'static [&'static str; 4],
    pub notice: Option<String>,
    pub css: String,
    /// The evaluations of the subject in the class this period: (id,
    /// title, chosen); none chosen: the whole period.
    pub evaluations: EvalChoices,
    pub evaluation: i64,
}

/// Evaluations offered on a competences page: (id, label, chosen).
type EvalChoices = Vec<(i64, String, bool)>;

/// The evaluation a competences page positions on (`evaluation` field or
/// query, 0 or absent: the whole period); it must be of this subject, in
/// this class or one of its groups, in this period.
fn chosen_evaluation(
    conn: &rusqlite::Connection,
    raw: Option<&str>,
    class: &str,
    subject: &str,
    period: &Period,
) -> Result<(i64, EvalChoices), WebError> {
    let structures = gq::class_structures(conn, class)?;
    let mut list = Vec::new();
    for code in &structures {
        if let Some(st) = crate::directory::structure(conn, code)? {
            list.extend(gq::evaluations(conn, period.id, st.id, subject)?);
        }
    }
    let id = match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => 0,
        Some(r) => r
            .parse::<i64>()
            .map_err(|_| WebError::BadRequest("Évaluation invalide.".into()))?,
    };
    if id != 0 && !list.iter().any(|e| e.id == id) {
        return Err(WebError::BadRequest(
            "Cette évaluation n'est pas de cette matière, de cette classe et de cette période.".into(),
        ));
    }
    Ok((
        id,
        list.into_iter()
            .map(|e| (e.id, format!("{} ({})", e.title, e.date), e.id == id))
            .collect(),
    ))
}

/// `GET /vie-scolaire/competences/{classe}/{matiere}[?evaluation=ID]`:
/// the positioning on the socle's components and the subject's
/// competences, for the period or for one evaluation.
pub async fn competences(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path((class, subject)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    respond(
        blocking(move || {
            let store = web.store()?;
            let conn = store.conn();
            let c = class_of(conn, &class)?;
            let (_y, period, periods) = year_and_period(conn, &q)?;
            let competences = gq::competences_for(conn, &subject)?;
            let roster = queries::roster(conn, c.id)?;
            let ids: Vec<i64> = roster.iter().map(|r| r.0).collect();
            let (evaluation, evaluations) = chosen_evaluation(
                conn,
                q.get("evaluation").map(String::as_str),
                &class,
                &subject,
                &period,
            )?;
            let levels = gq::period_levels(conn, period.id, evaluation, &ids)?;
            let rows = roster
                .iter()
                .map(|(id, last, first)| CompetenceRow {
                    student_id: *id,
                    name: format!("{last} {first}"),
                    levels: competences
                        .iter()
                        .map(|(code, _)| {
                            (
                                code.clone(),
                                levels.get(&(*id, code.clone())).copied().unwrap_or(0),
                            )
                        })
                        .collect(),
                })
                .collect();
            let page = chrome(&web, &signed, i18n::either("Compétences", "Skills"));
            Ok(pages::render(&CompetencesPage {
                page: &page,
                heading: format!(
                    "{} — {class} — {} — {}",
                    i18n::either("Compétences", "Skills"),
                    gq::subject_label(conn, &subject)?,
                    period.label
                ),
                action: format!("/vie-scolaire/competences/{class}/{subject}"),
                periods,
                period_number: period.number,
                competences,
                rows,
                levels: super::grades::levels_shown(),
                notice: q.contains_key("fait").then(|| {
                    i18n::either(
                        "Les positionnements sont enregistrés.",
                        "The assessments are saved.",
                    )
                    .to_string()
                }),
                css: css(),
                evaluations,
                evaluation,
            }))
        })
        .await,
    )
}

/// Checks the competences form (pure): `c-{student}-{code}` = 0–4 (0 or
/// empty: not positioned).
#[allow(clippy::type_complexity)]
pub fn competences_form(
    fields: &Fields,
    students: &[i64],
    codes: &[String],
) -> Result<Vec<(i64, String, Option<u8>)>, String> {
    let mut out = Vec::new();
    for (k, v) in fields.iter() {
        let Some(rest) = k.strip_prefix("c-") else {
            continue;
        };
        let Some((s, code)) = rest.split_once('-') else {
            return Err("case de compétence illisible".into());
        };
        let s: i64 = s
            .parse()
            .map_err(|_| "case de compétence illisible".to_string())?;
        if !students.contains(&s) {
            return Err("un élève du formulaire n'est pas de cette classe".into());
        }
        if !codes.iter().any(|c| c == code) {
            return Err(format!("compétence inconnue : {code}"));
        }
        let level = match v.trim() {
            "" | "0" => None,
            "1" => Some(1),
            "2" => Some(2),
            "3" => Some(3),
            "4" => Some(4),
            other => return Err(format!("niveau « {other} » inconnu : de 1 à 4")),
        };
        out.push((s, code.to_string(), level));
    }
    Ok(out)
}

/// `POST /vie-scolaire/competences/{classe}/{matiere}`.
pub async fn save_competences(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path((class, subject)): Path<(String, String)>,
    body: Body,
) -> Response {
    let fields = match forms::read_with(body, COMMENTS_BODY, 1000).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    respond(
        blocking(move || {
            check_token(&signed, &fields)?;
            let q: HashMap<String, String> = [("periode".to_string(), fields.get("periode").to_string())]
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .collect();
            let mut store = web.store()?;
            let c = class_of(store.conn(), &class)?;
            let (_y, period, _) = year_and_period(store.conn(), &q)?;
            let (evaluation, _) = chosen_evaluation(
                store.conn(),
                Some(fields.get("evaluation")),
                &class,
                &subject,
                &period,
            )?;
            let codes: Vec<String> = gq::competences_for(store.conn(), &subject)?
                .into_iter()
                .map(|c| c.0)
                .collect();
            let students: Vec<i64> = queries::roster(store.conn(), c.id)?.iter().map(|r| r.0).collect();
            let lines = competences_form(&fields, &students, &codes).map_err(WebError::BadRequest)?;
            let stamp = now().stamp();
            let login = signed.actor.login.clone();
            let n = store.write(|tx| {
                let mut n = 0;
                for (s, code, level) in &lines {
                    n += gq::set_period_level(tx, *s, code, period.id, evaluation, *level, &login, &stamp)?
                        as usize;
                }
                Ok::<_, anyhow::Error>(n)
            })?;
            audit::record(
                &mut store,
                &signed.actor.login,
                &signed.peer.to_string(),
                "compétences",
                &format!(
                    "{class} {subject} période {} évaluation {evaluation}",
                    period.number
                ),
                &format!("{n} positionnement(s) changé(s)"),
            )?;
            Ok(see_other(
                &format!(
                    "/vie-scolaire/competences/{class}/{subject}?periode={}&evaluation={evaluation}&fait=1",
                    period.number
                ),
                &[],
            ))
        })
        .await,
    )
}

// ------------------------------------------------------------ coefficients

#[derive(Template)]
#[template(path = "viescolaire/coefficients.html")]
pub struct CoefficientsPage<'a> {
    pub page: &'a Page,
    pub heading: String,
    pub action: String,
    /// (code, label, coefficient as shown).
    pub subjects: Vec<(String, String, String)>,
    /// (student id, name).
    pub students: Vec<(i64, String)>,
    /// (name, subject label, coefficient).
    pub overrides: Vec<(String, String, String)>,
    pub notice: Option<String>,
    pub error: Option<String>,
}

fn coefficients_page(
    web: &AppState,
    signed: &Signed,
    class: &str,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, WebError> {
    let store = web.store()?;
    let conn = store.conn();
    let c = class_of(conn, class)?;
    let subjects = gq::class_subjects(conn, c.id)?;
    let labels: HashMap<String, String> = subjects.iter().map(|s| (s.0.clone(), s.1.clone())).collect();
    let page = chrome(web, signed, "Coefficients");
    let bad = error.is_some();
    let mut r = pages::render(&CoefficientsPage {
        page: &page,
        heading: format!(
            "{} — {class}",
            i18n::either("Coefficients des matières", "Coefficients of the subjects")
        ),
        action: format!("/vie-scolaire/bulletins/{class}/coefficients"),
        subjects: subjects
            .iter()
            .map(|(code, label, k)| {
                (
                    code.clone(),
                    label.clone(),
                    crate::modules::viescolaire::grades::show_hundredths(*k),
                )
            })
            .collect(),
        students: queries::roster(conn, c.id)?
            .into_iter()
            .map(|(id, last, first)| (id, format!("{last} {first}")))
            .collect(),
        overrides: gq::student_coefficients(conn, c.id)?
            .into_iter()
            .map(|(_, name, code, k)| {
                (
                    name,
                    labels.get(&code).cloned().unwrap_or(code),
                    crate::modules::viescolaire::grades::show_hundredths(k),
                )
            })
            .collect(),
        notice,
        error,
    });
    if bad {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

/// `GET /vie-scolaire/bulletins/{classe}/coefficients`.
pub async fn coefficients(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(class): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let notice = q.contains_key("fait").then(|| {
        i18n::either(
            "Les coefficients sont enregistrés.",
            "The coefficients are saved.",
        )
        .to_string()
    });
    respond(blocking(move || coefficients_page(&web, &signed, &class, notice, None)).await)
}

/// A coefficient as typed: 0 to 99, two decimals at most (pure).
pub fn coefficient_fr(s: &str) -> Result<u32, String> {
    crate::modules::viescolaire::grades::parse_hundredths(s)
        .filter(|k| *k <= 9900)
        .ok_or_else(|| {
            format!(
                "« {} » n'est pas un coefficient : un nombre de 0 à 99, deux décimales au plus",
                s.trim()
            )
        })
}

/// `POST /vie-scolaire/bulletins/{classe}/coefficients`: the class's
/// coefficients (`quoi=classe`, `k-{matiere}`) or one student's own
/// (`quoi=eleve`, `eleve`, `matiere`, `coefficient`; empty removes it).
/// A class coefficient changed once marks exist is shown to the class.
pub async fn save_coefficients(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(class): Path<String>,
    body: Body,
) -> Response {
    let fields = match forms::read(body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    respond(
        blocking(move || {
            check_token(&signed, &fields)?;
            let mut store = web.store()?;
            let c = class_of(store.conn(), &class)?;
            let subjects = gq::class_subjects(store.conn(), c.id)?;
            let stamp = now().stamp();
            let login = signed.actor.login.clone();
            let outcome: Result<String, String> = match fields.get("quoi") {
                "classe" => {
                    let mut changes = Vec::new();
                    let mut errors = Vec::new();
                    for (code, label, current) in &subjects {
                        let v = fields.get(&format!("k-{code}"));
                        match coefficient_fr(v) {
                            Ok(k) if k != *current => changes.push((code.clone(), k)),
                            Ok(_) => {}
                            Err(e) => errors.push(format!("{label} : {e}")),
                        }
                    }
                    if errors.is_empty() {
                        store.write(|tx| {
                            for (code, k) in &changes {
                                queries::set_subject_coefficient(tx, c.id, code, *k, &login, &stamp)?;
                            }
                            Ok::<_, anyhow::Error>(())
                        })?;
                        Ok(format!("{} coefficient(s) de classe changé(s)", changes.len()))
                    } else {
                        Err(errors.join(" ; "))
                    }
                }
                "eleve" => {
                    let student = fields.get("eleve").parse::<i64>().ok().filter(|s| {
                        queries::roster(store.conn(), c.id).is_ok_and(|r| r.iter().any(|x| x.0 == *s))
                    });
                    let subject = subjects.iter().find(|s| s.0 == fields.get("matiere"));
                    let typed = fields.get("coefficient").trim();
                    match (student, subject) {
                        (None, _) => Err("Choisissez un élève de la classe.".into()),
                        (_, None) => Err("Choisissez une matière de la classe.".into()),
                        (Some(s), Some((code, label, _))) if typed.is_empty() => {
                            store.write(|tx| gq::clear_student_coefficient(tx, s, code))?;
                            Ok(format!("coefficient propre retiré ({label}, élève {s})"))
                        }
                        (Some(s), Some((code, label, _))) => match coefficient_fr(typed) {
                            Ok(k) => {
                                store.write(|tx| queries::set_student_coefficient(tx, s, code, k))?;
                                Ok(format!("coefficient propre {typed} ({label}, élève {s})"))
                            }
                            Err(e) => Err(e),
                        },
                    }
                }
                _ => Err("Formulaire incomplet : rechargez la page.".into()),
            };
            match outcome {
                Ok(what) => {
                    audit::record(
                        &mut store,
                        &signed.actor.login,
                        &signed.peer.to_string(),
                        "coefficients des matières",
                        &class,
                        &what,
                    )?;
                    Ok(see_other(
                        &format!("/vie-scolaire/bulletins/{class}/coefficients?fait=1"),
                        &[],
                    ))
                }
                Err(e) => {
                    drop(store);
                    coefficients_page(&web, &signed, &class, None, Some(e))
                }
            }
        })
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(s: &str) -> Fields {
        forms::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn the_comment_forms() {
        let f = fields("a-1=Bon+trimestre&a-2=&d-1=Passage&m-1=F%C3%A9licitations");
        let ok = comments_form(&f, &[1, 2], true).unwrap();
        assert_eq!(
            ok[0],
            (
                1,
                "Bon trimestre".into(),
                "Passage".into(),
                "Félicitations".into()
            )
        );
        assert_eq!(ok[1], (2, String::new(), String::new(), String::new()));
        let long = format!("a-1={}", "x".repeat(MAX_COMMENT + 1));
        assert!(
            comments_form(&fields(&long), &[1], false).unwrap_err()[0]
                .1
                .contains("trop longue")
        );
        assert!(
            comments_form(&fields("m-1=Bravo"), &[1], true).unwrap_err()[0]
                .1
                .contains("mention")
        );
        assert!(
            comments_form(&fields("a-9=x"), &[1], false).is_err(),
            "a stranger"
        );
    }

    #[test]
    fn coefficients_typed() {
        assert_eq!(coefficient_fr("2"), Ok(200));
        assert_eq!(coefficient_fr("0,5"), Ok(50));
        assert_eq!(coefficient_fr("99"), Ok(9900));
        assert!(coefficient_fr("99.5").unwrap_err().contains("de 0 à 99"));
        assert!(
            coefficient_fr("-1").is_err() && coefficient_fr("").is_err() && coefficient_fr("deux").is_err()
        );
    }

    #[test]
    fn the_competences_form() {
        let codes = vec!["CPD_FRA".to_string(), "MET_APP".to_string()];
        let ok = competences_form(&fields("c-1-CPD_FRA=3&c-1-MET_APP=&csrf=x"), &[1], &codes).unwrap();
        assert_eq!(ok, [(1, "CPD_FRA".into(), Some(3)), (1, "MET_APP".into(), None)]);
        assert!(
            competences_form(&fields("c-1-CPD_FRA=5"), &[1], &codes)
                .unwrap_err()
                .contains("1 à 4")
        );
        assert!(competences_form(&fields("c-2-CPD_FRA=1"), &[1], &codes).is_err());
        assert!(competences_form(&fields("c-1-XXX=1"), &[1], &codes).is_err());
    }
}

//! The grade pages: a teacher's services (`/vie-scolaire/notes`), the
//! marks grid of a service (`/vie-scolaire/notes/{classe}/{matiere}`:
//! every evaluation of the period as a column, saved cell by cell by
//! `grades.js` or whole as a plain form), an evaluation's edit form and
//! history (`/vie-scolaire/notes/evaluations/{id}`), one cell
//! (`…/cellule`, JSON), and a student's marks (`/vie-scolaire/notes/eleve/{login}`).
//! Forms are checked by the pure functions at the end ([`evaluation_form`],
//! [`mark_fr`]); nothing is stored unless the whole form is right.

use crate::modules::viescolaire::calendar::{Date, DateTime, Time};
use crate::modules::viescolaire::grades::{self, EvalKind, Mark, Q};
use crate::modules::viescolaire::queries::marks::{self as gq, Evaluation, EvaluationEdit};
use crate::modules::viescolaire::queries::{self, Audience, NewEvaluation, Period, Year};
use crate::modules::viescolaire::report;
use crate::modules::viescolaire::settings::VieScolaireSettings;
use crate::modules::viescolaire::timetable::Service;
use crate::web::authz::{self, Action, Role};
use crate::web::errors::WebError;
use crate::web::forms::Path;
use crate::web::forms::{self, Fields};
use crate::web::pages::{self, Page};
use crate::web::{AppState, Signed, audit, csrf, i18n, see_other};
use askama::Template;
use axum::Json;
use axum::body::Body;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Largest grid form: 40 students × 20 evaluations of short values.
pub const GRID_BODY: usize = 256 * 1024;
pub const GRID_FIELDS: usize = 1000;

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    crate::web::i18n::spawn_blocking(f)
        .await
        .map_err(|e| WebError::Internal(anyhow::anyhow!("{e}")))?
}

pub(super) fn respond(r: Result<Response, WebError>) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

/// The form token check every post makes.
pub(super) fn check_token(signed: &Signed, fields: &Fields) -> Result<(), WebError> {
    if csrf::matches(&signed.session.csrf, fields.get("csrf")) {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "Le formulaire a expiré : rechargez la page et recommencez.".into(),
        ))
    }
}

/// Whether the signed-in person may do `action` (links shown or not).
pub(super) fn may(signed: &Signed, action: &Action) -> bool {
    authz::decide(&signed.actor, action, &signed.facts).allowed()
}

pub(super) fn now() -> DateTime {
    DateTime::now_local()
}

/// A shown figure ("12.35"), or "" when there is none.
pub(super) fn shown(q: &Option<Q>, s: &VieScolaireSettings) -> String {
    q.as_ref()
        .map(|q| grades::round(q, s.rounding_step, s.rounding_mode).format(s.rounding_step))
        .unwrap_or_default()
}

/// One period link of a page.
#[derive(Debug, Clone)]
pub struct PeriodLink {
    pub number: i64,
    pub label: String,
    pub current: bool,
}

/// The year, the period asked for (`?periode=N`) and the period links.
pub(super) fn year_and_period(
    conn: &rusqlite::Connection,
    q: &HashMap<String, String>,
) -> Result<(Year, Period, Vec<PeriodLink>), WebError> {
    let today = now().date;
    let year = queries::current_year(conn, today)?.ok_or_else(|| {
        WebError::BadRequest(
            "Aucune année scolaire n'est définie : la direction doit d'abord la créer.".into(),
        )
    })?;
    let number = match q.get("periode") {
        None => None,
        Some(n) => Some(
            n.parse::<i64>()
                .map_err(|_| WebError::BadRequest("Période invalide.".into()))?,
        ),
    };
    let period =
        gq::pick_period(conn, &year, number, today).map_err(|e| WebError::BadRequest(format!("{e}")))?;
    let links = queries::periods(conn, year.id)?
        .into_iter()
        .map(|p| PeriodLink {
            current: p.id == period.id,
            number: p.number,
            label: p.label,
        })
        .collect();
    Ok((year, period, links))
}

fn chrome(web: &AppState, signed: &Signed, title: &str) -> Page {
    Page::signed(
        title,
        &web.config().establishment.name,
        signed,
        "/vie-scolaire/notes",
    )
}

// ------------------------------------------------------------ my services

/// One service of a teacher.
#[derive(Debug, Clone)]
pub struct ServiceRow {
    pub structure: String,
    pub subject: String,
    pub subject_label: String,
    pub evaluations: usize,
    /// Comments and competences exist for services of a class.
    pub class: Option<String>,
}

#[derive(Template)]
#[template(path = "viescolaire/grades_home.html")]
pub struct HomePage<'a> {
    pub page: &'a Page,
    pub periods: Vec<PeriodLink>,
    pub period: String,
    pub services: Vec<ServiceRow>,
    /// Classes he is head teacher of.
    pub head_of: Vec<String>,
}

/// `GET /vie-scolaire/notes`.
pub async fn home(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    respond(
        blocking(move || {
            let me = signed.actor.person_id.ok_or(WebError::NotFound)?;
            let store = web.store()?;
            let conn = store.conn();
            let (_year, period, periods) = year_and_period(conn, &q)?;
            let mut services = Vec::new();
            for s in crate::directory::services(conn, Some(me))? {
                let st = crate::directory::structure(conn, &s.structure_code)?.ok_or(WebError::NotFound)?;
                let n = gq::evaluations(conn, period.id, st.id, &s.subject_code)?.len();
                services.push(ServiceRow {
                    class: (s.structure_kind == crate::directory::StructureKind::Class)
                        .then(|| s.structure_code.clone()),
                    subject_label: s.subject_label.clone().unwrap_or_else(|| s.subject_code.clone()),
                    structure: s.structure_code,
                    subject: s.subject_code,
                    evaluations: n,
                });
            }
            let page = chrome(&web, &signed, i18n::either("Mes notes", "My marks"));
            Ok(pages::render(&HomePage {
                page: &page,
                period: period.label.clone(),
                periods,
                services,
                head_of: signed.facts.head_of.iter().cloned().collect(),
            }))
        })
        .await,
    )
}

// ------------------------------------------------------------ the grid

/// One cell of the grid.
#[derive(Debug, Clone)]
pub struct Cell {
    pub evaluation: i64,
    pub value: String,
    pub error: Option<String>,
    pub label: String,
}

/// One student's line.
#[derive(Debug, Clone)]
pub struct GridRow {
    pub student_id: i64,
    pub name: String,
    pub cells: Vec<Cell>,
    pub average: String,
}

/// One column.
#[derive(Debug, Clone)]
pub struct GridColumn {
    pub id: i64,
    pub title: String,
    pub date: String,
    pub detail: String,
}

/// What the new-evaluation form shows again after an error.
#[derive(Debug, Clone, Default)]
pub struct EvalFormValues {
    pub title: String,
    pub date: String,
    pub coefficient: String,
    pub out_of: String,
    pub kind: String,
    pub students_date: String,
    pub students_time: String,
    pub parents_date: String,
    pub parents_time: String,
}

impl EvalFormValues {
    fn from_fields(f: &Fields) -> EvalFormValues {
        EvalFormValues {
            title: f.get("titre").into(),
            date: f.get("date").into(),
            coefficient: f.get("coefficient").into(),
            out_of: f.get("bareme").into(),
            kind: f.get("type").into(),
            students_date: f.get("eleves_date").into(),
            students_time: f.get("eleves_heure").into(),
            parents_date: f.get("parents_date").into(),
            parents_time: f.get("parents_heure").into(),
        }
    }

    fn defaults(today: Date) -> EvalFormValues {
        EvalFormValues {
            date: today.to_string(),
            coefficient: "1".into(),
            out_of: "20".into(),
            kind: "counts".into(),
            students_date: today.to_string(),
            students_time: "18:00".into(),
            ..Default::default()
        }
    }

    fn of(e: &Evaluation) -> EvalFormValues {
        EvalFormValues {
            title: e.title.clone(),
            date: e.date.to_string(),
            coefficient: grades::show_hundredths(e.coefficient),
            out_of: grades::show_hundredths(e.out_of),
            kind: e.kind.as_str().into(),
            students_date: e.publish_students_at.date.to_string(),
            students_time: e.publish_students_at.time.to_string(),
            parents_date: e.publish_parents_at.date.to_string(),
            parents_time: e.publish_parents_at.time.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "viescolaire/grid.html")]
pub struct GridPage<'a> {
    pub page: &'a Page,
    pub heading: String,
    pub base: String,
    pub periods: Vec<PeriodLink>,
    pub period_number: i64,
    pub columns: Vec<GridColumn>,
    pub rows: Vec<GridRow>,
    pub class_average: String,
    pub class_min: String,
    pub class_max: String,
    pub notice: Option<String>,
    pub grid_error: Option<String>,
    pub form: EvalFormValues,
    pub form_errors: Vec<String>,
    pub publication_hour: String,
    pub grades_js: String,
    pub grades_css: String,
}

/// The grid's data (also what the benchmark and the agreement test read).
pub struct GridData {
    pub service: Service,
    pub structure_code: String,
    pub subject_label: String,
    pub period: Period,
    pub evaluations: Vec<Evaluation>,
    pub roster: Vec<(i64, String)>,
    pub marks: HashMap<(i64, i64), Mark>,
    /// Each student's subject average (the report card's computation).
    pub averages: Vec<Option<Q>>,
    pub stats: Option<grades::ClassStats>,
}

/// Loads a service's grid for a period.
pub fn grid_data(
    conn: &rusqlite::Connection,
    settings: &VieScolaireSettings,
    structure: &str,
    subject: &str,
    teacher_id: i64,
    period: Period,
) -> Result<GridData, WebError> {
    grid_load(conn, settings, structure, subject, teacher_id, period, true)
}

/// [`grid_data`], without the averages when a save only needs the cells.
fn grid_load(
    conn: &rusqlite::Connection,
    settings: &VieScolaireSettings,
    structure: &str,
    subject: &str,
    teacher_id: i64,
    period: Period,
    with_averages: bool,
) -> Result<GridData, WebError> {
    let st = crate::directory::structure(conn, structure)?.ok_or(WebError::NotFound)?;
    let evaluations = gq::evaluations(conn, period.id, st.id, subject)?;
    let roster: Vec<(i64, String)> = queries::roster(conn, st.id)?
        .into_iter()
        .map(|(id, last, first)| (id, format!("{last} {first}")))
        .collect();
    let ids: Vec<i64> = evaluations.iter().map(|e| e.id).collect();
    let marks = gq::marks_of(conn, &ids)?;
    let classes = if with_averages {
        gq::classes_of_students(conn, &roster.iter().map(|r| r.0).collect::<Vec<_>>())?
    } else {
        HashMap::new()
    };
    let mut averages = Vec::new();
    for (id, _) in roster.iter().filter(|_| with_averages) {
        let class = classes.get(id).copied().unwrap_or(st.id);
        averages.push(subject_average_of(
            conn,
            settings,
            period.id,
            *id,
            class,
            subject,
            Audience::All,
        )?);
    }
    let stats = grades::class_stats(&averages);
    Ok(GridData {
        service: Service {
            teacher_id,
            subject_code: subject.to_string(),
            structure_id: st.id,
        },
        structure_code: st.code,
        subject_label: gq::subject_label(conn, subject)?,
        period,
        evaluations,
        roster,
        marks,
        averages,
        stats,
    })
}

/// A student's average in one subject: the line of
/// [`queries::student_subjects`], the function the report card uses.
pub fn subject_average_of(
    conn: &rusqlite::Connection,
    settings: &VieScolaireSettings,
    period_id: i64,
    student: i64,
    class_id: i64,
    subject: &str,
    audience: Audience,
) -> Result<Option<Q>, WebError> {
    Ok(queries::student_subjects(
        conn,
        period_id,
        student,
        class_id,
        audience,
        settings.grades_publication_hour(),
    )?
    .into_iter()
    .find(|l| l.subject_code == subject)
    .and_then(|l| l.average))
}

fn kind_label(k: EvalKind) -> &'static str {
    match k {
        EvalKind::Counts => i18n::either("compte", "counts"),
        EvalKind::Optional => i18n::either("facultative", "optional"),
        EvalKind::Bonus => "bonus",
    }
}

struct GridView {
    periods: Vec<PeriodLink>,
    notice: Option<String>,
    grid_error: Option<String>,
    /// Values typed, with their errors, shown again after a refused save.
    typed: HashMap<(i64, i64), (String, Option<String>)>,
    form: Option<EvalFormValues>,
    form_errors: Vec<String>,
}

fn render_grid(web: &AppState, signed: &Signed, d: &GridData, view: GridView) -> Response {
    let settings = &web.config().viescolaire;
    let columns: Vec<GridColumn> = d
        .evaluations
        .iter()
        .map(|e| GridColumn {
            id: e.id,
            title: e.title.clone(),
            date: e.date.to_string(),
            detail: format!(
                "{} {}, coef. {}, {}",
                i18n::either("sur", "out of"),
                grades::show_hundredths(e.out_of),
                grades::show_hundredths(e.coefficient),
                kind_label(e.kind)
            ),
        })
        .collect();
    let rows = d
        .roster
        .iter()
        .zip(&d.averages)
        .map(|((id, name), avg)| GridRow {
            student_id: *id,
            name: name.clone(),
            cells: d
                .evaluations
                .iter()
                .map(|e| {
                    let (value, error) = match view.typed.get(&(e.id, *id)) {
                        Some((v, err)) => (v.clone(), err.clone()),
                        None => (
                            d.marks
                                .get(&(e.id, *id))
                                .map(|m| m.to_string())
                                .unwrap_or_default(),
                            None,
                        ),
                    };
                    Cell {
                        evaluation: e.id,
                        value,
                        error,
                        label: format!("{name}, {}", e.title),
                    }
                })
                .collect(),
            average: shown(avg, settings),
        })
        .collect();
    let page = chrome(web, signed, i18n::either("Saisie des notes", "Entering marks"));
    let mut r = pages::render(&GridPage {
        page: &page,
        heading: format!("{} — {} — {}", d.structure_code, d.subject_label, d.period.label),
        base: format!(
            "/vie-scolaire/notes/{}/{}",
            d.structure_code, d.service.subject_code
        ),
        periods: view.periods.clone(),
        period_number: d.period.number,
        columns,
        rows,
        class_average: shown(&d.stats.as_ref().map(|s| s.average.clone()), settings),
        class_min: shown(&d.stats.as_ref().map(|s| s.min.clone()), settings),
        class_max: shown(&d.stats.as_ref().map(|s| s.max.clone()), settings),
        notice: view.notice,
        grid_error: view.grid_error.clone(),
        form: view
            .form
            .clone()
            .unwrap_or_else(|| EvalFormValues::defaults(now().date)),
        form_errors: view.form_errors.clone(),
        publication_hour: settings.grades_publication_hour.clone(),
        grades_js: crate::web::assets::url("grades.js"),
        grades_css: crate::web::assets::url("grades.css"),
    });
    if view.grid_error.is_some() || !view.form_errors.is_empty() {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    r
}

/// `GET /vie-scolaire/notes/{classe}/{matiere}`.
pub async fn grid(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path((structure, subject)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    respond(
        blocking(move || {
            let me = signed.actor.person_id.ok_or(WebError::NotFound)?;
            let store = web.store()?;
            let (_y, period, periods) = year_and_period(store.conn(), &q)?;
            let d = grid_data(
                store.conn(),
                &web.config().viescolaire,
                &structure,
                &subject,
                me,
                period,
            )?;
            let notice = match q.get("fait").map(String::as_str) {
                Some("grille") => {
                    Some(i18n::either("La grille est enregistrée.", "The grid is saved.").to_string())
                }
                Some("evaluation") => Some(
                    i18n::either(
                        "L'évaluation est créée : saisissez ses notes.",
                        "The assessment is created: enter its marks.",
                    )
                    .to_string(),
                ),
                _ => None,
            };
            let r = render_grid(
                &web,
                &signed,
                &d,
                GridView {
                    periods,
                    notice,
                    grid_error: None,
                    typed: HashMap::new(),
                    form: None,
                    form_errors: Vec::new(),
                },
            );
            Ok(r)
        })
        .await,
    )
}

/// `POST /vie-scolaire/notes/{classe}/{matiere}`: the whole grid as a
/// plain form (`n-{evaluation}-{student}` fields); all or nothing.
pub async fn save_grid(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path((structure, subject)): Path<(String, String)>,
    body: Body,
) -> Response {
    let fields = match forms::read_with(body, GRID_BODY, GRID_FIELDS).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    respond(
        blocking(move || {
            check_token(&signed, &fields)?;
            let me = signed.actor.person_id.ok_or(WebError::NotFound)?;
            let mut store = web.store()?;
            let q: HashMap<String, String> = [("periode".to_string(), fields.get("periode").to_string())]
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .collect();
            let (_y, period, _) = year_and_period(store.conn(), &q)?;
            // The cells only: the averages are computed when a page is
            // read, never on a save.
            let mut d = grid_load(
                store.conn(),
                &web.config().viescolaire,
                &structure,
                &subject,
                me,
                period.clone(),
                false,
            )?;
            let (changes, typed) = grid_changes(&d, &fields);
            if typed.values().any(|(_, e)| e.is_some()) {
                d = grid_data(
                    store.conn(),
                    &web.config().viescolaire,
                    &structure,
                    &subject,
                    me,
                    period.clone(),
                )?;
                let n = typed.values().filter(|(_, e)| e.is_some()).count();
                return Ok(render_grid(
                    &web,
                    &signed,
                    &d,
                    GridView {
                        periods: Vec::new(),
                        notice: None,
                        grid_error: Some(if i18n::french() {
                            format!("{n} note(s) refusée(s) : corrigez les cases signalées ; rien n'a été enregistré.")
                        } else {
                            format!("{n} mark(s) refused: correct the cells shown; nothing was saved.")
                        }),
                        typed,
                        form: None,
                        form_errors: Vec::new(),
                    },
                ));
            }
            let stamp = now().stamp();
            let login = signed.actor.login.clone();
            let peer = signed.peer.to_string();
            // One transaction: every cell, its history and the audit entry.
            store.write(|tx| {
                let mut n = 0;
                for (e, s, m) in &changes {
                    if queries::set_mark(tx, *e, *s, *m, &login, &stamp)? {
                        n += 1;
                    }
                }
                audit::record_in(
                    tx,
                    &login,
                    &peer,
                    "saisie de notes",
                    &format!("{structure} {subject}"),
                    &format!("grille enregistrée, {n} note(s) changée(s)"),
                )?;
                Ok::<_, anyhow::Error>(())
            })?;
            Ok(see_other(
                &format!(
                    "/vie-scolaire/notes/{structure}/{subject}?periode={}&fait=grille",
                    period.number
                ),
                &[],
            ))
        })
        .await,
    )
}

/// The cells a grid form changes, or the typed values with their errors.
/// Fields of other evaluations or students are refused (not ignored).
#[allow(clippy::type_complexity)]
pub fn grid_changes(
    d: &GridData,
    fields: &Fields,
) -> (
    Vec<(i64, i64, Option<Mark>)>,
    HashMap<(i64, i64), (String, Option<String>)>,
) {
    let evals: HashMap<i64, &Evaluation> = d.evaluations.iter().map(|e| (e.id, e)).collect();
    let students: std::collections::HashSet<i64> = d.roster.iter().map(|r| r.0).collect();
    let mut changes = Vec::new();
    let mut typed = HashMap::new();
    for (k, v) in fields.iter() {
        let Some(rest) = k.strip_prefix("n-") else {
            continue;
        };
        let Some((e, s)) = rest.split_once('-') else {
            continue;
        };
        let (Ok(e), Ok(s)) = (e.parse::<i64>(), s.parse::<i64>()) else {
            continue;
        };
        let Some(eval) = evals.get(&e) else {
            typed.insert((e, s), (v.to_string(), Some("évaluation inconnue".to_string())));
            continue;
        };
        if !students.contains(&s) {
            typed.insert(
                (e, s),
                (v.to_string(), Some("élève hors de ce service".to_string())),
            );
            continue;
        }
        match mark_fr(v, eval.out_of) {
            Ok(m) => {
                if d.marks.get(&(e, s)).copied() != m {
                    changes.push((e, s, m));
                }
                typed.insert((e, s), (v.to_string(), None));
            }
            Err(msg) => {
                typed.insert((e, s), (v.to_string(), Some(msg)));
            }
        }
    }
    (changes, typed)
}

/// `POST /vie-scolaire/notes/{classe}/{matiere}/evaluations`.
pub async fn create_evaluation(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path((structure, subject)): Path<(String, String)>,
    body: Body,
) -> Response {
    let fields = match forms::read(body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    respond(
        blocking(move || {
            check_token(&signed, &fields)?;
            let me = signed.actor.person_id.ok_or(WebError::NotFound)?;
            let mut store = web.store()?;
            let settings = web.config().viescolaire.clone();
            let today = now().date;
            let year = queries::year_or_err(store.conn(), today)
                .map_err(|e| WebError::BadRequest(format!("{e}")))?;
            let periods = queries::periods(store.conn(), year.id)?;
            let parsed = evaluation_form(&fields);
            let period = parsed.as_ref().ok().and_then(|(e, _)| {
                periods
                    .iter()
                    .find(|p| p.starts <= e.date && e.date <= p.ends)
                    .cloned()
            });
            let errors = match (&parsed, &period) {
                (Err(errs), _) => errs.clone(),
                (Ok(_), None) => vec!["La date n'est dans aucune période de l'année scolaire.".to_string()],
                _ => Vec::new(),
            };
            if !errors.is_empty() {
                let q: HashMap<String, String> = HashMap::new();
                let (_y, p, _) = year_and_period(store.conn(), &q)?;
                let d = grid_data(store.conn(), &settings, &structure, &subject, me, p)?;
                return Ok(render_grid(
                    &web,
                    &signed,
                    &d,
                    GridView {
                        periods: Vec::new(),
                        notice: None,
                        grid_error: None,
                        typed: HashMap::new(),
                        form: Some(EvalFormValues::from_fields(&fields)),
                        form_errors: errors,
                    },
                ));
            }
            let (Ok((edit, coefficient)), Some(period)) = (parsed, period) else {
                return Err(WebError::NotFound);
            };
            let st = crate::directory::structure(store.conn(), &structure)?.ok_or(WebError::NotFound)?;
            let stamp = now().stamp();
            let id = store.write(|tx| {
                queries::add_evaluation(
                    tx,
                    &NewEvaluation {
                        period_id: period.id,
                        service: Service {
                            teacher_id: me,
                            subject_code: subject.clone(),
                            structure_id: st.id,
                        },
                        title: edit.title.clone(),
                        date: edit.date,
                        coefficient,
                        out_of: edit.out_of,
                        kind: edit.kind,
                        publish_students_at: edit.publish_students_at,
                        publish_parents_at: edit.publish_parents_at,
                    },
                    &stamp,
                )
            })?;
            audit::record(
                &mut store,
                &signed.actor.login,
                &signed.peer.to_string(),
                "création d'évaluation",
                &format!("{structure} {subject} évaluation {id}"),
                &format!("« {} » du {}", edit.title, edit.date),
            )?;
            Ok(see_other(
                &format!(
                    "/vie-scolaire/notes/{structure}/{subject}?periode={}&fait=evaluation",
                    period.number
                ),
                &[],
            ))
        })
        .await,
    )
}

// ------------------------------------------------------------ one evaluation

#[derive(Template)]
#[template(path = "viescolaire/evaluation.html")]
pub struct EvaluationPage<'a> {
    pub page: &'a Page,
    pub heading: String,
    pub id: i64,
    pub back: String,
    pub form: EvalFormValues,
    pub errors: Vec<String>,
    pub notice: Option<String>,
    pub history: Vec<gq::HistoryRow>,
}

fn evaluation_view(
    web: &AppState,
    signed: &Signed,
    conn: &rusqlite::Connection,
    e: &Evaluation,
    form: Option<EvalFormValues>,
    errors: Vec<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let (period_number, _, _) = gq::period_of(conn, e.period_id)?;
    let page = chrome(web, signed, "Évaluation");
    let bad = !errors.is_empty();
    let mut r = pages::render(&EvaluationPage {
        page: &page,
        heading: format!(
            "{} — {} {}",
            e.title,
            e.structure_code,
            gq::subject_label(conn, &e.subject_code)?
        ),
        id: e.id,
        back: format!(
            "/vie-scolaire/notes/{}/{}?periode={period_number}",
            e.structure_code, e.subject_code
        ),
        form: form.unwrap_or_else(|| EvalFormValues::of(e)),
        errors,
        notice,
        history: gq::history(conn, e.id)?,
    });
    if bad {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

/// `GET /vie-scolaire/notes/evaluations/{id}`.
pub async fn evaluation_page(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    respond(
        blocking(move || {
            let store = web.store()?;
            let e = gq::evaluation(store.conn(), id)?.ok_or(WebError::NotFound)?;
            let notice = q.contains_key("fait").then(|| {
                i18n::either("L'évaluation est modifiée.", "The assessment is changed.").to_string()
            });
            evaluation_view(&web, &signed, store.conn(), &e, None, Vec::new(), notice)
        })
        .await,
    )
}

/// `POST /vie-scolaire/notes/evaluations/{id}`: edits an evaluation; a
/// coefficient changed once marks exist is recorded and shown to the
/// class.
pub async fn update_evaluation(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(id): Path<i64>,
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
            let e = gq::evaluation(store.conn(), id)?.ok_or(WebError::NotFound)?;
            let (_, start, end) = gq::period_of(store.conn(), e.period_id)?;
            let mut parsed = evaluation_form(&fields);
            if let Ok((edit, _)) = &parsed
                && (edit.date.to_string() < start || edit.date.to_string() > end)
            {
                parsed = Err(vec![format!(
                    "La date doit rester dans la période de l'évaluation ({start} – {end})."
                )]);
            }
            let (edit, coefficient) = match parsed {
                Ok(x) => x,
                Err(errors) => {
                    return evaluation_view(
                        &web,
                        &signed,
                        store.conn(),
                        &e,
                        Some(EvalFormValues::from_fields(&fields)),
                        errors,
                        None,
                    );
                }
            };
            let stamp = now().stamp();
            let login = signed.actor.login.clone();
            let done: anyhow::Result<()> = store.write(|tx| {
                gq::update_evaluation(tx, id, &edit)?;
                queries::set_coefficient(tx, id, coefficient, &login, &stamp)
            });
            if let Err(err) = done {
                if err.downcast_ref::<rusqlite::Error>().is_some() {
                    return Err(WebError::Internal(err));
                }
                let msg = err.to_string();
                return evaluation_view(
                    &web,
                    &signed,
                    store.conn(),
                    &e,
                    Some(EvalFormValues::from_fields(&fields)),
                    vec![msg],
                    None,
                );
            }
            audit::record(
                &mut store,
                &signed.actor.login,
                &signed.peer.to_string(),
                "modification d'évaluation",
                &format!("évaluation {id}"),
                &format!(
                    "« {} », coef. {}",
                    edit.title,
                    grades::show_hundredths(coefficient)
                ),
            )?;
            Ok(see_other(
                &format!("/vie-scolaire/notes/evaluations/{id}?fait=1"),
                &[],
            ))
        })
        .await,
    )
}

/// `POST /vie-scolaire/notes/evaluations/{id}/cellule` (`eleve`,
/// `valeur`): one cell, answered in JSON; an empty value clears it.
pub async fn save_cell(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(id): Path<i64>,
    body: Body,
) -> Response {
    let fields = match forms::read(body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let refuse = |status: StatusCode, msg: &str| {
        (status, Json(serde_json::json!({"ok": false, "erreur": msg}))).into_response()
    };
    let r = blocking(move || {
        if check_token(&signed, &fields).is_err() {
            return Ok(refuse(
                StatusCode::FORBIDDEN,
                "Le formulaire a expiré : rechargez la page.",
            ));
        }
        let Ok(student) = fields.get("eleve").parse::<i64>() else {
            return Ok(refuse(StatusCode::BAD_REQUEST, "Élève inconnu."));
        };
        let mut store = web.store()?;
        let e = gq::evaluation(store.conn(), id)?.ok_or(WebError::NotFound)?;
        let in_roster = gq::in_roster(store.conn(), e.structure_id, student)?;
        if !in_roster {
            return Ok(refuse(
                StatusCode::BAD_REQUEST,
                "Cet élève n'est pas de ce service.",
            ));
        }
        let mark = match mark_fr(fields.get("valeur"), e.out_of) {
            Ok(m) => m,
            Err(msg) => return Ok(refuse(StatusCode::BAD_REQUEST, &msg)),
        };
        let stamp = now().stamp();
        let login = signed.actor.login.clone();
        store.write(|tx| queries::set_mark(tx, id, student, mark, &login, &stamp))?;
        // The student's new subject average for the grid, read after the
        // write (outside the writers' turn).
        let settings = &web.config().viescolaire;
        let avg = queries::student_subject_average(
            store.conn(),
            e.period_id,
            student,
            &e.subject_code,
            Audience::All,
            settings.grades_publication_hour(),
        )?;
        Ok(Json(serde_json::json!({
            "ok": true,
            "valeur": mark.map(|m| m.to_string()).unwrap_or_default(),
            "moyenne": shown(&avg, settings),
        }))
        .into_response())
    })
    .await;
    respond(r)
}

// ------------------------------------------------------------ a student's marks

/// One mark of a student's page, with the competences positioned on its
/// evaluation ("Langue française : Maîtrise satisfaisante").
#[derive(Debug, Clone)]
pub struct MarkView {
    /// "12/20"; empty for an evaluation with positions and no mark.
    pub text: String,
    pub title: String,
    pub levels: Vec<String>,
}

/// One subject of a student's page.
#[derive(Debug, Clone)]
pub struct SubjectView {
    pub label: String,
    pub coefficient: String,
    pub marks: Vec<MarkView>,
    pub average: String,
    pub class_average: String,
    pub class_min: String,
    pub class_max: String,
}

#[derive(Template)]
#[template(path = "viescolaire/student_marks.html")]
pub struct StudentPage<'a> {
    pub page: &'a Page,
    pub heading: String,
    pub login: String,
    pub periods: Vec<PeriodLink>,
    pub subjects: Vec<SubjectView>,
    pub overall: String,
    pub class_overall: String,
    pub changes: Vec<String>,
    pub socle: Vec<(String, String)>,
    /// (period number, label) of closed report cards.
    pub cards: Vec<(i64, String)>,
    pub partial: bool,
}

/// Which marks the signed-in person sees of a student.
pub(super) fn audience_for(signed: &Signed, student_login: &str, now: DateTime) -> Audience {
    if signed.actor.has(Role::Parent) && signed.facts.children.contains(student_login) {
        Audience::Parents(now)
    } else if signed.actor.has(Role::Student) {
        Audience::Students(now)
    } else {
        Audience::All
    }
}

/// The levels' names (1–4), as the LSU names them.
pub const LEVELS: [&str; 4] = [
    "Maîtrise insuffisante",
    "Maîtrise fragile",
    "Maîtrise satisfaisante",
    "Très bonne maîtrise",
];

/// The levels' names in English (the interface's, not the LSU's).
pub const LEVELS_EN: [&str; 4] = [
    "Insufficient mastery",
    "Fragile mastery",
    "Satisfactory mastery",
    "Very good mastery",
];

/// The levels' names in the current language.
pub fn levels_shown() -> &'static [&'static str; 4] {
    if i18n::french() { &LEVELS } else { &LEVELS_EN }
}

/// A level's name in the current language (1–4, clamped).
pub fn level_shown(level: u8) -> &'static str {
    levels_shown()[usize::from(level.clamp(1, 4) - 1)]
}

/// A level's name (1–4; out of range is clamped).
pub fn level_name(level: u8) -> &'static str {
    LEVELS[usize::from(level.clamp(1, 4) - 1)]
}

/// `GET /vie-scolaire/notes/eleve/{login}`.
pub async fn student(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(login): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    respond(
        blocking(move || {
            let store = web.store()?;
            let conn = store.conn();
            let settings = web.config().viescolaire.clone();
            let p = crate::directory::person_by_login(conn, &login)?.ok_or(WebError::NotFound)?;
            let class = crate::directory::class_of(conn, p.id)?.ok_or(WebError::NotFound)?;
            let (year, period, periods) = year_and_period(conn, &q)?;
            let audience = audience_for(&signed, &login, now());
            let cards = report::build_for(conn, &settings, &year, &period, &class.code, audience)?;
            let card = cards
                .into_iter()
                .find(|c| c.student_id == p.id)
                .ok_or(WebError::NotFound)?;
            // The marks with their evaluations' competence positions, the
            // same visibility as the averages (published only).
            let mut seen: HashMap<String, Vec<MarkView>> = HashMap::new();
            for e in gq::seen_evaluations(
                conn,
                period.id,
                p.id,
                audience,
                settings.grades_publication_hour(),
            )? {
                seen.entry(e.subject_code).or_default().push(MarkView {
                    text: e.mark.unwrap_or_default(),
                    title: e.title,
                    levels: e
                        .levels
                        .iter()
                        .map(|(label, level)| format!("{label} : {}", level_name(*level)))
                        .collect(),
                });
            }
            let subjects = card
                .subjects
                .iter()
                .map(|s| SubjectView {
                    label: s.label.clone(),
                    coefficient: s.coefficient.clone(),
                    marks: seen.remove(&s.code).unwrap_or_default(),
                    average: s.average.clone().unwrap_or_default(),
                    class_average: s.class_average.clone().unwrap_or_default(),
                    class_min: s.class_min.clone().unwrap_or_default(),
                    class_max: s.class_max.clone().unwrap_or_default(),
                })
                .collect();
            let changes = queries::coefficient_changes(conn, class.id)?
                .into_iter()
                .map(|c| {
                    let at = DateTime::parse(&c.at)
                        .map(|d| d.to_string())
                        .unwrap_or(c.at.clone());
                    if i18n::french() {
                        format!(
                            "{} : coefficient changé de {} à {} le {at}",
                            c.what, c.before, c.after
                        )
                    } else {
                        format!(
                            "{}: coefficient changed from {} to {} on {at}",
                            c.what, c.before, c.after
                        )
                    }
                })
                .collect();
            let labels: BTreeMap<String, String> = gq::competence_labels(conn)?;
            let socle = card
                .socle
                .iter()
                .map(|(code, level)| {
                    (
                        labels.get(code).cloned().unwrap_or(code.clone()),
                        format!("{level} — {}", level_shown(*level)),
                    )
                })
                .collect();
            let mut closed = Vec::new();
            for per in queries::periods(conn, year.id)? {
                if queries::frozen_card(conn, per.id, p.id)?.is_some() {
                    closed.push((per.number, per.label));
                }
            }
            let page = chrome(&web, &signed, i18n::either("Notes", "Marks"));
            Ok(pages::render(&StudentPage {
                page: &page,
                heading: format!(
                    "{} {} — {}",
                    i18n::either("Notes de", "Marks of"),
                    p.full_name(),
                    period.label
                ),
                login: login.clone(),
                periods,
                subjects,
                overall: card.overall.clone().unwrap_or_default(),
                class_overall: card.class_overall.clone().unwrap_or_default(),
                changes,
                socle,
                cards: closed,
                partial: audience != Audience::All,
            }))
        })
        .await,
    )
}

#[derive(Template)]
#[template(path = "viescolaire/children.html")]
pub struct ChildrenPage<'a> {
    pub page: &'a Page,
    /// (login, name).
    pub children: Vec<(String, String)>,
}

/// `GET /vie-scolaire/mes-notes`: a student goes to his page, a parent
/// chooses among his children.
pub async fn own(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    if signed.actor.has(Role::Student) {
        return see_other(&format!("/vie-scolaire/notes/eleve/{}", signed.actor.login), &[]);
    }
    respond(
        blocking(move || {
            let store = web.store()?;
            let mut children = Vec::new();
            for login in &signed.facts.children {
                if let Some(p) = crate::directory::person_by_login(store.conn(), login)? {
                    children.push((p.login.clone(), p.full_name()));
                }
            }
            let page = chrome(
                &web,
                &signed,
                i18n::either("Notes et bulletins", "Marks and report cards"),
            );
            Ok(pages::render(&ChildrenPage {
                page: &page,
                children,
            }))
        })
        .await,
    )
}

// ------------------------------------------------------------ forms (pure)

/// A mark as typed in a cell: empty clears it; French messages.
pub fn mark_fr(s: &str, out_of: u32) -> Result<Option<Mark>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.chars().count() > 10 {
        return Err("valeur trop longue".into());
    }
    match Mark::parse(t, out_of) {
        Ok(m) => Ok(Some(m)),
        Err(_) if grades::parse_hundredths(t).is_some() => Err(format!(
            "{t} dépasse le barème (sur {})",
            grades::show_hundredths(out_of)
        )),
        Err(_) => Err(format!(
            "« {t} » n'est pas une note : un nombre (deux décimales au plus), ABS, DISP, NN ou NR"
        )),
    }
}

/// The evaluation form (`titre`, `date`, `coefficient`, `bareme`, `type`,
/// `eleves_date`, `eleves_heure`, `parents_date`, `parents_heure`): the
/// evaluation and its coefficient (hundredths), or every error.
pub fn evaluation_form(f: &Fields) -> Result<(EvaluationEdit, u32), Vec<String>> {
    let mut errors = Vec::new();
    let title = f.get("titre").trim().to_string();
    if title.is_empty() {
        errors.push("Donnez un titre à l'évaluation.".to_string());
    } else if title.chars().count() > 120 {
        errors.push("Le titre a au plus 120 caractères.".to_string());
    }
    let date = Date::parse(f.get("date"));
    if date.is_none() {
        errors.push("La date est à écrire AAAA-MM-JJ.".to_string());
    }
    let coefficient = grades::parse_hundredths(f.get("coefficient")).filter(|c| *c <= 9900);
    if coefficient.is_none() {
        errors.push("Le coefficient est un nombre de 0 à 99 (deux décimales au plus).".to_string());
    }
    let out_of = grades::parse_hundredths(f.get("bareme")).filter(|v| *v > 0 && *v <= 100_000);
    if out_of.is_none() {
        errors.push("Le barème est un nombre de points positif, au plus 1000.".to_string());
    }
    let kind = EvalKind::parse(f.get("type"));
    if kind.is_none() {
        errors.push("Choisissez si l'évaluation compte, est facultative ou est un bonus.".to_string());
    }
    let moment = |d: &str, t: &str| -> Option<DateTime> {
        Some(DateTime {
            date: Date::parse(d)?,
            time: Time::parse(t)?,
        })
    };
    let students = moment(f.get("eleves_date"), f.get("eleves_heure"));
    if students.is_none() {
        errors.push(
            "La publication aux élèves demande une date (AAAA-MM-JJ) et une heure (HH:MM).".to_string(),
        );
    }
    let parents = if f.get("parents_date").trim().is_empty() && f.get("parents_heure").trim().is_empty() {
        students
    } else {
        let p = moment(f.get("parents_date"), f.get("parents_heure"));
        if p.is_none() {
            errors.push(
                "La publication aux responsables demande une date et une heure, ou rien (même moment que les élèves)."
                    .to_string(),
            );
        }
        p
    };
    if let (Some(s), Some(p)) = (students, parents)
        && p < s
    {
        errors.push("Les responsables ne peuvent pas voir les notes avant les élèves.".to_string());
    }
    match (date, coefficient, out_of, kind, students, parents) {
        (Some(date), Some(c), Some(out_of), Some(kind), Some(s), Some(p)) if errors.is_empty() => Ok((
            EvaluationEdit {
                title,
                date,
                out_of,
                kind,
                publish_students_at: s,
                publish_parents_at: p,
            },
            c,
        )),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grid, the student's page and the report card show the same
    /// figures: each subject average of every student of 6A, the class
    /// average, minimum and maximum, on the demo school's first term.
    #[test]
    fn grid_student_page_and_report_card_agree() {
        let (_d, mut store) = crate::modules::viescolaire::import::tests::demo();
        let settings = VieScolaireSettings::default();
        let now = DateTime::parse("2026-12-01T12:00").unwrap();
        crate::modules::viescolaire::demo::fill(&mut store, &settings, now).unwrap();
        let conn = store.conn();
        let year = queries::current_year(conn, now.date).unwrap().unwrap();
        let period = queries::period(conn, year.id, 1).unwrap();
        let cards = report::build(conn, &settings, &year, &period, "6A").unwrap();
        // The student's page: every mark published long ago.
        let later = DateTime::parse("2030-01-01T00:00").unwrap();
        let page =
            report::build_for(conn, &settings, &year, &period, "6A", Audience::Students(later)).unwrap();
        assert_eq!(
            cards, page,
            "the student's page is the report card once everything is published"
        );
        let mut compared = 0;
        for s in crate::directory::services(conn, None).unwrap() {
            if s.structure_code != "6A" {
                continue;
            }
            let teacher = crate::directory::person_by_login(conn, &s.teacher_login)
                .unwrap()
                .unwrap();
            let g = grid_data(conn, &settings, "6A", &s.subject_code, teacher.id, period.clone()).unwrap();
            if g.evaluations.is_empty() {
                continue;
            }
            for ((student, _), avg) in g.roster.iter().zip(&g.averages) {
                let card = cards.iter().find(|c| c.student_id == *student).unwrap();
                let line = card.subjects.iter().find(|l| l.code == s.subject_code);
                assert_eq!(
                    line.and_then(|l| l.average.clone()).unwrap_or_default(),
                    shown(avg, &settings),
                    "{} {student}",
                    s.subject_code
                );
                let st = g.stats.as_ref().unwrap();
                let line = line.unwrap();
                assert_eq!(
                    line.class_average.clone().unwrap(),
                    shown(&Some(st.average.clone()), &settings)
                );
                assert_eq!(
                    line.class_min.clone().unwrap(),
                    shown(&Some(st.min.clone()), &settings)
                );
                assert_eq!(
                    line.class_max.clone().unwrap(),
                    shown(&Some(st.max.clone()), &settings)
                );
                compared += 1;
            }
        }
        assert!(compared >= 50, "only {compared} averages compared");
        // The marks the student's page lists with their competences are
        // the report card's marks, in its order.
        for card in &cards {
            let seen = gq::seen_evaluations(
                conn,
                period.id,
                card.student_id,
                Audience::Students(later),
                settings.grades_publication_hour(),
            )
            .unwrap();
            for line in &card.subjects {
                let marks: Vec<String> = seen
                    .iter()
                    .filter(|e| e.subject_code == line.code)
                    .filter_map(|e| e.mark.clone())
                    .collect();
                assert_eq!(marks, line.marks, "{} {}", card.login, line.code);
            }
        }
        // Before publication the student's page has fewer marks, never
        // other ones.
        let early = DateTime::parse("2026-09-01T00:00").unwrap();
        let none =
            report::build_for(conn, &settings, &year, &period, "6A", Audience::Students(early)).unwrap();
        assert!(none.iter().all(|c| c.subjects.iter().all(|s| s.marks.is_empty())));
    }

    #[test]
    fn a_grid_form_is_checked_whole() {
        let (_d, mut store) = crate::modules::viescolaire::import::tests::demo();
        let settings = VieScolaireSettings::default();
        let now = DateTime::parse("2026-12-01T12:00").unwrap();
        crate::modules::viescolaire::demo::fill(&mut store, &settings, now).unwrap();
        let conn = store.conn();
        let year = queries::current_year(conn, now.date).unwrap().unwrap();
        let period = queries::period(conn, year.id, 1).unwrap();
        let s = crate::directory::services(conn, None)
            .unwrap()
            .into_iter()
            .find(|s| s.structure_code == "6A" && s.subject_code == "061300")
            .unwrap();
        let teacher = crate::directory::person_by_login(conn, &s.teacher_login)
            .unwrap()
            .unwrap();
        let g = grid_data(conn, &settings, "6A", "061300", teacher.id, period).unwrap();
        let (e, a, b) = (g.evaluations[0].id, g.roster[0].0, g.roster[1].0);
        let (changes, typed) = grid_changes(&g, &fields(&format!("csrf=x&n-{e}-{a}=abs&n-{e}-{b}=")));
        assert!(typed.values().all(|t| t.1.is_none()));
        assert!(changes.contains(&(e, a, Some(Mark::Abs))));
        assert!(changes.contains(&(e, b, None)) || !g.marks.contains_key(&(e, b)));
        let (_, typed) = grid_changes(
            &g,
            &fields(&format!("n-{e}-{a}=25&n-{e}-999999=1&n-999999-{a}=1")),
        );
        assert_eq!(typed.values().filter(|t| t.1.is_some()).count(), 3);
    }

    fn fields(s: &str) -> Fields {
        forms::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn marks_typed_in_a_cell() {
        assert_eq!(mark_fr("", 2000), Ok(None));
        assert_eq!(mark_fr(" 12,5 ", 2000), Ok(Some(Mark::Value(1250))));
        assert_eq!(mark_fr("abs", 2000), Ok(Some(Mark::Abs)));
        assert_eq!(mark_fr("NR", 1000), Ok(Some(Mark::Nr)));
        assert!(
            mark_fr("21", 2000)
                .unwrap_err()
                .contains("dépasse le barème (sur 20)")
        );
        assert!(mark_fr("douze", 2000).unwrap_err().contains("n'est pas une note"));
        assert!(mark_fr("12.345", 2000).is_err());
        assert!(mark_fr("-3", 2000).is_err());
        assert!(
            mark_fr(&"9".repeat(50), 2000)
                .unwrap_err()
                .contains("trop longue")
        );
    }

    #[test]
    fn the_evaluation_form() {
        let ok = fields(
            "titre=DS+1&date=2026-10-01&coefficient=0,5&bareme=12.5&type=optional&eleves_date=2026-10-02&eleves_heure=18:00",
        );
        let (e, c) = evaluation_form(&ok).unwrap();
        assert_eq!(
            (e.title.as_str(), c, e.out_of, e.kind),
            ("DS 1", 50, 1250, EvalKind::Optional)
        );
        assert_eq!(
            e.publish_parents_at, e.publish_students_at,
            "parents: same moment by default"
        );
        let later = fields(
            "titre=DS&date=2026-10-01&coefficient=2&bareme=20&type=counts&eleves_date=2026-10-02&eleves_heure=18:00&parents_date=2026-10-03&parents_heure=08:00",
        );
        let (e, _) = evaluation_form(&later).unwrap();
        assert_eq!(e.publish_parents_at.stamp(), "2026-10-03T08:00");
        // Every error at once, in French.
        let bad = fields(
            "titre=&date=01/10/2026&coefficient=100&bareme=0&type=x&eleves_date=2026-10-02&eleves_heure=25:00",
        );
        let errs = evaluation_form(&bad).unwrap_err();
        assert_eq!(errs.len(), 6, "{errs:?}");
        let before = fields(
            "titre=DS&date=2026-10-01&coefficient=2&bareme=20&type=counts&eleves_date=2026-10-02&eleves_heure=18:00&parents_date=2026-10-01&parents_heure=08:00",
        );
        assert!(evaluation_form(&before).unwrap_err()[0].contains("avant les élèves"));
        let half = fields(
            "titre=DS&date=2026-10-01&coefficient=2&bareme=20&type=counts&eleves_date=2026-10-02&eleves_heure=18:00&parents_date=2026-10-03",
        );
        assert!(evaluation_form(&half).is_err());
        assert!(evaluation_form(&fields("titre=x&coefficient=99.01")).is_err());
    }
}

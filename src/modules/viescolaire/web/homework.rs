//! The homework log (cahier de textes): a lesson's entry written by its
//! teacher (or the office) at `/vie-scolaire/cahier-de-textes/seance/{key}`,
//! a class's whole log for direction, the head teacher and its teachers
//! (`…/classe/{code}`), and the to-do list of a student or of a parent's
//! children by due date (`/vie-scolaire/travail`).

use super::super::calendar::Date;
use super::super::queries::{homework, roll, schedule};
use super::super::timetable::Lesson;
use super::access::{self, blocking, date_param, form, me};
use super::attachments;
use super::timetable::{change_label, fr_date};
use crate::directory;
use crate::web::authz::{Action, Role};
use crate::web::errors::WebError;
use crate::web::forms::Path;
use crate::web::pages::{self, Page};
use crate::web::{AppState, Signed, audit, i18n, see_other};
use askama::Template;
use axum::body::Body;
use axum::extract::{Extension, Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

/// Longest text of an entry, in characters.
pub const MAX_TEXT: usize = 4000;
/// Latest due date accepted, in days after the lesson.
pub const MAX_DUE_DAYS: i32 = 366;

/// A checked entry: what was done, the homework, its due date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedLog {
    pub done: String,
    pub homework: String,
    pub due: Option<Date>,
}

/// Checks an entry as typed (pure): French messages by field.
pub fn check_log(
    done: &str,
    work: &str,
    due: &str,
    lesson: Date,
) -> Result<CheckedLog, Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    let (done, work, due) = (done.trim(), work.trim(), due.trim());
    if done.chars().count() > MAX_TEXT {
        errors.push(("fait", format!("Au plus {MAX_TEXT} caractères.")));
    }
    if work.chars().count() > MAX_TEXT {
        errors.push(("travail", format!("Au plus {MAX_TEXT} caractères.")));
    }
    if done.is_empty() && work.is_empty() {
        errors.push((
            "fait",
            "Écrivez ce qui a été fait, ou le travail à faire.".to_string(),
        ));
    }
    let due = if due.is_empty() {
        if !work.is_empty() {
            errors.push((
                "pour",
                "Donnez la date pour laquelle le travail est à faire.".to_string(),
            ));
        }
        None
    } else {
        match Date::parse(due) {
            None => {
                errors.push(("pour", format!("« {due} » n'est pas une date (AAAA-MM-JJ).")));
                None
            }
            Some(d) if d <= lesson => {
                errors.push((
                    "pour",
                    "Le travail est à faire pour une date après la séance.".to_string(),
                ));
                None
            }
            Some(d) if lesson.days_until(d) > MAX_DUE_DAYS => {
                errors.push(("pour", "La date est à plus d'un an de la séance.".to_string()));
                None
            }
            Some(_) if work.is_empty() => {
                errors.push((
                    "travail",
                    "Une date est donnée : écrivez le travail à faire.".to_string(),
                ));
                None
            }
            Some(d) => Some(d),
        }
    };
    if errors.is_empty() {
        Ok(CheckedLog {
            done: done.to_string(),
            homework: work.to_string(),
            due,
        })
    } else {
        Err(errors)
    }
}

#[derive(Template)]
#[template(path = "viescolaire/log.html")]
pub struct LogPage<'a> {
    pub page: &'a Page,
    pub action: String,
    pub heading: String,
    pub details: Vec<String>,
    pub done: String,
    pub homework: String,
    pub due: String,
    pub errors: Vec<(&'static str, String)>,
    pub saved: Option<String>,
    pub min_due: String,
    /// The entry exists: files may be attached.
    pub entry: bool,
    pub files: Vec<homework::EntryFile>,
    pub file_error: Option<String>,
    pub max_mib: u64,
    pub max_files: i64,
}

impl LogPage<'_> {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

fn lesson_of(web: &AppState, signed: &Signed) -> Result<Lesson, WebError> {
    let Action::WriteLog { lesson } = &signed.action else {
        return Err(WebError::NotFound);
    };
    let store = web.store()?;
    schedule::lesson_by_key(store.conn(), lesson)?.ok_or(WebError::NotFound)
}

fn render_log(
    web: &AppState,
    signed: &Signed,
    l: &Lesson,
    typed: Option<(&str, &str, &str)>,
    errors: Vec<(&'static str, String)>,
    file_error: Option<String>,
) -> Result<Response, WebError> {
    let store = web.store()?;
    let conn = store.conn();
    let names = schedule::names(conn)?;
    let saved = homework::log_of(conn, l)?;
    let entry = homework::entry_of(conn, l)?;
    let files = match entry {
        Some(id) => homework::files_of(conn, id)?,
        None => Vec::new(),
    };
    let (done, work, due) = match (typed, &saved) {
        (Some((d, w, u)), _) => (d.to_string(), w.to_string(), u.to_string()),
        (None, Some(s)) => (
            s.done.clone(),
            s.homework.clone(),
            s.due.map(|d| d.to_string()).unwrap_or_default(),
        ),
        (None, None) => (String::new(), String::new(), String::new()),
    };
    let mut details = vec![format!(
        "{} — {}, {} {}",
        names.structure(l.service.structure_id),
        names.person(l.service.teacher_id),
        i18n::either("salle", "room"),
        if l.room.is_empty() {
            i18n::either("non précisée", "not given")
        } else {
            &l.room
        }
    )];
    details.extend(l.changes.iter().map(|c| change_label(c, &names)));
    let config = web.config();
    let chrome = Page::signed(
        i18n::either("Cahier de textes", "Class log"),
        &config.establishment.name,
        signed,
        "/vie-scolaire/emploi-du-temps",
    );
    let bad = !errors.is_empty() || file_error.is_some();
    let mut r = pages::render(&LogPage {
        page: &chrome,
        action: format!("/vie-scolaire/cahier-de-textes/seance/{}", schedule::key_of(l)),
        heading: format!(
            "{} {} {}, {}–{}",
            names.subject(&l.service.subject_code),
            i18n::either("du", "on"),
            fr_date(l.date),
            l.starts,
            l.ends
        ),
        details,
        done,
        homework: work,
        due,
        errors,
        saved: saved.filter(|_| !bad).map(|s| {
            if i18n::french() {
                format!("Enregistré par {} le {}.", s.by, s.at.replace('T', " à "))
            } else {
                format!("Saved by {} on {}.", s.by, s.at.replace('T', " at "))
            }
        }),
        min_due: l.date.add_days(1).to_string(),
        entry: entry.is_some() && l.takes_place,
        files,
        file_error,
        max_mib: config.viescolaire.attachment_max_bytes / (1024 * 1024),
        max_files: homework::MAX_FILES,
    });
    if bad {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

/// `GET /vie-scolaire/cahier-de-textes/seance/{key}`.
pub async fn lesson(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    blocking(move || {
        let l = lesson_of(&web, &signed)?;
        render_log(&web, &signed, &l, None, Vec::new(), None)
    })
    .await
}

/// `POST /vie-scolaire/cahier-de-textes/seance/{key}`: `fait`, `travail`,
/// `pour` (due date).
pub async fn lesson_submit(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    body: Body,
) -> Response {
    let fields = match form(&signed, body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    blocking(move || {
        let l = lesson_of(&web, &signed)?;
        if !l.takes_place {
            return Err(WebError::BadRequest(
                "Cette séance n'a pas lieu (annulée ou déplacée) : écrivez le cahier de textes de la séance qui a lieu.".into(),
            ));
        }
        let (d, w, u) = (fields.get("fait"), fields.get("travail"), fields.get("pour"));
        match check_log(d, w, u, l.date) {
            Err(errors) => render_log(&web, &signed, &l, Some((d, w, u)), errors, None),
            Ok(c) => {
                let at = access::now().stamp();
                let key = schedule::key_of(&l);
                let mut store = web.store()?;
                store.write(|tx| homework::save_log(tx, &l, &c.done, &c.homework, c.due, &signed.actor.login, &at))?;
                audit::record(&mut store, &signed.actor.login, &signed.peer.to_string(), "cahier de textes", &key, "enregistré")?;
                Ok(see_other(&format!("/vie-scolaire/cahier-de-textes/seance/{key}"), &[]))
            }
        }
    })
    .await
}

/// A line of a class's log as shown.
pub struct ClassLogLine {
    pub when: String,
    pub subject: String,
    pub structure: String,
    pub teacher: String,
    pub done: String,
    pub homework: String,
    pub due: String,
    pub files: Vec<homework::EntryFile>,
}

#[derive(Template)]
#[template(path = "viescolaire/class_log.html")]
pub struct ClassLogPage<'a> {
    pub page: &'a Page,
    pub heading: String,
    pub subtitle: String,
    pub lines: Vec<ClassLogLine>,
}

/// `GET /vie-scolaire/cahier-de-textes/classe/{code}` (`?du=`, `?au=`;
/// by default the last four weeks and the next two).
pub async fn class_log(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    blocking(move || {
        let Action::ClassLog { structure } = &signed.action else {
            return Err(WebError::NotFound);
        };
        let today = access::now().date;
        let from = date_param(&q, "du", today.add_days(-28))?;
        let to = date_param(&q, "au", today.add_days(14))?;
        if from > to || from.days_until(to) > 400 {
            return Err(WebError::BadRequest(
                "La période demandée n'est pas valide (au plus un an, « du » avant « au »).".into(),
            ));
        }
        let store = web.store()?;
        let conn = store.conn();
        let s = directory::structure(conn, structure)?.ok_or(WebError::NotFound)?;
        let names = schedule::names(conn)?;
        let lines = homework::class_log(conn, s.id, from, to)?
            .into_iter()
            .map(|l| {
                Ok(ClassLogLine {
                    files: homework::files_of(conn, l.homework_id)?,
                    when: format!("{} {}", fr_date(l.date), l.starts),
                    subject: names.subject(&l.subject_code).to_string(),
                    structure: names.structure(l.structure_id).to_string(),
                    teacher: names.person(l.teacher_id).to_string(),
                    done: l.done,
                    homework: l.homework,
                    due: l.due.map(fr_date).unwrap_or_default(),
                })
            })
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let config = web.config();
        let chrome = Page::signed(
            i18n::either("Cahier de textes", "Class log"),
            &config.establishment.name,
            &signed,
            "/vie-scolaire/emploi-du-temps",
        );
        Ok(pages::render(&ClassLogPage {
            page: &chrome,
            heading: format!(
                "{} {}",
                i18n::either("Cahier de textes de", "Class log of"),
                s.label
            ),
            subtitle: format!(
                "{} {} {} {}",
                i18n::either("Du", "From"),
                fr_date(from),
                i18n::either("au", "to"),
                fr_date(to)
            ),
            lines,
        }))
    })
    .await
}

/// One due date of a to-do list.
pub struct DueDay {
    pub heading: String,
    /// (subject, homework, given on, its files).
    pub tasks: Vec<(String, String, String, Vec<homework::EntryFile>)>,
}

/// A student's to-do list.
pub struct ToDoList {
    pub student: String,
    pub days: Vec<DueDay>,
}

#[derive(Template)]
#[template(path = "viescolaire/todo.html")]
pub struct ToDoPage<'a> {
    pub page: &'a Page,
    pub lists: Vec<ToDoList>,
}

/// `GET /vie-scolaire/travail`: the student's homework from today on, by
/// due date (a parent: each of his children's).
pub async fn todo(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    blocking(move || {
        let me = me(&signed)?;
        let today = access::now().date;
        let store = web.store()?;
        let conn = store.conn();
        let names = schedule::names(conn)?;
        let mut students: Vec<(i64, String)> = Vec::new();
        if signed.actor.has(Role::Student) {
            students.push((me, String::new()));
        }
        if signed.actor.has(Role::Parent) {
            let mut stmt = conn.prepare(
                "SELECT c.id, c.first_name || ' ' || c.last_name FROM parent_links l JOIN people c ON c.id = l.child_id
                 WHERE l.parent_id = ?1 AND l.legal > 0 AND c.status = 'active' ORDER BY c.first_name",
            )?;
            students.extend(
                stmt.query_map([me], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()?,
            );
        }
        let mut lists = Vec::new();
        for (id, name) in students {
            let mut days: Vec<DueDay> = Vec::new();
            for t in homework::tasks(conn, id, today)? {
                let heading = format!("{} {}", i18n::either("Pour le", "Due on"), fr_date(t.due));
                let line = (
                    names.subject(&t.subject_code).to_string(),
                    t.homework,
                    format!("{} {}", i18n::either("donné le", "given on"), fr_date(t.given_on)),
                    homework::files_of(conn, t.homework_id)?,
                );
                match days.last_mut() {
                    Some(d) if d.heading == heading => d.tasks.push(line),
                    _ => days.push(DueDay {
                        heading,
                        tasks: vec![line],
                    }),
                }
            }
            lists.push(ToDoList { student: name, days });
        }
        let config = web.config();
        let chrome = Page::signed(i18n::either("Travail à faire", "Homework"), &config.establishment.name, &signed, "/vie-scolaire/travail");
        Ok(pages::render(&ToDoPage { page: &chrome, lists }))
    })
    .await
}

/// Reads the attach form (multipart: `csrf`, `piece`) with the limits.
async fn read_attach(
    mut m: Multipart,
    max_bytes: u64,
) -> Result<(String, Option<attachments::Received>), String> {
    let (mut csrf, mut file) = (String::new(), None);
    let mut fields = 0;
    loop {
        let field = match m.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                return Err("Le formulaire n'a pas été reçu en entier, ou il est trop volumineux.".into());
            }
        };
        fields += 1;
        if fields > 5 {
            return Err("Le formulaire contient trop de champs.".into());
        }
        match field.name().unwrap_or("") {
            "piece" => file = attachments::read_field(field, max_bytes).await?,
            "csrf" => {
                csrf = field
                    .text()
                    .await
                    .map_err(|_| "Le formulaire n'a pas été reçu en entier.".to_string())?;
            }
            _ => {}
        }
    }
    Ok((csrf, file))
}

/// `POST /vie-scolaire/cahier-de-textes/seance/{key}/pieces` (multipart):
/// attaches `piece` (PDF, JPEG or PNG) to the lesson's written entry.
pub async fn attach(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let config = web.config();
    let read = match multipart {
        Ok(m) => read_attach(m, config.viescolaire.attachment_max_bytes).await,
        Err(_) => Err("Le formulaire n'a pas été envoyé comme il faut (pièce jointe) : rechargez la page et recommencez.".into()),
    };
    blocking(move || {
        let l = lesson_of(&web, &signed)?;
        let fail = |msg: String| render_log(&web, &signed, &l, None, Vec::new(), Some(msg));
        let (csrf, file) = match read {
            Ok(r) => r,
            Err(msg) => return fail(msg),
        };
        if !crate::web::csrf::matches(&signed.session.csrf, &csrf) {
            return Err(WebError::Forbidden(
                "Le formulaire a expiré : rechargez la page et recommencez.".into(),
            ));
        }
        if !l.takes_place {
            return fail("Cette séance n'a pas lieu (annulée ou déplacée).".into());
        }
        let Some(entry) = homework::entry_of(web.store()?.conn(), &l)? else {
            return fail(
                "Enregistrez d'abord le cahier de textes de la séance, puis joignez les documents.".into(),
            );
        };
        let Some(file) = file else {
            return fail("Choisissez un fichier à joindre.".into());
        };
        if let Err(msg) = attachments::accepted(&config, file.mime) {
            return fail(msg);
        }
        if homework::files_of(web.store()?.conn(), entry)?.len() as i64 >= homework::MAX_FILES {
            return fail(format!(
                "Une séance a au plus {} documents joints.",
                homework::MAX_FILES
            ));
        }
        let (rel, sha) = attachments::store(&web, &config, "cahier-de-textes", &file.bytes, file.ext)?;
        let name = attachments::clean_name(&file.name, file.ext);
        let (by, peer, at, key) = (
            signed.actor.login.clone(),
            signed.peer.to_string(),
            access::now().stamp(),
            schedule::key_of(&l),
        );
        let mut store = web.store()?;
        let written = store.write(|tx| {
            let id = roll::add_attachment(
                tx,
                &name,
                &rel,
                file.mime,
                file.bytes.len() as u64,
                &sha,
                &by,
                &at,
            )?;
            homework::attach(tx, entry, id)?;
            audit::record_in(
                tx,
                &by,
                &peer,
                "cahier de textes",
                &key,
                &format!("document {id} joint : {name}"),
            )?;
            Ok::<_, anyhow::Error>(())
        });
        if let Err(e) = written {
            attachments::remove(&web, &config, &rel)?;
            return Err(e.into());
        }
        Ok(see_other(
            &format!("/vie-scolaire/cahier-de-textes/seance/{key}"),
            &[],
        ))
    })
    .await
}

/// `POST /vie-scolaire/cahier-de-textes/seance/{key}/pieces/{id}/retirer`:
/// removes one file of the entry (its row and the stored file).
pub async fn detach(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path((_, id)): Path<(String, String)>,
    body: Body,
) -> Response {
    if let Err(e) = form(&signed, body).await {
        return e.into_response();
    }
    blocking(move || {
        let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
        let l = lesson_of(&web, &signed)?;
        let entry = homework::entry_of(web.store()?.conn(), &l)?.ok_or(WebError::NotFound)?;
        let key = schedule::key_of(&l);
        let (by, peer) = (signed.actor.login.clone(), signed.peer.to_string());
        let mut store = web.store()?;
        let rel = store.write(|tx| {
            let rel = homework::detach(tx, entry, id)?;
            if rel.is_some() {
                audit::record_in(
                    tx,
                    &by,
                    &peer,
                    "cahier de textes",
                    &key,
                    &format!("document {id} retiré"),
                )?;
            }
            Ok::<_, anyhow::Error>(rel)
        })?;
        let Some(rel) = rel else {
            return Err(WebError::NotFound);
        };
        attachments::remove(&web, &web.config(), &rel)?;
        Ok(see_other(
            &format!("/vie-scolaire/cahier-de-textes/seance/{key}"),
            &[],
        ))
    })
    .await
}

/// `GET /vie-scolaire/cahier-de-textes/pieces/{id}`: a log entry's file,
/// as an attachment, never sniffed (the guard decided who may).
pub async fn file(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    blocking(move || {
        let Action::HomeworkFile { id } = signed.action else {
            return Err(WebError::NotFound);
        };
        let Some((rel, mime, name)) = homework::entry_file(web.store()?.conn(), id)? else {
            return Err(WebError::NotFound);
        };
        let Some(bytes) = attachments::load(&web, &web.config(), &rel)? else {
            return Err(WebError::NotFound);
        };
        Ok(attachments::serve(bytes, &mime, &name))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_entry_is_checked_field_by_field() {
        let lesson = Date::parse("2026-12-01").unwrap();
        let ok = check_log(" Fractions ", "Ex. 3 p. 42", "2026-12-08", lesson).unwrap();
        assert_eq!(ok.done, "Fractions");
        assert_eq!(ok.due, Date::parse("2026-12-08"));
        assert_eq!(check_log("Cours", "", "", lesson).unwrap().due, None);
        let fields = |r: Result<CheckedLog, Vec<(&'static str, String)>>| -> Vec<&'static str> {
            r.unwrap_err().into_iter().map(|(f, _)| f).collect()
        };
        assert_eq!(fields(check_log("", "", "", lesson)), ["fait"]);
        assert_eq!(fields(check_log("", "Ex. 1", "", lesson)), ["pour"]);
        assert_eq!(fields(check_log("", "Ex. 1", "demain", lesson)), ["pour"]);
        assert_eq!(fields(check_log("", "Ex. 1", "2026-12-01", lesson)), ["pour"]);
        assert_eq!(fields(check_log("", "Ex. 1", "2028-01-01", lesson)), ["pour"]);
        assert_eq!(fields(check_log("Cours", "", "2026-12-08", lesson)), ["travail"]);
        let long = "x".repeat(MAX_TEXT + 1);
        assert_eq!(fields(check_log(&long, "", "", lesson)), ["fait"]);
    }
}

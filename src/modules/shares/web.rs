//! The shares module's pages in the classroom tools: from a class page a
//! teacher hands files out to the class or group (uploaded, at most
//! [`MAX_FILES`] files and [`MAX_UPLOAD`] bytes in all), then collects and
//! returns them, and sees where each student's copy stands. Everything
//! goes through [`super::homework`] — the same code as `preau shares
//! distribute|collect|return` — on the real files under the shares' root,
//! and into the audit log. Who may is `authz::Action::Homework` (a teacher
//! of the class or group).

use super::homework::{self, Action, Upload};
use crate::web::errors::WebError;
use crate::web::forms::Path;
use crate::web::pages::{self, Page};
use crate::web::{AppState, Signed, audit, csrf, forms};
use askama::Template;
use axum::body::Body;
use axum::extract::{Extension, FromRequest, Multipart, Query, Request, State};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

/// The most files one hand-out may upload.
pub const MAX_FILES: usize = 20;
/// The most bytes one hand-out may upload (all files together).
pub const MAX_UPLOAD: usize = 20 * 1024 * 1024;
/// The request body limit of the upload route (files plus the form).
pub const BODY_LIMIT: usize = MAX_UPLOAD + 64 * 1024;

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    crate::web::i18n::spawn_blocking(f)
        .await
        .map_err(|e| WebError::Internal(anyhow::anyhow!("{e}")))?
}

fn run_error(e: homework::RunError) -> WebError {
    match e {
        homework::RunError::Other(e) => WebError::Internal(e),
        homework::RunError::NoStructure(_) => WebError::NotFound,
        other => WebError::BadRequest(other.french()),
    }
}

/// A copy's state in the page's language.
fn state_label(st: homework::CopyState) -> &'static str {
    use homework::CopyState;
    if crate::web::i18n::french() {
        return st.label_fr();
    }
    match st {
        CopyState::NotHandedOut => "not handed out",
        CopyState::HandedOut => "handed out",
        CopyState::Modified => "changed by the student",
        CopyState::Collected => "collected",
        CopyState::Returned => "returned corrected",
    }
}

/// What an upload form carried.
#[derive(Debug, Default)]
pub struct HandOut {
    pub csrf: String,
    pub name: String,
    pub files: Vec<Upload>,
}

/// Checks a hand-out form; a message (French and English) otherwise.
pub fn check_hand_out(h: &HandOut) -> Result<(), crate::config::Msg> {
    use crate::msg;
    if !homework::valid_name(&h.name) {
        return Err(msg!(
            "Name of the homework: letters, digits, \"-\", \"_\" or \".\", at most 64 characters, no dot first (for example dm1-fractions).",
            "Nom du devoir : lettres, chiffres, « - », « _ » ou « . », 64 caractères au plus, sans point au début (par exemple dm1-fractions)."
        ));
    }
    if h.files.is_empty() {
        return Err(msg!(
            "Choose at least one file to hand out.",
            "Choisissez au moins un fichier à distribuer."
        ));
    }
    if h.files.len() > MAX_FILES {
        return Err(msg!(
            "At most {MAX_FILES} files per homework.",
            "Au plus {MAX_FILES} fichiers par devoir."
        ));
    }
    for f in &h.files {
        if !homework::valid_file_name(&f.name) {
            let n = &f.name;
            return Err(msg!(
                "\"{n}\" cannot name a file (no \"/\", no dot first, at most 128 characters).",
                "« {n} » ne peut pas nommer un fichier (pas de « / », pas de point au début, 128 caractères au plus)."
            ));
        }
    }
    let mut names: Vec<&str> = h.files.iter().map(|f| f.name.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(msg!(
            "Two files have the same name.",
            "Deux fichiers portent le même nom."
        ));
    }
    Ok(())
}

/// Reads the multipart form: `csrf`, `nom`, `fichiers` (repeated).
async fn read_hand_out(req: Request) -> Result<HandOut, WebError> {
    let bad = || {
        WebError::BadRequest(
            crate::web::i18n::either(
                "Le formulaire d'envoi n'a pas pu être lu : rechargez la page et recommencez.",
                "The upload form could not be read: reload the page and start again.",
            )
            .into(),
        )
    };
    let mut mp = Multipart::from_request(req, &()).await.map_err(|_| bad())?;
    let mut h = HandOut::default();
    let mut total = 0usize;
    let mut fields = 0usize;
    while let Some(mut field) = mp.next_field().await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            WebError::TooLarge
        } else {
            bad()
        }
    })? {
        fields += 1;
        if fields > MAX_FILES + 10 {
            return Err(WebError::BadRequest(format!(
                "Au plus {MAX_FILES} fichiers par devoir."
            )));
        }
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(str::to_string);
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                WebError::TooLarge
            } else {
                bad()
            }
        })? {
            total += chunk.len();
            if total > MAX_UPLOAD {
                return Err(WebError::TooLarge);
            }
            if name != "fichiers" && bytes.len() + chunk.len() > forms::MAX_VALUE {
                return Err(bad());
            }
            bytes.extend_from_slice(&chunk);
        }
        match (name.as_str(), file_name) {
            ("csrf", _) => h.csrf = String::from_utf8(bytes).map_err(|_| bad())?,
            ("nom", _) => h.name = String::from_utf8(bytes).map_err(|_| bad())?.trim().to_string(),
            // A file input left empty sends one part without a name.
            ("fichiers", Some(f)) if !f.is_empty() => h.files.push(Upload {
                name: f.rsplit(['/', '\\']).next().unwrap_or("").to_string(),
                bytes,
            }),
            _ => {}
        }
    }
    Ok(h)
}

/// `POST /console/classe/{code}/devoirs`: upload and hand out.
pub async fn hand_out(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(code): Path<String>,
    req: Request,
) -> Response {
    let run = async move {
        let h = read_hand_out(req).await?;
        if !csrf::matches(&signed.session.csrf, &h.csrf) {
            return Err(WebError::Forbidden(
                crate::web::i18n::t(crate::web::i18n::current(), "form.expired").into(),
            ));
        }
        check_hand_out(&h).map_err(|m| WebError::BadRequest(crate::web::i18n::pick(m)))?;
        blocking(move || {
            let config = web.config();
            let mut store = web.store()?;
            let teacher = signed.actor.login.clone();
            homework::stage(&web.host, &config.shares, &teacher, &h.name, &h.files)
                .map_err(|e| run_error(homework::RunError::Homework(e)))?;
            let report = homework::run_for(
                &web.host,
                &config.shares,
                &mut store,
                &teacher,
                &code,
                &h.name,
                Action::Distribute,
                None,
            )
            .map_err(run_error)?;
            audit::record(
                &mut store,
                &teacher,
                &signed.peer.to_string(),
                "devoir distribué",
                &format!("{code} {}", h.name),
                &summary(&report),
            )?;
            Ok(crate::web::see_other(
                &format!("/console/classe/{code}/devoirs/{}?fait=distribue", h.name),
                &[],
            ))
        })
        .await
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

fn summary(r: &homework::HomeworkReport) -> String {
    let mut s = format!(
        "{} élève(s), {} fichier(s) copié(s), {} déjà là",
        r.students.len(),
        r.copied,
        r.skipped
    );
    if r.failed > 0 {
        s.push_str(&format!(", {} échec(s)", r.failed));
    }
    s
}

/// `POST /console/classe/{code}/devoirs/{name}/ramasser|rendre`.
async fn collect_or_return(
    web: AppState,
    signed: Arc<Signed>,
    code: String,
    name: String,
    body: Body,
    action: Action,
) -> Response {
    let run = async move {
        let fields = forms::read(body).await?;
        if !csrf::matches(&signed.session.csrf, fields.get("csrf")) {
            return Err(WebError::Forbidden(
                crate::web::i18n::t(crate::web::i18n::current(), "form.expired").into(),
            ));
        }
        blocking(move || {
            let config = web.config();
            let mut store = web.store()?;
            let teacher = signed.actor.login.clone();
            let report = homework::run_for(
                &web.host,
                &config.shares,
                &mut store,
                &teacher,
                &code,
                &name,
                action,
                None,
            )
            .map_err(run_error)?;
            let (what, done) = match action {
                Action::Collect => ("devoir ramassé", "ramasse"),
                _ => ("devoir rendu", "rendu"),
            };
            audit::record(
                &mut store,
                &teacher,
                &signed.peer.to_string(),
                what,
                &format!("{code} {name}"),
                &summary(&report),
            )?;
            Ok(crate::web::see_other(
                &format!("/console/classe/{code}/devoirs/{name}?fait={done}"),
                &[],
            ))
        })
        .await
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

pub async fn collect(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path((code, name)): Path<(String, String)>,
    body: Body,
) -> Response {
    collect_or_return(web, signed, code, name, body, Action::Collect).await
}

pub async fn give_back(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path((code, name)): Path<(String, String)>,
    body: Body,
) -> Response {
    collect_or_return(web, signed, code, name, body, Action::Return).await
}

#[derive(Template)]
#[template(path = "console/homework.html")]
struct HomeworkPage<'a> {
    page: &'a Page,
    notice: Option<&'static str>,
    code: String,
    label: String,
    name: String,
    record: Option<homework::Record>,
    /// (student's name, login, state label, state key)
    rows: Vec<(String, String, &'static str, String)>,
    counts: String,
}

/// `GET /console/classe/{code}/devoirs/{name}`: each student's copy.
pub async fn status(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path((code, name)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let notice = match q.get("fait").map(String::as_str) {
        Some("distribue") => Some(crate::web::i18n::either(
            "Le devoir est distribué dans le dossier « devoirs » de chaque élève.",
            "The homework is handed out in each student's \"devoirs\" folder.",
        )),
        Some("ramasse") => Some(crate::web::i18n::either(
            "Les copies sont ramassées dans votre dossier « devoirs/ramasses ».",
            "The work is collected in your \"devoirs/ramasses\" folder.",
        )),
        Some("rendu") => Some(crate::web::i18n::either(
            "Les corrections sont rendues dans le dossier « corrige » de chaque élève.",
            "The corrections are returned in each student's \"corrige\" folder.",
        )),
        _ => None,
    };
    let run = move || -> Result<Response, WebError> {
        if !homework::valid_name(&name) {
            return Err(WebError::NotFound);
        }
        let config = web.config();
        let store = web.store()?;
        let Some(structure) = crate::directory::structure(store.conn(), &code)? else {
            return Err(WebError::NotFound);
        };
        let teacher = &signed.actor.login;
        let record = homework::records(store.conn())?
            .into_iter()
            .find(|r| &r.teacher == teacher && r.name == name && r.target == structure.code);
        let students = crate::directory::students_of(store.conn(), &structure.code)?;
        let logins: Vec<String> = students.iter().map(|p| p.login.clone()).collect();
        let states = homework::states(&web.host, &config.shares, teacher, &name, &logins);
        let mut tally: Vec<(homework::CopyState, usize)> = Vec::new();
        let rows = students
            .iter()
            .zip(states)
            .map(|(p, (_, st))| {
                match tally.iter_mut().find(|(s, _)| *s == st) {
                    Some((_, n)) => *n += 1,
                    None => tally.push((st, 1)),
                }
                (
                    format!("{} {}", p.last_name, p.first_name),
                    p.login.clone(),
                    state_label(st),
                    serde_json::to_value(st)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                )
            })
            .collect();
        let counts = tally
            .iter()
            .map(|(s, n)| format!("{n} {}", state_label(*s)))
            .collect::<Vec<_>>()
            .join(", ");
        let chrome = Page::signed(
            &format!("{} {name}", crate::web::i18n::either("Devoir", "Homework")),
            &config.establishment.name,
            &signed,
            "/console/classe",
        );
        Ok(pages::render(&HomeworkPage {
            page: &chrome,
            notice,
            label: structure.label.clone(),
            code: structure.code.clone(),
            name: name.clone(),
            record,
            rows,
            counts,
        }))
    };
    blocking(run).await.unwrap_or_else(IntoResponse::into_response)
}

/// A person's share usage and quota as one French line; None when the
/// shares module is off or the person has no personal share (parents).
pub fn usage_line(
    host: &dyn crate::host::Host,
    config: &crate::config::Config,
    person: &crate::directory::Person,
) -> Option<String> {
    if !config.modules.enabled.iter().any(|m| m == "shares") {
        return None;
    }
    let role = super::source::role_of(person.kind.as_str(), person.function.as_deref())?;
    Some(super::usage::of_person(host, &config.shares, &person.login, role).line_fr())
}

/// The homework `teacher` handed out to `code`, newest first (class page).
pub fn handed_out(
    conn: &rusqlite::Connection,
    teacher: &str,
    code: &str,
) -> rusqlite::Result<Vec<homework::Record>> {
    Ok(homework::records(conn)?
        .into_iter()
        .filter(|r| r.teacher == teacher && r.target == code)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(name: &str) -> Upload {
        Upload {
            name: name.into(),
            bytes: b"x".to_vec(),
        }
    }

    #[test]
    fn hand_out_forms_are_checked_in_french() {
        let ok = HandOut {
            csrf: "t".into(),
            name: "dm1".into(),
            files: vec![up("sujet.pdf"), up("annexe.png")],
        };
        assert_eq!(check_hand_out(&ok), Ok(()));
        let with = |name: &str, files: Vec<Upload>| HandOut {
            csrf: "t".into(),
            name: name.into(),
            files,
        };
        for (h, says) in [
            (with("", vec![up("a")]), "Nom du devoir"),
            (with("../x", vec![up("a")]), "Nom du devoir"),
            (with("ramasses", vec![up("a")]), "Nom du devoir"),
            (with("dm1", vec![]), "au moins un fichier"),
            (with("dm1", vec![up(".cache")]), "ne peut pas nommer"),
            (with("dm1", vec![up("a"), up("a")]), "même nom"),
            (
                with("dm1", (0..=MAX_FILES).map(|i| up(&format!("f{i}"))).collect()),
                "Au plus",
            ),
        ] {
            let e = check_hand_out(&h).unwrap_err();
            assert!(e.fr.contains(says), "{e:?}");
            assert!(!e.en.is_empty() && e.en != e.fr, "{e:?}");
        }
    }
}

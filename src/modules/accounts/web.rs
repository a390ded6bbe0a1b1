//! The directory's imports in the console (`/console/imports`): the
//! administrator uploads the national exports (SIECLE students and
//! parents, STS-web, CSV, or a zip of them), sees the import's diff as
//! `preau accounts import` computes it ([`import::plan`]: the one diff),
//! confirms it, and reads the history of imports.
//!
//! The uploaded files are kept in memory under a random token
//! ([`Pending`]: a few at once, for a limited time, for the administrator
//! who sent them). At confirmation the files are read again and planned
//! again inside the write transaction: when the plan differs from the one
//! shown (another import, an account changed meanwhile) nothing is done
//! and the page says so. Then the directory is projected onto the system
//! as the command does ([`crate::web::system::project_accounts`]).

use crate::directory::import::{self, ImportError, ImportPlan, PlanOptions, ReadOptions};
use crate::store::Store;
use crate::web::errors::WebError;
use crate::web::forms::Path;
use crate::web::pages::{self, ImportDonePage, ImportPlanPage, ImportsPage, Page};
use crate::web::{AppState, Signed, audit, csrf, system};
use axum::Extension;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Largest upload (all files together).
pub const MAX_UPLOAD: usize = 64 * 1024 * 1024;
/// Most files in one upload.
pub const MAX_FILES: usize = 10;
/// How long an import waits for its confirmation.
pub const PENDING_TTL: Duration = Duration::from_secs(30 * 60);
/// Most imports waiting at once (the oldest is forgotten first).
pub const MAX_PENDING: usize = 4;
/// Most people listed per category of the diff.
const SHOWN: usize = 500;
/// The audit log's action for an import.
const AUDIT_ACTION: &str = "import des comptes";

/// An uploaded import waiting for its confirmation.
struct Upload {
    login: String,
    files: Vec<(String, Vec<u8>)>,
    allow_mass_disable: bool,
    /// The plan shown, as JSON: what the confirmation must find again.
    shown: String,
    at: Instant,
}

/// Imports waiting for their confirmation, by token.
#[derive(Default)]
pub struct Pending(Mutex<HashMap<String, Upload>>);

impl Pending {
    fn put(&self, token: String, upload: Upload) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, u| u.at.elapsed() < PENDING_TTL);
        while map.len() >= MAX_PENDING {
            let Some(oldest) = map.iter().min_by_key(|(_, u)| u.at).map(|(k, _)| k.clone()) else {
                break;
            };
            map.remove(&oldest);
        }
        map.insert(token, upload);
    }

    /// Takes the upload of `token` if it is `login`'s and still fresh.
    fn take(&self, token: &str, login: &str) -> Option<Upload> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = map
            .get(token)
            .is_some_and(|u| u.login == login && u.at.elapsed() < PENDING_TTL);
        if fresh { map.remove(token) } else { None }
    }
}

/// A file name as shown and as the importer reads it (its extension
/// chooses zip or CSV): the last path component, printable, at most 120
/// characters.
pub fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let name: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    if name.trim().is_empty() {
        "fichier.xml".into()
    } else {
        name
    }
}

/// The message of a file the importer refused, in the current language
/// (the importer's own words stay: they name the file, line and element).
pub fn import_error_fr(e: &ImportError) -> String {
    let fr = crate::web::i18n::french();
    let mut m = if fr {
        format!("Le fichier « {} » ne peut pas être importé", e.file)
    } else {
        format!("The file \"{}\" cannot be imported", e.file)
    };
    if e.line > 0 {
        m.push_str(&format!(" ({} {}", if fr { "ligne" } else { "line" }, e.line));
        if !e.element.is_empty() {
            m.push_str(&format!(
                ", {} <{}>",
                if fr { "élément" } else { "element" },
                e.element
            ));
        }
        m.push(')');
    } else if !e.element.is_empty() {
        m.push_str(&format!(
            " ({} <{}>)",
            if fr { "élément" } else { "element" },
            e.element
        ));
    }
    m.push_str(&format!("{} {}.", if fr { " :" } else { ":" }, e.message));
    if let Some(h) = &e.hint {
        m.push_str(&format!(" {} {h}.", if fr { "Conseil :" } else { "Hint:" }));
    }
    m.push_str(if fr {
        " Rien n'a été modifié."
    } else {
        " Nothing has changed."
    });
    m
}

/// One line of the diff as the page shows it.
#[derive(Debug, Clone)]
pub struct DiffRow {
    pub kind: &'static str,
    pub name: String,
    pub login: String,
    pub detail: String,
}

/// One category of the diff.
#[derive(Debug, Clone)]
pub struct DiffSection {
    pub id: &'static str,
    pub title: &'static str,
    pub total: usize,
    pub rows: Vec<DiffRow>,
}

/// The diff's categories, each cut at [`SHOWN`] lines (pure).
pub fn sections(plan: &ImportPlan) -> Vec<DiffSection> {
    let section = |id, title: (&'static str, &'static str), list: &[import::Entry]| DiffSection {
        id,
        title: crate::web::i18n::either(title.0, title.1),
        total: list.len(),
        rows: list
            .iter()
            .take(SHOWN)
            .map(|e| DiffRow {
                kind: if crate::web::i18n::french() {
                    e.kind.label_fr()
                } else {
                    e.kind.as_str()
                },
                name: e.name.clone(),
                login: e.login.clone().unwrap_or_default(),
                detail: e.detail.clone(),
            })
            .collect(),
    };
    vec![
        section("nouveaux", ("Nouveaux", "New"), &plan.new),
        section("modifies", ("Modifiés", "Changed"), &plan.changed),
        section("retours", ("De retour", "Back"), &plan.returning),
        section(
            "departs",
            ("Départs (comptes désactivés)", "Leaving (accounts disabled)"),
            &plan.leaving,
        ),
    ]
}

/// One applied import of the history.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub at: String,
    pub by: String,
    pub files: String,
    pub counts: String,
}

/// The last imports, newest first: when, who (from the audit log; the
/// command line otherwise), which files, what they did.
pub fn history(conn: &rusqlite::Connection, limit: usize) -> rusqlite::Result<Vec<HistoryRow>> {
    let mut stmt = conn.prepare(
        "SELECT i.at, i.files, i.summary,
                (SELECT a.actor FROM audit_log a
                  WHERE a.action = ?2 AND a.target = 'import ' || i.id LIMIT 1)
           FROM imports i ORDER BY i.id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map(rusqlite::params![limit as i64, AUDIT_ACTION], |r| {
        let files: String = r.get(1)?;
        let summary: String = r.get(2)?;
        let by: Option<String> = r.get(3)?;
        let files: Vec<String> = serde_json::from_str(&files).unwrap_or_default();
        let s: serde_json::Value = serde_json::from_str(&summary).unwrap_or_default();
        let n = |k: &str| s[k].as_u64().unwrap_or(0);
        Ok(HistoryRow {
            at: r.get(0)?,
            by: by.unwrap_or_else(|| crate::web::i18n::either("ligne de commande", "command line").into()),
            files: files.join(", "),
            counts: {
                let (c, u, r, d) = (n("created"), n("updated"), n("reactivated"), n("disabled"));
                crate::web::i18n::pick(crate::msg!(
                    "{c} created, {u} changed, {r} back, {d} disabled",
                    "{c} créé(s), {u} modifié(s), {r} de retour, {d} désactivé(s)"
                ))
            },
        })
    })?;
    rows.collect()
}

fn plan_of(
    conn: &rusqlite::Connection,
    files: &[(String, Vec<u8>)],
    allow_mass_disable: bool,
    config: &crate::config::Config,
) -> Result<Result<ImportPlan, String>, WebError> {
    let opts = ReadOptions::new(&config.establishment.uai, &config.accounts);
    let snapshot = match import::read_uploads(files, &opts) {
        Ok(s) => s,
        Err(e) => return Ok(Err(import_error_fr(&e))),
    };
    let plan = import::plan(
        conn,
        snapshot,
        &PlanOptions {
            max_disable_percent: config.accounts.max_disable_percent,
            allow_mass_disable,
        },
    )?;
    Ok(Ok(plan))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    crate::web::i18n::spawn_blocking(f)
        .await
        .map_err(|e| WebError::Internal(anyhow::anyhow!("{e}")))?
}

fn imports_page(web: &crate::web::Web, signed: &Signed, error: Option<String>) -> Result<Response, WebError> {
    let store = web.store()?;
    let rows = history(store.conn(), 30)?;
    let config = web.config();
    let chrome = Page::signed("Imports", &config.establishment.name, signed, "/console/imports");
    let bad = error.is_some();
    let mut r = pages::render(&ImportsPage {
        page: &chrome,
        error,
        max_mib: MAX_UPLOAD / (1024 * 1024),
        history: rows,
    });
    if bad {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

/// `GET /console/imports`: the upload form and the history.
pub async fn form(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    blocking(move || imports_page(&web, &signed, None))
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// What the upload form sent.
struct Sent {
    csrf: String,
    files: Vec<(String, Vec<u8>)>,
    allow_mass_disable: bool,
}

/// Reads the multipart form with its limits; a French message otherwise.
async fn read_upload(req: Request, web: &AppState) -> Result<Sent, String> {
    let too_big = || {
        let mib = MAX_UPLOAD / (1024 * 1024);
        crate::web::i18n::pick(crate::msg!(
            "The files sent are over {mib} MiB: send them in several goes, or zipped.",
            "Les fichiers envoyés dépassent {mib} Mio : envoyez-les en plusieurs fois ou zippés."
        ))
    };
    let broken = || {
        crate::web::i18n::either(
            "L'envoi a été interrompu ou est mal formé : recommencez.",
            "The upload was cut or is malformed: start again.",
        )
        .to_string()
    };
    let mut mp = Multipart::from_request(req, web).await.map_err(|_| {
        crate::web::i18n::either(
            "Le formulaire d'envoi n'a pas pu être lu : choisissez les fichiers et recommencez.",
            "The upload form could not be read: choose the files and start again.",
        )
        .to_string()
    })?;
    let mut sent = Sent {
        csrf: String::new(),
        files: Vec::new(),
        allow_mass_disable: false,
    };
    let mut total = 0usize;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_big()),
            Err(_) => return Err(broken()),
        };
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(clean_name);
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_big()),
            Err(_) => return Err(broken()),
        };
        total += bytes.len();
        if total > MAX_UPLOAD {
            return Err(too_big());
        }
        match name.as_str() {
            "csrf" => sent.csrf = String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            "forcer" => sent.allow_mass_disable = true,
            "fichiers" => {
                let Some(file_name) = file_name else { continue };
                if bytes.is_empty() {
                    continue;
                }
                if sent.files.len() == MAX_FILES {
                    return Err(crate::web::i18n::pick(crate::msg!(
                        "Send at most {MAX_FILES} files at once.",
                        "Envoyez au plus {MAX_FILES} fichiers à la fois."
                    )));
                }
                sent.files.push((file_name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    Ok(sent)
}

/// `POST /console/imports`: the files sent, read and compared with the
/// directory; shows the diff and, when it may be applied, the
/// confirmation form. Changes nothing.
pub async fn upload(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    req: Request,
) -> Response {
    let sent = match read_upload(req, &web).await {
        Ok(s) => s,
        Err(m) => {
            return blocking(move || imports_page(&web, &signed, Some(m)))
                .await
                .unwrap_or_else(IntoResponse::into_response);
        }
    };
    if !csrf::matches(&signed.session.csrf, &sent.csrf) {
        return WebError::Forbidden(crate::web::i18n::t(crate::web::i18n::current(), "form.expired").into())
            .into_response();
    }
    let run = move || -> Result<Response, WebError> {
        if sent.files.is_empty() {
            return imports_page(
                &web,
                &signed,
                Some("Choisissez au moins un fichier (export SIECLE, STS-web, CSV ou zip).".into()),
            );
        }
        let config = web.config();
        let store = web.store()?;
        let plan = match plan_of(store.conn(), &sent.files, sent.allow_mass_disable, &config)? {
            Ok(p) => p,
            Err(m) => return imports_page(&web, &signed, Some(m)),
        };
        let token = if plan.refusal.is_none() && !plan.is_empty() {
            let token = crate::web::session::new_token();
            web.imports.put(
                token.clone(),
                Upload {
                    login: signed.actor.login.clone(),
                    files: sent.files,
                    allow_mass_disable: sent.allow_mass_disable,
                    shown: serde_json::to_string(&plan).unwrap_or_default(),
                    at: Instant::now(),
                },
            );
            Some(token)
        } else {
            None
        };
        let chrome = Page::signed(
            crate::web::i18n::either("Aperçu de l'import", "Import preview"),
            &config.establishment.name,
            &signed,
            "/console/imports",
        );
        Ok(pages::render(&ImportPlanPage {
            page: &chrome,
            files: plan.files.join(", "),
            sections: sections(&plan),
            unchanged: plan.unchanged,
            new_structures: plan.new_structures.join(", "),
            warnings: plan.warnings.iter().take(SHOWN).cloned().collect(),
            refusal: plan.refusal.clone(),
            empty: plan.is_empty(),
            token,
        }))
    };
    blocking(run).await.unwrap_or_else(IntoResponse::into_response)
}

/// Why a confirmation changed nothing (French, English).
const STALE: (&str, &str) = (
    "L'annuaire a changé depuis l'aperçu (un autre import, ou un compte modifié entre-temps) : rien n'a été fait. Envoyez à nouveau les fichiers pour voir l'aperçu à jour.",
    "The directory changed since the preview (another import, or an account changed meanwhile): nothing was done. Send the files again to see the up-to-date preview.",
);

/// `POST /console/imports/{token}`: performs the import shown, when the
/// directory still gives the same plan.
pub async fn confirm(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(token): Path<String>,
    body: axum::body::Body,
) -> Response {
    let fields = match crate::web::forms::read(body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    if !csrf::matches(&signed.session.csrf, fields.get("csrf")) {
        return WebError::Forbidden(crate::web::i18n::t(crate::web::i18n::current(), "form.expired").into())
            .into_response();
    }
    let run = move || -> Result<Response, WebError> {
        let Some(upload) = web.imports.take(&token, &signed.actor.login) else {
            return imports_page(
                &web,
                &signed,
                Some(
                    crate::web::i18n::either(
                        "Cet aperçu a expiré ou a déjà servi : envoyez à nouveau les fichiers.",
                        "This preview has expired or was already used: send the files again.",
                    )
                    .into(),
                ),
            );
        };
        let config = web.config();
        let mut store = web.store()?;
        let reserved = super::reserved_names(&web.host, &config, store.conn())?;
        let options = super::apply_options(&config.accounts, reserved);
        let outcome = store.write(|tx| -> Result<Result<import::ApplySummary, String>, WebError> {
            let plan = match plan_of(tx, &upload.files, upload.allow_mass_disable, &config)? {
                Ok(p) => p,
                Err(m) => return Ok(Err(m)),
            };
            if serde_json::to_string(&plan).unwrap_or_default() != upload.shown {
                return Ok(Err(crate::web::i18n::either(STALE.0, STALE.1).into()));
            }
            match import::apply(tx, &plan, &options) {
                Ok(s) => Ok(Ok(s)),
                Err(import::ApplyError::Refused(r)) => Ok(Err(crate::web::i18n::pick(crate::msg!(
                    "Import refused: {r}",
                    "Import refusé : {r}"
                )))),
                Err(e) => Err(WebError::Internal(e.into())),
            }
        })?;
        let summary = match outcome {
            Ok(s) => s,
            Err(m) => return refused(&web, &signed, &mut store, m),
        };
        let projected = system::project_accounts(&web.host, &config, &web.config_path)?;
        let (c, u, r, d) = (
            summary.created,
            summary.updated,
            summary.reactivated,
            summary.disabled,
        );
        let counts = crate::msg!(
            "{c} created, {u} changed, {r} back, {d} disabled",
            "{c} créé(s), {u} modifié(s), {r} de retour, {d} désactivé(s)"
        );
        // The audit log keeps the establishment's language.
        audit::record(
            &mut store,
            &signed.actor.login,
            &signed.peer.to_string(),
            AUDIT_ACTION,
            &format!("import {}", summary.import_id),
            &counts.fr,
        )?;
        let counts = crate::web::i18n::pick(counts);
        let system_note = crate::web::i18n::pick(match projected {
            system::Projected::NotEnabled => crate::msg!(
                "The \"accounts\" module is not enabled: only the directory's accounts changed (not the Unix or Samba accounts).",
                "Le module « accounts » n'est pas activé : seuls les comptes de l'annuaire ont changé (pas les comptes Unix ni Samba)."
            ),
            system::Projected::Done { changes } => crate::msg!(
                "The computers' accounts (Unix and Samba) are updated: {changes} change(s).",
                "Comptes des ordinateurs (Unix et Samba) mis à jour : {changes} changement(s)."
            ),
            system::Projected::Failed(e) => crate::msg!(
                "Beware: the computers' accounts could not be updated ({e}); see the dashboard.",
                "Attention : les comptes des ordinateurs n'ont pas pu être mis à jour ({e}) ; voir le tableau de bord."
            ),
        });
        let chrome = Page::signed(
            crate::web::i18n::either("Import effectué", "Import done"),
            &config.establishment.name,
            &signed,
            "/console/imports",
        );
        Ok(pages::render(&ImportDonePage {
            page: &chrome,
            counts,
            system_note,
            created: summary.created,
        }))
    };
    blocking(run).await.unwrap_or_else(IntoResponse::into_response)
}

/// A confirmation that changed nothing: audited, the form again with why.
fn refused(
    web: &crate::web::Web,
    signed: &Signed,
    store: &mut Store,
    message: String,
) -> Result<Response, WebError> {
    audit::record(
        store,
        &signed.actor.login,
        &signed.peer.to_string(),
        AUDIT_ACTION,
        "",
        "refusé : aperçu périmé ou fichiers illisibles",
    )?;
    imports_page(web, signed, Some(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(
            clean_name("C:\\Users\\x\\ElevesSansAdresses.xml"),
            "ElevesSansAdresses.xml"
        );
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("a\u{0}b\n.zip"), "ab.zip");
        assert_eq!(clean_name(""), "fichier.xml");
        assert_eq!(clean_name(&"é".repeat(300)).chars().count(), 120);
    }

    #[test]
    fn import_errors_in_french() {
        let e = ImportError::new("e.xml", 12, "ELEVE", "truncated").hint("export again");
        let m = import_error_fr(&e);
        assert!(
            m.starts_with(
                "Le fichier « e.xml » ne peut pas être importé (ligne 12, élément <ELEVE>) : truncated."
            ),
            "{m}"
        );
        assert!(m.ends_with("Rien n'a été modifié."));
    }

    #[test]
    fn pending_imports_are_bounded_and_personal() {
        let p = Pending::default();
        let up = |login: &str| Upload {
            login: login.into(),
            files: vec![],
            allow_mass_disable: false,
            shown: String::new(),
            at: Instant::now(),
        };
        for i in 0..(MAX_PENDING + 2) {
            p.put(format!("t{i}"), up("admin"));
        }
        assert_eq!(p.0.lock().unwrap().len(), MAX_PENDING);
        assert!(p.take("t0", "admin").is_none(), "the oldest is forgotten");
        assert!(p.take("t5", "autre").is_none(), "another admin's upload");
        assert!(p.take("t5", "admin").is_some());
        assert!(p.take("t5", "admin").is_none(), "used once");
    }
}

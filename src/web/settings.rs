//! The console's settings pages (`/console/reglages`): the sections of
//! the configuration, a form per section generated from the schema
//! ([`super::settings_form`]), then the plan of the new configuration
//! (validated by [`crate::config::parse`], the validator of `preau
//! check`; planned by [`crate::engine::Plan::make`], as `preau plan`),
//! then its apply: `preau.toml` written atomically through the host, and
//! the engine's one apply session ([`crate::engine::session::run`], lock
//! and record, as `preau apply`). A change of the firewall is applied
//! with confirm-or-rollback (as `preau apply --confirm`, for `[firewall]
//! confirm_seconds`), and the result page has the countdown and the
//! "Confirmer" button calling the same confirm as `preau confirm`. After a
//! successful apply the running daemon re-reads its configuration through
//! the same path as SIGHUP ([`super::Web::reload`]).
//!
//! The new text waits between the plan and the apply under a random
//! token ([`Pending`]), for the administrator who asked, for a limited
//! time; the apply refuses when the file changed meanwhile.

use super::errors::WebError;
use super::i18n::{self, pick};
use super::pages::{self, Page, SettingsDonePage, SettingsFormPage, SettingsListPage, SettingsPlanPage};
use super::settings_form::{self as form, Field};
use super::{AppState, Signed, audit, csrf};
use crate::engine::session;
use crate::engine::{Context, Plan};
use crate::host::{Host, Owner};
use crate::modules::firewall::apply as firewall;
use crate::msg;
use crate::web::forms::Path;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a plan waits for its "Appliquer".
pub const PENDING_TTL: Duration = Duration::from_secs(15 * 60);
/// Most plans waiting at once (the oldest is forgotten first).
pub const MAX_PENDING: usize = 4;
/// The audit log's action.
const AUDIT_ACTION: &str = "réglages";

/// A new configuration waiting for its "Appliquer".
struct Waiting {
    login: String,
    section: String,
    /// The file as it was when the plan was made.
    base: String,
    text: String,
    at: Instant,
}

/// Plans waiting for their "Appliquer", by token.
#[derive(Default)]
pub struct Pending(Mutex<HashMap<String, Waiting>>);

impl Pending {
    fn put(&self, token: String, w: Waiting) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, w| w.at.elapsed() < PENDING_TTL);
        while map.len() >= MAX_PENDING {
            let Some(oldest) = map.iter().min_by_key(|(_, w)| w.at).map(|(k, _)| k.clone()) else {
                break;
            };
            map.remove(&oldest);
        }
        map.insert(token, w);
    }

    fn take(&self, token: &str, login: &str, section: &str) -> Option<Waiting> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = map
            .get(token)
            .is_some_and(|w| w.login == login && w.section == section && w.at.elapsed() < PENDING_TTL);
        if fresh { map.remove(token) } else { None }
    }
}

/// Whether a plan changes the firewall (then applied with confirm).
pub fn changes_firewall(plan: &Plan) -> bool {
    plan.modules
        .iter()
        .any(|m| m.module == "firewall" && !m.changes.is_empty())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    i18n::spawn_blocking(f)
        .await
        .map_err(|e| WebError::Internal(anyhow::anyhow!("{e}")))?
}

fn respond(r: Result<Response, WebError>) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

/// The configuration file's text; a French message when it cannot be read.
fn current_text(web: &super::Web) -> Result<String, WebError> {
    let shown = web.config_path.display().to_string();
    let missing = || {
        WebError::BadRequest(pick(msg!(
            "The configuration file {shown} cannot be found: write it with \"preau init\".",
            "Le fichier de configuration {shown} est introuvable : créez-le avec « preau init »."
        )))
    };
    let bytes = web
        .host
        .read(&web.config_path)
        .map_err(|e| {
            WebError::BadRequest(pick(msg!(
                "The configuration file {shown} cannot be read ({e}).",
                "Le fichier de configuration {shown} est illisible ({e})."
            )))
        })?
        .ok_or_else(missing)?;
    if bytes.len() > crate::config::MAX_CONFIG_BYTES {
        return Err(WebError::BadRequest(pick(msg!(
            "The configuration file {shown} is too large to be a Préau configuration.",
            "Le fichier de configuration {shown} est trop gros pour être une configuration de Préau."
        ))));
    }
    String::from_utf8(bytes).map_err(|_| {
        WebError::BadRequest(pick(msg!(
            "The configuration file {shown} is not UTF-8 text.",
            "Le fichier de configuration {shown} n'est pas du texte UTF-8."
        )))
    })
}

fn section_of(key: &str) -> Result<form::Section, WebError> {
    form::sections(&crate::config::schema(), i18n::current())
        .into_iter()
        .find(|s| s.key == key)
        .ok_or(WebError::NotFound)
}

fn fields_of(text: &str, section: &str) -> Result<Vec<Field>, WebError> {
    let doc: toml_edit::DocumentMut = text.parse().map_err(|_| {
        WebError::BadRequest(pick(msg!(
            "The configuration file is not valid TOML: fix it first (preau check).",
            "Le fichier de configuration n'est pas du TOML valide : corrigez-le d'abord (preau check)."
        )))
    })?;
    form::fields(&crate::config::schema(), section, &doc, i18n::current()).ok_or(WebError::NotFound)
}

/// `GET /console/reglages`: the sections.
pub async fn list(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    let config = web.config();
    let chrome = Page::signed(
        i18n::t(i18n::current(), "settings.title"),
        &config.establishment.name,
        &signed,
        "/console/reglages",
    );
    pages::render(&SettingsListPage {
        page: &chrome,
        path: web.config_path.display().to_string(),
        sections: form::sections(&crate::config::schema(), i18n::current()),
    })
}

fn form_page(
    web: &super::Web,
    signed: &Signed,
    section: &form::Section,
    fields: Vec<Field>,
    errors: Vec<String>,
    notice: Option<String>,
) -> Response {
    let config = web.config();
    let chrome = Page::signed(
        &format!(
            "{} : {}",
            i18n::t(i18n::current(), "settings.title"),
            section.label
        ),
        &config.establishment.name,
        signed,
        "/console/reglages",
    );
    let invalid = fields.iter().any(|f| f.error.is_some());
    let bad = !errors.is_empty() || invalid;
    let mut r = pages::render(&SettingsFormPage {
        page: &chrome,
        section,
        path: web.config_path.display().to_string(),
        fields,
        errors,
        invalid,
        notice,
    });
    if bad {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    r
}

/// `GET /console/reglages/{section}`: the section's form.
pub async fn edit_form(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(key): Path<String>,
) -> Response {
    respond(
        blocking(move || {
            let section = section_of(&key)?;
            let text = current_text(&web)?;
            let fields = fields_of(&text, &key)?;
            Ok(form_page(&web, &signed, &section, fields, Vec::new(), None))
        })
        .await,
    )
}

fn expired() -> WebError {
    WebError::Forbidden(i18n::t(i18n::current(), "form.expired").into())
}

/// `POST /console/reglages/{section}`: the submitted values, validated
/// as `preau check` does, then the plan; nothing is written.
pub async fn check(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(key): Path<String>,
    body: axum::body::Body,
) -> Response {
    let sent = match super::forms::read(body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    if !csrf::matches(&signed.session.csrf, sent.get("csrf")) {
        return expired().into_response();
    }
    respond(blocking(move || check_blocking(&web, &signed, &key, &sent)).await)
}

fn check_blocking(
    web: &super::Web,
    signed: &Signed,
    key: &str,
    sent: &super::forms::Fields,
) -> Result<Response, WebError> {
    let section = section_of(key)?;
    let text = current_text(web)?;
    let mut fields = fields_of(&text, key)?;
    let get = |name: &str| sent.has(name).then(|| sent.get(name).to_string());
    // What was sent is shown again, beside its error.
    let resend = |fields: &mut Vec<Field>| {
        for f in fields.iter_mut() {
            match f.kind {
                form::Kind::ReadOnly => {}
                form::Kind::Boolean if sent.has(&format!("b.{}", f.key)) => {
                    f.value = sent.has(&f.name()).to_string()
                }
                form::Kind::Boolean => {}
                _ if sent.has(&f.name()) => f.value = sent.get(&f.name()).to_string(),
                _ => {}
            }
        }
    };
    let new_text = match form::edit(&text, key, &fields, get) {
        Ok(t) => t,
        Err(errs) => {
            let mut general = Vec::new();
            for (k, m) in errs {
                let m = pick(m);
                match fields.iter_mut().find(|f| f.key == k) {
                    Some(f) => f.error = Some(m),
                    None => general.push(m),
                }
            }
            resend(&mut fields);
            return Ok(form_page(web, signed, &section, fields, general, None));
        }
    };
    let shown = web.config_path.display().to_string();
    let config = match crate::config::parse(&new_text, &shown) {
        Ok(c) => c,
        Err(errors) => {
            let mut general = Vec::new();
            let french = i18n::french();
            for e in errors.0 {
                let (message, hint) = e.text(french);
                let mut m = format!(
                    "{} {message}",
                    i18n::t(i18n::current(), "settings.refused_by_check")
                );
                if let Some(h) = hint {
                    m.push_str(&format!(" — {h}"));
                }
                match form::field_of(key, &e.path).and_then(|k| fields.iter_mut().find(|f| f.key == k)) {
                    Some(f) => {
                        f.error = Some(match f.error.take() {
                            Some(prev) => format!("{prev} {m}"),
                            None => m,
                        })
                    }
                    None => general.push(pick(msg!(
                        en("{} (line {}): {m}", e.path, e.line),
                        fr("{} (ligne {}) : {m}", e.path, e.line)
                    ))),
                }
            }
            resend(&mut fields);
            return Ok(form_page(web, signed, &section, fields, general, None));
        }
    };
    if new_text == text {
        return Ok(form_page(
            web,
            signed,
            &section,
            fields,
            Vec::new(),
            Some(i18n::t(i18n::current(), "settings.unchanged").into()),
        ));
    }
    let after = fields_of(&new_text, key)?;
    let changed: Vec<(String, String, String)> = fields
        .iter()
        .zip(&after)
        .filter(|(a, b)| a.value != b.value)
        .map(|(a, b)| {
            (
                a.key.clone(),
                a.value.replace('\n', ", "),
                b.value.replace('\n', ", "),
            )
        })
        .collect();
    let ctx = Context::at(&config, &web.host, web.config_path.clone());
    let planned = crate::modules::selected(&config, &[])
        .map_err(anyhow::Error::msg)
        .and_then(|chosen| Ok(Plan::make(&ctx, &chosen)?));
    let (plan, plan_error, firewall_changes) = match planned {
        Ok(p) => (
            if p.is_empty() {
                i18n::t(i18n::current(), "settings.nothing_to_change").to_string()
            } else {
                p.render()
            },
            None,
            changes_firewall(&p),
        ),
        Err(e) => (String::new(), Some(format!("{e:#}")), false),
    };
    let token = plan_error.is_none().then(|| {
        let token = super::session::new_token();
        web.settings.put(
            token.clone(),
            Waiting {
                login: signed.actor.login.clone(),
                section: key.to_string(),
                base: text.clone(),
                text: new_text.clone(),
                at: Instant::now(),
            },
        );
        token
    });
    let chrome = Page::signed(
        &format!(
            "{} : {}",
            i18n::t(i18n::current(), "settings.plan_title"),
            section.label
        ),
        &web.config().establishment.name,
        signed,
        "/console/reglages",
    );
    Ok(pages::render(&SettingsPlanPage {
        page: &chrome,
        section: &section,
        changed,
        plan,
        plan_error,
        firewall: firewall_changes,
        confirm_seconds: u64::from(config.firewall.confirm_seconds),
        token,
    }))
}

/// `POST /console/reglages/{section}/appliquer`: writes the planned text
/// and applies it.
pub async fn apply(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(key): Path<String>,
    body: axum::body::Body,
) -> Response {
    let sent = match super::forms::read(body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    if !csrf::matches(&signed.session.csrf, sent.get("csrf")) {
        return expired().into_response();
    }
    respond(blocking(move || apply_blocking(&web, &signed, &key, sent.get("jeton"))).await)
}

fn apply_blocking(web: &super::Web, signed: &Signed, key: &str, token: &str) -> Result<Response, WebError> {
    let section = section_of(key)?;
    let text = current_text(web)?;
    let refuse = |m: &str| -> Result<Response, WebError> {
        let fields = fields_of(&text, key)?;
        Ok(form_page(
            web,
            signed,
            &section,
            fields,
            vec![m.to_string()],
            None,
        ))
    };
    let Some(waiting) = web.settings.take(token, &signed.actor.login, key) else {
        return refuse(i18n::t(i18n::current(), "settings.plan_expired"));
    };
    if waiting.base != text {
        return refuse(i18n::t(i18n::current(), "settings.file_changed"));
    }
    let shown = web.config_path.display().to_string();
    let config = crate::config::parse(&waiting.text, &shown)
        .map_err(|e| WebError::Internal(anyhow::anyhow!("a planned configuration no longer parses: {e}")))?;
    // The file keeps its mode and owner (0640 root when `preau init` wrote it).
    let (mode, owner) = match web.host.meta(&web.config_path) {
        Ok(Some(m)) => (m.mode, Owner::ids(m.uid, m.gid)),
        _ => (0o640, Owner::root()),
    };
    web.host
        .write_file(&web.config_path, waiting.text.as_bytes(), mode, &owner)
        .map_err(|e| WebError::Internal(anyhow::Error::new(e).context("writing the configuration")))?;
    let peer = signed.peer.to_string();
    let mut store = web.store()?;
    audit::record(
        &mut store,
        &signed.actor.login,
        &peer,
        AUDIT_ACTION,
        key,
        &format!("{shown} enregistré"),
    )?;
    let ctx = Context::at(&config, &web.host, web.config_path.clone());
    let outcome = crate::modules::selected(&config, &[])
        .map_err(anyhow::Error::msg)
        .and_then(|chosen| {
            let plan = Plan::make(&ctx, &chosen)?;
            // The new configuration's delay (`[firewall] confirm_seconds`).
            let confirm = changes_firewall(&plan).then_some(u64::from(config.firewall.confirm_seconds));
            Ok((
                session::run(&ctx, &chosen, &session::Options { confirm })?,
                confirm,
            ))
        });
    let (ok, summary, report, mut notes, countdown) = match outcome {
        Ok((s, confirm)) => {
            // With a confirm armed, the page's French countdown says what
            // the firewall's note says to the command line.
            let notes: Vec<String> = s
                .before
                .iter()
                .chain(&s.after)
                .filter(|n| confirm.is_none() || n.level != session::Level::Info)
                .map(|n| n.text.clone())
                .collect();
            let summary = if !s.report.ok {
                i18n::t(i18n::current(), "settings.apply_failed").to_string()
            } else if s.plan.is_empty() {
                i18n::t(i18n::current(), "settings.up_to_date").to_string()
            } else {
                let n = s.plan.change_count();
                pick(msg!(
                    "Configuration saved and applied: {n} change(s).",
                    "Configuration enregistrée et appliquée : {n} changement(s)."
                ))
            };
            let countdown = confirm.and_then(|_| {
                let files = firewall::Files::new(std::path::Path::new(&config.paths.state_dir));
                firewall::read_pending(&web.host, &files).map(|p| firewall::seconds_left(&p).max(0))
            });
            (s.report.ok, summary, s.report.render(), notes, countdown)
        }
        Err(e) => (
            false,
            pick(msg!(
                "The configuration is saved but could not be applied: {e:#}. Run \"preau apply\" again.",
                "La configuration est enregistrée mais n'a pas pu être appliquée : {e:#}. Relancez « preau apply »."
            )),
            String::new(),
            Vec::new(),
            None,
        ),
    };
    // The running daemon takes the new settings at once: the same reload
    // as SIGHUP (a refused one keeps the running configuration).
    let reloaded = if ok { web.reload() } else { None };
    if let Some(r) = &reloaded {
        notes.insert(0, reload_note(r));
    }
    let outcome = match (ok, &reloaded) {
        (false, _) => "application échouée".to_string(),
        (true, Some(Ok(()))) => "appliqué ; configuration relue par le serveur".to_string(),
        (true, Some(Err(e))) => format!("appliqué ; rechargement du serveur refusé : {e}"),
        (true, None) => "appliqué".to_string(),
    };
    audit::record(
        &mut store,
        &signed.actor.login,
        &peer,
        AUDIT_ACTION,
        key,
        &outcome,
    )?;
    let chrome = Page::signed(
        i18n::t(
            i18n::current(),
            if ok { "settings.applied" } else { "settings.failed" },
        ),
        &config.establishment.name,
        signed,
        "/console/reglages",
    );
    let mut r = pages::render(&SettingsDonePage {
        page: &chrome,
        section: &section,
        ok,
        summary,
        report,
        notes,
        countdown,
    });
    // A failed apply is not the request's fault: a 200 with the report.
    if !ok {
        r.headers_mut()
            .insert("x-preau-apply", axum::http::HeaderValue::from_static("failed"));
    }
    Ok(r)
}

/// What the result page says of the server's reload (pure).
pub fn reload_note(reloaded: &Result<(), String>) -> String {
    match reloaded {
        Ok(()) => "Le serveur a relu sa configuration : les nouveaux réglages sont en service.".into(),
        Err(e) => format!(
            "Le serveur garde la configuration qu'il avait : il a refusé de la relire ({e}). Corrigez, puis relancez « systemctl reload preau »."
        ),
    }
}

/// `POST /console/reglages/firewall/confirmer`: keeps the firewall's new
/// ruleset, as `preau confirm`.
pub async fn confirm(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    body: axum::body::Body,
) -> Response {
    let sent = match super::forms::read(body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    if !csrf::matches(&signed.session.csrf, sent.get("csrf")) {
        return expired().into_response();
    }
    respond(
        blocking(move || {
            let config = web.config();
            let files = firewall::Files::new(std::path::Path::new(&config.paths.state_dir));
            let out = firewall::confirm(&web.host, &files)
                .map_err(|e| WebError::Internal(anyhow::Error::new(e).context("firewall confirm")))?;
            let mut store = web.store()?;
            audit::record(
                &mut store,
                &signed.actor.login,
                &signed.peer.to_string(),
                "confirmation du pare-feu",
                "firewall",
                if out.done {
                    "confirmé"
                } else {
                    "rien à confirmer"
                },
            )?;
            let section = section_of("firewall")?;
            let summary = if out.done {
                i18n::t(i18n::current(), "settings.confirmed").to_string()
            } else {
                // The firewall's own words are `preau confirm`'s (English):
                // the two reasons it gives, in the page's language.
                let why = if out.message.starts_with("nothing to confirm") {
                    i18n::either(
                        "aucune application à l'essai n'attend de confirmation (elle a peut-être déjà été annulée).",
                        "no trial apply is waiting for a confirmation (it may have been rolled back already).",
                    )
                    .to_string()
                } else if out.message.starts_with("too late") {
                    i18n::either(
                        "trop tard : le délai de cette application à l'essai est passé et son annulation n'a pas eu lieu (le serveur a-t-il redémarré ?). Lancez « preau rollback », puis appliquez à nouveau.",
                        "too late: this trial apply expired and its rollback did not run (was the server restarted?). Run \"preau rollback\", then apply again.",
                    )
                    .to_string()
                } else {
                    out.message.clone()
                };
                format!("{} {why}", i18n::t(i18n::current(), "settings.not_confirmed"))
            };
            let chrome = Page::signed(
                i18n::t(i18n::current(), "settings.confirm_title"),
                &config.establishment.name,
                &signed,
                "/console/reglages",
            );
            Ok(pages::render(&SettingsDonePage {
                page: &chrome,
                section: &section,
                ok: out.done,
                summary,
                report: String::new(),
                notes: Vec::new(),
                countdown: None,
            }))
        })
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ModulePlan;

    #[test]
    fn only_a_firewall_change_asks_for_confirmation() {
        let empty = Plan {
            modules: vec![ModulePlan {
                module: "firewall",
                changes: Vec::new(),
            }],
        };
        assert!(!changes_firewall(&empty));
        assert!(!changes_firewall(&Plan { modules: Vec::new() }));
    }

    /// The result page of a firewall change: the seconds left as text
    /// (without JavaScript), the countdown's hook and the Confirmer form.
    #[test]
    fn the_result_page_shows_the_countdown_and_the_confirm_button() {
        let page = Page::anonymous("Réglages appliqués");
        let section = form::Section {
            key: "firewall".into(),
            label: "Pare-feu".into(),
            description: String::new(),
        };
        let html = askama::Template::render(&SettingsDonePage {
            page: &page,
            section: &section,
            ok: true,
            summary: "Configuration enregistrée et appliquée : 1 changement(s).".into(),
            report: "ok".into(),
            notes: Vec::new(),
            countdown: Some(95),
        })
        .unwrap();
        assert!(
            html.contains("data-countdown=\"95\" id=\"decompte\">95</strong> secondes"),
            "{html}"
        );
        assert!(
            html.contains("action=\"/console/reglages/firewall/confirmer\""),
            "{html}"
        );
        assert!(html.contains("id=\"confirmer\">Confirmer</button>"), "{html}");
    }

    #[test]
    fn a_pending_plan_is_for_its_admin_and_section_once() {
        let p = Pending::default();
        let w = |login: &str| Waiting {
            login: login.into(),
            section: "server".into(),
            base: String::new(),
            text: "x".into(),
            at: Instant::now(),
        };
        p.put("t".into(), w("admin"));
        assert!(p.take("t", "other", "server").is_none());
        assert!(p.take("t", "admin", "paths").is_none());
        assert!(p.take("t", "admin", "server").is_some());
        assert!(p.take("t", "admin", "server").is_none(), "used once");
        for i in 0..MAX_PENDING + 2 {
            p.put(format!("t{i}"), w("admin"));
        }
        assert_eq!(p.0.lock().unwrap().len(), MAX_PENDING);
    }
}

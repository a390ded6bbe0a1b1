//! The console (`/console/…`): the dashboard, people (search, a person's
//! page, disable/enable, new password and its slip, a class's slips), the
//! audit log, and the teachers' classroom pages. Handlers are thin: the
//! guard has already authorized the action; they read the directory,
//! call it, render.

use super::errors::WebError;
use super::i18n::pick;
use super::pages::{
    self, AuditPage, ClassPage, ClassroomPage, DashboardPage, DiskRow, ModuleRow, Page, PeoplePage,
    PersonPage, PersonRow, SlipsPage, StudentRow,
};
use super::{AppState, Signed, audit, authz, csrf, forms, session, system};
use crate::config::Msg;
use crate::directory::{self, Kind, Status, password};
use crate::modules::accounts::sheets;
use crate::msg;
use crate::web::forms::Path;
use axum::Extension;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the dashboard's figures are reused (reading them takes a
/// CPU sample and every module's health).
const DASHBOARD_TTL: Duration = Duration::from_secs(10);

/// The dashboard's figures.
#[derive(Debug)]
pub struct Dashboard {
    /// In both languages: the cache serves French and English pages.
    alerts: Vec<Msg>,
    hostname: String,
    cpus: usize,
    cpu: String,
    load: String,
    memory: Msg,
    uptime: Msg,
    counts: directory::Counts,
    disks: Vec<DiskRow>,
    modules: Vec<ModuleRow>,
    applies: Vec<crate::store::ApplyRecord>,
    imports: Vec<(String, String)>,
}

fn human(bytes: u64) -> String {
    crate::modules::shares::usage::human(bytes)
}

fn uptime(secs: u64) -> Msg {
    let (d, h, m) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60);
    if d > 0 {
        msg!("{d} d {h} h {m} min", "{d} j {h} h {m} min")
    } else {
        msg!("{h} h {m} min", "{h} h {m} min")
    }
}

/// What the dashboard's alerts are made from.
#[derive(Debug, Default)]
pub struct AlertFacts<'a> {
    pub modules: &'a [ModuleRow],
    pub disks: &'a [DiskRow],
    pub last_apply_failed: bool,
    pub days_since_import: Option<i64>,
    /// Age in days of the proxy's category lists (proxy enabled, lists
    /// installed).
    pub lists_age_days: Option<i64>,
}

/// Alerts from the figures (pure): a module not running well, a disk
/// above 90 %, the last apply failed, no import for more than a week,
/// category lists older than a week.
pub fn alerts(f: &AlertFacts<'_>) -> Vec<Msg> {
    let mut out = Vec::new();
    for m in f.modules.iter().filter(|m| !m.ok) {
        out.push(msg!(
            en("The module {} is \"{}\".", m.name, m.state_en),
            fr("Le module {} est en état « {} ».", m.name, m.state)
        ));
    }
    for d in f.disks.iter().filter(|d| d.full) {
        out.push(msg!(
            en("The disk {} is {} % full.", d.mount, d.used),
            fr("Le disque {} est occupé à {} %.", d.mount, d.used)
        ));
    }
    if f.last_apply_failed {
        out.push(msg!(
            "The last apply failed: see its report with \"preau status\".",
            "La dernière mise en œuvre a échoué : voir le rapport avec « preau status »."
        ));
    }
    if let Some(days) = f.days_since_import.filter(|d| *d > 7) {
        out.push(msg!(
            "The student and staff lists are {days} days old: import the recent SIECLE and STS-web exports.",
            "Les listes d'élèves et de personnels ont {days} jours : importez les exports SIECLE et STS-web récents."
        ));
    }
    if let Some(days) = f.lists_age_days.filter(|d| *d > 7) {
        out.push(msg!(
            "The proxy's filtering lists are {days} days old: update them (\"preau blacklists update\").",
            "Les listes de filtrage du proxy ont {days} jours : mettez-les à jour (« preau blacklists update »)."
        ));
    }
    out
}

/// The alert of a firewall change waiting for its confirmation (pure):
/// `seconds_left` before it rolls back by itself.
pub fn firewall_alert(seconds_left: i64) -> Msg {
    let left = seconds_left.max(0);
    let (m, s) = (left / 60, left % 60);
    msg!(
        "A firewall change waits for its confirmation: without \"preau confirm\" it is undone in {m} min {s:02} s.",
        "Un changement du pare-feu attend sa confirmation : sans « preau confirm », il sera annulé dans {m} min {s:02} s."
    )
}

/// The pending firewall confirmation, read on each request (one small
/// file) so that its countdown is exact.
fn firewall_pending(web: &super::Web) -> Option<i64> {
    use crate::modules::firewall::apply;
    let config = web.config();
    if !config.modules.enabled.iter().any(|m| m == "firewall") {
        return None;
    }
    let files = apply::Files::new(std::path::Path::new(&config.paths.state_dir));
    apply::read_pending(&web.host, &files).map(|p| apply::seconds_left(&p))
}

/// Age in days of the installed category lists, when the proxy is on.
fn lists_age_days(web: &super::Web, config: &crate::config::Config) -> Option<i64> {
    use crate::host::Host;
    if !config.modules.enabled.iter().any(|m| m == "proxy") {
        return None;
    }
    let dir = web.host.real_path(&crate::modules::proxy::lists_dir(config));
    let nanos: u128 = crate::modules::proxy::lists::stamp(&dir)?.trim().parse().ok()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some((now.saturating_sub(nanos) / 86_400_000_000_000) as i64)
}

fn load_dashboard(web: &super::Web) -> Result<Dashboard, WebError> {
    let config = web.config();
    let mut ctx = crate::modules::Context::new(&config, &web.host);
    ctx.config_path = web.config_path.clone();
    let db = web.db_path();
    let report = crate::status::collect(&ctx, Some(&db));
    let store = web.store()?;
    let counts = directory::counts(store.conn())?;
    let applies = store.recent_applies(5)?;
    let imports = store.recent_imports(5)?;
    let days_since_import: Option<i64> = match imports.first() {
        Some((at, _)) => store
            .conn()
            .query_row(
                "SELECT CAST(julianday('now') - julianday(?1) AS INTEGER)",
                [at],
                |r| r.get(0),
            )
            .ok(),
        None => None,
    };
    let h = &report.host;
    let disks: Vec<DiskRow> = h
        .disks
        .iter()
        .map(|d| DiskRow {
            mount: d.mount_point.clone(),
            fs: d.filesystem.clone(),
            total: human(d.total_bytes),
            free: human(d.available_bytes),
            used: format!("{:.1}", d.used_percent),
            full: d.used_percent > 90.0,
        })
        .collect();
    let modules: Vec<ModuleRow> = report
        .modules
        .iter()
        .map(|m| {
            let (state, state_en) = match m.state {
                crate::modules::State::Ok => ("en marche", "running"),
                crate::modules::State::Degraded => ("dégradé", "degraded"),
                crate::modules::State::Failed => ("en échec", "failed"),
            };
            ModuleRow {
                name: m.module.to_string(),
                state,
                state_en,
                ok: matches!(m.state, crate::modules::State::Ok),
                details: m.details.clone(),
            }
        })
        .collect();
    let last_failed = applies.first().is_some_and(|a| !a.ok);
    Ok(Dashboard {
        alerts: alerts(&AlertFacts {
            modules: &modules,
            disks: &disks,
            last_apply_failed: last_failed,
            days_since_import,
            lists_age_days: lists_age_days(web, &config),
        }),
        hostname: h.hostname.clone().unwrap_or_default(),
        cpus: h.cpus,
        cpu: format!("{:.1}", h.cpu_usage_percent),
        load: format!(
            "{:.2} {:.2} {:.2}",
            h.load_average[0], h.load_average[1], h.load_average[2]
        ),
        memory: {
            let (used, total) = (human(h.memory_used_bytes), human(h.memory_total_bytes));
            msg!("{used} used of {total}", "{used} utilisés sur {total}")
        },
        uptime: uptime(h.uptime_seconds),
        counts,
        disks,
        modules,
        applies,
        imports,
    })
}

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    super::i18n::spawn_blocking(f)
        .await
        .map_err(|e| WebError::Internal(anyhow::anyhow!("{e}")))?
}

pub(super) fn respond(r: Result<Response, WebError>) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

/// `GET /console`.
pub async fn dashboard(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    let (fresh, stale) = match web.dashboard.lock() {
        Ok(c) => match c.as_ref() {
            Some((at, d)) if at.elapsed() < DASHBOARD_TTL => (Some(d.clone()), None),
            Some((_, d)) => (None, Some(d.clone())),
            None => (None, None),
        },
        Err(_) => (None, None),
    };
    let data = match (fresh, stale) {
        (Some(d), _) => d,
        // Another request is reading the figures again: show the previous ones.
        (None, Some(d)) if web.dashboard_refresh.try_lock().is_err() => d,
        _ => {
            let _refreshing = web.dashboard_refresh.lock().await;
            let cached = web.dashboard.lock().ok().and_then(|c| {
                c.as_ref()
                    .filter(|(at, _)| at.elapsed() < DASHBOARD_TTL)
                    .map(|(_, d)| d.clone())
            });
            match cached {
                Some(d) => d,
                None => {
                    let w = web.clone();
                    match blocking(move || load_dashboard(&w)).await {
                        Ok(d) => {
                            let d = Arc::new(d);
                            if let Ok(mut c) = web.dashboard.lock() {
                                *c = Some((Instant::now(), d.clone()));
                            }
                            d
                        }
                        Err(e) => return e.into_response(),
                    }
                }
            }
        }
    };
    let mut alerts: Vec<String> = data.alerts.iter().cloned().map(pick).collect();
    // One small file, only with the firewall on: read here, not cached.
    if let Some(left) = firewall_pending(&web) {
        alerts.insert(0, pick(firewall_alert(left)));
    }
    let config = web.config();
    let chrome = Page::signed(
        super::i18n::t(super::i18n::current(), "nav.dashboard"),
        &config.establishment.name,
        &signed,
        "/console",
    );
    pages::render(&DashboardPage {
        page: &chrome,
        alerts: &alerts,
        hostname: &data.hostname,
        cpus: data.cpus,
        cpu: data.cpu.clone(),
        load: data.load.clone(),
        memory: pick(data.memory.clone()),
        uptime: pick(data.uptime.clone()),
        counts: &data.counts,
        disks: &data.disks,
        modules: &data.modules,
        applies: &data.applies,
        imports: &data.imports,
    })
}

/// A person's kind in the current language.
pub(super) fn kind_label(k: Kind) -> &'static str {
    match (super::i18n::french(), k) {
        (true, k) => k.label_fr(),
        (false, Kind::Student) => "student",
        (false, Kind::Teacher) => "teacher",
        (false, Kind::Staff) => "staff",
        (false, Kind::Parent) => "parent",
    }
}

/// An account's state in the current language.
fn status_fr(s: Status) -> &'static str {
    let french = super::i18n::french();
    match s {
        Status::Active if french => "actif",
        Status::Active => "active",
        Status::Disabled if french => "désactivé",
        Status::Disabled => "disabled",
        Status::Deleting if french => "à supprimer",
        Status::Deleting => "to delete",
    }
}

/// Most people listed by one search.
const SEARCH_LIMIT: usize = 50;

/// `GET /console/personnes?q=`.
pub async fn people(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let q: String = query
        .get("q")
        .map(|s| s.chars().take(100).collect())
        .unwrap_or_default();
    let w = web.clone();
    let qq = q.clone();
    let found = blocking(move || {
        let store = w.store()?;
        let (people, total) = directory::search(store.conn(), &qq, SEARCH_LIMIT)?;
        let rows = people
            .into_iter()
            .map(|(p, class)| PersonRow {
                name: format!("{} {}", p.last_name, p.first_name),
                login: p.login.clone(),
                kind: kind_label(p.kind),
                class,
                status: status_fr(p.status),
            })
            .collect::<Vec<_>>();
        Ok((rows, total))
    })
    .await;
    let (rows, total) = match found {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let shown = rows.len();
    let summary = pick(if q.trim().is_empty() {
        msg!(
            "Type a name, a login or a class.",
            "Saisissez un nom, un identifiant ou une classe."
        )
    } else if total == 0 {
        msg!(
            "Nobody matches this search.",
            "Personne ne correspond à cette recherche."
        )
    } else if total > shown {
        msg!(
            "{total} people match; the first {shown} are shown.",
            "{total} personnes correspondent ; les {shown} premières sont affichées."
        )
    } else {
        msg!("{total} person(s).", "{total} personne(s).")
    });
    let config = web.config();
    let chrome = Page::signed(
        super::i18n::t(super::i18n::current(), "nav.people"),
        &config.establishment.name,
        &signed,
        "/console/personnes",
    );
    pages::render(&PeoplePage {
        page: &chrome,
        q: &q,
        summary,
        people: rows,
        can_manage: authz::decide(&signed.actor, &authz::Action::CreatePerson, &signed.facts).allowed(),
    })
}

fn person_page(
    web: &super::Web,
    signed: &Signed,
    login: &str,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let store = web.store()?;
    let conn = store.conn();
    let Some(p) = directory::person_by_login(conn, login)? else {
        return Err(WebError::NotFound);
    };
    let structures = directory::structures_of(conn, p.id)?
        .into_iter()
        .map(|s| s.code)
        .collect::<Vec<_>>()
        .join(", ");
    let pair = |x: directory::Person| (x.login.clone(), x.full_name());
    let parents = directory::parents_of(conn, p.id)?.into_iter().map(pair).collect();
    let children = directory::children_of(conn, p.id)?
        .into_iter()
        .map(pair)
        .collect();
    let initial = sheets::initial_password_of(conn, p.id)?.is_some();
    let last_signin = audit::last_sign_in(&store, &p.login)?.unwrap_or_else(|| pick(msg!("never", "jamais")));
    let decide = |a: authz::Action| authz::decide(&signed.actor, &a, &signed.facts).allowed();
    let config = web.config();
    let usage = crate::modules::shares::web::usage_line(&web.host, &config, &p);
    let chrome = Page::signed(
        &p.full_name(),
        &config.establishment.name,
        signed,
        "/console/personnes",
    );
    Ok(pages::render(&PersonPage {
        page: &chrome,
        notice,
        name: p.full_name(),
        login: p.login.clone(),
        kind: kind_label(p.kind),
        status: status_fr(p.status),
        active: p.is_active(),
        structures,
        parents,
        children,
        link_people: decide(authz::Action::SearchPeople),
        initial,
        last_signin,
        usage,
        can_reset: decide(authz::Action::ResetPassword {
            login: p.login.clone(),
        }),
        can_set_status: decide(authz::Action::SetStatus {
            login: p.login.clone(),
        }),
    }))
}

/// `GET /console/personnes/{login}`.
pub async fn person(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(login): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let notice = match query.get("fait").map(String::as_str) {
        Some("desactive") => Some(pick(msg!(
            "The account is disabled; its open sessions are closed.",
            "Le compte est désactivé ; ses connexions en cours sont fermées."
        ))),
        Some("actif") => Some(pick(msg!(
            "The account is enabled again.",
            "Le compte est réactivé."
        ))),
        _ => None,
    };
    respond(blocking(move || person_page(&web, &signed, &login, notice)).await)
}

pub(super) async fn checked_form(signed: &Signed, body: Body) -> Result<forms::Fields, WebError> {
    let fields = forms::read(body).await?;
    if !csrf::matches(&signed.session.csrf, fields.get("csrf")) {
        return Err(WebError::Forbidden(
            super::i18n::t(super::i18n::current(), "form.expired").into(),
        ));
    }
    Ok(fields)
}

pub(super) fn projected_note(p: &system::Projected) -> Option<String> {
    match p {
        system::Projected::NotEnabled => None,
        system::Projected::Done { .. } => Some(pick(msg!(
            "The computers' accounts are up to date.",
            "Les comptes des ordinateurs sont à jour."
        ))),
        system::Projected::Failed(_) => Some(pick(msg!(
            "Beware: the computers' accounts could not be updated; see the dashboard.",
            "Attention : les comptes des ordinateurs n'ont pas pu être mis à jour ; voir le tableau de bord."
        ))),
    }
}

/// `POST /console/personnes/{login}/mot-de-passe`: a new initial password
/// and its slip.
pub async fn reset_password(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(login): Path<String>,
    body: Body,
) -> Response {
    let fields = match checked_form(&signed, body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let back = Some(fields.get("retour"))
        .filter(|b| b.starts_with("/console/") && !b.starts_with("//") && b.len() < 200)
        .map(str::to_string)
        .unwrap_or_else(|| format!("/console/personnes/{login}"));
    let w = web.clone();
    let s = signed.clone();
    respond(
        blocking(move || {
            let config = w.config();
            let mut store = w.store()?;
            let Some(p) = directory::person_by_login(store.conn(), &login)? else {
                return Err(WebError::NotFound);
            };
            let a = &config.accounts;
            let pw = password::initial_password(a.password_syllables, a.password_digits);
            store.write(|tx| password::set(tx, p.id, &pw, true, a.must_change_password))?;
            // The person's browsers signed in with the old password end.
            session::delete_all(&mut store, &p.login)?;
            let projected = system::project_accounts(&w.host, &config, &w.config_path)?;
            audit::record(
                &mut store,
                &s.actor.login,
                &s.peer.to_string(),
                "nouveau mot de passe",
                &p.login,
                "fait",
            )?;
            let group = directory::class_of(store.conn(), p.id)?
                .map(|c| c.code)
                .unwrap_or_else(|| p.kind.label_fr().to_string());
            let slip = sheets::Slip {
                person: p.clone(),
                group,
                password: Some(pw),
            };
            let chrome = Page::signed(
                super::i18n::t(super::i18n::current(), "class.new_password"),
                &config.establishment.name,
                &s,
                "/console/personnes",
            );
            let mut notice = pick(msg!(
                en("New password for {}.", p.full_name()),
                fr("Nouveau mot de passe pour {}.", p.full_name())
            ));
            if let Some(n) = projected_note(&projected) {
                notice.push(' ');
                notice.push_str(&n);
            }
            Ok(pages::render(&SlipsPage {
                page: &chrome,
                heading: pick(msg!(
                    en("Login slip of {}", p.full_name()),
                    fr("Fiche de connexion de {}", p.full_name())
                )),
                notice: Some(notice),
                back: Some(back),
                establishment: &config.establishment.name,
                slips: vec![slip.view()],
            }))
        })
        .await,
    )
}

/// `POST /console/personnes/{login}/etat`: `etat=desactive|actif`.
pub async fn set_status(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(login): Path<String>,
    body: Body,
) -> Response {
    let fields = match checked_form(&signed, body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let status = match fields.get("etat") {
        "desactive" => Status::Disabled,
        "actif" => Status::Active,
        _ => {
            return WebError::BadRequest(pick(msg!(
                "Unknown state: choose \"actif\" or \"désactivé\".",
                "État inconnu : choisissez « actif » ou « désactivé »."
            )))
            .into_response();
        }
    };
    let w = web.clone();
    let s = signed.clone();
    respond(
        blocking(move || {
            let mut store = w.store()?;
            let changed = store.write(|tx| directory::set_status(tx, &login, status, None))?;
            if !changed {
                return Err(WebError::NotFound);
            }
            if status != Status::Active {
                session::delete_all(&mut store, &login)?;
            }
            system::project_accounts(&w.host, &w.config(), &w.config_path)?;
            audit::record(
                &mut store,
                &s.actor.login,
                &s.peer.to_string(),
                if status == Status::Active {
                    "réactivation"
                } else {
                    "désactivation"
                },
                &login,
                "fait",
            )?;
            let fait = if status == Status::Active {
                "actif"
            } else {
                "desactive"
            };
            Ok(super::see_other(
                &format!("/console/personnes/{login}?fait={fait}"),
                &[],
            ))
        })
        .await,
    )
}

/// `GET /console/classes/{code}/fiches`: the slips of a class or group.
pub async fn class_slips(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(code): Path<String>,
) -> Response {
    respond(
        blocking(move || {
            let config = web.config();
            let store = web.store()?;
            let Some(structure) = directory::structure(store.conn(), &code)? else {
                return Err(WebError::NotFound);
            };
            let slips = sheets::slips_of(store.conn(), &structure.code)?;
            let chrome = Page::signed(
                super::i18n::either("Fiches de connexion", "Login slips"),
                &config.establishment.name,
                &signed,
                "/console/classe",
            );
            Ok(pages::render(&SlipsPage {
                page: &chrome,
                heading: pick(msg!(
                    en("Login slips — {} ({})", structure.label, slips.len()),
                    fr("Fiches de connexion — {} ({})", structure.label, slips.len())
                )),
                notice: None,
                back: None,
                establishment: &config.establishment.name,
                slips: slips.iter().map(sheets::Slip::view).collect(),
            }))
        })
        .await,
    )
}

/// `GET /console/classes/{code}/fiches.csv[?eleves=login,login]`: the
/// same slips as the printed page, as CSV (a selection with `eleves`).
pub async fn class_slips_csv(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(code): Path<String>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    respond(
        blocking(move || {
            let mut store = web.store()?;
            let Some(structure) = directory::structure(store.conn(), &code)? else {
                return Err(WebError::NotFound);
            };
            let mut slips = sheets::slips_of(store.conn(), &structure.code)?;
            let chosen: Vec<&str> = q
                .get("eleves")
                .map(|s| s.split(',').map(str::trim).filter(|l| !l.is_empty()).collect())
                .unwrap_or_default();
            if chosen.len() > 2000 {
                return Err(WebError::BadRequest(pick(msg!(
                    "The selection is too long.",
                    "Sélection trop longue."
                ))));
            }
            if let Some(unknown) = chosen
                .iter()
                .find(|l| !slips.iter().any(|s| s.person.login == **l))
            {
                return Err(WebError::BadRequest(pick(msg!(
                    en("\"{unknown}\" is not a student of {}.", structure.code),
                    fr("« {unknown} » n'est pas un élève de {}.", structure.code)
                ))));
            }
            if !chosen.is_empty() {
                slips.retain(|s| chosen.contains(&s.person.login.as_str()));
            }
            audit::record(
                &mut store,
                &signed.actor.login,
                &signed.peer.to_string(),
                "fiches de connexion (CSV)",
                &structure.code,
                &format!("{} fiche(s)", slips.len()),
            )?;
            let name = format!(
                "fiches-{}.csv",
                structure.code.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            );
            Ok((
                [
                    (
                        axum::http::header::CONTENT_TYPE,
                        "text/csv; charset=utf-8".to_string(),
                    ),
                    (
                        axum::http::header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                sheets::csv(&slips),
            )
                .into_response())
        })
        .await,
    )
}

/// Entries of the audit log per page.
const AUDIT_PAGE: usize = 50;

/// `GET /console/journal?q=&page=`.
pub async fn audit_log(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let q: String = query
        .get("q")
        .map(|s| s.chars().take(100).collect())
        .unwrap_or_default();
    let page_no: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p < 100_000)
        .unwrap_or(0);
    let w = web.clone();
    let qq = q.clone();
    let entries = match blocking(move || {
        let store = w.store()?;
        Ok(audit::search(&store, &qq, AUDIT_PAGE + 1, page_no * AUDIT_PAGE)?)
    })
    .await
    {
        Ok(e) => e,
        Err(e) => return e.into_response(),
    };
    let link = |p: usize| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if !q.is_empty() {
            s.append_pair("q", &q);
        }
        s.append_pair("page", &p.to_string());
        format!("/console/journal?{}", s.finish())
    };
    let more = entries.len() > AUDIT_PAGE;
    let config = web.config();
    let chrome = Page::signed(
        super::i18n::t(super::i18n::current(), "card.journal"),
        &config.establishment.name,
        &signed,
        "/console/journal",
    );
    pages::render(&AuditPage {
        page: &chrome,
        q: &q,
        entries: entries.into_iter().take(AUDIT_PAGE).collect(),
        prev: (page_no > 0).then(|| link(page_no - 1)),
        next: more.then(|| link(page_no + 1)),
    })
}

/// `GET /console/classe`: the classes and groups a teacher teaches.
pub async fn classroom(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    respond(
        blocking(move || {
            let store = web.store()?;
            let mut classes = Vec::new();
            for code in &signed.facts.teaches {
                if let Some(s) = directory::structure(store.conn(), code)? {
                    let what = if s.kind == directory::StructureKind::Class {
                        super::i18n::either("classe", "class")
                    } else {
                        super::i18n::either("groupe", "group")
                    };
                    classes.push((s.code.clone(), format!("{} ({what})", s.label)));
                }
            }
            let config = web.config();
            let chrome = Page::signed(
                super::i18n::t(super::i18n::current(), "classroom.title"),
                &config.establishment.name,
                &signed,
                "/console/classe",
            );
            Ok(pages::render(&ClassroomPage {
                page: &chrome,
                classes,
            }))
        })
        .await,
    )
}

/// `GET /console/classe/{code}`: the students of a class or group.
pub async fn class_page(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(code): Path<String>,
) -> Response {
    respond(
        blocking(move || {
            let store = web.store()?;
            let Some(structure) = directory::structure(store.conn(), &code)? else {
                return Err(WebError::NotFound);
            };
            let mut students = Vec::new();
            for p in directory::students_of(store.conn(), &structure.code)? {
                students.push(StudentRow {
                    name: format!("{} {}", p.last_name, p.first_name),
                    initial: sheets::initial_password_of(store.conn(), p.id)?.is_some(),
                    login: p.login,
                });
            }
            let config = web.config();
            let chrome = Page::signed(
                &structure.label,
                &config.establishment.name,
                &signed,
                "/console/classe",
            );
            let can_hand_out = authz::decide(
                &signed.actor,
                &authz::Action::Homework {
                    structure: structure.code.clone(),
                },
                &signed.facts,
            )
            .allowed();
            let homework = if can_hand_out {
                crate::modules::shares::web::handed_out(store.conn(), &signed.actor.login, &structure.code)?
                    .into_iter()
                    .map(|r| {
                        let when = r.distributed_at.clone().unwrap_or_default();
                        (r.name, pick(msg!("handed out {when}", "distribué {when}")))
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let mut r = pages::render(&ClassPage {
                page: &chrome,
                heading: pick(msg!(
                    en("{} — {} student(s)", structure.label, students.len()),
                    fr("{} — {} élève(s)", structure.label, students.len())
                )),
                notice: None,
                code: structure.code.clone(),
                students,
                can_hand_out,
                homework,
                max_files: crate::modules::shares::web::MAX_FILES,
                max_mb: crate::modules::shares::web::MAX_UPLOAD / (1024 * 1024),
            });
            *r.status_mut() = StatusCode::OK;
            Ok(r)
        })
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashboard_alerts() {
        let m = ModuleRow {
            name: "proxy".into(),
            state: "en échec",
            state_en: "failed",
            ok: false,
            details: vec![],
        };
        let d = DiskRow {
            mount: "/srv".into(),
            fs: "ext4".into(),
            total: "1 GiB".into(),
            free: "50 MiB".into(),
            used: "95.0".into(),
            full: true,
        };
        let a = alerts(&AlertFacts {
            modules: &[m],
            disks: &[d],
            last_apply_failed: true,
            days_since_import: Some(9),
            lists_age_days: Some(8),
        });
        assert_eq!(a.len(), 5, "{a:?}");
        assert!(a[4].fr.contains("8 jours"), "{a:?}");
        assert!(a[4].en.contains("8 days"), "{a:?}");
        assert!(a[0].en.contains("\"failed\""), "{a:?}");
        assert!(
            alerts(&AlertFacts {
                days_since_import: Some(3),
                lists_age_days: Some(7),
                ..Default::default()
            })
            .is_empty()
        );
        assert_eq!(
            firewall_alert(125).fr,
            "Un changement du pare-feu attend sa confirmation : sans « preau confirm », il sera annulé dans 2 min 05 s."
        );
        assert!(firewall_alert(-3).en.contains("0 min 00 s"));
    }
}

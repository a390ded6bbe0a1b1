//! The web application inside `preau serve`: the portal (`/`), sign-in
//! (`/connexion`), the console (`/console/…`) and the teachers'
//! classroom tools (`/console/classe`).
//!
//! A request goes through, in order (see [`router`]):
//! 1. [`headers`]: security headers on every answer (HSTS, CSP without
//!    `unsafe-inline`, no framing, no sniffing, same-origin referrer);
//! 2. [`guard`]: the URL is resolved to an [`authz::Action`] (no action:
//!    404), cross-origin form posts are refused ([`csrf`]), the session
//!    cookie is looked up ([`session`]), the actor and the facts about the
//!    target are loaded and [`authz::decide`] allows or denies (students
//!    and parents get 404 for what they may not see);
//! 3. the handler: parse the form ([`forms`], limits and French messages),
//!    call the directory or the store, render an askama template
//!    ([`pages`]).
//!
//! Server-side state (sessions, audit log) lives in the store; login
//! throttling lives in memory ([`throttle`]).

pub mod applies;
pub mod assets;
pub mod audit;
pub mod authz;
pub mod cli;
mod console;
pub mod csrf;
pub mod errors;
pub mod forms;
pub mod headers;
pub mod i18n;
pub mod pages;
mod people;
mod portal;
pub mod redirect;
mod second_factor;
pub mod session;
pub mod settings;
pub mod settings_form;
pub mod signin;
pub mod statistics;
pub mod system;
pub mod throttle;
pub mod tiles;
pub mod totp;

use crate::config::Config;
use crate::host::{Host, RealHost};
use crate::modules::accounts::web as accounts_web;
use crate::store::Store;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The client's address, put in each request's extensions by the
/// listener (the TCP peer: never a header such as X-Forwarded-For).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// What the web application runs with.
pub struct Web {
    pub host: RealHost,
    /// Where the configuration file is (logical host path).
    pub config_path: PathBuf,
    config: Arc<dyn Fn() -> Arc<Config> + Send + Sync>,
    /// Re-reads the running server's configuration as SIGHUP does
    /// ([`Web::with_reload`]); none outside `preau serve`.
    reload: Option<Reload>,
    /// Single sign-on (OpenID Connect provider, CAS server): its routes
    /// are mounted behind the guard; sign-out ends its sessions too.
    pub sso: Arc<crate::sso::web::Sso>,
    /// Health of the portal's tiles, checked in the background.
    pub tiles: Arc<tiles::Checks>,
    pub throttle: Mutex<throttle::Throttle>,
    pub timeouts: session::Timeouts,
    /// Password checks running at once (argon2id takes ~19 MiB and tens
    /// of milliseconds each): bounds the memory a sign-in rush takes.
    pub hashing: tokio::sync::Semaphore,
    dashboard: Mutex<Option<(std::time::Instant, Arc<console::Dashboard>)>>,
    /// Held while the dashboard's figures are read again: one reader at a
    /// time, the others keep showing the previous figures.
    dashboard_refresh: tokio::sync::Mutex<()>,
    /// Imports waiting for their confirmation (`/console/imports`).
    pub imports: crate::modules::accounts::web::Pending,
    /// Settings planned, waiting for their "Appliquer" (`/console/reglages`).
    pub settings: settings::Pending,
    /// Connections to the store kept between requests (opening one costs
    /// its pragmas and the migrations' check): the database they are
    /// for, and the idle ones.
    pool: Mutex<(PathBuf, Vec<Store>)>,
}

/// The running server's reload: `Err` with the reason when the new
/// configuration was refused (the running one kept).
pub type Reload = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// Most idle connections kept (the blocking pool has 16 threads).
const IDLE_CONNECTIONS: usize = 16;

/// A connection of the store lent to one request; back to the pool when
/// dropped (unless a transaction was left open).
pub struct Pooled<'a> {
    store: Option<Store>,
    path: PathBuf,
    web: &'a Web,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.store.as_ref().expect("a pooled store until dropped")
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.store.as_mut().expect("a pooled store until dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let Some(store) = self.store.take() else { return };
        if !store.conn().is_autocommit() {
            return;
        }
        if let Ok(mut pool) = self.web.pool.lock() {
            if pool.0 != self.path {
                *pool = (self.path.clone(), Vec::new());
            }
            if pool.1.len() < IDLE_CONNECTIONS {
                pool.1.push(store);
            }
        }
    }
}

impl Web {
    /// `config` gives the running configuration (it changes on reload).
    pub fn new(
        host: RealHost,
        config_path: PathBuf,
        config: impl Fn() -> Arc<Config> + Send + Sync + 'static,
    ) -> Web {
        let config: Arc<dyn Fn() -> Arc<Config> + Send + Sync> = Arc::new(config);
        let timeouts = session::Timeouts::default();
        let db_path = host.real_path(&Path::new(&config().paths.state_dir).join(crate::store::DB_FILE));
        let (c, h) = (config.clone(), host.clone());
        let sessions = crate::sso::web::WebSessions::new(
            move || h.real_path(&Path::new(&c().paths.state_dir).join(crate::store::DB_FILE)),
            timeouts,
        );
        let c = config.clone();
        let sso = crate::sso::web::Sso::new(move || c(), db_path, Arc::new(sessions));
        Web {
            host,
            config_path,
            config,
            reload: None,
            sso,
            tiles: Arc::default(),
            throttle: Mutex::new(throttle::Throttle::default()),
            timeouts,
            hashing: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()).max(2),
            ),
            dashboard: Mutex::new(None),
            dashboard_refresh: tokio::sync::Mutex::new(()),
            imports: Default::default(),
            settings: Default::default(),
            pool: Mutex::new((PathBuf::new(), Vec::new())),
        }
    }

    pub fn config(&self) -> Arc<Config> {
        (self.config)()
    }

    /// With `reload`: how the running server re-reads its configuration
    /// (the daemon's SIGHUP path), called after settings are applied.
    pub fn with_reload(mut self, reload: impl Fn() -> Result<(), String> + Send + Sync + 'static) -> Web {
        self.reload = Some(Arc::new(reload));
        self
    }

    /// Has the running server re-read its configuration (from a blocking
    /// thread: it waits for the outcome); `None` when nothing runs it.
    pub fn reload(&self) -> Option<Result<(), String>> {
        self.reload.as_ref().map(|r| r())
    }

    pub fn db_path(&self) -> PathBuf {
        let config = self.config();
        self.host
            .real_path(&Path::new(&config.paths.state_dir).join(crate::store::DB_FILE))
    }

    /// The store (it must exist: `preau init` creates it): an idle
    /// connection of the pool, or a new one.
    pub fn store(&self) -> Result<Pooled<'_>, errors::WebError> {
        let path = self.db_path();
        let idle = match self.pool.lock() {
            Ok(mut pool) if pool.0 == path => pool.1.pop(),
            _ => None,
        };
        let store = match idle {
            Some(s) => s,
            None => Store::open_existing(&path).map_err(|e| errors::WebError::Internal(e.into()))?,
        };
        Ok(Pooled {
            store: Some(store),
            path,
            web: self,
        })
    }
}

/// Everything a signed-in request carries to its handler.
#[derive(Debug, Clone)]
pub struct Signed {
    pub actor: authz::Actor,
    pub session: session::Session,
    pub facts: authz::Facts,
    pub action: authz::Action,
    pub peer: IpAddr,
}

/// Shared state of the handlers.
pub type AppState = Arc<Web>;

/// One route: its path (axum syntax), an example URL (for the
/// authorization tests and `preau web explain`), and its handlers. The
/// action a URL needs is [`authz::Action::of`]; the tests check that every
/// route here has one.
pub struct RouteDef {
    pub path: &'static str,
    pub example: &'static str,
    pub methods: fn() -> MethodRouter<AppState>,
}

/// Every route of the web application.
pub static ROUTES: &[RouteDef] =
    &[
        RouteDef {
            path: "/",
            example: "/",
            methods: || get(portal::home),
        },
        RouteDef {
            path: "/connexion",
            example: "/connexion",
            methods: || get(signin::form).post(signin::submit),
        },
        RouteDef {
            path: "/connexion/code",
            example: "/connexion/code",
            methods: || get(second_factor::code_form).post(second_factor::code_submit),
        },
        RouteDef {
            path: "/console/securite",
            example: "/console/securite",
            methods: || get(second_factor::security).post(second_factor::security_submit),
        },
        RouteDef {
            path: "/langue",
            example: "/langue",
            methods: || post(i18n::switch),
        },
        RouteDef {
            path: "/deconnexion",
            example: "/deconnexion",
            methods: || post(signin::sign_out),
        },
        RouteDef {
            path: "/mot-de-passe",
            example: "/mot-de-passe",
            methods: || get(portal::password_form).post(portal::password_submit),
        },
        RouteDef {
            path: "/static/{file}",
            example: "/static/preau.css",
            methods: || get(assets::serve),
        },
        RouteDef {
            path: "/console",
            example: "/console",
            methods: || get(console::dashboard),
        },
        RouteDef {
            path: "/console/personnes",
            example: "/console/personnes",
            methods: || get(console::people),
        },
        RouteDef {
            path: "/console/personnes/nouvelle",
            example: "/console/personnes/nouvelle",
            methods: || get(people::new_person).post(people::create_person),
        },
        RouteDef {
            path: "/console/personnes/partants",
            example: "/console/personnes/partants",
            methods: || get(people::leavers).post(people::purge_leavers),
        },
        RouteDef {
            path: "/console/personnes/{login}",
            example: "/console/personnes/lea.martin",
            methods: || get(console::person),
        },
        RouteDef {
            path: "/console/personnes/{login}/mot-de-passe",
            example: "/console/personnes/lea.martin/mot-de-passe",
            methods: || post(console::reset_password),
        },
        RouteDef {
            path: "/console/personnes/{login}/etat",
            example: "/console/personnes/lea.martin/etat",
            methods: || post(console::set_status),
        },
        RouteDef {
            path: "/console/classes/{code}/fiches",
            example: "/console/classes/6A/fiches",
            methods: || get(console::class_slips),
        },
        RouteDef {
            path: "/console/journal",
            example: "/console/journal",
            methods: || get(console::audit_log),
        },
        RouteDef {
            path: "/console/classe",
            example: "/console/classe",
            methods: || get(console::classroom),
        },
        RouteDef {
            path: "/console/classe/{code}",
            example: "/console/classe/6A",
            methods: || get(console::class_page),
        },
        RouteDef {
            path: "/console/classes/{code}/fiches.csv",
            example: "/console/classes/6A/fiches.csv",
            methods: || get(console::class_slips_csv),
        },
        RouteDef {
            path: "/console/classe/{code}/devoirs",
            example: "/console/classe/6A/devoirs",
            methods: || {
                post(crate::modules::shares::web::hand_out).layer(axum::extract::DefaultBodyLimit::max(
                    crate::modules::shares::web::BODY_LIMIT,
                ))
            },
        },
        RouteDef {
            path: "/console/reglages",
            example: "/console/reglages",
            methods: || get(settings::list),
        },
        RouteDef {
            path: "/console/reglages/{section}",
            example: "/console/reglages/establishment",
            methods: || get(settings::edit_form).post(settings::check),
        },
        RouteDef {
            path: "/console/reglages/{section}/appliquer",
            example: "/console/reglages/establishment/appliquer",
            methods: || post(settings::apply),
        },
        RouteDef {
            path: "/console/reglages/firewall/confirmer",
            example: "/console/reglages/firewall/confirmer",
            methods: || post(settings::confirm),
        },
        RouteDef {
            path: "/console/classe/{code}/devoirs/{name}",
            example: "/console/classe/6A/devoirs/dm1",
            methods: || get(crate::modules::shares::web::status),
        },
        RouteDef {
            path: "/console/classe/{code}/devoirs/{name}/ramasser",
            example: "/console/classe/6A/devoirs/dm1/ramasser",
            methods: || post(crate::modules::shares::web::collect),
        },
        RouteDef {
            path: "/console/classe/{code}/devoirs/{name}/rendre",
            example: "/console/classe/6A/devoirs/dm1/rendre",
            methods: || post(crate::modules::shares::web::give_back),
        },
        RouteDef {
            path: "/console/salles",
            example: "/console/salles",
            methods: || get(crate::modules::proxy::rooms::rooms),
        },
        RouteDef {
            path: "/console/salles/{room}",
            example: "/console/salles/salle-b12",
            methods: || post(crate::modules::proxy::rooms::switch),
        },
        RouteDef {
            path: "/console/salles/{room}/fin",
            example: "/console/salles/salle-b12/fin",
            methods: || post(crate::modules::proxy::rooms::end),
        },
        RouteDef {
            path: "/console/imports",
            example: "/console/imports",
            methods: || {
                get(accounts_web::form).post(accounts_web::upload).layer(
                    axum::extract::DefaultBodyLimit::max(accounts_web::MAX_UPLOAD + 64 * 1024),
                )
            },
        },
        RouteDef {
            path: "/console/imports/{token}",
            example: "/console/imports/0123abcd",
            methods: || post(accounts_web::confirm),
        },
        RouteDef {
            path: "/console/journaux",
            example: "/console/journaux",
            methods: || get(crate::modules::proxy::web::search),
        },
        RouteDef {
            path: "/console/journaux/pare-feu",
            example: "/console/journaux/pare-feu",
            methods: || get(crate::modules::firewall::web::page),
        },
        RouteDef {
            path: "/console/journaux/mises-en-oeuvre",
            example: "/console/journaux/mises-en-oeuvre",
            methods: || get(applies::list),
        },
        RouteDef {
            path: "/console/statistiques",
            example: "/console/statistiques",
            methods: || get(statistics::page),
        },
        RouteDef {
            path: "/reservations",
            example: "/reservations",
            methods: || get(crate::booking::web::list).post(crate::booking::web::add_resource),
        },
        RouteDef {
            path: "/reservations/{id}",
            example: "/reservations/1",
            methods: || get(crate::booking::web::resource),
        },
        RouteDef {
            path: "/reservations/{id}/agenda.ics",
            example: "/reservations/1/agenda.ics",
            methods: || get(crate::booking::web::feed),
        },
        RouteDef {
            path: "/reservations/{id}/agenda",
            example: "/reservations/1/agenda",
            methods: || post(crate::booking::web::calendar_link),
        },
        RouteDef {
            path: "/reservations/agenda/{file}",
            example: "/reservations/agenda/0123456789abcdefghijklmnopqrstuvwxyz.ics",
            methods: || get(crate::booking::web::token_feed),
        },
        RouteDef {
            path: "/reservations/{id}/reserver",
            example: "/reservations/1/reserver",
            methods: || post(crate::booking::web::book),
        },
        RouteDef {
            path: "/reservations/demandes/{id}/valider",
            example: "/reservations/demandes/1/valider",
            methods: || post(crate::booking::web::settle),
        },
        RouteDef {
            path: "/reservations/demandes/{id}/annuler",
            example: "/reservations/demandes/1/annuler",
            methods: || post(crate::booking::web::cancel),
        },
        RouteDef {
            path: "/reservations/demandes/{id}/echanger",
            example: "/reservations/demandes/1/echanger",
            methods: || post(crate::booking::web::swap),
        },
        RouteDef {
            path: "/vie-scolaire/journee",
            example: "/vie-scolaire/journee",
            methods: || get(crate::modules::viescolaire::web::day),
        },
        RouteDef {
            path: "/vie-scolaire/notes",
            example: "/vie-scolaire/notes",
            methods: || get(crate::modules::viescolaire::web::grades::home),
        },
        RouteDef {
            path: "/vie-scolaire/mes-notes",
            example: "/vie-scolaire/mes-notes",
            methods: || get(crate::modules::viescolaire::web::grades::own),
        },
        RouteDef {
            path: "/vie-scolaire/notes/eleve/{login}",
            example: "/vie-scolaire/notes/eleve/lea.martin",
            methods: || get(crate::modules::viescolaire::web::grades::student),
        },
        RouteDef {
            path: "/vie-scolaire/notes/evaluations/{id}",
            example: "/vie-scolaire/notes/evaluations/1",
            methods: || {
                get(crate::modules::viescolaire::web::grades::evaluation_page)
                    .post(crate::modules::viescolaire::web::grades::update_evaluation)
            },
        },
        RouteDef {
            path: "/vie-scolaire/notes/evaluations/{id}/cellule",
            example: "/vie-scolaire/notes/evaluations/1/cellule",
            methods: || post(crate::modules::viescolaire::web::grades::save_cell),
        },
        RouteDef {
            path: "/vie-scolaire/notes/{structure}/{subject}",
            example: "/vie-scolaire/notes/6A/061300",
            methods: || {
                get(crate::modules::viescolaire::web::grades::grid)
                    .post(crate::modules::viescolaire::web::grades::save_grid)
            },
        },
        RouteDef {
            path: "/vie-scolaire/notes/{structure}/{subject}/evaluations",
            example: "/vie-scolaire/notes/6A/061300/evaluations",
            methods: || post(crate::modules::viescolaire::web::grades::create_evaluation),
        },
        RouteDef {
            path: "/vie-scolaire/bulletins/eleve/{login}",
            example: "/vie-scolaire/bulletins/eleve/lea.martin",
            methods: || get(crate::modules::viescolaire::web::report_cards::student_card),
        },
        RouteDef {
            path: "/vie-scolaire/bulletins/{class}",
            example: "/vie-scolaire/bulletins/6A",
            methods: || get(crate::modules::viescolaire::web::report_cards::class_cards),
        },
        RouteDef {
            path: "/vie-scolaire/bulletins/{class}/appreciations/{subject}",
            example: "/vie-scolaire/bulletins/6A/appreciations/061300",
            methods: || {
                get(crate::modules::viescolaire::web::report_cards::subject_comments)
                    .post(crate::modules::viescolaire::web::report_cards::save_subject_comments)
            },
        },
        RouteDef {
            path: "/vie-scolaire/bulletins/{class}/conseil",
            example: "/vie-scolaire/bulletins/6A/conseil",
            methods: || {
                get(crate::modules::viescolaire::web::report_cards::general_comments)
                    .post(crate::modules::viescolaire::web::report_cards::save_general_comments)
            },
        },
        RouteDef {
            path: "/vie-scolaire/bulletins/{class}/cloture",
            example: "/vie-scolaire/bulletins/6A/cloture",
            methods: || post(crate::modules::viescolaire::web::report_cards::close),
        },
        RouteDef {
            path: "/vie-scolaire/bulletins/{class}/lsu",
            example: "/vie-scolaire/bulletins/6A/lsu",
            methods: || get(crate::modules::viescolaire::web::report_cards::lsu_export),
        },
        RouteDef {
            path: "/vie-scolaire/competences/{class}/{subject}",
            example: "/vie-scolaire/competences/6A/061300",
            methods: || {
                get(crate::modules::viescolaire::web::report_cards::competences)
                    .post(crate::modules::viescolaire::web::report_cards::save_competences)
            },
        },
        RouteDef {
            path: "/vie-scolaire/bulletins/{class}/coefficients",
            example: "/vie-scolaire/bulletins/6A/coefficients",
            methods: || {
                get(crate::modules::viescolaire::web::report_cards::coefficients)
                    .post(crate::modules::viescolaire::web::report_cards::save_coefficients)
            },
        },
        RouteDef {
            path: "/vie-scolaire/appel/{lesson}",
            example: "/vie-scolaire/appel/2026-12-01_1",
            methods: || get(vs_web::roll::form).post(vs_web::roll::save),
        },
        RouteDef {
            path: "/vie-scolaire/absences",
            example: "/vie-scolaire/absences",
            methods: || get(vs_web::office::day).post(vs_web::office::record),
        },
        RouteDef {
            path: "/vie-scolaire/absences/direct",
            example: "/vie-scolaire/absences/direct",
            methods: || get(vs_web::office::fragment),
        },
        RouteDef {
            path: "/vie-scolaire/absences/bilan",
            example: "/vie-scolaire/absences/bilan",
            methods: || get(vs_web::office::summary),
        },
        RouteDef {
            path: "/vie-scolaire/absences/bilan.csv",
            example: "/vie-scolaire/absences/bilan.csv",
            methods: || get(vs_web::office::summary_export),
        },
        RouteDef {
            path: "/vie-scolaire/justificatifs",
            example: "/vie-scolaire/justificatifs",
            methods: || get(vs_web::office::justifications),
        },
        RouteDef {
            path: "/vie-scolaire/justificatifs/{id}",
            example: "/vie-scolaire/justificatifs/1",
            methods: || post(vs_web::office::decide),
        },
        RouteDef {
            path: "/vie-scolaire/justificatifs/{id}/piece",
            example: "/vie-scolaire/justificatifs/1/piece",
            methods: || get(vs_web::justify::file),
        },
        RouteDef {
            path: "/vie-scolaire/assiduite",
            example: "/vie-scolaire/assiduite",
            methods: || get(vs_web::justify::home),
        },
        RouteDef {
            path: "/vie-scolaire/eleves/{login}/absences",
            example: "/vie-scolaire/eleves/lea.martin/absences",
            methods: || get(vs_web::justify::student),
        },
        RouteDef {
            path: "/vie-scolaire/eleves/{login}/justificatifs",
            example: "/vie-scolaire/eleves/lea.martin/justificatifs",
            // The configured attachment limit (at most 100 MiB) is enforced
            // while reading; this bounds the body above it.
            methods: || {
                post(vs_web::justify::send).layer(axum::extract::DefaultBodyLimit::max(101 * 1024 * 1024))
            },
        },
        // School life, daily part: timetables, iCalendar feeds, homework log,
        // messages (src/modules/viescolaire/web/).
        RouteDef {
            path: "/vie-scolaire/emploi-du-temps",
            example: "/vie-scolaire/emploi-du-temps",
            methods: || get(crate::modules::viescolaire::web::timetable::page),
        },
        RouteDef {
            path: "/vie-scolaire/emploi-du-temps/saisie",
            example: "/vie-scolaire/emploi-du-temps/saisie",
            methods: || {
                get(crate::modules::viescolaire::web::timetable_edit::page)
                    .post(crate::modules::viescolaire::web::timetable_edit::submit)
            },
        },
        RouteDef {
            path: "/vie-scolaire/emploi-du-temps/semaines",
            example: "/vie-scolaire/emploi-du-temps/semaines",
            methods: || {
                get(crate::modules::viescolaire::web::weeks::page)
                    .post(crate::modules::viescolaire::web::weeks::submit)
            },
        },
        RouteDef {
            path: "/vie-scolaire/emploi-du-temps/changement/{key}",
            example: "/vie-scolaire/emploi-du-temps/changement/1-2026-12-01",
            methods: || {
                get(crate::modules::viescolaire::web::timetable_edit::page)
                    .post(crate::modules::viescolaire::web::timetable_edit::submit)
            },
        },
        RouteDef {
            path: "/vie-scolaire/emploi-du-temps/{kind}/{target}",
            example: "/vie-scolaire/emploi-du-temps/classe/6A",
            methods: || get(crate::modules::viescolaire::web::timetable::page),
        },
        RouteDef {
            path: "/vie-scolaire/agenda",
            example: "/vie-scolaire/agenda",
            methods: || {
                get(crate::modules::viescolaire::web::ical::link)
                    .post(crate::modules::viescolaire::web::ical::link_submit)
            },
        },
        RouteDef {
            path: "/vie-scolaire/agenda/{file}",
            example: "/vie-scolaire/agenda/0123456789abcdefghijklmnopqrstuvwxyz.ics",
            methods: || get(crate::modules::viescolaire::web::ical::feed),
        },
        RouteDef {
            path: "/vie-scolaire/cahier-de-textes/seance/{key}",
            example: "/vie-scolaire/cahier-de-textes/seance/1-2026-12-01",
            methods: || {
                get(crate::modules::viescolaire::web::homework::lesson)
                    .post(crate::modules::viescolaire::web::homework::lesson_submit)
            },
        },
        RouteDef {
            path: "/vie-scolaire/cahier-de-textes/seance/{key}/pieces",
            example: "/vie-scolaire/cahier-de-textes/seance/1-2026-12-01/pieces",
            methods: || {
                post(crate::modules::viescolaire::web::homework::attach)
                    .layer(axum::extract::DefaultBodyLimit::max(101 * 1024 * 1024))
            },
        },
        RouteDef {
            path: "/vie-scolaire/cahier-de-textes/seance/{key}/pieces/{id}/retirer",
            example: "/vie-scolaire/cahier-de-textes/seance/1-2026-12-01/pieces/1/retirer",
            methods: || post(crate::modules::viescolaire::web::homework::detach),
        },
        RouteDef {
            path: "/vie-scolaire/cahier-de-textes/pieces/{id}",
            example: "/vie-scolaire/cahier-de-textes/pieces/1",
            methods: || get(crate::modules::viescolaire::web::homework::file),
        },
        RouteDef {
            path: "/vie-scolaire/cahier-de-textes/classe/{code}",
            example: "/vie-scolaire/cahier-de-textes/classe/6A",
            methods: || get(crate::modules::viescolaire::web::homework::class_log),
        },
        RouteDef {
            path: "/vie-scolaire/travail",
            example: "/vie-scolaire/travail",
            methods: || get(crate::modules::viescolaire::web::homework::todo),
        },
        RouteDef {
            path: "/vie-scolaire/messages",
            example: "/vie-scolaire/messages",
            methods: || get(crate::modules::viescolaire::web::messages::inbox),
        },
        RouteDef {
            path: "/vie-scolaire/messages/nouveau",
            example: "/vie-scolaire/messages/nouveau",
            methods: || get(crate::modules::viescolaire::web::messages::choose),
        },
        RouteDef {
            path: "/vie-scolaire/messages/nouveau/{kind}/{target}",
            example: "/vie-scolaire/messages/nouveau/parents-classe/6A",
            methods: || {
                get(crate::modules::viescolaire::web::messages::compose)
                    .post(crate::modules::viescolaire::web::messages::send)
            },
        },
        RouteDef {
            path: "/vie-scolaire/messages/{id}",
            example: "/vie-scolaire/messages/1",
            methods: || {
                get(crate::modules::viescolaire::web::messages::thread)
                    .post(crate::modules::viescolaire::web::messages::reply)
            },
        },
    ];

use crate::modules::viescolaire::web as vs_web;

/// The web application's router, with its guard and fallback. The server
/// merges its own transport routes (`/healthz`, `/metrics`) and wraps the
/// whole in [`headers::secure`].
pub fn router(web: Arc<Web>) -> Router {
    let mut r: Router<AppState> = Router::new();
    for def in ROUTES {
        r = r.route(def.path, (def.methods)());
    }
    for def in crate::sso::web::ROUTES {
        r = r.route(def.path, (def.methods)().with_state(web.sso.clone()));
    }
    r.fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(web.clone(), guard))
        .with_state(web)
}

async fn fallback() -> Response {
    errors::page(StatusCode::NOT_FOUND, None)
}

fn peer_of(req: &Request) -> IpAddr {
    req.extensions()
        .get::<Peer>()
        .map(|p| p.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Resolves, authenticates and authorizes every request (module docs),
/// in the request's language ([`i18n`]).
async fn guard(State(web): State<AppState>, req: Request, next: Next) -> Response {
    let lang = i18n::choose(req.headers());
    i18n::scope(lang, guarded(web, req, next)).await
}

async fn guarded(web: AppState, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let Some(action) = authz::Action::of(&method, &path) else {
        return errors::page(StatusCode::NOT_FOUND, None);
    };
    if method != Method::GET && method != Method::HEAD && !csrf::same_origin(req.headers()) {
        return errors::page(
            StatusCode::FORBIDDEN,
            Some("Ce formulaire vient d'un autre site : il a été refusé."),
        );
    }
    if action.is_public() {
        return next.run(req).await;
    }
    let peer = peer_of(&req);
    let token = session::token_from(req.headers());
    if token.is_none() && action.handles_anonymous() {
        return next.run(req).await;
    }
    let w = web.clone();
    let a = action.clone();
    let loaded = i18n::spawn_blocking(move || load_signed(&w, token, a, peer)).await;
    let signed = match loaded {
        Ok(Ok(Some(s))) => s,
        Ok(Ok(None)) if action.handles_anonymous() => return next.run(req).await,
        Ok(Ok(None)) => {
            let next_url = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
            return signin::to_sign_in(&method, next_url);
        }
        Ok(Err(e)) => return e.into_response(),
        Err(e) => return errors::WebError::Internal(anyhow::anyhow!("{e}")).into_response(),
    };
    if signed.session.must_change && !action.allowed_before_password_change() {
        return Redirect::to("/mot-de-passe").into_response();
    }
    match authz::decide(&signed.actor, &action, &signed.facts) {
        authz::Decision::Allow => {
            req.extensions_mut().insert(Arc::new(signed));
            next.run(req).await
        }
        authz::Decision::Deny(reason) => {
            let w = web.clone();
            let (login, act, target) = (signed.actor.login.clone(), action.name(), action.target());
            let peer = signed.peer.to_string();
            let _ = tokio::task::spawn_blocking(move || {
                if let Ok(mut store) = w.store() {
                    let _ = audit::record(
                        &mut store,
                        &login,
                        &peer,
                        act,
                        &target,
                        &format!("refusé : {reason}"),
                    );
                }
            })
            .await;
            if signed.actor.sees_404_when_denied() {
                errors::page(StatusCode::NOT_FOUND, None)
            } else {
                errors::page(StatusCode::FORBIDDEN, None)
            }
        }
    }
}

/// The session, actor and facts of a request; None when not signed in.
fn load_signed(
    web: &Web,
    token: Option<String>,
    action: authz::Action,
    peer: IpAddr,
) -> Result<Option<Signed>, errors::WebError> {
    let Some(token) = token else { return Ok(None) };
    let mut store = web.store()?;
    let Some(session) = session::lookup(&mut store, &token, session::now(), &web.timeouts)? else {
        return Ok(None);
    };
    let Some(actor) = authz::Actor::load(store.conn(), &session.login, session.admin)? else {
        // The account was disabled or deleted: its sessions end.
        session::delete_all(&mut store, &session.login)?;
        return Ok(None);
    };
    let facts = authz::Facts::load(store.conn(), &actor, &action, &web.config().proxy.sources)?;
    Ok(Some(Signed {
        actor,
        session,
        facts,
        action,
        peer,
    }))
}

/// A `303 See Other` to `to`, with extra headers (cookies).
pub fn see_other(to: &str, cookies: &[String]) -> Response {
    let mut r = Redirect::to(to).into_response();
    for c in cookies {
        if let Ok(v) = header::HeaderValue::from_str(c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

#[cfg(test)]
mod tests;

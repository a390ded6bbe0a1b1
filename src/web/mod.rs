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
mod portal;
pub mod redirect;
mod second_factor;
pub mod session;
pub mod signin;
pub mod system;
pub mod throttle;
pub mod totp;

use crate::config::Config;
use crate::host::{Host, RealHost};
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
    config: Box<dyn Fn() -> Arc<Config> + Send + Sync>,
    pub throttle: Mutex<throttle::Throttle>,
    pub timeouts: session::Timeouts,
    /// Password checks running at once (argon2id takes ~19 MiB and tens
    /// of milliseconds each): bounds the memory a sign-in rush takes.
    pub hashing: tokio::sync::Semaphore,
    dashboard: Mutex<Option<(std::time::Instant, Arc<console::Dashboard>)>>,
    /// Held while the dashboard's figures are read again: one reader at a
    /// time, the others keep showing the previous figures.
    dashboard_refresh: tokio::sync::Mutex<()>,
}

impl Web {
    /// `config` gives the running configuration (it changes on reload).
    pub fn new(
        host: RealHost,
        config_path: PathBuf,
        config: impl Fn() -> Arc<Config> + Send + Sync + 'static,
    ) -> Web {
        Web {
            host,
            config_path,
            config: Box::new(config),
            throttle: Mutex::new(throttle::Throttle::default()),
            timeouts: session::Timeouts::default(),
            hashing: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()).max(2),
            ),
            dashboard: Mutex::new(None),
            dashboard_refresh: tokio::sync::Mutex::new(()),
        }
    }

    pub fn config(&self) -> Arc<Config> {
        (self.config)()
    }

    pub fn db_path(&self) -> PathBuf {
        let config = self.config();
        self.host
            .real_path(&Path::new(&config.paths.state_dir).join(crate::store::DB_FILE))
    }

    /// The store (it must exist: `preau init` creates it).
    pub fn store(&self) -> Result<Store, errors::WebError> {
        Store::open_existing(&self.db_path()).map_err(|e| errors::WebError::Internal(e.into()))
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
pub static ROUTES: &[RouteDef] = &[
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
        path: "/console/classes/{code}/fiches.csv",
        example: "/console/classes/6A/fiches.csv",
        methods: || get(console::class_slips_csv),
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
        path: "/console/classe/{code}/devoirs",
        example: "/console/classe/6A/devoirs",
        methods: || {
            post(crate::modules::shares::web::hand_out).layer(axum::extract::DefaultBodyLimit::max(
                crate::modules::shares::web::BODY_LIMIT,
            ))
        },
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
        methods: || get(crate::modules::proxy::web::rooms),
    },
    RouteDef {
        path: "/console/salles/{room}",
        example: "/console/salles/salle-b12",
        methods: || post(crate::modules::proxy::web::switch),
    },
    RouteDef {
        path: "/console/salles/{room}/fin",
        example: "/console/salles/salle-b12/fin",
        methods: || post(crate::modules::proxy::web::end),
    },
    RouteDef {
        path: "/vie-scolaire/journee",
        example: "/vie-scolaire/journee",
        methods: || get(crate::modules::viescolaire::web::day),
    },
];

/// The web application's router, with its guard and fallback. The server
/// merges its own transport routes (`/healthz`, `/metrics`) and wraps the
/// whole in [`headers::secure`].
pub fn router(web: Arc<Web>) -> Router {
    let mut r: Router<AppState> = Router::new();
    for def in ROUTES {
        r = r.route(def.path, (def.methods)());
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
    let w = web.clone();
    let a = action.clone();
    let loaded = i18n::spawn_blocking(move || load_signed(&w, token, a, peer)).await;
    let signed = match loaded {
        Ok(Ok(Some(s))) => s,
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

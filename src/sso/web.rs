//! The single sign-on endpoints, as an axum router the web platform
//! mounts: OpenID Connect discovery at `/.well-known/openid-configuration`,
//! the provider under `/oidc/`, the CAS server under `/cas/`.
//!
//! Handlers are thin: parse, call the pure decisions of [`super::oidc`]
//! and [`super::cas`] inside one store transaction (off the async
//! threads), render. Who is signed in comes from the web platform's
//! session through the [`Sessions`] trait; a person who is not is sent to
//! `/connexion?suite=…` and comes back to the same request.

use super::cas;
use super::claims::identity;
use super::keys::{self, KeySet};
use super::oidc::{self, AuthError, AuthRequest, Checked, LogoutRequest, SignedIn, TokenRequest};
use super::settings::SsoSettings;
use crate::config::Config;
use crate::store::Store;
use crate::web::forms::{Form, Query};
use crate::web::i18n::{either, pick};
use crate::web::pages::{self, ErrorPage, Page};
use arc_swap::ArcSwap;
use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The web platform's sign-in sessions, as single sign-on needs them.
pub trait Sessions: Send + Sync + 'static {
    /// The person the request's session signs in, if any.
    fn current(&self, headers: &HeaderMap) -> Option<SignedIn>;
    /// The session's anti-forgery token, put in every form and checked
    /// on every POST.
    fn csrf_token(&self, headers: &HeaderMap) -> Option<String>;
    /// Ends the request's session: its `sid` (to end single sign-on too)
    /// and the headers that clear the cookie.
    fn sign_out(&self, headers: &HeaderMap) -> (Option<String>, HeaderMap);
}

/// What the provider needs from the configuration, swapped at reload.
struct Current {
    settings: SsoSettings,
    issuer: String,
    uai: String,
    name: String,
}

/// The single sign-on service of one daemon.
pub struct Sso {
    config: Box<dyn Fn() -> Arc<Config> + Send + Sync>,
    /// The last configuration read and what was derived from it.
    current: ArcSwap<(Arc<Config>, Arc<Current>)>,
    db_path: PathBuf,
    db: Mutex<Option<Store>>,
    keys: Mutex<Option<KeySet>>,
    sessions: Arc<dyn Sessions>,
    /// Where the sign-in page is (`/connexion`).
    signin_path: String,
}

fn current_of(config: &Config) -> Current {
    Current {
        settings: config.sso.clone(),
        issuer: config.sso.issuer(&config.establishment),
        uai: config.establishment.uai.clone(),
        name: config.establishment.name.clone(),
    }
}

/// A store failure, logged once, shown as a plain 503.
struct Unavailable;

impl Sso {
    /// `config` gives the running configuration (it changes on reload).
    pub fn new(
        config: impl Fn() -> Arc<Config> + Send + Sync + 'static,
        db_path: PathBuf,
        sessions: Arc<dyn Sessions>,
    ) -> Arc<Sso> {
        let first = config();
        let derived = Arc::new(current_of(&first));
        Arc::new(Sso {
            config: Box::new(config),
            current: ArcSwap::from_pointee((first, derived)),
            db_path,
            db: Mutex::new(None),
            keys: Mutex::new(None),
            sessions,
            signin_path: "/connexion".into(),
        })
    }

    /// The settings of the running configuration.
    fn current(&self) -> Arc<Current> {
        let config = (self.config)();
        let cached = self.current.load();
        if Arc::ptr_eq(&cached.0, &config) {
            return cached.1.clone();
        }
        let derived = Arc::new(current_of(&config));
        self.current.store(Arc::new((config, derived.clone())));
        derived
    }

    /// Runs `f` in one IMMEDIATE transaction on the store, off the async
    /// threads.
    async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&rusqlite::Transaction<'_>, &Current, &KeySet) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, Unavailable> {
        let me = self.clone();
        // The web platform's spawn_blocking: what `f` writes is in the
        // request's language.
        crate::web::i18n::spawn_blocking(move || {
            let now = super::now();
            let current = me.current();
            let mut db = me.db.lock().unwrap_or_else(|p| p.into_inner());
            if db.is_none() {
                *db = Some(Store::open(&me.db_path).map_err(|e| log::error!("sso: {e}"))?);
            }
            let store = db.as_mut().expect("opened above");
            let mut keys = me.keys.lock().unwrap_or_else(|p| p.into_inner());
            let out = store.write(|tx| {
                if keys.as_ref().is_none_or(|k| k.rotate_at <= now) {
                    let rotation = i64::from(current.settings.key_rotation_days) * 86400;
                    // A retired key stays published while an ID token it
                    // signed is still valid, and a little longer.
                    let keep = i64::from(current.settings.token_seconds) + 300;
                    let fresh = keys::ensure(tx, now, rotation, keep).map_err(|e| {
                        rusqlite::Error::ToSqlConversionFailure(Box::new(std::io::Error::other(
                            e.to_string(),
                        )))
                    })?;
                    oidc::purge(tx, now)?;
                    *keys = Some(fresh);
                }
                f(tx, &current, keys.as_ref().expect("ensured above"))
            });
            out.map_err(|e| log::error!("sso: database error: {e}"))
        })
        .await
        .map_err(|_| Unavailable)?
        .map_err(|()| Unavailable)
    }
}

impl IntoResponse for Unavailable {
    fn into_response(self) -> Response {
        page(
            StatusCode::SERVICE_UNAVAILABLE,
            either("Service indisponible", "Service unavailable"),
            either(
                "Le service d'identification est momentanément indisponible. Réessayez dans un instant.",
                "The identification service is unavailable for a moment. Try again in a moment.",
            ),
        )
    }
}

/// One single sign-on route: its path, an example URL (for the web
/// platform's authorization tests and `preau web explain`) and its
/// handlers. The web platform mounts these behind its guard
/// (`crate::web::router`), each URL resolved to an `authz::Action`.
pub struct RouteDef {
    pub path: &'static str,
    pub example: &'static str,
    pub methods: fn() -> MethodRouter<Arc<Sso>>,
}

/// Every single sign-on route.
pub static ROUTES: &[RouteDef] = &[
    RouteDef {
        path: "/.well-known/openid-configuration",
        example: "/.well-known/openid-configuration",
        methods: || get(discovery),
    },
    RouteDef {
        path: oidc::JWKS_PATH,
        example: oidc::JWKS_PATH,
        methods: || get(jwks),
    },
    RouteDef {
        path: oidc::AUTHORIZE_PATH,
        example: oidc::AUTHORIZE_PATH,
        methods: || get(authorize).post(consent),
    },
    RouteDef {
        path: oidc::TOKEN_PATH,
        example: oidc::TOKEN_PATH,
        methods: || axum::routing::post(token),
    },
    RouteDef {
        path: oidc::USERINFO_PATH,
        example: oidc::USERINFO_PATH,
        methods: || get(userinfo).post(userinfo),
    },
    RouteDef {
        path: oidc::LOGOUT_PATH,
        example: oidc::LOGOUT_PATH,
        methods: || get(logout).post(logout_confirmed),
    },
    RouteDef {
        path: "/cas/login",
        example: "/cas/login",
        methods: || get(cas_login),
    },
    RouteDef {
        path: "/cas/logout",
        example: "/cas/logout",
        methods: || get(cas_logout),
    },
    RouteDef {
        path: "/cas/validate",
        example: "/cas/validate",
        methods: || get(cas_validate_v1),
    },
    RouteDef {
        path: "/cas/serviceValidate",
        example: "/cas/serviceValidate",
        methods: || get(cas_validate),
    },
    RouteDef {
        path: "/cas/proxyValidate",
        example: "/cas/proxyValidate",
        methods: || get(cas_validate),
    },
    RouteDef {
        path: "/cas/p3/serviceValidate",
        example: "/cas/p3/serviceValidate",
        methods: || get(cas_validate),
    },
    RouteDef {
        path: "/cas/p3/proxyValidate",
        example: "/cas/p3/proxyValidate",
        methods: || get(cas_validate),
    },
    RouteDef {
        path: "/cas/proxy",
        example: "/cas/proxy",
        methods: || get(cas_proxy),
    },
];

/// The single sign-on endpoints alone, without the web platform's guard
/// (the protocol tests run them so, with their own sessions).
pub fn router(sso: Arc<Sso>) -> Router {
    let mut r: Router<Arc<Sso>> = Router::new();
    for def in ROUTES {
        r = r.route(def.path, (def.methods)());
    }
    r.with_state(sso)
}

fn chrome(title: &str, establishment: &str) -> Page {
    let mut p = Page::anonymous(title);
    p.establishment = establishment.to_string();
    p
}

#[derive(Template)]
#[template(path = "sso/consent.html")]
struct ConsentPage<'a> {
    page: &'a Page,
    client: &'a str,
    establishment: &'a str,
    given: Vec<&'static str>,
    action: &'static str,
    fields: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "sso/logout.html")]
struct LogoutPage<'a> {
    page: &'a Page,
    csrf: &'a str,
    next: Option<&'a str>,
    action: &'static str,
}

fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let chrome = Page::anonymous(title);
    let mut r = pages::render(&ErrorPage {
        page: &chrome,
        heading: title,
        message,
    });
    *r.status_mut() = status;
    no_store(r)
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

fn json(status: StatusCode, value: serde_json::Value) -> Response {
    no_store((status, axum::Json(value)).into_response())
}

async fn discovery(State(sso): State<Arc<Sso>>) -> Response {
    let current = sso.current();
    axum::Json(oidc::discovery(&current.issuer)).into_response()
}

async fn jwks(State(sso): State<Arc<Sso>>) -> Response {
    match sso.write(|_, _, keys| Ok(keys.jwks.clone())).await {
        Ok(set) => (
            [(header::CACHE_CONTROL, "max-age=300")],
            axum::Json(serde_json::to_value(set).unwrap_or_default()),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Sends the browser to the sign-in page, to come back to `back`.
fn to_signin(sso: &Sso, back: &str) -> Response {
    Redirect::to(&oidc::with_query(&sso.signin_path, &[("suite", back)])).into_response()
}

enum Answer {
    Redirect(String),
    Page(StatusCode, &'static str, String),
    Consent {
        client_name: String,
        scope: String,
        req: Checked,
    },
}

async fn authorize(State(sso): State<Arc<Sso>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let raw = raw.unwrap_or_default();
    let req: AuthRequest = match serde_urlencoded::from_str(&raw) {
        Ok(r) => r,
        Err(_) => {
            return page(
                StatusCode::BAD_REQUEST,
                either("Demande invalide", "Invalid request"),
                either(
                    "Les paramètres de la demande sont illisibles.",
                    "The request's parameters cannot be read.",
                ),
            );
        }
    };
    let back = format!("{}?{raw}", oidc::AUTHORIZE_PATH);
    let signed_in = sso.sessions.current(&headers);
    answer(&sso, &headers, req, signed_in, &back, None).await
}

/// Decides an authorization request; `decision` is the consent form's
/// answer when it comes from it.
async fn answer(
    sso: &Arc<Sso>,
    headers: &HeaderMap,
    req: AuthRequest,
    signed_in: Option<SignedIn>,
    back: &str,
    decision: Option<bool>,
) -> Response {
    let current = sso.current();
    let checked = match oidc::check_authorize(&current.settings, &req) {
        Ok(c) => c,
        Err(AuthError::Page(message)) => {
            return page(
                StatusCode::BAD_REQUEST,
                either("Demande refusée", "Request refused"),
                &message,
            );
        }
        Err(AuthError::Redirect(url)) => return Redirect::to(&url).into_response(),
    };
    let refuse = |error: &str, description: &str| {
        Redirect::to(&oidc::error_redirect(
            &checked.redirect_uri,
            error,
            description,
            checked.state.as_deref(),
        ))
        .into_response()
    };
    let now = super::now();
    let who = match signed_in {
        Some(w) if !(checked.prompt.login && w.auth_time < now - 120) => w,
        _ if checked.prompt.none => return refuse("login_required", "the person is not signed in"),
        _ => {
            // prompt=login: ask for the password again, then come back
            // without it so that the fresh sign-in is not asked twice.
            let back = back
                .replace("&prompt=login", "")
                .replace("prompt=login&", "")
                .replace("?prompt=login", "?");
            return to_signin(sso, &back);
        }
    };
    let csrf = sso.sessions.csrf_token(headers);
    let answer = sso
        .write(move |tx, current, _| {
            let client = current
                .settings
                .client(&checked.client_id)
                .expect("checked client");
            let Some(person) = identity(tx, &who.login)? else {
                return Ok(Answer::Page(
                    StatusCode::FORBIDDEN,
                    either("Compte fermé", "Account closed"),
                    either(
                        "Ce compte ne peut plus se connecter.",
                        "This account can no longer sign in.",
                    )
                    .into(),
                ));
            };
            if !super::may_use(&current.settings, super::Service::Oidc(&client.id), &person).allowed() {
                return Ok(Answer::Redirect(oidc::error_redirect(
                    &checked.redirect_uri,
                    "access_denied",
                    "this service is not open to the person's role",
                    checked.state.as_deref(),
                )));
            }
            match decision {
                Some(false) => {
                    return Ok(Answer::Redirect(oidc::error_redirect(
                        &checked.redirect_uri,
                        "access_denied",
                        "the person refused",
                        checked.state.as_deref(),
                    )));
                }
                Some(true) => oidc::remember_consent(tx, &who.login, &client.id, &checked.scope, now)?,
                None => {
                    if checked.prompt.consent || oidc::needs_consent(tx, client, &who.login, &checked.scope)?
                    {
                        if checked.prompt.none {
                            return Ok(Answer::Redirect(oidc::error_redirect(
                                &checked.redirect_uri,
                                "consent_required",
                                "the person has not agreed yet",
                                checked.state.as_deref(),
                            )));
                        }
                        return Ok(Answer::Consent {
                            client_name: client.name.clone(),
                            scope: checked.scope.clone(),
                            req: checked,
                        });
                    }
                }
            }
            log::info!(
                "sso: authorization code for client {} to {}",
                client.id,
                who.login
            );
            Ok(Answer::Redirect(oidc::issue_code(
                tx,
                &current.settings,
                &checked,
                &who,
                now,
            )?))
        })
        .await;
    match answer {
        Err(e) => e.into_response(),
        Ok(Answer::Redirect(url)) => no_store(Redirect::to(&url).into_response()),
        Ok(Answer::Page(status, title, message)) => page(status, title, &message),
        Ok(Answer::Consent {
            client_name,
            scope,
            req,
        }) => consent_page(&current, &client_name, &scope, &req, csrf),
    }
}

fn consent_page(
    current: &Current,
    client_name: &str,
    scope: &str,
    req: &Checked,
    csrf: Option<String>,
) -> Response {
    let mut given = vec![either("votre identifiant", "your login")];
    if scope.split(' ').any(|s| s == "profile") {
        given.push(either(
            "vos nom et prénom, votre rôle, vos classes et groupes, l'établissement",
            "your first and last names, your role, your classes and groups, the school",
        ));
    }
    if scope.split(' ').any(|s| s == "email") {
        given.push(either("votre adresse électronique", "your e-mail address"));
    }
    let mut fields = Vec::new();
    let mut field = |name: &'static str, value: Option<&str>| {
        if let Some(v) = value {
            fields.push((name, v.to_string()));
        }
    };
    field("response_type", Some("code"));
    field("client_id", Some(&req.client_id));
    field("redirect_uri", Some(&req.redirect_uri));
    field("scope", Some(&req.scope));
    field("state", req.state.as_deref());
    field("nonce", req.nonce.as_deref());
    field("code_challenge", req.challenge.as_deref());
    field("code_challenge_method", req.challenge.as_ref().map(|_| "S256"));
    field("csrf", csrf.as_deref());
    let chrome = chrome(
        &pick(crate::msg!("Allow {client_name}", "Autoriser {client_name}")),
        &current.name,
    );
    let mut r = no_store(pages::render(&ConsentPage {
        page: &chrome,
        client: client_name,
        establishment: &current.name,
        given,
        action: oidc::AUTHORIZE_PATH,
        fields,
    }));
    // The form's answer sends the browser back to the service.
    form_may_go_to(&mut r, std::slice::from_ref(&req.redirect_uri));
    r
}

/// Lets the page's forms end at `urls`' origins (the browser enforces
/// `form-action` on the redirect that follows a form).
fn form_may_go_to(r: &mut Response, urls: &[String]) {
    if let Ok(v) = HeaderValue::from_str(&crate::web::headers::csp_with_form_action(urls)) {
        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
}

#[derive(Deserialize)]
struct ConsentForm {
    #[serde(flatten)]
    req: AuthRequest,
    decision: Option<String>,
    csrf: Option<String>,
}

async fn consent(State(sso): State<Arc<Sso>>, headers: HeaderMap, Form(form): Form<ConsentForm>) -> Response {
    let Some(who) = sso.sessions.current(&headers) else {
        return page(
            StatusCode::FORBIDDEN,
            either("Session expirée", "Session expired"),
            either(
                "Reconnectez-vous puis recommencez depuis le service.",
                "Sign in again, then start again from the service.",
            ),
        );
    };
    let expected = sso.sessions.csrf_token(&headers);
    if expected.is_none()
        || form
            .csrf
            .as_deref()
            .is_none_or(|c| !super::same(c, expected.as_deref().unwrap_or("")))
    {
        return page(
            StatusCode::FORBIDDEN,
            either("Formulaire expiré", "Form expired"),
            either(
                "Rechargez la page du service et recommencez.",
                "Reload the service's page and start again.",
            ),
        );
    }
    let decision = match form.decision.as_deref() {
        Some("accepter") => true,
        Some("refuser") => false,
        _ => {
            return page(
                StatusCode::BAD_REQUEST,
                either("Demande invalide", "Invalid request"),
                either("Choisissez Autoriser ou Refuser.", "Choose Allow or Refuse."),
            );
        }
    };
    answer(
        &sso,
        &headers,
        form.req,
        Some(who),
        oidc::AUTHORIZE_PATH,
        Some(decision),
    )
    .await
}

fn token_error(e: &oidc::TokenError, basic: bool) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut r = json(status, e.body());
    if status == StatusCode::UNAUTHORIZED && basic {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"preau\""),
        );
    }
    r
}

/// The body of a protocol request, or the OAuth error that says it could
/// not be read (larger than axum's limit, cut short).
fn protocol_body(
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<axum::body::Bytes, oidc::TokenError> {
    body.map_err(|_| oidc::TokenError {
        status: 400,
        error: "invalid_request",
        description: "the request body is too large or was not received whole".into(),
    })
}

async fn token(
    State(sso): State<Arc<Sso>>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match protocol_body(body) {
        Ok(b) => b,
        Err(e) => return token_error(&e, false),
    };
    let basic_header = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let basic = basic_header.and_then(oidc::basic_credentials);
    let Ok(req) = serde_urlencoded::from_bytes::<TokenRequest>(&body) else {
        let e = oidc::TokenError {
            status: 400,
            error: "invalid_request",
            description: "the body is not a form with each parameter once".into(),
        };
        return token_error(&e, false);
    };
    let current = sso.current();
    let basic_used = basic.is_some();
    if basic_header.is_some() && !basic_used {
        let e = oidc::TokenError {
            status: 401,
            error: "invalid_client",
            description: "unreadable Authorization header".into(),
        };
        return token_error(&e, true);
    }
    let client = match oidc::authenticate_client(&current.settings, basic, &req) {
        Ok(c) => c.clone(),
        Err(e) => return token_error(&e, basic_used),
    };
    let result = sso
        .write(move |tx, current, keys| {
            let iss = oidc::Issuer {
                settings: &current.settings,
                issuer: &current.issuer,
                uai: &current.uai,
                keys,
            };
            Ok(oidc::token(tx, &iss, &client, &req, super::now()))
        })
        .await;
    match result {
        Err(e) => e.into_response(),
        Ok(Ok(t)) => json(StatusCode::OK, serde_json::to_value(t).unwrap_or_default()),
        Ok(Err(e)) => token_error(&e, basic_used),
    }
}

#[derive(Deserialize, Default)]
struct BearerForm {
    access_token: Option<String>,
}

async fn userinfo(
    State(sso): State<Arc<Sso>>,
    headers: HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match protocol_body(body) {
        Ok(b) => b,
        Err(e) => return token_error(&e, false),
    };
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .map(String::from);
    let from_form = serde_urlencoded::from_bytes::<BearerForm>(&body)
        .unwrap_or_default()
        .access_token;
    let Some(token) = from_header.or(from_form) else {
        let mut r = json(
            StatusCode::UNAUTHORIZED,
            serde_json::json!({"error": "invalid_request", "error_description": "no access token"}),
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"preau\""),
        );
        return r;
    };
    let result = sso
        .write(move |tx, current, _| Ok(oidc::userinfo(tx, &current.uai, &token, super::now())))
        .await;
    match result {
        Err(e) => e.into_response(),
        Ok(Ok(claims)) => json(StatusCode::OK, serde_json::Value::Object(claims)),
        Ok(Err(e)) => {
            let mut r = json(
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::UNAUTHORIZED),
                e.body(),
            );
            let challenge = format!("Bearer realm=\"preau\", error=\"{}\"", e.error);
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            r
        }
    }
}

/// Signs the person out of Préau and of every service the session
/// reached: back-channel logout tokens go to the OpenID Connect clients
/// that have an address for them.
async fn sign_out_everywhere(sso: &Arc<Sso>, headers: &HeaderMap) -> HeaderMap {
    let (sid, clear) = sso.sessions.sign_out(headers);
    if let Some(sid) = sid {
        sso.end_single_sign_on(sid).await;
    }
    clear
}

impl Sso {
    /// Ends the single sign-on of the sign-in session `sid` (the web
    /// platform calls it when a person signs out at `/deconnexion`): its
    /// tokens and tickets are revoked; back-channel logout tokens go, in
    /// the background, to the OpenID Connect clients it reached that have
    /// an address for them, and CAS single logout requests to the CAS
    /// services that validated one of its tickets.
    pub async fn end_single_sign_on(self: &Arc<Self>, sid: String) {
        let sso = self;
        let sent = sso
            .write(move |tx, current, keys| {
                let cas_targets = cas::take_logout_targets(tx, &sid)?;
                let reached = oidc::end_session(tx, &sid)?;
                let mut deliveries = Vec::new();
                for r in reached.iter().filter(|r| r.protocol == "oidc") {
                    let Some(client) = current.settings.client(&r.client) else {
                        continue;
                    };
                    if client.backchannel_logout_uri.is_empty() {
                        continue;
                    }
                    match oidc::logout_token(keys, &current.issuer, &client.id, &r.login, &sid, super::now())
                    {
                        Ok(t) => {
                            deliveries.push((client.id.clone(), client.backchannel_logout_uri.clone(), t))
                        }
                        Err(e) => log::error!("sso: cannot sign a logout token for {}: {e}", client.id),
                    }
                }
                Ok((deliveries, cas_targets))
            })
            .await;
        if let Ok((deliveries, cas_targets)) = sent {
            for (client, uri, token) in deliveries {
                tokio::spawn(async move {
                    match super::backchannel::post_logout_token(&uri, &token).await {
                        Ok(()) => log::info!("sso: back-channel logout delivered to {client}"),
                        Err(e) => log::warn!("sso: back-channel logout to {client} failed: {e}"),
                    }
                });
            }
            // CAS single logout: each service that validated a ticket of
            // the session gets a logoutRequest naming that ticket, in the
            // background (a service that does not answer delays nothing).
            for target in cas_targets {
                let xml = cas::logout_request(
                    &target.ticket,
                    &format!("LR-{}", super::random_token()),
                    super::now(),
                );
                tokio::spawn(async move {
                    let name = target.service.split('?').next().unwrap_or_default().to_string();
                    match super::backchannel::post_cas_logout(&target.service, &xml).await {
                        Ok(()) => log::info!("sso: CAS single logout delivered to {name}"),
                        Err(e) => log::warn!("sso: CAS single logout to {name} failed: {e}"),
                    }
                });
            }
        }
    }
}

/// The `sid` single sign-on gives the services for the sign-in session
/// whose stored key (SHA-256 of the cookie's token) is `session_key`.
pub fn sid_of(session_key: &str) -> String {
    super::sha256_hex(&format!("sid:{session_key}"))
}

fn signed_out(headers: HeaderMap, to: Option<String>) -> Response {
    let mut r = match to {
        Some(url) => Redirect::to(&url).into_response(),
        None => page(
            StatusCode::OK,
            either("Vous êtes déconnecté", "You are signed out"),
            either(
                "Vous êtes déconnecté de Préau et des services de l'établissement.",
                "You are signed out of Préau and of the school's services.",
            ),
        ),
    };
    for (k, v) in headers.iter() {
        r.headers_mut().append(k, v.clone());
    }
    no_store(r)
}

async fn logout(
    State(sso): State<Arc<Sso>>,
    headers: HeaderMap,
    Query(req): Query<LogoutRequest>,
) -> Response {
    let current = sso.current();
    let keys = match sso.write(|_, _, keys| Ok(keys.clone())).await {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let to = oidc::logout_redirect(&current.settings, &keys, &current.issuer, &req);
    let who = sso.sessions.current(&headers);
    let hint = req
        .id_token_hint
        .as_deref()
        .and_then(|t| oidc::read_hint(&keys, &current.issuer, t));
    match (who, hint) {
        (None, _) => signed_out(HeaderMap::new(), to),
        // A hint naming the signed-in person: the service asks, sign out.
        (Some(w), Some(h)) if h.sub == w.login => {
            let clear = sign_out_everywhere(&sso, &headers).await;
            signed_out(clear, to)
        }
        // Otherwise ask the person, so that no other site signs them out.
        (Some(_), _) => {
            let csrf = sso.sessions.csrf_token(&headers).unwrap_or_default();
            let chrome = chrome(either("Se déconnecter", "Sign out"), &current.name);
            let mut r = no_store(pages::render(&LogoutPage {
                page: &chrome,
                csrf: &csrf,
                next: to.as_deref(),
                action: oidc::LOGOUT_PATH,
            }));
            if let Some(url) = &to {
                form_may_go_to(&mut r, std::slice::from_ref(url));
            }
            r
        }
    }
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf: Option<String>,
    suivant: Option<String>,
}

async fn logout_confirmed(
    State(sso): State<Arc<Sso>>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Response {
    let expected = sso.sessions.csrf_token(&headers);
    if expected.is_none()
        || form
            .csrf
            .as_deref()
            .is_none_or(|c| !super::same(c, expected.as_deref().unwrap_or("")))
    {
        return page(
            StatusCode::FORBIDDEN,
            either("Formulaire expiré", "Form expired"),
            either(
                "Rechargez la page et recommencez.",
                "Reload the page and start again.",
            ),
        );
    }
    // Only a registered post-logout address may be followed.
    let current = sso.current();
    let to = form.suivant.filter(|url| {
        current.settings.oidc_clients.iter().any(|c| {
            c.post_logout_redirect_uris
                .iter()
                .any(|u| url == u || url.starts_with(&format!("{u}?state=")))
        })
    });
    let clear = sign_out_everywhere(&sso, &headers).await;
    signed_out(clear, to)
}

#[derive(Deserialize, Default)]
struct CasLoginQuery {
    service: Option<String>,
    renew: Option<String>,
    gateway: Option<String>,
}

fn flag(v: &Option<String>) -> bool {
    v.as_deref()
        .is_some_and(|v| v == "true" || v == "1" || v.is_empty())
}

async fn cas_login(State(sso): State<Arc<Sso>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let raw = raw.unwrap_or_default();
    let Ok(q) = serde_urlencoded::from_str::<CasLoginQuery>(&raw) else {
        return page(
            StatusCode::BAD_REQUEST,
            either("Demande invalide", "Invalid request"),
            either(
                "Les paramètres de la demande sont illisibles.",
                "The request's parameters cannot be read.",
            ),
        );
    };
    let Some(service) = q.service.filter(|s| !s.is_empty()) else {
        return match sso.sessions.current(&headers) {
            Some(_) => page(
                StatusCode::OK,
                either("Vous êtes connecté", "You are signed in"),
                either("Vous êtes connecté à Préau.", "You are signed in to Préau."),
            ),
            None => to_signin(&sso, "/"),
        };
    };
    let current = sso.current();
    if cas::check_service(&current.settings, &service).is_err() {
        return page(
            StatusCode::FORBIDDEN,
            either("Service non autorisé", "Service not allowed"),
            either(
                "Ce service n'est pas déclaré sur ce serveur : l'administrateur doit l'ajouter à la configuration.",
                "This service is not declared on this server: the administrator must add it to the configuration.",
            ),
        );
    }
    let now = super::now();
    let renew = flag(&q.renew);
    let who = match sso.sessions.current(&headers) {
        Some(w) if !(renew && w.auth_time < now - 120) => w,
        _ if flag(&q.gateway) => return Redirect::to(&service).into_response(),
        _ => {
            let back = format!(
                "/cas/login?{}",
                raw.replace("&renew=true", "").replace("renew=true&", "")
            );
            return to_signin(&sso, &back);
        }
    };
    let fresh = who.auth_time >= now - 120;
    let result = sso
        .write(move |tx, current, _| {
            let Some(person) = identity(tx, &who.login)? else {
                return Ok(Err(None));
            };
            match cas::issue_ticket(tx, &current.settings, &service, &person, &who.sid, fresh, now) {
                Ok(url) => Ok(Ok(url)),
                Err(cas::LoginRefusalOrSql::Sql(e)) => Err(e),
                Err(cas::LoginRefusalOrSql::Refused(r)) => Ok(Err(Some(r))),
            }
        })
        .await;
    match result {
        Err(e) => e.into_response(),
        Ok(Ok(url)) => no_store(Redirect::to(&url).into_response()),
        Ok(Err(None)) => page(
            StatusCode::FORBIDDEN,
            either("Compte fermé", "Account closed"),
            either(
                "Ce compte ne peut plus se connecter.",
                "This account can no longer sign in.",
            ),
        ),
        Ok(Err(Some(cas::LoginRefusal::RoleNotAllowed { service }))) => page(
            StatusCode::FORBIDDEN,
            either("Accès refusé", "Access refused"),
            &pick(crate::msg!(
                "The service \"{service}\" is not open to your role.",
                "Le service « {service} » n'est pas ouvert à votre profil."
            )),
        ),
        Ok(Err(Some(cas::LoginRefusal::UnknownService))) => page(
            StatusCode::FORBIDDEN,
            either("Service non autorisé", "Service not allowed"),
            either(
                "Ce service n'est pas déclaré sur ce serveur.",
                "This service is not declared on this server.",
            ),
        ),
    }
}

#[derive(Deserialize, Default)]
struct CasValidateQuery {
    service: Option<String>,
    ticket: Option<String>,
    renew: Option<String>,
}

fn xml(body: String) -> Response {
    no_store(([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], body).into_response())
}

async fn validate_ticket(
    sso: &Arc<Sso>,
    q: CasValidateQuery,
) -> Result<Result<super::claims::Identity, cas::Failure>, Unavailable> {
    let renew = flag(&q.renew);
    sso.write(move |tx, _, _| {
        cas::validate(tx, q.service.as_deref(), q.ticket.as_deref(), renew, super::now())
    })
    .await
}

async fn cas_validate(State(sso): State<Arc<Sso>>, RawQuery(raw): RawQuery) -> Response {
    let q = serde_urlencoded::from_str::<CasValidateQuery>(&raw.unwrap_or_default()).unwrap_or_default();
    let uai = sso.current().uai.clone();
    match validate_ticket(&sso, q).await {
        Err(_) => xml(cas::failure_xml(&cas::Failure {
            code: "INTERNAL_ERROR",
            message: "the server could not validate the ticket".into(),
        })),
        Ok(Ok(who)) => xml(cas::success_xml(&who, &uai, None)),
        Ok(Err(f)) => xml(cas::failure_xml(&f)),
    }
}

/// CAS 1.0 `/cas/validate`: "yes\nlogin\n" or "no\n".
async fn cas_validate_v1(State(sso): State<Arc<Sso>>, RawQuery(raw): RawQuery) -> Response {
    let q = serde_urlencoded::from_str::<CasValidateQuery>(&raw.unwrap_or_default()).unwrap_or_default();
    let body = match validate_ticket(&sso, q).await {
        Ok(Ok(who)) => format!("yes\n{}\n", who.login),
        _ => "no\n".to_string(),
    };
    no_store(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response())
}

async fn cas_proxy() -> Response {
    xml(cas::proxy_refusal_xml())
}

#[derive(Deserialize, Default)]
struct CasLogoutQuery {
    service: Option<String>,
    url: Option<String>,
}

async fn cas_logout(State(sso): State<Arc<Sso>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let q = serde_urlencoded::from_str::<CasLogoutQuery>(&raw.unwrap_or_default()).unwrap_or_default();
    let current = sso.current();
    let to = q
        .service
        .or(q.url)
        .filter(|s| cas::check_service(&current.settings, s).is_ok());
    let clear = sign_out_everywhere(&sso, &headers).await;
    signed_out(clear, to)
}

/// The web platform's sessions (`crate::web::session`): the cookie's
/// session, its CSRF token, its sign-out. The `sid` given to services is
/// derived from the session's stored hash, never the cookie's token.
pub struct WebSessions {
    db_path: Box<dyn Fn() -> PathBuf + Send + Sync>,
    timeouts: crate::web::session::Timeouts,
}

impl WebSessions {
    pub fn new(
        db_path: impl Fn() -> PathBuf + Send + Sync + 'static,
        timeouts: crate::web::session::Timeouts,
    ) -> Self {
        WebSessions {
            db_path: Box::new(db_path),
            timeouts,
        }
    }

    fn lookup(&self, headers: &HeaderMap) -> Option<(Store, String, crate::web::session::Session)> {
        use crate::web::session;
        let token = session::token_from(headers)?;
        let mut store = Store::open_existing(&(self.db_path)())
            .map_err(|e| log::error!("sso: {e}"))
            .ok()?;
        let found = session::lookup(&mut store, &token, session::now(), &self.timeouts)
            .map_err(|e| log::error!("sso: {e}"))
            .ok()??;
        Some((store, token, found))
    }
}

impl Sessions for WebSessions {
    fn current(&self, headers: &HeaderMap) -> Option<SignedIn> {
        let (store, _, s) = self.lookup(headers)?;
        // A person who must change the initial password signs in again
        // (the sign-in page sends them to /mot-de-passe first).
        if s.must_change {
            return None;
        }
        let created: i64 = store
            .conn()
            .query_row(
                "SELECT created_at FROM web_sessions WHERE token_sha256 = ?1",
                [&s.key],
                |r| r.get(0),
            )
            .ok()?;
        Some(SignedIn {
            login: s.login,
            sid: sid_of(&s.key),
            auth_time: created,
        })
    }

    fn csrf_token(&self, headers: &HeaderMap) -> Option<String> {
        self.lookup(headers).map(|(_, _, s)| s.csrf)
    }

    fn sign_out(&self, headers: &HeaderMap) -> (Option<String>, HeaderMap) {
        let mut clear = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&crate::web::session::clear_cookie()) {
            clear.insert(header::SET_COOKIE, v);
        }
        let Some((mut store, token, s)) = self.lookup(headers) else {
            return (None, clear);
        };
        if let Err(e) = crate::web::session::delete(&mut store, &token) {
            log::error!("sso: cannot end the session: {e}");
        }
        (Some(sid_of(&s.key)), clear)
    }
}

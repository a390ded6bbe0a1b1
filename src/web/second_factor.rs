//! The administrators' second factor in the web application
//! ([`super::totp`] holds the decisions and the store).
//!
//! - `/connexion/code`: after a right password, an enrolled administrator
//!   has no session yet but a pending sign-in (its own `__Host-` cookie,
//!   five minutes, five wrong codes); he gives a code of his application
//!   or a recovery code, and only then gets a session.
//! - `/console/securite`: an administrator enrols (a new secret shown as a
//!   QR code drawn on the server and as text), confirms with a first code,
//!   receives ten recovery codes shown once, and may disable the second
//!   factor with a code. Everything is audited.

use super::errors::WebError;
use super::i18n::either;
use super::pages::{self, Page};
use super::{AppState, Peer, Signed, audit, csrf, forms, session, signin, totp};
use askama::Template;
use axum::Extension;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

#[derive(Template)]
#[template(path = "signin_code.html")]
struct CodePage<'a> {
    page: &'a Page,
    error: Option<&'a str>,
    next: &'a str,
}

fn code_page(web: &AppState, error: Option<&str>, next: &str, token: &str, status: StatusCode) -> Response {
    let mut chrome = Page::anonymous(super::i18n::t(super::i18n::current(), "code.title"));
    chrome.establishment = web.config().establishment.name.clone();
    chrome.csrf = token.to_string();
    let mut r = pages::render(&CodePage {
        page: &chrome,
        error,
        next: signin::after_sign_in(next),
    });
    *r.status_mut() = status;
    if let Ok(v) = csrf::signin_cookie(token).parse() {
        r.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    r
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    super::i18n::spawn_blocking(f)
        .await
        .map_err(|e| WebError::Internal(anyhow::anyhow!("{e}")))?
}

/// `GET /connexion/code`.
pub async fn code_form(
    State(web): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let next = q.get("suite").cloned().unwrap_or_default();
    let Some(pending) = session::cookie(&headers, totp::COOKIE) else {
        return Redirect::to("/connexion").into_response();
    };
    let w = web.clone();
    let alive = blocking(move || Ok(totp::pending_login(w.store()?.conn(), &pending, session::now())?)).await;
    match alive {
        Ok(Some(_)) => {
            let token = session::cookie(&headers, csrf::SIGNIN_COOKIE).unwrap_or_else(session::new_token);
            code_page(&web, None, &next, &token, StatusCode::OK)
        }
        Ok(None) => Redirect::to("/connexion").into_response(),
        Err(e) => e.into_response(),
    }
}

enum Checked {
    Signed(String),
    Wrong,
    Gone,
    Throttled,
}

/// `POST /connexion/code`: `code` (or a recovery code), `csrf`, `suite`.
pub async fn code_submit(
    State(web): State<AppState>,
    headers: HeaderMap,
    req_peer: Option<Extension<Peer>>,
    body: Body,
) -> Response {
    let address = signin::peer(req_peer);
    let fields = match forms::read(body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let next = fields.get("suite").to_string();
    let token = session::cookie(&headers, csrf::SIGNIN_COOKIE).unwrap_or_default();
    if !csrf::matches(&token, fields.get("csrf")) {
        return code_page(
            &web,
            Some(either(
                "Le formulaire a expiré : saisissez à nouveau le code.",
                "The form has expired: type the code again.",
            )),
            &next,
            &session::new_token(),
            StatusCode::FORBIDDEN,
        );
    }
    let given = fields.get("code").trim().to_string();
    if given.is_empty() || given.len() > 32 {
        return code_page(
            &web,
            Some(either(
                "Saisissez le code à six chiffres de votre application, ou un code de secours.",
                "Type the six-digit code of your application, or a recovery code.",
            )),
            &next,
            &token,
            StatusCode::BAD_REQUEST,
        );
    }
    let Some(pending) = session::cookie(&headers, totp::COOKIE) else {
        return Redirect::to("/connexion").into_response();
    };
    let w = web.clone();
    let checked = blocking(move || {
        let mut store = w.store()?;
        let now = session::now();
        let addr = address.to_string();
        let Some(login) = totp::pending_login(store.conn(), &pending, now)? else {
            return Ok(Checked::Gone);
        };
        let key = format!("{login} (code)");
        let allowed = w
            .throttle
            .lock()
            .map(|t| t.allowed(&key, address, Instant::now()))
            .unwrap_or(false);
        if !allowed {
            audit::record(&mut store, &login, &addr, "connexion", "", "refusée : trop de codes faux")?;
            return Ok(Checked::Throttled);
        }
        match totp::check(&mut store, &login, &given, now)? {
            None => {
                totp::pending_failed(&mut store, &pending)?;
                if let Ok(mut t) = w.throttle.lock() {
                    t.failed(&key, address, Instant::now());
                }
                audit::record(&mut store, &login, &addr, "connexion", "", "code à usage unique faux")?;
                Ok(Checked::Wrong)
            }
            Some(how) => {
                totp::pending_end(&mut store, &pending)?;
                if let Ok(mut t) = w.throttle.lock() {
                    t.succeeded(&key);
                }
                let token = session::create(&mut store, &login, true, false, &addr, now)?;
                let outcome = match how {
                    totp::Given::Code => "réussie (avec code)",
                    totp::Given::Recovery => "réussie (avec un code de secours, désormais utilisé)",
                };
                audit::record(&mut store, &login, &addr, "connexion", "", outcome)?;
                log::info!(login = login.as_str(), address = addr.as_str(); "web sign-in with a second factor");
                Ok(Checked::Signed(token))
            }
        }
    })
    .await;
    match checked {
        Ok(Checked::Signed(t)) => super::see_other(
            signin::after_sign_in(&next),
            &[session::set_cookie(&t), totp::clear_cookie()],
        ),
        Ok(Checked::Wrong) => code_page(
            &web,
            Some(either(
                "Code incorrect ou déjà utilisé : attendez le suivant dans votre application.",
                "Wrong or already used code: wait for the next one in your application.",
            )),
            &next,
            &token,
            StatusCode::UNAUTHORIZED,
        ),
        Ok(Checked::Throttled) => code_page(
            &web,
            Some(either(
                "Trop de tentatives en peu de temps : la connexion est bloquée pendant quinze minutes.",
                "Too many attempts in a short time: signing in is blocked for fifteen minutes.",
            )),
            &next,
            &token,
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Ok(Checked::Gone) => super::see_other("/connexion", &[totp::clear_cookie()]),
        Err(e) => e.into_response(),
    }
}

#[derive(Template)]
#[template(path = "console/security.html")]
struct SecurityPage<'a> {
    page: &'a Page,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    /// "off", "pending" or "on".
    state: &'a str,
    /// While enrolling: the QR code (a data: URL of its SVG) and the text.
    qr: String,
    secret: String,
    recovery_left: i64,
    /// Shown once, right after confirmation.
    recovery: Vec<String>,
}

fn security_page(
    web: &AppState,
    signed: &Signed,
    notice: Option<&str>,
    error: Option<&str>,
    recovery: Vec<String>,
) -> Result<Response, WebError> {
    let config = web.config();
    let store = web.store()?;
    let e = totp::enrolment(store.conn(), &signed.actor.login)?;
    let (state, qr, secret) = match &e {
        None => ("off", String::new(), String::new()),
        Some(e) if e.confirmed => ("on", String::new(), String::new()),
        Some(e) => {
            let issuer = if config.establishment.name.is_empty() {
                "Préau".to_string()
            } else {
                format!("Préau {}", config.establishment.name)
            };
            let uri = totp::otpauth_uri(&issuer, &signed.actor.login, &e.secret);
            let svg = totp::qr_svg(&uri).unwrap_or_default();
            let svg = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
            (
                "pending",
                format!(
                    "data:image/svg+xml;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(svg)
                ),
                totp::secret_grouped(&e.secret),
            )
        }
    };
    let chrome = Page::signed(
        either("Double authentification", "Two-factor authentication"),
        &config.establishment.name,
        signed,
        "/console/securite",
    );
    let mut r = pages::render(&SecurityPage {
        page: &chrome,
        notice,
        error,
        state,
        qr,
        secret,
        recovery_left: e.map_or(0, |e| e.recovery_left),
        recovery,
    });
    if error.is_some() {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

/// `GET /console/securite`.
pub async fn security(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    blocking(move || security_page(&web, &signed, None, None, Vec::new()))
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// `POST /console/securite`: `etape=commencer|confirmer|desactiver`, `code`.
pub async fn security_submit(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    body: Body,
) -> Response {
    let run = async move {
        let fields = forms::read(body).await?;
        if !csrf::matches(&signed.session.csrf, fields.get("csrf")) {
            return Err(WebError::Forbidden(
                super::i18n::t(super::i18n::current(), "form.expired").into(),
            ));
        }
        let step = fields.get("etape").to_string();
        let code = fields.get("code").trim().to_string();
        blocking(move || {
            let mut store = web.store()?;
            let login = signed.actor.login.clone();
            let addr = signed.peer.to_string();
            let now = session::now();
            let audit = |store: &mut crate::store::Store, outcome: &str| {
                audit::record(store, &login, &addr, "double authentification", &login, outcome)
            };
            match step.as_str() {
                "commencer" => {
                    if totp::begin(&mut store, &login, now)?.is_none() {
                        return security_page(&web, &signed, None, Some(either("La double authentification est déjà active.", "Two-factor authentication is already on.")), Vec::new());
                    }
                    audit(&mut store, "inscription commencée")?;
                    security_page(&web, &signed, None, None, Vec::new())
                }
                "confirmer" => match totp::confirm(&mut store, &login, &code, now)? {
                    Some(codes) => {
                        audit(&mut store, "activée")?;
                        // Other browsers signed in with the password alone end.
                        session::delete_others(&mut store, &login, &signed.session.key)?;
                        security_page(
                            &web,
                            &signed,
                            Some(either("La double authentification est active : le code sera demandé à chaque connexion.", "Two-factor authentication is on: the code will be asked at every sign-in.")),
                            None,
                            codes,
                        )
                    }
                    None => {
                        audit(&mut store, "confirmation refusée : code faux")?;
                        security_page(
                            &web,
                            &signed,
                            None,
                            Some(either("Code incorrect : saisissez le code à six chiffres affiché par l'application.", "Wrong code: type the six-digit code the application shows.")),
                            Vec::new(),
                        )
                    }
                },
                "desactiver" => {
                    let ok = match totp::enrolment(store.conn(), &login)? {
                        Some(e) if e.confirmed => totp::check(&mut store, &login, &code, now)?.is_some(),
                        Some(_) => true,
                        None => false,
                    };
                    if !ok {
                        audit(&mut store, "désactivation refusée : code faux")?;
                        return security_page(
                            &web,
                            &signed,
                            None,
                            Some(either("Code incorrect : la double authentification reste active.", "Wrong code: two-factor authentication stays on.")),
                            Vec::new(),
                        );
                    }
                    totp::disable(&mut store, &login)?;
                    audit(&mut store, "désactivée")?;
                    security_page(&web, &signed, Some(either("La double authentification est désactivée.", "Two-factor authentication is off.")), None, Vec::new())
                }
                _ => Err(WebError::BadRequest(either("Étape inconnue.", "Unknown step.").into())),
            }
        })
        .await
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

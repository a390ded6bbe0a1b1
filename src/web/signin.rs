//! Sign-in (`/connexion`), sign-out (`/deconnexion`) and the credential
//! check shared with the password change.
//!
//! Console administrators (the store's `admins` table, argon2id) are
//! tried first, then the directory's people with the directory's own lazy
//! scheme ([`crate::directory::password::verify`]: argon2id, or the
//! initial password until the first sign-in hashes it), the same rule the
//! proxy applies. Every attempt is throttled ([`super::throttle`]) and
//! audited; the password never reaches a log line.

use super::errors::WebError;
use super::pages::{self, Page, SignInPage};
use super::{AppState, Peer, Signed, audit, csrf, forms, session};
use crate::directory::password::{self, Verified};
use crate::store::Store;
use axum::Extension;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rusqlite::OptionalExtension;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Instant;

/// A verified account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub login: String,
    pub admin: bool,
    pub must_change: bool,
    pub person_id: Option<i64>,
}

/// Checks a login and password (blocking: argon2). Stores the argon2id
/// hash of an initial password at its first use.
pub fn verify(store: &mut Store, login: &str, password_given: &str) -> Result<Option<Account>, WebError> {
    if let Some(hash) = store.admin_hash(login)? {
        return Ok(
            crate::auth::verify_password(password_given, &hash).then(|| Account {
                login: login.to_string(),
                admin: true,
                must_change: false,
                person_id: None,
            }),
        );
    }
    let row: Option<(i64, Option<String>, Option<String>, bool)> = store
        .conn()
        .query_row(
            "SELECT id, password_hash, initial_password, must_change FROM people
             WHERE login = ?1 AND status = 'active'",
            [login],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((id, hash, initial, must_change)) = row else {
        // Same cost as a real check, so that timing does not tell which
        // logins exist.
        let _ = crate::auth::verify_password(password_given, &DUMMY_HASH);
        return Ok(None);
    };
    let ok = match password::verify(password_given, hash.as_deref(), initial.as_deref()) {
        Verified::No => false,
        Verified::Yes => true,
        Verified::YesHashNow(h) => {
            store.write(|tx| {
                tx.execute(
                    "UPDATE people SET password_hash = ?2 WHERE id = ?1 AND password_hash IS NULL",
                    rusqlite::params![id, h],
                )
            })?;
            true
        }
    };
    Ok(ok.then(|| Account {
        login: login.to_string(),
        admin: false,
        must_change,
        person_id: Some(id),
    }))
}

/// An argon2id hash of a random string, for the timing of unknown logins.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| crate::auth::hash_password(&session::new_token()).unwrap_or_default());

/// Where an anonymous visitor is sent: the sign-in page, then back.
pub fn to_sign_in(method: &Method, next: &str) -> Response {
    if method == Method::GET && next != "/" && safe_next(next) {
        let q: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("suite", next)
            .finish();
        Redirect::to(&format!("/connexion?{q}")).into_response()
    } else {
        Redirect::to("/connexion").into_response()
    }
}

/// What a right password leads to.
enum Outcome {
    /// A new session (its token).
    Signed(String),
    /// A pending sign-in waiting for the second factor (its token).
    Pending(String),
}

/// Where to go once signed in: `next` when it is one of our paths.
pub fn after_sign_in(next: &str) -> &str {
    if safe_next(next) && !next.is_empty() {
        next
    } else {
        "/"
    }
}

/// Only our own paths are followed after sign-in (no open redirect).
pub fn safe_next(next: &str) -> bool {
    next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && next.len() <= 2048
}

fn page_for(
    web: &AppState,
    login: &str,
    error: Option<&str>,
    next: &str,
    token: &str,
    status: StatusCode,
) -> Response {
    let mut chrome = Page::anonymous(super::i18n::t(super::i18n::current(), "signin.title"));
    chrome.establishment = web.config().establishment.name.clone();
    chrome.csrf = token.to_string();
    let body = SignInPage {
        page: &chrome,
        login,
        error,
        next: if safe_next(next) { next } else { "/" },
    };
    let mut r = pages::render(&body);
    *r.status_mut() = status;
    // Signing in on the way to a service (single sign-on): the answer
    // may go on, through redirects, to one of the registered services,
    // which the browser checks against `form-action`.
    if next.starts_with("/oidc/authorize") || next.starts_with("/cas/login") {
        let config = web.config();
        let services: Vec<String> = config
            .sso
            .oidc_clients
            .iter()
            .flat_map(|c| c.redirect_uris.iter().cloned())
            .chain(
                config
                    .sso
                    .cas_services
                    .iter()
                    .flat_map(|c| c.services.iter().cloned()),
            )
            .collect();
        if let Ok(v) = super::headers::csp_with_form_action(&services).parse() {
            r.headers_mut()
                .insert(axum::http::header::CONTENT_SECURITY_POLICY, v);
        }
    }
    if let Ok(v) = csrf::signin_cookie(token).parse() {
        r.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    r
}

/// `GET /connexion`.
pub async fn form(
    State(web): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let token = session::cookie(&headers, csrf::SIGNIN_COOKIE).unwrap_or_else(session::new_token);
    let next = q.get("suite").map(String::as_str).unwrap_or("/");
    page_for(&web, "", None, next, &token, StatusCode::OK)
}

pub fn peer(req_peer: Option<Extension<Peer>>) -> IpAddr {
    req_peer
        .map(|Extension(p)| p.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// `POST /connexion`: `login`, `password`, `csrf`, `suite`.
pub async fn submit(
    State(web): State<AppState>,
    headers: HeaderMap,
    req_peer: Option<Extension<Peer>>,
    body: Body,
) -> Response {
    let address = peer(req_peer);
    let fields = match forms::read(body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let cookie_token = session::cookie(&headers, csrf::SIGNIN_COOKIE).unwrap_or_default();
    let fresh = session::new_token();
    let login = fields.get("login").trim().to_lowercase();
    let next = fields.get("suite").to_string();
    if !csrf::matches(&cookie_token, fields.get("csrf")) {
        return page_for(
            &web,
            &login,
            Some(super::i18n::either(
                "Le formulaire a expiré : saisissez à nouveau votre identifiant et votre mot de passe.",
                "The form has expired: type your login and password again.",
            )),
            &next,
            &fresh,
            StatusCode::FORBIDDEN,
        );
    }
    let password_given = fields.get("password").to_string();
    if login.is_empty() || password_given.is_empty() || login.len() > 64 {
        return page_for(
            &web,
            &login,
            Some(super::i18n::either(
                "Saisissez votre identifiant et votre mot de passe.",
                "Type your login and your password.",
            )),
            &next,
            &cookie_token,
            StatusCode::BAD_REQUEST,
        );
    }
    let allowed = web
        .throttle
        .lock()
        .map(|t| t.allowed(&login, address, Instant::now()))
        .unwrap_or(false);
    // At most one argon2 check per core at a time; the others wait here.
    let Ok(_permit) = web.hashing.acquire().await else {
        return WebError::Internal(anyhow::anyhow!("password check semaphore closed")).into_response();
    };
    let w = web.clone();
    let l = login.clone();
    let old = session::token_from(&headers);
    let outcome = crate::web::i18n::spawn_blocking(move || -> Result<Option<Outcome>, WebError> {
        let mut store = w.store()?;
        let addr = address.to_string();
        if !allowed {
            audit::record(
                &mut store,
                &l,
                &addr,
                "connexion",
                "",
                "refusée : trop de tentatives",
            )?;
            return Err(WebError::BadRequest(String::new()));
        }
        match verify(&mut store, &l, &password_given)? {
            None => {
                if let Ok(mut t) = w.throttle.lock() {
                    t.failed(&l, address, Instant::now());
                }
                audit::record(
                    &mut store,
                    &l,
                    &addr,
                    "connexion",
                    "",
                    "mot de passe ou identifiant faux",
                )?;
                Ok(None)
            }
            Some(account) => {
                if let Ok(mut t) = w.throttle.lock() {
                    t.succeeded(&l);
                }
                // Rotation: the session presented (if any) ends; a new
                // token is issued.
                if let Some(old) = old {
                    session::delete(&mut store, &old)?;
                }
                // An administrator with a second factor gives his code
                // first (`/connexion/code`): no session yet.
                if account.admin && super::totp::required(store.conn(), &account.login)? {
                    let pending =
                        super::totp::pending_create(&mut store, &account.login, &addr, session::now())?;
                    audit::record(
                        &mut store,
                        &l,
                        &addr,
                        "connexion",
                        "",
                        "mot de passe juste, code à usage unique demandé",
                    )?;
                    return Ok(Some(Outcome::Pending(pending)));
                }
                let token = session::create(
                    &mut store,
                    &account.login,
                    account.admin,
                    account.must_change,
                    &addr,
                    session::now(),
                )?;
                audit::record(&mut store, &l, &addr, "connexion", "", "réussie")?;
                crate::booking::stats::record_sign_in(store.conn(), &l, session::now())?;
                log::info!(login = l.as_str(), address = addr.as_str(); "web sign-in");
                Ok(Some(Outcome::Signed(token)))
            }
        }
    })
    .await;
    match outcome {
        Ok(Ok(Some(Outcome::Signed(token)))) => {
            super::see_other(after_sign_in(&next), &[session::set_cookie(&token)])
        }
        Ok(Ok(Some(Outcome::Pending(token)))) => {
            let q: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("suite", after_sign_in(&next))
                .finish();
            super::see_other(
                &format!("/connexion/code?{q}"),
                &[super::totp::set_cookie(&token)],
            )
        }
        Ok(Ok(None)) => page_for(
            &web,
            &login,
            Some(super::i18n::either(
                "Identifiant ou mot de passe incorrect.",
                "Wrong login or password.",
            )),
            &next,
            &cookie_token,
            StatusCode::UNAUTHORIZED,
        ),
        Ok(Err(WebError::BadRequest(_))) => page_for(
            &web,
            &login,
            Some(super::i18n::either(
                "Trop de tentatives en peu de temps : la connexion est bloquée pendant quinze minutes.",
                "Too many attempts in a short time: signing in is blocked for fifteen minutes.",
            )),
            &next,
            &cookie_token,
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Ok(Err(e)) => e.into_response(),
        Err(e) => WebError::Internal(anyhow::anyhow!("{e}")).into_response(),
    }
}

/// `POST /deconnexion` (`partout=1`: every session of the account).
pub async fn sign_out(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let fields = match forms::read(body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    if !csrf::matches(&signed.session.csrf, fields.get("csrf")) {
        return WebError::Forbidden(
            super::i18n::either(
                "Le formulaire a expiré : rechargez la page.",
                "The form has expired: reload the page.",
            )
            .into(),
        )
        .into_response();
    }
    let everywhere = fields.get("partout") == "1";
    let token = session::token_from(&headers);
    let w = web.clone();
    let s = signed.clone();
    let done = crate::web::i18n::spawn_blocking(move || -> Result<Vec<String>, WebError> {
        let mut store = w.store()?;
        // The sign-in sessions that end: single sign-on ends with them.
        let keys: Vec<String> = if everywhere {
            let mut stmt = store
                .conn()
                .prepare("SELECT token_sha256 FROM web_sessions WHERE login = ?1")?;
            let rows = stmt.query_map([&s.actor.login], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        } else {
            vec![s.session.key.clone()]
        };
        if everywhere {
            session::delete_all(&mut store, &s.actor.login)?;
        } else if let Some(t) = token {
            session::delete(&mut store, &t)?;
        }
        let what = if everywhere { "partout" } else { "cet appareil" };
        audit::record(
            &mut store,
            &s.actor.login,
            &s.peer.to_string(),
            "déconnexion",
            what,
            "faite",
        )?;
        Ok(keys)
    })
    .await;
    match done {
        Ok(Ok(keys)) => {
            for key in keys {
                web.sso.end_single_sign_on(crate::sso::web::sid_of(&key)).await;
            }
            super::see_other("/connexion", &[session::clear_cookie()])
        }
        Ok(Err(e)) => e.into_response(),
        Err(e) => WebError::Internal(anyhow::anyhow!("{e}")).into_response(),
    }
}

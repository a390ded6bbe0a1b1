//! The OpenID Connect provider's decisions: authorization requests
//! (OpenID Connect Core 1.0 §3.1, RFC 6749 §4.1, PKCE RFC 7636), the token
//! endpoint (code exchange, client authentication, refresh tokens with
//! rotation and reuse detection, RFC 9700 §4.14), userinfo, the discovery
//! document, RP-initiated logout and back-channel logout tokens.
//!
//! Every function takes the clock as `now` (Unix seconds) and the store
//! connection of the caller's transaction; the token endpoint's work is
//! done inside one IMMEDIATE transaction, so a code or a refresh token can
//! never be spent twice, even by concurrent requests.

use super::claims::{Identity, identity, oidc_claims};
use super::keys::{ALG, KeySet};
use super::settings::{OidcClient, SsoSettings};
use super::{random_token, s256, same, sha256_hex};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// Scopes this provider knows; others asked for are ignored (RFC 6749
/// §3.3 lets the server narrow the scope).
pub const SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// Endpoints, relative to the issuer.
pub const AUTHORIZE_PATH: &str = "/oidc/authorize";
pub const TOKEN_PATH: &str = "/oidc/token";
pub const USERINFO_PATH: &str = "/oidc/userinfo";
pub const JWKS_PATH: &str = "/oidc/jwks";
pub const LOGOUT_PATH: &str = "/oidc/logout";

/// The event of a back-channel logout token.
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The discovery document (`/.well-known/openid-configuration`).
pub fn discovery(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}{AUTHORIZE_PATH}"),
        "token_endpoint": format!("{issuer}{TOKEN_PATH}"),
        "userinfo_endpoint": format!("{issuer}{USERINFO_PATH}"),
        "jwks_uri": format!("{issuer}{JWKS_PATH}"),
        "end_session_endpoint": format!("{issuer}{LOGOUT_PATH}"),
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "at_hash",
            "name", "given_name", "family_name", "preferred_username", "email", "email_verified",
            "role", "classes", "groups", "uai"
        ],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    })
}

/// The query of an authorization request.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct AuthRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub response_mode: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
}

/// A refused authorization request.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthError {
    /// The client or its redirect address cannot be trusted: say so on a
    /// page, never redirect (RFC 6749 §4.1.2.1).
    Page(String),
    /// Send the error back to the client.
    Redirect(String),
}

/// An authorization request that may be answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub client_id: String,
    pub redirect_uri: String,
    /// Known scopes asked for, in the canonical order of [`SCOPES`].
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub challenge: Option<String>,
    pub prompt: Prompt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// `uri` with `params` added to its query (it may have one already).
pub fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = uri.to_string();
    let mut sep = if uri.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        out.push(sep);
        out.push_str(k);
        out.push('=');
        out.push_str(&urlencode(v));
        sep = '&';
    }
    out
}

/// Percent-encodes everything but the unreserved characters (RFC 3986).
pub fn urlencode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The redirect carrying an OAuth error back to the client.
pub fn error_redirect(redirect_uri: &str, error: &str, description: &str, state: Option<&str>) -> String {
    let mut p = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        p.push(("state", s));
    }
    with_query(redirect_uri, &p)
}

fn pkce_value_ok(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Checks an authorization request against the registered clients.
pub fn check_authorize(settings: &SsoSettings, req: &AuthRequest) -> Result<Checked, AuthError> {
    let Some(client_id) = req.client_id.as_deref().filter(|c| !c.is_empty()) else {
        return Err(AuthError::Page(
            crate::web::i18n::either(
                "La demande ne dit pas quel service la fait (client_id manquant).",
                "The request does not say which service makes it (no client_id).",
            )
            .into(),
        ));
    };
    let Some(client) = settings.client(client_id) else {
        return Err(AuthError::Page(crate::web::i18n::pick(crate::msg!(
            "The service \"{client_id}\" is not declared on this server.",
            "Le service « {client_id} » n'est pas déclaré sur ce serveur."
        ))));
    };
    let Some(redirect_uri) = req.redirect_uri.as_deref() else {
        return Err(AuthError::Page(
            crate::web::i18n::either(
                "La demande ne donne pas d'adresse de retour (redirect_uri).",
                "The request gives no return address (redirect_uri).",
            )
            .into(),
        ));
    };
    if !client.redirect_uris.iter().any(|u| u == redirect_uri) {
        let name = &client.name;
        return Err(AuthError::Page(crate::web::i18n::pick(crate::msg!(
            "The return address asked for is not declared for the service \"{name}\".",
            "L'adresse de retour demandée n'est pas déclarée pour le service « {name} »."
        ))));
    }
    let state = req.state.clone();
    let fail = |error: &str, description: &str| {
        Err(AuthError::Redirect(error_redirect(
            redirect_uri,
            error,
            description,
            state.as_deref(),
        )))
    };
    if req.request.is_some() {
        return fail("request_not_supported", "request objects are not supported");
    }
    if req.request_uri.is_some() {
        return fail("request_uri_not_supported", "request_uri is not supported");
    }
    if req.response_type.as_deref() != Some("code") {
        return fail(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    if req.response_mode.as_deref().is_some_and(|m| m != "query") {
        return fail("invalid_request", "only response_mode=query is supported");
    }
    let asked: Vec<&str> = req.scope.as_deref().unwrap_or("").split(' ').collect();
    if !asked.contains(&"openid") {
        return fail("invalid_scope", "the openid scope is required");
    }
    let scope = SCOPES
        .iter()
        .filter(|s| asked.contains(s))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let challenge = match (
        req.code_challenge.as_deref(),
        req.code_challenge_method.as_deref(),
    ) {
        (None, _) if client.is_public() || client.require_pkce => {
            return fail(
                "invalid_request",
                "PKCE is required: send code_challenge with method S256",
            );
        }
        (None, _) => None,
        (Some(_), m) if m != Some("S256") => {
            return fail("invalid_request", "code_challenge_method must be S256");
        }
        (Some(c), _) if !pkce_value_ok(c) => return fail("invalid_request", "malformed code_challenge"),
        (Some(c), _) => Some(c.to_string()),
    };
    let mut prompt = Prompt::default();
    for p in req
        .prompt
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|p| !p.is_empty())
    {
        match p {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => {}
            _ => return fail("invalid_request", "unknown prompt value"),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return fail(
            "invalid_request",
            "prompt=none cannot be combined with other values",
        );
    }
    if req.nonce.as_deref().is_some_and(|n| n.len() > 512) || state.as_deref().is_some_and(|s| s.len() > 2048)
    {
        return fail("invalid_request", "nonce or state too long");
    }
    Ok(Checked {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.to_string(),
        scope,
        state,
        nonce: req.nonce.clone(),
        challenge,
        prompt,
    })
}

/// Whether `login` must still be asked to agree to give `scope` to `client`.
pub fn needs_consent(
    conn: &Connection,
    client: &OidcClient,
    login: &str,
    scope: &str,
) -> rusqlite::Result<bool> {
    if !client.consent {
        return Ok(false);
    }
    let given: Option<String> = conn
        .query_row(
            "SELECT scope FROM sso_consents WHERE login = ?1 AND client_id = ?2",
            params![login, client.id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(match given {
        None => true,
        Some(g) => {
            let g: Vec<&str> = g.split(' ').collect();
            !scope.split(' ').all(|s| g.contains(&s))
        }
    })
}

/// Remembers that `login` agreed to give `scope` to `client_id`.
pub fn remember_consent(
    conn: &Connection,
    login: &str,
    client_id: &str,
    scope: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO sso_consents (login, client_id, scope, granted_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (login, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
        params![login, client_id, scope, now],
    )?;
    Ok(())
}

/// The sign-in session approving a request.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedIn {
    pub login: String,
    /// A stable, non-secret identifier of the sign-in session (the `sid`
    /// claim); never the session cookie.
    pub sid: String,
    /// When the person entered their password (Unix seconds).
    pub auth_time: i64,
}

/// Issues the authorization code for an approved request and returns the
/// redirect back to the client.
pub fn issue_code(
    conn: &Connection,
    settings: &SsoSettings,
    req: &Checked,
    who: &SignedIn,
    now: i64,
) -> rusqlite::Result<String> {
    let code = random_token();
    conn.execute(
        "INSERT INTO sso_codes (code_hash, client_id, login, redirect_uri, scope, nonce, challenge, sid, auth_time, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            sha256_hex(&code),
            req.client_id,
            who.login,
            req.redirect_uri,
            req.scope,
            req.nonce,
            req.challenge,
            who.sid,
            who.auth_time,
            now + i64::from(settings.code_seconds),
        ],
    )?;
    record_session(conn, &who.sid, "oidc", &req.client_id, &who.login, now)?;
    let mut p = vec![("code", code.as_str())];
    if let Some(s) = &req.state {
        p.push(("state", s));
    }
    Ok(with_query(&req.redirect_uri, &p))
}

/// Notes that the sign-in session `sid` reached a service.
pub fn record_session(
    conn: &Connection,
    sid: &str,
    protocol: &str,
    client: &str,
    login: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO sso_sessions (sid, protocol, client, login, at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT DO UPDATE SET at = excluded.at",
        params![sid, protocol, client, login, now],
    )?;
    Ok(())
}

/// An error of the token or userinfo endpoint (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    /// 400, or 401 for a failed client authentication.
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

impl TokenError {
    fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }

    pub fn body(&self) -> Value {
        json!({"error": self.error, "error_description": self.description})
    }
}

fn invalid_grant(description: &str) -> TokenError {
    TokenError::new(400, "invalid_grant", description)
}

/// The form of a token request (RFC 6749 §4.1.3, §6).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// Credentials from an `Authorization: Basic` header (RFC 6749 §2.3.1:
/// both parts form-urlencoded).
pub fn basic_credentials(header: &str) -> Option<(String, String)> {
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

fn form_decode(v: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(v.len());
    let mut it = v.bytes();
    while let Some(b) = it.next() {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hi = (it.next()? as char).to_digit(16)?;
                let lo = (it.next()? as char).to_digit(16)?;
                bytes.push((hi * 16 + lo) as u8);
            }
            b => bytes.push(b),
        }
    }
    String::from_utf8(bytes).ok()
}

/// Authenticates the client of a token request: a confidential client by
/// its secret (Basic header or form, not both), a public one by its id.
pub fn authenticate_client<'a>(
    settings: &'a SsoSettings,
    basic: Option<(String, String)>,
    req: &TokenRequest,
) -> Result<&'a OidcClient, TokenError> {
    let unauthorized = || TokenError::new(401, "invalid_client", "client authentication failed");
    if basic.is_some() && req.client_secret.is_some() {
        return Err(TokenError::new(
            400,
            "invalid_request",
            "use one client authentication method",
        ));
    }
    let (id, secret) = match (&basic, &req.client_id) {
        (Some((id, secret)), form_id) => {
            if form_id.as_ref().is_some_and(|f| f != id) {
                return Err(unauthorized());
            }
            (id.clone(), Some(secret.clone()))
        }
        (None, Some(id)) => (id.clone(), req.client_secret.clone()),
        (None, None) => return Err(unauthorized()),
    };
    let client = settings.client(&id).ok_or_else(unauthorized)?;
    match (client.is_public(), secret) {
        (true, None) => Ok(client),
        (true, Some(_)) => Err(unauthorized()),
        (false, Some(s)) if same(&sha256_hex(&s), &client.secret_sha256.to_ascii_lowercase()) => Ok(client),
        (false, _) => Err(unauthorized()),
    }
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub id_token: String,
    pub refresh_token: String,
    pub scope: String,
}

/// The provider's context for issuing tokens.
pub struct Issuer<'a> {
    pub settings: &'a SsoSettings,
    pub issuer: &'a str,
    pub uai: &'a str,
    pub keys: &'a KeySet,
}

struct Grant {
    family: String,
    client_id: String,
    login: String,
    scope: String,
    sid: String,
    auth_time: i64,
    nonce: Option<String>,
}

fn revoke_family(conn: &Connection, family: &str) -> rusqlite::Result<usize> {
    conn.execute("DELETE FROM sso_tokens WHERE family = ?1", [family])
}

/// Serves a token request of an authenticated `client`, inside the
/// caller's IMMEDIATE transaction.
pub fn token(
    conn: &Connection,
    iss: &Issuer<'_>,
    client: &OidcClient,
    req: &TokenRequest,
    now: i64,
) -> Result<TokenResponse, TokenError> {
    let sql = |e: rusqlite::Error| {
        log::error!("token endpoint: database error: {e}");
        TokenError::new(500, "server_error", "the server could not complete the request")
    };
    let grant = match req.grant_type.as_deref() {
        Some("authorization_code") => exchange_code(conn, client, req, now).map_err(|e| e.map_sql(sql))?,
        Some("refresh_token") => use_refresh(conn, client, req, now).map_err(|e| e.map_sql(sql))?,
        Some(_) => {
            return Err(TokenError::new(
                400,
                "unsupported_grant_type",
                "use authorization_code or refresh_token",
            ));
        }
        None => return Err(TokenError::new(400, "invalid_request", "grant_type is missing")),
    };
    let who = identity(conn, &grant.login).map_err(sql)?;
    // The client's roles are decided again at each token request: a
    // person whose role changed, or a client whose roles changed, gets
    // no more tokens.
    let Some(who) =
        who.filter(|w| super::may_use(iss.settings, super::Service::Oidc(&client.id), w).allowed())
    else {
        revoke_family(conn, &grant.family).map_err(sql)?;
        return Err(invalid_grant("the account may no longer use this service"));
    };
    issue_tokens(conn, iss, &grant, &who, now).map_err(sql)
}

enum Refusal {
    Grant(TokenError),
    Sql(rusqlite::Error),
}

impl Refusal {
    fn map_sql(self, f: impl Fn(rusqlite::Error) -> TokenError) -> TokenError {
        match self {
            Refusal::Grant(e) => e,
            Refusal::Sql(e) => f(e),
        }
    }
}

impl From<rusqlite::Error> for Refusal {
    fn from(e: rusqlite::Error) -> Self {
        Refusal::Sql(e)
    }
}

fn refuse<T>(description: &str) -> Result<T, Refusal> {
    Err(Refusal::Grant(invalid_grant(description)))
}

fn exchange_code(
    conn: &Connection,
    client: &OidcClient,
    req: &TokenRequest,
    now: i64,
) -> Result<Grant, Refusal> {
    let Some(code) = req.code.as_deref() else {
        return Err(Refusal::Grant(TokenError::new(
            400,
            "invalid_request",
            "code is missing",
        )));
    };
    let hash = sha256_hex(code);
    type Row = (
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        String,
        i64,
        i64,
        bool,
    );
    let row: Option<Row> = conn
        .query_row(
            "SELECT client_id, login, redirect_uri, scope, nonce, challenge, sid, auth_time, expires_at, used
             FROM sso_codes WHERE code_hash = ?1",
            [&hash],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            },
        )
        .optional()?;
    let Some((client_id, login, redirect_uri, scope, nonce, challenge, sid, auth_time, expires_at, used)) =
        row
    else {
        return refuse("unknown authorization code");
    };
    if used {
        // RFC 6749 §4.1.2: a code used twice revokes what it gave.
        revoke_family(conn, &hash)?;
        return refuse("authorization code already used");
    }
    // Spent whatever follows: a failed attempt cannot be retried.
    conn.execute("UPDATE sso_codes SET used = 1 WHERE code_hash = ?1", [&hash])?;
    if client_id != client.id {
        return refuse("the code was issued to another client");
    }
    if expires_at <= now {
        return refuse("authorization code expired");
    }
    if req.redirect_uri.as_deref() != Some(redirect_uri.as_str()) {
        return refuse("redirect_uri differs from the authorization request");
    }
    match (challenge, req.code_verifier.as_deref()) {
        (Some(_), None) => return refuse("code_verifier is missing"),
        (Some(c), Some(v)) if !pkce_value_ok(v) || !same(&s256(v), &c) => {
            return refuse("code_verifier does not match the code challenge");
        }
        (None, Some(_)) => return refuse("no code challenge was sent for this code"),
        _ => {}
    }
    Ok(Grant {
        family: hash,
        client_id,
        login,
        scope,
        sid,
        auth_time,
        nonce,
    })
}

fn use_refresh(
    conn: &Connection,
    client: &OidcClient,
    req: &TokenRequest,
    now: i64,
) -> Result<Grant, Refusal> {
    let Some(token) = req.refresh_token.as_deref() else {
        return Err(Refusal::Grant(TokenError::new(
            400,
            "invalid_request",
            "refresh_token is missing",
        )));
    };
    type Row = (String, String, String, String, String, i64, i64, Option<i64>);
    let row: Option<Row> = conn
        .query_row(
            "SELECT family, client_id, login, scope, sid, auth_time, expires_at, used_at
             FROM sso_tokens WHERE token_hash = ?1 AND kind = 'refresh'",
            [sha256_hex(token)],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            },
        )
        .optional()?;
    let Some((family, client_id, login, scope, sid, auth_time, expires_at, used_at)) = row else {
        return refuse("unknown refresh token");
    };
    if client_id != client.id {
        return refuse("the refresh token was issued to another client");
    }
    if used_at.is_some() {
        // A rotated token presented again: stolen or replayed. Revoke the
        // whole family, the legitimate holder signs in again.
        revoke_family(conn, &family)?;
        return refuse("refresh token already used; every token of this sign-in is revoked");
    }
    if expires_at <= now {
        return refuse("refresh token expired");
    }
    let scope = match req.scope.as_deref() {
        None => scope,
        Some(asked) => {
            let granted: Vec<&str> = scope.split(' ').collect();
            if !asked.split(' ').all(|s| granted.contains(&s)) {
                return Err(Refusal::Grant(TokenError::new(
                    400,
                    "invalid_scope",
                    "a refresh cannot widen the scope",
                )));
            }
            SCOPES
                .iter()
                .filter(|s| asked.split(' ').any(|a| a == **s))
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    conn.execute(
        "UPDATE sso_tokens SET used_at = ?1 WHERE token_hash = ?2",
        params![now, sha256_hex(token)],
    )?;
    Ok(Grant {
        family,
        client_id,
        login,
        scope,
        sid,
        auth_time,
        nonce: None,
    })
}

/// `at_hash`: base64url of the left half of SHA-256 of the access token.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

fn issue_tokens(
    conn: &Connection,
    iss: &Issuer<'_>,
    g: &Grant,
    who: &Identity,
    now: i64,
) -> rusqlite::Result<TokenResponse> {
    let ttl = i64::from(iss.settings.token_seconds);
    let access = random_token();
    let refresh = random_token();
    let insert = "INSERT INTO sso_tokens (token_hash, kind, family, client_id, login, scope, sid, auth_time, expires_at)
                  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
    conn.execute(
        insert,
        params![
            sha256_hex(&access),
            "access",
            g.family,
            g.client_id,
            g.login,
            g.scope,
            g.sid,
            g.auth_time,
            now + ttl
        ],
    )?;
    conn.execute(
        insert,
        params![
            sha256_hex(&refresh),
            "refresh",
            g.family,
            g.client_id,
            g.login,
            g.scope,
            g.sid,
            g.auth_time,
            now + i64::from(iss.settings.refresh_days) * 86400
        ],
    )?;
    let mut claims = oidc_claims(who, &g.scope, iss.uai);
    claims.insert("iss".into(), json!(iss.issuer));
    claims.insert("aud".into(), json!(g.client_id));
    claims.insert("azp".into(), json!(g.client_id));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + ttl));
    claims.insert("auth_time".into(), json!(g.auth_time));
    claims.insert("sid".into(), json!(g.sid));
    claims.insert("at_hash".into(), json!(at_hash(&access)));
    if let Some(n) = &g.nonce {
        claims.insert("nonce".into(), json!(n));
    }
    let id_token = iss
        .keys
        .signing
        .sign("JWT", &Value::Object(claims))
        .map_err(|e| {
            rusqlite::Error::ToSqlConversionFailure(Box::new(std::io::Error::other(format!(
                "cannot sign: {e}"
            ))))
        })?;
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: ttl,
        id_token,
        refresh_token: refresh,
        scope: g.scope.clone(),
    })
}

/// The claims of the person an access token speaks for (userinfo).
pub fn userinfo(
    conn: &Connection,
    uai: &str,
    access_token: &str,
    now: i64,
) -> Result<Map<String, Value>, TokenError> {
    let invalid = |d: &str| TokenError::new(401, "invalid_token", d);
    let sql = |e: rusqlite::Error| {
        log::error!("userinfo: database error: {e}");
        TokenError::new(500, "server_error", "the server could not complete the request")
    };
    let row: Option<(String, String, i64)> = conn
        .query_row(
            "SELECT login, scope, expires_at FROM sso_tokens WHERE token_hash = ?1 AND kind = 'access'",
            [sha256_hex(access_token)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(sql)?;
    let Some((login, scope, expires_at)) = row else {
        return Err(invalid("unknown access token"));
    };
    if expires_at <= now {
        return Err(invalid("access token expired"));
    }
    let who = identity(conn, &login)
        .map_err(sql)?
        .ok_or_else(|| invalid("the account is closed"))?;
    Ok(oidc_claims(&who, &scope, uai))
}

/// The claims read back from an ID token presented as `id_token_hint`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct HintClaims {
    pub sub: String,
    pub aud: String,
    pub sid: Option<String>,
}

/// Checks an `id_token_hint`: signed by one of our keys and issued by us;
/// an expired one is fine (OpenID Connect RP-Initiated Logout §2).
pub fn read_hint(keys: &KeySet, issuer: &str, token: &str) -> Option<HintClaims> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    let jwk = keys.jwks.find(header.kid.as_deref()?)?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).ok()?;
    let mut v = jsonwebtoken::Validation::new(ALG);
    v.validate_exp = false;
    v.validate_aud = false;
    v.set_issuer(&[issuer]);
    v.set_required_spec_claims(&["iss", "sub", "aud"]);
    jsonwebtoken::decode::<HintClaims>(token, &key, &v)
        .ok()
        .map(|d| d.claims)
}

/// The query of an RP-initiated logout request.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct LogoutRequest {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

/// Where to send the browser after sign-out: the client's registered
/// `post_logout_redirect_uri` (with `state`), or None for Préau's own page.
pub fn logout_redirect(
    settings: &SsoSettings,
    keys: &KeySet,
    issuer: &str,
    req: &LogoutRequest,
) -> Option<String> {
    let uri = req.post_logout_redirect_uri.as_deref()?;
    let hinted = req
        .id_token_hint
        .as_deref()
        .and_then(|t| read_hint(keys, issuer, t))
        .map(|h| h.aud);
    let client_id = match (hinted, req.client_id.as_deref()) {
        (Some(h), Some(c)) if h != c => return None,
        (Some(h), _) => h,
        (None, Some(c)) => c.to_string(),
        (None, None) => return None,
    };
    let client = settings.client(&client_id)?;
    if !client.post_logout_redirect_uris.iter().any(|u| u == uri) {
        return None;
    }
    Some(match &req.state {
        Some(s) => with_query(uri, &[("state", s)]),
        None => uri.to_string(),
    })
}

/// A service to tell about a sign-out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reached {
    pub protocol: String,
    pub client: String,
    pub login: String,
}

/// Ends the single sign-on of the session `sid`: revokes its tokens and
/// CAS tickets and returns the services it had reached.
pub fn end_session(conn: &Connection, sid: &str) -> rusqlite::Result<Vec<Reached>> {
    let mut stmt = conn.prepare(
        "SELECT protocol, client, login FROM sso_sessions WHERE sid = ?1 ORDER BY protocol, client",
    )?;
    let reached = stmt
        .query_map([sid], |r| {
            Ok(Reached {
                protocol: r.get(0)?,
                client: r.get(1)?,
                login: r.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    conn.execute("DELETE FROM sso_tokens WHERE sid = ?1", [sid])?;
    conn.execute("DELETE FROM sso_codes WHERE sid = ?1", [sid])?;
    conn.execute("DELETE FROM cas_tickets WHERE sid = ?1", [sid])?;
    conn.execute("DELETE FROM sso_sessions WHERE sid = ?1", [sid])?;
    Ok(reached)
}

/// A back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.4).
pub fn logout_token(
    keys: &KeySet,
    issuer: &str,
    client_id: &str,
    sub: &str,
    sid: &str,
    now: i64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = json!({
        "iss": issuer,
        "aud": client_id,
        "iat": now,
        "exp": now + 120,
        "jti": random_token(),
        "sub": sub,
        "sid": sid,
        "events": { LOGOUT_EVENT: {} },
    });
    keys.signing.sign("logout+jwt", &claims)
}

/// Deletes what has expired: codes, tokens, unused sessions' traces.
pub fn purge(conn: &Connection, now: i64) -> rusqlite::Result<usize> {
    let mut n = conn.execute("DELETE FROM sso_codes WHERE expires_at < ?1", [now - 3600])?;
    n += conn.execute("DELETE FROM sso_tokens WHERE expires_at < ?1", [now])?;
    n += conn.execute("DELETE FROM cas_tickets WHERE expires_at < ?1", [now - 3600])?;
    // A sign-in session lasts 12 hours at most: a day on, nobody can sign
    // out of it any more.
    n += conn.execute("DELETE FROM cas_logout_targets WHERE at < ?1", [now - 86400])?;
    Ok(n)
}

#[cfg(test)]
mod tests;

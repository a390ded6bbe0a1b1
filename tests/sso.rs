//! Single sign-on against independent clients: the `openidconnect` crate
//! as the relying party (discovery, PKCE, ID token signature checked
//! against the JWKS, userinfo, refresh, RP-initiated and back-channel
//! logout) and Python's python-cas as the CAS client
//! (tests/sso_cas_client.py).
//!
//! The endpoints run on a loopback port over plain HTTP, served by the
//! same router `preau serve` mounts. The sign-in session, which the web
//! platform's `/connexion` gives in the daemon, is here a table of
//! cookies opened by the test ([`TestSessions`]).

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreJsonWebKey, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, JsonWebKey, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl,
    Scope, TokenResponse,
};
use preau::config::Config;
use preau::directory::{Kind, NewPerson, insert_person};
use preau::sso::oidc::SignedIn;
use preau::sso::settings::{CasService, OidcClient};
use preau::sso::web::{Sessions, Sso};
use preau::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const SECRET: &str = "9f1c2b8e4a7d6e5f0a1b2c3d4e5f60718293a4b5c6d7e8f9";

/// The web platform's sessions, as the test opens them.
#[derive(Default)]
struct TestSessions {
    open: Mutex<HashMap<String, SignedIn>>,
}

fn cookie_of(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("session=").map(String::from))
}

impl Sessions for TestSessions {
    fn current(&self, headers: &axum::http::HeaderMap) -> Option<SignedIn> {
        self.open.lock().unwrap().get(&cookie_of(headers)?).cloned()
    }
    fn csrf_token(&self, headers: &axum::http::HeaderMap) -> Option<String> {
        cookie_of(headers).map(|c| format!("csrf-{c}"))
    }
    fn sign_out(&self, headers: &axum::http::HeaderMap) -> (Option<String>, axum::http::HeaderMap) {
        let sid = cookie_of(headers)
            .and_then(|c| self.open.lock().unwrap().remove(&c))
            .map(|s| s.sid);
        (sid, axum::http::HeaderMap::new())
    }
}

struct Server {
    _dir: tempfile::TempDir,
    base: String,
    /// The relying party's address (callback, back-channel endpoint).
    rp: String,
    sessions: Arc<TestSessions>,
    logouts: Arc<Mutex<Vec<String>>>,
    /// CAS single logout requests the services received: (path, the
    /// `logoutRequest` field).
    cas_logouts: Arc<Mutex<Vec<(String, String)>>>,
    /// A CAS service that accepts connections and never answers.
    silent: String,
    sso: Arc<Sso>,
}

fn now() -> i64 {
    preau::sso::now()
}

impl Server {
    fn sign_in(&self, login: &str) -> String {
        let cookie = preau::sso::random_token();
        self.sessions.open.lock().unwrap().insert(
            cookie.clone(),
            SignedIn {
                login: login.into(),
                sid: preau::sso::random_token(),
                auth_time: now(),
            },
        );
        cookie
    }
}

async fn start(token_seconds: u32) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("preau.db");
    let mut store = Store::open(&db).unwrap();
    store
        .write(|tx| {
            let person = |kind, first: &str, last: &str, function: Option<&str>| NewPerson {
                kind: Some(kind),
                source: "manual".into(),
                first_name: first.into(),
                last_name: last.into(),
                function: function.map(Into::into),
                email: Some(format!("{}@tilleuls.lan", first.to_lowercase())),
                ..NewPerson::default()
            };
            let t = insert_person(tx, &person(Kind::Teacher, "Paul", "Roux", Some("ENS")), "paul.roux", Some(10001))?;
            let s = insert_person(tx, &person(Kind::Student, "Léa", "Martin", None), "lea.martin", Some(10002))?;
            tx.execute(
                "INSERT INTO structures (kind, code, label, group_name, gid) VALUES ('class', '6A', '6e A', 'c-6a', 20000)",
                [],
            )?;
            let c = tx.last_insert_rowid();
            tx.execute("INSERT INTO services VALUES (?1, 'MATHS', ?2)", [t, c])?;
            tx.execute("INSERT INTO memberships VALUES (?1, ?2)", [s, c])?;
            Ok::<_, rusqlite::Error>(())
        })
        .unwrap();
    drop(store);

    // The relying party's back-channel logout endpoint.
    let logouts = Arc::new(Mutex::new(Vec::new()));
    let rp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rp = format!("http://{}", rp_listener.local_addr().unwrap());
    let got = logouts.clone();
    let rp_app = axum::Router::new().route(
        "/backchannel",
        axum::routing::post(move |axum::Form(f): axum::Form<HashMap<String, String>>| {
            let got = got.clone();
            async move {
                got.lock()
                    .unwrap()
                    .push(f.get("logout_token").cloned().unwrap_or_default());
                axum::http::StatusCode::OK
            }
        }),
    );
    // The CAS services' single logout endpoint (their service address).
    let cas_logouts = Arc::new(Mutex::new(Vec::new()));
    let got = cas_logouts.clone();
    let rp_app = rp_app.route(
        "/gepi/{*rest}",
        axum::routing::post(
            move |uri: axum::http::Uri, axum::Form(f): axum::Form<HashMap<String, String>>| {
                let got = got.clone();
                async move {
                    got.lock().unwrap().push((
                        uri.path().to_string(),
                        f.get("logoutRequest").cloned().unwrap_or_default(),
                    ));
                    axum::http::StatusCode::OK
                }
            },
        ),
    );
    tokio::spawn(async move { axum::serve(rp_listener, rp_app).await.unwrap() });
    // A service that takes the connection and never says a word.
    let silent_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent = format!("http://{}", silent_listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = silent_listener.accept().await {
            held.push(conn);
        }
    });

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = Config::example();
    config.sso.issuer = base.clone();
    config.sso.token_seconds = token_seconds;
    config.sso.oidc_clients = vec![
        OidcClient {
            id: "cloud".into(),
            name: "Nextcloud du collège".into(),
            secret_sha256: preau::sso::sha256_hex(SECRET),
            redirect_uris: vec![format!("{rp}/callback")],
            post_logout_redirect_uris: vec![format!("{rp}/bye")],
            backchannel_logout_uri: format!("{rp}/backchannel"),
            roles: vec![],
            consent: true,
            require_pkce: true,
        },
        OidcClient {
            id: "profs".into(),
            name: "Espace des professeurs".into(),
            secret_sha256: preau::sso::sha256_hex(SECRET),
            redirect_uris: vec![format!("{rp}/callback")],
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: String::new(),
            roles: vec!["teacher".into()],
            consent: false,
            require_pkce: true,
        },
    ];
    config.sso.cas_services = vec![
        CasService {
            name: "GEPI".into(),
            services: vec![format!("{rp}/gepi/*")],
            roles: vec![],
        },
        CasService {
            name: "Pronote".into(),
            services: vec![format!("{rp}/pronote/")],
            roles: vec![],
        },
        CasService {
            name: "Silencieux".into(),
            services: vec![format!("{silent}/*")],
            roles: vec![],
        },
        CasService {
            name: "Profs".into(),
            services: vec![format!("{rp}/profs/")],
            roles: vec!["teacher".into()],
        },
    ];
    let sessions = Arc::new(TestSessions::default());
    let config = Arc::new(config);
    let sso = Sso::new(move || config.clone(), db, sessions.clone());
    let app = preau::sso::web::router(sso.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        _dir: dir,
        base,
        rp,
        sessions,
        logouts,
        cas_logouts,
        silent,
        sso,
    }
}

/// One HTTP/1.1 exchange over a fresh loopback connection.
async fn http(req: openidconnect::HttpRequest) -> Result<openidconnect::HttpResponse, std::io::Error> {
    use http_body_util::{BodyExt, Full};
    let uri = req.uri().clone();
    let addr = format!("{}:{}", uri.host().unwrap(), uri.port_u16().unwrap_or(80));
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(conn);
    let (mut parts, body) = req.into_parts();
    parts.uri = uri.path_and_query().unwrap().as_str().parse().unwrap();
    parts
        .headers
        .insert("host", uri.authority().unwrap().as_str().parse().unwrap());
    let response = sender
        .send_request(hyper::Request::from_parts(
            parts,
            Full::new(bytes::Bytes::from(body)),
        ))
        .await
        .map_err(std::io::Error::other)?;
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes()
        .to_vec();
    Ok(openidconnect::HttpResponse::from_parts(parts, body))
}

/// A browser step: GET (or POST a form) with the session cookie, without
/// following redirects.
async fn browse(url: &str, cookie: &str, form: Option<&[(String, String)]>) -> (u16, Option<String>, String) {
    let builder = openidconnect::http::Request::builder().header("cookie", format!("session={cookie}"));
    let req = match form {
        None => builder.method("GET").uri(url).body(Vec::new()).unwrap(),
        Some(fields) => builder
            .method("POST")
            .uri(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(fields).unwrap().into_bytes())
            .unwrap(),
    };
    let r = http(req).await.unwrap();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    (
        r.status().as_u16(),
        location,
        String::from_utf8_lossy(r.body()).into_owned(),
    )
}

/// The hidden fields and buttons of the consent form.
fn form_fields(html: &str) -> Vec<(String, String)> {
    let attr = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(
            tag[start..end]
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
        )
    };
    html.split("<input ")
        .skip(1)
        .filter_map(|tag| Some((attr(tag, "name")?, attr(tag, "value")?)))
        .collect()
}

fn query_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

#[derive(Debug, Clone, Deserialize, Serialize)]
struct School {
    role: String,
    classes: Vec<String>,
    groups: Vec<String>,
    uai: String,
}
impl AdditionalClaims for School {}

type Client = openidconnect::Client<
    openidconnect::EmptyAdditionalClaims,
    openidconnect::core::CoreAuthDisplay,
    CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    openidconnect::core::CoreAuthPrompt,
    openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    openidconnect::core::CoreTokenResponse,
    openidconnect::core::CoreTokenIntrospectionResponse,
    openidconnect::core::CoreRevocableToken,
    openidconnect::core::CoreRevocationErrorResponse,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

async fn relying_party(server: &Server, id: &str) -> (Client, ProviderMetadataWithLogout) {
    let metadata =
        ProviderMetadataWithLogout::discover_async(IssuerUrl::new(server.base.clone()).unwrap(), &http)
            .await
            .expect("discovery and JWKS");
    assert!(metadata.additional_metadata().end_session_endpoint.is_some());
    let client: Client = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(id.into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(format!("{}/callback", server.rp)).unwrap());
    (client, metadata)
}

/// Runs the browser part of the flow: returns the redirect back to the RP.
async fn authorize(
    client: &Client,
    cookie: &str,
    challenge: PkceCodeChallenge,
) -> (String, CsrfToken, Nonce, u16, String) {
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let (status, location, body) = browse(url.as_str(), cookie, None).await;
    (location.unwrap_or_default(), state, nonce, status, body)
}

fn signature_ok(metadata: &ProviderMetadataWithLogout, jwt: &str) -> serde_json::Value {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = jwt.split('.').collect();
    let header: serde_json::Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    let kid = header["kid"].as_str().unwrap();
    let key = metadata
        .jwks()
        .keys()
        .iter()
        .find(|k| k.key_id().map(|i| i.as_str()) == Some(kid))
        .expect("the token's key is in the JWKS");
    key.verify_signature(
        &CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        format!("{}.{}", parts[0], parts[1]).as_bytes(),
        &b64.decode(parts[2]).unwrap(),
    )
    .expect("signature verifies with the published key");
    assert_eq!(header["typ"], "logout+jwt");
    serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_connect_sign_in_refresh_and_sign_out() {
    let server = start(600).await;
    let (client, metadata) = relying_party(&server, "cloud").await;
    let verifier_alg = vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256];

    // Not signed in: sent to the sign-in page, to come back.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (location, ..) = authorize(&client, "nobody", challenge).await;
    assert!(
        location.starts_with("/connexion?suite=%2Foidc%2Fauthorize%3F"),
        "{location}"
    );

    // Signed in: the consent page first, in French.
    let cookie = server.sign_in("paul.roux");
    let (challenge, verifier2) = PkceCodeChallenge::new_random_sha256();
    drop(verifier);
    let (_, state, nonce, status, body) = authorize(&client, &cookie, challenge).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Se connecter à Nextcloud du collège"), "{body}");
    let mut fields = form_fields(&body);
    fields.push(("decision".into(), "accepter".into()));
    let (status, location, body) =
        browse(&format!("{}/oidc/authorize", server.base), &cookie, Some(&fields)).await;
    assert_eq!(status, 303, "{body}");
    let location = location.unwrap();
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let code = query_param(&location, "code").expect("a code");

    // The code exchange, the ID token checked by the library against the
    // JWKS (signature, issuer, audience, nonce, expiry).
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(verifier2)
        .request_async(&http)
        .await
        .expect("token response");
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client.id_token_verifier().set_allowed_algs(verifier_alg.clone());
    let claims = id_token.claims(&verifier, &nonce).expect("ID token verifies");
    assert_eq!(claims.subject().as_str(), "paul.roux");
    assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some("paul.roux"));
    assert_eq!(claims.email().map(|e| e.as_str()), Some("paul@tilleuls.lan"));
    // at_hash binds the access token.
    let at_hash = openidconnect::AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&at_hash));

    // Userinfo with the school's claims.
    let info = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async::<School, _, CoreGenderClaim>(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.additional_claims().role, "teacher");
    assert_eq!(info.additional_claims().classes, vec!["6A".to_string()]);
    assert_eq!(info.additional_claims().uai, "0999999X");

    // A replayed code is refused, and revokes what it gave.
    let (_, verifier3) = PkceCodeChallenge::new_random_sha256();
    let replay = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier3)
        .request_async(&http)
        .await;
    assert_invalid_grant(replay);
    let revoked = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async::<School, _, CoreGenderClaim>(&http)
        .await;
    assert!(revoked.is_err(), "tokens of a replayed code are revoked");

    // A fresh sign-in (consent is remembered: straight back with a code).
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (location, state, nonce, status, _) = authorize(&client, &cookie, challenge).await;
    assert_eq!(status, 303);
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let tokens = client
        .exchange_code(AuthorizationCode::new(query_param(&location, "code").unwrap()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    tokens
        .id_token()
        .unwrap()
        .claims(&verifier_for(&client), &nonce)
        .unwrap();

    // Refresh: a new pair; the old refresh token is then refused.
    let first_refresh = tokens.refresh_token().unwrap().clone();
    let refreshed = client
        .exchange_refresh_token(&first_refresh)
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh");
    assert_ne!(refreshed.access_token().secret(), tokens.access_token().secret());
    let refreshed_id = refreshed.id_token().expect("an ID token on refresh");
    let reclaims = refreshed_id
        .claims(
            &verifier_for(&client).set_other_audience_verifier_fn(|_| true),
            |_: Option<&Nonce>| Ok(()),
        )
        .expect("refreshed ID token verifies");
    assert_eq!(reclaims.subject().as_str(), "paul.roux");
    client
        .user_info(refreshed.access_token().clone(), None)
        .unwrap()
        .request_async::<School, _, CoreGenderClaim>(&http)
        .await
        .expect("refreshed access token works");

    // RP-initiated logout with the ID token as hint.
    let logout_url = openidconnect::LogoutRequest::from(
        metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()
            .unwrap(),
    )
    .set_id_token_hint(tokens.id_token().unwrap())
    .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(format!("{}/bye", server.rp)).unwrap())
    .set_state(CsrfToken::new("after-logout".into()))
    .http_get_url();
    let (status, location, _) = browse(logout_url.as_str(), &cookie, None).await;
    assert!(status == 303 || status == 302 || status == 307, "{status}");
    assert_eq!(location.unwrap(), format!("{}/bye?state=after-logout", server.rp));
    // The session's tokens are revoked, the person is signed out.
    let after = client
        .user_info(refreshed.access_token().clone(), None)
        .unwrap()
        .request_async::<School, _, CoreGenderClaim>(&http)
        .await;
    assert!(after.is_err());
    assert_invalid_grant(
        client
            .exchange_refresh_token(refreshed.refresh_token().unwrap())
            .unwrap()
            .request_async(&http)
            .await,
    );
    let (_, location, _) = browse(
        client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_prompt(openidconnect::core::CoreAuthPrompt::None)
            .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
            .url()
            .0
            .as_str(),
        &cookie,
        None,
    )
    .await;
    assert_eq!(
        query_param(&location.unwrap(), "error").as_deref(),
        Some("login_required")
    );

    // The back-channel logout token reached the client, signed.
    let mut waited = 0;
    while server.logouts.lock().unwrap().is_empty() && waited < 50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    let token = server
        .logouts
        .lock()
        .unwrap()
        .first()
        .cloned()
        .expect("a logout token");
    let claims = signature_ok(&metadata, &token);
    assert_eq!(claims["iss"], server.base.as_str());
    assert_eq!(claims["aud"], "cloud");
    assert_eq!(claims["sub"], "paul.roux");
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
}

fn verifier_for(client: &Client) -> openidconnect::core::CoreIdTokenVerifier<'_> {
    client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256])
}

fn assert_invalid_grant<T: std::fmt::Debug, E: std::error::Error + 'static>(
    r: Result<
        T,
        openidconnect::RequestTokenError<
            E,
            openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
        >,
    >,
) {
    match r {
        Err(openidconnect::RequestTokenError::ServerResponse(e)) => {
            assert_eq!(
                e.error(),
                &openidconnect::core::CoreErrorResponseType::InvalidGrant,
                "{e:?}"
            )
        }
        other => panic!("expected invalid_grant, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_connect_refusals() {
    let server = start(3).await;
    let (client, _) = relying_party(&server, "profs").await;
    let teacher = server.sign_in("paul.roux");

    // PKCE mismatch: the code is refused (and spent).
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (location, ..) = authorize(&client, &teacher, challenge).await;
    let code = query_param(&location, "code").expect("no consent asked for this client");
    let (_, wrong) = PkceCodeChallenge::new_random_sha256();
    assert_invalid_grant(
        client
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(wrong)
            .request_async(&http)
            .await,
    );

    // A redirect address that is not registered: an error page, never a
    // redirect; and a code redeemed with another address is refused.
    let other = client
        .clone()
        .set_redirect_uri(RedirectUrl::new(format!("{}/elsewhere", server.rp)).unwrap());
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (location, _, _, status, body) = authorize(&other, &teacher, challenge).await;
    assert_eq!((status, location.as_str()), (400, ""));
    assert!(body.contains("adresse de retour"), "{body}");
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (location, ..) = authorize(&client, &teacher, challenge).await;
    assert_invalid_grant(
        client
            .exchange_code(AuthorizationCode::new(query_param(&location, "code").unwrap()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .set_redirect_uri(std::borrow::Cow::Owned(
                RedirectUrl::new(format!("{}/elsewhere", server.rp)).unwrap(),
            ))
            .request_async(&http)
            .await,
    );

    // A wrong client secret.
    let bad_secret: Client = client
        .clone()
        .set_client_secret(ClientSecret::new("wrong".into()));
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (location, ..) = authorize(&client, &teacher, challenge).await;
    match bad_secret
        .exchange_code(AuthorizationCode::new(query_param(&location, "code").unwrap()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
    {
        Err(openidconnect::RequestTokenError::ServerResponse(e)) => {
            assert_eq!(
                e.error(),
                &openidconnect::core::CoreErrorResponseType::InvalidClient
            )
        }
        other => panic!("{other:?}"),
    }

    // A role the client is not open to: access_denied back to the client.
    let student = server.sign_in("lea.martin");
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (location, ..) = authorize(&client, &student, challenge).await;
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("access_denied"),
        "{location}"
    );

    // An expired access token is refused by userinfo.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (location, ..) = authorize(&client, &teacher, challenge).await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(query_param(&location, "code").unwrap()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    match client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async::<School, _, CoreGenderClaim>(&http)
        .await
    {
        Err(openidconnect::UserInfoError::Response(status, body, _)) => {
            assert_eq!(status.as_u16(), 401);
            assert!(String::from_utf8_lossy(&body).contains("expired"));
        }
        other => panic!("{other:?}"),
    }
    // So is the ID token, by the library's own check.
    assert!(
        tokens
            .id_token()
            .unwrap()
            .claims(&verifier_for(&client), |_: Option<&Nonce>| Ok(()))
            .is_err()
    );
}

/// A Python with python-cas, in a venv made once under the target dir.
fn python_cas() -> std::path::PathBuf {
    let venv = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("venv-python-cas");
    let python = venv.join("bin/python");
    let ready = venv.join("ready-1.7.2");
    if !ready.exists() {
        let status = std::process::Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv)
            .status()
            .expect("python3 (scripts/deps.txt: python3, python3-venv)");
        assert!(status.success(), "python3 -m venv failed: install python3-venv");
        let status = std::process::Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "python-cas==1.7.2",
            ])
            .status()
            .unwrap();
        assert!(status.success(), "pip install python-cas failed");
        std::fs::write(&ready, "").unwrap();
    }
    python
}

async fn cas_client(args: &[&str]) -> String {
    let python = python_cas();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sso_cas_client.py");
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cas_tickets_with_python_cas() {
    let server = start(600).await;
    let cas = format!("{}/cas/", server.base);
    let gepi = format!("{}/gepi/login.php", server.rp);
    let cookie = server.sign_in("paul.roux");

    // The client's login address, followed by the signed-in browser.
    let login_url = cas_client(&["login-url", &cas, &gepi]).await;
    assert!(
        login_url.starts_with(&format!("{cas}login?service=")),
        "{login_url}"
    );
    let ticket_for = |location: Option<String>| {
        let location = location.expect("a redirect to the service");
        assert!(location.starts_with(&gepi), "{location}");
        query_param(&location, "ticket").expect("a ticket")
    };
    let (_, location, _) = browse(&login_url, &cookie, None).await;
    let ticket = ticket_for(location);

    // CAS 3 (p3/serviceValidate) with the attributes.
    let answer: serde_json::Value =
        serde_json::from_str(&cas_client(&["verify", &cas, &gepi, &ticket, "3"]).await).unwrap();
    assert_eq!(answer["user"], "paul.roux");
    let attributes = &answer["attributes"];
    assert_eq!(attributes["role"], "teacher");
    assert_eq!(attributes["classes"], "6A");
    assert_eq!(attributes["uai"], "0999999X");
    assert_eq!(attributes["displayName"], "Paul Roux");
    assert_eq!(attributes["mail"], "paul@tilleuls.lan");
    assert!(answer["pgtiou"].is_null(), "no proxy ticket is granted");

    // Replayed: refused.
    let replay: serde_json::Value =
        serde_json::from_str(&cas_client(&["verify", &cas, &gepi, &ticket, "3"]).await).unwrap();
    assert!(replay["user"].is_null(), "{replay}");

    // A ticket issued for GEPI, presented by another service: refused.
    let (_, location, _) = browse(&login_url, &cookie, None).await;
    let ticket = ticket_for(location);
    let pronote = format!("{}/pronote/", server.rp);
    let other: serde_json::Value =
        serde_json::from_str(&cas_client(&["verify", &cas, &pronote, &ticket, "3"]).await).unwrap();
    assert!(other["user"].is_null(), "{other}");
    // ...and spent by that attempt.
    let after: serde_json::Value =
        serde_json::from_str(&cas_client(&["verify", &cas, &gepi, &ticket, "3"]).await).unwrap();
    assert!(after["user"].is_null(), "{after}");

    // CAS 2 (serviceValidate) and CAS 1 (validate) clients too.
    for version in ["2", "1"] {
        let (_, location, _) = browse(&login_url, &cookie, None).await;
        let ticket = ticket_for(location);
        let answer: serde_json::Value =
            serde_json::from_str(&cas_client(&["verify", &cas, &gepi, &ticket, version]).await).unwrap();
        assert_eq!(answer["user"], "paul.roux", "CAS {version}: {answer}");
    }

    // An undeclared service gets no ticket; proxying is refused.
    let (status, location, body) = browse(
        &format!("{cas}login?service=https%3A%2F%2Fevil.example%2F"),
        &cookie,
        None,
    )
    .await;
    assert_eq!((status, location), (403, None));
    assert!(body.contains("Service non autorisé"));
    let (_, _, body) = browse(&format!("{cas}proxy?pgt=PGT-1&targetService=x"), &cookie, None).await;
    assert!(
        body.contains("<cas:proxyFailure code=\"UNAUTHORIZED_SERVICE\">"),
        "{body}"
    );
    // Not signed in: to the sign-in page, back to the same request after.
    let (_, location, _) = browse(&login_url, "nobody", None).await;
    assert!(
        location
            .unwrap()
            .starts_with("/connexion?suite=%2Fcas%2Flogin%3Fservice%3D")
    );
    // Signing out through CAS ends the session.
    let (_, location, _) = browse(
        &format!("{cas}logout?service={}", preau::sso::oidc::urlencode(&gepi)),
        &cookie,
        None,
    )
    .await;
    assert_eq!(location.as_deref(), Some(gepi.as_str()));
    let (_, location, _) = browse(&login_url, &cookie, None).await;
    assert!(location.unwrap().starts_with("/connexion"));
}

/// The `samlp:SessionIndex` of a CAS single logout request, read with
/// an XML parser; None unless the root is a `samlp:LogoutRequest` of
/// SAML 2.0's protocol namespace.
fn session_index(xml: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut depth = 0;
    let mut in_index = false;
    let mut index = None;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                depth += 1;
                let name = e.name().into_inner().to_string();
                if depth == 1 {
                    let ns = e
                        .try_get_attribute("xmlns:samlp")
                        .ok()??
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .ok()?
                        .to_string();
                    if name != "samlp:LogoutRequest" || ns != "urn:oasis:names:tc:SAML:2.0:protocol" {
                        return None;
                    }
                    e.try_get_attribute("ID").ok()??;
                    e.try_get_attribute("IssueInstant").ok()??;
                }
                in_index = name == "samlp:SessionIndex";
            }
            Event::Text(t) if in_index => index = Some(t.xml10_content().to_string()),
            Event::End(_) => {
                depth -= 1;
                in_index = false;
            }
            Event::Eof => return index,
            _ => {}
        }
    }
}

/// CAS single logout: signing out (at `/cas/logout`, or `/deconnexion`,
/// which ends the single sign-on through `Sso::end_single_sign_on`) sends
/// each service that validated a ticket of the session a `logoutRequest`
/// naming that ticket, in the background: a service that never answers
/// does not delay the sign-out. A service whose ticket was never
/// validated has no session to end and gets nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cas_single_logout_reaches_the_services_of_the_session() {
    let server = start(600).await;
    let cas = format!("{}/cas/", server.base);
    let gepi = format!("{}/gepi/login.php", server.rp);
    let silent = format!("{}/app/", server.silent);
    let pronote = format!("{}/pronote/", server.rp);
    let login = |service: &str| format!("{cas}login?service={}", preau::sso::oidc::urlencode(service));
    let ticket = |location: Option<String>| query_param(&location.expect("a redirect"), "ticket").unwrap();

    let cookie = server.sign_in("paul.roux");
    // Each ticket validated as soon as it is issued (they live 10 s).
    let mut tickets = Vec::new();
    for service in [&gepi, &silent] {
        let t = ticket(browse(&login(service), &cookie, None).await.1);
        let answer: serde_json::Value =
            serde_json::from_str(&cas_client(&["verify", &cas, service, &t, "3"]).await).unwrap();
        assert_eq!(answer["user"], "paul.roux", "{service}: {answer}");
        tickets.push(t);
    }
    let gepi_ticket = tickets[0].clone();
    let _unvalidated = ticket(browse(&login(&pronote), &cookie, None).await.1);
    // A student is refused the teachers' service: decided by authz.
    let student = server.sign_in("lea.martin");
    let (status, location, body) = browse(&login(&format!("{}/profs/", server.rp)), &student, None).await;
    assert_eq!((status, location), (403, None), "{body}");

    let started = std::time::Instant::now();
    let (_, location, _) = browse(
        &format!("{cas}logout?service={}", preau::sso::oidc::urlencode(&gepi)),
        &cookie,
        None,
    )
    .await;
    let took = started.elapsed();
    assert_eq!(location.as_deref(), Some(gepi.as_str()));
    // The silent service is given up after 3 s in the background: an
    // answer well before that did not wait for it (bound loose enough for
    // a loaded CI machine).
    assert!(
        took < std::time::Duration::from_millis(2500),
        "the sign-out waited for the services: {took:?}"
    );
    let received = async {
        for _ in 0..300 {
            if !server.cas_logouts.lock().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        server.cas_logouts.lock().unwrap().clone()
    }
    .await;
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].0, "/gepi/login.php");
    assert_eq!(
        session_index(&received[0].1).as_deref(),
        Some(gepi_ticket.as_str()),
        "{}",
        received[0].1
    );
    // The ticket was spent at validation: the logout request cannot be
    // turned into a sign-in.
    let replay: serde_json::Value =
        serde_json::from_str(&cas_client(&["verify", &cas, &gepi, &gepi_ticket, "3"]).await).unwrap();
    assert!(replay["user"].is_null());

    // /deconnexion ends the single sign-on the same way.
    let cookie = server.sign_in("paul.roux");
    let sid = server.sessions.open.lock().unwrap()[&cookie].sid.clone();
    let second = ticket(browse(&login(&gepi), &cookie, None).await.1);
    let answer: serde_json::Value =
        serde_json::from_str(&cas_client(&["verify", &cas, &gepi, &second, "2"]).await).unwrap();
    assert_eq!(answer["user"], "paul.roux");
    server.sso.end_single_sign_on(sid.clone()).await;
    for _ in 0..100 {
        if server.cas_logouts.lock().unwrap().len() > 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let received = server.cas_logouts.lock().unwrap().clone();
    assert_eq!(received.len(), 2, "{received:?}");
    assert_eq!(session_index(&received[1].1).as_deref(), Some(second.as_str()));
    // Ending it again sends nothing more.
    server.sso.end_single_sign_on(sid).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(server.cas_logouts.lock().unwrap().len(), 2);
}

/// Token endpoint under concurrent refreshes: every answer is a 200 with
/// a fresh ID token and refresh token. `PREAU_BENCH_CLIENTS` concurrent
/// relying parties (default 5), each refreshing in a loop for
/// `PREAU_BENCH_SECONDS` (default 1); bench/sso.sh runs it with 50 for 10 s
/// and reads the figures it prints (client authentication, refresh
/// rotation in one IMMEDIATE transaction, an ES256-signed ID token per
/// request). Figures are printed, never asserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_benchmark() {
    let clients: usize = std::env::var("PREAU_BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let seconds: u64 = std::env::var("PREAU_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let server = start(600).await;
    let (client, _) = relying_party(&server, "profs").await;
    let teacher = server.sign_in("paul.roux");
    let mut refresh_tokens = Vec::new();
    for _ in 0..clients {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (location, ..) = authorize(&client, &teacher, challenge).await;
        let tokens = client
            .exchange_code(AuthorizationCode::new(query_param(&location, "code").unwrap()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .unwrap();
        refresh_tokens.push(tokens.refresh_token().unwrap().secret().clone());
    }
    let url = format!("{}/oidc/token", server.base);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for mut refresh in refresh_tokens {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while std::time::Instant::now() < deadline {
                let body = serde_urlencoded::to_string([
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.as_str()),
                    ("client_id", "profs"),
                    ("client_secret", SECRET),
                ])
                .unwrap();
                let req = openidconnect::http::Request::post(url.as_str())
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body.into_bytes())
                    .unwrap();
                let started = std::time::Instant::now();
                let r = http(req).await.unwrap();
                latencies.push(started.elapsed());
                assert_eq!(r.status().as_u16(), 200, "{}", String::from_utf8_lossy(r.body()));
                let v: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
                assert!(v["id_token"].is_string());
                refresh = v["refresh_token"].as_str().unwrap().to_string();
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "{}",
        serde_json::json!({
            "clients": clients,
            "seconds": seconds,
            "requests": all.len(),
            "requests_per_second": (all.len() as f64 / seconds as f64).round(),
            "p50_ms": (pct(0.50) * 10.0).round() / 10.0,
            "p99_ms": (pct(0.99) * 10.0).round() / 10.0,
            "max_ms": (pct(1.0) * 10.0).round() / 10.0,
        })
    );
}

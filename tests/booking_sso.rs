//! End to end in a real headless Chromium, against `preau serve` on a
//! temporary root (the demo school's accounts, a timetable imported with
//! the CLI): a teacher signs in to a relying party through Préau (sign-in
//! page, consent, back to the service signed in), books the laptop cart
//! for one of his lessons from his timetable, makes the cart's private
//! calendar link and a new one from its page (the old link stops working,
//! the new one serves the booking), signs out of Préau (the relying party
//! receives a back-channel logout token), and the statistics page shows
//! the booking and the web filtering's counts of a fixture proxy log
//! (a finished day summarised by the daemon, today read from its file).
//!
//! The relying party is a tiny HTTP server started by the test whose
//! OpenID Connect side is the independent `openidconnect` crate:
//! discovery, authorization code with PKCE, token request over HTTPS
//! (trusting the certificate `preau init` wrote), ID token checked
//! against the JWKS.

#[path = "support/browser.rs"]
mod browser;
mod support;

use axum::extract::{Form, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use browser::Browser;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, ProviderMetadataWithLogout, RedirectUrl, Scope, TokenResponse,
};
use preau::directory;
use std::collections::HashMap;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use support::{TempRoot, free_port, show, wait_for};

const SECRET: &str = "4f1b2c8e9a7d6e5f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071";

/// Trusts the certificate `preau init` generated, and nothing else.
static TLS: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();

/// One HTTP/1.1 exchange (HTTPS to Préau) for the relying party.
async fn http(req: openidconnect::HttpRequest) -> Result<openidconnect::HttpResponse, std::io::Error> {
    use http_body_util::{BodyExt, Full};
    let uri = req.uri().clone();
    let host = uri.host().unwrap().to_string();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", uri.port_u16().unwrap_or(443))).await?;
    let name = rustls_pki_types::ServerName::try_from(host).map_err(std::io::Error::other)?;
    let tls = tokio_rustls::TlsConnector::from(TLS.get().unwrap().clone())
        .connect(name, tcp)
        .await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
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

type Client = openidconnect::Client<
    openidconnect::EmptyAdditionalClaims,
    openidconnect::core::CoreAuthDisplay,
    openidconnect::core::CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    openidconnect::core::CoreJsonWebKey,
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

/// The relying party: who signed in, the logout tokens received.
struct Rp {
    client: Client,
    pending: Mutex<HashMap<String, (PkceCodeVerifier, Nonce)>>,
    signed_in: Mutex<Vec<String>>,
    logouts: Mutex<Vec<String>>,
}

async fn rp_login(State(rp): State<Arc<Rp>>) -> Response {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    rp.pending
        .lock()
        .unwrap()
        .insert(state.secret().clone(), (verifier, nonce));
    Redirect::to(url.as_str()).into_response()
}

async fn rp_back(State(rp): State<Arc<Rp>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some((verifier, nonce)) = q.get("state").and_then(|s| rp.pending.lock().unwrap().remove(s)) else {
        return Html("<p id=\"rp\">état inconnu</p>".to_string()).into_response();
    };
    let Some(code) = q.get("code") else {
        return Html(format!("<p id=\"rp\">refus : {:?}</p>", q.get("error"))).into_response();
    };
    let tokens = rp
        .client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("token response");
    let verifier = rp
        .client
        .id_token_verifier()
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256]);
    let claims = tokens
        .id_token()
        .expect("an ID token")
        .claims(&verifier, &nonce)
        .expect("the ID token verifies against the JWKS");
    let who = claims.subject().as_str().to_string();
    rp.signed_in.lock().unwrap().push(who.clone());
    Html(format!(
        "<p id=\"rp\">Application de test : connecté en tant que {who}</p>"
    ))
    .into_response()
}

async fn rp_backchannel(State(rp): State<Arc<Rp>>, Form(f): Form<HashMap<String, String>>) -> Response {
    if let Some(t) = f.get("logout_token") {
        rp.logouts.lock().unwrap().push(t.clone());
    }
    axum::http::StatusCode::OK.into_response()
}

struct Server {
    root: TempRoot,
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn demo_file(name: &str) -> String {
    format!("{}/modules/accounts/demo/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn payload(jwt: &str) -> serde_json::Value {
    use base64::Engine as _;
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_signs_in_to_a_service_books_the_cart_for_a_lesson_and_the_statistics_show_it() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Préau: init, the demo accounts, a year and a timetable.
    let root = TempRoot::new();
    let out = root.run(&["--json", "init", "--name", "Collège des Tilleuls"]);
    assert!(out.status.success(), "{}", show(&out));
    let init: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let admin_password = init["admin_password"].as_str().unwrap().to_string();
    let port = free_port();
    let rp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rp_base = format!("http://localhost:{}", rp_listener.local_addr().unwrap().port());
    let secret_sha256: String = {
        use sha2::Digest;
        sha2::Sha256::digest(SECRET.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let config = root
        .read("/etc/preau/preau.toml")
        .replace(
            "#listen = [\"[::]:443\"]",
            &format!("listen = [\"127.0.0.1:{port}\"]"),
        )
        .replace(
            "[sso]\n",
            &format!("[sso]\nissuer = \"https://localhost:{port}\"\n"),
        );
    let config = format!(
        "{config}\n[[sso.oidc_clients]]\nid = \"appli-test\"\nname = \"Application de test\"\n\
         secret_sha256 = \"{secret_sha256}\"\nredirect_uris = [\"{rp_base}/retour\"]\n\
         backchannel_logout_uri = \"{rp_base}/fin\"\n"
    );
    root.write("/etc/preau/preau.toml", &config);
    let out = root.run(&["check"]);
    assert!(out.status.success(), "{}", show(&out));
    let files = [
        demo_file("ElevesSansAdresses.xml"),
        demo_file("ResponsablesAvecAdresses.xml"),
        demo_file("sts_emp_0999999X_2026.xml"),
    ];
    let mut args = vec!["accounts", "import", "--apply", "--no-system"];
    args.extend(files.iter().map(String::as_str));
    let out = root.run(&args);
    assert!(out.status.success(), "{}", show(&out));
    let (teacher, password, subject, class) = {
        let store = preau::store::Store::open_existing(&root.path().join("var/lib/preau/preau.db")).unwrap();
        let conn = store.conn();
        let service = directory::services(conn, None)
            .unwrap()
            .into_iter()
            .find(|s| s.structure_kind == directory::StructureKind::Class)
            .expect("a teacher of a class");
        let t = directory::person_by_login(conn, &service.teacher_login)
            .unwrap()
            .unwrap();
        let pw = preau::modules::accounts::sheets::initial_password_of(conn, t.id)
            .unwrap()
            .expect("an initial password");
        (t.login, pw, service.subject_code, service.structure_code)
    };
    let out = root.run(&[
        "viescolaire",
        "year",
        "set",
        "--label",
        "2026-2027",
        "--from",
        "2026-09-01",
        "--to",
        "2027-07-04",
        "--period",
        "Trimestre 1:2026-09-01:2026-11-30",
        "--period",
        "Trimestre 2:2026-12-01:2027-07-04",
    ]);
    assert!(out.status.success(), "{}", show(&out));
    root.write(
        "/tmp/edt.csv",
        &format!(
            "teacher;subject;class;day;start;end;room\n{teacher};{subject};{class};lundi;10:00;10:55;B12\n"
        ),
    );
    let edt = root.path().join("tmp/edt.csv");
    let out = root.run(&[
        "viescolaire",
        "timetable",
        "import",
        edt.to_str().unwrap(),
        "--from",
        "2026-09-01",
    ]);
    assert!(out.status.success(), "{}", show(&out));
    // The proxy's connection logs: a finished day, and today.
    let entry = |time: &str, decision: &str, category: &str| {
        preau::modules::proxy::log::Entry {
            time: time.into(),
            source: "10.0.3.17:51234".into(),
            user: "eleve".into(),
            method: "CONNECT".into(),
            host: "site.example".into(),
            status: 200,
            decision: decision.into(),
            category: category.into(),
            mode: "connect".into(),
            ..Default::default()
        }
        .line()
    };
    let day: String = [
        entry("2026-11-27T08:00:00.000Z", "allow", ""),
        entry("2026-11-27T08:00:01.000Z", "allow", ""),
        entry("2026-11-27T08:00:02.000Z", "allow", ""),
        entry("2026-11-27T08:00:03.000Z", "deny", "adult"),
        entry("2026-11-27T08:00:04.000Z", "deny", "adult"),
        entry("2026-11-27T08:00:05.000Z", "deny", ""),
        entry("2026-11-27T08:00:06.000Z", "error", ""),
    ]
    .concat();
    root.write("/var/log/preau/proxy/2026-11-27.log", &day);
    let now = preau::modules::proxy::log::timestamp(std::time::SystemTime::now());
    let today = now[..10].to_string();
    root.write(
        &format!("/var/log/preau/proxy/{today}.log"),
        &[entry(&now, "deny", "jeux"), entry(&now, "allow", "")].concat(),
    );
    let log = std::fs::File::create(root.path().join("serve.log")).unwrap();
    let child = root
        .preau(&["serve", "-v"])
        .stderr(log)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        root,
        child,
        base: format!("https://localhost:{port}"),
    };
    assert!(
        wait_for(Duration::from_secs(20), || std::net::TcpStream::connect((
            "127.0.0.1",
            port
        ))
        .is_ok()),
        "serve did not come up"
    );
    let cert = std::fs::read(server.root.path().join("var/lib/preau/tls/cert.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    use rustls_pki_types::pem::PemObject;
    for c in rustls_pki_types::CertificateDer::pem_slice_iter(&cert) {
        roots.add(c.unwrap()).unwrap();
    }
    let _ = TLS.set(Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ));

    // The relying party discovers Préau and listens.
    let metadata =
        ProviderMetadataWithLogout::discover_async(IssuerUrl::new(server.base.clone()).unwrap(), &http)
            .await
            .expect("discovery and JWKS");
    let client: Client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("appli-test".into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(format!("{rp_base}/retour")).unwrap());
    let rp = Arc::new(Rp {
        client,
        pending: Mutex::default(),
        signed_in: Mutex::default(),
        logouts: Mutex::default(),
    });
    let app = axum::Router::new()
        .route("/connexion", axum::routing::get(rp_login))
        .route("/retour", axum::routing::get(rp_back))
        .route("/fin", axum::routing::post(rp_backchannel))
        .with_state(rp.clone());
    tokio::spawn(async move { axum::serve(rp_listener, app).await.unwrap() });

    let b = Browser::start().await;
    let base = &server.base;

    // The administrator adds the laptop cart, then signs out.
    b.goto(&format!("{base}/connexion")).await;
    b.fill("#login", "admin").await;
    b.fill("#password", &admin_password).await;
    b.click_and_load("button[type=submit]").await;
    b.goto(&format!("{base}/reservations")).await;
    b.fill("#nom", "Chariot de portables").await;
    b.fill("#quantite", "16").await;
    b.click_and_load("form[action='/reservations'] button[type=submit]")
        .await;
    b.wait_path("/reservations").await;
    assert!(b.body().await.contains("Chariot de portables"));
    b.assert_no_inline().await;
    b.screenshots("reservations-liste").await;
    b.click_and_load("header .who button").await;
    b.wait_path("/connexion").await;

    // The teacher opens the service: Préau asks him to sign in, then to
    // agree, and sends him back signed in.
    b.goto(&format!("{rp_base}/connexion")).await;
    let at = b.path().await;
    assert!(at.starts_with("/connexion?suite=%2Foidc%2Fauthorize"), "{at}");
    b.assert_no_inline().await;
    b.fill("#login", &teacher).await;
    b.fill("#password", &password).await;
    b.click_and_load("button[type=submit]").await;
    assert!(
        b.path().await.starts_with("/oidc/authorize"),
        "{}",
        b.path().await
    );
    let consent = b.body().await;
    assert!(consent.contains("Application de test"), "{consent}");
    b.assert_no_inline().await;
    b.screenshots("sso-consentement").await;
    b.click_and_load("#autoriser").await;
    let back = b.text("#rp").await;
    assert_eq!(
        back,
        format!("Application de test : connecté en tant que {teacher}")
    );
    assert_eq!(*rp.signed_in.lock().unwrap(), vec![teacher.clone()]);

    // He books the cart for his Monday lesson, from his timetable.
    b.goto(&format!("{base}/reservations/1?date=2026-12-07")).await;
    b.assert_no_inline().await;
    let page = b.body().await;
    assert!(page.contains("10:00–10:55") && page.contains(&class), "{page}");
    b.screenshots("reservation-ressource").await;
    b.click_and_load("form.cours button[type=submit]").await;
    b.wait_path("/reservations/1?date=2026-12-07").await;
    let page = b.body().await;
    assert!(page.contains("confirmée"), "{page}");

    // A private calendar link of the cart, then a new one: the old link
    // stops working, the new one serves the booking.
    let feed = |url: String| async move {
        let req = openidconnect::http::Request::get(url.as_str())
            .body(Vec::new())
            .unwrap();
        let r = http(req).await.unwrap();
        (
            r.status().as_u16(),
            String::from_utf8_lossy(r.body()).into_owned(),
        )
    };
    b.click_and_load("form[action='/reservations/1/agenda'] button[type=submit]")
        .await;
    let first = b.text("p.notice a").await;
    assert!(
        first.starts_with(&format!("{base}/reservations/agenda/")),
        "{first}"
    );
    let (status, ics) = feed(first.clone()).await;
    assert_eq!(status, 200, "{ics}");
    assert!(
        ics.contains("BEGIN:VCALENDAR") && ics.contains("DTSTART:20261207T"),
        "{ics}"
    );
    b.click_and_load("form[action='/reservations/1/agenda'] button[type=submit]")
        .await;
    b.assert_no_inline().await;
    let second = b.text("p.notice a").await;
    assert_ne!(first, second);
    assert_eq!(feed(first).await.0, 404, "the replaced link");
    let (status, ics) = feed(second).await;
    assert_eq!(status, 200);
    assert!(
        ics.contains("BEGIN:VEVENT") && ics.contains("DTSTART:20261207T"),
        "{ics}"
    );
    b.screenshots("reservation-lien-agenda").await;

    // Signing out of Préau signs him out of the service too.
    b.click_and_load("header .who button").await;
    b.wait_path("/connexion").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while rp.logouts.lock().unwrap().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no back-channel logout token"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let token = payload(&rp.logouts.lock().unwrap()[0]);
    assert_eq!(token["sub"], teacher.as_str());
    assert_eq!(token["aud"], "appli-test");

    // The daemon summarised the finished day of the proxy's logs (not
    // today's).
    let db = server.root.path().join("var/lib/preau/preau.db");
    assert!(
        wait_for(Duration::from_secs(10), || {
            preau::store::Store::open_existing(&db)
                .ok()
                .and_then(|s| {
                    s.conn()
                        .query_row("SELECT group_concat(day) FROM proxy_day_counts", [], |r| {
                            r.get::<_, Option<String>>(0)
                        })
                        .ok()
                        .flatten()
                })
                .as_deref()
                == Some("2026-11-27")
        }),
        "the daemon did not summarise 2026-11-27"
    );

    // The statistics show the booking and the web filtering.
    b.goto(&format!("{base}/connexion")).await;
    b.fill("#login", "admin").await;
    b.fill("#password", &admin_password).await;
    b.click_and_load("button[type=submit]").await;
    let until = if today.as_str() > "2026-12-31" {
        today.as_str()
    } else {
        "2026-12-31"
    };
    b.goto(&format!("{base}/console/statistiques?du=2026-11-01&au={until}"))
        .await;
    b.assert_no_inline().await;
    let stats = b.body().await;
    assert!(
        stats.contains("Chariot de portables") && stats.contains("2026-W50"),
        "{stats}"
    );
    let level = preau::booking::stats::level_of(&class);
    assert!(stats.contains(&level), "the class level row {level}: {stats}");
    for shown in [
        "Requêtes autorisées : 4 · refusées : 4 · en erreur : 1",
        "jours comptés : 2, dont 1 par leurs totaux quotidiens",
        "plus longtemps que les journaux",
    ] {
        assert!(stats.contains(shown), "{shown}: {stats}");
    }
    let words = |t: String| t.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(
        words(b.text("#filtrage tbody").await),
        "adult 2 (sans catégorie) 1 jeux 1"
    );
    b.screenshots("statistiques").await;
    b.close().await;
}

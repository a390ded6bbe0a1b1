use super::*;
use crate::sso::keys;
use crate::sso::settings::OidcClient;

const REDIRECT: &str = "https://cloud.tilleuls.lan/apps/user_oidc/code";
const SECRET: &str = "s3cret-s3cret-s3cret";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn settings() -> SsoSettings {
    let client = |id: &str, secret: &str| OidcClient {
        id: id.into(),
        name: format!("Service {id}"),
        secret_sha256: if secret.is_empty() {
            String::new()
        } else {
            sha256_hex(secret)
        },
        redirect_uris: vec![REDIRECT.into()],
        post_logout_redirect_uris: vec!["https://cloud.tilleuls.lan/".into()],
        backchannel_logout_uri: String::new(),
        roles: vec![],
        consent: true,
        require_pkce: true,
    };
    let mut teachers_only = client("profs", SECRET);
    teachers_only.roles = vec!["teacher".into()];
    let mut legacy = client("legacy", SECRET);
    legacy.require_pkce = false;
    SsoSettings {
        oidc_clients: vec![client("cloud", SECRET), client("spa", ""), teachers_only, legacy],
        ..SsoSettings::default()
    }
}

fn request(client: &str) -> AuthRequest {
    AuthRequest {
        response_type: Some("code".into()),
        client_id: Some(client.into()),
        redirect_uri: Some(REDIRECT.into()),
        scope: Some("openid profile email unknown".into()),
        state: Some("st&ate".into()),
        nonce: Some("n-0S6_WzA2Mj".into()),
        code_challenge: Some(CHALLENGE.into()),
        code_challenge_method: Some("S256".into()),
        ..AuthRequest::default()
    }
}

struct World {
    _dir: tempfile::TempDir,
    store: crate::store::Store,
    settings: SsoSettings,
    keys: KeySet,
}

fn world() -> World {
    let (dir, mut store) = crate::directory::tests::store();
    store.add_admin("admin", "$argon2id$x").unwrap();
    let keys = keys::ensure(store.conn(), 1000, 86400, 3600).unwrap();
    World {
        _dir: dir,
        store,
        settings: settings(),
        keys,
    }
}

fn signed_in() -> SignedIn {
    SignedIn {
        login: "admin".into(),
        sid: "sid-1".into(),
        auth_time: 990,
    }
}

impl World {
    fn code(&self, client: &str) -> String {
        let checked = check_authorize(&self.settings, &request(client)).unwrap();
        let url = issue_code(self.store.conn(), &self.settings, &checked, &signed_in(), 1000).unwrap();
        assert!(url.ends_with("&state=st%26ate"), "{url}");
        url.split("code=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_string()
    }

    fn token(&self, client: &str, req: &TokenRequest, now: i64) -> Result<TokenResponse, TokenError> {
        let iss = Issuer {
            settings: &self.settings,
            issuer: "https://scribe.tilleuls.lan",
            uai: "0999999X",
            keys: &self.keys,
        };
        token(
            self.store.conn(),
            &iss,
            self.settings.client(client).unwrap(),
            req,
            now,
        )
    }
}

fn exchange(code: &str, verifier: &str) -> TokenRequest {
    TokenRequest {
        grant_type: Some("authorization_code".into()),
        code: Some(code.into()),
        redirect_uri: Some(REDIRECT.into()),
        code_verifier: Some(verifier.into()),
        ..TokenRequest::default()
    }
}

fn refresh(token: &str) -> TokenRequest {
    TokenRequest {
        grant_type: Some("refresh_token".into()),
        refresh_token: Some(token.into()),
        ..TokenRequest::default()
    }
}

#[test]
fn authorization_requests_are_checked() {
    let s = settings();
    let ok = check_authorize(&s, &request("cloud")).unwrap();
    assert_eq!(ok.scope, "openid profile email");
    assert_eq!(ok.challenge.as_deref(), Some(CHALLENGE));

    let page = |r: AuthRequest| matches!(check_authorize(&s, &r), Err(AuthError::Page(_)));
    assert!(page(AuthRequest {
        client_id: None,
        ..request("cloud")
    }));
    assert!(page(request("nobody")));
    assert!(page(AuthRequest {
        redirect_uri: Some(format!("{REDIRECT}/x")),
        ..request("cloud")
    }));
    assert!(page(AuthRequest {
        redirect_uri: None,
        ..request("cloud")
    }));

    let redirected = |r: AuthRequest| match check_authorize(&s, &r) {
        Err(AuthError::Redirect(url)) => {
            assert!(url.starts_with(&format!("{REDIRECT}?error=")), "{url}");
            assert!(url.ends_with("&state=st%26ate"), "{url}");
            url.split("error=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap()
                .to_string()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(
        redirected(AuthRequest {
            response_type: Some("token".into()),
            ..request("cloud")
        }),
        "unsupported_response_type"
    );
    assert_eq!(
        redirected(AuthRequest {
            scope: Some("profile".into()),
            ..request("cloud")
        }),
        "invalid_scope"
    );
    assert_eq!(
        redirected(AuthRequest {
            code_challenge: None,
            ..request("cloud")
        }),
        "invalid_request"
    );
    assert_eq!(
        redirected(AuthRequest {
            code_challenge: None,
            ..request("spa")
        }),
        "invalid_request"
    );
    assert_eq!(
        redirected(AuthRequest {
            code_challenge_method: Some("plain".into()),
            ..request("cloud")
        }),
        "invalid_request"
    );
    assert_eq!(
        redirected(AuthRequest {
            code_challenge: Some("short".into()),
            ..request("cloud")
        }),
        "invalid_request"
    );
    assert_eq!(
        redirected(AuthRequest {
            prompt: Some("none login".into()),
            ..request("cloud")
        }),
        "invalid_request"
    );
    assert_eq!(
        redirected(AuthRequest {
            request: Some("x".into()),
            ..request("cloud")
        }),
        "request_not_supported"
    );
    // A confidential client that opted out of PKCE may omit it.
    let legacy = check_authorize(
        &s,
        &AuthRequest {
            code_challenge: None,
            code_challenge_method: None,
            ..request("legacy")
        },
    )
    .unwrap();
    assert_eq!(legacy.challenge, None);
    assert!(
        check_authorize(
            &s,
            &AuthRequest {
                prompt: Some("none".into()),
                ..request("cloud")
            }
        )
        .unwrap()
        .prompt
        .none
    );
}

#[test]
fn consent_is_remembered_per_client_and_scope() {
    let w = world();
    let c = w.store.conn();
    let cloud = w.settings.client("cloud").unwrap();
    assert!(needs_consent(c, cloud, "admin", "openid profile").unwrap());
    remember_consent(c, "admin", "cloud", "openid profile", 1000).unwrap();
    assert!(!needs_consent(c, cloud, "admin", "openid profile").unwrap());
    assert!(!needs_consent(c, cloud, "admin", "openid").unwrap());
    assert!(needs_consent(c, cloud, "admin", "openid profile email").unwrap());
    assert!(needs_consent(c, w.settings.client("spa").unwrap(), "admin", "openid").unwrap());
    let mut no_consent = cloud.clone();
    no_consent.consent = false;
    assert!(!needs_consent(c, &no_consent, "someone", "openid").unwrap());
}

#[test]
fn client_authentication() {
    let s = settings();
    let form = |id: Option<&str>, secret: Option<&str>| TokenRequest {
        client_id: id.map(Into::into),
        client_secret: secret.map(Into::into),
        ..TokenRequest::default()
    };
    let basic = |id: &str, secret: &str| Some((id.to_string(), secret.to_string()));
    assert_eq!(
        authenticate_client(&s, basic("cloud", SECRET), &form(None, None))
            .unwrap()
            .id,
        "cloud"
    );
    assert_eq!(
        authenticate_client(&s, None, &form(Some("cloud"), Some(SECRET)))
            .unwrap()
            .id,
        "cloud"
    );
    assert_eq!(
        authenticate_client(&s, None, &form(Some("spa"), None))
            .unwrap()
            .id,
        "spa"
    );
    let status = |b, f: &TokenRequest| authenticate_client(&s, b, f).unwrap_err().status;
    assert_eq!(status(basic("cloud", "wrong"), &form(None, None)), 401);
    assert_eq!(status(None, &form(Some("cloud"), None)), 401);
    assert_eq!(status(None, &form(Some("spa"), Some("x"))), 401);
    assert_eq!(status(None, &form(Some("nobody"), None)), 401);
    assert_eq!(status(None, &form(None, None)), 401);
    assert_eq!(status(basic("cloud", SECRET), &form(Some("spa"), None)), 401);
    assert_eq!(status(basic("cloud", SECRET), &form(None, Some(SECRET))), 400);
    // RFC 6749 §2.3.1: both parts form-urlencoded, then base64.
    let header = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("my%20client:p%40ss+word")
    );
    assert_eq!(
        basic_credentials(&header),
        Some(("my client".into(), "p@ss word".into()))
    );
    assert_eq!(basic_credentials("Bearer x"), None);
    assert_eq!(basic_credentials("Basic !!!"), None);
}

#[test]
fn code_exchange_refresh_and_userinfo() {
    let w = world();
    let code = w.code("cloud");
    let t = w.token("cloud", &exchange(&code, VERIFIER), 1010).unwrap();
    assert_eq!(t.token_type, "Bearer");
    assert_eq!(t.scope, "openid profile email");
    assert_eq!(t.expires_in, 600);

    // The ID token verifies against the published key set.
    let header = jsonwebtoken::decode_header(&t.id_token).unwrap();
    assert_eq!(header.alg, ALG);
    let jwk = w.keys.jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(ALG);
    v.set_audience(&["cloud"]);
    v.set_issuer(&["https://scribe.tilleuls.lan"]);
    v.validate_exp = false;
    let claims: Value = jsonwebtoken::decode(
        &t.id_token,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &v,
    )
    .unwrap()
    .claims;
    assert_eq!(claims["sub"], "admin");
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["sid"], "sid-1");
    assert_eq!(claims["auth_time"], 990);
    assert_eq!(claims["exp"], 1610);
    assert_eq!(claims["role"], "admin");
    assert_eq!(claims["uai"], "0999999X");
    assert_eq!(claims["at_hash"], at_hash(&t.access_token));

    let info = userinfo(w.store.conn(), "0999999X", &t.access_token, 1020).unwrap();
    assert_eq!(info["sub"], "admin");
    assert_eq!(info["role"], "admin");
    let expired = userinfo(w.store.conn(), "0999999X", &t.access_token, 1610).unwrap_err();
    assert_eq!((expired.status, expired.error), (401, "invalid_token"));
    assert_eq!(
        userinfo(w.store.conn(), "0999999X", "forged", 1020)
            .unwrap_err()
            .error,
        "invalid_token"
    );

    // Refresh rotates; the old refresh token presented again revokes all.
    let r = w.token("cloud", &refresh(&t.refresh_token), 1100).unwrap();
    assert_ne!(r.refresh_token, t.refresh_token);
    assert!(userinfo(w.store.conn(), "0999999X", &r.access_token, 1110).is_ok());
    let narrowed = w
        .token(
            "cloud",
            &TokenRequest {
                scope: Some("openid".into()),
                ..refresh(&r.refresh_token)
            },
            1120,
        )
        .unwrap();
    assert_eq!(narrowed.scope, "openid");
    let wider = w.token(
        "cloud",
        &TokenRequest {
            scope: Some("openid email".into()),
            ..refresh(&narrowed.refresh_token)
        },
        1130,
    );
    assert_eq!(wider.unwrap_err().error, "invalid_scope");
    let reuse = w.token("cloud", &refresh(&t.refresh_token), 1140).unwrap_err();
    assert_eq!(reuse.error, "invalid_grant");
    assert!(
        userinfo(w.store.conn(), "0999999X", &r.access_token, 1150).is_err(),
        "family revoked"
    );
    assert_eq!(
        w.token("cloud", &refresh(&narrowed.refresh_token), 1150)
            .unwrap_err()
            .error,
        "invalid_grant"
    );
}

#[test]
fn code_refusals() {
    let w = world();
    let grant = |client: &str, req: TokenRequest, now| {
        w.token(client, &req, now).map(|_| ()).unwrap_err().description
    };

    // PKCE mismatch, then the code is spent.
    let code = w.code("cloud");
    assert!(grant("cloud", exchange(&code, &"a".repeat(43)), 1010).contains("code_verifier"));
    assert!(grant("cloud", exchange(&code, VERIFIER), 1010).contains("already used"));
    // Missing verifier.
    let code = w.code("cloud");
    assert!(
        grant(
            "cloud",
            TokenRequest {
                code_verifier: None,
                ..exchange(&code, VERIFIER)
            },
            1010
        )
        .contains("missing")
    );
    // Wrong redirect address.
    let code = w.code("cloud");
    assert!(
        grant(
            "cloud",
            TokenRequest {
                redirect_uri: Some("https://x/".into()),
                ..exchange(&code, VERIFIER)
            },
            1010
        )
        .contains("redirect_uri")
    );
    // Another client.
    let code = w.code("cloud");
    assert!(grant("spa", exchange(&code, VERIFIER), 1010).contains("another client"));
    // Expired.
    let code = w.code("cloud");
    assert!(grant("cloud", exchange(&code, VERIFIER), 1060).contains("expired"));
    // Replayed: refused, and the tokens of the first exchange are revoked.
    let code = w.code("cloud");
    let first = w.token("cloud", &exchange(&code, VERIFIER), 1010).unwrap();
    assert!(grant("cloud", exchange(&code, VERIFIER), 1011).contains("already used"));
    assert!(userinfo(w.store.conn(), "0999999X", &first.access_token, 1012).is_err());
    assert_eq!(
        w.token("cloud", &refresh(&first.refresh_token), 1012)
            .unwrap_err()
            .error,
        "invalid_grant"
    );
    // Unknown code, grant type.
    assert!(grant("cloud", exchange("forged", VERIFIER), 1010).contains("unknown"));
    let e = w
        .token(
            "cloud",
            &TokenRequest {
                grant_type: Some("password".into()),
                ..TokenRequest::default()
            },
            1010,
        )
        .unwrap_err();
    assert_eq!(e.error, "unsupported_grant_type");
    // A role the client does not admit.
    let code = w.code("profs");
    assert!(grant("profs", exchange(&code, VERIFIER), 1010).contains("no longer"));
}

#[test]
fn logout_ends_the_session_and_checks_the_redirect() {
    let w = world();
    let code = w.code("cloud");
    let t = w.token("cloud", &exchange(&code, VERIFIER), 1010).unwrap();
    let iss = "https://scribe.tilleuls.lan";
    let hint = read_hint(&w.keys, iss, &t.id_token).unwrap();
    assert_eq!(
        (hint.sub.as_str(), hint.aud.as_str(), hint.sid.as_deref()),
        ("admin", "cloud", Some("sid-1"))
    );
    assert_eq!(read_hint(&w.keys, "https://other", &t.id_token), None);

    let req = |hint: Option<&str>, client: Option<&str>, uri: &str| LogoutRequest {
        id_token_hint: hint.map(Into::into),
        client_id: client.map(Into::into),
        post_logout_redirect_uri: Some(uri.into()),
        state: Some("xyz".into()),
    };
    assert_eq!(
        logout_redirect(
            &w.settings,
            &w.keys,
            iss,
            &req(Some(&t.id_token), None, "https://cloud.tilleuls.lan/")
        ),
        Some("https://cloud.tilleuls.lan/?state=xyz".into())
    );
    assert_eq!(
        logout_redirect(
            &w.settings,
            &w.keys,
            iss,
            &req(Some(&t.id_token), None, "https://evil/")
        ),
        None
    );
    assert_eq!(
        logout_redirect(
            &w.settings,
            &w.keys,
            iss,
            &req(Some(&t.id_token), Some("spa"), "https://cloud.tilleuls.lan/")
        ),
        None
    );
    assert_eq!(
        logout_redirect(
            &w.settings,
            &w.keys,
            iss,
            &req(None, None, "https://cloud.tilleuls.lan/")
        ),
        None
    );
    assert!(
        logout_redirect(
            &w.settings,
            &w.keys,
            iss,
            &req(None, Some("cloud"), "https://cloud.tilleuls.lan/")
        )
        .is_some()
    );

    let reached = end_session(w.store.conn(), "sid-1").unwrap();
    assert_eq!(
        reached,
        vec![Reached {
            protocol: "oidc".into(),
            client: "cloud".into(),
            login: "admin".into()
        }]
    );
    assert!(userinfo(w.store.conn(), "0999999X", &t.access_token, 1020).is_err());
    assert!(w.token("cloud", &refresh(&t.refresh_token), 1020).is_err());
    assert!(end_session(w.store.conn(), "sid-1").unwrap().is_empty());

    let lt = logout_token(&w.keys, iss, "cloud", "admin", "sid-1", 2000).unwrap();
    let header = jsonwebtoken::decode_header(&lt).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let claims: Value = jsonwebtoken::dangerous::insecure_decode(&lt).unwrap().claims;
    assert_eq!(claims["events"], json!({ LOGOUT_EVENT: {} }));
    assert_eq!(claims["sid"], "sid-1");
    assert!(claims.get("nonce").is_none());
}

#[test]
fn discovery_lists_the_endpoints() {
    let d = discovery("https://scribe.tilleuls.lan");
    assert_eq!(d["issuer"], "https://scribe.tilleuls.lan");
    assert_eq!(d["token_endpoint"], "https://scribe.tilleuls.lan/oidc/token");
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(d["id_token_signing_alg_values_supported"], json!(["ES256"]));
}

#[test]
fn queries_are_encoded() {
    assert_eq!(
        with_query("https://a/b", &[("x", "1 2"), ("y", "é")]),
        "https://a/b?x=1%202&y=%C3%A9"
    );
    assert_eq!(
        with_query("https://a/b?k=v", &[("x", "&")]),
        "https://a/b?k=v&x=%26"
    );
}

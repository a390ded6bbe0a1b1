//! Router-level tests, in process: every route declares its action; the
//! guard, sign-in, sessions, CSRF, throttling and the authorization
//! answers against a real store in a temporary root.

use super::*;
use crate::directory::{Kind, NewPerson, insert_person, password};
use crate::web::totp;
use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

#[test]
fn every_route_declares_its_action() {
    let sso = crate::sso::web::ROUTES.iter().map(|d| (d.path, d.example));
    for (path, example) in ROUTES.iter().map(|d| (d.path, d.example)).chain(sso) {
        let get = authz::Action::of(&Method::GET, example);
        let post = authz::Action::of(&Method::POST, example);
        assert!(
            get.is_some() || post.is_some(),
            "route {path} (example {example}) has no action in authz::Action::of"
        );
    }
    for def in ROUTES {
        let get = authz::Action::of(&Method::GET, def.example);
        let post = authz::Action::of(&Method::POST, def.example);
        assert!(
            get.is_some() || post.is_some(),
            "route {} (example {}) has no action in authz::Action::of",
            def.path,
            def.example
        );
    }
}

/// A temporary root with a store: an admin, a teacher of 6A, a student of
/// 6A (must change her password) and her parent, a student of 5B.
struct World {
    _dir: tempfile::TempDir,
    app: Router,
    db: PathBuf,
}

const ADMIN_PW: &str = "admin-password-1";
const PW: &str = "initial-pass";

fn world() -> World {
    world_with(Config::default())
}

fn world_with(config: Config) -> World {
    world_made(config, |w| w)
}

/// As [`world_with`], the web application changed by `wrap` first.
fn world_made(config: Config, wrap: impl FnOnce(Web) -> Web) -> World {
    let dir = tempfile::tempdir().unwrap();
    let host = RealHost::new(dir.path());
    let db = host.real_path(&Path::new(&config.paths.state_dir).join(crate::store::DB_FILE));
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let mut store = Store::open(&db).unwrap();
    store
        .add_admin("admin", &crate::auth::hash_password(ADMIN_PW).unwrap())
        .unwrap();
    store
        .write(|tx| {
            let np = |kind, first: &str, last: &str| NewPerson {
                kind: Some(kind),
                source: "manual".into(),
                first_name: first.into(),
                last_name: last.into(),
                ..Default::default()
            };
            let lea = insert_person(tx, &np(Kind::Student, "Léa", "Martin"), "lea.martin", Some(10000))?;
            let tom = insert_person(tx, &np(Kind::Student, "Tom", "Roux"), "tom.roux", Some(10003))?;
            let paul = insert_person(tx, &np(Kind::Teacher, "Paul", "Blanc"), "paul.blanc", Some(10001))?;
            let anne = insert_person(tx, &np(Kind::Parent, "Anne", "Martin"), "anne.martin", None)?;
            for (code, gid) in [("6A", 20000), ("5B", 20001)] {
                tx.execute(
                    "INSERT INTO structures (kind, code, label, group_name, gid) VALUES ('class', ?1, ?1, lower('c-' || ?1), ?2)",
                    rusqlite::params![code, gid],
                )?;
            }
            tx.execute("INSERT INTO memberships SELECT ?1, id FROM structures WHERE code = '6A'", [lea])?;
            tx.execute("INSERT INTO memberships SELECT ?1, id FROM structures WHERE code = '5B'", [tom])?;
            tx.execute("INSERT INTO services SELECT ?1, 'MATHS', id FROM structures WHERE code = '6A'", [paul])?;
            tx.execute("INSERT INTO parent_links (parent_id, child_id, legal) VALUES (?1, ?2, 1)", [anne, lea])?;
            password::set(tx, lea, PW, true, true)?;
            for id in [tom, paul, anne] {
                password::set(tx, id, PW, true, false)?;
            }
            Ok::<_, anyhow::Error>(())
        })
        .unwrap();
    let config = Arc::new(config);
    let web = wrap(Web::new(
        host,
        PathBuf::from("/etc/preau/preau.toml"),
        move || config.clone(),
    ));
    World {
        _dir: dir,
        app: headers::secure(router(Arc::new(web))),
        db,
    }
}

#[derive(Debug)]
struct Answer {
    status: u16,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    /// The body with askama's escaped apostrophes read back.
    fn text(&self) -> String {
        self.body.replace("&#39;", "'")
    }

    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(str::to_string)
    }
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string()
}

impl World {
    async fn send(&self, req: Request<Body>) -> Answer {
        let mut req = req;
        req.extensions_mut()
            .insert(Peer("192.0.2.7:5000".parse().unwrap()));
        let r = self.app.clone().oneshot(req).await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = String::from_utf8_lossy(&r.into_body().collect().await.unwrap().to_bytes()).into_owned();
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str, session: Option<&str>) -> Answer {
        let mut b = Request::get(path);
        if let Some(s) = session {
            b = b.header(header::COOKIE, format!("{}={s}", session::COOKIE));
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    async fn post(&self, path: &str, cookies: &str, form: &str) -> Answer {
        let req = Request::post(path)
            .header(header::COOKIE, cookies)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(form.to_string()))
            .unwrap();
        self.send(req).await
    }

    /// Signs in; returns the session token.
    async fn sign_in(&self, login: &str, password: &str) -> Result<String, Answer> {
        let form = self.get("/connexion", None).await;
        let csrf = cookie_value(&form.cookie(csrf::SIGNIN_COOKIE).unwrap());
        let body = format!("login={login}&password={password}&csrf={csrf}");
        let a = self
            .post("/connexion", &format!("{}={csrf}", csrf::SIGNIN_COOKIE), &body)
            .await;
        match a.cookie(session::COOKIE) {
            Some(c) if a.status == 303 => Ok(cookie_value(&c)),
            _ => Err(a),
        }
    }

    async fn csrf_of(&self, token: &str) -> String {
        let page = self.get("/mot-de-passe", Some(token)).await;
        let at = page.body.find("name=\"csrf\" value=\"").unwrap() + 19;
        page.body[at..at + 43].to_string()
    }
}

fn no_inline_script_or_style(html: &str) {
    assert!(!html.contains("<style"), "inline style element");
    assert!(!html.contains(" style="), "inline style attribute");
    for (i, _) in html.match_indices("<script") {
        let tag = &html[i..i + html[i..].find('>').unwrap()];
        assert!(tag.contains(" src="), "inline script: {tag}");
    }
    assert!(!html.contains(" onclick="), "inline handler");
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_sign_in_and_headers_are_strict() {
    let w = world();
    let a = w.get("/console", None).await;
    assert_eq!(a.status, 303);
    assert_eq!(a.location(), "/connexion?suite=%2Fconsole");
    let page = w.get("/connexion", None).await;
    assert_eq!(page.status, 200);
    let csp = page.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(!csp.contains("unsafe-inline") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.headers[header::REFERRER_POLICY], "same-origin");
    assert_eq!(page.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(page.headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
    no_inline_script_or_style(&page.body);
    let missing = w.get("/nulle-part", None).await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("Page introuvable"));
}

#[tokio::test]
async fn sign_in_sets_a_strict_cookie_and_rotates_the_session() {
    let w = world();
    let first = w
        .sign_in("admin", ADMIN_PW)
        .await
        .unwrap_or_else(|a| panic!("{}", a.body));
    assert_eq!(first.len(), 43);
    // Signing in again with the first cookie gives a new token and ends
    // the first session.
    let form = w.get("/connexion", None).await;
    let csrf = cookie_value(&form.cookie(csrf::SIGNIN_COOKIE).unwrap());
    let a = w
        .post(
            "/connexion",
            &format!("{}={csrf}; {}={first}", csrf::SIGNIN_COOKIE, session::COOKIE),
            &format!("login=admin&password={ADMIN_PW}&csrf={csrf}"),
        )
        .await;
    let set = a.cookie(session::COOKIE).unwrap();
    for flag in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(flag), "{set}");
    }
    let second = cookie_value(&set);
    assert_ne!(first, second);
    assert_eq!(
        w.get("/console", Some(&first)).await.status,
        303,
        "old session ended"
    );
    let dash = w.get("/console", Some(&second)).await;
    assert_eq!(dash.status, 200, "{}", dash.body);
    assert!(dash.body.contains("Tableau de bord"));
    no_inline_script_or_style(&dash.body);
}

#[tokio::test]
async fn a_cross_origin_post_is_refused() {
    let w = world();
    let req = Request::post("/connexion")
        .header(header::ORIGIN, "https://evil.test")
        .header(header::HOST, "preau.lan")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("login=admin&password={ADMIN_PW}")))
        .unwrap();
    let a = w.send(req).await;
    assert_eq!(a.status, 403);
    assert!(a.body.contains("autre site"));
    assert!(a.cookie(session::COOKIE).is_none());
    // Same origin but without the form token: refused too.
    let a = w
        .post("/connexion", "", &format!("login=admin&password={ADMIN_PW}"))
        .await;
    assert_eq!(a.status, 403);
    assert!(a.cookie(session::COOKIE).is_none());
}

#[tokio::test]
async fn lockout_after_repeated_failures() {
    let w = world();
    for _ in 0..throttle::ACCOUNT_LIMIT {
        let a = w.sign_in("paul.blanc", "wrong-password").await.unwrap_err();
        assert_eq!(a.status, 401);
        assert!(a.body.contains("incorrect"));
    }
    let a = w.sign_in("paul.blanc", PW).await.unwrap_err();
    assert_eq!(a.status, 429);
    assert!(a.body.contains("Trop de tentatives"));
    // Another account from the same address still signs in.
    assert!(w.sign_in("tom.roux", PW).await.is_ok());
}

#[tokio::test]
async fn oversized_and_malformed_forms_get_a_french_message() {
    let w = world();
    let big = format!("login={}", "a".repeat(forms::MAX_BODY + 10));
    let a = w.post("/connexion", "", &big).await;
    assert_eq!(a.status, 413);
    assert!(a.body.contains("trop volumineux"));
    let req = Request::post("/connexion")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(vec![b'a', b'=', 0xff, 0xfe]))
        .unwrap();
    let a = w.send(req).await;
    assert_eq!(a.status, 400);
    assert!(a.body.contains("UTF-8"));
}

#[tokio::test]
async fn forced_password_change_then_the_new_one_works() {
    let w = world();
    let token = w
        .sign_in("lea.martin", PW)
        .await
        .unwrap_or_else(|a| panic!("{}", a.body));
    let home = w.get("/", Some(&token)).await;
    assert_eq!((home.status, home.location()), (303, "/mot-de-passe"));
    let csrf = w.csrf_of(&token).await;
    let cookie = format!("{}={token}", session::COOKIE);
    let short = w
        .post(
            "/mot-de-passe",
            &cookie,
            &format!("csrf={csrf}&current={PW}&new=court&confirm=court"),
        )
        .await;
    assert_eq!(short.status, 400);
    assert!(short.body.contains("trop court"));
    let done = w
        .post(
            "/mot-de-passe",
            &cookie,
            &format!("csrf={csrf}&current={PW}&new=nouveau-secret&confirm=nouveau-secret"),
        )
        .await;
    assert_eq!((done.status, done.location()), (303, "/"), "{}", done.body);
    assert_eq!(w.get("/", Some(&token)).await.status, 200);
    assert_eq!(w.sign_in("lea.martin", PW).await.unwrap_err().status, 401);
    assert!(w.sign_in("lea.martin", "nouveau-secret").await.is_ok());
}

#[tokio::test]
async fn students_parents_and_teachers_see_only_their_own() {
    let w = world();
    let tom = w.sign_in("tom.roux", PW).await.unwrap();
    for url in [
        "/console",
        "/console/personnes",
        "/console/journal",
        "/console/personnes/lea.martin",
    ] {
        let a = w.get(url, Some(&tom)).await;
        assert_eq!(a.status, 404, "{url}");
        assert!(!a.body.contains("Martin"), "{url} leaks data");
    }
    assert_eq!(w.get("/console/personnes/tom.roux", Some(&tom)).await.status, 200);
    let anne = w.sign_in("anne.martin", PW).await.unwrap();
    assert_eq!(
        w.get("/console/personnes/lea.martin", Some(&anne)).await.status,
        200
    );
    assert_eq!(
        w.get("/console/personnes/tom.roux", Some(&anne)).await.status,
        404
    );
    // Regression: a parent linked to a child without being a legal
    // guardian (a contact) reaches none of the child's pages.
    {
        let mut store = Store::open(&w.db).unwrap();
        store
            .write(|tx| {
                let np = NewPerson {
                    kind: Some(Kind::Parent),
                    source: "manual".into(),
                    first_name: "Marc".into(),
                    last_name: "Voisin".into(),
                    ..Default::default()
                };
                let marc = insert_person(tx, &np, "marc.voisin", None)?;
                tx.execute(
                    "INSERT INTO parent_links (parent_id, child_id, legal) SELECT ?1, id, 0 FROM people WHERE login = 'lea.martin'",
                    [marc],
                )?;
                password::set(tx, marc, PW, true, false)?;
                Ok::<_, anyhow::Error>(())
            })
            .unwrap();
    }
    let marc = w.sign_in("marc.voisin", PW).await.unwrap();
    for url in [
        "/console/personnes/lea.martin",
        "/vie-scolaire/notes/eleve/lea.martin",
        "/vie-scolaire/bulletins/eleve/lea.martin",
    ] {
        let a = w.get(url, Some(&marc)).await;
        assert_eq!(a.status, 404, "{url}: a contact is not a legal guardian");
        assert!(!a.body.contains("Léa"), "{url} leaks data");
    }
    let paul = w.sign_in("paul.blanc", PW).await.unwrap();
    assert_eq!(w.get("/console/classe/6A", Some(&paul)).await.status, 200);
    assert_eq!(w.get("/console/classe/5B", Some(&paul)).await.status, 403);
    let csrf = w.csrf_of(&paul).await;
    let cookie = format!("{}={paul}", session::COOKIE);
    let other = w
        .post(
            "/console/personnes/tom.roux/mot-de-passe",
            &cookie,
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(other.status, 403, "a class he does not teach");
    let mine = w
        .post(
            "/console/personnes/lea.martin/mot-de-passe",
            &cookie,
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert!(mine.body.contains("Fiche de connexion de Léa Martin"));
    no_inline_script_or_style(&mine.body);
}

#[tokio::test]
async fn every_route_answers_an_admin_without_a_server_error() {
    let w = world();
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    for def in ROUTES {
        if authz::Action::of(&Method::GET, def.example).is_some() {
            let a = w.get(def.example, Some(&admin)).await;
            assert!(a.status < 500, "{} gave {}", def.example, a.status);
        }
    }
    let audit = w.get("/console/journal?q=admin", Some(&admin)).await;
    assert!(audit.body.contains("réussie"), "sign-ins are audited");
    assert!(!audit.body.contains(ADMIN_PW));
}

/// School life: a teacher's day lists his lessons, labelled; other roles
/// are refused.
#[tokio::test]
async fn a_teacher_sees_his_day() {
    let w = world();
    let (_store, _slot) = schoollog::with_timetable(&w);
    let paul = w.sign_in("paul.blanc", PW).await.unwrap();
    let a = w.get("/vie-scolaire/journee?date=2026-11-30", Some(&paul)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        a.body.contains("08:00–08:55") && a.body.contains("B12") && a.body.contains("6A"),
        "{}",
        a.body
    );
    no_inline_script_or_style(&a.body);
    let a = w.get("/vie-scolaire/journee?date=2026-12-01", Some(&paul)).await;
    assert!(a.body.contains("Aucun cours ce jour"), "{}", a.body);
    assert_eq!(
        w.get("/vie-scolaire/journee?date=demain", Some(&paul))
            .await
            .status,
        400
    );
    let tom = w.sign_in("tom.roux", PW).await.unwrap();
    assert_ne!(w.get("/vie-scolaire/journee", Some(&tom)).await.status, 200);
}

// --- Imports (`/console/imports`) -----------------------------------------

fn demo_export(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/modules/accounts/demo/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A multipart body: the form token, then each file as `fichiers`.
fn multipart(csrf: &str, files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----preau-test-boundary-7d1f";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n").as_bytes(),
    );
    for (name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"fichiers\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl World {
    async fn upload(&self, session: &str, files: &[(&str, &[u8])]) -> Answer {
        let csrf = self.csrf_of(session).await;
        let (ct, body) = multipart(&csrf, files);
        let req = Request::post("/console/imports")
            .header(header::COOKIE, format!("{}={session}", session::COOKIE))
            .header(header::CONTENT_TYPE, ct)
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    fn people_count(&self) -> i64 {
        let store = Store::open_existing(&self.db).unwrap();
        store
            .conn()
            .query_row("SELECT count(*) FROM people", [], |r| r.get(0))
            .unwrap()
    }
}

fn confirm_path(plan_page: &str) -> String {
    let at = plan_page
        .find("action=\"/console/imports/")
        .expect("a confirmation form")
        + 8;
    plan_page[at..at + plan_page[at..].find('"').unwrap()].to_string()
}

#[tokio::test]
async fn an_import_is_shown_then_confirmed_and_a_stale_one_refused() {
    let w = world();
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let before = w.people_count();
    let students = demo_export("ElevesSansAdresses.xml");
    let a = w.upload(&admin, &[("ElevesSansAdresses.xml", &students)]).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("Aperçu de l&#39;import"), "{}", a.body);
    assert!(a.body.contains("id=\"nouveaux\""), "{}", a.body);
    no_inline_script_or_style(&a.body);
    assert_eq!(w.people_count(), before, "the preview changes nothing");
    let first = confirm_path(&a.body);
    // A second preview of the same files, confirmed after the first one:
    // the directory changed meanwhile.
    let b = w.upload(&admin, &[("ElevesSansAdresses.xml", &students)]).await;
    let second = confirm_path(&b.body);
    assert_ne!(first, second);

    let csrf = w.csrf_of(&admin).await;
    let cookie = format!("{}={admin}", session::COOKIE);
    let done = w.post(&first, &cookie, &format!("csrf={csrf}")).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Import effectué"), "{}", done.body);
    let after = w.people_count();
    assert!(after > before + 10, "{before} -> {after}");
    // Used once.
    let again = w.post(&first, &cookie, &format!("csrf={csrf}")).await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("déjà servi"), "{}", again.body);
    let stale = w.post(&second, &cookie, &format!("csrf={csrf}")).await;
    assert_eq!(stale.status, 400);
    assert!(stale.body.contains("L&#39;annuaire a changé"), "{}", stale.body);
    assert_eq!(w.people_count(), after, "the stale plan changed nothing");
    // The history names who imported.
    let page = w.get("/console/imports", Some(&admin)).await;
    assert!(page.body.contains("<td>admin</td>"), "{}", page.body);
    assert!(page.body.contains("ElevesSansAdresses.xml"));
    // The same files again: nothing to do, no confirmation.
    let c = w.upload(&admin, &[("ElevesSansAdresses.xml", &students)]).await;
    assert!(c.body.contains("rien à faire"), "{}", c.body);
    assert!(!c.body.contains("action=\"/console/imports/"));
}

#[tokio::test]
async fn bad_import_files_get_a_french_message_and_change_nothing() {
    let w = world();
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let before = w.people_count();
    let students = demo_export("ElevesSansAdresses.xml");
    let truncated = &students[..students.len() / 2];
    let mut latin1_claimed_utf8 = String::from_utf8_lossy(&students).into_owned().into_bytes();
    latin1_claimed_utf8 = String::from_utf8(latin1_claimed_utf8)
        .unwrap()
        .replace("encoding=\"ISO-8859-15\"", "encoding=\"UTF-8\"")
        .into_bytes();
    // A Latin-1 byte in a file that says UTF-8.
    let pos = latin1_claimed_utf8.iter().position(|b| *b == b'<').unwrap() + 200;
    latin1_claimed_utf8.insert(pos, 0xe9);
    for (name, bytes) in [
        ("ElevesSansAdresses.xml", truncated),
        ("eleves.xml", &latin1_claimed_utf8[..]),
        ("export.zip", b"PK\x03\x04 not really a zip".as_slice()),
        ("vide.xml", b"<?xml version=\"1.0\"?><AUTRE/>".as_slice()),
    ] {
        let a = w.upload(&admin, &[(name, bytes)]).await;
        assert_eq!(a.status, 400, "{name}: {}", a.body);
        assert!(a.body.contains("ne peut pas être importé"), "{name}: {}", a.body);
        assert!(a.body.contains("Rien n&#39;a été modifié"));
        no_inline_script_or_style(&a.body);
    }
    // No file, no form token, not multipart.
    let a = w.upload(&admin, &[]).await;
    assert_eq!(a.status, 400);
    assert!(a.body.contains("au moins un fichier"), "{}", a.body);
    let (ct, body) = multipart("pas-le-bon", &[("e.xml", &students)]);
    let req = Request::post("/console/imports")
        .header(header::COOKIE, format!("{}={admin}", session::COOKIE))
        .header(header::CONTENT_TYPE, ct)
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))
        .unwrap();
    let a = w.send(req).await;
    assert_eq!(a.status, 403);
    assert!(a.body.contains("expiré"), "{}", a.body);
    let a = w
        .post(
            "/console/imports",
            &format!("{}={admin}", session::COOKIE),
            "csrf=x",
        )
        .await;
    assert_eq!(a.status, 400);
    assert!(a.body.contains("n&#39;a pas pu être lu"), "{}", a.body);
    // Too large.
    let big = vec![b' '; crate::modules::accounts::web::MAX_UPLOAD + 1];
    let a = w.upload(&admin, &[("gros.xml", &big)]).await;
    assert!(a.status == 400 || a.status == 413, "{}", a.status);
    assert!(
        a.body.contains("dépassent") || a.body.contains("trop volumineux"),
        "{}",
        a.body
    );
    // A teacher may not import (403), a student does not see it (404).
    let paul = w.sign_in("paul.blanc", PW).await.unwrap();
    assert_eq!(w.get("/console/imports", Some(&paul)).await.status, 403);
    assert_eq!(w.people_count(), before);
}

/// The dashboard warns of a firewall change waiting for its confirmation
/// (with its countdown) and of category lists older than a week.
#[tokio::test]
async fn dashboard_alerts_of_a_pending_firewall_change_and_old_lists() {
    let mut config = Config::default();
    config.modules.enabled = vec!["firewall".into(), "proxy".into()];
    let w = world_with(config);
    let state = w.db.parent().unwrap().to_path_buf();
    std::fs::create_dir_all(state.join("firewall")).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    std::fs::write(
        state.join("firewall/pending.json"),
        format!(
            r#"{{"token":"t","seconds":120,"deadline":{},"timer":"process"}}"#,
            now.as_secs() + 100
        ),
    )
    .unwrap();
    std::fs::create_dir_all(state.join("blacklists")).unwrap();
    let ten_days = now.as_nanos() - 10 * 86_400 * 1_000_000_000u128;
    std::fs::write(state.join("blacklists/.generation"), format!("{ten_days}\n")).unwrap();
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let a = w.get("/console", Some(&admin)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("attend sa confirmation"), "{}", a.body);
    assert!(a.body.contains("annulé dans 1 min"), "{}", a.body);
    assert!(a.body.contains("filtrage du proxy ont 10 jours"), "{}", a.body);
    // Confirmed (the file is gone): no more alert, at once.
    std::fs::remove_file(state.join("firewall/pending.json")).unwrap();
    let a = w.get("/console", Some(&admin)).await;
    assert!(!a.body.contains("attend sa confirmation"));
}

/// The logs: the proxy's connections searched and paged (bad input: a
/// French message beside the field, 400), the firewall's matrix with its
/// counters absent said plainly, the applies with their reports; only
/// for administrators.
#[tokio::test]
async fn logs_pages_search_page_and_refuse_bad_input() {
    let w = world();
    let state = w.db.parent().unwrap().to_path_buf();
    let root = state
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let logs = root.join("var/log/preau/proxy");
    std::fs::create_dir_all(&logs).unwrap();
    let mut day = String::new();
    for i in 0..120 {
        let e = crate::modules::proxy::log::Entry {
            time: format!("2026-11-28T10:{:02}:{:02}.000Z", i / 60, i % 60),
            source: format!("10.0.0.{}:4000{}", 10 + i % 3, i % 10),
            user: if i % 2 == 0 {
                "lea.martin".into()
            } else {
                "tom.roux".into()
            },
            method: "GET".into(),
            host: format!("site{}.example.test", i % 4),
            path: "/".into(),
            status: 200,
            decision: if i % 5 == 0 { "deny".into() } else { "allow".into() },
            category: if i % 5 == 0 { "adult".into() } else { String::new() },
            mode: "proxy".into(),
            ..Default::default()
        };
        day.push_str(&e.line());
    }
    std::fs::write(logs.join("2026-11-28.log"), day).unwrap();
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let a = w.get("/console/journaux", Some(&admin)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    no_inline_script_or_style(&a.body);
    assert_eq!(a.body.matches("<tr><td class=\"mono\">").count(), 50, "one page");
    assert!(a.body.contains("2026-11-28 10:01:59"), "newest first");
    assert!(a.body.contains("id=\"suivantes\""));
    let a = w
        .get(
            "/console/journaux?decision=deny&utilisateur=lea.martin&site=example.test&adresse=10.0.0.10",
            Some(&admin),
        )
        .await;
    // i even, i % 5 == 0, i % 3 == 0: i multiple of 30 → 4 entries.
    assert_eq!(a.body.matches("<tr><td class=\"mono\">").count(), 4, "{}", a.body);
    let a = w.get("/console/journaux?page=2", Some(&admin)).await;
    assert_eq!(a.body.matches("<tr><td class=\"mono\">").count(), 20);
    assert!(!a.body.contains("id=\"suivantes\""));
    let a = w
        .get(
            "/console/journaux?adresse=10.0.0&depuis=hier&site=%3Cb%3E",
            Some(&admin),
        )
        .await;
    assert_eq!(a.status, 400);
    assert!(a.body.contains("Une adresse IP"), "{}", a.body);
    assert!(a.body.contains("Une date AAAA-MM-JJ"));
    assert!(a.body.contains("Un nom de site"));
    assert!(!a.body.contains("<b>"), "escaped");
    let a = w.get("/console/journaux?page=99999", Some(&admin)).await;
    assert_eq!(a.status, 400);

    let f = w.get("/console/journaux/pare-feu", Some(&admin)).await;
    assert_eq!(f.status, 200, "{}", f.body);
    no_inline_script_or_style(&f.body);
    assert!(f.body.contains("qui peut joindre qui"));

    let mut store = Store::open(&w.db).unwrap();
    store
        .record_apply(
            "accounts",
            12,
            3,
            true,
            None,
            r#"{"steps":[{"module":"accounts","change":"~ update /etc/passwd","result":"done"}]}"#,
        )
        .unwrap();
    let m = w.get("/console/journaux/mises-en-oeuvre", Some(&admin)).await;
    assert_eq!(m.status, 200, "{}", m.body);
    assert!(m.body.contains("~ update /etc/passwd"), "{}", m.body);
    no_inline_script_or_style(&m.body);

    let paul = w.sign_in("paul.blanc", PW).await.unwrap();
    for p in [
        "/console/journaux",
        "/console/journaux/pare-feu",
        "/console/journaux/mises-en-oeuvre",
    ] {
        assert_eq!(w.get(p, Some(&paul)).await.status, 403, "{p}");
    }
}

/// With the accounts module on, a confirmed import is projected onto the
/// system through the engine's apply session, as `accounts import
/// --apply` does: here a temporary root, whose /etc/passwd gets the new
/// accounts and whose store records the apply.
#[tokio::test]
async fn a_confirmed_import_is_projected_onto_the_system() {
    let mut config = Config::default();
    config.modules.enabled = vec!["system".into(), "accounts".into()];
    let w = world_with(config);
    let root =
        w.db.parent()
            .unwrap()
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .to_path_buf();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    for (f, text) in [
        ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
        ("etc/group", "root:x:0:\nusers:x:100:\n"),
        ("etc/shadow", "root:*:19000:0:99999:7:::\n"),
        ("etc/gshadow", "root:*::\nusers:*::\n"),
    ] {
        std::fs::write(root.join(f), text).unwrap();
    }
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let students = demo_export("ElevesSansAdresses.xml");
    let a = w.upload(&admin, &[("ElevesSansAdresses.xml", &students)]).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let csrf = w.csrf_of(&admin).await;
    let cookie = format!("{}={admin}", session::COOKIE);
    let done = w
        .post(&confirm_path(&a.body), &cookie, &format!("csrf={csrf}"))
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body
            .contains("Comptes des ordinateurs (Unix et Samba) mis à jour"),
        "{}",
        done.body
    );
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    let store = Store::open_existing(&w.db).unwrap();
    let student = crate::directory::people(
        store.conn(),
        &crate::directory::Filter {
            kind: Some(Kind::Student),
            structure: Some("6A".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!student.is_empty());
    for p in &student {
        assert!(
            passwd.contains(&format!("{}:", p.login)),
            "{} not in /etc/passwd",
            p.login
        );
    }
    assert!(passwd.starts_with("root:"), "foreign entries kept");
    assert!(
        !store.recent_applies(1).unwrap().is_empty(),
        "the apply is recorded"
    );
}

/// Booking: the administrator adds resources; a teacher books the laptop
/// cart for his lesson from his timetable, every week over a period; a
/// conflict and bad input change nothing; the named manager approves a
/// request; students get 404; the iCalendar feed lists the bookings.
#[tokio::test]
async fn booking_for_a_lesson_from_the_timetable() {
    let w = world();
    let (store, _slot) = schoollog::with_timetable(&w);
    let config = Config::default();
    let count = |sql: &str| -> i64 { store.conn().query_row(sql, [], |r| r.get(0)).unwrap() };
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let csrf = w.csrf_of(&admin).await;
    let cookie = |t: &str| format!("{}={t}", session::COOKIE);
    let a = w
        .post(
            "/reservations",
            &cookie(&admin),
            &format!("csrf={csrf}&nom=Chariot+de+portables&type=equipment&quantite=16&enseignants=1"),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let a = w
        .post(
            "/reservations",
            &cookie(&admin),
            &format!("csrf={csrf}&nom=Salle+info&type=room&quantite=1&responsable=paul.blanc"),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    for (bad, says) in [
        ("nom=&type=room&quantite=1", "nom est obligatoire"),
        ("nom=X&type=room&quantite=1&responsable=personne", "Aucun compte"),
        ("nom=Salle+info&type=room&quantite=1", "déjà"),
    ] {
        let a = w
            .post("/reservations", &cookie(&admin), &format!("csrf={csrf}&{bad}"))
            .await;
        assert_eq!(a.status, 400, "{bad}");
        assert!(a.body.contains(says), "{bad}: {}", a.body);
    }
    assert_eq!(count("SELECT count(*) FROM booking_resources"), 2);

    let paul = w.sign_in("paul.blanc", PW).await.unwrap();
    let pcsrf = w.csrf_of(&paul).await;
    let page = w.get("/reservations/1?date=2026-11-30", Some(&paul)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    no_inline_script_or_style(&page.body);
    assert!(page.body.contains("Réserver pour ce cours"), "{}", page.body);
    let at = page.body.find("name=\"cours\" value=\"").unwrap() + 20;
    let slot: String = page.body[at..].chars().take_while(char::is_ascii_digit).collect();
    let a = w
        .post(
            "/reservations/1/reserver",
            &cookie(&paul),
            &format!("csrf={pcsrf}&date=2026-11-30&cours={slot}&quantite=16&jusqu_au=2026-12-14"),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(
        count(
            "SELECT count(*) FROM bookings WHERE status = 'confirmed' AND subject = 'MATHS' AND structure = '6A'"
        ),
        3
    );
    let page = w.get("/reservations/1?date=2026-12-07", Some(&paul)).await;
    assert!(
        page.body.contains("08:00–08:55") && page.body.contains("Paul"),
        "{}",
        page.body
    );
    // Taken: nothing more is booked, the page says why.
    let other_day = format!("date=2026-12-01&cours={slot}");
    for (form, says) in [
        ("date=2026-11-30&debut=08:30&fin=09:30", "déjà pris"),
        ("date=2026-11-30&debut=09:30&fin=08:30", "être après"),
        (other_day.as_str(), "pas dans votre emploi du temps"),
        (
            "date=2026-11-30&debut=10:00&fin=11:00&quantite=17",
            "la ressource en a 16",
        ),
    ] {
        let a = w
            .post(
                "/reservations/1/reserver",
                &cookie(&paul),
                &format!("csrf={pcsrf}&{form}"),
            )
            .await;
        assert_eq!(a.status, 400, "{form}: {}", a.body);
        assert!(a.body.contains(says), "{form}: {}", a.body);
    }
    assert_eq!(count("SELECT count(*) FROM bookings"), 3);
    let ics = w.get("/reservations/1/agenda.ics", Some(&paul)).await;
    assert_eq!(ics.status, 200);
    assert!(
        ics.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    assert!(ics.body.starts_with("BEGIN:VCALENDAR\r\n") && ics.body.matches("BEGIN:VEVENT").count() >= 1);

    // A private link for calendar apps: works without a session, a wrong
    // or replaced token is a 404, bad input changes nothing.
    let new_link = |who: String, csrf: String, action: &'static str| {
        let w = &w;
        async move {
            w.post(
                "/reservations/1/agenda",
                &format!("{}={who}", session::COOKIE),
                &format!("csrf={csrf}&action={action}"),
            )
            .await
        }
    };
    let token_of = |body: &str| -> String {
        let at = body.find("/reservations/agenda/").expect(body) + 21;
        body[at..].chars().take_while(|c| *c != '.').collect()
    };
    let page = w.get("/reservations/1", Some(&paul)).await;
    assert!(page.text().contains("Aucun lien pour l'instant"), "{}", page.body);
    let bad = new_link(paul.clone(), pcsrf.clone(), "autre").await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.contains("Choisissez « nouveau lien d&#39;abonnement »"),
        "{}",
        bad.body
    );
    assert_eq!(count("SELECT count(*) FROM booking_calendar_tokens"), 0);
    let made = new_link(paul.clone(), pcsrf.clone(), "nouveau").await;
    assert_eq!(made.status, 200, "{}", made.body);
    no_inline_script_or_style(&made.body);
    let old = token_of(&made.body);
    assert!(old.len() >= 40, "{old}");
    let feed = w.get(&format!("/reservations/agenda/{old}.ics"), None).await;
    assert_eq!(feed.status, 200, "{}", feed.body);
    assert!(feed.body.starts_with("BEGIN:VCALENDAR\r\n") && feed.body.contains("BEGIN:VEVENT"));
    assert!(
        feed.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    for wrong in [
        format!("/reservations/agenda/{}x.ics", &old[..old.len() - 1]),
        "/reservations/agenda/short.ics".to_string(),
        format!("/reservations/agenda/{old}"),
    ] {
        assert_eq!(w.get(&wrong, None).await.status, 404, "{wrong}");
    }
    assert_eq!(w.get("/reservations/1/agenda.ics", None).await.status, 303);
    let again = new_link(admin.clone(), csrf.clone(), "nouveau").await;
    assert_eq!(again.status, 200, "{}", again.body);
    let new = token_of(&again.body);
    assert_ne!(new, old);
    assert_eq!(
        w.get(&format!("/reservations/agenda/{old}.ics"), None)
            .await
            .status,
        404
    );
    assert_eq!(
        w.get(&format!("/reservations/agenda/{new}.ics"), None)
            .await
            .status,
        200
    );
    assert_eq!(count("SELECT count(*) FROM booking_calendar_tokens"), 1);
    let page = w.get("/reservations/1", Some(&paul)).await;
    assert!(page.body.contains("Lien actuel créé le") && !page.body.contains(&new));

    // A request for the room that paul manages waits for him.
    let a = w
        .post(
            "/reservations/2/reserver",
            &cookie(&admin),
            &format!("csrf={csrf}&date=2026-11-30&debut=14:00&fin=15:00"),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let pending: i64 = count("SELECT id FROM bookings WHERE status = 'pending'");
    let list = w.get("/reservations", Some(&paul)).await;
    assert!(list.body.contains("Demandes à valider"), "{}", list.body);
    let a = w
        .post(
            &format!("/reservations/demandes/{pending}/valider"),
            &cookie(&paul),
            &format!("csrf={pcsrf}&decision=accepter"),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(count("SELECT count(*) FROM bookings WHERE status = 'pending'"), 0);

    // Students see nothing of it; cancelling is the author's.
    let tom = w.sign_in("tom.roux", PW).await.unwrap();
    let tcsrf = w.csrf_of(&tom).await;
    assert_eq!(w.get("/reservations", Some(&tom)).await.status, 404);
    assert_eq!(w.get("/reservations/1", Some(&tom)).await.status, 404);
    let a = w
        .post(
            "/reservations/1/agenda",
            &cookie(&tom),
            &format!("csrf={tcsrf}&action=nouveau"),
        )
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(count("SELECT count(*) FROM booking_calendar_tokens"), 1);
    let a = w
        .post(
            "/reservations/1/reserver",
            &cookie(&tom),
            &format!("csrf={tcsrf}&date=2026-11-30&debut=10:00&fin=11:00"),
        )
        .await;
    assert_eq!(a.status, 404);
    let first: i64 = count("SELECT min(id) FROM bookings");
    let a = w
        .post(
            &format!("/reservations/demandes/{first}/annuler"),
            &cookie(&tom),
            &format!("csrf={tcsrf}"),
        )
        .await;
    assert_eq!(a.status, 404);
    let a = w
        .post(
            &format!("/reservations/demandes/{first}/annuler"),
            &cookie(&paul),
            &format!("csrf={pcsrf}"),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(
        count("SELECT count(*) FROM bookings WHERE status = 'cancelled'"),
        1
    );
    let audit = w.get("/console/journal?q=paul.blanc", Some(&admin)).await;
    assert!(audit.body.contains("réservation"), "{}", audit.body);
    assert!(
        audit.body.contains("lien d&#39;agenda d&#39;une ressource")
            || audit.body.contains("lien d&#x27;agenda d&#x27;une ressource"),
        "{}",
        audit.body
    );

    // Two daily samples of the shares' usage (what `preau serve` takes).
    let report = crate::modules::shares::usage::UsageReport {
        root: "/srv/preau".into(),
        root_exists: true,
        shares: vec![crate::modules::shares::usage::ShareUsage {
            share: "commun".into(),
            bytes: 3_000_000,
            files: 12,
        }],
        total_bytes: 3_000_000,
        people: Vec::new(),
        alerts: Vec::new(),
        alert_percent: 90,
    };
    assert_eq!(
        crate::modules::shares::usage::record_sample(store.conn(), "2026-12-01", &report).unwrap(),
        1
    );
    assert_eq!(
        crate::modules::shares::usage::record_sample(store.conn(), "2026-12-01", &report).unwrap(),
        0
    );
    assert!(crate::modules::shares::usage::sampled(store.conn(), "2026-12-01").unwrap());

    // A small connection log of the web filtering, in the test's log dir.
    let logs = w
        ._dir
        .path()
        .join(config.paths.log_dir.trim_start_matches('/'))
        .join("proxy");
    std::fs::create_dir_all(&logs).unwrap();
    let line = |time: &str, decision: &str, category: &str| {
        crate::modules::proxy::log::Entry {
            time: time.into(),
            host: "site.test".into(),
            status: 403,
            decision: decision.into(),
            category: category.into(),
            ..Default::default()
        }
        .line()
    };
    std::fs::write(
        logs.join("2026-11-30.log"),
        [
            line("2026-11-30T08:00:00.000Z", "allow", ""),
            line("2026-11-30T08:00:01.000Z", "deny", "jeux<b>"),
            line("2026-11-30T08:00:02.000Z", "deny", "jeux<b>"),
            line("2026-11-30T08:00:03.000Z", "deny", "adult"),
        ]
        .concat(),
    )
    .unwrap();
    std::fs::write(
        logs.join("2027-01-05.log"),
        line("2027-01-05T08:00:00.000Z", "deny", "outside"),
    )
    .unwrap();

    // The statistics show it, to the administration only.
    let stats = w
        .get("/console/statistiques?du=2026-11-01&au=2026-12-31", Some(&admin))
        .await;
    assert_eq!(stats.status, 200, "{}", stats.body);
    no_inline_script_or_style(&stats.body);
    for shown in [
        "Chariot de portables",
        "2026-W49",
        "6e",
        "Paul Blanc",
        "<svg",
        "&lt; 5",
        "Requêtes refusées par catégorie",
        "<td>jeux&#60;b&#62;</td><td>2</td>",
        "<td>adult</td><td>1</td>",
        "refusées : 3",
        "pas de personnes",
    ] {
        assert!(stats.body.contains(shown), "{shown}: {}", stats.body);
    }
    assert!(!stats.body.contains("outside") && !stats.body.contains("jeux<b>"));
    let csv = w
        .get(
            "/console/statistiques?du=2026-11-01&au=2026-12-31&format=csv&tableau=filtrage",
            Some(&admin),
        )
        .await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.body
            .starts_with("category,denied_requests\r\njeux<b>,2\r\nadult,1\r\n"),
        "{}",
        csv.body
    );
    let csv = w
        .get(
            "/console/statistiques?du=2026-11-01&au=2026-12-31&format=csv&tableau=niveaux",
            Some(&admin),
        )
        .await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.body
            .starts_with("level,bookings,cancellations,hours\r\n6e,2,1,"),
        "{}",
        csv.body
    );
    let json = w
        .get(
            "/console/statistiques?du=2026-11-01&au=2026-12-31&format=json",
            Some(&admin),
        )
        .await;
    let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(v["subjects"][0]["key"], "MATHS");
    assert_eq!(v["filtering"]["denied"], 3);
    assert_eq!(
        v["open_hours_per_week"], 40.0,
        "[booking] open_hours_per_week by default"
    );
    assert_eq!(v["filtering"]["denied_by_category"][0][0], "jeux<b>");
    assert_eq!(
        w.get("/console/statistiques?du=2026-12-31&au=2026-11-01", Some(&admin))
            .await
            .status,
        400
    );
    assert_eq!(w.get("/console/statistiques", Some(&paul)).await.status, 403);
    assert_eq!(w.get("/console/statistiques", Some(&tom)).await.status, 404);
}

/// The statistics page over the school year 2025-2026: with
/// `PREAU_BENCH_FULL=1`, 2,400 students and 150 teachers signing in three
/// days a week for 36 weeks (275,400 sign-ins in the audit log), 43,200
/// bookings of 30 resources for lessons, and the proxy's logs of 200
/// school days of `PREAU_BENCH_PROXY_LINES` lines each (default 200,000;
/// one in five denied over 12 categories); by default a tenth of the
/// people and 20 days of 2,000 lines. Prints the first load (which
/// summarises every day of the logs, as the daemon would have), the
/// median and worst of 7 page loads (through the router: guard, session,
/// queries, summaries, SVG, template) and of the CSV and JSON exports,
/// and the raw reading of one day's file (what today costs) and of the
/// whole year; asserts only that the page is right (bench/statistics.sh
/// runs it in release).
#[tokio::test]
async fn statistics_benchmark() {
    let full = std::env::var_os("PREAU_BENCH_FULL").is_some();
    let (students, teachers, weeks) = if full { (2400, 150, 36) } else { (240, 15, 4) };
    let env = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let proxy_days = if full { 200 } else { 20 };
    let proxy_lines = env("PREAU_BENCH_PROXY_LINES", if full { 200_000 } else { 2_000 });
    let w = world();
    let config = Config::default();
    let db = w
        ._dir
        .path()
        .join(config.paths.state_dir.trim_start_matches('/'))
        .join(crate::store::DB_FILE);
    let mut store = Store::open(&db).unwrap();
    // Monday 2025-09-08 00:00 UTC.
    const MON: i64 = 1_757_289_600;
    let t0 = std::time::Instant::now();
    store
        .write(|tx| {
            let mut logins = Vec::new();
            for i in 0..students + teachers {
                let kind = if i < students { Kind::Student } else { Kind::Teacher };
                let np = NewPerson {
                    kind: Some(kind),
                    source: "manual".into(),
                    first_name: "P".into(),
                    last_name: format!("N{i}"),
                    ..Default::default()
                };
                let login = format!("p{i}");
                insert_person(tx, &np, &login, None)?;
                logins.push(login);
            }
            let mut audit = tx.prepare(
                "INSERT INTO audit_log (at, actor, address, action, target, outcome)
                 VALUES (?1, ?2, '192.0.2.1', 'connexion', '', 'réussie')",
            )?;
            for week in 0..weeks {
                for day in [0, 2, 4] {
                    let t = crate::modules::viescolaire::calendar::DateTime::from_unix(
                        MON + (week * 7 + day) * 86400 + 8 * 3600,
                        0,
                    );
                    let at = format!("{}T{}:00Z", t.date, t.time);
                    let t = MON + (week * 7 + day) * 86400 + 8 * 3600;
                    for l in &logins {
                        audit.execute(rusqlite::params![at, l])?;
                        crate::booking::stats::record_sign_in(tx, l, t)?;
                    }
                }
            }
            let resources: Vec<i64> = (0..30)
                .map(|i| crate::booking::add_resource(tx, &format!("Ressource {i}"), "room", 1, None, true))
                .collect::<Result<_, _>>()?;
            let mut insert = tx.prepare(
                "INSERT INTO bookings (resource_id, login, starts, ends, quantity, status, created_at, subject, structure)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5, 0, ?6, ?7)",
            )?;
            let subjects = ["MATHS", "FRANC", "HIGEO", "SVT", "PHYCH", "TECHN", "ANGL1"];
            let classes = ["6A", "6B", "5A", "5B", "4A", "4B", "3A", "3B"];
            let mut n = 0usize;
            for r in &resources {
                for week in 0..weeks {
                    for day in 0..5 {
                        for slot in 0..8 {
                            let s = MON + (week * 7 + day) * 86400 + (8 + slot) * 3600;
                            n += 1;
                            let status = if n.is_multiple_of(10) { "cancelled" } else { "confirmed" };
                            insert.execute(rusqlite::params![
                                r,
                                format!("p{}", students + n % teachers),
                                s,
                                s + 3600,
                                status,
                                subjects[n % subjects.len()],
                                classes[n % classes.len()],
                            ])?;
                        }
                    }
                }
            }
            Ok::<_, anyhow::Error>(())
        })
        .unwrap();
    let filled = t0.elapsed();
    let sign_ins: i64 = store
        .conn()
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'connexion'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let bookings: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM bookings", [], |r| r.get(0))
        .unwrap();
    // The proxy's logs: one day's lines made once, each day's file the
    // same lines with its date; the school days are the weekdays from
    // 2025-09-01.
    let logs = w
        ._dir
        .path()
        .join(config.paths.log_dir.trim_start_matches('/'))
        .join("proxy");
    std::fs::create_dir_all(&logs).unwrap();
    let t1 = std::time::Instant::now();
    let (mut template, mut starts) = (Vec::new(), Vec::new());
    for i in 0..proxy_lines {
        starts.push(template.len());
        let e = crate::modules::proxy::log::Entry {
            time: format!(
                "0000-00-00T{:02}:{:02}:{:02}.000Z",
                8 + i % 10,
                i / 60 % 60,
                i % 60
            ),
            source: format!("10.0.{}.{}:51234", i % 4, i % 250),
            user: format!("p{}", i % students),
            method: "CONNECT".into(),
            host: format!("www.site{}.example", i % 500),
            status: if i % 5 == 0 { 403 } else { 200 },
            bytes_up: 420,
            bytes_down: 18_000,
            decision: if i % 5 == 0 { "deny" } else { "allow" }.into(),
            policy: "élèves".into(),
            category: if i % 5 == 0 {
                format!("cat{}", i % 12)
            } else {
                String::new()
            },
            mode: "connect".into(),
            ..Default::default()
        };
        template.extend_from_slice(e.line().as_bytes());
    }
    let mut day = crate::modules::proxy::log::days_from_civil(2025, 9, 1);
    let mut written = 0;
    while written < proxy_days {
        // 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays.
        if (day + 3).rem_euclid(7) < 5 {
            let name = crate::modules::proxy::log::day_name(day);
            for s in &starts {
                template[*s..*s + 10].copy_from_slice(name.as_bytes());
            }
            std::fs::write(logs.join(format!("{name}.log")), &template).unwrap();
            written += 1;
        }
        day += 1;
    }
    let generated = t1.elapsed();
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let range = "du=2025-09-01&au=2026-07-04";
    let mut figures = serde_json::Map::new();
    let denied = (proxy_days * proxy_lines.div_ceil(5)).to_string();
    {
        let t = std::time::Instant::now();
        let a = w
            .get(&format!("/console/statistiques?{range}"), Some(&admin))
            .await;
        figures.insert(
            "first_load_summarising_ms".into(),
            serde_json::json!((t.elapsed().as_secs_f64() * 10000.0).round() / 10.0),
        );
        assert_eq!(a.status, 200, "{}", a.body);
        assert!(a.body.contains(&format!("refusées : {denied}")), "{denied}");
        let summarised: i64 = store
            .conn()
            .query_row("SELECT count(*) FROM proxy_day_counts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(summarised, proxy_days as i64);
    }
    for (name, url) in [
        ("page", format!("/console/statistiques?{range}")),
        (
            "csv_sign_ins",
            format!("/console/statistiques?{range}&format=csv&tableau=connexions"),
        ),
        ("json", format!("/console/statistiques?{range}&format=json")),
    ] {
        let mut times = Vec::new();
        for _ in 0..7 {
            let t = std::time::Instant::now();
            let a = w.get(&url, Some(&admin)).await;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(a.status, 200, "{}", a.body);
            if name == "page" {
                assert!(a.body.contains("Ressource 29") && a.body.contains("2025-W37"));
                assert!(a.body.contains(&format!("refusées : {denied}")));
                assert!(
                    a.body
                        .contains(&format!("dont {proxy_days} par leurs totaux quotidiens"))
                );
            }
        }
        times.sort_by(f64::total_cmp);
        figures.insert(
            format!("{name}_median_ms"),
            serde_json::json!((times[3] * 10.0).round() / 10.0),
        );
        figures.insert(
            format!("{name}_max_ms"),
            serde_json::json!((times[6] * 10.0).round() / 10.0),
        );
    }
    // Where a page's time goes: each query of the report alone.
    {
        use crate::booking::stats::{self, Dimension};
        let (start, end) = (MON - 7 * 86400, MON + 45 * 7 * 86400);
        let conn = store.conn();
        let mut time = |name: &str, f: &mut dyn FnMut()| {
            let t = std::time::Instant::now();
            f();
            figures.insert(
                format!("{name}_ms"),
                serde_json::json!((t.elapsed().as_secs_f64() * 10000.0).round() / 10.0),
            );
        };
        time("q_weekly", &mut || {
            drop(stats::weekly(conn, start, end, 40.0).unwrap())
        });
        time("q_subjects", &mut || {
            drop(stats::grouped(conn, start, end, Dimension::Subject).unwrap())
        });
        time("q_levels", &mut || {
            drop(stats::grouped(conn, start, end, Dimension::Level).unwrap())
        });
        time("q_teachers", &mut || {
            drop(stats::grouped(conn, start, end, Dimension::Teacher).unwrap())
        });
        time("q_sign_ins", &mut || {
            drop(stats::sign_ins(conn, "2025-W36", "2026-W27").unwrap())
        });
        let first = crate::modules::proxy::log::days_from_civil(2025, 9, 1);
        let one = crate::modules::proxy::log::day_name(first);
        time("q_filtering_raw_one_day", &mut || {
            drop(crate::modules::proxy::log::filtering_counts(&logs, &one, &one, 1).unwrap())
        });
        time("q_filtering_raw_year", &mut || {
            drop(
                crate::modules::proxy::log::filtering_counts(&logs, "2025-09-01", "2026-07-04", 400).unwrap(),
            )
        });
    }
    // The page's filtering part alone: the year's summaries summed, with
    // the stamp of each day's file checked.
    {
        let t = std::time::Instant::now();
        let c = crate::modules::proxy::summary::filtering_counts(
            &mut store,
            &logs,
            "2025-09-01",
            "2026-07-04",
            400,
            crate::sso::now(),
        )
        .unwrap();
        figures.insert(
            "q_filtering_summaries_ms".into(),
            serde_json::json!((t.elapsed().as_secs_f64() * 10000.0).round() / 10.0),
        );
        assert_eq!(c.days_summarised as usize, proxy_days);
    }
    figures.insert("proxy_days".into(), proxy_days.into());
    figures.insert("proxy_lines_per_day".into(), proxy_lines.into());
    figures.insert(
        "proxy_mb".into(),
        serde_json::json!((proxy_days * template.len()) as u64 / 1_000_000),
    );
    figures.insert("proxy_generate_s".into(), serde_json::json!(generated.as_secs()));
    figures.insert("students".into(), students.into());
    figures.insert("teachers".into(), teachers.into());
    figures.insert("sign_ins".into(), sign_ins.into());
    figures.insert("bookings".into(), bookings.into());
    figures.insert("fill_s".into(), serde_json::json!(filled.as_secs()));
    println!("{}", serde_json::Value::Object(figures));
}

/// The portal's tiles: per role, with the health of each service checked
/// in the background (the first page does not wait for it).
#[tokio::test]
async fn portal_tiles_by_role_with_their_health() {
    use crate::web::tiles::{PortalSettings, Tile};
    let up = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up_port = up.local_addr().unwrap().port();
    tokio::spawn(async move {
        let app = axum::Router::new().route("/sante", axum::routing::get(|| async { "ok" }));
        axum::serve(up, app).await.unwrap();
    });
    let down_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let tile = |title: &str, roles: &[&str], health: String| Tile {
        title: title.into(),
        url: format!("https://{}.example/", title.to_lowercase()),
        description: format!("Le service {title}"),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        health_url: health,
    };
    let config = Config {
        portal: PortalSettings {
            tiles: vec![
                tile("ENT", &[], format!("http://127.0.0.1:{up_port}/sante")),
                tile("Pronote", &["teacher"], format!("http://127.0.0.1:{down_port}/")),
                tile("Intendance", &["admin", "direction"], String::new()),
            ],
        },
        ..Config::default()
    };
    let w = world_with(config);
    let paul = w.sign_in("paul.blanc", PW).await.unwrap();
    let first = w.get("/", Some(&paul)).await;
    assert_eq!(first.status, 200);
    no_inline_script_or_style(&first.body);
    assert!(first.body.contains("https://ent.example/") && first.body.contains("Pronote"));
    assert!(!first.body.contains("Intendance"));
    assert_eq!(first.body.matches("état inconnu").count(), 2, "{}", first.body);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let a = w.get("/", Some(&paul)).await;
        if a.body.contains("en service") && a.body.contains("indisponible") {
            assert!(!a.body.contains("état inconnu"));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", a.body);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let tom = w.sign_in("tom.roux", PW).await.unwrap();
    let a = w.get("/", Some(&tom)).await;
    assert!(a.body.contains("ENT") && !a.body.contains("Pronote") && !a.body.contains("Intendance"));
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let a = w.get("/", Some(&admin)).await;
    assert!(a.body.contains("Intendance") && !a.body.contains("Pronote"));
}

mod hostile;
mod languages;
mod languages_daily;
mod languages_term;
mod schoollog;

/// Classroom tools, rooms: a bad switch form is a French 400 and changes
/// nothing; an unknown room is a 404; a good one is stored, audited and
/// ended.
#[tokio::test]
async fn room_switches_validate_their_form_and_are_audited() {
    let mut config = Config::default();
    config.proxy.sources = vec![crate::modules::proxy::settings::SourceGroup {
        name: "salle-b12".into(),
        addresses: vec!["10.0.12.0/24".into()],
        rooms: vec!["B12".into()],
    }];
    let w = world_with(config);
    let token = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let csrf = w.csrf_of(&token).await;
    let cookie = format!("{}={token}", session::COOKIE);
    let page = w.get("/console/salles", Some(&token)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("salle-b12") && page.body.contains("Accès habituel"));
    no_inline_script_or_style(&page.body);
    let exams = |w: &World| {
        let db = w._dir.path().join("var/lib/preau/preau.db");
        let store = Store::open_existing(&db).unwrap();
        crate::modules::proxy::exams::active(store.conn(), 0).unwrap()
    };
    for bad in [
        "mode=coupe&duree=0",
        "mode=x&duree=10",
        "mode=coupe&duree=10&sites=a.test",
    ] {
        let a = w
            .post(
                "/console/salles/salle-b12",
                &cookie,
                &format!("{bad}&csrf={csrf}"),
            )
            .await;
        assert_eq!(a.status, 400, "{bad}");
        assert!(a.body.contains("Demande incorrecte"), "{}", a.body);
        assert!(exams(&w).is_empty(), "{bad}");
    }
    let a = w
        .post("/console/salles/salle-b12", &cookie, "mode=coupe&duree=10")
        .await;
    assert_eq!(a.status, 403, "no form token");
    assert!(exams(&w).is_empty());
    let a = w
        .post(
            "/console/salles/ailleurs",
            &cookie,
            &format!("mode=coupe&duree=10&csrf={csrf}"),
        )
        .await;
    assert_eq!(a.status, 404);
    let a = w
        .post(
            "/console/salles/salle-b12",
            &cookie,
            &format!("mode=coupe&duree=10&csrf={csrf}"),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.location(), "/console/salles?fait=coupe");
    let on = exams(&w);
    assert_eq!(on.len(), 1);
    assert_eq!(on[0].mode, crate::modules::proxy::policy::ExamMode::Off);
    assert_eq!(on[0].by, "admin");
    let page = w.get("/console/salles?fait=coupe", Some(&token)).await;
    assert!(page.body.contains("internet coupé jusqu"), "{}", page.body);
    let a = w
        .post("/console/salles/salle-b12/fin", &cookie, &format!("csrf={csrf}"))
        .await;
    assert_eq!(a.status, 303);
    assert!(exams(&w).is_empty());
    let journal = w.get("/console/journal", Some(&token)).await;
    assert!(
        journal.body.contains("internet coupé pendant 10 min")
            && journal.body.contains("fin : accès habituel"),
        "{}",
        journal.body
    );
    // The teacher has no lesson in B12: not his room (403 for staff).
    let paul = w.sign_in("paul.blanc", PW).await.unwrap();
    let paul_csrf = w.csrf_of(&paul).await;
    let a = w
        .post(
            "/console/salles/salle-b12",
            &format!("{}={paul}", session::COOKIE),
            &format!("mode=coupe&duree=10&csrf={paul_csrf}"),
        )
        .await;
    assert_eq!(a.status, 403);
    assert!(exams(&w).is_empty());
    let page = w.get("/console/salles", Some(&paul)).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("salle-b12"));
}

/// Classroom tools, "until the end of the lesson": offered only for the
/// room of the teacher's current lesson, it ends the override with the
/// lesson (from the timetable); asked for a room where he has no lesson
/// now, it is a French 400 and nothing is stored.
#[tokio::test]
async fn a_teacher_switches_his_room_until_the_end_of_his_lesson() {
    use crate::modules::proxy::settings::SourceGroup;
    use crate::modules::viescolaire::calendar::{DAY_NAMES, DateTime, Time};
    let mut config = Config::default();
    config.proxy.sources = vec![
        SourceGroup {
            name: "salle-b12".into(),
            addresses: vec!["10.0.12.0/24".into()],
            rooms: vec!["B12".into()],
        },
        SourceGroup {
            name: "salle-b14".into(),
            addresses: vec!["10.0.14.0/24".into()],
            rooms: vec!["B14".into()],
        },
    ];
    let w = world_with(config);
    // A year around today; Paul teaches in B12 now, in B14 another day.
    let now = DateTime::now_local();
    let starts = Time::from_minutes(now.time.minutes().saturating_sub(5));
    let ends = Time::from_minutes((now.time.minutes() + 30).min(23 * 60 + 59));
    let db = w._dir.path().join("var/lib/preau/preau.db");
    let mut store = Store::open(&db).unwrap();
    let (first, last) = (now.date.add_days(-100), now.date.add_days(100));
    let id = store
        .write(|tx| crate::modules::viescolaire::queries::set_year(tx, "année", first, last, &[]))
        .unwrap();
    let year = crate::modules::viescolaire::queries::Year {
        id,
        label: "année".into(),
        starts: first,
        ends: last,
    };
    let today = DAY_NAMES[usize::from(now.date.weekday() - 1)];
    let other = DAY_NAMES[usize::from(now.date.weekday() % 7)];
    let csv = format!(
        "teacher;subject;class;day;start;end;room\npaul.blanc;MATHS;6A;{today};{starts};{ends};B12\npaul.blanc;MATHS;6A;{other};08:00;08:55;B14\n"
    );
    crate::modules::viescolaire::import::timetable(
        &mut store,
        &year,
        "t.csv",
        csv.as_bytes(),
        crate::modules::viescolaire::import::Format::Csv,
        first,
    )
    .unwrap();
    let exams = || crate::modules::proxy::exams::active(store.conn(), 0).unwrap();
    let paul = w.sign_in("paul.blanc", PW).await.unwrap();
    let csrf = w.csrf_of(&paul).await;
    let cookie = format!("{}={paul}", session::COOKIE);
    let page = w.get("/console/salles", Some(&paul)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    no_inline_script_or_style(&page.body);
    assert!(
        page.body.contains("salle-b12") && page.body.contains("salle-b14"),
        "{}",
        page.body
    );
    assert_eq!(
        page.body.matches("value=\"fin-cours\"").count(),
        1,
        "{}",
        page.body
    );
    assert!(
        page.text().contains(&format!("Jusqu'à la fin du cours ({ends})")),
        "{}",
        page.body
    );
    assert!(page.body.contains("id=\"fin-cours-salle-b12\""), "{}", page.body);
    // No lesson in B14 now.
    let a = w
        .post(
            "/console/salles/salle-b14",
            &cookie,
            &format!("mode=coupe&quand=fin-cours&csrf={csrf}"),
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(
        a.body.contains("pas de cours en ce moment dans cette salle"),
        "{}",
        a.body
    );
    assert!(exams().is_empty());
    let a = w
        .post(
            "/console/salles/salle-b12",
            &cookie,
            &format!("mode=examen&quand=fin-cours&duree=&csrf={csrf}"),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let on = exams();
    assert_eq!(on.len(), 1);
    let unix = crate::modules::firewall::room_cut::now_unix();
    let expected = crate::modules::proxy::rooms::until_end(unix, DateTime::now_local(), ends);
    assert!(
        (on[0].until - expected).abs() <= 60,
        "{} vs {expected}",
        on[0].until
    );
    assert!(on[0].until > unix);
    assert_eq!(on[0].mode, crate::modules::proxy::policy::ExamMode::Whitelist);
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let journal = w.get("/console/journal", Some(&admin)).await;
    assert!(
        journal
            .body
            .contains(&format!("jusqu&#39;à la fin du cours ({ends})"))
            || journal
                .body
                .contains(&format!("jusqu'à la fin du cours ({ends})")),
        "{}",
        journal.body
    );
}

/// An enrolled administrator's password alone gives no session: a pending
/// sign-in (its own cookie) that only a right code turns into one.
#[tokio::test]
async fn an_enrolled_admin_gets_a_session_only_with_a_code() {
    let w = world();
    let db = w._dir.path().join("var/lib/preau/preau.db");
    let now = session::now();
    let secret = {
        let mut store = Store::open_existing(&db).unwrap();
        let secret = totp::begin(&mut store, "admin", now).unwrap().unwrap();
        let code = format!("{:06}", totp::hotp(&secret, (totp::step_of(now) - 1) as u64, 6));
        totp::confirm(&mut store, "admin", &code, now).unwrap().unwrap();
        secret
    };
    let form = w.get("/connexion", None).await;
    let csrf = cookie_value(&form.cookie(csrf::SIGNIN_COOKIE).unwrap());
    let a = w
        .post(
            "/connexion",
            &format!("{}={csrf}", csrf::SIGNIN_COOKIE),
            &format!("login=admin&password={ADMIN_PW}&csrf={csrf}&suite=%2Fconsole"),
        )
        .await;
    assert_eq!(a.status, 303);
    assert_eq!(a.location(), "/connexion/code?suite=%2Fconsole");
    assert!(a.cookie(session::COOKIE).is_none(), "no session before the code");
    let pending = cookie_value(&a.cookie(totp::COOKIE).unwrap());
    for flag in ["Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(a.cookie(totp::COOKIE).unwrap().contains(flag));
    }
    let cookies = format!("{}={csrf}; {}={pending}", csrf::SIGNIN_COOKIE, totp::COOKIE);
    // Without the pending cookie: back to the password.
    let a = w.get("/connexion/code", None).await;
    assert_eq!((a.status, a.location()), (303, "/connexion"));
    // Bad input: French messages, no session.
    let long = "9".repeat(40);
    for (code, status) in [("", 400), (long.as_str(), 400), ("000000", 401)] {
        let a = w
            .post("/connexion/code", &cookies, &format!("code={code}&csrf={csrf}"))
            .await;
        assert_eq!(a.status, status, "{code}: {}", a.body);
        assert!(a.cookie(session::COOKIE).is_none());
        assert!(a.body.contains("code"), "{}", a.body);
    }
    let a = w.post("/connexion/code", &cookies, "code=000000").await;
    assert_eq!(a.status, 403, "no form token");
    let code = format!("{:06}", totp::hotp(&secret, totp::step_of(now) as u64, 6));
    let a = w
        .post(
            "/connexion/code",
            &cookies,
            &format!("code={code}&csrf={csrf}&suite=%2Fconsole"),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.location(), "/console");
    let token = cookie_value(&a.cookie(session::COOKIE).unwrap());
    assert_eq!(w.get("/console", Some(&token)).await.status, 200);
    // The pending sign-in is used up.
    let a = w
        .post("/connexion/code", &cookies, &format!("code={code}&csrf={csrf}"))
        .await;
    assert_eq!((a.status, a.location()), (303, "/connexion"));
    // Only administrators manage a second factor.
    let paul = w.sign_in("paul.blanc", PW).await.unwrap();
    assert_eq!(w.get("/console/securite", Some(&paul)).await.status, 403);
    let page = w.get("/console/securite", Some(&token)).await;
    assert!(page.body.contains("restants : 10"), "{}", page.body);
    no_inline_script_or_style(&page.body);
}

/// Classroom tools, homework: a teacher of 6A uploads two files from the
/// class page; they land in each student's `devoirs/` (real files under
/// the shares' root, through the shares module), the status page follows
/// the copy (handed out, modified, collected, returned); bad forms are
/// French 400s that change nothing; another class is refused. Every
/// account is the test user here (the copying rules and owners are
/// checked by the shares module's own tests and tests/shares.rs).
#[tokio::test]
async fn a_teacher_hands_out_collects_and_returns_homework() {
    let w = world();
    let root = w._dir.path().to_path_buf();
    let uid = nix::unistd::getuid().as_raw();
    let gid = nix::unistd::getgid().as_raw();
    let mut passwd = String::new();
    for login in ["paul.blanc", "lea.martin", "tom.roux"] {
        passwd.push_str(&format!("{login}:x:{uid}:{gid}::/:/bin/sh\n"));
        std::fs::create_dir_all(root.join("srv/preau/perso").join(login)).unwrap();
    }
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/passwd"), passwd).unwrap();
    let paul = w.sign_in("paul.blanc", PW).await.unwrap();
    let csrf = w.csrf_of(&paul).await;
    let cookie = format!("{}={paul}", session::COOKIE);
    let class = w.get("/console/classe/6A", Some(&paul)).await;
    assert!(
        class.body.contains("enctype=\"multipart/form-data\""),
        "{}",
        class.body
    );
    no_inline_script_or_style(&class.body);
    let upload = |csrf: &str, name: &str, files: &[(&str, &str)]| {
        let b = "----preau-test-boundary";
        let mut body = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{b}\r\nContent-Disposition: form-data; name=\"nom\"\r\n\r\n{name}\r\n"
        );
        for (f, content) in files {
            body.push_str(&format!(
                "--{b}\r\nContent-Disposition: form-data; name=\"fichiers\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n{content}\r\n"
            ));
        }
        body.push_str(&format!("--{b}--\r\n"));
        Request::post("/console/classe/6A/devoirs")
            .header(header::COOKIE, cookie.clone())
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={b}"))
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(body))
            .unwrap()
    };
    let lea_copy = root.join("srv/preau/perso/lea.martin/devoirs/dm1");
    // Bad forms: nothing handed out.
    for (token, name, files) in [
        (csrf.as_str(), "../x", vec![("a.txt", "a")]),
        (csrf.as_str(), "dm1", vec![]),
        (csrf.as_str(), "dm1", vec![(".cache", "a")]),
        ("wrong", "dm1", vec![("a.txt", "a")]),
    ] {
        let a = w.send(upload(token, name, &files)).await;
        assert_eq!(
            a.status,
            if token == "wrong" { 403 } else { 400 },
            "{name} {files:?}: {}",
            a.body
        );
        assert!(a.body.contains(if token == "wrong" {
            "Accès refusé"
        } else {
            "Demande incorrecte"
        }));
        assert!(!lea_copy.exists());
    }
    // Not multipart at all: a French 400 too.
    let a = w
        .post(
            "/console/classe/6A/devoirs",
            &cookie,
            &format!("csrf={csrf}&nom=dm1"),
        )
        .await;
    assert_eq!(a.status, 400);
    assert!(a.body.contains("pas pu être lu"), "{}", a.body);
    // Too large: 413, nothing written.
    let big = "x".repeat(crate::modules::shares::web::MAX_UPLOAD + 1);
    let a = w.send(upload(&csrf, "dm1", &[("gros.bin", &big)])).await;
    assert_eq!(a.status, 413);
    assert!(!lea_copy.exists());
    // Another class: refused (not his).
    let mut other = upload(&csrf, "dm1", &[("a.txt", "a")]);
    *other.uri_mut() = "/console/classe/5B/devoirs".parse().unwrap();
    assert_eq!(w.send(other).await.status, 403);

    let a = w
        .send(upload(
            &csrf,
            "dm1",
            &[("sujet.txt", "Sujet\n"), ("annexe.txt", "Annexe\n")],
        ))
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.location(), "/console/classe/6A/devoirs/dm1?fait=distribue");
    assert_eq!(
        std::fs::read_to_string(lea_copy.join("sujet.txt")).unwrap(),
        "Sujet\n"
    );
    assert!(lea_copy.join("annexe.txt").is_file());
    assert!(
        !root.join("srv/preau/perso/tom.roux/devoirs").exists(),
        "5B untouched"
    );
    let state = |body: &str| {
        let at = body.find("data-copie=\"").expect("a row") + 12;
        body[at..at + body[at..].find('"').unwrap()].to_string()
    };
    let page = w.get("/console/classe/6A/devoirs/dm1", Some(&paul)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(state(&page.body), "handed_out");
    no_inline_script_or_style(&page.body);
    // The student works on it.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(lea_copy.join("sujet.txt"), "Sujet\nMa réponse\n").unwrap();
    let page = w.get("/console/classe/6A/devoirs/dm1", Some(&paul)).await;
    assert_eq!(state(&page.body), "modified");
    let a = w
        .post(
            "/console/classe/6A/devoirs/dm1/ramasser",
            &cookie,
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.body);
    let collected = root.join("srv/preau/perso/paul.blanc/devoirs/ramasses/dm1/lea.martin/sujet.txt");
    assert_eq!(
        std::fs::read_to_string(&collected).unwrap(),
        "Sujet\nMa réponse\n"
    );
    let page = w.get("/console/classe/6A/devoirs/dm1", Some(&paul)).await;
    assert_eq!(state(&page.body), "collected");
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&collected, "Sujet\nMa réponse\nBien.\n").unwrap();
    let a = w
        .post(
            "/console/classe/6A/devoirs/dm1/rendre",
            &cookie,
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(a.status, 303);
    assert_eq!(
        std::fs::read_to_string(lea_copy.join("corrige/sujet.txt")).unwrap(),
        "Sujet\nMa réponse\nBien.\n"
    );
    let page = w.get("/console/classe/6A/devoirs/dm1", Some(&paul)).await;
    assert_eq!(state(&page.body), "returned");
    assert!(page.body.contains("rendu corrigé"));
    // Without the form token: nothing.
    let a = w.post("/console/classe/6A/devoirs/dm1/rendre", &cookie, "").await;
    assert_eq!(a.status, 403);
    // The class page lists it; the journal has each step.
    let class = w.get("/console/classe/6A", Some(&paul)).await;
    assert!(class.body.contains("/console/classe/6A/devoirs/dm1"));
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let journal = w.get("/console/journal", Some(&admin)).await;
    for what in ["devoir distribué", "devoir ramassé", "devoir rendu"] {
        assert!(journal.body.contains(what), "{what}");
    }
    // A student cannot reach it.
    let tom_page = {
        let tom = w.sign_in("tom.roux", PW).await.unwrap();
        w.get("/console/classe/6A/devoirs/dm1", Some(&tom)).await
    };
    assert_eq!(tom_page.status, 404);
}

/// Self-service: the portal shows the signed-in person's own share usage
/// and quota; the person's page shows it to the administrator.
#[tokio::test]
async fn the_portal_and_the_person_page_show_share_usage_and_quota() {
    let mut config = Config::default();
    config.modules.enabled = vec!["accounts".into(), "shares".into()];
    let w = world_with(config);
    let home = w._dir.path().join("srv/preau/perso/tom.roux");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join("expose.odt"), vec![b'x'; 3 * 1024 * 1024]).unwrap();
    let tom = w.sign_in("tom.roux", PW).await.unwrap();
    let portal = w.get("/", Some(&tom)).await;
    assert!(portal.body.contains("Mon espace de fichiers"), "{}", portal.body);
    assert!(
        portal.body.contains("3.0 Mio utilisés sur 500.0 Mio (0 %)"),
        "{}",
        portal.body
    );
    // A parent has no personal share: no line.
    let anne = w.sign_in("anne.martin", PW).await.unwrap();
    assert!(
        !w.get("/", Some(&anne))
            .await
            .body
            .contains("Mon espace de fichiers")
    );
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let page = w.get("/console/personnes/tom.roux", Some(&admin)).await;
    assert!(
        page.body.contains("Espace de fichiers") && page.body.contains("3.0 Mio"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Dernière connexion"));
}

/// The class's login slips as CSV: the same data as the printed page, a
/// selection of students, refused for another class, audited.
#[tokio::test]
async fn class_slips_as_csv_whole_or_a_selection() {
    let w = world();
    let paul = w.sign_in("paul.blanc", PW).await.unwrap();
    let a = w.get("/console/classes/6A/fiches.csv", Some(&paul)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(
        a.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("fiches-6A.csv")
    );
    let lines: Vec<&str> = a.body.lines().collect();
    assert_eq!(lines[0], "classe;nom;prenom;identifiant;mot_de_passe");
    assert_eq!(lines.len(), 2, "{}", a.body);
    assert!(lines[1].starts_with("6A;Martin;Léa;lea.martin;"), "{}", a.body);
    let html = w.get("/console/classes/6A/fiches", Some(&paul)).await;
    let pw = lines[1].rsplit(';').next().unwrap();
    assert!(
        !pw.is_empty() && html.body.contains(pw),
        "same password as the printed slip"
    );
    let a = w
        .get("/console/classes/6A/fiches.csv?eleves=lea.martin", Some(&paul))
        .await;
    assert_eq!(a.body.lines().count(), 2);
    let a = w
        .get("/console/classes/6A/fiches.csv?eleves=tom.roux", Some(&paul))
        .await;
    assert_eq!(a.status, 400);
    assert!(a.body.contains("n&#39;est pas un élève"), "{}", a.body);
    assert_eq!(
        w.get("/console/classes/5B/fiches.csv", Some(&paul)).await.status,
        403
    );
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    assert!(
        w.get("/console/journal", Some(&admin))
            .await
            .body
            .contains("fiches de connexion (CSV)")
    );
}

/// Error pages (404, 403, 400, 413, and the 500 page) are French and,
/// for a visitor who is not signed in, carry no navigation of a
/// signed-in person.
#[tokio::test]
async fn error_pages_are_french_without_navigation_when_not_signed_in() {
    let w = world();
    let mut answers = vec![
        (w.get("/nulle-part", None).await, 404, "Page introuvable"),
        (
            w.post("/connexion", "", "login=a&password=b").await,
            403,
            "Connexion",
        ),
    ];
    let cross = Request::post("/deconnexion")
        .header(header::ORIGIN, "https://evil.test")
        .header(header::HOST, "preau.lan")
        .body(Body::empty())
        .unwrap();
    answers.push((w.send(cross).await, 403, "Accès refusé"));
    let big = Request::post("/connexion")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(vec![b'a'; forms::MAX_BODY + 10]))
        .unwrap();
    answers.push((w.send(big).await, 413, "Envoi trop volumineux"));
    for (a, status, says) in &answers {
        assert_eq!(a.status, *status, "{}", a.body);
        assert!(a.body.contains(says), "{says}: {}", a.body);
        assert!(a.body.contains("<html lang=\"fr\">"));
        assert!(!a.body.contains("<nav"), "no navigation: {}", a.body);
        assert!(!a.body.contains("Se déconnecter"));
        no_inline_script_or_style(&a.body);
    }
    let page = errors::page(StatusCode::INTERNAL_SERVER_ERROR, None);
    let body = String::from_utf8_lossy(&page.into_body().collect().await.unwrap().to_bytes()).into_owned();
    assert!(
        body.contains("Erreur du serveur") && !body.contains("<nav"),
        "{body}"
    );
}

/// The catalogue: French by default, English for a browser asking for it
/// or after the switch (a cookie), on the sign-in, portal and error pages.
#[tokio::test]
async fn pages_follow_accept_language_and_the_language_switch() {
    let w = world();
    let fr = w.get("/connexion", None).await;
    assert!(fr.body.contains("<html lang=\"fr\">") && fr.body.contains("Se connecter"));
    let en = w
        .send(
            Request::get("/connexion")
                .header(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9,fr;q=0.5")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(
        en.body.contains("<html lang=\"en\">") && en.body.contains(">Sign in</button>"),
        "{}",
        en.body
    );
    no_inline_script_or_style(&en.body);
    let missing = w
        .send(
            Request::get("/nulle-part")
                .header(header::ACCEPT_LANGUAGE, "en")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("Page not found"));
    // The switch: a cookie, back to the page it came from.
    let req = Request::post("/langue")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .header(header::REFERER, "https://preau.lan/connexion?suite=%2F")
        .body(Body::from("langue=en"))
        .unwrap();
    let a = w.send(req).await;
    assert_eq!(a.status, 303);
    assert_eq!(a.location(), "/connexion?suite=%2F");
    let set = a.cookie(i18n::COOKIE).unwrap();
    assert!(set.contains("Secure") && set.contains("HttpOnly"));
    let token = w.sign_in("paul.blanc", PW).await.unwrap();
    let portal = w
        .send(
            Request::get("/")
                .header(
                    header::COOKIE,
                    format!("{}={token}; {}=en", session::COOKIE, i18n::COOKIE),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(
        portal.body.contains("Hello Paul") && portal.body.contains("My classes"),
        "{}",
        portal.body
    );
    let a = w.post("/langue", "", "langue=klingon").await;
    assert_eq!(a.status, 400);
    // A cross-site switch is refused like every cross-site form.
    let req = Request::post("/langue")
        .header(header::ORIGIN, "https://evil.test")
        .header(header::HOST, "preau.lan")
        .body(Body::from("langue=en"))
        .unwrap();
    assert_eq!(w.send(req).await.status, 403);
}

/// The configuration file of a world (its temporary root), written.
fn write_config(w: &World, text: &str) -> PathBuf {
    let root = w._dir.path();
    let path = root.join("etc/preau/preau.toml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

const SETTINGS_FILE: &str = "# Préau's configuration\n[establishment]\nuai = \"0999999X\"\nname = \"Collège des Tilleuls\" # shown on the pages\nhostname = \"scribe\"\ndomain = \"tilleuls.lan\"\n";

/// Issue 10: the settings of a section, checked like `preau check`:
/// a wrong value gets its French error beside its field and nothing is
/// written; only administrators see the pages.
#[tokio::test]
async fn settings_refuse_bad_values_beside_their_field_and_write_nothing() {
    let w = world();
    let path = write_config(&w, SETTINGS_FILE);
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let list = w.get("/console/reglages", Some(&admin)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body.contains("href=\"/console/reglages/viescolaire\""),
        "{}",
        list.body
    );
    assert!(list.body.contains("Vie scolaire"));
    no_inline_script_or_style(&list.body);
    let form = w.get("/console/reglages/viescolaire", Some(&admin)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body
            .contains("name=\"f.alert_half_days\" id=\"f.alert_half_days\" value=\"4\""),
        "{}",
        form.body
    );
    assert!(
        form.body.contains("<select name=\"f.rounding_step\""),
        "{}",
        form.body
    );
    assert!(form.body.contains("<textarea name=\"f.attachment_types\""));
    assert!(form.body.contains("type=\"checkbox\" name=\"f.quiet_weekends\""));
    no_inline_script_or_style(&form.body);
    let fw = w.get("/console/reglages/firewall", Some(&admin)).await;
    assert!(fw.body.contains("lecture seule"), "{}", fw.body);
    assert_eq!(
        w.get("/console/reglages/nonesuch", Some(&admin)).await.status,
        404
    );
    let csrf = w.csrf_of(&admin).await;
    let cookie = format!("{}={admin}", session::COOKIE);
    // A value that is not a number.
    let a = w
        .post(
            "/console/reglages/viescolaire",
            &cookie,
            &format!("csrf={csrf}&f.alert_half_days=beaucoup&f.noon=12%3A00"),
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.body);
    a.body
        .find("id=\"erreur-alert_half_days\"")
        .expect("error beside the field");
    let body = a.text();
    let beside = body.find("id=\"erreur-alert_half_days\"").unwrap();
    assert!(
        body[beside..].starts_with(
            "id=\"erreur-alert_half_days\" role=\"alert\">« beaucoup » n'est pas un nombre entier"
        ),
        "{}",
        &body[beside..]
    );
    assert!(
        a.text().contains("value=\"beaucoup\""),
        "what was sent is shown again"
    );
    assert!(a.text().contains("rien n'a été enregistré"));
    // A value the validator refuses (semantic): beside its field too.
    let a = w
        .post(
            "/console/reglages/establishment",
            &cookie,
            &format!("csrf={csrf}&f.uai=12&f.name=X"),
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.body);
    let at = a.body.find("id=\"erreur-uai\"").expect("error beside uai");
    assert!(
        a.body[at..].contains("Refusé par la vérification (preau check)"),
        "{}",
        &a.body[at..]
    );
    // A wrong form token changes nothing either.
    let a = w
        .post("/console/reglages/establishment", &cookie, "csrf=nope&f.name=X")
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), SETTINGS_FILE);
    // Nobody but an administrator.
    let paul = w.sign_in("paul.blanc", PW).await.unwrap();
    assert_eq!(w.get("/console/reglages", Some(&paul)).await.status, 403);
    let anne = w.sign_in("anne.martin", PW).await.unwrap();
    assert_eq!(
        w.get("/console/reglages/establishment", Some(&anne)).await.status,
        404
    );
    let anne_csrf = w.csrf_of(&anne).await;
    let a = w
        .post(
            "/console/reglages/establishment",
            &format!("{}={anne}", session::COOKIE),
            &format!("csrf={anne_csrf}&f.name=Pirate"),
        )
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), SETTINGS_FILE);
}

/// Issue 10: valid values show the plan and an "Appliquer" carrying a
/// token; applying writes the file (comments kept, mode kept), runs the
/// engine's apply session (recorded) and is audited; a token serves once.
#[tokio::test]
async fn settings_valid_values_show_the_plan_then_apply_writes_the_file() {
    use std::os::unix::fs::PermissionsExt;
    let w = world();
    let path = write_config(&w, SETTINGS_FILE);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let csrf = w.csrf_of(&admin).await;
    let cookie = format!("{}={admin}", session::COOKIE);
    let unchanged = w
        .post(
            "/console/reglages/establishment",
            &cookie,
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(unchanged.status, 200, "{}", unchanged.body);
    assert!(unchanged.text().contains("Aucun réglage n'a changé"));
    let plan = w
        .post(
            "/console/reglages/establishment",
            &cookie,
            &format!("csrf={csrf}&f.name=Lyc%C3%A9e+Jean+Moulin"),
        )
        .await;
    assert_eq!(plan.status, 200, "{}", plan.body);
    assert!(plan.text().contains("id=\"plan\""), "{}", plan.body);
    assert!(plan.text().contains("Lycée Jean Moulin"));
    assert!(plan.text().contains("id=\"appliquer\""));
    no_inline_script_or_style(&plan.body);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        SETTINGS_FILE,
        "nothing written before Appliquer"
    );
    let at = plan.body.find("name=\"jeton\" value=\"").unwrap() + 20;
    let token = &plan.body[at..at + plan.body[at..].find('"').unwrap()];
    let done = w
        .post(
            "/console/reglages/establishment/appliquer",
            &cookie,
            &format!("csrf={csrf}&jeton={token}"),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.text().contains("Configuration enregistrée"), "{}", done.body);
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        written,
        SETTINGS_FILE.replace("Collège des Tilleuls", "Lycée Jean Moulin")
    );
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777,
        0o640
    );
    let store = Store::open_existing(&w.db).unwrap();
    assert!(
        !store.recent_applies(1).unwrap().is_empty(),
        "the apply is recorded"
    );
    let audit = w.get("/console/journal?q=r%C3%A9glages", Some(&admin)).await;
    assert!(audit.body.contains("appliqué"), "{}", audit.body);
    // The token served once.
    let again = w
        .post(
            "/console/reglages/establishment/appliquer",
            &cookie,
            &format!("csrf={csrf}&jeton={token}"),
        )
        .await;
    assert_eq!(again.status, 400);
    assert!(again.text().contains("Ce plan a expiré ou a déjà servi"));
    // A plan made before the file changed is refused.
    let plan = w
        .post(
            "/console/reglages/establishment",
            &cookie,
            &format!("csrf={csrf}&f.name=Autre"),
        )
        .await;
    let at = plan.body.find("name=\"jeton\" value=\"").unwrap() + 20;
    let token = plan.body[at..at + plan.body[at..].find('"').unwrap()].to_string();
    std::fs::write(&path, SETTINGS_FILE).unwrap();
    let stale = w
        .post(
            "/console/reglages/establishment/appliquer",
            &cookie,
            &format!("csrf={csrf}&jeton={token}"),
        )
        .await;
    assert_eq!(stale.status, 400);
    assert!(stale.text().contains("a changé depuis le plan"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), SETTINGS_FILE);
}

/// Issue 10: after a successful apply of settings the running server
/// re-reads its configuration (the hook `preau serve` gives: its SIGHUP
/// path); the page and the audit log say so, and a refused reload says
/// why. A failed apply does not reload.
#[tokio::test]
async fn settings_applied_have_the_running_server_reload() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    for answer in [Ok(()), Err("line 3: broken".to_string())] {
        let calls = Arc::new(AtomicUsize::new(0));
        let (c, a) = (calls.clone(), answer.clone());
        let w = world_made(Config::default(), move |web| {
            web.with_reload(move || {
                c.fetch_add(1, Ordering::SeqCst);
                a.clone()
            })
        });
        write_config(&w, SETTINGS_FILE);
        let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
        let csrf = w.csrf_of(&admin).await;
        let cookie = format!("{}={admin}", session::COOKIE);
        let plan = w
            .post(
                "/console/reglages/establishment",
                &cookie,
                &format!("csrf={csrf}&f.name=Lyc%C3%A9e+Jean+Moulin"),
            )
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 0, "no reload for a plan");
        let at = plan.body.find("name=\"jeton\" value=\"").unwrap() + 20;
        let token = &plan.body[at..at + plan.body[at..].find('"').unwrap()];
        let done = w
            .post(
                "/console/reglages/establishment/appliquer",
                &cookie,
                &format!("csrf={csrf}&jeton={token}"),
            )
            .await;
        assert_eq!(done.status, 200, "{}", done.body);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let audit = w.get("/console/journal?q=r%C3%A9glages", Some(&admin)).await;
        match &answer {
            Ok(()) => {
                assert!(
                    done.text().contains("Le serveur a relu sa configuration"),
                    "{}",
                    done.body
                );
                assert!(
                    audit.text().contains("configuration relue par le serveur"),
                    "{}",
                    audit.body
                );
            }
            Err(_) => {
                assert!(
                    done.text().contains("il a refusé de la relire (line 3: broken)"),
                    "{}",
                    done.body
                );
                assert!(
                    audit.text().contains("rechargement du serveur refusé"),
                    "{}",
                    audit.body
                );
            }
        }
    }
}

#[test]
fn the_reload_note_says_what_runs() {
    assert!(settings::reload_note(&Ok(())).contains("nouveaux réglages sont en service"));
    let refused = settings::reload_note(&Err("x".into()));
    assert!(
        refused.contains("garde la configuration") && refused.contains("(x)"),
        "{refused}"
    );
}

/// Issue 10: the "Confirmer" of a firewall change applied from the
/// settings is `preau confirm` (the pending confirm-apply forgotten, the
/// new ruleset kept for boot), audited; with nothing waiting it says so.
#[tokio::test]
async fn the_settings_confirm_button_confirms_a_pending_firewall_change() {
    let w = world();
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let csrf = w.csrf_of(&admin).await;
    let cookie = format!("{}={admin}", session::COOKIE);
    let nothing = w
        .post(
            "/console/reglages/firewall/confirmer",
            &cookie,
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(nothing.status, 200, "{}", nothing.body);
    assert!(
        nothing
            .text()
            .contains("Rien n'a été confirmé : aucune application à l'essai"),
        "{}",
        nothing.body
    );
    let dir = w._dir.path().join("var/lib/preau/firewall");
    std::fs::create_dir_all(&dir).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    std::fs::write(
        dir.join("pending.json"),
        format!(
            "{{\"token\":\"t1\",\"seconds\":120,\"deadline\":{},\"timer\":\"process\"}}",
            now + 100
        ),
    )
    .unwrap();
    std::fs::write(dir.join("ruleset.nft"), "table inet preau {}\n").unwrap();
    let done = w
        .post(
            "/console/reglages/firewall/confirmer",
            &cookie,
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.text().contains("Confirmé : le nouveau jeu de règles"),
        "{}",
        done.body
    );
    assert!(!dir.join("pending.json").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("boot.nft")).unwrap(),
        "table inet preau {}\n"
    );
    let audit = w.get("/console/journal?q=pare-feu", Some(&admin)).await;
    assert!(audit.body.contains("confirmé"), "{}", audit.body);
    // A wrong form token confirms nothing.
    let bad = w
        .post("/console/reglages/firewall/confirmer", &cookie, "csrf=x")
        .await;
    assert_eq!(bad.status, 403);
}

impl World {
    /// Audit rows of `action` done (the guard's refusals left out).
    fn audit_count(&self, action: &str) -> i64 {
        let store = Store::open_existing(&self.db).unwrap();
        store
            .conn()
            .query_row(
                "SELECT count(*) FROM audit_log WHERE action = ?1 AND outcome NOT LIKE 'refusé%'",
                [action],
                |r| r.get(0),
            )
            .unwrap()
    }
}

/// People: the administrator creates a person by hand; bad input gets
/// French messages beside the fields and stores nothing; others are
/// refused (students 404).
#[tokio::test]
async fn an_admin_creates_a_person_by_hand() {
    let w = world();
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let form = w.get("/console/personnes/nouvelle", Some(&admin)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("<option value=\"6A\""), "classes offered");
    no_inline_script_or_style(&form.body);
    let list = w.get("/console/personnes", Some(&admin)).await;
    assert!(list.body.contains("/console/personnes/nouvelle"));
    let csrf = w.csrf_of(&admin).await;
    let cookie = format!("{}={admin}", session::COOKIE);
    let before = w.people_count();
    let bad = w
        .post(
            "/console/personnes/nouvelle",
            &cookie,
            &format!("csrf={csrf}&type=eleve&nom=&prenom=Zo%C3%A9&naissance=31%2F02%2F2014&classe=4Z"),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let text = bad.text();
    for m in [
        "La personne n'a pas été créée",
        "Indiquez le nom.",
        "n'est pas une date",
        "Cette classe n'existe pas",
    ] {
        assert!(text.contains(m), "{m} missing: {text}");
    }
    assert!(text.contains("value=\"Zoé\""), "values kept");
    let no_csrf = w
        .post(
            "/console/personnes/nouvelle",
            &cookie,
            "type=enseignant&nom=Blanc&prenom=Marc",
        )
        .await;
    assert_eq!(no_csrf.status, 403);
    assert_eq!(w.people_count(), before, "nothing stored");
    assert_eq!(w.audit_count("création d'une personne"), 0);

    let ok = w
        .post(
            "/console/personnes/nouvelle",
            &cookie,
            &format!(
                "csrf={csrf}&type=eleve&nom=Dupont&prenom=Zo%C3%A9&naissance=03%2F04%2F2014&classe=6A&courriel=zoe%40exemple.fr"
            ),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(
        ok.body.contains("Fiche de connexion de Zoé Dupont"),
        "{}",
        ok.body
    );
    no_inline_script_or_style(&ok.body);
    assert_eq!(w.people_count(), before + 1);
    let store = Store::open_existing(&w.db).unwrap();
    let (login, birth, email, pw): (String, String, String, String) = store
        .conn()
        .query_row(
            "SELECT login, birth_date, email, initial_password FROM people WHERE last_name = 'Dupont'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!((birth.as_str(), email.as_str()), ("2014-04-03", "zoe@exemple.fr"));
    assert!(
        ok.body.contains(&login) && ok.body.contains(&pw),
        "login and password shown"
    );
    assert!(ok.body.contains("data-print"), "a print button");
    let class: Vec<String> = crate::directory::students_of(store.conn(), "6A")
        .unwrap()
        .into_iter()
        .map(|p| p.login)
        .collect();
    assert!(class.contains(&login), "{class:?}");
    assert_eq!(w.audit_count("création d'une personne"), 1);
    // The same names again: another login, never one used before.
    let again = w
        .post(
            "/console/personnes/nouvelle",
            &cookie,
            &format!("csrf={csrf}&type=personnel&nom=Dupont&prenom=Zo%C3%A9"),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    let logins: i64 = store
        .conn()
        .query_row(
            "SELECT count(DISTINCT login) FROM people WHERE last_name = 'Dupont'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(logins, 2);

    let tom = w.sign_in("tom.roux", PW).await.unwrap();
    assert_eq!(w.get("/console/personnes/nouvelle", Some(&tom)).await.status, 404);
    let tcsrf = w.csrf_of(&tom).await;
    let post = w
        .post(
            "/console/personnes/nouvelle",
            &format!("{}={tom}", session::COOKIE),
            &format!("csrf={tcsrf}&type=personnel&nom=X&prenom=Y"),
        )
        .await;
    assert_eq!(post.status, 404);
    let paul = w.sign_in("paul.blanc", PW).await.unwrap();
    let a = w.get("/console/personnes/nouvelle", Some(&paul)).await;
    assert!(a.status == 403 || a.status == 404, "{}", a.status);
    assert!(
        !w.get("/console/personnes", Some(&paul))
            .await
            .body
            .contains("/console/personnes/nouvelle")
    );
    assert_eq!(w.people_count(), before + 2);
}

/// People: the leavers past their retention are listed (the selection of
/// `preau accounts purge`); without the ticked confirmation nothing goes;
/// confirmed, they are deleted and the purge audited; one whom an absence
/// names is kept with it; students get 404.
#[tokio::test]
async fn an_admin_purges_the_leavers_after_confirming() {
    let w = world();
    {
        let mut store = Store::open_existing(&w.db).unwrap();
        store
            .write(|tx| {
                let np = |first: &str, last: &str| NewPerson {
                    kind: Some(Kind::Student),
                    source: "siecle".into(),
                    first_name: first.into(),
                    last_name: last.into(),
                    ..Default::default()
                };
                let gone = insert_person(tx, &np("Ines", "Partie"), "ines.partie", Some(10010))?;
                let absent = insert_person(tx, &np("Hugo", "Absent"), "hugo.absent", Some(10011))?;
                let later = insert_person(tx, &np("Noé", "Bientot"), "noe.bientot", Some(10012))?;
                for (id, due) in [(gone, "2020-01-01"), (absent, "2020-01-01"), (later, "2999-01-01")] {
                    tx.execute(
                        "UPDATE people SET status = 'deleting', disabled_at = '2019-07-01', delete_after = ?2 WHERE id = ?1",
                        rusqlite::params![id, due],
                    )?;
                }
                tx.execute(
                    "INSERT INTO vs_absence_events (student_id, starts, ends, created_by, created_at)
                     VALUES (?1, '2019-05-02T08:00', '2019-05-02T12:00', 'admin', '2019-05-02T08:00')",
                    [absent],
                )?;
                Ok::<_, rusqlite::Error>(())
            })
            .unwrap();
    }
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let list = w.get("/console/personnes/partants", Some(&admin)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("ines.partie") && list.body.contains("hugo.absent"));
    assert!(!list.body.contains("noe.bientot"), "not yet due");
    assert!(list.body.contains("2 compte(s) à supprimer"));
    no_inline_script_or_style(&list.body);
    let csrf = w.csrf_of(&admin).await;
    let cookie = format!("{}={admin}", session::COOKIE);
    let before = w.people_count();
    let unticked = w
        .post("/console/personnes/partants", &cookie, &format!("csrf={csrf}"))
        .await;
    assert_eq!(unticked.status, 400);
    assert!(unticked.text().contains("Rien n'a été supprimé : cochez la case"));
    let no_csrf = w
        .post("/console/personnes/partants", &cookie, "confirme=oui")
        .await;
    assert_eq!(no_csrf.status, 403);
    assert_eq!(w.people_count(), before, "nothing deleted");
    assert_eq!(w.audit_count("suppression des partants"), 0);

    let tom = w.sign_in("tom.roux", PW).await.unwrap();
    assert_eq!(w.get("/console/personnes/partants", Some(&tom)).await.status, 404);
    let tcsrf = w.csrf_of(&tom).await;
    let post = w
        .post(
            "/console/personnes/partants",
            &format!("{}={tom}", session::COOKIE),
            &format!("csrf={tcsrf}&confirme=oui"),
        )
        .await;
    assert_eq!(post.status, 404);
    assert_eq!(w.people_count(), before);

    let done = w
        .post(
            "/console/personnes/partants",
            &cookie,
            &format!("csrf={csrf}&confirme=oui"),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let text = done.text();
    assert!(text.contains("1 compte(s) supprimé(s)"), "{text}");
    assert!(
        text.contains("données de vie scolaire") && text.contains("hugo.absent"),
        "{text}"
    );
    assert_eq!(w.people_count(), before - 1);
    let store = Store::open_existing(&w.db).unwrap();
    let c = store.conn();
    assert!(
        crate::directory::person_by_login(c, "ines.partie")
            .unwrap()
            .is_none()
    );
    assert!(
        crate::directory::person_by_login(c, "hugo.absent")
            .unwrap()
            .is_some()
    );
    assert!(
        crate::directory::person_by_login(c, "noe.bientot")
            .unwrap()
            .is_some()
    );
    let absences: i64 = c
        .query_row("SELECT count(*) FROM vs_absence_events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(absences, 1, "school-life records kept");
    assert!(
        crate::directory::login_taken(c, "ines.partie").unwrap(),
        "never given again"
    );
    assert_eq!(w.audit_count("suppression des partants"), 1);
    let outcome: String = c
        .query_row(
            "SELECT outcome FROM audit_log WHERE action = 'suppression des partants' AND outcome LIKE 'supprimés%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        outcome.contains("ines.partie") && outcome.contains("gardés : hugo.absent"),
        "{outcome}"
    );
    // Listed again: only the one kept.
    let after = w.get("/console/personnes/partants", Some(&admin)).await;
    assert!(after.body.contains("1 compte(s) à supprimer") && !after.body.contains("ines.partie"));
}

/// People by hand, projected: with the accounts module on, a person
/// created in the console gets a Unix account at once, and a purged
/// leaver loses it.
#[tokio::test]
async fn people_created_and_purged_in_the_console_are_projected() {
    let mut config = Config::default();
    config.modules.enabled = vec!["system".into(), "accounts".into()];
    let w = world_with(config);
    let root = w.db.ancestors().nth(4).unwrap().to_path_buf();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    for (f, text) in [
        ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
        ("etc/group", "root:x:0:\nusers:x:100:\n"),
        ("etc/shadow", "root:*:19000:0:99999:7:::\n"),
        ("etc/gshadow", "root:*::\nusers:*::\n"),
    ] {
        std::fs::write(root.join(f), text).unwrap();
    }
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let csrf = w.csrf_of(&admin).await;
    let cookie = format!("{}={admin}", session::COOKIE);
    let ok = w
        .post(
            "/console/personnes/nouvelle",
            &cookie,
            &format!("csrf={csrf}&type=enseignant&nom=Durand&prenom=Marc"),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(
        ok.text().contains("Les comptes des ordinateurs sont à jour."),
        "{}",
        ok.body
    );
    let store = Store::open_existing(&w.db).unwrap();
    let login: String = store
        .conn()
        .query_row("SELECT login FROM people WHERE last_name = 'Durand'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    assert!(passwd.contains(&format!("{login}:")), "{passwd}");
    assert!(passwd.contains("tom.roux:"), "{passwd}");
    assert!(passwd.starts_with("root:"), "foreign entries kept");
    store
        .conn()
        .execute(
            "UPDATE people SET status = 'deleting', disabled_at = '2019-07-01', delete_after = '2020-01-01' WHERE login = 'tom.roux'",
            [],
        )
        .unwrap();
    let done = w
        .post(
            "/console/personnes/partants",
            &cookie,
            &format!("csrf={csrf}&confirme=oui"),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.text().contains("1 compte(s) supprimé(s)"), "{}", done.body);
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    assert!(!passwd.contains("tom.roux:"), "{passwd}");
    assert!(passwd.contains(&format!("{login}:")), "{passwd}");
    assert!(
        crate::directory::person_by_login(store.conn(), "tom.roux")
            .unwrap()
            .is_none()
    );
}

/// A projection that fails after a person is created is said on the page
/// (the person exists; no server error).
#[tokio::test]
async fn a_failed_projection_after_a_creation_is_said() {
    let mut config = Config::default();
    config.modules.enabled = vec!["system".into(), "accounts".into()];
    let w = world_with(config);
    // /etc/shadow is a directory: the accounts module cannot rewrite it.
    let root = w.db.ancestors().nth(4).unwrap().to_path_buf();
    std::fs::create_dir_all(root.join("etc/shadow")).unwrap();
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\n").unwrap();
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let csrf = w.csrf_of(&admin).await;
    let cookie = format!("{}={admin}", session::COOKIE);
    let before = w.people_count();
    let a = w
        .post(
            "/console/personnes/nouvelle",
            &cookie,
            &format!("csrf={csrf}&type=personnel&nom=Petit&prenom=Jean"),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.text().contains("n'ont pas pu être mis à jour"), "{}", a.body);
    assert_eq!(w.people_count(), before + 1);
    assert_eq!(w.audit_count("création d'une personne"), 1);
}

/// When the system's names cannot be read, the creation is refused with a
/// French message and nothing is stored.
#[tokio::test]
async fn a_creation_the_host_refuses_stores_nothing() {
    let mut config = Config::default();
    config.modules.enabled = vec!["system".into(), "accounts".into()];
    let w = world_with(config);
    let root = w.db.ancestors().nth(4).unwrap().to_path_buf();
    std::fs::write(root.join("etc"), "not a directory").unwrap();
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    let csrf = w.csrf_of(&admin).await;
    let cookie = format!("{}={admin}", session::COOKIE);
    let before = w.people_count();
    let a = w
        .post(
            "/console/personnes/nouvelle",
            &cookie,
            &format!("csrf={csrf}&type=personnel&nom=Petit&prenom=Jean"),
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.text().contains("rien n'est enregistré"), "{}", a.body);
    assert_eq!(w.people_count(), before);
    assert_eq!(w.audit_count("création d'une personne"), 0);
}

/// CAS single logout through the web platform's `/deconnexion`: the CAS
/// service that validated a ticket of the session receives, in the
/// background, a `logoutRequest` naming that ticket; the sign-out itself
/// does not wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_sends_the_cas_single_logout_to_the_services_reached() {
    let got: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let service = format!("http://{}/gepi/login.php", listener.local_addr().unwrap());
    {
        let got = got.clone();
        let app = axum::Router::new().route(
            "/gepi/login.php",
            axum::routing::post(
                move |axum::Form(f): axum::Form<std::collections::HashMap<String, String>>| {
                    let got = got.clone();
                    async move {
                        got.lock()
                            .unwrap()
                            .push(f.get("logoutRequest").cloned().unwrap_or_default());
                        "ok"
                    }
                },
            ),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    }
    let mut config = Config::default();
    config.sso.cas_services = vec![crate::sso::settings::CasService {
        name: "GEPI".into(),
        services: vec![service.clone()],
        roles: vec!["teacher".into()],
    }];
    let w = world_with(config);
    let enc = crate::sso::oidc::urlencode(&service);
    // A student may not use the teachers' service (authz::decide).
    let tom = w.sign_in("tom.roux", PW).await.unwrap();
    let refused = w.get(&format!("/cas/login?service={enc}"), Some(&tom)).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("pas ouvert à votre profil"));

    let paul = w.sign_in("paul.blanc", PW).await.unwrap();
    let a = w.get(&format!("/cas/login?service={enc}"), Some(&paul)).await;
    let ticket = a
        .location()
        .split_once("ticket=")
        .map(|(_, t)| t.to_string())
        .unwrap_or_else(|| panic!("{} {}", a.status, a.body));
    let v = w
        .get(
            &format!("/cas/serviceValidate?service={enc}&ticket={ticket}"),
            None,
        )
        .await;
    assert!(v.body.contains("<cas:user>paul.blanc</cas:user>"), "{}", v.body);
    let csrf = w.csrf_of(&paul).await;
    let out = w
        .post(
            "/deconnexion",
            &format!("{}={paul}", session::COOKIE),
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(out.status, 303, "{}", out.body);
    for _ in 0..100 {
        if !got.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("<samlp:LogoutRequest "), "{}", got[0]);
    assert!(
        got[0].contains(&format!("<samlp:SessionIndex>{ticket}</samlp:SessionIndex>")),
        "{}",
        got[0]
    );
}

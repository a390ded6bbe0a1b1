//! Router-level tests, in process: every route declares its action; the
//! guard, sign-in, sessions, CSRF, throttling and the authorization
//! answers against a real store in a temporary root.

use super::*;
use crate::directory::{Kind, NewPerson, insert_person, password};
use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

#[test]
fn every_route_declares_its_action() {
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
    let web = Web::new(host, PathBuf::from("/etc/preau/preau.toml"), move || {
        config.clone()
    });
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
    assert_eq!(a.status, 400);
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
    use crate::modules::viescolaire::calendar::Date;
    use crate::modules::viescolaire::queries;
    let w = world();
    let config = Config::default();
    let db = w
        ._dir
        .path()
        .join(config.paths.state_dir.trim_start_matches('/'))
        .join(crate::store::DB_FILE);
    let mut store = Store::open(&db).unwrap();
    let d = |s| Date::parse(s).unwrap();
    let year = store
        .write(|tx| queries::set_year(tx, "2026-2027", d("2026-09-01"), d("2027-07-04"), &[]))
        .unwrap();
    let year = queries::Year {
        id: year,
        label: "2026-2027".into(),
        starts: d("2026-09-01"),
        ends: d("2027-07-04"),
    };
    let csv = "teacher;subject;class;day;start;end;room\npaul.blanc;MATHS;6A;lundi;08:00;08:55;B12\n";
    crate::modules::viescolaire::import::timetable(
        &mut store,
        &year,
        "t.csv",
        csv.as_bytes(),
        crate::modules::viescolaire::import::Format::Csv,
        year.starts,
    )
    .unwrap();
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
    assert_eq!(a.status, 400);
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
    assert_eq!(a.status, 400);
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
        nothing.text().contains("Rien n'a été confirmé"),
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
    assert_eq!(bad.status, 400);
}

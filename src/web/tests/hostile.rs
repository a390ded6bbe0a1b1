//! The hostile-input sweep: every route of [`ROUTES`] (the table is
//! iterated, so a new route is covered without touching this file), as an
//! administrator, a teacher, a student, a parent and an anonymous visitor,
//! on the demo school (`preau demo`'s data, so that ids and pages exist):
//! hostile path segments and query strings on GET; missing, truncated,
//! oversized, non-UTF-8 and mistyped bodies on POST, with and without the
//! CSRF token. Every answer is below 500 (a panic in a handler fails the
//! test: nothing catches it in process), an error is the French error page
//! (never axum's bare rejection text), a POST without its CSRF token is a
//! 403 for whoever may post, and a refused POST changes nothing in the
//! store (a digest of every table but sessions and the audit log).

use super::*;
use std::fmt::Write as _;

/// The demo school behind the router, with its accounts and the web
/// application itself (to ask the guard's decision).
struct Hostile {
    w: World,
    web: Arc<Web>,
    /// (role, login, password), the administrator first.
    accounts: Vec<(&'static str, String, String)>,
}

fn demo_world() -> Hostile {
    let config = Config::default();
    let dir = tempfile::tempdir().unwrap();
    let host = RealHost::new(dir.path());
    let db = host.real_path(&Path::new(&config.paths.state_dir).join(crate::store::DB_FILE));
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let mut store = Store::open(&db).unwrap();
    store
        .add_admin("admin", &crate::auth::hash_password(ADMIN_PW).unwrap())
        .unwrap();
    crate::modules::accounts::demo::import_demo_school(&mut store, &config.accounts).unwrap();
    crate::modules::accounts::demo::add_demo_leavers(&mut store).unwrap();
    let now = crate::modules::viescolaire::calendar::DateTime::now_local();
    crate::modules::viescolaire::demo::fill(&mut store, &config.viescolaire, now).unwrap();
    crate::booking::demo::fill(&mut store, now).unwrap();
    let mut accounts = vec![("admin", "admin".to_string(), ADMIN_PW.to_string())];
    for a in crate::modules::accounts::demo::demo_accounts(&mut store, &config.accounts).unwrap() {
        if matches!(a.role, "teacher" | "student" | "parent") {
            accounts.push((a.role, a.login, a.password));
        }
    }
    drop(store);
    let config = Arc::new(config);
    let web = Arc::new(Web::new(
        host,
        PathBuf::from("/etc/preau/preau.toml"),
        move || config.clone(),
    ));
    Hostile {
        w: World {
            _dir: dir,
            app: headers::secure(router(web.clone())),
            db,
        },
        web,
        accounts,
    }
}

/// One signed-in (or anonymous) visitor of the sweep.
struct Visitor {
    role: &'static str,
    token: Option<String>,
    csrf: String,
}

impl Visitor {
    fn cookie(&self) -> String {
        match &self.token {
            Some(t) => format!("{}={t}", session::COOKIE),
            // Anonymous: the sign-in form's own token cookie.
            None => format!("{}={}", csrf::SIGNIN_COOKIE, self.csrf),
        }
    }
}

/// Path segments put in place of each `{parameter}` of a route (written
/// as they travel in a URL: percent-encoded where a URL needs it). 100 KB
/// does not fit in a URL (`http::Uri` stops at 64 KiB, hyper answers 414
/// before the router): the long value is just below.
fn hostile_segments() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        "%ff",
        "%",
        "%zz",
        "%ff%fe%fd",
        "..",
        "%2e%2e",
        "..%2f..%2fetc%2fpasswd",
        "%00",
        "a%00b",
        "%01%1b%7f",
        "-1",
        "0",
        "99999999999999999999",
        "9223372036854775808",
        "abc",
        "2026-13-45",
        "1-2026-13-45",
        "99999999999999999999-2026-12-01",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "'%20OR%201=1--",
        "%C3%A9l%C3%A8ve",
        "%E2%80%AE",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("a".repeat(60 * 1024));
    v
}

/// Values tried in query strings.
fn hostile_values() -> Vec<String> {
    let mut v = hostile_segments();
    v.extend(["%2B", "+", "%26", "=", "1e9", "2026-02-30", "23:61", "1.5", "NaN"].map(String::from));
    v
}

/// Query parameters the handlers read (`q.get("…")` in the sources), and a
/// few more; an unknown one is ignored by the handlers.
const PARAMS: &[&str] = &[
    "date",
    "periode",
    "semaine",
    "eleve",
    "classe",
    "q",
    "page",
    "type",
    "mode",
    "du",
    "au",
    "depuis",
    "jusqu_au",
    "jour",
    "format",
    "login",
    "evaluation",
    "matiere",
    "suite",
    "code",
    "etape",
    "debut",
    "fin",
    "cours",
    "action",
    "id",
    "week",
    "next",
    "salle",
    "objet",
    "evenement",
];

/// Fields tried in bodies where no form of the pages says which.
const FIELDS: &[&str] = &[
    "date",
    "fait",
    "type",
    "periode",
    "suite",
    "message",
    "eleve",
    "coefficient",
    "action",
    "titre",
    "salle",
    "quantite",
    "password",
    "nom",
    "motif",
    "login",
    "evaluation",
    "decision",
    "code",
    "classe",
    "bareme",
    "valeur",
    "travail",
    "note",
    "new",
    "confirm",
    "current",
    "commentaire",
    "debut",
    "fin",
];

/// The example URL of a route with its parameters' segments indexed:
/// (segments of the example, indexes that are `{parameters}`).
fn parameters(def: &RouteDef) -> (Vec<String>, Vec<usize>) {
    let pattern: Vec<&str> = def.path.split('/').collect();
    let example: Vec<String> = def.example.split('/').map(String::from).collect();
    let params = pattern
        .iter()
        .enumerate()
        .filter(|(_, p)| p.starts_with('{'))
        .map(|(i, _)| i)
        .collect();
    (example, params)
}

/// Every table's rows, hashed, except what any request may change
/// (sessions, the audit log, sign-in statistics).
fn digest(db: &Path) -> String {
    use sha2::Digest as _;
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.retain(|t| {
        !matches!(
            t.as_str(),
            "web_sessions" | "audit_log" | "signin_weeks" | "sso_sessions"
        )
    });
    let mut h = sha2::Sha256::new();
    for t in tables {
        h.update(t.as_bytes());
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..n {
                let v: rusqlite::types::Value = row.get(i).unwrap();
                h.update(format!("{v:?}\u{1f}").as_bytes());
            }
            h.update(b"\x1e");
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the sweep found something wrong, collected so that one run
/// reports every failure.
#[derive(Default)]
struct Findings {
    cases: usize,
    failures: Vec<String>,
}

impl Findings {
    fn fail(&mut self, what: String) {
        if self.failures.len() < 400 {
            self.failures.push(what);
        }
    }
}

/// Axum's own rejection texts: seeing one means an extractor answered
/// instead of the French error page.
const BARE: &[&str] = &[
    "Failed to deserialize",
    "Failed to parse",
    "Invalid URL",
    "Cannot parse",
    "Expected request with",
    "Wrong number of path",
    "Error parsing",
    "Failed to buffer",
    "length limit exceeded",
    "Invalid `boundary`",
];

/// Checks one answer: below 500, and an error is a French page (the
/// error page, or the form again with its message), never a bare text.
fn check(f: &mut Findings, what: &str, a: &Answer) {
    f.cases += 1;
    if a.status >= 500 {
        f.fail(format!("{what}: {} {}", a.status, short(&a.body)));
        return;
    }
    if a.status >= 400 {
        let html = a
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("text/html"));
        if !html || !a.body.contains("<html lang=\"fr\"") || BARE.iter().any(|b| a.body.contains(b)) {
            f.fail(format!(
                "{what}: {} not a French page: {}",
                a.status,
                short(&a.body)
            ));
        }
    }
}

fn short(s: &str) -> String {
    let s: String = s.chars().take(120).collect();
    s.replace('\n', " ")
}

/// The name and value of every field of the forms posting to `action` in
/// `html` (inputs, selects, text areas; a select's first option).
fn form_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("<form") {
        let form = &rest[at..];
        let end = form.find("</form>").unwrap_or(form.len());
        let (form, after) = form.split_at(end);
        rest = after;
        let head = &form[..form.find('>').unwrap_or(form.len())];
        let target = attr(head, "action").unwrap_or_default();
        let target = target.split('?').next().unwrap_or("");
        if target != action {
            continue;
        }
        for tag in ["<input", "<select", "<textarea"] {
            for (i, _) in form.match_indices(tag) {
                let t = &form[i..i + form[i..].find('>').unwrap_or(form.len() - i)];
                if let Some(name) = attr(t, "name") {
                    let value = if tag == "<select" {
                        let options = &form[i..];
                        options
                            .find("<option")
                            .and_then(|o| attr(&options[o..o + options[o..].find('>').unwrap_or(0)], "value"))
                            .unwrap_or_default()
                    } else {
                        attr(t, "value").unwrap_or_default()
                    };
                    if !out.iter().any(|(n, _): &(String, String)| *n == name) {
                        out.push((name, value.replace("&#39;", "'").replace("&amp;", "&")));
                    }
                }
            }
        }
    }
    out
}

/// A multipart body of `fields` (and the token when given), with a small
/// file part.
fn multipart_body(csrf: Option<&str>, fields: &[(String, String)]) -> Vec<u8> {
    let mut b = String::new();
    let mut part = |name: &str, value: &str| {
        let _ = write!(
            b,
            "--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        );
    };
    if let Some(t) = csrf {
        part("csrf", t);
    }
    for (n, v) in fields {
        part(n, v);
    }
    b.push_str("--XyZ\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--XyZ--\r\n");
    b.into_bytes()
}

const MULTIPART: Option<&str> = Some("multipart/form-data; boundary=XyZ");

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let len = tag[at..].find('"')?;
    Some(tag[at..at + len].to_string())
}

fn encode(fields: &[(String, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

impl Hostile {
    /// Puts the sweep's accounts back as they were (a previous POST may
    /// have reset a password, disabled an account or enrolled a second
    /// factor) and forgets the sign-in failures.
    fn restore_accounts(&self) {
        let mut store = Store::open(&self.w.db).unwrap();
        store
            .set_admin_hash("admin", &crate::auth::hash_password(ADMIN_PW).unwrap())
            .unwrap();
        store
            .write(|tx| {
                tx.execute("DELETE FROM admin_totp", [])?;
                for (_, login, pw) in &self.accounts[1..] {
                    let id: i64 =
                        tx.query_row("SELECT id FROM people WHERE login = ?1", [login], |r| r.get(0))?;
                    tx.execute("UPDATE people SET status = 'active' WHERE id = ?1", [id])?;
                    password::set(tx, id, pw, true, false)?;
                }
                Ok::<_, anyhow::Error>(())
            })
            .unwrap();
        *self.web.throttle.lock().unwrap() = throttle::Throttle::default();
    }

    async fn visitors(&self) -> Vec<Visitor> {
        self.restore_accounts();
        let mut out = Vec::new();
        for (role, login, password) in &self.accounts {
            let token = self
                .w
                .sign_in(login, password)
                .await
                .unwrap_or_else(|a| panic!("{role} {login}: {}", a.body));
            let csrf = self.w.csrf_of(&token).await;
            out.push(Visitor {
                role,
                token: Some(token),
                csrf,
            });
        }
        let form = self.w.get("/connexion", None).await;
        let csrf = cookie_value(&form.cookie(csrf::SIGNIN_COOKIE).unwrap());
        out.push(Visitor {
            role: "anonymous",
            token: None,
            csrf,
        });
        out
    }

    /// Whether the guard lets `v` through to the handler of `method url`.
    async fn allowed(&self, v: &Visitor, method: &Method, url: &str) -> bool {
        let path = url.split('?').next().unwrap_or("");
        let Some(action) = authz::Action::of(method, path) else {
            return false;
        };
        if action.is_public() {
            return true;
        }
        let web = self.web.clone();
        let token = v.token.clone();
        let a = action.clone();
        let signed =
            tokio::task::spawn_blocking(move || load_signed(&web, token, a, "192.0.2.7".parse().unwrap()))
                .await
                .unwrap();
        match signed {
            Ok(Some(s)) => authz::decide(&s.actor, &action, &s.facts) == authz::Decision::Allow,
            _ => false,
        }
    }

    async fn get_as(&self, v: &Visitor, url: &str) -> Option<Answer> {
        let mut b = Request::get(url);
        if let Some(t) = &v.token {
            b = b.header(header::COOKIE, format!("{}={t}", session::COOKIE));
        }
        let req = b.body(Body::empty()).ok()?;
        Some(self.w.send(req).await)
    }

    async fn post_raw(
        &self,
        v: &Visitor,
        url: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Option<Answer> {
        let mut b = Request::post(url)
            .header(header::COOKIE, v.cookie())
            .header("sec-fetch-site", "same-origin");
        if let Some(ct) = content_type {
            b = b.header(header::CONTENT_TYPE, ct);
        }
        let req = b.body(Body::from(body)).ok()?;
        Some(self.w.send(req).await)
    }
}

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

/// The example URL of a route, its student the demo school's.
fn example_of(h: &Hostile, def: &RouteDef) -> String {
    let student = &h.accounts.iter().find(|a| a.0 == "student").unwrap().1;
    def.example.replace("lea.martin", student)
}

/// Fails with every finding, or says how many cases ran.
fn report(what: &str, f: &Findings) {
    let mut report = String::new();
    for x in &f.failures {
        let _ = writeln!(report, "{x}");
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/hostile-{what}.txt"));
    let _ = std::fs::write(&out, &report);
    eprintln!(
        "hostile sweep, {what}: {} cases, {} failures",
        f.cases,
        f.failures.len()
    );
    assert!(
        f.failures.is_empty(),
        "{} failures of {} cases:\n{report}",
        f.failures.len(),
        f.cases
    );
}

/// Whether anything was written to the store since the last call:
/// SQLite's `data_version` moves with every other connection's commit,
/// and the digest then says whether it was more than sessions and audit.
struct Changes {
    conn: rusqlite::Connection,
    version: i64,
    digest: String,
    db: PathBuf,
}

impl Changes {
    fn new(db: &Path) -> Changes {
        let conn = rusqlite::Connection::open(db).unwrap();
        let version = conn.query_row("PRAGMA data_version", [], |r| r.get(0)).unwrap();
        Changes {
            conn,
            version,
            digest: digest(db),
            db: db.to_path_buf(),
        }
    }

    /// True when the store's data changed since the last call.
    fn changed(&mut self) -> bool {
        let version: i64 = self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .unwrap();
        if version == self.version {
            return false;
        }
        self.version = version;
        let d = digest(&self.db);
        let changed = d != self.digest;
        self.digest = d;
        changed
    }
}

/// GET with hostile path segments, query strings and repeated parameters,
/// every route, every role.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_gets_never_give_a_server_error_nor_a_bare_message() {
    let h = demo_world();
    let visitors = h.visitors().await;
    let example = |def: &RouteDef| example_of(&h, def);
    let mut f = Findings::default();
    // GET: hostile segments, query strings, repeated parameters.
    for def in ROUTES {
        let url = example(def);
        if authz::Action::of(&Method::GET, &url).is_none() {
            continue;
        }
        let (segments, params) = parameters(def);
        for v in &visitors {
            for &i in &params {
                for s in hostile_segments() {
                    let mut parts = segments.clone();
                    parts[i] = s.clone();
                    let u = parts.join("/");
                    if let Some(a) = h.get_as(v, &u).await {
                        check(
                            &mut f,
                            &format!("GET {} as {} ({})", def.path, v.role, short(&s)),
                            &a,
                        );
                    }
                }
            }
            if !h.allowed(v, &Method::GET, &url).await {
                continue;
            }
            for value in hostile_values() {
                let all: String = PARAMS
                    .iter()
                    .map(|p| format!("{p}={value}"))
                    .collect::<Vec<_>>()
                    .join("&");
                for q in [all, value.clone(), format!("{value}={value}")] {
                    if let Some(a) = h.get_as(v, &format!("{url}?{q}")).await {
                        check(&mut f, &format!("GET {url}?{} as {}", short(&q), v.role), &a);
                    }
                }
            }
            for p in PARAMS {
                for value in [
                    "%ff",
                    "",
                    "99999999999999999999",
                    "2026-13-45",
                    "-1",
                    "abc",
                    "%00",
                ] {
                    let u = format!("{url}?{p}={value}");
                    if let Some(a) = h.get_as(v, &u).await {
                        check(&mut f, &format!("GET {u} as {}", v.role), &a);
                    }
                }
                let u = format!("{url}?{p}=1&{p}=2&{p}=&{p}");
                if let Some(a) = h.get_as(v, &u).await {
                    check(&mut f, &format!("GET {u} as {}", v.role), &a);
                }
            }
        }
    }
    report("get", &f);
}

/// POST with missing, truncated, oversized, mistyped and hostile bodies,
/// with and without the CSRF token, every route, every role: never a 500,
/// a French page, 403 without the token, nothing changed when refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_posts_are_refused_in_french_and_change_nothing() {
    let h = demo_world();
    let visitors = h.visitors().await;
    let example = |def: &RouteDef| example_of(&h, def);
    let mut f = Findings::default();

    // The forms of every page an administrator and the teacher see, by
    // the URL they post to.
    let mut forms: std::collections::HashMap<String, Vec<(String, String)>> = Default::default();
    for v in visitors.iter().filter(|v| v.token.is_some()) {
        for def in ROUTES {
            let url = example(def);
            if authz::Action::of(&Method::GET, &url).is_none() {
                continue;
            }
            let Some(a) = h.get_as(v, &url).await else {
                continue;
            };
            for d in ROUTES {
                let target = example(d);
                let fields = form_fields(&a.body, &target);
                let known = forms.entry(target).or_default();
                for field in fields {
                    if !known.iter().any(|(n, _)| *n == field.0) {
                        known.push(field);
                    }
                }
            }
        }
    }

    // POST: bodies, CSRF, content types, multipart.
    let mut changes = Changes::new(&h.w.db);
    for def in ROUTES {
        let url = example(def);
        if authz::Action::of(&Method::POST, &url).is_none() {
            continue;
        }
        let known = forms.get(&url).cloned().unwrap_or_default();
        let mut fields: Vec<(String, String)> = known.iter().filter(|(n, _)| n != "csrf").cloned().collect();
        if fields.is_empty() {
            fields = FIELDS.iter().map(|n| (n.to_string(), String::new())).collect();
        }
        let (segments, params) = parameters(def);
        // Fresh sessions: a previous route may have signed one out.
        let visitors = h.visitors().await;
        changes.changed();
        for v in &visitors {
            let allowed = h.allowed(v, &Method::POST, &url).await;
            let csrf = ("csrf".to_string(), v.csrf.clone());
            let with_csrf = |extra: &[(String, String)]| {
                let mut all = vec![csrf.clone()];
                all.extend(extra.iter().cloned());
                encode(&all)
            };
            // The token's cases first, while the session is alive (a
            // sign-out with its token ends it).
            let mut cases: Vec<(String, Option<&str>, Vec<u8>)> = vec![
                ("no CSRF".into(), FORM, encode(&fields).into_bytes()),
                ("wrong CSRF".into(), FORM, {
                    let mut all = vec![("csrf".to_string(), "x".repeat(43))];
                    all.extend(fields.iter().cloned());
                    encode(&all).into_bytes()
                }),
                ("no body".into(), FORM, Vec::new()),
                ("no body, no type".into(), None, Vec::new()),
                ("JSON".into(), Some("application/json"), b"{\"csrf\": 1, \"a\": [1]}".to_vec()),
                ("binary".into(), FORM, vec![0xff, 0xfe, 0, 1, 2, 0x80, b'=', b'&']),
                ("truncated %".into(), FORM, format!("{}&a=%", with_csrf(&[])).into_bytes()),
                ("truncated %2".into(), FORM, format!("{}&a=%2", with_csrf(&[])).into_bytes()),
                ("bad %zz".into(), FORM, format!("{}&%zz=%zz", with_csrf(&[])).into_bytes()),
                ("every field missing".into(), FORM, with_csrf(&[]).into_bytes()),
                ("oversized".into(), FORM, format!("{}&x={}", with_csrf(&[]), "a".repeat(200 * 1024)).into_bytes()),
                ("text/plain".into(), Some("text/plain"), with_csrf(&fields).into_bytes()),
                ("multipart without boundary".into(), Some("multipart/form-data"), with_csrf(&fields).into_bytes()),
                ("truncated multipart".into(), Some("multipart/form-data; boundary=XyZ"),
                    format!("--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\nabc", v.csrf).into_bytes()),
                ("malformed multipart".into(), Some("multipart/form-data; boundary=XyZ"), b"--XyZ\r\nnot a header\r\n\r\n--XyZ--".to_vec()),
                ("multipart, no parts".into(), Some("multipart/form-data; boundary=XyZ"), b"--XyZ--\r\n".to_vec()),
                ("repeated fields".into(), FORM, {
                    let mut all = vec![csrf.clone(), csrf.clone()];
                    for (n, _) in &fields {
                        all.push((n.clone(), "1".into()));
                        all.push((n.clone(), "2".into()));
                    }
                    encode(&all).into_bytes()
                }),
            ];
            // The same without the token as multipart (an upload's
            // encoding: its token is a part of the body).
            cases.insert(
                0,
                (
                    "no CSRF, multipart".into(),
                    MULTIPART,
                    multipart_body(None, &fields),
                ),
            );
            cases.insert(
                1,
                (
                    "wrong CSRF, multipart".into(),
                    MULTIPART,
                    multipart_body(Some(&"x".repeat(43)), &fields),
                ),
            );
            let mut token_refusals = Vec::new();
            if allowed {
                for (i, (name, _)) in fields.iter().enumerate() {
                    let hostile: Vec<(String, Vec<u8>)> = vec![
                        ("empty".into(), Vec::new()),
                        ("100 KB".into(), vec![b'a'; 100 * 1024]),
                        ("4097 characters".into(), vec![b'7'; 4097]),
                        ("non-UTF-8".into(), vec![0xff, 0xfe, 0xc3]),
                        ("NUL".into(), b"a\0b".to_vec()),
                        ("control".into(), b"\x01\x1b[2J\x7f\r\n".to_vec()),
                        ("-1".into(), b"-1".to_vec()),
                        ("huge number".into(), b"99999999999999999999".to_vec()),
                        ("bad date".into(), b"2026-13-45".to_vec()),
                        ("abc".into(), b"abc".to_vec()),
                        ("script".into(), b"<script>alert(1)</script>".to_vec()),
                        ("path".into(), b"../../etc/passwd".to_vec()),
                    ];
                    for (what, value) in hostile {
                        let mut body = format!("csrf={}", v.csrf).into_bytes();
                        for (j, (n, default)) in fields.iter().enumerate() {
                            body.push(b'&');
                            body.extend(
                                form_urlencoded::byte_serialize(n.as_bytes())
                                    .collect::<String>()
                                    .bytes(),
                            );
                            body.push(b'=');
                            if i == j {
                                body.extend(
                                    form_urlencoded::byte_serialize(&value)
                                        .collect::<String>()
                                        .bytes(),
                                );
                            } else {
                                body.extend(
                                    form_urlencoded::byte_serialize(default.as_bytes())
                                        .collect::<String>()
                                        .bytes(),
                                );
                            }
                        }
                        cases.push((format!("field {name} {what}"), FORM, body));
                    }
                }
            }
            for (what, ct, body) in cases {
                let Some(a) = h.post_raw(v, &url, ct, body).await else {
                    continue;
                };
                let label = format!("POST {url} as {} ({what})", v.role);
                check(&mut f, &label, &a);
                // The language switch has no token: public, it only sets the
                // visitor's own cookie (a cross-site post is refused by the
                // guard's Origin lock).
                if what.contains("CSRF") {
                    token_refusals.push(a.status);
                }
                if changes.changed() && a.status >= 400 {
                    f.fail(format!(
                        "{label}: refused with {} yet the store changed",
                        a.status
                    ));
                }
            }
            // Without its token a post is refused, and in the route's own
            // encoding (form or multipart: a form-encoded post to an
            // upload is refused before, 400) with a 403. The language
            // switch has no token: public, it only sets the visitor's own
            // cookie (a cross-site post is refused by the Origin lock).
            if allowed
                && url != "/langue"
                && (token_refusals.iter().any(|s| *s < 400) || !token_refusals.contains(&403))
            {
                f.fail(format!(
                    "POST {url} as {} without its token: {token_refusals:?}, not a 403",
                    v.role
                ));
            }
            // Hostile path segments on the POST too.
            for &i in &params {
                for s in hostile_segments() {
                    let mut parts = segments.clone();
                    parts[i] = s.clone();
                    let u = parts.join("/");
                    let Some(a) = h.post_raw(v, &u, FORM, with_csrf(&fields).into_bytes()).await else {
                        continue;
                    };
                    let label = format!("POST {} as {} ({})", def.path, v.role, short(&s));
                    check(&mut f, &label, &a);
                    if changes.changed() && a.status >= 400 {
                        f.fail(format!(
                            "{label}: refused with {} yet the store changed",
                            a.status
                        ));
                    }
                }
            }
        }
    }
    report("post", &f);
}

// --- Single sign-on: the public protocol endpoints ----------------------

/// The world of `super::world` with an OpenID Connect client and a CAS
/// service declared.
fn sso_world() -> World {
    use crate::sso::settings::{CasService, OidcClient};
    use sha2::Digest as _;
    let mut config = Config::default();
    let secret: String = sha2::Sha256::digest(b"le-secret")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    config.sso.oidc_clients.push(OidcClient {
        id: "nextcloud".into(),
        name: "Nextcloud".into(),
        secret_sha256: secret,
        redirect_uris: vec!["https://cloud.example/cb".into()],
        post_logout_redirect_uris: vec!["https://cloud.example/bye".into()],
        backchannel_logout_uri: String::new(),
        roles: vec![],
        consent: true,
        require_pkce: false,
    });
    config.sso.cas_services.push(CasService {
        name: "GEPI".into(),
        services: vec!["https://gepi.example/*".into()],
        roles: vec![],
    });
    world_with(config)
}

/// A redirection only ever goes to our own pages or to an address the
/// configuration declares (never to one a request names).
fn redirect_ok(location: &str) -> bool {
    location.starts_with('/') && !location.starts_with("//")
        || location.starts_with("https://cloud.example/cb?")
        || location.starts_with("https://cloud.example/bye")
        || location.starts_with("https://gepi.example/")
}

const OAUTH_ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_token",
];

/// An OAuth error answer: 400 or 401, JSON with a known `error`.
fn oauth_error(f: &mut Findings, what: &str, a: &Answer) {
    f.cases += 1;
    let json = a
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    let error = serde_json::from_str::<serde_json::Value>(&a.body)
        .ok()
        .and_then(|v| v["error"].as_str().map(String::from))
        .unwrap_or_default();
    if !matches!(a.status, 400 | 401) || !json || !OAUTH_ERRORS.contains(&error.as_str()) {
        f.fail(format!("{what}: {} {}", a.status, short(&a.body)));
    }
}

/// A browser-facing SSO answer: below 500, an error a French page, a
/// redirection only where the configuration allows.
fn browser_answer(f: &mut Findings, what: &str, a: &Answer) {
    check(f, what, a);
    if (300..400).contains(&a.status) && !redirect_ok(a.location()) {
        f.fail(format!("{what}: redirected to {}", short(a.location())));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_sso_requests_get_protocol_errors() {
    let w = sso_world();
    let mut f = Findings::default();
    let lea = w.sign_in("tom.roux", PW).await.unwrap();
    let sessions = [None, Some(lea.as_str())];
    let values = hostile_values();
    let get = |url: String, s: Option<&str>| {
        let mut b = Request::get(url);
        if let Some(t) = s {
            b = b.header(header::COOKIE, format!("{}={t}", session::COOKIE));
        }
        b.body(Body::empty()).ok()
    };

    // Discovery and keys: whatever the query, the same JSON.
    for path in ["/.well-known/openid-configuration", "/oidc/jwks"] {
        for v in &values {
            let Some(req) = get(format!("{path}?{v}={v}&a={v}"), None) else {
                continue;
            };
            let a = w.send(req).await;
            f.cases += 1;
            if a.status != 200 || serde_json::from_str::<serde_json::Value>(&a.body).is_err() {
                f.fail(format!("GET {path} ({}): {}", short(v), a.status));
            }
        }
    }

    // Authorization and logout requests, CAS login and logout: a browser's.
    let good = "response_type=code&client_id=nextcloud&redirect_uri=https%3A%2F%2Fcloud.example%2Fcb&scope=openid&state=s&nonce=n";
    let params = [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "prompt",
        "response_mode",
        "request",
        "request_uri",
    ];
    for s in sessions {
        for v in &values {
            let mut queries = vec![
                v.to_string(),
                format!("client_id={v}&redirect_uri={v}"),
                format!("{good}&redirect_uri=https%3A%2F%2Fevil.example%2F{v}"),
            ];
            for p in params {
                queries.push(format!("{good}&{p}={v}"));
                queries.push(format!("{}&{p}={v}", good.replace(&format!("{p}="), "x=")));
            }
            for q in &queries {
                if let Some(req) = get(format!("/oidc/authorize?{q}"), s) {
                    browser_answer(
                        &mut f,
                        &format!("GET /oidc/authorize?{}", short(q)),
                        &w.send(req).await,
                    );
                }
            }
            for q in [
                format!("id_token_hint={v}&post_logout_redirect_uri={v}&state={v}"),
                format!("client_id=nextcloud&post_logout_redirect_uri={v}"),
                format!("client_id={v}&client_id=nextcloud"),
            ] {
                if let Some(req) = get(format!("/oidc/logout?{q}"), s) {
                    browser_answer(
                        &mut f,
                        &format!("GET /oidc/logout?{}", short(&q)),
                        &w.send(req).await,
                    );
                }
            }
            for q in [
                format!("service={v}"),
                format!("service=https%3A%2F%2Fgepi.example%2F{v}"),
                format!("service=https%3A%2F%2Fgepi.example%2F&gateway={v}&renew={v}"),
                format!("service={v}&service=https%3A%2F%2Fgepi.example%2F"),
                format!("url={v}&service={v}"),
            ] {
                for path in ["/cas/login", "/cas/logout"] {
                    if let Some(req) = get(format!("{path}?{q}"), s) {
                        browser_answer(&mut f, &format!("GET {path}?{}", short(&q)), &w.send(req).await);
                    }
                }
            }
        }
        // The consent and logout forms, posted hostile.
        for path in ["/oidc/authorize", "/oidc/logout"] {
            let mut bodies: Vec<(Option<&str>, Vec<u8>)> = vec![
                (FORM, Vec::new()),
                (None, Vec::new()),
                (Some("application/json"), b"{\"decision\":\"accepter\"}".to_vec()),
                (FORM, vec![0xff, 0xfe, b'=', 0]),
                (FORM, b"decision=%".to_vec()),
                (FORM, b"decision=accepter&decision=refuser&csrf=a&csrf=b".to_vec()),
                (FORM, format!("{good}&decision=accepter").into_bytes()),
                (FORM, format!("{good}&decision=accepter&csrf=faux").into_bytes()),
                (FORM, format!("suivant={}", "a".repeat(200 * 1024)).into_bytes()),
                (FORM, b"suivant=https%3A%2F%2Fevil.example%2F&csrf=faux".to_vec()),
            ];
            for v in &values {
                bodies.push((
                    FORM,
                    format!("{good}&decision={v}&csrf={v}&suivant={v}").into_bytes(),
                ));
            }
            for (ct, body) in bodies {
                let mut b = Request::post(path).header("sec-fetch-site", "same-origin");
                if let Some(t) = s {
                    b = b.header(header::COOKIE, format!("{}={t}", session::COOKIE));
                }
                if let Some(ct) = ct {
                    b = b.header(header::CONTENT_TYPE, ct);
                }
                let label = format!("POST {path} ({})", short(&String::from_utf8_lossy(&body)));
                let a = w.send(b.body(Body::from(body)).unwrap()).await;
                browser_answer(&mut f, &label, &a);
                if (200..400).contains(&a.status)
                    && path == "/oidc/authorize"
                    && a.location().contains("code=")
                {
                    f.fail(format!("{label}: a code was given without the form token"));
                }
            }
        }
    }

    // The token endpoint: OAuth JSON errors whatever is sent.
    let basic = |user: &str, pw: &str| {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
        )
    };
    let auths: Vec<Option<Vec<u8>>> = vec![
        None,
        Some(b"Basic".to_vec()),
        Some(b"Basic !!!".to_vec()),
        Some(b"Basic %ff".to_vec()),
        Some(basic("nextcloud", "faux").into_bytes()),
        Some(basic("inconnu", "x").into_bytes()),
        Some(basic("%ff", "%zz").into_bytes()),
        Some(basic("", "").into_bytes()),
        Some(b"Bearer abc".to_vec()),
        Some(vec![b'B', b'a', b's', b'i', b'c', b' ', 0xff, 0xfe]),
        Some(format!("Basic {}", "A".repeat(60 * 1024)).into_bytes()),
    ];
    let mut token_bodies: Vec<(Option<&str>, Vec<u8>)> = vec![
        (FORM, Vec::new()),
        (None, Vec::new()),
        (Some("application/json"), b"{\"grant_type\":\"authorization_code\"}".to_vec()),
        (FORM, vec![0xff, 0xfe, b'=', 0]),
        (FORM, b"grant_type=%".to_vec()),
        (FORM, b"grant_type=authorization_code&grant_type=refresh_token".to_vec()),
        (FORM, b"grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fcloud.example%2Fcb&client_id=nextcloud&client_secret=le-secret".to_vec()),
        (FORM, b"grant_type=refresh_token&refresh_token=abc&client_id=nextcloud&client_secret=le-secret".to_vec()),
        (FORM, format!("grant_type=authorization_code&code={}", "a".repeat(3 * 1024 * 1024)).into_bytes()),
    ];
    for v in &values {
        for p in [
            "grant_type",
            "code",
            "redirect_uri",
            "code_verifier",
            "refresh_token",
            "scope",
            "client_id",
            "client_secret",
        ] {
            token_bodies.push((
                FORM,
                format!("grant_type=authorization_code&code=abc&client_id=nextcloud&client_secret=le-secret&{p}={v}").into_bytes(),
            ));
        }
    }
    for auth in &auths {
        for (ct, body) in &token_bodies {
            let mut b = Request::post("/oidc/token");
            if let Some(ct) = ct {
                b = b.header(header::CONTENT_TYPE, *ct);
            }
            if let Some(h) = auth {
                match axum::http::HeaderValue::from_bytes(h) {
                    Ok(h) => b = b.header(header::AUTHORIZATION, h),
                    Err(_) => continue,
                }
            }
            let label = format!(
                "POST /oidc/token (auth {}, {})",
                short(&String::from_utf8_lossy(auth.as_deref().unwrap_or(b"-"))),
                short(&String::from_utf8_lossy(body))
            );
            let a = w.send(b.body(Body::from(body.clone())).unwrap()).await;
            oauth_error(&mut f, &label, &a);
        }
    }

    // Userinfo: a 401 (or 400) with its JSON error and challenge.
    let mut bearers: Vec<Option<Vec<u8>>> = vec![
        None,
        Some(b"Bearer".to_vec()),
        Some(b"Bearer ".to_vec()),
        Some(b"bearer abc".to_vec()),
        Some(b"Basic abc".to_vec()),
        Some(format!("Bearer {}", "a".repeat(60 * 1024)).into_bytes()),
        Some(vec![b'B', b'e', b'a', b'r', b'e', b'r', b' ', 0xff]),
    ];
    for v in &values {
        bearers.push(Some(format!("Bearer {v}").into_bytes()));
    }
    for auth in &bearers {
        for method in [Method::GET, Method::POST] {
            for body in [
                Vec::new(),
                b"access_token=%ff".to_vec(),
                b"access_token=a&access_token=b".to_vec(),
                vec![0xff; 10],
                vec![b'a'; 3 * 1024 * 1024],
            ] {
                if method == Method::GET && !body.is_empty() {
                    continue;
                }
                let mut b = Request::builder().method(method.clone()).uri("/oidc/userinfo");
                if method == Method::POST {
                    b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                }
                if let Some(h) = auth {
                    match axum::http::HeaderValue::from_bytes(h) {
                        Ok(h) => b = b.header(header::AUTHORIZATION, h),
                        Err(_) => continue,
                    }
                }
                let label = format!(
                    "{method} /oidc/userinfo (auth {}, {} bytes)",
                    short(&String::from_utf8_lossy(auth.as_deref().unwrap_or(b"-"))),
                    body.len()
                );
                let a = w.send(b.body(Body::from(body)).unwrap()).await;
                oauth_error(&mut f, &label, &a);
                if a.status == 401 && a.headers.get(header::WWW_AUTHENTICATE).is_none() {
                    f.fail(format!("{label}: 401 without WWW-Authenticate"));
                }
            }
        }
    }

    // CAS validation: a failure in the protocol's own words, never a success.
    for v in &values {
        for q in [
            format!("ticket={v}&service={v}"),
            format!("ticket=ST-{v}&service=https%3A%2F%2Fgepi.example%2F"),
            "service=https%3A%2F%2Fgepi.example%2F".to_string(),
            format!("ticket={v}"),
            format!("ticket=a&ticket=b&service={v}&pgtUrl={v}&renew={v}&format={v}"),
            v.to_string(),
        ] {
            for path in [
                "/cas/serviceValidate",
                "/cas/proxyValidate",
                "/cas/p3/serviceValidate",
                "/cas/p3/proxyValidate",
                "/cas/validate",
                "/cas/proxy",
            ] {
                let Some(req) = get(format!("{path}?{q}"), None) else {
                    continue;
                };
                let a = w.send(req).await;
                f.cases += 1;
                let ok = a.status == 200
                    && match path {
                        "/cas/validate" => a.body == "no\n",
                        "/cas/proxy" => a.body.contains("cas:proxyFailure"),
                        _ => {
                            a.body.contains("cas:authenticationFailure")
                                && !a.body.contains("authenticationSuccess")
                        }
                    };
                if !ok {
                    f.fail(format!(
                        "GET {path}?{}: {} {}",
                        short(&q),
                        a.status,
                        short(&a.body)
                    ));
                }
            }
        }
    }
    report("sso", &f);
}

/// The sweep's findings, each on its own: an unreadable path segment was
/// axum's bare 400 text, an oversized token or userinfo body axum's bare
/// 413, a CAS service with a control character a 500 (its `Location`
/// could not be written), a post without its token a 400.
#[tokio::test]
async fn the_sweeps_findings_stay_fixed() {
    let w = sso_world();
    let admin = w.sign_in("admin", ADMIN_PW).await.unwrap();
    for url in [
        "/console/personnes/%ff",
        "/static/%ff%fe",
        "/console/reglages/%ff",
    ] {
        let a = w.get(url, Some(&admin)).await;
        assert_eq!(a.status, 404, "{url}: {}", a.body);
        assert!(a.text().contains("Page introuvable"), "{url}: {}", a.body);
    }
    for path in ["/oidc/token", "/oidc/userinfo"] {
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(vec![b'a'; 3 * 1024 * 1024]))
            .unwrap();
        let a = w.send(req).await;
        assert_eq!(a.status, 400, "{path}: {}", a.body);
        let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(v["error"], "invalid_request", "{path}");
    }
    for service in [
        "https%3A%2F%2Fgepi.example%2F%00",
        "https%3A%2F%2Fgepi.example%2F%0d%0aSet-Cookie:x",
    ] {
        let a = w.get(&format!("/cas/logout?service={service}"), None).await;
        assert!(a.status < 500, "{service}: {}", a.body);
        assert!(!a.location().contains("gepi"), "{service}: {}", a.location());
    }
    let cookie = format!("{}={admin}", session::COOKIE);
    let a = w
        .post(
            "/console/personnes/nouvelle",
            &cookie,
            "type=enseignant&nom=Blanc&prenom=Marc",
        )
        .await;
    assert_eq!(a.status, 403);
    assert!(a.text().contains("Le formulaire a expiré"), "{}", a.body);
}

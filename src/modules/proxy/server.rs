//! The proxy at run time: listeners, request handling, tunnels, reloads.
//!
//! [`Proxy::start`] binds the listeners of `[proxy]` and spawns, on the
//! current tokio runtime:
//! - explicit proxy listeners: HTTP/1.1 (hyper) with absolute-form
//!   requests forwarded through a pooled client, CONNECT tunnels
//!   (`hyper::upgrade::on` + `copy_bidirectional`), upgrades (WebSocket)
//!   spliced the same way, Basic proxy authentication;
//! - transparent HTTP listeners: origin-form requests, destination from
//!   the Host header;
//! - transparent HTTPS listeners: the ClientHello is read (never answered),
//!   its SNI decides, then the bytes are spliced to the original
//!   destination (`SO_ORIGINAL_DST`), never decrypted; a refusal is a TLS
//!   `access_denied` alert;
//! - a watcher that reloads the lists when `preau blacklists update` (or
//!   `preau proxy reload`) changes their stamp, and re-reads the exams
//!   from the database, every two seconds. Reloads swap an `Arc`: requests
//!   and tunnels in flight keep the index they started with.
//!
//! Limits: connection count (`max_connections`, beyond it 503 or a plain
//! close), request head size (`max_header_bytes`, hyper answers 431) and
//! time (`header_timeout_seconds`, also against slow clients), idle
//! tunnels (`idle_timeout_seconds`), connect time
//! (`connect_timeout_seconds`, 504). Broken origin servers give 502.

use super::directory::{CachedDirectory, Directory, User};
use super::lists::{self, Index};
use super::log::{Entry, Logger};
use super::policy::{self, Clock, Decision, Exam, Policies, Request as PolicyRequest};
use super::settings::{AuthMode, ProxySettings};
use arc_swap::ArcSwap;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Body = BoxBody<Bytes, BoxError>;

/// Which kind of listener a connection came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Explicit proxy (browsers configured to use it).
    Explicit,
    /// Redirected plain HTTP.
    TransparentHttp,
    /// Redirected HTTPS.
    TransparentHttps,
}

/// What the proxy needs to start.
pub struct Launch {
    pub settings: ProxySettings,
    /// Firewall zones policies may name ([`super::zone_sources`]).
    pub zones: Vec<super::settings::SourceGroup>,
    /// Real path of the installed lists.
    pub lists_dir: PathBuf,
    /// Real path of the connection logs directory.
    pub log_dir: PathBuf,
    /// Real path of the database (exams); None: no exams.
    pub db: Option<PathBuf>,
    pub directory: Arc<dyn Directory>,
}

impl Launch {
    /// From the configuration, as `preau serve` runs it.
    pub fn from_context(ctx: &crate::engine::Context<'_>) -> Launch {
        let (host, config, db) = (ctx.host, ctx.config, ctx.db.clone());
        Launch {
            settings: config.proxy.clone(),
            zones: super::zone_sources(config),
            lists_dir: host.real_path(&super::lists_dir(config)),
            log_dir: host.real_path(&super::log_dir(config)),
            db: Some(db.clone()),
            directory: Arc::new(super::directory::StoreDirectory::with_roles(
                db,
                super::directory::RoleGroups::of(&config.accounts),
            )),
        }
    }
}

/// Settings and compiled policies, swapped together on reload.
struct Current {
    settings: ProxySettings,
    policies: Policies,
}

/// State shared by every connection.
pub struct Runtime {
    current: ArcSwap<Current>,
    index: ArcSwap<Index>,
    exams: ArcSwap<Vec<Exam>>,
    directory: Arc<dyn Directory>,
    logger: Logger,
    client: Client<Connector, Body>,
    open: AtomicUsize,
    /// Requests and tunnels handled, for tests and metrics.
    pub handled: AtomicU64,
    pub list_reloads: AtomicU64,
    /// Logins that could not be checked because the directory could not
    /// be read (answered 503), for `/metrics`.
    pub auth_errors: AtomicU64,
    /// Exam reads that failed (the last known exams stayed), for `/metrics`.
    pub exam_errors: AtomicU64,
}

impl Runtime {
    /// Totals of requests and bytes, for `/metrics`.
    pub fn counters(&self) -> &super::log::Counters {
        self.logger.counters()
    }

    /// Connections open right now.
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }
}

/// A running proxy.
pub struct Proxy {
    pub runtime: Arc<Runtime>,
    /// Bound addresses with their mode.
    pub addresses: Vec<(Mode, SocketAddr)>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn seconds(n: u32) -> Duration {
    Duration::from_secs(u64::from(n))
}

impl Proxy {
    /// Binds every listener and starts serving on the current runtime.
    pub async fn start(launch: Launch) -> anyhow::Result<Proxy> {
        use anyhow::Context as _;
        let s = &launch.settings;
        let mut listeners = Vec::new();
        for (mode, list) in [
            (Mode::Explicit, &s.listen),
            (Mode::TransparentHttp, &s.transparent_http),
            (Mode::TransparentHttps, &s.transparent_https),
        ] {
            for a in list {
                let addr: SocketAddr = a
                    .parse()
                    .with_context(|| format!("\"{a}\" is not an address and port"))?;
                let l = TcpListener::bind(addr).await.with_context(|| {
                    format!(
                        "cannot listen on {addr} for the proxy; is another proxy (squid?) using this port?"
                    )
                })?;
                listeners.push((mode, l));
            }
        }
        // The lists: a broken or missing set leaves the proxy running on
        // local lists only, and says so.
        let index = match lists::stamp(&launch.lists_dir) {
            Some(_) => {
                let dir = launch.lists_dir.clone();
                match tokio::task::spawn_blocking(move || Index::load(&dir)).await? {
                    Ok(i) => {
                        log::info!(domains = i.domain_count(), ms = i.load_time.as_millis() as u64; "proxy lists loaded");
                        i
                    }
                    Err(e) => {
                        log::error!(error = e.to_string().as_str(); "proxy lists not loaded: filtering by local lists only");
                        Index::default()
                    }
                }
            }
            None => {
                log::warn!(dir = launch.lists_dir.display().to_string().as_str(); "no category lists installed: run `preau blacklists update`");
                Index::default()
            }
        };
        let directory: Arc<dyn Directory> = Arc::new(CachedDirectory::new(
            ArcDirectory(launch.directory.clone()),
            seconds(s.auth_cache_seconds),
        ));
        let mut http = HttpConnector::new_with_resolver(Resolver);
        http.set_connect_timeout(Some(seconds(s.connect_timeout_seconds)));
        http.set_nodelay(true);
        let connector = Connector {
            http,
            parent: parent_of(&s.parent),
            timeout: seconds(s.connect_timeout_seconds),
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(256)
            .set_host(false)
            .build(connector);
        // At start nothing is known yet: an unreadable database is logged
        // and read again by the watcher every two seconds.
        let (exams, exam_error) = match &launch.db {
            Some(db) => match read_exams(db.clone()).await {
                Ok(e) => (e, None),
                Err(e) => (Vec::new(), Some(e)),
            },
            None => (Vec::new(), None),
        };
        let runtime = Arc::new(Runtime {
            current: ArcSwap::from_pointee(Current {
                policies: Policies::new(s, &launch.zones),
                settings: s.clone(),
            }),
            index: ArcSwap::from_pointee(index),
            exams: ArcSwap::from_pointee(exams),
            directory,
            logger: Logger::start(launch.log_dir.clone(), s.log_retention_days),
            client,
            open: AtomicUsize::new(0),
            handled: AtomicU64::new(0),
            list_reloads: AtomicU64::new(0),
            auth_errors: AtomicU64::new(0),
            exam_errors: AtomicU64::new(0),
        });
        if let Some(e) = exam_error {
            take_exams(&runtime, Err(e));
        }
        let mut addresses = Vec::new();
        let mut tasks = Vec::new();
        for (mode, l) in listeners {
            let addr = l.local_addr()?;
            log::info!(address = addr.to_string().as_str(), mode = format!("{mode:?}").as_str(); "proxy listening");
            addresses.push((mode, addr));
            tasks.push(tokio::spawn(accept_loop(l, mode, runtime.clone())));
        }
        tasks.push(tokio::spawn(watch(
            runtime.clone(),
            launch.lists_dir.clone(),
            launch.db.clone(),
        )));
        Ok(Proxy {
            runtime,
            addresses,
            tasks,
        })
    }

    /// The first address of a mode.
    pub fn address(&self, mode: Mode) -> Option<SocketAddr> {
        self.addresses.iter().find(|(m, _)| *m == mode).map(|a| a.1)
    }

    /// New settings (SIGHUP): policies, limits and timeouts apply to new
    /// requests; listeners and the parent proxy stay until a restart.
    pub fn set_settings(&self, settings: &ProxySettings, zones: &[super::settings::SourceGroup]) {
        self.runtime.current.store(Arc::new(Current {
            policies: Policies::new(settings, zones),
            settings: settings.clone(),
        }));
    }
}

struct ArcDirectory(Arc<dyn Directory>);

impl Directory for ArcDirectory {
    fn authenticate(
        &self,
        login: &str,
        password: &str,
    ) -> Result<Option<User>, super::directory::DirectoryError> {
        self.0.authenticate(login, password)
    }
    fn groups_of(&self, login: &str) -> Vec<String> {
        self.0.groups_of(login)
    }
}

/// The exams active now. A missing database holds none; a database that
/// cannot be read is an error, for the caller to keep what it knew.
async fn read_exams(db: PathBuf) -> Result<Vec<Exam>, String> {
    tokio::task::spawn_blocking(move || {
        if !db.exists() {
            return Ok(Vec::new());
        }
        let conn = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| e.to_string())?;
        conn.busy_timeout(Duration::from_secs(2))
            .map_err(|e| e.to_string())?;
        super::exams::active(&conn, Clock::now().unix).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Takes in what a read of the exams gave. Exam mode fails closed: on an
/// error the last known exams stay (a room in whitelist-only mode stays
/// so), the error is logged and counted.
fn take_exams(rt: &Runtime, read: Result<Vec<Exam>, String>) {
    match read {
        Ok(exams) => {
            if **rt.exams.load() != exams {
                rt.exams.store(Arc::new(exams));
            }
        }
        Err(e) => {
            rt.exam_errors.fetch_add(1, Ordering::Relaxed);
            log::error!(error = e.as_str(), kept = rt.exams.load().len(); "cannot read the exams: keeping the last known ones");
        }
    }
}

/// Every two seconds: reload the lists when their stamp changed, re-read
/// the exams.
async fn watch(rt: Arc<Runtime>, lists_dir: PathBuf, db: Option<PathBuf>) {
    let mut stamp = lists::stamp(&lists_dir);
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = lists::stamp(&lists_dir);
        if now.is_some() && now != stamp {
            stamp = now;
            let dir = lists_dir.clone();
            match tokio::task::spawn_blocking(move || Index::load(&dir)).await {
                Ok(Ok(index)) => {
                    log::info!(domains = index.domain_count(), ms = index.load_time.as_millis() as u64; "proxy lists reloaded");
                    rt.index.store(Arc::new(index));
                    rt.list_reloads.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Err(e)) => {
                    log::error!(error = e.to_string().as_str(); "proxy lists reload refused: keeping the running ones")
                }
                Err(_) => {}
            }
        }
        if let Some(db) = &db {
            take_exams(&rt, read_exams(db.clone()).await);
        }
    }
}

struct OpenGuard(Arc<Runtime>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn accept_loop(listener: TcpListener, mode: Mode, rt: Arc<Runtime>) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(a) => a,
            Err(e) => {
                log::warn!(error = e.to_string().as_str(); "proxy accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let max = rt.current.load().settings.max_connections as usize;
        if rt.open.fetch_add(1, Ordering::Relaxed) >= max {
            rt.open.fetch_sub(1, Ordering::Relaxed);
            if mode != Mode::TransparentHttps {
                tokio::spawn(async move {
                    let mut tcp = tcp;
                    let _ = tcp
                        .write_all(b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
                        .await;
                });
            }
            continue;
        }
        let _ = tcp.set_nodelay(true);
        let guard = OpenGuard(rt.clone());
        let rt = rt.clone();
        tokio::spawn(async move {
            let _guard = guard;
            match mode {
                Mode::TransparentHttps => transparent_tls(rt, tcp, peer).await,
                _ => serve_http(rt, tcp, peer, mode).await,
            }
        });
    }
}

async fn serve_http(rt: Arc<Runtime>, tcp: TcpStream, peer: SocketAddr, mode: Mode) {
    let (max_buf, header_timeout) = {
        let c = rt.current.load();
        (
            c.settings.max_header_bytes.max(8192) as usize,
            seconds(c.settings.header_timeout_seconds),
        )
    };
    let local = tcp.local_addr().ok();
    let service = hyper::service::service_fn(move |req| {
        let rt = rt.clone();
        async move { Ok::<_, Infallible>(handle(rt, peer, local, mode, req).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(max_buf)
        .keep_alive(true)
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades();
    if let Err(e) = conn.await {
        log::debug!(peer = peer.to_string().as_str(), error = e.to_string().as_str(); "proxy connection ended with an error");
    }
}

/// IPv4 clients of an IPv6 listener appear as ::ffff:a.b.c.d: log them
/// as a.b.c.d.
fn canonical(peer: SocketAddr) -> SocketAddr {
    SocketAddr::new(peer.ip().to_canonical(), peer.port())
}

fn full(body: impl Into<Bytes>) -> Body {
    Full::new(body.into()).map_err(|never| match never {}).boxed()
}

fn empty() -> Body {
    full(Bytes::new())
}

fn text(status: StatusCode, message: &str) -> Response<Body> {
    let mut r = Response::new(full(format!("{message}\n")));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The French block page.
pub fn block_page(host: &str, path: &str, d: &Decision, contact: &str) -> String {
    let category = d.category().map_or(String::new(), |c| {
        format!("<p>Catégorie : <strong>{}</strong></p>", html_escape(c))
    });
    format!(
        r#"<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Accès bloqué</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:3em auto;color:#222}}h1{{color:#a00}}code{{word-break:break-all}}</style>
</head><body>
<h1>Accès bloqué</h1>
<p>L'accès à <code>{url}</code> a été bloqué par le filtrage de l'établissement.</p>
{category}
<p>Raison : {why}.</p>
<p>Si ce site est utile à votre travail, demandez son déblocage à {contact}, en indiquant l'adresse ci-dessus.</p>
</body></html>
"#,
        url = html_escape(&format!("{host}{path}")),
        why = html_escape(&d.explain()),
        contact = html_escape(contact),
    )
}

/// The Proxy-Authorization credentials, if well formed.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let v = headers.get(header::PROXY_AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = v.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (l, p) = s.split_once(':')?;
    Some((l.to_string(), p.to_string()))
}

/// Whether a destination names the loopback (as written).
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| {
            let ip = ip.to_canonical();
            ip.is_loopback() || ip.is_unspecified()
        })
}

/// Splits "host:port" (with [v6] support) with a default port.
fn host_port(authority: &str, default: u16) -> Option<(String, u16)> {
    let (h, p) = if let Some(rest) = authority.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        (h, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match p {
        Some(p) => p.parse().ok()?,
        None => default,
    };
    let host = lists::normalize_host(h)?;
    Some((host, port))
}

fn parent_of(s: &str) -> Option<(String, u16)> {
    if s.is_empty() { None } else { host_port(s, 3128) }
}

/// Headers a proxy must not forward (RFC 9110 §7.6.1), plus those named
/// in Connection.
fn strip_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .filter(|n| !(keep_upgrade && n == header::UPGRADE))
        .collect();
    for n in named {
        headers.remove(n);
    }
    for n in [
        header::PROXY_AUTHORIZATION,
        header::PROXY_AUTHENTICATE,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
    ] {
        headers.remove(n);
    }
    headers.remove("proxy-connection");
    headers.remove("keep-alive");
    if keep_upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    } else {
        headers.remove(header::CONNECTION);
        headers.remove(header::UPGRADE);
    }
}

fn wants_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE)
        && headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("upgrade")))
}

/// Logs one entry when dropped: when the response body is done (or
/// abandoned), with the bytes counted by then.
struct LogOnDrop {
    rt: Arc<Runtime>,
    entry: Option<Entry>,
    up: Arc<AtomicU64>,
    down: Arc<AtomicU64>,
    status: Arc<AtomicU64>,
}

impl Drop for LogOnDrop {
    fn drop(&mut self) {
        if let Some(mut e) = self.entry.take() {
            e.bytes_up = self.up.load(Ordering::Relaxed);
            e.bytes_down = self.down.load(Ordering::Relaxed);
            let status = self.status.load(Ordering::Relaxed);
            if status != 0 {
                e.status = status as u16;
            }
            self.rt.logger.log(e);
        }
    }
}

fn counted(body: Body, counter: Arc<AtomicU64>, guard: Option<Arc<LogOnDrop>>) -> Body {
    body.map_frame(move |f| {
        let _ = &guard;
        if let Some(d) = f.data_ref() {
            counter.fetch_add(d.len() as u64, Ordering::Relaxed);
        }
        f
    })
    .boxed()
}

fn user_label(user: &Option<User>) -> String {
    user.as_ref().map(|u| u.login.clone()).unwrap_or_default()
}

fn decide(
    rt: &Runtime,
    host: &str,
    path: Option<&str>,
    method: &str,
    source: IpAddr,
    user: Option<&User>,
) -> Decision {
    let current = rt.current.load();
    let index = rt.index.load();
    let exams = rt.exams.load();
    let req = PolicyRequest {
        host,
        path,
        method,
        source,
        user,
    };
    policy::decide(&req, &Clock::now(), &current.policies, &exams, &index)
}

async fn handle(
    rt: Arc<Runtime>,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    mode: Mode,
    mut req: Request<Incoming>,
) -> Response<Body> {
    rt.handled.fetch_add(1, Ordering::Relaxed);
    let current = rt.current.load_full();
    let settings = &current.settings;
    let mut entry = Entry {
        source: canonical(peer).to_string(),
        method: req.method().to_string(),
        mode: match mode {
            Mode::Explicit if req.method() == Method::CONNECT => "connect",
            Mode::Explicit => "proxy",
            _ => "http",
        }
        .into(),
        ..Entry::default()
    };
    // Who: proxy authentication (explicit proxy only).
    let mut user = None;
    if mode == Mode::Explicit && settings.authentication != AuthMode::Off {
        if let Some((login, password)) = basic_credentials(req.headers()) {
            let dir = rt.directory.clone();
            let l = login.clone();
            match tokio::task::spawn_blocking(move || dir.authenticate(&l, &password)).await {
                Ok(Ok(found)) => user = found,
                // The directory cannot say: not an unknown user (407), a
                // service that is unavailable for now.
                outcome => {
                    let why = match outcome {
                        Ok(Err(e)) => e.to_string(),
                        _ => "the verification task failed".to_string(),
                    };
                    rt.auth_errors.fetch_add(1, Ordering::Relaxed);
                    log::error!(login = login.as_str(), error = why.as_str(); "proxy authentication unavailable");
                    entry.user = login;
                    entry.status = 503;
                    entry.decision = "error".into();
                    rt.logger.log(entry);
                    return text(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Identification impossible pour le moment (annuaire indisponible). Réessayez dans un instant.",
                    );
                }
            }
            if user.is_none() {
                entry.user = login;
            }
        }
        if user.is_none() && (settings.authentication == AuthMode::Required || !entry.user.is_empty()) {
            entry.status = 407;
            entry.decision = "auth".into();
            rt.logger.log(entry);
            let mut r = text(
                StatusCode::PROXY_AUTHENTICATION_REQUIRED,
                "Identification requise pour utiliser le proxy.",
            );
            r.headers_mut().insert(
                header::PROXY_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Proxy Preau\", charset=\"UTF-8\""),
            );
            return r;
        }
    }
    entry.user = user_label(&user);

    // Where to.
    let is_connect = req.method() == Method::CONNECT;
    let target = if is_connect {
        req.uri().authority().and_then(|a| host_port(a.as_str(), 443))
    } else if req.uri().scheme().is_some() {
        if req.uri().scheme_str() != Some("http") {
            entry.status = 400;
            entry.decision = "error".into();
            rt.logger.log(entry);
            return text(
                StatusCode::BAD_REQUEST,
                "Seules les adresses http:// passent en clair par le proxy ; https passe par CONNECT.",
            );
        }
        req.uri().authority().and_then(|a| host_port(a.as_str(), 80))
    } else if mode == Mode::TransparentHttp {
        req.headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| host_port(h, 80))
    } else {
        None
    };
    let Some((host, port)) = target else {
        entry.status = 400;
        entry.decision = "error".into();
        rt.logger.log(entry);
        return text(
            StatusCode::BAD_REQUEST,
            "Requête invalide : destination absente ou incorrecte. Configurez ce serveur comme proxy HTTP du navigateur.",
        );
    };
    // A transparent request addressed to the proxy itself would loop.
    if mode == Mode::TransparentHttp
        && let (Some(local), Ok(ip)) = (local, host.parse::<IpAddr>())
        && ip == local.ip()
        && port == local.port()
    {
        entry.status = 400;
        rt.logger.log(entry);
        return text(StatusCode::BAD_REQUEST, "Requête adressée au proxy lui-même.");
    }
    // Loopback destinations and unusual CONNECT ports.
    let refused = if !settings.local_destinations && is_loopback(&host) {
        Some("destination locale interdite")
    } else if is_connect && !settings.connect_ports.is_empty() && !settings.connect_ports.contains(&port) {
        Some("port interdit pour un tunnel")
    } else {
        None
    };
    if let Some(why) = refused {
        entry.host = format!("{host}:{port}");
        entry.status = 403;
        entry.decision = "deny".into();
        rt.logger.log(entry);
        return text(
            StatusCode::FORBIDDEN,
            &format!("Accès à {host}:{port} refusé : {why}."),
        );
    }
    let path = (!is_connect).then(|| {
        req.uri()
            .path_and_query()
            .map_or("/".to_string(), |p| p.as_str().to_string())
    });
    entry.host = if port == 80 || port == 443 {
        host.clone()
    } else {
        format!("{host}:{port}")
    };
    entry.path = path.clone().unwrap_or_default();

    // Decide.
    let d = decide(
        &rt,
        &host,
        path.as_deref(),
        req.method().as_str(),
        peer.ip(),
        user.as_ref(),
    );
    entry.policy = d.policy.clone();
    entry.category = d.category().unwrap_or_default().to_string();
    if !d.allow {
        entry.status = 403;
        entry.decision = "deny".into();
        rt.logger.log(entry);
        if is_connect {
            return text(
                StatusCode::FORBIDDEN,
                &format!(
                    "Accès à {host} bloqué : {}. Pour le débloquer, demandez à {}.",
                    d.explain(),
                    settings.contact
                ),
            );
        }
        let mut r = Response::new(full(block_page(
            &host,
            path.as_deref().unwrap_or(""),
            &d,
            &settings.contact,
        )));
        *r.status_mut() = StatusCode::FORBIDDEN;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return r;
    }
    entry.decision = "allow".into();

    if is_connect {
        return connect_tunnel(rt, req, entry, host, port, settings).await;
    }

    // Forward plain HTTP.
    let upgrade = wants_upgrade(req.headers());
    let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut req));
    let (mut parts, body) = req.into_parts();
    strip_hop_by_hop(&mut parts.headers, upgrade);
    // Absolute form: the target's authority replaces any Host header
    // (RFC 9112 §3.2.2); transparent requests keep theirs.
    if mode == Mode::Explicit || !parts.headers.contains_key(header::HOST) {
        let h = if port == 80 {
            host.clone()
        } else {
            format!("{host}:{port}")
        };
        if let Ok(v) = HeaderValue::from_str(&h) {
            parts.headers.insert(header::HOST, v);
        }
    }
    let uri = format!("http://{}{}", entry.host, path.as_deref().unwrap_or("/"));
    parts.uri = match uri.parse::<Uri>() {
        Ok(u) => u,
        Err(_) => {
            entry.status = 400;
            rt.logger.log(entry);
            return text(StatusCode::BAD_REQUEST, "Adresse invalide.");
        }
    };
    parts.version = hyper::Version::HTTP_11;
    let up = Arc::new(AtomicU64::new(0));
    let down = Arc::new(AtomicU64::new(0));
    let status = Arc::new(AtomicU64::new(0));
    let guard = Arc::new(LogOnDrop {
        rt: rt.clone(),
        entry: Some(entry),
        up: up.clone(),
        down: down.clone(),
        status: status.clone(),
    });
    let outgoing = Request::from_parts(
        parts,
        counted(body.map_err(BoxError::from).boxed(), up.clone(), None),
    );
    let response = tokio::time::timeout(
        seconds(settings.idle_timeout_seconds),
        rt.client.request(outgoing),
    )
    .await;
    let mut resp = match response {
        Err(_) => {
            status.store(504, Ordering::Relaxed);
            return text(
                StatusCode::GATEWAY_TIMEOUT,
                &format!("Le serveur {host} ne répond pas."),
            );
        }
        Ok(Err(e)) => {
            let cause = Upstream::of(&e);
            let code = if cause == Upstream::Timeout {
                StatusCode::GATEWAY_TIMEOUT
            } else {
                StatusCode::BAD_GATEWAY
            };
            status.store(u64::from(code.as_u16()), Ordering::Relaxed);
            log::debug!(host = host.as_str(), error = format!("{e:?}").as_str(); "origin request failed");
            return text(
                code,
                &format!("Impossible de joindre le serveur {host} : {}.", cause.fr()),
            );
        }
        Ok(Ok(r)) => r,
    };
    status.store(u64::from(resp.status().as_u16()), Ordering::Relaxed);
    if resp.status() == StatusCode::SWITCHING_PROTOCOLS
        && let Some(client_upgrade) = client_upgrade
    {
        let server_upgrade = hyper::upgrade::on(&mut resp);
        let idle = seconds(settings.idle_timeout_seconds);
        let guard = guard.clone();
        tokio::spawn(async move {
            if let (Ok(c), Ok(s)) = (client_upgrade.await, server_upgrade.await) {
                let (a, b) = splice(TokioIo::new(c), TokioIo::new(s), idle).await;
                guard.up.fetch_add(a, Ordering::Relaxed);
                guard.down.fetch_add(b, Ordering::Relaxed);
            }
        });
        let (mut parts, _) = resp.into_parts();
        strip_hop_by_hop(&mut parts.headers, true);
        return Response::from_parts(parts, empty());
    }
    let (mut parts, body) = resp.into_parts();
    strip_hop_by_hop(&mut parts.headers, false);
    Response::from_parts(
        parts,
        counted(body.map_err(BoxError::from).boxed(), down, Some(guard)),
    )
}

/// Why an origin could not be reached, read from the error's types
/// (its chain of sources), never from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upstream {
    Timeout,
    UnknownName,
    Refused,
    Unreachable,
    BadResponse,
}

impl Upstream {
    fn of(e: &hyper_util::client::legacy::Error) -> Upstream {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(c) = cause {
            if c.downcast_ref::<NameError>().is_some() {
                return Upstream::UnknownName;
            }
            if let Some(io) = c.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::TimedOut => return Upstream::Timeout,
                    std::io::ErrorKind::ConnectionRefused => return Upstream::Refused,
                    _ => {}
                }
            }
            cause = c.source();
        }
        if e.is_connect() {
            Upstream::Unreachable
        } else {
            Upstream::BadResponse
        }
    }

    fn fr(self) -> &'static str {
        match self {
            Upstream::Timeout => "délai dépassé",
            Upstream::UnknownName => "nom inconnu",
            Upstream::Refused => "connexion refusée",
            Upstream::Unreachable => "connexion impossible",
            Upstream::BadResponse => "réponse invalide",
        }
    }
}

/// A name that did not resolve (its own type, so that [`Upstream::of`]
/// tells it from other failures).
#[derive(Debug, thiserror::Error)]
#[error("cannot resolve {name}: {cause}")]
struct NameError {
    name: String,
    cause: std::io::Error,
}

/// The origin connector's resolver: the system's, with [`NameError`]s.
#[derive(Debug, Clone, Copy)]
struct Resolver;

impl tower::Service<hyper_util::client::legacy::connect::dns::Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = NameError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, NameError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), NameError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: hyper_util::client::legacy::connect::dns::Name) -> Self::Future {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map(|addrs| addrs.collect::<Vec<_>>());
            match found {
                Ok(addrs) => Ok(addrs.into_iter()),
                Err(cause) => Err(NameError { name: host, cause }),
            }
        })
    }
}

/// Connects to `host:port`, directly or through the parent proxy.
async fn open_upstream(
    host: &str,
    port: u16,
    parent: Option<&(String, u16)>,
    timeout: Duration,
) -> std::io::Result<TcpStream> {
    let connect = async {
        match parent {
            None => TcpStream::connect((host, port)).await,
            Some((ph, pp)) => {
                let mut s = TcpStream::connect((ph.as_str(), *pp)).await?;
                let authority = if host.contains(':') {
                    format!("[{host}]:{port}")
                } else {
                    format!("{host}:{port}")
                };
                s.write_all(format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n").as_bytes())
                    .await?;
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if s.read(&mut byte).await? == 0 || head.len() > 16384 {
                        return Err(std::io::Error::other("the parent proxy closed the connection"));
                    }
                    head.push(byte[0]);
                }
                let line = String::from_utf8_lossy(&head);
                if line.split_whitespace().nth(1) != Some("200") {
                    return Err(std::io::Error::other(format!(
                        "the parent proxy refused: {}",
                        line.lines().next().unwrap_or("")
                    )));
                }
                Ok(s)
            }
        }
    };
    match tokio::time::timeout(timeout, connect).await {
        Ok(r) => {
            let s = r?;
            let _ = s.set_nodelay(true);
            Ok(s)
        }
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "connect timed out",
        )),
    }
}

async fn connect_tunnel(
    rt: Arc<Runtime>,
    req: Request<Incoming>,
    mut entry: Entry,
    host: String,
    port: u16,
    settings: &ProxySettings,
) -> Response<Body> {
    let parent = parent_of(&settings.parent);
    let upstream = match open_upstream(
        &host,
        port,
        parent.as_ref(),
        seconds(settings.connect_timeout_seconds),
    )
    .await
    {
        Ok(s) => s,
        Err(e) => {
            let code = if e.kind() == std::io::ErrorKind::TimedOut {
                StatusCode::GATEWAY_TIMEOUT
            } else {
                StatusCode::BAD_GATEWAY
            };
            entry.status = code.as_u16();
            rt.logger.log(entry);
            return text(code, &format!("Impossible de joindre {host}:{port} : {e}."));
        }
    };
    entry.status = 200;
    let idle = seconds(settings.idle_timeout_seconds);
    tokio::spawn(async move {
        match hyper::upgrade::on(req).await {
            Ok(upgraded) => {
                let (up, down) = splice(TokioIo::new(upgraded), upstream, idle).await;
                entry.bytes_up = up;
                entry.bytes_down = down;
            }
            Err(e) => log::debug!(error = e.to_string().as_str(); "CONNECT upgrade failed"),
        }
        rt.logger.log(entry);
    });
    Response::new(empty())
}

/// An I/O stream that counts bytes and notes activity.
struct Watched<S> {
    inner: S,
    read: Arc<AtomicU64>,
    last: Arc<AtomicU64>,
    epoch: tokio::time::Instant,
}

impl<S> Watched<S> {
    fn touch(&self) {
        self.last
            .store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        if n > 0 {
            self.read.fetch_add(n as u64, Ordering::Relaxed);
            self.touch();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Copies both ways until both ends close or nothing moves for `idle`;
/// returns (bytes from the client, bytes from the server).
async fn splice<A, B>(client: A, server: B, idle: Duration) -> (u64, u64)
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let epoch = tokio::time::Instant::now();
    let last = Arc::new(AtomicU64::new(0));
    let up = Arc::new(AtomicU64::new(0));
    let down = Arc::new(AtomicU64::new(0));
    let mut a = Watched {
        inner: client,
        read: up.clone(),
        last: last.clone(),
        epoch,
    };
    let mut b = Watched {
        inner: server,
        read: down.clone(),
        last: last.clone(),
        epoch,
    };
    let copy = tokio::io::copy_bidirectional(&mut a, &mut b);
    tokio::pin!(copy);
    loop {
        let since = Duration::from_millis(last.load(Ordering::Relaxed));
        let deadline = epoch + since + idle;
        tokio::select! {
            _ = &mut copy => break,
            _ = tokio::time::sleep_until(deadline) => {
                if Duration::from_millis(last.load(Ordering::Relaxed)) == since {
                    break;
                }
            }
        }
    }
    (up.load(Ordering::Relaxed), down.load(Ordering::Relaxed))
}

/// What the start of a TLS connection says.
#[derive(Debug, PartialEq, Eq)]
pub enum Hello {
    /// A complete ClientHello, with its server name if any.
    Complete(Option<String>),
    /// More bytes are needed.
    Partial,
    /// Not a TLS ClientHello.
    Invalid,
}

/// Reads the SNI of a ClientHello from the first bytes of a connection
/// (possibly spread over several records).
pub fn parse_client_hello(buf: &[u8]) -> Hello {
    use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake};
    // Gather the handshake bytes of the leading handshake records.
    let mut handshake = Vec::new();
    let mut rest = buf;
    loop {
        if rest.len() < 5 {
            break;
        }
        if rest[0] != 0x16 || rest[1] != 0x03 {
            return Hello::Invalid;
        }
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        if len == 0 || len > 16384 + 2048 {
            return Hello::Invalid;
        }
        if rest.len() < 5 + len {
            break;
        }
        handshake.extend_from_slice(&rest[5..5 + len]);
        rest = &rest[5 + len..];
        if handshake.len() >= 4 {
            let need = 4
                + (usize::from(handshake[1]) << 16
                    | usize::from(handshake[2]) << 8
                    | usize::from(handshake[3]));
            if handshake.len() >= need {
                break;
            }
        }
    }
    if handshake.len() < 4 {
        return if buf.is_empty() || (buf[0] == 0x16 && (buf.len() < 2 || buf[1] == 0x03)) {
            Hello::Partial
        } else {
            Hello::Invalid
        };
    }
    if handshake[0] != 0x01 {
        return Hello::Invalid;
    }
    let need =
        4 + (usize::from(handshake[1]) << 16 | usize::from(handshake[2]) << 8 | usize::from(handshake[3]));
    if need > 65536 {
        return Hello::Invalid;
    }
    if handshake.len() < need {
        return Hello::Partial;
    }
    match tls_parser::parse_tls_message_handshake(&handshake[..need]) {
        Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch)))) => {
            let mut sni = None;
            if let Some(ext) = ch.ext
                && let Ok((_, exts)) = tls_parser::parse_tls_extensions(ext)
            {
                for e in exts {
                    if let TlsExtension::SNI(names) = e {
                        for (kind, name) in names {
                            if kind.0 == 0 {
                                sni = std::str::from_utf8(name).ok().and_then(lists::normalize_host);
                            }
                        }
                    }
                }
            }
            Hello::Complete(sni)
        }
        _ => Hello::Invalid,
    }
}

/// The destination a firewall REDIRECT rewrote (SO_ORIGINAL_DST).
fn original_destination(tcp: &TcpStream) -> Option<SocketAddr> {
    use nix::sys::socket::{getsockopt, sockopt};
    let local = tcp.local_addr().ok()?;
    let dst = match local {
        SocketAddr::V4(_) => {
            let a = getsockopt(tcp, sockopt::OriginalDst).ok()?;
            let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            SocketAddr::from((ip, u16::from_be(a.sin_port)))
        }
        SocketAddr::V6(_) => {
            let a = getsockopt(tcp, sockopt::Ip6tOriginalDst).ok()?;
            let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
            SocketAddr::from((ip, u16::from_be(a.sin6_port)))
        }
    };
    // Not redirected: the "original" destination is the listener itself.
    (dst != local).then_some(dst)
}

/// A fatal TLS alert, access_denied: the browser shows a clean error.
const TLS_ACCESS_DENIED: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 49];

async fn transparent_tls(rt: Arc<Runtime>, mut tcp: TcpStream, peer: SocketAddr) {
    let current = rt.current.load_full();
    let settings = &current.settings;
    let mut entry = Entry {
        source: canonical(peer).to_string(),
        method: "TLS".into(),
        mode: "https".into(),
        ..Entry::default()
    };
    let mut buf = Vec::with_capacity(2048);
    let deadline = tokio::time::Instant::now() + seconds(settings.header_timeout_seconds);
    let hello = loop {
        match parse_client_hello(&buf) {
            Hello::Partial if buf.len() < 65536 + 4096 => {}
            Hello::Partial => break Hello::Invalid,
            other => break other,
        }
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout_at(deadline, tcp.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break Hello::Partial,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let original = original_destination(&tcp);
    let sni = match hello {
        Hello::Complete(sni) => sni,
        Hello::Partial | Hello::Invalid => {
            // Truncated, slow or not TLS: refuse cleanly.
            entry.status = 400;
            entry.decision = "error".into();
            entry.host = original.map(|o| o.ip().to_string()).unwrap_or_default();
            rt.logger.log(entry);
            let _ = tcp.write_all(&TLS_ACCESS_DENIED).await;
            let _ = tcp.shutdown().await;
            return;
        }
    };
    let (host, port) = match (&sni, original) {
        (Some(name), Some(o)) => (name.clone(), o.port()),
        (Some(name), None) => (name.clone(), 443),
        (None, Some(o)) => (o.ip().to_string(), o.port()),
        (None, None) => {
            entry.status = 400;
            entry.decision = "error".into();
            rt.logger.log(entry);
            let _ = tcp.write_all(&TLS_ACCESS_DENIED).await;
            return;
        }
    };
    entry.host = if port == 443 {
        host.clone()
    } else {
        format!("{host}:{port}")
    };
    let d = decide(&rt, &host, None, "TLS", peer.ip(), None);
    entry.policy = d.policy.clone();
    entry.category = d.category().unwrap_or_default().to_string();
    if !d.allow {
        entry.status = 403;
        entry.decision = "deny".into();
        rt.logger.log(entry);
        let _ = tcp.write_all(&TLS_ACCESS_DENIED).await;
        let _ = tcp.shutdown().await;
        return;
    }
    entry.decision = "allow".into();
    // Connect to the address the client wanted (the name could lie about
    // it, but the decision was taken on the name, which the server's
    // certificate must match).
    let parent = parent_of(&settings.parent);
    let timeout = seconds(settings.connect_timeout_seconds);
    let upstream = match (original, &parent) {
        (Some(o), None) => match tokio::time::timeout(timeout, TcpStream::connect(o)).await {
            Ok(r) => r,
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "connect timed out",
            )),
        },
        _ => open_upstream(&host, port, parent.as_ref(), timeout).await,
    };
    let mut upstream = match upstream {
        Ok(u) => u,
        Err(e) => {
            entry.status = if e.kind() == std::io::ErrorKind::TimedOut {
                504
            } else {
                502
            };
            rt.logger.log(entry);
            let _ = tcp.write_all(&TLS_ACCESS_DENIED).await;
            return;
        }
    };
    let _ = upstream.set_nodelay(true);
    if upstream.write_all(&buf).await.is_err() {
        entry.status = 502;
        rt.logger.log(entry);
        return;
    }
    entry.status = 200;
    let (up, down) = splice(tcp, upstream, seconds(settings.idle_timeout_seconds)).await;
    entry.bytes_up = up + buf.len() as u64;
    entry.bytes_down = down;
    rt.logger.log(entry);
}

/// Connects to origin servers for the pooled client, or to the parent
/// proxy (then requests keep their absolute form).
#[derive(Clone)]
struct Connector {
    http: HttpConnector<Resolver>,
    parent: Option<(String, u16)>,
    timeout: Duration,
}

struct Conn {
    io: TokioIo<TcpStream>,
    proxied: bool,
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        Connected::new().proxy(self.proxied)
    }
}

impl hyper::rt::Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

impl tower::Service<Uri> for Connector {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        tower::Service::<Uri>::poll_ready(&mut self.http, cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        match self.parent.clone() {
            None => {
                let fut = tower::Service::<Uri>::call(&mut self.http, uri);
                Box::pin(async move {
                    Ok(Conn {
                        io: fut.await?,
                        proxied: false,
                    })
                })
            }
            Some((host, port)) => {
                let timeout = self.timeout;
                Box::pin(async move {
                    let s = tokio::time::timeout(timeout, TcpStream::connect((host.as_str(), port)))
                        .await
                        .map_err(|_| {
                            std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                "parent proxy connect timed out",
                            )
                        })??;
                    let _ = s.set_nodelay(true);
                    Ok(Conn {
                        io: TokioIo::new(s),
                        proxied: true,
                    })
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Origin failures are told apart by the types in the error's chain
    /// (issue 9: it was the text of their Debug form).
    #[tokio::test]
    async fn origin_failures_are_classified_by_type() {
        let mut http = HttpConnector::new_with_resolver(Resolver);
        http.set_connect_timeout(Some(Duration::from_secs(2)));
        let connector = Connector {
            http,
            parent: None,
            timeout: Duration::from_secs(2),
        };
        let client: Client<Connector, Body> = Client::builder(TokioExecutor::new()).build(connector);
        let get = |url: String| Request::get(url).body(empty()).unwrap();
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = client
            .request(get(format!("http://127.0.0.1:{closed}/")))
            .await
            .unwrap_err();
        assert_eq!(Upstream::of(&e), Upstream::Refused, "{e:?}");
        let e = client
            .request(get("http://nonexistent.invalid/".into()))
            .await
            .unwrap_err();
        assert_eq!(Upstream::of(&e), Upstream::UnknownName, "{e:?}");
        assert_eq!(Upstream::UnknownName.fr(), "nom inconnu");
    }

    #[test]
    fn authorities() {
        assert_eq!(host_port("Ex.test:8443", 443), Some(("ex.test".into(), 8443)));
        assert_eq!(host_port("ex.test", 80), Some(("ex.test".into(), 80)));
        assert_eq!(host_port("[::1]:8080", 80), Some(("::1".into(), 8080)));
        assert_eq!(host_port("ex.test:99999", 80), None);
        assert_eq!(host_port("bad host", 80), None);
    }

    #[test]
    fn hop_by_hop_headers_are_removed() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert(
            header::PROXY_AUTHORIZATION,
            HeaderValue::from_static("Basic eDp5"),
        );
        h.insert("proxy-connection", HeaderValue::from_static("keep-alive"));
        h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h.len(), 1, "{h:?}");
    }

    #[test]
    fn basic_credentials_are_read() {
        let mut h = HeaderMap::new();
        h.insert(
            header::PROXY_AUTHORIZATION,
            HeaderValue::from_static("Basic bGVhOnMzY3I6ZXQ="),
        );
        assert_eq!(basic_credentials(&h), Some(("lea".into(), "s3cr:et".into())));
        h.insert(header::PROXY_AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert_eq!(basic_credentials(&h), None);
    }

    /// A ClientHello for `name` made by rustls.
    pub fn client_hello(name: &str) -> Vec<u8> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let roots = rustls::RootCertStore::empty();
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut conn =
            rustls::ClientConnection::new(Arc::new(config), name.to_string().try_into().unwrap()).unwrap();
        let mut out = Vec::new();
        conn.write_tls(&mut out).unwrap();
        out
    }

    #[test]
    fn sni_is_read_from_a_client_hello() {
        let hello = client_hello("www.Example.test");
        assert_eq!(
            parse_client_hello(&hello),
            Hello::Complete(Some("www.example.test".into()))
        );
        for cut in [0, 3, 5, 20, hello.len() - 1] {
            assert_eq!(parse_client_hello(&hello[..cut]), Hello::Partial, "cut at {cut}");
        }
        assert_eq!(parse_client_hello(b"GET / HTTP/1.1\r\n\r\n"), Hello::Invalid);
        let mut bad = hello.clone();
        bad[5] = 0x02; // a ServerHello type
        assert_eq!(parse_client_hello(&bad), Hello::Invalid);
    }

    #[test]
    fn block_page_is_french_and_escaped() {
        let d = Decision {
            allow: false,
            policy: "eleves".into(),
            reason: policy::Reason::Category {
                category: "adult".into(),
                entry: "x.test".into(),
                url: false,
            },
        };
        let page = block_page("x.test", "/<script>", &d, "la vie scolaire");
        assert!(page.contains("Accès bloqué") && page.contains("adult") && page.contains("la vie scolaire"));
        assert!(!page.contains("<script>"));
    }
}

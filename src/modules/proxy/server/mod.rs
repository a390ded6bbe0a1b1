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
//!   from the database, every two seconds (an unreadable database keeps
//!   the last known exams). Reloads swap an `Arc`: requests and tunnels in
//!   flight keep the index they started with.
//!
//! The code follows those seams: `listeners` (accept, connection limit,
//! rebinding on SIGHUP through [`Proxy::reload`]), `http` (a request in
//! phases: authenticate → target → admit → `policy::decide` → respond or
//! forward, every refusal one `http::Refusal`), `tunnel` (CONNECT and
//! the splice), `sni` (transparent HTTPS) and `upstream` (origin
//! connections, failures told apart by type).
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

mod http;
mod listeners;
mod sni;
mod tunnel;
mod upstream;

pub use http::block_page;
use http::*;
use listeners::*;
use sni::*;
pub use sni::{Hello, parse_client_hello};
use tunnel::*;
use upstream::*;

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
    listeners: Vec<Listening>,
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
        let s = &launch.settings;
        let mut bound = Vec::new();
        for (mode, a) in wanted(s) {
            let l = bind(&a).await?;
            bound.push((mode, a, l));
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
        let mut listeners = Vec::new();
        for (mode, a, l) in bound {
            listeners.push(serve(l, mode, a, runtime.clone())?);
        }
        let tasks = vec![tokio::spawn(watch(
            runtime.clone(),
            launch.lists_dir.clone(),
            launch.db.clone(),
        ))];
        Ok(Proxy {
            addresses: listeners.iter().map(|l| (l.mode, l.addr)).collect(),
            runtime,
            listeners,
            tasks,
        })
    }

    /// The first address of a mode.
    pub fn address(&self, mode: Mode) -> Option<SocketAddr> {
        self.addresses.iter().find(|(m, _)| *m == mode).map(|a| a.1)
    }

    /// New settings for new requests: policies, limits and timeouts (the
    /// parent proxy and the connect timeout of pooled connections stay
    /// until a restart). Listeners: [`Proxy::reload`].
    pub fn set_settings(&self, settings: &ProxySettings, zones: &[super::settings::SourceGroup]) {
        self.runtime.current.store(Arc::new(Current {
            policies: Policies::new(settings, zones),
            settings: settings.clone(),
        }));
    }

    /// SIGHUP: the new settings ([`Proxy::set_settings`]), then the
    /// listeners they name: new addresses are bound and served, removed
    /// ones stop accepting (their open connections finish), unchanged
    /// ones are left alone. When an address cannot be bound, no listener
    /// changes — the running ones all stay — and the error says why.
    pub async fn reload(
        &mut self,
        settings: &ProxySettings,
        zones: &[super::settings::SourceGroup],
    ) -> anyhow::Result<()> {
        self.set_settings(settings, zones);
        let wanted = wanted(settings);
        let mut fresh = Vec::new();
        let mut failed = Vec::new();
        for (mode, a) in &wanted {
            if self
                .listeners
                .iter()
                .any(|l| l.mode == *mode && l.configured == *a)
            {
                continue;
            }
            match bind(a).await {
                Ok(l) => fresh.push((*mode, a.clone(), l)),
                Err(e) => failed.push(format!("{e:#}")),
            }
        }
        if !failed.is_empty() {
            // The listeners just bound close with `fresh`.
            let why = failed.join("; ");
            log::error!(error = why.as_str(); "proxy listeners not changed: keeping the running ones");
            anyhow::bail!("proxy listeners not changed (the running ones stay): {why}");
        }
        let before = self.listeners.len();
        self.listeners
            .retain(|l| wanted.iter().any(|(m, a)| *m == l.mode && *a == l.configured));
        let stopped = before - self.listeners.len();
        let started = fresh.len();
        for (mode, a, l) in fresh {
            self.listeners.push(serve(l, mode, a, self.runtime.clone())?);
        }
        self.addresses = self.listeners.iter().map(|l| (l.mode, l.addr)).collect();
        if started + stopped > 0 {
            log::info!(started = started, stopped = stopped; "proxy listeners changed");
        }
        Ok(())
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
/// IPv4 clients of an IPv6 listener appear as ::ffff:a.b.c.d: log them
/// as a.b.c.d.
pub(super) fn canonical(peer: SocketAddr) -> SocketAddr {
    SocketAddr::new(peer.ip().to_canonical(), peer.port())
}

pub(super) fn full(body: impl Into<Bytes>) -> Body {
    Full::new(body.into()).map_err(|never| match never {}).boxed()
}

pub(super) fn empty() -> Body {
    full(Bytes::new())
}

pub(super) fn text(status: StatusCode, message: &str) -> Response<Body> {
    let mut r = Response::new(full(format!("{message}\n")));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
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

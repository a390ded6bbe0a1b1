//! `preau serve`: the daemon.
//!
//! One tokio runtime; for each listen address an accept loop that wraps
//! connections in TLS (rustls, certificate from `[server]` or the one
//! `init` generated) and serves the axum router of [`routes`] (the web
//! application of [`crate::web`] plus `/healthz` and `/metrics`) over
//! HTTP/1.1; `[server] redirect_listen` adds plain-HTTP listeners that
//! only redirect to HTTPS.
//! Signals: SIGTERM/SIGINT stop accepting, give open connections
//! `shutdown_grace_seconds` and exit; SIGHUP re-reads the configuration
//! and the certificate (a broken one is refused and the running one kept).
//! The web console asks for the same reload after it applied settings
//! ([`Shared::reload_now`]): one path, in the serve loop, for both.
//! systemd is told READY, RELOADING and STOPPING. When the `proxy` module
//! is enabled its listeners run here too (`modules::proxy::server`).

mod metrics;
mod routes;

use crate::config::Config;
use crate::host::{Host, RealHost};
use anyhow::{Context as _, bail};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Called once with the bound addresses.
pub type OnReady = Box<dyn FnOnce(&[SocketAddr]) + Send>;

/// What the daemon runs with.
pub struct Options {
    pub host: RealHost,
    pub config_path: PathBuf,
    pub config: Config,
    /// Overrides `[server] listen` (the demo).
    pub listen: Option<Vec<String>>,
    /// Called with the bound addresses once the server accepts connections.
    pub on_ready: Option<OnReady>,
}

impl Options {
    pub fn from_env(env: &crate::engine::Env, config: Config) -> Options {
        Options {
            host: env.host.clone(),
            config_path: env.config_path.clone(),
            config,
            listen: None,
            on_ready: None,
        }
    }
}

/// State shared by every request.
pub struct Shared {
    pub host: RealHost,
    pub config_path: PathBuf,
    pub config: RwLock<Arc<Config>>,
    pub started: Instant,
    pub started_at: SystemTime,
    pub requests: AtomicU64,
    pub reloads: AtomicU64,
    /// Reloads refused (the new configuration or certificate is broken).
    pub reloads_refused: AtomicU64,
    pub connections: AtomicU64,
    /// The proxy's state once it runs (module `proxy`), for `/metrics`.
    pub proxy: std::sync::OnceLock<Arc<crate::modules::proxy::server::Runtime>>,
    /// Reloads asked of the serve loop (by the web console), each with
    /// where to send its outcome.
    reload_requests: tokio::sync::mpsc::UnboundedSender<std::sync::mpsc::Sender<Reloaded>>,
}

/// A reload's outcome: refused with the reason (the running
/// configuration and certificate kept), or done.
pub type Reloaded = Result<(), String>;

/// Longest wait for the serve loop to answer a reload.
const RELOAD_WAIT: Duration = Duration::from_secs(30);

impl Shared {
    pub fn config(&self) -> Arc<Config> {
        self.config.read().expect("config lock").clone()
    }

    pub fn db_path(&self) -> PathBuf {
        self.context(&self.config()).db
    }

    /// Reloads as SIGHUP does — configuration, certificate, the proxy's
    /// settings — in the serve loop, and waits for the outcome. Called from
    /// a blocking thread (the settings apply of the web console).
    pub fn reload_now(&self) -> Reloaded {
        let (tx, rx) = std::sync::mpsc::channel();
        self.reload_requests
            .send(tx)
            .map_err(|_| "the server is stopping".to_string())?;
        rx.recv_timeout(RELOAD_WAIT)
            .map_err(|_| "the server did not answer in time".to_string())?
    }

    /// The context modules report in, for a configuration.
    pub fn context<'a>(&'a self, config: &'a Config) -> crate::engine::Context<'a> {
        crate::engine::Context::at(config, &self.host, self.config_path.clone())
    }
}

/// The certificate and key files (real paths) for a configuration.
fn tls_files(host: &RealHost, config: &Config) -> (PathBuf, PathBuf) {
    if config.server.certificate.is_empty() {
        let state = Path::new(&config.paths.state_dir);
        (
            host.real_path(&state.join(crate::modules::system::TLS_CERT)),
            host.real_path(&state.join(crate::modules::system::TLS_KEY)),
        )
    } else {
        (
            host.real_path(Path::new(&config.server.certificate)),
            host.real_path(Path::new(&config.server.private_key)),
        )
    }
}

fn acceptor(host: &RealHost, config: &Config) -> anyhow::Result<TlsAcceptor> {
    let (cert, key) = tls_files(host, config);
    let tls = crate::tls::server_config(&cert, &key)
        .context("cannot set up TLS; run `preau init` to generate a certificate, or fix [server] certificate/private_key")?;
    Ok(TlsAcceptor::from(tls))
}

/// Runs the daemon until SIGTERM or SIGINT.
pub fn run(options: Options) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("preau")
        // Web handlers read SQLite on blocking threads: a bounded pool
        // queues a burst instead of growing hundreds of threads, each with
        // its own malloc arena (gigabytes of resident memory under load).
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(options))
}

async fn serve(options: Options) -> anyhow::Result<()> {
    let Options {
        host,
        config_path,
        config,
        listen,
        on_ready,
    } = options;
    let acceptor = Arc::new(RwLock::new(acceptor(&host, &config)?));
    let addresses = listen.unwrap_or_else(|| config.server.listen.clone());
    let mut listeners = Vec::new();
    for a in &addresses {
        let addr: SocketAddr = a
            .parse()
            .with_context(|| format!("\"{a}\" is not an address and port"))?;
        let l = TcpListener::bind(addr).await.with_context(|| {
            format!("cannot listen on {addr}; is another server using this port? (ports below 1024 need root or CAP_NET_BIND_SERVICE)")
        })?;
        listeners.push(l);
    }
    if listeners.is_empty() {
        bail!("no listen address: set [server] listen");
    }
    let bound: Vec<SocketAddr> = listeners.iter().filter_map(|l| l.local_addr().ok()).collect();
    let grace = Duration::from_secs(u64::from(config.server.shutdown_grace_seconds));
    let (reload_requests, mut reload_asked) = tokio::sync::mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        host,
        config_path,
        config: RwLock::new(Arc::new(config)),
        started: Instant::now(),
        started_at: SystemTime::now(),
        requests: AtomicU64::new(0),
        reloads: AtomicU64::new(0),
        reloads_refused: AtomicU64::new(0),
        connections: AtomicU64::new(0),
        proxy: std::sync::OnceLock::new(),
        reload_requests,
    });
    // The filtering proxy (module `proxy`) runs on the same runtime.
    let mut proxy = if shared.config().modules.enabled.iter().any(|m| m == "proxy") {
        let config = shared.config();
        let launch = crate::modules::proxy::server::Launch::from_context(&shared.context(&config));
        let p = crate::modules::proxy::server::Proxy::start(launch).await?;
        let _ = shared.proxy.set(p.runtime.clone());
        Some(p)
    } else {
        None
    };
    // School-life e-mail notifications (viescolaire `notify_email`).
    let notifier = {
        let shared = shared.clone();
        crate::modules::viescolaire::notify::spawn(Arc::new(move || {
            let config = shared.config();
            let db = shared.db_path();
            let s = shared.clone();
            let real: Arc<dyn Fn(&str) -> PathBuf + Send + Sync> =
                Arc::new(move |p: &str| s.host.real_path(Path::new(p)));
            (config, db, real)
        }))
    };
    // The firewall's room cut: refilled now (a reboot loads empty sets),
    // then kept in step with the stored overrides.
    let room_cut = tokio::spawn(watch_room_cut(shared.clone()));
    let app = routes::router(shared.clone());
    let open = Arc::new(OpenConnections::default());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut accept_tasks = Vec::new();
    for listener in listeners {
        accept_tasks.push(tokio::spawn(accept_loop(
            listener,
            acceptor.clone(),
            app.clone(),
            shared.clone(),
            open.clone(),
            stop_rx.clone(),
        )));
    }
    for addr in &bound {
        log::info!(address = addr.to_string().as_str(); "listening (HTTPS)");
    }
    // The plain-HTTP listeners only redirect to HTTPS.
    let https_port = bound.first().map(|a| a.port()).unwrap_or(443);
    for a in shared.config().server.redirect_listen.clone() {
        let addr: SocketAddr = a
            .parse()
            .with_context(|| format!("\"{a}\" is not an address and port ([server] redirect_listen)"))?;
        let l = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} for the HTTP redirect"))?;
        log::info!(address = addr.to_string().as_str(); "listening (HTTP, redirects to HTTPS)");
        accept_tasks.push(tokio::spawn(redirect_loop(l, https_port, stop_rx.clone())));
    }
    if let Some(f) = on_ready {
        f(&bound);
    }
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    // systemd's watchdog (WatchdogSec=): pings from a task of this runtime,
    // so a runtime that stops scheduling stops pinging and gets restarted.
    let watchdog = watchdog_period(sd_notify::watchdog_enabled()).map(|period| {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
            }
        })
    });

    // One sample a day of the space each share uses, and the daily
    // summaries of the proxy's logs, for the usage statistics (checked
    // every hour; the first sample of the day is kept, each finished day
    // of the logs is summarised once).
    let sampler = {
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            loop {
                tick.tick().await;
                let s = shared.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    sample_shares(&s);
                    summarise_proxy_logs(&s);
                })
                .await;
            }
        })
    };

    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => {
                let _ = reload_all(&shared, &acceptor, &mut proxy).await;
            }
            Some(answer) = reload_asked.recv() => {
                let outcome = reload_all(&shared, &acceptor, &mut proxy).await;
                let _ = answer.send(outcome);
            }
        }
    }
    log::info!("stopping");
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    sampler.abort();
    room_cut.abort();
    if let Some(w) = watchdog {
        w.abort();
    }
    notifier.abort();
    let _ = stop_tx.send(true);
    drop(proxy);
    for t in accept_tasks {
        let _ = t.await;
    }
    // Open connections finish their current request within the grace
    // period; past it they are dropped.
    if tokio::time::timeout(grace, open.all_closed()).await.is_err() {
        log::warn!("connections still open after the grace period were closed");
    }
    Ok(())
}

/// Records today's sample of the shares' usage when the module is on and
/// none was taken today.
fn sample_shares(shared: &Shared) {
    let config = shared.config();
    if !config.modules.enabled.iter().any(|m| m == "shares") {
        return;
    }
    let ctx = shared.context(&config);
    let today = crate::modules::viescolaire::calendar::DateTime::now_local()
        .date
        .to_string();
    let run = || -> anyhow::Result<usize> {
        let store = crate::store::Store::open_existing(&ctx.db)?;
        if crate::modules::shares::usage::sampled(store.conn(), &today)? {
            return Ok(0);
        }
        let report = crate::modules::shares::usage_report(&ctx)?;
        Ok(crate::modules::shares::usage::record_sample(
            store.conn(),
            &today,
            &report,
        )?)
    };
    match run() {
        Ok(0) => {}
        Ok(n) => log::info!("shares: usage of {n} shares sampled for {today}"),
        Err(e) => log::warn!("shares: cannot sample the usage: {e:#}"),
    }
}

/// Summarises the finished days of the proxy's connection logs that have
/// no summary yet, and deletes the summaries past their retention
/// (`proxy::summary`). Nothing when there are no logs.
fn summarise_proxy_logs(shared: &Shared) {
    let config = shared.config();
    let ctx = shared.context(&config);
    let dir = shared.host.real_path(&crate::modules::proxy::log_dir(&config));
    if !dir.is_dir() {
        return;
    }
    let keep = crate::modules::proxy::summary::keep_days(config.proxy.log_retention_days);
    let run = || -> anyhow::Result<usize> {
        let mut store = crate::store::Store::open_existing(&ctx.db)?;
        crate::modules::proxy::summary::summarise(&mut store, &dir, crate::sso::now(), keep)
    };
    match run() {
        Ok(0) => {}
        Ok(n) => log::info!("proxy: {n} days of the connection logs summarised for the statistics"),
        Err(e) => log::warn!("proxy: cannot summarise the connection logs: {e:#}"),
    }
}

/// How often to ping systemd's watchdog for a `WatchdogSec` of `timeout`:
/// half of it, as sd_watchdog_enabled(3) advises, and never more often than
/// every 100 ms. `None` when the watchdog is off.
/// Every two seconds, [`crate::modules::firewall::room_cut::Watcher`]:
/// the rooms cut off from the internet, in the firewall's sets. A failure
/// is logged once, and when it clears.
async fn watch_room_cut(shared: Arc<Shared>) {
    use crate::modules::firewall::room_cut::{Synced, Watcher};
    let mut watcher = Some(Watcher::default());
    let mut failing = false;
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tick.tick().await;
        let s = shared.clone();
        let Some(mut w) = watcher.take() else { return };
        let run = tokio::task::spawn_blocking(move || {
            let config = s.config();
            let out = w.tick(&s.host, &config, &s.db_path());
            (w, out)
        })
        .await;
        let Ok((w, out)) = run else { return };
        watcher = Some(w);
        match out {
            Some(Err(e)) => {
                if !failing {
                    log::error!(error = e.as_str(); "cannot update the rooms cut off from the internet in the firewall");
                }
                failing = true;
            }
            Some(Ok(synced)) => {
                if failing {
                    log::info!("the rooms cut off from the internet are in the firewall again");
                }
                failing = false;
                if let Synced::Loaded { ranges } = synced {
                    log::debug!(ranges = ranges; "room cut synced");
                }
            }
            None => {}
        }
    }
}

fn watchdog_period(timeout: Option<Duration>) -> Option<Duration> {
    timeout
        .filter(|t| !t.is_zero())
        .map(|t| (t / 2).max(Duration::from_millis(100)))
}

/// SIGHUP or the console's reload: configuration and certificate
/// ([`reload`]), then the proxy's settings with whatever configuration
/// now runs.
async fn reload_all(
    shared: &Shared,
    acceptor: &RwLock<TlsAcceptor>,
    proxy: &mut Option<crate::modules::proxy::server::Proxy>,
) -> Reloaded {
    let outcome = reload(shared, acceptor);
    if let Some(p) = proxy {
        let config = shared.config();
        // A listener that cannot be bound keeps the running
        // ones; the proxy logs why.
        let _ = p
            .reload(&config.proxy, &crate::modules::proxy::zone_sources(&config))
            .await;
    }
    outcome
}

/// Re-reads configuration and certificate; keeps the old ones if the new
/// ones are broken (counted, and the reason returned).
fn reload(shared: &Shared, acceptor: &RwLock<TlsAcceptor>) -> Reloaded {
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Reloading, monotonic_usec()]);
    let real = shared.host.real_path(&shared.config_path);
    let outcome = match crate::config::load(&real) {
        Ok(config) => match self::acceptor(&shared.host, &config) {
            Ok(new_acceptor) => {
                *acceptor.write().expect("acceptor lock") = new_acceptor;
                *shared.config.write().expect("config lock") = Arc::new(config);
                shared.reloads.fetch_add(1, Ordering::Relaxed);
                log::info!("configuration and certificate reloaded");
                Ok(())
            }
            Err(e) => {
                let e = format!("{e:#}");
                log::error!(error = e.as_str(); "reload refused: keeping the running certificate");
                Err(e)
            }
        },
        Err(e) => {
            let e = e.to_string();
            log::error!(error = e.as_str(); "reload refused: keeping the running configuration");
            Err(e)
        }
    };
    if outcome.is_err() {
        shared.reloads_refused.fetch_add(1, Ordering::Relaxed);
    }
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    outcome
}

fn monotonic_usec() -> sd_notify::NotifyState<'static> {
    let mut ts = libc_timespec();
    // SAFETY: clock_gettime writes a timespec into the valid pointer given.
    unsafe { nix::libc::clock_gettime(nix::libc::CLOCK_MONOTONIC, &mut ts) };
    sd_notify::NotifyState::MonotonicUsec(ts.tv_sec as i128 * 1_000_000 + ts.tv_nsec as i128 / 1000)
}

/// Threads for blocking work (SQLite, argon2, module health).
const BLOCKING_THREADS: usize = 16;

/// Time allowed for a client to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

async fn accept_loop(
    listener: TcpListener,
    acceptor: Arc<RwLock<TlsAcceptor>>,
    app: axum::Router,
    shared: Arc<Shared>,
    open: Arc<OpenConnections>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let (tcp, peer) = tokio::select! {
            _ = stop.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: pause, go on.
                    log::warn!(error = e.to_string().as_str(); "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let acceptor = acceptor.read().expect("acceptor lock").clone();
        let app = app.clone();
        let shared = shared.clone();
        let open = open.clone();
        let mut conn_stop = stop.clone();
        tokio::spawn(async move {
            let _guard = open.enter();
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    log::debug!(peer = peer.to_string().as_str(), error = e.to_string().as_str(); "TLS handshake failed");
                    return;
                }
                Err(_) => return,
            };
            shared.connections.fetch_add(1, Ordering::Relaxed);
            // The TCP peer for throttling and the audit log (never a header).
            let app = tower::ServiceExt::map_request(
                app,
                move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(crate::web::Peer(peer));
                    req
                },
            );
            let service = hyper_util::service::TowerToHyperService::new(app);
            let conn = hyper::server::conn::http1::Builder::new()
                .header_read_timeout(Duration::from_secs(15))
                .timer(hyper_util::rt::TokioTimer::new())
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = conn_stop.changed() => {
                    // Finish the request in flight, then close.
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
}

/// Plain HTTP: every request gets a redirect to HTTPS, nothing else.
async fn redirect_loop(listener: TcpListener, https_port: u16, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        let tcp = tokio::select! {
            _ = stop.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| async move {
                    Ok::<_, std::convert::Infallible>(crate::web::redirect::answer(
                        req.headers(),
                        req.uri(),
                        https_port,
                    ))
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .header_read_timeout(Duration::from_secs(10))
                .timer(hyper_util::rt::TokioTimer::new())
                .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                .await;
        });
    }
}

fn libc_timespec() -> nix::libc::timespec {
    nix::libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    }
}

/// Counts open connections so that shutdown can wait for them.
#[derive(Default)]
struct OpenConnections {
    count: std::sync::atomic::AtomicUsize,
    changed: tokio::sync::Notify,
}

struct ConnectionGuard(Arc<OpenConnections>);

impl OpenConnections {
    fn enter(self: &Arc<Self>) -> ConnectionGuard {
        self.count.fetch_add(1, Ordering::SeqCst);
        ConnectionGuard(self.clone())
    }

    async fn all_closed(&self) {
        loop {
            let notified = self.changed.notified();
            if self.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::SeqCst);
        self.0.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchdog_pings_at_half_the_timeout() {
        assert_eq!(watchdog_period(None), None);
        assert_eq!(watchdog_period(Some(Duration::ZERO)), None);
        assert_eq!(
            watchdog_period(Some(Duration::from_secs(30))),
            Some(Duration::from_secs(15))
        );
        assert_eq!(
            watchdog_period(Some(Duration::from_millis(50))),
            Some(Duration::from_millis(100))
        );
    }
}

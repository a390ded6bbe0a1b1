//! Listeners: accept loops (with the connection limit) and the HTTP/1.1
//! connections they serve; rebinding on reload ([`super::Proxy::reload`]).

use super::*;

/// One configured listener, bound and serving; dropping it stops its
/// accept loop (connections already accepted finish on their own).
pub(super) struct Listening {
    pub(super) mode: Mode,
    /// The address as the settings write it (what a reload compares).
    pub(super) configured: String,
    pub(super) addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The listeners the settings ask for, in order.
pub(super) fn wanted(s: &ProxySettings) -> Vec<(Mode, String)> {
    [
        (Mode::Explicit, &s.listen),
        (Mode::TransparentHttp, &s.transparent_http),
        (Mode::TransparentHttps, &s.transparent_https),
    ]
    .into_iter()
    .flat_map(|(mode, list)| list.iter().map(move |a| (mode, a.clone())))
    .collect()
}

/// Binds the listener of one configured address.
pub(super) async fn bind(a: &str) -> anyhow::Result<TcpListener> {
    use anyhow::Context as _;
    let addr: SocketAddr = a
        .parse()
        .with_context(|| format!("\"{a}\" is not an address and port"))?;
    TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} for the proxy; is another proxy (squid?) using this port?")
    })
}

/// Starts serving a bound listener.
pub(super) fn serve(
    listener: TcpListener,
    mode: Mode,
    configured: String,
    rt: Arc<Runtime>,
) -> anyhow::Result<Listening> {
    let addr = listener.local_addr()?;
    log::info!(address = addr.to_string().as_str(), mode = format!("{mode:?}").as_str(); "proxy listening");
    Ok(Listening {
        mode,
        configured,
        addr,
        task: tokio::spawn(accept_loop(listener, mode, rt)),
    })
}

pub(super) struct OpenGuard(Arc<Runtime>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

pub(super) async fn accept_loop(listener: TcpListener, mode: Mode, rt: Arc<Runtime>) {
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

pub(super) async fn serve_http(rt: Arc<Runtime>, tcp: TcpStream, peer: SocketAddr, mode: Mode) {
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

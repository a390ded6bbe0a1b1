//! Listeners: accept loops (with the connection limit) and the HTTP/1.1
//! connections they serve; rebinding on reload ([`super::Proxy::reload`]).

use super::*;

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

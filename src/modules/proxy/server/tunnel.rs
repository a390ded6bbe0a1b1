//! CONNECT tunnels and the byte splice shared by tunnels, upgrades and
//! the SNI splice (idle timeout, byte counts).

use super::*;

pub(super) async fn connect_tunnel(
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
pub(super) struct Watched<S> {
    pub(super) inner: S,
    pub(super) read: Arc<AtomicU64>,
    pub(super) last: Arc<AtomicU64>,
    pub(super) epoch: tokio::time::Instant,
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
pub(super) async fn splice<A, B>(client: A, server: B, idle: Duration) -> (u64, u64)
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

//! Upstream: connecting to origin servers (directly or through the parent
//! proxy), the pooled client's connector and resolver, and why a
//! connection failed, told by the error's types.

use super::*;

pub(super) fn parent_of(s: &str) -> Option<(String, u16)> {
    if s.is_empty() { None } else { host_port(s, 3128) }
}

/// Why an origin could not be reached, read from the error's types
/// (its chain of sources), never from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Upstream {
    Timeout,
    UnknownName,
    Refused,
    Unreachable,
    BadResponse,
}

impl Upstream {
    pub(super) fn of(e: &hyper_util::client::legacy::Error) -> Upstream {
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

    pub(super) fn fr(self) -> &'static str {
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
pub(super) struct NameError {
    pub(super) name: String,
    pub(super) cause: std::io::Error,
}

/// The origin connector's resolver: the system's, with [`NameError`]s.
#[derive(Debug, Clone, Copy)]
pub(super) struct Resolver;

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
pub(super) async fn open_upstream(
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

/// Connects to origin servers for the pooled client, or to the parent
/// proxy (then requests keep their absolute form).
#[derive(Clone)]
pub(super) struct Connector {
    pub(super) http: HttpConnector<Resolver>,
    pub(super) parent: Option<(String, u16)>,
    pub(super) timeout: Duration,
}

pub(super) struct Conn {
    pub(super) io: TokioIo<TcpStream>,
    pub(super) proxied: bool,
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

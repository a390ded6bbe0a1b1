//! Transparent HTTPS: the ClientHello is read (never answered), its
//! server name decides, then the bytes are spliced to the original
//! destination (`SO_ORIGINAL_DST`); a refusal is a TLS `access_denied`
//! alert.

use super::*;

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
pub(super) fn original_destination(tcp: &TcpStream) -> Option<SocketAddr> {
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
pub(super) const TLS_ACCESS_DENIED: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 49];

/// Refuses a transparent TLS connection: logged like every refusal
/// ([`Refusal::log`]), answered with a TLS `access_denied` alert.
async fn refuse_tls(
    rt: &Runtime,
    tcp: &mut TcpStream,
    entry: Entry,
    status: StatusCode,
    decision: &'static str,
) {
    Refusal {
        status,
        decision,
        answer: Answer::Text(String::new()),
    }
    .log(rt, entry);
    let _ = tcp.write_all(&TLS_ACCESS_DENIED).await;
    let _ = tcp.shutdown().await;
}

pub(super) async fn transparent_tls(rt: Arc<Runtime>, mut tcp: TcpStream, peer: SocketAddr) {
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
            entry.host = original.map(|o| o.ip().to_string()).unwrap_or_default();
            return refuse_tls(&rt, &mut tcp, entry, StatusCode::BAD_REQUEST, "error").await;
        }
    };
    let (host, port) = match (&sni, original) {
        (Some(name), Some(o)) => (name.clone(), o.port()),
        (Some(name), None) => (name.clone(), 443),
        (None, Some(o)) => (o.ip().to_string(), o.port()),
        (None, None) => return refuse_tls(&rt, &mut tcp, entry, StatusCode::BAD_REQUEST, "error").await,
    };
    entry.host = if port == 443 {
        host.clone()
    } else {
        format!("{host}:{port}")
    };
    // The name decides, and so does the address really connected to: a
    // name that says "example.org" for a loopback destination is refused
    // like the loopback itself.
    fn asked(host: &str, port: u16, source: IpAddr) -> Asked<'_> {
        Asked {
            host,
            port,
            path: None,
            method: "TLS",
            source,
            user: None,
            tunnel: false,
        }
    }
    let mut d = decide(&rt, &asked(&host, port, peer.ip()));
    if d.allow
        && let Some(o) = original
    {
        let address = o.ip().to_canonical().to_string();
        let by_address = decide(&rt, &asked(&address, port, peer.ip()));
        if by_address.policy == policy::SETTINGS && !by_address.allow {
            d = by_address;
        }
    }
    entry.policy = d.policy.clone();
    entry.category = d.category().unwrap_or_default().to_string();
    if !d.allow {
        return refuse_tls(&rt, &mut tcp, entry, StatusCode::FORBIDDEN, "deny").await;
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
            let status = if e.kind() == std::io::ErrorKind::TimedOut {
                StatusCode::GATEWAY_TIMEOUT
            } else {
                StatusCode::BAD_GATEWAY
            };
            return refuse_tls(&rt, &mut tcp, entry, status, "error").await;
        }
    };
    let _ = upstream.set_nodelay(true);
    if upstream.write_all(&buf).await.is_err() {
        entry.status = 502;
        entry.decision = "error".into();
        rt.logger.log(entry);
        return;
    }
    entry.status = 200;
    let (up, down) = splice(tcp, upstream, seconds(settings.idle_timeout_seconds)).await;
    entry.bytes_up = up + buf.len() as u64;
    entry.bytes_down = down;
    rt.logger.log(entry);
}

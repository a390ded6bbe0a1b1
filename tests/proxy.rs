//! The filtering proxy end to end: real clients (curl, raw sockets,
//! rustls) through the proxy to local origin servers on free ports.
//!
//! Most tests start the proxy in-process (`Proxy::start`) with an
//! in-memory directory; one runs it inside `preau serve`; the transparent
//! HTTPS test runs inside a network namespace with an nft redirect (root
//! only: `#[ignore = "needs root"]`).

mod support;

use preau::modules::proxy::directory::MemoryDirectory;
use preau::modules::proxy::lists;
use preau::modules::proxy::log::{self, Filter};
use preau::modules::proxy::server::{Launch, Mode, Proxy};
use preau::modules::proxy::settings::{AuthMode, Policy, ProxySettings};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// Writes a small UT1 tree.
fn write_lists(dir: &Path, adult: &[&str]) {
    for (cat, kind, domains) in [("adult", "black", adult), ("games", "black", &["jeux.test"][..])] {
        let d = dir.join(cat);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("domains"), domains.join("\n") + "\n").unwrap();
        std::fs::write(d.join("usage"), format!("{kind}\n")).unwrap();
    }
    std::fs::write(dir.join("adult/urls"), "127.0.0.1/interdit\n").unwrap();
}

struct World {
    dir: tempfile::TempDir,
    proxy: Proxy,
    origin: SocketAddr,
}

impl World {
    fn lists(&self) -> PathBuf {
        self.dir.path().join("lists")
    }
    fn logs(&self) -> PathBuf {
        self.dir.path().join("logs")
    }
    fn explicit(&self) -> SocketAddr {
        self.proxy.address(Mode::Explicit).unwrap()
    }

    /// Log entries matching `f`, waiting a little for the writer.
    fn wait_log(&self, f: impl Fn(&log::Entry) -> bool) -> Vec<log::Entry> {
        let mut found = Vec::new();
        support::wait_for(Duration::from_secs(5), || {
            found = log::read(&self.logs(), &Filter::default(), 100_000)
                .unwrap()
                .into_iter()
                .filter(|e| f(e))
                .collect();
            !found.is_empty()
        });
        found
    }
}

/// A plain HTTP origin server: `/hello` says hello, `/echo` returns the
/// request body length, `/slow` answers after 3 s.
async fn origin() -> SocketAddr {
    use http_body_util::{BodyExt, Full};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(|mut req: hyper::Request<hyper::body::Incoming>| async move {
                        let path = req.uri().path().to_string();
                        if path == "/ws" {
                            // An upgrade: echo five bytes back over the raw connection.
                            let upgrade = hyper::upgrade::on(&mut req);
                            tokio::spawn(async move {
                                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                                if let Ok(up) = upgrade.await {
                                    let mut io = hyper_util::rt::TokioIo::new(up);
                                    let mut buf = [0u8; 5];
                                    if io.read_exact(&mut buf).await.is_ok() {
                                        let _ = io.write_all(&buf).await;
                                    }
                                }
                            });
                            let r = hyper::Response::builder()
                                .status(101)
                                .header("connection", "upgrade")
                                .header("upgrade", "echo")
                                .body(Full::new(bytes::Bytes::new()))
                                .unwrap();
                            return Ok(r);
                        }
                        let via_host = req
                            .headers()
                            .get("host")
                            .map(|h| h.to_str().unwrap_or("").to_string());
                        let leaked = req.headers().contains_key("proxy-authorization");
                        let body = req
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes().len())
                            .unwrap_or(0);
                        let text = match path.as_str() {
                            "/echo" => format!("got {body} bytes"),
                            "/slow" => {
                                tokio::time::sleep(Duration::from_secs(3)).await;
                                "slow".into()
                            }
                            _ => format!("hello from origin (host {via_host:?}, leaked auth {leaked})"),
                        };
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                            bytes::Bytes::from(text),
                        )))
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    addr
}

/// A TLS origin for "localhost" (certificate in `dir/cert.pem`).
async fn tls_origin(dir: &Path) -> SocketAddr {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let establishment = preau::config::settings::Establishment {
        uai: "0999999X".into(),
        name: "Test".into(),
        ..Default::default()
    };
    let m = preau::tls::self_signed(&establishment).unwrap();
    std::fs::write(dir.join("cert.pem"), &m.cert_pem).unwrap();
    std::fs::write(dir.join("key.pem"), &m.key_pem).unwrap();
    let config = preau::tls::server_config(&dir.join("cert.pem"), &dir.join("key.pem")).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(|_req| async move {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(http_body_util::Full::new(
                        bytes::Bytes::from("hello over tls"),
                    )))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    addr
}

async fn world(tweak: impl FnOnce(&mut ProxySettings)) -> World {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    write_lists(&src, &["bad.test", "localhost"]);
    lists::install(&src, &dir.path().join("lists")).unwrap();
    let mut settings = ProxySettings {
        listen: vec!["127.0.0.1:0".into()],
        transparent_http: vec!["127.0.0.1:0".into()],
        transparent_https: vec!["127.0.0.1:0".into()],
        header_timeout_seconds: 2,
        max_header_bytes: 16 * 1024,
        contact: "la vie scolaire".into(),
        // The origins of these tests are on the loopback, on any port.
        local_destinations: true,
        connect_ports: Vec::new(),
        default_policy: Policy {
            block: vec!["adult".into()],
            ..Policy::default()
        },
        ..ProxySettings::default()
    };
    tweak(&mut settings);
    let launch = Launch {
        settings,
        zones: Vec::new(),
        lists_dir: dir.path().join("lists"),
        log_dir: dir.path().join("logs"),
        db: None,
        directory: Arc::new(MemoryDirectory::new(&[("lea", "s3cret", &["eleves"])])),
    };
    let proxy = Proxy::start(launch).await.unwrap();
    let origin = origin().await;
    World { dir, proxy, origin }
}

/// Runs curl with `args`; returns (exit code, HTTP code, body).
async fn curl(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new("curl")
            .args(["-s", "--max-time", "10", "-w", "\n%{http_code}"])
            .args(&args)
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env("NO_PROXY", "")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
        (
            out.status.code().unwrap_or(-1),
            code.to_string(),
            body.to_string(),
        )
    })
    .await
    .unwrap()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Sends raw bytes, returns what comes back until close or `wait`.
fn raw(addr: SocketAddr, bytes: &[u8], wait: Duration) -> Vec<u8> {
    let mut t = TcpStream::connect(addr).unwrap();
    t.set_read_timeout(Some(wait)).unwrap();
    let _ = t.write_all(bytes);
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match t.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

async fn raw_async(addr: SocketAddr, bytes: Vec<u8>, wait: Duration) -> String {
    tokio::task::spawn_blocking(move || String::from_utf8_lossy(&raw(addr, &bytes, wait)).into_owned())
        .await
        .unwrap()
}

/// A ClientHello for `name`, made by rustls.
fn client_hello(name: &str) -> Vec<u8> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), name.to_string().try_into().unwrap()).unwrap();
    let mut out = Vec::new();
    conn.write_tls(&mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_and_blocked_http_with_logs() {
    let w = world(|_| {}).await;
    let proxy = format!("http://{}", w.explicit());
    let url = format!("http://{}/hello", w.origin);
    let (rc, code, body) = curl(s(&["-x", &proxy, &url])).await;
    assert_eq!((rc, code.as_str()), (0, "200"), "{body}");
    assert!(body.starts_with("hello from origin"), "{body}");
    assert!(
        body.contains(&format!("{:?}", Some(w.origin.to_string()))),
        "Host from the target: {body}"
    );
    // Chunked request body.
    let echo = format!("http://{}/echo", w.origin);
    let (_, code, body) = curl(s(&[
        "-x",
        &proxy,
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        "0123456789",
        &echo,
    ]))
    .await;
    assert_eq!((code.as_str(), body.as_str()), ("200", "got 10 bytes"));
    // Blocked by category: the French block page.
    let (_, code, body) = curl(s(&["-x", &proxy, "http://www.bad.test/page?q=1"])).await;
    assert_eq!(code, "403");
    assert!(
        body.contains("Accès bloqué") && body.contains("adult") && body.contains("la vie scolaire"),
        "{body}"
    );
    // Blocked by an URL entry.
    let (_, code, _) = curl(s(&["-x", &proxy, &format!("http://{}/interdit/x", w.origin)])).await;
    assert_eq!(code, "403");
    // An upgrade (WebSocket-like) is spliced both ways.
    let ws = {
        let (p, origin) = (w.explicit(), w.origin);
        tokio::task::spawn_blocking(move || {
            let mut t = TcpStream::connect(p).unwrap();
            t.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            write!(t, "GET http://{origin}/ws HTTP/1.1\r\nHost: {origin}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n").unwrap();
            let mut head = Vec::new();
            let mut b = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && t.read(&mut b).unwrap() == 1 {
                head.push(b[0]);
            }
            t.write_all(b"hello").unwrap();
            let mut echo = [0u8; 5];
            t.read_exact(&mut echo).unwrap();
            (String::from_utf8_lossy(&head).into_owned(), echo)
        })
        .await
        .unwrap()
    };
    assert!(ws.0.starts_with("HTTP/1.1 101"), "{ws:?}");
    assert_eq!(&ws.1, b"hello");
    // Unreachable origin: 502.
    let dead = support::free_port();
    let (_, code, _) = curl(s(&["-x", &proxy, &format!("http://127.0.0.1:{dead}/")])).await;
    assert_eq!(code, "502");
    // Transparent HTTP by Host.
    let t = w.proxy.address(Mode::TransparentHttp).unwrap();
    let reply = raw_async(
        t,
        format!(
            "GET /hello HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            w.origin
        )
        .into_bytes(),
        Duration::from_secs(5),
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let reply = raw_async(
        t,
        b"GET / HTTP/1.1\r\nHost: bad.test\r\nConnection: close\r\n\r\n".to_vec(),
        Duration::from_secs(5),
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 403"), "{reply}");
    // The log lines.
    let allowed = w.wait_log(|e| e.path == "/hello" && e.mode == "proxy");
    assert_eq!(allowed[0].decision, "allow");
    assert_eq!(allowed[0].status, 200);
    assert!(allowed[0].bytes_down > 10, "{allowed:?}");
    assert!(allowed[0].source.starts_with("127.0.0.1:"));
    let denied = w.wait_log(|e| e.host == "www.bad.test");
    assert_eq!(
        (
            denied[0].decision.as_str(),
            denied[0].category.as_str(),
            denied[0].status
        ),
        ("deny", "adult", 403)
    );
    assert_eq!(denied[0].path, "/page?q=1");
    assert!(!w.wait_log(|e| e.mode == "http" && e.status == 403).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_tunnels_to_a_tls_server() {
    let w = world(|s| s.default_policy.block = vec!["games".into()]).await;
    let tls = tls_origin(w.dir.path()).await;
    let proxy = format!("http://{}", w.explicit());
    let cacert = w.dir.path().join("cert.pem").display().to_string();
    let (rc, code, body) = curl(s(&[
        "-x",
        &proxy,
        "--cacert",
        &cacert,
        &format!("https://localhost:{}/", tls.port()),
    ]))
    .await;
    assert_eq!((rc, code.as_str(), body.as_str()), (0, "200", "hello over tls"));
    // Blocked CONNECT: 403 with the explanation.
    let reply = raw_async(
        w.explicit(),
        b"CONNECT www.jeux.test:443 HTTP/1.1\r\nHost: www.jeux.test:443\r\n\r\n".to_vec(),
        Duration::from_secs(3),
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 403"), "{reply}");
    assert!(
        reply.contains("games") && reply.contains("la vie scolaire"),
        "{reply}"
    );
    let tunnel = w.wait_log(|e| e.mode == "connect" && e.status == 200);
    assert!(tunnel[0].host.starts_with("localhost:"), "{tunnel:?}");
    assert!(
        tunnel[0].bytes_up > 100 && tunnel[0].bytes_down > 500,
        "{tunnel:?}"
    );
    assert!(tunnel[0].path.is_empty(), "no path for tunnels");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_authentication() {
    let w = world(|s| {
        s.authentication = AuthMode::Required;
        s.policies = vec![Policy {
            name: "eleves".into(),
            groups: vec!["eleves".into()],
            block: vec!["games".into()],
            ..Policy::default()
        }];
    })
    .await;
    let proxy = format!("http://{}", w.explicit());
    let url = format!("http://{}/hello", w.origin);
    let (_, code, _) = curl(s(&["-x", &proxy, &url])).await;
    assert_eq!(code, "407");
    let (_, code, _) = curl(s(&["-x", &proxy, "-U", "lea:wrong", &url])).await;
    assert_eq!(code, "407");
    let (_, code, body) = curl(s(&["-x", &proxy, "-U", "lea:s3cret", &url])).await;
    assert_eq!(code, "200");
    assert!(
        body.contains("leaked auth false"),
        "credentials must not reach the origin: {body}"
    );
    // The user's policy applies.
    let (_, code, _) = curl(s(&["-x", &proxy, "-U", "lea:s3cret", "http://jeux.test/"])).await;
    assert_eq!(code, "403");
    let e = w.wait_log(|e| e.user == "lea" && e.status == 200);
    assert_eq!(e[0].policy, "eleves");
    // Nothing secret in the logs.
    for f in std::fs::read_dir(w.logs()).unwrap() {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
        assert!(!text.contains("s3cret") && !text.contains("wrong"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_reload_during_traffic_keeps_connections() {
    let w = world(|_| {}).await;
    let proxy = w.explicit();
    // A tunnel opened before the reload.
    let mut tunnel = TcpStream::connect(proxy).unwrap();
    tunnel.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(tunnel, "CONNECT {0} HTTP/1.1\r\nHost: {0}\r\n\r\n", w.origin).unwrap();
    let mut buf = [0u8; 4096];
    let n = tunnel.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Traffic while the lists change.
    let url = format!("http://{}/hello", w.origin);
    let p = format!("http://{proxy}");
    let traffic = tokio::spawn({
        let (url, p) = (url.clone(), p.clone());
        async move {
            let mut codes = Vec::new();
            for _ in 0..30 {
                codes.push(curl(s(&["-x", &p, &url])).await.1);
            }
            codes
        }
    });
    // Allowed (then 502: the name does not resolve).
    let (_, code, _) = curl(s(&["-x", &p, "http://nouveau.test/"])).await;
    assert_eq!(code, "502");
    let src = w.dir.path().join("src2");
    write_lists(&src, &["bad.test", "nouveau.test"]);
    // A broken set first: refused, nothing changes.
    let broken = w.dir.path().join("broken");
    std::fs::create_dir_all(broken.join("adult")).unwrap();
    std::fs::write(broken.join("adult/domains"), "not a domain!\n@@@\n").unwrap();
    assert!(lists::install(&broken, &w.lists()).is_err());
    lists::install(&src, &w.lists()).unwrap();
    let rt = w.proxy.runtime.clone();
    assert!(support::wait_for(Duration::from_secs(10), || rt
        .list_reloads
        .load(std::sync::atomic::Ordering::Relaxed)
        == 1));
    let (_, code, _) = curl(s(&["-x", &p, "http://nouveau.test/"])).await;
    assert_eq!(code, "403");
    let codes = traffic.await.unwrap();
    assert!(codes.iter().all(|c| c == "200"), "{codes:?}");
    // The old tunnel still works.
    write!(
        tunnel,
        "GET /hello HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        w.origin
    )
    .unwrap();
    let mut reply = String::new();
    let _ = tunnel.read_to_string(&mut reply);
    assert!(
        reply.starts_with("HTTP/1.1 200") && reply.contains("hello from origin"),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_cleanly_and_the_proxy_keeps_serving() {
    let w = world(|_| {}).await;
    let p = w.explicit();
    let url = format!("http://{}/hello", w.origin);
    let still_serving = || async { curl(s(&["-x", &format!("http://{p}"), &url])).await.1 };

    // Malformed request line.
    let reply = raw_async(
        p,
        b"GARBAGE\x01\x02 nonsense\r\n\r\n".to_vec(),
        Duration::from_secs(3),
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply:?}");
    // Origin-form request on the explicit proxy.
    let reply = raw_async(
        p,
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        Duration::from_secs(3),
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply:?}");
    // Huge headers.
    let big = format!(
        "GET {url} HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(100_000)
    );
    let reply = raw_async(p, big.into_bytes(), Duration::from_secs(3)).await;
    assert!(reply.is_empty() || reply.starts_with("HTTP/1.1 431"), "{reply:?}");
    assert_eq!(still_serving().await, "200");
    // Slow client: half a request head, then nothing: closed after the
    // header timeout (2 s here).
    let started = std::time::Instant::now();
    let reply = raw_async(
        p,
        format!("GET {url} HTTP/1.1\r\nHost: ").into_bytes(),
        Duration::from_secs(10),
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(8), "slow client not cut");
    assert!(reply.is_empty() || reply.starts_with("HTTP/1.1 408"), "{reply:?}");
    // Idle keep-alive client: closed after the header timeout too.
    let idle = {
        let origin = w.origin;
        tokio::task::spawn_blocking(move || {
            let mut t = TcpStream::connect(p).unwrap();
            t.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            write!(t, "GET http://{origin}/hello HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut buf = [0u8; 4096];
            let n = t.read(&mut buf).unwrap();
            assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
            let started = std::time::Instant::now();
            let closed = matches!(t.read(&mut buf), Ok(0));
            (closed, started.elapsed())
        })
        .await
        .unwrap()
    };
    assert!(
        idle.0 && idle.1 < Duration::from_secs(8),
        "idle connection kept: {idle:?}"
    );
    // Transparent HTTPS: a truncated ClientHello, garbage, a blocked SNI.
    let t = w.proxy.address(Mode::TransparentHttps).unwrap();
    let hello = client_hello("www.bad.test");
    let alert = "\u{15}\u{3}\u{3}\u{0}\u{2}\u{2}1";
    let reply = raw_async(t, hello[..hello.len() / 2].to_vec(), Duration::from_secs(10)).await;
    assert_eq!(reply, alert);
    let reply = raw_async(t, b"GET / HTTP/1.1\r\n\r\n".to_vec(), Duration::from_secs(5)).await;
    assert_eq!(reply, alert);
    let reply = raw_async(t, hello, Duration::from_secs(5)).await;
    assert_eq!(reply, alert);
    let denied = w.wait_log(|e| e.mode == "https" && e.decision == "deny");
    assert_eq!(
        (denied[0].host.as_str(), denied[0].category.as_str()),
        ("www.bad.test", "adult")
    );
    // Unreachable CONNECT target: 502.
    let dead = support::free_port();
    let reply = raw_async(
        p,
        format!("CONNECT 127.0.0.1:{dead} HTTP/1.1\r\n\r\n").into_bytes(),
        Duration::from_secs(5),
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 502"), "{reply:?}");
    assert_eq!(still_serving().await, "200");
}

/// A school proxy chained to the academy's: plain HTTP keeps its absolute
/// form to the parent, CONNECT is chained with a CONNECT; each filters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chained_to_a_parent_proxy() {
    let academy = world(|s| s.default_policy.block = vec!["games".into()]).await;
    let parent = academy.explicit().to_string();
    let school = world(move |s| s.parent = parent).await;
    let tls = tls_origin(school.dir.path()).await;
    let p = format!("http://{}", school.explicit());
    let (_, code, body) = curl(s(&["-x", &p, &format!("http://{}/hello", academy.origin)])).await;
    assert_eq!(code, "200", "{body}");
    let cacert = school.dir.path().join("cert.pem").display().to_string();
    let (rc, code, body) = curl(s(&[
        "-x",
        &p,
        "--cacert",
        &cacert,
        &format!("https://127.0.0.1:{}/", tls.port()),
    ]))
    .await;
    assert_eq!((rc, code.as_str(), body.as_str()), (0, "200", "hello over tls"));
    // The school blocks adult itself; the academy blocks games.
    assert_eq!(curl(s(&["-x", &p, "http://bad.test/"])).await.1, "403");
    assert_eq!(curl(s(&["-x", &p, "http://jeux.test/"])).await.1, "403");
    // Both logged the allowed requests: the academy sees the school.
    assert!(
        !academy
            .wait_log(|e| e.path == "/hello" && e.status == 200)
            .is_empty()
    );
    assert!(
        !academy
            .wait_log(|e| e.mode == "connect" && e.host.starts_with("127.0.0.1:"))
            .is_empty()
    );
    assert!(
        !school
            .wait_log(|e| e.mode == "connect" && e.status == 200)
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_destinations_and_odd_connect_ports_are_refused() {
    let w = world(|s| {
        s.local_destinations = false;
        s.connect_ports = vec![443];
    })
    .await;
    let p = format!("http://{}", w.explicit());
    for url in [
        format!("http://{}/hello", w.origin),
        "http://localhost/".to_string(),
        "http://[::1]:8080/".to_string(),
    ] {
        let (_, code, body) = curl(s(&["-x", &p, &url])).await;
        assert_eq!(code, "403", "{url}: {body}");
    }
    let reply = raw_async(
        w.explicit(),
        b"CONNECT mail.example.test:25 HTTP/1.1\r\n\r\n".to_vec(),
        Duration::from_secs(3),
    )
    .await;
    assert!(
        reply.starts_with("HTTP/1.1 403") && reply.contains("port interdit"),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_limit() {
    let w = world(|s| s.max_connections = 2).await;
    let p = w.explicit();
    let _a = TcpStream::connect(p).unwrap();
    let _b = TcpStream::connect(p).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let reply = raw_async(
        p,
        b"GET http://x/ HTTP/1.1\r\n\r\n".to_vec(),
        Duration::from_secs(3),
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 503"), "{reply:?}");
    drop((_a, _b));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let url = format!("http://{}/hello", w.origin);
    assert_eq!(curl(s(&["-x", &format!("http://{p}"), &url])).await.1, "200");
}

/// `preau serve` mounts the proxy when the module is enabled; the CLI
/// explains decisions and reads the logs.
#[test]
fn serve_runs_the_proxy_and_the_cli_explains() {
    let root = support::TempRoot::new();
    let out = root.run(&["init"]);
    assert!(out.status.success(), "{}", support::show(&out));
    let https = support::free_port();
    let port = support::free_port();
    let cfg = root.read("/etc/preau/preau.toml");
    let cfg = cfg.replace("#enabled = []", "enabled = [\"proxy\"]").replacen(
        "#listen = [\"[::]:443\"]",
        &format!("listen = [\"127.0.0.1:{https}\"]"),
        1,
    );
    let cfg = cfg.replace(
        "#listen = [\"0.0.0.0:3128\"]",
        &format!("listen = [\"127.0.0.1:{port}\"]"),
    );
    let cfg = format!("{cfg}\n[[proxy.sources]]\nname = \"salle\"\naddresses = [\"10.0.12.0/24\"]\n");
    root.write("/etc/preau/preau.toml", &cfg);
    let src = root.path().join("ut1");
    write_lists(&src, &["bad.test"]);
    let out = root.run(&["blacklists", "update", src.to_str().unwrap()]);
    assert!(out.status.success(), "{}", support::show(&out));
    let out = root.run(&["proxy", "check", "http://www.bad.test/x", "--ip", "10.0.0.5"]);
    assert_eq!(out.status.code(), Some(1), "{}", support::show(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("DENY") && text.contains("adult"), "{text}");
    let out = root.run(&[
        "--json",
        "proxy",
        "check",
        "https://ok.test",
        "--user",
        "lea",
        "--group",
        "eleves",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", support::show(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"]["allow"], true);

    // Exam mode for a room, then off.
    let out = root.run(&[
        "proxy",
        "exam",
        "salle",
        "--minutes",
        "5",
        "--allow",
        "sujet.test",
    ]);
    assert!(out.status.success(), "{}", support::show(&out));
    let out = root.run(&["proxy", "check", "http://ok.test/", "--ip", "10.0.12.7"]);
    assert_eq!(out.status.code(), Some(1), "{}", support::show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("examen salle"),
        "{}",
        support::show(&out)
    );
    let out = root.run(&["proxy", "check", "http://sujet.test/", "--ip", "10.0.12.7"]);
    assert_eq!(out.status.code(), Some(0), "{}", support::show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("room:   salle: exam (whitelist only) until"),
        "{}",
        support::show(&out)
    );
    let out = root.run(&["proxy", "check", "http://ok.test/", "--ip", "10.0.13.7"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "other rooms are not affected: {}",
        support::show(&out)
    );
    // Internet off replaces the exam: even the exam's sites are refused.
    let out = root.run(&["proxy", "exam", "salle", "--minutes", "5", "--off"]);
    assert!(out.status.success(), "{}", support::show(&out));
    let out = root.run(&["proxy", "check", "http://sujet.test/", "--ip", "10.0.12.7"]);
    assert_eq!(out.status.code(), Some(1), "{}", support::show(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("room:   salle: internet off until") && text.contains("internet coupé en salle salle"),
        "{}",
        support::show(&out)
    );
    let out = root.run(&["proxy", "exam", "salle", "--stop"]);
    assert!(out.status.success(), "{}", support::show(&out));
    let out = root.run(&["proxy", "check", "http://ok.test/", "--ip", "10.0.12.7"]);
    assert_eq!(out.status.code(), Some(0), "{}", support::show(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("room:"));
    let out = root.run(&["proxy", "exam", "nowhere"]);
    assert_eq!(out.status.code(), Some(1), "{}", support::show(&out));

    let mut serve = root.preau(&["serve"]).spawn().unwrap();
    let up = support::wait_for(Duration::from_secs(15), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let result = std::panic::catch_unwind(|| {
        assert!(up, "the proxy did not start");
        let out = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-x",
                &format!("http://127.0.0.1:{port}"),
                "http://bad.test/",
            ])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "403");
        let ok = support::wait_for(Duration::from_secs(5), || {
            let out = root.run(&["--json", "proxy", "log", "--host", "bad.test"]);
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            v.as_array()
                .is_some_and(|a| a.len() == 1 && a[0]["decision"] == "deny")
        });
        assert!(ok, "log line not found by `preau proxy log`");
        // The daemon's /metrics counts the proxy's decisions.
        let cert = root.path().join("var/lib/preau/tls/cert.pem");
        let out = Command::new("curl")
            .args(["-s", "--cacert", cert.to_str().unwrap()])
            .arg(format!("https://localhost:{https}/metrics"))
            .output()
            .unwrap();
        let metrics = String::from_utf8_lossy(&out.stdout);
        assert!(
            metrics.contains("preau_proxy_requests_total{decision=\"deny\"} 1"),
            "{metrics}"
        );
        assert!(metrics.contains("preau_proxy_open_connections "), "{metrics}");
    });
    let _ = nix_kill(serve.id());
    let _ = serve.wait();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

fn nix_kill(pid: u32) -> std::io::Result<()> {
    Command::new("kill").arg(pid.to_string()).status().map(|_| ())
}

/// Transparent HTTPS: inside a network namespace, nft redirects a
/// client's port 443 to the proxy, which reads the SNI, then splices to
/// the original destination (a real TLS server, `openssl s_server`) or
/// refuses with a TLS alert. Root only.
#[test]
#[ignore = "needs root"]
fn transparent_https_by_sni_in_a_network_namespace() {
    let sb = support::Sandbox::new_for("transparent_https_by_sni_in_a_network_namespace");
    let dir = sb.path().join("root");
    let root = dir.display().to_string();
    let out = sb.preau(&["--root", &root, "init"]).output().unwrap();
    assert!(out.status.success(), "{}", support::show(&out));
    let (https, tport) = (sb.free_port(), sb.free_port());
    let cfg_path = dir.join("etc/preau/preau.toml");
    let cfg = std::fs::read_to_string(&cfg_path).unwrap();
    let cfg = cfg
        .replace("#enabled = []", "enabled = [\"proxy\"]")
        .replacen(
            "#listen = [\"[::]:443\"]",
            &format!("listen = [\"127.0.0.1:{https}\"]"),
            1,
        )
        .replace("#listen = [\"0.0.0.0:3128\"]", "listen = []")
        .replace(
            "#transparent_https = []",
            &format!("transparent_https = [\"127.0.0.1:{tport}\"]"),
        )
        // The origin is on the sandbox's loopback (127.0.0.2): allowed here,
        // refused by default (see the next test).
        .replace("#local_destinations = false", "local_destinations = true");
    std::fs::write(&cfg_path, cfg).unwrap();
    let src = sb.path().join("ut1");
    write_lists(&src, &["bad.test"]);
    let out = sb
        .preau(&["--root", &root, "blacklists", "update", src.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", support::show(&out));
    // The origin: a real TLS server on 127.0.0.2:443.
    let m = preau::tls::self_signed(&preau::config::settings::Establishment {
        uai: "0999999X".into(),
        name: "Test".into(),
        ..Default::default()
    })
    .unwrap();
    std::fs::write(sb.path().join("cert.pem"), &m.cert_pem).unwrap();
    std::fs::write(sb.path().join("key.pem"), &m.key_pem).unwrap();
    let s = sb.path().display().to_string();
    let mut origin = sb.spawn(
        "openssl",
        &[
            "s_server",
            "-quiet",
            "-accept",
            "127.0.0.2:443",
            "-cert",
            &format!("{s}/cert.pem"),
            "-key",
            &format!("{s}/key.pem"),
            "-www",
        ],
    );
    // Redirect the unprivileged client's HTTPS to the proxy (the proxy,
    // as root, reaches the origin directly).
    sb.sh(&format!(
        "nft add table ip preau_test && \
         nft add chain ip preau_test out '{{ type nat hook output priority -100; }}' && \
         nft add rule ip preau_test out meta skuid 65534 tcp dport 443 redirect to :{tport}"
    ));
    let mut serve = sb.spawn(
        support::preau_bin().to_str().unwrap(),
        &["--root", &root, "serve"],
    );
    let up = support::wait_for(Duration::from_secs(15), || {
        sb.command("bash")
            .args([
                "-c",
                &format!("exec 3<>/dev/tcp/127.0.0.1/{tport} && exec 4<>/dev/tcp/127.0.0.2/443"),
            ])
            .output()
            .unwrap()
            .status
            .success()
    });
    assert!(up, "proxy or origin did not start");
    let curl = |name: &str| {
        sb.sh_status(&format!(
            "setpriv --reuid=65534 --regid=65534 --clear-groups curl -sk --max-time 10 --resolve {name}:443:127.0.0.2 https://{name}/ | head -c 300"
        ))
    };
    let ok = curl("www.ok.test");
    let text = String::from_utf8_lossy(&ok.stdout);
    assert!(
        text.contains("s_server") || text.contains("HTML"),
        "allowed name not spliced: {}",
        support::show(&ok)
    );
    let denied = curl("www.bad.test");
    assert!(
        String::from_utf8_lossy(&denied.stdout).is_empty(),
        "{}",
        support::show(&denied)
    );
    let ok = support::wait_for(Duration::from_secs(5), || {
        let out = sb
            .preau(&["--root", &root, "--json", "proxy", "log"])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let entries = v.as_array().cloned().unwrap_or_default();
        let allowed = entries
            .iter()
            .any(|e| e["host"] == "www.ok.test" && e["decision"] == "allow" && e["mode"] == "https");
        let denied = entries
            .iter()
            .any(|e| e["host"] == "www.bad.test" && e["decision"] == "deny" && e["category"] == "adult");
        allowed && denied
    });
    for child in [&mut serve, &mut origin] {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(ok, "log lines for both connections");
}

/// A proxy over `launch`'s defaults with a real database (exams) and a
/// directory of the test's choosing.
async fn world_with(
    directory: Arc<dyn preau::modules::proxy::directory::Directory>,
    tweak: impl FnOnce(&mut ProxySettings),
) -> (World, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    write_lists(&src, &["bad.test"]);
    lists::install(&src, &dir.path().join("lists")).unwrap();
    let db = dir.path().join("preau.db");
    drop(preau::store::Store::open(&db).unwrap());
    let mut settings = ProxySettings {
        listen: vec!["127.0.0.1:0".into()],
        transparent_http: Vec::new(),
        transparent_https: Vec::new(),
        local_destinations: true,
        connect_ports: Vec::new(),
        ..ProxySettings::default()
    };
    tweak(&mut settings);
    let launch = Launch {
        settings,
        lists_dir: dir.path().join("lists"),
        log_dir: dir.path().join("logs"),
        db: Some(db.clone()),
        directory,
        zones: Vec::new(),
    };
    let proxy = Proxy::start(launch).await.unwrap();
    let origin = origin().await;
    (World { dir, proxy, origin }, db)
}

/// Regression (issue 9): a database error while reading the exams lifted
/// whitelist-only mode for every room. The last known exams stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exams_stay_when_the_database_cannot_be_read() {
    let (w, db) = world_with(Arc::new(MemoryDirectory::new(&[])), |s| {
        s.sources = vec![preau::modules::proxy::settings::SourceGroup {
            name: "salle".into(),
            addresses: vec!["127.0.0.0/8".into()],
            rooms: Vec::new(),
        }];
    })
    .await;
    let mut store = preau::store::Store::open(&db).unwrap();
    store
        .write(|tx| {
            preau::modules::proxy::exams::start(
                tx,
                &preau::modules::proxy::policy::Exam {
                    room: "salle".into(),
                    until: i64::MAX / 2,
                    mode: preau::modules::proxy::policy::ExamMode::Whitelist,
                    allow: Vec::new(),
                    by: "test".into(),
                },
            )
        })
        .unwrap();
    drop(store);
    let proxy = format!("http://{}", w.explicit());
    let url = format!("http://{}/hello", w.origin);
    // The watcher reads the exams every two seconds.
    let mut code = String::new();
    for _ in 0..40 {
        code = curl(s(&["-x", &proxy, &url])).await.1;
        if code == "403" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(code, "403", "exam mode is on");
    // The database becomes unreadable: not a database any more.
    for f in ["preau.db-wal", "preau.db-shm"] {
        let _ = std::fs::remove_file(w.dir.path().join(f));
    }
    std::fs::write(&db, vec![b'x'; 8192]).unwrap();
    let errors = || {
        w.proxy
            .runtime
            .exam_errors
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    assert!(
        support::wait_for(Duration::from_secs(10), || errors() > 0),
        "the failed read is counted"
    );
    let (_, code, _) = curl(s(&["-x", &proxy, &url])).await;
    assert_eq!(code, "403", "exam mode stays on after a database error");
}

/// A directory whose database cannot be read.
struct Unreadable;

impl preau::modules::proxy::directory::Directory for Unreadable {
    fn authenticate(
        &self,
        _: &str,
        _: &str,
    ) -> Result<
        Option<preau::modules::proxy::directory::User>,
        preau::modules::proxy::directory::DirectoryError,
    > {
        Err(preau::modules::proxy::directory::DirectoryError(
            "disk I/O error".into(),
        ))
    }
    fn groups_of(&self, _: &str) -> Vec<String> {
        Vec::new()
    }
}

/// Regression (issue 9): a database error during proxy authentication
/// looked like an unknown user (407, nothing logged). It is a 503,
/// logged and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_database_error_is_a_503_and_counted() {
    let (w, _) = world_with(Arc::new(Unreadable), |s| s.authentication = AuthMode::Required).await;
    let proxy = format!("http://{}", w.explicit());
    let url = format!("http://{}/hello", w.origin);
    let (_, code, body) = curl(s(&["-x", &proxy, "-U", "lea:s3cret", &url])).await;
    assert_eq!(code, "503", "{body}");
    assert!(body.contains("annuaire indisponible"), "{body}");
    assert_eq!(
        w.proxy
            .runtime
            .auth_errors
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    let e = w.wait_log(|e| e.status == 503);
    assert_eq!(e[0].user, "lea");
    // Without credentials there is nothing to check: still a 407.
    let (_, code, _) = curl(s(&["-x", &proxy, &url])).await;
    assert_eq!(code, "407");
}

/// Regression (issue 9): the loopback check lived in the HTTP handler
/// only, so the transparent TLS path spliced to a loopback destination
/// whatever `local_destinations` said. It is the policy's now, for every
/// path, and `preau proxy check` explains it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transparent_tls_refuses_a_loopback_destination() {
    let (w, _) = world_with(Arc::new(MemoryDirectory::new(&[])), |s| {
        s.transparent_https = vec!["127.0.0.1:0".into()];
        s.local_destinations = false;
    })
    .await;
    let tls = w.proxy.address(Mode::TransparentHttps).unwrap();
    let reply = raw_async(tls, client_hello("localhost"), Duration::from_secs(3)).await;
    assert!(reply.as_bytes().starts_with(&[0x15]), "a TLS alert: {reply:?}");
    let e = w.wait_log(|e| e.mode == "https" && e.host == "localhost");
    assert_eq!((e[0].status, e[0].decision.as_str()), (403, "deny"), "{e:?}");
    assert_eq!(e[0].policy, "réglages du proxy");
    let root = support::TempRoot::new();
    assert!(root.run(&["init", "--modules", "proxy"]).status.success());
    let out = root.run(&["proxy", "check", "https://127.0.0.1/"]);
    assert_eq!(out.status.code(), Some(1), "{}", support::show(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("destination locale interdite"),
        "{}",
        support::show(&out)
    );
}

/// Regression (issue 15): listener changes of the proxy took effect only
/// at a restart. On SIGHUP `preau serve` now listens where the new
/// configuration says; an address that cannot be bound keeps the running
/// listener, and the log says why.
#[test]
fn proxy_listeners_follow_a_reload_and_a_busy_port_keeps_the_old_one() {
    let root = support::TempRoot::new();
    let out = root.run(&["init", "--modules", "proxy"]);
    assert!(out.status.success(), "{}", support::show(&out));
    let https = support::free_port();
    let config_for = |proxy_port: u16| {
        let cfg = root.read("/etc/preau/preau.toml");
        let cfg = cfg.replacen(
            "#listen = [\"[::]:443\"]",
            &format!("listen = [\"127.0.0.1:{https}\"]"),
            1,
        );
        let start = cfg.find("\n[proxy]").expect("a [proxy] section");
        let mut text = cfg.clone();
        let line = text[start..]
            .lines()
            .find(|l| l.starts_with("#listen") || l.starts_with("listen"))
            .expect("a proxy listen line")
            .to_string();
        let at = start + text[start..].find(&line).unwrap();
        text.replace_range(
            at..at + line.len(),
            &format!("listen = [\"127.0.0.1:{proxy_port}\"]"),
        );
        text
    };
    let first = support::free_port();
    root.write("/etc/preau/preau.toml", &config_for(first));
    let log = root.path().join("serve.log");
    let mut serve = root
        .preau(&["serve"])
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let accepts = |port: u16| TcpStream::connect(("127.0.0.1", port)).is_ok();
    let hup = |pid: u32| {
        Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap()
    };
    let result = std::panic::catch_unwind(|| {
        assert!(
            support::wait_for(Duration::from_secs(15), || accepts(first)),
            "the proxy did not start"
        );
        // Moved to another port: the new one serves, the old one stops.
        let second = support::free_port();
        root.write("/etc/preau/preau.toml", &config_for(second));
        hup(serve.id());
        assert!(
            support::wait_for(Duration::from_secs(10), || accepts(second)),
            "the new listener did not come up on reload"
        );
        assert!(
            support::wait_for(Duration::from_secs(5), || !accepts(first)),
            "the old listener was not closed"
        );
        let out = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-x"])
            .arg(format!("http://127.0.0.1:{second}"))
            .arg("http://127.0.0.1:1/")
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "403",
            "served by the new listener"
        );
        // A port someone else holds: the running listener stays.
        let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let taken = busy.local_addr().unwrap().port();
        root.write("/etc/preau/preau.toml", &config_for(taken));
        hup(serve.id());
        assert!(
            support::wait_for(Duration::from_secs(10), || {
                std::fs::read_to_string(&log)
                    .unwrap_or_default()
                    .contains("proxy listeners not changed")
            }),
            "the refusal is logged: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            text.contains(&format!("cannot listen on 127.0.0.1:{taken}")),
            "and says why: {text}"
        );
        assert!(accepts(second), "the running listener stays");
        drop(busy);
    });
    let _ = nix_kill(serve.id());
    let _ = serve.wait();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

//! `preau serve` and `preau demo` for real: TLS with the generated
//! certificate, /healthz, /metrics, SIGHUP reload, SIGTERM stop.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{TempRoot, free_port, show, wait_for};

/// GET `path` over TLS, trusting only `cert_pem`; returns (status, body).
fn https_get(port: u16, cert_pem: &Path, path: &str) -> std::io::Result<(u16, String)> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(cert_pem).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn = rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port))?;
    tcp.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    match tls.read_to_end(&mut raw) {
        Ok(_) => {}
        // Servers may close without close_notify after Connection: close.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e),
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// Sends a signal (the process may already have exited: not an error).
fn signal(child: &Child, sig: &str) {
    let _ = std::process::Command::new("kill")
        .args(["-s", sig, &child.id().to_string()])
        .stderr(Stdio::null())
        .status();
}

/// Sends SIGTERM and returns how long the process took to exit.
fn stop(mut child: Child) -> Duration {
    signal(&child, "TERM");
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return started.elapsed();
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("serve did not stop within 10 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn serving_root() -> (TempRoot, u16) {
    let root = TempRoot::new();
    let out = root.run(&["init", "--name", "Collège <Tilleuls>"]);
    assert!(out.status.success(), "{}", show(&out));
    let port = free_port();
    let config = root.read("/etc/preau/preau.toml").replace(
        "#listen = [\"[::]:443\"]",
        &format!("listen = [\"127.0.0.1:{port}\"]"),
    );
    root.write("/etc/preau/preau.toml", &config);
    (root, port)
}

#[test]
fn serve_answers_over_tls_reloads_and_stops_quickly() {
    let (root, port) = serving_root();
    let cert = root.path().join("var/lib/preau/tls/cert.pem");
    let child = root.preau(&["serve"]).stderr(Stdio::null()).spawn().unwrap();
    assert!(
        wait_for(Duration::from_secs(20), || https_get(port, &cert, "/healthz")
            .is_ok()),
        "serve did not come up"
    );
    let (status, body) = https_get(port, &cert, "/healthz").unwrap();
    assert_eq!(status, 200, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["establishment"], "0999999X");

    // The portal asks an anonymous visitor to sign in.
    let (status, _) = https_get(port, &cert, "/").unwrap();
    assert_eq!(status, 303);
    let (status, body) = https_get(port, &cert, "/connexion").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("<html lang=\"fr\">"));
    assert!(
        body.contains("Collège &#60;Tilleuls&#62;"),
        "names are escaped: {body}"
    );
    let (status, _) = https_get(port, &cert, "/nope").unwrap();
    assert_eq!(status, 404);
    // Single sign-on is mounted: discovery, the key set, a CAS refusal.
    let (status, body) = https_get(port, &cert, "/.well-known/openid-configuration").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"token_endpoint\""), "{body}");
    let (status, body) = https_get(port, &cert, "/oidc/jwks").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"kty\":\"EC\""), "{body}");
    let (status, body) = https_get(port, &cert, "/cas/serviceValidate?service=x&ticket=ST-1").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("INVALID_TICKET"), "{body}");

    let (status, body) = https_get(port, &cert, "/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("preau_module_healthy{module=\"system\"}"), "{body}");
    assert!(body.contains("process_resident_memory_bytes "), "{body}");
    assert!(body.contains("preau_http_requests_total "), "{body}");

    // SIGHUP with a broken configuration keeps the running one...
    let good = root.read("/etc/preau/preau.toml");
    root.write("/etc/preau/preau.toml", "[establishment\n");
    signal(&child, "HUP");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(https_get(port, &cert, "/healthz").unwrap().0, 200);
    // ...and a good one is taken.
    root.write("/etc/preau/preau.toml", &good.replace("0999999X", "0999998X"));
    signal(&child, "HUP");
    assert!(wait_for(Duration::from_secs(5), || {
        https_get(port, &cert, "/healthz").is_ok_and(|(_, b)| b.contains("0999998X"))
    }));
    let (_, body) = https_get(port, &cert, "/metrics").unwrap();
    assert!(body.contains("preau_reloads_total 1"), "{body}");

    // A client holding a connection open does not delay the stop past 2 s.
    let _idle = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let took = stop(child);
    assert!(took < Duration::from_secs(2), "stopped in {took:?}");
}

#[test]
fn serve_tells_systemd_ready_and_stopping() {
    let (root, port) = serving_root();
    let socket_path = root.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let child = root
        .preau(&["serve"])
        .env("NOTIFY_SOCKET", &socket_path)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 256];
    let n = socket.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"READY=1\n");
    // Ready means ready: the port answers now.
    let cert = root.path().join("var/lib/preau/tls/cert.pem");
    assert_eq!(https_get(port, &cert, "/healthz").unwrap().0, 200);
    signal(&child, "TERM");
    let n = socket.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"STOPPING=1\n");
    stop(child);
}

#[test]
fn serve_pings_the_systemd_watchdog() {
    let (root, port) = serving_root();
    let socket_path = root.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // WatchdogSec=0.4s: a ping at least every 200 ms.
    let child = root
        .preau(&["serve"])
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "400000")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut buf = [0u8; 256];
    let n = socket.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"READY=1\n");
    let started = std::time::Instant::now();
    let mut pings = 0;
    while pings < 3 {
        let n = socket.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"WATCHDOG=1\n");
        pings += 1;
    }
    // The first ping is immediate, the next two 200 ms apart.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let cert = root.path().join("var/lib/preau/tls/cert.pem");
    assert_eq!(https_get(port, &cert, "/healthz").unwrap().0, 200);
    stop(child);
}

#[test]
fn serve_refuses_to_start_without_certificate() {
    let (root, _port) = serving_root();
    std::fs::remove_file(root.path().join("var/lib/preau/tls/key.pem")).unwrap();
    let out = root.run(&["serve"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot set up TLS; run `preau init`"), "{err}");
}

#[test]
fn demo_starts_unprivileged_and_prints_its_url() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(support::preau_bin())
        .args(["demo", "--listen", "127.0.0.1:0", "--dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let url = loop {
        let line = lines.next().expect("demo printed no URL").unwrap();
        if let Some(rest) = line.strip_prefix("Demo server ready: ") {
            break rest.split(' ').next().unwrap().to_string();
        }
        printed.push(line);
    };
    assert!(
        printed
            .iter()
            .any(|l| l.starts_with("imported the demo school: ")),
        "{printed:?}"
    );
    // The demo school is in the directory while the demo runs.
    let out = std::process::Command::new(support::preau_bin())
        .arg("--root")
        .arg(dir.path())
        .args(["--json", "accounts", "list", "--kind", "student"])
        .output()
        .unwrap();
    let students: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert!(
        students.as_array().is_some_and(|a| a.len() > 20),
        "{}",
        show(&out)
    );
    let port: u16 = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let cert = dir.path().join("var/lib/preau/tls/cert.pem");
    let (status, body) = https_get(port, &cert, "/connexion").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("Collège des Tilleuls"), "{body}");
    assert!(stop(child) < Duration::from_secs(2));
}

//! A real headless Chromium for end-to-end tests: Debian's `chromedriver`
//! on a free loopback port, driving `/usr/bin/chromium` through
//! fantoccini (WebDriver). Never a downloaded browser. Screenshots go to
//! `target/screenshots/` (desktop 1280 px and phone 390 px wide).
#![allow(dead_code)]

use fantoccini::{Client, ClientBuilder, Locator};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// A chromedriver process and a browser session on it.
pub struct Browser {
    driver: Child,
    pub client: Client,
    /// The relay into another network namespace ([`Browser::start_in_netns`]).
    relay: Option<Relay>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn installed() {
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
        "chromium and chromium-driver are needed (scripts/deps.txt): apt-get install chromium chromium-driver"
    );
}

impl Browser {
    /// Starts chromedriver and a headless Chromium that accepts the
    /// server's self-signed certificate.
    pub async fn start() -> Browser {
        installed();
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen on {port}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Browser::session(driver, port, None).await
    }

    /// Starts chromedriver and Chromium inside the network namespace of
    /// process `pid` (`nsenter -n`: a root test's sandbox), so that the
    /// pages reach the servers on that namespace's loopback and nothing
    /// else; `driver_port` is a free port there. The test, in its own
    /// namespace, talks to chromedriver through a [`Relay`]: no interface
    /// or rule is added to the host.
    pub async fn start_in_netns(pid: u32, driver_port: u16) -> Browser {
        installed();
        let driver = Command::new("nsenter")
            .args(["-t", &pid.to_string(), "-n", "--", CHROMEDRIVER])
            .arg(format!("--port={driver_port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts in the namespace");
        let relay = tokio::task::spawn_blocking(move || Relay::into(pid, driver_port))
            .await
            .unwrap();
        let port = relay.port;
        Browser::session(driver, port, Some(relay)).await
    }

    async fn session(driver: Child, port: u16, relay: Option<Relay>) -> Browser {
        let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
            "acceptInsecureCerts": true,
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--ignore-certificate-errors", "--window-size=1280,900", "--lang=fr-FR",
                ],
                // What the pages' language follows (Accept-Language).
                "prefs": { "intl.accept_languages": "fr-FR,fr" },
            },
        }))
        .unwrap();
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a chromium session");
        Browser {
            driver,
            client,
            relay,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let e = self.client.find(Locator::Css(css)).await.unwrap();
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// Clicks something that loads a new page and waits for it.
    pub async fn click_and_load(&self, css: &str) {
        self.mark_page().await;
        self.click(css).await;
        self.wait_new_page().await;
    }

    /// Marks the current page, for [`Browser::wait_new_page`].
    pub async fn mark_page(&self) {
        self.client
            .execute("document.documentElement.dataset.old = '1';", vec![])
            .await
            .unwrap();
    }

    /// Waits until the marked page is replaced by a loaded one (after a
    /// click that submits a form, possibly behind a confirm()).
    pub async fn wait_new_page(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let done = self
                .client
                .execute(
                    "return document.readyState === 'complete' && !document.documentElement.dataset.old;",
                    vec![],
                )
                .await;
            if matches!(done, Ok(serde_json::Value::Bool(true))) {
                return;
            }
            assert!(Instant::now() < deadline, "no new page after 15 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn body(&self) -> String {
        self.text("body").await
    }

    /// Waits until the page's path is `path` (after a form post).
    pub async fn wait_path(&self, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let now = self.path().await;
            if now == path {
                return;
            }
            assert!(Instant::now() < deadline, "still on {now}, expected {path}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Fails if the page has an inline script or style (what the CSP would
    /// block), or the browser logged a Content-Security-Policy violation.
    pub async fn assert_no_inline(&self) {
        let found = self
            .client
            .execute(
                "return [document.querySelectorAll('style').length, \
                 document.querySelectorAll('[style]').length, \
                 Array.from(document.scripts).filter(s => !s.src).length, \
                 document.querySelectorAll('[onclick],[onload],[onsubmit],[onchange]').length];",
                vec![],
            )
            .await
            .unwrap();
        let page = self.path().await;
        assert_eq!(
            found,
            serde_json::json!([0, 0, 0, 0]),
            "inline style/script on {page}"
        );
        let log = self.client.issue_cmd(GetLog).await.unwrap_or_default();
        let text = log.to_string();
        assert!(
            !text.contains("Content Security Policy") && !text.contains("Content-Security-Policy"),
            "CSP violation on {page}: {text}"
        );
    }

    /// Writes `target/screenshots/<name>-desktop.png` and `-phone.png`.
    pub async fn screenshots(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        for (suffix, width, height) in [("desktop", 1280, 900), ("phone", 390, 844)] {
            self.client.set_window_size(width, height).await.unwrap();
            let png = self.client.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}-{suffix}.png")), png).unwrap();
        }
        self.client.set_window_size(1280, 900).await.unwrap();
    }

    pub async fn close(self) {
        let Browser {
            mut driver,
            client,
            relay,
        } = self;
        let _ = client.close().await;
        let _ = driver.kill();
        let _ = driver.wait();
        drop(relay);
    }
}

/// Connections to a loopback port of the test's network namespace,
/// relayed to a port of another namespace's loopback: a thread binds the
/// listener here, then enters the other namespace (`setns` changes the
/// calling thread only), so that each connection it makes is made there.
pub struct Relay {
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Relay {
    /// A relay to `target` of the network namespace of process `pid`,
    /// once something listens there (at most 20 s).
    pub fn into(pid: u32, target: u16) -> Relay {
        use std::net::{TcpListener, TcpStream};
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let ns = std::fs::File::open(format!("/proc/{pid}/ns/net")).expect("the namespace of the process");
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let (ready, up) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns into the namespace");
            let deadline = Instant::now() + Duration::from_secs(20);
            while TcpStream::connect(("127.0.0.1", target)).is_err() {
                if Instant::now() > deadline {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = ready.send(());
            for client in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                let (Ok(client), Ok(server)) = (client, TcpStream::connect(("127.0.0.1", target))) else {
                    continue;
                };
                pipe(client, server);
            }
        });
        up.recv_timeout(Duration::from_secs(25))
            .unwrap_or_else(|_| panic!("nothing listens on port {target} in the namespace of {pid}"));
        Relay { port, stop }
    }
}

fn pipe(a: std::net::TcpStream, b: std::net::TcpStream) {
    use std::net::Shutdown;
    let (a2, b2) = (a.try_clone().unwrap(), b.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut &a, &mut &b);
        let _ = b.shutdown(Shutdown::Write);
    });
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut &b2, &mut &a2);
        let _ = a2.shutdown(Shutdown::Write);
    });
}

impl Drop for Relay {
    /// Stops accepting: the flag, then one connection to wake the thread.
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Chromium's `GET /session/{id}/se/log` (the browser console).
#[derive(Debug)]
struct GetLog;

impl fantoccini::wd::WebDriverCompatibleCommand for GetLog {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or("")))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

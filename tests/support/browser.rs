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
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium that accepts the
    /// server's self-signed certificate.
    pub async fn start() -> Browser {
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
            "chromium and chromium-driver are needed (scripts/deps.txt): apt-get install chromium chromium-driver"
        );
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
        Browser { driver, client }
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
        let Browser { mut driver, client } = self;
        let _ = client.close().await;
        let _ = driver.kill();
        let _ = driver.wait();
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

//! Issue 10, for real: a change of the firewall applied from the web
//! console, in a real headless Chromium, against the real `preau serve`
//! and the real `nft` — all inside a root test's sandbox (its own network
//! namespace: the ruleset loaded is the namespace's, never the host's).
//!
//! chromedriver and Chromium run in the sandbox's network namespace too
//! (`nsenter -n`), so the pages reach `serve` on that namespace's
//! loopback; the test talks to chromedriver through a relay thread that
//! entered the namespace (tests/support/browser.rs): no interface, route
//! or rule is added to the host.
//!
//! The administrator changes `[firewall] proxy_transparent_http_port` in
//! the generated settings form (teaching's web is redirected to that
//! port), sees the plan, applies: the result page counts down
//! `[firewall] confirm_seconds` with its "Confirmer" button, and the new
//! rule is live (`nft list ruleset`). Unconfirmed, the previous ruleset
//! comes back by itself — the browser closed and even the daemon stopped,
//! since the rollback is the detached timer's doing, not the page's nor the
//! server's ("a lost connection rolls back by itself") — and the console
//! shows it. Confirmed, the rule stays past the deadline.
//! Root only: `#[ignore = "needs root"]`, run with `--include-ignored`.

#[path = "support/browser.rs"]
mod browser;
mod support;

use browser::Browser;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use support::{Sandbox, show, wait_for};

/// The trial period of the test (the setting's minimum is 10 s; 20 leaves
/// time for the screenshots on a busy machine).
const CONFIRM: u64 = 20;

fn config(port: u16) -> String {
    format!(
        r#"[establishment]
uai = "0999999X"
name = "Collège des Tilleuls"

[server]
listen = ["127.0.0.1:{port}"]

[modules]
enabled = ["firewall"]

[firewall]
preset = "3-zones"
confirm_seconds = {CONFIRM}

[[firewall.zones]]
name = "teaching"
subnets = ["10.1.0.0/24"]

[[firewall.zones]]
name = "admin"
subnets = ["10.2.0.0/24"]
"#
    )
}

/// The appliance: a sandbox, a `preau init`ed root with the firewall
/// module, its first ruleset applied (and so confirmed) by `preau apply`,
/// and `preau serve` running inside.
struct Appliance {
    sb: Sandbox,
    root: PathBuf,
    port: u16,
    admin_password: String,
    serve: Option<Child>,
}

impl Appliance {
    fn new(test: &str) -> Appliance {
        let sb = Sandbox::new_for(test);
        // No systemd in this /run: the confirm timer is a detached process.
        sb.sh("mount -t tmpfs tmpfs /run && test ! -e /run/systemd/system");
        let root = sb.path().join("root");
        let mut app = Appliance {
            port: sb.free_port(),
            sb,
            root,
            admin_password: String::new(),
            serve: None,
        };
        let out = app.preau(&["--json", "init", "--name", "Collège des Tilleuls"]);
        let init: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        app.admin_password = init["admin_password"].as_str().unwrap().to_string();
        let path = app.root.join("etc/preau/preau.toml");
        std::fs::write(&path, config(app.port)).unwrap();
        app.preau(&["apply"]);
        assert!(app.ruleset().contains("redirect to :3129"), "{}", app.ruleset());
        app.start_serve();
        app
    }

    /// `preau --root R ARGS…` in the sandbox, loading rulesets into its
    /// kernel; must succeed.
    fn preau(&self, args: &[&str]) -> std::process::Output {
        let mut full = vec!["--root", self.root.to_str().unwrap()];
        full.extend_from_slice(args);
        let out = self
            .sb
            .preau(&full)
            .env("PREAU_FIREWALL_LIVE", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "preau {args:?}\n{}", show(&out));
        out
    }

    /// `nft list ruleset` of the sandbox's network namespace.
    fn ruleset(&self) -> String {
        String::from_utf8_lossy(&self.sb.sh("nft list ruleset").stdout).into_owned()
    }

    /// `preau serve` in the sandbox; its PID (in the sandbox) is written
    /// to serve.pid so that it can be stopped by its id.
    fn start_serve(&mut self) {
        let s = self.sb.path().display().to_string();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.sb.path().join("serve.log"))
            .unwrap();
        let child = self
            .sb
            .command("sh")
            .arg("-c")
            .arg(format!("echo $$ > {s}/serve.pid && exec \"$0\" \"$@\""))
            .arg(support::preau_bin())
            .args(["--root", self.root.to_str().unwrap(), "serve", "-v"])
            .env("PREAU_FIREWALL_LIVE", "1")
            .env("PREAU_ROLLBACK_TIMER", "fork")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.serve = Some(child);
        let listening = format!("ss -ltnH 'sport = :{}' | grep -q LISTEN", self.port);
        assert!(
            wait_for(Duration::from_secs(20), || self
                .sb
                .sh_status(&listening)
                .status
                .success()),
            "serve did not come up: {}",
            std::fs::read_to_string(self.sb.path().join("serve.log")).unwrap_or_default()
        );
    }

    /// Stops `preau serve` (SIGTERM to its PID) and waits for it.
    fn stop_serve(&mut self) {
        let s = self.sb.path().display().to_string();
        self.sb.sh(&format!("kill -TERM $(cat {s}/serve.pid)"));
        if let Some(mut c) = self.serve.take() {
            let _ = c.wait();
        }
    }

    fn base(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    async fn browser(&self) -> Browser {
        Browser::start_in_netns(self.sb.pid(), self.sb.free_port()).await
    }

    /// The reports of the recorded applies, newest first.
    fn history(&self) -> Vec<String> {
        let db = self.root.join("var/lib/preau/preau.db");
        let store = preau::store::Store::open_existing(&db).unwrap();
        store
            .applies_with_reports(50, 0)
            .unwrap()
            .into_iter()
            .map(|(_, report)| report)
            .collect()
    }

    fn pending(&self) -> bool {
        self.root.join("var/lib/preau/firewall/pending.json").exists()
    }
}

async fn sign_in_admin(b: &Browser, app: &Appliance) {
    b.goto(&format!("{}/connexion", app.base())).await;
    b.fill("#login", "admin").await;
    b.fill("#password", &app.admin_password).await;
    b.click_and_load("button[type=submit]").await;
    b.wait_path("/").await;
}

/// The form, its plan, "Appliquer": the result page of a change on trial.
/// Returns when the countdown page is shown (the rule is live).
async fn apply_new_port(b: &Browser, app: &Appliance, shots: &str) -> Instant {
    let base = app.base();
    b.goto(&format!("{base}/console/reglages/firewall")).await;
    b.assert_no_inline().await;
    b.fill("[id='f.proxy_transparent_http_port']", "3140").await;
    b.click_and_load("#verifier").await;
    let plan = b.body().await;
    assert!(plan.contains("Plan des réglages"), "{plan}");
    assert!(
        plan.contains(&format!("Confirmez-le dans les {CONFIRM} secondes")),
        "{plan}"
    );
    assert!(
        plan.contains("redirect to :3140"),
        "the plan shows the rule: {plan}"
    );
    b.assert_no_inline().await;
    assert!(
        app.ruleset().contains("redirect to :3129"),
        "nothing live before Appliquer"
    );
    b.click_and_load("#appliquer").await;
    let applied = Instant::now();
    let done = b.text("#resultat").await;
    assert!(done.contains("Configuration enregistrée et appliquée"), "{done}");
    let page = b.body().await;
    assert!(page.contains("Le serveur a relu sa configuration"), "{page}");
    assert!(!page.contains("Run `preau confirm`"), "French only: {page}");
    // The countdown, in the page and counted down by its script.
    let first: u64 = b.text("#decompte").await.parse().unwrap();
    assert!((CONFIRM - 5..=CONFIRM).contains(&first), "{first}");
    assert!(b.text("#confirmation").await.contains("Confirmer"));
    b.assert_no_inline().await;
    b.screenshots(shots).await;
    let ruleset = app.ruleset();
    assert!(
        ruleset.contains("redirect to :3140") && !ruleset.contains("redirect to :3129"),
        "the new rule is live: {ruleset}"
    );
    assert!(app.pending());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now: u64 = b.text("#decompte").await.parse().unwrap();
        if now < first {
            break;
        }
        assert!(Instant::now() < deadline, "the countdown does not move");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    applied
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root"]
async fn a_firewall_change_from_the_web_is_rolled_back_when_not_confirmed() {
    let mut app = Appliance::new("a_firewall_change_from_the_web_is_rolled_back_when_not_confirmed");
    let before = app.ruleset();
    let b = app.browser().await;
    sign_in_admin(&b, &app).await;
    let applied = apply_new_port(&b, &app, "pare-feu-decompte").await;
    // The dashboard says it is waiting.
    b.goto(&format!("{}/console", app.base())).await;
    assert!(b.body().await.contains("attend sa confirmation"));
    b.screenshots("pare-feu-en-attente").await;

    // The connection is lost: the page is gone, the browser too, and even
    // the daemon stops. Nobody confirms.
    b.close().await;
    app.stop_serve();
    assert!(app.ruleset().contains("redirect to :3140"), "still on trial");
    let back = wait_for(Duration::from_secs(CONFIRM + 15), || {
        app.ruleset().contains("redirect to :3129")
    });
    assert!(back, "not rolled back: {}", app.ruleset());
    assert!(
        applied.elapsed() >= Duration::from_secs(CONFIRM - 2),
        "rolled back after the countdown, not before ({:?})",
        applied.elapsed()
    );
    assert_eq!(app.ruleset(), before, "the previous ruleset is back");
    assert!(!app.pending());

    assert!(
        app.history()[0].contains("firewall rolled back (not confirmed in time)"),
        "{:?}",
        app.history()
    );

    // The console shows it: no alert, the firewall not the configured
    // one, the rollback in the history of applies.
    app.start_serve();
    let b = app.browser().await;
    sign_in_admin(&b, &app).await;
    b.goto(&format!("{}/console", app.base())).await;
    let dash = b.body().await;
    assert!(!dash.contains("attend sa confirmation"), "{dash}");
    assert!(dash.contains("is not the configured one"), "{dash}");
    b.screenshots("pare-feu-annule").await;
    b.goto(&format!("{}/console/journaux/mises-en-oeuvre", app.base()))
        .await;
    // The newest apply, opened: the rollback.
    b.click("details.apply summary").await;
    let applies = b.text("details.apply").await;
    assert!(
        applies.contains("firewall rolled back (not confirmed in time)"),
        "{applies}"
    );
    b.assert_no_inline().await;
    // The configuration keeps the change: the plan shows it still to do.
    let conf = std::fs::read_to_string(app.root.join("etc/preau/preau.toml")).unwrap();
    assert!(conf.contains("proxy_transparent_http_port = 3140"), "{conf}");
    b.close().await;
    app.stop_serve();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root"]
async fn a_firewall_change_from_the_web_confirmed_in_time_stays() {
    let mut app = Appliance::new("a_firewall_change_from_the_web_confirmed_in_time_stays");
    let b = app.browser().await;
    sign_in_admin(&b, &app).await;
    let applied = apply_new_port(&b, &app, "pare-feu-decompte-confirme").await;
    b.click_and_load("#confirmer").await;
    let done = b.text("#resultat").await;
    assert!(done.starts_with("Confirmé"), "{done}");
    b.assert_no_inline().await;
    b.screenshots("pare-feu-confirme").await;
    assert!(!app.pending());
    // Past the deadline the rule is still there, and it is the one boot loads.
    let past = Duration::from_secs(CONFIRM + 5);
    if let Some(wait) = past.checked_sub(applied.elapsed()) {
        tokio::time::sleep(wait).await;
    }
    let ruleset = app.ruleset();
    assert!(ruleset.contains("redirect to :3140"), "{ruleset}");
    let boot = std::fs::read_to_string(app.root.join("var/lib/preau/firewall/boot.nft")).unwrap();
    assert!(boot.contains("redirect to :3140"), "{boot}");
    b.goto(&format!("{}/console", app.base())).await;
    let dash = b.body().await;
    assert!(!dash.contains("attend sa confirmation"), "{dash}");
    b.close().await;
    app.stop_serve();
    assert!(
        !app.history().iter().any(|r| r.contains("rolled back")),
        "the timer found nothing to undo"
    );
}

impl Drop for Appliance {
    fn drop(&mut self) {
        // The sandbox's end kills everything inside (serve, the timer).
        if let Some(mut c) = self.serve.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

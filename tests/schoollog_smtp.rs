//! E-mail notifications of messages against a real, independent SMTP
//! relay: Python's aiosmtpd on a free loopback port, requiring STARTTLS
//! and authentication, with a certificate made for the test. A message
//! written during the quiet period is notified only after it ends; each
//! notification goes once; the relay password is read from its file.

use preau::directory::{Kind, NewPerson, insert_person};
use preau::modules::viescolaire::attendance;
use preau::modules::viescolaire::calendar::{DateTime, Time};
use preau::modules::viescolaire::notify;
use preau::modules::viescolaire::queries::{self, messages};
use preau::modules::viescolaire::settings::SmtpSecurity;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

/// A Python with aiosmtpd, in a venv made once under the target dir.
fn python_aiosmtpd() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("venv-aiosmtpd");
    let python = venv.join("bin/python");
    let ready = venv.join("ready-1.4.6");
    if !ready.exists() {
        let status = std::process::Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv)
            .status()
            .expect("python3 (scripts/deps.txt: python3, python3-venv)");
        assert!(status.success(), "python3 -m venv failed: install python3-venv");
        let status = std::process::Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "aiosmtpd==1.4.6",
            ])
            .status()
            .unwrap();
        assert!(status.success(), "pip install aiosmtpd failed");
        std::fs::write(&ready, "").unwrap();
    }
    python
}

struct Relay {
    child: Child,
    port: u16,
    out: PathBuf,
}

impl Drop for Relay {
    fn drop(&mut self) {
        // Closing its stdin stops it; kill is the fallback.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Relay {
    fn received(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn start_relay(dir: &Path) -> Relay {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    std::fs::write(dir.join("relay.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.join("relay.key"), cert.signing_key.serialize_pem()).unwrap();
    let out = dir.join("received.jsonl");
    let mut child = std::process::Command::new(python_aiosmtpd())
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schoollog_smtp.py"))
        .arg(dir.join("relay.pem"))
        .arg(dir.join("relay.key"))
        .arg(&out)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("relay port: {line:?}"));
    Relay { child, port, out }
}

fn dt(s: &str) -> DateTime {
    DateTime::parse(s).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_go_through_a_starttls_relay_after_the_quiet_period() {
    let dir = tempfile::tempdir().unwrap();
    let relay = start_relay(dir.path());
    let db = dir.path().join("preau.db");
    let mut store = preau::store::Store::open(&db).unwrap();
    let (teacher, parent, no_mail) = store
        .write(|tx| {
            let np = |kind, first: &str, email: Option<&str>| NewPerson {
                kind: Some(kind),
                source: "manual".into(),
                first_name: first.into(),
                last_name: "Test".into(),
                email: email.map(str::to_string),
                ..Default::default()
            };
            let t = insert_person(tx, &np(Kind::Teacher, "Paul", None), "paul.test", Some(10001))?;
            let p = insert_person(
                tx,
                &np(Kind::Parent, "Anne", Some("anne@example.org")),
                "anne.test",
                None,
            )?;
            let n = insert_person(tx, &np(Kind::Parent, "Marc", None), "marc.test", None)?;
            Ok::<_, anyhow::Error>((t, p, n))
        })
        .unwrap();
    // Written on a Friday at 21:00: delivered on Monday at 07:00.
    let written = dt("2026-12-04T21:00");
    let delivered = attendance::delivery(written, Time::hm(20, 0), Time::hm(7, 0), true);
    assert_eq!(delivered.stamp(), "2026-12-07T07:00");
    store
        .write(|tx| {
            let t = messages::new_thread(tx, "Sortie au musée", "les responsables", teacher, written)?;
            queries::send_message(
                tx,
                Some(t),
                "",
                teacher,
                &[parent, no_mail],
                "Prévoir un pique-nique.",
                written,
                delivered,
            )
        })
        .unwrap();
    drop(store);
    std::fs::write(dir.path().join("smtp-password"), "secret-relay\n").unwrap();
    let mut config = preau::config::Config::default();
    config.establishment.name = "Collège des Tilleuls".into();
    let s = &mut config.viescolaire;
    s.notify_email = true;
    s.smtp_host = "localhost".into();
    s.smtp_port = relay.port;
    s.smtp_security = SmtpSecurity::Starttls;
    s.smtp_user = "preau".into();
    s.smtp_password_file = dir.path().join("smtp-password").display().to_string();
    s.smtp_from = "vie-scolaire@tilleuls.example".into();
    s.smtp_ca_file = dir.path().join("relay.pem").display().to_string();
    let real = |p: &str| PathBuf::from(p);

    // During the quiet period: nothing is sent.
    for now in ["2026-12-04T21:05", "2026-12-06T12:00", "2026-12-07T06:59"] {
        assert_eq!(
            notify::run_once(&config, db.clone(), real, dt(now))
                .await
                .unwrap(),
            0,
            "{now}"
        );
    }
    assert!(relay.received().is_empty());
    // At its end: one e-mail, to the parent with an address; once.
    assert_eq!(
        notify::run_once(&config, db.clone(), real, dt("2026-12-07T07:00"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        notify::run_once(&config, db.clone(), real, dt("2026-12-07T07:01"))
            .await
            .unwrap(),
        0
    );
    let got = relay.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["to"], serde_json::json!(["anne@example.org"]));
    assert_eq!(got[0]["from"], "vie-scolaire@tilleuls.example");
    assert_eq!(got[0]["tls"], true, "sent after STARTTLS");
    assert_eq!(got[0]["authenticated"], true);
    let data = got[0]["data"].as_str().unwrap();
    assert!(data.contains("Subject:"), "{data}");
    assert!(data.contains("/vie-scolaire/messages/"), "{data}");
    assert!(
        !data.contains("pique-nique"),
        "the message itself stays on the appliance"
    );
    let store = preau::store::Store::open_existing(&db).unwrap();
    let notified: i64 = store
        .conn()
        .query_row(
            "SELECT count(*) FROM vs_recipients WHERE notified_at IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(notified, 1);

    // A wrong password: the relay refuses (aiosmtpd closes the session
    // after about 30 s, bounded by notify::SEND_TIMEOUT), nothing is
    // recorded as sent.
    let again = DateTime {
        date: dt("2026-12-07T08:00").date,
        time: Time::hm(8, 0),
    };
    let mut store = preau::store::Store::open_existing(&db).unwrap();
    store
        .write(|tx| {
            let t = messages::new_thread(tx, "Rappel", "", teacher, again)?;
            queries::send_message(tx, Some(t), "", teacher, &[parent], "Rappel.", again, again)
        })
        .unwrap();
    std::fs::write(dir.path().join("smtp-password"), "wrong\n").unwrap();
    let err = notify::run_once(&config, db.clone(), real, dt("2026-12-07T08:01"))
        .await
        .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        !text.contains("wrong"),
        "the password is not in the error: {text}"
    );
    assert_eq!(relay.received().len(), 1);
    // STARTTLS is required: a relay with an untrusted certificate is refused.
    std::fs::write(dir.path().join("smtp-password"), "secret-relay\n").unwrap();
    config.viescolaire.smtp_ca_file.clear();
    assert!(
        notify::run_once(&config, db.clone(), real, dt("2026-12-07T08:02"))
            .await
            .is_err()
    );
    assert_eq!(relay.received().len(), 1);
}

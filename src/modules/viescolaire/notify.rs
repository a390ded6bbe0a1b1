//! E-mail notifications of school-life messages (setting `notify_email`,
//! off by default): once a minute, `preau serve` sends one short e-mail
//! per message delivered to a person with an address in the directory
//! (the author, the subject and the link; never the message itself),
//! through the configured SMTP relay with STARTTLS or implicit TLS
//! (lettre over rustls). A message written during the quiet period is
//! delivered, hence notified, only when the period ends. The relay's
//! password is read from its file at each run and never logged.

use super::calendar::DateTime;
use super::queries::messages::{self, Pending};
use super::settings::{SmtpSecurity, VieScolaireSettings};
use crate::config::Config;
use anyhow::{Context as _, bail};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Most notifications sent per run.
pub const BATCH: i64 = 500;
/// Longest exchange with the relay for one notification.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// The text of a notification (pure).
pub fn text(p: &Pending, establishment: &str, base_url: &str) -> (String, String) {
    let subject = format!("[{establishment}] Nouveau message : {}", p.subject);
    let body = format!(
        "Bonjour,\n\n{} vous a écrit : « {} ».\n\nLisez-le et répondez sur l'espace vie scolaire :\n{base_url}/vie-scolaire/messages/{}\n\nCe courriel est envoyé automatiquement ; n'y répondez pas.\n",
        p.author, p.subject, p.thread_id
    );
    (subject, body)
}

/// The relay transport from the settings (the password read from its file).
pub fn transport(
    s: &VieScolaireSettings,
    real_path: impl Fn(&str) -> PathBuf,
) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let mut tls = TlsParameters::builder(s.smtp_host.clone());
    if !s.smtp_ca_file.is_empty() {
        let pem = std::fs::read(real_path(&s.smtp_ca_file))
            .with_context(|| format!("cannot read smtp_ca_file {}", s.smtp_ca_file))?;
        tls = tls.add_root_certificate(
            Certificate::from_pem(&pem).context("smtp_ca_file is not a PEM certificate")?,
        );
    }
    let tls = tls.build_rustls().context("TLS parameters for the SMTP relay")?;
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.smtp_host.as_str())
        .port(s.smtp_port)
        .timeout(Some(Duration::from_secs(20)))
        .tls(match s.smtp_security {
            SmtpSecurity::Starttls => Tls::Required(tls),
            SmtpSecurity::Tls => Tls::Wrapper(tls),
        });
    if !s.smtp_user.is_empty() {
        let password = std::fs::read_to_string(real_path(&s.smtp_password_file))
            .with_context(|| format!("cannot read smtp_password_file {}", s.smtp_password_file))?;
        b = b
            .credentials(Credentials::new(
                s.smtp_user.clone(),
                password.trim_end_matches(['\r', '\n']).to_string(),
            ))
            .authentication(vec![Mechanism::Plain]);
    }
    Ok(b.build())
}

/// Sends notifications; returns those sent (the others failed and are
/// tried again at the next run).
pub async fn send(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &str,
    establishment: &str,
    base_url: &str,
    pending: &[Pending],
) -> anyhow::Result<Vec<(i64, i64)>> {
    let from: Mailbox = from.parse().context("smtp_from is not an address")?;
    let mut sent = Vec::new();
    let mut last_error = None;
    for p in pending {
        let Ok(to) = p.email.parse::<Mailbox>() else {
            continue;
        };
        let (subject, body) = text(p, establishment, base_url);
        let email = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)?;
        // The whole exchange is bounded: a relay that stops answering
        // does not hold the notifier.
        match tokio::time::timeout(SEND_TIMEOUT, transport.send(email)).await {
            Ok(Ok(_)) => sent.push((p.message_id, p.person_id)),
            Ok(Err(e)) => last_error = Some(e.to_string()),
            Err(_) => last_error = Some("no answer from the relay".into()),
        }
        if last_error.is_some() && sent.is_empty() {
            // The relay refuses the first one: it will refuse the others.
            break;
        }
    }
    if sent.is_empty()
        && let Some(e) = last_error
    {
        bail!("the SMTP relay refused the notifications: {e}");
    }
    Ok(sent)
}

/// One run: what is due at `now` is sent and recorded.
pub async fn run_once(
    config: &Config,
    db: PathBuf,
    real_path: impl Fn(&str) -> PathBuf,
    now: DateTime,
) -> anyhow::Result<usize> {
    let s = &config.viescolaire;
    if !s.notify_email {
        return Ok(0);
    }
    let since = DateTime {
        date: now.date.add_days(-1),
        time: now.time,
    }
    .stamp();
    let stamp = now.stamp();
    let db2 = db.clone();
    let (since2, stamp2) = (since.clone(), stamp.clone());
    let pending = tokio::task::spawn_blocking(move || {
        let store = crate::store::Store::open_existing(&db2)?;
        anyhow::Ok(messages::pending_notifications(
            store.conn(),
            &since2,
            &stamp2,
            BATCH,
        )?)
    })
    .await??;
    if pending.is_empty() {
        return Ok(0);
    }
    let transport = transport(s, real_path)?;
    let e = &config.establishment;
    let base = format!("https://{}.{}", e.hostname, e.domain);
    let sent = send(&transport, &s.smtp_from, &e.name, &base, &pending).await?;
    let n = sent.len();
    tokio::task::spawn_blocking(move || {
        let mut store = crate::store::Store::open_existing(&db)?;
        store.write(|tx| {
            for (m, p) in &sent {
                messages::mark_notified(tx, *m, *p, &stamp)?;
            }
            Ok::<_, rusqlite::Error>(())
        })?;
        anyhow::Ok(())
    })
    .await??;
    Ok(n)
}

/// Maps a configured (logical) path to the real one.
pub type RealPath = Arc<dyn Fn(&str) -> PathBuf + Send + Sync>;
/// Gives the running configuration, the database and [`RealPath`].
pub type State = Arc<dyn Fn() -> (Arc<Config>, PathBuf, RealPath) + Send + Sync>;

/// Starts the once-a-minute notifier on the current runtime. `state`
/// gives the running configuration, the database and a function mapping
/// a configured path to the real one.
pub fn spawn(state: State) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let (config, db, real) = state();
            if !config.viescolaire.notify_email {
                continue;
            }
            let now = super::web::access::now();
            match run_once(&config, db, |p| real(p), now).await {
                Ok(0) => {}
                Ok(n) => log::info!(sent = n; "message notifications sent"),
                Err(e) => log::warn!(error = format!("{e:#}").as_str(); "message notifications failed"),
            }
        }
    })
}

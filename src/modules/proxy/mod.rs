//! The `proxy` module: Préau's filtering web proxy.
//!
//! It runs inside `preau serve` (see [`server`]): an explicit HTTP/1.1
//! proxy (absolute-form requests and CONNECT tunnels), and transparent
//! listeners for the plain HTTP (by Host) and HTTPS (by the SNI of the
//! ClientHello, spliced, never decrypted) that the firewall redirects.
//! Each request is decided by the pure function [`policy::decide`] from
//! the category lists ([`lists`], UT1 layout), the policies of `[proxy]`,
//! the exams switched on with `preau proxy exam` and the user's groups
//! ([`directory`]). Every request or tunnel is written to the daily
//! connection logs ([`log`]).
//!
//! Limits: HTTP/2 is not spoken to clients (browsers use HTTP/1.1 to
//! proxies and tunnel HTTP/2 inside CONNECT); HTTPS is filtered by host
//! name only (no path, no decryption); a client without SNI going through
//! the transparent HTTPS listener is judged by its destination address.

pub mod block_page;
pub mod cli;
pub mod directory;
pub mod lists;
pub mod log;
pub mod policy;
pub mod rooms;
pub mod server;
pub mod settings;
pub mod summary;
pub mod web;

use super::{Context, Finding, Health, Module, ModuleInfo, State};
use crate::config::Config;
use crate::engine::{Change, dir};
use crate::host::Owner;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

pub struct Proxy;

pub static PROXY: Proxy = Proxy;

static INFO: LazyLock<ModuleInfo> =
    LazyLock::new(|| ModuleInfo::parse(include_str!("../../../modules/proxy/module.toml")));

/// The installed lists directory (logical host path).
pub fn lists_dir(config: &Config) -> PathBuf {
    if config.proxy.lists_dir.is_empty() {
        Path::new(&config.paths.state_dir).join("blacklists")
    } else {
        PathBuf::from(&config.proxy.lists_dir)
    }
}

/// The connection log directory (logical host path).
pub fn log_dir(config: &Config) -> PathBuf {
    Path::new(&config.paths.log_dir).join("proxy")
}

/// Exams stored in the database.
pub mod exams {
    use super::policy::{Exam, ExamMode};
    use rusqlite::{Connection, params};

    pub fn active(conn: &Connection, now: i64) -> rusqlite::Result<Vec<Exam>> {
        let mut stmt = conn
            .prepare("SELECT room, until, allow, by, mode FROM proxy_exams WHERE until > ?1 ORDER BY room")?;
        let rows = stmt.query_map([now], |r| {
            let allow: String = r.get(2)?;
            let mode: String = r.get(4)?;
            Ok(Exam {
                room: r.get(0)?,
                until: r.get(1)?,
                // The column's CHECK allows only the two; an unknown one
                // (a newer Préau) is the strictest.
                mode: ExamMode::parse(&mode).unwrap_or(ExamMode::Off),
                allow: allow.split_whitespace().map(str::to_string).collect(),
                by: r.get(3)?,
            })
        })?;
        rows.collect()
    }

    /// Starts (or replaces) the exam of a room.
    pub fn start(tx: &rusqlite::Transaction<'_>, exam: &Exam) -> rusqlite::Result<()> {
        tx.execute(
            "INSERT INTO proxy_exams (room, until, allow, by, mode) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(room) DO UPDATE SET until = excluded.until, allow = excluded.allow,
                 by = excluded.by, mode = excluded.mode",
            params![
                exam.room,
                exam.until,
                exam.allow.join(" "),
                exam.by,
                exam.mode.as_str()
            ],
        )?;
        Ok(())
    }

    /// Ends the exam of a room; whether there was one.
    pub fn stop(tx: &rusqlite::Transaction<'_>, room: &str) -> rusqlite::Result<bool> {
        Ok(tx.execute("DELETE FROM proxy_exams WHERE room = ?1", [room])? > 0)
    }
}

/// The firewall zones a proxy policy or exam may name as its source: each
/// zone with its subnets (module `firewall` enabled; none otherwise).
pub fn zone_sources(config: &Config) -> Vec<settings::SourceGroup> {
    if !config.modules.enabled.iter().any(|m| m == "firewall") {
        return Vec::new();
    }
    config
        .firewall
        .effective()
        .zones
        .into_iter()
        .map(|z| settings::SourceGroup {
            name: z.name,
            addresses: z.subnets,
            rooms: Vec::new(),
        })
        .collect()
}

/// When the firewall redirects a zone's web traffic, the proxy must listen
/// on the ports it redirects to.
pub fn firewall_findings(config: &Config) -> Vec<Finding> {
    let mut found = Vec::new();
    if !config.modules.enabled.iter().any(|m| m == "firewall") {
        return found;
    }
    let fw = &config.firewall;
    let redirected: Vec<String> = fw
        .effective()
        .zones
        .iter()
        .filter(|z| z.web == crate::modules::firewall::settings::WebMode::Redirect)
        .map(|z| z.name.clone())
        .collect();
    if redirected.is_empty() {
        return found;
    }
    for (what, key, port, list) in [
        (
            "HTTP",
            "transparent_http",
            fw.proxy_transparent_http_port,
            &config.proxy.transparent_http,
        ),
        (
            "HTTPS",
            "transparent_https",
            fw.proxy_transparent_https_port,
            &config.proxy.transparent_https,
        ),
    ] {
        let listens = list
            .iter()
            .filter_map(|a| a.parse::<std::net::SocketAddr>().ok())
            .any(|a| a.port() == port);
        if !listens {
            let message = format!(
                "the firewall redirects the web traffic of {} ({what}) to port {port}, where the proxy does not listen",
                redirected.join(", ")
            );
            found.push(
                Finding::new("proxy", message).hint(format!("add \"0.0.0.0:{port}\" to [proxy] {key}")),
            );
        }
    }
    found
}

impl Module for Proxy {
    fn name(&self) -> &'static str {
        "proxy"
    }

    fn info(&self) -> &ModuleInfo {
        &INFO
    }

    /// Policy sources name source groups or the firewall's zones.
    fn validate(&self, config: &Config, problems: &mut crate::config::problems::Problems) {
        config
            .proxy
            .check_sources("proxy", &zone_sources(config), problems);
    }

    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut found = Vec::new();
        let lists = ctx.host.real_path(&lists_dir(ctx.config));
        if !lists.join(lists::STAMP).is_file() {
            found.push(
                Finding::new(
                    "proxy",
                    format!(
                        "no category lists installed in {}",
                        lists_dir(ctx.config).display()
                    ),
                )
                .hint("install them with `preau blacklists update blacklists.tar.gz` (the UT1 archive)"),
            );
        }
        found.extend(firewall_findings(ctx.config));
        found
    }

    fn plan(&self, ctx: &Context<'_>) -> anyhow::Result<Vec<Change>> {
        let host = ctx.host;
        Ok([
            dir(host, log_dir(ctx.config), 0o750, Owner::root())?,
            dir(host, lists_dir(ctx.config), 0o755, Owner::root())?,
        ]
        .into_iter()
        .flatten()
        .collect())
    }

    fn status(&self, ctx: &Context<'_>) -> Health {
        let lists = ctx.host.real_path(&lists_dir(ctx.config));
        let mut details = vec![format!("listen: {}", ctx.config.proxy.listen.join(", "))];
        let state = match lists::stamp(&lists) {
            Some(_) => {
                let n = std::fs::read_dir(&lists)
                    .map(|rd| {
                        rd.flatten()
                            .filter(|e| e.path().join("domains").is_file())
                            .count()
                    })
                    .unwrap_or(0);
                details.push(format!(
                    "category lists: {n} categories in {}",
                    lists_dir(ctx.config).display()
                ));
                State::Ok
            }
            None => {
                details.push("no category lists installed: `preau blacklists update`".into());
                State::Degraded
            }
        };
        Health {
            module: "proxy",
            state,
            details,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firewall_redirects_need_transparent_listeners() {
        let mut c = Config::default();
        c.modules.enabled = vec!["firewall".into(), "proxy".into()];
        // The 3-zones preset redirects the teaching zone's web traffic.
        let found = firewall_findings(&c);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].message.contains("teaching") && found[0].message.contains("3129"));
        c.proxy.transparent_http = vec!["0.0.0.0:3129".into()];
        c.proxy.transparent_https = vec!["0.0.0.0:3130".into()];
        assert!(firewall_findings(&c).is_empty());
        c.modules.enabled = vec!["proxy".into()];
        c.proxy.transparent_http.clear();
        assert!(firewall_findings(&c).is_empty(), "no firewall, no redirect");
    }
}

//! `preau proxy …` and `preau blacklists …`.

use super::directory::{Directory, StoreDirectory, User};
use super::lists::{self, Index};
use super::log::{Entry, Filter};
use super::policy::{self, Clock, Exam, ExamMode, Policies, Request};
use crate::engine::{Env, exit};
use crate::host::Host;
use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use serde_json::json;
use std::net::IpAddr;
use std::path::PathBuf;

/// The proxy module's top-level commands (flattened into `preau`'s).
#[derive(Debug, Subcommand)]
pub enum Commands {
    /// The filtering web proxy: explain a decision, read the logs, exam mode.
    Proxy {
        #[command(subcommand)]
        command: ProxyCommand,
    },
    /// The proxy's category lists (UT1 layout).
    Blacklists {
        #[command(subcommand)]
        command: BlacklistsCommand,
    },
}

/// Runs one of the proxy's commands.
pub fn run(env: &Env, command: Commands) -> anyhow::Result<u8> {
    match command {
        Commands::Proxy { command } => proxy(env, command),
        Commands::Blacklists { command } => blacklists(env, command),
    }
}

#[derive(Debug, Subcommand)]
pub enum ProxyCommand {
    /// Explain the decision for a URL: policy, list, category.
    Check(CheckArgs),
    /// Make the running proxy reload its category lists now.
    Reload,
    /// Read the connection logs, filtered.
    Log(LogArgs),
    /// Switch whitelist-only exam mode (or the internet off) on for a
    /// room for a time, or end it.
    Exam(ExamArgs),
    /// The exams in progress.
    Exams,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// URL (http://host/path, https://host) or host name.
    pub url: String,
    /// Decide as this user (groups read from the directory).
    #[arg(long, value_name = "LOGIN")]
    pub user: Option<String>,
    /// Decide as this user group (instead of reading the directory; repeatable).
    #[arg(long, value_name = "GROUP")]
    pub group: Vec<String>,
    /// Source address of the request.
    #[arg(long, value_name = "ADDR")]
    pub ip: Option<IpAddr>,
    /// Local date and time of the request, "YYYY-MM-DDTHH:MM" (default: now).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Only this user's requests.
    #[arg(long)]
    pub user: Option<String>,
    /// Only this source address (or address:port).
    #[arg(long, value_name = "ADDR")]
    pub ip: Option<String>,
    /// Only this host and its subdomains.
    #[arg(long)]
    pub host: Option<String>,
    /// From this UTC time ("2026-11-28" or "2026-11-28T14:00").
    #[arg(long)]
    pub since: Option<String>,
    /// Before this UTC time.
    #[arg(long)]
    pub until: Option<String>,
    /// At most this many lines (the most recent).
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct ExamArgs {
    /// The room: a source group of [proxy] sources.
    pub room: String,
    /// How long the exam lasts.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub minutes: u32,
    /// Domains allowed during the exam, on top of [proxy] exam_allow (repeatable).
    #[arg(long, value_name = "DOMAIN")]
    pub allow: Vec<String>,
    /// Who switches it on (shown in `preau proxy exams`).
    #[arg(long, default_value = "admin")]
    pub by: String,
    /// Cut the internet off entirely in the room (no whitelist).
    #[arg(long, conflicts_with_all = ["allow", "stop"])]
    pub off: bool,
    /// End the room's exam now.
    #[arg(long)]
    pub stop: bool,
}

#[derive(Debug, Subcommand)]
pub enum BlacklistsCommand {
    /// Install a new set of lists from a UT1 archive (blacklists.tar.gz)
    /// or directory; a broken set is refused and the old one stays.
    Update {
        /// The archive or directory.
        source: PathBuf,
    },
    /// The installed categories and their sizes, load time and memory.
    Show {
        /// Also time this many lookups (half listed names with a
        /// subdomain, half unlisted names) and print the mean.
        #[arg(long, value_name = "N")]
        lookups: Option<usize>,
    },
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Splits a URL (or bare host) into host, path (plain HTTP only) and method.
pub fn split_url(url: &str) -> Option<(String, Option<String>, &'static str)> {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => ("http".to_string(), url),
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?.to_string()
    } else {
        authority
            .rsplit_once(':')
            .map_or(
                authority,
                |(h, p)| if p.parse::<u16>().is_ok() { h } else { authority },
            )
            .to_string()
    };
    let host = lists::normalize_host(&host)?;
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    match scheme.as_str() {
        "https" => Some((host, None, "CONNECT")),
        "http" => Some((host, Some(path), "GET")),
        _ => None,
    }
}

/// The port a URL (or bare host) names: written, or its scheme's.
pub fn port_of(url: &str) -> u16 {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let written = match authority.rsplit_once(']') {
        Some((_, after)) => after.strip_prefix(':'),
        None => authority.rsplit_once(':').map(|(_, p)| p),
    };
    written
        .and_then(|p| p.parse().ok())
        .unwrap_or(if scheme.eq_ignore_ascii_case("https") {
            443
        } else {
            80
        })
}

fn load_index(env: &Env, config: &crate::config::Config) -> anyhow::Result<Index> {
    let dir = env.host.real_path(&super::lists_dir(config));
    if lists::stamp(&dir).is_none() {
        return Ok(Index::default());
    }
    Index::load(&dir).with_context(|| format!("cannot load the category lists of {}", dir.display()))
}

fn active_exams(env: &Env, config: &crate::config::Config, now: i64) -> Vec<Exam> {
    let db = env.db_path(config);
    match crate::store::Store::open_existing(&db) {
        Ok(store) => super::exams::active(store.conn(), now).unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

/// Parses "YYYY-MM-DDTHH:MM" as local time.
fn parse_local(s: &str) -> Option<Clock> {
    let (d, t) = s.split_once(['T', ' '])?;
    let days = super::log::parse_date(d)?;
    let m = super::settings::parse_hhmm(t.get(..5)?)?;
    let naive = days * 86400 + i64::from(m) * 60;
    // The offset at that time, taken at the naive time (off by an hour
    // only right at a daylight saving change).
    Some(Clock::at(naive - policy::local_offset(naive)))
}

pub fn proxy(env: &Env, command: ProxyCommand) -> anyhow::Result<u8> {
    let config = env.config()?;
    match command {
        ProxyCommand::Check(a) => {
            let Some((host, path, method)) = split_url(&a.url) else {
                bail!("\"{}\" is not an http:// or https:// URL nor a host name", a.url);
            };
            let now = match &a.at {
                Some(t) => parse_local(t)
                    .with_context(|| format!("\"{t}\" is not a local time; write YYYY-MM-DDTHH:MM"))?,
                None => Clock::now(),
            };
            let user = a.user.as_ref().map(|login| {
                let groups = if a.group.is_empty() {
                    StoreDirectory::with_roles(
                        env.db_path(&config),
                        super::directory::RoleGroups::of(&config.accounts),
                    )
                    .groups_of(login)
                } else {
                    a.group.clone()
                };
                User {
                    login: login.clone(),
                    groups,
                }
            });
            let source = a.ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
            let index = load_index(env, &config)?;
            let exams = active_exams(env, &config, now.unix);
            let policies = Policies::new(&config.proxy, &super::zone_sources(&config));
            let req = Request {
                host: &host,
                path: path.as_deref(),
                method,
                source,
                user: user.as_ref(),
                port: port_of(&a.url),
                // An https:// URL is what a browser asks the proxy to
                // tunnel (CONNECT).
                tunnel: method == "CONNECT",
            };
            let d = policy::decide(&req, &now, &policies, &exams, &index);
            // The override of the source's room, if one is on.
            let room = exams
                .iter()
                .find(|e| e.until > now.unix && policies.in_source(&e.room, source));
            if env.json {
                println!(
                    "{}",
                    json!({ "host": host, "path": path, "user": user, "source": source.to_string(), "room": room, "decision": d,
                        "firewall_cut": room.is_some() && crate::modules::firewall::room_cut::enabled(&config) })
                );
            } else {
                println!(
                    "{} {}{}",
                    if d.allow { "ALLOW" } else { "DENY " },
                    host,
                    path.as_deref().unwrap_or("")
                );
                if let Some(u) = &user {
                    println!(
                        "  user:   {} (groups: {})",
                        u.login,
                        if u.groups.is_empty() {
                            "none".into()
                        } else {
                            u.groups.join(", ")
                        }
                    );
                }
                println!("  source: {source}");
                if let Some(e) = room {
                    println!(
                        "  room:   {}: {} until {} (by {})",
                        e.room,
                        match e.mode {
                            ExamMode::Off => "internet off",
                            ExamMode::Whitelist => "exam (whitelist only)",
                        },
                        policy::local_hhmm(e.until),
                        e.by
                    );
                    if crate::modules::firewall::room_cut::enabled(&config) {
                        println!(
                            "  firewall: the room is cut off from the internet for every protocol too (`preau firewall status`)"
                        );
                    }
                }
                println!("  policy: {}", d.policy);
                println!("  why:    {}", d.explain());
                if index.domain_count() == 0 {
                    println!("  note:   no category lists installed (`preau blacklists update`)");
                }
            }
            Ok(if d.allow { exit::OK } else { exit::FAILURE })
        }
        ProxyCommand::Reload => {
            let dir = env.host.real_path(&super::lists_dir(&config));
            if lists::stamp(&dir).is_none() {
                bail!(
                    "no category lists installed in {}\n    help: run `preau blacklists update ARCHIVE|DIR`",
                    dir.display()
                );
            }
            Index::load(&dir).context("the installed lists are broken; the running proxy keeps its own")?;
            std::fs::write(dir.join(lists::STAMP), format!("{}\n", now_unix()))?;
            if env.json {
                println!("{}", json!({ "ok": true }));
            } else {
                println!("The running proxy reloads its lists within 2 seconds.");
            }
            Ok(exit::OK)
        }
        ProxyCommand::Log(a) => {
            let dir = env.host.real_path(&super::log_dir(&config));
            let filter = Filter {
                user: a.user,
                address: a.ip,
                host: a.host,
                since: a.since,
                until: a.until,
                decision: None,
            };
            let entries = super::log::read(&dir, &filter, a.limit)
                .with_context(|| format!("cannot read the logs in {}", dir.display()))?;
            if env.json {
                println!("{}", serde_json::to_string(&entries)?);
            } else {
                for e in &entries {
                    print!("{}", Entry::line(e).replace('\t', " "));
                }
            }
            Ok(exit::OK)
        }
        ProxyCommand::Exam(a) => {
            let policies = Policies::new(&config.proxy, &super::zone_sources(&config));
            if !policies.has_source(&a.room) {
                bail!(
                    "no room \"{}\" in [proxy] sources\n    help: declare it as [[proxy.sources]] name = \"{}\" with its addresses",
                    a.room,
                    a.room
                );
            }
            for d in &a.allow {
                if lists::normalize_host(d).is_none() {
                    bail!("\"{d}\" is not a domain name");
                }
            }
            let mut store = crate::store::Store::open_existing(&env.db_path(&config))?;
            // The firewall's side of the room (module `firewall`): the
            // room cut follows the stored overrides at once.
            let firewall = |store: &crate::store::Store| {
                use crate::modules::firewall::room_cut;
                let now = now_unix();
                let result = super::exams::active(store.conn(), now)
                    .map_err(anyhow::Error::from)
                    .and_then(|active| Ok(room_cut::sync(&env.host, &config, &active, now)?));
                if let Err(e) = result {
                    eprintln!(
                        "warning: the firewall's room cut could not be updated ({e:#}); the proxy applies the change, `preau serve` retries the firewall"
                    );
                }
            };
            if a.stop {
                let had = store.write(|tx| super::exams::stop(tx, &a.room))?;
                firewall(&store);
                if env.json {
                    println!("{}", json!({ "room": a.room, "stopped": had }));
                } else if had {
                    println!("Exam mode off in {}.", a.room);
                } else {
                    println!("No exam in progress in {}.", a.room);
                }
                return Ok(exit::OK);
            }
            let exam = Exam {
                room: a.room.clone(),
                until: now_unix() + i64::from(a.minutes) * 60,
                mode: if a.off { ExamMode::Off } else { ExamMode::Whitelist },
                allow: a.allow.iter().filter_map(|d| lists::normalize_host(d)).collect(),
                by: a.by.clone(),
            };
            store.write(|tx| super::exams::start(tx, &exam))?;
            firewall(&store);
            if env.json {
                println!("{}", json!(exam));
            } else if a.off {
                println!("Internet off in {} for {} minutes.", a.room, a.minutes);
            } else {
                println!(
                    "Exam mode on in {} for {} minutes: only {} reachable.",
                    a.room,
                    a.minutes,
                    config
                        .proxy
                        .exam_allow
                        .iter()
                        .chain(exam.allow.iter())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            Ok(exit::OK)
        }
        ProxyCommand::Exams => {
            let exams = active_exams(env, &config, now_unix());
            if env.json {
                println!("{}", json!(exams));
            } else if exams.is_empty() {
                println!("No exam in progress.");
            } else {
                for e in exams {
                    let left = (e.until - now_unix()).max(0) / 60;
                    match e.mode {
                        ExamMode::Off => println!("{}: internet off, {} min left, by {}", e.room, left, e.by),
                        ExamMode::Whitelist => println!(
                            "{}: exam, {} min left, by {}, allowed: {}",
                            e.room,
                            left,
                            e.by,
                            e.allow.join(" ")
                        ),
                    }
                }
            }
            Ok(exit::OK)
        }
    }
}

pub fn blacklists(env: &Env, command: BlacklistsCommand) -> anyhow::Result<u8> {
    let config = env.config()?;
    let dest = env.host.real_path(&super::lists_dir(&config));
    match command {
        BlacklistsCommand::Update { source } => {
            let done =
                lists::install_on(&env.host, &source, &super::lists_dir(&config)).with_context(|| {
                    format!(
                        "the lists of {} were refused; the installed ones are kept",
                        source.display()
                    )
                })?;
            if env.json {
                println!("{}", serde_json::to_string(&done)?);
            } else {
                println!(
                    "Installed {} categories, {} domains (checked in {} ms) into {}; the running proxy reloads them within 2 seconds.",
                    done.categories.len(),
                    done.domains,
                    done.load_ms,
                    super::lists_dir(&config).display()
                );
            }
            Ok(exit::OK)
        }
        BlacklistsCommand::Show { lookups } => {
            if lists::stamp(&dest).is_none() {
                bail!(
                    "no category lists installed in {}\n    help: run `preau blacklists update ARCHIVE|DIR`",
                    dest.display()
                );
            }
            let index = Index::load(&dest)?;
            let lookup_ns = lookups.map(|n| lookup_bench(&index, &dest, n));
            if env.json {
                println!(
                    "{}",
                    json!({ "dir": dest.display().to_string(), "domains": index.domain_count(), "load_ms": index.load_time.as_millis(), "memory_bytes": index.memory_bytes(), "lookup_ns": lookup_ns, "categories": index.categories })
                );
            } else {
                for c in &index.categories {
                    println!(
                        "{:<24} {:<5} {:>9} domains {:>7} urls",
                        c.name,
                        format!("{:?}", c.kind).to_lowercase(),
                        c.domains,
                        c.urls
                    );
                }
                println!(
                    "{} domains, loaded in {} ms, {} MB in memory",
                    index.domain_count(),
                    index.load_time.as_millis(),
                    index.memory_bytes() / 1_000_000
                );
                if let Some(ns) = lookup_ns {
                    println!("mean lookup: {ns:.0} ns");
                }
            }
            Ok(exit::OK)
        }
    }
}

/// Mean nanoseconds of a lookup over `n` hosts: names of the lists with a
/// subdomain prepended (hits) and the same names altered (misses).
fn lookup_bench(index: &Index, dir: &std::path::Path, n: usize) -> f64 {
    let mut hosts = Vec::with_capacity(n);
    if let Ok(rd) = std::fs::read_dir(dir) {
        'files: for e in rd.flatten() {
            if let Ok(text) = std::fs::read_to_string(e.path().join("domains")) {
                for (i, l) in text.lines().enumerate().step_by(7) {
                    hosts.push(if i % 2 == 0 {
                        format!("www.{l}")
                    } else {
                        format!("www.x{l}")
                    });
                    if hosts.len() >= n {
                        break 'files;
                    }
                }
            }
        }
    }
    if hosts.is_empty() {
        return 0.0;
    }
    let started = std::time::Instant::now();
    let mut hits = 0usize;
    for h in &hosts {
        index.for_each_hit(h, None, |_| hits += 1);
    }
    let ns = started.elapsed().as_nanos() as f64 / hosts.len() as f64;
    std::hint::black_box(hits);
    ns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_split() {
        assert_eq!(
            split_url("http://Www.Ex.test:8080/a?b").unwrap(),
            ("www.ex.test".into(), Some("/a?b".into()), "GET")
        );
        assert_eq!(
            split_url("https://ex.test/x").unwrap(),
            ("ex.test".into(), None, "CONNECT")
        );
        assert_eq!(
            split_url("ex.test").unwrap(),
            ("ex.test".into(), Some("/".into()), "GET")
        );
        assert!(split_url("ftp://ex.test").is_none());
        assert_eq!(port_of("http://Www.Ex.test:8080/a?b"), 8080);
        assert_eq!(port_of("https://ex.test/x"), 443);
        assert_eq!(port_of("ex.test"), 80);
        assert_eq!(port_of("http://[::1]:3128/"), 3128);
        assert_eq!(port_of("https://[::1]/"), 443);
    }
}

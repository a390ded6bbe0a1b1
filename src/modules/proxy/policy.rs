//! The filtering decision, as a pure function: [`decide`] takes the
//! request (host, path, method, source, user), the clock, the compiled
//! policies, the active exams and the lists, and returns what to do and
//! why. No socket, no file, no clock read here: the proxy and
//! `preau proxy check` feed it, unit tests too.
//!
//! Order: an active exam on the request's room (whitelist only) first;
//! otherwise the first policy whose groups, sources and time windows all
//! match; otherwise the default policy. Inside a policy: the local allow
//! list, then the local deny list, then whitelist-only mode, then the
//! blocked categories.

use super::lists::{self, Index, Kind};
use super::settings::{DAYS, Policy, ProxySettings, TimeWindow, parse_hhmm};
use serde::Serialize;
use std::collections::HashSet;
use std::net::IpAddr;

/// A source address or subnet of `[proxy]`: the shared
/// [`crate::net::Cidr`], read as the proxy always read them (spaces
/// trimmed, host bits ignored: "10.0.12.7/24" is the subnet 10.0.12.0/24).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr(crate::net::Cidr);

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        crate::net::Cidr::parse_network(s.trim()).ok().map(Cidr)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(ip)
    }
}

/// The local time, as the decision needs it. Built from the real clock by
/// [`Clock::now`], or by hand in tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Seconds since the Unix epoch (UTC): exam ends are compared to it.
    pub unix: i64,
    /// Day of the week in local time, 0 = Monday.
    pub weekday: u8,
    /// Minutes since local midnight.
    pub minute: u16,
}

impl Clock {
    /// The server's clock in its local time zone.
    pub fn now() -> Clock {
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Clock::at(unix)
    }

    /// `unix` in the server's local time zone.
    pub fn at(unix: i64) -> Clock {
        Clock::with_offset(unix, local_offset(unix))
    }

    /// `unix` at a fixed offset from UTC (seconds east).
    pub fn with_offset(unix: i64, offset: i64) -> Clock {
        let local = unix + offset;
        let days = local.div_euclid(86400);
        // 1970-01-01 was a Thursday (3 with Monday = 0).
        let weekday = (days + 3).rem_euclid(7) as u8;
        let minute = (local.rem_euclid(86400) / 60) as u16;
        Clock {
            unix,
            weekday,
            minute,
        }
    }
}

/// "HH:MM", `unix` in the server's local time.
pub fn local_hhmm(unix: i64) -> String {
    let m = Clock::at(unix).minute;
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// Seconds east of UTC of the server's time zone at `unix`.
pub fn local_offset(unix: i64) -> i64 {
    // SAFETY: an all-zero tm is a valid value; localtime_r only writes
    // into the tm it is given and reads the time_t.
    let mut tm: nix::libc::tm = unsafe { std::mem::zeroed() };
    let t: nix::libc::time_t = unix as nix::libc::time_t;
    let ok = unsafe { !nix::libc::localtime_r(&t, &mut tm).is_null() };
    if ok { tm.tm_gmtoff } else { 0 }
}

/// What a room's override does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExamMode {
    /// Exam: only `[proxy] exam_allow` and the exam's own domains.
    #[default]
    Whitelist,
    /// Internet off: every web request from the room is refused.
    Off,
}

impl ExamMode {
    /// The value stored in `proxy_exams.mode`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExamMode::Whitelist => "whitelist",
            ExamMode::Off => "off",
        }
    }

    pub fn parse(s: &str) -> Option<ExamMode> {
        match s {
            "whitelist" => Some(ExamMode::Whitelist),
            "off" => Some(ExamMode::Off),
            _ => None,
        }
    }

    /// For people (French).
    pub fn label_fr(self) -> &'static str {
        match self {
            ExamMode::Whitelist => "mode examen (liste blanche)",
            ExamMode::Off => "internet coupé",
        }
    }
}

/// A room's timed override of the policies: a whitelist-only exam, or the
/// internet off, switched on for a room until a time. It ends by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exam {
    /// A source group name.
    pub room: String,
    /// Unix time when it ends.
    pub until: i64,
    pub mode: ExamMode,
    /// Domains allowed on top of `[proxy] exam_allow`.
    pub allow: Vec<String>,
    /// Who switched it on.
    pub by: String,
}

/// Who is asking and for what.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Normalized (lower-case) host name or address, without port.
    pub host: &'a str,
    /// Path and query for plain HTTP; None for tunnels.
    pub path: Option<&'a str>,
    pub method: &'a str,
    pub source: IpAddr,
    /// The authenticated user and their groups, if known.
    pub user: Option<&'a super::directory::User>,
    /// The destination port.
    pub port: u16,
    /// A tunnel the client asked for (CONNECT): `connect_ports` applies.
    pub tunnel: bool,
}

/// Whether a destination names the loopback (as written): `localhost`,
/// its subdomains, a loopback or unspecified address.
pub fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| {
            let ip = ip.to_canonical();
            ip.is_loopback() || ip.is_unspecified()
        })
}

/// Why a decision was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Reason {
    /// The host is in the policy's local allow list.
    LocalAllow { entry: String },
    /// The host is in the policy's local deny list.
    LocalDeny { entry: String },
    /// A blocked category of the lists.
    Category {
        category: String,
        entry: String,
        url: bool,
    },
    /// A category allowed in whitelist-only mode.
    AllowedCategory { category: String },
    /// Whitelist-only mode and the host is not listed.
    NotWhitelisted,
    /// An exam is on in the room and the host is not in its whitelist.
    Exam { room: String },
    /// An exam is on and the host is in its whitelist.
    ExamAllowed { room: String, entry: String },
    /// The internet is switched off in the room.
    InternetOff { room: String },
    /// Nothing in the policy blocks it.
    NoMatch,
    /// The destination is this server itself (`local_destinations` off).
    LocalDestination,
    /// A tunnel to a port outside `connect_ports`.
    TunnelPort { port: u16 },
}

/// The name given as the deciding policy when the proxy's own settings
/// refuse (before any policy).
pub const SETTINGS: &str = "réglages du proxy";

/// The outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allow: bool,
    /// The policy (or "examen <room>") that decided.
    pub policy: String,
    #[serde(flatten)]
    pub reason: Reason,
}

impl Decision {
    /// The category that blocked, for the logs.
    pub fn category(&self) -> Option<&str> {
        match &self.reason {
            Reason::Category { category, .. } | Reason::AllowedCategory { category } => Some(category),
            _ => None,
        }
    }

    /// One line for humans (French, as on the block page).
    pub fn explain(&self) -> String {
        let verdict = if self.allow { "autorisé" } else { "bloqué" };
        let why = match &self.reason {
            Reason::LocalAllow { entry } => format!("« {entry} » est dans la liste locale autorisée"),
            Reason::LocalDeny { entry } => format!("« {entry} » est dans la liste locale interdite"),
            Reason::Category { category, entry, url } => {
                if *url {
                    format!("l'adresse est dans la liste « {category} »")
                } else {
                    format!("« {entry} » est dans la catégorie « {category} »")
                }
            }
            Reason::AllowedCategory { category } => format!("catégorie autorisée « {category} »"),
            Reason::NotWhitelisted => "seuls les sites de la liste blanche sont autorisés".into(),
            Reason::Exam { room } => {
                format!("examen en cours en salle {room} : seuls les sites de l'examen sont autorisés")
            }
            Reason::ExamAllowed { entry, .. } => format!("« {entry} » est autorisé pendant l'examen"),
            Reason::InternetOff { room } => format!("internet coupé en salle {room}"),
            Reason::NoMatch => "aucune règle ne le bloque".into(),
            Reason::LocalDestination => "destination locale interdite".into(),
            Reason::TunnelPort { port } => format!("port interdit pour un tunnel ({port})"),
        };
        format!("{verdict} par la politique « {} » : {why}", self.policy)
    }
}

/// A set of domains matched with their subdomains.
#[derive(Debug, Default, Clone)]
struct DomainSet(HashSet<u64>);

impl DomainSet {
    fn new<'a>(names: impl IntoIterator<Item = &'a String>) -> DomainSet {
        DomainSet(
            names
                .into_iter()
                .filter_map(|n| lists::normalize_host(n))
                .map(|n| lists::name_hash(n.as_bytes()))
                .collect(),
        )
    }

    /// The matched entry (the host or a parent domain).
    fn find<'h>(&self, host: &'h str) -> Option<&'h str> {
        if self.0.is_empty() {
            return None;
        }
        let mut found = None;
        lists::for_each_suffix(host.as_bytes(), |h, at| {
            if found.is_none() && self.0.contains(&h) {
                found = Some(&host[at..]);
            }
        });
        found
    }
}

#[derive(Debug, Clone)]
struct Window {
    days: u8,
    from: u16,
    to: u16,
}

impl Window {
    fn new(w: &TimeWindow) -> Window {
        let days = if w.days.is_empty() {
            0x7f
        } else {
            w.days
                .iter()
                .filter_map(|d| DAYS.iter().position(|x| x == d))
                .fold(0, |m, i| m | 1 << i)
        };
        Window {
            days,
            from: parse_hhmm(&w.from).unwrap_or(0),
            to: parse_hhmm(&w.to).unwrap_or(24 * 60),
        }
    }

    fn contains(&self, c: &Clock) -> bool {
        if self.from <= self.to {
            self.days & (1 << c.weekday) != 0 && c.minute >= self.from && c.minute < self.to
        } else if c.minute >= self.from {
            // Crosses midnight: the evening part belongs to the listed day,
            // the morning part to the day after.
            self.days & (1 << c.weekday) != 0
        } else {
            c.minute < self.to && self.days & (1 << ((c.weekday + 6) % 7)) != 0
        }
    }
}

#[derive(Debug, Clone)]
struct Compiled {
    name: String,
    groups: Vec<String>,
    sources: Vec<Vec<Cidr>>,
    windows: Vec<Window>,
    block: Vec<String>,
    allow: DomainSet,
    deny: DomainSet,
    whitelist_only: bool,
    allow_categories: Vec<String>,
}

impl Compiled {
    fn new(p: &Policy, groups: &[(String, Vec<Cidr>)]) -> Compiled {
        Compiled {
            name: p.name.clone(),
            groups: p.groups.clone(),
            sources: p
                .sources
                .iter()
                .map(|s| {
                    groups
                        .iter()
                        .find(|g| &g.0 == s)
                        .map(|g| g.1.clone())
                        .unwrap_or_default()
                })
                .collect(),
            windows: p.windows.iter().map(Window::new).collect(),
            block: p.block.clone(),
            allow: DomainSet::new(&p.allow),
            deny: DomainSet::new(&p.deny),
            whitelist_only: p.whitelist_only,
            allow_categories: p.allow_categories.clone(),
        }
    }

    fn matches(&self, req: &Request<'_>, now: &Clock) -> bool {
        let group_ok = self.groups.is_empty()
            || req
                .user
                .is_some_and(|u| u.groups.iter().any(|g| self.groups.contains(g)));
        let source_ok =
            self.sources.is_empty() || self.sources.iter().flatten().any(|c| c.contains(req.source));
        let time_ok = self.windows.is_empty() || self.windows.iter().any(|w| w.contains(now));
        group_ok && source_ok && time_ok
    }
}

/// The policies of `[proxy]`, ready for [`decide`].
#[derive(Debug, Clone)]
pub struct Policies {
    sources: Vec<(String, Vec<Cidr>)>,
    policies: Vec<Compiled>,
    default: Compiled,
    exam_allow: Vec<String>,
    local_destinations: bool,
    connect_ports: Vec<u16>,
}

impl Policies {
    /// Compiles the settings; `zones` are the firewall zones policies and
    /// exams may name as sources ([`super::zone_sources`]).
    pub fn new(s: &ProxySettings, zones: &[super::settings::SourceGroup]) -> Policies {
        let sources: Vec<(String, Vec<Cidr>)> = s
            .sources
            .iter()
            .chain(
                zones
                    .iter()
                    .filter(|z| !s.sources.iter().any(|g| g.name == z.name)),
            )
            .map(|g| {
                (
                    g.name.clone(),
                    g.addresses.iter().filter_map(|a| Cidr::parse(a)).collect(),
                )
            })
            .collect();
        let mut default = Compiled::new(&s.default_policy, &sources);
        if default.name.is_empty() {
            default.name = "défaut".into();
        }
        Policies {
            policies: s.policies.iter().map(|p| Compiled::new(p, &sources)).collect(),
            default,
            exam_allow: s.exam_allow.clone(),
            sources,
            local_destinations: s.local_destinations,
            connect_ports: s.connect_ports.clone(),
        }
    }

    /// Whether `ip` belongs to the source group `name`.
    pub fn in_source(&self, name: &str, ip: IpAddr) -> bool {
        self.sources
            .iter()
            .any(|(n, cidrs)| n == name && cidrs.iter().any(|c| c.contains(ip)))
    }

    pub fn has_source(&self, name: &str) -> bool {
        self.sources.iter().any(|(n, _)| n == name)
    }
}

/// The decision for `req` at `now`.
pub fn decide(
    req: &Request<'_>,
    now: &Clock,
    policies: &Policies,
    exams: &[Exam],
    index: &Index,
) -> Decision {
    let host = req.host;
    // The proxy's own limits come first, for every path (explicit,
    // transparent HTTP and HTTPS alike).
    let refused = |reason| Decision {
        allow: false,
        policy: SETTINGS.into(),
        reason,
    };
    if !policies.local_destinations && is_loopback(host) {
        return refused(Reason::LocalDestination);
    }
    if req.tunnel && !policies.connect_ports.is_empty() && !policies.connect_ports.contains(&req.port) {
        return refused(Reason::TunnelPort { port: req.port });
    }
    if let Some(exam) = exams
        .iter()
        .find(|e| e.until > now.unix && policies.in_source(&e.room, req.source))
    {
        if exam.mode == ExamMode::Off {
            return Decision {
                allow: false,
                policy: format!("internet coupé {}", exam.room),
                reason: Reason::InternetOff {
                    room: exam.room.clone(),
                },
            };
        }
        let allowed = DomainSet::new(policies.exam_allow.iter().chain(exam.allow.iter()));
        let policy = format!("examen {}", exam.room);
        return match allowed.find(host) {
            Some(entry) => Decision {
                allow: true,
                policy,
                reason: Reason::ExamAllowed {
                    room: exam.room.clone(),
                    entry: entry.to_string(),
                },
            },
            None => Decision {
                allow: false,
                policy,
                reason: Reason::Exam {
                    room: exam.room.clone(),
                },
            },
        };
    }
    let p = policies
        .policies
        .iter()
        .find(|p| p.matches(req, now))
        .unwrap_or(&policies.default);
    let decision = |allow, reason| Decision {
        allow,
        policy: p.name.clone(),
        reason,
    };
    if let Some(entry) = p.allow.find(host) {
        return decision(
            true,
            Reason::LocalAllow {
                entry: entry.to_string(),
            },
        );
    }
    if let Some(entry) = p.deny.find(host) {
        return decision(
            false,
            Reason::LocalDeny {
                entry: entry.to_string(),
            },
        );
    }
    // Lists: the first blocked category, or in whitelist-only mode the
    // first allowing one.
    let mut blocked = None;
    let mut allowed = None;
    index.for_each_hit(host, req.path, |hit| {
        let name = index.category_name(hit.category);
        if p.whitelist_only {
            let white = p.allow_categories.iter().any(|c| c == name)
                || (p.allow_categories.is_empty()
                    && index.categories[usize::from(hit.category)].kind == Kind::White);
            if white && allowed.is_none() {
                allowed = Some(name.to_string());
            }
        } else if blocked.is_none() && p.block.iter().any(|c| c == name) {
            blocked = Some(Reason::Category {
                category: name.to_string(),
                entry: host[hit.at..].to_string(),
                url: hit.url,
            });
        }
    });
    if p.whitelist_only {
        return match allowed {
            Some(category) => decision(true, Reason::AllowedCategory { category }),
            None => decision(false, Reason::NotWhitelisted),
        };
    }
    match blocked {
        Some(reason) => decision(false, reason),
        None => decision(true, Reason::NoMatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::proxy::directory::User;
    use crate::modules::proxy::settings::SourceGroup;

    fn index() -> Index {
        Index::from_lists(&[
            ("adult", Kind::Black, &["bad.test"]),
            ("social_networks", Kind::Black, &["social.test"]),
            ("liste_blanche", Kind::White, &["edu.test"]),
        ])
    }

    fn settings() -> ProxySettings {
        let sources = vec![
            SourceGroup {
                name: "salle-b12".into(),
                addresses: vec!["10.0.12.0/24".into()],
                rooms: Vec::new(),
            },
            SourceGroup {
                name: "cdi".into(),
                addresses: vec!["10.0.20.5".into()],
                rooms: Vec::new(),
            },
        ];
        let exam_allow = vec!["examens.test".into()];
        let policies = vec![
            Policy {
                name: "profs".into(),
                groups: vec!["profs".into()],
                block: vec!["adult".into()],
                ..Policy::default()
            },
            Policy {
                name: "cdi-liste-blanche".into(),
                sources: vec!["cdi".into()],
                whitelist_only: true,
                allow: vec!["dictionnaire.test".into()],
                ..Policy::default()
            },
            Policy {
                name: "eleves-midi".into(),
                groups: vec!["eleves".into()],
                windows: vec![TimeWindow {
                    days: vec!["mon".into(), "tue".into(), "thu".into(), "fri".into()],
                    from: "12:00".into(),
                    to: "13:30".into(),
                }],
                block: vec!["adult".into()],
                ..Policy::default()
            },
            Policy {
                name: "eleves".into(),
                groups: vec!["eleves".into()],
                block: vec!["adult".into(), "social_networks".into()],
                deny: vec!["jeux.test".into()],
                allow: vec!["ok.bad.test".into()],
                ..Policy::default()
            },
        ];
        ProxySettings {
            sources,
            exam_allow,
            policies,
            ..ProxySettings::default()
        }
    }

    /// Monday 2026-11-30 at hh:mm UTC.
    fn monday(hh: i64, mm: i64) -> Clock {
        Clock::with_offset(1_795_996_800 + hh * 3600 + mm * 60, 0)
    }

    fn ask(host: &str, ip: &str, user: Option<&User>, now: &Clock, exams: &[Exam]) -> Decision {
        let req = Request {
            host,
            path: Some("/"),
            method: "GET",
            source: ip.parse().unwrap(),
            user,
            port: 80,
            tunnel: false,
        };
        decide(&req, now, &Policies::new(&settings(), &[]), exams, &index())
    }

    /// Regression (issue 15): sources could only be address lists, not the
    /// firewall's zones.
    #[test]
    fn a_policy_may_name_a_firewall_zone() {
        let mut s = settings();
        s.policies.insert(
            0,
            Policy {
                name: "administration".into(),
                sources: vec!["admin".into()],
                block: vec![],
                ..Policy::default()
            },
        );
        let zones = vec![SourceGroup {
            name: "admin".into(),
            addresses: vec!["10.2.0.0/16".into()],
            rooms: Vec::new(),
        }];
        let policies = Policies::new(&s, &zones);
        let req = |ip: &str| Request {
            host: "social.test",
            path: Some("/"),
            method: "GET",
            source: ip.parse().unwrap(),
            user: None,
            port: 80,
            tunnel: false,
        };
        let now = monday(10, 0);
        let from_admin = decide(&req("10.2.3.4"), &now, &policies, &[], &index());
        assert_eq!(from_admin.policy, "administration");
        let elsewhere = decide(&req("10.1.3.4"), &now, &policies, &[], &index());
        assert_ne!(elsewhere.policy, "administration");
        assert!(policies.has_source("admin") && policies.in_source("admin", "10.2.0.9".parse().unwrap()));
    }

    /// The proxy's own limits are the policy's first rule, on every path
    /// (issue 9: they lived in the HTTP handler alone).
    #[test]
    fn loopback_and_tunnel_ports_are_refused_before_any_policy() {
        let mut s = settings();
        s.local_destinations = false;
        s.connect_ports = vec![443];
        let policies = Policies::new(&s, &[]);
        let ask = |host: &str, port: u16, tunnel: bool| {
            let req = Request {
                host,
                path: None,
                method: if tunnel { "CONNECT" } else { "TLS" },
                source: "10.1.2.3".parse().unwrap(),
                user: None,
                port,
                tunnel,
            };
            decide(&req, &monday(10, 0), &policies, &[], &index())
        };
        for host in [
            "localhost",
            "a.localhost",
            "127.0.0.1",
            "::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
        ] {
            let d = ask(host, 443, false);
            assert!(!d.allow, "{host}");
            assert_eq!(
                (d.policy.as_str(), &d.reason),
                (SETTINGS, &Reason::LocalDestination),
                "{host}"
            );
        }
        assert!(ask("example.test", 443, false).allow);
        let d = ask("mail.example.test", 25, true);
        assert_eq!(d.reason, Reason::TunnelPort { port: 25 });
        assert!(
            d.explain().contains("port interdit pour un tunnel (25)"),
            "{}",
            d.explain()
        );
        assert!(
            ask("mail.example.test", 25, false).allow,
            "not a tunnel: no port rule"
        );
        assert!(ask("example.test", 443, true).allow);
        s.local_destinations = true;
        assert!(
            decide(
                &Request {
                    host: "localhost",
                    path: Some("/"),
                    method: "GET",
                    source: "10.1.2.3".parse().unwrap(),
                    user: None,
                    port: 80,
                    tunnel: false,
                },
                &monday(10, 0),
                &Policies::new(&s, &[]),
                &[],
                &index()
            )
            .allow
        );
    }

    fn eleve() -> User {
        User {
            login: "lea.martin".into(),
            groups: vec!["eleves".into(), "3a".into()],
        }
    }

    #[test]
    fn clock_fields() {
        let c = monday(12, 30);
        assert_eq!((c.weekday, c.minute), (0, 750));
        assert_eq!(Clock::with_offset(c.unix, 3600).minute, 810);
        assert_eq!(Clock::with_offset(c.unix + 86400 * 6, 0).weekday, 6);
    }

    #[test]
    fn groups_choose_the_policy() {
        let now = monday(9, 0);
        let prof = User {
            login: "m.durand".into(),
            groups: vec!["profs".into()],
        };
        let d = ask("www.social.test", "10.0.1.2", Some(&prof), &now, &[]);
        assert!(d.allow && d.policy == "profs", "{d:?}");
        let d = ask("www.social.test", "10.0.1.2", Some(&eleve()), &now, &[]);
        assert!(!d.allow && d.policy == "eleves", "{d:?}");
        assert_eq!(d.category(), Some("social_networks"));
        // Unknown user: default policy (adult blocked, social allowed).
        let d = ask("social.test", "10.0.1.2", None, &now, &[]);
        assert!(d.allow && d.policy == "défaut", "{d:?}");
        let d = ask("x.bad.test", "10.0.1.2", None, &now, &[]);
        assert!(!d.allow, "{d:?}");
        assert_eq!(
            d.reason,
            Reason::Category {
                category: "adult".into(),
                entry: "bad.test".into(),
                url: false
            }
        );
    }

    #[test]
    fn time_windows_with_an_injected_clock() {
        let u = eleve();
        assert!(ask("social.test", "10.0.1.2", Some(&u), &monday(12, 0), &[]).allow);
        assert!(ask("social.test", "10.0.1.2", Some(&u), &monday(13, 29), &[]).allow);
        assert!(!ask("social.test", "10.0.1.2", Some(&u), &monday(13, 30), &[]).allow);
        assert!(!ask("social.test", "10.0.1.2", Some(&u), &monday(11, 59), &[]).allow);
        // Wednesday lunch is not in the window.
        let wed = Clock::with_offset(monday(12, 30).unix + 2 * 86400, 0);
        assert!(!ask("social.test", "10.0.1.2", Some(&u), &wed, &[]).allow);
        // Adult stays blocked at lunch.
        assert!(!ask("bad.test", "10.0.1.2", Some(&u), &monday(12, 30), &[]).allow);
    }

    #[test]
    fn windows_crossing_midnight() {
        let w = Window::new(&TimeWindow {
            days: vec!["mon".into()],
            from: "22:00".into(),
            to: "06:00".into(),
        });
        assert!(w.contains(&monday(23, 0)));
        assert!(
            !w.contains(&monday(5, 0)),
            "Monday early morning belongs to Sunday's window"
        );
        assert!(w.contains(&Clock::with_offset(monday(5, 0).unix + 86400, 0)));
    }

    #[test]
    fn local_lists_come_before_categories() {
        let now = monday(9, 0);
        let d = ask("ok.bad.test", "10.0.1.2", Some(&eleve()), &now, &[]);
        assert_eq!(
            d.reason,
            Reason::LocalAllow {
                entry: "ok.bad.test".into()
            }
        );
        let d = ask("www.jeux.test", "10.0.1.2", Some(&eleve()), &now, &[]);
        assert!(!d.allow);
        assert_eq!(
            d.reason,
            Reason::LocalDeny {
                entry: "jeux.test".into()
            }
        );
    }

    #[test]
    fn whitelist_only_sources() {
        let now = monday(9, 0);
        let d = ask("dictionnaire.test", "10.0.20.5", None, &now, &[]);
        assert!(d.allow && d.policy == "cdi-liste-blanche");
        let d = ask("edu.test", "10.0.20.5", None, &now, &[]);
        assert_eq!(
            d.reason,
            Reason::AllowedCategory {
                category: "liste_blanche".into()
            }
        );
        let d = ask("anything.test", "::ffff:10.0.20.5", None, &now, &[]);
        assert_eq!(d.reason, Reason::NotWhitelisted);
    }

    #[test]
    fn exam_mode_in_a_room_until_its_end() {
        let now = monday(9, 0);
        let exam = Exam {
            room: "salle-b12".into(),
            until: now.unix + 3600,
            mode: ExamMode::Whitelist,
            allow: vec!["sujet.test".into()],
            by: "prof".into(),
        };
        let exams = [exam];
        // In the room: whitelist only, whoever asks.
        let prof = User {
            login: "m.durand".into(),
            groups: vec!["profs".into()],
        };
        let d = ask("social.test", "10.0.12.7", Some(&prof), &now, &exams);
        assert!(!d.allow && d.policy == "examen salle-b12", "{d:?}");
        assert!(ask("www.examens.test", "10.0.12.7", None, &now, &exams).allow);
        assert!(ask("sujet.test", "10.0.12.7", None, &now, &exams).allow);
        // Elsewhere: the usual policies.
        assert!(ask("social.test", "10.0.13.7", Some(&prof), &now, &exams).allow);
        // After its end: back to normal.
        let later = Clock::with_offset(now.unix + 3601, 0);
        assert!(ask("social.test", "10.0.12.7", Some(&prof), &later, &exams).allow);
    }

    #[test]
    fn internet_off_in_a_room_refuses_everything_until_its_end() {
        let now = monday(9, 0);
        let exams = [Exam {
            room: "salle-b12".into(),
            until: now.unix + 600,
            mode: ExamMode::Off,
            allow: vec!["sujet.test".into()],
            by: "prof".into(),
        }];
        for host in ["social.test", "www.examens.test", "sujet.test"] {
            let d = ask(host, "10.0.12.7", None, &now, &exams);
            assert!(!d.allow, "{host}: {d:?}");
            assert_eq!(d.policy, "internet coupé salle-b12");
            assert_eq!(
                d.reason,
                Reason::InternetOff {
                    room: "salle-b12".into()
                }
            );
            assert!(d.explain().contains("internet coupé"));
        }
        // Another room: the usual policies.
        assert!(ask("social.test", "10.0.13.7", None, &now, &exams).allow);
        // It ends by itself.
        let later = Clock::with_offset(now.unix + 601, 0);
        assert!(ask("social.test", "10.0.12.7", None, &later, &exams).allow);
        assert_eq!(ExamMode::parse(ExamMode::Off.as_str()), Some(ExamMode::Off));
        assert_eq!(ExamMode::parse("nope"), None);
    }

    #[test]
    fn cidr() {
        let c = Cidr::parse("10.0.12.0/24").unwrap();
        assert!(c.contains("10.0.12.255".parse().unwrap()));
        assert!(!c.contains("10.0.13.0".parse().unwrap()));
        assert!(
            Cidr::parse("fd00::/8")
                .unwrap()
                .contains("fd12::1".parse().unwrap())
        );
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("1.2.3.4".parse().unwrap())
        );
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("nope").is_none());
    }
}

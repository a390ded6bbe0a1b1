//! Rendering: firewall settings → a typed ruleset → nftables text.
//!
//! Pure functions, no I/O. [`build`] turns the [`Effective`] settings into
//! a [`Ruleset`] (sets, chains, rules as data, each rule carrying the plain
//! intent as its comment); [`Ruleset::to_nft`] writes it as ONE `nft -f`
//! file that replaces the whole `inet preau` table in a single transaction:
//!
//! ```text
//! table inet preau            # create it if missing, so that…
//! delete table inet preau     # …this never fails
//! table inet preau { … }      # the complete new definition
//! ```
//!
//! nftables applies a file atomically: either all of it or none.

use super::settings::{
    APPLIANCE, Action, Cidr, Effective, Endpoint, Invalid, Ports, Protocol, Service, Typed, TypedSet, WebMode,
};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The table every rule lives in.
pub const TABLE: &str = "inet preau";

/// Element type of a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetKind {
    Ipv4,
    Ipv6,
    Ports,
}

/// A named nftables set.
#[derive(Debug, Clone, PartialEq)]
pub struct Set {
    pub name: String,
    pub kind: SetKind,
    pub elements: Vec<String>,
    pub comment: String,
    /// Elements carry their own timeout (`flags interval, timeout`): the
    /// room cut, filled at run time, never by the rendered file.
    pub timeout: bool,
}

/// The sets of source addresses cut off from the internet (rooms whose
/// internet is off or in exam mode), filled by the daemon
/// ([`super::room_cut`]) with a timeout each.
pub const ROOM_CUT_V4: &str = "room_cut_v4";
pub const ROOM_CUT_V6: &str = "room_cut_v6";

/// IP version of an address match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    fn kw(self) -> &'static str {
        match self {
            Family::V4 => "ip",
            Family::V6 => "ip6",
        }
    }
}

/// Addresses or ports: literals (one, or an anonymous set) or a named set.
#[derive(Debug, Clone, PartialEq)]
pub enum Elems {
    List(Vec<String>),
    Named(String),
}

impl Elems {
    fn render(&self) -> String {
        match self {
            Elems::Named(n) => format!("@{n}"),
            Elems::List(l) if l.len() == 1 => l[0].clone(),
            Elems::List(l) => format!("{{ {} }}", l.join(", ")),
        }
    }
}

/// One condition of a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Match {
    InIface(Vec<String>),
    OutIface(Vec<String>),
    /// Source address (negated: not in).
    Saddr(Family, Elems, bool),
    Daddr(Family, Elems),
    /// Transport protocol(s) by number name: tcp, udp, icmp…
    L4(Vec<&'static str>),
    /// Destination port (with the L4 match before it).
    Dport(Elems),
    CtState(&'static str),
    /// Address family: "ipv4" or "ipv6".
    NfProto(&'static str),
    CtDnat,
    /// Destination address is (or is not) one of the appliance's own.
    DaddrLocal(bool),
    /// The route to the destination leaves through one of these interfaces.
    RoutedVia(Vec<String>),
    Days(Vec<&'static str>),
    Hours(String, String),
}

/// What a rule does.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Accept,
    Drop,
    Reject,
    /// Log at a limited rate, then go on to the next rule.
    LogLimited {
        prefix: String,
        per_minute: u32,
    },
    Dnat {
        family: Family,
        addr: String,
        port: Option<u16>,
    },
    Redirect(u16),
    Masquerade,
    /// Continue in a regular chain and never come back.
    Goto(&'static str),
}

/// One rule: conditions, a counter, a verdict and the plain intent.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub matches: Vec<Match>,
    pub verdict: Verdict,
    pub comment: String,
}

/// Where a base chain attaches to netfilter.
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    /// "filter" or "nat".
    pub kind: &'static str,
    pub hook: &'static str,
    pub priority: &'static str,
    pub policy: Action,
}

/// A chain: a base chain (with a hook) or a regular one (reached by goto).
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub name: &'static str,
    pub hook: Option<Hook>,
    pub rules: Vec<Rule>,
}

/// Regular chains that log (rate-limited) then drop or refuse.
pub const DROP_LOGGED: &str = "drop_logged";
pub const REJECT_LOGGED: &str = "reject_logged";

/// The whole `inet preau` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Ruleset {
    pub sets: Vec<Set>,
    pub chains: Vec<Chain>,
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace(['"', '\\', '\n'], "'"))
}

fn ifaces(list: &[String]) -> String {
    if list.len() == 1 {
        quote(&list[0])
    } else {
        format!(
            "{{ {} }}",
            list.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", ")
        )
    }
}

/// nft comments are limited to 128 bytes.
fn comment(text: &str) -> String {
    let mut t: String = text.replace(['"', '\\', '\n'], "'");
    while t.len() > 120 {
        t.pop();
    }
    format!("\"{t}\"")
}

impl Match {
    fn render(&self) -> String {
        match self {
            Match::InIface(l) => format!("iifname {}", ifaces(l)),
            Match::OutIface(l) => format!("oifname {}", ifaces(l)),
            Match::Saddr(f, e, neg) => {
                format!("{} saddr {}{}", f.kw(), if *neg { "!= " } else { "" }, e.render())
            }
            Match::Daddr(f, e) => format!("{} daddr {}", f.kw(), e.render()),
            Match::L4(p) if p.len() == 1 => format!("meta l4proto {}", p[0]),
            Match::L4(p) => format!("meta l4proto {{ {} }}", p.join(", ")),
            Match::Dport(e) => format!("th dport {}", e.render()),
            Match::CtState(s) => format!("ct state {s}"),
            Match::NfProto(f) => format!("meta nfproto {f}"),
            Match::CtDnat => "ct status dnat".into(),
            Match::DaddrLocal(true) => "fib daddr type local".into(),
            Match::DaddrLocal(false) => "fib daddr type != local".into(),
            Match::RoutedVia(l) => format!("fib daddr oifname {}", ifaces(l)),
            Match::Days(d) => format!(
                "meta day {{ {} }}",
                d.iter().map(|d| quote(d)).collect::<Vec<_>>().join(", ")
            ),
            Match::Hours(a, b) => format!("meta hour {}-{}", quote(a), quote(b)),
        }
    }
}

impl Verdict {
    fn render(&self) -> String {
        match self {
            Verdict::Accept => "accept".into(),
            Verdict::Drop => "drop".into(),
            Verdict::Reject => "reject with icmpx admin-prohibited".into(),
            Verdict::LogLimited { prefix, per_minute } => format!(
                "limit rate {per_minute}/minute burst {} packets log prefix {} level info",
                (*per_minute).clamp(5, 100),
                quote(prefix)
            ),
            Verdict::Dnat { family, addr, port } => match (family, port) {
                (Family::V4, Some(p)) => format!("dnat ip to {addr}:{p}"),
                (Family::V4, None) => format!("dnat ip to {addr}"),
                (Family::V6, Some(p)) => format!("dnat ip6 to [{addr}]:{p}"),
                (Family::V6, None) => format!("dnat ip6 to {addr}"),
            },
            Verdict::Redirect(p) => format!("redirect to :{p}"),
            Verdict::Masquerade => "masquerade".into(),
            Verdict::Goto(c) => format!("goto {c}"),
        }
    }
}

impl Rule {
    /// The rule as one nft line (without indentation).
    pub fn render(&self) -> String {
        let mut parts: Vec<String> = self.matches.iter().map(Match::render).collect();
        if !matches!(self.verdict, Verdict::LogLimited { .. }) {
            parts.push("counter".into());
        }
        parts.push(self.verdict.render());
        parts.push(format!("comment {}", comment(&self.comment)));
        parts.join(" ")
    }
}

impl Ruleset {
    /// Number of rules over all chains.
    pub fn rule_count(&self) -> usize {
        self.chains.iter().map(|c| c.rules.len()).sum()
    }

    /// The table definition alone (`table inet preau { … }`).
    pub fn table_text(&self, tag: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "table {TABLE} {{");
        let _ = writeln!(out, "\tcomment {}", comment(tag));
        for s in &self.sets {
            let _ = writeln!(out, "\n\tset {} {{", s.name);
            let ty = match s.kind {
                SetKind::Ipv4 => "ipv4_addr",
                SetKind::Ipv6 => "ipv6_addr",
                SetKind::Ports => "inet_service",
            };
            let _ = writeln!(out, "\t\ttype {ty}");
            if s.timeout {
                let _ = writeln!(out, "\t\tflags interval, timeout");
            } else {
                let _ = writeln!(out, "\t\tflags interval");
            }
            if s.kind != SetKind::Ports && !s.timeout {
                let _ = writeln!(out, "\t\tauto-merge");
            }
            let _ = writeln!(out, "\t\tcomment {}", comment(&s.comment));
            if !s.elements.is_empty() {
                let _ = write!(out, "\t\telements = {{");
                for (i, e) in s.elements.iter().enumerate() {
                    if i % 8 == 0 {
                        out.push_str("\n\t\t\t");
                    } else {
                        out.push(' ');
                    }
                    out.push_str(e);
                    if i + 1 < s.elements.len() {
                        out.push(',');
                    }
                }
                let _ = writeln!(out, "\n\t\t}}");
            }
            let _ = writeln!(out, "\t}}");
        }
        for c in &self.chains {
            let _ = writeln!(out, "\n\tchain {} {{", c.name);
            if let Some(h) = &c.hook {
                let _ = writeln!(
                    out,
                    "\t\ttype {} hook {} priority {}; policy {};",
                    h.kind,
                    h.hook,
                    h.priority,
                    match h.policy {
                        Action::Drop => "drop",
                        _ => "accept",
                    }
                );
            }
            for r in &c.rules {
                let _ = writeln!(out, "\t\t{}", r.render());
            }
            let _ = writeln!(out, "\t}}");
        }
        out.push_str("}\n");
        out
    }

    /// The complete file for `nft -f`: replaces the table in one
    /// transaction.
    pub fn to_nft(&self) -> String {
        let body = self.table_text("");
        let tag = format!("preau ruleset {}", short_hash(&body));
        format!(
            "#!/usr/sbin/nft -f\n# Préau firewall: generated by `preau apply`, do not edit.\n# Loaded as one transaction: the old table is replaced whole or not at all.\ntable {TABLE}\ndelete table {TABLE}\n{}",
            self.table_text(&tag)
        )
    }
}

/// First 12 hex digits of the SHA-256 of `text`: identifies a rendered
/// ruleset in the live table's comment.
pub fn short_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(text.as_bytes());
    d.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// The hash tag carried by a rendered file, if any.
pub fn tag_of(text: &str) -> Option<String> {
    let i = text.find("preau ruleset ")?;
    Some(
        text[i + 14..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect(),
    )
}

// ------------------------------------------------------------ building

/// Addresses of a list (literals or one "@set"), split by IP version.
struct Addrs {
    v4: Option<Elems>,
    v6: Option<Elems>,
    any: bool,
}

fn addrs(ep: &Endpoint, sets: &BTreeMap<String, TypedSet>) -> Addrs {
    let cidrs = match ep {
        Endpoint::Any => {
            return Addrs {
                v4: None,
                v6: None,
                any: true,
            };
        }
        Endpoint::Set(name) => {
            let c = sets.get(name).map_or(&[][..], |s| s.addresses.as_slice());
            let (has4, has6) = (
                c.iter().any(|c| c.addr.is_ipv4()),
                c.iter().any(|c| c.addr.is_ipv6()),
            );
            return Addrs {
                v4: has4.then(|| Elems::Named(format!("{name}_v4"))),
                v6: has6.then(|| Elems::Named(format!("{name}_v6"))),
                any: false,
            };
        }
        Endpoint::List(c) => c,
    };
    let pick = |v4: bool| {
        let l: Vec<String> = cidrs
            .iter()
            .filter(|c| c.addr.is_ipv4() == v4)
            .map(Cidr::to_string)
            .collect();
        (!l.is_empty()).then_some(Elems::List(l))
    };
    Addrs {
        v4: pick(true),
        v6: pick(false),
        any: false,
    }
}

fn ports(p: &Ports) -> Option<Elems> {
    match p {
        Ports::Any => None,
        Ports::Set(name) => Some(Elems::Named(format!("{name}_ports"))),
        Ports::List(list) => Some(Elems::List(list.iter().map(|p| p.to_string()).collect())),
    }
}

fn l4(p: Protocol) -> Option<Vec<&'static str>> {
    match p {
        Protocol::Any => None,
        Protocol::Tcp => Some(vec!["tcp"]),
        Protocol::Udp => Some(vec!["udp"]),
        Protocol::Both => Some(vec!["tcp", "udp"]),
        Protocol::Icmp => Some(vec!["icmp", "ipv6-icmp"]),
    }
}

/// The verdict for an action; drops and refusals go through the logging
/// chains when drops are logged.
fn verdict(a: Action, logged: bool) -> Verdict {
    match (a, logged) {
        (Action::Accept, _) => Verdict::Accept,
        (Action::Drop, false) => Verdict::Drop,
        (Action::Reject, false) => Verdict::Reject,
        (Action::Drop, true) => Verdict::Goto(DROP_LOGGED),
        (Action::Reject, true) => Verdict::Goto(REJECT_LOGGED),
    }
}

/// For each IP version both address sides allow, the (saddr, daddr)
/// matches; one entry without family when neither side names addresses.
fn by_family(from: &Addrs, to: &Addrs) -> Vec<(Option<Match>, Option<Match>)> {
    if from.any && to.any {
        return vec![(None, None)];
    }
    let mut out = Vec::new();
    for (fam, f, t) in [(Family::V4, &from.v4, &to.v4), (Family::V6, &from.v6, &to.v6)] {
        let s_ok = from.any || f.is_some();
        let d_ok = to.any || t.is_some();
        if s_ok && d_ok {
            out.push((
                f.clone().map(|e| Match::Saddr(fam, e, false)),
                t.clone().map(|e| Match::Daddr(fam, e)),
            ));
        }
    }
    out
}

/// Builds the ruleset from the parsed settings ([`Effective::typed`]):
/// nothing is parsed here, so nothing can be left out.
pub fn build(t: &Typed<'_>) -> Ruleset {
    let eff = t.eff;
    let s = &eff.settings;
    let zone = |name: &str| eff.zones.iter().find(|z| z.name == name);
    let outside = zone(&s.outside_zone);
    let mut sets = Vec::new();

    // Zone subnets and named sets, as interval sets.
    let mut zone_sets: BTreeMap<&str, [Option<String>; 2]> = BTreeMap::new();
    for z in &eff.zones {
        let cidrs = t.zone_subnets.get(&z.name).map_or(&[][..], Vec::as_slice);
        let mut names = [None, None];
        for (i, (v4, kind, suffix)) in [(true, SetKind::Ipv4, "v4"), (false, SetKind::Ipv6, "v6")]
            .into_iter()
            .enumerate()
        {
            let el: Vec<String> = cidrs
                .iter()
                .filter(|c| c.addr.is_ipv4() == v4)
                .map(Cidr::to_string)
                .collect();
            if !el.is_empty() {
                let name = format!("zone_{}_{suffix}", z.name.replace('-', "_"));
                sets.push(Set {
                    name: name.clone(),
                    kind,
                    elements: el,
                    comment: format!("subnets of zone {}", z.name),
                    timeout: false,
                });
                names[i] = Some(name);
            }
        }
        zone_sets.insert(&z.name, names);
    }
    for n in &s.sets {
        let Some(typed) = t.sets.get(&n.name) else {
            continue;
        };
        if !typed.ports.is_empty() {
            sets.push(Set {
                name: format!("{}_ports", n.name),
                kind: SetKind::Ports,
                elements: typed.ports.iter().map(|p| p.to_string()).collect(),
                comment: format!("ports set {}", n.name),
                timeout: false,
            });
            continue;
        }
        let cidrs = &typed.addresses;
        for (v4, kind, suffix) in [(true, SetKind::Ipv4, "v4"), (false, SetKind::Ipv6, "v6")] {
            let el: Vec<String> = cidrs
                .iter()
                .filter(|c| c.addr.is_ipv4() == v4)
                .map(Cidr::to_string)
                .collect();
            if !el.is_empty() {
                sets.push(Set {
                    name: format!("{}_{suffix}", n.name),
                    kind,
                    elements: el,
                    comment: format!("address set {}", n.name),
                    timeout: false,
                });
            }
        }
    }

    let established = || Rule {
        matches: vec![Match::CtState("established,related")],
        verdict: Verdict::Accept,
        comment: "replies and related traffic of allowed connections".into(),
    };
    let invalid = || Rule {
        matches: vec![Match::CtState("invalid")],
        verdict: Verdict::Drop,
        comment: "packets that belong to no valid connection".into(),
    };
    // ---- input: what may reach the appliance itself.
    let mut input = vec![
        established(),
        invalid(),
        Rule {
            matches: vec![Match::InIface(vec!["lo".into()])],
            verdict: Verdict::Accept,
            comment: "the appliance talking to itself".into(),
        },
        Rule {
            matches: vec![Match::L4(vec!["icmp", "ipv6-icmp"])],
            verdict: Verdict::Accept,
            comment: "ping and IPv6 neighbour discovery".into(),
        },
    ];
    // Zone services: after the explicit rules, so that a rule can narrow them.
    let mut services = Vec::new();
    for z in &eff.zones {
        for svc in Service::ALL {
            if !z.services.contains(&svc) {
                continue;
            }
            let mut by_proto: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
            for (range, proto) in t.ports_of(svc) {
                let key = if *proto == Protocol::Tcp { "tcp" } else { "udp" };
                by_proto.entry(key).or_default().push(range.to_string());
            }
            for (proto, list) in by_proto {
                services.push(Rule {
                    matches: vec![
                        Match::InIface(z.interfaces.clone()),
                        Match::L4(vec![proto]),
                        Match::Dport(Elems::List(list)),
                    ],
                    verdict: Verdict::Accept,
                    comment: format!("{} may reach the appliance's {}", z.name, svc.label()),
                });
            }
        }
        if z.web == WebMode::Redirect {
            services.push(Rule {
                matches: vec![
                    Match::InIface(z.interfaces.clone()),
                    Match::L4(vec!["tcp"]),
                    Match::Dport(Elems::List(vec![
                        s.proxy_transparent_http_port.to_string(),
                        s.proxy_transparent_https_port.to_string(),
                    ])),
                ],
                verdict: Verdict::Accept,
                comment: format!("redirected web traffic from {} reaches the proxy", z.name),
            });
        }
    }

    // ---- forward: traffic routed between zones.
    // Rooms cut off from the internet first, before the established
    // connections: a cut also stops what was already open. Only what
    // leaves through the outside zone: the appliance itself (proxy, DNS,
    // console: the input chain) stays reachable, so exam mode's whitelist
    // still works through the proxy.
    let mut forward = Vec::new();
    for (name, kind, comment_text) in [
        (
            ROOM_CUT_V4,
            SetKind::Ipv4,
            "IPv4 addresses of rooms cut off from the internet (timed)",
        ),
        (
            ROOM_CUT_V6,
            SetKind::Ipv6,
            "IPv6 addresses of rooms cut off from the internet (timed)",
        ),
    ] {
        sets.push(Set {
            name: name.into(),
            kind,
            elements: Vec::new(),
            comment: comment_text.into(),
            timeout: true,
        });
    }
    if let Some(out) = outside {
        for (fam, name) in [(Family::V4, ROOM_CUT_V4), (Family::V6, ROOM_CUT_V6)] {
            forward.push(Rule {
                matches: vec![
                    Match::Saddr(fam, Elems::Named(name.into()), false),
                    Match::OutIface(out.interfaces.clone()),
                ],
                verdict: Verdict::Reject,
                comment: format!(
                    "a room whose internet is cut (classroom tools) does not reach {}",
                    out.name
                ),
            });
        }
    }
    forward.extend([established(), invalid()]);
    for z in &eff.zones {
        let names = &zone_sets[z.name.as_str()];
        if names.iter().all(Option::is_none) {
            continue;
        }
        // A zone with subnets of one version only says nothing of the other.
        for (fam, name) in [(Family::V4, &names[0]), (Family::V6, &names[1])] {
            if let Some(n) = name {
                forward.push(Rule {
                    matches: vec![
                        Match::InIface(z.interfaces.clone()),
                        Match::Saddr(fam, Elems::Named(n.clone()), true),
                    ],
                    verdict: Verdict::Drop,
                    comment: format!("{}: source address outside the zone's subnets (spoofed)", z.name),
                });
            }
        }
    }
    let mut prerouting = Vec::new();
    if let Some(out) = outside {
        for (f, typed) in s.port_forwards.iter().zip(&t.forwards) {
            let target = typed.to;
            let fam = if target.addr.is_ipv4() {
                Family::V4
            } else {
                Family::V6
            };
            let src = addrs(&typed.from, &t.sets);
            let src_match = match fam {
                Family::V4 => src.v4.clone(),
                Family::V6 => src.v6.clone(),
            };
            if !src.any && src_match.is_none() {
                continue;
            }
            let Some(protos) = l4(f.protocol) else { continue };
            let label = if f.comment.is_empty() {
                format!("port {} forwarded to {}", f.port, f.to)
            } else {
                format!("{} (port {} to {})", f.comment, f.port, f.to)
            };
            let mut m = vec![Match::InIface(out.interfaces.clone())];
            m.extend(src_match.clone().map(|e| Match::Saddr(fam, e, false)));
            m.push(Match::DaddrLocal(true));
            m.push(Match::L4(protos.clone()));
            m.push(Match::Dport(Elems::List(vec![f.port.to_string()])));
            prerouting.push(Rule {
                matches: m,
                verdict: Verdict::Dnat {
                    family: fam,
                    addr: target.addr.to_string(),
                    port: f.to_port.or(Some(f.port)),
                },
                comment: label.clone(),
            });
            let mut m = vec![Match::InIface(out.interfaces.clone())];
            m.extend(src_match.map(|e| Match::Saddr(fam, e, false)));
            m.push(Match::Daddr(fam, Elems::List(vec![target.addr.to_string()])));
            m.push(Match::L4(protos));
            m.push(Match::Dport(Elems::List(vec![
                f.to_port.unwrap_or(f.port).to_string(),
            ])));
            m.push(Match::CtDnat);
            forward.push(Rule {
                matches: m,
                verdict: Verdict::Accept,
                comment: label,
            });
        }
    }
    // Forced proxy: redirect or refuse the zone's direct web traffic.
    if let Some(out) = outside {
        for z in &eff.zones {
            match z.web {
                WebMode::Direct => {}
                WebMode::Redirect => {
                    for (port, to, what) in [
                        (80, s.proxy_transparent_http_port, "HTTP"),
                        (443, s.proxy_transparent_https_port, "HTTPS"),
                    ] {
                        prerouting.push(Rule {
                            matches: vec![
                                Match::InIface(z.interfaces.clone()),
                                Match::RoutedVia(out.interfaces.clone()),
                                Match::L4(vec!["tcp"]),
                                Match::Dport(Elems::List(vec![port.to_string()])),
                            ],
                            verdict: Verdict::Redirect(to),
                            comment: format!(
                                "direct {what} from {} goes through the proxy (port {to})",
                                z.name
                            ),
                        });
                    }
                    forward.push(Rule {
                        matches: vec![
                            Match::InIface(z.interfaces.clone()),
                            Match::OutIface(out.interfaces.clone()),
                            Match::L4(vec!["udp"]),
                            Match::Dport(Elems::List(vec!["443".into()])),
                        ],
                        verdict: Verdict::Reject,
                        comment: format!(
                            "{}: no QUIC, browsers fall back to HTTPS through the proxy",
                            z.name
                        ),
                    });
                }
                WebMode::Refuse => {
                    forward.push(Rule {
                        matches: vec![
                            Match::InIface(z.interfaces.clone()),
                            Match::OutIface(out.interfaces.clone()),
                            Match::L4(vec!["tcp", "udp"]),
                            Match::Dport(Elems::List(vec!["80".into(), "443".into()])),
                        ],
                        verdict: Verdict::Reject,
                        comment: format!("{}: direct web refused, use the proxy", z.name),
                    });
                }
            }
        }
    }
    // Explicit rules, in order.
    for (i, (r, typed)) in s.rules.iter().zip(&t.rules).enumerate() {
        let to_appliance = r.to_zone == APPLIANCE;
        let from_z = (!r.from_zone.is_empty()).then(|| zone(&r.from_zone)).flatten();
        let to_z = (!r.to_zone.is_empty() && !to_appliance)
            .then(|| zone(&r.to_zone))
            .flatten();
        if (!r.from_zone.is_empty() && from_z.is_none())
            || (!r.to_zone.is_empty() && !to_appliance && to_z.is_none())
        {
            continue;
        }
        let label = if r.comment.is_empty() {
            format!(
                "rule {}: {} to {}: {}",
                i + 1,
                if r.from_zone.is_empty() {
                    "any"
                } else {
                    &r.from_zone
                },
                if r.to_zone.is_empty() { "any" } else { &r.to_zone },
                r.action
            )
        } else {
            r.comment.clone()
        };
        for (saddr, daddr) in by_family(&addrs(&typed.from, &t.sets), &addrs(&typed.to, &t.sets)) {
            let mut m = Vec::new();
            if let Some(z) = from_z {
                m.push(Match::InIface(z.interfaces.clone()));
            }
            if let Some(z) = to_z {
                m.push(Match::OutIface(z.interfaces.clone()));
            }
            m.extend(saddr);
            m.extend(daddr);
            if let Some(p) = l4(r.protocol) {
                m.push(Match::L4(p));
            }
            m.extend(ports(&typed.ports).map(Match::Dport));
            if let Some(window) = &r.time
                && !window.days.is_empty()
            {
                m.push(Match::Days(window.days.iter().map(|d| d.nft()).collect()));
            }
            if let Some((start, end)) = &typed.hours {
                m.push(Match::Hours(start.clone(), end.clone()));
            }
            let rule = Rule {
                matches: m,
                verdict: verdict(r.action, s.log_drops),
                comment: label.clone(),
            };
            if to_appliance {
                input.push(rule);
            } else {
                forward.push(rule);
            }
        }
    }
    // Zone policies, one rule per pair (readable, with its own counter).
    for ((from, to), action) in &eff.policies {
        let (Some(a), Some(b)) = (zone(from), zone(to)) else {
            continue;
        };
        forward.push(Rule {
            matches: vec![
                Match::InIface(a.interfaces.clone()),
                Match::OutIface(b.interfaces.clone()),
            ],
            verdict: verdict(*action, s.log_drops),
            comment: format!("{from} to {to}: {action} (zone policy)"),
        });
    }
    input.extend(services);
    input.push(Rule {
        matches: vec![],
        verdict: verdict(Action::Drop, s.log_drops),
        comment: "anything else to the appliance is dropped".into(),
    });
    forward.push(Rule {
        matches: vec![],
        verdict: verdict(s.default_policy, s.log_drops),
        comment: format!("traffic no rule or policy names: {}", s.default_policy),
    });

    let mut postrouting = Vec::new();
    if let (Some(out), true) = (outside, s.masquerade) {
        postrouting.push(Rule {
            matches: vec![Match::NfProto("ipv4"), Match::OutIface(out.interfaces.clone())],
            verdict: Verdict::Masquerade,
            comment: format!("IPv4 leaving through {} takes the appliance's address", out.name),
        });
    }

    let base = |kind, hook, priority, policy| {
        Some(Hook {
            kind,
            hook,
            priority,
            policy,
        })
    };
    let mut chains = vec![
        Chain {
            name: "input",
            hook: base("filter", "input", "filter", Action::Drop),
            rules: input,
        },
        Chain {
            name: "forward",
            hook: base("filter", "forward", "filter", Action::Drop),
            rules: forward,
        },
        Chain {
            name: "output",
            hook: base("filter", "output", "filter", Action::Accept),
            rules: vec![],
        },
        Chain {
            name: "prerouting",
            hook: base("nat", "prerouting", "dstnat", Action::Accept),
            rules: prerouting,
        },
        Chain {
            name: "postrouting",
            hook: base("nat", "postrouting", "srcnat", Action::Accept),
            rules: postrouting,
        },
    ];
    if s.log_drops {
        for (name, what, v) in [
            (DROP_LOGGED, "drop", Verdict::Drop),
            (REJECT_LOGGED, "reject", Verdict::Reject),
        ] {
            chains.push(Chain {
                name,
                hook: None,
                rules: vec![
                    Rule {
                        matches: vec![],
                        verdict: Verdict::LogLimited {
                            prefix: format!("preau {what}: "),
                            per_minute: s.log_rate_per_minute,
                        },
                        comment: format!("log at most {} {what}s a minute", s.log_rate_per_minute),
                    },
                    Rule {
                        matches: vec![],
                        verdict: v,
                        comment: format!("{what} after logging"),
                    },
                ],
            });
        }
    }
    Ruleset { sets, chains }
}

/// Settings → the text for `nft -f`.
pub fn render(eff: &Effective) -> Result<String, Invalid> {
    Ok(build(&eff.typed()?).to_nft())
}

#[cfg(test)]
mod tests {
    use super::super::settings::FirewallSettings;
    use super::*;

    fn rendered(toml_text: &str) -> String {
        let s: FirewallSettings = toml::from_str(toml_text).unwrap();
        let mut p = crate::config::Problems::default();
        crate::config::Validate::validate(&s, "firewall", &mut p);
        assert!(p.is_empty(), "{:?}", p.into_vec());
        render(&s.effective()).unwrap()
    }

    #[test]
    fn preset_2_zones() {
        insta::assert_snapshot!(rendered("preset = \"2-zones\""));
    }

    #[test]
    fn preset_3_zones() {
        insta::assert_snapshot!(rendered("preset = \"3-zones\""));
    }

    #[test]
    fn preset_4_zones() {
        insta::assert_snapshot!(rendered("preset = \"4-zones\""));
    }

    #[test]
    fn tricky_settings() {
        insta::assert_snapshot!(rendered(
            r#"
preset = "3-zones"
default_policy = "reject"
log_rate_per_minute = 6
[[zones]]
name = "teaching"
interfaces = ["eth1", "wlan0"]
subnets = ["10.1.0.0/16", "fd00:1::/64"]
web = "refuse"
[[zones]]
name = "admin"
subnets = ["10.2.0.0/16"]
[[zones]]
name = "guests"
interfaces = ["eth4"]
services = ["dns", "dhcp"]
web = "redirect"
[[policies]]
from = "guests"
to = "outside"
action = "accept"
[[sets]]
name = "printers"
addresses = ["10.2.5.10", "10.2.5.11", "fd00:2::10"]
[[sets]]
name = "print-ports"
ports = ["631", "9100-9102"]
[[rules]]
comment = "teaching may print on the admin printers during school hours"
from_zone = "teaching"
to_zone = "admin"
to = ["@printers"]
protocol = "tcp"
ports = ["@print-ports"]
time = { days = ["monday", "tuesday", "thursday", "friday"], start = "07:30", end = "18:00" }
[[rules]]
comment = "a \"quoted\" word and the teachers' lab host reaches SSH"
from = ["10.1.9.9"]
to_zone = "appliance"
protocol = "tcp"
ports = ["22"]
[[rules]]
from_zone = "outside"
from = ["2001:db8::/32"]
protocol = "icmp"
action = "drop"
[[port_forwards]]
comment = "school web site"
protocol = "tcp"
port = 8080
to = "10.2.0.80"
to_port = 80
[[port_forwards]]
protocol = "both"
port = 5000
to = "10.2.0.81"
from = ["192.0.2.0/24"]
"#
        ));
    }

    #[test]
    fn rendering_is_deterministic_and_tagged() {
        let a = rendered("preset = \"3-zones\"");
        let b = rendered("preset = \"3-zones\"");
        assert_eq!(a, b);
        let tag = tag_of(&a).unwrap();
        assert_eq!(tag.len(), 12);
        assert_ne!(tag, tag_of(&rendered("preset = \"2-zones\"")).unwrap());
        assert!(a.starts_with("#!/usr/sbin/nft -f\n"));
        assert!(a.contains("\ntable inet preau\ndelete table inet preau\ntable inet preau {\n"));
    }

    proptest::proptest! {
        /// Whatever the settings, validation and rendering never panic, and
        /// valid settings render one table with balanced braces.
        #[test]
        fn any_settings_render_or_are_refused(
            names in proptest::collection::vec("[a-z]{1,6}", 1..5),
            ifaces in proptest::collection::vec("eth[0-9]", 1..5),
            nets in proptest::collection::vec((0u8..=255, 0u8..=255, 0u8..=32), 0..5),
            rule_from in "[a-z]{0,6}",
            ports in proptest::collection::vec("[0-9@a-z-]{0,6}", 0..3),
            comment in "\\PC{0,40}",
        ) {
            let mut s = FirewallSettings { preset: String::new(), ..Default::default() };
            for (i, n) in names.iter().enumerate() {
                s.zones.push(super::super::settings::Zone {
                    name: n.clone(),
                    interfaces: vec![ifaces[i % ifaces.len()].clone()],
                    subnets: nets.get(i).map(|(a, b, p)| format!("10.{a}.{b}.0/{p}")).into_iter().collect(),
                    services: Some(vec![super::super::settings::Service::Ssh]),
                    web: None,
                });
            }
            s.outside_zone = names[0].clone();
            s.rules.push(super::super::settings::Rule {
                comment,
                from_zone: rule_from,
                protocol: super::super::settings::Protocol::Tcp,
                ports,
                ..Default::default()
            });
            let mut p = crate::config::Problems::default();
            crate::config::Validate::validate(&s, "firewall", &mut p);
            let text = render(&s.effective());
            if p.is_empty() {
                // Valid settings always parse.
                proptest::prop_assert!(text.is_ok(), "{:?}", text.as_ref().err());
                let text = text.unwrap();
                // Braces outside quoted strings (comments may hold any text).
                let bare: String = text.split('"').step_by(2).collect();
                proptest::prop_assert_eq!(bare.matches('{').count(), bare.matches('}').count());
                proptest::prop_assert_eq!(text.matches('"').count() % 2, 0);
                proptest::prop_assert_eq!(text.matches("\ntable inet preau {").count(), 1);
            }
        }

        #[test]
        fn cidr_round_trip_and_overlap_is_symmetric(a in 0u32.., p in 0u8..=32, b in 0u32.., q in 0u8..=32) {
            let net = |x: u32, len: u8| {
                let c = Cidr { addr: std::net::IpAddr::V4(x.into()), prefix: len };
                Cidr::parse(&format!("{}/{len}", c.network())).unwrap()
            };
            let (x, y) = (net(a, p), net(b, q));
            proptest::prop_assert_eq!(Cidr::parse(&x.to_string()).unwrap(), x);
            proptest::prop_assert_eq!(x.overlaps(&y), y.overlaps(&x));
            proptest::prop_assert!(x.contains(x.network()));
        }
    }

    #[test]
    fn every_rule_has_a_counter_and_a_comment() {
        let text = rendered("preset = \"4-zones\"");
        for line in text
            .lines()
            .filter(|l| l.starts_with("\t\t") && !l.starts_with("\t\t\t"))
        {
            let l = line.trim();
            if l.starts_with("type ")
                || l.starts_with("flags")
                || l.starts_with("comment")
                || l.starts_with("elements")
                || l == "auto-merge"
                || l == "}"
            {
                continue;
            }
            assert!(l.contains(" comment \""), "{l}");
            assert!(l.contains("counter") || l.contains("log prefix"), "{l}");
        }
    }
}

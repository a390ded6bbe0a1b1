//! `[firewall]`: zones, the policy between them, rules, port forwards,
//! masquerading, the appliance services each zone may reach and the forced
//! use of the proxy.
//!
//! A `preset` gives a starting point (2, 3 or 4 zones with sensible
//! policies); zones, policies and rules written in the file complete or
//! override it. [`FirewallSettings::effective`] merges both into the
//! [`Effective`] settings the renderer works from, and validation runs on
//! that merged view so that lock-out risks (nobody can reach SSH or the
//! console, an interface in two zones…) are caught before anything is
//! applied.

use crate::config::Validate;
use crate::config::problems::{Problems, index, join};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

/// The firewall of the appliance (nftables, one table `inet preau`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FirewallSettings {
    /// Starting point: "2-zones" (outside, inside), "3-zones" (outside,
    /// teaching, admin), "4-zones" (outside, teaching, admin, dmz) or ""
    /// for none. Zones and policies written below complete or override
    /// the preset's (a zone of the same name takes the preset's values for
    /// the keys it leaves out). docs/firewall.md shows each preset.
    pub preset: String,
    /// Name of the zone that leads to the internet: traffic leaving through
    /// it is masqueraded and port forwards come in through it.
    pub outside_zone: String,
    /// Rewrite the source address of traffic leaving through the outside
    /// zone to the appliance's own address (NAT).
    pub masquerade: bool,
    /// What happens to traffic between two zones that no policy names:
    /// "accept", "drop" (silently) or "reject" (refused at once).
    pub default_policy: Action,
    /// Log dropped and refused packets to the kernel log, at most
    /// `log_rate_per_minute` lines per minute.
    pub log_drops: bool,
    /// Upper bound of dropped-packet log lines per minute.
    #[schemars(range(min = 1, max = 10000))]
    pub log_rate_per_minute: u32,
    /// Zones: groups of network interfaces (and their subnets).
    pub zones: Vec<Zone>,
    /// Default policy of traffic from one zone to another.
    pub policies: Vec<Policy>,
    /// Explicit rules, checked in order before the zone policies.
    pub rules: Vec<Rule>,
    /// Port forwards (DNAT): a port of the appliance's outside address sent
    /// on to an internal host.
    pub port_forwards: Vec<PortForward>,
    /// Named sets of addresses or ports, used in rules as "@name".
    pub sets: Vec<NamedSet>,
    /// Ports of the appliance services zones may be allowed to reach.
    pub service_ports: ServicePorts,
    /// Port the proxy listens on for redirected (transparent) HTTP.
    #[schemars(range(min = 1, max = 65535))]
    pub proxy_transparent_http_port: u16,
    /// Port the proxy listens on for redirected (transparent) HTTPS.
    #[schemars(range(min = 1, max = 65535))]
    pub proxy_transparent_https_port: u16,
}

impl Default for FirewallSettings {
    fn default() -> Self {
        Self {
            preset: "3-zones".into(),
            outside_zone: "outside".into(),
            masquerade: true,
            default_policy: Action::Drop,
            log_drops: true,
            log_rate_per_minute: 30,
            zones: Vec::new(),
            policies: Vec::new(),
            rules: Vec::new(),
            port_forwards: Vec::new(),
            sets: Vec::new(),
            service_ports: ServicePorts::default(),
            proxy_transparent_http_port: 3129,
            proxy_transparent_https_port: 3130,
        }
    }
}

/// A zone: traffic coming in through (or going out of) its interfaces.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Zone {
    /// Short name: lower-case letters, digits, "-" and "_", e.g. "teaching".
    pub name: String,
    /// Network interfaces of the zone, e.g. ["eth1"]. Empty in a zone that
    /// overrides a preset's: the preset's interfaces.
    pub interfaces: Vec<String>,
    /// Subnets of the zone (CIDR, IPv4 or IPv6). When given, traffic routed
    /// from the zone must come from them (anti-spoofing).
    pub subnets: Vec<String>,
    /// Appliance services the zone may reach: "console", "viescolaire",
    /// "smb", "proxy", "ssh", "dns", "dhcp". Absent: the preset's (none
    /// for a zone the preset does not have).
    pub services: Option<Vec<Service>>,
    /// Web traffic of the zone toward the outside: "direct", "redirect"
    /// (sent to the proxy's transparent ports) or "refuse" (only the
    /// explicit proxy works). Absent: the preset's ("direct" otherwise).
    pub web: Option<WebMode>,
}

/// The default policy of traffic from one zone to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Zone the traffic comes from.
    pub from: String,
    /// Zone the traffic goes to.
    pub to: String,
    /// "accept", "drop" or "reject".
    pub action: Action,
}

/// An explicit rule. Empty fields match anything.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Rule {
    /// What the rule is for, in plain words; shown beside it in the
    /// ruleset and in `preau status`.
    pub comment: String,
    /// Zone the traffic comes from ("" any).
    pub from_zone: String,
    /// Source addresses or subnets, or one "@set".
    pub from: Vec<String>,
    /// Zone the traffic goes to ("" any; "appliance" for the server
    /// itself).
    pub to_zone: String,
    /// Destination addresses or subnets, or one "@set".
    pub to: Vec<String>,
    /// "tcp", "udp", "both" (tcp and udp), "icmp" or "any".
    pub protocol: Protocol,
    /// Destination ports ("80", "8000-8100") or one "@set"; needs a
    /// protocol of tcp, udp or both.
    pub ports: Vec<String>,
    /// "accept", "drop" or "reject".
    pub action: Action,
    /// Only during this time window (local time of the server).
    pub time: Option<TimeWindow>,
}

/// Days and hours during which a rule applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeWindow {
    /// Days of the week ("monday"…"sunday"); empty: every day.
    #[serde(default)]
    pub days: Vec<Day>,
    /// Start, "HH:MM".
    pub start: String,
    /// End, "HH:MM".
    pub end: String,
}

/// A port of the appliance's outside address sent on to an internal host.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PortForward {
    /// What it is for, e.g. "school web site".
    pub comment: String,
    /// "tcp", "udp" or "both".
    pub protocol: Protocol,
    /// Port on the appliance's outside address.
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
    /// Internal host address that receives the traffic.
    pub to: String,
    /// Port on the internal host; absent: the same port.
    #[schemars(range(min = 1, max = 65535))]
    pub to_port: Option<u16>,
    /// Only from these addresses or subnets, or one "@set" (empty: from
    /// anywhere).
    pub from: Vec<String>,
}

/// A named set, referred to as "@name" in rules.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct NamedSet {
    /// Name: lower-case letters, digits, "-" and "_".
    pub name: String,
    /// Addresses or subnets (IPv4 and IPv6 may be mixed).
    pub addresses: Vec<String>,
    /// Ports or port ranges ("80", "8000-8100").
    pub ports: Vec<String>,
}

/// Ports of the appliance's own services, as "PORT/tcp" or "PORT/udp".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ServicePorts {
    /// The administration console.
    pub console: Vec<String>,
    /// The school-life web application.
    pub viescolaire: Vec<String>,
    /// File shares (Samba).
    pub smb: Vec<String>,
    /// The web proxy (explicit use).
    pub proxy: Vec<String>,
    /// Remote administration shell.
    pub ssh: Vec<String>,
    /// Name service.
    pub dns: Vec<String>,
    /// Address assignment.
    pub dhcp: Vec<String>,
}

impl Default for ServicePorts {
    fn default() -> Self {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect();
        Self {
            console: v(&["8443/tcp"]),
            viescolaire: v(&["443/tcp", "80/tcp"]),
            smb: v(&["445/tcp", "139/tcp", "137/udp", "138/udp"]),
            proxy: v(&["3128/tcp"]),
            ssh: v(&["22/tcp"]),
            dns: v(&["53/udp", "53/tcp"]),
            dhcp: v(&["67/udp"]),
        }
    }
}

impl ServicePorts {
    pub fn of(&self, s: Service) -> &[String] {
        match s {
            Service::Console => &self.console,
            Service::Viescolaire => &self.viescolaire,
            Service::Smb => &self.smb,
            Service::Proxy => &self.proxy,
            Service::Ssh => &self.ssh,
            Service::Dns => &self.dns,
            Service::Dhcp => &self.dhcp,
        }
    }
}

/// What to do with matching traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    #[default]
    Accept,
    Drop,
    Reject,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Accept => "accept",
            Action::Drop => "drop",
            Action::Reject => "reject",
        })
    }
}

/// A transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Any,
    Tcp,
    Udp,
    Both,
    Icmp,
}

/// An appliance service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Console,
    Viescolaire,
    Smb,
    Proxy,
    Ssh,
    Dns,
    Dhcp,
}

impl Service {
    pub const ALL: [Service; 7] = [
        Service::Console,
        Service::Viescolaire,
        Service::Smb,
        Service::Proxy,
        Service::Ssh,
        Service::Dns,
        Service::Dhcp,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Service::Console => "admin console",
            Service::Viescolaire => "school-life web",
            Service::Smb => "file shares (SMB)",
            Service::Proxy => "web proxy",
            Service::Ssh => "SSH",
            Service::Dns => "DNS",
            Service::Dhcp => "DHCP",
        }
    }
}

/// How a zone's web traffic reaches the outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WebMode {
    #[default]
    Direct,
    Redirect,
    Refuse,
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Day {
    /// The name nftables expects.
    pub fn nft(self) -> &'static str {
        match self {
            Day::Monday => "Monday",
            Day::Tuesday => "Tuesday",
            Day::Wednesday => "Wednesday",
            Day::Thursday => "Thursday",
            Day::Friday => "Friday",
            Day::Saturday => "Saturday",
            Day::Sunday => "Sunday",
        }
    }
}

/// The zone name that stands for the appliance itself in rules.
pub const APPLIANCE: &str = "appliance";

/// A zone after merging the preset and the file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectiveZone {
    pub name: String,
    pub interfaces: Vec<String>,
    pub subnets: Vec<String>,
    pub services: Vec<Service>,
    pub web: WebMode,
    /// Key path where the zone is defined (for problems).
    pub path: String,
}

/// The settings the renderer works from: preset merged with the file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effective {
    pub zones: Vec<EffectiveZone>,
    /// (from, to) → action, for every ordered pair of distinct zones and
    /// for a zone to itself when a policy names it.
    pub policies: BTreeMap<(String, String), Action>,
    pub settings: FirewallSettings,
}

/// The presets' names.
pub const PRESETS: [&str; 3] = ["2-zones", "3-zones", "4-zones"];

struct PresetZone {
    name: &'static str,
    interface: &'static str,
    services: &'static [Service],
    web: WebMode,
}

/// A preset: its zones and its policies (from, to, action).
type Preset = (Vec<PresetZone>, Vec<(&'static str, &'static str, Action)>);

fn preset(name: &str) -> Option<Preset> {
    use Action::*;
    use Service::*;
    let outside = PresetZone {
        name: "outside",
        interface: "eth0",
        services: &[],
        web: WebMode::Direct,
    };
    let internal_all: &[Service] = &[Console, Viescolaire, Smb, Proxy, Ssh, Dns, Dhcp];
    let teaching = PresetZone {
        name: "teaching",
        interface: "eth1",
        services: &[Viescolaire, Smb, Proxy, Dns, Dhcp],
        web: WebMode::Redirect,
    };
    let admin = PresetZone {
        name: "admin",
        interface: "eth2",
        services: internal_all,
        web: WebMode::Direct,
    };
    match name {
        "2-zones" => Some((
            vec![
                outside,
                PresetZone {
                    name: "inside",
                    interface: "eth1",
                    services: internal_all,
                    web: WebMode::Direct,
                },
            ],
            vec![("inside", "outside", Accept), ("outside", "inside", Drop)],
        )),
        "3-zones" => Some((
            vec![outside, teaching, admin],
            vec![
                ("teaching", "outside", Accept),
                ("admin", "outside", Accept),
                ("admin", "teaching", Accept),
                ("teaching", "admin", Reject),
                ("outside", "teaching", Drop),
                ("outside", "admin", Drop),
            ],
        )),
        "4-zones" => Some((
            vec![
                outside,
                teaching,
                admin,
                PresetZone {
                    name: "dmz",
                    interface: "eth3",
                    services: &[Dns],
                    web: WebMode::Direct,
                },
            ],
            vec![
                ("teaching", "outside", Accept),
                ("admin", "outside", Accept),
                ("admin", "teaching", Accept),
                ("admin", "dmz", Accept),
                ("teaching", "dmz", Accept),
                ("dmz", "outside", Accept),
                ("teaching", "admin", Reject),
                ("dmz", "teaching", Reject),
                ("dmz", "admin", Reject),
                ("outside", "teaching", Drop),
                ("outside", "admin", Drop),
                ("outside", "dmz", Drop),
            ],
        )),
        _ => None,
    }
}

impl FirewallSettings {
    /// The preset merged with the zones and policies of the file.
    pub fn effective(&self) -> Effective {
        let (preset_zones, preset_policies) = preset(&self.preset).unwrap_or_default();
        let mut zones: Vec<EffectiveZone> = preset_zones
            .iter()
            .map(|p| EffectiveZone {
                name: p.name.into(),
                interfaces: vec![p.interface.into()],
                subnets: Vec::new(),
                services: p.services.to_vec(),
                web: p.web,
                path: "firewall.preset".into(),
            })
            .collect();
        for (i, z) in self.zones.iter().enumerate() {
            let path = index("firewall.zones", i);
            match zones
                .iter_mut()
                .find(|e| e.name == z.name && e.path == "firewall.preset")
            {
                Some(e) => {
                    if !z.interfaces.is_empty() {
                        e.interfaces = z.interfaces.clone();
                    }
                    if !z.subnets.is_empty() {
                        e.subnets = z.subnets.clone();
                    }
                    if let Some(s) = &z.services {
                        e.services = s.clone();
                    }
                    if let Some(w) = z.web {
                        e.web = w;
                    }
                    e.path = path;
                }
                None => zones.push(EffectiveZone {
                    name: z.name.clone(),
                    interfaces: z.interfaces.clone(),
                    subnets: z.subnets.clone(),
                    services: z.services.clone().unwrap_or_default(),
                    web: z.web.unwrap_or_default(),
                    path,
                }),
            }
        }
        for z in &mut zones {
            z.services.sort();
            z.services.dedup();
        }
        let mut policies = BTreeMap::new();
        for a in &zones {
            for b in &zones {
                if a.name != b.name {
                    policies.insert((a.name.clone(), b.name.clone()), self.default_policy);
                }
            }
        }
        for (from, to, action) in preset_policies {
            policies.insert((from.to_string(), to.to_string()), action);
        }
        for p in &self.policies {
            policies.insert((p.from.clone(), p.to.clone()), p.action);
        }
        Effective {
            zones,
            policies,
            settings: self.clone(),
        }
    }
}

// ---------------------------------------------------------------- values

/// An address or subnet: `10.1.0.0/16`, `192.168.1.5`, `2001:db8::/32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (a, p) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = a
            .parse()
            .map_err(|_| format!("\"{text}\" is not an IP address or subnet"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => return Err(format!("\"{text}\": the prefix length must be 0 to {max}")),
            },
        };
        let c = Cidr { addr, prefix };
        if c.network() != addr {
            return Err(format!(
                "\"{text}\" has host bits set: the subnet is {}/{prefix}",
                c.network()
            ));
        }
        Ok(c)
    }

    fn bits(addr: IpAddr) -> u128 {
        match addr {
            IpAddr::V4(a) => u32::from(a) as u128,
            IpAddr::V6(a) => u128::from(a),
        }
    }

    fn mask(&self) -> u128 {
        let width = if self.addr.is_ipv4() { 32 } else { 128 };
        if self.prefix == 0 {
            0
        } else {
            let ones = u128::MAX << (128 - self.prefix as u32);
            ones >> (128 - width)
        }
    }

    pub fn network(&self) -> IpAddr {
        let n = Self::bits(self.addr) & self.mask();
        match self.addr {
            IpAddr::V4(_) => IpAddr::V4((n as u32).into()),
            IpAddr::V6(_) => IpAddr::V6(n.into()),
        }
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        self.addr.is_ipv4() == addr.is_ipv4() && Self::bits(addr) & self.mask() == Self::bits(self.network())
    }

    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.contains(other.addr) || other.contains(self.addr)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = if self.addr.is_ipv4() { 32 } else { 128 };
        if self.prefix == max {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

/// A port or an inclusive range of ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange(pub u16, pub u16);

impl PortRange {
    pub fn parse(text: &str) -> Result<PortRange, String> {
        let one = |s: &str| -> Result<u16, String> {
            match s.trim().parse::<u16>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!(
                    "\"{text}\" is not a port (1 to 65535) or a range like \"8000-8100\""
                )),
            }
        };
        match text.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (one(a)?, one(b)?);
                if a > b {
                    return Err(format!("\"{text}\": the range is reversed"));
                }
                Ok(PortRange(a, b))
            }
            None => {
                let p = one(text)?;
                Ok(PortRange(p, p))
            }
        }
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == self.1 {
            write!(f, "{}", self.0)
        } else {
            write!(f, "{}-{}", self.0, self.1)
        }
    }
}

/// "443/tcp" → (443, tcp).
pub fn parse_service_port(text: &str) -> Result<(PortRange, Protocol), String> {
    let (p, proto) = text
        .split_once('/')
        .ok_or_else(|| format!("\"{text}\" must be PORT/tcp or PORT/udp, e.g. \"443/tcp\""))?;
    let proto = match proto {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        _ => return Err(format!("\"{text}\": the protocol must be tcp or udp")),
    };
    Ok((PortRange::parse(p)?, proto))
}

/// "HH:MM" → minutes since midnight.
pub fn parse_hhmm(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Names usable as nftables identifiers and in comments.
pub fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 24
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Linux interface names: 1 to 15 characters, no space, slash or quote.
pub fn is_interface(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@:".contains(c))
}

// ----------------------------------------------------------- validation

impl Validate for FirewallSettings {
    fn validate(&self, path: &str, problems: &mut Problems) {
        let eff = self.effective();
        let at = |k: &str| join(path, k);
        if !self.preset.is_empty() && !PRESETS.contains(&self.preset.as_str()) {
            problems.push_hint(
                at("preset"),
                format!("unknown preset \"{}\"", self.preset),
                format!("use one of: \"{}\", or \"\" for none", PRESETS.join("\", \"")),
            );
        }
        if eff.zones.is_empty() {
            problems.push_hint(
                at("zones"),
                "no zone is defined",
                "choose a preset (preset = \"3-zones\") or describe your zones in [[firewall.zones]]",
            );
            return;
        }
        let zone_names: Vec<&str> = eff.zones.iter().map(|z| z.name.as_str()).collect();
        let known = || format!("known zones: {}", zone_names.join(", "));
        let zone_exists = |n: &str| zone_names.contains(&n);

        // Zones: names, interfaces, subnets.
        let mut seen_if: BTreeMap<&str, &str> = BTreeMap::new();
        let mut seen_nets: Vec<(Cidr, String, &str)> = Vec::new();
        for (i, z) in self.zones.iter().enumerate() {
            let zp = index(&at("zones"), i);
            if !is_name(&z.name) || z.name == APPLIANCE {
                problems.push_hint(
                    join(&zp, "name"),
                    format!("\"{}\" is not a usable zone name", z.name),
                    "use lower-case letters, digits, - and _ (at most 24, starting with a letter); \"appliance\" is reserved",
                );
            }
            if self.zones[..i].iter().any(|o| o.name == z.name) {
                problems.push(join(&zp, "name"), format!("zone \"{}\" is defined twice", z.name));
            }
        }
        for z in &eff.zones {
            if z.interfaces.is_empty() {
                problems.push_hint(
                    join(&z.path, "interfaces"),
                    format!("zone \"{}\" has no interface", z.name),
                    "list its network interfaces, e.g. interfaces = [\"eth1\"]",
                );
            }
            for (j, iface) in z.interfaces.iter().enumerate() {
                let ip = index(&join(&z.path, "interfaces"), j);
                if !is_interface(iface) {
                    problems.push_hint(
                        ip.clone(),
                        format!("\"{iface}\" is not an interface name"),
                        "at most 15 characters: letters, digits, - _ . (no wildcards)",
                    );
                }
                match seen_if.get(iface.as_str()) {
                    Some(other) if *other != z.name => problems.push_hint(
                        ip,
                        format!(
                            "interface \"{iface}\" is in two zones: \"{other}\" and \"{}\"",
                            z.name
                        ),
                        "an interface belongs to exactly one zone; traffic on it would get the wrong policy",
                    ),
                    Some(_) => problems.push(ip, format!("interface \"{iface}\" is listed twice")),
                    None => {
                        seen_if.insert(iface, &z.name);
                    }
                }
            }
            for (j, s) in z.subnets.iter().enumerate() {
                let sp = index(&join(&z.path, "subnets"), j);
                match Cidr::parse(s) {
                    Err(e) => problems.push_hint(sp, e, "write a subnet like \"10.1.0.0/16\""),
                    Ok(c) => {
                        if let Some((_, _, other)) = seen_nets.iter().find(|(o, _, _)| o.overlaps(&c)) {
                            problems.push_hint(
                                sp.clone(),
                                format!(
                                    "subnet {s} of zone \"{}\" overlaps a subnet of zone \"{other}\"",
                                    z.name
                                ),
                                "zones must not share addresses",
                            );
                        }
                        seen_nets.push((c, sp, &z.name));
                    }
                }
            }
            if z.name == self.outside_zone && z.web != WebMode::Direct {
                problems.push(
                    join(&z.path, "web"),
                    "the outside zone's web traffic cannot be forced through the proxy",
                );
            }
        }
        if !zone_exists(&self.outside_zone) && !self.outside_zone.is_empty() {
            problems.push_hint(
                at("outside_zone"),
                format!("unknown zone \"{}\"", self.outside_zone),
                known(),
            );
        }
        if self.outside_zone.is_empty() && (self.masquerade || !self.port_forwards.is_empty()) {
            problems.push_hint(
                at("outside_zone"),
                "masquerading and port forwards need an outside zone",
                "name the zone that leads to the internet",
            );
        }
        if eff.zones.iter().any(|z| z.web == WebMode::Redirect) && self.outside_zone.is_empty() {
            problems.push(at("outside_zone"), "web redirection needs an outside zone");
        }

        // Lock-out: someone must be able to administer the appliance.
        let reaches = |s: Service| eff.zones.iter().any(|z| z.services.contains(&s));
        if !reaches(Service::Ssh) && !reaches(Service::Console) {
            problems.push_hint(
                at("zones"),
                "no zone may reach SSH or the admin console: applying this would lock every administrator out",
                "add \"ssh\" or \"console\" to the services of the administrative zone",
            );
        }
        for (key, ports) in [
            ("console", &self.service_ports.console),
            ("viescolaire", &self.service_ports.viescolaire),
            ("smb", &self.service_ports.smb),
            ("proxy", &self.service_ports.proxy),
            ("ssh", &self.service_ports.ssh),
            ("dns", &self.service_ports.dns),
            ("dhcp", &self.service_ports.dhcp),
        ] {
            for (j, p) in ports.iter().enumerate() {
                if let Err(e) = parse_service_port(p) {
                    problems.push(index(&join(&at("service_ports"), key), j), e);
                }
            }
        }
        for s in [Service::Ssh, Service::Console] {
            if reaches(s) && self.service_ports.of(s).is_empty() {
                problems.push_hint(
                    join(
                        &at("service_ports"),
                        if s == Service::Ssh { "ssh" } else { "console" },
                    ),
                    format!("{} has no port although zones may reach it", s.label()),
                    "give its port, e.g. [\"22/tcp\"]",
                );
            }
        }

        // Policies.
        for (i, p) in self.policies.iter().enumerate() {
            let pp = index(&at("policies"), i);
            for (k, v) in [("from", &p.from), ("to", &p.to)] {
                if !zone_exists(v) {
                    problems.push_hint(join(&pp, k), format!("unknown zone \"{v}\""), known());
                }
            }
            if self.policies[..i]
                .iter()
                .any(|o| o.from == p.from && o.to == p.to)
            {
                problems.push(
                    pp,
                    format!("the policy from \"{}\" to \"{}\" is given twice", p.from, p.to),
                );
            }
        }

        // Sets.
        let mut sets: BTreeMap<&str, &NamedSet> = BTreeMap::new();
        for (i, s) in self.sets.iter().enumerate() {
            let sp = index(&at("sets"), i);
            if !is_name(&s.name) {
                problems.push_hint(
                    join(&sp, "name"),
                    format!("\"{}\" is not a usable set name", s.name),
                    "use lower-case letters, digits, - and _ (at most 24, starting with a letter)",
                );
            }
            if sets.insert(&s.name, s).is_some() {
                problems.push(join(&sp, "name"), format!("set \"{}\" is defined twice", s.name));
            }
            if s.addresses.is_empty() == s.ports.is_empty() {
                problems.push_hint(
                    sp.clone(),
                    format!("set \"{}\" must hold either addresses or ports", s.name),
                    "give `addresses = [...]` or `ports = [...]`, not both",
                );
            }
            for (j, a) in s.addresses.iter().enumerate() {
                if let Err(e) = Cidr::parse(a) {
                    problems.push(index(&join(&sp, "addresses"), j), e);
                }
            }
            for (j, p) in s.ports.iter().enumerate() {
                if let Err(e) = PortRange::parse(p) {
                    problems.push(index(&join(&sp, "ports"), j), e);
                }
            }
        }
        let check_addrs = |problems: &mut Problems, p: &str, list: &[String]| {
            check_list(problems, p, list, &sets, ListOf::Addresses);
        };

        // Rules.
        for (i, r) in self.rules.iter().enumerate() {
            let rp = index(&at("rules"), i);
            for (k, v) in [("from_zone", &r.from_zone), ("to_zone", &r.to_zone)] {
                let ok = v.is_empty() || zone_exists(v) || (k == "to_zone" && v == APPLIANCE);
                if !ok {
                    problems.push_hint(join(&rp, k), format!("unknown zone \"{v}\""), known());
                }
            }
            if r.from_zone == APPLIANCE {
                problems.push(
                    join(&rp, "from_zone"),
                    "traffic from the appliance itself is always allowed; \"appliance\" is only a destination",
                );
            }
            check_addrs(problems, &join(&rp, "from"), &r.from);
            check_addrs(problems, &join(&rp, "to"), &r.to);
            if !r.ports.is_empty() && !matches!(r.protocol, Protocol::Tcp | Protocol::Udp | Protocol::Both) {
                problems.push_hint(
                    join(&rp, "protocol"),
                    "ports need a protocol",
                    "set protocol = \"tcp\", \"udp\" or \"both\"",
                );
            }
            check_list(problems, &join(&rp, "ports"), &r.ports, &sets, ListOf::Ports);
            if families(&r.from, &sets) & families(&r.to, &sets) == 0 {
                problems.push(
                    rp.clone(),
                    "the source and destination addresses are of different IP versions: the rule could never match",
                );
            }
            if let Some(t) = &r.time {
                let tp = join(&rp, "time");
                for (k, v) in [("start", &t.start), ("end", &t.end)] {
                    if parse_hhmm(v).is_none() {
                        problems.push_hint(
                            join(&tp, k),
                            format!("\"{v}\" is not a time"),
                            "write HH:MM, e.g. \"08:00\"",
                        );
                    }
                }
                if t.start == t.end {
                    problems.push(tp, "the time window is empty (start = end)");
                }
            }
            if r.comment.chars().count() > 100 {
                problems.push(join(&rp, "comment"), "the comment is longer than 100 characters");
            }
        }

        // Port forwards.
        for (i, f) in self.port_forwards.iter().enumerate() {
            let fp = index(&at("port_forwards"), i);
            if f.port == 0 {
                problems.push_hint(
                    join(&fp, "port"),
                    "no port given",
                    "give the outside port, e.g. port = 8080",
                );
            }
            if f.to_port == Some(0) {
                problems.push(join(&fp, "to_port"), "0 is not a port");
            }
            match Cidr::parse(&f.to) {
                Ok(c) if c.prefix == if c.addr.is_ipv4() { 32 } else { 128 } => {
                    let inside = eff.zones.iter().any(|z| {
                        z.name != self.outside_zone
                            && z.subnets
                                .iter()
                                .filter_map(|s| Cidr::parse(s).ok())
                                .any(|s| s.contains(c.addr))
                    });
                    let any_subnets = eff.zones.iter().any(|z| !z.subnets.is_empty());
                    if any_subnets && !inside {
                        problems.push_hint(
                            join(&fp, "to"),
                            format!("{} is in no internal zone's subnets", f.to),
                            "forward to a host of an internal zone",
                        );
                    }
                }
                _ => problems.push_hint(
                    join(&fp, "to"),
                    format!("\"{}\" is not a host address", f.to),
                    "give the internal host's address, e.g. \"10.3.0.10\"",
                ),
            }
            if !matches!(f.protocol, Protocol::Tcp | Protocol::Udp | Protocol::Both) {
                problems.push_hint(
                    join(&fp, "protocol"),
                    "a port forward needs a protocol",
                    "tcp, udp or both",
                );
            }
            check_addrs(problems, &join(&fp, "from"), &f.from);
            if self.port_forwards[..i].iter().any(|o| {
                o.port == f.port
                    && (o.protocol == f.protocol
                        || o.protocol == Protocol::Both
                        || f.protocol == Protocol::Both)
            }) && f.port != 0
            {
                problems.push(join(&fp, "port"), format!("port {} is forwarded twice", f.port));
            }
        }
    }
}

/// Bit 1: IPv4 possible, bit 2: IPv6 possible.
pub fn families(list: &[String], sets: &BTreeMap<&str, &NamedSet>) -> u8 {
    if list.is_empty() {
        return 3;
    }
    let mut f = 0;
    for a in list {
        let addrs: Vec<&String> = match a.strip_prefix('@') {
            Some(name) => match sets.get(name) {
                Some(s) => s.addresses.iter().collect(),
                None => return 3,
            },
            None => vec![a],
        };
        for a in addrs {
            match Cidr::parse(a) {
                Ok(c) if c.addr.is_ipv4() => f |= 1,
                Ok(_) => f |= 2,
                Err(_) => return 3,
            }
        }
    }
    f
}

/// What a rule's list holds: addresses (CIDR) or ports (ranges).
#[derive(Clone, Copy, PartialEq, Eq)]
enum ListOf {
    Addresses,
    Ports,
}

/// Checks a rule's list of addresses or ports: a `@set` reference must be
/// alone and name a set of the right kind; other entries must parse.
fn check_list(
    problems: &mut Problems,
    path: &str,
    list: &[String],
    sets: &BTreeMap<&str, &NamedSet>,
    of: ListOf,
) {
    let (noun, other) = match of {
        ListOf::Addresses => ("address", "ports, not addresses"),
        ListOf::Ports => ("port", "addresses, not ports"),
    };
    let refs = list.iter().filter(|a| a.starts_with('@')).count();
    if refs > 0 && list.len() > 1 {
        problems.push_hint(
            path,
            "a set reference must be alone in its list",
            format!("put every {noun} in the named set, or list {noun}s without the set"),
        );
    }
    for (j, a) in list.iter().enumerate() {
        let p = index(path, j);
        match a.strip_prefix('@') {
            Some(name) => match sets.get(name) {
                None => problems.push_hint(
                    p,
                    format!("unknown set \"{name}\""),
                    "define it in [[firewall.sets]]",
                ),
                Some(s) => {
                    let empty = match of {
                        ListOf::Addresses => s.addresses.is_empty(),
                        ListOf::Ports => s.ports.is_empty(),
                    };
                    if empty {
                        problems.push(p, format!("set \"{name}\" holds {other}"));
                    }
                }
            },
            None => {
                let parsed = match of {
                    ListOf::Addresses => Cidr::parse(a).map(|_| ()),
                    ListOf::Ports => PortRange::parse(a).map(|_| ()),
                };
                if let Err(e) = parsed {
                    problems.push(p, e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(s: &FirewallSettings) -> Vec<(String, String)> {
        let mut p = Problems::default();
        s.validate("firewall", &mut p);
        p.into_vec().into_iter().map(|p| (p.path, p.message)).collect()
    }

    #[test]
    fn every_preset_is_valid() {
        for name in PRESETS {
            let s = FirewallSettings {
                preset: name.into(),
                ..Default::default()
            };
            assert_eq!(problems_of(&s), vec![], "{name}");
        }
    }

    #[test]
    fn cidr_parsing_and_overlap() {
        let a = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(a.contains("10.1.200.3".parse().unwrap()));
        assert!(!a.contains("10.2.0.1".parse().unwrap()));
        assert!(a.overlaps(&Cidr::parse("10.1.5.0/24").unwrap()));
        assert!(!a.overlaps(&Cidr::parse("10.2.0.0/16").unwrap()));
        assert!(Cidr::parse("10.1.2.3/16").unwrap_err().contains("10.1.0.0/16"));
        assert!(Cidr::parse("10.1.0.0/33").is_err());
        assert_eq!(Cidr::parse("2001:db8::/32").unwrap().to_string(), "2001:db8::/32");
        assert_eq!(Cidr::parse("0.0.0.0/0").unwrap().prefix, 0);
        assert!(Cidr::parse("nope").is_err());
    }

    #[test]
    fn lock_out_and_mistakes_are_all_reported() {
        let s: FirewallSettings = toml::from_str(
            r#"
preset = "3-zones"
[[zones]]
name = "admin"
services = ["smb"]
[[zones]]
name = "teaching"
interfaces = ["eth2"]
subnets = ["10.1.0.0/16"]
[[zones]]
name = "guests"
interfaces = ["wlan0"]
subnets = ["10.1.128.0/17", "10.9.9.9/8"]
[[rules]]
from_zone = "pedagogie"
to_zone = "admin"
ports = ["80"]
[[rules]]
from = ["10.0.0.1"]
to = ["2001:db8::1"]
time = { start = "25:00", end = "08:00" }
[[policies]]
from = "teaching"
to = "nowhere"
action = "accept"
[[port_forwards]]
port = 8080
to = "10.5.0.1/24"
"#,
        )
        .unwrap();
        let got = problems_of(&s);
        let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "firewall.zones[0].interfaces[0]",
                "firewall.zones[2].subnets[0]",
                "firewall.zones[2].subnets[1]",
                "firewall.zones",
                "firewall.policies[0].to",
                "firewall.rules[0].from_zone",
                "firewall.rules[0].protocol",
                "firewall.rules[1]",
                "firewall.rules[1].time.start",
                "firewall.port_forwards[0].to",
                "firewall.port_forwards[0].protocol",
            ],
            "{got:#?}"
        );
        assert!(got[0].1.contains("in two zones"), "{}", got[0].1);
        assert!(got[3].1.contains("lock every administrator out"));
    }

    #[test]
    fn file_zones_override_preset_fields() {
        let s: FirewallSettings = toml::from_str(
            r#"
preset = "2-zones"
[[zones]]
name = "inside"
interfaces = ["enp2s0"]
[[zones]]
name = "guests"
interfaces = ["wlan0"]
services = ["dns", "dhcp"]
web = "refuse"
"#,
        )
        .unwrap();
        let e = s.effective();
        let inside = e.zones.iter().find(|z| z.name == "inside").unwrap();
        assert_eq!(inside.interfaces, vec!["enp2s0"]);
        assert!(inside.services.contains(&Service::Ssh));
        let guests = e.zones.iter().find(|z| z.name == "guests").unwrap();
        assert_eq!(guests.web, WebMode::Refuse);
        assert_eq!(e.policies[&("guests".into(), "outside".into())], Action::Drop);
        assert_eq!(e.policies[&("inside".into(), "outside".into())], Action::Accept);
    }
}

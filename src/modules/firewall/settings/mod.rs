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

mod net;
mod presets;
mod typed;
mod validate;

pub use net::*;
pub use presets::PRESETS;
use presets::*;
pub use typed::{Endpoint, Invalid, Ports, Typed, TypedForward, TypedRule, TypedSet};
pub use validate::families;

/// The firewall of the appliance (nftables, one table `inet preau`).
///
/// fr: Le pare-feu du serveur (nftables, une seule table `inet preau`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FirewallSettings {
    /// Starting point: "2-zones" (outside, inside), "3-zones" (outside,
    /// teaching, admin), "4-zones" (outside, teaching, admin, dmz) or ""
    /// for none. Zones and policies written below complete or override
    /// the preset's (a zone of the same name takes the preset's values for
    /// the keys it leaves out). docs/firewall.md shows each preset.
    ///
    /// fr: Point de départ : « 2-zones » (extérieur, intérieur), « 3-zones »
    /// (extérieur, pédagogique, administratif), « 4-zones » (extérieur,
    /// pédagogique, administratif, dmz) ou "" pour aucun. Les zones et
    /// politiques écrites plus bas complètent ou remplacent celles du
    /// préréglage (une zone du même nom reprend les valeurs du préréglage pour
    /// les clés qu'elle omet). docs/firewall.md montre chaque préréglage.
    pub preset: String,
    /// Name of the zone that leads to the internet: traffic leaving through
    /// it is masqueraded and port forwards come in through it.
    ///
    /// fr: Nom de la zone qui mène à internet : le trafic qui en sort est
    /// masqué (NAT) et les redirections de ports arrivent par elle.
    pub outside_zone: String,
    /// Rewrite the source address of traffic leaving through the outside
    /// zone to the appliance's own address (NAT).
    ///
    /// fr: Remplacer l'adresse source du trafic qui sort par la zone extérieure
    /// par l'adresse du serveur lui-même (NAT).
    pub masquerade: bool,
    /// What happens to traffic between two zones that no policy names:
    /// "accept", "drop" (silently) or "reject" (refused at once).
    ///
    /// fr: Ce qui arrive au trafic entre deux zones qu'aucune politique ne
    /// nomme : « accept » (accepté), « drop » (jeté sans réponse) ou « reject »
    /// (refusé tout de suite).
    pub default_policy: Action,
    /// Log dropped and refused packets to the kernel log, at most
    /// `log_rate_per_minute` lines per minute.
    ///
    /// fr: Noter les paquets jetés et refusés dans le journal du noyau, au plus
    /// `log_rate_per_minute` lignes par minute.
    pub log_drops: bool,
    /// Upper bound of dropped-packet log lines per minute.
    ///
    /// fr: Nombre maximal de lignes par minute pour les paquets jetés.
    #[schemars(range(min = 1, max = 10000))]
    pub log_rate_per_minute: u32,
    /// Zones: groups of network interfaces (and their subnets).
    ///
    /// fr: Les zones : des groupes d'interfaces réseau (et leurs sous-réseaux).
    pub zones: Vec<Zone>,
    /// Default policy of traffic from one zone to another.
    ///
    /// fr: La politique par défaut du trafic d'une zone vers une autre.
    pub policies: Vec<Policy>,
    /// Explicit rules, checked in order before the zone policies.
    ///
    /// fr: Des règles explicites, vérifiées dans l'ordre avant les politiques
    /// des zones.
    pub rules: Vec<Rule>,
    /// Port forwards (DNAT): a port of the appliance's outside address sent
    /// on to an internal host.
    ///
    /// fr: Les redirections de ports (DNAT) : un port de l'adresse extérieure
    /// du serveur renvoyé vers un hôte interne.
    pub port_forwards: Vec<PortForward>,
    /// Named sets of addresses or ports, used in rules as "@name".
    ///
    /// fr: Des ensembles nommés d'adresses ou de ports, utilisés dans les
    /// règles sous la forme « @nom ».
    pub sets: Vec<NamedSet>,
    /// Ports of the appliance services zones may be allowed to reach.
    ///
    /// fr: Les ports des services du serveur que les zones peuvent être
    /// autorisées à atteindre.
    pub service_ports: ServicePorts,
    /// Port the proxy listens on for redirected (transparent) HTTP.
    ///
    /// fr: Port sur lequel le proxy écoute le HTTP redirigé (transparent).
    #[schemars(range(min = 1, max = 65535))]
    pub proxy_transparent_http_port: u16,
    /// Port the proxy listens on for redirected (transparent) HTTPS.
    ///
    /// fr: Port sur lequel le proxy écoute le HTTPS redirigé (transparent).
    #[schemars(range(min = 1, max = 65535))]
    pub proxy_transparent_https_port: u16,
    /// Seconds a change of the firewall applied from the web console is
    /// on trial: unless "Confirmer" is pressed within them, the previous
    /// ruleset comes back by itself (a timer apart from the page and the
    /// daemon, so a lost connection rolls back too). `preau apply
    /// --confirm SECONDS` gives its own.
    ///
    /// fr: Durée d'essai, en secondes, d'un changement du pare-feu appliqué
    /// depuis la console : sans « Confirmer » dans ce délai, l'ancien jeu de
    /// règles revient de lui-même (un minuteur indépendant de la page et du
    /// service, donc une connexion perdue annule aussi). `preau apply
    /// --confirm SECONDES` donne la sienne.
    #[schemars(range(min = 10, max = 3600))]
    pub confirm_seconds: u32,
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
            confirm_seconds: 120,
        }
    }
}

/// A zone: traffic coming in through (or going out of) its interfaces.
///
/// fr: Une zone : le trafic qui entre par ses interfaces (ou qui en sort).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Zone {
    /// Short name: lower-case letters, digits, "-" and "_", e.g. "teaching".
    ///
    /// fr: Nom court : minuscules, chiffres, « - » et « _ », par exemple «
    /// teaching ».
    pub name: String,
    /// Network interfaces of the zone, e.g. ["eth1"]. Empty in a zone that
    /// overrides a preset's: the preset's interfaces.
    ///
    /// fr: Interfaces réseau de la zone, par exemple ["eth1"]. Vide dans une
    /// zone qui remplace celle d'un préréglage : les interfaces du préréglage.
    pub interfaces: Vec<String>,
    /// Subnets of the zone (CIDR, IPv4 or IPv6). When given, traffic routed
    /// from the zone must come from them (anti-spoofing).
    ///
    /// fr: Sous-réseaux de la zone (CIDR, IPv4 ou IPv6). Quand ils sont donnés,
    /// le trafic routé depuis la zone doit en venir (anti-usurpation).
    pub subnets: Vec<String>,
    /// Appliance services the zone may reach: "console", "viescolaire",
    /// "smb", "proxy", "ssh", "dns", "dhcp". Absent: the preset's (none
    /// for a zone the preset does not have).
    ///
    /// fr: Services du serveur que la zone peut atteindre : « console », «
    /// viescolaire », « smb », « proxy », « ssh », « dns », « dhcp ». Absent :
    /// ceux du préréglage (aucun pour une zone que le préréglage n'a pas).
    pub services: Option<Vec<Service>>,
    /// Web traffic of the zone toward the outside: "direct", "redirect"
    /// (sent to the proxy's transparent ports) or "refuse" (only the
    /// explicit proxy works). Absent: the preset's ("direct" otherwise).
    ///
    /// fr: Trafic web de la zone vers l'extérieur : « direct », « redirect »
    /// (envoyé aux ports transparents du proxy) ou « refuse » (seul le proxy
    /// explicite fonctionne). Absent : celui du préréglage (« direct » sinon).
    pub web: Option<WebMode>,
}

/// The default policy of traffic from one zone to another.
///
/// fr: La politique par défaut du trafic d'une zone vers une autre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Zone the traffic comes from.
    ///
    /// fr: Zone d'où vient le trafic.
    pub from: String,
    /// Zone the traffic goes to.
    ///
    /// fr: Zone où va le trafic.
    pub to: String,
    /// "accept", "drop" or "reject".
    ///
    /// fr: « accept » (accepté), « drop » (jeté) ou « reject » (refusé).
    pub action: Action,
}

/// An explicit rule. Empty fields match anything.
///
/// fr: Une règle explicite. Les champs vides correspondent à tout.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Rule {
    /// What the rule is for, in plain words; shown beside it in the
    /// ruleset and in `preau status`.
    ///
    /// fr: À quoi sert la règle, en mots simples ; montré à côté d'elle dans le
    /// jeu de règles et dans `preau status`.
    pub comment: String,
    /// Zone the traffic comes from ("" any).
    ///
    /// fr: Zone d'où vient le trafic ("" : toutes).
    pub from_zone: String,
    /// Source addresses or subnets, or one "@set".
    ///
    /// fr: Adresses ou sous-réseaux sources, ou un seul « @ensemble ».
    pub from: Vec<String>,
    /// Zone the traffic goes to ("" any; "appliance" for the server
    /// itself).
    ///
    /// fr: Zone où va le trafic ("" : toutes ; « appliance » pour le serveur
    /// lui-même).
    pub to_zone: String,
    /// Destination addresses or subnets, or one "@set".
    ///
    /// fr: Adresses ou sous-réseaux de destination, ou un seul « @ensemble ».
    pub to: Vec<String>,
    /// "tcp", "udp", "both" (tcp and udp), "icmp" or "any".
    ///
    /// fr: « tcp », « udp », « both » (tcp et udp), « icmp » ou « any » (tous).
    pub protocol: Protocol,
    /// Destination ports ("80", "8000-8100") or one "@set"; needs a
    /// protocol of tcp, udp or both.
    ///
    /// fr: Ports de destination (« 80 », « 8000-8100 ») ou un seul « @ensemble
    /// » ; demande un protocole tcp, udp ou both.
    pub ports: Vec<String>,
    /// "accept", "drop" or "reject".
    ///
    /// fr: « accept » (accepté), « drop » (jeté) ou « reject » (refusé).
    pub action: Action,
    /// Only during this time window (local time of the server).
    ///
    /// fr: Seulement pendant cette plage horaire (heure locale du serveur).
    pub time: Option<TimeWindow>,
}

/// Days and hours during which a rule applies.
///
/// fr: Les jours et heures pendant lesquels une règle s'applique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeWindow {
    /// Days of the week ("monday"…"sunday"); empty: every day.
    ///
    /// fr: Jours de la semaine (« monday »…« sunday ») ; vide : tous les jours.
    #[serde(default)]
    pub days: Vec<Day>,
    /// Start, "HH:MM".
    ///
    /// fr: Début, « HH:MM ».
    pub start: String,
    /// End, "HH:MM".
    ///
    /// fr: Fin, « HH:MM ».
    pub end: String,
}

/// A port of the appliance's outside address sent on to an internal host.
///
/// fr: Un port de l'adresse extérieure du serveur renvoyé vers un hôte interne.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PortForward {
    /// What it is for, e.g. "school web site".
    ///
    /// fr: À quoi elle sert, par exemple « site web de l'établissement ».
    pub comment: String,
    /// "tcp", "udp" or "both".
    ///
    /// fr: « tcp », « udp » ou « both » (les deux).
    pub protocol: Protocol,
    /// Port on the appliance's outside address.
    ///
    /// fr: Port sur l'adresse extérieure du serveur.
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
    /// Internal host address that receives the traffic.
    ///
    /// fr: Adresse de l'hôte interne qui reçoit le trafic.
    pub to: String,
    /// Port on the internal host; absent: the same port.
    ///
    /// fr: Port sur l'hôte interne ; absent : le même port.
    #[schemars(range(min = 1, max = 65535))]
    pub to_port: Option<u16>,
    /// Only from these addresses or subnets, or one "@set" (empty: from
    /// anywhere).
    ///
    /// fr: Seulement depuis ces adresses ou sous-réseaux, ou un seul «
    /// @ensemble » (vide : depuis partout).
    pub from: Vec<String>,
}

/// A named set, referred to as "@name" in rules.
///
/// fr: Un ensemble nommé, désigné par « @nom » dans les règles.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct NamedSet {
    /// Name: lower-case letters, digits, "-" and "_".
    ///
    /// fr: Nom : minuscules, chiffres, « - » et « _ ».
    pub name: String,
    /// Addresses or subnets (IPv4 and IPv6 may be mixed).
    ///
    /// fr: Adresses ou sous-réseaux (IPv4 et IPv6 peuvent être mêlés).
    pub addresses: Vec<String>,
    /// Ports or port ranges ("80", "8000-8100").
    ///
    /// fr: Ports ou plages de ports (« 80 », « 8000-8100 »).
    pub ports: Vec<String>,
}

/// Ports of the appliance's own services, as "PORT/tcp" or "PORT/udp".
///
/// fr: Les ports des services du serveur lui-même, sous la forme « PORT/tcp »
/// ou « PORT/udp ».
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ServicePorts {
    /// The administration console.
    ///
    /// fr: La console d'administration.
    pub console: Vec<String>,
    /// The school-life web application.
    ///
    /// fr: L'application web de vie scolaire.
    pub viescolaire: Vec<String>,
    /// File shares (Samba).
    ///
    /// fr: Les partages de fichiers (Samba).
    pub smb: Vec<String>,
    /// The web proxy (explicit use).
    ///
    /// fr: Le proxy web (utilisation explicite).
    pub proxy: Vec<String>,
    /// Remote administration shell.
    ///
    /// fr: Le shell d'administration à distance.
    pub ssh: Vec<String>,
    /// Name service.
    ///
    /// fr: Le service de noms.
    pub dns: Vec<String>,
    /// Address assignment.
    ///
    /// fr: L'attribution des adresses.
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
///
/// fr: Ce qu'il faut faire du trafic qui correspond.
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
///
/// fr: Un protocole de transport.
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
///
/// fr: Un service du serveur.
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
///
/// fr: Comment le trafic web d'une zone atteint l'extérieur.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WebMode {
    #[default]
    Direct,
    Redirect,
    Refuse,
}

/// A day of the week.
///
/// fr: Un jour de la semaine.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(s: &FirewallSettings) -> Vec<(String, String)> {
        let mut p = Problems::default();
        s.validate("firewall", &mut p);
        p.into_vec()
            .into_iter()
            .inspect(|p| assert!(!p.message.fr.is_empty() && p.message.fr != p.message.en, "{p:?}"))
            .map(|p| (p.path, p.message.en))
            .collect()
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
        assert!(Cidr::parse("10.1.2.3/16").unwrap_err().en.contains("10.1.0.0/16"));
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

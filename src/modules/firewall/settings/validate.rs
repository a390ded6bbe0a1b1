//! Validation of `[firewall]` on the merged view: every problem with its
//! key path, lock-out risks first.

use super::*;
use crate::msg;

impl Validate for FirewallSettings {
    fn validate(&self, path: &str, problems: &mut Problems) {
        let eff = self.effective();
        let at = |k: &str| join(path, k);
        if !self.preset.is_empty() && !PRESETS.contains(&self.preset.as_str()) {
            problems.push_hint(
                at("preset"),
                msg!(
                    en("unknown preset \"{}\"", self.preset),
                    fr("préréglage inconnu « {} »", self.preset)
                ),
                msg!(
                    en("use one of: \"{}\", or \"\" for none", PRESETS.join("\", \"")),
                    fr(
                        "choisissez parmi : \"{}\", ou \"\" pour aucun",
                        PRESETS.join("\", \"")
                    )
                ),
            );
        }
        if eff.zones.is_empty() {
            problems.push_hint(
                at("zones"),
                msg!("no zone is defined", "aucune zone n'est définie"),
                msg!("choose a preset (preset = \"3-zones\") or describe your zones in [[firewall.zones]]", "choisissez un préréglage (preset = \"3-zones\") ou décrivez vos zones dans [[firewall.zones]]"),
            );
            return;
        }
        let zone_names: Vec<&str> = eff.zones.iter().map(|z| z.name.as_str()).collect();
        let known = || {
            let names = zone_names.join(", ");
            msg!("known zones: {names}", "zones connues : {names}")
        };
        let zone_exists = |n: &str| zone_names.contains(&n);

        // Zones: names, interfaces, subnets.
        let mut seen_if: BTreeMap<&str, &str> = BTreeMap::new();
        let mut seen_nets: Vec<(Cidr, String, &str)> = Vec::new();
        for (i, z) in self.zones.iter().enumerate() {
            let zp = index(&at("zones"), i);
            if !is_name(&z.name) || z.name == APPLIANCE {
                problems.push_hint(
                    join(&zp, "name"),
                    msg!(en("\"{}\" is not a usable zone name", z.name), fr("« {} » ne peut pas servir de nom de zone", z.name)),
                    msg!("use lower-case letters, digits, - and _ (at most 24, starting with a letter); \"appliance\" is reserved", "utilisez des minuscules, des chiffres, - et _ (24 au plus, en commençant par une lettre) ; « appliance » est réservé"),
                );
            }
            if self.zones[..i].iter().any(|o| o.name == z.name) {
                problems.push(
                    join(&zp, "name"),
                    msg!(
                        en("zone \"{}\" is defined twice", z.name),
                        fr("la zone « {} » est définie deux fois", z.name)
                    ),
                );
            }
        }
        for z in &eff.zones {
            if z.interfaces.is_empty() {
                problems.push_hint(
                    join(&z.path, "interfaces"),
                    msg!(
                        en("zone \"{}\" has no interface", z.name),
                        fr("la zone « {} » n'a pas d'interface", z.name)
                    ),
                    msg!(
                        "list its network interfaces, e.g. interfaces = [\"eth1\"]",
                        "indiquez ses interfaces réseau, par exemple interfaces = [\"eth1\"]"
                    ),
                );
            }
            for (j, iface) in z.interfaces.iter().enumerate() {
                let ip = index(&join(&z.path, "interfaces"), j);
                if !is_interface(iface) {
                    problems.push_hint(
                        ip.clone(),
                        msg!(
                            "\"{iface}\" is not an interface name",
                            "« {iface} » n'est pas un nom d'interface"
                        ),
                        msg!(
                            "at most 15 characters: letters, digits, - _ . (no wildcards)",
                            "15 caractères au plus : lettres, chiffres, - _ . (sans joker)"
                        ),
                    );
                }
                match seen_if.get(iface.as_str()) {
                    Some(other) if *other != z.name => problems.push_hint(
                        ip,
                        msg!(en("interface \"{iface}\" is in two zones: \"{other}\" and \"{}\"",
                            z.name), fr("l'interface « {iface} » est dans deux zones : « {other} » et « {} »",
                            z.name)),
                        msg!("an interface belongs to exactly one zone; traffic on it would get the wrong policy", "une interface appartient à une seule zone ; son trafic recevrait sinon la mauvaise politique"),
                    ),
                    Some(_) => problems.push(ip, msg!("interface \"{iface}\" is listed twice", "l'interface « {iface} » est citée deux fois")),
                    None => {
                        seen_if.insert(iface, &z.name);
                    }
                }
            }
            for (j, s) in z.subnets.iter().enumerate() {
                let sp = index(&join(&z.path, "subnets"), j);
                match Cidr::parse(s) {
                    Err(e) => problems.push_hint(
                        sp,
                        e,
                        msg!(
                            "write a subnet like \"10.1.0.0/16\"",
                            "écrivez un sous-réseau comme « 10.1.0.0/16 »"
                        ),
                    ),
                    Ok(c) => {
                        if let Some((_, _, other)) = seen_nets.iter().find(|(o, _, _)| o.overlaps(&c)) {
                            problems.push_hint(
                                sp.clone(),
                                msg!(en("subnet {s} of zone \"{}\" overlaps a subnet of zone \"{other}\"",
                                    z.name), fr("le sous-réseau {s} de la zone « {} » chevauche un sous-réseau de la zone « {other} »",
                                    z.name)),
                                msg!("zones must not share addresses", "deux zones ne peuvent pas avoir d'adresses en commun"),
                            );
                        }
                        seen_nets.push((c, sp, &z.name));
                    }
                }
            }
            if z.name == self.outside_zone && z.web != WebMode::Direct {
                problems.push(
                    join(&z.path, "web"),
                    msg!(
                        "the outside zone's web traffic cannot be forced through the proxy",
                        "le trafic web de la zone extérieure ne peut pas être forcé à passer par le proxy"
                    ),
                );
            }
        }
        if !zone_exists(&self.outside_zone) && !self.outside_zone.is_empty() {
            problems.push_hint(
                at("outside_zone"),
                msg!(
                    en("unknown zone \"{}\"", self.outside_zone),
                    fr("zone inconnue « {} »", self.outside_zone)
                ),
                known(),
            );
        }
        if self.outside_zone.is_empty() && (self.masquerade || !self.port_forwards.is_empty()) {
            problems.push_hint(
                at("outside_zone"),
                msg!(
                    "masquerading and port forwards need an outside zone",
                    "le masquage (NAT) et les redirections de ports demandent une zone extérieure"
                ),
                msg!(
                    "name the zone that leads to the internet",
                    "nommez la zone qui mène à internet"
                ),
            );
        }
        if eff.zones.iter().any(|z| z.web == WebMode::Redirect) && self.outside_zone.is_empty() {
            problems.push(
                at("outside_zone"),
                msg!(
                    "web redirection needs an outside zone",
                    "la redirection web demande une zone extérieure"
                ),
            );
        }

        // Lock-out: someone must be able to administer the appliance.
        let reaches = |s: Service| eff.zones.iter().any(|z| z.services.contains(&s));
        if !reaches(Service::Ssh) && !reaches(Service::Console) {
            problems.push_hint(
                at("zones"),
                msg!("no zone may reach SSH or the admin console: applying this would lock every administrator out", "aucune zone ne peut atteindre SSH ni la console d'administration : appliquer cela bloquerait tous les administrateurs dehors"),
                msg!("add \"ssh\" or \"console\" to the services of the administrative zone", "ajoutez « ssh » ou « console » aux services de la zone administrative"),
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
                    msg!(
                        en("{} has no port although zones may reach it", s.label()),
                        fr(
                            "{} n'a pas de port alors que des zones peuvent l'atteindre",
                            if s == Service::Ssh {
                                "SSH"
                            } else {
                                "La console d'administration"
                            }
                        )
                    ),
                    msg!(
                        "give its port, e.g. [\"22/tcp\"]",
                        "donnez son port, par exemple [\"22/tcp\"]"
                    ),
                );
            }
        }

        // Policies.
        for (i, p) in self.policies.iter().enumerate() {
            let pp = index(&at("policies"), i);
            for (k, v) in [("from", &p.from), ("to", &p.to)] {
                if !zone_exists(v) {
                    problems.push_hint(
                        join(&pp, k),
                        msg!("unknown zone \"{v}\"", "zone inconnue « {v} »"),
                        known(),
                    );
                }
            }
            if self.policies[..i]
                .iter()
                .any(|o| o.from == p.from && o.to == p.to)
            {
                problems.push(
                    pp,
                    msg!(
                        en("the policy from \"{}\" to \"{}\" is given twice", p.from, p.to),
                        fr(
                            "la politique de « {} » vers « {} » est donnée deux fois",
                            p.from,
                            p.to
                        )
                    ),
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
                    msg!(en("\"{}\" is not a usable set name", s.name), fr("« {} » ne peut pas servir de nom d'ensemble", s.name)),
                    msg!("use lower-case letters, digits, - and _ (at most 24, starting with a letter)", "utilisez des minuscules, des chiffres, - et _ (24 au plus, en commençant par une lettre)"),
                );
            }
            if sets.insert(&s.name, s).is_some() {
                problems.push(
                    join(&sp, "name"),
                    msg!(
                        en("set \"{}\" is defined twice", s.name),
                        fr("l'ensemble « {} » est défini deux fois", s.name)
                    ),
                );
            }
            if s.addresses.is_empty() == s.ports.is_empty() {
                problems.push_hint(
                    sp.clone(),
                    msg!(
                        en("set \"{}\" must hold either addresses or ports", s.name),
                        fr(
                            "l'ensemble « {} » doit contenir soit des adresses, soit des ports",
                            s.name
                        )
                    ),
                    msg!(
                        "give `addresses = [...]` or `ports = [...]`, not both",
                        "donnez `addresses = [...]` ou `ports = [...]`, pas les deux"
                    ),
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
                    problems.push_hint(
                        join(&rp, k),
                        msg!("unknown zone \"{v}\"", "zone inconnue « {v} »"),
                        known(),
                    );
                }
            }
            if r.from_zone == APPLIANCE {
                problems.push(
                    join(&rp, "from_zone"),
                    msg!("traffic from the appliance itself is always allowed; \"appliance\" is only a destination", "le trafic du serveur lui-même est toujours permis ; « appliance » n'est qu'une destination"),
                );
            }
            check_addrs(problems, &join(&rp, "from"), &r.from);
            check_addrs(problems, &join(&rp, "to"), &r.to);
            if !r.ports.is_empty() && !matches!(r.protocol, Protocol::Tcp | Protocol::Udp | Protocol::Both) {
                problems.push_hint(
                    join(&rp, "protocol"),
                    msg!("ports need a protocol", "des ports demandent un protocole"),
                    msg!(
                        "set protocol = \"tcp\", \"udp\" or \"both\"",
                        "écrivez protocol = \"tcp\", \"udp\" ou \"both\""
                    ),
                );
            }
            check_list(problems, &join(&rp, "ports"), &r.ports, &sets, ListOf::Ports);
            if families(&r.from, &sets) & families(&r.to, &sets) == 0 {
                problems.push(
                    rp.clone(),
                    msg!("the source and destination addresses are of different IP versions: the rule could never match", "les adresses de source et de destination sont de versions IP différentes : la règle ne s'appliquerait jamais"),
                );
            }
            if let Some(t) = &r.time {
                let tp = join(&rp, "time");
                for (k, v) in [("start", &t.start), ("end", &t.end)] {
                    if parse_hhmm(v).is_none() {
                        problems.push_hint(
                            join(&tp, k),
                            msg!("\"{v}\" is not a time", "« {v} » n'est pas une heure"),
                            msg!(
                                "write HH:MM, e.g. \"08:00\"",
                                "écrivez HH:MM, par exemple « 08:00 »"
                            ),
                        );
                    }
                }
                if t.start == t.end {
                    problems.push(
                        tp,
                        msg!(
                            "the time window is empty (start = end)",
                            "la plage horaire est vide (début = fin)"
                        ),
                    );
                }
            }
            if r.comment.chars().count() > 100 {
                problems.push(
                    join(&rp, "comment"),
                    msg!(
                        "the comment is longer than 100 characters",
                        "le commentaire dépasse 100 caractères"
                    ),
                );
            }
        }

        // Port forwards.
        for (i, f) in self.port_forwards.iter().enumerate() {
            let fp = index(&at("port_forwards"), i);
            if f.port == 0 {
                problems.push_hint(
                    join(&fp, "port"),
                    msg!("no port given", "aucun port n'est donné"),
                    msg!(
                        "give the outside port, e.g. port = 8080",
                        "donnez le port extérieur, par exemple port = 8080"
                    ),
                );
            }
            if f.to_port == Some(0) {
                problems.push(
                    join(&fp, "to_port"),
                    msg!("0 is not a port", "0 n'est pas un port"),
                );
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
                            msg!(
                                en("{} is in no internal zone's subnets", f.to),
                                fr("{} n'est dans les sous-réseaux d'aucune zone interne", f.to)
                            ),
                            msg!(
                                "forward to a host of an internal zone",
                                "redirigez vers un hôte d'une zone interne"
                            ),
                        );
                    }
                }
                _ => problems.push_hint(
                    join(&fp, "to"),
                    msg!(
                        en("\"{}\" is not a host address", f.to),
                        fr("« {} » n'est pas une adresse d'hôte", f.to)
                    ),
                    msg!(
                        "give the internal host's address, e.g. \"10.3.0.10\"",
                        "donnez l'adresse de l'hôte interne, par exemple « 10.3.0.10 »"
                    ),
                ),
            }
            if !matches!(f.protocol, Protocol::Tcp | Protocol::Udp | Protocol::Both) {
                problems.push_hint(
                    join(&fp, "protocol"),
                    msg!(
                        "a port forward needs a protocol",
                        "une redirection de port demande un protocole"
                    ),
                    msg!("tcp, udp or both", "tcp, udp ou both (les deux)"),
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
                problems.push(
                    join(&fp, "port"),
                    msg!(
                        en("port {} is forwarded twice", f.port),
                        fr("le port {} est redirigé deux fois", f.port)
                    ),
                );
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
pub(super) enum ListOf {
    Addresses,
    Ports,
}

/// Checks a rule's list of addresses or ports: a `@set` reference must be
/// alone and name a set of the right kind; other entries must parse.
pub(super) fn check_list(
    problems: &mut Problems,
    path: &str,
    list: &[String],
    sets: &BTreeMap<&str, &NamedSet>,
    of: ListOf,
) {
    let (noun, other) = match of {
        ListOf::Addresses => (
            msg!(
                "put every address in the named set, or list addresses without the set",
                "mettez chaque adresse dans l'ensemble nommé, ou listez les adresses sans l'ensemble"
            ),
            ("ports, not addresses", "des ports, pas des adresses"),
        ),
        ListOf::Ports => (
            msg!(
                "put every port in the named set, or list ports without the set",
                "mettez chaque port dans l'ensemble nommé, ou listez les ports sans l'ensemble"
            ),
            ("addresses, not ports", "des adresses, pas des ports"),
        ),
    };
    let refs = list.iter().filter(|a| a.starts_with('@')).count();
    if refs > 0 && list.len() > 1 {
        problems.push_hint(
            path,
            msg!(
                "a set reference must be alone in its list",
                "une référence à un ensemble doit être seule dans sa liste"
            ),
            noun,
        );
    }
    for (j, a) in list.iter().enumerate() {
        let p = index(path, j);
        match a.strip_prefix('@') {
            Some(name) => match sets.get(name) {
                None => problems.push_hint(
                    p,
                    msg!("unknown set \"{name}\"", "ensemble inconnu « {name} »"),
                    msg!(
                        "define it in [[firewall.sets]]",
                        "définissez-le dans [[firewall.sets]]"
                    ),
                ),
                Some(s) => {
                    let empty = match of {
                        ListOf::Addresses => s.addresses.is_empty(),
                        ListOf::Ports => s.ports.is_empty(),
                    };
                    if empty {
                        problems.push(
                            p,
                            msg!(
                                en("set \"{name}\" holds {}", other.0),
                                fr("l'ensemble « {name} » contient {}", other.1)
                            ),
                        );
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

//! Validation of `[firewall]` on the merged view: every problem with its
//! key path, lock-out risks first.

use super::*;

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

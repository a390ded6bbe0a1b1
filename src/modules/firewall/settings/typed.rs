//! The effective settings parsed once, after validation: every address,
//! port, service port and time as a value, for the renderer to work from
//! without parsing anything again. A value that does not parse is an
//! error here (validation should have refused it first), never a rule
//! silently left out.

use super::*;

/// The addresses a rule side or a forward's source names.
#[derive(Debug, Clone, PartialEq)]
pub enum Endpoint {
    /// No addresses: anything.
    Any,
    /// One "@set".
    Set(String),
    List(Vec<Cidr>),
}

/// The destination ports of a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Ports {
    Any,
    /// One "@set".
    Set(String),
    List(Vec<PortRange>),
}

/// A named set, parsed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TypedSet {
    pub addresses: Vec<Cidr>,
    pub ports: Vec<PortRange>,
}

/// What a rule matches, parsed (the rest is read from the rule itself).
#[derive(Debug, Clone, PartialEq)]
pub struct TypedRule {
    pub from: Endpoint,
    pub to: Endpoint,
    pub ports: Ports,
    /// "HH:MM" start and end of its time window, both valid.
    pub hours: Option<(String, String)>,
}

/// A port forward's target and sources, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedForward {
    pub to: Cidr,
    pub from: Endpoint,
}

/// The effective settings with every value parsed.
#[derive(Debug)]
pub struct Typed<'a> {
    pub eff: &'a Effective,
    /// Subnets by zone name.
    pub zone_subnets: BTreeMap<String, Vec<Cidr>>,
    /// Named sets by name.
    pub sets: BTreeMap<String, TypedSet>,
    /// One per `rules` entry, in order.
    pub rules: Vec<TypedRule>,
    /// One per `port_forwards` entry, in order.
    pub forwards: Vec<TypedForward>,
    /// The ports of each appliance service.
    pub service_ports: Vec<(Service, Vec<(PortRange, Protocol)>)>,
}

impl Typed<'_> {
    /// The ports of an appliance service.
    pub fn ports_of(&self, svc: Service) -> &[(PortRange, Protocol)] {
        self.service_ports
            .iter()
            .find(|(s, _)| *s == svc)
            .map_or(&[][..], |(_, p)| p.as_slice())
    }
}

/// Values that do not parse, with their key paths.
#[derive(Debug, thiserror::Error)]
#[error("the firewall settings hold values that cannot be used (run `preau check`): {}", .0.join("; "))]
pub struct Invalid(pub Vec<String>);

fn cidr_list(list: &[String], at: &str, bad: &mut Vec<String>) -> Vec<Cidr> {
    let mut out = Vec::new();
    for (i, a) in list.iter().enumerate() {
        match Cidr::parse(a) {
            Ok(c) => out.push(c),
            Err(e) => bad.push(format!("{}: {e}", index(at, i))),
        }
    }
    out
}

fn port_list(list: &[String], at: &str, bad: &mut Vec<String>) -> Vec<PortRange> {
    let mut out = Vec::new();
    for (i, p) in list.iter().enumerate() {
        match PortRange::parse(p) {
            Ok(r) => out.push(r),
            Err(e) => bad.push(format!("{}: {e}", index(at, i))),
        }
    }
    out
}

fn endpoint(list: &[String], at: &str, bad: &mut Vec<String>) -> Endpoint {
    match list {
        [] => Endpoint::Any,
        [one] if one.starts_with('@') => Endpoint::Set(one[1..].to_string()),
        _ => Endpoint::List(cidr_list(list, at, bad)),
    }
}

impl Effective {
    /// Parses every value of the merged settings once.
    pub fn typed(&self) -> Result<Typed<'_>, Invalid> {
        let s = &self.settings;
        let mut bad = Vec::new();
        let mut zone_subnets = BTreeMap::new();
        for z in &self.zones {
            let c = cidr_list(&z.subnets, &join(&z.path, "subnets"), &mut bad);
            zone_subnets.insert(z.name.clone(), c);
        }
        let mut sets = BTreeMap::new();
        for (i, n) in s.sets.iter().enumerate() {
            let at = index("firewall.sets", i);
            let set = TypedSet {
                addresses: cidr_list(&n.addresses, &join(&at, "addresses"), &mut bad),
                ports: port_list(&n.ports, &join(&at, "ports"), &mut bad),
            };
            sets.insert(n.name.clone(), set);
        }
        let mut rules = Vec::new();
        for (i, r) in s.rules.iter().enumerate() {
            let at = index("firewall.rules", i);
            let ports = match r.ports.as_slice() {
                [] => Ports::Any,
                [one] if one.starts_with('@') => Ports::Set(one[1..].to_string()),
                list => Ports::List(port_list(list, &join(&at, "ports"), &mut bad)),
            };
            let hours = match &r.time {
                None => None,
                Some(t) if parse_hhmm(&t.start).is_some() && parse_hhmm(&t.end).is_some() => {
                    Some((t.start.clone(), t.end.clone()))
                }
                Some(t) => {
                    bad.push(format!(
                        "{}: \"{}\"-\"{}\" is not HH:MM-HH:MM",
                        join(&at, "time"),
                        t.start,
                        t.end
                    ));
                    None
                }
            };
            rules.push(TypedRule {
                from: endpoint(&r.from, &join(&at, "from"), &mut bad),
                to: endpoint(&r.to, &join(&at, "to"), &mut bad),
                ports,
                hours,
            });
        }
        let mut forwards = Vec::new();
        for (i, f) in s.port_forwards.iter().enumerate() {
            let at = index("firewall.port_forwards", i);
            match Cidr::parse(&f.to) {
                Ok(to) => forwards.push(TypedForward {
                    to,
                    from: endpoint(&f.from, &join(&at, "from"), &mut bad),
                }),
                Err(e) => bad.push(format!("{}: {e}", join(&at, "to"))),
            }
        }
        let mut service_ports = Vec::new();
        for svc in Service::ALL {
            let mut ports = Vec::new();
            for (i, p) in s.service_ports.of(svc).iter().enumerate() {
                match parse_service_port(p) {
                    Ok(v) => ports.push(v),
                    Err(e) => bad.push(format!(
                        "{}: {e}",
                        index(
                            &format!("firewall.service_ports.{}", format!("{svc:?}").to_lowercase()),
                            i
                        )
                    )),
                }
            }
            service_ports.push((svc, ports));
        }
        if !bad.is_empty() {
            return Err(Invalid(bad));
        }
        Ok(Typed {
            eff: self,
            zone_subnets,
            sets,
            rules,
            forwards,
            service_ports,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 9: the renderer re-parsed strings and left out what did not
    /// parse. Parsed once here, a bad value is an error naming it.
    #[test]
    fn values_that_do_not_parse_are_errors_with_their_paths() {
        let mut s = FirewallSettings {
            preset: "2-zones".into(),
            ..Default::default()
        };
        s.rules.push(Rule {
            comment: "bad".into(),
            from: vec!["10.0.0.1/33".into()],
            ports: vec!["99999".into()],
            time: Some(TimeWindow {
                days: Vec::new(),
                start: "25:00".into(),
                end: "08:00".into(),
            }),
            ..Default::default()
        });
        let eff = s.effective();
        let err = eff.typed().unwrap_err();
        let paths: Vec<&str> = err.0.iter().map(|e| e.split(':').next().unwrap()).collect();
        assert_eq!(
            paths,
            [
                "firewall.rules[0].ports[0]",
                "firewall.rules[0].time",
                "firewall.rules[0].from[0]"
            ]
        );
        assert!(crate::modules::firewall::render::render(&eff).is_err());
        // Valid settings parse whole.
        s.rules.clear();
        let eff = s.effective();
        let t = eff.typed().unwrap();
        assert!(!t.ports_of(Service::Ssh).is_empty());
    }
}

//! Network values shared by the modules: an address or subnet, as the
//! firewall and the proxy read them from the settings.

use crate::config::Msg;
use crate::msg;
use std::fmt;
use std::net::IpAddr;

/// An address or subnet: `10.1.0.0/16`, `192.168.1.5`, `2001:db8::/32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    /// Parses an address or subnet; a subnet with host bits set is an
    /// error that names the subnet meant.
    pub fn parse(text: &str) -> Result<Cidr, Msg> {
        Cidr::read(text, true)
    }

    /// The subnet an address with a prefix lies in: host bits are
    /// ignored ("10.0.12.7/24" is 10.0.12.0/24).
    pub fn parse_network(text: &str) -> Result<Cidr, Msg> {
        let c = Cidr::read(text, false)?;
        Ok(Cidr {
            addr: c.network(),
            prefix: c.prefix,
        })
    }

    fn read(text: &str, strict: bool) -> Result<Cidr, Msg> {
        let (a, p) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| {
            msg!(
                "\"{text}\" is not an IP address or subnet",
                "« {text} » n'est ni une adresse IP ni un sous-réseau"
            )
        })?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => {
                    return Err(msg!(
                        "\"{text}\": the prefix length must be 0 to {max}",
                        "« {text} » : la longueur du préfixe va de 0 à {max}"
                    ));
                }
            },
        };
        let c = Cidr { addr, prefix };
        if strict && c.network() != addr {
            let net = c.network();
            return Err(msg!(
                "\"{text}\" has host bits set: the subnet is {net}/{prefix}",
                "« {text} » a des bits d'hôte : le sous-réseau est {net}/{prefix}"
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

    /// Whether `addr` is in the subnet (an IPv4-mapped IPv6 address
    /// counts as its IPv4 address).
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = if self.addr.is_ipv4() {
            addr.to_canonical()
        } else {
            addr
        };
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

//! Network values of the settings: address or subnet ([`Cidr`], shared
//! with the proxy through `crate::net`), port and range, `PORT/proto`,
//! `HH:MM`, names.

use super::*;
use crate::config::Msg;
use crate::msg;

pub use crate::net::Cidr;

/// A port or an inclusive range of ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange(pub u16, pub u16);

impl PortRange {
    pub fn parse(text: &str) -> Result<PortRange, Msg> {
        let one = |s: &str| -> Result<u16, Msg> {
            match s.trim().parse::<u16>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(msg!(
                    "\"{text}\" is not a port (1 to 65535) or a range like \"8000-8100\"",
                    "« {text} » n'est ni un port (1 à 65535) ni une plage comme « 8000-8100 »"
                )),
            }
        };
        match text.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (one(a)?, one(b)?);
                if a > b {
                    return Err(msg!(
                        "\"{text}\": the range is reversed",
                        "« {text} » : la plage est à l'envers"
                    ));
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
pub fn parse_service_port(text: &str) -> Result<(PortRange, Protocol), Msg> {
    let (p, proto) = text.split_once('/').ok_or_else(|| {
        msg!(
            "\"{text}\" must be PORT/tcp or PORT/udp, e.g. \"443/tcp\"",
            "« {text} » doit être PORT/tcp ou PORT/udp, par exemple « 443/tcp »"
        )
    })?;
    let proto = match proto {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        _ => {
            return Err(msg!(
                "\"{text}\": the protocol must be tcp or udp",
                "« {text} » : le protocole est tcp ou udp"
            ));
        }
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

//! nftables set elements with timeouts, as typed calls: addresses are
//! `IpAddr`s, timeouts are seconds, set and table names are identifiers
//! checked here — the `nft` text is built from those values only, never
//! from a caller's string, and run as one `nft -f` transaction.
//!
//! Used by the firewall's room cut (`room_cut_v4` / `room_cut_v6` in the
//! `inet preau` table): the whole contents of the sets are replaced at
//! once (`flush set` + `add element … timeout Ns`), so that an element's
//! timeout is always the time left, whatever was there before.

use super::{Command, Host, HostError};
use std::fmt::Write as _;
use std::net::IpAddr;

/// A set of a table: `inet preau room_cut_v4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetRef {
    /// "inet", "ip" or "ip6".
    pub family: &'static str,
    pub table: &'static str,
    pub name: &'static str,
    /// The set holds IPv6 addresses (`ipv6_addr`), else IPv4.
    pub ipv6: bool,
}

/// An address range (one address when `first == last`) that leaves the
/// set by itself after `timeout_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedRange {
    pub first: IpAddr,
    pub last: IpAddr,
    pub timeout_secs: u64,
}

/// An element of a live set, as nft lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LiveElement {
    pub first: IpAddr,
    pub last: IpAddr,
    /// The timeout it was added with (seconds), if any.
    pub timeout_secs: Option<u64>,
    /// Seconds before the kernel removes it, if it has a timeout.
    pub expires_secs: Option<u64>,
}

fn identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn check(set: &SetRef) -> Result<(), HostError> {
    if ["inet", "ip", "ip6"].contains(&set.family) && identifier(set.table) && identifier(set.name) {
        Ok(())
    } else {
        Err(HostError::Invalid(format!(
            "\"{} {} {}\" is not an nftables set name",
            set.family, set.table, set.name
        )))
    }
}

fn element_text(r: &TimedRange) -> Result<String, HostError> {
    let same_family = r.first.is_ipv4() == r.last.is_ipv4();
    let ordered = match (r.first, r.last) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a <= b,
        (IpAddr::V6(a), IpAddr::V6(b)) => a <= b,
        _ => false,
    };
    if !same_family || !ordered || r.timeout_secs == 0 {
        return Err(HostError::Invalid(format!(
            "{}-{} for {} s is not a set element",
            r.first, r.last, r.timeout_secs
        )));
    }
    Ok(if r.first == r.last {
        format!("{} timeout {}s", r.first, r.timeout_secs)
    } else {
        format!("{}-{} timeout {}s", r.first, r.last, r.timeout_secs)
    })
}

/// The `nft -f` text that replaces the contents of each set (pure).
pub fn replace_text(sets: &[(SetRef, Vec<TimedRange>)]) -> Result<String, HostError> {
    let mut out = String::new();
    for (set, elements) in sets {
        check(set)?;
        let v4 = !set.ipv6;
        let _ = writeln!(out, "flush set {} {} {}", set.family, set.table, set.name);
        if elements.is_empty() {
            continue;
        }
        let mut parts = Vec::with_capacity(elements.len());
        for e in elements {
            if e.first.is_ipv4() != v4 {
                return Err(HostError::Invalid(format!(
                    "{} does not belong in set {}",
                    e.first, set.name
                )));
            }
            parts.push(element_text(e)?);
        }
        let _ = writeln!(
            out,
            "add element {} {} {} {{ {} }}",
            set.family,
            set.table,
            set.name,
            parts.join(", ")
        );
    }
    Ok(out)
}

/// Replaces the contents of these sets in one transaction: either every
/// set holds exactly its new elements afterwards, or nothing changed.
pub fn replace_elements(host: &dyn Host, sets: &[(SetRef, Vec<TimedRange>)]) -> Result<(), HostError> {
    let text = replace_text(sets)?;
    host.run_ok(&Command::new(["nft", "-f", "/dev/stdin"]).stdin(text))
        .map(|_| ())
}

/// The elements of a live set; `None` when the set (or its table) does
/// not exist.
pub fn list_elements(host: &dyn Host, set: &SetRef) -> Result<Option<Vec<LiveElement>>, HostError> {
    check(set)?;
    let command = Command::new(["nft", "-j", "list", "set", set.family, set.table, set.name]);
    let out = host.run(&command)?;
    if !out.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("No such file or directory") || stderr.contains("does not exist") {
            return Ok(None);
        }
        return Err(HostError::Failed {
            command: command.display(),
            status: out.status,
            stderr: stderr.trim().to_string(),
        });
    }
    parse_elements(&out.stdout)
        .map(Some)
        .map_err(|e| HostError::Invalid(format!("cannot read nft's listing of set {}: {e}", set.name)))
}

fn ip(v: &serde_json::Value) -> Result<IpAddr, String> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{v} is not an address"))
}

fn last_of_prefix(addr: IpAddr, len: u8) -> Result<IpAddr, String> {
    Ok(match addr {
        IpAddr::V4(a) if len <= 32 => {
            let host = if len == 0 { u32::MAX } else { u32::MAX >> len };
            IpAddr::V4((u32::from(a) | host).into())
        }
        IpAddr::V6(a) if len <= 128 => {
            let host = if len == 0 { u128::MAX } else { u128::MAX >> len };
            IpAddr::V6((u128::from(a) | host).into())
        }
        _ => return Err(format!("prefix length {len} of {addr}")),
    })
}

/// Reads `nft -j list set …`: addresses, prefixes and ranges with their
/// timeout and expiry (pure).
pub fn parse_elements(json_text: &[u8]) -> Result<Vec<LiveElement>, String> {
    let v: serde_json::Value = serde_json::from_slice(json_text).map_err(|e| e.to_string())?;
    let items = v
        .get("nftables")
        .and_then(|n| n.as_array())
        .ok_or("no \"nftables\" array")?;
    let mut out = Vec::new();
    for item in items {
        let Some(set) = item.get("set") else { continue };
        let Some(elems) = set.get("elem").and_then(|e| e.as_array()) else {
            continue;
        };
        for e in elems {
            // A timed element is {"elem": {"val": …, "timeout": n, "expires": n}};
            // an untimed one is the value itself.
            let (val, timeout, expires) = match e.get("elem") {
                Some(inner) => (
                    inner.get("val").ok_or("an element without a value")?,
                    inner.get("timeout").and_then(|t| t.as_u64()),
                    inner.get("expires").and_then(|t| t.as_u64()),
                ),
                None => (e, None, None),
            };
            let (first, last) = if let Some(p) = val.get("prefix") {
                let addr = ip(&p["addr"])?;
                let len = p["len"].as_u64().ok_or("a prefix without a length")?;
                (addr, last_of_prefix(addr, len.min(255) as u8)?)
            } else if let Some(r) = val.get("range").and_then(|r| r.as_array()) {
                (
                    ip(r.first().ok_or("an empty range")?)?,
                    ip(r.get(1).ok_or("a range without an end")?)?,
                )
            } else {
                let a = ip(val)?;
                (a, a)
            };
            out.push(LiveElement {
                first,
                last,
                timeout_secs: timeout,
                expires_secs: expires,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: SetRef = SetRef {
        family: "inet",
        table: "preau",
        name: "room_cut_v4",
        ipv6: false,
    };
    const V6: SetRef = SetRef {
        family: "inet",
        table: "preau",
        name: "room_cut_v6",
        ipv6: true,
    };

    fn r(first: &str, last: &str, t: u64) -> TimedRange {
        TimedRange {
            first: first.parse().unwrap(),
            last: last.parse().unwrap(),
            timeout_secs: t,
        }
    }

    #[test]
    fn one_transaction_replaces_every_set() {
        let text = replace_text(&[
            (
                V4,
                vec![r("10.1.0.0", "10.1.0.255", 2700), r("10.1.1.5", "10.1.1.5", 3)],
            ),
            (V6, vec![]),
        ])
        .unwrap();
        assert_eq!(
            text,
            "flush set inet preau room_cut_v4\n\
             add element inet preau room_cut_v4 { 10.1.0.0-10.1.0.255 timeout 2700s, 10.1.1.5 timeout 3s }\n\
             flush set inet preau room_cut_v6\n"
        );
        let host = crate::host::RecordingHost::new();
        replace_elements(&host, &[(V6, vec![r("fd00::", "fd00::ffff", 60)])]).unwrap();
        assert_eq!(host.log(), vec!["run nft -f /dev/stdin"]);
    }

    #[test]
    fn bad_values_are_refused_before_nft_runs() {
        let bad_name = SetRef {
            family: "inet",
            table: "preau",
            name: "x; flush ruleset",
            ipv6: false,
        };
        for sets in [
            vec![(bad_name, vec![])],
            vec![(V4, vec![r("10.0.0.9", "10.0.0.1", 5)])],
            vec![(V4, vec![r("10.0.0.1", "fd00::1", 5)])],
            vec![(V4, vec![r("fd00::1", "fd00::2", 5)])],
            vec![(V4, vec![r("10.0.0.1", "10.0.0.1", 0)])],
        ] {
            let host = crate::host::RecordingHost::new();
            assert!(replace_elements(&host, &sets).is_err(), "{sets:?}");
            assert!(host.log().is_empty());
        }
    }

    #[test]
    fn nft_listings_are_read() {
        let json = br#"{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"set": {"family": "inet", "name": "room_cut_v4", "table": "preau", "type": "ipv4_addr", "handle": 2, "flags": ["interval", "timeout"], "elem": [{"elem": {"val": {"prefix": {"addr": "10.1.0.0", "len": 24}}, "timeout": 2700, "expires": 2699}}, {"elem": {"val": "10.1.1.5", "timeout": 3, "expires": 2}}, {"elem": {"val": {"range": ["10.2.0.0", "10.2.3.7"]}, "timeout": 60, "expires": 59}}, "10.9.9.9"]}}]}"#;
        let got = parse_elements(json).unwrap();
        let e = |a: &str, b: &str, t: Option<u64>, x: Option<u64>| LiveElement {
            first: a.parse().unwrap(),
            last: b.parse().unwrap(),
            timeout_secs: t,
            expires_secs: x,
        };
        assert_eq!(
            got,
            vec![
                e("10.1.0.0", "10.1.0.255", Some(2700), Some(2699)),
                e("10.1.1.5", "10.1.1.5", Some(3), Some(2)),
                e("10.2.0.0", "10.2.3.7", Some(60), Some(59)),
                e("10.9.9.9", "10.9.9.9", None, None),
            ]
        );
        let empty = br#"{"nftables": [{"set": {"name": "room_cut_v6", "type": "ipv6_addr"}}]}"#;
        assert_eq!(parse_elements(empty).unwrap(), vec![]);
        assert!(parse_elements(b"{}").is_err());
        assert!(parse_elements(br#"{"nftables": [{"set": {"elem": [{"elem": {"val": "x"}}]}}]}"#).is_err());
    }
}

//! The room cut: a room whose internet is off, or in exam mode, is cut
//! off from the internet by the firewall too, not only by the proxy —
//! otherwise a student machine still reaches the internet by any
//! protocol the firewall forwards without the proxy.
//!
//! The rendered table holds two timed sets, `room_cut_v4` and
//! `room_cut_v6` ([`super::render::ROOM_CUT_V4`]), and a forward rule
//! refusing what their addresses send out through the outside zone (the
//! appliance itself stays reachable: exam mode's whitelist goes through
//! the proxy on the gateway). The room overrides are the proxy's
//! (`proxy_exams`, both modes cut); a room's addresses are the ones the
//! proxy's rooms use (`[[proxy.sources]]`, and the zones).
//!
//! [`elements`] is the pure part: which address ranges, with which
//! timeouts, given the rooms, the overrides and the time. [`sync`]
//! replaces the sets' contents in one transaction through the host layer
//! ([`crate::host::nft`]), every element with the time left as its nft
//! timeout, so the kernel ends a cut by itself at its time even if
//! nothing runs. It runs when a teacher switches or ends a room (web,
//! `preau proxy exam`), after every firewall apply and rollback, at the
//! daemon's start and periodically in the daemon ([`Watcher`]): an apply,
//! a rollback or a reboot (the boot ruleset has empty sets) never loses
//! or extends a cut.

use crate::config::Config;
use crate::host::nft::{self, LiveElement, SetRef, TimedRange};
use crate::host::{Host, HostError};
use crate::modules::proxy::policy::Exam;
use crate::net::Cidr;
use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

/// The two sets in the `inet preau` table.
pub const SET_V4: SetRef = SetRef {
    family: "inet",
    table: "preau",
    name: super::render::ROOM_CUT_V4,
    ipv6: false,
};
pub const SET_V6: SetRef = SetRef {
    family: "inet",
    table: "preau",
    name: super::render::ROOM_CUT_V6,
    ipv6: true,
};

/// A room and its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub name: String,
    pub addresses: Vec<Cidr>,
}

/// The rooms a classroom override may name, with their addresses: the
/// `[[proxy.sources]]` groups, then the firewall's zones not shadowed by
/// one (the same list as the classroom page's). Addresses that do not
/// parse are left out (validation refuses them first).
pub fn rooms(config: &Config) -> Vec<Room> {
    let zones = crate::modules::proxy::zone_sources(config);
    config
        .proxy
        .sources
        .iter()
        .chain(
            zones
                .iter()
                .filter(|z| !config.proxy.sources.iter().any(|g| g.name == z.name)),
        )
        .map(|g| Room {
            name: g.name.clone(),
            addresses: g
                .addresses
                .iter()
                .filter_map(|a| Cidr::parse_network(a).ok())
                .collect(),
        })
        .collect()
}

/// The elements of both sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Elements {
    pub v4: Vec<TimedRange>,
    pub v6: Vec<TimedRange>,
}

impl Elements {
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}

fn bits(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn addr(v6: bool, n: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(n.into())
    } else {
        IpAddr::V4((n as u32).into())
    }
}

/// First and last address of a subnet, as numbers.
fn span(c: &Cidr) -> (u128, u128) {
    let width = if c.addr.is_ipv4() { 32 } else { 128 };
    let lo = bits(c.network());
    let host = if c.prefix == 0 {
        if width == 32 {
            u128::from(u32::MAX)
        } else {
            u128::MAX
        }
    } else {
        (u128::MAX >> (128 - width)) >> c.prefix
    };
    (lo, lo | host)
}

/// Disjoint, sorted ranges over `spans` (first, last, until), each with
/// the latest `until` of the spans that cover it; neighbours with the
/// same end are merged. nft refuses overlapping intervals in a set, and a
/// room inside a zone may be cut longer than the zone.
fn disjoint(spans: &[(u128, u128, i64)]) -> Vec<(u128, u128, i64)> {
    let mut bounds: Vec<u128> = Vec::new();
    for &(lo, hi, _) in spans {
        bounds.push(lo);
        if let Some(next) = hi.checked_add(1) {
            bounds.push(next);
        }
    }
    bounds.sort_unstable();
    bounds.dedup();
    let mut out: Vec<(u128, u128, i64)> = Vec::new();
    for (i, &lo) in bounds.iter().enumerate() {
        let hi = bounds.get(i + 1).map_or(u128::MAX, |n| n - 1);
        let until = spans
            .iter()
            .filter(|&&(a, b, _)| a <= lo && lo <= b)
            .map(|&(_, _, u)| u)
            .max();
        // Every span starts and ends on bounds: a segment is covered
        // whole or not at all.
        let Some(until) = until else { continue };
        match out.last_mut() {
            Some(last) if last.2 == until && last.1.checked_add(1) == Some(lo) => last.1 = hi,
            _ => out.push((lo, hi, until)),
        }
    }
    out
}

/// Which address ranges are cut, with which timeouts (seconds left), for
/// the overrides active at `now` (Unix seconds). Both modes cut: the
/// internet off, and exam mode (whose whitelist goes through the proxy on
/// the appliance, which the cut leaves reachable). An override of a room
/// that no longer exists cuts nothing.
pub fn elements(rooms: &[Room], overrides: &[Exam], now: i64) -> Elements {
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for o in overrides.iter().filter(|o| o.until > now) {
        let Some(room) = rooms.iter().find(|r| r.name == o.room) else {
            continue;
        };
        for c in &room.addresses {
            let (lo, hi) = span(c);
            if c.addr.is_ipv4() {
                v4.push((lo, hi, o.until));
            } else {
                v6.push((lo, hi, o.until));
            }
        }
    }
    let timed = |spans: &[(u128, u128, i64)], v6: bool| -> Vec<TimedRange> {
        disjoint(spans)
            .into_iter()
            .map(|(lo, hi, until)| TimedRange {
                first: addr(v6, lo),
                last: addr(v6, hi),
                timeout_secs: (until - now) as u64,
            })
            .collect()
    };
    Elements {
        v4: timed(&v4, false),
        v6: timed(&v6, true),
    }
}

/// What a [`sync`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synced {
    /// The firewall module is not enabled: the proxy alone applies
    /// overrides.
    Disabled,
    /// Not the running system (`--root` without `PREAU_FIREWALL_LIVE=1`):
    /// nothing is loaded into a kernel.
    NotLive,
    /// The sets hold these many ranges now.
    Loaded { ranges: usize },
}

/// Whether the firewall module is enabled.
pub fn enabled(config: &Config) -> bool {
    config.modules.enabled.iter().any(|m| m == "firewall")
}

/// Replaces the sets' contents with the cut of `overrides` at `now`, in
/// one nft transaction.
pub fn sync(host: &dyn Host, config: &Config, overrides: &[Exam], now: i64) -> Result<Synced, HostError> {
    if !enabled(config) {
        return Ok(Synced::Disabled);
    }
    if !super::apply::loads_kernel(host) {
        return Ok(Synced::NotLive);
    }
    let e = elements(&rooms(config), overrides, now);
    let ranges = e.v4.len() + e.v6.len();
    nft::replace_elements(host, &[(SET_V4, e.v4), (SET_V6, e.v6)])?;
    Ok(Synced::Loaded { ranges })
}

/// The overrides active at `now` in the database at `db` (real path): none
/// when there is no database yet.
pub fn active_overrides(db: &Path, now: i64) -> anyhow::Result<Vec<Exam>> {
    if !db.exists() {
        return Ok(Vec::new());
    }
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(Duration::from_secs(2))?;
    Ok(crate::modules::proxy::exams::active(&conn, now)?)
}

/// [`sync`] from the overrides stored in the database at `db`.
pub fn sync_from_db(host: &dyn Host, config: &Config, db: &Path, now: i64) -> anyhow::Result<Synced> {
    if !enabled(config) {
        return Ok(Synced::Disabled);
    }
    let overrides = active_overrides(db, now)?;
    Ok(sync(host, config, &overrides, now)?)
}

/// Unix seconds now.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// How often the daemon replaces the sets even when the overrides did not
/// change: a ruleset loaded behind its back (an apply by another process,
/// a rollback timer, the boot unit) gets its cuts back within this time.
pub const RESYNC: Duration = Duration::from_secs(10);

/// What a sync was made from: each override's room and end, the rooms.
type SyncedFrom = (Vec<(String, i64)>, Vec<Room>);

/// The daemon's side: called every couple of seconds, it syncs when the
/// overrides or the rooms changed, and at least every [`RESYNC`].
#[derive(Debug, Default)]
pub struct Watcher {
    last: Option<SyncedFrom>,
    at: Option<Instant>,
}

impl Watcher {
    /// One look; returns what was done when a sync ran.
    pub fn tick(&mut self, host: &dyn Host, config: &Config, db: &Path) -> Option<Result<Synced, String>> {
        if !enabled(config) {
            self.last = None;
            return None;
        }
        let now = now_unix();
        let overrides = match active_overrides(db, now) {
            Ok(o) => o,
            Err(e) => {
                // Keep the sets as they are (their timeouts still run).
                return Some(Err(format!("cannot read the room overrides: {e:#}")));
            }
        };
        let key: Vec<(String, i64)> = overrides.iter().map(|o| (o.room.clone(), o.until)).collect();
        let state = (key, rooms(config));
        let due = self.at.is_none_or(|t| t.elapsed() >= RESYNC);
        // A failure (no table loaded yet…) is retried at the next change
        // or after RESYNC, not at every tick.
        if !due && self.last.as_ref() == Some(&state) {
            return None;
        }
        let result = sync(host, config, &overrides, now).map_err(|e| e.to_string());
        self.at = Some(Instant::now());
        self.last = Some(state);
        Some(result)
    }
}

/// An element of the live sets, with the rooms whose addresses it covers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LiveCut {
    /// "10.1.0.0/24", "10.1.0.5" or "10.2.0.0-10.2.3.7".
    pub addresses: String,
    pub rooms: Vec<String>,
    pub timeout_secs: Option<u64>,
    pub expires_secs: Option<u64>,
}

/// A range as people write it: an address, a subnet, or first-last.
pub fn range_text(first: IpAddr, last: IpAddr) -> String {
    if first == last {
        return first.to_string();
    }
    let width = if first.is_ipv4() { 32 } else { 128 };
    for prefix in 0..=width {
        let c = Cidr { addr: first, prefix };
        if c.network() == first && span(&c).1 == bits(last) {
            return c.to_string();
        }
    }
    format!("{first}-{last}")
}

/// The live sets' elements, each with the rooms it covers — those of
/// `overrides` (the rooms switched now) when one covers it, else every
/// room it overlaps; `None` when the loaded table has no room-cut sets
/// (not applied yet, or an older ruleset).
pub fn live(host: &dyn Host, config: &Config, overrides: &[Exam]) -> Result<Option<Vec<LiveCut>>, HostError> {
    let all = rooms(config);
    let switched: Vec<Room> = all
        .iter()
        .filter(|r| overrides.iter().any(|o| o.room == r.name))
        .cloned()
        .collect();
    let mut out = Vec::new();
    let mut any = false;
    for set in [SET_V4, SET_V6] {
        let Some(elements) = nft::list_elements(host, &set)? else {
            continue;
        };
        any = true;
        out.extend(elements.iter().map(|e| {
            let d = describe(e, &switched);
            if d.rooms.is_empty() { describe(e, &all) } else { d }
        }));
    }
    Ok(any.then_some(out))
}

fn describe(e: &LiveElement, rooms: &[Room]) -> LiveCut {
    let (lo, hi) = (bits(e.first), bits(e.last));
    LiveCut {
        addresses: range_text(e.first, e.last),
        rooms: rooms
            .iter()
            .filter(|r| {
                r.addresses.iter().any(|c| {
                    let (a, b) = span(c);
                    c.addr.is_ipv4() == e.first.is_ipv4() && a <= hi && lo <= b
                })
            })
            .map(|r| r.name.clone())
            .collect(),
        timeout_secs: e.timeout_secs,
        expires_secs: e.expires_secs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::proxy::policy::ExamMode;

    fn room(name: &str, addrs: &[&str]) -> Room {
        Room {
            name: name.into(),
            addresses: addrs.iter().map(|a| Cidr::parse(a).unwrap()).collect(),
        }
    }

    fn exam(room: &str, until: i64, mode: ExamMode) -> Exam {
        Exam {
            room: room.into(),
            until,
            mode,
            allow: Vec::new(),
            by: "m.durand".into(),
        }
    }

    fn r(first: &str, last: &str, t: u64) -> TimedRange {
        TimedRange {
            first: first.parse().unwrap(),
            last: last.parse().unwrap(),
            timeout_secs: t,
        }
    }

    #[test]
    fn each_active_override_cuts_its_rooms_addresses_for_the_time_left() {
        let rooms = [
            room("salle-b12", &["10.1.12.0/24", "10.1.0.5", "fd00:12::/64"]),
            room("salle-b14", &["10.1.14.0/25"]),
            room("cdi", &["10.1.20.0/24"]),
        ];
        let now = 1_000_000;
        let overrides = [
            exam("salle-b12", now + 2700, ExamMode::Off),
            exam("salle-b14", now + 60, ExamMode::Whitelist),
            exam("cdi", now - 1, ExamMode::Off),
            exam("disparue", now + 60, ExamMode::Off),
        ];
        let e = elements(&rooms, &overrides, now);
        assert_eq!(
            e.v4,
            vec![
                r("10.1.0.5", "10.1.0.5", 2700),
                r("10.1.12.0", "10.1.12.255", 2700),
                r("10.1.14.0", "10.1.14.127", 60),
            ]
        );
        assert_eq!(e.v6, vec![r("fd00:12::", "fd00:12::ffff:ffff:ffff:ffff", 2700)]);
        assert!(elements(&rooms, &[], now).is_empty());
        assert!(elements(&rooms, &overrides, now + 5000).is_empty(), "all ended");
        // The same overrides later: shorter timeouts, never longer.
        let later = elements(&rooms, &overrides, now + 30);
        assert_eq!(later.v4[0].timeout_secs, 2670);
        assert_eq!(later.v4[2].timeout_secs, 30);
    }

    #[test]
    fn overlapping_rooms_give_disjoint_ranges_with_the_latest_end() {
        // A zone cut for 10 minutes, a room inside it for an hour.
        let rooms = [
            room("teaching", &["10.1.0.0/16"]),
            room("salle-b12", &["10.1.12.0/24"]),
            room("twice", &["10.1.12.0/24", "10.1.12.128/25"]),
        ];
        let now = 0;
        let e = elements(
            &rooms,
            &[
                exam("teaching", 600, ExamMode::Off),
                exam("salle-b12", 3600, ExamMode::Off),
            ],
            now,
        );
        assert_eq!(
            e.v4,
            vec![
                r("10.1.0.0", "10.1.11.255", 600),
                r("10.1.12.0", "10.1.12.255", 3600),
                r("10.1.13.0", "10.1.255.255", 600),
            ]
        );
        // Nested addresses of one room are merged into one range.
        let e = elements(&rooms, &[exam("twice", 60, ExamMode::Off)], now);
        assert_eq!(e.v4, vec![r("10.1.12.0", "10.1.12.255", 60)]);
        // The whole address space still works.
        let all = [room("tout", &["0.0.0.0/0", "::/0"])];
        let e = elements(&all, &[exam("tout", 5, ExamMode::Off)], now);
        assert_eq!(e.v4, vec![r("0.0.0.0", "255.255.255.255", 5)]);
        assert_eq!(e.v6, vec![r("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 5)]);
    }

    #[test]
    fn ranges_are_written_as_people_do() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(range_text(ip("10.1.0.0"), ip("10.1.0.255")), "10.1.0.0/24");
        assert_eq!(range_text(ip("10.1.0.5"), ip("10.1.0.5")), "10.1.0.5");
        assert_eq!(
            range_text(ip("10.1.0.0"), ip("10.1.11.255")),
            "10.1.0.0-10.1.11.255"
        );
        assert_eq!(range_text(ip("fd00::"), ip("fd00::ffff")), "fd00::/112");
        let e = LiveElement {
            first: ip("10.1.12.0"),
            last: ip("10.1.12.255"),
            timeout_secs: Some(60),
            expires_secs: Some(42),
        };
        let rooms = [
            room("salle-b12", &["10.1.12.0/24"]),
            room("teaching", &["10.1.0.0/16"]),
            room("autre", &["10.2.0.0/16"]),
        ];
        assert_eq!(
            describe(&e, &rooms),
            LiveCut {
                addresses: "10.1.12.0/24".into(),
                rooms: vec!["salle-b12".into(), "teaching".into()],
                timeout_secs: Some(60),
                expires_secs: Some(42),
            }
        );
    }

    #[test]
    fn sync_loads_one_transaction_only_where_the_firewall_runs() {
        let mut config = Config::default();
        config.proxy.sources = vec![crate::modules::proxy::settings::SourceGroup {
            name: "salle-b12".into(),
            addresses: vec!["10.1.12.0/24".into()],
            rooms: vec![],
        }];
        let live = crate::host::RecordingHost::new();
        let overrides = [exam("salle-b12", 100, ExamMode::Off)];
        assert_eq!(sync(&live, &config, &overrides, 0).unwrap(), Synced::Disabled);
        config.modules.enabled = vec!["firewall".into()];
        assert_eq!(
            sync(&live, &config, &overrides, 0).unwrap(),
            Synced::Loaded { ranges: 1 }
        );
        assert_eq!(live.log(), vec!["run nft -f /dev/stdin"]);
        // Under --root (without PREAU_FIREWALL_LIVE=1) no kernel is touched.
        let dir = tempfile::tempdir().unwrap();
        let offline = crate::host::RealHost::new(dir.path());
        assert_eq!(sync(&offline, &config, &overrides, 0).unwrap(), Synced::NotLive);
    }

    #[test]
    fn the_daemon_syncs_at_start_on_changes_and_not_at_every_tick() {
        let mut config = Config::default();
        config.modules.enabled = vec!["firewall".into()];
        let host = crate::host::RecordingHost::new();
        let db = Path::new("/nonexistent/preau.db");
        let mut w = Watcher::default();
        assert_eq!(
            w.tick(&host, &config, db),
            Some(Ok(Synced::Loaded { ranges: 0 })),
            "at start"
        );
        assert_eq!(w.tick(&host, &config, db), None, "nothing changed");
        config.proxy.sources = vec![crate::modules::proxy::settings::SourceGroup {
            name: "salle-b12".into(),
            addresses: vec!["10.1.12.0/24".into()],
            rooms: vec![],
        }];
        assert!(w.tick(&host, &config, db).is_some(), "the rooms changed");
        assert_eq!(host.log().len(), 2);
        // A failure is not retried at every tick either.
        host.fail_on("nft");
        let mut w = Watcher::default();
        assert!(matches!(w.tick(&host, &config, db), Some(Err(_))));
        assert_eq!(w.tick(&host, &config, db), None);
        config.modules.enabled.clear();
        assert_eq!(w.tick(&host, &config, db), None, "disabled");
    }
}

//! Sign-in throttling, per account and per address (the TCP peer, never
//! a header). Failures are counted in a window; past the limit, sign-in is
//! refused until the window ends, even with the right password. A
//! successful sign-in clears the account's count. In memory: a restart
//! forgets, which an attacker cannot trigger.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Failures allowed per account in [`WINDOW`].
pub const ACCOUNT_LIMIT: u32 = 5;
/// Failures allowed per address in [`WINDOW`] (a classroom shares one
/// address behind NAT less often than one might think, but leave room).
pub const ADDRESS_LIMIT: u32 = 30;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Entries kept before old ones are swept.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Count {
    failures: u32,
    first: Instant,
}

/// The counters.
#[derive(Debug, Default)]
pub struct Throttle {
    accounts: HashMap<String, Count>,
    addresses: HashMap<IpAddr, Count>,
}

fn live(c: Option<&Count>, now: Instant) -> u32 {
    match c {
        Some(c) if now.duration_since(c.first) < WINDOW => c.failures,
        _ => 0,
    }
}

fn bump<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Count>, key: K, now: Instant) {
    if map.len() >= MAX_ENTRIES {
        map.retain(|_, c| now.duration_since(c.first) < WINDOW);
    }
    let c = map.entry(key).or_insert(Count {
        failures: 0,
        first: now,
    });
    if now.duration_since(c.first) >= WINDOW {
        *c = Count {
            failures: 0,
            first: now,
        };
    }
    c.failures += 1;
}

impl Throttle {
    /// Whether a sign-in of `login` from `address` may be tried now.
    pub fn allowed(&self, login: &str, address: IpAddr, now: Instant) -> bool {
        live(self.accounts.get(&login.to_lowercase()), now) < ACCOUNT_LIMIT
            && live(self.addresses.get(&address), now) < ADDRESS_LIMIT
    }

    pub fn failed(&mut self, login: &str, address: IpAddr, now: Instant) {
        bump(&mut self.accounts, login.to_lowercase(), now);
        bump(&mut self.addresses, address, now);
    }

    pub fn succeeded(&mut self, login: &str) {
        self.accounts.remove(&login.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_an_account_after_repeated_failures_then_forgets() {
        let mut t = Throttle::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let now = Instant::now();
        for _ in 0..ACCOUNT_LIMIT {
            assert!(t.allowed("lea", a, now));
            t.failed("lea", a, now);
        }
        assert!(!t.allowed("lea", a, now));
        assert!(
            !t.allowed("LEA", "10.0.0.2".parse().unwrap(), now),
            "per account, any address"
        );
        assert!(
            t.allowed("tom", a, now),
            "other accounts from the same address still may"
        );
        assert!(t.allowed("lea", a, now + WINDOW));
    }

    #[test]
    fn locks_an_address_trying_many_accounts() {
        let mut t = Throttle::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let now = Instant::now();
        for i in 0..ADDRESS_LIMIT {
            t.failed(&format!("user{i}"), a, now);
        }
        assert!(!t.allowed("fresh", a, now));
        assert!(t.allowed("fresh", "10.0.0.2".parse().unwrap(), now));
    }

    #[test]
    fn success_clears_the_account() {
        let mut t = Throttle::default();
        let a: IpAddr = "::1".parse().unwrap();
        let now = Instant::now();
        for _ in 0..ACCOUNT_LIMIT - 1 {
            t.failed("lea", a, now);
        }
        t.succeeded("lea");
        t.failed("lea", a, now);
        assert!(t.allowed("lea", a, now));
    }
}

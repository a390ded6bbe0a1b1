//! Space used per share and per person (a `du`-like walk of the shares
//! root), with quota alerts. Works on any filesystem, quotas or not.

use super::layout::Directory;
use super::settings::{Role, SharesSettings};
use crate::host::Host;
use crate::modules::{Health, State};
use serde::Serialize;
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// One share's usage.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ShareUsage {
    pub share: String,
    pub bytes: u64,
    pub files: u64,
}

/// Whether the shares' usage was already sampled on `day` (YYYY-MM-DD).
pub fn sampled(conn: &rusqlite::Connection, day: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM share_usage_samples WHERE day = ?1)",
        [day],
        |r| r.get(0),
    )
}

/// Records the day's sample of every share's usage (the first of the
/// day is kept); returns how many shares were recorded.
pub fn record_sample(
    conn: &rusqlite::Connection,
    day: &str,
    report: &UsageReport,
) -> rusqlite::Result<usize> {
    let mut n = 0;
    for s in &report.shares {
        n += conn.execute(
            "INSERT OR IGNORE INTO share_usage_samples (day, share, bytes, files) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![day, s.share, s.bytes as i64, s.files as i64],
        )?;
    }
    Ok(n)
}

/// One person's usage of their personal folder.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PersonUsage {
    pub login: String,
    pub role: Role,
    pub bytes: u64,
    /// The role's quota in bytes; 0: none.
    pub quota_bytes: u64,
    /// Percent of the quota used (0 without a quota).
    pub percent: u32,
}

/// What `preau shares status` reports.
#[derive(Debug, Clone, Serialize)]
pub struct UsageReport {
    pub root: String,
    pub root_exists: bool,
    pub shares: Vec<ShareUsage>,
    pub total_bytes: u64,
    /// Everyone with a personal folder, biggest first.
    pub people: Vec<PersonUsage>,
    /// People at or above the alert threshold of their quota.
    pub alerts: Vec<PersonUsage>,
    pub alert_percent: u8,
}

#[derive(Default, Clone, Copy)]
struct Sum {
    bytes: u64,
    files: u64,
}

/// Adds up everything under `dir` (allocated size, like `du`), never
/// following symbolic links.
fn walk(dir: &Path, sum: &mut Sum) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(m) = e.path().symlink_metadata() else {
            continue;
        };
        sum.bytes += m.blocks() * 512;
        if m.is_dir() {
            walk(&e.path(), sum);
        } else {
            sum.files += 1;
        }
    }
}

/// Measures the shares under the settings' root.
pub fn report(host: &dyn Host, s: &SharesSettings, dir: &Directory) -> UsageReport {
    let root = host.real_path(Path::new(&s.root));
    let mut shares = Vec::new();
    let mut perso: HashMap<String, u64> = HashMap::new();
    for share in [
        "perso",
        "classes",
        "groupes",
        "commun",
        "professeurs",
        "administratif",
    ] {
        let base = root.join(share);
        let mut total = Sum::default();
        if share == "perso" {
            if let Ok(entries) = std::fs::read_dir(&base) {
                for e in entries.flatten() {
                    let mut one = Sum::default();
                    walk(&e.path(), &mut one);
                    total.bytes += one.bytes;
                    total.files += one.files;
                    perso.insert(e.file_name().to_string_lossy().into_owned(), one.bytes);
                }
            }
        } else {
            walk(&base, &mut total);
        }
        shares.push(ShareUsage {
            share: share.into(),
            bytes: total.bytes,
            files: total.files,
        });
    }
    let mut people: Vec<PersonUsage> = dir
        .people
        .iter()
        .map(|p| {
            let bytes = perso.get(&p.login).copied().unwrap_or(0);
            let quota_bytes = s.quotas.of(p.role) * 1024 * 1024;
            let percent = if s.quotas.enabled && quota_bytes > 0 {
                (bytes.saturating_mul(100) / quota_bytes) as u32
            } else {
                0
            };
            PersonUsage {
                login: p.login.clone(),
                role: p.role,
                bytes,
                quota_bytes: if s.quotas.enabled { quota_bytes } else { 0 },
                percent,
            }
        })
        .collect();
    people.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.login.cmp(&b.login)));
    let alerts = people
        .iter()
        .filter(|p| p.quota_bytes > 0 && p.percent >= s.quotas.alert_percent as u32)
        .cloned()
        .collect();
    UsageReport {
        root: s.root.clone(),
        root_exists: root.is_dir(),
        total_bytes: shares.iter().map(|x| x.bytes).sum(),
        shares,
        people,
        alerts,
        alert_percent: s.quotas.alert_percent,
    }
}

/// One person's personal share (`perso/<login>`) and quota.
pub fn of_person(host: &dyn Host, s: &SharesSettings, login: &str, role: Role) -> PersonUsage {
    let mut sum = Sum::default();
    if super::layout::safe_login(login) {
        walk(&host.real_path(&super::layout::perso(s, login)), &mut sum);
    }
    let quota_bytes = if s.quotas.enabled {
        s.quotas.of(role) * 1024 * 1024
    } else {
        0
    };
    PersonUsage {
        login: login.to_string(),
        role,
        bytes: sum.bytes,
        quota_bytes,
        percent: sum
            .bytes
            .saturating_mul(100)
            .checked_div(quota_bytes)
            .unwrap_or(0) as u32,
    }
}

impl PersonUsage {
    /// For people (French): "12.3 Mio utilisés sur 500.0 Mio (2 %)".
    pub fn line_fr(&self) -> String {
        if self.quota_bytes > 0 {
            format!(
                "{} utilisés sur {} ({} %)",
                human(self.bytes),
                human(self.quota_bytes),
                self.percent
            )
        } else {
            format!("{} utilisés (pas de quota)", human(self.bytes))
        }
    }
}

/// Bytes for people: "12.3 Mio".
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["o", "Kio", "Mio", "Gio", "Tio"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes} o")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

impl UsageReport {
    /// The module's health from this report.
    pub fn health(&self) -> Health {
        let mut details = Vec::new();
        let mut state = State::Ok;
        if !self.root_exists {
            state = State::Degraded;
            details.push(format!(
                "{} does not exist yet (run `preau apply shares`)",
                self.root
            ));
        }
        details.push(format!("total: {}", human(self.total_bytes)));
        for s in &self.shares {
            details.push(format!("{}: {} in {} file(s)", s.share, human(s.bytes), s.files));
        }
        if !self.alerts.is_empty() {
            state = State::Degraded;
            for a in &self.alerts {
                details.push(format!(
                    "quota alert: {} uses {} ({}% of {})",
                    a.login,
                    human(a.bytes),
                    a.percent,
                    human(a.quota_bytes)
                ));
            }
        }
        Health {
            module: "shares",
            state,
            details,
        }
    }

    /// The report as text, `top` biggest users.
    pub fn render(&self, top: usize) -> String {
        let mut out = format!("Shares under {}: {}\n", self.root, human(self.total_bytes));
        for s in &self.shares {
            out.push_str(&format!(
                "  {:<14} {:>10}  {} file(s)\n",
                s.share,
                human(s.bytes),
                s.files
            ));
        }
        out.push_str(&format!(
            "Biggest users ({} of {}):\n",
            top.min(self.people.len()),
            self.people.len()
        ));
        for p in self.people.iter().take(top) {
            let quota = if p.quota_bytes > 0 {
                format!("{}% of {}", p.percent, human(p.quota_bytes))
            } else {
                "no quota".into()
            };
            out.push_str(&format!("  {:<22} {:>10}  {quota}\n", p.login, human(p.bytes)));
        }
        if self.alerts.is_empty() {
            out.push_str(&format!("No quota alert (threshold {}%).\n", self.alert_percent));
        } else {
            out.push_str(&format!("Quota alerts (at or above {}%):\n", self.alert_percent));
            for a in &self.alerts {
                out.push_str(&format!(
                    "  {:<22} {:>10}  {}%\n",
                    a.login,
                    human(a.bytes),
                    a.percent
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_persons_usage_and_quota_in_french() {
        let tmp = tempfile::tempdir().unwrap();
        let host = crate::host::RealHost::new(tmp.path());
        let mut s = SharesSettings::default();
        let home = tmp.path().join("srv/preau/perso/lea.martin/devoirs");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(home.join("a.txt"), vec![b'x'; 2 * 1024 * 1024]).unwrap();
        let u = of_person(&host, &s, "lea.martin", Role::Student);
        // Files, and the folders' own blocks.
        assert!(
            (2 * 1024 * 1024..2 * 1024 * 1024 + 65536).contains(&u.bytes),
            "{}",
            u.bytes
        );
        assert_eq!(u.quota_bytes, 500 * 1024 * 1024);
        assert_eq!(u.percent, 0);
        assert!(
            u.line_fr().contains("utilisés sur") && u.line_fr().ends_with("(0 %)"),
            "{}",
            u.line_fr()
        );
        s.quotas.enabled = false;
        let u = of_person(&host, &s, "lea.martin", Role::Student);
        assert!(u.line_fr().ends_with("(pas de quota)"));
        assert_eq!(of_person(&host, &s, "../etc", Role::Student).bytes, 0);
    }
    use crate::host::RealHost;

    #[test]
    fn sizes_per_share_and_person_with_alerts() {
        let tmp = tempfile::tempdir().unwrap();
        let host = RealHost::new(tmp.path());
        let mut s = SharesSettings::default();
        s.quotas.student_mib = 1;
        let root = tmp.path().join("srv/preau");
        std::fs::create_dir_all(root.join("perso/alice.martin/devoirs")).unwrap();
        std::fs::create_dir_all(root.join("perso/bob.durand")).unwrap();
        std::fs::create_dir_all(root.join("classes/6A/travail")).unwrap();
        std::fs::write(root.join("perso/alice.martin/devoirs/big"), vec![1u8; 1_000_000]).unwrap();
        std::fs::write(root.join("perso/bob.durand/small"), vec![1u8; 10_000]).unwrap();
        std::fs::write(root.join("classes/6A/travail/x"), vec![1u8; 100_000]).unwrap();
        let r = report(&host, &s, &super::super::layout::tests::school());
        assert!(r.root_exists);
        assert_eq!(r.people[0].login, "alice.martin");
        assert!(r.people[0].bytes >= 1_000_000);
        assert_eq!(r.alerts.len(), 1);
        assert_eq!(r.alerts[0].login, "alice.martin");
        let perso = r.shares.iter().find(|x| x.share == "perso").unwrap();
        assert_eq!(perso.files, 2);
        assert!(r.render(5).contains("alice.martin"));
        assert_eq!(r.health().state, State::Degraded);
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(10), "10 o");
        assert_eq!(human(1536), "1.5 Kio");
        assert_eq!(human(10 * 1024 * 1024), "10.0 Mio");
    }
}

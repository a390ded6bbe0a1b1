//! Daily summaries of the connection logs, for the statistics page: the
//! counts of one UTC day (allowed, denied, errors, denied per category —
//! counts of requests only, never a login, an address or a host) stored
//! in the store (`proxy_day_counts`, `proxy_day_categories`, migration
//! "stats"), so that a school year of statistics sums about 200 rows
//! instead of streaming tens of millions of log lines.
//!
//! Who writes them: the `serve` daemon, every hour ([`summarise`]: each
//! finished day whose summary is missing or stale), and the statistics
//! page itself for the finished days of its period it finds without one
//! ([`filtering_counts`]: read once, then stored). A day is finished
//! [`GRACE_SECONDS`] after its UTC midnight; today (and any day not
//! finished) is always read from its file, so the page is exact up to
//! the last line written.
//!
//! Crash-safe and idempotent: a day's summary is written in one
//! transaction that replaces the previous one, so summarising a day twice
//! counts it once, and a crash leaves the old summary or the new one.
//! Each summary records the size and modification time of the file it
//! came from; a file that changed since (a line appended late, a file
//! restored) is read again and its summary replaced.
//!
//! Retention: the summaries hold no personal data, so they outlive the
//! raw logs: a summary is used when its file has been deleted by the
//! logs' retention, and is deleted itself after [`keep_days`] (three
//! years, the longest period the page shows, or the logs' own retention
//! when that is longer).

use super::log::{self, DayCounts, FilteringCounts, Tally, day_name, parse_date};
use crate::store::Store;
use rusqlite::params;
use std::collections::HashMap;
use std::path::Path;

/// Seconds after a UTC midnight before the day before it is taken as
/// finished (the log writer may still flush its last lines).
pub const GRACE_SECONDS: i64 = 300;

/// Days a summary is kept at least (three years).
pub const MIN_KEEP_DAYS: u32 = 3 * 366;

/// Days summaries are kept, for logs kept `log_retention_days`: at least
/// [`MIN_KEEP_DAYS`], and never less than the raw logs.
pub fn keep_days(log_retention_days: u32) -> u32 {
    MIN_KEEP_DAYS.max(log_retention_days.saturating_add(1))
}

/// What a summary was made from: its file's length and modification
/// time (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub bytes: i64,
    pub mtime: i64,
}

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt;
        Stamp {
            bytes: i64::try_from(meta.len()).unwrap_or(i64::MAX),
            mtime: meta.mtime(),
        }
    }
}

/// Whether the UTC day `day` (days since the epoch) is finished at `now`
/// (seconds since the epoch): its file gets no more lines.
pub fn finished(day: i64, now: i64) -> bool {
    now >= (day + 1) * 86400 + GRACE_SECONDS
}

/// Where a day's counts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Its summary.
    Summary,
    /// Its file, then stored as its summary when `store`.
    File { store: bool },
    /// Neither: nothing logged that day.
    Nothing,
}

/// Where the counts of a day come from (pure): its summary when the file
/// is the one it was made from or has been deleted since (retention);
/// else the file, stored when the day is finished.
pub fn source(summary: Option<Stamp>, file: Option<Stamp>, finished: bool) -> Source {
    match (summary, file) {
        (Some(_), None) => Source::Summary,
        (Some(s), Some(f)) if s == f => Source::Summary,
        (_, Some(_)) => Source::File { store: finished },
        (None, None) => Source::Nothing,
    }
}

/// The stored summaries of the days `from..=to` (`YYYY-MM-DD`).
fn load(store: &Store, from: &str, to: &str) -> rusqlite::Result<HashMap<String, (Stamp, DayCounts)>> {
    let conn = store.conn();
    let mut out: HashMap<String, (Stamp, DayCounts)> = HashMap::new();
    let mut st = conn.prepare_cached(
        "SELECT day, allowed, denied, errors, file_bytes, file_mtime FROM proxy_day_counts
         WHERE day BETWEEN ?1 AND ?2",
    )?;
    let rows = st.query_map([from, to], |r| {
        Ok((
            r.get::<_, String>(0)?,
            Stamp {
                bytes: r.get(4)?,
                mtime: r.get(5)?,
            },
            DayCounts {
                allowed: r.get::<_, i64>(1)?.max(0) as u64,
                denied: r.get::<_, i64>(2)?.max(0) as u64,
                errors: r.get::<_, i64>(3)?.max(0) as u64,
                denied_by_category: Vec::new(),
            },
        ))
    })?;
    for row in rows {
        let (day, stamp, counts) = row?;
        out.insert(day, (stamp, counts));
    }
    let mut st = conn.prepare_cached(
        "SELECT day, category, denied FROM proxy_day_categories WHERE day BETWEEN ?1 AND ?2
         ORDER BY day, category",
    )?;
    let rows = st.query_map([from, to], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (day, cat, n) = row?;
        if let Some((_, c)) = out.get_mut(&day) {
            c.denied_by_category.push((cat, n.max(0) as u64));
        }
    }
    Ok(out)
}

/// Stores the summaries of `days` (name, file stamp, counts), each in
/// its own transaction replacing any previous summary of that day.
pub fn write(store: &mut Store, days: &[(String, Stamp, DayCounts)], now: i64) -> rusqlite::Result<()> {
    for (day, stamp, c) in days {
        store.write(|tx| {
            tx.execute("DELETE FROM proxy_day_categories WHERE day = ?1", [day])?;
            tx.execute("DELETE FROM proxy_day_counts WHERE day = ?1", [day])?;
            let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
            tx.execute(
                "INSERT INTO proxy_day_counts (day, allowed, denied, errors, file_bytes, file_mtime, summarised_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![day, n(c.allowed), n(c.denied), n(c.errors), stamp.bytes, stamp.mtime, now],
            )?;
            let mut ins = tx.prepare_cached(
                "INSERT INTO proxy_day_categories (day, category, denied) VALUES (?1, ?2, ?3)",
            )?;
            for (cat, d) in &c.denied_by_category {
                ins.execute(params![day, cat, n(*d)])?;
            }
            Ok::<_, rusqlite::Error>(())
        })?;
    }
    Ok(())
}

/// Opens the daily file of `name` in `dir` with its stamp; None when
/// there is none.
fn open_day(dir: &Path, name: &str) -> std::io::Result<Option<(std::fs::File, Stamp)>> {
    match std::fs::File::open(dir.join(format!("{name}.log"))) {
        Ok(f) => {
            let stamp = Stamp::of(&f.metadata()?);
            Ok(Some((f, stamp)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The web filtering's counts of the UTC days `from..=to` (`YYYY-MM-DD`,
/// at most `max_days` days) at `now` (seconds since the epoch): the
/// stored summaries of the days that have one ([`source`]), the daily
/// files of `dir` for the others. The finished days read from their file
/// are summarised on the way (best effort: a summary that cannot be
/// stored is logged, the counts are right anyway).
pub fn filtering_counts(
    store: &mut Store,
    dir: &Path,
    from: &str,
    to: &str,
    max_days: i64,
    now: i64,
) -> anyhow::Result<FilteringCounts> {
    let (Some(first), Some(last)) = (parse_date(from), parse_date(to)) else {
        anyhow::bail!("bad date");
    };
    let last = last.min(first + max_days);
    let summaries = load(store, &day_name(first), &day_name(last))?;
    let mut tally = Tally::default();
    let mut new = Vec::new();
    for day in first..=last {
        let name = day_name(day);
        let stored = summaries.get(&name);
        let file = open_day(dir, &name)?;
        match source(
            stored.map(|s| s.0),
            file.as_ref().map(|f| f.1),
            finished(day, now),
        ) {
            Source::Summary => {
                if let Some((_, c)) = stored {
                    tally.add(c, true);
                }
            }
            Source::File { store } => {
                if let Some((f, stamp)) = file {
                    let c = log::count_day(f, &name)?;
                    tally.add(&c, false);
                    if store {
                        new.push((name, stamp, c));
                    }
                }
            }
            Source::Nothing => {}
        }
    }
    if !new.is_empty()
        && let Err(e) = write(store, &new, now)
    {
        ::log::warn!("proxy: cannot store the daily summaries of the logs: {e}");
    }
    Ok(tally.finish())
}

/// The daemon's pass (every hour): summarises every finished day of `dir`
/// whose summary is missing or stale, then deletes the summaries older
/// than `keep_days` days. Returns the days summarised.
pub fn summarise(store: &mut Store, dir: &Path, now: i64, keep_days: u32) -> anyhow::Result<usize> {
    let mut days: Vec<(i64, String)> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let stem = name.strip_suffix(".log")?.to_string();
                parse_date(&stem).map(|d| (d, stem))
            })
            .filter(|(d, _)| finished(*d, now))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    days.sort();
    let mut done = 0;
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        let stored = load(store, &first.1, &last.1)?;
        for (_, name) in &days {
            let Some((f, stamp)) = open_day(dir, name)? else {
                continue;
            };
            if let Source::File { store: true } = source(stored.get(name).map(|s| s.0), Some(stamp), true) {
                let c = log::count_day(f, name)?;
                write(store, &[(name.clone(), stamp, c)], now)?;
                done += 1;
            }
        }
    }
    let today = now.div_euclid(86400);
    let oldest = day_name(today - i64::from(keep_days));
    store.write(|tx| tx.execute("DELETE FROM proxy_day_counts WHERE day < ?1", [&oldest]))?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::proxy::log::{Entry, NO_CATEGORY};

    fn line(time: &str, decision: &str, category: &str) -> String {
        Entry {
            time: time.into(),
            source: "10.0.0.5:40000".into(),
            user: "lea".into(),
            host: "h.test".into(),
            status: 200,
            decision: decision.into(),
            category: category.into(),
            ..Default::default()
        }
        .line()
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("preau.db")).unwrap();
        (dir, store)
    }

    /// 2026-11-28 00:00 UTC.
    const D28: i64 = 20785 * 86400;

    fn logs(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("2026-11-27.log"),
            [
                line("2026-11-27T08:00:00.000Z", "allow", ""),
                line("2026-11-27T08:00:01.000Z", "deny", "adult"),
                line("2026-11-27T08:00:02.000Z", "deny", "games"),
                line("2026-11-27T08:00:03.000Z", "deny", ""),
            ]
            .concat(),
        )
        .unwrap();
        std::fs::write(
            dir.join("2026-11-28.log"),
            [
                line("2026-11-28T09:00:00.000Z", "allow", ""),
                line("2026-11-28T09:00:01.000Z", "deny", "games"),
                line("2026-11-28T09:00:02.000Z", "error", ""),
            ]
            .concat(),
        )
        .unwrap();
    }

    fn summaries(store: &Store) -> Vec<(String, i64, i64)> {
        let mut st = store
            .conn()
            .prepare("SELECT day, denied, (SELECT count(*) FROM proxy_day_categories c WHERE c.day = d.day) FROM proxy_day_counts d ORDER BY day")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn where_a_day_comes_from() {
        let s = Stamp { bytes: 10, mtime: 5 };
        let grown = Stamp { bytes: 12, mtime: 6 };
        assert_eq!(source(Some(s), Some(s), true), Source::Summary);
        assert_eq!(
            source(Some(s), None, true),
            Source::Summary,
            "file deleted by retention"
        );
        assert_eq!(source(Some(s), Some(grown), true), Source::File { store: true });
        assert_eq!(source(None, Some(s), true), Source::File { store: true });
        assert_eq!(source(None, Some(s), false), Source::File { store: false });
        assert_eq!(source(None, None, true), Source::Nothing);
        // A day is finished five minutes after its UTC midnight.
        assert!(!finished(20785, D28 + 86400 + GRACE_SECONDS - 1));
        assert!(finished(20785, D28 + 86400 + GRACE_SECONDS));
        assert!(!finished(20785, D28 + 3600));
        assert_eq!(keep_days(365), MIN_KEEP_DAYS);
        assert_eq!(keep_days(3650), 3651);
    }

    #[test]
    fn summaries_sum_like_the_raw_files_and_today_is_read_raw() {
        let (tmp, mut store) = store();
        let dir = tmp.path().join("proxy");
        logs(&dir);
        // At 10:00 on the 28th: the 27th is finished, the 28th is today.
        let now = D28 + 10 * 3600;
        let raw = log::filtering_counts(&dir, "2026-11-26", "2026-11-28", 100).unwrap();
        let first = filtering_counts(&mut store, &dir, "2026-11-26", "2026-11-28", 100, now).unwrap();
        assert_eq!(
            (first.allowed, first.denied, first.errors),
            (raw.allowed, raw.denied, raw.errors)
        );
        assert_eq!(first.denied_by_category, raw.denied_by_category);
        assert_eq!(
            first.denied_by_category,
            vec![
                ("games".to_string(), 2),
                (NO_CATEGORY.to_string(), 1),
                ("adult".to_string(), 1)
            ]
        );
        assert_eq!((first.days_read, first.days_summarised), (2, 0));
        // Only the finished day was summarised on the way.
        assert_eq!(summaries(&store), vec![("2026-11-27".to_string(), 3, 3)]);
        // The second load takes the 27th from its summary, today raw.
        let second = filtering_counts(&mut store, &dir, "2026-11-26", "2026-11-28", 100, now).unwrap();
        assert_eq!((second.days_read, second.days_summarised), (2, 1));
        assert_eq!(
            (
                second.allowed,
                second.denied,
                second.errors,
                second.denied_by_category.clone()
            ),
            (
                first.allowed,
                first.denied,
                first.errors,
                first.denied_by_category.clone()
            )
        );
        // Today grows: the page sees the new line at once.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join("2026-11-28.log"))
            .unwrap();
        std::io::Write::write_all(
            &mut f,
            line("2026-11-28T11:00:00.000Z", "deny", "adult").as_bytes(),
        )
        .unwrap();
        let third = filtering_counts(&mut store, &dir, "2026-11-28", "2026-11-28", 100, now + 3600).unwrap();
        assert_eq!((third.denied, third.days_summarised), (2, 0));
        assert_eq!(summaries(&store).len(), 1, "today is never stored");
    }

    #[test]
    fn summarising_twice_counts_once_and_a_changed_file_is_read_again() {
        let (tmp, mut store) = store();
        let dir = tmp.path().join("proxy");
        logs(&dir);
        // Two days later: both days are finished.
        let now = D28 + 2 * 86400;
        assert_eq!(summarise(&mut store, &dir, now, MIN_KEEP_DAYS).unwrap(), 2);
        assert_eq!(summarise(&mut store, &dir, now, MIN_KEEP_DAYS).unwrap(), 0);
        // The page's lazy pass over summarised days writes nothing more.
        let c = filtering_counts(&mut store, &dir, "2026-11-27", "2026-11-28", 100, now).unwrap();
        assert_eq!((c.allowed, c.denied, c.errors, c.days_summarised), (2, 4, 1, 2));
        // Summaries written again over themselves (a crash between two
        // passes, a page and the daemon at once) still count each day once.
        let again: Vec<_> = ["2026-11-27", "2026-11-28"]
            .iter()
            .map(|d| {
                let (f, stamp) = open_day(&dir, d).unwrap().unwrap();
                (d.to_string(), stamp, log::count_day(f, d).unwrap())
            })
            .collect();
        write(&mut store, &again, now).unwrap();
        write(&mut store, &again, now).unwrap();
        let c2 = filtering_counts(&mut store, &dir, "2026-11-27", "2026-11-28", 100, now).unwrap();
        assert_eq!(c2, c);
        assert_eq!(summaries(&store).len(), 2);
        // A line appended late to the 27th: its summary is stale, read again.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join("2026-11-27.log"))
            .unwrap();
        std::io::Write::write_all(
            &mut f,
            line("2026-11-27T23:59:59.999Z", "deny", "adult").as_bytes(),
        )
        .unwrap();
        drop(f);
        let c3 = filtering_counts(&mut store, &dir, "2026-11-27", "2026-11-28", 100, now).unwrap();
        assert_eq!((c3.denied, c3.days_summarised), (5, 1));
        assert_eq!(
            summarise(&mut store, &dir, now, MIN_KEEP_DAYS).unwrap(),
            0,
            "the page stored it"
        );
        assert_eq!(summaries(&store)[0], ("2026-11-27".to_string(), 4, 3));
    }

    #[test]
    fn summaries_outlive_the_raw_logs_then_go() {
        let (tmp, mut store) = store();
        let dir = tmp.path().join("proxy");
        logs(&dir);
        let now = D28 + 2 * 86400;
        summarise(&mut store, &dir, now, MIN_KEEP_DAYS).unwrap();
        // The logs' retention deleted the files: the summaries remain.
        std::fs::remove_dir_all(&dir).unwrap();
        let c = filtering_counts(&mut store, &dir, "2026-11-01", "2026-11-30", 100, now).unwrap();
        assert_eq!(
            (c.allowed, c.denied, c.errors, c.days_read, c.days_summarised),
            (2, 4, 1, 2, 2)
        );
        // Three years on, the daemon deletes them (categories with them).
        let later = now + i64::from(MIN_KEEP_DAYS + 2) * 86400;
        assert_eq!(summarise(&mut store, &dir, later, MIN_KEEP_DAYS).unwrap(), 0);
        assert!(summaries(&store).is_empty());
        let left: i64 = store
            .conn()
            .query_row("SELECT count(*) FROM proxy_day_categories", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
        // Bad dates are an error, nothing is written.
        assert!(filtering_counts(&mut store, &dir, "hier", "2026-11-30", 10, now).is_err());
    }
}

//! Connection logs: one line per request or tunnel, in daily files
//! `<log_dir>/proxy/YYYY-MM-DD.log` (UTC dates), tab-separated:
//!
//! `time  source  user  method  host  path  status  bytes_up  bytes_down  decision  policy  category  mode`
//!
//! `-` stands for an empty field. Files older than the retention period
//! are deleted when the writer starts and at each new day. Lines are
//! written by one task fed through a channel, so that a slow disk never
//! holds a request.

use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One logged request or tunnel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Entry {
    /// UTC, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub time: String,
    /// Source address and port.
    pub source: String,
    pub user: String,
    pub method: String,
    pub host: String,
    /// Path and query (plain HTTP only).
    pub path: String,
    pub status: u16,
    /// Bytes from the client to the server.
    pub bytes_up: u64,
    /// Bytes from the server to the client.
    pub bytes_down: u64,
    /// "allow" or "deny" (or "error").
    pub decision: String,
    pub policy: String,
    pub category: String,
    /// "proxy", "connect", "http" (transparent) or "https" (transparent).
    pub mode: String,
}

fn field(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

impl Entry {
    pub fn line(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            self.time,
            field(&self.source),
            field(&clean(&self.user)),
            field(&clean(&self.method)),
            field(&clean(&self.host)),
            field(&clean(&self.path)),
            self.status,
            self.bytes_up,
            self.bytes_down,
            field(&self.decision),
            field(&clean(&self.policy)),
            field(&self.category),
            field(&self.mode),
        )
    }

    pub fn parse(line: &str) -> Option<Entry> {
        let f: Vec<&str> = line.trim_end_matches('\n').split('\t').collect();
        if f.len() != 13 {
            return None;
        }
        let s = |i: usize| {
            if f[i] == "-" {
                String::new()
            } else {
                f[i].to_string()
            }
        };
        Some(Entry {
            time: s(0),
            source: s(1),
            user: s(2),
            method: s(3),
            host: s(4),
            path: s(5),
            status: f[6].parse().ok()?,
            bytes_up: f[7].parse().ok()?,
            bytes_down: f[8].parse().ok()?,
            decision: s(9),
            policy: s(10),
            category: s(11),
            mode: s(12),
        })
    }
}

/// Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for a time since the epoch.
pub fn timestamp(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, m, day) = civil(secs.div_euclid(86400));
    let s = secs.rem_euclid(86400);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        d.subsec_millis()
    )
}

/// The daily file name of a timestamp.
fn file_for(time: &str) -> String {
    format!("{}.log", &time[..10.min(time.len())])
}

/// Deletes daily files older than `days` days before `today` (a
/// `YYYY-MM-DD` date).
pub fn prune(dir: &Path, today: &str, days: u32) -> usize {
    let Some(today) = parse_date(today) else { return 0 };
    let mut removed = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(date) = name.strip_suffix(".log").and_then(parse_date)
                && today - date > i64::from(days)
                && std::fs::remove_file(e.path()).is_ok()
            {
                removed += 1;
            }
        }
    }
    removed
}

/// Days since the epoch of `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = s[..4].parse().ok()?;
    let m = s[5..7].parse().ok().filter(|m| (1..=12).contains(m))?;
    let d = s[8..10].parse().ok().filter(|d| (1..=31).contains(d))?;
    Some(days_from_civil(y, m, d))
}

/// Mode of the daily log files: they record who visited what.
pub const LOG_FILE_MODE: u32 = 0o600;
/// Mode of the log directory.
pub const LOG_DIR_MODE: u32 = 0o750;

/// Creates `dir` if needed, with [`LOG_DIR_MODE`], and makes every file in
/// it [`LOG_FILE_MODE`] when it is readable by others.
pub fn secure_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(LOG_DIR_MODE)
        .create(dir)?;
    let meta = std::fs::metadata(dir)?;
    if meta.permissions().mode() & 0o7777 != LOG_DIR_MODE {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(LOG_DIR_MODE))?;
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(LOG_FILE_MODE))?;
        }
    }
    Ok(())
}

/// The writer task's handle.
#[derive(Clone)]
pub struct Logger {
    tx: tokio::sync::mpsc::UnboundedSender<Entry>,
    counters: std::sync::Arc<Counters>,
}

/// Running totals of what was logged, for `/metrics`. Every request and
/// tunnel goes through [`Logger::log`], so counting there counts them all.
#[derive(Debug, Default)]
pub struct Counters {
    pub allowed: std::sync::atomic::AtomicU64,
    pub denied: std::sync::atomic::AtomicU64,
    /// Refused for authentication, broken peers, timeouts.
    pub other: std::sync::atomic::AtomicU64,
    pub bytes_up: std::sync::atomic::AtomicU64,
    pub bytes_down: std::sync::atomic::AtomicU64,
}

impl Logger {
    /// Starts the writer for `dir` (created if needed), keeping `days` days.
    /// The logs say who visited what: the directory is made 0750 and every
    /// file in it owner-only (0600), including files an older version left
    /// readable by everyone.
    pub fn start(dir: PathBuf, days: u32) -> Logger {
        if let Err(err) = secure_dir(&dir) {
            log::error!(path = dir.display().to_string().as_str(), error = err.to_string().as_str(); "cannot restrict the proxy log directory");
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Entry>();
        tokio::spawn(async move {
            let mut current: Option<(String, std::io::BufWriter<std::fs::File>)> = None;
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while let Ok(e) = rx.try_recv() {
                    batch.push(e);
                    if batch.len() >= 4096 {
                        break;
                    }
                }
                // File work is quick but blocking: keep it off the
                // request-serving threads.
                let dir2 = dir.clone();
                let mut cur = current.take();
                cur = tokio::task::spawn_blocking(move || {
                    for e in &batch {
                        let name = file_for(&e.time);
                        if cur.as_ref().is_none_or(|(n, _)| n != &name) {
                            if let Some((_, mut w)) = cur.take() {
                                let _ = w.flush();
                            }
                            let _ = secure_dir(&dir2);
                            prune(&dir2, &e.time[..10.min(e.time.len())], days);
                            let mut open = std::fs::OpenOptions::new();
                            std::os::unix::fs::OpenOptionsExt::mode(&mut open, LOG_FILE_MODE);
                            match open.create(true).append(true).open(dir2.join(&name)) {
                                Ok(f) => cur = Some((name, std::io::BufWriter::with_capacity(64 * 1024, f))),
                                Err(err) => {
                                    log::error!(error = err.to_string().as_str(); "cannot write the proxy log");
                                    continue;
                                }
                            }
                        }
                        if let Some((_, w)) = cur.as_mut() {
                            let _ = w.write_all(e.line().as_bytes());
                        }
                    }
                    if let Some((_, w)) = cur.as_mut() {
                        let _ = w.flush();
                    }
                    cur
                })
                .await
                .unwrap_or(None);
                current = cur;
            }
        });
        Logger {
            tx,
            counters: Default::default(),
        }
    }

    /// The running totals.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub fn log(&self, mut e: Entry) {
        use std::sync::atomic::Ordering::Relaxed;
        let c = &self.counters;
        match e.decision.as_str() {
            "allow" => c.allowed.fetch_add(1, Relaxed),
            "deny" => c.denied.fetch_add(1, Relaxed),
            _ => c.other.fetch_add(1, Relaxed),
        };
        c.bytes_up.fetch_add(e.bytes_up, Relaxed);
        c.bytes_down.fetch_add(e.bytes_down, Relaxed);
        if e.time.is_empty() {
            e.time = timestamp(std::time::SystemTime::now());
        }
        let _ = self.tx.send(e);
    }
}

/// Filters of `preau proxy log`.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub user: Option<String>,
    /// An address (any port) or address:port.
    pub address: Option<String>,
    /// The host or a parent domain.
    pub host: Option<String>,
    /// Times as ISO prefixes (`2026-11-28`, `2026-11-28T14:00`), UTC.
    pub since: Option<String>,
    pub until: Option<String>,
    /// "allow", "deny" or "error".
    pub decision: Option<String>,
}

impl Filter {
    pub fn matches(&self, e: &Entry) -> bool {
        if self.user.as_ref().is_some_and(|u| &e.user != u) {
            return false;
        }
        if self.decision.as_ref().is_some_and(|d| &e.decision != d) {
            return false;
        }
        if let Some(a) = &self.address {
            let addr = e.source.rsplit_once(':').map_or(e.source.as_str(), |(a, _)| a);
            let addr = addr.trim_start_matches('[').trim_end_matches(']');
            if &e.source != a && addr != a.trim_start_matches('[').trim_end_matches(']') {
                return false;
            }
        }
        if let Some(h) = &self.host
            && !(e.host == *h || e.host.ends_with(&format!(".{h}")))
        {
            return false;
        }
        if self.since.as_ref().is_some_and(|s| e.time.as_str() < s.as_str()) {
            return false;
        }
        if self.until.as_ref().is_some_and(|u| e.time.as_str() >= u.as_str()) {
            return false;
        }
        true
    }
}

/// The daily files of `dir` that may hold entries of the filter's period,
/// oldest first.
fn day_files(dir: &Path, filter: &Filter) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    files.sort();
    // Skip whole days outside the period.
    files.retain(|p| {
        let day = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        filter
            .since
            .as_ref()
            .is_none_or(|s| day.as_str() >= &s[..10.min(s.len())])
            && filter
                .until
                .as_ref()
                .is_none_or(|u| day.as_str() <= &u[..10.min(u.len())])
    });
    Ok(files)
}

/// One page of the matching entries, newest first: `skip` of the newest
/// left out, then at most `take`, and whether more follow. Reads the
/// daily files from the newest and stops as soon as the page is full;
/// memory is bounded by `skip + take` entries, whatever the logs' size.
pub fn newest(dir: &Path, filter: &Filter, skip: usize, take: usize) -> std::io::Result<(Vec<Entry>, bool)> {
    let needed = skip + take + 1;
    let mut found: Vec<Entry> = Vec::new();
    for f in day_files(dir, filter)?.into_iter().rev() {
        use std::io::BufRead;
        let want = needed - found.len();
        let mut last = std::collections::VecDeque::with_capacity(want.min(4096));
        let reader = std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(&f)?);
        for l in reader.split(b'\n') {
            let l = l?;
            let Ok(l) = std::str::from_utf8(&l) else { continue };
            if let Some(e) = Entry::parse(l)
                && filter.matches(&e)
            {
                last.push_back(e);
                if last.len() > want {
                    last.pop_front();
                }
            }
        }
        found.extend(last.into_iter().rev());
        if found.len() >= needed {
            break;
        }
    }
    let more = found.len() > skip + take;
    Ok((found.into_iter().skip(skip).take(take).collect(), more))
}

/// Reads the matching entries of the daily files in `dir`, oldest first,
/// at most `limit` (the most recent ones).
pub fn read(dir: &Path, filter: &Filter, limit: usize) -> std::io::Result<Vec<Entry>> {
    let files = day_files(dir, filter)?;
    let mut out = std::collections::VecDeque::new();
    for f in files {
        use std::io::BufRead;
        let reader = std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(&f)?);
        for l in reader.lines() {
            let l = l?;
            if let Some(e) = Entry::parse(&l)
                && filter.matches(&e)
            {
                out.push_back(e);
                if out.len() > limit {
                    out.pop_front();
                }
            }
        }
    }
    Ok(out.into())
}

/// Most distinct categories [`filtering_counts`] keeps apart; the others
/// (a damaged or foreign log) are summed under [`OTHER_CATEGORIES`].
pub const MAX_CATEGORIES: usize = 256;
/// Label of the requests refused without a category (a policy rule).
pub const NO_CATEGORY: &str = "(sans catégorie)";
/// Label of the categories beyond [`MAX_CATEGORIES`].
pub const OTHER_CATEGORIES: &str = "(autres catégories)";

/// Counts of requests (not people) over a period of the connection logs.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct FilteringCounts {
    pub allowed: u64,
    pub denied: u64,
    /// Failed requests (authentication, broken peers, timeouts).
    pub errors: u64,
    /// Denied requests per category, most first then by name.
    pub denied_by_category: Vec<(String, u64)>,
    /// Days counted (a daily file read, or its summary).
    pub days_read: u32,
    /// Of those, the days taken from their daily summary
    /// ([`super::summary`]) without reading the file.
    pub days_summarised: u32,
}

/// The counts of one UTC day of the logs (a file read, or its summary).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DayCounts {
    pub allowed: u64,
    pub denied: u64,
    pub errors: u64,
    /// Denied requests per category (at most [`MAX_CATEGORIES`] apart,
    /// the others under [`OTHER_CATEGORIES`]), by name.
    pub denied_by_category: Vec<(String, u64)>,
}

/// Adds `n` denied requests of `category` to `cats`, keeping at most
/// [`MAX_CATEGORIES`] categories apart (the others go to
/// [`OTHER_CATEGORIES`]; that label does not count as one of them).
fn add_category(cats: &mut std::collections::HashMap<String, u64>, category: &str, n: u64) {
    if let Some(c) = cats.get_mut(category) {
        *c += n;
        return;
    }
    let apart = cats.len() - usize::from(cats.contains_key(OTHER_CATEGORIES));
    let key = if category != OTHER_CATEGORIES && apart >= MAX_CATEGORIES {
        OTHER_CATEGORIES
    } else {
        category
    };
    *cats.entry(key.to_string()).or_insert(0) += n;
}

/// Sums days' counts into a [`FilteringCounts`] (pure).
#[derive(Debug, Default)]
pub struct Tally {
    out: FilteringCounts,
    cats: std::collections::HashMap<String, u64>,
}

impl Tally {
    /// Adds one day; `summarised` when it comes from its summary.
    pub fn add(&mut self, day: &DayCounts, summarised: bool) {
        self.out.allowed += day.allowed;
        self.out.denied += day.denied;
        self.out.errors += day.errors;
        self.out.days_read += 1;
        self.out.days_summarised += u32::from(summarised);
        for (cat, n) in &day.denied_by_category {
            add_category(&mut self.cats, cat, *n);
        }
    }

    pub fn finish(self) -> FilteringCounts {
        let mut out = self.out;
        let mut by: Vec<(String, u64)> = self.cats.into_iter().collect();
        by.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out.denied_by_category = by;
        out
    }
}

/// Counts the lines of the UTC day `day` (`YYYY-MM-DD`) in one daily
/// file, streamed a line at a time (fields read in place, no copy per
/// line): memory is bounded by [`MAX_CATEGORIES`], whatever its size.
/// Lines of another day and broken lines are not counted.
pub fn count_day(file: std::fs::File, day: &str) -> std::io::Result<DayCounts> {
    use std::io::BufRead;
    let mut out = DayCounts::default();
    let mut cats: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let reader = std::io::BufReader::with_capacity(256 * 1024, file);
    for l in reader.split(b'\n') {
        let l = l?;
        let Ok(l) = std::str::from_utf8(&l) else { continue };
        // The fields [`Entry::parse`] accepts, without copying them.
        let mut f = [""; 13];
        let mut n = 0;
        for (i, x) in l.split('\t').enumerate() {
            if i < 13 {
                f[i] = x;
            }
            n = i + 1;
        }
        if n != 13
            || !f[0].starts_with(day)
            || f[6].parse::<u16>().is_err()
            || f[7].parse::<u64>().is_err()
            || f[8].parse::<u64>().is_err()
        {
            continue;
        }
        match f[9] {
            "allow" => out.allowed += 1,
            "deny" => {
                out.denied += 1;
                let key = if f[11] == "-" || f[11].is_empty() {
                    NO_CATEGORY
                } else {
                    f[11]
                };
                add_category(&mut cats, key, 1);
            }
            _ => out.errors += 1,
        }
    }
    let mut by: Vec<(String, u64)> = cats.into_iter().collect();
    by.sort();
    out.denied_by_category = by;
    Ok(out)
}

/// The `YYYY-MM-DD` name of a day since the epoch.
pub fn day_name(day: i64) -> String {
    let (y, m, d) = civil(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Counts the requests of the UTC days `from..=to` (`YYYY-MM-DD`, at most
/// `max_days` days) in the daily files of `dir`: allowed, denied, errors,
/// and the denied ones per category. Reads only the files of the period,
/// a line at a time ([`count_day`]). A missing directory or day counts
/// nothing. The statistics page goes through the daily summaries instead
/// ([`super::summary::filtering_counts`]), which read only the days
/// without one.
pub fn filtering_counts(dir: &Path, from: &str, to: &str, max_days: i64) -> std::io::Result<FilteringCounts> {
    let (Some(first), Some(last)) = (parse_date(from), parse_date(to)) else {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "bad date"));
    };
    let last = last.min(first + max_days);
    let mut tally = Tally::default();
    for day in first..=last {
        let name = day_name(day);
        let file = match std::fs::File::open(dir.join(format!("{name}.log"))) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        tally.add(&count_day(file, &name)?, false);
    }
    Ok(tally.finish())
}

/// [`FilteringCounts`] as CSV: one line per category, then the totals.
pub fn filtering_csv(c: &FilteringCounts) -> String {
    let mut out = String::from("category,denied_requests\r\n");
    for (cat, n) in &c.denied_by_category {
        let cat = if cat.contains([',', '"', '\r', '\n']) {
            format!("\"{}\"", cat.replace('"', "\"\""))
        } else {
            cat.clone()
        };
        out.push_str(&format!("{cat},{n}\r\n"));
    }
    out.push_str(&format!(
        "(total refusées),{}\r\n(total autorisées),{}\r\n(total erreurs),{}\r\n",
        c.denied, c.allowed, c.errors
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filtering_counts_per_category_over_the_days_asked() {
        let tmp = tempfile::tempdir().unwrap();
        let e = |time: &str, decision: &str, category: &str| {
            Entry {
                time: time.into(),
                host: "h.test".into(),
                status: 200,
                decision: decision.into(),
                category: category.into(),
                ..Default::default()
            }
            .line()
        };
        let day1 = [
            e("2026-11-27T08:00:00.000Z", "allow", ""),
            e("2026-11-27T08:00:01.000Z", "deny", "adult"),
            e("2026-11-27T08:00:02.000Z", "deny", "adult"),
            e("2026-11-27T08:00:03.000Z", "deny", "games"),
            e("2026-11-27T08:00:04.000Z", "deny", ""),
            e("2026-11-27T08:00:05.000Z", "error", ""),
            // A line of another day in the file is not counted here.
            e("2026-11-30T08:00:00.000Z", "deny", "adult"),
            "broken line\n".to_string(),
        ]
        .concat();
        let day2 = [
            e("2026-11-28T09:00:00.000Z", "allow", ""),
            e("2026-11-28T09:00:01.000Z", "deny", "games"),
        ]
        .concat();
        let outside = e("2026-11-29T09:00:01.000Z", "deny", "malware");
        std::fs::write(tmp.path().join("2026-11-27.log"), day1).unwrap();
        std::fs::write(tmp.path().join("2026-11-28.log"), day2).unwrap();
        std::fs::write(tmp.path().join("2026-11-29.log"), outside).unwrap();
        let c = filtering_counts(tmp.path(), "2026-11-26", "2026-11-28", 1000).unwrap();
        assert_eq!((c.allowed, c.denied, c.errors, c.days_read), (2, 5, 1, 2));
        assert_eq!(
            c.denied_by_category,
            vec![
                ("adult".to_string(), 2),
                ("games".to_string(), 2),
                (NO_CATEGORY.to_string(), 1)
            ]
        );
        let csv = filtering_csv(&c);
        assert!(
            csv.starts_with("category,denied_requests\r\nadult,2\r\ngames,2\r\n"),
            "{csv}"
        );
        assert!(csv.contains("(total refusées),5\r\n(total autorisées),2\r\n"));
        // The range is capped; a missing directory counts nothing.
        let capped = filtering_counts(tmp.path(), "2026-11-27", "2026-11-29", 0).unwrap();
        assert_eq!((capped.denied, capped.days_read), (4, 1));
        assert_eq!(
            filtering_counts(&tmp.path().join("none"), "2026-11-27", "2026-11-29", 10).unwrap(),
            FilteringCounts::default()
        );
        assert!(filtering_counts(tmp.path(), "hier", "2026-11-29", 10).is_err());
    }

    /// `bench/statistics-filtering.sh`: the web filtering's counts over
    /// `PREAU_BENCH_DAYS` daily files (default 3) of `PREAU_BENCH_LINES`
    /// lines each (default 20,000), one in five denied over 12 categories.
    /// Prints the median and worst of 5 runs and the lines read per second.
    #[test]
    fn filtering_counts_benchmark() {
        let env = |k: &str, d: usize| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
        let (days, lines) = (env("PREAU_BENCH_DAYS", 3), env("PREAU_BENCH_LINES", 20_000));
        let tmp = tempfile::tempdir().unwrap();
        let first = days_from_civil(2026, 9, 1);
        let mut bytes = 0;
        for d in 0..days {
            let (y, m, day) = civil(first + d as i64);
            let date = format!("{y:04}-{m:02}-{day:02}");
            let mut w = std::io::BufWriter::new(
                std::fs::File::create(tmp.path().join(format!("{date}.log"))).unwrap(),
            );
            for i in 0..lines {
                let e = Entry {
                    time: format!("{date}T{:02}:{:02}:{:02}.000Z", 8 + i % 10, i / 60 % 60, i % 60),
                    source: "10.0.3.17:51234".into(),
                    user: format!("eleve{}", i % 2400),
                    method: "GET".into(),
                    host: format!("www.site{}.example", i % 500),
                    path: "/page?x=1".into(),
                    status: if i % 5 == 0 { 403 } else { 200 },
                    bytes_up: 420,
                    bytes_down: 18_000,
                    decision: if i % 5 == 0 { "deny" } else { "allow" }.into(),
                    policy: "élèves".into(),
                    category: if i % 5 == 0 {
                        format!("cat{}", i % 12)
                    } else {
                        String::new()
                    },
                    mode: "proxy".into(),
                };
                let l = e.line();
                bytes += l.len();
                w.write_all(l.as_bytes()).unwrap();
            }
        }
        let (from, to) = {
            let (y, m, d) = civil(first + days as i64 - 1);
            ("2026-09-01".to_string(), format!("{y:04}-{m:02}-{d:02}"))
        };
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = std::time::Instant::now();
            let c = filtering_counts(tmp.path(), &from, &to, 3 * 366).unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(c.allowed + c.denied, (days * lines) as u64);
            assert_eq!(c.denied_by_category.len(), 12);
        }
        times.sort_by(f64::total_cmp);
        let median = times[2];
        println!(
            "{{\"days\":{days},\"lines_per_day\":{lines},\"mb\":{:.0},\"median_ms\":{median:.0},\"worst_ms\":{:.0},\"lines_per_s\":{:.0}}}",
            bytes as f64 / 1e6,
            times[4],
            (days * lines) as f64 / (median / 1000.0)
        );
    }

    #[test]
    fn filtering_categories_are_bounded() {
        let tmp = tempfile::tempdir().unwrap();
        let mut text = String::new();
        for i in 0..(MAX_CATEGORIES + 10) {
            text.push_str(
                &Entry {
                    time: "2026-11-27T08:00:00.000Z".into(),
                    decision: "deny".into(),
                    category: format!("c{i:04}"),
                    ..Default::default()
                }
                .line(),
            );
        }
        std::fs::write(tmp.path().join("2026-11-27.log"), text).unwrap();
        let c = filtering_counts(tmp.path(), "2026-11-27", "2026-11-27", 10).unwrap();
        assert_eq!(c.denied_by_category.len(), MAX_CATEGORIES + 1);
        assert_eq!(c.denied_by_category[0], (OTHER_CATEGORIES.to_string(), 10));
    }

    #[test]
    fn newest_pages_across_days_with_filters() {
        let tmp = tempfile::tempdir().unwrap();
        let entry = |time: &str, user: &str, decision: &str| Entry {
            time: time.into(),
            source: "10.0.0.5:40000".into(),
            user: user.into(),
            method: "GET".into(),
            host: "www.example.test".into(),
            status: 200,
            decision: decision.into(),
            mode: "proxy".into(),
            ..Default::default()
        };
        let mut day1 = String::new();
        let mut day2 = String::new();
        for i in 0..5 {
            day1.push_str(&entry(&format!("2026-11-27T10:00:0{i}.000Z"), "lea", "allow").line());
            day2.push_str(
                &entry(
                    &format!("2026-11-28T10:00:0{i}.000Z"),
                    "tom",
                    if i % 2 == 0 { "deny" } else { "allow" },
                )
                .line(),
            );
        }
        day2.push_str("broken line\n\u{fffd}\n");
        std::fs::write(tmp.path().join("2026-11-27.log"), day1).unwrap();
        std::fs::write(tmp.path().join("2026-11-28.log"), day2).unwrap();
        std::fs::write(tmp.path().join("notes.txt"), "x").unwrap();
        let all = Filter::default();
        let (p, more) = newest(tmp.path(), &all, 0, 3).unwrap();
        assert_eq!(
            p.iter().map(|e| &e.time[..19]).collect::<Vec<_>>(),
            [
                "2026-11-28T10:00:04",
                "2026-11-28T10:00:03",
                "2026-11-28T10:00:02"
            ]
        );
        assert!(more);
        let (p, more) = newest(tmp.path(), &all, 3, 3).unwrap();
        assert_eq!(
            p.iter().map(|e| &e.time[..19]).collect::<Vec<_>>(),
            [
                "2026-11-28T10:00:01",
                "2026-11-28T10:00:00",
                "2026-11-27T10:00:04"
            ]
        );
        assert!(more);
        let (p, more) = newest(tmp.path(), &all, 9, 3).unwrap();
        assert_eq!(p.len(), 1);
        assert!(!more);
        let denied = Filter {
            decision: Some("deny".into()),
            ..Default::default()
        };
        assert_eq!(newest(tmp.path(), &denied, 0, 10).unwrap().0.len(), 3);
        let lea_before = Filter {
            user: Some("lea".into()),
            until: Some("2026-11-27T10:00:02".into()),
            ..Default::default()
        };
        assert_eq!(newest(tmp.path(), &lea_before, 0, 10).unwrap().0.len(), 2);
        assert!(
            newest(&tmp.path().join("none"), &all, 0, 10)
                .unwrap()
                .0
                .is_empty()
        );
    }

    /// Regression (issue 15): the connection logs were 0644 in a 0755
    /// directory, readable by every account on the server.
    #[tokio::test]
    async fn logs_are_owner_only_and_old_files_are_fixed_at_start() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("proxy");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let old = dir.join("2026-11-01.log");
        std::fs::write(&old, "old line\n").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;

        let logger = Logger::start(dir.clone(), 3650);
        assert_eq!(mode(&dir), 0o750);
        assert_eq!(mode(&old), 0o600);
        logger.log(Entry {
            time: "2026-12-01T08:00:00.000Z".into(),
            host: "example.org".into(),
            decision: "allow".into(),
            ..Entry::default()
        });
        let new = dir.join("2026-12-01.log");
        for _ in 0..200 {
            if new.exists() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(mode(&new), 0o600);
        assert_eq!(std::fs::read_to_string(&old).unwrap(), "old line\n");
    }

    #[test]
    fn dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2026, 11, 28), 20785);
        assert_eq!(civil(20785), (2026, 11, 28));
        assert_eq!(parse_date("2024-02-29"), Some(days_from_civil(2024, 2, 29)));
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_795_996_800_123);
        assert_eq!(timestamp(t), "2026-11-30T00:00:00.123Z");
    }

    #[test]
    fn lines_round_trip_and_filters() {
        let e = Entry {
            time: "2026-11-28T14:00:00.000Z".into(),
            source: "10.0.0.5:51234".into(),
            user: "lea".into(),
            method: "GET".into(),
            host: "www.example.test".into(),
            path: "/a?b=c".into(),
            status: 200,
            bytes_up: 100,
            bytes_down: 2000,
            decision: "allow".into(),
            policy: "défaut".into(),
            category: String::new(),
            mode: "proxy".into(),
        };
        assert_eq!(Entry::parse(&e.line()).unwrap(), e);
        let f = |f: Filter| f.matches(&e);
        assert!(f(Filter {
            address: Some("10.0.0.5".into()),
            ..Filter::default()
        }));
        assert!(!f(Filter {
            address: Some("10.0.0.50".into()),
            ..Filter::default()
        }));
        assert!(f(Filter {
            host: Some("example.test".into()),
            ..Filter::default()
        }));
        assert!(!f(Filter {
            host: Some("ample.test".into()),
            ..Filter::default()
        }));
        assert!(f(Filter {
            since: Some("2026-11-28T13".into()),
            until: Some("2026-11-28T15".into()),
            ..Filter::default()
        }));
        assert!(!f(Filter {
            since: Some("2026-11-29".into()),
            ..Filter::default()
        }));
        assert!(!f(Filter {
            user: Some("max".into()),
            ..Filter::default()
        }));
    }

    #[test]
    fn old_files_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["2025-11-27", "2025-11-28", "2026-11-28", "notes"] {
            std::fs::write(dir.path().join(format!("{d}.log")), "").unwrap();
        }
        assert_eq!(prune(dir.path(), "2026-11-28", 365), 1);
        assert!(dir.path().join("2025-11-28.log").exists());
        assert!(!dir.path().join("2025-11-27.log").exists());
    }
}

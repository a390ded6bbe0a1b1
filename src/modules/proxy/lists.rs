//! Category lists in the UT1 layout, and their in-memory index.
//!
//! A list set is a directory with one folder per category holding
//! `domains` (one name a line), optionally `urls` (host/path a line) and
//! `usage` (`#` comments, then `black` or `white`). The index is an
//! open-addressing hash table of 64-bit slots: the high 48 bits of a
//! 64-bit hash of the name and its category number (16 bits), placed by
//! the low bits of the hash. With a load factor under 0.6 that is about 13
//! bytes a name, and a lookup reads about one cache line per label suffix
//! of the host. The hash is computed over the reversed name, so one pass
//! over a host gives the hashes of the host and of all its parent domains.
//! Names are not kept: two names are confused only if their hashes agree
//! on 48 bits and land in the same probe run, about one chance in 10¹³
//! per lookup with 5 million names — an acceptable price for a filter.
//!
//! URL entries (`host/path`) match a request whose host (without `www.`)
//! is the entry's host and whose path starts with the entry's path at a
//! `/` boundary. They only apply to plain HTTP, the only case where the
//! proxy sees a path.

use crate::host::Host;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Whether a category blocks or allows by its nature (`usage` file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Black,
    White,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Category {
    pub name: String,
    pub kind: Kind,
    pub domains: usize,
    pub urls: usize,
}

/// Why a list set was refused.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("cannot read {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error(
        "{path} holds no category folder (a folder with a `domains` file)\n    help: give the directory of the UT1 lists (the one holding adult/, malware/…) or the blacklists.tar.gz archive"
    )]
    Empty { path: String },
    #[error(
        "{path}: {bad} of {total} lines are not domain names (e.g. line {line}: {example:?})\n    help: the file looks corrupt; the lists in use are kept"
    )]
    Corrupt {
        path: String,
        bad: usize,
        total: usize,
        line: usize,
        example: String,
    },
    #[error("{path} is not UTF-8 text\n    help: the file looks corrupt; the lists in use are kept")]
    NotText { path: String },
    #[error("too many categories in {path} (at most 65535)")]
    TooMany { path: String },
    #[error(
        "cannot unpack the archive {path}: {cause}\n    help: give a .tar.gz archive of the UT1 lists, or a directory"
    )]
    Archive { path: String, cause: std::io::Error },
}

fn read_err(path: &Path) -> impl FnOnce(std::io::Error) -> ListError + '_ {
    move |cause| ListError::Read {
        path: path.display().to_string(),
        cause,
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

#[inline]
fn fnv_step(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
}

/// Final mix (splitmix64) so that every bit of the hash is well spread.
#[inline]
fn finish(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hash of a normalized name (over its reversed bytes).
pub fn name_hash(name: &[u8]) -> u64 {
    finish(name.iter().rev().fold(FNV_OFFSET, |h, &b| fnv_step(h, b)))
}

/// Calls `f(hash, suffix_start)` for the host and each parent domain,
/// longest first would need a second pass: this goes from the top-level
/// domain down to the full host. IP literals only match exactly.
#[inline]
pub fn for_each_suffix(host: &[u8], mut f: impl FnMut(u64, usize)) {
    if host.is_empty() {
        return;
    }
    let literal = host.contains(&b':') || host.iter().all(|b| b.is_ascii_digit() || *b == b'.');
    let mut h = FNV_OFFSET;
    for i in (0..host.len()).rev() {
        let b = host[i];
        if b == b'.' && !literal && i + 1 < host.len() {
            f(finish(h), i + 1);
        }
        h = fnv_step(h, b);
    }
    f(finish(h), 0);
}

/// Lower-cases and checks a host or domain name: trims, drops a trailing
/// dot, a leading `*.` or `.`; `None` when it cannot be a name.
pub fn normalize_host(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s.strip_prefix("*.").or_else(|| s.strip_prefix('.')).unwrap_or(s);
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() || s.len() > 253 {
        return None;
    }
    let ok = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b':'))
        && !s.contains("..");
    ok.then(|| s.to_ascii_lowercase())
}

/// Whether a line of a `domains` file is acceptable (already trimmed, not
/// a comment): a lower-casable ASCII name.
#[inline]
fn valid_entry(line: &[u8]) -> bool {
    !line.is_empty()
        && line.len() <= 253
        && line
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b':'))
}

/// A match of a host against the lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub category: u16,
    /// Where the matched parent domain starts in the host.
    pub at: usize,
    /// Matched an URL entry rather than a domain.
    pub url: bool,
}

/// The loaded lists.
#[derive(Default)]
pub struct Index {
    pub categories: Vec<Category>,
    /// Open addressing, linear probing: each slot holds the high 48 bits
    /// of a name's hash and its category (low 16 bits); 0 is empty. The
    /// slot comes from the low bits of the hash, so a lookup costs about
    /// one cache line per suffix.
    table: Vec<u64>,
    mask: usize,
    entries: usize,
    urls: HashMap<u64, Vec<(Box<str>, u16)>>,
    pub source: PathBuf,
    pub load_time: Duration,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Index({} categories, {} domains)",
            self.categories.len(),
            self.entries
        )
    }
}

/// A table slot: the hash's high 48 bits (never all zero) and a category.
#[inline]
fn slot_value(hash: u64, cat: u16) -> u64 {
    let fp = (hash & !0xffff).max(1 << 16);
    fp | u64::from(cat)
}

/// Lines of one file, trimmed, without comments or blanks.
fn lines(buf: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    buf.split(|&b| b == b'\n').enumerate().filter_map(|(i, l)| {
        let l = l.trim_ascii();
        (!l.is_empty() && l[0] != b'#').then_some((i + 1, l))
    })
}

fn hash_lines(buf: &[u8], cat: u16, out: &mut Vec<(u64, u16)>) -> (usize, usize, Option<(usize, String)>) {
    let mut bad = 0;
    let mut total = 0;
    let mut example = None;
    let mut lower = Vec::with_capacity(256);
    for (n, l) in lines(buf) {
        total += 1;
        let l = l.strip_prefix(b".").unwrap_or(l);
        let l = l.strip_suffix(b".").unwrap_or(l);
        if !valid_entry(l) {
            bad += 1;
            if example.is_none() {
                example = Some((n, String::from_utf8_lossy(l).into_owned()));
            }
            continue;
        }
        let h = if l.iter().any(u8::is_ascii_uppercase) {
            lower.clear();
            lower.extend(l.iter().map(u8::to_ascii_lowercase));
            name_hash(&lower)
        } else {
            name_hash(l)
        };
        out.push((h, cat));
    }
    (bad, total, example)
}

/// Hashes a big buffer on every core, split at line ends.
fn hash_parallel(buf: &[u8], cat: u16, out: &mut Vec<(u64, u16)>) -> (usize, usize, Option<(usize, String)>) {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    if workers == 1 || buf.len() < 1 << 20 {
        return hash_lines(buf, cat, out);
    }
    let mut chunks = Vec::new();
    let mut start = 0;
    for w in 1..=workers {
        let mut end = if w == workers {
            buf.len()
        } else {
            buf.len() * w / workers
        };
        while end < buf.len() && buf[end] != b'\n' {
            end += 1;
        }
        let end = end.max(start);
        chunks.push(&buf[start..end]);
        start = end;
    }
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|c| {
                s.spawn(move || {
                    let mut v = Vec::with_capacity(c.len() / 16);
                    let r = hash_lines(c, cat, &mut v);
                    (v, r)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("hash worker"))
            .collect()
    });
    let (mut bad, mut total, mut example) = (0, 0, None);
    for (v, (b, t, e)) in results {
        out.extend_from_slice(&v);
        bad += b;
        total += t;
        // Line numbers are per chunk: good enough to show an example.
        example = example.or(e);
    }
    (bad, total, example)
}

/// Tolerated share of lines that are not names (UT1 carries a few odd ones).
const MAX_BAD_SHARE: f64 = 0.01;

impl Index {
    /// Loads the UT1 directory `dir`; refuses it when it holds no category
    /// or a file is unreadable or corrupt.
    pub fn load(dir: &Path) -> Result<Index, ListError> {
        let mut names: Vec<String> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_err(dir))? {
            let entry = entry.map_err(read_err(dir))?;
            let p = entry.path();
            if p.is_dir() && p.join("domains").is_file() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        Index::load_from(dir, names, |path| match std::fs::read(path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(cause) => Err(ListError::Read {
                path: path.display().to_string(),
                cause,
            }),
        })
    }

    /// Loads a list set held in memory (relative paths `adult/domains`…):
    /// the check of [`install`] before anything is written.
    pub fn from_files(label: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) -> Result<Index, ListError> {
        let names: Vec<String> = files
            .keys()
            .filter(|p| p.file_name().is_some_and(|n| n == "domains") && p.components().count() == 2)
            .filter_map(|p| p.parent()?.to_str().map(String::from))
            .collect();
        Index::load_from(label, names, |path| {
            Ok(path
                .strip_prefix(label)
                .ok()
                .and_then(|rel| files.get(rel))
                .cloned())
        })
    }

    /// The categories `names` of the set at `dir`, each file read through
    /// `read` (None: absent).
    fn load_from(
        dir: &Path,
        mut names: Vec<String>,
        read: impl Fn(&Path) -> Result<Option<Vec<u8>>, ListError>,
    ) -> Result<Index, ListError> {
        let started = Instant::now();
        names.sort();
        if names.is_empty() {
            return Err(ListError::Empty {
                path: dir.display().to_string(),
            });
        }
        if names.len() > usize::from(u16::MAX) {
            return Err(ListError::TooMany {
                path: dir.display().to_string(),
            });
        }
        let mut pairs: Vec<(u64, u16)> = Vec::new();
        let mut categories = Vec::new();
        let mut urls: HashMap<u64, Vec<(Box<str>, u16)>> = HashMap::new();
        for (i, name) in names.iter().enumerate() {
            let cat = i as u16;
            let cdir = dir.join(name);
            let usage = read(&cdir.join("usage"))?
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let kind = if usage
                .lines()
                .map(str::trim)
                .any(|l| !l.starts_with('#') && l.eq_ignore_ascii_case("white"))
            {
                Kind::White
            } else {
                Kind::Black
            };
            let path = cdir.join("domains");
            let buf = read(&path)?.ok_or_else(|| ListError::Read {
                path: path.display().to_string(),
                cause: std::io::ErrorKind::NotFound.into(),
            })?;
            let before = pairs.len();
            let (bad, total, example) = hash_parallel(&buf, cat, &mut pairs);
            drop(buf);
            if bad > 0 && (bad as f64) > (total as f64) * MAX_BAD_SHARE {
                let (line, example) = example.unwrap_or_default();
                return Err(ListError::Corrupt {
                    path: path.display().to_string(),
                    bad,
                    total,
                    line,
                    example,
                });
            }
            let domains = pairs.len() - before;
            let mut nurls = 0;
            let upath = cdir.join("urls");
            if let Some(buf) = read(&upath)? {
                let text = std::str::from_utf8(&buf).map_err(|_| ListError::NotText {
                    path: upath.display().to_string(),
                })?;
                for l in text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                {
                    let (host, path) = l.split_once('/').unwrap_or((l, ""));
                    let Some(host) = normalize_host(host) else {
                        continue;
                    };
                    let host = host.strip_prefix("www.").unwrap_or(&host);
                    let path = path.trim_end_matches('/');
                    urls.entry(name_hash(host.as_bytes()))
                        .or_default()
                        .push((format!("/{path}").into(), cat));
                    nurls += 1;
                }
            }
            categories.push(Category {
                name: name.clone(),
                kind,
                domains,
                urls: nurls,
            });
        }
        let mut index = Index::build(&pairs, categories);
        drop(pairs);
        index.urls = urls;
        index.source = dir.to_path_buf();
        index.load_time = started.elapsed();
        Ok(index)
    }

    fn build(pairs: &[(u64, u16)], categories: Vec<Category>) -> Index {
        // Load factor between 0.3 and 0.6: short probes, ~13 bytes a name.
        let slots = (pairs.len() * 5 / 3).max(16).next_power_of_two();
        let mask = slots - 1;
        let mut table = vec![0u64; slots];
        let mut entries = 0;
        for &(h, cat) in pairs {
            let packed = slot_value(h, cat);
            let mut i = (h as usize) & mask;
            loop {
                let v = table[i];
                if v == 0 {
                    table[i] = packed;
                    entries += 1;
                    break;
                }
                if v == packed {
                    break;
                }
                i = (i + 1) & mask;
            }
        }
        Index {
            categories,
            table,
            mask,
            entries,
            urls: HashMap::new(),
            source: PathBuf::new(),
            load_time: Duration::ZERO,
        }
    }

    /// An index of explicit `(category, kind, domains)` (tests, local lists).
    pub fn from_lists(lists: &[(&str, Kind, &[&str])]) -> Index {
        let mut pairs = Vec::new();
        let mut categories = Vec::new();
        for (i, (name, kind, domains)) in lists.iter().enumerate() {
            for d in domains.iter() {
                if let Some(d) = normalize_host(d) {
                    pairs.push((name_hash(d.as_bytes()), i as u16));
                }
            }
            categories.push(Category {
                name: name.to_string(),
                kind: *kind,
                domains: domains.len(),
                urls: 0,
            });
        }
        pairs.sort_unstable();
        pairs.dedup();
        Index::build(&pairs, categories)
    }

    pub fn domain_count(&self) -> usize {
        self.entries
    }

    /// Bytes held by the index (approximate).
    pub fn memory_bytes(&self) -> usize {
        self.table.len() * 8
            + self
                .urls
                .values()
                .map(|v| 48 + v.iter().map(|(p, _)| p.len() + 24).sum::<usize>())
                .sum::<usize>()
    }

    pub fn category_id(&self, name: &str) -> Option<u16> {
        self.categories
            .iter()
            .position(|c| c.name == name)
            .map(|i| i as u16)
    }

    pub fn category_name(&self, id: u16) -> &str {
        self.categories
            .get(usize::from(id))
            .map_or("?", |c| c.name.as_str())
    }

    #[inline]
    fn for_key(&self, key: u64, mut f: impl FnMut(u16)) {
        let fp = slot_value(key, 0);
        let mut i = (key as usize) & self.mask;
        loop {
            let v = self.table[i];
            if v == 0 {
                return;
            }
            if v & !0xffff == fp {
                f(v as u16);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Calls `f` for every category matching the normalized `host` or one
    /// of its parent domains, and (when `path` is given) every URL entry.
    #[inline]
    pub fn for_each_hit(&self, host: &str, path: Option<&str>, mut f: impl FnMut(Hit)) {
        if self.entries == 0 && self.urls.is_empty() {
            return;
        }
        for_each_suffix(host.as_bytes(), |h, at| {
            if self.entries != 0 {
                self.for_key(h, |category| {
                    f(Hit {
                        category,
                        at,
                        url: false,
                    })
                })
            }
        });
        if let Some(path) = path
            && !self.urls.is_empty()
        {
            let bare = host.strip_prefix("www.").unwrap_or(host);
            if let Some(entries) = self.urls.get(&name_hash(bare.as_bytes())) {
                let path = path.split(['?', '#']).next().unwrap_or(path);
                for (prefix, category) in entries {
                    let p: &str = prefix;
                    let matches = p == "/"
                        || path == p
                        || (path.starts_with(p)
                            && path
                                .as_bytes()
                                .get(p.len())
                                .is_some_and(|&b| b == b'/' || b == b'.'));
                    if matches {
                        f(Hit {
                            category: *category,
                            at: 0,
                            url: true,
                        });
                    }
                }
            }
        }
    }

    /// Every hit, for explanations and tests.
    pub fn hits(&self, host: &str, path: Option<&str>) -> Vec<Hit> {
        let mut v = Vec::new();
        self.for_each_hit(host, path, |h| v.push(h));
        v
    }
}

/// The files of a list set kept by an install.
const KEPT: [&str; 3] = ["domains", "urls", "usage"];

/// The list set's files under `prefix` of a tree (relative paths): the
/// category files of `<prefix>/<category>/` and `<prefix>/global_usage`.
fn under_prefix(tree: &BTreeMap<PathBuf, Vec<u8>>, prefix: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for (p, bytes) in tree {
        let Ok(rel) = p.strip_prefix(prefix) else { continue };
        let parts: Vec<&std::ffi::OsStr> = rel.iter().collect();
        let keep = match parts.as_slice() {
            [name] => *name == "global_usage",
            [category, file] => {
                KEPT.iter().any(|k| file == k) && tree.contains_key(&prefix.join(category).join("domains"))
            }
            _ => false,
        };
        if keep {
            out.insert(rel.to_path_buf(), bytes.clone());
        }
    }
    out
}

/// Where the category folders are in a tree: its top, or up to three
/// levels down through single folders (UT1 archives hold `blacklists/…`).
fn lists_prefix(tree: &BTreeMap<PathBuf, Vec<u8>>) -> PathBuf {
    let mut prefix = PathBuf::new();
    for _ in 0..3 {
        let here = |p: &PathBuf| p.strip_prefix(&prefix).ok().map(|r| r.iter().count());
        if tree
            .keys()
            .any(|p| here(p) == Some(2) && p.file_name().is_some_and(|n| n == "domains"))
        {
            break;
        }
        let subdirs: std::collections::BTreeSet<&std::ffi::OsStr> = tree
            .keys()
            .filter_map(|p| {
                let rel = p.strip_prefix(&prefix).ok()?;
                (rel.iter().count() > 1).then(|| rel.iter().next()).flatten()
            })
            .collect();
        match subdirs.len() {
            1 => prefix.push(subdirs.into_iter().next().unwrap_or_default()),
            _ => break,
        }
    }
    prefix
}

/// Reads a list set from a directory tree (only the files an install
/// keeps; links are not followed).
fn read_tree(dir: &Path) -> Result<BTreeMap<PathBuf, Vec<u8>>, ListError> {
    fn walk(
        root: &Path,
        dir: &Path,
        depth: usize,
        out: &mut BTreeMap<PathBuf, Vec<u8>>,
    ) -> Result<(), ListError> {
        for entry in std::fs::read_dir(dir).map_err(read_err(dir))? {
            let entry = entry.map_err(read_err(dir))?;
            let kind = entry.file_type().map_err(read_err(dir))?;
            let p = entry.path();
            if kind.is_dir() && depth < 4 {
                walk(root, &p, depth + 1, out)?;
            } else if kind.is_file()
                && entry
                    .file_name()
                    .to_str()
                    .is_some_and(|n| KEPT.contains(&n) || n == "global_usage")
            {
                let bytes = std::fs::read(&p).map_err(read_err(&p))?;
                out.insert(p.strip_prefix(root).unwrap_or(&p).to_path_buf(), bytes);
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, 0, &mut out)?;
    Ok(out)
}

/// Reads a list set from a tar archive, gzipped or not, in memory: only
/// plain files with plain relative names, never unpacked on disk.
fn read_archive(source: &Path) -> Result<BTreeMap<PathBuf, Vec<u8>>, ListError> {
    let archive_err = |cause| ListError::Archive {
        path: source.display().to_string(),
        cause,
    };
    let file = std::fs::File::open(source).map_err(read_err(source))?;
    let mut f = std::io::BufReader::new(file);
    let gz = {
        use std::io::BufRead;
        f.fill_buf().map_err(read_err(source))?.starts_with(&[0x1f, 0x8b])
    };
    let reader: Box<dyn Read> = if gz {
        Box::new(flate2::read::GzDecoder::new(f))
    } else {
        Box::new(f)
    };
    let mut archive = tar::Archive::new(reader);
    let mut out = BTreeMap::new();
    for entry in archive.entries().map_err(archive_err)? {
        let mut entry = entry.map_err(archive_err)?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry.path().map_err(archive_err)?.into_owned();
        let plain = path
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir));
        let wanted = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| KEPT.contains(&n) || n == "global_usage");
        if !plain || !wanted {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(archive_err)?;
        let path: PathBuf = path
            .components()
            .filter(|c| matches!(c, std::path::Component::Normal(_)))
            .collect();
        out.insert(path, bytes);
    }
    Ok(out)
}

/// Name of the file whose content changes at each install: the running
/// proxy watches it and reloads.
pub const STAMP: &str = ".generation";

/// What an install did.
#[derive(Debug, serde::Serialize)]
pub struct Installed {
    pub categories: Vec<Category>,
    pub domains: usize,
    pub load_ms: u128,
    pub dir: String,
}

/// [`install_on`] the machine itself (`dest` a real path).
pub fn install(source: &Path, dest: &Path) -> Result<Installed, ListError> {
    install_on(&crate::host::RealHost::new("/"), source, dest)
}

/// Installs the lists at `source` (a directory or a .tar.gz, read in
/// memory) as `dest` (a host path): checked by loading them, then put in
/// place whole by the host ([`Host::replace_dir`]). A broken set is
/// refused and `dest` is left as it was.
pub fn install_on(host: &dyn Host, source: &Path, dest: &Path) -> Result<Installed, ListError> {
    let tree = if source.is_dir() {
        read_tree(source)?
    } else {
        read_archive(source)?
    };
    let mut files = under_prefix(&tree, &lists_prefix(&tree));
    drop(tree);
    let index = Index::from_files(dest, &files)?;
    let stamp = format!(
        "{}\n",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    files.insert(PathBuf::from(STAMP), stamp.into_bytes());
    host.replace_dir(dest, &files).map_err(|e| ListError::Read {
        path: dest.display().to_string(),
        cause: std::io::Error::other(e.to_string()),
    })?;
    Ok(Installed {
        domains: index.domain_count(),
        load_ms: index.load_time.as_millis(),
        categories: index.categories,
        dir: dest.display().to_string(),
    })
}

/// The install stamp of a list directory (None when absent).
pub fn stamp(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join(STAMP)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_lists(dir: &Path) {
        for (cat, kind, domains, urls) in [
            (
                "adult",
                "black",
                "example-x.test\nWWW.Other.test\n# comment\n\n",
                Some("site.test/bad/page.html\n"),
            ),
            ("social_networks", "black", "social.test\n", None),
            ("liste_blanche", "white", "wiki.test\n", None),
        ] {
            let d = dir.join(cat);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("domains"), domains).unwrap();
            std::fs::write(d.join("usage"), format!("# x\n{kind}\n{cat}\n")).unwrap();
            if let Some(u) = urls {
                std::fs::write(d.join("urls"), u).unwrap();
            }
        }
    }

    fn cats(index: &Index, host: &str, path: Option<&str>) -> Vec<String> {
        index
            .hits(host, path)
            .iter()
            .map(|h| index.category_name(h.category).to_string())
            .collect()
    }

    #[test]
    fn host_and_parent_domains_match() {
        let dir = tempfile::tempdir().unwrap();
        write_lists(dir.path());
        let index = Index::load(dir.path()).unwrap();
        assert_eq!(index.domain_count(), 4);
        assert_eq!(cats(&index, "example-x.test", None), ["adult"]);
        assert_eq!(cats(&index, "a.b.example-x.test", None), ["adult"]);
        assert_eq!(cats(&index, "www.other.test", None), ["adult"]);
        assert!(cats(&index, "other.test", None).is_empty());
        assert!(cats(&index, "notexample-x.test", None).is_empty());
        assert!(cats(&index, "test", None).is_empty());
        assert_eq!(
            index.categories[index.category_id("liste_blanche").unwrap() as usize].kind,
            Kind::White
        );
        let hit = index.hits("a.b.example-x.test", None)[0];
        assert_eq!(&"a.b.example-x.test"[hit.at..], "example-x.test");
    }

    #[test]
    fn urls_match_by_path_prefix() {
        let dir = tempfile::tempdir().unwrap();
        write_lists(dir.path());
        let index = Index::load(dir.path()).unwrap();
        assert_eq!(cats(&index, "site.test", Some("/bad/page.html")), ["adult"]);
        assert_eq!(
            cats(&index, "www.site.test", Some("/bad/page.html?x=1")),
            ["adult"]
        );
        assert!(cats(&index, "site.test", Some("/good")).is_empty());
        assert!(cats(&index, "site.test", None).is_empty());
    }

    #[test]
    fn broken_lists_are_refused_and_the_old_ones_kept() {
        let src = tempfile::tempdir().unwrap();
        write_lists(src.path());
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("blacklists");
        let first = install(src.path(), &dest).unwrap();
        assert_eq!(first.domains, 4);
        let s1 = stamp(&dest).unwrap();
        // Empty directory: refused.
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            install(empty.path(), &dest),
            Err(ListError::Empty { .. })
        ));
        // Corrupt file: refused.
        let bad = tempfile::tempdir().unwrap();
        write_lists(bad.path());
        std::fs::write(
            bad.path().join("adult/domains"),
            "ok.test\n\u{0}\u{1}garbage here\nnot a name!\n",
        )
        .unwrap();
        assert!(matches!(
            install(bad.path(), &dest),
            Err(ListError::Corrupt { .. })
        ));
        // Not an archive: refused.
        let junk = root.path().join("junk.tar.gz");
        std::fs::write(&junk, [0x1f, 0x8b, 1, 2, 3]).unwrap();
        assert!(install(&junk, &dest).is_err());
        assert_eq!(stamp(&dest).unwrap(), s1);
        assert_eq!(Index::load(&dest).unwrap().domain_count(), 4);
    }

    #[test]
    fn installs_a_tar_gz_archive() {
        let src = tempfile::tempdir().unwrap();
        let tree = src.path().join("blacklists");
        write_lists(&tree);
        let archive = src.path().join("blacklists.tar.gz");
        let f = std::fs::File::create(&archive).unwrap();
        let gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        b.append_dir_all("blacklists", &tree).unwrap();
        b.into_inner().unwrap().finish().unwrap();
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("lists");
        let done = install(&archive, &dest).unwrap();
        assert_eq!(done.categories.len(), 3);
        assert!(dest.join("adult/domains").is_file());
    }

    /// The install through a recording host (no root, nothing written on
    /// the machine): checked first, then one replace of the directory; a
    /// broken set never reaches the host.
    #[test]
    fn install_goes_through_the_host() {
        let src = tempfile::tempdir().unwrap();
        write_lists(&src.path().join("blacklists"));
        let host = crate::host::RecordingHost::new();
        let dest = Path::new("/var/lib/preau/lists");
        let done = install_on(&host, src.path(), dest).unwrap();
        assert_eq!((done.categories.len(), done.domains), (3, 4));
        assert_eq!(host.log(), vec!["replace dir /var/lib/preau/lists (8 files)"]);
        assert_eq!(
            host.text("/var/lib/preau/lists/adult/domains").as_deref(),
            Some("example-x.test\nWWW.Other.test\n# comment\n\n")
        );
        assert!(host.text("/var/lib/preau/lists/.generation").is_some());
        let bad = tempfile::tempdir().unwrap();
        write_lists(bad.path());
        std::fs::write(
            bad.path().join("adult/domains"),
            "\u{0}\u{1}garbage\nnot a name!\n",
        )
        .unwrap();
        host.clear_log();
        assert!(matches!(
            install_on(&host, bad.path(), dest),
            Err(ListError::Corrupt { .. })
        ));
        assert!(host.log().is_empty(), "{:?}", host.log());
    }

    #[test]
    fn suffixes_of_an_ip_literal_are_not_walked() {
        let mut n = 0;
        for_each_suffix(b"10.0.0.1", |_, _| n += 1);
        assert_eq!(n, 1);
        let mut n = 0;
        for_each_suffix(b"a.b.c", |_, _| n += 1);
        assert_eq!(n, 3);
        let mut full = 0;
        for_each_suffix(b"a.b.c", |h, at| {
            if at == 0 {
                full = h
            }
        });
        assert_eq!(full, name_hash(b"a.b.c"));
    }
}

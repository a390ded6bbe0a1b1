//! Importers: SIECLE, STS-web and CSV files read into a [`Snapshot`] of
//! the establishment, then compared with the directory ([`plan`]) and
//! applied in one transaction ([`apply`]).
//!
//! The format of an XML file is recognised from its root element
//! (`BEE_ELEVES`, `BEE_RESPONSABLES`, `STS_EDT`), not from its name; a
//! `.zip` is opened and every `.xml`/`.csv` inside it read. Each file
//! "covers" the kinds of people it lists (students, parents, or teachers and
//! staff; a CSV covers the kinds it holds): a person of a covered kind who
//! is no longer in the files is leaving. Nothing is written while reading:
//! any error (malformed or truncated file, wrong encoding, duplicated key,
//! another establishment's file) stops the import before the directory is
//! touched.

mod csv;
mod diff;
mod formats;
pub mod xml;

pub use diff::{ApplyError, ApplyOptions, ApplySummary, Entry, ImportPlan, PlanOptions, apply, plan};

use super::{Kind, StructureKind};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;
use std::path::Path;

/// Why a file cannot be imported: file, line, element, what and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub file: String,
    /// 1-based; 0 when not about a line.
    pub line: usize,
    pub element: String,
    pub message: String,
    pub hint: Option<String>,
}

impl ImportError {
    pub fn new(file: &str, line: usize, element: &str, message: impl Into<String>) -> ImportError {
        ImportError {
            file: file.into(),
            line,
            element: element.into(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> ImportError {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if !self.element.is_empty() {
            write!(f, ": <{}>", self.element)?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n    help: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportError {}

/// A person as the files describe them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Incoming {
    pub kind: Option<Kind>,
    /// siecle, sts or csv.
    pub source: &'static str,
    /// The stable key: ELEVE_ID, PERSONNE_ID, INDIVIDU@ID or the CSV key.
    pub key: String,
    pub ine: Option<String>,
    pub last_name: String,
    pub first_name: String,
    /// YYYY-MM-DD.
    pub birth_date: Option<String>,
    pub function: Option<String>,
    pub email: Option<String>,
    /// Postal address, lines separated by newlines (parents).
    pub postal_address: Option<String>,
    /// Classes and groups (students).
    pub structures: BTreeSet<(StructureKind, String)>,
    /// Left the establishment (past DATE_SORTIE).
    pub departed: bool,
    /// A student listed without a class: no new account; an existing one
    /// is kept as it is.
    pub unplaced: bool,
    /// Where the person is described, for messages.
    pub file: String,
    pub line: usize,
}

impl Incoming {
    pub fn kind(&self) -> Kind {
        self.kind.unwrap_or(Kind::Staff)
    }
}

/// A parent–child link, by the keys of the files.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Link {
    pub parent_key: String,
    pub child_key: String,
    pub legal: i64,
    pub relation: Option<String>,
}

/// A teaching service, by keys.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServiceIn {
    pub teacher_key: String,
    pub subject: String,
    pub structure: (StructureKind, String),
}

/// Everything the files say about the establishment.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub files: Vec<String>,
    /// (kind, source) pairs the files cover: absent people of these leave.
    pub covers: BTreeSet<(Kind, &'static str)>,
    /// People by (kind, key).
    pub people: BTreeMap<(Kind, String), Incoming>,
    /// Classes and groups with their labels.
    pub structures: BTreeMap<(StructureKind, String), String>,
    pub group_classes: BTreeSet<(String, String)>,
    pub subjects: BTreeMap<String, (String, String)>,
    /// Some when an STS file was read: services and head teachers are
    /// replaced as a whole.
    pub services: Option<BTreeSet<ServiceIn>>,
    pub head_teachers: BTreeSet<(String, String)>,
    /// Some when a parents file was read.
    pub links: Option<BTreeSet<Link>>,
    /// Students listed without a class: not given an account.
    pub warnings: Vec<String>,
    /// School year of the files (e.g. 2026), when they say.
    pub year: Option<String>,
    /// Who holds each INE, to refuse one given to two students.
    ines: BTreeMap<String, (Kind, String)>,
}

/// Reading options.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The establishment's UAI: a file of another establishment is refused.
    pub uai: String,
    /// Today, YYYY-MM-DD: a DATE_SORTIE before it means departed.
    pub today: String,
    /// Pseudo-classes that mean "no class" (SIECLE's `Inactifs`), compared
    /// without regard to case.
    pub inactive_classes: Vec<String>,
}

impl ReadOptions {
    /// Options for an import into this establishment today.
    pub fn new(uai: &str, accounts: &crate::modules::accounts::settings::AccountsSettings) -> ReadOptions {
        ReadOptions {
            uai: uai.to_string(),
            today: today(),
            inactive_classes: accounts.inactive_classes.clone(),
        }
    }

    /// Whether a class code is one of the pseudo-classes of leavers.
    pub fn is_inactive_class(&self, code: &str) -> bool {
        self.inactive_classes
            .iter()
            .any(|c| c.eq_ignore_ascii_case(code.trim()))
    }
}

impl Snapshot {
    /// Adds a person, refusing a key given twice, and a national student
    /// number (INE) given to two students.
    fn add(&mut self, p: Incoming) -> Result<(), ImportError> {
        let k = (p.kind(), p.key.clone());
        let ine = p.ine.as_deref().map(str::trim).filter(|i| !i.is_empty());
        if let Some(other) = ine
            .and_then(|i| self.ines.get(i))
            .and_then(|key| self.people.get(key))
            .filter(|o| o.key != p.key)
        {
            return Err(ImportError::new(
                &p.file,
                p.line,
                "ID_NATIONAL",
                format!(
                    "INE {} (national student number) is given to two students: {} {} (key {}, {}:{}) and {} {} (key {}, line {})",
                    ine.unwrap_or_default(),
                    other.first_name,
                    other.last_name,
                    other.key,
                    other.file,
                    other.line,
                    p.first_name,
                    p.last_name,
                    p.key,
                    p.line
                ),
            )
            .hint("an INE identifies one student: have the school office correct it in SIECLE, then export again"));
        }
        if let Some(first) = self.people.get(&k) {
            return Err(ImportError::new(
                &p.file,
                p.line,
                "",
                format!(
                    "the {} key {} is given twice (first at {}:{})",
                    p.kind(),
                    p.key,
                    first.file,
                    first.line
                ),
            )
            .hint("a national key identifies one person: the export is damaged; export it again"));
        }
        if let Some(ine) = ine {
            self.ines.insert(ine.to_string(), k.clone());
        }
        self.people.insert(k, p);
        Ok(())
    }
}

/// Reads every file into one snapshot, or stops at the first error.
pub fn read_files(paths: &[&Path], opts: &ReadOptions) -> Result<Snapshot, ImportError> {
    let mut snap = Snapshot::default();
    for path in paths {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| {
            ImportError::new(&name, 0, "", format!("cannot open: {e}"))
                .hint("check the path and the permissions")
        })?;
        read_source(&name, file, opts, &mut snap)?;
    }
    snap.finish();
    Ok(snap)
}

/// Reads files already in memory (the web console's uploads), each
/// `(name, contents)`, exactly as [`read_files`] reads files on disk.
pub fn read_uploads(files: &[(String, Vec<u8>)], opts: &ReadOptions) -> Result<Snapshot, ImportError> {
    let mut snap = Snapshot::default();
    for (name, bytes) in files {
        read_source(name, std::io::Cursor::new(bytes.as_slice()), opts, &mut snap)?;
    }
    snap.finish();
    Ok(snap)
}

/// One file, or every `.xml`/`.csv` of a `.zip`.
fn read_source(
    name: &str,
    file: impl Read + std::io::Seek,
    opts: &ReadOptions,
    snap: &mut Snapshot,
) -> Result<(), ImportError> {
    let lower = name.to_lowercase();
    if lower.ends_with(".zip") {
        let mut zip = zip::ZipArchive::new(file).map_err(|e| {
            ImportError::new(name, 0, "", format!("not a readable zip archive: {e}"))
                .hint("download the export again")
        })?;
        let mut any = false;
        for i in 0..zip.len() {
            let entry = zip
                .by_index(i)
                .map_err(|e| ImportError::new(name, 0, "", format!("cannot read entry {i}: {e}")))?;
            let entry_name = entry
                .name()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| format!("entry{i}"));
            let lower = entry_name.to_lowercase();
            if !(lower.ends_with(".xml") || lower.ends_with(".csv")) || entry.is_dir() {
                continue;
            }
            any = true;
            let label = format!("{name}:{entry_name}");
            read_one(&label, &lower, entry, opts, snap)?;
        }
        if !any {
            return Err(ImportError::new(
                name,
                0,
                "",
                "the archive holds no .xml or .csv file",
            ));
        }
        Ok(())
    } else {
        read_one(name, &lower, file, opts, snap)
    }
}

/// Reads one file from a reader (tests, zip entries).
pub fn read_one(
    name: &str,
    lower_name: &str,
    input: impl Read,
    opts: &ReadOptions,
    snap: &mut Snapshot,
) -> Result<(), ImportError> {
    snap.files.push(name.to_string());
    if lower_name.ends_with(".csv") {
        csv::read(name, input, snap)
    } else {
        formats::read_xml(name, input, opts, snap)
    }
}

impl Snapshot {
    /// Derived data once every file is read: structures named by
    /// memberships, links only to known people.
    pub fn finish(&mut self) {
        let mut extra = Vec::new();
        for p in self.people.values() {
            for s in &p.structures {
                if !self.structures.contains_key(s) {
                    extra.push(s.clone());
                }
            }
        }
        for s in extra {
            let label = s.1.clone();
            self.structures.insert(s, label);
        }
        if let Some(services) = &self.services {
            for s in services {
                if !self.structures.contains_key(&s.structure) {
                    self.structures.insert(s.structure.clone(), s.structure.1.clone());
                }
            }
        }
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.people.keys().filter(|(k, _)| *k == kind).count()
    }
}

/// `DD/MM/YYYY` or `YYYY-MM-DD` to `YYYY-MM-DD`, for a day that exists
/// (`07/31/1994` and `hier` are not dates).
pub fn iso_date(s: &str) -> Option<String> {
    let s = s.trim();
    let b = s.as_bytes();
    let (y, m, d) = if b.len() == 10 && b[2] == b'/' && b[5] == b'/' {
        (&s[6..10], &s[3..5], &s[0..2])
    } else if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        (&s[0..4], &s[5..7], &s[8..10])
    } else {
        return None;
    };
    if ![y, m, d].iter().all(|p| p.bytes().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let (yn, mn, dn): (u32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (yn % 4 == 0 && yn % 100 != 0) || yn % 400 == 0;
    let days = match mn {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1900..=2999).contains(&yn) || dn == 0 || dn > days {
        return None;
    }
    Some(format!("{y}-{m}-{d}"))
}

/// A date field of a record: unset when empty; when it is not a real day,
/// a warning naming file, line and field, and unset (never an impossible
/// value stored).
pub(crate) fn date_field(
    value: Option<&str>,
    field: &str,
    file: &str,
    line: usize,
    warnings: &mut Vec<String>,
) -> Option<String> {
    let raw = value?.trim();
    if raw.is_empty() {
        return None;
    }
    let date = iso_date(raw);
    if date.is_none() {
        warnings.push(format!(
            "{file}:{line}: <{field}> \"{raw}\" is not a date (DD/MM/YYYY): left unset"
        ));
    }
    date
}

/// Today's date (UTC), YYYY-MM-DD.
pub fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0) as i64;
    civil_from_days(days)
}

/// `YYYY-MM-DD` of a day count since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> String {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

/// A date `days` after today.
pub fn days_from_today(days: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0) as i64;
    civil_from_days(now + days)
}

#[cfg(test)]
pub(crate) mod fixture_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(iso_date("15/01/2026").as_deref(), Some("2026-01-15"));
        assert_eq!(iso_date("1980-05-17").as_deref(), Some("1980-05-17"));
        assert_eq!(iso_date(""), None);
        // Regression (issue 15): stored as "1994-31-07" before.
        assert_eq!(iso_date("07/31/1994"), None);
        assert_eq!(iso_date("hier"), None);
        assert_eq!(iso_date("29/02/2024").as_deref(), Some("2024-02-29"));
        assert_eq!(iso_date("29/02/2023"), None);
        assert_eq!(iso_date("31/04/2010"), None);
        assert_eq!(iso_date("00/01/2010"), None);
        assert_eq!(iso_date("1994-13-01"), None);
        assert_eq!(iso_date("+1/01/2010"), None);
        let mut w = Vec::new();
        assert_eq!(
            date_field(Some("07/31/1994"), "DATE_NAISS", "e.xml", 12, &mut w),
            None
        );
        assert_eq!(date_field(Some("  "), "DATE_NAISS", "e.xml", 13, &mut w), None);
        assert_eq!(
            w,
            ["e.xml:12: <DATE_NAISS> \"07/31/1994\" is not a date (DD/MM/YYYY): left unset"]
        );
        assert_eq!(civil_from_days(0), "1970-01-01");
        assert_eq!(civil_from_days(20_000), "2024-10-04");
    }
}

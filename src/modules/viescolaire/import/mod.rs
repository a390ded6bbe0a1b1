//! Importers of the timetable (a documented CSV, Index Education EDT's
//! `EXP_COURS.xml`) and of holidays (iCalendar). Each reads the whole
//! file into raw rows, resolves them against the directory (teachers,
//! classes and groups, teaching services), checks that no two slots share
//! a room at the same time, and returns every problem with its file and
//! line; the caller stores nothing unless the whole file is right.
//! Formats: docs/viescolaire.md.

pub mod csv;
pub mod edt;
pub mod ics;

use super::calendar::{Date, Time};
use super::queries::NewSlot;
use super::timetable::{self, Service, Slot, Weeks};
pub use crate::directory::import::ImportError;
use rusqlite::Connection;
use std::collections::{BTreeSet, HashMap};

/// Who teaches a row: a login (CSV) or a name (EDT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeacherRef {
    Login(String),
    Name { last: String, first: String },
}

/// One slot as a file writes it, before the directory is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSlot {
    pub line: usize,
    pub teacher: TeacherRef,
    /// A subject code, short name or label.
    pub subject: String,
    pub subject_label: String,
    /// A class or group code.
    pub structure: String,
    pub weekday: u8,
    pub starts: Time,
    pub ends: Time,
    pub room: String,
    pub weeks: Weeks,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    /// Rows of one course (several classes or teachers) share a room.
    pub course: Option<String>,
}

fn norm(s: &str) -> String {
    deunicode::deunicode(s)
        .to_uppercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// The directory as the importers need it.
pub struct Lookup {
    logins: HashMap<String, i64>,
    names: HashMap<String, Vec<i64>>,
    structures: HashMap<String, i64>,
    /// normalised code, short name and label → subject code.
    subjects: HashMap<String, String>,
    services: BTreeSet<(i64, String, i64)>,
}

impl Lookup {
    pub fn load(conn: &Connection) -> rusqlite::Result<Lookup> {
        let mut logins = HashMap::new();
        let mut names: HashMap<String, Vec<i64>> = HashMap::new();
        let mut stmt = conn.prepare(
            "SELECT id, login, last_name, first_name FROM people
             WHERE status = 'active' AND (kind = 'teacher' OR (kind = 'staff' AND function IN ('ENS', 'DOC', 'EDU', 'DIR')))",
        )?;
        for row in stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })? {
            let (id, login, last, first) = row?;
            logins.insert(login, id);
            names
                .entry(format!("{}|{}", norm(&last), norm(&first)))
                .or_default()
                .push(id);
        }
        let mut structures = HashMap::new();
        let mut stmt = conn.prepare("SELECT id, code FROM structures WHERE active = 1 ORDER BY kind DESC")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
            let (id, code) = row?;
            // Classes win over groups of the same code (ordered last).
            structures.insert(norm(&code), id);
        }
        let mut subjects = HashMap::new();
        let mut stmt = conn.prepare("SELECT code, short, label FROM subjects")?;
        for row in stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })? {
            let (code, short, label) = row?;
            for key in [&label, &short, &code] {
                subjects.insert(norm(key), code.clone());
            }
        }
        let mut stmt = conn.prepare("SELECT teacher_id, subject_code, structure_id FROM services")?;
        let services = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Lookup {
            logins,
            names,
            structures,
            subjects,
            services,
        })
    }

    fn teacher(&self, t: &TeacherRef) -> Result<i64, String> {
        match t {
            TeacherRef::Login(l) => self.logins.get(l.trim()).copied().ok_or_else(|| {
                format!(
                    "unknown teacher \"{}\": no active teacher has this login",
                    l.trim()
                )
            }),
            TeacherRef::Name { last, first } => {
                match self
                    .names
                    .get(&format!("{}|{}", norm(last), norm(first)))
                    .map(Vec::as_slice)
                {
                    Some([id]) => Ok(*id),
                    Some([_, _, ..]) => Err(format!(
                        "two teachers are named {first} {last}: enter this course by login in the CSV"
                    )),
                    _ => Err(format!(
                        "unknown teacher \"{first} {last}\": no active teacher of the directory has this name"
                    )),
                }
            }
        }
    }

    fn structure(&self, code: &str) -> Result<i64, String> {
        let c = code.trim().trim_start_matches('[').trim_end_matches(']');
        self.structures
            .get(&norm(c))
            .copied()
            .ok_or_else(|| format!("unknown class or group \"{c}\""))
    }

    fn subject(&self, teacher: i64, structure: i64, code: &str, label: &str) -> Result<String, String> {
        let known = [code, label]
            .iter()
            .filter(|s| !s.trim().is_empty())
            .find_map(|s| self.subjects.get(&norm(s)).cloned());
        let taught: Vec<&String> = self
            .services
            .iter()
            .filter(|(t, _, s)| *t == teacher && *s == structure)
            .map(|(_, sub, _)| sub)
            .collect();
        match known {
            Some(s) if taught.contains(&&s) => Ok(s),
            Some(s) => Err(format!(
                "the directory has no teaching service of this teacher in {s} for this class or group (import STS-web first)"
            )),
            None if taught.len() == 1 => Ok(taught[0].clone()),
            None => Err(format!("unknown subject \"{code}\"")),
        }
    }
}

/// Resolves raw rows against the directory and checks rooms: the slots
/// to store, or every problem found.
pub fn resolve(
    file: &str,
    lookup: &Lookup,
    raws: &[RawSlot],
    source: &str,
) -> Result<Vec<NewSlot>, Vec<ImportError>> {
    let mut problems = Vec::new();
    let mut out: Vec<(NewSlot, Option<String>, usize)> = Vec::new();
    for r in raws {
        let err = |m: String| ImportError::new(file, r.line, "", m);
        let teacher = match lookup.teacher(&r.teacher) {
            Ok(t) => t,
            Err(m) => {
                problems.push(err(m));
                continue;
            }
        };
        let structure = match lookup.structure(&r.structure) {
            Ok(s) => s,
            Err(m) => {
                problems.push(err(m));
                continue;
            }
        };
        let subject = match lookup.subject(teacher, structure, &r.subject, &r.subject_label) {
            Ok(s) => s,
            Err(m) => {
                problems.push(err(m));
                continue;
            }
        };
        if r.starts >= r.ends {
            problems.push(err(format!(
                "the lesson ends ({}) before it starts ({})",
                r.ends, r.starts
            )));
            continue;
        }
        out.push((
            NewSlot {
                slot: Slot {
                    id: out.len() as i64,
                    service: Service {
                        teacher_id: teacher,
                        subject_code: subject,
                        structure_id: structure,
                    },
                    weekday: r.weekday,
                    starts: r.starts,
                    ends: r.ends,
                    room: r.room.trim().to_string(),
                    weeks: r.weeks,
                    valid_from: r.valid_from,
                    valid_to: r.valid_to,
                },
                source: source.to_string(),
                source_key: Some(r.course.clone().unwrap_or_else(|| format!("line {}", r.line))),
            },
            r.course.clone(),
            r.line,
        ));
    }
    let pairs: Vec<(Slot, Option<String>)> =
        out.iter().map(|(n, c, _)| (n.slot.clone(), c.clone())).collect();
    for (i, j) in timetable::room_overlaps(&pairs) {
        let (a, b) = (&out[i], &out[j]);
        problems.push(ImportError::new(
            file,
            b.2,
            "",
            format!(
                "room {} is already taken at this time by the lesson of line {} ({} {}–{})",
                b.0.slot.room,
                a.2,
                super::calendar::DAY_NAMES[usize::from(a.0.slot.weekday - 1)],
                a.0.slot.starts,
                a.0.slot.ends
            ),
        ));
    }
    if problems.is_empty() {
        Ok(out.into_iter().map(|(n, _, _)| n).collect())
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

/// UTF-8 text of a file, or the line of its first invalid byte.
pub fn utf8<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, ImportError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count();
        ImportError::new(file, line, "", "the file is not UTF-8 text")
            .hint("save it as UTF-8 (in LibreOffice: Save as, Text CSV, character set Unicode (UTF-8))")
    })
}

/// All problems, one per line, for an error message.
pub fn report(problems: &[ImportError]) -> String {
    let mut s = format!("nothing was imported: {} problem(s)", problems.len());
    for p in problems {
        s.push_str("\n  ");
        s.push_str(&p.to_string().replace('\n', "\n  "));
    }
    s
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::store::Store;

    /// The demo school's directory (classes 6A and 5A, their groups,
    /// teachers with their services).
    pub fn demo() -> (tempfile::TempDir, Store) {
        let (d, mut store) = crate::directory::tests::store();
        crate::modules::accounts::demo::import_demo_school(&mut store, &Default::default()).unwrap();
        (d, store)
    }

    /// The login and full name of the teacher of `subject` in 6A.
    pub fn teacher_of(store: &Store, subject: &str) -> (String, String, String) {
        store
            .conn()
            .query_row(
                "SELECT p.login, p.last_name, p.first_name FROM services v JOIN people p ON p.id = v.teacher_id
                 JOIN structures s ON s.id = v.structure_id WHERE s.code = '6A' AND v.subject_code = ?1",
                [subject],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
    }
}

/// The format of a timetable file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Edt,
}

impl Format {
    /// From the file name: `.xml` is EDT's export, anything else CSV.
    pub fn of(name: &str) -> Format {
        if name.to_ascii_lowercase().ends_with(".xml") {
            Format::Edt
        } else {
            Format::Csv
        }
    }
}

/// What an import stored.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct Imported {
    pub slots: usize,
    pub ended: usize,
    pub replaced: usize,
}

/// Reads, resolves and stores a timetable file as the year's timetable
/// from `from` on, in one transaction; on any problem nothing is stored.
pub fn timetable(
    store: &mut crate::store::Store,
    year: &super::queries::Year,
    file: &str,
    bytes: &[u8],
    format: Format,
    from: Date,
) -> Result<Imported, Vec<ImportError>> {
    let raws = match format {
        Format::Csv => csv::read(file, bytes)?,
        Format::Edt => edt::read(file, bytes)?,
    };
    let db = |e: rusqlite::Error| vec![ImportError::new(file, 0, "", format!("database error: {e}"))];
    let lookup = Lookup::load(store.conn()).map_err(db)?;
    let source = if format == Format::Csv { "csv" } else { "edt" };
    let slots = resolve(file, &lookup, &raws, source)?;
    if slots.is_empty() {
        return Err(vec![ImportError::new(file, 0, "", "the file holds no lesson")]);
    }
    let (ended, replaced, n) = store
        .write(|tx| super::queries::replace_timetable(tx, year.id, from.max(year.starts), &slots))
        .map_err(db)?;
    Ok(Imported {
        slots: n,
        ended,
        replaced,
    })
}

/// Reads an iCalendar file and replaces the year's holidays with those
/// overlapping it; returns (kept, outside the year).
pub fn holidays(
    store: &mut crate::store::Store,
    year: &super::queries::Year,
    file: &str,
    bytes: &[u8],
) -> Result<(usize, usize), Vec<ImportError>> {
    let all = ics::read(file, bytes)?;
    let total = all.len();
    let kept: Vec<_> = all
        .into_iter()
        .filter(|(_, a, b)| *a <= year.ends && *b >= year.starts)
        .collect();
    let db = |e: rusqlite::Error| vec![ImportError::new(file, 0, "", format!("database error: {e}"))];
    store
        .write(|tx| super::queries::replace_holidays(tx, year.id, &kept))
        .map_err(db)?;
    Ok((kept.len(), total - kept.len()))
}

#[cfg(test)]
mod store_tests {
    use super::tests::{demo, teacher_of};
    use super::*;
    use crate::modules::viescolaire::queries;

    #[test]
    fn a_bad_file_stores_nothing_and_a_good_one_replaces_the_timetable() {
        let (_d, mut store) = demo();
        let d = |s| Date::parse(s).unwrap();
        let id = store
            .write(|tx| queries::set_year(tx, "2026-2027", d("2026-09-01"), d("2027-07-04"), &[]))
            .unwrap();
        let year = queries::current_year(store.conn(), d("2026-12-01"))
            .unwrap()
            .unwrap();
        assert_eq!(year.id, id);
        let (maths, ..) = teacher_of(&store, "061300");
        let good =
            format!("teacher;subject;class;day;start;end;room\n{maths};MATHS;6A;lundi;08:00;08:55;B12\n");
        let bad = format!("{good}{maths};MATHS;5A;lundi;08:30;09:25;B12\n");
        let e = timetable(
            &mut store,
            &year,
            "t.csv",
            bad.as_bytes(),
            Format::Csv,
            year.starts,
        )
        .unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(
            queries::slots(store.conn(), year.id).unwrap().is_empty(),
            "nothing stored"
        );
        let done = timetable(
            &mut store,
            &year,
            "t.csv",
            good.as_bytes(),
            Format::Csv,
            year.starts,
        )
        .unwrap();
        assert_eq!(done.slots, 1);
        // A second import replaces it.
        timetable(
            &mut store,
            &year,
            "t.csv",
            good.as_bytes(),
            Format::Csv,
            year.starts,
        )
        .unwrap();
        assert_eq!(queries::slots(store.conn(), year.id).unwrap().len(), 1);
        // Holidays: a truncated calendar changes nothing.
        let ics = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261219\nDTEND;VALUE=DATE:20270104\nSUMMARY:Noël\nEND:VEVENT\n\
                   BEGIN:VEVENT\nDTSTART;VALUE=DATE:20250101\nSUMMARY:Old\nEND:VEVENT\nEND:VCALENDAR\n";
        assert!(holidays(&mut store, &year, "h.ics", &ics.as_bytes()[..60]).is_err());
        assert!(queries::holidays(store.conn(), year.id).unwrap().is_empty());
        assert_eq!(holidays(&mut store, &year, "h.ics", ics.as_bytes()), Ok((1, 1)));
        assert_eq!(queries::holidays(store.conn(), year.id).unwrap()[0].0, "Noël");
    }
}

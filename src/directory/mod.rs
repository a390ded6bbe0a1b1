//! The school directory: people (students, teachers, staff, parents), their
//! classes and groups, parent links and teaching services, in the store.
//!
//! This is the read and write API other modules build on (the `shares`
//! module asks for a class's students, a class's teachers, a group's
//! members). Everything takes a `rusqlite::Connection` (a `Transaction`
//! derefs to one), so callers choose the transaction.
//!
//! - [`login`]: logins from names (pure, deterministic);
//! - [`password`]: initial passwords, argon2id and NT hashes;
//! - [`import`]: SIECLE, STS-web and CSV importers, and the import diff.
//!
//! Unix names: a person's Unix user is their login; a class's or group's
//! Unix group is [`Structure::group_name`]; role groups are named in the
//! `[accounts]` settings.

pub mod import;
pub mod login;
pub mod password;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a person is in the establishment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Student,
    Teacher,
    Staff,
    Parent,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Student, Kind::Teacher, Kind::Staff, Kind::Parent];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Student => "student",
            Kind::Teacher => "teacher",
            Kind::Staff => "staff",
            Kind::Parent => "parent",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the person gets a Unix and Samba account (parents use the
    /// web application only).
    pub fn has_system_account(self) -> bool {
        self != Kind::Parent
    }

    /// French label for sheets and the console.
    pub fn label_fr(self) -> &'static str {
        match self {
            Kind::Student => "élève",
            Kind::Teacher => "enseignant",
            Kind::Staff => "personnel",
            Kind::Parent => "responsable",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an account can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Disabled,
    /// Disabled and due for deletion after `delete_after` (`accounts purge`).
    Deleting,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Disabled => "disabled",
            Status::Deleting => "deleting",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [Status::Active, Status::Disabled, Status::Deleting]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A class (division) or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StructureKind {
    Class,
    Group,
}

impl StructureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StructureKind::Class => "class",
            StructureKind::Group => "group",
        }
    }

    pub fn parse(s: &str) -> Option<StructureKind> {
        match s {
            "class" => Some(StructureKind::Class),
            "group" => Some(StructureKind::Group),
            _ => None,
        }
    }
}

/// One person of the directory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Person {
    pub id: i64,
    pub kind: Kind,
    /// siecle, sts, csv or manual.
    pub source: String,
    pub national_key: Option<String>,
    pub ine: Option<String>,
    pub last_name: String,
    pub first_name: String,
    /// YYYY-MM-DD.
    pub birth_date: Option<String>,
    /// STS-web function of staff (ENS, DIR, EDU, ADM, DOC...).
    pub function: Option<String>,
    pub email: Option<String>,
    /// Postal address, lines separated by newlines (parents).
    pub postal_address: Option<String>,
    pub login: String,
    /// Unix uid; None for parents.
    pub uid: Option<u32>,
    pub status: Status,
    pub disabled_at: Option<String>,
    pub delete_after: Option<String>,
    pub must_change: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl Person {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    pub fn is_active(&self) -> bool {
        self.status == Status::Active
    }
}

const PERSON_COLS: &str = "id, kind, source, national_key, ine, last_name, first_name, birth_date, \
     function, email, login, uid, status, disabled_at, delete_after, must_change, created_at, updated_at, postal_address";

fn person_from_row(r: &Row<'_>) -> rusqlite::Result<Person> {
    let kind: String = r.get(1)?;
    let status: String = r.get(12)?;
    Ok(Person {
        id: r.get(0)?,
        kind: Kind::parse(&kind).unwrap_or(Kind::Staff),
        source: r.get(2)?,
        national_key: r.get(3)?,
        ine: r.get(4)?,
        last_name: r.get(5)?,
        first_name: r.get(6)?,
        birth_date: r.get(7)?,
        function: r.get(8)?,
        email: r.get(9)?,
        postal_address: r.get(18)?,
        login: r.get(10)?,
        uid: r.get::<_, Option<i64>>(11)?.map(|u| u as u32),
        status: Status::parse(&status).unwrap_or(Status::Disabled),
        disabled_at: r.get(13)?,
        delete_after: r.get(14)?,
        must_change: r.get(15)?,
        created_at: r.get(16)?,
        updated_at: r.get(17)?,
    })
}

/// A class or group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Structure {
    pub id: i64,
    pub kind: StructureKind,
    /// The code in the national exports, e.g. "6A" or "6LATIN".
    pub code: String,
    pub label: String,
    /// Its Unix group, e.g. "c-6a" or "g-6latin".
    pub group_name: String,
    pub gid: u32,
    /// False once no import mentions it any more.
    pub active: bool,
}

fn structure_from_row(r: &Row<'_>) -> rusqlite::Result<Structure> {
    let kind: String = r.get(1)?;
    Ok(Structure {
        id: r.get(0)?,
        kind: StructureKind::parse(&kind).unwrap_or(StructureKind::Group),
        code: r.get(2)?,
        label: r.get(3)?,
        group_name: r.get(4)?,
        gid: r.get::<_, i64>(5)? as u32,
        active: r.get(6)?,
    })
}

const STRUCT_COLS: &str = "s.id, s.kind, s.code, s.label, s.group_name, s.gid, s.active";

/// A teaching service: a teacher teaches a subject to a class or group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub teacher_login: String,
    pub subject_code: String,
    pub subject_label: Option<String>,
    pub structure_kind: StructureKind,
    pub structure_code: String,
}

/// Which people to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub kind: Option<Kind>,
    pub status: Option<Status>,
    /// Only members of this class or group code.
    pub structure: Option<String>,
}

/// The directory's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub students: i64,
    pub teachers: i64,
    pub staff: i64,
    pub parents: i64,
    pub disabled: i64,
    pub classes: i64,
    pub groups: i64,
}

/// People matching `filter`, by kind then name.
pub fn people(conn: &Connection, filter: &Filter) -> rusqlite::Result<Vec<Person>> {
    let mut sql = format!("SELECT {PERSON_COLS} FROM people p WHERE 1=1");
    let mut args: Vec<String> = Vec::new();
    if let Some(k) = filter.kind {
        args.push(k.as_str().into());
        sql.push_str(&format!(" AND p.kind = ?{}", args.len()));
    }
    if let Some(s) = filter.status {
        args.push(s.as_str().into());
        sql.push_str(&format!(" AND p.status = ?{}", args.len()));
    }
    if let Some(code) = &filter.structure {
        args.push(code.clone());
        sql.push_str(&format!(
            " AND p.id IN (SELECT m.person_id FROM memberships m JOIN structures s ON s.id = m.structure_id WHERE s.code = ?{})",
            args.len()
        ));
    }
    sql.push_str(" ORDER BY p.kind, p.last_name, p.first_name, p.login");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), person_from_row)?;
    rows.collect()
}

/// A people search as a full-text query (pure): every word, folded to
/// lower-case ASCII and cut at what is not a letter or digit, is a prefix
/// term, all required (`"lea"* AND "mar"*`); None when there is no word.
pub fn search_query(q: &str) -> Option<String> {
    let folded = deunicode::deunicode(q).to_lowercase();
    let terms: Vec<String> = folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

/// People whose names, login or class and group codes start with every
/// word of `q` (accents and case aside), through the `people_search`
/// full-text index: at most `limit` by name, each with their class, and
/// how many match in all.
pub fn search(conn: &Connection, q: &str, limit: usize) -> rusqlite::Result<(Vec<(Person, String)>, usize)> {
    let Some(query) = search_query(q) else {
        return Ok((Vec::new(), 0));
    };
    let total: i64 = conn
        .prepare_cached("SELECT count(*) FROM people_search WHERE people_search MATCH ?1")?
        .query_row([&query], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PERSON_COLS},
                coalesce((SELECT s.code FROM memberships m JOIN structures s ON s.id = m.structure_id
                           WHERE m.person_id = p.id AND s.kind = 'class' LIMIT 1), '')
           FROM people_search JOIN people p ON p.id = people_search.rowid
          WHERE people_search MATCH ?1
          ORDER BY p.last_name, p.first_name, p.login LIMIT ?2"
    ))?;
    let cols = PERSON_COLS.split(',').count();
    let rows = stmt.query_map(rusqlite::params![query, limit as i64], |r| {
        Ok((person_from_row(r)?, r.get::<_, String>(cols)?))
    })?;
    Ok((rows.collect::<Result<_, _>>()?, total as usize))
}

/// Every person with a Unix account (not parents), any status.
pub fn system_accounts(conn: &Connection) -> rusqlite::Result<Vec<Person>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PERSON_COLS} FROM people WHERE kind != 'parent' AND uid IS NOT NULL ORDER BY uid"
    ))?;
    let rows = stmt.query_map([], person_from_row)?;
    rows.collect()
}

pub fn person_by_login(conn: &Connection, login: &str) -> rusqlite::Result<Option<Person>> {
    conn.prepare_cached(&format!("SELECT {PERSON_COLS} FROM people WHERE login = ?1"))?
        .query_row([login], person_from_row)
        .optional()
}

pub fn person_by_id(conn: &Connection, id: i64) -> rusqlite::Result<Option<Person>> {
    conn.prepare_cached(&format!("SELECT {PERSON_COLS} FROM people WHERE id = ?1"))?
        .query_row([id], person_from_row)
        .optional()
}

/// Classes or groups (active ones unless `all`), by code.
pub fn structures(
    conn: &Connection,
    kind: Option<StructureKind>,
    all: bool,
) -> rusqlite::Result<Vec<Structure>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {STRUCT_COLS} FROM structures s
         WHERE (?1 IS NULL OR s.kind = ?1) AND (?2 OR s.active)
         ORDER BY s.kind, s.code"
    ))?;
    let rows = stmt.query_map(params![kind.map(|k| k.as_str()), all], structure_from_row)?;
    rows.collect()
}

pub fn classes(conn: &Connection) -> rusqlite::Result<Vec<Structure>> {
    structures(conn, Some(StructureKind::Class), false)
}

pub fn groups(conn: &Connection) -> rusqlite::Result<Vec<Structure>> {
    structures(conn, Some(StructureKind::Group), false)
}

/// A class or group by code (a class first if both exist).
pub fn structure(conn: &Connection, code: &str) -> rusqlite::Result<Option<Structure>> {
    conn.query_row(
        &format!("SELECT {STRUCT_COLS} FROM structures s WHERE s.code = ?1 ORDER BY s.kind LIMIT 1"),
        [code],
        structure_from_row,
    )
    .optional()
}

/// Active students of a class or group, by name.
pub fn students_of(conn: &Connection, code: &str) -> rusqlite::Result<Vec<Person>> {
    people(
        conn,
        &Filter {
            kind: Some(Kind::Student),
            status: Some(Status::Active),
            structure: Some(code.into()),
        },
    )
}

/// Active teachers with a teaching service in a class or group (for a
/// class, also those teaching one of its groups is NOT included: only
/// direct services), by name.
pub fn teachers_of(conn: &Connection, code: &str) -> rusqlite::Result<Vec<Person>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PERSON_COLS} FROM people WHERE status = 'active' AND id IN (
             SELECT v.teacher_id FROM services v JOIN structures s ON s.id = v.structure_id
             WHERE s.code = ?1)
         ORDER BY last_name, first_name, login"
    ))?;
    let rows = stmt.query_map([code], person_from_row)?;
    rows.collect()
}

/// Head teachers (professeurs principaux) of a class.
pub fn head_teachers_of(conn: &Connection, class_code: &str) -> rusqlite::Result<Vec<Person>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PERSON_COLS} FROM people WHERE id IN (
             SELECT h.teacher_id FROM head_teachers h JOIN structures s ON s.id = h.class_id
             WHERE s.code = ?1 AND s.kind = 'class')
         ORDER BY last_name, first_name"
    ))?;
    let rows = stmt.query_map([class_code], person_from_row)?;
    rows.collect()
}

/// The classes and groups a person belongs to (students), or teaches
/// (teachers).
pub fn structures_of(conn: &Connection, person_id: i64) -> rusqlite::Result<Vec<Structure>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT DISTINCT {STRUCT_COLS} FROM structures s WHERE s.id IN (
             SELECT structure_id FROM memberships WHERE person_id = ?1
             UNION SELECT structure_id FROM services WHERE teacher_id = ?1)
         ORDER BY s.kind, s.code"
    ))?;
    let rows = stmt.query_map([person_id], structure_from_row)?;
    rows.collect()
}

/// The class (division) of a student, if any.
pub fn class_of(conn: &Connection, person_id: i64) -> rusqlite::Result<Option<Structure>> {
    conn.prepare_cached(&format!(
        "SELECT {STRUCT_COLS} FROM structures s JOIN memberships m ON m.structure_id = s.id
         WHERE m.person_id = ?1 AND s.kind = 'class' LIMIT 1"
    ))?
    .query_row([person_id], structure_from_row)
    .optional()
}

/// Teaching services of a teacher, or of everyone (`None`).
pub fn services(conn: &Connection, teacher_id: Option<i64>) -> rusqlite::Result<Vec<Service>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.login, v.subject_code, sub.label, s.kind, s.code
         FROM services v JOIN people p ON p.id = v.teacher_id
         JOIN structures s ON s.id = v.structure_id
         LEFT JOIN subjects sub ON sub.code = v.subject_code
         WHERE ?1 IS NULL OR v.teacher_id = ?1
         ORDER BY p.login, s.code, v.subject_code",
    )?;
    let rows = stmt.query_map([teacher_id], |r| {
        let kind: String = r.get(3)?;
        Ok(Service {
            teacher_login: r.get(0)?,
            subject_code: r.get(1)?,
            subject_label: r.get(2)?,
            structure_kind: StructureKind::parse(&kind).unwrap_or(StructureKind::Group),
            structure_code: r.get(4)?,
        })
    })?;
    rows.collect()
}

/// Parents (legal guardians first) of a student.
pub fn parents_of(conn: &Connection, child_id: i64) -> rusqlite::Result<Vec<Person>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PERSON_COLS} FROM people p JOIN parent_links l ON l.parent_id = p.id
         WHERE l.child_id = ?1 ORDER BY l.legal = 0, l.legal, p.last_name"
    ))?;
    let rows = stmt.query_map([child_id], person_from_row)?;
    rows.collect()
}

/// Children a parent is a legal guardian of: those whose school life
/// (marks, absences, report cards, their person page) he may read. A
/// non-legal contact ("personne à contacter") is called, not informed.
pub fn legal_children_of(conn: &Connection, parent_id: i64) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.login FROM people p JOIN parent_links l ON l.child_id = p.id
         WHERE l.parent_id = ?1 AND l.legal > 0 ORDER BY p.login",
    )?;
    let rows = stmt.query_map([parent_id], |r| r.get(0))?;
    rows.collect()
}

/// Children of a parent.
pub fn children_of(conn: &Connection, parent_id: i64) -> rusqlite::Result<Vec<Person>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {PERSON_COLS} FROM people WHERE id IN (SELECT child_id FROM parent_links WHERE parent_id = ?1)
         ORDER BY last_name, first_name"
    ))?;
    let rows = stmt.query_map([parent_id], person_from_row)?;
    rows.collect()
}

/// Figures for status and the console.
pub fn counts(conn: &Connection) -> rusqlite::Result<Counts> {
    conn.query_row(
        "SELECT
            (SELECT count(*) FROM people WHERE kind = 'student' AND status = 'active'),
            (SELECT count(*) FROM people WHERE kind = 'teacher' AND status = 'active'),
            (SELECT count(*) FROM people WHERE kind = 'staff' AND status = 'active'),
            (SELECT count(*) FROM people WHERE kind = 'parent' AND status = 'active'),
            (SELECT count(*) FROM people WHERE status != 'active'),
            (SELECT count(*) FROM structures WHERE kind = 'class' AND active),
            (SELECT count(*) FROM structures WHERE kind = 'group' AND active)",
        [],
        |r| {
            Ok(Counts {
                students: r.get(0)?,
                teachers: r.get(1)?,
                staff: r.get(2)?,
                parents: r.get(3)?,
                disabled: r.get(4)?,
                classes: r.get(5)?,
                groups: r.get(6)?,
            })
        },
    )
}

/// Current time as the store writes it.
pub const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";

/// Sets a person's status. Disabling records the date and, for `Deleting`,
/// `delete_after` (YYYY-MM-DD). Returns false when the login is unknown.
pub fn set_status(
    conn: &Connection,
    login: &str,
    status: Status,
    delete_after: Option<&str>,
) -> rusqlite::Result<bool> {
    let n = conn.execute(
        &format!(
            "UPDATE people SET status = ?2,
                 disabled_at = CASE WHEN ?2 = 'active' THEN NULL ELSE coalesce(disabled_at, {NOW}) END,
                 delete_after = CASE WHEN ?2 = 'active' THEN NULL ELSE ?3 END,
                 updated_at = {NOW}
             WHERE login = ?1"
        ),
        params![login, status.as_str(), delete_after],
    )?;
    Ok(n == 1)
}

/// Whether a login was ever given to anybody (logins are never reused).
pub fn login_taken(conn: &Connection, login: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM logins_used WHERE login = ?1)
             OR EXISTS (SELECT 1 FROM people WHERE login = ?1)",
        [login],
        |r| r.get(0),
    )
}

/// Every login ever used, for bulk generation.
pub fn all_used_logins(conn: &Connection) -> rusqlite::Result<std::collections::HashSet<String>> {
    let mut stmt = conn.prepare("SELECT login FROM logins_used UNION SELECT login FROM people")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    rows.collect()
}

/// What to create with [`insert_person`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPerson {
    pub kind: Option<Kind>,
    pub source: String,
    pub national_key: Option<String>,
    pub ine: Option<String>,
    pub last_name: String,
    pub first_name: String,
    pub birth_date: Option<String>,
    pub function: Option<String>,
    pub email: Option<String>,
    pub postal_address: Option<String>,
}

/// Inserts a person with a login and uid already chosen; records the login
/// as used. Returns the new id.
pub fn insert_person(
    conn: &Connection,
    p: &NewPerson,
    login: &str,
    uid: Option<u32>,
) -> rusqlite::Result<i64> {
    conn.execute(
        &format!(
            "INSERT INTO people (kind, source, national_key, ine, last_name, first_name, birth_date,
                 function, email, login, uid, status, created_at, updated_at, postal_address)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'active', {NOW}, {NOW}, ?12)"
        ),
        params![
            p.kind.unwrap_or(Kind::Staff).as_str(),
            p.source,
            p.national_key,
            p.ine,
            p.last_name,
            p.first_name,
            p.birth_date,
            p.function,
            p.email,
            login,
            uid,
            p.postal_address,
        ],
    )?;
    let id = conn.last_insert_rowid();
    conn.execute(
        &format!("INSERT OR IGNORE INTO logins_used (login, person_id, since) VALUES (?1, ?2, {NOW})"),
        params![login, id],
    )?;
    Ok(id)
}

/// The lowest free id in `[min, max]` not in `used`.
pub fn next_free_id(used: &std::collections::BTreeSet<u32>, min: u32, max: u32, after: u32) -> Option<u32> {
    let mut candidate = after.max(min);
    for &u in used.range(candidate..) {
        if u > candidate {
            break;
        }
        candidate = u + 1;
    }
    (candidate <= max).then_some(candidate)
}

/// Every uid and gid the directory holds (people and structures).
pub fn used_ids(conn: &Connection) -> rusqlite::Result<std::collections::BTreeSet<u32>> {
    let mut stmt =
        conn.prepare("SELECT uid FROM people WHERE uid IS NOT NULL UNION SELECT gid FROM structures")?;
    let rows = stmt.query_map([], |r| r.get::<_, i64>(0).map(|v| v as u32))?;
    rows.collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::Store;

    pub fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("preau.db")).unwrap();
        (dir, store)
    }

    #[test]
    fn search_through_the_index_ignores_accents_and_case() {
        assert_eq!(
            search_query("  LÉA  mar.t "),
            Some("\"lea\"* AND \"mar\"* AND \"t\"*".into())
        );
        assert_eq!(search_query(" ' \" * "), None);
        assert_eq!(
            search_query("a b c d e f g h i j")
                .unwrap()
                .matches("AND")
                .count(),
            7
        );
        let (_d, mut store) = store();
        store
            .write(|tx| {
                let np = |first: &str, last: &str| NewPerson {
                    kind: Some(Kind::Student),
                    source: "manual".into(),
                    first_name: first.into(),
                    last_name: last.into(),
                    ..Default::default()
                };
                let lea = insert_person(tx, &np("Léa", "Martin"), "lea.martin", Some(10000))?;
                insert_person(tx, &np("Léo", "Martin"), "leo.martin", Some(10001))?;
                insert_person(tx, &np("Tom", "Roux"), "tom.roux", Some(10002))?;
                tx.execute(
                    "INSERT INTO structures (kind, code, label, group_name, gid) VALUES ('class', '6A', '6e A', 'c-6a', 20000)",
                    [],
                )?;
                tx.execute("INSERT INTO memberships SELECT ?1, id FROM structures WHERE code = '6A'", [lea])?;
                Ok::<_, rusqlite::Error>(())
            })
            .unwrap();
        let logins = |store: &Store, q: &str| -> Vec<String> {
            search(store.conn(), q, 10)
                .unwrap()
                .0
                .into_iter()
                .map(|(p, _)| p.login)
                .collect()
        };
        assert_eq!(logins(&store, "LÉA mar"), ["lea.martin"]);
        assert_eq!(logins(&store, "martin"), ["lea.martin", "leo.martin"]);
        assert_eq!(logins(&store, "6a"), ["lea.martin"], "by class code");
        assert_eq!(logins(&store, "lea.mar"), ["lea.martin"], "by login");
        assert_eq!(logins(&store, "\"; DROP"), Vec::<String>::new());
        let (rows, total) = search(store.conn(), "l", 1).unwrap();
        assert_eq!((rows.len(), total), (1, 2));
        assert_eq!(search(store.conn(), "lea", 5).unwrap().0[0].1, "6A");
        // The index follows renames and class changes.
        store
            .write(|tx| {
                tx.execute(
                    "UPDATE people SET last_name = 'Dubois' WHERE login = 'leo.martin'",
                    [],
                )?;
                tx.execute("DELETE FROM memberships", [])?;
                tx.execute("DELETE FROM people WHERE login = 'tom.roux'", [])
            })
            .unwrap();
        assert_eq!(logins(&store, "dubois"), ["leo.martin"]);
        assert_eq!(logins(&store, "6a"), Vec::<String>::new());
        assert_eq!(logins(&store, "tom"), Vec::<String>::new());
    }

    #[test]
    fn people_structures_services_and_links() {
        let (_d, mut store) = store();
        store
            .write(|tx| {
                let np = |kind, first: &str, last: &str| NewPerson {
                    kind: Some(kind),
                    source: "manual".into(),
                    first_name: first.into(),
                    last_name: last.into(),
                    ..Default::default()
                };
                let s = insert_person(tx, &np(Kind::Student, "Léa", "Martin"), "lea.martin", Some(10000))?;
                let t = insert_person(tx, &np(Kind::Teacher, "Paul", "Roux"), "paul.roux", Some(10001))?;
                let p = insert_person(tx, &np(Kind::Parent, "Anne", "Martin"), "anne.martin", None)?;
                tx.execute(
                    "INSERT INTO structures (kind, code, label, group_name, gid) VALUES ('class', '6A', '6A', 'c-6a', 20000)",
                    [],
                )?;
                let c = tx.last_insert_rowid();
                tx.execute("INSERT INTO memberships VALUES (?1, ?2)", [s, c])?;
                tx.execute("INSERT INTO services VALUES (?1, 'MATHS', ?2)", [t, c])?;
                tx.execute("INSERT INTO head_teachers VALUES (?1, ?2)", [t, c])?;
                tx.execute("INSERT INTO parent_links (parent_id, child_id, legal) VALUES (?1, ?2, 1)", [p, s])?;
                Ok::<_, rusqlite::Error>(())
            })
            .unwrap();
        let c = store.conn();
        assert_eq!(students_of(c, "6A").unwrap()[0].login, "lea.martin");
        assert_eq!(teachers_of(c, "6A").unwrap()[0].login, "paul.roux");
        assert_eq!(head_teachers_of(c, "6A").unwrap()[0].login, "paul.roux");
        let lea = person_by_login(c, "lea.martin").unwrap().unwrap();
        assert_eq!(parents_of(c, lea.id).unwrap()[0].login, "anne.martin");
        assert_eq!(class_of(c, lea.id).unwrap().unwrap().group_name, "c-6a");
        assert_eq!(services(c, None).unwrap().len(), 1);
        assert_eq!(counts(c).unwrap().students, 1);
        assert!(login_taken(c, "lea.martin").unwrap());
        assert!(set_status(c, "lea.martin", Status::Disabled, None).unwrap());
        assert!(students_of(c, "6A").unwrap().is_empty());
        let used = used_ids(c).unwrap();
        assert_eq!(next_free_id(&used, 10000, 60000, 0), Some(10002));
    }
}

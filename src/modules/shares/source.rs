//! The directory as the shares see it, read from the store (tables of the
//! `accounts` module) in a few bulk queries.

use super::layout::{Directory, Person, Structure};
use super::settings::Role;
use rusqlite::Connection;
use std::collections::BTreeMap;

/// Why the directory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(
        "the directory is empty: the accounts module has not created it yet\n    help: enable the accounts module and import the year's files (`preau accounts import`)"
    )]
    NoDirectory,
    #[error("cannot read the directory: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// The shares role of a directory person (None: no personal share).
pub fn role_of(kind: &str, function: Option<&str>) -> Option<Role> {
    match (kind, function) {
        ("student", _) => Some(Role::Student),
        ("teacher", _) => Some(Role::Teacher),
        ("staff", Some("DIR")) => Some(Role::Direction),
        ("staff", Some("ENS")) => Some(Role::Teacher),
        ("staff", _) => Some(Role::Staff),
        _ => None,
    }
}

/// Active people with a system account, classes and groups with their
/// active students and teachers.
pub fn load(conn: &Connection) -> Result<Directory, SourceError> {
    let has_people: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'people')",
        [],
        |r| r.get(0),
    )?;
    if !has_people {
        return Err(SourceError::NoDirectory);
    }
    let mut dir = Directory::default();
    let mut stmt = conn.prepare(
        "SELECT login, kind, function FROM people
         WHERE status = 'active' AND kind != 'parent' ORDER BY login",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    })?;
    for row in rows {
        let (login, kind, function) = row?;
        if let Some(role) = role_of(&kind, function.as_deref()) {
            dir.people.push(Person { login, role });
        }
    }
    let mut structures: BTreeMap<i64, (String, Structure)> = BTreeMap::new();
    let mut stmt =
        conn.prepare("SELECT id, kind, code, group_name FROM structures WHERE active ORDER BY kind, code")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    for row in rows {
        let (id, kind, code, unix_group) = row?;
        structures.insert(
            id,
            (
                kind,
                Structure {
                    code,
                    unix_group,
                    students: Vec::new(),
                    teachers: Vec::new(),
                },
            ),
        );
    }
    let mut stmt = conn.prepare(
        "SELECT m.structure_id, p.login FROM memberships m JOIN people p ON p.id = m.person_id
         WHERE p.status = 'active' AND p.kind = 'student' ORDER BY p.login",
    )?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
        let (id, login) = row?;
        if let Some((_, s)) = structures.get_mut(&id) {
            s.students.push(login);
        }
    }
    let mut stmt = conn.prepare(
        "SELECT DISTINCT v.structure_id, p.login FROM services v JOIN people p ON p.id = v.teacher_id
         WHERE p.status = 'active' ORDER BY p.login",
    )?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
        let (id, login) = row?;
        if let Some((_, s)) = structures.get_mut(&id) {
            s.teachers.push(login);
        }
    }
    for (_, (kind, s)) in structures {
        if kind == "class" {
            dir.classes.push(s);
        } else {
            dir.groups.push(s);
        }
    }
    Ok(dir)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The directory tables as the accounts module creates them (the
    /// columns the shares read).
    pub fn tiny_schema(conn: &Connection) {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS people (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, function TEXT,
                 login TEXT NOT NULL UNIQUE, status TEXT NOT NULL DEFAULT 'active');
             CREATE TABLE IF NOT EXISTS structures (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, code TEXT NOT NULL,
                 label TEXT NOT NULL DEFAULT '', group_name TEXT NOT NULL, gid INTEGER NOT NULL DEFAULT 0,
                 active INTEGER NOT NULL DEFAULT 1);
             CREATE TABLE IF NOT EXISTS memberships (person_id INTEGER, structure_id INTEGER);
             CREATE TABLE IF NOT EXISTS services (teacher_id INTEGER, subject_code TEXT, structure_id INTEGER);",
        )
        .unwrap();
    }

    #[test]
    fn reads_people_classes_and_services() {
        let conn = Connection::open_in_memory().unwrap();
        assert!(matches!(load(&conn), Err(SourceError::NoDirectory)));
        tiny_schema(&conn);
        conn.execute_batch(
            "INSERT INTO people (id, kind, function, login, status) VALUES
                (1, 'student', NULL, 'alice.martin', 'active'),
                (2, 'student', NULL, 'gone.away', 'disabled'),
                (3, 'teacher', 'ENS', 'prof.maths', 'active'),
                (4, 'staff', 'DIR', 'chef.grand', 'active'),
                (5, 'parent', NULL, 'parent.martin', 'active'),
                (6, 'staff', 'EDU', 'cpe.blanc', 'active');
             INSERT INTO structures (id, kind, code, group_name) VALUES
                (10, 'class', '6A', 'c-6a'), (11, 'group', '6LATIN', 'g-6latin');
             INSERT INTO memberships VALUES (1, 10), (2, 10), (1, 11);
             INSERT INTO services VALUES (3, 'MATHS', 10), (3, 'SCIENCES', 10);",
        )
        .unwrap();
        let d = load(&conn).unwrap();
        let people: Vec<(&str, Role)> = d.people.iter().map(|p| (p.login.as_str(), p.role)).collect();
        assert_eq!(
            people,
            vec![
                ("alice.martin", Role::Student),
                ("chef.grand", Role::Direction),
                ("cpe.blanc", Role::Staff),
                ("prof.maths", Role::Teacher),
            ]
        );
        assert_eq!(d.classes[0].students, vec!["alice.martin"]);
        assert_eq!(d.classes[0].teachers, vec!["prof.maths"]);
        assert_eq!(d.groups[0].code, "6LATIN");
        assert_eq!(d.groups[0].students, vec!["alice.martin"]);
    }
}

#[cfg(test)]
mod schema_tests {
    /// The queries run against the real directory schema (migrations of
    /// the store), not only the test's small copy of it.
    #[test]
    fn queries_match_the_store_schema() {
        let tmp = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&tmp.path().join("preau.db")).unwrap();
        let d = super::load(store.conn()).unwrap();
        assert!(d.people.is_empty() && d.classes.is_empty());
    }
}

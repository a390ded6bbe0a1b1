//! The relationships the web's `authz::decide` decides with ("Facts"),
//! loaded in a few queries per signed-in person, and the school-life
//! rules over them as pure functions:
//! - a teacher reaches the students of his services' classes and groups,
//!   and the head teacher his whole class;
//! - a teacher takes the roll of, and writes the log of, the lessons he
//!   teaches (a replacement teacher those he replaces);
//! - a teacher enters marks only for his own services; the head teacher
//!   writes the general comment of his class;
//! - a parent reaches only the children he is a legal guardian of (not
//!   other contacts); a student only himself;
//! - direction and the school-life office (CPE) reach every student.
//!
//! A refusal is shown as "not found" by the web layer.

use crate::directory::Kind;
use rusqlite::Connection;
use serde::Serialize;
use std::collections::BTreeSet;

/// A school-life role, from the directory (STS function for staff).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Direction,
    SchoolLife,
    Teacher,
    Staff,
    Student,
    Parent,
}

/// What the rules need to know about one person.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Facts {
    pub person_id: i64,
    pub roles: Vec<Role>,
    /// (subject, structure) of his teaching services.
    pub services: BTreeSet<(String, i64)>,
    /// Structures he teaches (classes and groups).
    pub taught: BTreeSet<i64>,
    /// Classes he is head teacher of.
    pub head_of: BTreeSet<i64>,
    /// Children he is a legal guardian of.
    pub children: BTreeSet<i64>,
    /// His own classes and groups (students).
    pub structures: BTreeSet<i64>,
}

/// The roles of a directory person: students and parents by kind;
/// staff by STS function (DIR direction, EDU school-life office, ENS
/// or DOC teachers); teachers are teachers.
pub fn roles_of(kind: Kind, function: Option<&str>) -> Vec<Role> {
    match kind {
        Kind::Student => vec![Role::Student],
        Kind::Parent => vec![Role::Parent],
        Kind::Teacher => vec![Role::Teacher],
        Kind::Staff => match function.unwrap_or("") {
            "DIR" => vec![Role::Direction],
            "EDU" => vec![Role::SchoolLife],
            "ENS" | "DOC" => vec![Role::Teacher],
            _ => vec![Role::Staff],
        },
    }
}

fn ids(conn: &Connection, sql: &str, id: i64) -> rusqlite::Result<BTreeSet<i64>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([id], |r| r.get(0))?;
    rows.collect()
}

/// Loads the facts of a person (five small queries).
pub fn load(conn: &Connection, person_id: i64) -> rusqlite::Result<Option<Facts>> {
    let Some(p) = crate::directory::person_by_id(conn, person_id)? else {
        return Ok(None);
    };
    if !p.is_active() {
        return Ok(None);
    }
    let mut stmt =
        conn.prepare_cached("SELECT subject_code, structure_id FROM services WHERE teacher_id = ?1")?;
    let services = stmt
        .query_map([person_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<BTreeSet<(String, i64)>>>()?;
    Ok(Some(Facts {
        person_id,
        roles: roles_of(p.kind, p.function.as_deref()),
        taught: services.iter().map(|(_, s)| *s).collect(),
        services,
        head_of: ids(
            conn,
            "SELECT class_id FROM head_teachers WHERE teacher_id = ?1",
            person_id,
        )?,
        children: ids(
            conn,
            "SELECT l.child_id FROM parent_links l JOIN people c ON c.id = l.child_id
             WHERE l.parent_id = ?1 AND l.legal > 0 AND c.status = 'active'",
            person_id,
        )?,
        structures: ids(
            conn,
            "SELECT structure_id FROM memberships WHERE person_id = ?1",
            person_id,
        )?,
    }))
}

/// A student as the rules see him: his id and his class and groups.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct StudentRef {
    pub id: i64,
    /// His class, if any.
    pub class: Option<i64>,
    /// His class and groups.
    pub structures: BTreeSet<i64>,
}

pub fn student_ref(conn: &Connection, id: i64) -> rusqlite::Result<StudentRef> {
    Ok(StudentRef {
        id,
        class: crate::directory::class_of(conn, id)?.map(|c| c.id),
        structures: ids(
            conn,
            "SELECT structure_id FROM memberships WHERE person_id = ?1",
            id,
        )?,
    })
}

impl Facts {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    fn office(&self) -> bool {
        self.has(Role::Direction) || self.has(Role::SchoolLife)
    }

    /// Whether he may see a student's school life (absences, marks, log).
    pub fn may_view_student(&self, s: &StudentRef) -> bool {
        self.office()
            || (self.has(Role::Student) && self.person_id == s.id)
            || (self.has(Role::Parent) && self.children.contains(&s.id))
            || (self.has(Role::Teacher)
                && (s.structures.iter().any(|x| self.taught.contains(x))
                    || s.class.is_some_and(|c| self.head_of.contains(&c))))
    }

    /// Whether he may take the roll of (or log) a lesson taught by
    /// `teacher_id` (the replacement's id when replaced); the office may
    /// correct any roll.
    pub fn may_take_roll(&self, lesson_teacher_id: i64) -> bool {
        self.office() || (self.has(Role::Teacher) && lesson_teacher_id == self.person_id)
    }

    /// Whether he may enter marks of an evaluation on a service.
    pub fn may_enter_marks(&self, subject: &str, structure: i64) -> bool {
        self.has(Role::Teacher) && self.services.contains(&(subject.to_string(), structure))
    }

    /// Whether he may write the general comment of a class's report card.
    pub fn may_write_general_comment(&self, class: i64) -> bool {
        self.has(Role::Direction) || (self.has(Role::Teacher) && self.head_of.contains(&class))
    }

    /// Whether he may read every homework log of a class.
    pub fn may_read_class_log(&self, class: i64) -> bool {
        self.has(Role::Direction) || self.head_of.contains(&class) || self.taught.contains(&class)
    }

    /// Whether he may accept or refuse justifications, record absences.
    pub fn may_manage_absences(&self) -> bool {
        self.office()
    }

    /// Whether he may send a justification for a student's absence.
    pub fn may_justify(&self, student: i64) -> bool {
        self.has(Role::Parent) && self.children.contains(&student) || self.office()
    }

    /// Whether marks are read as a parent or as a student for this
    /// student (the publication moment differs), or in full.
    pub fn mark_audience(&self, s: &StudentRef) -> Option<MarkAudience> {
        if !self.may_view_student(s) {
            return None;
        }
        Some(if self.has(Role::Parent) && self.children.contains(&s.id) {
            MarkAudience::Parent
        } else if self.has(Role::Student) {
            MarkAudience::Student
        } else {
            MarkAudience::Staff
        })
    }
}

/// Which publication moment applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkAudience {
    Staff,
    Student,
    Parent,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// Two classes 6A (1) and 5A (2), a group 6LAT (3) of 6A; a maths
    /// teacher of 6A, head teacher of 6A; a Latin teacher of the group; a
    /// student of 6A in the group, one of 5A; a legal parent of the first,
    /// a non-legal contact of the first; a CPE; a principal.
    fn school() -> (tempfile::TempDir, Store, [i64; 9]) {
        let (d, mut store) = crate::directory::tests::store();
        let ids = store
            .write(|tx| {
                let person = |kind: Kind, login: &str, function: Option<&str>| {
                    crate::directory::insert_person(
                        tx,
                        &crate::directory::NewPerson {
                            kind: Some(kind),
                            source: "manual".into(),
                            last_name: login.into(),
                            first_name: "X".into(),
                            function: function.map(str::to_string),
                            ..Default::default()
                        },
                        login,
                        None,
                    )
                };
                let maths = person(Kind::Teacher, "maths", Some("ENS"))?;
                let latin = person(Kind::Teacher, "latin", Some("ENS"))?;
                let s1 = person(Kind::Student, "s1", None)?;
                let s2 = person(Kind::Student, "s2", None)?;
                let parent = person(Kind::Parent, "parent", None)?;
                let contact = person(Kind::Parent, "contact", None)?;
                let cpe = person(Kind::Staff, "cpe", Some("EDU"))?;
                let dir = person(Kind::Staff, "principal", Some("DIR"))?;
                let clerk = person(Kind::Staff, "clerk", Some("ADM"))?;
                for (id, kind, code, gid) in [(1, "class", "6A", 20001), (2, "class", "5A", 20002), (3, "group", "6LAT", 20003)] {
                    tx.execute(
                        "INSERT INTO structures (id, kind, code, label, group_name, gid) VALUES (?1, ?2, ?3, ?3, ?3, ?4)",
                        rusqlite::params![id, kind, code, gid],
                    )?;
                }
                tx.execute("INSERT INTO group_classes VALUES (3, 1)", [])?;
                tx.execute("INSERT INTO memberships VALUES (?1, 1), (?1, 3), (?2, 2)", [s1, s2])?;
                tx.execute("INSERT INTO services VALUES (?1, 'MATHS', 1), (?2, 'LATIN', 3)", [maths, latin])?;
                tx.execute("INSERT INTO head_teachers VALUES (?1, 1)", [maths])?;
                tx.execute(
                    "INSERT INTO parent_links (parent_id, child_id, legal) VALUES (?1, ?3, 1), (?2, ?3, 0)",
                    [parent, contact, s1],
                )?;
                Ok::<_, rusqlite::Error>([maths, latin, s1, s2, parent, contact, cpe, dir, clerk])
            })
            .unwrap();
        (d, store, ids)
    }

    #[test]
    fn every_access_rule_as_a_table() {
        let (_d, store, [maths, latin, s1, s2, parent, contact, cpe, dir, clerk]) = school();
        let c = store.conn();
        let f = |id| load(c, id).unwrap().unwrap();
        let (r1, r2) = (student_ref(c, s1).unwrap(), student_ref(c, s2).unwrap());
        // (who, may view s1, may view s2)
        let view = [
            ("maths teacher (service and head of 6A)", maths, true, false),
            ("latin teacher (group of 6A only)", latin, true, false),
            ("student himself", s1, true, false),
            ("other student", s2, false, true),
            ("legal guardian", parent, true, false),
            ("non-legal contact", contact, false, false),
            ("school-life office", cpe, true, true),
            ("direction", dir, true, true),
            ("other staff", clerk, false, false),
        ];
        for (who, id, one, two) in view {
            let facts = f(id);
            assert_eq!(facts.may_view_student(&r1), one, "{who} viewing s1");
            assert_eq!(facts.may_view_student(&r2), two, "{who} viewing s2");
        }
        // Marks: only one's own services.
        let marks = [
            (maths, "MATHS", 1, true),
            (maths, "MATHS", 2, false),
            (maths, "LATIN", 3, false),
            (latin, "LATIN", 3, true),
            (dir, "MATHS", 1, false),
            (s1, "MATHS", 1, false),
        ];
        for (id, subject, structure, expect) in marks {
            assert_eq!(
                f(id).may_enter_marks(subject, structure),
                expect,
                "{id} {subject} {structure}"
            );
        }
        // General comment: head teacher and direction.
        for (id, expect) in [
            (maths, true),
            (latin, false),
            (dir, true),
            (cpe, false),
            (parent, false),
        ] {
            assert_eq!(f(id).may_write_general_comment(1), expect, "{id}");
        }
        // The roll: the lesson's teacher and the office.
        for (id, expect) in [
            (maths, true),
            (latin, false),
            (cpe, true),
            (s1, false),
            (parent, false),
        ] {
            assert_eq!(f(id).may_take_roll(maths), expect, "{id}");
        }
        // Justifications: legal guardians of the child, and the office.
        for (id, expect) in [
            (parent, true),
            (contact, false),
            (s1, false),
            (cpe, true),
            (maths, false),
        ] {
            assert_eq!(f(id).may_justify(s1), expect, "{id}");
        }
        assert!(f(cpe).may_manage_absences() && !f(maths).may_manage_absences());
        assert!(
            f(maths).may_read_class_log(1) && !f(latin).may_read_class_log(1) && f(dir).may_read_class_log(2)
        );
        // Audiences for the publication of marks.
        assert_eq!(f(parent).mark_audience(&r1), Some(MarkAudience::Parent));
        assert_eq!(f(s1).mark_audience(&r1), Some(MarkAudience::Student));
        assert_eq!(f(maths).mark_audience(&r1), Some(MarkAudience::Staff));
        assert_eq!(f(parent).mark_audience(&r2), None);
    }

    #[test]
    fn disabled_people_have_no_facts_and_roles_follow_the_function() {
        let (_d, mut store, [maths, ..]) = school();
        store
            .write(|tx| tx.execute("UPDATE people SET status = 'disabled' WHERE id = ?1", [maths]))
            .unwrap();
        assert_eq!(load(store.conn(), maths).unwrap(), None);
        assert_eq!(load(store.conn(), 999_999).unwrap(), None);
        assert_eq!(roles_of(Kind::Staff, Some("DOC")), [Role::Teacher]);
        assert_eq!(roles_of(Kind::Staff, None), [Role::Staff]);
    }
}

//! The shares' layout and permissions, as a pure function of the
//! directory and the settings.
//!
//! [`folders`] turns a [`Directory`] (people with their role, classes and
//! groups with their Unix group and their teachers) into the list of
//! [`Folder`]s that must exist, each with owner, permission bits and POSIX
//! ACL entries. Class and group folders grant rights to the class's Unix
//! group (never to each student), so a student who changes class changes
//! rights by group membership alone: no folder needs touching. Teachers
//! get named user entries from their teaching services (STS).
//!
//! [`Folder::acl_text`] renders the folder in `getfacl -n` format, which
//! is both what the host is compared with and what `setfacl --restore`
//! reads, so one process fixes thousands of folders.

use super::settings::{Role, SharesSettings};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// A person with a system account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub login: String,
    pub role: Role,
}

/// A class or a group of students.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Structure {
    /// Code from the national exports ("6A", "6LATIN").
    pub code: String,
    /// Its Unix group ("c-6a").
    pub unix_group: String,
    /// Logins of its students.
    pub students: Vec<String>,
    /// Logins of its teachers (teaching services from STS).
    pub teachers: Vec<String>,
}

/// What the layout is computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Directory {
    pub people: Vec<Person>,
    pub classes: Vec<Structure>,
    pub groups: Vec<Structure>,
}

impl Directory {
    pub fn person(&self, login: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.login == login)
    }

    /// A class or group by code (classes first).
    pub fn structure(&self, code: &str) -> Option<&Structure> {
        self.classes
            .iter()
            .chain(&self.groups)
            .find(|s| s.code.eq_ignore_ascii_case(code))
    }
}

/// Who an ACL entry is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Who {
    User(String),
    Group(String),
}

/// One named ACL entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Ace {
    pub who: Who,
    pub write: bool,
}

impl Ace {
    fn read(who: Who) -> Ace {
        Ace { who, write: false }
    }
    fn write(who: Who) -> Ace {
        Ace { who, write: true }
    }
}

/// One folder of the layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Folder {
    /// Logical host path.
    pub path: PathBuf,
    /// Owning user (full rights).
    pub owner: String,
    /// Rights of everybody else (no named entry): read, or nothing.
    pub others_read: bool,
    /// Named entries; the owning group (root) gets nothing.
    pub entries: Vec<Ace>,
    /// Whether new files and folders inherit the entries (default ACL).
    pub inherit: bool,
}

/// Resolves user and group names to ids; `None` when unknown on the host.
pub trait Ids {
    fn uid(&self, name: &str) -> Option<u32>;
    fn gid(&self, name: &str) -> Option<u32>;
}

fn perms(write: bool) -> &'static str {
    if write { "rwx" } else { "r-x" }
}

impl Folder {
    /// The folder in `getfacl -n -p -E` format (without the `# file:`
    /// line): owner, group, then the access (and default) entries in the
    /// kernel's order. `None` if a name does not resolve.
    pub fn acl_text(&self, ids: &dyn Ids) -> Option<String> {
        let owner = ids.uid(&self.owner)?;
        let mut users: Vec<(u32, bool)> = Vec::new();
        let mut groups: Vec<(u32, bool)> = Vec::new();
        for ace in &self.entries {
            match &ace.who {
                Who::User(n) => users.push((ids.uid(n)?, ace.write)),
                Who::Group(n) => groups.push((ids.gid(n)?, ace.write)),
            }
        }
        // Same id twice: the stronger right wins.
        let merge = |v: &mut Vec<(u32, bool)>| {
            v.sort();
            let mut out: Vec<(u32, bool)> = Vec::new();
            for (id, w) in v.drain(..) {
                match out.last_mut() {
                    Some(last) if last.0 == id => last.1 |= w,
                    _ => out.push((id, w)),
                }
            }
            *v = out;
        };
        merge(&mut users);
        merge(&mut groups);
        let other = if self.others_read { "r-x" } else { "---" };
        let named = !users.is_empty() || !groups.is_empty();
        let mask = if users.iter().chain(&groups).any(|(_, w)| *w) {
            "rwx"
        } else {
            "r-x"
        };
        let body = |prefix: &str| -> String {
            let mut s = format!("{prefix}user::rwx\n");
            for (id, w) in &users {
                s.push_str(&format!("{prefix}user:{id}:{}\n", perms(*w)));
            }
            s.push_str(&format!("{prefix}group::---\n"));
            for (id, w) in &groups {
                s.push_str(&format!("{prefix}group:{id}:{}\n", perms(*w)));
            }
            if named {
                s.push_str(&format!("{prefix}mask::{mask}\n"));
            }
            s.push_str(&format!("{prefix}other::{other}\n"));
            s
        };
        let mut text = format!("# owner: {owner}\n# group: 0\n{}", body(""));
        if self.inherit {
            text.push_str(&body("default:"));
        }
        Some(text)
    }

    /// The folder as a `setfacl --restore` block.
    pub fn restore_block(&self, real_path: &std::path::Path, ids: &dyn Ids) -> Option<String> {
        Some(format!(
            "# file: {}\n{}\n",
            real_path.display(),
            self.acl_text(ids)?
        ))
    }
}

/// The name of a class or group folder: the code, with anything that is
/// not a letter, digit, '-', '_' or '.' replaced by '_', never starting
/// with '.'.
pub fn folder_name(code: &str) -> String {
    let mut s: String = code
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        s.insert(0, '_');
    }
    s
}

/// Whether a login can name a folder (it always can for logins made by
/// the accounts module; this guards against anything else).
pub fn safe_login(login: &str) -> bool {
    super::settings::is_unix_name(login) && !login.starts_with('.')
}

/// The personal folder of `login`.
pub fn perso(settings: &SharesSettings, login: &str) -> PathBuf {
    PathBuf::from(&settings.root).join("perso").join(login)
}

/// Every folder of the layout, parents before children.
pub fn folders(settings: &SharesSettings, dir: &Directory) -> Vec<Folder> {
    let root = PathBuf::from(&settings.root);
    let g = |role: Role| Who::Group(settings.role_groups.of(role).to_string());
    let open = |path: PathBuf| Folder {
        path,
        owner: "root".into(),
        others_read: true,
        entries: Vec::new(),
        inherit: false,
    };
    let mut out = vec![
        open(root.clone()),
        open(root.join("perso")),
        open(root.join("classes")),
        open(root.join("groupes")),
    ];

    // Personal folders: the owner alone.
    let mut logins: BTreeSet<&str> = BTreeSet::new();
    for p in &dir.people {
        if safe_login(&p.login) && logins.insert(&p.login) {
            let home = root.join("perso").join(&p.login);
            for path in [home.clone(), home.join("devoirs")] {
                out.push(Folder {
                    path,
                    owner: p.login.clone(),
                    others_read: false,
                    entries: Vec::new(),
                    inherit: false,
                });
            }
        }
    }

    // Classes and groups: the class's Unix group and its teachers.
    for (base, list) in [("classes", &dir.classes), ("groupes", &dir.groups)] {
        for s in list {
            let top = root.join(base).join(folder_name(&s.code));
            let class = Who::Group(s.unix_group.clone());
            let teachers: Vec<Who> = s
                .teachers
                .iter()
                .filter(|t| safe_login(t))
                .map(|t| Who::User(t.clone()))
                .collect();
            let with = |class_write: bool, teacher_write: bool| -> Vec<Ace> {
                let mut v = vec![Ace {
                    who: class.clone(),
                    write: class_write,
                }];
                v.extend(teachers.iter().map(|t| Ace {
                    who: t.clone(),
                    write: teacher_write,
                }));
                v.push(Ace::write(g(Role::Admin)));
                v
            };
            out.push(Folder {
                path: top.clone(),
                owner: "root".into(),
                others_read: false,
                entries: {
                    let mut v = with(false, false);
                    v.pop();
                    v.push(Ace::read(g(Role::Admin)));
                    v
                },
                inherit: false,
            });
            out.push(Folder {
                path: top.join("donnees"),
                owner: "root".into(),
                others_read: false,
                entries: with(false, true),
                inherit: true,
            });
            out.push(Folder {
                path: top.join("travail"),
                owner: "root".into(),
                others_read: false,
                entries: with(true, true),
                inherit: true,
            });
        }
    }

    // Common: readers by role, writers per folder.
    let readers: Vec<Who> = settings.visibility.commun.iter().map(|r| g(*r)).collect();
    let common = |writer: Role| -> Vec<Ace> {
        let mut v: Vec<Ace> = readers
            .iter()
            .filter(|w| **w != g(writer))
            .cloned()
            .map(Ace::read)
            .collect();
        v.push(Ace::write(g(writer)));
        v
    };
    out.push(Folder {
        path: root.join("commun"),
        owner: "root".into(),
        others_read: false,
        entries: readers.iter().cloned().map(Ace::read).collect(),
        inherit: false,
    });
    out.push(Folder {
        path: root.join("commun/logiciels"),
        owner: "root".into(),
        others_read: false,
        entries: common(Role::Admin),
        inherit: true,
    });
    out.push(Folder {
        path: root.join("commun/travail"),
        owner: "root".into(),
        others_read: false,
        entries: common(Role::Teacher),
        inherit: true,
    });

    // Teachers' and staff's shares: their roles write, nobody else.
    for (name, roles) in [
        ("professeurs", &settings.visibility.professeurs),
        ("administratif", &settings.visibility.administratif),
    ] {
        out.push(Folder {
            path: root.join(name),
            owner: "root".into(),
            others_read: false,
            entries: roles.iter().map(|r| Ace::write(g(*r))).collect(),
            inherit: true,
        });
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    pub struct MapIds(pub HashMap<String, u32>, pub HashMap<String, u32>);

    impl Ids for MapIds {
        fn uid(&self, name: &str) -> Option<u32> {
            self.0.get(name).copied()
        }
        fn gid(&self, name: &str) -> Option<u32> {
            self.1.get(name).copied()
        }
    }

    pub fn school() -> Directory {
        let p = |login: &str, role| Person {
            login: login.into(),
            role,
        };
        Directory {
            people: vec![
                p("alice.martin", Role::Student),
                p("bob.durand", Role::Student),
                p("carla.petit", Role::Student),
                p("prof.maths", Role::Teacher),
                p("prof.latin", Role::Teacher),
                p("sec.dupont", Role::Staff),
                p("chef.grand", Role::Direction),
            ],
            classes: vec![
                Structure {
                    code: "6A".into(),
                    unix_group: "c-6a".into(),
                    students: vec!["alice.martin".into(), "bob.durand".into()],
                    teachers: vec!["prof.maths".into()],
                },
                Structure {
                    code: "6B".into(),
                    unix_group: "c-6b".into(),
                    students: vec!["carla.petit".into()],
                    teachers: vec!["prof.maths".into(), "prof.latin".into()],
                },
            ],
            groups: vec![Structure {
                code: "6LATIN".into(),
                unix_group: "g-6latin".into(),
                students: vec!["alice.martin".into(), "carla.petit".into()],
                teachers: vec!["prof.latin".into()],
            }],
        }
    }

    pub fn ids() -> MapIds {
        let users = [
            ("root", 0),
            ("alice.martin", 10001),
            ("bob.durand", 10002),
            ("carla.petit", 10003),
            ("prof.maths", 10010),
            ("prof.latin", 10011),
            ("sec.dupont", 10020),
            ("chef.grand", 10030),
        ];
        let groups = [
            ("root", 0),
            ("eleves", 20001),
            ("profs", 20002),
            ("personnels", 20003),
            ("direction", 20004),
            ("admins", 20005),
            ("c-6a", 21001),
            ("c-6b", 21002),
            ("g-6latin", 21003),
        ];
        MapIds(
            users.iter().map(|(n, i)| (n.to_string(), *i)).collect(),
            groups.iter().map(|(n, i)| (n.to_string(), *i)).collect(),
        )
    }

    fn find<'a>(f: &'a [Folder], p: &str) -> &'a Folder {
        f.iter()
            .find(|x| x.path == std::path::Path::new(p))
            .unwrap_or_else(|| panic!("no folder {p}"))
    }

    /// What `who` may do in `folder`: "rw", "r" or "".
    fn right(folder: &Folder, login: &str, groups: &[&str]) -> &'static str {
        if folder.owner == login {
            return "rw";
        }
        let mut best = if folder.others_read { "r" } else { "" };
        for a in &folder.entries {
            let hit = match &a.who {
                Who::User(u) => u == login,
                Who::Group(g) => groups.contains(&g.as_str()),
            };
            if hit {
                if a.write {
                    return "rw";
                }
                best = "r";
            }
        }
        best
    }

    #[test]
    fn permission_matrix() {
        let s = SharesSettings::default();
        let f = folders(&s, &school());
        let alice = ("alice.martin", &["eleves", "c-6a", "g-6latin"][..]);
        let bob = ("bob.durand", &["eleves", "c-6a"][..]);
        let maths = ("prof.maths", &["profs"][..]);
        let latin = ("prof.latin", &["profs"][..]);
        let sec = ("sec.dupont", &["personnels"][..]);
        let chef = ("chef.grand", &["direction"][..]);
        type Who<'a> = (&'a str, &'a [&'a str]);
        let cases: &[(Who, &str, &str)] = &[
            (alice, "/srv/preau/perso/alice.martin", "rw"),
            (alice, "/srv/preau/perso/alice.martin/devoirs", "rw"),
            (alice, "/srv/preau/perso/bob.durand", ""),
            (maths, "/srv/preau/perso/bob.durand", ""),
            (alice, "/srv/preau/classes/6A", "r"),
            (alice, "/srv/preau/classes/6A/donnees", "r"),
            (alice, "/srv/preau/classes/6A/travail", "rw"),
            (alice, "/srv/preau/classes/6B", ""),
            (alice, "/srv/preau/classes/6B/travail", ""),
            (alice, "/srv/preau/groupes/6LATIN/travail", "rw"),
            (bob, "/srv/preau/groupes/6LATIN", ""),
            (maths, "/srv/preau/classes/6A/donnees", "rw"),
            (maths, "/srv/preau/classes/6B/donnees", "rw"),
            (latin, "/srv/preau/classes/6A/donnees", ""),
            (latin, "/srv/preau/groupes/6LATIN/donnees", "rw"),
            (alice, "/srv/preau/commun/logiciels", "r"),
            (maths, "/srv/preau/commun/logiciels", "r"),
            (alice, "/srv/preau/commun/travail", "r"),
            (maths, "/srv/preau/commun/travail", "rw"),
            (alice, "/srv/preau/professeurs", ""),
            (maths, "/srv/preau/professeurs", "rw"),
            (chef, "/srv/preau/professeurs", "rw"),
            (sec, "/srv/preau/professeurs", ""),
            (sec, "/srv/preau/administratif", "rw"),
            (chef, "/srv/preau/administratif", "rw"),
            (alice, "/srv/preau/administratif", ""),
            (maths, "/srv/preau/administratif", ""),
        ];
        for ((login, groups), path, want) in cases {
            assert_eq!(right(find(&f, path), login, groups), *want, "{login} on {path}");
        }
        // Parents come before their children.
        for (i, x) in f.iter().enumerate() {
            if let Some(parent) = x.path.parent()
                && let Some(j) = f.iter().position(|y| y.path == parent)
            {
                assert!(j < i, "{} before its parent", x.path.display());
            }
        }
    }

    #[test]
    fn class_change_needs_no_folder_change() {
        let s = SharesSettings::default();
        let before = folders(&s, &school());
        let mut moved = school();
        moved.classes[0].students.retain(|l| l != "bob.durand");
        moved.classes[1].students.push("bob.durand".into());
        assert_eq!(before, folders(&s, &moved));
    }

    #[test]
    fn acl_text_matches_getfacl() {
        let s = SharesSettings::default();
        let f = folders(&s, &school());
        insta::assert_snapshot!(find(&f, "/srv/preau/classes/6B/travail").acl_text(&ids()).unwrap(), @r"
        # owner: 0
        # group: 0
        user::rwx
        user:10010:rwx
        user:10011:rwx
        group::---
        group:20005:rwx
        group:21002:rwx
        mask::rwx
        other::---
        default:user::rwx
        default:user:10010:rwx
        default:user:10011:rwx
        default:group::---
        default:group:20005:rwx
        default:group:21002:rwx
        default:mask::rwx
        default:other::---
        ");
        insta::assert_snapshot!(find(&f, "/srv/preau/perso/alice.martin").acl_text(&ids()).unwrap(), @r"
        # owner: 10001
        # group: 0
        user::rwx
        group::---
        other::---
        ");
        let mut unknown = school();
        unknown.classes[0].teachers.push("nobody.here".into());
        let f = folders(&s, &unknown);
        assert!(
            find(&f, "/srv/preau/classes/6A/donnees")
                .acl_text(&ids())
                .is_none()
        );
    }

    #[test]
    fn hostile_codes_stay_inside() {
        assert_eq!(folder_name("../etc"), "_.._etc");
        assert_eq!(folder_name(""), "_");
        assert_eq!(folder_name("3E 2"), "3E_2");
        assert!(!safe_login("../root"));
    }
}

//! THE authorization decision: [`decide`]`(actor, action, facts)`, a pure
//! function. Every URL maps to one [`Action`] ([`Action::of`]); the facts
//! it needs (a teacher's classes, a parent's children, the target
//! person's kind and classes) are loaded in bulk before deciding
//! ([`Facts::load`]). `preau web explain --as LOGIN URL` prints the
//! decision for any account and URL.

use crate::directory::{self, Kind};
use axum::http::Method;
use rusqlite::Connection;
use serde::Serialize;
use std::collections::BTreeSet;

/// What a signed-in person is, for authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Role {
    /// A console administrator (the `admins` table).
    Admin,
    /// Head of the establishment and deputies (STS function DIR).
    Direction,
    /// The school-life office, CPE (STS function EDU).
    SchoolLife,
    Teacher,
    /// Other staff (ADM, DOC…).
    Staff,
    Student,
    Parent,
}

impl Role {
    pub fn label_fr(self) -> &'static str {
        match self {
            Role::Admin => "administrateur",
            Role::Direction => "direction",
            Role::SchoolLife => "vie scolaire",
            Role::Teacher => "enseignant",
            Role::Staff => "personnel",
            Role::Student => "élève",
            Role::Parent => "responsable",
        }
    }

    /// The roles of a directory person.
    pub fn of_person(kind: Kind, function: Option<&str>) -> Role {
        match kind {
            Kind::Student => Role::Student,
            Kind::Parent => Role::Parent,
            Kind::Teacher => Role::Teacher,
            Kind::Staff => match function {
                Some("DIR") => Role::Direction,
                Some("EDU") => Role::SchoolLife,
                Some("ENS") => Role::Teacher,
                _ => Role::Staff,
            },
        }
    }
}

/// Who is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub login: String,
    pub name: String,
    pub roles: BTreeSet<Role>,
    /// The directory person (None for console administrators).
    pub person_id: Option<i64>,
}

impl Actor {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    fn any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has(*r))
    }

    /// Students and parents are shown "not found", never "forbidden", for
    /// what they may not see: a URL must not reveal that a person exists.
    pub fn sees_404_when_denied(&self) -> bool {
        !self.any(&[
            Role::Admin,
            Role::Direction,
            Role::SchoolLife,
            Role::Teacher,
            Role::Staff,
        ])
    }

    /// Loads an actor: a console administrator when `admin`, else an
    /// active person of the directory. None when unknown or disabled.
    pub fn load(conn: &Connection, login: &str, admin: bool) -> rusqlite::Result<Option<Actor>> {
        if admin {
            let known: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM admins WHERE login = ?1)",
                [login],
                |r| r.get(0),
            )?;
            return Ok(known.then(|| Actor {
                login: login.to_string(),
                name: login.to_string(),
                roles: [Role::Admin].into(),
                person_id: None,
            }));
        }
        let Some(p) = directory::person_by_login(conn, login)? else {
            return Ok(None);
        };
        if !p.is_active() {
            return Ok(None);
        }
        Ok(Some(Actor {
            login: p.login.clone(),
            name: p.full_name(),
            roles: [Role::of_person(p.kind, p.function.as_deref())].into(),
            person_id: Some(p.id),
        }))
    }
}

/// Every protected operation, with its target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Action {
    /// The sign-in page and form (public).
    SignIn,
    /// Embedded CSS and JavaScript (public).
    Asset,
    /// The portal: a person's home page.
    Portal,
    SignOut,
    ChangeOwnPassword,
    /// The console's dashboard.
    Dashboard,
    SearchPeople,
    ViewPerson {
        login: String,
    },
    ResetPassword {
        login: String,
    },
    SetStatus {
        login: String,
    },
    /// The login slips of a class or group.
    PrintSlips {
        structure: String,
    },
    ViewAudit,
    /// A teacher's list of classes.
    Classroom,
    /// A class or group the teacher teaches.
    ViewClass {
        structure: String,
    },
    /// School life: a teacher's lessons of the day.
    TeacherDay,
    /// The directory's imports: upload the national exports, see their
    /// diff, confirm it, the history of imports.
    Import,
    /// The logs: the proxy's connections, the firewall's zone matrix and
    /// counters, the applies with their reports.
    ViewLogs,
    /// The settings pages: the sections and each section's form.
    ViewSettings,
    /// Check, plan and apply new values of a section of the
    /// configuration (and confirm a firewall change).
    ApplySettings {
        section: String,
    },
}

fn segment(s: &str) -> Option<String> {
    (!s.is_empty() && s.len() <= 100).then(|| s.to_string())
}

impl Action {
    /// The action a request needs; None when no route has this URL.
    pub fn of(method: &Method, path: &str) -> Option<Action> {
        let get = method == Method::GET || method == Method::HEAD;
        let post = method == Method::POST;
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let parts: Vec<&str> = if parts == [""] { Vec::new() } else { parts };
        Some(match (get, post, parts.as_slice()) {
            (true, _, []) => Action::Portal,
            (true, _, ["connexion"]) | (_, true, ["connexion"]) => Action::SignIn,
            (_, true, ["deconnexion"]) => Action::SignOut,
            (true, _, ["mot-de-passe"]) | (_, true, ["mot-de-passe"]) => Action::ChangeOwnPassword,
            (true, _, ["static", f]) if !f.is_empty() => Action::Asset,
            (true, _, ["console"]) => Action::Dashboard,
            (true, _, ["console", "personnes"]) => Action::SearchPeople,
            (true, _, ["console", "personnes", l]) => Action::ViewPerson { login: segment(l)? },
            (_, true, ["console", "personnes", l, "mot-de-passe"]) => {
                Action::ResetPassword { login: segment(l)? }
            }
            (_, true, ["console", "personnes", l, "etat"]) => Action::SetStatus { login: segment(l)? },
            (true, _, ["console", "classes", c, "fiches"]) => Action::PrintSlips {
                structure: segment(c)?,
            },
            (true, _, ["console", "journal"]) => Action::ViewAudit,
            (true, _, ["console", "classe"]) => Action::Classroom,
            (true, _, ["console", "classe", c]) => Action::ViewClass {
                structure: segment(c)?,
            },
            (true, _, ["vie-scolaire", "journee"]) => Action::TeacherDay,
            (true, _, ["console", "imports"]) | (_, true, ["console", "imports"]) => Action::Import,
            (_, true, ["console", "imports", t]) if !t.is_empty() && t.len() <= 64 => Action::Import,
            (true, _, ["console", "journaux"])
            | (true, _, ["console", "journaux", "pare-feu"])
            | (true, _, ["console", "journaux", "mises-en-oeuvre"]) => Action::ViewLogs,
            (true, _, ["console", "reglages"]) => Action::ViewSettings,
            (true, _, ["console", "reglages", s]) => {
                segment(s)?;
                Action::ViewSettings
            }
            (_, true, ["console", "reglages", s]) | (_, true, ["console", "reglages", s, "appliquer"]) => {
                Action::ApplySettings { section: segment(s)? }
            }
            (_, true, ["console", "reglages", "firewall", "confirmer"]) => Action::ApplySettings {
                section: "firewall".into(),
            },
            _ => return None,
        })
    }

    /// Anybody, signed in or not.
    pub fn is_public(&self) -> bool {
        matches!(self, Action::SignIn | Action::Asset)
    }

    /// What a person who must first change their password may still do.
    pub fn allowed_before_password_change(&self) -> bool {
        matches!(
            self,
            Action::SignIn | Action::Asset | Action::SignOut | Action::ChangeOwnPassword
        )
    }

    /// A short name for the audit log.
    pub fn name(&self) -> &'static str {
        match self {
            Action::SignIn => "connexion",
            Action::Asset => "fichier",
            Action::Portal => "accueil",
            Action::SignOut => "déconnexion",
            Action::ChangeOwnPassword => "changement de mot de passe",
            Action::Dashboard => "tableau de bord",
            Action::SearchPeople => "recherche de personnes",
            Action::ViewPerson { .. } => "fiche d'une personne",
            Action::ResetPassword { .. } => "nouveau mot de passe",
            Action::SetStatus { .. } => "activation ou désactivation",
            Action::PrintSlips { .. } => "fiches de connexion",
            Action::ViewAudit => "journal des actions",
            Action::Classroom => "mes classes",
            Action::ViewClass { .. } => "une classe",
            Action::TeacherDay => "ma journée",
            Action::Import => "import des comptes",
            Action::ViewLogs => "journaux",
            Action::ViewSettings => "réglages (lecture)",
            Action::ApplySettings { .. } => "réglages",
        }
    }

    /// The action's target, for the audit log ("" when none).
    pub fn target(&self) -> String {
        match self {
            Action::ViewPerson { login } | Action::ResetPassword { login } | Action::SetStatus { login } => {
                login.clone()
            }
            Action::PrintSlips { structure } | Action::ViewClass { structure } => structure.clone(),
            Action::ApplySettings { section } => section.clone(),
            _ => String::new(),
        }
    }
}

/// What the decision needs to know about the actor's relations and the
/// target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    /// Codes of the classes and groups the actor teaches.
    pub teaches: BTreeSet<String>,
    /// Logins of the actor's children (parents).
    pub children: BTreeSet<String>,
    /// The target person, when the action has one and they exist.
    pub target: Option<TargetFacts>,
}

/// The person an action is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetFacts {
    pub kind: Kind,
    /// Codes of their classes and groups.
    pub structures: BTreeSet<String>,
}

impl Facts {
    /// Loads the facts `action` needs for `actor`.
    pub fn load(conn: &Connection, actor: &Actor, action: &Action) -> rusqlite::Result<Facts> {
        let mut facts = Facts::default();
        if let Some(id) = actor.person_id {
            if actor.has(Role::Teacher) {
                facts.teaches = directory::services(conn, Some(id))?
                    .into_iter()
                    .map(|s| s.structure_code)
                    .collect();
            }
            if actor.has(Role::Parent) {
                facts.children = directory::children_of(conn, id)?
                    .into_iter()
                    .map(|c| c.login)
                    .collect();
            }
        }
        if let Action::ViewPerson { login } | Action::ResetPassword { login } | Action::SetStatus { login } =
            action
            && let Some(p) = directory::person_by_login(conn, login)?
        {
            let structures = if p.kind == Kind::Student {
                directory::structures_of(conn, p.id)?
                    .into_iter()
                    .map(|s| s.code)
                    .collect()
            } else {
                BTreeSet::new()
            };
            facts.target = Some(TargetFacts {
                kind: p.kind,
                structures,
            });
        }
        Ok(facts)
    }

    /// Whether the target is a student of one of the actor's classes or
    /// groups.
    fn target_is_my_student(&self) -> bool {
        self.target
            .as_ref()
            .is_some_and(|t| t.kind == Kind::Student && !t.structures.is_disjoint(&self.teaches))
    }
}

/// Allowed, or denied with the reason the audit log keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Decision {
    Allow,
    Deny(&'static str),
}

impl Decision {
    pub fn allowed(&self) -> bool {
        *self == Decision::Allow
    }
}

fn allow_if(ok: bool, reason: &'static str) -> Decision {
    if ok {
        Decision::Allow
    } else {
        Decision::Deny(reason)
    }
}

/// THE decision.
pub fn decide(actor: &Actor, action: &Action, facts: &Facts) -> Decision {
    use Role::*;
    let is_self = |login: &str| actor.login == login && actor.person_id.is_some();
    match action {
        Action::SignIn | Action::Asset | Action::Portal | Action::SignOut | Action::ChangeOwnPassword => {
            Decision::Allow
        }
        Action::Dashboard => allow_if(actor.any(&[Admin, Direction]), "réservé à l'administration"),
        Action::SearchPeople => allow_if(
            actor.any(&[Admin, Direction, SchoolLife]),
            "réservé à l'administration et à la vie scolaire",
        ),
        Action::ViewPerson { login } => {
            if facts.target.is_none() && !actor.has(Admin) {
                return Decision::Deny("personne inconnue");
            }
            allow_if(
                actor.any(&[Admin, Direction, SchoolLife])
                    || is_self(login)
                    || (actor.has(Teacher) && facts.target_is_my_student())
                    || (actor.has(Parent) && facts.children.contains(login)),
                "ni soi-même, ni un élève de ses classes, ni son enfant",
            )
        }
        Action::ResetPassword { .. } => {
            if facts.target.is_none() {
                return Decision::Deny("personne inconnue");
            }
            allow_if(
                actor.has(Admin) || (actor.has(Teacher) && facts.target_is_my_student()),
                "seuls l'administrateur et les enseignants de l'élève donnent un nouveau mot de passe",
            )
        }
        Action::SetStatus { .. } => allow_if(
            actor.has(Admin) && facts.target.is_some(),
            "réservé à l'administrateur",
        ),
        Action::PrintSlips { structure } => allow_if(
            actor.has(Admin) || (actor.has(Teacher) && facts.teaches.contains(structure)),
            "ni administrateur, ni enseignant de cette classe",
        ),
        Action::ViewAudit => allow_if(actor.has(Admin), "réservé à l'administrateur"),
        Action::Classroom => allow_if(actor.has(Teacher), "réservé aux enseignants"),
        Action::TeacherDay => allow_if(actor.has(Teacher), "réservé aux enseignants"),
        Action::Import => allow_if(actor.has(Admin), "réservé à l'administrateur"),
        Action::ViewLogs => allow_if(actor.has(Admin), "réservé à l'administrateur"),
        Action::ViewSettings | Action::ApplySettings { .. } => {
            allow_if(actor.has(Admin), "réservé à l'administrateur")
        }
        Action::ViewClass { structure } => allow_if(
            actor.has(Admin) || (actor.has(Teacher) && facts.teaches.contains(structure)),
            "cette classe n'est pas l'une des siennes",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role) -> Actor {
        Actor {
            login: format!("{role:?}").to_lowercase(),
            name: "X".into(),
            roles: [role].into(),
            person_id: (role != Role::Admin).then_some(1),
        }
    }

    fn facts(role: Role) -> Facts {
        let student = TargetFacts {
            kind: Kind::Student,
            structures: ["6A".to_string()].into(),
        };
        Facts {
            teaches: if role == Role::Teacher {
                ["6A".to_string()].into()
            } else {
                BTreeSet::new()
            },
            children: if role == Role::Parent {
                ["lea".to_string()].into()
            } else {
                BTreeSet::new()
            },
            target: Some(student),
        }
    }

    /// The role × action matrix: `A` allowed, `-` denied, in the order
    /// Admin, Direction, SchoolLife, Teacher, Staff, Student, Parent. The
    /// target is the student "lea" of class 6A; the teacher teaches 6A and
    /// the parent is lea's.
    #[test]
    fn role_action_matrix() {
        let roles = [
            Role::Admin,
            Role::Direction,
            Role::SchoolLife,
            Role::Teacher,
            Role::Staff,
            Role::Student,
            Role::Parent,
        ];
        let lea = || "lea".to_string();
        let table: Vec<(Action, &str)> = vec![
            (Action::SignIn, "AAAAAAA"),
            (Action::Portal, "AAAAAAA"),
            (Action::ChangeOwnPassword, "AAAAAAA"),
            (Action::SignOut, "AAAAAAA"),
            (Action::Dashboard, "AA-----"),
            (Action::SearchPeople, "AAA----"),
            (Action::ViewPerson { login: lea() }, "AAAA--A"),
            (Action::ResetPassword { login: lea() }, "A--A---"),
            (Action::SetStatus { login: lea() }, "A------"),
            (
                Action::PrintSlips {
                    structure: "6A".into(),
                },
                "A--A---",
            ),
            (
                Action::PrintSlips {
                    structure: "5B".into(),
                },
                "A------",
            ),
            (Action::ViewAudit, "A------"),
            (Action::Classroom, "---A---"),
            (Action::TeacherDay, "---A---"),
            (Action::Import, "A------"),
            (Action::ViewLogs, "A------"),
            (Action::ViewSettings, "A------"),
            (
                Action::ApplySettings {
                    section: "establishment".into(),
                },
                "A------",
            ),
            (
                Action::ApplySettings {
                    section: "firewall".into(),
                },
                "A------",
            ),
            (
                Action::ViewClass {
                    structure: "6A".into(),
                },
                "A--A---",
            ),
            (
                Action::ViewClass {
                    structure: "5B".into(),
                },
                "A------",
            ),
        ];
        for (action, expected) in table {
            let got: String = roles
                .iter()
                .map(|r| {
                    if decide(&actor(*r), &action, &facts(*r)).allowed() {
                        'A'
                    } else {
                        '-'
                    }
                })
                .collect();
            assert_eq!(got, expected, "{action:?}");
        }
    }

    #[test]
    fn teachers_never_reset_a_teacher_nor_a_student_of_another_class() {
        let t = actor(Role::Teacher);
        let mut f = facts(Role::Teacher);
        f.target = Some(TargetFacts {
            kind: Kind::Teacher,
            structures: BTreeSet::new(),
        });
        assert!(!decide(&t, &Action::ResetPassword { login: "paul".into() }, &f).allowed());
        f.target = Some(TargetFacts {
            kind: Kind::Student,
            structures: ["5B".to_string()].into(),
        });
        assert!(!decide(&t, &Action::ResetPassword { login: "tom".into() }, &f).allowed());
        assert!(!decide(&t, &Action::ViewPerson { login: "tom".into() }, &f).allowed());
    }

    #[test]
    fn a_person_sees_their_own_page_and_not_others() {
        let s = actor(Role::Student);
        let f = facts(Role::Student);
        assert!(
            decide(
                &s,
                &Action::ViewPerson {
                    login: "student".into()
                },
                &f
            )
            .allowed()
        );
        assert!(!decide(&s, &Action::ViewPerson { login: "lea".into() }, &f).allowed());
        assert!(s.sees_404_when_denied());
        assert!(!actor(Role::Teacher).sees_404_when_denied());
        // An unknown person is "not found" for everyone but an admin.
        let none = Facts::default();
        assert!(
            !decide(
                &actor(Role::Direction),
                &Action::ViewPerson { login: "x".into() },
                &none
            )
            .allowed()
        );
    }

    #[test]
    fn urls_map_to_actions() {
        let g = Method::GET;
        let p = Method::POST;
        assert_eq!(Action::of(&g, "/"), Some(Action::Portal));
        assert_eq!(
            Action::of(&p, "/console/personnes/lea/mot-de-passe"),
            Some(Action::ResetPassword { login: "lea".into() })
        );
        assert_eq!(Action::of(&g, "/console/personnes/lea/mot-de-passe"), None);
        assert_eq!(Action::of(&p, "/console"), None);
        assert_eq!(Action::of(&g, "/nowhere"), None);
        assert_eq!(Action::of(&g, "/console/personnes/"), None);
        assert_eq!(Action::of(&Method::DELETE, "/"), None);
        assert_eq!(Action::of(&g, "/static/"), None);
        assert_eq!(Action::of(&g, "/console/imports"), Some(Action::Import));
        assert_eq!(Action::of(&p, "/console/imports"), Some(Action::Import));
        assert_eq!(Action::of(&p, "/console/imports/abc"), Some(Action::Import));
        assert_eq!(Action::of(&g, "/console/imports/abc"), None);
        for logs in [
            "/console/journaux",
            "/console/journaux/pare-feu",
            "/console/journaux/mises-en-oeuvre",
        ] {
            assert_eq!(Action::of(&g, logs), Some(Action::ViewLogs));
            assert_eq!(Action::of(&p, logs), None);
        }
        assert_eq!(Action::of(&g, "/console/journaux/autre"), None);
        assert_eq!(Action::of(&g, "/console/reglages"), Some(Action::ViewSettings));
        assert_eq!(Action::of(&p, "/console/reglages"), None);
        assert_eq!(
            Action::of(&g, "/console/reglages/server"),
            Some(Action::ViewSettings)
        );
        let server = Some(Action::ApplySettings {
            section: "server".into(),
        });
        assert_eq!(Action::of(&p, "/console/reglages/server"), server);
        assert_eq!(Action::of(&p, "/console/reglages/server/appliquer"), server);
        assert_eq!(Action::of(&g, "/console/reglages/server/appliquer"), None);
        assert_eq!(
            Action::of(&p, "/console/reglages/firewall/confirmer"),
            Some(Action::ApplySettings {
                section: "firewall".into()
            })
        );
        assert_eq!(Action::of(&p, "/console/reglages/server/confirmer"), None);
        assert_eq!(
            Action::of(&g, &format!("/console/reglages/{}", "x".repeat(101))),
            None
        );
        assert_eq!(
            Action::of(&p, &format!("/console/imports/{}", "x".repeat(65))),
            None
        );
    }

    #[test]
    fn roles_from_the_directory() {
        assert_eq!(Role::of_person(Kind::Staff, Some("DIR")), Role::Direction);
        assert_eq!(Role::of_person(Kind::Staff, Some("EDU")), Role::SchoolLife);
        assert_eq!(Role::of_person(Kind::Staff, Some("DOC")), Role::Staff);
        assert_eq!(Role::of_person(Kind::Teacher, None), Role::Teacher);
    }
}

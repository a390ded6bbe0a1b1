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
    /// A timetable (week or day) of a person, a class or group, a room.
    Timetable {
        of: TimetableOf,
    },
    /// Entering the timetable: a weekly slot or an exceptional lesson
    /// (`lesson` None), or a change to one lesson (cancelled, room, moved,
    /// replacement).
    EditTimetable {
        lesson: Option<String>,
    },
    /// An iCalendar feed (public: its private token is the credential,
    /// checked by the handler).
    CalendarFeed,
    /// One's own calendar link: shown, regenerated, revoked.
    MyCalendarLink,
    /// The homework log of one lesson (key: `SLOT-YYYY-MM-DD` or `xID`).
    WriteLog {
        lesson: String,
    },
    /// Every homework log entry of a class or group.
    ClassLog {
        structure: String,
    },
    /// A student's (or a parent's children's) homework by due date.
    ToDo,
    /// One's messages.
    Inbox,
    /// Choosing whom to write to.
    NewMessage,
    /// Writing a new message to a student, parents, a class's parents, a
    /// group.
    WriteMessage {
        to: Recipients,
    },
    /// A thread of messages: read it, reply.
    Thread {
        id: i64,
    },
}

/// Whose timetable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum TimetableOf {
    /// The signed-in person's.
    Me,
    Structure(String),
    Student(String),
    Teacher(String),
    Room(String),
}

/// Whom a new message goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Recipients {
    /// A student (login).
    Student(String),
    /// The legal guardians of a student (login).
    ParentsOf(String),
    /// The legal guardians of every student of a class or group (code).
    ParentsOfStructure(String),
    /// The students of a class or group (code).
    Students(String),
}

impl Recipients {
    /// The URL segments `{kind}/{target}` of the writing form.
    pub fn path(&self) -> String {
        match self {
            Recipients::Student(l) => format!("eleve/{l}"),
            Recipients::ParentsOf(l) => format!("parents/{l}"),
            Recipients::ParentsOfStructure(c) => format!("parents-classe/{c}"),
            Recipients::Students(c) => format!("groupe/{c}"),
        }
    }
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
            (true, _, ["vie-scolaire", "emploi-du-temps"]) => Action::Timetable { of: TimetableOf::Me },
            (true, _, ["vie-scolaire", "emploi-du-temps", "saisie"])
            | (_, true, ["vie-scolaire", "emploi-du-temps", "saisie"]) => {
                Action::EditTimetable { lesson: None }
            }
            (true, _, ["vie-scolaire", "emploi-du-temps", "changement", k])
            | (_, true, ["vie-scolaire", "emploi-du-temps", "changement", k]) => Action::EditTimetable {
                lesson: Some(segment(k)?),
            },
            (true, _, ["vie-scolaire", "emploi-du-temps", kind, x]) => Action::Timetable {
                of: match *kind {
                    "classe" => TimetableOf::Structure(segment(x)?),
                    "eleve" => TimetableOf::Student(segment(x)?),
                    "enseignant" => TimetableOf::Teacher(segment(x)?),
                    "salle" => TimetableOf::Room(segment(x)?),
                    _ => return None,
                },
            },
            (true, _, ["vie-scolaire", "agenda", f]) if f.len() > 4 && f.ends_with(".ics") => {
                Action::CalendarFeed
            }
            (true, _, ["vie-scolaire", "agenda"]) | (_, true, ["vie-scolaire", "agenda"]) => {
                Action::MyCalendarLink
            }
            (true, _, ["vie-scolaire", "cahier-de-textes", "seance", k])
            | (_, true, ["vie-scolaire", "cahier-de-textes", "seance", k]) => {
                Action::WriteLog { lesson: segment(k)? }
            }
            (true, _, ["vie-scolaire", "cahier-de-textes", "classe", c]) => Action::ClassLog {
                structure: segment(c)?,
            },
            (true, _, ["vie-scolaire", "travail"]) => Action::ToDo,
            (true, _, ["vie-scolaire", "messages"]) => Action::Inbox,
            (true, _, ["vie-scolaire", "messages", "nouveau"]) => Action::NewMessage,
            (true, _, ["vie-scolaire", "messages", "nouveau", kind, x])
            | (_, true, ["vie-scolaire", "messages", "nouveau", kind, x]) => Action::WriteMessage {
                to: match *kind {
                    "eleve" => Recipients::Student(segment(x)?),
                    "parents" => Recipients::ParentsOf(segment(x)?),
                    "parents-classe" => Recipients::ParentsOfStructure(segment(x)?),
                    "groupe" => Recipients::Students(segment(x)?),
                    _ => return None,
                },
            },
            (true, _, ["vie-scolaire", "messages", id]) | (_, true, ["vie-scolaire", "messages", id]) => {
                Action::Thread {
                    id: id.parse().ok().filter(|n| *n > 0 && !id.starts_with('+'))?,
                }
            }
            _ => return None,
        })
    }

    /// Anybody, signed in or not.
    pub fn is_public(&self) -> bool {
        matches!(self, Action::SignIn | Action::Asset | Action::CalendarFeed)
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
            Action::Timetable { .. } => "emploi du temps",
            Action::EditTimetable { .. } => "saisie de l'emploi du temps",
            Action::CalendarFeed => "agenda iCalendar",
            Action::MyCalendarLink => "lien d'agenda",
            Action::WriteLog { .. } => "cahier de textes d'une séance",
            Action::ClassLog { .. } => "cahier de textes d'une classe",
            Action::ToDo => "travail à faire",
            Action::Inbox => "messages",
            Action::NewMessage => "nouveau message",
            Action::WriteMessage { .. } => "écrire un message",
            Action::Thread { .. } => "fil de messages",
        }
    }

    /// The action's target, for the audit log ("" when none).
    pub fn target(&self) -> String {
        match self {
            Action::ViewPerson { login } | Action::ResetPassword { login } | Action::SetStatus { login } => {
                login.clone()
            }
            Action::PrintSlips { structure }
            | Action::ViewClass { structure }
            | Action::ClassLog { structure } => structure.clone(),
            Action::Timetable { of } => match of {
                TimetableOf::Me => String::new(),
                TimetableOf::Structure(x)
                | TimetableOf::Student(x)
                | TimetableOf::Teacher(x)
                | TimetableOf::Room(x) => x.clone(),
            },
            Action::WriteLog { lesson } => lesson.clone(),
            Action::EditTimetable { lesson } => lesson.clone().unwrap_or_default(),
            Action::WriteMessage { to } => to.path(),
            Action::Thread { id } => id.to_string(),
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
    /// Codes of the classes the actor is head teacher of.
    pub head_of: BTreeSet<String>,
    /// The kind of the target class or group, when it exists.
    pub structure: Option<directory::StructureKind>,
    /// The teacher of the target lesson (the replacement when replaced),
    /// when the lesson exists.
    pub lesson_teacher: Option<i64>,
    /// Whether the actor wrote in, or receives, the target thread.
    pub in_thread: bool,
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
        crate::modules::viescolaire::web::access::load_facts(conn, actor, action, &mut facts)?;
        let target = match action {
            Action::ViewPerson { login } | Action::ResetPassword { login } | Action::SetStatus { login } => {
                Some(login)
            }
            Action::Timetable {
                of: TimetableOf::Student(l) | TimetableOf::Teacher(l),
            } => Some(l),
            Action::WriteMessage {
                to: Recipients::Student(l) | Recipients::ParentsOf(l),
            } => Some(l),
            _ => None,
        };
        if let Some(login) = target
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

    /// Whether the target student belongs to one of `codes`.
    fn target_in(&self, codes: &BTreeSet<String>) -> bool {
        self.target
            .as_ref()
            .is_some_and(|t| t.kind == Kind::Student && !t.structures.is_disjoint(codes))
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
        Action::ViewClass { structure } => allow_if(
            actor.has(Admin) || (actor.has(Teacher) && facts.teaches.contains(structure)),
            "cette classe n'est pas l'une des siennes",
        ),
        Action::CalendarFeed => Decision::Allow,
        Action::EditTimetable { lesson } => {
            if lesson.is_some() && facts.lesson_teacher.is_none() {
                return Decision::Deny("séance inconnue");
            }
            allow_if(
                actor.any(&[Admin, Direction, SchoolLife]),
                "réservé à l'administration, à la direction et à la vie scolaire",
            )
        }
        Action::Timetable { of } => decide_timetable(actor, of, facts),
        Action::MyCalendarLink | Action::Inbox => allow_if(
            actor.person_id.is_some(),
            "réservé aux personnes de l'établissement",
        ),
        Action::WriteLog { .. } => {
            let Some(teacher) = facts.lesson_teacher else {
                return Decision::Deny("séance inconnue");
            };
            allow_if(
                actor.any(&[Direction, SchoolLife])
                    || (actor.has(Teacher) && actor.person_id == Some(teacher)),
                "ni l'enseignant de la séance, ni la direction ou la vie scolaire",
            )
        }
        Action::ClassLog { structure } => allow_if(
            facts.structure.is_some()
                && (actor.has(Direction)
                    || (actor.has(Teacher)
                        && (facts.head_of.contains(structure) || facts.teaches.contains(structure)))),
            "ni la direction, ni le professeur principal ou un enseignant de la classe",
        ),
        Action::ToDo => allow_if(
            actor.person_id.is_some() && actor.any(&[Student, Parent]),
            "réservé aux élèves et à leurs responsables",
        ),
        Action::NewMessage => allow_if(
            actor.person_id.is_some() && actor.any(&[Direction, SchoolLife, Teacher]),
            "réservé aux enseignants, à la vie scolaire et à la direction",
        ),
        Action::WriteMessage { to } => {
            let office = actor.person_id.is_some() && actor.any(&[Direction, SchoolLife]);
            let teacher = actor.person_id.is_some() && actor.has(Teacher);
            match to {
                Recipients::Student(_) | Recipients::ParentsOf(_) => {
                    if facts.target.as_ref().is_none_or(|t| t.kind != Kind::Student) {
                        return Decision::Deny("élève inconnu");
                    }
                    allow_if(
                        office
                            || (teacher && (facts.target_is_my_student() || facts.target_in(&facts.head_of))),
                        "cet élève n'est pas l'un des siens",
                    )
                }
                Recipients::ParentsOfStructure(code) | Recipients::Students(code) => {
                    if facts.structure.is_none() {
                        return Decision::Deny("classe ou groupe inconnu");
                    }
                    allow_if(
                        office || (teacher && (facts.teaches.contains(code) || facts.head_of.contains(code))),
                        "cette classe n'est pas l'une des siennes",
                    )
                }
            }
        }
        Action::Thread { .. } => allow_if(
            actor.person_id.is_some() && facts.in_thread,
            "ni auteur ni destinataire de ces messages",
        ),
    }
}

/// Whose timetable one may read: one's own; a class's for the office and
/// its teachers; a student's for the office, himself, his legal
/// guardians, his teachers and head teacher; a teacher's or a room's for
/// the staff.
fn decide_timetable(actor: &Actor, of: &TimetableOf, facts: &Facts) -> Decision {
    use Role::*;
    let office = actor.any(&[Admin, Direction, SchoolLife]);
    let staff = actor.any(&[Admin, Direction, SchoolLife, Teacher, Staff]);
    match of {
        // A console administrator gets the chooser of timetables.
        TimetableOf::Me => allow_if(
            actor.person_id.is_some() || actor.has(Admin),
            "pas d'emploi du temps",
        ),
        TimetableOf::Structure(code) => allow_if(
            facts.structure.is_some()
                && (office
                    || (actor.has(Teacher)
                        && (facts.teaches.contains(code) || facts.head_of.contains(code)))),
            "cette classe n'est pas l'une des siennes",
        ),
        TimetableOf::Student(login) => {
            if facts.target.as_ref().is_none_or(|t| t.kind != Kind::Student) {
                return Decision::Deny("élève inconnu");
            }
            allow_if(
                office
                    || (actor.login == *login && actor.person_id.is_some())
                    || (actor.has(Parent) && facts.children.contains(login))
                    || (actor.has(Teacher)
                        && (facts.target_is_my_student() || facts.target_in(&facts.head_of))),
                "ni soi-même, ni un élève de ses classes, ni son enfant",
            )
        }
        TimetableOf::Teacher(login) => {
            if !facts
                .target
                .as_ref()
                .is_some_and(|t| matches!(t.kind, Kind::Teacher | Kind::Staff))
            {
                return Decision::Deny("enseignant inconnu");
            }
            allow_if(
                staff || (actor.login == *login && actor.person_id.is_some()),
                "réservé aux personnels",
            )
        }
        TimetableOf::Room(_) => allow_if(staff, "réservé aux personnels"),
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
            ..Default::default()
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

    /// The school-life actions (timetables, feeds, homework log, to-do
    /// list, messages), same order and people as [`role_action_matrix`];
    /// each row may adjust the facts: the class 6A (or 5B) exists, the
    /// lesson is the teacher's (person 1) or another's (2), the thread
    /// is the actor's or not.
    #[test]
    fn school_life_matrix() {
        use directory::StructureKind;
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
        let class = |f: &mut Facts| f.structure = Some(StructureKind::Class);
        let none = |_: &mut Facts| {};
        let teacher_target = |f: &mut Facts| {
            f.target = Some(TargetFacts {
                kind: Kind::Teacher,
                structures: BTreeSet::new(),
            })
        };
        let tt = |of| Action::Timetable { of };
        let msg = |to| Action::WriteMessage { to };
        type Adjust = Box<dyn Fn(&mut Facts)>;
        let table: Vec<(Action, Adjust, &str)> = vec![
            (tt(TimetableOf::Me), Box::new(none), "AAAAAAA"),
            (
                tt(TimetableOf::Structure("6A".into())),
                Box::new(class),
                "AAAA---",
            ),
            (
                tt(TimetableOf::Structure("5B".into())),
                Box::new(class),
                "AAA----",
            ),
            (tt(TimetableOf::Structure("6A".into())), Box::new(none), "-------"),
            (tt(TimetableOf::Student(lea())), Box::new(none), "AAAA--A"),
            // Himself (the target facts are those of a student of 6A).
            (
                tt(TimetableOf::Student("student".into())),
                Box::new(none),
                "AAAA-A-",
            ),
            (
                tt(TimetableOf::Student(lea())),
                Box::new(|f: &mut Facts| f.target = None),
                "-------",
            ),
            (
                tt(TimetableOf::Teacher("paul".into())),
                Box::new(teacher_target),
                "AAAAA--",
            ),
            (
                tt(TimetableOf::Teacher("teacher".into())),
                Box::new(teacher_target),
                "AAAAA--",
            ),
            (tt(TimetableOf::Teacher(lea())), Box::new(none), "-------"),
            (tt(TimetableOf::Room("B12".into())), Box::new(none), "AAAAA--"),
            (Action::CalendarFeed, Box::new(none), "AAAAAAA"),
            (Action::EditTimetable { lesson: None }, Box::new(none), "AAA----"),
            (
                Action::EditTimetable {
                    lesson: Some("1-2026-12-01".into()),
                },
                Box::new(|f: &mut Facts| f.lesson_teacher = Some(1)),
                "AAA----",
            ),
            (
                Action::EditTimetable {
                    lesson: Some("9-2026-12-01".into()),
                },
                Box::new(none),
                "-------",
            ),
            (Action::MyCalendarLink, Box::new(none), "-AAAAAA"),
            (
                Action::WriteLog {
                    lesson: "1-2026-12-01".into(),
                },
                Box::new(|f: &mut Facts| f.lesson_teacher = Some(1)),
                "-AAA---",
            ),
            (
                Action::WriteLog {
                    lesson: "1-2026-12-01".into(),
                },
                Box::new(|f: &mut Facts| f.lesson_teacher = Some(2)),
                "-AA----",
            ),
            (
                Action::WriteLog {
                    lesson: "9-2026-12-01".into(),
                },
                Box::new(none),
                "-------",
            ),
            (
                Action::ClassLog {
                    structure: "6A".into(),
                },
                Box::new(class),
                "-A-A---",
            ),
            (
                Action::ClassLog {
                    structure: "5B".into(),
                },
                Box::new(class),
                "-A-----",
            ),
            (
                Action::ClassLog {
                    structure: "5B".into(),
                },
                Box::new(|f: &mut Facts| {
                    f.structure = Some(StructureKind::Class);
                    f.head_of = ["5B".to_string()].into();
                }),
                "-A-A---",
            ),
            (Action::ToDo, Box::new(none), "-----AA"),
            (Action::Inbox, Box::new(none), "-AAAAAA"),
            (Action::NewMessage, Box::new(none), "-AAA---"),
            (msg(Recipients::Student(lea())), Box::new(none), "-AAA---"),
            (msg(Recipients::ParentsOf(lea())), Box::new(none), "-AAA---"),
            (
                msg(Recipients::ParentsOf(lea())),
                Box::new(|f: &mut Facts| {
                    f.target = Some(TargetFacts {
                        kind: Kind::Student,
                        structures: ["5B".to_string()].into(),
                    })
                }),
                "-AA----",
            ),
            (
                msg(Recipients::ParentsOf("tom".into())),
                Box::new(|f: &mut Facts| {
                    // The head teacher of 5B reaches its students.
                    f.target = Some(TargetFacts {
                        kind: Kind::Student,
                        structures: ["5B".to_string()].into(),
                    });
                    f.head_of = ["5B".to_string()].into();
                }),
                "-AAA---",
            ),
            (
                msg(Recipients::Student("x".into())),
                Box::new(|f: &mut Facts| f.target = None),
                "-------",
            ),
            (
                msg(Recipients::ParentsOfStructure("6A".into())),
                Box::new(class),
                "-AAA---",
            ),
            (
                msg(Recipients::ParentsOfStructure("5B".into())),
                Box::new(class),
                "-AA----",
            ),
            (msg(Recipients::Students("6A".into())), Box::new(class), "-AAA---"),
            (msg(Recipients::Students("6A".into())), Box::new(none), "-------"),
            (
                Action::Thread { id: 1 },
                Box::new(|f: &mut Facts| f.in_thread = true),
                "-AAAAAA",
            ),
            (Action::Thread { id: 1 }, Box::new(none), "-------"),
        ];
        for (action, adjust, expected) in table {
            let got: String = roles
                .iter()
                .map(|r| {
                    let mut f = facts(*r);
                    adjust(&mut f);
                    if decide(&actor(*r), &action, &f).allowed() {
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
    fn school_life_urls_map_to_actions() {
        let g = Method::GET;
        let p = Method::POST;
        assert_eq!(
            Action::of(&g, "/vie-scolaire/emploi-du-temps/salle/B12"),
            Some(Action::Timetable {
                of: TimetableOf::Room("B12".into())
            })
        );
        assert_eq!(Action::of(&g, "/vie-scolaire/emploi-du-temps/autre/B12"), None);
        assert_eq!(
            Action::of(&p, "/vie-scolaire/emploi-du-temps/changement/3-2026-12-01"),
            Some(Action::EditTimetable {
                lesson: Some("3-2026-12-01".into())
            })
        );
        assert_eq!(Action::of(&p, "/vie-scolaire/emploi-du-temps"), None);
        assert_eq!(
            Action::of(&g, "/vie-scolaire/agenda/abc.ics"),
            Some(Action::CalendarFeed)
        );
        assert_eq!(Action::of(&g, "/vie-scolaire/agenda/.ics"), None);
        assert_eq!(Action::of(&g, "/vie-scolaire/agenda/abc"), None);
        assert!(Action::CalendarFeed.is_public());
        assert_eq!(
            Action::of(&p, "/vie-scolaire/messages/nouveau/parents-classe/6A"),
            Some(Action::WriteMessage {
                to: Recipients::ParentsOfStructure("6A".into())
            })
        );
        assert_eq!(Action::of(&g, "/vie-scolaire/messages/nouveau/tous/6A"), None);
        assert_eq!(
            Action::of(&p, "/vie-scolaire/messages/12"),
            Some(Action::Thread { id: 12 })
        );
        for bad in ["0", "-1", "+3", "x", "99999999999999999999"] {
            assert_eq!(
                Action::of(&g, &format!("/vie-scolaire/messages/{bad}")),
                None,
                "{bad}"
            );
        }
        assert_eq!(Action::of(&p, "/vie-scolaire/travail"), None);
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
    }

    #[test]
    fn roles_from_the_directory() {
        assert_eq!(Role::of_person(Kind::Staff, Some("DIR")), Role::Direction);
        assert_eq!(Role::of_person(Kind::Staff, Some("EDU")), Role::SchoolLife);
        assert_eq!(Role::of_person(Kind::Staff, Some("DOC")), Role::Staff);
        assert_eq!(Role::of_person(Kind::Teacher, None), Role::Teacher);
    }
}

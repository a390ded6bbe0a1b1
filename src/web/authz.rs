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
    /// Single sign-on endpoints that services call themselves (OpenID
    /// Connect discovery, JWKS, token, userinfo; CAS ticket validation):
    /// public, their own credentials (client secret, token, ticket) are
    /// checked by the protocol code.
    SsoProtocol,
    /// Signing in to a service through Préau (OpenID Connect authorize
    /// and consent, CAS login). Not signed in: the endpoint answers as
    /// its protocol says (sign-in page, or an error for `prompt=none`).
    SsoSignIn,
    /// Signing out of Préau and the services (RP-initiated logout, CAS
    /// logout).
    SsoSignOut,
    /// Booking: the list of resources.
    Bookings,
    /// Adding or changing a resource.
    ManageResources,
    /// A resource's page (the day's bookings) and its iCalendar feed.
    ViewResource {
        resource: i64,
    },
    /// Booking a resource.
    Book {
        resource: i64,
    },
    /// Approving or refusing a pending booking.
    SettleBooking {
        booking: i64,
    },
    /// Cancelling a booking.
    CancelBooking {
        booking: i64,
    },
    /// Exchanging the slots of two bookings (the first is in the URL,
    /// both are checked).
    SwapBookings {
        booking: i64,
    },
    /// The usage statistics (bookings, digital usage).
    ViewStatistics,
}

fn segment(s: &str) -> Option<String> {
    (!s.is_empty() && s.len() <= 100).then(|| s.to_string())
}

/// A numeric id in a URL segment.
fn id(s: &str) -> Option<i64> {
    (s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
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
            (true, _, [".well-known", "openid-configuration"])
            | (true, _, ["oidc", "jwks"])
            | (_, true, ["oidc", "token"])
            | (true, _, ["oidc", "userinfo"])
            | (_, true, ["oidc", "userinfo"])
            | (true, _, ["cas", "validate" | "serviceValidate" | "proxyValidate" | "proxy"])
            | (true, _, ["cas", "p3", "serviceValidate" | "proxyValidate"]) => Action::SsoProtocol,
            (true, _, ["oidc", "authorize"])
            | (_, true, ["oidc", "authorize"])
            | (true, _, ["cas", "login"]) => Action::SsoSignIn,
            (true, _, ["oidc", "logout"]) | (_, true, ["oidc", "logout"]) | (true, _, ["cas", "logout"]) => {
                Action::SsoSignOut
            }
            (true, _, ["reservations"]) => Action::Bookings,
            (_, true, ["reservations"]) => Action::ManageResources,
            (true, _, ["reservations", r]) => Action::ViewResource { resource: id(r)? },
            (true, _, ["reservations", r, "agenda.ics"]) => Action::ViewResource { resource: id(r)? },
            (_, true, ["reservations", r, "reserver"]) => Action::Book { resource: id(r)? },
            (_, true, ["reservations", "demandes", b, "valider"]) => {
                Action::SettleBooking { booking: id(b)? }
            }
            (_, true, ["reservations", "demandes", b, "annuler"]) => {
                Action::CancelBooking { booking: id(b)? }
            }
            (_, true, ["reservations", "demandes", b, "echanger"]) => {
                Action::SwapBookings { booking: id(b)? }
            }
            (true, _, ["console", "statistiques"]) => Action::ViewStatistics,
            _ => return None,
        })
    }

    /// Anybody, signed in or not.
    pub fn is_public(&self) -> bool {
        matches!(self, Action::SignIn | Action::Asset | Action::SsoProtocol)
    }

    /// Endpoints whose handler answers somebody not signed in itself (the
    /// single sign-on protocols say how); signed in, they are decided.
    pub fn handles_anonymous(&self) -> bool {
        matches!(self, Action::SsoSignIn | Action::SsoSignOut)
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
            Action::SsoProtocol => "authentification unique (protocole)",
            Action::SsoSignIn => "connexion à un service",
            Action::SsoSignOut => "déconnexion des services",
            Action::Bookings => "réservations",
            Action::ManageResources => "gestion des ressources",
            Action::ViewResource { .. } => "une ressource",
            Action::Book { .. } => "réservation",
            Action::SettleBooking { .. } => "validation d'une réservation",
            Action::CancelBooking { .. } => "annulation d'une réservation",
            Action::SwapBookings { .. } => "échange de réservations",
            Action::ViewStatistics => "statistiques",
        }
    }

    /// The action's target, for the audit log ("" when none).
    pub fn target(&self) -> String {
        match self {
            Action::ViewPerson { login } | Action::ResetPassword { login } | Action::SetStatus { login } => {
                login.clone()
            }
            Action::PrintSlips { structure } | Action::ViewClass { structure } => structure.clone(),
            Action::ViewResource { resource } | Action::Book { resource } => format!("ressource {resource}"),
            Action::SettleBooking { booking }
            | Action::CancelBooking { booking }
            | Action::SwapBookings { booking } => format!("réservation {booking}"),
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
    /// The resource (and booking) a booking action is about, when they
    /// exist.
    pub booking: Option<BookingFacts>,
}

/// What a booking decision needs: the resource's rules and, for an
/// action on a booking, whose it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookingFacts {
    /// Teachers may book it.
    pub teachers_allowed: bool,
    /// Login of the person who approves its requests.
    pub manager: Option<String>,
    /// Who made the booking (actions on a booking).
    pub owner: Option<String>,
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
        facts.booking = match action {
            Action::ViewResource { resource } | Action::Book { resource } => {
                crate::booking::resource(conn, *resource)?.map(|r| BookingFacts {
                    teachers_allowed: r.teachers_allowed,
                    manager: r.manager,
                    owner: None,
                })
            }
            Action::SettleBooking { booking }
            | Action::CancelBooking { booking }
            | Action::SwapBookings { booking } => match crate::booking::booking(conn, *booking)? {
                Some(b) => crate::booking::resource(conn, b.resource_id)?.map(|r| BookingFacts {
                    teachers_allowed: r.teachers_allowed,
                    manager: r.manager,
                    owner: Some(b.login),
                }),
                None => None,
            },
            _ => None,
        };
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
    let staff = actor.any(&[Admin, Direction, SchoolLife, Teacher, Staff]);
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
        Action::SsoProtocol | Action::SsoSignOut => Decision::Allow,
        Action::SsoSignIn => allow_if(
            actor.person_id.is_some(),
            "un compte d'administration n'a pas d'identité à donner aux services",
        ),
        Action::Bookings => allow_if(staff, "les élèves et les responsables ne réservent pas"),
        Action::ManageResources => allow_if(actor.has(Admin), "réservé à l'administrateur"),
        Action::ViewResource { .. } => match &facts.booking {
            None => Decision::Deny("ressource inconnue"),
            Some(_) => allow_if(staff, "les élèves et les responsables ne réservent pas"),
        },
        Action::Book { .. } => {
            let Some(r) = &facts.booking else {
                return Decision::Deny("ressource inconnue");
            };
            let manager = r.manager.as_deref() == Some(actor.login.as_str());
            if !staff {
                Decision::Deny("les élèves et les responsables ne réservent pas")
            } else if actor.any(&[Admin, Direction, SchoolLife, Staff]) || manager || r.teachers_allowed {
                Decision::Allow
            } else {
                Decision::Deny("cette ressource n'est pas ouverte aux enseignants")
            }
        }
        Action::SettleBooking { .. } => {
            let Some(r) = &facts.booking else {
                return Decision::Deny("réservation inconnue");
            };
            allow_if(
                actor.has(Admin) || r.manager.as_deref() == Some(actor.login.as_str()),
                "seul le responsable de la ressource valide ses réservations",
            )
        }
        Action::CancelBooking { .. } | Action::SwapBookings { .. } => {
            let Some(r) = &facts.booking else {
                return Decision::Deny("réservation inconnue");
            };
            allow_if(
                staff
                    && (actor.has(Admin)
                        || r.owner.as_deref() == Some(actor.login.as_str())
                        || r.manager.as_deref() == Some(actor.login.as_str())),
                "seul l'auteur ou le responsable change une réservation",
            )
        }
        Action::ViewStatistics => allow_if(actor.any(&[Admin, Direction]), "réservé à l'administration"),
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
            booking: None,
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

    fn row(action: &Action, facts_of: &dyn Fn(Role) -> Facts) -> String {
        ROLES
            .iter()
            .map(|r| {
                if decide(&actor(*r), action, &facts_of(*r)).allowed() {
                    'A'
                } else {
                    '-'
                }
            })
            .collect()
    }

    const ROLES: [Role; 7] = [
        Role::Admin,
        Role::Direction,
        Role::SchoolLife,
        Role::Teacher,
        Role::Staff,
        Role::Student,
        Role::Parent,
    ];

    /// Single sign-on: protocol endpoints are public (their own
    /// credentials are checked by the protocol code), signing in to a
    /// service needs a directory identity, signing out is for everybody.
    #[test]
    fn single_sign_on_matrix() {
        let f = |r| facts(r);
        assert_eq!(row(&Action::SsoProtocol, &f), "AAAAAAA");
        assert_eq!(row(&Action::SsoSignIn, &f), "-AAAAAA");
        assert_eq!(row(&Action::SsoSignOut, &f), "AAAAAAA");
        assert!(Action::SsoProtocol.is_public());
        assert!(!Action::SsoSignIn.is_public());
        assert!(Action::SsoSignIn.handles_anonymous() && Action::SsoSignOut.handles_anonymous());
        let g = Method::GET;
        let p = Method::POST;
        for (m, url, a) in [
            (&g, "/.well-known/openid-configuration", Action::SsoProtocol),
            (&g, "/oidc/jwks", Action::SsoProtocol),
            (&p, "/oidc/token", Action::SsoProtocol),
            (&g, "/oidc/userinfo", Action::SsoProtocol),
            (&p, "/oidc/userinfo", Action::SsoProtocol),
            (&g, "/cas/serviceValidate", Action::SsoProtocol),
            (&g, "/cas/p3/serviceValidate", Action::SsoProtocol),
            (&g, "/cas/validate", Action::SsoProtocol),
            (&g, "/oidc/authorize", Action::SsoSignIn),
            (&p, "/oidc/authorize", Action::SsoSignIn),
            (&g, "/cas/login", Action::SsoSignIn),
            (&g, "/oidc/logout", Action::SsoSignOut),
            (&p, "/oidc/logout", Action::SsoSignOut),
            (&g, "/cas/logout", Action::SsoSignOut),
        ] {
            assert_eq!(Action::of(m, url), Some(a), "{m} {url}");
        }
        assert_eq!(Action::of(&g, "/oidc/token"), None);
        assert_eq!(Action::of(&p, "/cas/login"), None);
    }

    /// Booking rules. The teacher is "teacher", the manager "direction".
    #[test]
    fn booking_matrix() {
        let bf = |teachers_allowed: bool, manager: Option<&str>, owner: Option<&str>| {
            Some(BookingFacts {
                teachers_allowed,
                manager: manager.map(String::from),
                owner: owner.map(String::from),
            })
        };
        let open = |owner: Option<&str>| bf(true, Some("direction"), owner);
        let closed = bf(false, None, None);
        let managed_by_teacher = bf(false, Some("teacher"), Some("staff"));
        let unknown = None;
        let r = |resource| Action::Book { resource };
        let b = |booking| Action::SettleBooking { booking };
        let c = |booking| Action::CancelBooking { booking };
        let s = |booking| Action::SwapBookings { booking };
        let table: Vec<(Action, Option<BookingFacts>, &str)> = vec![
            (Action::Bookings, open(None), "AAAAA--"),
            (Action::ManageResources, open(None), "A------"),
            (Action::ViewResource { resource: 1 }, open(None), "AAAAA--"),
            (Action::ViewResource { resource: 1 }, unknown.clone(), "-------"),
            // A student never books; a teacher books what is open to teachers.
            (r(1), open(None), "AAAAA--"),
            (r(1), closed.clone(), "AAA-A--"),
            // ...or what he manages himself.
            (r(1), managed_by_teacher.clone(), "AAAAA--"),
            (r(1), unknown.clone(), "-------"),
            // Only the named manager (and the admin) approves.
            (b(1), open(Some("teacher")), "AA-----"),
            (b(1), managed_by_teacher.clone(), "A--A---"),
            (b(1), closed.clone(), "A------"),
            (b(1), unknown.clone(), "-------"),
            // Cancel / swap: the author, the manager, the admin.
            (c(1), open(Some("teacher")), "AA-A---"),
            (c(1), open(Some("student")), "AA-----"),
            (c(1), managed_by_teacher.clone(), "A--AA--"),
            (c(1), unknown.clone(), "-------"),
            (s(1), open(Some("teacher")), "AA-A---"),
            (s(1), managed_by_teacher.clone(), "A--AA--"),
            (Action::ViewStatistics, open(None), "AA-----"),
        ];
        for (action, booking, expected) in table {
            let f = |r| Facts {
                booking: booking.clone(),
                ..facts(r)
            };
            assert_eq!(row(&action, &f), expected, "{action:?}");
        }
        let g = Method::GET;
        let p = Method::POST;
        assert_eq!(Action::of(&g, "/reservations"), Some(Action::Bookings));
        assert_eq!(Action::of(&p, "/reservations"), Some(Action::ManageResources));
        assert_eq!(
            Action::of(&g, "/reservations/12"),
            Some(Action::ViewResource { resource: 12 })
        );
        assert_eq!(
            Action::of(&g, "/reservations/12/agenda.ics"),
            Some(Action::ViewResource { resource: 12 })
        );
        assert_eq!(Action::of(&p, "/reservations/12/reserver"), Some(r(12)));
        assert_eq!(Action::of(&g, "/reservations/12/reserver"), None);
        assert_eq!(Action::of(&p, "/reservations/demandes/7/valider"), Some(b(7)));
        assert_eq!(Action::of(&p, "/reservations/demandes/7/annuler"), Some(c(7)));
        assert_eq!(Action::of(&p, "/reservations/demandes/7/echanger"), Some(s(7)));
        assert_eq!(Action::of(&g, "/reservations/x"), None);
        assert_eq!(Action::of(&g, "/reservations/-1"), None);
        assert_eq!(Action::of(&g, "/reservations/99999999999999999999"), None);
        assert_eq!(
            Action::of(&g, "/console/statistiques"),
            Some(Action::ViewStatistics)
        );
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

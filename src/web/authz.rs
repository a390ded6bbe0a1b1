//! THE authorization decision: [`decide`]`(actor, action, facts)`, a pure
//! function. Every URL maps to one [`Action`] ([`Action::of`]); the facts
//! it needs (a teacher's classes, a parent's children, the target
//! person's kind and classes) are loaded in bulk before deciding
//! ([`Facts::load`]). `preau web explain --as LOGIN URL` prints the
//! decision for any account and URL.

use crate::directory::{self, Kind};
use crate::modules::proxy::settings::SourceGroup;
use crate::modules::viescolaire::facts as vs_facts;
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

    pub fn label_en(self) -> &'static str {
        match self {
            Role::Admin => "administrator",
            Role::Direction => "direction",
            Role::SchoolLife => "school life",
            Role::Teacher => "teacher",
            Role::Staff => "staff",
            Role::Student => "student",
            Role::Parent => "parent",
        }
    }

    /// The role's name in `[sso]` `roles` and in the `role` claim and
    /// attribute the services receive.
    pub fn sso_name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Direction => "direction",
            Role::SchoolLife => "cpe",
            Role::Teacher => "teacher",
            Role::Staff => "staff",
            Role::Student => "student",
            Role::Parent => "parent",
        }
    }

    /// The role of an `[sso]` role name (None: not a role).
    pub fn of_sso_name(name: &str) -> Option<Role> {
        [
            Role::Admin,
            Role::Direction,
            Role::SchoolLife,
            Role::Teacher,
            Role::Staff,
            Role::Student,
            Role::Parent,
        ]
        .into_iter()
        .find(|r| r.sso_name() == name)
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
    /// The second step of an administrator's sign-in: his TOTP code
    /// (public: the pending sign-in's own cookie is checked there).
    SignInCode,
    /// An administrator's own second factor: enrol, confirm, disable.
    ManageSecondFactor,
    /// Embedded CSS and JavaScript (public).
    Asset,
    /// The language switch (public: a preference cookie).
    ChooseLanguage,
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
    /// Create a person by hand (`/console/personnes/nouvelle`).
    CreatePerson,
    /// The leavers due for deletion, and their purge
    /// (`/console/personnes/partants`).
    PurgeLeavers,
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
    /// Using one single sign-on service: an OpenID Connect client (at
    /// authorization and at each token request) or a CAS service (at each
    /// ticket). Not a URL of its own: the single sign-on code decides it
    /// with the service's declared roles in [`Facts::sso_service`] (none:
    /// an unknown service, refused).
    SsoUse {
        /// The client id or the CAS service's name.
        service: String,
    },
    /// Booking: the list of resources.
    Bookings,
    /// Adding or changing a resource.
    ManageResources,
    /// A resource's page (the day's bookings) and its iCalendar feed.
    ViewResource {
        resource: i64,
    },
    /// A resource's iCalendar feed by its private token
    /// (`/reservations/agenda/{token}.ics`): public, the handler checks the
    /// token (an unknown or replaced one is a 404).
    ResourceFeed,
    /// Making a new private calendar link of a resource (the old one stops
    /// working): whoever may view the resource.
    ResourceCalendarLink {
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
    /// Hand out, collect, return homework to a class or group, and see
    /// its copies (a teacher of it).
    Homework {
        structure: String,
    },
    /// The rooms whose internet the actor may switch (classroom tools).
    Rooms,
    /// Switch a room (a `[proxy]` source group) to exam mode or internet
    /// off for a time, or end it.
    ControlRoom {
        room: String,
    },
    /// Grades: a teacher's services and their evaluations.
    MyGrades,
    /// A student's or parent's way in to marks and report cards.
    OwnMarks,
    /// The marks grid of a service (a subject taught to a class or
    /// group): read, save the whole grid, create an evaluation.
    ServiceGrades {
        structure: String,
        subject: String,
    },
    /// One evaluation: edit it, save one cell, read its history.
    EnterMarks {
        evaluation: i64,
    },
    /// A student's marks, averages, competences and report cards.
    ViewMarks {
        login: String,
    },
    /// The report cards of a class (live, or frozen once closed), for
    /// print.
    ClassReportCards {
        class: String,
    },
    /// A subject teacher's comments on a class's report cards.
    SubjectComments {
        class: String,
        subject: String,
    },
    /// Competences of a class in a subject (positioning per period).
    EnterCompetences {
        class: String,
        subject: String,
    },
    /// The head teacher's general comments and the council's decisions.
    GeneralComments {
        class: String,
    },
    /// Closing a period for a class: the report cards are frozen.
    ClosePeriod {
        class: String,
    },
    /// The LSU file of a class and period.
    LsuExport {
        class: String,
    },
    /// Subject coefficients of a class's overall average, and students'
    /// own coefficients.
    SetCoefficients {
        class: String,
    },
    /// The roll of one lesson (its key: `2026-12-01_12` for slot 12 on
    /// that date, `2026-12-01_x5` for exceptional lesson 5).
    TakeRoll {
        lesson: String,
    },
    /// The school-life office: the day's absences, recording them,
    /// justifications to decide, summaries and their export.
    ManageAbsences,
    /// A student's or parent's entry to absences and lateness.
    MyAttendance,
    /// A student's absences and lateness.
    ViewAbsences {
        login: String,
    },
    /// Sending a justification for a student's absence.
    Justify {
        login: String,
    },
    /// The scan or photo attached to a justification.
    JustificationFile {
        id: i64,
    },
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
    /// The weeks A and B of the school year: seen and set.
    WeekCalendar,
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
    /// A file attached to a homework log entry (downloaded).
    HomeworkFile {
        id: i64,
    },
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
            (true, _, ["connexion", "code"]) | (_, true, ["connexion", "code"]) => Action::SignInCode,
            (true, _, ["console", "securite"]) | (_, true, ["console", "securite"]) => {
                Action::ManageSecondFactor
            }
            (_, true, ["deconnexion"]) => Action::SignOut,
            (_, true, ["langue"]) => Action::ChooseLanguage,
            (true, _, ["mot-de-passe"]) | (_, true, ["mot-de-passe"]) => Action::ChangeOwnPassword,
            (true, _, ["static", f]) if !f.is_empty() => Action::Asset,
            (true, _, ["console"]) => Action::Dashboard,
            (true, _, ["console", "personnes"]) => Action::SearchPeople,
            (true, _, ["console", "personnes", "nouvelle"])
            | (_, true, ["console", "personnes", "nouvelle"]) => Action::CreatePerson,
            (true, _, ["console", "personnes", "partants"])
            | (_, true, ["console", "personnes", "partants"]) => Action::PurgeLeavers,
            (true, _, ["console", "personnes", l]) => Action::ViewPerson { login: segment(l)? },
            (_, true, ["console", "personnes", l, "mot-de-passe"]) => {
                Action::ResetPassword { login: segment(l)? }
            }
            (_, true, ["console", "personnes", l, "etat"]) => Action::SetStatus { login: segment(l)? },
            (true, _, ["console", "classes", c, "fiches" | "fiches.csv"]) => Action::PrintSlips {
                structure: segment(c)?,
            },
            (true, _, ["console", "journal"]) => Action::ViewAudit,
            (true, _, ["console", "classe"]) => Action::Classroom,
            (true, _, ["console", "classe", c]) => Action::ViewClass {
                structure: segment(c)?,
            },
            (true, _, ["vie-scolaire", "journee"]) => Action::TeacherDay,
            (true, _, ["vie-scolaire", "notes"]) => Action::MyGrades,
            (true, _, ["vie-scolaire", "mes-notes"]) => Action::OwnMarks,
            (true, _, ["vie-scolaire", "notes", "eleve", l]) => Action::ViewMarks { login: segment(l)? },
            (true, _, ["vie-scolaire", "notes", "evaluations", id])
            | (_, true, ["vie-scolaire", "notes", "evaluations", id])
            | (_, true, ["vie-scolaire", "notes", "evaluations", id, "cellule"]) => Action::EnterMarks {
                evaluation: id.parse().ok().filter(|n: &i64| *n > 0)?,
            },
            (true, _, ["vie-scolaire", "notes", c, m])
            | (_, true, ["vie-scolaire", "notes", c, m])
            | (_, true, ["vie-scolaire", "notes", c, m, "evaluations"]) => Action::ServiceGrades {
                structure: segment(c)?,
                subject: segment(m)?,
            },
            (true, _, ["vie-scolaire", "bulletins", "eleve", l]) => Action::ViewMarks { login: segment(l)? },
            (true, _, ["vie-scolaire", "bulletins", c]) => Action::ClassReportCards { class: segment(c)? },
            (true, _, ["vie-scolaire", "bulletins", c, "appreciations", m])
            | (_, true, ["vie-scolaire", "bulletins", c, "appreciations", m]) => Action::SubjectComments {
                class: segment(c)?,
                subject: segment(m)?,
            },
            (true, _, ["vie-scolaire", "bulletins", c, "conseil"])
            | (_, true, ["vie-scolaire", "bulletins", c, "conseil"]) => {
                Action::GeneralComments { class: segment(c)? }
            }
            (_, true, ["vie-scolaire", "bulletins", c, "cloture"]) => {
                Action::ClosePeriod { class: segment(c)? }
            }
            (true, _, ["vie-scolaire", "bulletins", c, "lsu"]) => Action::LsuExport { class: segment(c)? },
            (true, _, ["vie-scolaire", "bulletins", c, "coefficients"])
            | (_, true, ["vie-scolaire", "bulletins", c, "coefficients"]) => {
                Action::SetCoefficients { class: segment(c)? }
            }
            (true, _, ["vie-scolaire", "competences", c, m])
            | (_, true, ["vie-scolaire", "competences", c, m]) => Action::EnterCompetences {
                class: segment(c)?,
                subject: segment(m)?,
            },
            (_, _, ["vie-scolaire", "appel", l]) if get || post => Action::TakeRoll { lesson: segment(l)? },
            (_, _, ["vie-scolaire", "absences"]) if get || post => Action::ManageAbsences,
            (true, _, ["vie-scolaire", "absences", "direct" | "bilan" | "bilan.csv"]) => {
                Action::ManageAbsences
            }
            (true, _, ["vie-scolaire", "justificatifs"]) => Action::ManageAbsences,
            (_, true, ["vie-scolaire", "justificatifs", id]) if id.parse::<i64>().is_ok() => {
                Action::ManageAbsences
            }
            (true, _, ["vie-scolaire", "justificatifs", id, "piece"]) => {
                Action::JustificationFile { id: id.parse().ok()? }
            }
            (true, _, ["vie-scolaire", "assiduite"]) => Action::MyAttendance,
            (true, _, ["vie-scolaire", "eleves", l, "absences"]) => {
                Action::ViewAbsences { login: segment(l)? }
            }
            (_, true, ["vie-scolaire", "eleves", l, "justificatifs"]) => {
                Action::Justify { login: segment(l)? }
            }
            (true, _, ["vie-scolaire", "emploi-du-temps"]) => Action::Timetable { of: TimetableOf::Me },
            (true, _, ["vie-scolaire", "emploi-du-temps", "saisie"])
            | (_, true, ["vie-scolaire", "emploi-du-temps", "saisie"]) => {
                Action::EditTimetable { lesson: None }
            }
            (true, _, ["vie-scolaire", "emploi-du-temps", "semaines"])
            | (_, true, ["vie-scolaire", "emploi-du-temps", "semaines"]) => Action::WeekCalendar,
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
            | (_, true, ["vie-scolaire", "cahier-de-textes", "seance", k])
            | (_, true, ["vie-scolaire", "cahier-de-textes", "seance", k, "pieces"])
            | (
                _,
                true,
                [
                    "vie-scolaire",
                    "cahier-de-textes",
                    "seance",
                    k,
                    "pieces",
                    _,
                    "retirer",
                ],
            ) => Action::WriteLog { lesson: segment(k)? },
            (true, _, ["vie-scolaire", "cahier-de-textes", "classe", c]) => Action::ClassLog {
                structure: segment(c)?,
            },
            (true, _, ["vie-scolaire", "travail"]) => Action::ToDo,
            (true, _, ["vie-scolaire", "cahier-de-textes", "pieces", id]) => Action::HomeworkFile {
                id: id.parse().ok().filter(|n: &i64| *n > 0)?,
            },
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
            (_, true, ["console", "reglages", "firewall", "confirmer"]) => Action::ApplySettings {
                section: "firewall".into(),
            },
            (_, true, ["console", "reglages", s]) | (_, true, ["console", "reglages", s, "appliquer"]) => {
                Action::ApplySettings { section: segment(s)? }
            }
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
            (true, _, ["reservations", "agenda", f]) if f.len() > 4 && f.ends_with(".ics") => {
                Action::ResourceFeed
            }
            (true, _, ["reservations", r, "agenda.ics"]) => Action::ViewResource { resource: id(r)? },
            (_, true, ["reservations", r, "agenda"]) => Action::ResourceCalendarLink { resource: id(r)? },
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
            (_, true, ["console", "classe", c, "devoirs"])
            | (true, _, ["console", "classe", c, "devoirs", _])
            | (_, true, ["console", "classe", c, "devoirs", _, "ramasser" | "rendre"]) => Action::Homework {
                structure: segment(c)?,
            },
            (true, _, ["console", "salles"]) => Action::Rooms,
            (_, true, ["console", "salles", r]) | (_, true, ["console", "salles", r, "fin"]) => {
                Action::ControlRoom { room: segment(r)? }
            }
            _ => return None,
        })
    }

    /// Whether the decision needs the school-life facts.
    pub fn is_school_life(&self) -> bool {
        matches!(
            self,
            Action::TakeRoll { .. }
                | Action::ViewAbsences { .. }
                | Action::Justify { .. }
                | Action::JustificationFile { .. }
                | Action::HomeworkFile { .. }
        )
    }

    /// Anybody, signed in or not.
    pub fn is_public(&self) -> bool {
        matches!(
            self,
            Action::SignIn
                | Action::SignInCode
                | Action::Asset
                | Action::ChooseLanguage
                | Action::CalendarFeed
                | Action::ResourceFeed
                | Action::SsoProtocol
        )
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
            Action::SignInCode => "code de connexion",
            Action::ManageSecondFactor => "double authentification",
            Action::Asset => "fichier",
            Action::ChooseLanguage => "langue",
            Action::Portal => "accueil",
            Action::SignOut => "déconnexion",
            Action::ChangeOwnPassword => "changement de mot de passe",
            Action::Dashboard => "tableau de bord",
            Action::SearchPeople => "recherche de personnes",
            Action::ViewPerson { .. } => "fiche d'une personne",
            Action::ResetPassword { .. } => "nouveau mot de passe",
            Action::SetStatus { .. } => "activation ou désactivation",
            Action::CreatePerson => "création d'une personne",
            Action::PurgeLeavers => "suppression des partants",
            Action::PrintSlips { .. } => "fiches de connexion",
            Action::ViewAudit => "journal des actions",
            Action::Classroom => "mes classes",
            Action::ViewClass { .. } => "une classe",
            Action::TeacherDay => "ma journée",
            Action::MyGrades => "mes notes",
            Action::OwnMarks => "notes et bulletins",
            Action::ServiceGrades { .. } => "notes d'un service",
            Action::EnterMarks { .. } => "saisie de notes",
            Action::ViewMarks { .. } => "notes d'un élève",
            Action::ClassReportCards { .. } => "bulletins d'une classe",
            Action::SubjectComments { .. } => "appréciations",
            Action::EnterCompetences { .. } => "compétences",
            Action::GeneralComments { .. } => "appréciation générale et conseil",
            Action::ClosePeriod { .. } => "clôture de période",
            Action::LsuExport { .. } => "export LSU",
            Action::SetCoefficients { .. } => "coefficients des matières",
            Action::TakeRoll { .. } => "appel",
            Action::ManageAbsences => "absences (vie scolaire)",
            Action::MyAttendance => "absences et retards",
            Action::ViewAbsences { .. } => "absences d'un élève",
            Action::Justify { .. } => "justificatif d'absence",
            Action::JustificationFile { .. } => "pièce d'un justificatif",
            Action::Timetable { .. } => "emploi du temps",
            Action::EditTimetable { .. } => "saisie de l'emploi du temps",
            Action::WeekCalendar => "semaines A et B",
            Action::CalendarFeed => "agenda iCalendar",
            Action::MyCalendarLink => "lien d'agenda",
            Action::WriteLog { .. } => "cahier de textes d'une séance",
            Action::ClassLog { .. } => "cahier de textes d'une classe",
            Action::ToDo => "travail à faire",
            Action::HomeworkFile { .. } => "pièce du cahier de textes",
            Action::Inbox => "messages",
            Action::NewMessage => "nouveau message",
            Action::WriteMessage { .. } => "écrire un message",
            Action::Thread { .. } => "fil de messages",
            Action::Import => "import des comptes",
            Action::ViewLogs => "journaux",
            Action::ViewSettings => "réglages (lecture)",
            Action::ApplySettings { .. } => "réglages",
            Action::SsoProtocol => "authentification unique (protocole)",
            Action::SsoSignIn => "connexion à un service",
            Action::SsoSignOut => "déconnexion des services",
            Action::SsoUse { .. } => "usage d'un service",
            Action::Bookings => "réservations",
            Action::ManageResources => "gestion des ressources",
            Action::ViewResource { .. } => "une ressource",
            Action::ResourceFeed => "agenda iCalendar d'une ressource",
            Action::ResourceCalendarLink { .. } => "lien d'agenda d'une ressource",
            Action::Book { .. } => "réservation",
            Action::SettleBooking { .. } => "validation d'une réservation",
            Action::CancelBooking { .. } => "annulation d'une réservation",
            Action::SwapBookings { .. } => "échange de réservations",
            Action::ViewStatistics => "statistiques",
            Action::Homework { .. } => "devoirs",
            Action::Rooms => "salles et internet",
            Action::ControlRoom { .. } => "internet d'une salle",
        }
    }

    /// The action's target, for the audit log ("" when none).
    pub fn target(&self) -> String {
        match self {
            Action::ViewPerson { login } | Action::ResetPassword { login } | Action::SetStatus { login } => {
                login.clone()
            }
            Action::ServiceGrades { structure, subject } => format!("{structure} {subject}"),
            Action::EnterMarks { evaluation } => format!("évaluation {evaluation}"),
            Action::ViewMarks { login } => login.clone(),
            Action::ClassReportCards { class }
            | Action::GeneralComments { class }
            | Action::ClosePeriod { class }
            | Action::LsuExport { class }
            | Action::SetCoefficients { class } => class.clone(),
            Action::SubjectComments { class, subject } | Action::EnterCompetences { class, subject } => {
                format!("{class} {subject}")
            }
            Action::TakeRoll { lesson } => lesson.clone(),
            Action::ViewAbsences { login } | Action::Justify { login } => login.clone(),
            Action::JustificationFile { id } | Action::HomeworkFile { id } => id.to_string(),
            Action::PrintSlips { structure }
            | Action::ViewClass { structure }
            | Action::ClassLog { structure }
            | Action::Homework { structure } => structure.clone(),
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
            Action::ViewResource { resource }
            | Action::Book { resource }
            | Action::ResourceCalendarLink { resource } => format!("ressource {resource}"),
            Action::SettleBooking { booking }
            | Action::CancelBooking { booking }
            | Action::SwapBookings { booking } => format!("réservation {booking}"),
            Action::ControlRoom { room } => room.clone(),
            Action::ApplySettings { section } => section.clone(),
            Action::SsoUse { service } => service.clone(),
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
    /// The actor's teaching services: (structure code, subject code).
    pub services: BTreeSet<(String, String)>,
    /// Codes of the classes the actor is head teacher of.
    pub head_of: BTreeSet<String>,
    /// The service of the target evaluation: (structure code, subject).
    pub evaluation: Option<(String, String)>,
    /// The target class and its groups (codes), for class actions.
    pub class_structures: BTreeSet<String>,
    /// School-life facts of the actor (a directory person), loaded for
    /// school-life actions ([`crate::modules::viescolaire::facts`]).
    pub school: Option<vs_facts::Facts>,
    /// What a school-life action is about.
    pub school_target: Option<SchoolTarget>,
    /// The kind of the target class or group, when it exists.
    pub structure: Option<directory::StructureKind>,
    /// The teacher of the target lesson (the replacement when replaced),
    /// when the lesson exists.
    pub lesson_teacher: Option<i64>,
    /// Whether the actor wrote in, or receives, the target thread.
    pub in_thread: bool,
    /// The rooms (`[proxy]` source groups) the actor teaches in: groups
    /// whose `rooms` hold a room of one of the actor's timetable slots or
    /// lessons (loaded for the room actions only).
    pub rooms: BTreeSet<String>,
    /// The resource (and booking) a booking action is about, when they
    /// exist.
    pub booking: Option<BookingFacts>,
    /// The single sign-on service of [`Action::SsoUse`], when it is
    /// declared in `[sso]`.
    pub sso_service: Option<SsoServiceFacts>,
}

/// What `[sso]` declares of an OpenID Connect client or CAS service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SsoServiceFacts {
    /// The roles allowed to use it (`admin`, `direction`, `cpe`,
    /// `teacher`, `staff`, `student`, `parent`); empty: everyone.
    pub roles: Vec<String>,
}

/// The target of a school-life action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum SchoolTarget {
    /// A lesson that takes place, with its teacher (the replacement's id
    /// when replaced).
    Lesson { teacher_id: i64 },
    /// A student.
    Student(vs_facts::StudentRef),
    /// A homework log entry's file: the lesson's class or group with the
    /// classes of a group (ids), and the students of the lesson's class
    /// or group (ids).
    HomeworkFile {
        structures: BTreeSet<i64>,
        students: BTreeSet<i64>,
    },
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
    /// Loads the facts `action` needs for `actor`; `sources` are the
    /// `[proxy]` source groups (rooms and their timetable rooms).
    pub fn load(
        conn: &Connection,
        actor: &Actor,
        action: &Action,
        sources: &[SourceGroup],
    ) -> rusqlite::Result<Facts> {
        let mut facts = Facts::default();
        if let (Some(id), Action::Rooms | Action::ControlRoom { .. }) = (actor.person_id, action)
            && actor.has(Role::Teacher)
        {
            facts.rooms = rooms_taught(conn, id, sources)?;
        }
        if let Some(id) = actor.person_id {
            if actor.has(Role::Teacher) {
                let services = directory::services(conn, Some(id))?;
                facts.services = services
                    .iter()
                    .map(|s| (s.structure_code.clone(), s.subject_code.clone()))
                    .collect();
                facts.teaches = services.into_iter().map(|s| s.structure_code).collect();
                facts.head_of = crate::modules::viescolaire::queries::marks::head_of(conn, id)?;
            }
            if actor.has(Role::Parent) {
                // Legal guardians only: a contact reaches no child's data.
                facts.children = directory::legal_children_of(conn, id)?.into_iter().collect();
            }
        }
        match action {
            Action::EnterMarks { evaluation } => {
                facts.evaluation =
                    crate::modules::viescolaire::queries::marks::evaluation_service(conn, *evaluation)?;
            }
            Action::ClassReportCards { class }
            | Action::SubjectComments { class, .. }
            | Action::EnterCompetences { class, .. }
            | Action::GeneralComments { class }
            | Action::ClosePeriod { class }
            | Action::LsuExport { class }
            | Action::SetCoefficients { class } => {
                facts.class_structures =
                    crate::modules::viescolaire::queries::marks::class_structures(conn, class)?;
            }
            _ => {}
        }
        crate::modules::viescolaire::web::access::load_facts(conn, actor, action, &mut facts)?;
        let target = match action {
            Action::ViewPerson { login }
            | Action::ResetPassword { login }
            | Action::SetStatus { login }
            | Action::ViewMarks { login } => Some(login),
            Action::Timetable {
                of: TimetableOf::Student(l) | TimetableOf::Teacher(l),
            } => Some(l),
            Action::WriteMessage {
                to: Recipients::Student(l) | Recipients::ParentsOf(l),
            } => Some(l),
            _ => None,
        };
        facts.booking = match action {
            Action::ViewResource { resource }
            | Action::Book { resource }
            | Action::ResourceCalendarLink { resource } => {
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
        if action.is_school_life()
            && let Some(id) = actor.person_id
        {
            facts.school = vs_facts::load(conn, id)?;
            facts.school_target = school_target(conn, action)?;
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

/// The school-life target of an action, from the store.
fn school_target(conn: &Connection, action: &Action) -> rusqlite::Result<Option<SchoolTarget>> {
    use crate::modules::viescolaire::queries::roll;
    let student = |id: i64| -> rusqlite::Result<Option<SchoolTarget>> {
        Ok(Some(SchoolTarget::Student(vs_facts::student_ref(conn, id)?)))
    };
    match action {
        Action::TakeRoll { lesson } => {
            Ok(roll::find_lesson(conn, lesson)?
                .filter(|l| l.takes_place)
                .map(|l| SchoolTarget::Lesson {
                    teacher_id: l.service.teacher_id,
                }))
        }
        Action::ViewAbsences { login } | Action::Justify { login } => {
            match directory::person_by_login(conn, login)? {
                Some(p) if p.kind == Kind::Student => student(p.id),
                _ => Ok(None),
            }
        }
        Action::JustificationFile { id } => match roll::justification_student(conn, *id)? {
            Some(s) => student(s),
            None => Ok(None),
        },
        Action::HomeworkFile { id } => Ok(crate::modules::viescolaire::queries::homework::file_audience(
            conn, *id,
        )?
        .map(|(structures, students)| SchoolTarget::HomeworkFile { structures, students })),
        _ => Ok(None),
    }
}

/// The source groups whose `rooms` hold a room where teacher `id` has a
/// timetable slot or a lesson (a replacement, a moved lesson).
pub fn rooms_taught(
    conn: &Connection,
    id: i64,
    sources: &[SourceGroup],
) -> rusqlite::Result<BTreeSet<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT room FROM vs_slots WHERE teacher_id = ?1 AND room <> ''
         UNION SELECT room FROM vs_lessons WHERE teacher_id = ?1 AND room <> ''",
    )?;
    let taught: BTreeSet<String> = stmt
        .query_map([id], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    Ok(sources
        .iter()
        .filter(|g| g.rooms.iter().any(|r| taught.contains(r)))
        .map(|g| g.name.clone())
        .collect())
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
        Action::SignIn
        | Action::SignInCode
        | Action::Asset
        | Action::ChooseLanguage
        | Action::Portal
        | Action::SignOut
        | Action::ChangeOwnPassword => Decision::Allow,
        Action::ManageSecondFactor => allow_if(
            actor.has(Admin),
            "la double authentification est celle des administrateurs",
        ),
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
        Action::CreatePerson | Action::PurgeLeavers => {
            allow_if(actor.has(Admin), "réservé à l'administrateur")
        }
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
        Action::MyGrades => allow_if(actor.has(Teacher), "réservé aux enseignants"),
        Action::OwnMarks => allow_if(
            actor.any(&[Student, Parent]),
            "réservé aux élèves et aux responsables",
        ),
        Action::ServiceGrades { structure, subject } => allow_if(
            actor.has(Teacher) && facts.services.contains(&(structure.clone(), subject.clone())),
            "ce service n'est pas l'un des siens",
        ),
        Action::EnterMarks { .. } => allow_if(
            actor.has(Teacher)
                && facts
                    .evaluation
                    .as_ref()
                    .is_some_and(|e| facts.services.contains(e)),
            "cette évaluation n'est pas de l'un de ses services",
        ),
        Action::ViewMarks { login } => {
            if facts.target.as_ref().is_none_or(|t| t.kind != Kind::Student) {
                return Decision::Deny("élève inconnu");
            }
            allow_if(
                actor.any(&[Admin, Direction, SchoolLife])
                    || (actor.has(Student) && is_self(login))
                    || (actor.has(Teacher) && facts.target_is_my_student())
                    || (actor.has(Parent) && facts.children.contains(login)),
                "ni soi-même, ni un élève de ses classes, ni son enfant",
            )
        }
        Action::ClassReportCards { class } => allow_if(
            !facts.class_structures.is_empty()
                && (actor.any(&[Admin, Direction])
                    || (actor.has(Teacher)
                        && (facts.head_of.contains(class)
                            || !facts.class_structures.is_disjoint(&facts.teaches)))),
            "ni la direction, ni un enseignant de cette classe",
        ),
        Action::SubjectComments { subject, .. } | Action::EnterCompetences { subject, .. } => allow_if(
            actor.has(Teacher)
                && facts
                    .class_structures
                    .iter()
                    .any(|s| facts.services.contains(&(s.clone(), subject.clone()))),
            "il n'enseigne pas cette matière dans cette classe",
        ),
        Action::GeneralComments { class } => allow_if(
            !facts.class_structures.is_empty()
                && (actor.has(Direction) || (actor.has(Teacher) && facts.head_of.contains(class))),
            "ni la direction, ni le professeur principal de cette classe",
        ),
        Action::ClosePeriod { .. } | Action::LsuExport { .. } | Action::SetCoefficients { .. } => allow_if(
            !facts.class_structures.is_empty() && actor.any(&[Admin, Direction]),
            "réservé à la direction et à l'administrateur",
        ),
        Action::TakeRoll { .. } => match (&facts.school, &facts.school_target) {
            (Some(f), Some(SchoolTarget::Lesson { teacher_id })) => allow_if(
                f.may_take_roll(*teacher_id),
                "ni l'enseignant de ce cours, ni la vie scolaire",
            ),
            _ => Decision::Deny("cours inconnu, annulé ou déplacé"),
        },
        Action::ManageAbsences => allow_if(
            actor.any(&[Direction, SchoolLife]),
            "réservé à la vie scolaire et à la direction",
        ),
        Action::MyAttendance => allow_if(
            actor.person_id.is_some() && actor.any(&[Student, Parent]),
            "réservé aux élèves et à leurs responsables",
        ),
        Action::ViewAbsences { .. } => match (&facts.school, &facts.school_target) {
            (Some(f), Some(SchoolTarget::Student(s))) => allow_if(
                f.may_view_student(s),
                "ni soi-même, ni son enfant, ni un élève de ses classes",
            ),
            _ => Decision::Deny("élève inconnu"),
        },
        Action::Justify { .. } | Action::JustificationFile { .. } => {
            match (&facts.school, &facts.school_target) {
                (Some(f), Some(SchoolTarget::Student(s))) => allow_if(
                    f.may_justify(s.id),
                    "ni responsable légal de l'élève, ni la vie scolaire",
                ),
                _ => Decision::Deny("élève ou justificatif inconnu"),
            }
        }
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
        Action::WeekCalendar => allow_if(
            actor.any(&[Admin, Direction, SchoolLife]),
            "réservé à l'administration, à la direction et à la vie scolaire",
        ),
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
        Action::HomeworkFile { .. } => match (&facts.school, &facts.school_target) {
            (Some(f), Some(SchoolTarget::HomeworkFile { structures, students })) => allow_if(
                actor.has(Direction)
                    || (actor.has(Teacher)
                        && (!f.taught.is_disjoint(structures) || !f.head_of.is_disjoint(structures)))
                    || (actor.has(Student) && students.contains(&f.person_id))
                    || (actor.has(Parent) && !f.children.is_disjoint(students)),
                "ni élève ou responsable légal d'un élève de la classe, ni un de ses enseignants, ni la direction",
            ),
            _ => Decision::Deny("pièce inconnue"),
        },
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
        Action::SsoProtocol | Action::SsoSignOut => Decision::Allow,
        Action::SsoSignIn => allow_if(
            actor.person_id.is_some(),
            "un compte d'administration n'a pas d'identité à donner aux services",
        ),
        Action::SsoUse { .. } => match &facts.sso_service {
            None => Decision::Deny("service inconnu"),
            Some(f) => allow_if(
                f.roles.is_empty()
                    || actor
                        .roles
                        .iter()
                        .any(|r| f.roles.iter().any(|x| x == r.sso_name())),
                "ce service n'est pas ouvert à son profil",
            ),
        },
        Action::Bookings => allow_if(staff, "les élèves et les responsables ne réservent pas"),
        Action::ManageResources => allow_if(actor.has(Admin), "réservé à l'administrateur"),
        Action::ResourceFeed => Decision::Allow,
        Action::ViewResource { .. } | Action::ResourceCalendarLink { .. } => match &facts.booking {
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
        Action::Homework { structure } => allow_if(
            actor.has(Teacher) && facts.teaches.contains(structure),
            "seuls les enseignants de la classe distribuent et ramassent ses devoirs",
        ),
        Action::Rooms => allow_if(
            actor.any(&[Admin, Teacher]),
            "réservé aux enseignants et à l'administrateur",
        ),
        Action::ControlRoom { room } => allow_if(
            actor.has(Admin) || (actor.has(Teacher) && facts.rooms.contains(room)),
            "ni administrateur, ni enseignant ayant cours dans cette salle",
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
            rooms: if role == Role::Teacher {
                ["salle-b12".to_string()].into()
            } else {
                BTreeSet::new()
            },
            ..Facts::default()
        }
    }

    /// School-life facts by role: the teacher (person 1) teaches 6A (10)
    /// and is head teacher of 5B (11); the student lea is person 2 of 6A;
    /// the parent is lea's legal guardian; tom (5) is of 5B.
    fn school(role: Role, target: SchoolTarget) -> Facts {
        use vs_facts::Role as R;
        let f = match role {
            Role::Admin => None,
            Role::Direction => Some(vs_facts::Facts {
                person_id: 7,
                roles: vec![R::Direction],
                ..Default::default()
            }),
            Role::SchoolLife => Some(vs_facts::Facts {
                person_id: 6,
                roles: vec![R::SchoolLife],
                ..Default::default()
            }),
            Role::Teacher => Some(vs_facts::Facts {
                person_id: 1,
                roles: vec![R::Teacher],
                services: [("MATHS".to_string(), 10)].into(),
                taught: [10].into(),
                head_of: [11].into(),
                ..Default::default()
            }),
            Role::Staff => Some(vs_facts::Facts {
                person_id: 8,
                roles: vec![R::Staff],
                ..Default::default()
            }),
            Role::Student => Some(vs_facts::Facts {
                person_id: 2,
                roles: vec![R::Student],
                structures: [10].into(),
                ..Default::default()
            }),
            Role::Parent => Some(vs_facts::Facts {
                person_id: 3,
                roles: vec![R::Parent],
                children: [2].into(),
                ..Default::default()
            }),
        };
        Facts {
            school: f,
            school_target: Some(target),
            ..Default::default()
        }
    }

    /// School life, role × action: `A` allowed, `-` denied, in the order
    /// Admin, Direction, SchoolLife, Teacher, Staff, Student, Parent.
    #[test]
    fn school_life_matrix() {
        let roles = [
            Role::Admin,
            Role::Direction,
            Role::SchoolLife,
            Role::Teacher,
            Role::Staff,
            Role::Student,
            Role::Parent,
        ];
        let student = |id: i64, class: i64| {
            SchoolTarget::Student(vs_facts::StudentRef {
                id,
                class: Some(class),
                structures: [class].into(),
            })
        };
        let file = |structures: &[i64], students: &[i64]| SchoolTarget::HomeworkFile {
            structures: structures.iter().copied().collect(),
            students: students.iter().copied().collect(),
        };
        let lesson = |teacher_id| SchoolTarget::Lesson { teacher_id };
        let roll = || Action::TakeRoll {
            lesson: "2026-12-01_1".into(),
        };
        let table: Vec<(Action, SchoolTarget, &str)> = vec![
            (roll(), lesson(1), "-AAA---"),
            (roll(), lesson(99), "-AA----"),
            (Action::ManageAbsences, lesson(1), "-AA----"),
            (Action::MyAttendance, lesson(1), "-----AA"),
            (
                Action::ViewAbsences { login: "lea".into() },
                student(2, 10),
                "-AAA-AA",
            ),
            // tom of 5B: the teacher is its head teacher.
            (
                Action::ViewAbsences { login: "tom".into() },
                student(5, 11),
                "-AAA---",
            ),
            (
                Action::ViewAbsences { login: "zoe".into() },
                student(9, 12),
                "-AA----",
            ),
            (Action::Justify { login: "lea".into() }, student(2, 10), "-AA---A"),
            (Action::Justify { login: "tom".into() }, student(5, 11), "-AA----"),
            (Action::JustificationFile { id: 1 }, student(2, 10), "-AA---A"),
            (Action::JustificationFile { id: 2 }, student(5, 11), "-AA----"),
            // A homework log entry's file: the lesson's class or group
            // (with a group's classes) and its students.
            (Action::HomeworkFile { id: 1 }, file(&[10], &[2]), "-A-A-AA"),
            (Action::HomeworkFile { id: 2 }, file(&[11], &[5]), "-A-A---"),
            (Action::HomeworkFile { id: 3 }, file(&[12, 10], &[2]), "-A-A-AA"),
            (Action::HomeworkFile { id: 4 }, file(&[12, 13], &[9]), "-A-----"),
        ];
        for (action, target, expected) in table {
            let got: String = roles
                .iter()
                .map(|r| {
                    if decide(&actor(*r), &action, &school(*r, target.clone())).allowed() {
                        'A'
                    } else {
                        '-'
                    }
                })
                .collect();
            assert_eq!(got, expected, "{action:?} on {target:?}");
        }
        // No target (unknown lesson or student, cancelled lesson): refused
        // to everyone, the office included.
        for r in roles {
            let mut f = school(r, lesson(1));
            f.school_target = None;
            assert!(!decide(&actor(r), &roll(), &f).allowed());
            assert!(!decide(&actor(r), &Action::ViewAbsences { login: "x".into() }, &f).allowed());
            assert!(!decide(&actor(r), &Action::HomeworkFile { id: 9 }, &f).allowed());
        }
        // A non-legal contact has no children in the school-life facts.
        let mut f = school(Role::Parent, student(2, 10));
        f.school.as_mut().unwrap().children.clear();
        assert!(!decide(&actor(Role::Parent), &Action::Justify { login: "lea".into() }, &f).allowed());
        assert!(
            !decide(
                &actor(Role::Parent),
                &Action::ViewAbsences { login: "lea".into() },
                &f
            )
            .allowed()
        );
        assert!(actor(Role::Parent).sees_404_when_denied());
    }

    #[test]
    fn school_life_urls_map_to_actions() {
        let (g, p) = (Method::GET, Method::POST);
        for m in [&g, &p] {
            assert_eq!(
                Action::of(m, "/vie-scolaire/emploi-du-temps/semaines"),
                Some(Action::WeekCalendar)
            );
        }
        let log = || Action::WriteLog {
            lesson: "1-2026-12-01".into(),
        };
        assert_eq!(
            Action::of(&g, "/vie-scolaire/cahier-de-textes/pieces/4"),
            Some(Action::HomeworkFile { id: 4 })
        );
        for bad in [
            "/vie-scolaire/cahier-de-textes/pieces/0",
            "/vie-scolaire/cahier-de-textes/pieces/x",
        ] {
            assert_eq!(Action::of(&g, bad), None, "{bad}");
        }
        assert_eq!(Action::of(&p, "/vie-scolaire/cahier-de-textes/pieces/4"), None);
        assert_eq!(
            Action::of(&p, "/vie-scolaire/cahier-de-textes/seance/1-2026-12-01/pieces"),
            Some(log())
        );
        assert_eq!(
            Action::of(
                &p,
                "/vie-scolaire/cahier-de-textes/seance/1-2026-12-01/pieces/3/retirer"
            ),
            Some(log())
        );
        assert_eq!(
            Action::of(&g, "/vie-scolaire/cahier-de-textes/seance/1-2026-12-01/pieces"),
            None
        );
        assert_eq!(
            Action::of(&p, "/vie-scolaire/appel/2026-12-01_3"),
            Some(Action::TakeRoll {
                lesson: "2026-12-01_3".into()
            })
        );
        assert_eq!(
            Action::of(&p, "/vie-scolaire/absences"),
            Some(Action::ManageAbsences)
        );
        assert_eq!(Action::of(&p, "/vie-scolaire/absences/direct"), None);
        assert_eq!(
            Action::of(&p, "/vie-scolaire/justificatifs/4"),
            Some(Action::ManageAbsences)
        );
        assert_eq!(Action::of(&p, "/vie-scolaire/justificatifs/x"), None);
        assert_eq!(
            Action::of(&g, "/vie-scolaire/justificatifs/4/piece"),
            Some(Action::JustificationFile { id: 4 })
        );
        assert_eq!(Action::of(&g, "/vie-scolaire/justificatifs/x/piece"), None);
        assert_eq!(
            Action::of(&p, "/vie-scolaire/eleves/lea/justificatifs"),
            Some(Action::Justify { login: "lea".into() })
        );
        assert_eq!(Action::of(&g, "/vie-scolaire/eleves/lea/justificatifs"), None);
        assert_eq!(Action::of(&p, "/vie-scolaire/eleves/lea/absences"), None);
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
            (Action::SignInCode, "AAAAAAA"),
            (Action::ChooseLanguage, "AAAAAAA"),
            (Action::ManageSecondFactor, "A------"),
            (Action::Portal, "AAAAAAA"),
            (Action::ChangeOwnPassword, "AAAAAAA"),
            (Action::SignOut, "AAAAAAA"),
            (Action::Dashboard, "AA-----"),
            (Action::SearchPeople, "AAA----"),
            (Action::ViewPerson { login: lea() }, "AAAA--A"),
            (Action::ResetPassword { login: lea() }, "A--A---"),
            (Action::SetStatus { login: lea() }, "A------"),
            (Action::CreatePerson, "A------"),
            (Action::PurgeLeavers, "A------"),
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
            (
                Action::Homework {
                    structure: "6A".into(),
                },
                "---A---",
            ),
            (
                Action::Homework {
                    structure: "5B".into(),
                },
                "-------",
            ),
            (Action::Rooms, "A--A---"),
            (
                Action::ControlRoom {
                    room: "salle-b12".into(),
                },
                "A--A---",
            ),
            (
                Action::ControlRoom {
                    room: "salle-c01".into(),
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

    /// Grades and report cards, role × action like the matrix above. The
    /// teacher teaches maths (061300) to 6A and Latin to the group 6LAT of
    /// 6A, and is head teacher of 6A; evaluation 7 is on his maths service
    /// of 6A, evaluation 8 on another teacher's French service; the target
    /// student lea is in 6A (parent: lea's).
    #[test]
    fn grades_and_report_cards_matrix() {
        let roles = [
            Role::Admin,
            Role::Direction,
            Role::SchoolLife,
            Role::Teacher,
            Role::Staff,
            Role::Student,
            Role::Parent,
        ];
        let s = |x: &str| x.to_string();
        let facts_for = |role: Role, action: &Action| {
            let mut f = facts(role);
            if role == Role::Teacher {
                f.teaches = [s("6A"), s("6LAT")].into();
                f.services = [(s("6A"), s("061300")), (s("6LAT"), s("LATIN"))].into();
                f.head_of = [s("6A")].into();
            }
            match action {
                Action::EnterMarks { evaluation: 7 } => f.evaluation = Some((s("6A"), s("061300"))),
                Action::EnterMarks { evaluation: 8 } => f.evaluation = Some((s("6A"), s("030201"))),
                Action::ClassReportCards { class }
                | Action::SubjectComments { class, .. }
                | Action::EnterCompetences { class, .. }
                | Action::GeneralComments { class }
                | Action::ClosePeriod { class }
                | Action::LsuExport { class }
                | Action::SetCoefficients { class } => {
                    f.class_structures = match class.as_str() {
                        "6A" => [s("6A"), s("6LAT")].into(),
                        "5B" => [s("5B")].into(),
                        _ => BTreeSet::new(),
                    }
                }
                _ => {}
            }
            if let Action::ViewMarks { login } = action
                && login != "lea"
            {
                // Another student: his own login for the student, of 5B.
                f.target = Some(TargetFacts {
                    kind: Kind::Student,
                    structures: [s("5B")].into(),
                });
            }
            f
        };
        let table: Vec<(Action, &str)> = vec![
            (Action::MyGrades, "---A---"),
            (Action::OwnMarks, "-----AA"),
            (
                Action::ServiceGrades {
                    structure: s("6A"),
                    subject: s("061300"),
                },
                "---A---",
            ),
            (
                Action::ServiceGrades {
                    structure: s("6A"),
                    subject: s("030201"),
                },
                "-------",
            ),
            (
                Action::ServiceGrades {
                    structure: s("5B"),
                    subject: s("061300"),
                },
                "-------",
            ),
            (Action::EnterMarks { evaluation: 7 }, "---A---"),
            (Action::EnterMarks { evaluation: 8 }, "-------"),
            (Action::EnterMarks { evaluation: 9 }, "-------"),
            (Action::ViewMarks { login: s("lea") }, "AAAA--A"),
            (Action::ViewMarks { login: s("student") }, "AAA--A-"),
            (Action::ViewMarks { login: s("tom") }, "AAA----"),
            (Action::ClassReportCards { class: s("6A") }, "AA-A---"),
            (Action::ClassReportCards { class: s("5B") }, "AA-----"),
            (Action::ClassReportCards { class: s("nowhere") }, "-------"),
            (
                Action::SubjectComments {
                    class: s("6A"),
                    subject: s("061300"),
                },
                "---A---",
            ),
            (
                Action::SubjectComments {
                    class: s("6A"),
                    subject: s("LATIN"),
                },
                "---A---",
            ),
            (
                Action::SubjectComments {
                    class: s("6A"),
                    subject: s("030201"),
                },
                "-------",
            ),
            (
                Action::SubjectComments {
                    class: s("5B"),
                    subject: s("061300"),
                },
                "-------",
            ),
            (
                Action::EnterCompetences {
                    class: s("6A"),
                    subject: s("061300"),
                },
                "---A---",
            ),
            (
                Action::EnterCompetences {
                    class: s("5B"),
                    subject: s("061300"),
                },
                "-------",
            ),
            (Action::GeneralComments { class: s("6A") }, "-A-A---"),
            (Action::GeneralComments { class: s("5B") }, "-A-----"),
            (Action::ClosePeriod { class: s("6A") }, "AA-----"),
            (Action::ClosePeriod { class: s("nowhere") }, "-------"),
            (Action::LsuExport { class: s("6A") }, "AA-----"),
            (Action::SetCoefficients { class: s("6A") }, "AA-----"),
            (Action::SetCoefficients { class: s("nowhere") }, "-------"),
        ];
        for (action, expected) in table {
            let got: String = roles
                .iter()
                .map(|r| {
                    if decide(&actor(*r), &action, &facts_for(*r, &action)).allowed() {
                        'A'
                    } else {
                        '-'
                    }
                })
                .collect();
            assert_eq!(got, expected, "{action:?}");
        }
        // Refusals are "not found" for students and parents.
        assert!(actor(Role::Student).sees_404_when_denied() && actor(Role::Parent).sees_404_when_denied());
    }

    #[test]
    fn grade_urls_map_to_actions() {
        let g = Method::GET;
        let p = Method::POST;
        let s = |x: &str| x.to_string();
        assert_eq!(Action::of(&g, "/vie-scolaire/notes"), Some(Action::MyGrades));
        assert_eq!(
            Action::of(&p, "/vie-scolaire/notes/6A/061300"),
            Some(Action::ServiceGrades {
                structure: s("6A"),
                subject: s("061300")
            })
        );
        assert_eq!(
            Action::of(&p, "/vie-scolaire/notes/6A/061300/evaluations"),
            Some(Action::ServiceGrades {
                structure: s("6A"),
                subject: s("061300")
            })
        );
        assert_eq!(
            Action::of(&p, "/vie-scolaire/notes/evaluations/12/cellule"),
            Some(Action::EnterMarks { evaluation: 12 })
        );
        assert_eq!(Action::of(&g, "/vie-scolaire/notes/evaluations/12/cellule"), None);
        assert_eq!(Action::of(&p, "/vie-scolaire/notes/evaluations/x/cellule"), None);
        assert_eq!(Action::of(&g, "/vie-scolaire/notes/evaluations/-1"), None);
        assert_eq!(
            Action::of(&g, "/vie-scolaire/notes/eleve/lea"),
            Some(Action::ViewMarks { login: s("lea") })
        );
        assert_eq!(
            Action::of(&g, "/vie-scolaire/bulletins/eleve/lea"),
            Some(Action::ViewMarks { login: s("lea") })
        );
        assert_eq!(
            Action::of(&g, "/vie-scolaire/bulletins/6A"),
            Some(Action::ClassReportCards { class: s("6A") })
        );
        assert_eq!(Action::of(&p, "/vie-scolaire/bulletins/6A"), None);
        assert_eq!(
            Action::of(&p, "/vie-scolaire/bulletins/6A/cloture"),
            Some(Action::ClosePeriod { class: s("6A") })
        );
        assert_eq!(Action::of(&g, "/vie-scolaire/bulletins/6A/cloture"), None);
        assert_eq!(
            Action::of(&p, "/vie-scolaire/bulletins/6A/conseil"),
            Some(Action::GeneralComments { class: s("6A") })
        );
        assert_eq!(
            Action::of(&g, "/vie-scolaire/bulletins/6A/lsu"),
            Some(Action::LsuExport { class: s("6A") })
        );
        assert_eq!(
            Action::of(&g, "/vie-scolaire/competences/6A/061300"),
            Some(Action::EnterCompetences {
                class: s("6A"),
                subject: s("061300")
            })
        );
    }

    /// The school-life actions (timetables, feeds, homework log, to-do
    /// list, messages), same order and people as [`role_action_matrix`];
    /// each row may adjust the facts: the class 6A (or 5B) exists, the
    /// lesson is the teacher's (person 1) or another's (2), the thread
    /// is the actor's or not.
    #[test]
    fn timetable_log_messages_matrix() {
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
            (Action::WeekCalendar, Box::new(none), "AAA----"),
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
    fn timetable_log_messages_urls_map_to_actions() {
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
        // Using a service: its declared roles decide; an empty list is
        // everyone, a service not declared is nobody (fail closed).
        let using = Action::SsoUse {
            service: "moodle".into(),
        };
        let declared = |roles: &[&str]| {
            let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
            move |r| Facts {
                sso_service: Some(SsoServiceFacts { roles: roles.clone() }),
                ..facts(r)
            }
        };
        assert_eq!(row(&using, &declared(&[])), "AAAAAAA");
        assert_eq!(row(&using, &declared(&["teacher"])), "---A---");
        assert_eq!(row(&using, &declared(&["student", "parent"])), "-----AA");
        assert_eq!(row(&using, &declared(&["admin", "cpe"])), "A-A----");
        assert_eq!(row(&using, &declared(&["direction", "staff"])), "-A--A--");
        assert_eq!(row(&using, &f), "-------", "an unknown service");
        assert_eq!(
            decide(
                &actor(Role::Student),
                &using,
                &declared(&["teacher"])(Role::Student)
            ),
            Decision::Deny("ce service n'est pas ouvert à son profil")
        );
        assert_eq!(
            decide(&actor(Role::Teacher), &using, &f(Role::Teacher)),
            Decision::Deny("service inconnu")
        );
        // A role name that is not one is no role at all.
        assert_eq!(row(&using, &declared(&["eleve", "prof"])), "-------");
        for r in ROLES {
            assert_eq!(Role::of_sso_name(r.sso_name()), Some(r));
        }
        assert_eq!(Role::of_sso_name("eleve"), None);
        assert_eq!(
            crate::sso::settings::ROLES.to_vec(),
            ROLES.iter().map(|r| r.sso_name()).collect::<Vec<_>>(),
            "the [sso] roles are the platform's"
        );
        // No URL is this action: the single sign-on code decides it.
        assert_eq!(Action::of(&Method::GET, "/sso/moodle"), None);
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
            // The private feed: anybody with the token (checked by the
            // handler); its link: whoever views the resource.
            (Action::ResourceFeed, unknown.clone(), "AAAAAAA"),
            (
                Action::ResourceCalendarLink { resource: 1 },
                open(None),
                "AAAAA--",
            ),
            (
                Action::ResourceCalendarLink { resource: 1 },
                closed.clone(),
                "AAAAA--",
            ),
            (
                Action::ResourceCalendarLink { resource: 1 },
                unknown.clone(),
                "-------",
            ),
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
        assert_eq!(
            Action::of(&g, "/reservations/agenda/0123456789abcdefghij.ics"),
            Some(Action::ResourceFeed)
        );
        assert!(Action::ResourceFeed.is_public());
        assert!(!Action::ResourceCalendarLink { resource: 1 }.is_public());
        assert_eq!(Action::of(&g, "/reservations/agenda/.ics"), None);
        assert_eq!(Action::of(&g, "/reservations/agenda/abc"), None);
        assert_eq!(Action::of(&p, "/reservations/agenda/abc.ics"), None);
        assert_eq!(
            Action::of(&p, "/reservations/12/agenda"),
            Some(Action::ResourceCalendarLink { resource: 12 })
        );
        assert_eq!(Action::of(&g, "/reservations/12/agenda"), None);
        assert_eq!(Action::of(&p, "/reservations/x/agenda"), None);
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
        assert_eq!(Action::of(&g, "/console/imports"), Some(Action::Import));
        for m in [&g, &p] {
            assert_eq!(
                Action::of(m, "/console/personnes/nouvelle"),
                Some(Action::CreatePerson)
            );
            assert_eq!(
                Action::of(m, "/console/personnes/partants"),
                Some(Action::PurgeLeavers)
            );
        }
        assert_eq!(
            Action::of(&g, "/console/personnes/nouvelle.x"),
            Some(Action::ViewPerson {
                login: "nouvelle.x".into()
            })
        );
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
        assert_eq!(
            Action::of(&p, &format!("/console/imports/{}", "x".repeat(65))),
            None
        );
        assert_eq!(Action::of(&g, "/console/salles"), Some(Action::Rooms));
        assert_eq!(
            Action::of(&g, "/console/classes/6A/fiches.csv"),
            Some(Action::PrintSlips {
                structure: "6A".into()
            })
        );
        let hw = Some(Action::Homework {
            structure: "6A".into(),
        });
        assert_eq!(Action::of(&p, "/console/classe/6A/devoirs"), hw);
        assert_eq!(Action::of(&g, "/console/classe/6A/devoirs/dm1"), hw);
        assert_eq!(Action::of(&p, "/console/classe/6A/devoirs/dm1/ramasser"), hw);
        assert_eq!(Action::of(&p, "/console/classe/6A/devoirs/dm1/rendre"), hw);
        assert_eq!(Action::of(&g, "/console/classe/6A/devoirs"), None);
        assert_eq!(Action::of(&p, "/console/classe/6A/devoirs/dm1/effacer"), None);
        assert_eq!(Action::of(&p, "/connexion/code"), Some(Action::SignInCode));
        assert!(Action::SignInCode.is_public());
        assert_eq!(
            Action::of(&p, "/console/securite"),
            Some(Action::ManageSecondFactor)
        );
        let b12 = Some(Action::ControlRoom {
            room: "salle-b12".into(),
        });
        assert_eq!(Action::of(&p, "/console/salles/salle-b12"), b12);
        assert_eq!(Action::of(&p, "/console/salles/salle-b12/fin"), b12);
        assert_eq!(Action::of(&g, "/console/salles/salle-b12"), None);
    }

    #[test]
    fn roles_from_the_directory() {
        assert_eq!(Role::of_person(Kind::Staff, Some("DIR")), Role::Direction);
        assert_eq!(Role::of_person(Kind::Staff, Some("EDU")), Role::SchoolLife);
        assert_eq!(Role::of_person(Kind::Staff, Some("DOC")), Role::Staff);
        assert_eq!(Role::of_person(Kind::Teacher, None), Role::Teacher);
    }
}

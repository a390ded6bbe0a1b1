//! Timetable pages: a week (`?semaine=YYYY-MM-DD`, any day of it) or a
//! day (`?jour=YYYY-MM-DD`) of the signed-in person
//! (`/vie-scolaire/emploi-du-temps`), of a class or group, a student, a
//! teacher or a room (`…/classe/6A`, `…/eleve/LOGIN`, `…/enseignant/LOGIN`,
//! `…/salle/B12`). Every change is shown with its own label; cancelled or
//! moved-away lessons stay listed, struck through. The guard has decided
//! the route's `Action::Timetable` already.

use super::super::calendar::{DAY_NAMES, Date};
use super::super::queries::{self, schedule};
use super::super::timetable::{Change, Lesson};
use super::access::{self, blocking, date_param, me};
use crate::directory::{self, Kind};
use crate::web::authz::{self, Action, Role, TimetableOf};
use crate::web::errors::WebError;
use crate::web::pages::{self, Page};
use crate::web::{AppState, Signed};
use askama::Template;
use axum::extract::{Extension, Query, State};
use axum::response::Response;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// A change as everyone reads it (pure).
pub fn change_label(c: &Change, names: &schedule::Names) -> String {
    use crate::web::i18n::{either, pick};
    match c {
        Change::Cancelled { reason } => with_reason(either("annulé", "cancelled"), reason),
        Change::RoomChanged { from, to, reason } => with_reason(
            &pick(crate::msg!(
                en("room change: {to} instead of {from}"),
                fr("changement de salle : {to} au lieu de {from}"),
            )),
            reason,
        ),
        Change::MovedFrom { date, starts, reason } => with_reason(
            &pick(crate::msg!(
                en("moved (planned on {} at {starts})", date_label(*date)),
                fr("déplacé (prévu le {} à {starts})", fr_date(*date)),
            )),
            reason,
        ),
        Change::MovedTo { date, starts, reason } => with_reason(
            &pick(crate::msg!(
                en("moved to {} at {starts}", date_label(*date)),
                fr("déplacé au {} à {starts}", fr_date(*date)),
            )),
            reason,
        ),
        Change::Replacement {
            teacher_id,
            instead_of,
            reason,
        } => with_reason(
            &pick(crate::msg!(
                en(
                    "replacement: {} instead of {}",
                    names.person(*teacher_id),
                    names.person(*instead_of)
                ),
                fr(
                    "remplacement : {} au lieu de {}",
                    names.person(*teacher_id),
                    names.person(*instead_of)
                ),
            )),
            reason,
        ),
        Change::Exceptional { reason } => with_reason(either("cours exceptionnel", "one-off lesson"), reason),
    }
}

fn with_reason(label: &str, reason: &str) -> String {
    if reason.trim().is_empty() {
        label.to_string()
    } else {
        format!("{label} ({})", reason.trim())
    }
}

/// "mardi 1 décembre 2026" (pure).
pub fn fr_date(d: Date) -> String {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let (y, m, day) = d.parts();
    format!(
        "{} {day} {} {y}",
        DAY_NAMES[usize::from(d.weekday() - 1)],
        MONTHS[(m - 1) as usize]
    )
}

/// The day's name in the current language ("mardi", "Tuesday").
pub fn day_name(d: Date) -> &'static str {
    const EN: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let i = usize::from(d.weekday() - 1);
    crate::web::i18n::either(DAY_NAMES[i], EN[i])
}

/// [`fr_date`] in French, "Tuesday 1 December 2026" in English.
pub fn date_label(d: Date) -> String {
    if crate::web::i18n::french() {
        return fr_date(d);
    }
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let (y, m, day) = d.parts();
    format!("{} {day} {} {y}", day_name(d), MONTHS[(m - 1) as usize])
}

/// A lesson as shown.
pub struct Cell {
    pub time: String,
    pub subject: String,
    pub structure: String,
    pub teacher: String,
    pub room: String,
    pub changes: Vec<String>,
    pub cancelled: bool,
    /// The lesson's homework log, for those who write it.
    pub log: Option<String>,
    /// The change form, for those who enter the timetable.
    pub change: Option<String>,
}

pub struct DayColumn {
    pub heading: String,
    pub date: String,
    pub cells: Vec<Cell>,
}

/// A link to another timetable (the chooser of the office and parents).
pub struct Link {
    pub href: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "viescolaire/timetable.html")]
pub struct TimetablePage<'a> {
    pub page: &'a Page,
    pub heading: String,
    pub subtitle: String,
    pub base: String,
    pub prev: String,
    pub next: String,
    pub week_view: String,
    pub days: Vec<DayColumn>,
    pub links: Vec<Link>,
    pub feed: bool,
    pub editor: bool,
    /// A class's or group's whole homework log, for those who read it.
    pub class_log: Option<String>,
}

/// `GET /vie-scolaire/emploi-du-temps[/{kind}/{x}]`.
pub async fn page(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    blocking(move || {
        let today = access::now().date;
        let (from, to, day_view) = if q.contains_key("jour") {
            let d = date_param(&q, "jour", today)?;
            (d, d, true)
        } else {
            let m = date_param(&q, "semaine", today)?.monday();
            (m, m.add_days(6), false)
        };
        let Action::Timetable { of } = &signed.action else {
            return Err(WebError::NotFound);
        };
        let store = web.store()?;
        let conn = store.conn();
        let names = schedule::names(conn)?;
        let (whose, heading, base, links) = whose(conn, &signed, of)?;
        let lessons = match &whose {
            Some(w) => schedule::lessons_of(conn, w, from, to)?,
            None => Vec::new(),
        };
        let mut days: Vec<DayColumn> = Vec::new();
        for d in from.through(to) {
            let cells: Vec<Cell> = lessons
                .iter()
                .filter(|l| l.date == d)
                .map(|l| cell(l, &names, &signed))
                .collect();
            if d.is_weekend() && cells.is_empty() {
                continue;
            }
            days.push(DayColumn {
                heading: date_label(d),
                date: d.to_string(),
                cells,
            });
        }
        let week = queries::current_year(conn, from)?
            .map(|y| queries::calendar(conn, &y))
            .transpose()?
            .and_then(|c| c.week_of(from));
        let subtitle = if day_view {
            date_label(from)
        } else {
            let mut s = crate::web::i18n::pick(crate::msg!(
                en(
                    "Week from {} to {}",
                    date_label(from),
                    date_label(to.add_days(-2))
                ),
                fr("Semaine du {} au {}", fr_date(from), fr_date(to.add_days(-2))),
            ));
            if let Some(w) = week
                && w != super::super::timetable::Weeks::All
            {
                s.push_str(&crate::web::i18n::pick(crate::msg!(
                    en(" — week {}", w.as_str()),
                    fr(" — semaine {}", w.as_str())
                )));
            }
            s
        };
        let (prev, next) = if day_view {
            (
                format!("?jour={}", from.add_days(-1)),
                format!("?jour={}", from.add_days(1)),
            )
        } else {
            (
                format!("?semaine={}", from.add_days(-7)),
                format!("?semaine={}", from.add_days(7)),
            )
        };
        let class_log = match of {
            TimetableOf::Structure(code) => {
                let a = Action::ClassLog {
                    structure: code.clone(),
                };
                let facts = authz::Facts::load(conn, &signed.actor, &a, &[])?;
                authz::decide(&signed.actor, &a, &facts)
                    .allowed()
                    .then(|| format!("/vie-scolaire/cahier-de-textes/classe/{code}"))
            }
            _ => None,
        };
        let config = web.config();
        let chrome = Page::signed(
            crate::web::i18n::either("Emploi du temps", "Timetable"),
            &config.establishment.name,
            &signed,
            "/vie-scolaire/emploi-du-temps",
        );
        Ok(pages::render(&TimetablePage {
            page: &chrome,
            heading,
            subtitle,
            week_view: format!("{base}?semaine={}", from.monday()),
            base,
            prev,
            next,
            days,
            links,
            feed: matches!(of, TimetableOf::Me) && signed.actor.person_id.is_some(),
            editor: editor(&signed),
            class_log,
        }))
    })
    .await
}

fn cell(l: &Lesson, names: &schedule::Names, signed: &Signed) -> Cell {
    let may_log = signed.actor.has(Role::Direction)
        || signed.actor.has(Role::SchoolLife)
        || (signed.actor.has(Role::Teacher) && signed.actor.person_id == Some(l.service.teacher_id));
    Cell {
        time: format!("{}–{}", l.starts, l.ends),
        subject: names.subject(&l.service.subject_code).to_string(),
        structure: names.structure(l.service.structure_id).to_string(),
        teacher: names.person(l.service.teacher_id).to_string(),
        room: l.room.clone(),
        changes: l.changes.iter().map(|c| change_label(c, names)).collect(),
        cancelled: !l.takes_place,
        log: (may_log && l.takes_place)
            .then(|| format!("/vie-scolaire/cahier-de-textes/seance/{}", schedule::key_of(l))),
        change: (editor(signed) && l.slot_id.is_some())
            .then(|| format!("/vie-scolaire/emploi-du-temps/changement/{}", schedule::key_of(l))),
    }
}

/// Whether the person enters the timetable (as `authz::decide` rules).
fn editor(signed: &Signed) -> bool {
    authz::decide(
        &signed.actor,
        &Action::EditTimetable { lesson: None },
        &signed.facts,
    )
    .allowed()
}

type Whose = (Option<schedule::Whose>, String, String, Vec<Link>);

/// Whose lessons a timetable shows, its heading, its URL, and links to
/// other timetables the person may open.
fn whose(conn: &rusqlite::Connection, signed: &Signed, of: &TimetableOf) -> Result<Whose, WebError> {
    let me = me(signed);
    Ok(match of {
        TimetableOf::Me => {
            let base = "/vie-scolaire/emploi-du-temps".to_string();
            let mut links = Vec::new();
            let allowed = |href: &str| {
                Action::of(&axum::http::Method::GET, href).is_some_and(|a| {
                    let facts = authz::Facts::load(conn, &signed.actor, &a, &[]).unwrap_or_default();
                    authz::decide(&signed.actor, &a, &facts).allowed()
                })
            };
            if signed.actor.has(Role::Parent)
                && let Ok(me) = me
            {
                for c in directory::children_of(conn, me)? {
                    let href = format!("/vie-scolaire/emploi-du-temps/eleve/{}", c.login);
                    if allowed(&href) {
                        links.push(Link {
                            href,
                            label: c.full_name(),
                        });
                    }
                }
            }
            if signed.actor.has(Role::Direction)
                || signed.actor.has(Role::SchoolLife)
                || signed.actor.has(Role::Teacher)
            {
                for s in directory::classes(conn)?
                    .into_iter()
                    .chain(directory::groups(conn)?)
                {
                    let href = format!("/vie-scolaire/emploi-du-temps/classe/{}", s.code);
                    if s.active && allowed(&href) {
                        links.push(Link { href, label: s.label });
                    }
                }
                for r in schedule::rooms(conn)? {
                    links.push(Link {
                        href: format!("/vie-scolaire/emploi-du-temps/salle/{r}"),
                        label: crate::web::i18n::pick(crate::msg!(en("Room {r}"), fr("Salle {r}"))),
                    });
                }
            }
            let w = match me {
                Ok(me) if signed.actor.has(Role::Teacher) => Some(schedule::Whose::Teacher(me)),
                Ok(me) if signed.actor.has(Role::Student) => {
                    Some(schedule::Whose::Structures(schedule::memberships(conn, me)?))
                }
                _ => None,
            };
            (
                w,
                crate::web::i18n::either("Mon emploi du temps", "My timetable").into(),
                base,
                links,
            )
        }
        TimetableOf::Structure(code) => {
            let s = directory::structure(conn, code)?.ok_or(WebError::NotFound)?;
            let mut set: BTreeSet<i64> = [s.id].into();
            let mut stmt = conn.prepare("SELECT group_id FROM group_classes WHERE class_id = ?1")?;
            for g in stmt.query_map([s.id], |r| r.get::<_, i64>(0))? {
                set.insert(g?);
            }
            (
                Some(schedule::Whose::Structures(set)),
                crate::web::i18n::pick(crate::msg!(
                    en("Timetable of {}", s.label),
                    fr("Emploi du temps de {}", s.label)
                )),
                format!("/vie-scolaire/emploi-du-temps/classe/{}", s.code),
                Vec::new(),
            )
        }
        TimetableOf::Student(login) | TimetableOf::Teacher(login) => {
            let p = directory::person_by_login(conn, login)?.ok_or(WebError::NotFound)?;
            let (w, kind) = if p.kind == Kind::Student {
                (
                    schedule::Whose::Structures(schedule::memberships(conn, p.id)?),
                    "eleve",
                )
            } else {
                (schedule::Whose::Teacher(p.id), "enseignant")
            };
            (
                Some(w),
                crate::web::i18n::pick(crate::msg!(
                    en("Timetable of {}", p.full_name()),
                    fr("Emploi du temps de {}", p.full_name())
                )),
                format!("/vie-scolaire/emploi-du-temps/{kind}/{}", p.login),
                Vec::new(),
            )
        }
        TimetableOf::Room(room) => (
            Some(schedule::Whose::Room(room.clone())),
            crate::web::i18n::pick(crate::msg!(
                en("Timetable of room {room}"),
                fr("Emploi du temps de la salle {room}")
            )),
            format!("/vie-scolaire/emploi-du-temps/salle/{room}"),
            Vec::new(),
        ),
    })
}

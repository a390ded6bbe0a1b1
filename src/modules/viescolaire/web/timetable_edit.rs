//! Entering the timetable on the web, for the administrator, direction
//! and the school-life office: a weekly slot (every week, week A or week
//! B) or an exceptional lesson on one date
//! (`/vie-scolaire/emploi-du-temps/saisie`), and a change to one lesson
//! (`/vie-scolaire/emploi-du-temps/changement/{key}`): cancelled (teacher
//! absent), room change, moved, replacement teacher. Each is checked by
//! [`check_slot`] / [`check_change`] (pure, French messages by field),
//! stored through the domain's queries and audited.

use super::super::calendar::{DAY_NAMES, Date, Time, parse_weekday};
use super::super::queries::{self, schedule};
use super::super::timetable::{Exception, ExceptionKind, Service, Slot, Weeks};
use super::access::{self, blocking, form};
use super::timetable::change_label;
use crate::directory::{self, Kind};
use crate::web::authz::Action;
use crate::web::errors::WebError;
use crate::web::forms::Fields;
use crate::web::pages::{self, Page};
use crate::web::{AppState, Signed, audit, see_other};
use askama::Template;
use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

type Errors = Vec<(&'static str, String)>;

fn time(fields: &Fields, key: &'static str, label: &str, errors: &mut Errors) -> Option<Time> {
    let v = fields.get(key).trim();
    let t = Time::parse(v);
    if t.is_none() {
        errors.push((
            key,
            crate::web::i18n::pick(crate::msg!(
                en("{label}: write a time HH:MM, for example 08:00."),
                fr("{label} : écrivez une heure HH:MM, par exemple 08:00.")
            )),
        ));
    }
    t
}

fn date(fields: &Fields, key: &'static str, errors: &mut Errors) -> Option<Date> {
    let v = fields.get(key).trim();
    let d = Date::parse(v);
    if d.is_none() {
        errors.push((key, format!("« {v} » n'est pas une date (AAAA-MM-JJ).")));
    }
    d
}

/// A slot or exceptional lesson as typed, before the directory resolves
/// its teacher, subject and class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedSlot {
    pub teacher: String,
    pub subject: String,
    pub structure: String,
    /// Weekly: the day; exceptional: the date.
    pub when: When,
    pub starts: Time,
    pub ends: Time,
    pub room: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    Weekly { weekday: u8, weeks: Weeks },
    Once(Date),
}

/// Checks the slot form (pure): `enseignant`, `matiere`, `classe`,
/// `jour` (lundi…) and `semaines` (toutes, A, B), or `date` for an
/// exceptional lesson; `debut`, `fin`, `salle`.
pub fn check_slot(f: &Fields) -> Result<TypedSlot, Errors> {
    let mut e = Errors::new();
    let req = |key: &'static str, label: &str, e: &mut Errors| {
        let v = f.get(key).trim().to_string();
        if v.is_empty() || v.len() > 100 {
            e.push((
                key,
                crate::web::i18n::pick(crate::msg!(
                    en("{label}: required (at most 100 characters)."),
                    fr("{label} : obligatoire (au plus 100 caractères).")
                )),
            ));
        }
        v
    };
    let teacher = req(
        "enseignant",
        crate::web::i18n::either("Enseignant", "Teacher"),
        &mut e,
    );
    let subject = req("matiere", crate::web::i18n::either("Matière", "Subject"), &mut e);
    let structure = req(
        "classe",
        crate::web::i18n::either("Classe ou groupe", "Class or group"),
        &mut e,
    );
    let when = if f.get("date").trim().is_empty() {
        let day = parse_weekday(f.get("jour").trim());
        if day.is_none() {
            e.push((
                "jour",
                crate::web::i18n::either(
                    "Choisissez un jour de la semaine, ou une date pour un cours exceptionnel.",
                    "Choose a day of the week, or a date for a one-off lesson.",
                )
                .into(),
            ));
        }
        let weeks = match f.get("semaines") {
            "" | "toutes" => Some(Weeks::All),
            "A" => Some(Weeks::A),
            "B" => Some(Weeks::B),
            _ => {
                e.push((
                    "semaines",
                    crate::web::i18n::either(
                        "Choisissez toutes les semaines, la semaine A ou la semaine B.",
                        "Choose every week, week A or week B.",
                    )
                    .into(),
                ));
                None
            }
        };
        day.zip(weeks)
            .map(|(weekday, weeks)| When::Weekly { weekday, weeks })
    } else {
        date(f, "date", &mut e).map(When::Once)
    };
    let starts = time(f, "debut", crate::web::i18n::either("Début", "Start"), &mut e);
    let ends = time(f, "fin", crate::web::i18n::either("Fin", "End"), &mut e);
    if let (Some(s), Some(t)) = (starts, ends)
        && s >= t
    {
        e.push((
            "fin",
            crate::web::i18n::either(
                "La fin doit venir après le début.",
                "The end must come after the start.",
            )
            .into(),
        ));
    }
    let room = f.get("salle").trim().to_string();
    if room.len() > 40 {
        e.push((
            "salle",
            crate::web::i18n::either(
                "La salle a au plus 40 caractères.",
                "The room has at most 40 characters.",
            )
            .into(),
        ));
    }
    match (e.is_empty(), when, starts, ends) {
        (true, Some(when), Some(starts), Some(ends)) => Ok(TypedSlot {
            teacher,
            subject,
            structure,
            when,
            starts,
            ends,
            room,
        }),
        _ => Err(e),
    }
}

/// A change as typed; the replacement is a login still to resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypedChange {
    Cancelled,
    Room(String),
    Moved {
        date: Date,
        starts: Time,
        ends: Time,
        room: Option<String>,
    },
    Replacement(String),
}

/// Checks the change form (pure): `type` (annule, salle, deplace,
/// remplacement) and its fields; `motif` is free.
pub fn check_change(f: &Fields) -> Result<(TypedChange, String), Errors> {
    let mut e = Errors::new();
    let reason = f.get("motif").trim().to_string();
    if reason.chars().count() > 200 {
        e.push((
            "motif",
            crate::web::i18n::either(
                "Le motif a au plus 200 caractères.",
                "The reason has at most 200 characters.",
            )
            .into(),
        ));
    }
    let room = f.get("salle").trim().to_string();
    if room.len() > 40 {
        e.push((
            "salle",
            crate::web::i18n::either(
                "La salle a au plus 40 caractères.",
                "The room has at most 40 characters.",
            )
            .into(),
        ));
    }
    let change = match f.get("type") {
        "annule" => Some(TypedChange::Cancelled),
        "salle" => {
            if room.is_empty() {
                e.push((
                    "salle",
                    crate::web::i18n::either("Donnez la nouvelle salle.", "Give the new room.").into(),
                ));
            }
            Some(TypedChange::Room(room.clone()))
        }
        "deplace" => {
            let d = date(f, "date", &mut e);
            let s = time(f, "debut", crate::web::i18n::either("Début", "Start"), &mut e);
            let t = time(f, "fin", crate::web::i18n::either("Fin", "End"), &mut e);
            if let (Some(s), Some(t)) = (s, t)
                && s >= t
            {
                e.push((
                    "fin",
                    crate::web::i18n::either(
                        "La fin doit venir après le début.",
                        "The end must come after the start.",
                    )
                    .into(),
                ));
            }
            match (d, s, t) {
                (Some(date), Some(starts), Some(ends)) => Some(TypedChange::Moved {
                    date,
                    starts,
                    ends,
                    room: (!room.is_empty()).then(|| room.clone()),
                }),
                _ => None,
            }
        }
        "remplacement" => {
            let l = f.get("remplacant").trim();
            if l.is_empty() || l.len() > 100 {
                e.push((
                    "remplacant",
                    crate::web::i18n::either(
                        "Donnez l'identifiant de l'enseignant remplaçant.",
                        "Give the substitute teacher's login.",
                    )
                    .into(),
                ));
            }
            Some(TypedChange::Replacement(l.to_string()))
        }
        _ => {
            e.push((
                "type",
                crate::web::i18n::either(
                    "Choisissez le changement : annulé, salle, déplacé ou remplacement.",
                    "Choose the change: cancelled, room, moved or replacement.",
                )
                .into(),
            ));
            None
        }
    };
    match (e.is_empty(), change) {
        (true, Some(c)) => Ok((c, reason)),
        _ => Err(e),
    }
}

#[derive(Template)]
#[template(path = "viescolaire/timetable_edit.html")]
pub struct EditPage<'a> {
    pub page: &'a Page,
    pub heading: String,
    pub action: String,
    /// The lesson changed (None: the slot form).
    pub lesson: Option<Vec<String>>,
    pub fields: Fields,
    pub errors: Errors,
    pub notice: Option<String>,
    pub days: Vec<&'static str>,
}

impl EditPage<'_> {
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
    pub fn value(&self, field: &str) -> &str {
        self.fields.get(field)
    }
}

fn render(
    web: &AppState,
    signed: &Signed,
    fields: Fields,
    errors: Errors,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let Action::EditTimetable { lesson } = &signed.action else {
        return Err(WebError::NotFound);
    };
    let store = web.store()?;
    let conn = store.conn();
    let (heading, action, details) = match lesson {
        None => (
            crate::web::i18n::either(
                "Saisir un créneau ou un cours exceptionnel",
                "Enter a slot or a one-off lesson",
            )
            .to_string(),
            "/vie-scolaire/emploi-du-temps/saisie".to_string(),
            None,
        ),
        Some(key) => {
            let l = schedule::lesson_by_key(conn, key)?.ok_or(WebError::NotFound)?;
            let names = schedule::names(conn)?;
            let mut d = vec![format!(
                "{} — {} — {}, {} {}–{}, {} {}",
                names.subject(&l.service.subject_code),
                names.structure(l.service.structure_id),
                names.person(l.service.teacher_id),
                super::timetable::date_label(l.date),
                l.starts,
                l.ends,
                crate::web::i18n::either("salle", "room"),
                if l.room.is_empty() {
                    crate::web::i18n::either("non précisée", "not given")
                } else {
                    &l.room
                }
            )];
            d.extend(l.changes.iter().map(|c| change_label(c, &names)));
            (
                crate::web::i18n::either("Changer une séance", "Change a lesson").to_string(),
                format!("/vie-scolaire/emploi-du-temps/changement/{key}"),
                Some(d),
            )
        }
    };
    let config = web.config();
    let chrome = Page::signed(
        crate::web::i18n::either("Saisie de l'emploi du temps", "Timetable entry"),
        &config.establishment.name,
        signed,
        "/vie-scolaire/emploi-du-temps",
    );
    let bad = !errors.is_empty();
    let mut r = pages::render(&EditPage {
        page: &chrome,
        heading,
        action,
        lesson: details,
        fields,
        errors,
        notice,
        days: DAY_NAMES[..6].to_vec(),
    });
    if bad {
        *r.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

/// `GET /vie-scolaire/emploi-du-temps/saisie` and `…/changement/{key}`.
pub async fn page(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    blocking(move || render(&web, &signed, Fields::default(), Vec::new(), None)).await
}

fn teacher_id(conn: &rusqlite::Connection, login: &str) -> Result<Option<i64>, WebError> {
    Ok(directory::person_by_login(conn, login)?
        .filter(|p| p.is_active() && matches!(p.kind, Kind::Teacher | Kind::Staff))
        .map(|p| p.id))
}

/// `POST`: stores the slot, exceptional lesson or change.
pub async fn submit(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    body: Body,
) -> Response {
    let fields = match form(&signed, body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    blocking(move || {
        let Action::EditTimetable { lesson } = &signed.action else {
            return Err(WebError::NotFound);
        };
        let now = access::now();
        let mut store = web.store()?;
        let login = signed.actor.login.clone();
        let (outcome, outcome_en) = match lesson {
            None => {
                let t = match check_slot(&fields) {
                    Ok(t) => t,
                    Err(errors) => return render(&web, &signed, fields, errors, None),
                };
                let conn = store.conn();
                let mut errors = Errors::new();
                let teacher = teacher_id(conn, &t.teacher)?;
                if teacher.is_none() {
                    errors.push(("enseignant", crate::web::i18n::pick(crate::msg!(en("No active teacher “{}”.", t.teacher), fr("Aucun enseignant actif « {} ».", t.teacher)))));
                }
                let structure = directory::structure(conn, &t.structure)?.filter(|s| s.active);
                if structure.is_none() {
                    errors.push((
                        "classe",
                        crate::web::i18n::pick(crate::msg!(en("No class or group “{}”.", t.structure), fr("Aucune classe ni aucun groupe « {} ».", t.structure))),
                    ));
                }
                let day = match t.when {
                    When::Once(d) => d,
                    When::Weekly { .. } => now.date,
                };
                let year = queries::current_year(conn, day)?;
                if year.is_none() {
                    errors.push(("date", crate::web::i18n::either("Aucune année scolaire n'est définie.", "No school year is defined.").into()));
                }
                if let (Some(te), Some(s)) = (teacher, &structure)
                    && !schedule::has_service(conn, te, &t.subject, s.id)?
                {
                    errors.push((
                        "matiere",
                        crate::web::i18n::pick(crate::msg!(en("{} does not teach “{}” in {}.", t.teacher, t.subject, s.code), fr("{} n'enseigne pas « {} » en {}.", t.teacher, t.subject, s.code))),
                    ));
                }
                let (Some(teacher), Some(structure), Some(year), true) =
                    (teacher, structure, year, errors.is_empty())
                else {
                    return render(&web, &signed, fields, errors, None);
                };
                let service = Service {
                    teacher_id: teacher,
                    subject_code: t.subject.clone(),
                    structure_id: structure.id,
                };
                match t.when {
                    When::Weekly { weekday, weeks } => {
                        let slot = Slot {
                            id: 0,
                            service,
                            weekday,
                            starts: t.starts,
                            ends: t.ends,
                            room: t.room.clone(),
                            weeks,
                            valid_from: Some(now.date.max(year.starts)),
                            valid_to: None,
                        };
                        match store.write(|tx| schedule::add_slot(tx, year.id, &slot))? {
                            Ok(id) => (format!("créneau {id} ajouté"), format!("slot {id} added")),
                            Err(other) => {
                                drop(store);
                                return render(
                                    &web,
                                    &signed,
                                    fields,
                                    vec![(
                                        "salle",
                                        crate::web::i18n::pick(crate::msg!(
                                            en("Room {} is already taken at that time (slot {other}).", t.room),
                                            fr("La salle {} est déjà occupée à cette heure (créneau {other}).", t.room),
                                        )),
                                    )],
                                    None,
                                );
                            }
                        }
                    }
                    When::Once(date) => {
                        let cal = queries::calendar(store.conn(), &year)?;
                        let e = Exception {
                            id: 0,
                            slot_id: None,
                            date,
                            kind: ExceptionKind::Extra {
                                service,
                                starts: t.starts,
                                ends: t.ends,
                                room: t.room.clone(),
                            },
                            reason: String::new(),
                        };
                        let id =
                            store.write(|tx| queries::add_exception(tx, &cal, &e, &login, &now.stamp()))?;
                        (format!("cours exceptionnel {id} ajouté"), format!("one-off lesson {id} added"))
                    }
                }
            }
            Some(key) => {
                let (change, reason) = match check_change(&fields) {
                    Ok(c) => c,
                    Err(errors) => return render(&web, &signed, fields, errors, None),
                };
                let conn = store.conn();
                let l = schedule::lesson_by_key(conn, key)?.ok_or(WebError::NotFound)?;
                let (Some(slot_id), Some(slot_date)) = (l.slot_id, l.slot_date) else {
                    drop(store);
                    return render(
                        &web,
                        &signed,
                        fields,
                        vec![(
                            "type",
                            crate::web::i18n::either("Un cours exceptionnel ne se change pas : saisissez-en un autre.", "A one-off lesson cannot be changed: enter another one.").into(),
                        )],
                        None,
                    );
                };
                let kind = match change {
                    TypedChange::Cancelled => ExceptionKind::Cancelled,
                    TypedChange::Room(room) => ExceptionKind::Room { room },
                    TypedChange::Moved {
                        date,
                        starts,
                        ends,
                        room,
                    } => ExceptionKind::Moved {
                        date,
                        starts,
                        ends,
                        room,
                    },
                    TypedChange::Replacement(who) => match teacher_id(conn, &who)? {
                        Some(teacher_id) if teacher_id != l.service.teacher_id => {
                            ExceptionKind::Replacement { teacher_id }
                        }
                        _ => {
                            drop(store);
                            return render(
                                &web,
                                &signed,
                                fields,
                                vec![(
                                    "remplacant",
                                    crate::web::i18n::pick(crate::msg!(en("“{who}” is not another active teacher."), fr("« {who} » n'est pas un autre enseignant actif."))),
                                )],
                                None,
                            );
                        }
                    },
                };
                let year = queries::current_year(conn, slot_date)?.ok_or(WebError::NotFound)?;
                let cal = queries::calendar(conn, &year)?;
                let e = Exception {
                    id: 0,
                    slot_id: Some(slot_id),
                    date: slot_date,
                    kind,
                    reason,
                };
                let id = store.write(|tx| queries::add_exception(tx, &cal, &e, &login, &now.stamp()))?;
                (format!("changement {id} enregistré"), format!("change {id} saved"))
            }
        };
        audit::record(
            &mut store,
            &login,
            &signed.peer.to_string(),
            "saisie de l'emploi du temps",
            &lesson.clone().unwrap_or_default(),
            &outcome,
        )?;
        match lesson {
            Some(key) => Ok(see_other(
                &format!("/vie-scolaire/emploi-du-temps/changement/{key}"),
                &[],
            )),
            None => {
                drop(store);
                render(
                    &web,
                    &signed,
                    Fields::default(),
                    Vec::new(),
                    Some(crate::web::i18n::pick(crate::msg!(en("Saved: {outcome_en}."), fr("Enregistré : {outcome}.")))),
                )
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Fields {
        crate::web::forms::parse(s.as_bytes()).unwrap()
    }

    fn bad(r: Result<impl std::fmt::Debug, Errors>) -> Vec<&'static str> {
        r.unwrap_err().into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn slots_are_checked_field_by_field() {
        let ok = check_slot(&f(
            "enseignant=paul&matiere=MATHS&classe=6A&jour=mardi&semaines=A&debut=08:00&fin=08:55&salle=B12",
        ))
        .unwrap();
        assert_eq!(
            ok.when,
            When::Weekly {
                weekday: 2,
                weeks: Weeks::A
            }
        );
        let once = check_slot(&f(
            "enseignant=paul&matiere=MATHS&classe=6A&date=2026-12-03&debut=14:00&fin=15:00",
        ))
        .unwrap();
        assert_eq!(once.when, When::Once(Date::parse("2026-12-03").unwrap()));
        assert_eq!(
            bad(check_slot(&f(""))),
            ["enseignant", "matiere", "classe", "jour", "debut", "fin"]
        );
        assert_eq!(
            bad(check_slot(&f(
                "enseignant=p&matiere=M&classe=6A&jour=lundi&semaines=C&debut=midi&fin=08:00"
            ))),
            ["semaines", "debut"]
        );
        assert_eq!(
            bad(check_slot(&f(
                "enseignant=p&matiere=M&classe=6A&jour=lundi&debut=10:00&fin=09:00"
            ))),
            ["fin"]
        );
        assert_eq!(
            bad(check_slot(&f(
                "enseignant=p&matiere=M&classe=6A&date=2026-02-30&debut=10:00&fin=11:00"
            ))),
            ["date"]
        );
    }

    #[test]
    fn changes_are_checked_field_by_field() {
        assert_eq!(
            check_change(&f("type=annule&motif=absent")).unwrap(),
            (TypedChange::Cancelled, "absent".into())
        );
        assert_eq!(
            check_change(&f("type=salle&salle=C3")).unwrap().0,
            TypedChange::Room("C3".into())
        );
        assert!(matches!(
            check_change(&f("type=deplace&date=2026-12-04&debut=10:00&fin=11:00"))
                .unwrap()
                .0,
            TypedChange::Moved { room: None, .. }
        ));
        assert_eq!(bad(check_change(&f("type=salle"))), ["salle"]);
        assert_eq!(
            bad(check_change(&f("type=deplace&date=x&debut=11:00&fin=10:00"))),
            ["date", "fin"]
        );
        assert_eq!(bad(check_change(&f("type=remplacement"))), ["remplacant"]);
        assert_eq!(bad(check_change(&f("type=autre"))), ["type"]);
        assert_eq!(
            bad(check_change(&f(&format!(
                "type=annule&motif={}",
                "x".repeat(201)
            )))),
            ["motif"]
        );
    }
}

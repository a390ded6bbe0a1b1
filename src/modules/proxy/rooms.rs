//! The proxy's pages in the classroom tools: `/console/salles` lists the
//! rooms (`[proxy]` source groups) the signed-in person may switch — every
//! one for an administrator, those whose `rooms` hold a room of his
//! timetable for a teacher (`authz::Facts::rooms`) — with what is on now;
//! `POST /console/salles/{room}` switches the room to exam mode
//! (whitelist only) or internet off for a number of minutes, `POST
//! /console/salles/{room}/fin` ends it early. The override is a row of
//! `proxy_exams` ([`super::exams`]): the running proxy reads it within two
//! seconds, without a restart, and it ends by itself at its time. With
//! the firewall module, both modes also cut the room's addresses off from
//! the internet in the firewall (every protocol, not only the web:
//! [`crate::modules::firewall::room_cut`]), at once and with the same end.
//! Every switch goes to the audit log.

use super::exams;
use super::lists;
use super::policy::{self, Exam, ExamMode, Policies};
use crate::modules::firewall::room_cut;
use crate::modules::viescolaire::calendar::{DateTime, Time};
use crate::modules::viescolaire::queries::schedule;
use crate::modules::viescolaire::timetable::Lesson;
use crate::modules::viescolaire::web::access as school_clock;
use crate::msg;
use crate::web::errors::WebError;
use crate::web::forms::Path;
use crate::web::i18n::{self, pick};
use crate::web::pages::{self, Page};
use crate::web::{AppState, Signed, audit, csrf, forms};
use askama::Template;
use axum::body::Body;
use axum::extract::{Extension, Query, State};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

/// The longest override a form may ask for, in minutes (a school day).
pub const MAX_MINUTES: u32 = 600;
/// How many extra exam sites a form may name.
pub const MAX_SITES: usize = 20;

/// How long a switch lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    Minutes(u32),
    /// Until the end of the teacher's current lesson in the room (from
    /// the timetable, looked up when the switch is made).
    EndOfLesson,
}

/// What a switch form asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switch {
    pub mode: ExamMode,
    pub length: Length,
    /// Extra domains allowed in exam mode.
    pub sites: Vec<String>,
}

/// Reads a switch form (`mode=examen|coupe`; `quand=duree` with `duree`
/// in minutes, or `quand=fin-cours`; `sites` separated by spaces, commas
/// or new lines); a message in the current language otherwise.
pub fn parse_switch(fields: &forms::Fields) -> Result<Switch, String> {
    let mode = match fields.get("mode") {
        "examen" => ExamMode::Whitelist,
        "coupe" => ExamMode::Off,
        _ => {
            return Err(i18n::either(
                "Choisissez « mode examen » ou « internet coupé ».",
                "Choose \"exam mode\" or \"internet off\".",
            )
            .into());
        }
    };
    let length = match fields.get("quand") {
        "" | "duree" => Length::Minutes(
            fields
                .get("duree")
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|m| (1..=MAX_MINUTES).contains(m))
                .ok_or_else(|| {
                    pick(msg!(
                        "The duration is a number of minutes between 1 and {MAX_MINUTES}.",
                        "La durée est un nombre de minutes entre 1 et {MAX_MINUTES}."
                    ))
                })?,
        ),
        "fin-cours" => Length::EndOfLesson,
        _ => {
            return Err(i18n::either(
                "Choisissez une durée en minutes ou « jusqu'à la fin du cours ».",
                "Choose a duration in minutes or \"until the end of the lesson\".",
            )
            .into());
        }
    };
    let mut sites = Vec::new();
    for word in fields
        .get("sites")
        .split([' ', ',', ';', '\n', '\r', '\t'])
        .filter(|w| !w.is_empty())
    {
        if mode == ExamMode::Off {
            return Err(i18n::either(
                "Internet coupé n'autorise aucun site : videz la liste des sites ou choisissez le mode examen.",
                "Internet off allows no site: empty the list of sites or choose exam mode.",
            )
            .into());
        }
        let Some(host) = lists::normalize_host(word) else {
            return Err(pick(msg!(
                "\"{word}\" is not a domain name (for example sujet.example.fr).",
                "« {word} » n'est pas un nom de domaine (par exemple sujet.example.fr)."
            )));
        };
        if !sites.contains(&host) {
            sites.push(host);
        }
        if sites.len() > MAX_SITES {
            return Err(pick(msg!(
                "At most {MAX_SITES} sites for an exam.",
                "Au plus {MAX_SITES} sites pour un examen."
            )));
        }
    }
    Ok(Switch { mode, length, sites })
}

/// The end of `teacher`'s current lesson in one of `rooms` (timetable
/// rooms) at `now`: a lesson he teaches (the replacement, when replaced)
/// that takes place today in one of them, started and not ended; the
/// latest end if two overlap. None when there is no such lesson (pure).
pub fn lesson_end(lessons: &[Lesson], teacher: i64, rooms: &[String], now: DateTime) -> Option<Time> {
    lessons
        .iter()
        .filter(|l| {
            l.takes_place
                && l.service.teacher_id == teacher
                && l.date == now.date
                && rooms.contains(&l.room)
                && l.starts <= now.time
                && now.time < l.ends
        })
        .map(|l| l.ends)
        .max()
}

/// The Unix time of `end` (a local time today) seen from `now_unix`,
/// whose local time is `now` (pure): the minutes left, from the start of
/// the current minute.
pub fn until_end(now_unix: i64, now: DateTime, end: Time) -> i64 {
    let minutes = (i64::from(end.minutes()) - i64::from(now.time.minutes())).max(0);
    now_unix - now_unix.rem_euclid(60) + minutes * 60
}

/// For each room group `signed` may switch, the end of his current lesson
/// there, if he is in one now.
fn lesson_ends(
    conn: &rusqlite::Connection,
    config: &crate::config::Config,
    signed: &Signed,
    now: DateTime,
) -> Result<HashMap<String, Time>, WebError> {
    let mut out = HashMap::new();
    let Some(id) = signed.actor.person_id else {
        return Ok(out);
    };
    let lessons = schedule::lessons_of(conn, &schedule::Whose::Teacher(id), now.date, now.date)
        .map_err(WebError::Internal)?;
    for g in &config.proxy.sources {
        if let Some(end) = lesson_end(&lessons, id, &g.rooms, now) {
            out.insert(g.name.clone(), end);
        }
    }
    Ok(out)
}

/// One room as the page shows it.
pub struct RoomRow {
    pub name: String,
    pub addresses: String,
    /// "internet coupé jusqu'à 10:55 (m.durand)" (in the page's language),
    /// or None when normal.
    pub state: Option<String>,
    pub sites: String,
    /// The end of the teacher's current lesson there ("10:55"): the page
    /// then offers "until the end of the lesson".
    pub lesson_end: Option<String>,
}

#[derive(Template)]
#[template(path = "console/rooms.html")]
struct RoomsPage<'a> {
    page: &'a Page,
    notice: Option<&'static str>,
    /// The firewall could not be updated at the last switch.
    firewall_failed: bool,
    proxy_enabled: bool,
    firewall_enabled: bool,
    rooms: Vec<RoomRow>,
    exam_allow: String,
    max_minutes: u32,
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The rooms `signed` may switch: every source group (and firewall zone)
/// for an administrator, the ones of his timetable for a teacher.
fn my_rooms(config: &crate::config::Config, signed: &Signed) -> Vec<(String, Vec<String>)> {
    let admin = signed.actor.has(crate::web::authz::Role::Admin);
    let zones = super::zone_sources(config);
    config
        .proxy
        .sources
        .iter()
        .chain(
            zones
                .iter()
                .filter(|z| !config.proxy.sources.iter().any(|g| g.name == z.name)),
        )
        .filter(|g| admin || signed.facts.rooms.contains(&g.name))
        .map(|g| (g.name.clone(), g.addresses.clone()))
        .collect()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WebError> + Send + 'static,
) -> Result<T, WebError> {
    crate::web::i18n::spawn_blocking(f)
        .await
        .map_err(|e| WebError::Internal(anyhow::anyhow!("{e}")))?
}

/// `GET /console/salles`.
pub async fn rooms(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let done = q.get("fait").cloned();
    let firewall_failed = q.get("pare-feu").is_some_and(|v| v == "echec");
    let run = move || -> Result<Response, WebError> {
        let config = web.config();
        let firewall = room_cut::enabled(&config);
        let notice = match (done.as_deref(), firewall) {
            (Some("examen"), false) => Some("rooms.done_exam"),
            (Some("examen"), true) => Some("rooms.done_exam_firewall"),
            (Some("coupe"), false) => Some("rooms.done_off"),
            (Some("coupe"), true) => Some("rooms.done_off_firewall"),
            (Some("fin"), _) => Some("rooms.done_end"),
            _ => None,
        }
        .map(|id| i18n::t(i18n::current(), id));
        let store = web.store()?;
        let active = exams::active(store.conn(), now_unix())?;
        let ends = lesson_ends(store.conn(), &config, &signed, school_clock::now())?;
        let rooms = my_rooms(&config, &signed)
            .into_iter()
            .map(|(name, addresses)| {
                let on = active.iter().find(|e| e.room == name);
                RoomRow {
                    state: on.map(|e| {
                        let (until, by) = (policy::local_hhmm(e.until), &e.by);
                        match e.mode {
                            ExamMode::Whitelist => pick(msg!(
                                "exam mode (whitelist) until {until} ({by})",
                                "mode examen (liste blanche) jusqu'à {until} ({by})"
                            )),
                            ExamMode::Off => pick(msg!(
                                "internet off until {until} ({by})",
                                "internet coupé jusqu'à {until} ({by})"
                            )),
                        }
                    }),
                    sites: on.map(|e| e.allow.join(" ")).unwrap_or_default(),
                    lesson_end: ends.get(&name).map(Time::to_string),
                    addresses: addresses.join(", "),
                    name,
                }
            })
            .collect();
        let chrome = Page::signed(
            i18n::t(i18n::current(), "rooms.title"),
            &config.establishment.name,
            &signed,
            "/console/salles",
        );
        Ok(pages::render(&RoomsPage {
            page: &chrome,
            notice,
            firewall_failed,
            proxy_enabled: config.modules.enabled.iter().any(|m| m == "proxy"),
            firewall_enabled: firewall,
            rooms,
            exam_allow: config.proxy.exam_allow.join(", "),
            max_minutes: MAX_MINUTES,
        }))
    };
    blocking(run).await.unwrap_or_else(IntoResponse::into_response)
}

async fn checked_form(signed: &Signed, body: Body) -> Result<forms::Fields, WebError> {
    let fields = forms::read(body).await?;
    if !csrf::matches(&signed.session.csrf, fields.get("csrf")) {
        return Err(WebError::Forbidden(
            i18n::t(i18n::current(), "form.expired").into(),
        ));
    }
    Ok(fields)
}

/// The room must be a source group (or zone) the proxy knows.
fn known_room(config: &crate::config::Config, room: &str) -> Result<(), WebError> {
    let policies = Policies::new(&config.proxy, &super::zone_sources(config));
    if policies.has_source(room) {
        Ok(())
    } else {
        Err(WebError::NotFound)
    }
}

/// Puts the stored overrides into the firewall's room cut now (the
/// daemon would within seconds): what the audit log and the page say.
fn cut_in_firewall(
    web: &AppState,
    config: &crate::config::Config,
    store: &crate::store::Store,
) -> Result<&'static str, String> {
    let now = now_unix();
    let active = exams::active(store.conn(), now).map_err(|e| e.to_string())?;
    match room_cut::sync(&web.host, config, &active, now) {
        Ok(room_cut::Synced::Loaded { .. }) => Ok("pare-feu à jour"),
        Ok(room_cut::Synced::Disabled) => Ok("pare-feu non activé, proxy seul"),
        Ok(room_cut::Synced::NotLive) => Ok("pare-feu hors système en marche"),
        Err(e) => Err(e.to_string()),
    }
}

/// The firewall's part of an audit line and of the page's address.
fn firewall_outcome(r: Result<&'static str, String>) -> (String, &'static str) {
    match r {
        Ok(said) => (said.to_string(), ""),
        Err(e) => {
            log::error!(error = e.as_str(); "classroom tools: the firewall's room cut could not be updated");
            (format!("pare-feu NON mis à jour ({e})"), "&pare-feu=echec")
        }
    }
}

/// `POST /console/salles/{room}`: exam mode or internet off for a time.
pub async fn switch(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(room): Path<String>,
    body: Body,
) -> Response {
    let run = async move {
        let fields = checked_form(&signed, body).await?;
        let switch = parse_switch(&fields).map_err(WebError::BadRequest)?;
        blocking(move || {
            let config = web.config();
            known_room(&config, &room)?;
            let mut store = web.store()?;
            let (until, how_long) = match switch.length {
                Length::Minutes(m) => (now_unix() + i64::from(m) * 60, format!("pendant {m} min")),
                Length::EndOfLesson => {
                    let now = school_clock::now();
                    let end = lesson_ends(store.conn(), &config, &signed, now)?
                        .remove(&room)
                        .ok_or_else(|| {
                            WebError::BadRequest(
                                i18n::either(
                                    "Vous n'avez pas de cours en ce moment dans cette salle : choisissez une durée en minutes.",
                                    "You have no lesson in this room right now: choose a duration in minutes.",
                                )
                                .into(),
                            )
                        })?;
                    (until_end(now_unix(), now, end), format!("jusqu'à la fin du cours ({end})"))
                }
            };
            let exam = Exam {
                room: room.clone(),
                until,
                mode: switch.mode,
                allow: switch.sites.clone(),
                by: signed.actor.login.clone(),
            };
            store.write(|tx| exams::start(tx, &exam))?;
            let mut outcome = format!(
                "{} {how_long}, jusqu'à {}",
                switch.mode.label_fr(),
                policy::local_hhmm(exam.until)
            );
            if !switch.sites.is_empty() {
                outcome.push_str(&format!(" ; sites : {}", switch.sites.join(" ")));
            }
            let (firewall, flag) = firewall_outcome(cut_in_firewall(&web, &config, &store));
            outcome.push_str(&format!(" ; {firewall}"));
            audit::record(
                &mut store,
                &signed.actor.login,
                &signed.peer.to_string(),
                "internet d'une salle",
                &room,
                &outcome,
            )?;
            let done = match switch.mode {
                ExamMode::Whitelist => "examen",
                ExamMode::Off => "coupe",
            };
            Ok(crate::web::see_other(
                &format!("/console/salles?fait={done}{flag}"),
                &[],
            ))
        })
        .await
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /console/salles/{room}/fin`: ends the room's override now.
pub async fn end(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(room): Path<String>,
    body: Body,
) -> Response {
    let run = async move {
        checked_form(&signed, body).await?;
        blocking(move || {
            let config = web.config();
            known_room(&config, &room)?;
            let mut store = web.store()?;
            let had = store.write(|tx| exams::stop(tx, &room))?;
            let (firewall, flag) = firewall_outcome(cut_in_firewall(&web, &config, &store));
            audit::record(
                &mut store,
                &signed.actor.login,
                &signed.peer.to_string(),
                "internet d'une salle",
                &room,
                &format!(
                    "{} ; {firewall}",
                    if had {
                        "fin : accès habituel"
                    } else {
                        "fin demandée, rien n'était en cours"
                    }
                ),
            )?;
            Ok(crate::web::see_other(
                &format!("/console/salles?fait=fin{flag}"),
                &[],
            ))
        })
        .await
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(s: &str) -> forms::Fields {
        forms::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn switch_forms_are_read_or_refused_in_french() {
        assert_eq!(
            parse_switch(&fields("mode=coupe&duree=55")),
            Ok(Switch {
                mode: ExamMode::Off,
                length: Length::Minutes(55),
                sites: Vec::new()
            })
        );
        assert_eq!(
            parse_switch(&fields("mode=coupe&quand=duree&duree=5")).map(|s| s.length),
            Ok(Length::Minutes(5))
        );
        // Until the end of the lesson: the duration field is not read.
        assert_eq!(
            parse_switch(&fields("mode=examen&quand=fin-cours&duree=")).map(|s| s.length),
            Ok(Length::EndOfLesson)
        );
        assert_eq!(
            parse_switch(&fields(
                "mode=examen&duree=120&sites=Sujet.Example.fr%2C+dico.test+sujet.example.fr"
            )),
            Ok(Switch {
                mode: ExamMode::Whitelist,
                length: Length::Minutes(120),
                sites: vec!["sujet.example.fr".into(), "dico.test".into()]
            })
        );
        for bad in [
            "mode=&duree=55",
            "mode=autre&duree=55",
            "mode=coupe&duree=0",
            "mode=coupe&duree=601",
            "mode=coupe&duree=-3",
            "mode=coupe&duree=dix",
            "mode=coupe",
            "mode=coupe&duree=30&sites=sujet.test",
            "mode=examen&duree=30&sites=pas%20un%20nom%20%3C%3E",
            "mode=coupe&quand=demain&duree=30",
            "mode=coupe&quand=duree&duree=",
        ] {
            let e = parse_switch(&fields(bad)).unwrap_err();
            assert!(!e.is_empty() && e.is_char_boundary(0), "{bad}");
        }
        let many: String = (0..=MAX_SITES).map(|i| format!("s{i}.test+")).collect();
        assert!(
            parse_switch(&fields(&format!("mode=examen&duree=30&sites={many}")))
                .unwrap_err()
                .contains("Au plus")
        );
    }

    fn lesson(teacher: i64, date: &str, starts: &str, ends: &str, room: &str, takes_place: bool) -> Lesson {
        Lesson {
            slot_id: Some(1),
            slot_date: None,
            exception_id: None,
            date: crate::modules::viescolaire::calendar::Date::parse(date).unwrap(),
            starts: Time::parse(starts).unwrap(),
            ends: Time::parse(ends).unwrap(),
            service: crate::modules::viescolaire::timetable::Service {
                teacher_id: teacher,
                subject_code: "MATHS".into(),
                structure_id: 1,
            },
            room: room.into(),
            takes_place,
            changes: Vec::new(),
        }
    }

    #[test]
    fn the_end_of_the_current_lesson_in_the_room() {
        let at = |s: &str| DateTime::parse(s).unwrap();
        let rooms = vec!["B12".to_string(), "B12bis".to_string()];
        let lessons = [
            lesson(7, "2026-12-01", "08:00", "08:55", "B12", true),
            lesson(7, "2026-12-01", "10:00", "10:55", "B14", true),
            lesson(7, "2026-12-01", "11:00", "11:55", "B12", false),
            lesson(8, "2026-12-01", "14:00", "15:00", "B12", true),
            lesson(7, "2026-12-02", "09:00", "09:55", "B12", true),
            lesson(7, "2026-12-01", "16:00", "16:55", "B12", true),
            lesson(7, "2026-12-01", "16:30", "17:25", "B12bis", true),
        ];
        let end = |now: &str| lesson_end(&lessons, 7, &rooms, at(now)).map(|t| t.to_string());
        assert_eq!(
            end("2026-12-01T08:00").as_deref(),
            Some("08:55"),
            "from its start"
        );
        assert_eq!(end("2026-12-01T08:54").as_deref(), Some("08:55"));
        assert_eq!(end("2026-12-01T08:55"), None, "ended");
        assert_eq!(end("2026-12-01T07:59"), None, "not started");
        assert_eq!(end("2026-12-01T10:30"), None, "another room");
        assert_eq!(end("2026-12-01T11:30"), None, "cancelled or moved away");
        assert_eq!(end("2026-12-01T14:30"), None, "another teacher's");
        assert_eq!(end("2026-12-02T08:30"), None, "another day");
        assert_eq!(
            end("2026-12-01T16:40").as_deref(),
            Some("17:25"),
            "the later of two"
        );
        assert_eq!(
            lesson_end(&lessons, 7, &[], at("2026-12-01T08:30")),
            None,
            "a group without rooms"
        );
        // 08:30:20 local (Unix 999980 here, 20 s into a minute): 25
        // minutes from 08:30:00.
        let now = at("2026-12-01T08:30");
        assert_eq!(
            until_end(999_980, now, Time::parse("08:55").unwrap()),
            999_960 + 25 * 60
        );
        assert_eq!(until_end(999_980, now, Time::parse("08:00").unwrap()), 999_960);
    }
}

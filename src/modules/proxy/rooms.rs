//! The proxy's pages in the classroom tools: `/console/salles` lists the
//! rooms (`[proxy]` source groups) the signed-in person may switch — every
//! one for an administrator, those whose `rooms` hold a room of his
//! timetable for a teacher (`authz::Facts::rooms`) — with what is on now;
//! `POST /console/salles/{room}` switches the room to exam mode
//! (whitelist only) or internet off for a number of minutes, `POST
//! /console/salles/{room}/fin` ends it early. The override is a row of
//! `proxy_exams` ([`super::exams`]): the running proxy reads it within two
//! seconds, without a restart, and it ends by itself at its time. Every
//! switch goes to the audit log.

use super::exams;
use super::lists;
use super::policy::{self, Exam, ExamMode, Policies};
use crate::web::errors::WebError;
use crate::web::pages::{self, Page};
use crate::web::{AppState, Signed, audit, csrf, forms};
use askama::Template;
use axum::body::Body;
use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

/// The longest override a form may ask for, in minutes (a school day).
pub const MAX_MINUTES: u32 = 600;
/// How many extra exam sites a form may name.
pub const MAX_SITES: usize = 20;

/// What a switch form asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switch {
    pub mode: ExamMode,
    pub minutes: u32,
    /// Extra domains allowed in exam mode.
    pub sites: Vec<String>,
}

/// Reads a switch form (`mode=examen|coupe`, `duree` in minutes, `sites`
/// separated by spaces, commas or new lines); a French message otherwise.
pub fn parse_switch(fields: &forms::Fields) -> Result<Switch, String> {
    let mode = match fields.get("mode") {
        "examen" => ExamMode::Whitelist,
        "coupe" => ExamMode::Off,
        _ => return Err("Choisissez « mode examen » ou « internet coupé ».".into()),
    };
    let minutes = fields
        .get("duree")
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|m| (1..=MAX_MINUTES).contains(m))
        .ok_or_else(|| format!("La durée est un nombre de minutes entre 1 et {MAX_MINUTES}."))?;
    let mut sites = Vec::new();
    for word in fields
        .get("sites")
        .split([' ', ',', ';', '\n', '\r', '\t'])
        .filter(|w| !w.is_empty())
    {
        if mode == ExamMode::Off {
            return Err("Internet coupé n'autorise aucun site : videz la liste des sites ou choisissez le mode examen.".into());
        }
        let Some(host) = lists::normalize_host(word) else {
            return Err(format!(
                "« {word} » n'est pas un nom de domaine (par exemple sujet.example.fr)."
            ));
        };
        if !sites.contains(&host) {
            sites.push(host);
        }
        if sites.len() > MAX_SITES {
            return Err(format!("Au plus {MAX_SITES} sites pour un examen."));
        }
    }
    Ok(Switch { mode, minutes, sites })
}

/// One room as the page shows it.
pub struct RoomRow {
    pub name: String,
    pub addresses: String,
    /// "internet coupé jusqu'à 10:55 (m.durand)", or None when normal.
    pub state: Option<String>,
    pub sites: String,
}

#[derive(Template)]
#[template(path = "console/rooms.html")]
struct RoomsPage<'a> {
    page: &'a Page,
    notice: Option<&'static str>,
    proxy_enabled: bool,
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
    let notice = match q.get("fait").map(String::as_str) {
        Some("examen") => Some("Le mode examen est en place : le proxy l'applique dans les deux secondes."),
        Some("coupe") => {
            Some("Internet est coupé dans la salle : le proxy l'applique dans les deux secondes.")
        }
        Some("fin") => Some("La salle retrouve son accès habituel à internet."),
        _ => None,
    };
    let run = move || -> Result<Response, WebError> {
        let config = web.config();
        let store = web.store()?;
        let active = exams::active(store.conn(), now_unix())?;
        let rooms = my_rooms(&config, &signed)
            .into_iter()
            .map(|(name, addresses)| {
                let on = active.iter().find(|e| e.room == name);
                RoomRow {
                    state: on.map(|e| {
                        format!(
                            "{} jusqu'à {} ({})",
                            e.mode.label_fr(),
                            policy::local_hhmm(e.until),
                            e.by
                        )
                    }),
                    sites: on.map(|e| e.allow.join(" ")).unwrap_or_default(),
                    addresses: addresses.join(", "),
                    name,
                }
            })
            .collect();
        let chrome = Page::signed(
            "Salles et internet",
            &config.establishment.name,
            &signed,
            "/console/salles",
        );
        Ok(pages::render(&RoomsPage {
            page: &chrome,
            notice,
            proxy_enabled: config.modules.enabled.iter().any(|m| m == "proxy"),
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
        return Err(WebError::BadRequest(
            "Le formulaire a expiré : rechargez la page et recommencez.".into(),
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
            let exam = Exam {
                room: room.clone(),
                until: now_unix() + i64::from(switch.minutes) * 60,
                mode: switch.mode,
                allow: switch.sites.clone(),
                by: signed.actor.login.clone(),
            };
            let mut store = web.store()?;
            store.write(|tx| exams::start(tx, &exam))?;
            let mut outcome = format!(
                "{} pendant {} min, jusqu'à {}",
                switch.mode.label_fr(),
                switch.minutes,
                policy::local_hhmm(exam.until)
            );
            if !switch.sites.is_empty() {
                outcome.push_str(&format!(" ; sites : {}", switch.sites.join(" ")));
            }
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
                &format!("/console/salles?fait={done}"),
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
            audit::record(
                &mut store,
                &signed.actor.login,
                &signed.peer.to_string(),
                "internet d'une salle",
                &room,
                if had {
                    "fin : accès habituel"
                } else {
                    "fin demandée, rien n'était en cours"
                },
            )?;
            Ok(crate::web::see_other("/console/salles?fait=fin", &[]))
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
                minutes: 55,
                sites: Vec::new()
            })
        );
        assert_eq!(
            parse_switch(&fields(
                "mode=examen&duree=120&sites=Sujet.Example.fr%2C+dico.test+sujet.example.fr"
            )),
            Ok(Switch {
                mode: ExamMode::Whitelist,
                minutes: 120,
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
}

//! The booking pages, on the web platform (`crate::web`): the resources
//! (`/reservations`), a resource's day (`/reservations/{id}?date=…`,
//! printable for the room door), booking for one of the teacher's lessons
//! from his timetable or for any slot, weekly over a period, cancelling,
//! exchanging two bookings, approval by the resource's manager, the
//! iCalendar feed (`/reservations/{id}/agenda.ics`, and by a private token
//! for calendar apps: `/reservations/agenda/{token}.ics`, made at
//! `POST /reservations/{id}/agenda`), resources added by
//! the administrator. The guard has already decided each route's
//! `authz::Action`; the booking domain ([`super`]) checks its own rules
//! again inside the write transaction.

use super::{Booking, BookingError, Purpose, Resource};
use crate::directory;
use crate::modules::viescolaire::calendar::{DAY_NAMES, Date, DateTime, Time};
use crate::modules::viescolaire::queries;
use crate::msg;
use crate::web::authz::Role;
use crate::web::errors::WebError;
use crate::web::forms::Path;
use crate::web::forms::{self, Fields};
use crate::web::i18n::{either, french, pick};
use crate::web::pages::{self, Page};
use crate::web::{AppState, Signed, audit, csrf, see_other};
use askama::Template;
use axum::body::Body;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rusqlite::Connection;
use std::collections::HashMap;
use std::sync::Arc;

/// The booking domain's role name of a web actor (the strongest role).
pub fn role_of(signed: &Signed) -> &'static str {
    let a = &signed.actor;
    if a.has(Role::Admin) {
        "admin"
    } else if a.has(Role::Direction) {
        "direction"
    } else if a.has(Role::SchoolLife) {
        "cpe"
    } else if a.has(Role::Staff) {
        "staff"
    } else if a.has(Role::Teacher) {
        "teacher"
    } else if a.has(Role::Parent) {
        "parent"
    } else {
        "student"
    }
}

/// Unix time of a local date and time of the server's time zone.
pub fn unix_of(date: Date, time: Time) -> i64 {
    let epoch = Date::ymd(1970, 1, 1).expect("valid date");
    let naive = i64::from(epoch.days_until(date)) * 86400 + i64::from(time.minutes()) * 60;
    let offset = |t| crate::modules::proxy::policy::local_offset(t);
    let guess = naive - offset(naive);
    naive - offset(guess)
}

/// The local date and time of a Unix time.
pub fn local(t: i64) -> DateTime {
    DateTime::from_unix(t, crate::modules::proxy::policy::local_offset(t))
}

/// English names of the days, Monday first.
const DAY_NAMES_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// "lundi 2026-09-07" ("Monday 2026-09-07" in English).
fn day_label(d: Date) -> String {
    let names = if french() { DAY_NAMES } else { DAY_NAMES_EN };
    format!("{} {d}", names[usize::from(d.weekday() - 1)])
}

/// A booking's hours, "08:00–09:00", with the dates when it spans days.
fn hours(b: &Booking) -> String {
    let (s, e) = (local(b.starts), local(b.ends));
    if s.date == e.date {
        format!("{}–{}", s.time, e.time)
    } else {
        format!("{s} – {e}")
    }
}

fn status_label(s: &str) -> &'static str {
    match s {
        "pending" => either("en attente de validation", "waiting for approval"),
        "confirmed" => either("confirmée", "confirmed"),
        "cancelled" => either("annulée", "cancelled"),
        _ => either("refusée", "refused"),
    }
}

fn kind_label(k: &str) -> &'static str {
    if k == "room" {
        either("salle", "room")
    } else {
        either("matériel", "equipment")
    }
}

/// The English of a reason the booking domain gives in French
/// ([`super::decide`] and the refusals of [`BookingError::Refused`]); the
/// French itself for one not listed (a test keeps the list complete).
const REASONS_EN: &[(&str, &str)] = &[
    (
        "les élèves et les responsables ne réservent pas",
        "students and parents do not book",
    ),
    (
        "cette ressource n'est pas ouverte aux enseignants",
        "this resource is not open to teachers",
    ),
    (
        "seul le responsable de la ressource valide ses réservations",
        "only the resource's manager approves its bookings",
    ),
    (
        "seul l'auteur ou le responsable annule une réservation",
        "only its author or the manager cancels a booking",
    ),
    (
        "choisissez deux réservations différentes",
        "choose two different bookings",
    ),
    (
        "les deux réservations doivent porter sur la même ressource",
        "both bookings must be of the same resource",
    ),
    (
        "une réservation annulée ou refusée ne s'échange pas",
        "a cancelled or refused booking cannot be exchanged",
    ),
    (
        "les deux réservations doivent porter sur le même nombre d'unités",
        "both bookings must be of the same number of units",
    ),
    (
        "cette réservation n'est pas en attente",
        "this booking is not waiting for approval",
    ),
    ("choisissez Accepter ou Refuser", "choose Accept or Refuse"),
    (
        "choisissez la réservation à échanger",
        "choose the booking to exchange with",
    ),
];

/// A refusal of the booking domain in the current language.
fn reason(e: &BookingError) -> String {
    if french() {
        return e.to_string();
    }
    match e {
        BookingError::Refused(r) => REASONS_EN
            .iter()
            .find(|(fr, _)| fr == r)
            .map_or(*r, |(_, en)| en)
            .to_string(),
        BookingError::UnknownResource => "the resource does not exist".into(),
        BookingError::UnknownBooking => "the booking does not exist".into(),
        BookingError::BadSlot => "the end must come after the start".into(),
        BookingError::TooMany { asked, total } => {
            format!("quantity asked {asked}, the resource has {total}")
        }
        other => other.to_string(),
    }
}

/// A person's name from a login (the login itself when unknown).
fn name_of(conn: &Connection, login: &str) -> rusqlite::Result<String> {
    Ok(directory::person_by_login(conn, login)?.map_or_else(|| login.to_string(), |p| p.full_name()))
}

/// What a booking is for, as read: its subject and class, or its note.
fn purpose_of(conn: &Connection, b: &Booking) -> rusqlite::Result<String> {
    let (subject, structure): (Option<String>, Option<String>) = conn.query_row(
        "SELECT coalesce((SELECT label FROM subjects WHERE code = b.subject), b.subject), b.structure
         FROM bookings b WHERE b.id = ?1",
        [b.id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut parts: Vec<String> = [subject, structure].into_iter().flatten().collect();
    if !b.note.is_empty() {
        parts.push(b.note.clone());
    }
    Ok(parts.join(" — "))
}

/// Runs a handler body off the async threads.
async fn blocking(f: impl FnOnce() -> Result<Response, WebError> + Send + 'static) -> Response {
    match crate::web::i18n::spawn_blocking(f).await {
        Ok(r) => r.unwrap_or_else(IntoResponse::into_response),
        Err(e) => WebError::Internal(anyhow::anyhow!("{e}")).into_response(),
    }
}

/// A form read and its token checked.
async fn form(signed: &Signed, body: Body) -> Result<Fields, WebError> {
    let fields = forms::read(body).await?;
    if !csrf::matches(&signed.session.csrf, fields.get("csrf")) {
        return Err(WebError::Forbidden(
            either(
                "Le formulaire a expiré : rechargez la page.",
                "The form has expired: reload the page.",
            )
            .into(),
        ));
    }
    Ok(fields)
}

/// A booking refusal as the person reads it.
fn refusal(e: BookingError) -> WebError {
    match e {
        BookingError::Sql(e) => WebError::Internal(e.into()),
        BookingError::Conflict { free, total, at } => {
            let at = local(at);
            WebError::BadRequest(pick(msg!(
                "Slot already taken on {at}: {free} available of {total}. Nothing was booked.",
                "Créneau déjà pris le {at} : {free} disponible(s) sur {total}. Rien n'a été réservé."
            )))
        }
        BookingError::BadSlot => WebError::BadRequest(
            either(
                "Le créneau est invalide : la fin doit être après le début (au plus 400 occurrences).",
                "The slot is not valid: the end must come after the start (at most 400 occurrences).",
            )
            .into(),
        ),
        other => {
            let why = capitalized(&reason(&other));
            WebError::BadRequest(pick(msg!(
                "{why}: nothing was changed.",
                "{why} : rien n'a été changé."
            )))
        }
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

pub struct ResourceRow {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub quantity: i64,
    pub manager: String,
    pub teachers: &'static str,
}

pub struct BookingRow {
    pub id: i64,
    pub resource_id: i64,
    pub resource: String,
    pub date: Date,
    pub when: String,
    pub who: String,
    pub quantity: i64,
    pub purpose: String,
    pub status: &'static str,
    pub changeable: bool,
    /// Other bookings it may be exchanged with: (id, label).
    pub swaps: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "booking/list.html")]
pub struct ListPage<'a> {
    pub page: &'a Page,
    pub error: Option<String>,
    pub resources: Vec<ResourceRow>,
    pub mine: Vec<BookingRow>,
    pub pending: Vec<BookingRow>,
    pub admin: bool,
}

pub struct LessonRow {
    pub slot: i64,
    pub time: String,
    pub subject: String,
    pub structure: String,
    pub room: String,
}

#[derive(Template)]
#[template(path = "booking/resource.html")]
pub struct ResourcePage<'a> {
    pub page: &'a Page,
    pub id: i64,
    pub name: String,
    pub quantity: i64,
    pub date: Date,
    pub day_label: String,
    pub prev: Date,
    pub next: Date,
    pub bookings: Vec<BookingRow>,
    pub error: Option<String>,
    pub can_book: bool,
    pub teacher: bool,
    pub lessons: Vec<LessonRow>,
    /// When the resource's private calendar link was made, if any.
    pub calendar_made: Option<String>,
    /// The new private calendar link, shown once right after it is made.
    pub calendar_url: Option<String>,
}

fn row(conn: &Connection, r: &Resource, b: &Booking, changeable: bool) -> rusqlite::Result<BookingRow> {
    let s = local(b.starts);
    Ok(BookingRow {
        id: b.id,
        resource_id: r.id,
        resource: r.name.clone(),
        date: s.date,
        when: format!("{} {}", day_label(s.date), hours(b)),
        who: name_of(conn, &b.login)?,
        quantity: b.quantity,
        purpose: purpose_of(conn, b)?,
        status: status_label(&b.status),
        changeable,
        swaps: Vec::new(),
    })
}

fn list_page(web: &AppState, signed: &Signed, error: Option<String>) -> Result<Response, WebError> {
    let store = web.store()?;
    let conn = store.conn();
    let resources = super::resources(conn)?;
    let by_id: HashMap<i64, &Resource> = resources.iter().map(|r| (r.id, r)).collect();
    let login = &signed.actor.login;
    let admin = signed.actor.has(Role::Admin);
    let mut mine = Vec::new();
    for b in super::bookings_of(conn, login, crate::sso::now(), 100)? {
        if let Some(r) = by_id.get(&b.resource_id) {
            mine.push(row(conn, r, &b, true)?);
        }
    }
    let mut pending = Vec::new();
    for b in super::pending_for(conn, login, admin)? {
        if let Some(r) = by_id.get(&b.resource_id) {
            pending.push(row(conn, r, &b, true)?);
        }
    }
    let rows = resources
        .iter()
        .map(|r| ResourceRow {
            id: r.id,
            name: r.name.clone(),
            kind: kind_label(&r.kind),
            quantity: r.quantity,
            manager: r
                .manager
                .clone()
                .unwrap_or_else(|| either("aucune (réservation immédiate)", "none (booked at once)").into()),
            teachers: if r.teachers_allowed {
                either("oui", "yes")
            } else {
                either("non", "no")
            },
        })
        .collect();
    let config = web.config();
    let chrome = Page::signed(
        crate::web::i18n::t(crate::web::i18n::current(), "nav.bookings"),
        &config.establishment.name,
        signed,
        "/reservations",
    );
    let mut r = pages::render(&ListPage {
        page: &chrome,
        error: error.clone(),
        resources: rows,
        mine,
        pending,
        admin,
    });
    if error.is_some() {
        *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(r)
}

/// `GET /reservations`.
pub async fn list(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    blocking(move || list_page(&web, &signed, None)).await
}

/// A new resource, validated (pure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewResource {
    pub name: String,
    pub kind: &'static str,
    pub quantity: i64,
    pub manager: Option<String>,
    pub teachers_allowed: bool,
}

/// Reads the resource form; every problem in the current language
/// (French by default).
pub fn parse_resource(f: &Fields) -> Result<NewResource, String> {
    let name = f.get("nom").trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(either(
            "Le nom est obligatoire (au plus 80 caractères).",
            "The name is required (at most 80 characters).",
        )
        .into());
    }
    let kind = match f.get("type") {
        "room" => "room",
        "equipment" => "equipment",
        _ => {
            return Err(either(
                "Le type doit être « salle » ou « matériel ».",
                "The kind must be \"room\" or \"equipment\".",
            )
            .into());
        }
    };
    let quantity = match f.get("quantite").trim().parse::<i64>() {
        Ok(q) if (1..=500).contains(&q) => q,
        _ => {
            return Err(either(
                "La quantité doit être un nombre entier de 1 à 500.",
                "The quantity must be a whole number from 1 to 500.",
            )
            .into());
        }
    };
    let manager = f.get("responsable").trim();
    if manager.len() > 64 {
        return Err(either(
            "L'identifiant du responsable est trop long.",
            "The manager's login is too long.",
        )
        .into());
    }
    Ok(NewResource {
        name: name.to_string(),
        kind,
        quantity,
        manager: (!manager.is_empty()).then(|| manager.to_string()),
        teachers_allowed: f.get("enseignants") == "1",
    })
}

/// `POST /reservations`: the administrator adds a resource.
pub async fn add_resource(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    body: Body,
) -> Response {
    let fields = match form(&signed, body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    blocking(move || {
        let new = match parse_resource(&fields) {
            Ok(n) => n,
            Err(m) => return list_page(&web, &signed, Some(m)),
        };
        let mut store = web.store()?;
        if let Some(m) = &new.manager
            && directory::person_by_login(store.conn(), m)?.is_none()
        {
            return list_page(
                &web,
                &signed,
                Some(pick(msg!(
                    "No account \"{m}\": the manager must be a person of the directory.",
                    "Aucun compte « {m} » : le responsable doit être une personne de l'annuaire."
                ))),
            );
        }
        let exists: bool = store.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM booking_resources WHERE name = ?1)",
            [&new.name],
            |r| r.get(0),
        )?;
        if exists {
            return list_page(
                &web,
                &signed,
                Some({
                    let name = &new.name;
                    pick(msg!(
                        "A resource is already called \"{name}\".",
                        "Une ressource s'appelle déjà « {name} »."
                    ))
                }),
            );
        }
        let id = store.write(|tx| {
            super::add_resource(
                tx,
                &new.name,
                new.kind,
                new.quantity,
                new.manager.as_deref(),
                new.teachers_allowed,
            )
        })?;
        audit::record(
            &mut store,
            &signed.actor.login,
            &signed.peer.to_string(),
            "ajout d'une ressource",
            &format!("ressource {id} « {} »", new.name),
            "faite",
        )?;
        Ok(see_other("/reservations", &[]))
    })
    .await
}

/// A lesson of the teacher's, with its class and subject as read.
struct MyLesson {
    lesson: crate::modules::viescolaire::timetable::Lesson,
    structure: String,
    subject: String,
}

/// The teacher's lessons from `from` to `to` (taking place, his own).
fn my_lessons(conn: &Connection, me: i64, from: Date, to: Date) -> Result<Vec<MyLesson>, WebError> {
    let Some(year) = queries::current_year(conn, from)? else {
        return Ok(Vec::new());
    };
    let to = to.min(year.ends);
    let all = queries::lessons(conn, &year, from, to).map_err(WebError::Internal)?;
    let mut out = Vec::new();
    for l in all
        .into_iter()
        .filter(|l| l.takes_place && l.service.teacher_id == me)
    {
        let structure: String = conn.query_row(
            "SELECT code FROM structures WHERE id = ?1",
            [l.service.structure_id],
            |r| r.get(0),
        )?;
        let subject: String = conn.query_row(
            "SELECT coalesce((SELECT label FROM subjects WHERE code = ?1), ?1)",
            [&l.service.subject_code],
            |r| r.get(0),
        )?;
        out.push(MyLesson {
            lesson: l,
            structure,
            subject,
        });
    }
    Ok(out)
}

fn resource_page(
    web: &AppState,
    signed: &Signed,
    id: i64,
    date: Date,
    error: Option<String>,
) -> Result<Response, WebError> {
    resource_page_with(web, signed, id, date, error, None)
}

fn resource_page_with(
    web: &AppState,
    signed: &Signed,
    id: i64,
    date: Date,
    error: Option<String>,
    calendar_url: Option<String>,
) -> Result<Response, WebError> {
    let store = web.store()?;
    let conn = store.conn();
    let r = super::resource(conn, id)?.ok_or(WebError::NotFound)?;
    let (from, to) = (
        unix_of(date, Time::hm(0, 0)),
        unix_of(date.add_days(1), Time::hm(0, 0)),
    );
    let day = super::bookings_between(conn, id, from, to)?;
    let login = signed.actor.login.as_str();
    let admin = signed.actor.has(Role::Admin);
    let manager = r.manager.as_deref() == Some(login);
    let mut bookings = Vec::new();
    for b in &day {
        let changeable = admin || manager || b.login == login;
        let mut row = row(conn, &r, b, changeable)?;
        if changeable {
            for o in day.iter().filter(|o| o.id != b.id && o.quantity == b.quantity) {
                if admin || manager || o.login == login {
                    row.swaps
                        .push((o.id, format!("{} ({})", hours(o), name_of(conn, &o.login)?)));
                }
            }
        }
        bookings.push(row);
    }
    let teacher = signed.actor.has(Role::Teacher) && signed.actor.person_id.is_some();
    let mut lessons = Vec::new();
    if let (true, Some(me)) = (teacher, signed.actor.person_id) {
        for l in my_lessons(conn, me, date, date)? {
            if let Some(slot) = l.lesson.slot_id {
                lessons.push(LessonRow {
                    slot,
                    time: format!("{}–{}", l.lesson.starts, l.lesson.ends),
                    subject: l.subject,
                    structure: l.structure,
                    room: l.lesson.room.clone(),
                });
            }
        }
    }
    let can_book = crate::web::authz::decide(
        &signed.actor,
        &crate::web::authz::Action::Book { resource: id },
        &signed.facts,
    )
    .allowed();
    let config = web.config();
    let chrome = Page::signed(&r.name, &config.establishment.name, signed, "/reservations");
    let mut resp = pages::render(&ResourcePage {
        page: &chrome,
        id,
        name: r.name.clone(),
        quantity: r.quantity,
        date,
        day_label: day_label(date),
        prev: date.add_days(-1),
        next: date.add_days(1),
        bookings,
        error: error.clone(),
        can_book,
        teacher,
        lessons,
        calendar_made: super::calendar_token_made(conn, id)?,
        calendar_url,
    });
    if error.is_some() {
        *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

fn date_param(q: &HashMap<String, String>) -> Result<Date, WebError> {
    match q.get("date").map(String::as_str) {
        Some(d) if !d.is_empty() => Date::parse(d).ok_or_else(|| {
            WebError::BadRequest(either("Date invalide (AAAA-MM-JJ).", "Invalid date (YYYY-MM-DD).").into())
        }),
        _ => Ok(DateTime::now_local().date),
    }
}

/// `GET /reservations/{id}`: the day's bookings of a resource.
pub async fn resource(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    blocking(move || {
        let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
        let date = date_param(&q)?;
        resource_page(&web, &signed, id, date, None)
    })
    .await
}

/// The resource's bookings from a month ago to a year ahead, as
/// iCalendar.
fn feed_of(web: &AppState, id: i64) -> Result<Response, WebError> {
    let store = web.store()?;
    let conn = store.conn();
    let r = super::resource(conn, id)?.ok_or(WebError::NotFound)?;
    let now = crate::sso::now();
    let list = super::bookings_between(conn, id, now - 31 * 86400, now + 366 * 86400)?;
    let host = web.config().sso.issuer(&web.config().establishment);
    let host = host
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .split(['/', ':'])
        .next()
        .unwrap_or("preau")
        .to_string();
    let body = super::ical(&r, &list, &host, now);
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// `GET /reservations/{id}/agenda.ics`: the feed, signed in.
pub async fn feed(
    State(web): State<AppState>,
    Extension(_signed): Extension<Arc<Signed>>,
    Path(id): Path<String>,
) -> Response {
    blocking(move || {
        let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
        feed_of(&web, id)
    })
    .await
}

/// Whether a private token has the shape [`crate::web::session::new_token`]
/// gives (pure): no lookup for anything else.
pub fn token_shape(token: &str) -> bool {
    (20..=100).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `GET /reservations/agenda/{token}.ics` (public: the token is the
/// credential; an unknown or replaced one is a 404).
pub async fn token_feed(State(web): State<AppState>, Path(file): Path<String>) -> Response {
    blocking(move || {
        let token = file
            .strip_suffix(".ics")
            .filter(|t| token_shape(t))
            .ok_or(WebError::NotFound)?;
        let id = {
            let store = web.store()?;
            super::resource_of_calendar_token(store.conn(), &crate::web::session::token_hash(token))?
                .ok_or(WebError::NotFound)?
        };
        feed_of(&web, id)
    })
    .await
}

/// `POST /reservations/{id}/agenda`: a new private calendar link of the
/// resource (the previous one stops working), shown once on its page.
pub async fn calendar_link(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    let fields = match form(&signed, body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    blocking(move || {
        let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
        let date = DateTime::now_local().date;
        if fields.get("action") != "nouveau" {
            return resource_page(
                &web,
                &signed,
                id,
                date,
                Some(
                    either(
                        "Choisissez « nouveau lien d'abonnement ».",
                        "Choose \"new subscription link\".",
                    )
                    .into(),
                ),
            );
        }
        let mut store = web.store()?;
        super::resource(store.conn(), id)?.ok_or(WebError::NotFound)?;
        let token = crate::web::session::new_token();
        let at = DateTime::now_local().stamp();
        store.write(|tx| super::set_calendar_token(tx, id, &crate::web::session::token_hash(&token), &at))?;
        audit::record(
            &mut store,
            &signed.actor.login,
            &signed.peer.to_string(),
            "lien d'agenda d'une ressource",
            &format!("ressource {id}"),
            "nouveau lien",
        )?;
        drop(store);
        let issuer = web.config().sso.issuer(&web.config().establishment);
        let url = format!("{}/reservations/agenda/{token}.ics", issuer.trim_end_matches('/'));
        resource_page_with(&web, &signed, id, date, None, Some(url))
    })
    .await
}

/// A booking request, validated (pure but for the lessons).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotForm {
    pub date: Date,
    /// A lesson of the timetable (its slot), or a free slot's hours.
    pub lesson: Option<i64>,
    pub hours: Option<(Time, Time)>,
    pub until: Option<Date>,
    pub quantity: i64,
    pub note: String,
}

/// Reads the booking form; every problem in the current language
/// (French by default).
pub fn parse_slot(f: &Fields) -> Result<SlotForm, String> {
    let date = Date::parse(f.get("date")).ok_or(either(
        "La date est invalide (AAAA-MM-JJ).",
        "The date is not valid (YYYY-MM-DD).",
    ))?;
    let until = match f.get("jusqu_au").trim() {
        "" => None,
        d => {
            let u = Date::parse(d).ok_or(either(
                "La date de fin de la répétition est invalide (AAAA-MM-JJ).",
                "The last date of the repetition is not valid (YYYY-MM-DD).",
            ))?;
            if u < date {
                return Err(either(
                    "La répétition doit finir après le premier jour.",
                    "The repetition must end after its first day.",
                )
                .into());
            }
            if date.days_until(u) > 366 {
                return Err(either(
                    "Une répétition dure au plus un an.",
                    "A repetition lasts a year at most.",
                )
                .into());
            }
            Some(u)
        }
    };
    let quantity = match f.get("quantite").trim() {
        "" => 1,
        q => match q.parse::<i64>() {
            Ok(q) if (1..=10_000).contains(&q) => q,
            _ => {
                return Err(either(
                    "La quantité doit être un nombre entier positif.",
                    "The quantity must be a positive whole number.",
                )
                .into());
            }
        },
    };
    let note = f.get("note").trim().to_string();
    if note.chars().count() > 200 {
        return Err(either(
            "Le motif fait au plus 200 caractères.",
            "The reason is at most 200 characters long.",
        )
        .into());
    }
    let lesson = match f.get("cours").trim() {
        "" => None,
        c => Some(
            c.parse::<i64>()
                .map_err(|_| either("Le cours choisi est invalide.", "The chosen lesson is not valid."))?,
        ),
    };
    let hours = if lesson.is_some() {
        None
    } else {
        let s = Time::parse(f.get("debut").trim()).ok_or(either(
            "L'heure de début est invalide (HH:MM).",
            "The start time is not valid (HH:MM).",
        ))?;
        let e = Time::parse(f.get("fin").trim()).ok_or(either(
            "L'heure de fin est invalide (HH:MM).",
            "The end time is not valid (HH:MM).",
        ))?;
        if e <= s {
            return Err(either(
                "L'heure de fin doit être après l'heure de début.",
                "The end time must come after the start time.",
            )
            .into());
        }
        Some((s, e))
    };
    Ok(SlotForm {
        date,
        lesson,
        hours,
        until,
        quantity,
        note,
    })
}

/// The weekly dates from `date` to `until` (both included).
pub fn weekly(date: Date, until: Option<Date>) -> Vec<Date> {
    let until = until.unwrap_or(date);
    let mut out = Vec::new();
    let mut d = date;
    while d <= until {
        out.push(d);
        d = d.add_days(7);
    }
    out
}

/// `POST /reservations/{id}/reserver`.
pub async fn book(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    let fields = match form(&signed, body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    blocking(move || {
        let id: i64 = id.parse().map_err(|_| WebError::NotFound)?;
        let req = match parse_slot(&fields) {
            Ok(r) => r,
            Err(m) => {
                let date = Date::parse(fields.get("date")).unwrap_or_else(|| DateTime::now_local().date);
                return resource_page(&web, &signed, id, date, Some(m));
            }
        };
        let mut store = web.store()?;
        let mut slots = Vec::new();
        let (mut subject, mut structure) = (None, None);
        let note = req.note.clone();
        if let Some(slot) = req.lesson {
            let Some(me) = signed.actor.person_id.filter(|_| signed.actor.has(Role::Teacher)) else {
                return resource_page(
                    &web,
                    &signed,
                    id,
                    req.date,
                    Some(
                        either(
                            "Seul un enseignant réserve pour un cours de son emploi du temps.",
                            "Only a teacher books for a lesson of his timetable.",
                        )
                        .into(),
                    ),
                );
            };
            let lessons = my_lessons(store.conn(), me, req.date, req.until.unwrap_or(req.date))?;
            let mine: Vec<_> = lessons
                .iter()
                .filter(|l| l.lesson.slot_id == Some(slot))
                .collect();
            if mine.first().is_none_or(|l| l.lesson.date != req.date) {
                return resource_page(
                    &web,
                    &signed,
                    id,
                    req.date,
                    Some(
                        either(
                            "Ce cours n'est pas dans votre emploi du temps ce jour-là : rien n'a été réservé.",
                            "This lesson is not in your timetable that day: nothing was booked.",
                        )
                        .into(),
                    ),
                );
            }
            for l in &mine {
                slots.push((
                    unix_of(l.lesson.date, l.lesson.starts),
                    unix_of(l.lesson.date, l.lesson.ends),
                ));
            }
            subject = Some(mine[0].lesson.service.subject_code.clone());
            structure = Some(mine[0].structure.clone());
        } else if let Some((s, e)) = req.hours {
            for d in weekly(req.date, req.until) {
                slots.push((unix_of(d, s), unix_of(d, e)));
            }
        }
        let actor = super::Actor {
            login: &signed.actor.login,
            role: role_of(&signed),
        };
        let now = crate::sso::now();
        let purpose = Purpose {
            subject: subject.as_deref(),
            structure: structure.as_deref(),
        };
        let made =
            store.write(|tx| super::book_slots(tx, &actor, id, &slots, req.quantity, &note, purpose, now));
        match made {
            Ok(ids) => {
                audit::record(
                    &mut store,
                    &signed.actor.login,
                    &signed.peer.to_string(),
                    "réservation",
                    &format!("ressource {id}, {} créneau(x) dès le {}", ids.len(), req.date),
                    "faite",
                )?;
                Ok(see_other(&format!("/reservations/{id}?date={}", req.date), &[]))
            }
            Err(BookingError::Sql(e)) => Err(WebError::Internal(e.into())),
            Err(BookingError::UnknownResource) => Err(WebError::NotFound),
            Err(e) => {
                let WebError::BadRequest(m) = refusal(e) else {
                    return Err(WebError::Internal(anyhow::anyhow!("unexpected refusal")));
                };
                resource_page(&web, &signed, id, req.date, Some(m))
            }
        }
    })
    .await
}

/// Where to go back after acting on a booking: its resource's day.
fn back_to(conn: &Connection, booking: i64) -> rusqlite::Result<String> {
    Ok(match super::booking(conn, booking)? {
        Some(b) => format!("/reservations/{}?date={}", b.resource_id, local(b.starts).date),
        None => "/reservations".into(),
    })
}

/// Runs one change of a booking in a transaction, audited.
async fn change(
    web: AppState,
    signed: Arc<Signed>,
    booking: String,
    body: Body,
    what: &'static str,
    f: fn(&Connection, &super::Actor<'_>, i64, &Fields) -> Result<String, BookingError>,
) -> Response {
    let fields = match form(&signed, body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    blocking(move || {
        let id: i64 = booking.parse().map_err(|_| WebError::NotFound)?;
        let mut store = web.store()?;
        let back = back_to(store.conn(), id)?;
        let actor = super::Actor {
            login: &signed.actor.login,
            role: role_of(&signed),
        };
        let done = store.write(|tx| f(tx, &actor, id, &fields));
        match done {
            Ok(outcome) => {
                audit::record(
                    &mut store,
                    &signed.actor.login,
                    &signed.peer.to_string(),
                    what,
                    &format!("réservation {id}"),
                    &outcome,
                )?;
                let to = if fields.get("suivant") == "liste" {
                    "/reservations".to_string()
                } else {
                    back
                };
                Ok(see_other(&to, &[]))
            }
            Err(BookingError::UnknownBooking | BookingError::UnknownResource) => Err(WebError::NotFound),
            Err(e) => Err(refusal(e)),
        }
    })
    .await
}

/// `POST /reservations/demandes/{id}/annuler`.
pub async fn cancel(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(booking): Path<String>,
    body: Body,
) -> Response {
    change(
        web,
        signed,
        booking,
        body,
        "annulation d'une réservation",
        |tx, actor, id, _| super::cancel(tx, actor, id).map(|()| "faite".into()),
    )
    .await
}

/// `POST /reservations/demandes/{id}/valider` (`decision` = accepter or
/// refuser): the resource's manager settles a request.
pub async fn settle(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(booking): Path<String>,
    body: Body,
) -> Response {
    change(
        web,
        signed,
        booking,
        body,
        "validation d'une réservation",
        |tx, actor, id, f| {
            let approve = match f.get("decision") {
                "accepter" => true,
                "refuser" => false,
                _ => return Err(BookingError::Refused("choisissez Accepter ou Refuser")),
            };
            super::settle(tx, actor, id, approve)
                .map(|()| if approve { "acceptée" } else { "refusée" }.into())
        },
    )
    .await
}

/// `POST /reservations/demandes/{id}/echanger` (`avec` = the other
/// booking): both exchanged at once.
pub async fn swap(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    Path(booking): Path<String>,
    body: Body,
) -> Response {
    change(
        web,
        signed,
        booking,
        body,
        "échange de réservations",
        |tx, actor, id, f| {
            let other: i64 = f
                .get("avec")
                .trim()
                .parse()
                .map_err(|_| BookingError::Refused("choisissez la réservation à échanger"))?;
            super::swap(tx, actor, id, other).map(|()| format!("avec la réservation {other}"))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(s: &str) -> Fields {
        forms::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn private_tokens_have_the_shape_of_new_tokens() {
        assert!(token_shape(&crate::web::session::new_token()));
        for bad in [
            "",
            "short",
            "../../etc/passwd-xxxxxxxxxxxxxxxx",
            &"a".repeat(101),
            "abc def ghi jkl mno pqr",
        ] {
            assert!(!token_shape(bad), "{bad}");
        }
    }

    #[test]
    fn the_booking_form_is_checked_in_french() {
        let ok = parse_slot(&fields(
            "date=2026-09-07&debut=08:00&fin=09:00&quantite=3&jusqu_au=2026-09-21",
        ))
        .unwrap();
        assert_eq!(ok.hours, Some((Time::hm(8, 0), Time::hm(9, 0))));
        assert_eq!(ok.quantity, 3);
        assert_eq!(weekly(ok.date, ok.until).len(), 3);
        let lesson = parse_slot(&fields("date=2026-09-07&cours=12")).unwrap();
        assert_eq!(
            (lesson.lesson, lesson.hours, lesson.quantity),
            (Some(12), None, 1)
        );
        for (bad, says) in [
            ("date=2026-13-01&debut=08:00&fin=09:00", "date est invalide"),
            ("date=2026-09-07&debut=09:00&fin=08:00", "après l'heure de début"),
            ("date=2026-09-07&debut=25:00&fin=26:00", "début est invalide"),
            ("date=2026-09-07&debut=08:00&fin=09:00&quantite=0", "quantité"),
            ("date=2026-09-07&debut=08:00&fin=09:00&quantite=x", "quantité"),
            (
                "date=2026-09-07&debut=08:00&fin=09:00&jusqu_au=2026-09-01",
                "finir après",
            ),
            (
                "date=2026-09-07&debut=08:00&fin=09:00&jusqu_au=2028-09-01",
                "au plus un an",
            ),
            ("date=2026-09-07&cours=abc", "cours choisi"),
        ] {
            let e = parse_slot(&fields(bad)).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        let long = format!("date=2026-09-07&debut=08:00&fin=09:00&note={}", "x".repeat(201));
        assert!(parse_slot(&fields(&long)).unwrap_err().contains("200"));
    }

    #[test]
    fn the_resource_form_is_checked_in_french() {
        let r = parse_resource(&fields(
            "nom=Chariot+1&type=equipment&quantite=16&responsable=doc.cdi&enseignants=1",
        ))
        .unwrap();
        assert_eq!(
            r,
            NewResource {
                name: "Chariot 1".into(),
                kind: "equipment",
                quantity: 16,
                manager: Some("doc.cdi".into()),
                teachers_allowed: true,
            }
        );
        assert!(
            !parse_resource(&fields("nom=Salle&type=room&quantite=1"))
                .unwrap()
                .teachers_allowed
        );
        for (bad, says) in [
            ("nom=&type=room&quantite=1", "nom est obligatoire"),
            ("nom=X&type=car&quantite=1", "type"),
            ("nom=X&type=room&quantite=0", "quantité"),
            ("nom=X&type=room&quantite=501", "quantité"),
        ] {
            assert!(parse_resource(&fields(bad)).unwrap_err().contains(says), "{bad}");
        }
    }

    /// Every reason the booking domain gives in French has its English.
    #[test]
    fn every_refusal_reason_has_its_english() {
        let sources = [include_str!("mod.rs"), include_str!("web.rs")];
        let mut seen = 0;
        for src in sources {
            for marker in ["Refused(", "Err(\""] {
                for (i, _) in src.match_indices(marker) {
                    let rest = src[i + marker.len()..].trim_start();
                    let Some(rest) = rest.strip_prefix('"').or(marker.ends_with('"').then_some(rest)) else {
                        continue;
                    };
                    let text = &rest[..rest.find('"').unwrap()];
                    if text.starts_with(char::is_lowercase) {
                        seen += 1;
                        assert!(
                            REASONS_EN.iter().any(|(fr, _)| *fr == text),
                            "no English for {text:?}"
                        );
                    }
                }
            }
        }
        assert!(seen >= 8, "{seen}");
        for (fr, en) in REASONS_EN {
            assert_ne!(fr, en);
        }
    }

    #[test]
    fn local_times_round_trip() {
        let d = Date::parse("2026-10-25").unwrap();
        for (h, m) in [(0, 0), (8, 30), (23, 59)] {
            let t = unix_of(d, Time::hm(h, m));
            assert_eq!(
                local(t),
                DateTime {
                    date: d,
                    time: Time::hm(h, m)
                }
            );
        }
    }
}

//! iCalendar feeds (RFC 5545) of a person's lessons, so that a phone's
//! calendar can subscribe: `GET /vie-scolaire/agenda/{token}.ics`, where
//! the token is private to the person (only its SHA-256 is stored) and
//! can be regenerated or revoked at `/vie-scolaire/agenda`.
//!
//! Rendering ([`render`]) is pure: CRLF line ends, lines folded at 75
//! octets (never inside a UTF-8 character), TEXT values escaped, a
//! DTSTAMP and a stable UID on every event, local times with
//! `TZID=Europe/Paris` and its VTIMEZONE. A cancelled lesson stays in the
//! feed with `STATUS:CANCELLED`.

use super::super::calendar::{Date, DateTime};
use super::super::queries::schedule;
use super::access::{self, blocking, form, me};
use super::timetable::change_label;
use crate::directory;
use crate::web::authz::Role;
use crate::web::errors::WebError;
use crate::web::forms::Path;
use crate::web::pages::{self, Page};
use crate::web::{AppState, Signed, audit, session};
use askama::Template;
use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;
use std::sync::Arc;

/// The time zone of the feeds' local times.
pub const TZID: &str = "Europe/Paris";

/// Europe/Paris since 1996: UTC+1, UTC+2 from the last Sunday of March
/// 01:00 UTC to the last Sunday of October 01:00 UTC.
const VTIMEZONE: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

/// The last Sunday of a month (pure).
fn last_sunday(year: i32, month: u32) -> Date {
    let first_next = if month == 12 {
        Date::ymd(year + 1, 1, 1)
    } else {
        Date::ymd(year, month + 1, 1)
    }
    .expect("a valid date");
    let last = first_next.add_days(-1);
    last.add_days(-(i32::from(last.weekday()) % 7))
}

/// The offset of Paris local time from UTC, in minutes, at a local
/// moment (pure; the missing hour of March counts as summer time, the
/// repeated hour of October as winter time).
pub fn paris_offset_minutes(t: DateTime) -> i32 {
    let (y, _, _) = t.date.parts();
    let spring = DateTime {
        date: last_sunday(y, 3),
        time: super::super::calendar::Time::hm(2, 0),
    };
    let autumn = DateTime {
        date: last_sunday(y, 10),
        time: super::super::calendar::Time::hm(2, 0),
    };
    if t >= spring && t < autumn { 120 } else { 60 }
}

/// Minutes from the Unix epoch of a Paris local moment (pure).
pub fn paris_to_unix_minutes(t: DateTime) -> i64 {
    let epoch = Date::ymd(1970, 1, 1).expect("epoch");
    i64::from(epoch.days_until(t.date)) * 1440 + i64::from(t.time.minutes())
        - i64::from(paris_offset_minutes(t))
}

/// One event of a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Stable across renderings (a subscriber updates the event).
    pub uid: String,
    pub date: Date,
    pub starts: super::super::calendar::Time,
    pub ends: super::super::calendar::Time,
    pub summary: String,
    pub location: String,
    pub description: String,
    pub cancelled: bool,
}

/// Escapes a TEXT value (RFC 5545 3.3.11).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line at 75 octets (RFC 5545 3.1), never splitting a
/// UTF-8 character; each continuation starts with a space. Ends in CRLF.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
    out
}

fn local(d: Date, t: super::super::calendar::Time) -> String {
    let (y, m, day) = d.parts();
    format!(
        "{y:04}{m:02}{day:02}T{:02}{:02}00",
        t.minutes() / 60,
        t.minutes() % 60
    )
}

/// A UTC stamp `YYYYMMDDTHHMMSSZ` of a Unix time.
pub fn utc_stamp(unix: i64) -> String {
    let t = DateTime::from_unix(unix, 0);
    let (y, m, d) = t.date.parts();
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        t.time.minutes() / 60,
        t.time.minutes() % 60,
        unix.rem_euclid(60)
    )
}

/// Renders a calendar (pure). `stamp` is the DTSTAMP (UTC).
pub fn render(name: &str, events: &[Event], stamp: &str) -> String {
    let mut out = String::new();
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Préau//Vie scolaire//FR",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        out.push_str(&fold(l));
    }
    out.push_str(&fold(&format!("X-WR-CALNAME:{}", escape(name))));
    out.push_str(&fold(&format!("X-WR-TIMEZONE:{TZID}")));
    out.push_str(VTIMEZONE);
    for e in events {
        out.push_str("BEGIN:VEVENT\r\n");
        out.push_str(&fold(&format!("UID:{}", escape(&e.uid))));
        out.push_str(&fold(&format!("DTSTAMP:{stamp}")));
        out.push_str(&fold(&format!("DTSTART;TZID={TZID}:{}", local(e.date, e.starts))));
        out.push_str(&fold(&format!("DTEND;TZID={TZID}:{}", local(e.date, e.ends))));
        out.push_str(&fold(&format!("SUMMARY:{}", escape(&e.summary))));
        if !e.location.is_empty() {
            out.push_str(&fold(&format!("LOCATION:{}", escape(&e.location))));
        }
        if !e.description.is_empty() {
            out.push_str(&fold(&format!("DESCRIPTION:{}", escape(&e.description))));
        }
        let _ = write!(
            out,
            "STATUS:{}\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\n",
            if e.cancelled { "CANCELLED" } else { "CONFIRMED" }
        );
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// Days before and after today a feed covers.
pub const FEED_PAST_DAYS: i32 = 14;
pub const FEED_FUTURE_DAYS: i32 = 84;

/// The events of a person's feed: a teacher's lessons, a student's, a
/// parent's children's (their first name before each lesson).
pub fn events_of(
    conn: &rusqlite::Connection,
    person: i64,
    today: Date,
    host: &str,
) -> Result<(String, Vec<Event>), WebError> {
    let p = directory::person_by_id(conn, person)?.ok_or(WebError::NotFound)?;
    let names = schedule::names(conn)?;
    let (from, to) = (today.add_days(-FEED_PAST_DAYS), today.add_days(FEED_FUTURE_DAYS));
    let mut whose: Vec<(schedule::Whose, String, i64)> = Vec::new();
    match Role::of_person(p.kind, p.function.as_deref()) {
        Role::Teacher => whose.push((schedule::Whose::Teacher(p.id), String::new(), p.id)),
        Role::Student => whose.push((
            schedule::Whose::Structures(schedule::memberships(conn, p.id)?),
            String::new(),
            p.id,
        )),
        Role::Parent => {
            let mut stmt = conn.prepare(
                "SELECT c.id, c.first_name FROM parent_links l JOIN people c ON c.id = l.child_id
                 WHERE l.parent_id = ?1 AND l.legal > 0 AND c.status = 'active' ORDER BY c.first_name",
            )?;
            let kids: Vec<(i64, String)> = stmt
                .query_map([p.id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (id, first) in kids {
                whose.push((
                    schedule::Whose::Structures(schedule::memberships(conn, id)?),
                    format!("{first} : "),
                    id,
                ));
            }
        }
        _ => {}
    }
    let mut events = Vec::new();
    for (w, prefix, who) in whose {
        for l in schedule::lessons_of(conn, &w, from, to)? {
            let mut description: Vec<String> =
                vec![format!("Enseignant : {}", names.person(l.service.teacher_id))];
            description.extend(l.changes.iter().map(|c| change_label(c, &names)));
            events.push(Event {
                uid: format!("{}-{who}@{host}", schedule::key_of(&l)),
                date: l.date,
                starts: l.starts,
                ends: l.ends,
                summary: format!(
                    "{prefix}{} — {}",
                    names.subject(&l.service.subject_code),
                    names.structure(l.service.structure_id)
                ),
                location: if l.room.is_empty() {
                    String::new()
                } else {
                    format!("Salle {}", l.room)
                },
                description: description.join("\n"),
                cancelled: !l.takes_place,
            });
        }
    }
    Ok((format!("Emploi du temps de {}", p.full_name()), events))
}

/// `GET /vie-scolaire/agenda/{token}.ics` (public: the token is the
/// credential; an unknown or revoked one is a 404).
pub async fn feed(State(web): State<AppState>, Path(file): Path<String>) -> Response {
    blocking(move || {
        let token = file.strip_suffix(".ics").ok_or(WebError::NotFound)?;
        if token.len() < 20 || token.len() > 100 {
            return Err(WebError::NotFound);
        }
        let store = web.store()?;
        let conn = store.conn();
        let person = schedule::person_of_calendar_token(conn, &session::token_hash(token))?
            .ok_or(WebError::NotFound)?;
        let config = web.config();
        let host = format!(
            "{}.{}",
            config.establishment.hostname, config.establishment.domain
        );
        let (name, events) = events_of(conn, person, access::now().date, &host)?;
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let body = render(&name, &events, &utc_stamp(unix));
        let mut r = (StatusCode::OK, body).into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/calendar; charset=utf-8"),
        );
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=900"),
        );
        Ok(r)
    })
    .await
}

#[derive(Template)]
#[template(path = "viescolaire/agenda.html")]
pub struct AgendaPage<'a> {
    pub page: &'a Page,
    /// When the current link was made.
    pub made: Option<String>,
    /// The new link, shown once right after it is made.
    pub url: Option<String>,
    pub notice: Option<String>,
}

fn agenda_page(
    web: &AppState,
    signed: &Signed,
    url: Option<String>,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let me = me(signed)?;
    let store = web.store()?;
    let made = schedule::calendar_token_made(store.conn(), me)?;
    let config = web.config();
    let chrome = Page::signed(
        crate::web::i18n::either("Agenda du téléphone", "Phone calendar"),
        &config.establishment.name,
        signed,
        "/vie-scolaire/emploi-du-temps",
    );
    Ok(pages::render(&AgendaPage {
        page: &chrome,
        made,
        url,
        notice,
    }))
}

/// `GET /vie-scolaire/agenda`: one's calendar link.
pub async fn link(State(web): State<AppState>, Extension(signed): Extension<Arc<Signed>>) -> Response {
    blocking(move || agenda_page(&web, &signed, None, None)).await
}

/// `POST /vie-scolaire/agenda`: `action=nouveau` makes a new link (the
/// old one stops working), `action=revoquer` revokes it.
pub async fn link_submit(
    State(web): State<AppState>,
    Extension(signed): Extension<Arc<Signed>>,
    req_headers: axum::http::HeaderMap,
    body: Body,
) -> Response {
    let fields = match form(&signed, body).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let host = req_headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.len() < 256 && !h.contains(['/', ' ', '@']))
        .map(str::to_string);
    blocking(move || {
        let me = me(&signed)?;
        let at = access::now().stamp();
        let mut store = web.store()?;
        match fields.get("action") {
            "nouveau" => {
                let token = session::new_token();
                store.write(|tx| schedule::set_calendar_token(tx, me, &session::token_hash(&token), &at))?;
                audit::record(
                    &mut store,
                    &signed.actor.login,
                    &signed.peer.to_string(),
                    "lien d'agenda",
                    &signed.actor.login,
                    "nouveau lien",
                )?;
                let config = web.config();
                let host = host.unwrap_or_else(|| {
                    format!(
                        "{}.{}",
                        config.establishment.hostname, config.establishment.domain
                    )
                });
                drop(store);
                agenda_page(
                    &web,
                    &signed,
                    Some(format!("https://{host}/vie-scolaire/agenda/{token}.ics")),
                    Some("Nouveau lien créé : l'ancien ne fonctionne plus.".into()),
                )
            }
            "revoquer" => {
                let had = store.write(|tx| schedule::revoke_calendar_token(tx, me))?;
                audit::record(
                    &mut store,
                    &signed.actor.login,
                    &signed.peer.to_string(),
                    "lien d'agenda",
                    &signed.actor.login,
                    "lien révoqué",
                )?;
                drop(store);
                agenda_page(
                    &web,
                    &signed,
                    None,
                    Some(
                        if had {
                            "Lien révoqué : l'agenda n'est plus accessible."
                        } else {
                            "Aucun lien à révoquer."
                        }
                        .into(),
                    ),
                )
            }
            _ => Err(WebError::BadRequest(
                "Choisissez « nouveau lien » ou « révoquer ».".into(),
            )),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::super::super::calendar::Time;
    use super::*;

    fn dt(s: &str) -> DateTime {
        DateTime::parse(s).unwrap()
    }

    #[test]
    fn text_is_escaped_and_lines_folded_at_75_octets() {
        assert_eq!(escape("a,b;c\\d\ne\r"), "a\\,b\\;c\\\\d\\ne");
        let long = format!("SUMMARY:{}", "é".repeat(60));
        let folded = fold(&long);
        assert!(folded.ends_with("\r\n"));
        for line in folded.trim_end_matches("\r\n").split("\r\n") {
            assert!(line.len() <= 75, "{} octets", line.len());
        }
        let unfolded: String = folded.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, long);
        assert_eq!(fold("SHORT"), "SHORT\r\n");
        assert_eq!(fold(&"a".repeat(75)), format!("{}\r\n", "a".repeat(75)));
        assert_eq!(fold(&"a".repeat(76)), format!("{}\r\n a\r\n", "a".repeat(75)));
    }

    #[test]
    fn a_calendar_has_crlf_stamps_uids_and_the_time_zone() {
        let e = Event {
            uid: "12-2026-12-01-5@preau.tilleuls.lan".into(),
            date: Date::parse("2026-12-01").unwrap(),
            starts: Time::hm(8, 0),
            ends: Time::hm(8, 55),
            summary: "Mathématiques — 6A, groupe; 1".into(),
            location: "Salle B12".into(),
            description: "Enseignant : M. Dupont\nannulé".into(),
            cancelled: true,
        };
        let ics = render("Emploi du temps", &[e], "20261201T070000Z");
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(!ics.replace("\r\n", "").contains('\n'), "bare LF");
        assert!(ics.contains("DTSTART;TZID=Europe/Paris:20261201T080000\r\n"));
        assert!(ics.contains("DTSTAMP:20261201T070000Z\r\n"));
        assert!(ics.contains("UID:12-2026-12-01-5@preau.tilleuls.lan\r\n"));
        assert!(ics.contains("SUMMARY:Mathématiques — 6A\\, groupe\\; 1\r\n"));
        assert!(ics.contains("DESCRIPTION:Enseignant : M. Dupont\\nannulé\r\n"));
        assert!(ics.contains("STATUS:CANCELLED\r\n"));
        assert!(ics.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\n"));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{line}");
        }
    }

    #[test]
    fn paris_offsets_follow_summer_time() {
        assert_eq!(last_sunday(2027, 3), Date::parse("2027-03-28").unwrap());
        assert_eq!(last_sunday(2026, 10), Date::parse("2026-10-25").unwrap());
        assert_eq!(last_sunday(2026, 12), Date::parse("2026-12-27").unwrap());
        assert_eq!(paris_offset_minutes(dt("2026-12-01T08:00")), 60);
        assert_eq!(paris_offset_minutes(dt("2027-03-28T01:59")), 60);
        assert_eq!(paris_offset_minutes(dt("2027-03-28T03:00")), 120);
        assert_eq!(paris_offset_minutes(dt("2026-10-25T01:00")), 120);
        assert_eq!(paris_offset_minutes(dt("2026-10-25T03:00")), 60);
        // 2026-12-01 08:00 in Paris is 07:00 UTC.
        assert_eq!(paris_to_unix_minutes(dt("2026-12-01T08:00")) * 60, 1_796_108_400);
        assert_eq!(utc_stamp(1_796_108_400), "20261201T070000Z");
    }
}

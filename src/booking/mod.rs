//! Resource booking: rooms and equipment with a quantity, bookings over
//! `[starts, ends)` (Unix seconds), optional approval by the resource's
//! named manager, recurring bookings, cancellation, an iCalendar feed per
//! resource and the day's sheet.
//!
//! Conflicts are refused atomically: a booking is written in one
//! IMMEDIATE transaction that first sums the units already held
//! (pending or confirmed) by overlapping bookings, so two people booking
//! the last unit at once never both get it. Who may do what is the pure
//! function [`decide`], to be folded into the web platform's
//! `authz::decide` when it lands.

pub mod demo;
pub mod settings;
pub mod stats;
pub mod web;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// A bookable resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    pub id: i64,
    pub name: String,
    /// "room" or "equipment".
    pub kind: String,
    pub quantity: i64,
    /// Login of the person who approves requests; None: booked at once.
    pub manager: Option<String>,
    pub teachers_allowed: bool,
}

/// One booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Booking {
    pub id: i64,
    pub resource_id: i64,
    pub login: String,
    pub starts: i64,
    pub ends: i64,
    pub quantity: i64,
    pub status: String,
    pub series: Option<String>,
    pub note: String,
}

/// The person acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor<'a> {
    pub login: &'a str,
    /// One of the roles of `sso::settings::ROLES`.
    pub role: &'a str,
}

/// What the actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    Book {
        resource: &'a Resource,
    },
    /// Approve or refuse a pending booking of `resource`.
    Decide {
        resource: &'a Resource,
    },
    Cancel {
        resource: &'a Resource,
        booking: &'a Booking,
    },
}

/// Allowed, or refused with a reason for the audit log and the person.
pub type Decision = Result<(), &'static str>;

/// Who may do what with bookings.
pub fn decide(actor: &Actor<'_>, action: &Action<'_>) -> Decision {
    let admin = actor.role == "admin";
    match action {
        Action::Book { resource } => match actor.role {
            "student" | "parent" => Err("les élèves et les responsables ne réservent pas"),
            "teacher" if !resource.teachers_allowed && resource.manager.as_deref() != Some(actor.login) => {
                Err("cette ressource n'est pas ouverte aux enseignants")
            }
            _ => Ok(()),
        },
        Action::Decide { resource } => {
            if admin || resource.manager.as_deref() == Some(actor.login) {
                Ok(())
            } else {
                Err("seul le responsable de la ressource valide ses réservations")
            }
        }
        Action::Cancel { resource, booking } => {
            if admin || booking.login == actor.login || resource.manager.as_deref() == Some(actor.login) {
                Ok(())
            } else {
                Err("seul l'auteur ou le responsable annule une réservation")
            }
        }
    }
}

/// Why a booking was not made.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    #[error("{0}")]
    Refused(&'static str),
    #[error("la ressource n'existe pas")]
    UnknownResource,
    #[error("la réservation n'existe pas")]
    UnknownBooking,
    #[error("la fin doit être après le début")]
    BadSlot,
    #[error("quantité demandée {asked}, la ressource en a {total}")]
    TooMany { asked: i64, total: i64 },
    #[error("créneau déjà pris : {free} disponible(s) sur {total} le {at}")]
    Conflict { free: i64, total: i64, at: i64 },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
}

fn resource_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<Resource> {
    Ok(Resource {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: r.get(2)?,
        quantity: r.get(3)?,
        manager: r.get(4)?,
        teachers_allowed: r.get(5)?,
    })
}

const RESOURCE_COLS: &str = "id, name, kind, quantity, manager, teachers_allowed";
const BOOKING_COLS: &str = "id, resource_id, login, starts, ends, quantity, status, series, note";

fn booking_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<Booking> {
    Ok(Booking {
        id: r.get(0)?,
        resource_id: r.get(1)?,
        login: r.get(2)?,
        starts: r.get(3)?,
        ends: r.get(4)?,
        quantity: r.get(5)?,
        status: r.get(6)?,
        series: r.get(7)?,
        note: r.get(8)?,
    })
}

/// Adds a resource; returns its id.
pub fn add_resource(
    conn: &Connection,
    name: &str,
    kind: &str,
    quantity: i64,
    manager: Option<&str>,
    teachers_allowed: bool,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO booking_resources (name, kind, quantity, manager, teachers_allowed) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, kind, quantity, manager, teachers_allowed],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Sets (replaces) a resource's private calendar token by its SHA-256:
/// the previous link stops working.
pub fn set_calendar_token(
    tx: &rusqlite::Transaction<'_>,
    resource_id: i64,
    sha256: &str,
    at: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO booking_calendar_tokens (resource_id, token_sha256, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (resource_id) DO UPDATE SET token_sha256 = excluded.token_sha256, created_at = excluded.created_at",
        params![resource_id, sha256, at],
    )?;
    Ok(())
}

/// When a resource's current calendar token was made, if any.
pub fn calendar_token_made(conn: &Connection, resource_id: i64) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT created_at FROM booking_calendar_tokens WHERE resource_id = ?1",
        [resource_id],
        |r| r.get(0),
    )
    .optional()
}

/// The resource a calendar token's SHA-256 belongs to.
pub fn resource_of_calendar_token(conn: &Connection, sha256: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT resource_id FROM booking_calendar_tokens WHERE token_sha256 = ?1",
        [sha256],
        |r| r.get(0),
    )
    .optional()
}

pub fn resource(conn: &Connection, id: i64) -> rusqlite::Result<Option<Resource>> {
    conn.query_row(
        &format!("SELECT {RESOURCE_COLS} FROM booking_resources WHERE id = ?1 AND active = 1"),
        [id],
        resource_from,
    )
    .optional()
}

pub fn booking(conn: &Connection, id: i64) -> rusqlite::Result<Option<Booking>> {
    conn.query_row(
        &format!("SELECT {BOOKING_COLS} FROM bookings WHERE id = ?1"),
        [id],
        booking_from,
    )
    .optional()
}

/// Units of `resource_id` held over `[starts, ends)` by pending and
/// confirmed bookings (the most at any instant is bounded by this sum).
pub fn units_held(conn: &Connection, resource_id: i64, starts: i64, ends: i64) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT coalesce(sum(quantity), 0) FROM bookings
         WHERE resource_id = ?1 AND status IN ('pending', 'confirmed') AND starts < ?3 AND ends > ?2",
        params![resource_id, starts, ends],
        |r| r.get(0),
    )
}

/// A booking request: one slot, or `weeks` weekly occurrences of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    pub resource_id: i64,
    pub starts: i64,
    pub ends: i64,
    pub quantity: i64,
    /// 1 for a single booking; n: the same slot n weeks in a row.
    pub weeks: u32,
    pub note: &'a str,
}

/// Books, inside the caller's IMMEDIATE transaction ([`crate::store::Store::write`]):
/// every occurrence or none. Returns the new bookings' ids.
pub fn book(
    conn: &Connection,
    actor: &Actor<'_>,
    req: &Request<'_>,
    now: i64,
) -> Result<Vec<i64>, BookingError> {
    let resource = resource(conn, req.resource_id)?.ok_or(BookingError::UnknownResource)?;
    decide(actor, &Action::Book { resource: &resource }).map_err(BookingError::Refused)?;
    if req.ends <= req.starts || req.weeks == 0 || req.weeks > 60 {
        return Err(BookingError::BadSlot);
    }
    if req.quantity < 1 || req.quantity > resource.quantity {
        return Err(BookingError::TooMany {
            asked: req.quantity,
            total: resource.quantity,
        });
    }
    let status = if resource.manager.is_some() && resource.manager.as_deref() != Some(actor.login) {
        "pending"
    } else {
        "confirmed"
    };
    let series = (req.weeks > 1).then(crate::sso::random_token);
    let mut ids = Vec::new();
    for week in 0..i64::from(req.weeks) {
        // Weekly by the calendar clock would shift at daylight-saving
        // changes; callers give local slots, the web layer converts each.
        let (s, e) = (req.starts + week * 7 * 86400, req.ends + week * 7 * 86400);
        let held = units_held(conn, resource.id, s, e)?;
        if held + req.quantity > resource.quantity {
            return Err(BookingError::Conflict {
                free: (resource.quantity - held).max(0),
                total: resource.quantity,
                at: s,
            });
        }
        conn.execute(
            "INSERT INTO bookings (resource_id, login, starts, ends, quantity, status, series, note, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![resource.id, actor.login, s, e, req.quantity, status, series, req.note, now],
        )?;
        ids.push(conn.last_insert_rowid());
    }
    Ok(ids)
}

/// What a booking is for: a lesson of the timetable (its subject code and
/// class or group code), kept for the statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Purpose<'a> {
    pub subject: Option<&'a str>,
    pub structure: Option<&'a str>,
}

/// Books the given `[starts, ends)` slots of a resource (occurrences of a
/// lesson over a period, or of a weekly slot), inside the caller's
/// IMMEDIATE transaction: every slot or none; several slots share a
/// series. Returns the new bookings' ids.
#[allow(clippy::too_many_arguments)]
pub fn book_slots(
    conn: &Connection,
    actor: &Actor<'_>,
    resource_id: i64,
    slots: &[(i64, i64)],
    quantity: i64,
    note: &str,
    purpose: Purpose<'_>,
    now: i64,
) -> Result<Vec<i64>, BookingError> {
    let resource = resource(conn, resource_id)?.ok_or(BookingError::UnknownResource)?;
    decide(actor, &Action::Book { resource: &resource }).map_err(BookingError::Refused)?;
    if slots.is_empty() || slots.len() > 400 || slots.iter().any(|(s, e)| e <= s) {
        return Err(BookingError::BadSlot);
    }
    if quantity < 1 || quantity > resource.quantity {
        return Err(BookingError::TooMany {
            asked: quantity,
            total: resource.quantity,
        });
    }
    let status = if resource.manager.is_some() && resource.manager.as_deref() != Some(actor.login) {
        "pending"
    } else {
        "confirmed"
    };
    let series = (slots.len() > 1).then(crate::sso::random_token);
    let mut ids = Vec::new();
    for &(s, e) in slots {
        let held = units_held(conn, resource.id, s, e)?;
        if held + quantity > resource.quantity {
            return Err(BookingError::Conflict {
                free: (resource.quantity - held).max(0),
                total: resource.quantity,
                at: s,
            });
        }
        conn.execute(
            "INSERT INTO bookings (resource_id, login, starts, ends, quantity, status, series, note, created_at, subject, structure)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                resource.id,
                actor.login,
                s,
                e,
                quantity,
                status,
                series,
                note,
                now,
                purpose.subject,
                purpose.structure
            ],
        )?;
        ids.push(conn.last_insert_rowid());
    }
    Ok(ids)
}

/// Exchanges two bookings of the same resource between their authors
/// (each gets the other's slot), in the caller's transaction: both or
/// neither. The actor must be allowed to change both (author, manager
/// or admin); both must hold the same number of units, so that no slot
/// holds more than the resource has.
pub fn swap(conn: &Connection, actor: &Actor<'_>, a: i64, b: i64) -> Result<(), BookingError> {
    if a == b {
        return Err(BookingError::Refused("choisissez deux réservations différentes"));
    }
    let first = booking(conn, a)?.ok_or(BookingError::UnknownBooking)?;
    let second = booking(conn, b)?.ok_or(BookingError::UnknownBooking)?;
    if first.resource_id != second.resource_id {
        return Err(BookingError::Refused(
            "les deux réservations doivent porter sur la même ressource",
        ));
    }
    let resource = resource(conn, first.resource_id)?.ok_or(BookingError::UnknownResource)?;
    for bk in [&first, &second] {
        decide(
            actor,
            &Action::Cancel {
                resource: &resource,
                booking: bk,
            },
        )
        .map_err(BookingError::Refused)?;
        if !matches!(bk.status.as_str(), "pending" | "confirmed") {
            return Err(BookingError::Refused(
                "une réservation annulée ou refusée ne s'échange pas",
            ));
        }
    }
    if first.quantity != second.quantity {
        return Err(BookingError::Refused(
            "les deux réservations doivent porter sur le même nombre d'unités",
        ));
    }
    // Read both rows' purposes before either changes.
    let purpose = |id: i64| -> rusqlite::Result<(Option<String>, Option<String>)> {
        conn.query_row(
            "SELECT subject, structure FROM bookings WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    };
    let (pa, pb) = (purpose(a)?, purpose(b)?);
    for (id, owner, note, p) in [
        (a, &second.login, &second.note, &pb),
        (b, &first.login, &first.note, &pa),
    ] {
        conn.execute(
            "UPDATE bookings SET login = ?1, note = ?2, subject = ?3, structure = ?4 WHERE id = ?5",
            params![owner, note, p.0, p.1, id],
        )?;
    }
    Ok(())
}

/// The active resources, by name.
pub fn resources(conn: &Connection) -> rusqlite::Result<Vec<Resource>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {RESOURCE_COLS} FROM booking_resources WHERE active = 1 ORDER BY name"
    ))?;
    let rows = stmt.query_map([], resource_from)?;
    rows.collect()
}

/// A person's pending and confirmed bookings ending after `from`, by start.
pub fn bookings_of(conn: &Connection, login: &str, from: i64, limit: i64) -> rusqlite::Result<Vec<Booking>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {BOOKING_COLS} FROM bookings WHERE login = ?1 AND status IN ('pending', 'confirmed')
         AND ends > ?2 ORDER BY starts, id LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![login, from, limit], booking_from)?;
    rows.collect()
}

/// Pending requests the actor may settle (all of them for an admin),
/// by start.
pub fn pending_for(conn: &Connection, login: &str, admin: bool) -> rusqlite::Result<Vec<Booking>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {} FROM bookings b JOIN booking_resources r ON r.id = b.resource_id
         WHERE b.status = 'pending' AND (?2 OR r.manager = ?1) ORDER BY b.starts, b.id LIMIT 200",
        BOOKING_COLS
            .split(", ")
            .map(|c| format!("b.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))?;
    let rows = stmt.query_map(params![login, admin], booking_from)?;
    rows.collect()
}

/// Approves (`approve`) or refuses a pending booking.
pub fn settle(
    conn: &Connection,
    actor: &Actor<'_>,
    booking_id: i64,
    approve: bool,
) -> Result<(), BookingError> {
    let b = booking(conn, booking_id)?.ok_or(BookingError::UnknownResource)?;
    let resource = resource(conn, b.resource_id)?.ok_or(BookingError::UnknownResource)?;
    decide(actor, &Action::Decide { resource: &resource }).map_err(BookingError::Refused)?;
    if b.status != "pending" {
        return Err(BookingError::Refused("cette réservation n'est pas en attente"));
    }
    conn.execute(
        "UPDATE bookings SET status = ?1, decided_by = ?2 WHERE id = ?3",
        params![
            if approve { "confirmed" } else { "refused" },
            actor.login,
            booking_id
        ],
    )?;
    Ok(())
}

/// Cancels a booking (its units are free again).
pub fn cancel(conn: &Connection, actor: &Actor<'_>, booking_id: i64) -> Result<(), BookingError> {
    let b = booking(conn, booking_id)?.ok_or(BookingError::UnknownResource)?;
    let resource = resource(conn, b.resource_id)?.ok_or(BookingError::UnknownResource)?;
    decide(
        actor,
        &Action::Cancel {
            resource: &resource,
            booking: &b,
        },
    )
    .map_err(BookingError::Refused)?;
    conn.execute(
        "UPDATE bookings SET status = 'cancelled', decided_by = ?1 WHERE id = ?2 AND status IN ('pending', 'confirmed')",
        params![actor.login, booking_id],
    )?;
    Ok(())
}

/// Pending and confirmed bookings of a resource over `[from, to)`, by start.
pub fn bookings_between(
    conn: &Connection,
    resource_id: i64,
    from: i64,
    to: i64,
) -> rusqlite::Result<Vec<Booking>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {BOOKING_COLS} FROM bookings WHERE resource_id = ?1 AND status IN ('pending', 'confirmed')
         AND starts < ?3 AND ends > ?2 ORDER BY starts, id"
    ))?;
    let rows = stmt.query_map(params![resource_id, from, to], booking_from)?;
    rows.collect()
}

fn ical_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
}

fn ical_time(t: i64) -> String {
    // UTC basic format, from days since the epoch (civil calendar).
    let (days, secs) = (t.div_euclid(86400), t.rem_euclid(86400));
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The iCalendar feed (RFC 5545) of a resource's bookings; `host` makes
/// the UIDs globally unique.
pub fn ical(resource: &Resource, bookings: &[Booking], host: &str, now: i64) -> String {
    let mut out = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Preau//Reservations//FR\r\nCALSCALE:GREGORIAN\r\n",
    );
    out.push_str(&format!("X-WR-CALNAME:{}\r\n", ical_escape(&resource.name)));
    for b in bookings {
        out.push_str("BEGIN:VEVENT\r\n");
        out.push_str(&format!("UID:booking-{}@{}\r\n", b.id, ical_escape(host)));
        out.push_str(&format!("DTSTAMP:{}\r\n", ical_time(now)));
        out.push_str(&format!(
            "DTSTART:{}\r\nDTEND:{}\r\n",
            ical_time(b.starts),
            ical_time(b.ends)
        ));
        let mut summary = format!("{} — {}", resource.name, b.login);
        if b.quantity > 1 || resource.quantity > 1 {
            summary.push_str(&format!(" ({}/{})", b.quantity, resource.quantity));
        }
        out.push_str(&format!("SUMMARY:{}\r\n", ical_escape(&summary)));
        if !b.note.is_empty() {
            out.push_str(&format!("DESCRIPTION:{}\r\n", ical_escape(&b.note)));
        }
        out.push_str(if b.status == "pending" {
            "STATUS:TENTATIVE\r\n"
        } else {
            "STATUS:CONFIRMED\r\n"
        });
        out.push_str("END:VEVENT\r\n");
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

#[cfg(test)]
pub(crate) mod tests;

//! The demo school's resources (`preau demo`): a laptop cart, tablets
//! approved by the head of the establishment, a multipurpose room; the
//! cart booked for the week's first lessons, from the timetable.

use super::{Actor, Purpose};
use crate::modules::viescolaire::calendar::DateTime;
use crate::modules::viescolaire::queries;
use crate::store::Store;

/// Adds the demo resources and bookings once; returns how many bookings.
pub fn fill(store: &mut Store, now: DateTime) -> anyhow::Result<usize> {
    if !super::resources(store.conn())?.is_empty() {
        return Ok(0);
    }
    let conn = store.conn();
    let director: Option<String> = conn
        .query_row(
            "SELECT login FROM people WHERE kind = 'staff' AND function = 'DIR' AND status = 'active' ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .ok();
    let monday = now.date.monday();
    let mut lessons = Vec::new();
    if let Some(year) = queries::current_year(conn, now.date)? {
        lessons = queries::lessons(conn, &year, monday, monday.add_days(4))?;
    }
    let mut plan = Vec::new();
    for l in lessons.iter().filter(|l| l.takes_place).take(6) {
        let (login, structure): (String, String) = conn.query_row(
            "SELECT (SELECT login FROM people WHERE id = ?1), (SELECT code FROM structures WHERE id = ?2)",
            [l.service.teacher_id, l.service.structure_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        plan.push((
            login,
            l.service.subject_code.clone(),
            structure,
            super::web::unix_of(l.date, l.starts),
            super::web::unix_of(l.date, l.ends),
        ));
    }
    let stamp = crate::sso::now();
    let made = store.write(|tx| -> anyhow::Result<usize> {
        let cart = super::add_resource(tx, "Chariot d'ordinateurs portables", "equipment", 16, None, true)?;
        super::add_resource(tx, "Tablettes", "equipment", 12, director.as_deref(), true)?;
        super::add_resource(tx, "Salle polyvalente", "room", 1, None, true)?;
        let mut made = 0;
        for (login, subject, structure, s, e) in &plan {
            let actor = Actor {
                login,
                role: "teacher",
            };
            let purpose = Purpose {
                subject: Some(subject),
                structure: Some(structure),
            };
            // Two lessons at once may want the cart: the first keeps it.
            if super::book_slots(tx, &actor, cart, &[(*s, *e)], 8, "", purpose, stamp).is_ok() {
                made += 1;
            }
        }
        Ok(made)
    })?;
    Ok(made)
}

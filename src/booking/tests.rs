use super::*;

fn cart(manager: Option<&str>, teachers: bool) -> Resource {
    Resource {
        id: 1,
        name: "Chariot de portables".into(),
        kind: "equipment".into(),
        quantity: 16,
        manager: manager.map(Into::into),
        teachers_allowed: teachers,
    }
}

fn a<'a>(login: &'a str, role: &'a str) -> Actor<'a> {
    Actor { login, role }
}

#[test]
fn access_rules_table() {
    let open = cart(Some("doc.cdi"), true);
    let closed = cart(Some("doc.cdi"), false);
    let someone_elses = cart(Some("autre"), true);
    let unmanaged = cart(None, true);
    let mine = Booking {
        id: 9,
        resource_id: 1,
        login: "paul.roux".into(),
        starts: 0,
        ends: 1,
        quantity: 1,
        status: "confirmed".into(),
        series: None,
        note: String::new(),
    };
    let book = |r| Action::Book { resource: r };
    let approve = |r| Action::Decide { resource: r };
    let cancel = |r| Action::Cancel {
        resource: r,
        booking: &mine,
    };
    #[rustfmt::skip]
    let table: Vec<(Actor<'_>, Action<'_>, bool)> = vec![
        (a("lea.martin", "student"), book(&open), false),
        (a("anne.martin", "parent"), book(&open), false),
        (a("paul.roux", "teacher"), book(&open), true),
        (a("paul.roux", "teacher"), book(&closed), false),
        (a("cpe", "cpe"), book(&closed), true),
        (a("dir", "direction"), book(&closed), true),
        (a("admin", "admin"), book(&closed), true),
        (a("doc.cdi", "staff"), approve(&open), true),
        (a("autre", "staff"), approve(&open), false),
        (a("paul.roux", "teacher"), approve(&open), false),
        (a("dir", "direction"), approve(&open), false),
        (a("admin", "admin"), approve(&open), true),
        (a("doc.cdi", "staff"), approve(&someone_elses), false),
        (a("doc.cdi", "staff"), approve(&unmanaged), false),
        (a("paul.roux", "teacher"), cancel(&open), true),
        (a("marc.dupont", "teacher"), cancel(&open), false),
        (a("doc.cdi", "staff"), cancel(&open), true),
        (a("lea.martin", "student"), cancel(&open), false),
    ];
    for (actor, action, allowed) in table {
        assert_eq!(decide(&actor, &action).is_ok(), allowed, "{actor:?} {action:?}");
    }
}

pub(crate) fn store() -> (tempfile::TempDir, crate::store::Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::Store::open(&dir.path().join("preau.db")).unwrap();
    (dir, store)
}

fn req(resource_id: i64, starts: i64, ends: i64, quantity: i64, weeks: u32) -> Request<'static> {
    Request {
        resource_id,
        starts,
        ends,
        quantity,
        weeks,
        note: "",
    }
}

const H: i64 = 3600;
// Monday 2026-09-07 08:00 UTC.
const MON: i64 = 1_788_739_200 + 8 * H;

#[test]
fn quantity_conflicts_recurrence_and_cancel() {
    let (_d, mut store) = store();
    let teacher = a("paul.roux", "teacher");
    let other = a("marc.dupont", "teacher");
    let id = store
        .write(|tx| add_resource(tx, "Chariot", "equipment", 16, None, true))
        .unwrap();
    let book_as = |store: &mut crate::store::Store, who: &Actor<'_>, r: Request<'_>| {
        store.write(|tx| book(tx, who, &r, 0))
    };
    let first = book_as(&mut store, &teacher, req(id, MON, MON + H, 10, 1)).unwrap();
    // 6 left: 7 is refused, 6 fits; touching slots do not overlap.
    assert!(matches!(
        book_as(&mut store, &other, req(id, MON + H / 2, MON + 2 * H, 7, 1)),
        Err(BookingError::Conflict {
            free: 6,
            total: 16,
            ..
        })
    ));
    book_as(&mut store, &other, req(id, MON + H / 2, MON + 2 * H, 6, 1)).unwrap();
    book_as(&mut store, &other, req(id, MON + H, MON + 2 * H, 11, 1)).unwrap_err();
    book_as(&mut store, &other, req(id, MON - H, MON, 16, 1)).unwrap();
    assert!(matches!(
        book_as(&mut store, &other, req(id, MON, MON + H, 17, 1)),
        Err(BookingError::TooMany { .. })
    ));
    assert!(matches!(
        book_as(&mut store, &other, req(id, MON, MON, 1, 1)),
        Err(BookingError::BadSlot)
    ));
    // A recurring booking is all or nothing: week 3 collides.
    book_as(
        &mut store,
        &teacher,
        req(id, MON + 14 * 86400 + 5 * H, MON + 14 * 86400 + 6 * H, 16, 1),
    )
    .unwrap();
    let before = store
        .conn()
        .query_row("SELECT count(*) FROM bookings", [], |r| r.get::<_, i64>(0))
        .unwrap();
    assert!(book_as(&mut store, &other, req(id, MON + 5 * H, MON + 6 * H, 1, 4)).is_err());
    let after = store
        .conn()
        .query_row("SELECT count(*) FROM bookings", [], |r| r.get::<_, i64>(0))
        .unwrap();
    assert_eq!(before, after, "nothing stored");
    let weekly = book_as(&mut store, &other, req(id, MON + 3 * H, MON + 4 * H, 1, 4)).unwrap();
    assert_eq!(weekly.len(), 4);
    let all = bookings_between(store.conn(), id, MON, MON + 28 * 86400).unwrap();
    assert!(all.iter().filter(|b| b.series.is_some()).count() == 4);
    // Cancelling frees the units; only the author (or manager) may.
    assert!(matches!(
        store.write(|tx| cancel(tx, &other, first[0])),
        Err(BookingError::Refused(_))
    ));
    store.write(|tx| cancel(tx, &teacher, first[0])).unwrap();
    book_as(&mut store, &other, req(id, MON, MON + H / 2, 10, 1)).unwrap();
    // Students cannot book.
    assert!(matches!(
        book_as(
            &mut store,
            &a("lea.martin", "student"),
            req(id, MON + 9 * H, MON + 10 * H, 1, 1)
        ),
        Err(BookingError::Refused(_))
    ));
}

#[test]
fn approval_by_the_named_manager() {
    let (_d, mut store) = store();
    let id = store
        .write(|tx| add_resource(tx, "Salle info", "room", 1, Some("doc.cdi"), true))
        .unwrap();
    let teacher = a("paul.roux", "teacher");
    let ids = store
        .write(|tx| book(tx, &teacher, &req(id, MON, MON + H, 1, 1), 0))
        .unwrap();
    assert_eq!(booking(store.conn(), ids[0]).unwrap().unwrap().status, "pending");
    // A pending booking holds the room.
    assert!(
        store
            .write(|tx| book(tx, &a("x", "direction"), &req(id, MON, MON + H, 1, 1), 0))
            .is_err()
    );
    assert!(
        store
            .write(|tx| settle(tx, &a("autre", "staff"), ids[0], true))
            .is_err()
    );
    store
        .write(|tx| settle(tx, &a("doc.cdi", "staff"), ids[0], true))
        .unwrap();
    assert_eq!(
        booking(store.conn(), ids[0]).unwrap().unwrap().status,
        "confirmed"
    );
    assert!(
        store
            .write(|tx| settle(tx, &a("doc.cdi", "staff"), ids[0], false))
            .is_err()
    );
    // The manager's own booking needs no approval.
    let own = store
        .write(|tx| {
            book(
                tx,
                &a("doc.cdi", "staff"),
                &req(id, MON + H, MON + 2 * H, 1, 1),
                0,
            )
        })
        .unwrap();
    assert_eq!(
        booking(store.conn(), own[0]).unwrap().unwrap().status,
        "confirmed"
    );
}

#[test]
fn ical_feed() {
    let r = cart(None, true);
    let b = Booking {
        id: 3,
        resource_id: 1,
        login: "paul.roux".into(),
        starts: MON,
        ends: MON + H,
        quantity: 16,
        status: "confirmed".into(),
        series: None,
        note: "6A, maths; TP".into(),
    };
    let text = ical(&r, &[b], "scribe.tilleuls.lan", MON);
    assert!(
        text.contains("DTSTART:20260907T080000Z\r\nDTEND:20260907T090000Z\r\n"),
        "{text}"
    );
    assert!(text.contains("UID:booking-3@scribe.tilleuls.lan\r\n"));
    assert!(text.contains("DESCRIPTION:6A\\, maths\\; TP\r\n"));
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n") && text.ends_with("END:VCALENDAR\r\n"));
    assert_eq!(ical_time(0), "19700101T000000Z");
    assert_eq!(ical_time(951_782_400), "20000229T000000Z");
}

/// What [`book_at_once`] leaves: the database (its directory kept alive),
/// the resource, every result and the time they took.
type AtOnce = (
    tempfile::TempDir,
    std::path::PathBuf,
    i64,
    Vec<Result<Vec<i64>, BookingError>>,
    std::time::Duration,
);

/// 200 people on their own connections, released together, each booking
/// `quantity` units of a resource that has `units`.
fn book_at_once(units: i64, quantity: i64) -> AtOnce {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("preau.db");
    let mut store = crate::store::Store::open(&path).unwrap();
    let id = store
        .write(|tx| add_resource(tx, "Chariot 1", "equipment", units, None, true))
        .unwrap();
    drop(store);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(201));
    let threads: Vec<_> = (0..200)
        .map(|i| {
            let (path, barrier) = (path.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut store = crate::store::Store::open(&path).unwrap();
                let login = format!("prof{i}");
                barrier.wait();
                store.write(|tx| book(tx, &a(&login, "teacher"), &req(id, MON, MON + H, quantity, 1), 0))
            })
        })
        .collect();
    barrier.wait();
    let started = std::time::Instant::now();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let elapsed = started.elapsed();
    (dir, path, id, results, elapsed)
}

fn outcomes(results: &[Result<Vec<i64>, BookingError>]) -> (usize, usize) {
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(BookingError::Conflict { .. })))
        .count();
    (ok, conflicts)
}

/// 200 people booking the last unit at once, each on its own connection:
/// exactly one gets it.
#[test]
fn concurrent_bookings_of_one_slot() {
    let (_dir, path, id, results, _) = book_at_once(1, 1);
    let (ok, conflicts) = outcomes(&results);
    assert_eq!(
        (ok, conflicts),
        (1, 199),
        "{:?}",
        results
            .iter()
            .find(|r| r.is_err() && !matches!(r, Err(BookingError::Conflict { .. })))
    );
    let store = crate::store::Store::open(&path).unwrap();
    assert_eq!(units_held(store.conn(), id, MON, MON + H).unwrap(), 1);
}

/// bench/booking.sh: 200 concurrent requests for all the units of one slot
/// (timed, checked by query), then the weekly statistics over a school
/// year of bookings (timed). Figures are printed, never asserted.
#[test]
fn booking_benchmark() {
    let (_dir, path, id, results, contended) = book_at_once(16, 16);
    let (ok, conflicts) = outcomes(&results);
    let mut store = crate::store::Store::open(&path).unwrap();
    let rows: i64 = store
        .conn()
        .query_row(
            "SELECT count(*) FROM bookings WHERE resource_id = ?1 AND status = 'confirmed' AND starts < ?3 AND ends > ?2",
            params![id, MON, MON + H],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!((ok, conflicts, rows), (1, 199, 1));

    // A school year: 30 resources, 36 weeks, 5 days, 8 one-hour slots,
    // 150 teachers booking (43,200 bookings, a tenth cancelled).
    let resources: Vec<i64> = store
        .write(|tx| {
            (0..30)
                .map(|i| add_resource(tx, &format!("Ressource {i}"), "room", 1, None, true))
                .collect()
        })
        .unwrap();
    store
        .write(|tx| {
            let mut insert = tx.prepare(
                "INSERT INTO bookings (resource_id, login, starts, ends, quantity, status, created_at)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5, 0)",
            )?;
            let mut n = 0i64;
            for (ri, r) in resources.iter().enumerate() {
                for week in 0..36 {
                    for day in 0..5 {
                        for slot in 0..8 {
                            let s = MON + week * 7 * 86400 + day * 86400 + slot * H;
                            n += 1;
                            let status = if n % 10 == 0 { "cancelled" } else { "confirmed" };
                            insert.execute(params![
                                r,
                                format!("prof{}", (n + ri as i64) % 150),
                                s,
                                s + H,
                                status
                            ])?;
                        }
                    }
                }
            }
            Ok::<_, rusqlite::Error>(())
        })
        .unwrap();
    let mut times = Vec::new();
    let mut cells = 0;
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let rows = super::stats::weekly(store.conn(), MON, MON + 40 * 7 * 86400, 40.0).unwrap();
        let _ = super::stats::csv(&rows);
        times.push(t.elapsed());
        cells = rows.len();
    }
    times.sort();
    println!(
        "{}",
        serde_json::json!({
            "concurrent_requests": 200,
            "succeeded": ok,
            "conflicts": conflicts,
            "confirmed_rows_for_the_slot": rows,
            "contended_ms": contended.as_millis(),
            "year_bookings": 30 * 36 * 5 * 8,
            "weekly_stats_cells": cells,
            "weekly_stats_median_ms": times[2].as_secs_f64() * 1000.0,
        })
    );
}

#[test]
fn two_bookings_are_exchanged_at_once_or_not_at_all() {
    let (_dir, mut store) = store();
    let id = store
        .write(|tx| add_resource(tx, "Salle 12", "room", 1, Some("doc.cdi"), true))
        .unwrap();
    let paul = a("paul.roux", "teacher");
    let marc = a("marc.dupont", "teacher");
    let book_one = |store: &mut crate::store::Store, who: &Actor<'_>, starts: i64| {
        store
            .write(|tx| {
                book_slots(
                    tx,
                    who,
                    id,
                    &[(starts, starts + 3600)],
                    1,
                    "",
                    Purpose::default(),
                    0,
                )
            })
            .unwrap()[0]
    };
    let p = book_one(&mut store, &paul, 1_000_000);
    let m = book_one(&mut store, &marc, 2_000_000);
    // A teacher may not take another's booking.
    let e = store.write(|tx| swap(tx, &paul, p, m)).unwrap_err();
    assert!(matches!(e, BookingError::Refused(_)), "{e}");
    // The manager exchanges them: each gets the other's slot.
    store.write(|tx| swap(tx, &a("doc.cdi", "staff"), p, m)).unwrap();
    let conn = store.conn();
    assert_eq!(booking(conn, p).unwrap().unwrap().login, "marc.dupont");
    assert_eq!(booking(conn, m).unwrap().unwrap().login, "paul.roux");
    assert!(store.write(|tx| swap(tx, &a("admin", "admin"), p, p)).is_err());
    assert!(matches!(
        store.write(|tx| swap(tx, &a("admin", "admin"), p, 999)),
        Err(BookingError::UnknownBooking)
    ));
}

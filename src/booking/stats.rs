//! Usage statistics of the bookings, as aggregates only: per resource and
//! ISO week, the bookings, hours used, occupancy of the open hours,
//! cancellations and how many different people booked — a count of
//! people under [`MIN_PEOPLE`] is suppressed (shown as "< 5"), so that no
//! cell points at one person. Rendered as CSV, JSON and a server-side SVG
//! bar chart (no script, no library).

use rusqlite::{Connection, params};
use serde::Serialize;

/// Smallest count of people a cell may show.
pub const MIN_PEOPLE: i64 = 5;

/// One cell of people counted: the count, or None when suppressed.
pub fn people(count: i64) -> Option<i64> {
    (count >= MIN_PEOPLE).then_some(count)
}

/// Usage of one resource over one ISO week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekUsage {
    pub resource: String,
    /// ISO week, e.g. "2026-W37".
    pub week: String,
    pub bookings: i64,
    pub cancellations: i64,
    /// Hours booked (confirmed), unit-hours for equipment.
    pub hours: f64,
    /// Share of the open hours booked (confirmed, whole resource), 0 to 1.
    pub occupancy: f64,
    /// Different people who booked; None when fewer than [`MIN_PEOPLE`].
    pub people: Option<i64>,
}

/// Usage per resource and ISO week of the bookings starting in
/// `[from, to)`; `open_hours` is how many hours a week a resource can be
/// used (e.g. 40).
pub fn weekly(conn: &Connection, from: i64, to: i64, open_hours: f64) -> rusqlite::Result<Vec<WeekUsage>> {
    let mut stmt = conn.prepare(
        "SELECT r.name, strftime('%G-W%V', b.starts, 'unixepoch') AS week,
                sum(b.status = 'confirmed'),
                sum(b.status = 'cancelled'),
                coalesce(sum(CASE WHEN b.status = 'confirmed' THEN (b.ends - b.starts) * b.quantity END), 0),
                r.quantity,
                count(DISTINCT b.login)
         FROM bookings b JOIN booking_resources r ON r.id = b.resource_id
         WHERE b.starts >= ?1 AND b.starts < ?2
         GROUP BY r.id, week ORDER BY r.name, week",
    )?;
    let rows = stmt.query_map(params![from, to], |r| {
        let unit_seconds: i64 = r.get(4)?;
        let quantity: i64 = r.get(5)?;
        let hours = unit_seconds as f64 / 3600.0;
        Ok(WeekUsage {
            resource: r.get(0)?,
            week: r.get(1)?,
            bookings: r.get(2)?,
            cancellations: r.get(3)?,
            hours: (hours * 100.0).round() / 100.0,
            occupancy: if open_hours > 0.0 {
                ((hours / (open_hours * quantity as f64)).min(1.0) * 1000.0).round() / 1000.0
            } else {
                0.0
            },
            people: people(r.get(6)?),
        })
    })?;
    rows.collect()
}

/// The rows as CSV (RFC 4180, comma separated, header first).
pub fn csv(rows: &[WeekUsage]) -> String {
    let field = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = String::from("resource,week,bookings,cancellations,hours,occupancy,people\r\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\r\n",
            field(&r.resource),
            r.week,
            r.bookings,
            r.cancellations,
            r.hours,
            r.occupancy,
            r.people.map_or("<5".to_string(), |p| p.to_string())
        ));
    }
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal bar chart of `(label, value)` as standalone SVG, with a
/// title and the values written beside the bars (readable without colour).
pub fn svg_bars(title: &str, bars: &[(String, f64)], unit: &str) -> String {
    let (bar_h, gap, label_w, chart_w) = (18, 6, 220, 360);
    let max = bars.iter().map(|b| b.1).fold(0.0_f64, f64::max);
    let height = 30 + bars.len() * (bar_h + gap) + 10;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\">\
         <title>{t}</title><text x=\"0\" y=\"18\" font-size=\"14\" font-weight=\"bold\">{t}</text>",
        w = label_w + chart_w + 80,
        t = xml_escape(title)
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = 30 + i * (bar_h + gap);
        let width = if max > 0.0 {
            (value / max * chart_w as f64).round() as usize
        } else {
            0
        };
        out.push_str(&format!(
            "<text x=\"{tx}\" y=\"{ty}\" font-size=\"12\" text-anchor=\"end\">{l}</text>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{width}\" height=\"{bar_h}\" fill=\"#2a6f97\"/>\
             <text x=\"{vx}\" y=\"{ty}\" font-size=\"12\">{v} {u}</text>",
            tx = label_w - 6,
            ty = y + 13,
            l = xml_escape(label),
            vx = label_w + width + 6,
            v = (value * 100.0).round() / 100.0,
            u = xml_escape(unit),
        ));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::{Actor, Request, add_resource, book, cancel};

    const MON: i64 = 1_788_739_200 + 8 * 3600; // 2026-09-07 08:00 UTC, ISO week 37

    #[test]
    fn weekly_usage_with_small_counts_suppressed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = crate::store::Store::open(&dir.path().join("preau.db")).unwrap();
        let cart = store
            .write(|tx| add_resource(tx, "Chariot, portables", "equipment", 2, None, true))
            .unwrap();
        let room = store
            .write(|tx| add_resource(tx, "Salle 12", "room", 1, None, true))
            .unwrap();
        let logins: Vec<String> = (0..6).map(|i| format!("prof{i}")).collect();
        for (i, login) in logins.iter().enumerate() {
            let starts = MON + i as i64 * 3600;
            let r = Request {
                resource_id: room,
                starts,
                ends: starts + 3600,
                quantity: 1,
                weeks: 1,
                note: "",
            };
            store
                .write(|tx| {
                    book(
                        tx,
                        &Actor {
                            login,
                            role: "teacher",
                        },
                        &r,
                        0,
                    )
                })
                .unwrap();
        }
        let r = Request {
            resource_id: cart,
            starts: MON,
            ends: MON + 7200,
            quantity: 2,
            weeks: 1,
            note: "",
        };
        let ids = store
            .write(|tx| {
                book(
                    tx,
                    &Actor {
                        login: "prof0",
                        role: "teacher",
                    },
                    &r,
                    0,
                )
            })
            .unwrap();
        let r = Request {
            resource_id: cart,
            starts: MON + 8 * 86400,
            ends: MON + 8 * 86400 + 3600,
            ..r
        };
        store
            .write(|tx| {
                book(
                    tx,
                    &Actor {
                        login: "prof1",
                        role: "teacher",
                    },
                    &r,
                    0,
                )
            })
            .unwrap();
        store
            .write(|tx| {
                cancel(
                    tx,
                    &Actor {
                        login: "prof0",
                        role: "teacher",
                    },
                    ids[0],
                )
            })
            .unwrap();

        let rows = weekly(store.conn(), MON - 86400, MON + 30 * 86400, 40.0).unwrap();
        assert_eq!(rows.len(), 3, "{rows:?}");
        let room_row = rows.iter().find(|r| r.resource == "Salle 12").unwrap();
        assert_eq!(
            (room_row.week.as_str(), room_row.bookings, room_row.hours),
            ("2026-W37", 6, 6.0)
        );
        assert_eq!(room_row.occupancy, 0.15);
        assert_eq!(room_row.people, Some(6));
        let cart_w37 = rows
            .iter()
            .find(|r| r.resource.starts_with("Chariot") && r.week == "2026-W37")
            .unwrap();
        assert_eq!(
            (cart_w37.bookings, cart_w37.cancellations, cart_w37.hours),
            (0, 1, 0.0)
        );
        assert_eq!(cart_w37.people, None, "one person: suppressed");
        let text = csv(&rows);
        assert!(text.starts_with("resource,week,bookings,cancellations,hours,occupancy,people\r\n"));
        assert!(
            text.contains("\"Chariot, portables\",2026-W37,0,1,0,0,<5\r\n"),
            "{text}"
        );
        assert!(text.contains("Salle 12,2026-W37,6,0,6,0.15,6\r\n"));
        let json = serde_json::to_value(&rows).unwrap();
        assert!(json[0]["people"].is_null());
    }

    #[test]
    fn svg_chart_is_self_contained_and_escaped() {
        let svg = svg_bars(
            "Heures <réservées>",
            &[("Salle 12".into(), 6.0), ("Chariot & co".into(), 3.0)],
            "h",
        );
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("<title>Heures &lt;réservées&gt;</title>"));
        assert!(svg.contains("Chariot &amp; co"));
        assert!(
            svg.contains("width=\"360\"") && svg.contains("width=\"180\""),
            "{svg}"
        );
        assert!(!svg.contains("<script"));
    }
}

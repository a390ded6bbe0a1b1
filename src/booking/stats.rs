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

/// Bookings grouped by what they were for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// The lesson's subject (free slots apart).
    Subject,
    /// The class level of the lesson's class or group ("6e", "5e"…).
    Level,
    /// Who booked.
    Teacher,
}

/// Bookings, hours and cancellations of one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupUsage {
    /// The subject code, the level, or the login.
    pub key: String,
    pub bookings: i64,
    pub cancellations: i64,
    pub hours: f64,
}

/// The class level of a class or group code: its leading digits with
/// "e" ("6A" → "6e", "3-ESP" → "3e"), "2nde", "1re" and "Tle" for the
/// lycée's usual codes, else the code itself.
pub fn level_of(code: &str) -> String {
    let up = code.to_uppercase();
    let digits: String = up.chars().take_while(char::is_ascii_digit).collect();
    if up.starts_with("2ND") || up.starts_with("SECONDE") {
        "2nde".into()
    } else if up.starts_with("1ER") || up.starts_with("PREM") {
        "1re".into()
    } else if up.starts_with("TLE")
        || up.starts_with("TERM")
        || (up.starts_with('T') && !up.starts_with("TP"))
    {
        "Tle".into()
    } else if !digits.is_empty() {
        format!("{}e", digits.trim_start_matches('0'))
    } else {
        code.to_string()
    }
}

/// Usage grouped by `dim` of the bookings starting in `[from, to)`,
/// biggest first.
pub fn grouped(conn: &Connection, from: i64, to: i64, dim: Dimension) -> rusqlite::Result<Vec<GroupUsage>> {
    let key = match dim {
        Dimension::Subject => "coalesce(b.subject, '')",
        Dimension::Level => "coalesce(b.structure, '')",
        Dimension::Teacher => "b.login",
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT {key}, sum(b.status = 'confirmed'), sum(b.status = 'cancelled'),
                coalesce(sum(CASE WHEN b.status = 'confirmed' THEN b.ends - b.starts END), 0)
         FROM bookings b WHERE b.starts >= ?1 AND b.starts < ?2 GROUP BY 1"
    ))?;
    let rows = stmt.query_map(params![from, to], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let mut by: std::collections::BTreeMap<String, (i64, i64, i64)> = Default::default();
    for row in rows {
        let (k, b, c, secs) = row?;
        let k = match dim {
            Dimension::Level if !k.is_empty() => level_of(&k),
            _ => k,
        };
        let e = by.entry(k).or_default();
        e.0 += b;
        e.1 += c;
        e.2 += secs;
    }
    let mut out: Vec<GroupUsage> = by
        .into_iter()
        .map(|(key, (bookings, cancellations, secs))| GroupUsage {
            key,
            bookings,
            cancellations,
            hours: (secs as f64 / 36.0).round() / 100.0,
        })
        .collect();
    out.sort_by(|a, b| b.bookings.cmp(&a.bookings).then_with(|| a.key.cmp(&b.key)));
    Ok(out)
}

/// Sign-ins of one ISO week by people of one role.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignIns {
    pub week: String,
    /// "élève", "enseignant", "direction", "vie scolaire", "personnel",
    /// "responsable", "administrateur".
    pub role: String,
    pub sign_ins: i64,
    /// Different people who signed in (active accounts); None when fewer
    /// than [`MIN_PEOPLE`].
    pub people: Option<i64>,
}

/// The role of a sign-in's account, as counted (SQL over `people p`,
/// NULL for a console administrator).
const ROLE_OF_PERSON: &str = "CASE WHEN p.id IS NULL THEN 'administrateur'
     WHEN p.kind = 'student' THEN 'élève'
     WHEN p.kind = 'parent' THEN 'responsable'
     WHEN p.kind = 'teacher' OR p.function = 'ENS' THEN 'enseignant'
     WHEN p.function = 'DIR' THEN 'direction'
     WHEN p.function = 'EDU' THEN 'vie scolaire'
     ELSE 'personnel' END";

/// Counts a successful sign-in of `login` at `now` (Unix seconds) in its
/// ISO week (table `signin_weeks`, migration 10).
pub fn record_sign_in(conn: &Connection, login: &str, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO signin_weeks (week, role, login, sign_ins)
             SELECT strftime('%G-W%V', ?2, 'unixepoch'), {ROLE_OF_PERSON}, ?1, 1
             FROM (SELECT 1) LEFT JOIN people p ON p.login = ?1
             ON CONFLICT (week, role, login) DO UPDATE SET sign_ins = sign_ins + 1"
        ),
        params![login, now],
    )?;
    Ok(())
}

/// Successful sign-ins to the web platform per ISO week and role, for
/// the weeks from `from` to `to` (both "YYYY-Www", included).
pub fn sign_ins(conn: &Connection, from: &str, to: &str) -> rusqlite::Result<Vec<SignIns>> {
    let mut stmt = conn.prepare(
        "SELECT week, role, sum(sign_ins), count(*) FROM signin_weeks
         WHERE week >= ?1 AND week <= ?2 GROUP BY week, role ORDER BY week, role",
    )?;
    let rows = stmt.query_map(params![from, to], |r| {
        Ok(SignIns {
            week: r.get(0)?,
            role: r.get(1)?,
            sign_ins: r.get(2)?,
            people: people(r.get(3)?),
        })
    })?;
    rows.collect()
}

/// The ISO week ("YYYY-Www") of a Unix time.
pub fn iso_week(conn: &Connection, t: i64) -> rusqlite::Result<String> {
    conn.query_row("SELECT strftime('%G-W%V', ?1, 'unixepoch')", [t], |r| r.get(0))
}

/// The space a share used over one ISO week (its largest daily sample).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShareWeek {
    pub week: String,
    pub share: String,
    pub bytes: i64,
}

/// The shares' daily usage samples (`share_usage_samples`, taken by
/// `preau serve`) from `from` to `to` (YYYY-MM-DD, included), per ISO
/// week and share.
pub fn share_usage(conn: &Connection, from: &str, to: &str) -> rusqlite::Result<Vec<ShareWeek>> {
    let mut stmt = conn.prepare(
        "SELECT strftime('%G-W%V', day) AS week, share, max(bytes) FROM share_usage_samples
         WHERE day >= ?1 AND day <= ?2 GROUP BY week, share ORDER BY week, share",
    )?;
    let rows = stmt.query_map(params![from, to], |r| {
        Ok(ShareWeek {
            week: r.get(0)?,
            share: r.get(1)?,
            bytes: r.get(2)?,
        })
    })?;
    rows.collect()
}

/// Share usage as CSV.
pub fn share_usage_csv(rows: &[ShareWeek]) -> String {
    let mut out = String::from("week,share,bytes\r\n");
    for r in rows {
        out.push_str(&format!("{},{},{}\r\n", r.week, csv_field(&r.share), r.bytes));
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Grouped usage as CSV; `key` names the first column.
pub fn grouped_csv(key: &str, rows: &[GroupUsage]) -> String {
    let mut out = format!("{key},bookings,cancellations,hours\r\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{}\r\n",
            csv_field(&r.key),
            r.bookings,
            r.cancellations,
            r.hours
        ));
    }
    out
}

/// Sign-ins as CSV ("<5" where suppressed).
pub fn sign_ins_csv(rows: &[SignIns]) -> String {
    let mut out = String::from("week,role,sign_ins,people\r\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{}\r\n",
            r.week,
            csv_field(&r.role),
            r.sign_ins,
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
    fn class_levels() {
        for (code, level) in [
            ("6A", "6e"),
            ("5B", "5e"),
            ("3-ESP", "3e"),
            ("2NDE1", "2nde"),
            ("1ERE-G2", "1re"),
            ("TG3", "Tle"),
            ("AP", "AP"),
        ] {
            assert_eq!(level_of(code), level, "{code}");
        }
    }

    #[test]
    fn grouped_usage_and_sign_ins_suppress_small_counts() {
        let (_dir, mut store) = crate::booking::tests::store();
        store
            .write(|tx| {
                for i in 0..10 {
                    let (kind, login) = if i < 6 {
                        (crate::directory::Kind::Student, format!("e{i}"))
                    } else {
                        (crate::directory::Kind::Teacher, format!("t{i}"))
                    };
                    let np = crate::directory::NewPerson {
                        kind: Some(kind),
                        source: "manual".into(),
                        first_name: "A".into(),
                        last_name: "B".into(),
                        ..Default::default()
                    };
                    crate::directory::insert_person(tx, &np, &login, None)?;
                }
                Ok::<_, anyhow::Error>(())
            })
            .unwrap();
        let conn = store.conn();
        conn.execute_batch(
            "INSERT INTO booking_resources (id, name, kind, quantity) VALUES (1, 'Chariot', 'equipment', 16);
             INSERT INTO bookings (resource_id, login, starts, ends, quantity, status, created_at, subject, structure) VALUES
               (1, 'paul', 0, 3600, 16, 'confirmed', 0, 'MATHS', '6A'),
               (1, 'paul', 7200, 9000, 16, 'confirmed', 0, 'MATHS', '6B'),
               (1, 'marc', 10000, 13600, 16, 'cancelled', 0, 'FRANC', '5A'),
               (1, 'marc', 20000, 23600, 16, 'confirmed', 0, NULL, NULL);",
        )
        .unwrap();
        let subjects = grouped(conn, 0, 100_000, Dimension::Subject).unwrap();
        assert_eq!(subjects[0].key, "MATHS");
        assert_eq!((subjects[0].bookings, subjects[0].hours), (2, 1.5));
        let levels = grouped(conn, 0, 100_000, Dimension::Level).unwrap();
        let six = levels.iter().find(|g| g.key == "6e").unwrap();
        assert_eq!(six.bookings, 2);
        let five = levels.iter().find(|g| g.key == "5e").unwrap();
        assert_eq!((five.bookings, five.cancellations), (0, 1));
        let teachers = grouped(conn, 0, 100_000, Dimension::Teacher).unwrap();
        assert_eq!(teachers.len(), 2);
        assert!(
            grouped_csv("subject", &subjects)
                .starts_with("subject,bookings,cancellations,hours\r\nMATHS,2,0,1.5\r\n")
        );
        // Six students and four teachers sign in one week: the teachers'
        // count of people is suppressed, their sign-ins are not.
        for i in 0..10 {
            let login = if i < 6 { format!("e{i}") } else { format!("t{i}") };
            for _ in 0..2 {
                // Tuesday 2026-09-08 08:00 UTC.
                record_sign_in(conn, &login, 1_788_854_400).unwrap();
            }
        }
        assert_eq!(iso_week(conn, 1_788_854_400).unwrap(), "2026-W37");
        let s = sign_ins(conn, "2026-W36", "2026-W40").unwrap();
        assert_eq!(
            s,
            vec![
                SignIns {
                    week: "2026-W37".into(),
                    role: "enseignant".into(),
                    sign_ins: 8,
                    people: None
                },
                SignIns {
                    week: "2026-W37".into(),
                    role: "élève".into(),
                    sign_ins: 12,
                    people: Some(6)
                },
            ]
        );
        assert!(sign_ins_csv(&s).contains("2026-W37,enseignant,8,<5\r\n"));
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

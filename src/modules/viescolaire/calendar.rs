//! Civil dates and times of day, without time zones: school life counts
//! in the establishment's local calendar (lessons at 08:00, a quiet
//! period from 20:00), so dates are proleptic Gregorian days and times
//! minutes after midnight. Pure, no clock: callers pass "now".

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A calendar date, as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

impl Date {
    /// The date of year, month (1–12), day (1–31), when it exists.
    pub fn ymd(y: i32, m: u32, d: u32) -> Option<Date> {
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) || !(1900..=2999).contains(&y) {
            return None;
        }
        // Howard Hinnant's days_from_civil.
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy as i32;
        Some(Date(era * 146097 + doe - 719468))
    }

    /// Parses "YYYY-MM-DD" (also the compact "YYYYMMDD" of iCalendar).
    pub fn parse(s: &str) -> Option<Date> {
        let s = s.trim();
        let (y, m, d) = if s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-' {
            (&s[0..4], &s[5..7], &s[8..10])
        } else if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
            (&s[0..4], &s[4..6], &s[6..8])
        } else {
            return None;
        };
        if ![y, m, d].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())) {
            return None;
        }
        Date::ymd(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    }

    /// `(year, month, day)`.
    pub fn parts(self) -> (i32, u32, u32) {
        let z = self.0 + 719468;
        let era = z.div_euclid(146097);
        let doe = z - era * 146097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i32::from(m <= 2);
        (y, m, d)
    }

    /// 1 = Monday … 7 = Sunday.
    pub fn weekday(self) -> u8 {
        // 1970-01-01 was a Thursday.
        ((self.0 + 3).rem_euclid(7) + 1) as u8
    }

    pub fn add_days(self, n: i32) -> Date {
        Date(self.0 + n)
    }

    /// Days from `self` to `other`.
    pub fn days_until(self, other: Date) -> i32 {
        other.0 - self.0
    }

    /// The Monday of this date's week.
    pub fn monday(self) -> Date {
        self.add_days(1 - i32::from(self.weekday()))
    }

    pub fn is_weekend(self) -> bool {
        self.weekday() >= 6
    }

    /// Every date from `self` to `to`, both included.
    pub fn through(self, to: Date) -> impl Iterator<Item = Date> {
        (self.0..=to.0).map(Date)
    }
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.parts();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Date::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("\"{s}\" is not a date (YYYY-MM-DD)")))
    }
}

/// A time of day, minutes after midnight (0–1439; 1440 is the end of the
/// day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(u16);

impl Time {
    pub fn from_minutes(m: u16) -> Time {
        Time(m.min(24 * 60))
    }

    pub fn hm(h: u16, m: u16) -> Time {
        Time::from_minutes(h * 60 + m)
    }

    /// Parses "HH:MM", "H:MM", "HHhMM" or "HHh" (EDT writes "  09h00").
    pub fn parse(s: &str) -> Option<Time> {
        let s = s.trim();
        let (h, m) = s.split_once(':').or_else(|| s.split_once(['h', 'H']))?;
        let m = if m.is_empty() && !s.contains(':') { "00" } else { m };
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return None;
        }
        if !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some(Time(h * 60 + m))
    }

    pub fn minutes(self) -> u16 {
        self.0
    }

    /// This time plus `minutes`, or None past midnight.
    pub fn plus(self, minutes: u16) -> Option<Time> {
        let t = self.0.checked_add(minutes)?;
        (t <= 24 * 60).then_some(Time(t))
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A local date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct DateTime {
    pub date: Date,
    pub time: Time,
}

impl DateTime {
    /// Parses "YYYY-MM-DDTHH:MM" or "YYYY-MM-DD HH:MM" (seconds ignored).
    pub fn parse(s: &str) -> Option<DateTime> {
        let s = s.trim();
        let (d, t) = s.split_once(['T', ' '])?;
        let t = if t.len() == 8 { &t[..5] } else { t };
        Some(DateTime {
            date: Date::parse(d)?,
            time: Time::parse(t)?,
        })
    }

    /// The moment as "YYYY-MM-DDTHH:MM", as stored.
    pub fn stamp(&self) -> String {
        format!("{}T{}", self.date, self.time)
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.date, self.time)
    }
}

impl DateTime {
    /// The server's clock, in its local time zone.
    pub fn now_local() -> DateTime {
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        DateTime::from_unix(unix, crate::modules::proxy::policy::local_offset(unix))
    }

    /// A Unix time at an offset from UTC (seconds east).
    pub fn from_unix(unix: i64, offset: i64) -> DateTime {
        let local = unix + offset;
        DateTime {
            date: Date(local.div_euclid(86400) as i32),
            time: Time((local.rem_euclid(86400) / 60) as u16),
        }
    }
}

/// French day names, Monday first (EDT writes them so).
pub const DAY_NAMES: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];

/// 1–7 from "lundi"/"monday"/"mon"/"1"…
pub fn parse_weekday(s: &str) -> Option<u8> {
    let s = deunicode::deunicode(s.trim()).to_lowercase();
    const EN: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    if let Ok(n) = s.parse::<u8>() {
        return (1..=7).contains(&n).then_some(n);
    }
    (0..7)
        .find(|&i| s == DAY_NAMES[i] || s == EN[i] || (s.len() == 3 && EN[i].starts_with(&s)))
        .map(|i| i as u8 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_know_their_weekday() {
        let d = Date::parse("2026-12-01").unwrap();
        assert_eq!(d.to_string(), "2026-12-01");
        assert_eq!(d.weekday(), 2, "1 December 2026 is a Tuesday");
        assert_eq!(d.monday().to_string(), "2026-11-30");
        assert_eq!(Date::parse("20240229").unwrap().to_string(), "2024-02-29");
        assert!(Date::parse("2025-02-29").is_none());
        assert!(Date::parse("2025-13-01").is_none());
        assert!(Date::parse("2025-1-01").is_none());
        for n in -800..800 {
            let x = d.add_days(n * 37);
            assert_eq!(Date::parse(&x.to_string()), Some(x));
        }
    }

    #[test]
    fn times_parse_in_every_written_form() {
        assert_eq!(Time::parse("08:30").unwrap().minutes(), 510);
        assert_eq!(Time::parse("  09h00").unwrap().to_string(), "09:00");
        assert_eq!(Time::parse("9h").unwrap().to_string(), "09:00");
        assert!(Time::parse("24:00").is_none());
        assert!(Time::parse("8:7").is_none());
        assert!(Time::parse("ab:cd").is_none());
        assert_eq!(parse_weekday("Mercredi"), Some(3));
        assert_eq!(parse_weekday("fri"), Some(5));
        assert_eq!(parse_weekday("8"), None);
        let dt = DateTime::parse("2026-12-01T08:05:00").unwrap();
        assert_eq!(dt.stamp(), "2026-12-01T08:05");
    }
}

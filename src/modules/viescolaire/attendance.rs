//! Rolls and absences as pure functions: half-days (demi-journées) of
//! absence, lateness, alerts, and the quiet period of messages.
//!
//! The rule, in one place:
//! - a student's day is the lessons he should attend (not cancelled, not
//!   moved away); a lesson starting before the noon boundary belongs to
//!   the morning, the others to the afternoon;
//! - a lesson is missed when its roll says *absent*, or, when no roll was
//!   taken for him, when an absence event overlaps it; a roll saying
//!   present, late or excluded wins over an event (he was there);
//! - a half-day is counted absent when at least one of its lessons was
//!   missed; it is justified when every missed lesson of it is covered by
//!   a justified event (an accepted justification with a justifying
//!   reason), unjustified otherwise;
//! - a late arrival is counted as lateness, never as a half-day;
//!   exclusion from a lesson is neither.

use super::calendar::{Date, DateTime, Time};
use serde::Serialize;

/// What a roll says about a student in one lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    Present,
    Absent,
    Late,
    Excluded,
}

impl Presence {
    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Present => "present",
            Presence::Absent => "absent",
            Presence::Late => "late",
            Presence::Excluded => "excluded",
        }
    }

    pub fn parse(s: &str) -> Option<Presence> {
        Some(match s {
            "present" => Presence::Present,
            "absent" => Presence::Absent,
            "late" => Presence::Late,
            "excluded" => Presence::Excluded,
            _ => return None,
        })
    }
}

/// A lesson a student should attend, with his roll mark if taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attended {
    pub date: Date,
    pub starts: Time,
    pub ends: Time,
    pub roll: Option<Presence>,
}

/// An absence event: from, to, and whether it is justified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub starts: DateTime,
    pub ends: DateTime,
    pub justified: bool,
}

impl Event {
    fn overlaps(&self, date: Date, starts: Time, ends: Time) -> bool {
        let a = DateTime { date, time: starts };
        let b = DateTime { date, time: ends };
        self.starts < b && a < self.ends
    }
}

/// One half-day of absence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HalfDay {
    pub date: Date,
    pub afternoon: bool,
    pub justified: bool,
}

/// Half-days of absence and lateness over some lessons.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub half_days: Vec<HalfDay>,
    /// Lessons the student arrived late to.
    pub late: u32,
    /// Lessons missed (absent), for "heures de cours manquées".
    pub missed_lessons: u32,
}

impl Summary {
    pub fn justified(&self) -> usize {
        self.half_days.iter().filter(|h| h.justified).count()
    }

    pub fn unjustified(&self) -> usize {
        self.half_days.iter().filter(|h| !h.justified).count()
    }
}

/// Counts a student's half-days of absence by the rule above.
pub fn summarize(noon: Time, lessons: &[Attended], events: &[Event]) -> Summary {
    use std::collections::BTreeMap;
    // (date, afternoon) -> all missed lessons justified so far.
    let mut halves: BTreeMap<(Date, bool), bool> = BTreeMap::new();
    let mut s = Summary::default();
    for l in lessons {
        let covering: Vec<&Event> = events
            .iter()
            .filter(|e| e.overlaps(l.date, l.starts, l.ends))
            .collect();
        let missed = match l.roll {
            Some(Presence::Absent) => true,
            Some(Presence::Late) => {
                s.late += 1;
                false
            }
            Some(_) => false,
            None => !covering.is_empty(),
        };
        if !missed {
            continue;
        }
        s.missed_lessons += 1;
        let justified = !covering.is_empty() && covering.iter().any(|e| e.justified);
        let e = halves.entry((l.date, l.starts >= noon)).or_insert(true);
        *e = *e && justified;
    }
    s.half_days = halves
        .into_iter()
        .map(|((date, afternoon), justified)| HalfDay {
            date,
            afternoon,
            justified,
        })
        .collect();
    s
}

/// An alert: too many unjustified half-days in the window ending today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub unjustified: usize,
    pub threshold: u32,
    pub since: Date,
}

/// The alert for a student, if his unjustified half-days from
/// `today - window_days + 1` to `today` reach `threshold`.
pub fn alert(half_days: &[HalfDay], today: Date, window_days: u32, threshold: u32) -> Option<Alert> {
    let since = today.add_days(1 - window_days as i32);
    let n = half_days
        .iter()
        .filter(|h| !h.justified && since <= h.date && h.date <= today)
        .count();
    (n >= threshold as usize).then_some(Alert {
        unjustified: n,
        threshold,
        since,
    })
}

/// When a message written at `at` is delivered: at once, or at the end
/// of the quiet period (daily `start`–`end`, possibly across midnight,
/// and whole week-ends when `weekends`).
pub fn delivery(at: DateTime, start: Time, end: Time, weekends: bool) -> DateTime {
    let mut t = at;
    // At most: tonight → tomorrow morning → after the week-end.
    for _ in 0..8 {
        if weekends && t.date.is_weekend() {
            t = DateTime {
                date: t.date.add_days(8 - i32::from(t.date.weekday())),
                time: Time::from_minutes(0),
            };
            continue;
        }
        let quiet_now = if start == end {
            false
        } else if start < end {
            start <= t.time && t.time < end
        } else {
            t.time >= start || t.time < end
        };
        if !quiet_now {
            return t;
        }
        t = if start > end && t.time >= start {
            DateTime {
                date: t.date.add_days(1),
                time: end,
            }
        } else {
            DateTime {
                date: t.date,
                time: end,
            }
        };
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> DateTime {
        DateTime::parse(s).unwrap()
    }

    fn lesson(date: &str, starts: &str, roll: Option<Presence>) -> Attended {
        let starts = Time::parse(starts).unwrap();
        Attended {
            date: Date::parse(date).unwrap(),
            starts,
            ends: starts.plus(55).unwrap(),
            roll,
        }
    }

    fn noon() -> Time {
        Time::hm(12, 0)
    }

    /// Tuesday 1 December 2026: four morning lessons, two afternoon ones.
    fn tuesday(rolls: [Option<Presence>; 6]) -> Vec<Attended> {
        ["08:00", "09:00", "10:00", "11:00", "13:30", "14:30"]
            .iter()
            .zip(rolls)
            .map(|(t, r)| lesson("2026-12-01", t, r))
            .collect()
    }

    #[test]
    fn a_late_arrival_is_lateness_not_a_half_day() {
        use Presence::*;
        let s = summarize(
            noon(),
            &tuesday([
                Some(Late),
                Some(Present),
                Some(Present),
                Some(Present),
                None,
                None,
            ]),
            &[],
        );
        assert_eq!((s.half_days.len(), s.late, s.missed_lessons), (0, 1, 0));
        // Absent at 08:00, arriving at 09:00: one unjustified morning.
        let s = summarize(
            noon(),
            &tuesday([
                Some(Absent),
                Some(Late),
                Some(Present),
                Some(Present),
                Some(Present),
                Some(Present),
            ]),
            &[],
        );
        assert_eq!((s.unjustified(), s.late, s.missed_lessons), (1, 1, 1));
        assert!(!s.half_days[0].afternoon);
    }

    #[test]
    fn an_absence_across_noon_counts_both_half_days() {
        let e = Event {
            starts: dt("2026-12-01T10:00"),
            ends: dt("2026-12-01T14:00"),
            justified: true,
        };
        let s = summarize(noon(), &tuesday([None; 6]), &[e]);
        assert_eq!(s.half_days.len(), 2);
        assert_eq!((s.justified(), s.missed_lessons), (2, 3));
        // The roll of the afternoon says he came back: only the morning.
        let mut l = tuesday([None; 6]);
        l[4].roll = Some(Presence::Present);
        let s = summarize(noon(), &l, &[e]);
        assert_eq!(s.half_days.len(), 1);
        // The noon boundary moves: a 13:30 lesson is a morning one with
        // noon at 14:00, so the same event is a single half-day.
        let s = summarize(Time::hm(14, 0), &tuesday([None; 6]), &[e]);
        assert_eq!(s.half_days.len(), 1);
    }

    #[test]
    fn a_multi_day_event_counts_only_days_with_lessons() {
        // Monday to Wednesday; no lessons on Wednesday afternoon.
        let mut l = Vec::new();
        for (date, times) in [
            ("2026-11-30", &["08:00", "14:00"][..]),
            ("2026-12-01", &["09:00", "15:00"][..]),
            ("2026-12-02", &["08:00"][..]),
            ("2026-12-03", &["08:00"][..]),
        ] {
            for t in times {
                l.push(lesson(date, t, None));
            }
        }
        let e = Event {
            starts: dt("2026-11-30T00:00"),
            ends: dt("2026-12-02T18:00"),
            justified: false,
        };
        let s = summarize(noon(), &l, &[e]);
        assert_eq!(s.unjustified(), 5);
        // One justified event over part of a half-day and an unjustified
        // absence in the same half-day: the half-day is unjustified.
        let l = tuesday([
            Some(Presence::Absent),
            Some(Presence::Absent),
            None,
            None,
            None,
            None,
        ]);
        let j = Event {
            starts: dt("2026-12-01T08:00"),
            ends: dt("2026-12-01T08:55"),
            justified: true,
        };
        let s = summarize(noon(), &l[..2], &[j]);
        assert_eq!((s.justified(), s.unjustified()), (0, 1));
        // An excluded student is not absent.
        let s = summarize(
            noon(),
            &[lesson("2026-12-01", "08:00", Some(Presence::Excluded))],
            &[e],
        );
        assert_eq!(s, Summary::default());
    }

    #[test]
    fn alerts_start_at_the_threshold_within_the_window() {
        let h = |date: &str, justified| HalfDay {
            date: Date::parse(date).unwrap(),
            afternoon: false,
            justified,
        };
        let days = [
            h("2026-10-15", false),
            h("2026-11-10", false),
            h("2026-11-20", false),
            h("2026-11-25", true),
            h("2026-11-30", false),
        ];
        let today = Date::parse("2026-12-01").unwrap();
        assert_eq!(
            alert(&days, today, 30, 4),
            None,
            "three in the window, one justified"
        );
        assert_eq!(alert(&days, today, 30, 3).unwrap().unjustified, 3);
        assert_eq!(
            alert(&days, today, 60, 4).unwrap().since.to_string(),
            "2026-10-03"
        );
        // The window's first day counts, the day before does not.
        assert_eq!(
            alert(&days, Date::parse("2026-11-13").unwrap(), 30, 2)
                .unwrap()
                .unjustified,
            2
        );
        assert_eq!(alert(&days, Date::parse("2026-11-14").unwrap(), 30, 2), None);
    }

    #[test]
    fn messages_wait_for_the_end_of_the_quiet_period() {
        let (s, e) = (Time::hm(20, 0), Time::hm(7, 0));
        let at = |x| delivery(dt(x), s, e, true).stamp();
        assert_eq!(at("2026-12-01T19:59"), "2026-12-01T19:59");
        assert_eq!(at("2026-12-01T20:00"), "2026-12-02T07:00");
        assert_eq!(at("2026-12-02T06:30"), "2026-12-02T07:00");
        assert_eq!(
            at("2026-12-04T21:00"),
            "2026-12-07T07:00",
            "Friday night waits for Monday"
        );
        assert_eq!(at("2026-12-05T10:00"), "2026-12-07T07:00");
        assert_eq!(
            delivery(dt("2026-12-05T10:00"), s, e, false).stamp(),
            "2026-12-05T10:00"
        );
        assert_eq!(
            delivery(dt("2026-12-01T23:00"), s, s, false).stamp(),
            "2026-12-01T23:00"
        );
        // A quiet period within a day.
        assert_eq!(
            delivery(dt("2026-12-01T12:30"), Time::hm(12, 0), Time::hm(13, 0), false).stamp(),
            "2026-12-01T13:00"
        );
    }
}

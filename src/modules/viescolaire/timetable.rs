//! The timetable as pure functions: weekly slots over a calendar of
//! weeks A and B and holidays give the concrete lessons of any date
//! range, with every change (cancelled, room change, moved, replacement
//! teacher, exceptional lesson) applied and labelled.
//!
//! A lesson is identified by its slot and the slot's own date (a moved
//! lesson keeps that key), or by the exceptional lesson's exception.

use super::calendar::{Date, Time};
use serde::Serialize;
use std::collections::HashMap;

/// Which weeks a slot occurs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Weeks {
    #[serde(rename = "all")]
    All,
    A,
    B,
}

impl Weeks {
    pub fn as_str(self) -> &'static str {
        match self {
            Weeks::All => "all",
            Weeks::A => "A",
            Weeks::B => "B",
        }
    }

    pub fn parse(s: &str) -> Option<Weeks> {
        match s.trim() {
            "" | "all" | "*" | "AB" | "H" => Some(Weeks::All),
            "A" | "a" | "Q1" => Some(Weeks::A),
            "B" | "b" | "Q2" => Some(Weeks::B),
            _ => None,
        }
    }

    /// Whether two slots' weeks can meet.
    pub fn meets(self, other: Weeks) -> bool {
        self == Weeks::All || other == Weeks::All || self == other
    }
}

/// A teaching service: teacher × subject × class or group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Service {
    pub teacher_id: i64,
    pub subject_code: String,
    pub structure_id: i64,
}

/// A weekly slot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slot {
    pub id: i64,
    pub service: Service,
    /// 1 = Monday … 7 = Sunday.
    pub weekday: u8,
    pub starts: Time,
    pub ends: Time,
    pub room: String,
    pub weeks: Weeks,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
}

impl Slot {
    fn valid_on(&self, d: Date) -> bool {
        self.valid_from.is_none_or(|f| d >= f) && self.valid_to.is_none_or(|t| d <= t)
    }
}

/// What an exception does.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ExceptionKind {
    /// The lesson does not take place (the teacher is absent…).
    Cancelled,
    /// Same time, another room.
    Room { room: String },
    /// Another date and/or time (and room, when given).
    Moved {
        date: Date,
        starts: Time,
        ends: Time,
        room: Option<String>,
    },
    /// Another teacher takes the lesson.
    Replacement { teacher_id: i64 },
    /// A lesson outside the timetable.
    Extra {
        service: Service,
        starts: Time,
        ends: Time,
        room: String,
    },
}

/// A change to the timetable on one date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exception {
    pub id: i64,
    /// The slot changed; None for an exceptional lesson.
    pub slot_id: Option<i64>,
    /// The slot's date the change applies to (the date of an exceptional
    /// lesson).
    pub date: Date,
    pub kind: ExceptionKind,
    pub reason: String,
}

/// The calendar lessons are derived on.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    /// First and last day of the school year.
    pub year: Option<(Date, Date)>,
    /// Holidays, both dates included.
    pub holidays: Vec<(Date, Date)>,
    /// Week A or B, by the Monday of the week.
    pub weeks: HashMap<Date, Weeks>,
}

impl Calendar {
    pub fn is_holiday(&self, d: Date) -> bool {
        self.holidays.iter().any(|&(a, b)| a <= d && d <= b)
    }

    pub fn in_year(&self, d: Date) -> bool {
        self.year.is_none_or(|(a, b)| a <= d && d <= b)
    }

    /// Week A or B of a date, when the calendar says.
    pub fn week_of(&self, d: Date) -> Option<Weeks> {
        self.weeks.get(&d.monday()).copied()
    }

    /// Whether a slot takes place on a date (before exceptions).
    pub fn slot_occurs(&self, slot: &Slot, d: Date) -> bool {
        d.weekday() == slot.weekday
            && self.in_year(d)
            && !self.is_holiday(d)
            && slot.valid_on(d)
            && match slot.weeks {
                Weeks::All => true,
                w => self.week_of(d) == Some(w),
            }
    }
}

/// Weeks A and B alternating from `first_a` (a Monday) to `last`; when
/// `skip_holidays`, a week that is all holidays on its school days
/// (Monday to Friday) gets no letter and does not count.
pub fn alternate_weeks(
    first_a: Date,
    last: Date,
    holidays: &[(Date, Date)],
    skip_holidays: bool,
) -> Vec<(Date, Weeks)> {
    let cal = Calendar {
        holidays: holidays.to_vec(),
        ..Default::default()
    };
    let mut out = Vec::new();
    let mut next = Weeks::A;
    let mut monday = first_a.monday();
    while monday <= last {
        let off = (0..5).all(|i| cal.is_holiday(monday.add_days(i)));
        if !(skip_holidays && off) {
            out.push((monday, next));
            next = if next == Weeks::A { Weeks::B } else { Weeks::A };
        }
        monday = monday.add_days(7);
    }
    out
}

/// A change to the weeks A and B of a year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeekEdit {
    /// The letter of some weeks, by their Monday (`None`: no letter).
    Set(Vec<(Date, Option<Weeks>)>),
    /// From this week (its Monday) to the end of the year, alternating
    /// from `first`; weeks all holidays get no letter and do not count.
    AlternateFrom { monday: Date, first: Weeks },
}

/// The Mondays of the weeks of a school year, in order.
pub fn year_mondays(starts: Date, ends: Date) -> Vec<Date> {
    let mut out = Vec::new();
    let mut m = starts.monday();
    while m <= ends {
        out.push(m);
        m = m.add_days(7);
    }
    out
}

/// Whether a week (its Monday) is all holidays on its school days.
pub fn holiday_week(monday: Date, holidays: &[(Date, Date)]) -> bool {
    (0..5).all(|i| {
        let d = monday.add_days(i);
        holidays.iter().any(|&(a, b)| a <= d && d <= b)
    })
}

/// The weeks A/B of the year `(starts, ends)` after `edit` (pure), by
/// Monday; a French message when the edit names a day that is not a
/// Monday of the year, or a letter other than A or B to alternate from.
pub fn edit_weeks(
    (starts, ends): (Date, Date),
    holidays: &[(Date, Date)],
    current: &HashMap<Date, Weeks>,
    edit: &WeekEdit,
) -> Result<Vec<(Date, Weeks)>, String> {
    let in_year = |m: Date| -> Result<(), String> {
        if m.monday() != m || m < starts.monday() || m > ends {
            Err(format!(
                "Le {m} n'est pas le lundi d'une semaine de l'année scolaire."
            ))
        } else {
            Ok(())
        }
    };
    let mut weeks: std::collections::BTreeMap<Date, Weeks> = current
        .iter()
        .filter(|(m, w)| **w != Weeks::All && **m >= starts.monday() && **m <= ends)
        .map(|(m, w)| (*m, *w))
        .collect();
    match edit {
        WeekEdit::Set(list) => {
            for (m, w) in list {
                in_year(*m)?;
                match w {
                    Some(Weeks::All) => return Err("Une semaine est A, B ou sans lettre.".into()),
                    Some(w) => weeks.insert(*m, *w),
                    None => weeks.remove(m),
                };
            }
        }
        WeekEdit::AlternateFrom { monday, first } => {
            in_year(*monday)?;
            if *first == Weeks::All {
                return Err("L'alternance commence par une semaine A ou une semaine B.".into());
            }
            weeks.retain(|m, _| m < monday);
            let mut next = *first;
            for m in year_mondays(*monday, ends) {
                if !holiday_week(m, holidays) {
                    weeks.insert(m, next);
                    next = if next == Weeks::A { Weeks::B } else { Weeks::A };
                }
            }
        }
    }
    Ok(weeks.into_iter().collect())
}

/// A labelled change shown with a lesson.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    Cancelled {
        reason: String,
    },
    RoomChanged {
        from: String,
        to: String,
        reason: String,
    },
    /// This lesson was moved here from its slot's date and time.
    MovedFrom {
        date: Date,
        starts: Time,
        reason: String,
    },
    /// This lesson takes place elsewhere (shown on its slot's date).
    MovedTo {
        date: Date,
        starts: Time,
        reason: String,
    },
    Replacement {
        teacher_id: i64,
        instead_of: i64,
        reason: String,
    },
    Exceptional {
        reason: String,
    },
}

/// A concrete lesson.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lesson {
    pub slot_id: Option<i64>,
    /// The slot's own date (the key of a slot's lesson).
    pub slot_date: Option<Date>,
    pub exception_id: Option<i64>,
    pub date: Date,
    pub starts: Time,
    pub ends: Time,
    /// The service; its teacher is the replacement when there is one.
    pub service: Service,
    pub room: String,
    /// False when cancelled or moved away: shown, not taught.
    pub takes_place: bool,
    pub changes: Vec<Change>,
}

/// Lessons of `slots` from `from` to `to` (both included), by date, time
/// and slot. Exceptions may be given for any dates: those about other
/// dates are ignored, a lesson moved into the range from outside it is
/// found. A lesson moved away is still listed on its slot's date,
/// labelled and not taking place.
pub fn lessons(
    slots: &[Slot],
    exceptions: &[Exception],
    cal: &Calendar,
    from: Date,
    to: Date,
) -> Vec<Lesson> {
    let mut by_slot: HashMap<(i64, Date), Vec<&Exception>> = HashMap::new();
    let mut sorted: Vec<&Exception> = exceptions.iter().collect();
    sorted.sort_by_key(|e| e.id);
    for e in &sorted {
        if let Some(s) = e.slot_id {
            by_slot.entry((s, e.date)).or_default().push(e);
        }
    }
    let mut out = Vec::new();
    let build = |slot: &Slot, d: Date, out: &mut Vec<Lesson>| {
        let mut l = Lesson {
            slot_id: Some(slot.id),
            slot_date: Some(d),
            exception_id: None,
            date: d,
            starts: slot.starts,
            ends: slot.ends,
            service: slot.service.clone(),
            room: slot.room.clone(),
            takes_place: true,
            changes: Vec::new(),
        };
        let mut moved = None;
        for e in by_slot.get(&(slot.id, d)).map(Vec::as_slice).unwrap_or(&[]) {
            let reason = e.reason.clone();
            match &e.kind {
                ExceptionKind::Cancelled => {
                    l.takes_place = false;
                    l.changes.push(Change::Cancelled { reason });
                }
                ExceptionKind::Room { room } => {
                    l.changes.push(Change::RoomChanged {
                        from: l.room.clone(),
                        to: room.clone(),
                        reason,
                    });
                    l.room = room.clone();
                }
                ExceptionKind::Replacement { teacher_id } => {
                    l.changes.push(Change::Replacement {
                        teacher_id: *teacher_id,
                        instead_of: slot.service.teacher_id,
                        reason,
                    });
                    l.service.teacher_id = *teacher_id;
                }
                ExceptionKind::Moved {
                    date,
                    starts,
                    ends,
                    room,
                } => moved = Some((*date, *starts, *ends, room.clone(), reason)),
                ExceptionKind::Extra { .. } => {}
            }
        }
        match moved {
            None => {
                if (from..=to).contains(&d) {
                    out.push(l);
                }
            }
            Some((date, starts, ends, room, reason)) => {
                if (from..=to).contains(&d) {
                    let mut away = l.clone();
                    away.takes_place = false;
                    away.changes.push(Change::MovedTo {
                        date,
                        starts,
                        reason: reason.clone(),
                    });
                    out.push(away);
                }
                if (from..=to).contains(&date) {
                    l.changes.push(Change::MovedFrom {
                        date: d,
                        starts: l.starts,
                        reason,
                    });
                    l.date = date;
                    l.starts = starts;
                    l.ends = ends;
                    if let Some(r) = room {
                        l.room = r;
                    }
                    out.push(l);
                }
            }
        }
    };
    for d in from.through(to) {
        for slot in slots.iter().filter(|s| cal.slot_occurs(s, d)) {
            build(slot, d, &mut out);
        }
    }
    // Lessons moved into the range from a slot date outside it.
    for e in &sorted {
        if let (Some(sid), ExceptionKind::Moved { date, .. }) = (e.slot_id, &e.kind)
            && (from..=to).contains(date)
            && !(from..=to).contains(&e.date)
            && let Some(slot) = slots.iter().find(|s| s.id == sid)
            && cal.slot_occurs(slot, e.date)
        {
            build(slot, e.date, &mut out);
        }
    }
    for e in &sorted {
        if let ExceptionKind::Extra {
            service,
            starts,
            ends,
            room,
        } = &e.kind
            && (from..=to).contains(&e.date)
        {
            out.push(Lesson {
                slot_id: None,
                slot_date: None,
                exception_id: Some(e.id),
                date: e.date,
                starts: *starts,
                ends: *ends,
                service: service.clone(),
                room: room.clone(),
                takes_place: true,
                changes: vec![Change::Exceptional {
                    reason: e.reason.clone(),
                }],
            });
        }
    }
    out.sort_by(|a, b| {
        (a.date, a.starts, a.slot_id, a.exception_id, a.takes_place).cmp(&(
            b.date,
            b.starts,
            b.slot_id,
            b.exception_id,
            b.takes_place,
        ))
    });
    out
}

/// Two slots of one room at the same time in weeks that meet, in days
/// both are valid: `(i, j)` indexes into `slots`. Slots with the same
/// `group` (one course of several classes or teachers) share their room.
pub fn room_overlaps(slots: &[(Slot, Option<String>)]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for i in 0..slots.len() {
        for j in i + 1..slots.len() {
            let ((a, ga), (b, gb)) = (&slots[i], &slots[j]);
            if a.room.is_empty() || a.room != b.room || a.weekday != b.weekday {
                continue;
            }
            if ga.is_some() && ga == gb {
                continue;
            }
            let times = a.starts < b.ends && b.starts < a.ends;
            // Option's max takes the later start (None is "always");
            // the earlier end needs spelling out.
            let start = a.valid_from.max(b.valid_from);
            let end = match (a.valid_to, b.valid_to) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, None) | (None, x) => x,
            };
            let dates = match (start, end) {
                (Some(f), Some(t)) => f <= t,
                _ => true,
            };
            if times && dates && a.weeks.meets(b.weeks) {
                out.push((i, j));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn t(s: &str) -> Time {
        Time::parse(s).unwrap()
    }

    fn svc(teacher: i64) -> Service {
        Service {
            teacher_id: teacher,
            subject_code: "MATHS".into(),
            structure_id: 1,
        }
    }

    fn slot(id: i64, weekday: u8, starts: &str, weeks: Weeks) -> Slot {
        Slot {
            id,
            service: svc(10),
            weekday,
            starts: t(starts),
            ends: t(starts).plus(55).unwrap(),
            room: "B12".into(),
            weeks,
            valid_from: None,
            valid_to: None,
        }
    }

    /// 2026-11-30 is a Monday: weeks A, B, A from then on; the week of
    /// 2026-12-21 is a holiday.
    fn cal() -> Calendar {
        let holidays = vec![(d("2026-12-19"), d("2027-01-03"))];
        let weeks = alternate_weeks(d("2026-11-30"), d("2027-01-31"), &holidays, true);
        Calendar {
            year: Some((d("2026-09-01"), d("2027-07-04"))),
            holidays,
            weeks: weeks.into_iter().collect(),
        }
    }

    #[test]
    fn weeks_are_edited_one_by_one_or_alternating_from_a_week() {
        let d = |s| Date::parse(s).unwrap();
        let year = (d("2026-09-01"), d("2026-10-31"));
        // Toussaint: 2026-10-19 – 2026-10-30 (two weeks all holidays).
        let holidays = [(d("2026-10-17"), d("2026-11-01"))];
        let none = HashMap::new();
        let alt = |m, first| WeekEdit::AlternateFrom { monday: d(m), first };
        let all = edit_weeks(year, &holidays, &none, &alt("2026-08-31", Weeks::A)).unwrap();
        assert_eq!(all.len(), 7);
        assert_eq!(all[0], (d("2026-08-31"), Weeks::A));
        assert_eq!(all[6], (d("2026-10-12"), Weeks::A));
        let current: HashMap<Date, Weeks> = all.iter().copied().collect();
        // Alternating again from the 3rd week with B keeps the first two.
        let again = edit_weeks(year, &holidays, &current, &alt("2026-09-14", Weeks::B)).unwrap();
        let letters: String = again.iter().map(|(_, w)| w.as_str()).collect();
        assert_eq!(letters, "ABBABAB");
        // One week set, one cleared.
        let set = WeekEdit::Set(vec![(d("2026-08-31"), Some(Weeks::B)), (d("2026-09-07"), None)]);
        let one = edit_weeks(year, &holidays, &current, &set).unwrap();
        assert_eq!(one[0], (d("2026-08-31"), Weeks::B));
        assert!(one.iter().all(|(m, _)| *m != d("2026-09-07")));
        assert_eq!(one.len(), 6);
        // Refused: not a Monday, outside the year, "all".
        for bad in [
            alt("2026-09-15", Weeks::A),
            alt("2026-11-02", Weeks::A),
            alt("2026-08-24", Weeks::A),
            alt("2026-09-14", Weeks::All),
            WeekEdit::Set(vec![(d("2026-09-14"), Some(Weeks::All))]),
            WeekEdit::Set(vec![(d("2027-01-04"), Some(Weeks::A))]),
        ] {
            assert!(edit_weeks(year, &holidays, &current, &bad).is_err(), "{bad:?}");
        }
        assert_eq!(year_mondays(year.0, year.1).len(), 9);
        assert!(holiday_week(d("2026-10-19"), &holidays));
        assert!(!holiday_week(d("2026-10-12"), &holidays));
    }

    #[test]
    fn weeks_alternate_and_holiday_weeks_do_not_count() {
        let c = cal();
        assert_eq!(c.week_of(d("2026-12-02")), Some(Weeks::A));
        assert_eq!(c.week_of(d("2026-12-09")), Some(Weeks::B));
        assert_eq!(c.week_of(d("2026-12-16")), Some(Weeks::A));
        assert_eq!(c.week_of(d("2026-12-23")), None, "holidays");
        assert_eq!(c.week_of(d("2026-12-30")), None, "holidays");
        assert_eq!(c.week_of(d("2027-01-06")), Some(Weeks::B));
        let no_skip = alternate_weeks(d("2026-11-30"), d("2027-01-10"), &c.holidays, false);
        assert_eq!(no_skip.len(), 6);
        assert_eq!(no_skip[5], (d("2027-01-04"), Weeks::B));
    }

    #[test]
    fn slots_give_lessons_over_weeks_a_b_and_holidays() {
        let c = cal();
        let slots = [
            slot(1, 1, "08:00", Weeks::All),
            slot(2, 1, "09:00", Weeks::A),
            slot(3, 1, "10:00", Weeks::B),
        ];
        let l = lessons(&slots, &[], &c, d("2026-11-30"), d("2027-01-10"));
        let got: Vec<String> = l.iter().map(|l| format!("{} {}", l.date, l.starts)).collect();
        assert_eq!(
            got,
            [
                "2026-11-30 08:00",
                "2026-11-30 09:00",
                "2026-12-07 08:00",
                "2026-12-07 10:00",
                "2026-12-14 08:00",
                "2026-12-14 09:00",
                "2027-01-04 08:00",
                "2027-01-04 10:00",
            ]
        );
        // Outside the year, nothing.
        assert!(lessons(&slots, &[], &c, d("2027-08-02"), d("2027-08-08")).is_empty());
        // Validity dates.
        let mut s = slot(4, 1, "08:00", Weeks::All);
        s.valid_from = Some(d("2026-12-07"));
        s.valid_to = Some(d("2026-12-13"));
        let l = lessons(&[s], &[], &c, d("2026-11-30"), d("2026-12-20"));
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].date, d("2026-12-07"));
    }

    #[test]
    fn every_exception_type_is_applied_and_labelled() {
        let c = cal();
        let slots = [slot(1, 1, "08:00", Weeks::All), slot(2, 2, "14:00", Weeks::All)];
        let ex = |id, slot_id, date: &str, kind| Exception {
            id,
            slot_id,
            date: d(date),
            kind,
            reason: format!("r{id}"),
        };
        let exceptions = [
            ex(1, Some(1), "2026-11-30", ExceptionKind::Cancelled),
            ex(
                2,
                Some(2),
                "2026-12-01",
                ExceptionKind::Room { room: "CDI".into() },
            ),
            ex(
                3,
                Some(2),
                "2026-12-01",
                ExceptionKind::Replacement { teacher_id: 99 },
            ),
            ex(
                4,
                Some(1),
                "2026-12-07",
                ExceptionKind::Moved {
                    date: d("2026-12-09"),
                    starts: t("10:00"),
                    ends: t("11:00"),
                    room: Some("A1".into()),
                },
            ),
            ex(
                5,
                None,
                "2026-12-02",
                ExceptionKind::Extra {
                    service: svc(11),
                    starts: t("13:00"),
                    ends: t("15:00"),
                    room: "GYM".into(),
                },
            ),
            // About another date: ignored.
            ex(6, Some(2), "2026-12-08", ExceptionKind::Cancelled),
        ];
        let l = lessons(&slots, &exceptions, &c, d("2026-11-30"), d("2026-12-07"));
        let show: Vec<String> = l
            .iter()
            .map(|l| {
                format!(
                    "{} {} {} t{} {} {:?}",
                    l.date,
                    l.starts,
                    l.room,
                    l.service.teacher_id,
                    l.takes_place,
                    l.changes
                        .iter()
                        .map(|c| serde_json::to_value(c).unwrap()["change"]
                            .as_str()
                            .unwrap()
                            .to_string())
                        .collect::<Vec<_>>()
                )
            })
            .collect();
        assert_eq!(
            show,
            [
                "2026-11-30 08:00 B12 t10 false [\"cancelled\"]",
                "2026-12-01 14:00 CDI t99 true [\"room_changed\", \"replacement\"]",
                "2026-12-02 13:00 GYM t11 true [\"exceptional\"]",
                "2026-12-07 08:00 B12 t10 false [\"moved_to\"]",
            ]
        );
        match &l[1].changes[1] {
            Change::Replacement { instead_of, .. } => assert_eq!(*instead_of, 10),
            c => panic!("{c:?}"),
        }
        // The moved lesson appears on its new date, keyed by its slot date.
        let l = lessons(&slots, &exceptions, &c, d("2026-12-09"), d("2026-12-09"));
        assert_eq!(l.len(), 1);
        assert_eq!(
            (l[0].date, l[0].starts, l[0].room.as_str()),
            (d("2026-12-09"), t("10:00"), "A1")
        );
        assert_eq!(l[0].slot_date, Some(d("2026-12-07")));
        assert!(l[0].takes_place);
        assert!(matches!(l[0].changes[0], Change::MovedFrom { .. }));
    }

    #[test]
    fn overlapping_slots_in_a_room_are_found() {
        let a = slot(1, 1, "08:00", Weeks::All);
        let mut b = slot(2, 1, "08:30", Weeks::A);
        let mut c = slot(3, 1, "08:55", Weeks::All);
        let e = slot(4, 1, "08:00", Weeks::B);
        assert_eq!(room_overlaps(&[(a.clone(), None), (b.clone(), None)]), [(0, 1)]);
        assert!(
            room_overlaps(&[(a.clone(), None), (c.clone(), None)]).is_empty(),
            "back to back"
        );
        assert!(
            room_overlaps(&[(b.clone(), None), (e.clone(), None)]).is_empty(),
            "A and B"
        );
        assert!(room_overlaps(&[(a.clone(), Some("7".into())), (b.clone(), Some("7".into()))]).is_empty());
        b.room = "B13".into();
        assert!(room_overlaps(&[(a.clone(), None), (b, None)]).is_empty());
        c.starts = t("08:10");
        c.valid_from = Some(d("2027-01-01"));
        let mut a2 = a.clone();
        a2.valid_to = Some(d("2026-12-31"));
        assert!(
            room_overlaps(&[(a2, None), (c, None)]).is_empty(),
            "different validity"
        );
    }
}

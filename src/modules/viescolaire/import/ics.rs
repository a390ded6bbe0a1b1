//! Holidays from an iCalendar file (RFC 5545), such as the ministry's
//! calendar of a zone: every `VEVENT` with a `DTSTART` and a `SUMMARY`
//! becomes a holiday from its first to its last day (an all-day event's
//! `DTEND` is exclusive; without one, the event is one day). Folded lines
//! are unfolded; times are read for their date only.

use super::ImportError;
use crate::modules::viescolaire::calendar::Date;

/// One holiday: label, first and last day (included).
pub type Holiday = (String, Date, Date);

/// An event being read: its line, summary, start, end (and whether all-day).
type OpenEvent = (usize, Option<String>, Option<Date>, Option<(Date, bool)>);

fn unescape(s: &str) -> String {
    s.replace("\\n", " ")
        .replace("\\N", " ")
        .replace("\\,", ",")
        .replace("\\;", ";")
        .replace("\\\\", "\\")
}

/// Reads the holidays of an iCalendar file, or every problem with its line.
pub fn read(file: &str, bytes: &[u8]) -> Result<Vec<Holiday>, Vec<ImportError>> {
    let text = super::utf8(file, bytes).map_err(|e| vec![e])?;
    // Unfold: a line starting with a space or tab continues the previous.
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.trim_end_matches('\r');
        if let Some(rest) = raw.strip_prefix([' ', '\t'])
            && let Some(last) = lines.last_mut()
        {
            last.1.push_str(rest);
        } else if !raw.is_empty() {
            lines.push((i + 1, raw.to_string()));
        }
    }
    let mut problems = Vec::new();
    let mut out = Vec::new();
    let mut in_calendar = false;
    let mut ended = false;
    let mut event: Option<OpenEvent> = None;
    let last_line = lines.last().map_or(1, |l| l.0);
    if lines.first().is_none_or(|l| l.1 != "BEGIN:VCALENDAR") {
        return Err(vec![ImportError::new(
            file,
            1,
            "",
            "this is not an iCalendar file: it does not start with BEGIN:VCALENDAR",
        )]);
    }
    for (line, l) in &lines {
        let (name, value) = match l.split_once(':') {
            Some((n, v)) => (n, v),
            None => {
                problems.push(ImportError::new(
                    file,
                    *line,
                    "",
                    format!("not an iCalendar line: \"{l}\""),
                ));
                continue;
            }
        };
        let prop = name.split(';').next().unwrap_or("").to_ascii_uppercase();
        let date_of = |v: &str| Date::parse(v.get(..8).unwrap_or(v));
        match (prop.as_str(), value) {
            ("BEGIN", "VCALENDAR") => in_calendar = true,
            ("END", "VCALENDAR") => ended = true,
            ("BEGIN", "VEVENT") => event = Some((*line, None, None, None)),
            ("END", "VEVENT") => {
                let Some((at, summary, starts, ends)) = event.take() else {
                    problems.push(ImportError::new(
                        file,
                        *line,
                        "",
                        "END:VEVENT without BEGIN:VEVENT",
                    ));
                    continue;
                };
                let Some(starts) = starts else {
                    problems.push(ImportError::new(file, at, "", "an event without DTSTART"));
                    continue;
                };
                let last = match ends {
                    // All-day: DTEND is the day after.
                    Some((e, true)) => e.add_days(-1).max(starts),
                    Some((e, false)) => e.max(starts),
                    None => starts,
                };
                out.push((summary.unwrap_or_else(|| "Vacances".into()), starts, last));
            }
            ("SUMMARY", v) if event.is_some() => {
                if let Some(e) = event.as_mut() {
                    e.1 = Some(unescape(v).trim().to_string());
                }
            }
            ("DTSTART", v) | ("DTEND", v) if event.is_some() => {
                let all_day = v.len() == 8;
                match date_of(v) {
                    Some(d) => {
                        if let Some(e) = event.as_mut() {
                            if prop == "DTSTART" {
                                e.2 = Some(d);
                            } else {
                                e.3 = Some((d, all_day));
                            }
                        }
                    }
                    None => problems.push(ImportError::new(
                        file,
                        *line,
                        "",
                        format!("{prop} \"{v}\" is not a date"),
                    )),
                }
            }
            _ => {}
        }
    }
    if event.is_some() || !ended || !in_calendar {
        problems.push(
            ImportError::new(
                file,
                last_line,
                "",
                "the file ends before END:VCALENDAR: it is truncated",
            )
            .hint("download the calendar again; a truncated file changes nothing"),
        );
    }
    out.sort_by_key(|h| h.1);
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//FR\r\n\
BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261219\r\nDTEND;VALUE=DATE:20270104\r\nSUMMARY:Vacances de\r\n  No\\,l\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nDTSTART:20261017T000000Z\r\nDTEND:20261102T000000Z\r\nSUMMARY:Vacances de la Toussaint\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261111\r\nSUMMARY:Armistice\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

    #[test]
    fn holidays_are_read_with_exclusive_all_day_ends() {
        let h = read("zone-b.ics", ICS.as_bytes()).unwrap();
        let show: Vec<String> = h.iter().map(|(l, a, b)| format!("{l} {a} {b}")).collect();
        assert_eq!(
            show,
            [
                "Vacances de la Toussaint 2026-10-17 2026-11-02",
                "Armistice 2026-11-11 2026-11-11",
                "Vacances de No,l 2026-12-19 2027-01-03",
            ]
        );
    }

    #[test]
    fn bad_files_are_refused_with_their_line() {
        let cut = &ICS[..ICS.find("BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261111").unwrap() + 20];
        let e = read("zone-b.ics", cut.as_bytes()).unwrap_err();
        assert!(e.iter().any(|p| p.message.contains("truncated")), "{e:?}");
        let e = read("zone-b.ics", ICS.replace("20261111", "2026-1111").as_bytes()).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "zone-b.ics:16: DTSTART \"2026-1111\" is not a date"
        );
        let e = read("x.ics", b"hello\n").unwrap_err();
        assert!(e[0].message.contains("not an iCalendar file"));
        let e = read("x.ics", b"BEGIN:VCALENDAR\n\xff\n").unwrap_err();
        assert_eq!(e[0].line, 2);
    }
}

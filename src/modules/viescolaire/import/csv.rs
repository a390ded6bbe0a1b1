//! The timetable CSV (format in docs/viescolaire.md): UTF-8, `;` or `,`
//! separated, a header naming the columns (any order, any case):
//! `teacher;subject;class;day;start;end;room;weeks;from;to`; the first
//! six are required. `#` starts a comment line.

use super::{ImportError, RawSlot, TeacherRef};
use crate::modules::viescolaire::calendar::{Date, Time, parse_weekday};
use crate::modules::viescolaire::timetable::Weeks;

/// Splits one line into fields (double quotes, "" inside quotes); None
/// when a quote is left open.
fn fields(line: &str, sep: char) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cur.trim().is_empty() => {
                cur.clear();
                quoted = true;
            }
            (c, false) if c == sep => out.push(std::mem::take(&mut cur).trim().to_string()),
            (c, _) => cur.push(c),
        }
    }
    if quoted {
        return None;
    }
    out.push(cur.trim().to_string());
    Some(out)
}

const COLUMNS: [&str; 10] = [
    "teacher", "subject", "class", "day", "start", "end", "room", "weeks", "from", "to",
];
const REQUIRED: usize = 6;

/// Reads the CSV into raw slots, or every problem with its line.
pub fn read(file: &str, bytes: &[u8]) -> Result<Vec<RawSlot>, Vec<ImportError>> {
    let text = super::utf8(file, bytes).map_err(|e| vec![e])?;
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((hline, header)) = lines.next() else {
        return Err(vec![ImportError::new(file, 1, "", "the file is empty").hint(
            "the first line names the columns: teacher;subject;class;day;start;end;room;weeks;from;to",
        )]);
    };
    let sep = if header.contains(';') { ';' } else { ',' };
    let names: Vec<String> = fields(header, sep)
        .unwrap_or_default()
        .iter()
        .map(|h| h.to_lowercase())
        .collect();
    let mut index = [None; 10];
    let mut problems = Vec::new();
    for (i, col) in COLUMNS.iter().enumerate() {
        index[i] = names.iter().position(|n| n == col);
        if i < REQUIRED && index[i].is_none() {
            problems.push(
                ImportError::new(file, hline, "", format!("the header has no \"{col}\" column"))
                    .hint("the first line names the columns: teacher;subject;class;day;start;end;room;weeks;from;to"),
            );
        }
    }
    for n in &names {
        if !COLUMNS.contains(&n.as_str()) {
            problems.push(ImportError::new(
                file,
                hline,
                "",
                format!("unknown column \"{n}\""),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut out = Vec::new();
    for (line, l) in lines {
        let err = |m: String| ImportError::new(file, line, "", m);
        let Some(f) = fields(l, sep) else {
            problems.push(err(
                "a quoted field is not closed: the file is truncated or damaged".into(),
            ));
            continue;
        };
        if f.len() != names.len() {
            problems.push(err(format!(
                "{} fields where the header has {} (a truncated line?)",
                f.len(),
                names.len()
            )));
            continue;
        }
        let get = |c: usize| index[c].map(|i| f[i].as_str()).unwrap_or("");
        let mut bad = |what: &str, v: &str, hint: &str| {
            problems.push(err(format!("\"{v}\" is not a {what} ({hint})")));
        };
        let weekday = parse_weekday(get(3));
        let starts = Time::parse(get(4));
        let ends = Time::parse(get(5));
        let weeks = Weeks::parse(get(7));
        let date = |s: &str| {
            if s.is_empty() {
                Some(None)
            } else {
                Date::parse(s).map(Some)
            }
        };
        let (from, to) = (date(get(8)), date(get(9)));
        if weekday.is_none() {
            bad("day", get(3), "lundi … samedi");
        }
        if starts.is_none() {
            bad("start time", get(4), "HH:MM");
        }
        if ends.is_none() {
            bad("end time", get(5), "HH:MM");
        }
        if weeks.is_none() {
            bad("week", get(7), "all, A or B");
        }
        if from.is_none() {
            bad("date", get(8), "YYYY-MM-DD");
        }
        if to.is_none() {
            bad("date", get(9), "YYYY-MM-DD");
        }
        for (c, what) in [(0, "teacher"), (1, "subject"), (2, "class")] {
            if get(c).is_empty() {
                problems.push(err(format!("no {what}")));
            }
        }
        if let (Some(weekday), Some(starts), Some(ends), Some(weeks), Some(valid_from), Some(valid_to)) =
            (weekday, starts, ends, weeks, from, to)
        {
            out.push(RawSlot {
                line,
                teacher: TeacherRef::Login(get(0).to_string()),
                subject: get(1).to_string(),
                subject_label: String::new(),
                structure: get(2).to_string(),
                weekday,
                starts,
                ends,
                room: get(6).to_string(),
                weeks,
                valid_from,
                valid_to,
                course: None,
            });
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{demo, teacher_of};
    use super::super::{Lookup, resolve};

    fn import(text: &str) -> Result<usize, String> {
        let (_d, store) = demo();
        let raws = super::read("edt.csv", text.as_bytes()).map_err(|p| super::super::report(&p))?;
        let lookup = Lookup::load(store.conn()).unwrap();
        resolve("edt.csv", &lookup, &raws, "csv")
            .map(|s| s.len())
            .map_err(|p| super::super::report(&p))
    }

    fn good() -> String {
        let (_d, store) = demo();
        let (maths, ..) = teacher_of(&store, "061300");
        let (french, ..) = teacher_of(&store, "020100");
        format!(
            "# Emploi du temps 2026-2027\n\
             teacher;subject;class;day;start;end;room;weeks;from;to\n\
             {maths};061300;6A;lundi;08:00;08:55;B12;all;;\n\
             {maths};MATHS;5A;lundi;09:00;09:55;B12;A;;\n\
             {french};FRANCAIS;6A;mardi;10:00;10:55;\"B 14\";B;2026-09-01;2027-07-04\n"
        )
    }

    #[test]
    fn a_good_file_resolves_against_the_directory() {
        assert_eq!(import(&good()), Ok(3));
        // Comma separated, columns in another order, CRLF, a BOM.
        let (_d, store) = demo();
        let (maths, ..) = teacher_of(&store, "061300");
        let text =
            format!("\u{feff}class,teacher,subject,day,start,end\r\n6A,{maths},MATHS,Monday,8h00,8h55\r\n");
        assert_eq!(import(&text), Ok(1));
    }

    #[test]
    fn bad_inputs_give_file_and_line() {
        let base = good();
        // Unknown teacher.
        let (_d, store) = demo();
        let (maths, ..) = teacher_of(&store, "061300");
        let unknown = base.replacen(&format!("{maths};061300"), "nobody.here;061300", 1);
        let e = import(&unknown).unwrap_err();
        assert!(e.contains("edt.csv:3: unknown teacher \"nobody.here\""), "{e}");
        // Overlapping slots in a room.
        let overlap = base
            .replace("5A;lundi;09:00", "5A;lundi;08:30")
            .replace(";A;;", ";all;;");
        let e = import(&overlap).unwrap_err();
        assert!(
            e.contains("edt.csv:4: room B12 is already taken at this time by the lesson of line 3"),
            "{e}"
        );
        // Truncated file: the last line cut in the middle.
        let cut = &base[..base.len() - 25];
        let e = import(cut).unwrap_err();
        assert!(e.contains("edt.csv:5:") && e.contains("truncated"), "{e}");
        let cut = base.replace("\"B 14\";B;2026-09-01;2027-07-04\n", "\"B 14");
        assert!(import(&cut).unwrap_err().contains("not closed"));
        // Wrong encoding: Latin-1 bytes.
        let mut latin = base.clone().into_bytes();
        latin.extend(b"x;061300;6A;\xe9t\xe9;08:00;08:55;B12;all;;\n");
        let raws = super::read("edt.csv", &latin).unwrap_err();
        assert_eq!(
            raws[0].to_string().lines().next().unwrap(),
            "edt.csv:6: the file is not UTF-8 text"
        );
        // Bad values, all reported.
        let bad = base.replace("lundi;08:00;08:55;B12;all", "lunedi;8:7;08:55;B12;C");
        let e = import(&bad).unwrap_err();
        assert!(
            e.contains("3 problem(s)") && e.contains("\"lunedi\" is not a day"),
            "{e}"
        );
        // Unknown class, missing column, empty file.
        assert!(
            import(&base.replace(";6A;mardi", ";6Z;mardi"))
                .unwrap_err()
                .contains("edt.csv:5: unknown class or group \"6Z\"")
        );
        assert!(
            import("teacher;subject;day;start;end\n")
                .unwrap_err()
                .contains("no \"class\" column")
        );
        assert!(import("").unwrap_err().contains("empty"));
    }
}

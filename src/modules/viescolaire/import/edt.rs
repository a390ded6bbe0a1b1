//! Index Education EDT's plain XML export of courses, `EXP_COURS.xml`:
//! root `TABLE`, one `Cours` (or `Cours_annuels`) element per course
//! with child elements `NUMERO`, `DUREE` ("1h00"), `FREQUENCE` /
//! `ALTERNANCE` ("H" every week, "Q1" week A, "Q2" week B), `MAT_CODE`,
//! `MAT_LIBELLE`, `PROF_NOM`, `PROF_PRENOM` (comma-separated when
//! co-taught), `CLASSE` (a class, a "[GROUP]", or a comma-separated
//! list), `SALLE`, `JOUR` ("lundi"), `H.DEBUT` ("  09h00"), and others
//! this importer does not need (`MODALITE`, `CO-ENS.`, `POND.`,
//! `EFFECTIF`). The field list was learned from GEPI's public
//! `edt_organisation/import_edt_edt.php`. The encoding is the one the
//! XML declaration names (EDT writes ISO-8859-1).

use super::{ImportError, RawSlot, TeacherRef};
use crate::directory::import::xml;
use crate::modules::viescolaire::calendar::{Time, parse_weekday};
use crate::modules::viescolaire::timetable::Weeks;

fn split(s: &str) -> Vec<String> {
    s.split(',')
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// Reads an EXP_COURS.xml into raw slots, or every problem with its line.
pub fn read(file: &str, bytes: &[u8]) -> Result<Vec<RawSlot>, Vec<ImportError>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let (root, root_line) = xml::stream(file, bytes, &["TABLE/Cours", "TABLE/Cours_annuels"], |rec| {
        let line = rec.line;
        let mut err = |m: String| problems.push(ImportError::new(file, line, &rec.name, m));
        let field = |name: &str| rec.get(name).unwrap_or("").to_string();
        let numero = rec.get("NUMERO").or(rec.attr("numero")).unwrap_or("").to_string();
        let weekday = parse_weekday(&field("JOUR"));
        let starts = Time::parse(&field("H.DEBUT"));
        let duration = Time::parse(&field("DUREE")).map(Time::minutes);
        let alternance = rec.get("ALTERNANCE").or(rec.get("FREQUENCE")).unwrap_or("H");
        let weeks = Weeks::parse(alternance);
        if weekday.is_none() {
            err(format!("JOUR \"{}\" is not a day", field("JOUR")));
        }
        if starts.is_none() {
            err(format!("H.DEBUT \"{}\" is not a time", field("H.DEBUT")));
        }
        if duration.is_none_or(|d| d == 0) {
            err(format!(
                "DUREE \"{}\" is not a duration such as 1h00",
                field("DUREE")
            ));
        }
        if weeks.is_none() {
            err(format!("unknown week alternation \"{alternance}\" (H, Q1 or Q2)"));
        }
        let last = split(&field("PROF_NOM"));
        let first = split(&field("PROF_PRENOM"));
        let classes = split(&field("CLASSE"));
        if last.is_empty() {
            err("the course has no teacher (PROF_NOM)".into());
        }
        if classes.is_empty() {
            err("the course has no class or group (CLASSE)".into());
        }
        let ends = starts.zip(duration).and_then(|(s, d)| s.plus(d));
        if starts.is_some() && duration.is_some() && ends.is_none() {
            err("the course ends after midnight".into());
        }
        if let (Some(weekday), Some(starts), Some(ends), Some(weeks)) = (weekday, starts, ends, weeks) {
            for (i, l) in last.iter().enumerate() {
                for c in &classes {
                    out.push(RawSlot {
                        line,
                        teacher: TeacherRef::Name {
                            last: l.clone(),
                            first: first.get(i).cloned().unwrap_or_default(),
                        },
                        subject: field("MAT_CODE"),
                        subject_label: field("MAT_LIBELLE"),
                        structure: c.clone(),
                        weekday,
                        starts,
                        ends,
                        room: field("SALLE"),
                        weeks,
                        valid_from: None,
                        valid_to: None,
                        course: Some(if numero.is_empty() {
                            format!("line {line}")
                        } else {
                            numero.clone()
                        }),
                    });
                }
            }
        }
        Ok(())
    })
    .map_err(|e| vec![e])?;
    if !root.eq_ignore_ascii_case("TABLE") {
        return Err(vec![
            ImportError::new(
                file,
                root_line,
                &root,
                "this is not an EDT export of courses: its root should be TABLE",
            )
            .hint("export EXP_COURS.xml from EDT (Fichier, Autres imports/exports, XML)"),
        ]);
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
    use super::super::{Lookup, report, resolve};

    #[allow(clippy::too_many_arguments)]
    fn course(
        n: u32,
        last: &str,
        first: &str,
        code: &str,
        class: &str,
        room: &str,
        day: &str,
        at: &str,
        freq: &str,
    ) -> String {
        format!(
            "<Cours numero=\"{n}\">\n<NUMERO>{n}</NUMERO>\n<DUREE>1h00</DUREE>\n<FREQUENCE>{freq}</FREQUENCE>\n\
             <MAT_CODE>{code}</MAT_CODE>\n<MAT_LIBELLE>X</MAT_LIBELLE>\n<PROF_NOM>{last}</PROF_NOM>\n\
             <PROF_PRENOM>{first}</PROF_PRENOM>\n<CLASSE>{class}</CLASSE>\n<SALLE>{room}</SALLE>\n\
             <ALTERNANCE>{freq}</ALTERNANCE>\n<MODALITE>CG</MODALITE>\n<CO-ENS.>N</CO-ENS.>\n<POND.>1</POND.>\n\
             <JOUR>{day}</JOUR>\n<H.DEBUT>  {at}</H.DEBUT>\n<EFFECTIF>26</EFFECTIF>\n</Cours>\n"
        )
    }

    fn file(courses: &[String]) -> Vec<u8> {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<TABLE nom=\"Cours\">\n{}</TABLE>\n",
            courses.concat()
        );
        // Encoded as the declaration says.
        encoding_rs::WINDOWS_1252.encode(&body).0.into_owned()
    }

    fn import(bytes: &[u8]) -> Result<usize, String> {
        let (_d, store) = demo();
        let raws = super::read("EXP_COURS.xml", bytes).map_err(|p| report(&p))?;
        let lookup = Lookup::load(store.conn()).unwrap();
        resolve("EXP_COURS.xml", &lookup, &raws, "edt")
            .map(|s| s.len())
            .map_err(|p| report(&p))
    }

    fn courses() -> Vec<String> {
        let (_d, store) = demo();
        let (_, ml, mf) = teacher_of(&store, "061300");
        let (_, fl, ff) = teacher_of(&store, "020100");
        let (_, ll, lf) = {
            let c = store.conn();
            c.query_row(
                "SELECT p.login, p.last_name, p.first_name FROM services v JOIN people p ON p.id = v.teacher_id
                 JOIN structures s ON s.id = v.structure_id WHERE s.code = '6LATIN'",
                [],
                |r| Ok::<(String, String, String), _>((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
        };
        vec![
            course(
                1,
                &ml.to_uppercase(),
                &mf.to_uppercase(),
                "MATHS",
                "6A",
                "14",
                "lundi",
                "08h00",
                "H",
            ),
            course(
                2,
                &ml.to_uppercase(),
                &mf.to_uppercase(),
                "MATHS",
                "5A",
                "14",
                "lundi",
                "09h00",
                "Q1",
            ),
            course(3, &fl, &ff, "FRANCAIS", "6A", "CDI", "mardi", "10h00", "Q2"),
            course(4, &ll, &lf, "LCALA", "[6LATIN]", "22", "jeudi", "15h00", "H"),
        ]
    }

    #[test]
    fn an_edt_export_is_read_in_its_declared_encoding() {
        assert_eq!(import(&file(&courses())), Ok(4));
        // A name with an accent, written in ISO-8859-1.
        let mut c = courses();
        c.push(course(
            5,
            "Élodie-Inconnue",
            "Zoé",
            "MATHS",
            "6A",
            "15",
            "lundi",
            "08h00",
            "H",
        ));
        let e = import(&file(&c)).unwrap_err();
        assert!(
            e.contains("EXP_COURS.xml:") && e.contains("unknown teacher \"Zoé Élodie-Inconnue\""),
            "{e}"
        );
    }

    #[test]
    fn bad_inputs_give_file_and_line_and_nothing() {
        let c = courses();
        // Overlap: course 2 moved to 08h30 every week in room 14.
        let mut o = c.clone();
        o[1] = o[1].replace("09h00", "08h30").replace("Q1", "H");
        let e = import(&file(&o)).unwrap_err();
        assert!(
            e.contains("room 14 is already taken at this time by the lesson of line 3"),
            "{e}"
        );
        // Truncated file.
        let whole = file(&c);
        let e = import(&whole[..whole.len() - 200]).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
        // Not a course export.
        let e = import(b"<?xml version=\"1.0\"?>\n<STS_EDT></STS_EDT>\n").unwrap_err();
        assert!(
            e.contains("EXP_COURS.xml:2: <STS_EDT>: this is not an EDT export"),
            "{e}"
        );
        // Wrong encoding: declared UTF-8, written in Latin-1.
        let replace = |b: &[u8], from: &[u8], to: &[u8]| -> Vec<u8> {
            let at = b.windows(from.len()).position(|w| w == from).unwrap();
            [&b[..at], to, &b[at + from.len()..]].concat()
        };
        let bytes = replace(&replace(&whole, b"ISO-8859-1", b"UTF-8"), b"CDI", b"CD\xE9");
        let e = import(&bytes).unwrap_err();
        assert!(e.contains("EXP_COURS.xml:"), "{e}");
        // Bad values.
        let mut b = c.clone();
        b[0] = b[0]
            .replace("lundi", "lunedi")
            .replace("<FREQUENCE>H", "<FREQUENCE>Q9")
            .replace("<ALTERNANCE>H", "<ALTERNANCE>Q9");
        let e = import(&file(&b)).unwrap_err();
        assert!(
            e.contains("JOUR \"lunedi\"") && e.contains("unknown week alternation \"Q9\""),
            "{e}"
        );
    }
}

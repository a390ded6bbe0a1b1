//! Login sheets: one HTML page per class with one slip per person (print
//! CSS: slips never split across pages), and the same as CSV.

use crate::directory::{self, Filter, Kind, Person, Status};
use rusqlite::Connection;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

fn csv_field(s: &str) -> String {
    if s.contains([';', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One slip's data.
pub struct Slip {
    pub person: Person,
    pub group: String,
    /// The initial password, or None once the person chose their own.
    pub password: Option<String>,
}

/// One slip as the templates show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlipView {
    pub name: String,
    pub group: String,
    pub login: String,
    pub password: Option<String>,
}

impl Slip {
    pub fn view(&self) -> SlipView {
        SlipView {
            name: self.person.full_name(),
            group: self.group.clone(),
            login: self.person.login.clone(),
            password: self.password.clone(),
        }
    }
}

/// The sheet file's own CSS (the file is opened from disk, so its style
/// is inside it; the web console links its stylesheet instead).
const SHEET_CSS: &str = "body { font-family: sans-serif; margin: 1cm; }
h1 { font-size: 14pt; }
.slips { display: grid; grid-template-columns: 1fr 1fr; gap: 0.5cm; }
.slip { border: 1px dashed #444; padding: 0.4cm; break-inside: avoid; page-break-inside: avoid; }
.slip h2 { font-size: 12pt; margin: 0 0 0.2cm 0; }
.slip .etab { font-size: 8pt; color: #444; }
.slip dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.1cm 0.3cm; margin: 0.2cm 0; }
.slip dd { font-family: monospace; font-size: 13pt; margin: 0; }
.slip .note { font-size: 8pt; }
@media print { h1 { display: none; } body { margin: 0; } @page { margin: 1cm; } }";

/// The stand-alone sheet file (template `sheet_file.html`, shared slips
/// with the console's `slips_body.html`).
#[derive(askama::Template)]
#[template(path = "sheet_file.html")]
struct SheetFile<'a> {
    title: &'a str,
    establishment: &'a str,
    css: &'a str,
    slips: Vec<SlipView>,
}

/// The HTML page of one class.
pub fn html(establishment: &str, title: &str, slips: &[Slip]) -> String {
    use askama::Template;
    SheetFile {
        title,
        establishment,
        css: SHEET_CSS,
        slips: slips.iter().map(Slip::view).collect(),
    }
    .render()
    .unwrap_or_default()
}

pub fn csv(slips: &[Slip]) -> String {
    let mut out = String::from("classe;nom;prenom;identifiant;mot_de_passe\n");
    for s in slips {
        out.push_str(&format!(
            "{};{};{};{};{}\n",
            csv_field(&s.group),
            csv_field(&s.person.last_name),
            csv_field(&s.person.first_name),
            s.person.login,
            csv_field(s.password.as_deref().unwrap_or(""))
        ));
    }
    out
}

fn initial_password(conn: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT initial_password FROM people WHERE id = ?1", [id], |r| {
        r.get(0)
    })
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

/// The slips of the active students of a class or group, by name.
pub fn slips_of(conn: &Connection, code: &str) -> rusqlite::Result<Vec<Slip>> {
    let mut slips = Vec::new();
    for p in directory::students_of(conn, code)? {
        let password = initial_password(conn, p.id)?;
        slips.push(Slip {
            person: p,
            group: code.to_string(),
            password,
        });
    }
    Ok(slips)
}

/// The initial password of a person, or None once they chose their own.
pub fn initial_password_of(conn: &Connection, person_id: i64) -> rusqlite::Result<Option<String>> {
    initial_password(conn, person_id)
}

/// Writes `<code>.html` and `<code>.csv` per class (or only `only`), and
/// `personnels.*` with `staff`. Returns the files written.
pub fn write_all(
    conn: &Connection,
    establishment: &str,
    only: Option<&str>,
    staff: bool,
    out: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut pages: Vec<(String, Vec<Slip>)> = Vec::new();
    let codes: Vec<String> = match only {
        Some(c) => vec![c.to_string()],
        None => directory::classes(conn)?.into_iter().map(|c| c.code).collect(),
    };
    for code in codes {
        let slips = slips_of(conn, &code)?;
        pages.push((code, slips));
    }
    if staff {
        let mut slips = Vec::new();
        for kind in [Kind::Teacher, Kind::Staff] {
            for p in directory::people(
                conn,
                &Filter {
                    kind: Some(kind),
                    status: Some(Status::Active),
                    structure: None,
                },
            )? {
                let password = initial_password(conn, p.id)?;
                slips.push(Slip {
                    person: p,
                    group: kind.label_fr().into(),
                    password,
                });
            }
        }
        pages.push(("personnels".into(), slips));
    }
    let mut written = Vec::new();
    for (code, slips) in pages {
        let safe: String = code
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let h = out.join(format!("{safe}.html"));
        write_private(&h, &html(establishment, &code, &slips))?;
        let c = out.join(format!("{safe}.csv"));
        write_private(&c, &csv(&slips))?;
        written.extend([h, c]);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slips_are_escaped_and_printable() {
        let person = Person {
            id: 1,
            kind: Kind::Student,
            source: "siecle".into(),
            national_key: None,
            ine: None,
            last_name: "D'ARTAGNAN <x>".into(),
            first_name: "Léa".into(),
            birth_date: None,
            function: None,
            email: None,
            postal_address: None,
            login: "lea.dartagnan".into(),
            uid: Some(10010),
            status: Status::Active,
            disabled_at: None,
            delete_after: None,
            must_change: false,
            created_at: String::new(),
            updated_at: String::new(),
        };
        let slips = vec![Slip {
            person,
            group: "6A".into(),
            password: Some("tavopiru42".into()),
        }];
        let page = html("Collège des Tilleuls", "6A", &slips);
        assert!(page.contains("D&#39;ARTAGNAN &#60;x&#62;"), "{page}");
        assert!(page.contains("page-break-inside: avoid"));
        assert!(page.contains("<dd>tavopiru42</dd>"));
        assert_eq!(
            csv(&slips),
            "classe;nom;prenom;identifiant;mot_de_passe\n6A;D'ARTAGNAN <x>;Léa;lea.dartagnan;tavopiru42\n"
        );
    }
}

//! Login sheets: one HTML page per class with one slip per person (print
//! CSS: slips never split across pages), and the same as CSV.

use crate::directory::{self, Filter, Kind, Person, Status};
use rusqlite::Connection;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

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

/// The HTML page of one class.
pub fn html(establishment: &str, title: &str, slips: &[Slip]) -> String {
    let mut out = format!(
        r#"<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>Identifiants — {t}</title>
<style>
  body {{ font-family: sans-serif; margin: 1cm; }}
  h1 {{ font-size: 14pt; }}
  .slips {{ display: grid; grid-template-columns: 1fr 1fr; gap: 0.5cm; }}
  .slip {{ border: 1px dashed #444; padding: 0.4cm; break-inside: avoid; page-break-inside: avoid; }}
  .slip h2 {{ font-size: 12pt; margin: 0 0 0.2cm 0; }}
  .slip .etab {{ font-size: 8pt; color: #444; }}
  .slip dl {{ display: grid; grid-template-columns: max-content 1fr; gap: 0.1cm 0.3cm; margin: 0.2cm 0; }}
  .slip dd {{ font-family: monospace; font-size: 13pt; margin: 0; }}
  .slip .note {{ font-size: 8pt; }}
  @media print {{ h1 {{ display: none; }} body {{ margin: 0; }} @page {{ margin: 1cm; }} }}
</style>
</head>
<body>
<h1>{e} — identifiants {t} ({n})</h1>
<div class="slips">
"#,
        t = esc(title),
        e = esc(establishment),
        n = slips.len()
    );
    for s in slips {
        let pw = match &s.password {
            Some(p) => format!("<dd>{}</dd>", esc(p)),
            None => "<dd><em>déjà personnalisé</em></dd>".into(),
        };
        out.push_str(&format!(
            r#"<div class="slip">
  <div class="etab">{e}</div>
  <h2>{name} — {group}</h2>
  <dl><dt>Identifiant</dt><dd>{login}</dd><dt>Mot de passe</dt>{pw}</dl>
  <div class="note">Garde ce papier en lieu sûr et ne donne ton mot de passe à personne.</div>
</div>
"#,
            e = esc(establishment),
            name = esc(&s.person.full_name()),
            group = esc(&s.group),
            login = esc(&s.person.login),
        ));
    }
    out.push_str("</div>\n</body>\n</html>\n");
    out
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
        let mut slips = Vec::new();
        for p in directory::students_of(conn, &code)? {
            let password = initial_password(conn, p.id)?;
            slips.push(Slip {
                person: p,
                group: code.clone(),
                password,
            });
        }
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
        assert!(page.contains("D'ARTAGNAN &lt;x&gt;"));
        assert!(page.contains("page-break-inside: avoid"));
        assert!(page.contains("<dd>tavopiru42</dd>"));
        assert_eq!(
            csv(&slips),
            "classe;nom;prenom;identifiant;mot_de_passe\n6A;D'ARTAGNAN <x>;Léa;lea.dartagnan;tavopiru42\n"
        );
    }
}

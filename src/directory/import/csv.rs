//! The CSV format for everyone the national exports do not cover.
//!
//! One header line, then one person a line; separator `;` (as French
//! spreadsheets write it) or `,`; fields may be double-quoted. UTF-8, or
//! Windows-1252 when the file is not valid UTF-8. Columns (any order,
//! case-insensitive; the first four are required):
//!
//! | column | meaning |
//! |---|---|
//! | `type` | `eleve`, `enseignant`, `personnel` or `parent` |
//! | `cle` | a stable key of yours, unique per type |
//! | `nom`, `prenom` | names |
//! | `naissance` | birth date, `JJ/MM/AAAA` or `AAAA-MM-JJ` |
//! | `classe` | a student's class |
//! | `groupes` | a student's groups, separated by spaces |
//! | `fonction` | a staff member's function |
//! | `email` | e-mail address |
//! | `enfants` | a parent's children: their `cle`, separated by spaces |

use super::{ImportError, Incoming, Link, Snapshot, iso_date};
use crate::directory::{Kind, StructureKind};
use std::collections::BTreeSet;
use std::io::Read;

fn split(line: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == sep && !quoted => out.push(std::mem::take(&mut cur).trim().to_string()),
            c => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

fn kind_of(s: &str) -> Option<Kind> {
    match s.to_lowercase().as_str() {
        "eleve" | "élève" | "student" => Some(Kind::Student),
        "enseignant" | "prof" | "teacher" => Some(Kind::Teacher),
        "personnel" | "staff" => Some(Kind::Staff),
        "parent" | "responsable" => Some(Kind::Parent),
        _ => None,
    }
}

pub fn read(file: &str, mut input: impl Read, snap: &mut Snapshot) -> Result<(), ImportError> {
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| ImportError::new(file, 0, "", format!("cannot read: {e}")))?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => encoding_rs::WINDOWS_1252.decode(e.as_bytes()).0.into_owned(),
    };
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(ImportError::new(file, 1, "", "the CSV file is empty"));
    };
    let sep = if header.contains(';') { ';' } else { ',' };
    let cols: Vec<String> = split(header, sep).into_iter().map(|c| c.to_lowercase()).collect();
    let col = |name: &str| cols.iter().position(|c| c == name);
    let (Some(ct), Some(ck), Some(cn), Some(cp)) = (col("type"), col("cle"), col("nom"), col("prenom"))
    else {
        return Err(ImportError::new(
            file,
            1,
            "header",
            "the header must name the columns type, cle, nom and prenom",
        )
        .hint("see docs/accounts.md for the CSV format"));
    };
    let (cb, cc, cg, cf, ce, cx) = (
        col("naissance"),
        col("classe"),
        col("groupes"),
        col("fonction"),
        col("email"),
        col("enfants"),
    );
    let mut links = BTreeSet::new();
    for (i, line) in lines {
        let n = i + 1;
        let f = split(line, sep);
        let get = |c: Option<usize>| {
            c.and_then(|c| f.get(c))
                .map(String::as_str)
                .filter(|v| !v.is_empty())
        };
        let kind = kind_of(get(Some(ct)).unwrap_or("")).ok_or_else(|| {
            ImportError::new(
                file,
                n,
                "type",
                format!("unknown type \"{}\"", get(Some(ct)).unwrap_or("")),
            )
            .hint("use eleve, enseignant, personnel or parent")
        })?;
        let key = get(Some(ck))
            .ok_or_else(|| ImportError::new(file, n, "cle", "the key is empty"))?
            .to_string();
        let last = get(Some(cn))
            .ok_or_else(|| ImportError::new(file, n, "nom", "the name is empty"))?
            .to_string();
        let first = get(Some(cp)).unwrap_or("").to_string();
        let mut structures = BTreeSet::new();
        if let Some(c) = get(cc) {
            structures.insert((StructureKind::Class, c.to_string()));
        }
        for g in get(cg).unwrap_or("").split([' ', ',']).filter(|g| !g.is_empty()) {
            structures.insert((StructureKind::Group, g.to_string()));
        }
        for child in get(cx).unwrap_or("").split([' ', ',']).filter(|g| !g.is_empty()) {
            links.insert(Link {
                parent_key: key.clone(),
                child_key: child.to_string(),
                legal: 1,
                relation: None,
            });
        }
        let birth = match get(cb) {
            Some(b) => Some(iso_date(b).ok_or_else(|| {
                ImportError::new(file, n, "naissance", format!("\"{b}\" is not a date"))
                    .hint("write JJ/MM/AAAA or AAAA-MM-JJ")
            })?),
            None => None,
        };
        let unplaced = kind == Kind::Student && !structures.iter().any(|(k, _)| *k == StructureKind::Class);
        snap.covers.insert((kind, "csv"));
        snap.add(Incoming {
            kind: Some(kind),
            source: "csv",
            key,
            last_name: last,
            first_name: first,
            birth_date: birth,
            function: get(cf).map(str::to_string),
            email: get(ce).map(str::to_string),
            structures,
            unplaced,
            file: file.into(),
            line: n,
            ..Default::default()
        })?;
    }
    if !links.is_empty() {
        snap.links.get_or_insert_with(BTreeSet::new).extend(links);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_people_and_links() {
        let csv = "type;cle;nom;prenom;naissance;classe;groupes;enfants\n\
                   eleve;E1;Martin;Léa;02/03/2014;6A;6LATIN;\n\
                   parent;R1;\"Martin; née Roux\";Anne;;;;E1\n";
        let mut snap = Snapshot::default();
        read("p.csv", csv.as_bytes(), &mut snap).unwrap();
        assert_eq!(snap.people.len(), 2);
        let lea = &snap.people[&(Kind::Student, "E1".to_string())];
        assert_eq!(lea.birth_date.as_deref(), Some("2014-03-02"));
        assert_eq!(lea.structures.len(), 2);
        assert_eq!(
            snap.people[&(Kind::Parent, "R1".to_string())].last_name,
            "Martin; née Roux"
        );
        assert_eq!(snap.links.as_ref().unwrap().len(), 1);
        let e = read(
            "b.csv",
            "type;cle;nom;prenom\nalien;1;a;b\n".as_bytes(),
            &mut Snapshot::default(),
        )
        .unwrap_err();
        assert_eq!(e.line, 2);
    }
}

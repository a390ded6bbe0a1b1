//! The LSU export (Livret Scolaire Unique, collèges): the national import
//! file `urn:fr:edu:scolarite:lsun:bilans:import` (schema 3.0, the
//! ministry's XSD is in `modules/viescolaire/lsun/`) for a class and a
//! period, written from the period's frozen report cards, with the
//! competences of the socle and the half-days of absence. Everything the
//! file needs and the school has not entered is listed, by name, before
//! anything is written.

use super::report::Card;
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

/// What the export needs besides the cards.
pub struct Context<'a> {
    /// The establishment's UAI.
    pub uai: &'a str,
    /// The head of establishment, as named on the file.
    pub principal: Option<String>,
    /// Year of the start of the school year, e.g. "2026".
    pub millesime: String,
    /// How many periods the year has.
    pub periods: usize,
    /// First day of the school year.
    pub year_starts: String,
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// At most `n` characters, trimmed.
fn cut(s: &str, n: usize) -> String {
    s.trim().chars().take(n).collect::<String>().trim().to_string()
}

fn positive(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|v| {
        !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) && !v.trim_start_matches('0').is_empty()
    })
}

/// One thing the LSU file needs that the school has not entered. Its
/// French wording ([`fmt::Display`]) is the one the web page and the
/// command line both show ([`missing_list`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// The establishment's UAI is not 8 characters.
    Uai(String),
    /// No active staff with STS function DIR.
    Principal,
    /// The class has no card for the period.
    NoCards,
    /// A student (named "First Last (login)") has no INE.
    Ine(String),
    /// A student has no SIECLE ELEVE_ID.
    EleveId(String),
    /// A student's card has no council decision.
    Council(String),
    /// A student's card has no general comment.
    GeneralComment(String),
    /// A student's card is not frozen.
    NotClosed(String),
    /// A student's card has no subject.
    NoSubject(String),
    /// (student, subject code): the code is not a six-character STS code.
    SubjectCode(String, String),
    /// (student, subject label): the subject has no teacher.
    SubjectTeacher(String, String),
    /// (teacher's name, login): no STS-web id.
    TeacherSts(String, String),
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Missing::Uai(uai) => write!(
                f,
                "l'UAI de l'établissement « {uai} » n'a pas 8 caractères ([establishment] uai)"
            ),
            Missing::Principal => f.write_str(
                "aucun chef d'établissement : l'annuaire n'a aucun personnel actif de fonction STS DIR",
            ),
            Missing::NoCards => f.write_str("la classe n'a aucun bulletin pour cette période"),
            Missing::Ine(who) => write!(f, "{who} : pas d'INE"),
            Missing::EleveId(who) => write!(
                f,
                "{who} : pas d'ELEVE_ID SIECLE (importez les élèves depuis SIECLE)"
            ),
            Missing::Council(who) => write!(f, "{who} : pas de décision du conseil de classe"),
            Missing::GeneralComment(who) => {
                write!(f, "{who} : pas d'appréciation générale du professeur principal")
            }
            Missing::NotClosed(who) => write!(f, "{who} : le bulletin n'est pas clos"),
            Missing::NoSubject(who) => write!(f, "{who} : aucune matière"),
            Missing::SubjectCode(who, code) => {
                write!(
                    f,
                    "{who} : la matière {code} n'a pas de code STS à six caractères"
                )
            }
            Missing::SubjectTeacher(who, label) => {
                write!(f, "{who} : la matière {label} n'a pas d'enseignant")
            }
            Missing::TeacherSts(name, login) => write!(
                f,
                "enseignant {name} ({login}) : pas d'identifiant STS-web (importez STS-web)"
            ),
        }
    }
}

/// What is missing, as shown (web page and command line alike): a
/// sentence, then one line per item.
pub fn missing_list(missing: &[Missing]) -> (String, Vec<String>) {
    (
        format!(
            "Le fichier LSU ne peut pas être écrit : il manque {} élément(s).",
            missing.len()
        ),
        missing.iter().map(ToString::to_string).collect(),
    )
}

/// Checks the cards and writes the file; or everything missing.
pub fn export(ctx: &Context<'_>, cards: &[Card]) -> Result<String, Vec<Missing>> {
    let mut missing = Vec::new();
    if ctx.uai.len() != 8 {
        missing.push(Missing::Uai(ctx.uai.to_string()));
    }
    let Some(principal) = ctx.principal.clone().filter(|p| !p.trim().is_empty()) else {
        missing.push(Missing::Principal);
        return Err(missing);
    };
    if cards.is_empty() {
        missing.push(Missing::NoCards);
    }
    let mut teachers: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut disciplines: BTreeMap<String, String> = BTreeMap::new();
    for c in cards {
        let who = format!("{} {} ({})", c.first_name, c.last_name, c.login);
        if c.ine.as_deref().is_none_or(|i| i.trim().is_empty()) {
            missing.push(Missing::Ine(who.clone()));
        }
        if positive(&c.eleve_id).is_none() {
            missing.push(Missing::EleveId(who.clone()));
        }
        if c.council_decision.as_deref().is_none_or(|d| d.trim().is_empty()) || c.council_date.is_none() {
            missing.push(Missing::Council(who.clone()));
        }
        if c.general_comment.as_deref().is_none_or(|d| d.trim().is_empty()) {
            missing.push(Missing::GeneralComment(who.clone()));
        }
        if c.frozen_at.is_none() {
            missing.push(Missing::NotClosed(who.clone()));
        }
        if c.subjects.is_empty() {
            missing.push(Missing::NoSubject(who.clone()));
        }
        for s in &c.subjects {
            if s.code.len() != 6 || !s.code.bytes().all(|b| b.is_ascii_alphanumeric()) {
                missing.push(Missing::SubjectCode(who.clone(), s.code.clone()));
            }
            if s.teachers.is_empty() {
                missing.push(Missing::SubjectTeacher(who.clone(), s.label.clone()));
            }
            disciplines
                .entry(s.code.clone())
                .or_insert_with(|| s.label.clone());
            for t in &s.teachers {
                match positive(&t.sts_id) {
                    Some(id) => {
                        teachers.insert(id.to_string(), (t.last_name.clone(), t.first_name.clone()));
                    }
                    None => {
                        let m = Missing::TeacherSts(t.name.clone(), t.login.clone());
                        if !missing.contains(&m) {
                            missing.push(m);
                        }
                    }
                }
            }
        }
    }
    if !missing.is_empty() {
        return Err(missing);
    }
    let mut x = String::new();
    let p = cards[0].period_number;
    let _ = write!(
        x,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <lsun-bilans xmlns=\"urn:fr:edu:scolarite:lsun:bilans:import\" schemaVersion=\"3.0\">\n\
         <entete><editeur>Préau</editeur><application>Préau</application><appliVersion>{}</appliVersion>\
         <etablissement>{}</etablissement></entete>\n<donnees>\n\
         <responsables-etab><responsable-etab id=\"RESP_1\" libelle=\"{}\"/></responsables-etab>\n<eleves>\n",
        env!("CARGO_PKG_VERSION"),
        esc(ctx.uai),
        esc(&cut(&principal, 100))
    );
    for c in cards {
        let _ = writeln!(
            x,
            "<eleve id=\"EL_{}\" id-be=\"{}\" nom=\"{}\" prenom=\"{}\" code-division=\"{}\"/>",
            c.student_id,
            positive(&c.eleve_id).unwrap_or("1").trim_start_matches('0'),
            esc(&cut(&c.last_name, 100)),
            esc(&cut(&c.first_name, 100)),
            esc(&cut(&c.class_code, 20))
        );
    }
    let _ = write!(
        x,
        "</eleves>\n<periodes><periode id=\"P_{p}\" millesime=\"{}\" indice=\"{p}\" nb-periodes=\"{}\"/></periodes>\n<disciplines>\n",
        esc(&ctx.millesime),
        ctx.periods.max(p as usize)
    );
    for (code, label) in &disciplines {
        let _ = writeln!(
            x,
            "<discipline id=\"DI_{code}\" code=\"{code}\" modalite-election=\"S\" libelle=\"{}\"/>",
            esc(&cut(label, 40))
        );
    }
    x.push_str("</disciplines>\n<enseignants>\n");
    for (id, (last, first)) in &teachers {
        let _ = writeln!(
            x,
            "<enseignant id=\"ENS_{id}\" type=\"epp\" id-sts=\"{}\" nom=\"{}\" prenom=\"{}\"/>",
            id.trim_start_matches('0'),
            esc(&cut(last, 100)),
            esc(&cut(first, 100))
        );
    }
    x.push_str("</enseignants>\n<bilans-periodiques>\n");
    for c in cards {
        let heads: Vec<String> = c
            .head_teachers
            .iter()
            .filter_map(|t| positive(&t.sts_id).map(|i| format!("ENS_{i}")))
            .filter(|r| teachers.contains_key(r.trim_start_matches("ENS_")))
            .collect();
        let verrou = c.frozen_at.clone().unwrap_or_default();
        let verrou = if verrou.len() == 16 {
            format!("{verrou}:00")
        } else {
            verrou
        };
        let _ = write!(
            x,
            "<bilan-periodique eleve-ref=\"EL_{}\" periode-ref=\"P_{p}\" date-conseil-classe=\"{}\" date-scolarite=\"{}\" \
             date-verrou=\"{}\" responsable-etab-ref=\"RESP_1\"{}>\n<liste-acquis>\n",
            c.student_id,
            c.council_date.as_deref().unwrap_or(""),
            esc(&ctx.year_starts),
            esc(&verrou),
            if heads.is_empty() {
                String::new()
            } else {
                format!(" prof-princ-refs=\"{}\"", heads.join(" "))
            }
        );
        for s in &c.subjects {
            let refs: Vec<String> = s
                .teachers
                .iter()
                .filter_map(|t| positive(&t.sts_id).map(|i| format!("ENS_{i}")))
                .collect();
            let mut attrs = format!(
                "discipline-ref=\"DI_{}\" enseignant-refs=\"{}\"",
                s.code,
                refs.join(" ")
            );
            match &s.average {
                Some(a) => {
                    let _ = write!(attrs, " moyenne-eleve=\"{}/20\"", cut(a, 5));
                }
                None => attrs.push_str(" eleve-non-note=\"true\""),
            }
            match &s.class_average {
                Some(a) => {
                    let _ = write!(attrs, " moyenne-structure=\"{}/20\"", cut(a, 5));
                }
                None => attrs.push_str(" structure-non-notee=\"true\""),
            }
            match s
                .comment
                .as_deref()
                .map(|t| cut(t, 600))
                .filter(|t| !t.is_empty())
            {
                Some(t) => {
                    let _ = writeln!(
                        x,
                        "<acquis {attrs}><appreciation>{}</appreciation></acquis>",
                        esc(&t)
                    );
                }
                None => {
                    let _ = writeln!(x, "<acquis {attrs}/>");
                }
            }
        }
        let _ = write!(
            x,
            "</liste-acquis>\n<acquis-conseils>{}</acquis-conseils>\n\
             <vie-scolaire nb-retards=\"{}\" nb-abs-justifiees=\"{}\" nb-abs-injustifiees=\"{}\" nb-heures-manquees=\"{}\"/>\n",
            esc(&cut(c.general_comment.as_deref().unwrap_or(""), 1000)),
            c.absences.late.min(999),
            c.absences.justified.min(999),
            c.absences.unjustified.min(999),
            c.absences.missed_lessons.min(999)
        );
        // The socle is given only whole (its eight components).
        if c.socle.len() == 8 {
            x.push_str("<socle>");
            for (code, level) in &c.socle {
                let _ = write!(x, "<domaine code=\"{}\" positionnement=\"{level}\"/>", esc(code));
            }
            x.push_str("</socle>\n");
        }
        x.push_str("</bilan-periodique>\n");
    }
    x.push_str("</bilans-periodiques>\n</donnees>\n</lsun-bilans>\n");
    Ok(x)
}

/// The head of establishment's name from the directory.
pub fn principal(conn: &rusqlite::Connection) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    conn.query_row(
        "SELECT first_name || ' ' || last_name FROM people WHERE status = 'active' AND function = 'DIR'
         ORDER BY id LIMIT 1",
        [],
        |r| r.get(0),
    )
    .optional()
}

#[cfg(test)]
mod french_tests {
    use super::*;

    #[test]
    fn missing_items_in_french() {
        let who = "Léa Martin (lea.martin)".to_string();
        assert_eq!(
            Missing::Council(who.clone()).to_string(),
            "Léa Martin (lea.martin) : pas de décision du conseil de classe"
        );
        assert_eq!(
            Missing::SubjectTeacher(who.clone(), "Mathématiques".into()).to_string(),
            "Léa Martin (lea.martin) : la matière Mathématiques n'a pas d'enseignant"
        );
        assert_eq!(
            Missing::TeacherSts("Paul Blanc".into(), "paul.blanc".into()).to_string(),
            "enseignant Paul Blanc (paul.blanc) : pas d'identifiant STS-web (importez STS-web)"
        );
        assert!(
            Missing::Uai("12".into())
                .to_string()
                .contains("« 12 » n'a pas 8 caractères")
        );
        assert_eq!(Missing::Ine("Léa (l)".into()).to_string(), "Léa (l) : pas d'INE");
        let (head, lines) = missing_list(&[Missing::Principal, Missing::NoCards]);
        assert_eq!(
            head,
            "Le fichier LSU ne peut pas être écrit : il manque 2 élément(s)."
        );
        assert_eq!(lines[1], "la classe n'a aucun bulletin pour cette période");
    }
}

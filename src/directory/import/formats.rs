//! SIECLE (BEE_ELEVES, BEE_RESPONSABLES) and STS-web (STS_EDT) records to
//! the snapshot.

use super::xml::{Record, stream};
use super::{ImportError, Incoming, Link, ReadOptions, ServiceIn, Snapshot, date_field};
use crate::directory::{Kind, StructureKind};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

const RECORDS: &[&str] = &[
    "BEE_ELEVES/PARAMETRES",
    "BEE_ELEVES/DONNEES/ELEVES/ELEVE",
    "BEE_ELEVES/DONNEES/STRUCTURES/STRUCTURES_ELEVE",
    "BEE_RESPONSABLES/PARAMETRES",
    "BEE_RESPONSABLES/DONNEES/PERSONNES/PERSONNE",
    "BEE_RESPONSABLES/DONNEES/RESPONSABLES/RESPONSABLE_ELEVE",
    "BEE_RESPONSABLES/DONNEES/ADRESSES/ADRESSE",
    "STS_EDT/PARAMETRES",
    "STS_EDT/NOMENCLATURES/MATIERES/MATIERE",
    "STS_EDT/DONNEES/INDIVIDUS/INDIVIDU",
    "STS_EDT/DONNEES/STRUCTURE/DIVISIONS/DIVISION",
    "STS_EDT/DONNEES/STRUCTURE/GROUPES/GROUPE",
];

/// An ADRESSE as the lines of a letter: LIGNE1..4_ADRESSE, then postcode
/// and town, then the country when it is not France. `None` when empty.
fn postal_address(r: &Record) -> Option<String> {
    let field = |f: &str| r.get(f).map(str::trim).filter(|v| !v.is_empty());
    let mut lines: Vec<String> = [
        "LIGNE1_ADRESSE",
        "LIGNE2_ADRESSE",
        "LIGNE3_ADRESSE",
        "LIGNE4_ADRESSE",
    ]
    .iter()
    .filter_map(|f| field(f))
    .map(str::to_string)
    .collect();
    let town = [field("CODE_POSTAL"), field("LIBELLE_POSTAL")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if !town.is_empty() {
        lines.push(town);
    }
    if let Some(country) = field("LL_PAYS").filter(|c| !c.eq_ignore_ascii_case("FRANCE")) {
        lines.push(country.to_string());
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Name preference of the exports: usage name, then birth name, then the
/// older single `NOM`.
fn last_name(r: &Record, fields: &[&str]) -> Option<String> {
    fields.iter().find_map(|f| r.get(f)).map(str::to_string)
}

#[derive(Default)]
struct State {
    uaj: Option<String>,
    students: BTreeMap<String, Incoming>,
    student_structures: BTreeMap<String, BTreeSet<(StructureKind, String)>>,
    /// Parents with the ADRESSE_ID of their address.
    parents: Vec<(Incoming, Option<String>)>,
    /// Postal addresses by ADRESSE_ID (they follow the people in the file).
    addresses: BTreeMap<String, String>,
    links: BTreeSet<Link>,
    staff: Vec<Incoming>,
    services: BTreeSet<ServiceIn>,
    /// Students placed in a pseudo-class of leavers (`Inactifs`).
    inactive: BTreeSet<String>,
}

pub fn read_xml(
    file: &str,
    input: impl Read,
    opts: &ReadOptions,
    snap: &mut Snapshot,
) -> Result<(), ImportError> {
    let mut st = State::default();
    let (root, root_line) = stream(file, input, RECORDS, |r| on_record(file, r, opts, &mut st, snap))?;
    let kinds: &[Kind] = match root.as_str() {
        "BEE_ELEVES" => &[Kind::Student],
        "BEE_RESPONSABLES" => &[Kind::Parent],
        "STS_EDT" => &[Kind::Teacher, Kind::Staff],
        other => {
            return Err(ImportError::new(
                file,
                1,
                other,
                format!("<{other}> is not a SIECLE or STS-web export"),
            )
            .hint("give ElevesSansAdresses.xml / ElevesAvecAdresses.xml (BEE_ELEVES), ResponsablesAvecAdresses.xml (BEE_RESPONSABLES), sts_emp_UAJ_YEAR.xml (STS_EDT) or a CSV file"));
        }
    };
    if st.uaj.is_none() {
        return Err(
            ImportError::new(
                file,
                root_line + 1,
                "PARAMETRES",
                format!("the file names no establishment: <PARAMETRES> with its <UAJ> should follow <{root}> (line {root_line})"),
            )
            .hint("export the whole file again from SIECLE or STS-web"),
        );
    }
    let source = if root == "STS_EDT" { "sts" } else { "siecle" };
    for k in kinds {
        snap.covers.insert((*k, source));
    }
    for (id, mut s) in std::mem::take(&mut st.students) {
        s.structures = st.student_structures.remove(&id).unwrap_or_default();
        let has_class = s.structures.iter().any(|(k, _)| *k == StructureKind::Class);
        if !has_class && st.inactive.contains(&id) {
            // SIECLE's pseudo-division of leavers: no class, leaving.
            s.departed = true;
            s.structures.clear();
        }
        if !has_class && !s.departed {
            snap.warnings.push(format!(
                "{}:{}: student {} {} (ELEVE_ID {id}) has no class: no account for now",
                s.file, s.line, s.first_name, s.last_name
            ));
            // Still known, so that an existing account is not disabled by
            // the missing class alone; diff keeps it as it is.
            s.unplaced = true;
        }
        snap.add(s)?;
    }
    for (mut p, address) in std::mem::take(&mut st.parents) {
        p.postal_address = address.and_then(|a| st.addresses.get(&a).cloned());
        snap.add(p)?;
    }
    if root == "BEE_RESPONSABLES" {
        snap.links
            .get_or_insert_with(BTreeSet::new)
            .extend(std::mem::take(&mut st.links));
    }
    for p in std::mem::take(&mut st.staff) {
        snap.add(p)?;
    }
    if root == "STS_EDT" {
        snap.services
            .get_or_insert_with(BTreeSet::new)
            .extend(std::mem::take(&mut st.services));
    }
    Ok(())
}

fn on_record(
    file: &str,
    r: Record,
    opts: &ReadOptions,
    st: &mut State,
    snap: &mut Snapshot,
) -> Result<(), ImportError> {
    let need = |value: Option<&str>, what: &str, line: usize| -> Result<String, ImportError> {
        value.map(str::to_string).ok_or_else(|| {
            ImportError::new(file, line, &r.name, format!("{what} is missing"))
                .hint("the export is incomplete: export it again")
        })
    };
    match r.path.as_str() {
        p if p.ends_with("/PARAMETRES") => {
            // SIECLE: <UAJ>0999999X</UAJ>; STS: <UAJ CODE="0999999X">.
            let uaj = r.get("UAJ").map(str::to_string).or_else(|| {
                r.nodes
                    .iter()
                    .find(|n| n.path == "UAJ")
                    .and_then(|n| n.attr("CODE").map(str::to_string))
            });
            let uaj = need(uaj.as_deref(), "the establishment code (UAJ)", r.line)?;
            if !opts.uai.is_empty() && !uaj.eq_ignore_ascii_case(&opts.uai) {
                return Err(ImportError::new(
                    file,
                    r.line_of("UAJ"),
                    "UAJ",
                    format!(
                        "this file is for establishment {uaj}, this server is {}",
                        opts.uai
                    ),
                )
                .hint("import the exports of this establishment, or correct [establishment] uai"));
            }
            st.uaj = Some(uaj);
            let year = r.get("ANNEE_SCOLAIRE").map(str::to_string).or_else(|| {
                r.nodes
                    .iter()
                    .find(|n| n.path == "ANNEE_SCOLAIRE")
                    .and_then(|n| n.attr("ANNEE").map(str::to_string))
            });
            if year.is_some() {
                snap.year = year;
            }
        }
        "BEE_ELEVES/DONNEES/ELEVES/ELEVE" => {
            let id = need(r.attr("ELEVE_ID"), "the ELEVE_ID attribute", r.line)?;
            let last = need(
                last_name(&r, &["NOM_USAGE", "NOM_DE_FAMILLE", "NOM"]).as_deref(),
                "the name (NOM_USAGE, NOM_DE_FAMILLE or NOM)",
                r.line,
            )?;
            let first = need(r.get("PRENOM"), "the first name (PRENOM)", r.line)?;
            let departed = date_field(
                r.get("DATE_SORTIE"),
                "DATE_SORTIE",
                file,
                r.line,
                &mut snap.warnings,
            )
            .is_some_and(|d| d.as_str() <= opts.today.as_str());
            let p = Incoming {
                kind: Some(Kind::Student),
                source: "siecle",
                key: id.clone(),
                ine: r.get("ID_NATIONAL").map(str::to_string),
                last_name: last,
                first_name: first,
                birth_date: date_field(
                    r.get("DATE_NAISS"),
                    "DATE_NAISS",
                    file,
                    r.line,
                    &mut snap.warnings,
                ),
                departed,
                file: file.into(),
                line: r.line,
                ..Default::default()
            };
            if let Some(first) = st.students.get(&id) {
                return Err(ImportError::new(
                    file,
                    r.line,
                    "ELEVE",
                    format!("ELEVE_ID {id} is given twice (first at line {})", first.line),
                )
                .hint("a national key identifies one student: the export is damaged; export it again"));
            }
            st.students.insert(id, p);
        }
        "BEE_ELEVES/DONNEES/STRUCTURES/STRUCTURES_ELEVE" => {
            let id = need(r.attr("ELEVE_ID"), "the ELEVE_ID attribute", r.line)?;
            let set = st.student_structures.entry(id.clone()).or_default();
            let mut code: Option<String> = None;
            for n in &r.nodes {
                match n.path.as_str() {
                    "STRUCTURE/CODE_STRUCTURE" => code = Some(n.text.trim().to_string()),
                    "STRUCTURE/TYPE_STRUCTURE" => {
                        let kind = match n.text.trim() {
                            "D" => StructureKind::Class,
                            _ => StructureKind::Group,
                        };
                        if let Some(c) = code.take().filter(|c| !c.is_empty()) {
                            if kind == StructureKind::Class && opts.is_inactive_class(&c) {
                                st.inactive.insert(id.clone());
                            } else {
                                set.insert((kind, c));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        "BEE_RESPONSABLES/DONNEES/PERSONNES/PERSONNE" => {
            let id = need(r.attr("PERSONNE_ID"), "the PERSONNE_ID attribute", r.line)?;
            let last = need(
                last_name(&r, &["NOM_USAGE", "NOM_DE_FAMILLE", "NOM"]).as_deref(),
                "the name (NOM_USAGE, NOM_DE_FAMILLE or NOM)",
                r.line,
            )?;
            let parent = Incoming {
                kind: Some(Kind::Parent),
                source: "siecle",
                key: id,
                last_name: last,
                first_name: r.get("PRENOM").unwrap_or("").to_string(),
                email: r.get("MEL").map(str::to_string),
                file: file.into(),
                line: r.line,
                ..Default::default()
            };
            let address = r
                .get("ADRESSE_ID")
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty());
            st.parents.push((parent, address));
        }
        "BEE_RESPONSABLES/DONNEES/ADRESSES/ADRESSE" => {
            let id = need(r.attr("ADRESSE_ID"), "the ADRESSE_ID attribute", r.line)?;
            if let Some(text) = postal_address(&r) {
                st.addresses.insert(id, text);
            }
        }
        "BEE_RESPONSABLES/DONNEES/RESPONSABLES/RESPONSABLE_ELEVE" => {
            let child = need(r.get("ELEVE_ID"), "ELEVE_ID", r.line)?;
            let parent = need(r.get("PERSONNE_ID"), "PERSONNE_ID", r.line)?;
            st.links.insert(Link {
                parent_key: parent,
                child_key: child,
                legal: r.get("RESP_LEGAL").and_then(|v| v.parse().ok()).unwrap_or(0),
                relation: r.get("CODE_PARENTE").map(str::to_string),
            });
        }
        "STS_EDT/NOMENCLATURES/MATIERES/MATIERE" => {
            let code = need(r.attr("CODE"), "the CODE attribute", r.line)?;
            let short = r
                .get("CODE_GESTION")
                .or(r.get("LIBELLE_COURT"))
                .unwrap_or(&code)
                .to_string();
            let label = r
                .get("LIBELLE_EDITION")
                .or(r.get("LIBELLE_LONG"))
                .unwrap_or(&short)
                .to_string();
            snap.subjects.insert(code, (short, label));
        }
        "STS_EDT/DONNEES/INDIVIDUS/INDIVIDU" => {
            let id = need(r.attr("ID"), "the ID attribute", r.line)?;
            let last = need(
                last_name(&r, &["NOM_USAGE", "NOM_PATRONYMIQUE", "NOM"]).as_deref(),
                "the name (NOM_USAGE or NOM_PATRONYMIQUE)",
                r.line,
            )?;
            let function = r.get("FONCTION").map(str::to_string);
            let kind = if function.as_deref() == Some("ENS")
                || r.nodes.iter().any(|n| n.path == "DISCIPLINES/DISCIPLINE")
            {
                Kind::Teacher
            } else {
                Kind::Staff
            };
            for n in &r.nodes {
                if n.path == "PROFS_PRINC/PROF_PRINC/CODE_STRUCTURE" {
                    snap.head_teachers.insert((id.clone(), n.text.trim().to_string()));
                }
            }
            st.staff.push(Incoming {
                kind: Some(kind),
                source: "sts",
                key: id,
                last_name: last,
                first_name: r.get("PRENOM").unwrap_or("").to_string(),
                birth_date: date_field(
                    r.get("DATE_NAISSANCE"),
                    "DATE_NAISSANCE",
                    file,
                    r.line,
                    &mut snap.warnings,
                ),
                function,
                file: file.into(),
                line: r.line,
                ..Default::default()
            });
        }
        "STS_EDT/DONNEES/STRUCTURE/DIVISIONS/DIVISION" | "STS_EDT/DONNEES/STRUCTURE/GROUPES/GROUPE" => {
            let code = need(r.attr("CODE"), "the CODE attribute", r.line)?;
            let kind = if r.name == "DIVISION" {
                StructureKind::Class
            } else {
                StructureKind::Group
            };
            if kind == StructureKind::Class && opts.is_inactive_class(&code) {
                return Ok(());
            }
            let label = r.get("LIBELLE_LONG").unwrap_or(&code).to_string();
            snap.structures.insert((kind, code.clone()), label);
            let mut subject = String::new();
            for n in &r.nodes {
                match n.path.as_str() {
                    "SERVICES/SERVICE" => subject = n.attr("CODE_MATIERE").unwrap_or("").to_string(),
                    "SERVICES/SERVICE/ENSEIGNANTS/ENSEIGNANT" => {
                        if let Some(t) = n.attr("ID") {
                            st.services.insert(ServiceIn {
                                teacher_key: t.to_string(),
                                subject: subject.clone(),
                                structure: (kind, code.clone()),
                            });
                        }
                    }
                    "DIVISIONS_APPARTENANCE/DIVISION_APPARTENANCE" => {
                        if let Some(c) = n.attr("CODE") {
                            snap.group_classes.insert((code.clone(), c.to_string()));
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    Ok(())
}

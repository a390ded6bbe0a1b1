//! Imports of files written by `gen_school.py`, good and bad.

use super::*;
use crate::directory::{self, Kind, Status, login};
use crate::store::Store;
use std::path::PathBuf;

/// The shared fixture generator (CI: ../shared/fixtures; here: /work/shared).
pub fn gen_school_script() -> PathBuf {
    let ci = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/gen_school.py"
    ));
    if ci.exists() {
        ci
    } else {
        PathBuf::from("/work/shared/fixtures/gen_school.py")
    }
}

/// Writes a school of `students` into a new temporary directory.
pub fn gen_school(students: u32, extra: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("python3")
        .arg(gen_school_script())
        .args(["--students", &students.to_string()])
        .args(extra)
        .arg(dir.path())
        .output()
        .expect("python3 runs gen_school.py");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    dir
}

pub fn files(dir: &Path) -> Vec<PathBuf> {
    [
        "ElevesSansAdresses.xml",
        "ResponsablesAvecAdresses.xml",
        "sts_emp_0999999X_2026.xml",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect()
}

pub fn read_opts() -> ReadOptions {
    ReadOptions {
        uai: "0999999X".into(),
        today: "2026-11-28".into(),
        inactive_classes: vec!["Inactifs".into()],
    }
}

fn plan_opts() -> PlanOptions {
    PlanOptions {
        max_disable_percent: 10,
        allow_mass_disable: false,
    }
}

pub fn apply_opts() -> ApplyOptions {
    ApplyOptions {
        login_scheme: "{prenom}.{nom}".into(),
        reserved: ["root".to_string()].into_iter().collect(),
        first_id: 10_000,
        last_id: 59_999,
        password_syllables: 4,
        password_digits: 2,
        must_change: false,
        retention_days: 365,
    }
}

fn read(paths: &[PathBuf]) -> Result<Snapshot, ImportError> {
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    read_files(&refs, &read_opts())
}

fn import(store: &mut Store, paths: &[PathBuf]) -> ImportPlan {
    let plan = plan(store.conn(), read(paths).unwrap(), &plan_opts()).unwrap();
    store
        .write(|tx| {
            apply(tx, &plan, &apply_opts()).map_err(|e| rusqlite::Error::InvalidParameterName(e.to_string()))
        })
        .unwrap();
    plan
}

/// Everything in the directory, as text, to prove a failed import changed
/// nothing.
fn dump(store: &Store) -> String {
    let c = store.conn();
    let mut out = format!(
        "{:?}\n",
        directory::people(c, &directory::Filter::default()).unwrap()
    );
    out.push_str(&format!("{:?}\n", directory::structures(c, None, true).unwrap()));
    out.push_str(&format!("{:?}\n", directory::services(c, None).unwrap()));
    out
}

#[test]
fn import_then_reimport_changes_nothing() {
    let school = gen_school(60, &[]);
    let (_d, mut store) = crate::directory::tests::store();
    let first = import(&mut store, &files(school.path()));
    // 60 students, one departed (i=11) and one without class (i=12).
    assert_eq!(
        first.new.iter().filter(|e| e.kind == Kind::Student).count(),
        58,
        "{}",
        first.render(5)
    );
    assert!(
        first.warnings.iter().any(|w| w.contains("has no class")),
        "{:?}",
        first.warnings
    );
    let c = store.conn();
    let counts = directory::counts(c).unwrap();
    assert_eq!(counts.students, 58);
    assert!(counts.teachers >= 12 && counts.staff == 4, "{counts:?}");
    assert!(counts.parents > 60);
    assert_eq!(counts.classes, 3);
    // The STS services give each class its teachers; head teachers too.
    assert_eq!(directory::teachers_of(c, "6A").unwrap().len(), 11);
    assert_eq!(directory::head_teachers_of(c, "6A").unwrap().len(), 1);
    assert!(!directory::students_of(c, "6A").unwrap().is_empty());
    // Names: the character reference and NOM_USAGE.
    let all = directory::people(c, &directory::Filter::default()).unwrap();
    assert!(
        all.iter()
            .any(|p| p.last_name == "NGUY\u{1ec4}N" || p.last_name == "NGUY\u{1ec5}N"),
        "char ref"
    );
    for p in &all {
        assert!(login::is_valid_login(&p.login), "{}", p.login);
        assert_eq!(p.uid.is_none(), p.kind == Kind::Parent);
    }
    let lea_parents = all
        .iter()
        .find(|p| p.kind == Kind::Student)
        .map(|s| directory::parents_of(c, s.id).unwrap().len());
    assert!(lea_parents.unwrap() >= 1);
    // Same files again: nothing to do.
    let again = plan(store.conn(), read(&files(school.path())).unwrap(), &plan_opts()).unwrap();
    assert!(again.is_empty(), "{}", again.render(10));
    assert_eq!(
        again.unchanged,
        all.len() + 1 /* the departed student, known and not created */ - 1
    );
    // The zipped student file reads the same.
    let zipped = read(&[school.path().join("ElevesSansAdresses.zip")]).unwrap();
    assert_eq!(zipped.count(Kind::Student), 60);
}

#[test]
fn next_year_moves_students_and_keeps_accounts() {
    let school = gen_school(60, &[]);
    let (_d, mut store) = crate::directory::tests::store();
    import(&mut store, &files(school.path()));
    let before = directory::person_by_id(store.conn(), 1).unwrap().unwrap();
    let student = directory::people(
        store.conn(),
        &directory::Filter {
            kind: Some(Kind::Student),
            ..Default::default()
        },
    )
    .unwrap()
    .into_iter()
    .find(|p| directory::class_of(store.conn(), p.id).unwrap().unwrap().code == "6A")
    .unwrap();
    // Next year: every 6A student is in 5A.
    let path = school.path().join("ElevesSansAdresses.xml");
    let text = std::fs::read(&path).unwrap();
    let moved = replace(
        &text,
        b"<CODE_STRUCTURE>6A</CODE_STRUCTURE>",
        b"<CODE_STRUCTURE>5A</CODE_STRUCTURE>",
    );
    std::fs::write(&path, moved).unwrap();
    let p = import(&mut store, &files(school.path()));
    assert!(p.new.is_empty() && p.leaving.is_empty(), "{}", p.render(5));
    assert!(
        p.changed.iter().all(|e| e.detail.contains("class 6A -> 5A")),
        "{}",
        p.render(5)
    );
    let after = directory::person_by_login(store.conn(), &student.login)
        .unwrap()
        .unwrap();
    assert_eq!(
        (after.id, after.uid, after.status),
        (student.id, student.uid, Status::Active)
    );
    assert_eq!(
        directory::class_of(store.conn(), after.id).unwrap().unwrap().code,
        "5A"
    );
    assert_eq!(
        directory::person_by_id(store.conn(), 1).unwrap().unwrap().login,
        before.login
    );
}

fn replace(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn bad_files_are_refused_and_change_nothing() {
    let school = gen_school(60, &[]);
    let (_d, mut store) = crate::directory::tests::store();
    import(&mut store, &files(school.path()));
    let before = dump(&store);
    let dir = school.path();
    let students = std::fs::read(dir.join("ElevesSansAdresses.xml")).unwrap();

    // Truncated.
    let cut = dir.join("truncated.xml");
    std::fs::write(&cut, &students[..students.len() / 2]).unwrap();
    let e = read(&[cut]).unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
    assert!(e.line > 10 && e.file.ends_with("truncated.xml"), "{e}");

    // Wrong encoding declaration (Latin-9 bytes declared UTF-8).
    let wrong = dir.join("wrong-encoding.xml");
    std::fs::write(&wrong, replace(&students, b"ISO-8859-15", b"UTF-8")).unwrap();
    let e = read(&[wrong]).unwrap_err();
    assert!(e.to_string().contains("encoding declaration is wrong"), "{e}");

    // Duplicated national key.
    let dup = dir.join("dup.xml");
    std::fs::write(
        &dup,
        replace(
            &students,
            b"ELEVE_ID=\"100001\" ELENOET",
            b"ELEVE_ID=\"100000\" ELENOET",
        ),
    )
    .unwrap();
    let e = read(&[dup]).unwrap_err();
    assert!(e.to_string().contains("ELEVE_ID 100000 is given twice"), "{e}");
    assert_eq!(e.element, "ELEVE");

    // Another establishment.
    let other = gen_school(10, &["--uaj", "0123456Z"]);
    let e = read(&[other.path().join("ElevesSansAdresses.xml")]).unwrap_err();
    assert!(e.to_string().contains("establishment 0123456Z"), "{e}");
    assert_eq!((e.line, e.element.as_str()), (4, "UAJ"));

    // A partial export: most students would leave.
    let partial = gen_school(20, &[]);
    let p = plan(
        store.conn(),
        read(&[partial.path().join("ElevesSansAdresses.xml")]).unwrap(),
        &plan_opts(),
    )
    .unwrap();
    let refusal = p.refusal.clone().expect("refused");
    assert!(refusal.contains("student accounts"), "{refusal}");
    let r = store.write(|tx| {
        apply(tx, &p, &apply_opts()).map_err(|e| rusqlite::Error::InvalidParameterName(e.to_string()))
    });
    assert!(r.is_err());
    assert_eq!(dump(&store), before);
    // Forced, it disables them (scheduled for deletion).
    let p = plan(
        store.conn(),
        read(&[partial.path().join("ElevesSansAdresses.xml")]).unwrap(),
        &PlanOptions {
            allow_mass_disable: true,
            ..plan_opts()
        },
    )
    .unwrap();
    assert!(p.refusal.is_none());
    store
        .write(|tx| {
            apply(tx, &p, &apply_opts()).map_err(|e| rusqlite::Error::InvalidParameterName(e.to_string()))
        })
        .unwrap();
    let gone = directory::people(
        store.conn(),
        &directory::Filter {
            status: Some(Status::Deleting),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(gone.len() >= 30 && gone.iter().all(|p| p.delete_after.is_some()));
}

#[test]
fn leaving_then_returning_keeps_the_account() {
    let big = gen_school(40, &[]);
    let small = gen_school(20, &[]);
    let (_d, mut store) = crate::directory::tests::store();
    import(&mut store, &[big.path().join("ElevesSansAdresses.xml")]);
    let before = directory::people(store.conn(), &directory::Filter::default()).unwrap();
    let forced = plan(
        store.conn(),
        read(&[small.path().join("ElevesSansAdresses.xml")]).unwrap(),
        &PlanOptions {
            allow_mass_disable: true,
            ..plan_opts()
        },
    )
    .unwrap();
    store
        .write(|tx| {
            apply(tx, &forced, &apply_opts())
                .map_err(|e| rusqlite::Error::InvalidParameterName(e.to_string()))
        })
        .unwrap();
    let back = import(&mut store, &[big.path().join("ElevesSansAdresses.xml")]);
    assert_eq!(back.returning.len(), forced.leaving.len(), "{}", back.render(3));
    assert!(back.new.is_empty());
    let after = directory::people(store.conn(), &directory::Filter::default()).unwrap();
    let key = |p: &directory::Person| (p.id, p.login.clone(), p.uid, p.status);
    assert_eq!(
        after.iter().map(key).collect::<Vec<_>>(),
        before.iter().map(key).collect::<Vec<_>>()
    );
    // A manually disabled student stays disabled whatever the files say.
    let login = after[0].login.clone();
    store
        .write(|tx| directory::set_status(tx, &login, Status::Disabled, None))
        .unwrap();
    let again = import(&mut store, &[big.path().join("ElevesSansAdresses.xml")]);
    assert!(again.is_empty(), "{}", again.render(3));
    assert_eq!(
        directory::person_by_login(store.conn(), &login)
            .unwrap()
            .unwrap()
            .status,
        Status::Disabled
    );
}

#[test]
fn every_truncation_is_refused_and_garbage_never_panics() {
    use proptest::prelude::*;
    let school = gen_school(30, &[]);
    for name in [
        "ElevesSansAdresses.xml",
        "ResponsablesAvecAdresses.xml",
        "sts_emp_0999999X_2026.xml",
    ] {
        let bytes = std::fs::read(school.path().join(name)).unwrap();
        // The last complete byte is the root's closing '>'.
        let end = bytes.iter().rposition(|b| *b == b'>').unwrap() + 1;
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(64));
        runner
            .run(&(1usize..end), |cut| {
                let mut snap = Snapshot::default();
                let r = read_one(name, &name.to_lowercase(), &bytes[..cut], &read_opts(), &mut snap);
                prop_assert!(r.is_err(), "{name} cut at {cut} of {end} was accepted");
                Ok(())
            })
            .unwrap();
    }
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(256));
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..400), |bytes| {
            let mut snap = Snapshot::default();
            let _ = read_one("x.xml", "x.xml", bytes.as_slice(), &read_opts(), &mut snap);
            let _ = read_one("x.csv", "x.csv", bytes.as_slice(), &read_opts(), &mut snap);
            Ok(())
        })
        .unwrap();
}

/// Regressions (issue 15), against behaviours other SIECLE importers have.
mod siecle_edge_cases {
    use super::*;

    #[test]
    fn parents_postal_addresses_are_imported_and_follow_changes() {
        let school = gen_school(20, &[]);
        let (_d, mut store) = crate::directory::tests::store();
        import(&mut store, &files(school.path()));
        let parents = directory::people(
            store.conn(),
            &directory::Filter {
                kind: Some(Kind::Parent),
                ..Default::default()
            },
        )
        .unwrap();
        let with = parents.iter().filter(|p| p.postal_address.is_some()).count();
        assert!(with > 0 && with == parents.len(), "{with} of {}", parents.len());
        let a = parents[0].postal_address.as_deref().unwrap();
        assert!(a.contains("RUE DES ECOLES\n99000 VILLE-TEST"), "{a:?}");
        assert!(!a.contains("FRANCE"), "{a:?}");
        // A move is a change of the next import.
        let resp = school.path().join("ResponsablesAvecAdresses.xml");
        let bytes = std::fs::read(&resp).unwrap();
        let text: String = bytes.iter().map(|b| *b as char).collect();
        let text = text.replacen(
            "<CODE_POSTAL>99000</CODE_POSTAL>",
            "<CODE_POSTAL>99100</CODE_POSTAL>",
            1,
        );
        std::fs::write(&resp, text.chars().map(|c| c as u32 as u8).collect::<Vec<u8>>()).unwrap();
        let p = import(&mut store, &files(school.path()));
        assert!(
            p.changed.iter().any(|e| e.detail.contains("postal address")),
            "{}",
            p.render(10)
        );
    }

    fn students_with(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
        let school = gen_school(30, &[]);
        let bytes = std::fs::read(school.path().join("ElevesSansAdresses.xml")).unwrap();
        // The export is ISO-8859-15: edit it as Latin-1 text, byte for byte.
        let text: String = bytes.iter().map(|b| *b as char).collect();
        let out: Vec<u8> = edit(text).chars().map(|c| c as u32 as u8).collect();
        let path = dir.join(name);
        std::fs::write(&path, out).unwrap();
        path
    }

    #[test]
    fn one_ine_for_two_students_is_refused_naming_both_lines() {
        let dir = tempfile::tempdir().unwrap();
        let f = students_with(dir.path(), "ine.xml", |t| {
            t.replace(
                "<ID_NATIONAL>700000001B</ID_NATIONAL>",
                "<ID_NATIONAL>700000000A</ID_NATIONAL>",
            )
        });
        let e = read(&[f]).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("INE 700000000A (national student number) is given to two students"),
            "{text}"
        );
        assert!(
            text.contains("key 100000") && text.contains("key 100001"),
            "{text}"
        );
        assert!(text.contains("ine.xml:11") && text.contains("line 25"), "{text}");
        assert_eq!(e.element, "ID_NATIONAL");
    }

    #[test]
    fn inactifs_is_no_class_and_its_students_are_leaving() {
        let (_d, mut store) = crate::directory::tests::store();
        let dir = tempfile::tempdir().unwrap();
        let normal = students_with(dir.path(), "a.xml", |t| t);
        import(&mut store, &[normal]);
        let c = store.conn();
        let before = directory::people(c, &directory::Filter::default()).unwrap();
        let moved = before
            .iter()
            .find(|p| p.kind == Kind::Student && p.status == Status::Active)
            .unwrap()
            .clone();
        // SIECLE moves a leaver into the pseudo-division, and a new
        // student arrives straight into it.
        let key = moved.national_key.clone().unwrap();
        let f = students_with(dir.path(), "b.xml", |t| {
            let at = t.find(&format!("<STRUCTURES_ELEVE ELEVE_ID=\"{key}\"")).unwrap();
            let end = at + t[at..].find("</STRUCTURES_ELEVE>").unwrap();
            let mut t2 = t.clone();
            t2.replace_range(
                at..end,
                &format!("<STRUCTURES_ELEVE ELEVE_ID=\"{key}\"><STRUCTURE><CODE_STRUCTURE>INACTIFS</CODE_STRUCTURE><TYPE_STRUCTURE>D</TYPE_STRUCTURE></STRUCTURE>"),
            );
            t2
        });
        let snap = read(std::slice::from_ref(&f)).unwrap();
        assert!(
            !snap
                .structures
                .keys()
                .any(|(_, code)| code.eq_ignore_ascii_case("inactifs"))
        );
        let p = plan(store.conn(), snap, &plan_opts()).unwrap();
        assert!(
            p.leaving
                .iter()
                .any(|e| e.login.as_deref() == Some(moved.login.as_str())),
            "{}",
            p.render(20)
        );
        assert!(
            !p.new_structures
                .iter()
                .any(|s| s.to_lowercase().contains("inactifs"))
        );
        import(&mut store, &[f]);
        let after = directory::people(store.conn(), &directory::Filter::default()).unwrap();
        let now = after.iter().find(|p| p.id == moved.id).unwrap();
        assert_ne!(now.status, Status::Active, "{now:?}");
        assert!(
            directory::structures(store.conn(), None, true)
                .unwrap()
                .iter()
                .all(|s| !s.code.eq_ignore_ascii_case("inactifs"))
        );
    }

    #[test]
    fn impossible_birth_dates_are_warnings_and_left_unset() {
        let dir = tempfile::tempdir().unwrap();
        // The first two students' birth dates.
        let f = students_with(dir.path(), "dates.xml", |t| {
            let mut t = t;
            let mut from = 0;
            for bad in ["07/31/1994", "hier"] {
                let a = from + t[from..].find("<DATE_NAISS>").unwrap() + "<DATE_NAISS>".len();
                let b = a + t[a..].find('<').unwrap();
                t.replace_range(a..b, bad);
                from = b;
            }
            t
        });
        let snap = read(&[f]).unwrap();
        let w = snap.warnings.join("\n");
        assert!(
            w.contains("dates.xml:11: <DATE_NAISS> \"07/31/1994\" is not a date"),
            "{w}"
        );
        assert!(
            w.contains("dates.xml:25: <DATE_NAISS> \"hier\" is not a date"),
            "{w}"
        );
        for key in ["100000", "100001"] {
            assert_eq!(snap.people[&(Kind::Student, key.to_string())].birth_date, None);
        }
        assert!(
            snap.people
                .values()
                .all(|p| p.birth_date.as_deref().is_none_or(|d| iso_date(d).is_some()))
        );
    }

    #[test]
    fn no_establishment_names_the_line_where_parametres_should_be() {
        let dir = tempfile::tempdir().unwrap();
        let f = students_with(dir.path(), "nouaj.xml", |t| {
            let a = t.find(" <PARAMETRES>").unwrap();
            let b = t.find("</PARAMETRES>\n").unwrap() + "</PARAMETRES>\n".len();
            let mut t2 = t.clone();
            t2.replace_range(a..b, "");
            t2
        });
        let e = read(&[f]).unwrap_err();
        assert_eq!((e.line, e.element.as_str()), (3, "PARAMETRES"), "{e}");
        assert!(
            e.to_string().starts_with("nouaj.xml:3: <PARAMETRES>") || e.to_string().contains("nouaj.xml:3"),
            "{e}"
        );
    }

    #[test]
    fn a_class_and_a_group_with_one_code_are_told_apart_in_the_diff() {
        let (_d, store) = crate::directory::tests::store();
        let dir = tempfile::tempdir().unwrap();
        let f = students_with(dir.path(), "same.xml", |t| {
            t.replace(
                "<CODE_STRUCTURE>6LATIN</CODE_STRUCTURE>",
                "<CODE_STRUCTURE>6A</CODE_STRUCTURE>",
            )
        });
        let p = plan(store.conn(), read(&[f]).unwrap(), &plan_opts()).unwrap();
        assert!(
            p.new_structures.contains(&"6A (classe)".to_string()),
            "{:?}",
            p.new_structures
        );
        assert!(
            p.new_structures.contains(&"6A (groupe)".to_string()),
            "{:?}",
            p.new_structures
        );
    }
}

//! The demo school: small SIECLE and STS-web exports written by
//! `gen_school.py --students 54 --seed 7` (invented people), built into the
//! binary so that `preau demo` can show a populated directory.

use crate::directory::import::{self, ApplySummary, PlanOptions, ReadOptions};
use crate::store::Store;
use std::collections::HashSet;

const FILES: &[(&str, &[u8])] = &[
    (
        "ElevesSansAdresses.xml",
        include_bytes!("../../../modules/accounts/demo/ElevesSansAdresses.xml"),
    ),
    (
        "ResponsablesAvecAdresses.xml",
        include_bytes!("../../../modules/accounts/demo/ResponsablesAvecAdresses.xml"),
    ),
    (
        "sts_emp_0999999X_2026.xml",
        include_bytes!("../../../modules/accounts/demo/sts_emp_0999999X_2026.xml"),
    ),
];

/// The demo files' establishment.
pub const DEMO_UAI: &str = "0999999X";

/// Imports the demo school into the directory of `store` (the directory
/// only: no Unix or Samba accounts). Running it twice changes nothing.
pub fn import_demo_school(
    store: &mut Store,
    settings: &super::settings::AccountsSettings,
) -> anyhow::Result<ApplySummary> {
    let opts = ReadOptions::new(DEMO_UAI, settings);
    let mut snapshot = import::Snapshot::default();
    for (name, bytes) in FILES {
        import::read_one(name, &name.to_lowercase(), *bytes, &opts, &mut snapshot)?;
    }
    snapshot.finish();
    let plan = import::plan(
        store.conn(),
        snapshot,
        &PlanOptions {
            max_disable_percent: 100,
            allow_mass_disable: true,
        },
    )?;
    let options = super::apply_options(settings, ["root".to_string()].into_iter().collect::<HashSet<_>>());
    store.write(|tx| Ok(import::apply(tx, &plan, &options)?))
}

/// One demo account: its role (admin, direction, cpe, teacher, student,
/// parent), login and password.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DemoAccount {
    pub role: &'static str,
    pub login: String,
    pub password: String,
}

/// Picks one person per role of the demo school — the head (STS function
/// DIR), the CPE (EDU), a teacher of a class, a student of that class and
/// that student's parent — and gives each a fresh password that need not
/// be changed. Errors when the demo school lacks one of them.
pub fn demo_accounts(
    store: &mut Store,
    settings: &super::settings::AccountsSettings,
) -> anyhow::Result<Vec<DemoAccount>> {
    use crate::directory::{self, Filter, Kind, StructureKind, password};
    let conn = store.conn();
    let staff = directory::people(
        conn,
        &Filter {
            kind: Some(Kind::Staff),
            status: Some(directory::Status::Active),
            structure: None,
        },
    )?;
    let with_function = |f: &str| staff.iter().find(|p| p.function.as_deref() == Some(f)).cloned();
    let service = directory::services(conn, None)?
        .into_iter()
        .find(|s| {
            s.structure_kind == StructureKind::Class
                && directory::students_of(conn, &s.structure_code).is_ok_and(|v| {
                    v.iter()
                        .any(|st| directory::parents_of(conn, st.id).is_ok_and(|p| !p.is_empty()))
                })
        })
        .ok_or_else(|| anyhow::anyhow!("the demo school has no class with a teacher and a parent"))?;
    let student = directory::students_of(conn, &service.structure_code)?
        .into_iter()
        .find(|st| directory::parents_of(conn, st.id).is_ok_and(|p| !p.is_empty()))
        .ok_or_else(|| anyhow::anyhow!("no student with a parent"))?;
    let parent = directory::parents_of(conn, student.id)?.remove(0);
    let teacher = directory::person_by_login(conn, &service.teacher_login)?
        .ok_or_else(|| anyhow::anyhow!("no teacher {}", service.teacher_login))?;
    let missing = |f| anyhow::anyhow!("the demo school has no staff with function {f}");
    let people = [
        ("direction", with_function("DIR").ok_or_else(|| missing("DIR"))?),
        ("cpe", with_function("EDU").ok_or_else(|| missing("EDU"))?),
        ("teacher", teacher),
        ("student", student),
        ("parent", parent),
    ];
    let mut out = Vec::new();
    store.write(|tx| {
        for (role, p) in &people {
            let pw = password::initial_password(settings.password_syllables, settings.password_digits);
            password::set(tx, p.id, &pw, true, false)?;
            out.push(DemoAccount {
                role,
                login: p.login.clone(),
                password: pw,
            });
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(out)
}

/// Two demo leavers whose retention is over (a student and a staff
/// member who left last July), so that the console's « Partants à
/// supprimer » has someone to list. Directory only; running it twice
/// changes nothing (nor once they are purged: their logins stay used).
/// Returns how many were added.
pub fn add_demo_leavers(store: &mut Store) -> anyhow::Result<usize> {
    use crate::directory::{self, Kind, NewPerson};
    let leavers = [
        (Kind::Student, "Ambre", "Depart", "ambre.depart"),
        (Kind::Staff, "Victor", "Ancien", "victor.ancien"),
    ];
    store.write(|tx| {
        let mut added = 0;
        for (kind, first, last, login) in leavers {
            if directory::login_taken(tx, login)? {
                continue;
            }
            let id = directory::insert_person(
                tx,
                &NewPerson {
                    kind: Some(kind),
                    source: "manual".into(),
                    first_name: first.into(),
                    last_name: last.into(),
                    ..Default::default()
                },
                login,
                None,
            )?;
            tx.execute(
                "UPDATE people SET status = 'deleting', disabled_at = date('now', '-200 days'),
                     delete_after = date('now', '-10 days') WHERE id = ?1",
                [id],
            )?;
            added += 1;
        }
        Ok::<_, anyhow::Error>(added)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_account_per_role() {
        let (_d, mut store) = crate::directory::tests::store();
        let s = super::super::settings::AccountsSettings::default();
        super::import_demo_school(&mut store, &s).unwrap();
        let accounts = super::demo_accounts(&mut store, &s).unwrap();
        let roles: Vec<&str> = accounts.iter().map(|a| a.role).collect();
        assert_eq!(roles, ["direction", "cpe", "teacher", "student", "parent"]);
        let conn = store.conn();
        let login = |role| accounts.iter().find(|a| a.role == role).unwrap().login.clone();
        let student = crate::directory::person_by_login(conn, &login("student"))
            .unwrap()
            .unwrap();
        assert!(!student.must_change);
        let parents = crate::directory::parents_of(conn, student.id).unwrap();
        assert!(parents.iter().any(|p| p.login == login("parent")));
        let class = crate::directory::class_of(conn, student.id).unwrap().unwrap();
        let teachers = crate::directory::teachers_of(conn, &class.code).unwrap();
        assert!(teachers.iter().any(|t| t.login == login("teacher")));
    }

    #[test]
    fn demo_school_imports_and_reimports() {
        let (_d, mut store) = crate::directory::tests::store();
        let s = super::super::settings::AccountsSettings::default();
        let first = super::import_demo_school(&mut store, &s).unwrap();
        assert!(first.created > 100, "{first:?}");
        let again = super::import_demo_school(&mut store, &s).unwrap();
        assert_eq!((again.created, again.updated, again.disabled), (0, 0, 0));
        assert_eq!(crate::directory::classes(store.conn()).unwrap().len(), 2);
    }

    #[test]
    fn demo_leavers_are_due_for_purge_once() {
        let (_d, mut store) = crate::directory::tests::store();
        assert_eq!(super::add_demo_leavers(&mut store).unwrap(), 2);
        assert_eq!(super::add_demo_leavers(&mut store).unwrap(), 0);
        let due = super::super::people::due_for_purge(store.conn()).unwrap();
        let logins: Vec<&str> = due.iter().map(|p| p.login.as_str()).collect();
        assert_eq!(logins.len(), 2, "{logins:?}");
        assert!(logins.contains(&"ambre.depart") && logins.contains(&"victor.ancien"));
    }
}

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

#[cfg(test)]
mod tests {
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
}

//! Modules: units an administrator enables in `[modules] enabled`.
//!
//! Each module implements the engine's [`Module`] (`crate::engine::module`):
//! modules depend on the engine, never the reverse. This file is the
//! registry of the modules this build knows, and their selection and
//! order for a command. Each module owns its commands (one clap
//! `Commands` enum in its `cli.rs`, flattened into the top-level command
//! line).

pub mod accounts;
pub mod firewall;
pub mod proxy;
pub mod shares;
pub mod system;
pub mod templates;

use crate::config::Config;
pub use crate::engine::module::{Context, Finding, Health, Module, ModuleInfo, State};

/// The rules of every enabled module that read more than its own
/// section ([`Module::validate`]); part of the configuration's
/// validation.
pub fn validate(config: &Config, problems: &mut crate::config::problems::Problems) {
    for m in registry() {
        if m.name() == "system" || config.modules.enabled.iter().any(|e| e == m.name()) {
            m.validate(config, problems);
        }
    }
}

/// Every module this build knows, `system` first.
pub fn registry() -> Vec<&'static dyn Module> {
    vec![
        &system::SYSTEM,
        &accounts::ACCOUNTS,
        &shares::SHARES,
        &firewall::FIREWALL,
        &proxy::PROXY,
    ]
}

/// The modules to plan and apply for `config`, in dependency order
/// (`system` first, then as enabled; dependencies are validated by
/// `check`). `only` restricts to the named ones.
pub fn selected<'a>(config: &Config, only: &[String]) -> Result<Vec<&'a dyn Module>, String> {
    let all = registry();
    for name in only {
        if !all.iter().any(|m| m.name() == name) {
            return Err(format!(
                "unknown module \"{name}\"; known modules: {}",
                all.iter().map(|m| m.name()).collect::<Vec<_>>().join(", ")
            ));
        }
        if name != "system" && !config.modules.enabled.contains(name) {
            return Err(format!(
                "module \"{name}\" is not enabled; add it to [modules] enabled in the configuration"
            ));
        }
    }
    let enabled =
        |m: &&dyn Module| m.name() == "system" || config.modules.enabled.iter().any(|e| e == m.name());
    let wanted = |m: &&dyn Module| only.is_empty() || only.iter().any(|o| o == m.name());
    let mut chosen: Vec<&dyn Module> = all.into_iter().filter(enabled).filter(wanted).collect();
    // Stable topological order: a module after everything it depends on.
    let mut ordered: Vec<&dyn Module> = Vec::new();
    while !chosen.is_empty() {
        let ready = chosen
            .iter()
            .position(|m| {
                m.depends_on()
                    .iter()
                    .all(|d| ordered.iter().any(|o| o.name() == *d) || !chosen.iter().any(|c| c.name() == *d))
            })
            .unwrap_or(0);
        ordered.push(chosen.remove(ready));
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_modules_are_well_described() {
        for m in registry() {
            assert!(!m.summary().is_empty(), "{}", m.name());
            for dep in m.depends_on() {
                assert!(
                    registry().iter().any(|o| o.name() == dep),
                    "{} depends on unknown {dep}",
                    m.name()
                );
            }
        }
    }

    #[test]
    fn unknown_or_disabled_module_is_refused() {
        let c = Config::default();
        let err = selected(&c, &["nonesuch".into()]).err().unwrap();
        assert!(err.starts_with("unknown module"), "{err}");
        assert_eq!(selected(&c, &[]).unwrap().len(), 1);
    }
}

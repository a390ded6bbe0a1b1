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
pub mod viescolaire;

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
        &viescolaire::VIESCOLAIRE,
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

    /// scripts/install-deps installs what the modules declare by reading
    /// each module.toml's `packages = [...]` line with sed: it must hold
    /// the whole list on one line.
    #[test]
    fn install_script_reads_every_module_package() {
        for m in registry() {
            let path = format!("{}/modules/{}/module.toml", env!("CARGO_MANIFEST_DIR"), m.name());
            let text = std::fs::read_to_string(&path).unwrap();
            let line: Vec<String> = text
                .lines()
                .filter_map(|l| l.strip_prefix("packages"))
                .filter_map(|l| l.trim_start().strip_prefix('='))
                .filter_map(|l| l.trim().strip_prefix('[')?.strip_suffix(']').map(str::to_string))
                .collect();
            assert_eq!(line.len(), 1, "{path}: one `packages = [...]` line");
            let read: Vec<String> = line[0]
                .split(',')
                .map(|p| p.trim().trim_matches('"').to_string())
                .filter(|p| !p.is_empty())
                .collect();
            assert_eq!(read, m.info().packages, "{path}");
        }
        assert!(
            registry()
                .iter()
                .any(|m| m.info().packages.iter().any(|p| p == "samba-vfs-modules")),
            "the recycle bin's VFS module must be declared"
        );
    }

    #[test]
    fn unknown_or_disabled_module_is_refused() {
        let c = Config::default();
        let err = selected(&c, &["nonesuch".into()]).err().unwrap();
        assert!(err.starts_with("unknown module"), "{err}");
        assert_eq!(selected(&c, &[]).unwrap().len(), 1);
    }
}

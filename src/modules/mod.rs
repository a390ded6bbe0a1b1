//! Modules: units an administrator enables in `[modules] enabled`.
//!
//! Each module implements [`Module`]: `check` finds problems on the host
//! that the configuration alone cannot show (missing programs, a broken
//! template override), `plan` returns the changes that bring the host to
//! the configuration, `status` says how the module is doing. Its static
//! description (summary, dependencies, Debian packages, services) lives in
//! `modules/<name>/module.toml`, built into the binary.

pub mod accounts;
pub mod firewall;
pub mod proxy;
pub mod shares;
pub mod system;
pub mod templates;

use crate::config::Config;
use crate::host::Host;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What a module is, from its `module.toml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleInfo {
    pub summary: String,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub packages: Vec<String>,
    #[serde(default)]
    pub services: Vec<String>,
}

impl ModuleInfo {
    /// Parses an embedded `module.toml`; a broken one is a build mistake
    /// caught by the registry test.
    pub fn parse(text: &str) -> ModuleInfo {
        toml::from_str(text).unwrap_or_else(|e| panic!("embedded module.toml is invalid: {e}"))
    }
}

/// Everything a module needs to plan or report.
pub struct Context<'a> {
    pub config: &'a Config,
    pub host: &'a dyn Host,
    /// Where the configuration file lives (logical host path).
    pub config_path: PathBuf,
}

impl<'a> Context<'a> {
    /// A context with the configuration at its default place.
    pub fn new(config: &'a Config, host: &'a dyn Host) -> Context<'a> {
        Context {
            config,
            host,
            config_path: PathBuf::from("/etc/preau/preau.toml"),
        }
    }

    /// The state directory (logical host path).
    pub fn state_dir(&self) -> PathBuf {
        PathBuf::from(&self.config.paths.state_dir)
    }

    pub fn log_dir(&self) -> PathBuf {
        PathBuf::from(&self.config.paths.log_dir)
    }
}

/// A host-level problem found by `check`.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub module: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

impl Finding {
    pub fn new(module: &'static str, message: impl Into<String>) -> Finding {
        Finding {
            module,
            message: message.into(),
            hint: None,
        }
    }

    /// The same finding with what to do about it.
    pub fn hint(mut self, hint: impl Into<String>) -> Finding {
        self.hint = Some(hint.into());
        self
    }
}

/// How a module is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Ok,
    Degraded,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub module: &'static str,
    pub state: State,
    /// Figures and remarks, one per line.
    pub details: Vec<String>,
}

/// A unit of the appliance.
pub trait Module: Send + Sync {
    fn name(&self) -> &'static str;
    fn info(&self) -> &ModuleInfo;

    fn summary(&self) -> &str {
        &self.info().summary
    }

    fn depends_on(&self) -> Vec<&str> {
        self.info().depends_on.iter().map(String::as_str).collect()
    }

    /// Host-level problems (the configuration itself is already valid).
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding>;

    /// The changes that bring the host to the configuration.
    fn plan(&self, ctx: &Context<'_>) -> anyhow::Result<Vec<crate::engine::Change>>;

    /// The module's health, for `status` and `/metrics`.
    fn status(&self, ctx: &Context<'_>) -> Health;
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

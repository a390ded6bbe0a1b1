//! The shape of a module, as the engine sees it.
//!
//! A module implements [`Module`]: `validate` adds the rules its settings
//! need beyond their own section (read with the whole configuration),
//! `check` finds problems on the host that the configuration alone cannot
//! show (missing programs, a broken template override), `plan` returns
//! the changes that bring the host to the configuration, `status` says how
//! the module is doing, and `hooks` are what it must do around an apply
//! session ([`super::session`]). Its static description (summary,
//! dependencies, Debian packages, services) lives in
//! `modules/<name>/module.toml`, built into the binary.
//!
//! This file names no concrete module: modules depend on the engine,
//! never the reverse (`tests/layers.rs` checks it).

use super::Change;
use crate::config::Config;
use crate::config::problems::Problems;
use crate::host::Host;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

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

/// The real path of the database for a configuration on a host. The one
/// place it is computed: everything else reads [`Context::db`].
fn db_of(host: &dyn Host, config: &Config) -> PathBuf {
    host.real_path(&Path::new(&config.paths.state_dir).join(crate::store::DB_FILE))
}

/// Everything a module needs to plan or report.
pub struct Context<'a> {
    pub config: &'a Config,
    pub host: &'a dyn Host,
    /// Where the configuration file lives (logical host path).
    pub config_path: PathBuf,
    /// The database (real path), whether or not it exists yet.
    pub db: PathBuf,
}

impl<'a> Context<'a> {
    /// A context with the configuration at its default place.
    pub fn new(config: &'a Config, host: &'a dyn Host) -> Context<'a> {
        Context::at(config, host, PathBuf::from("/etc/preau/preau.toml"))
    }

    /// A context for the configuration file `config_path` (logical path).
    pub fn at(config: &'a Config, host: &'a dyn Host, config_path: PathBuf) -> Context<'a> {
        Context {
            config,
            host,
            config_path,
            db: db_of(host, config),
        }
    }

    /// The state directory (logical host path).
    pub fn state_dir(&self) -> PathBuf {
        PathBuf::from(&self.config.paths.state_dir)
    }

    pub fn log_dir(&self) -> PathBuf {
        PathBuf::from(&self.config.paths.log_dir)
    }

    /// Whether `module` is enabled (`system` always is).
    pub fn enabled(&self, module: &str) -> bool {
        module == "system" || self.config.modules.enabled.iter().any(|m| m == module)
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

    /// Rules of the module that read more than its own section (its
    /// section's own rules are its settings type's `Validate`); called
    /// while the configuration is validated, only when the module is
    /// enabled. Problems carry key paths from the top of the file.
    fn validate(&self, _config: &Config, _problems: &mut Problems) {}

    /// Host-level problems (the configuration itself is already valid).
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding>;

    /// The changes that bring the host to the configuration.
    fn plan(&self, ctx: &Context<'_>) -> anyhow::Result<Vec<Change>>;

    /// The module's health, for `status` and `/metrics`.
    fn status(&self, ctx: &Context<'_>) -> Health;

    /// What the module does around an apply session (see
    /// [`super::session::Hooks`]); most modules need nothing.
    fn hooks(&self) -> Option<&dyn super::session::Hooks> {
        None
    }
}

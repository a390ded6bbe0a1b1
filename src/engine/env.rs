//! What every command and the daemon run with: the host, where the
//! configuration is, how to report. Built by the command line from its
//! global options, by the daemon and by the web console alike, so that
//! no layer below `cli` needs `cli`.

use super::module::Context;
use crate::config::Config;
use crate::host::{Host, RealHost};
use anyhow::Context as _;
use std::path::{Path, PathBuf};

/// Exit statuses of the command-line contract, returned by every command
/// (the modules' own included).
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILURE: u8 = 1;
    pub const PENDING: u8 = 3;
}

/// The host, the configuration's path and the output form.
pub struct Env {
    pub host: RealHost,
    /// Logical host path of the configuration file.
    pub config_path: PathBuf,
    /// Machine-readable JSON output.
    pub json: bool,
}

impl Env {
    /// `root` is the directory every host path is mapped under (`/` on a
    /// live server; created when missing); `config` the configuration
    /// file, relative paths taken from the current directory.
    pub fn new(root: &Path, config: &Path, json: bool) -> anyhow::Result<Env> {
        let root = if root == Path::new("/") {
            PathBuf::from("/")
        } else {
            std::fs::create_dir_all(root)
                .with_context(|| format!("cannot create the root directory {}", root.display()))?;
            root.canonicalize()
                .with_context(|| format!("cannot resolve the root directory {}", root.display()))?
        };
        let config_path = if config.is_absolute() {
            config.to_path_buf()
        } else {
            std::env::current_dir()?.join(config)
        };
        Ok(Env {
            host: RealHost::new(root),
            config_path,
            json,
        })
    }

    /// Loads and validates the configuration.
    pub fn config(&self) -> anyhow::Result<Config> {
        let real = self.host.real_path(&self.config_path);
        Ok(crate::config::load(&real)?)
    }

    /// The context modules plan and report in.
    pub fn context<'a>(&'a self, config: &'a Config) -> Context<'a> {
        Context::at(config, &self.host, self.config_path.clone())
    }

    /// The real path of the database (the context's).
    pub fn db_path(&self, config: &Config) -> PathBuf {
        self.context(config).db
    }
}

//! The command line: parse, then dispatch to one function per command.
//! Errors travel up as `anyhow::Error` and are printed whole, cause by
//! cause, by `main`.

pub mod args;
pub(crate) mod commands;
mod demo;

pub use args::Cli;

use crate::config::Config;
use crate::host::{Host, RealHost};
use anyhow::Context as _;
use args::{Command, ConfigCommand, FirewallCommand, GenerateCommand, ModulesCommand};
use std::path::{Path, PathBuf};

/// Exit statuses of the contract.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILURE: u8 = 1;
    pub const PENDING: u8 = 3;
}

/// What every command gets: the host and where the configuration is.
pub struct Env {
    pub host: RealHost,
    /// Logical host path of the configuration file.
    pub config_path: PathBuf,
    pub json: bool,
}

impl Env {
    pub fn new(global: &args::Global) -> anyhow::Result<Env> {
        let root = if global.root == Path::new("/") {
            PathBuf::from("/")
        } else {
            std::fs::create_dir_all(&global.root)
                .with_context(|| format!("cannot create the root directory {}", global.root.display()))?;
            global
                .root
                .canonicalize()
                .with_context(|| format!("cannot resolve the root directory {}", global.root.display()))?
        };
        let config_path = if global.config.is_absolute() {
            global.config.clone()
        } else {
            std::env::current_dir()?.join(&global.config)
        };
        Ok(Env {
            host: RealHost::new(root),
            config_path,
            json: global.json,
        })
    }

    /// Loads and validates the configuration.
    pub fn config(&self) -> anyhow::Result<Config> {
        let real = self.host.real_path(&self.config_path);
        Ok(crate::config::load(&real)?)
    }

    /// The real path of the database.
    pub fn db_path(&self, config: &Config) -> PathBuf {
        self.host
            .real_path(&Path::new(&config.paths.state_dir).join(crate::store::DB_FILE))
    }

    pub fn context<'a>(&'a self, config: &'a Config) -> crate::modules::Context<'a> {
        crate::modules::Context {
            config,
            host: &self.host,
            config_path: self.config_path.clone(),
        }
    }
}

/// Runs the parsed command line; returns the exit status.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let env = Env::new(&cli.global)?;
    match cli.command {
        Command::Init(a) => commands::init(&env, &a),
        Command::Check => commands::check(&env),
        Command::Plan { modules } => commands::plan(&env, &modules),
        Command::Apply { modules, confirm } => commands::apply(&env, &modules, confirm),
        Command::Confirm => crate::modules::firewall::cli::confirm(&env),
        Command::Rollback => crate::modules::firewall::cli::rollback(&env),
        Command::Firewall { command } => {
            use crate::modules::firewall::cli as fw;
            match command {
                FirewallCommand::Show => fw::show(&env, &env.config()?),
                FirewallCommand::Counters => fw::counters(&env),
                FirewallCommand::RollbackAfter {
                    seconds,
                    token,
                    state_dir,
                } => fw::rollback_after(&env, &state_dir, seconds, &token),
                FirewallCommand::RollbackIfPending { token, state_dir } => {
                    fw::rollback_if_pending(&env, &state_dir, &token)
                }
            }
        }
        Command::Status => commands::status(&env),
        Command::Serve => {
            let config = env.config()?;
            crate::server::run(crate::server::Options::from_env(&env, config))?;
            Ok(exit::OK)
        }
        Command::Demo(a) => demo::run(&a),
        Command::Accounts { command } => crate::modules::accounts::cli::run(&env, command),
        Command::Shares { command } => crate::modules::shares::cli::run(&env, command),
        Command::Proxy { command } => crate::modules::proxy::cli::proxy(&env, command),
        Command::Blacklists { command } => crate::modules::proxy::cli::blacklists(&env, command),
        Command::Backup { command } => commands::backup(&env, command),
        Command::Modules {
            command: ModulesCommand::List,
        } => commands::modules_list(&env),
        Command::Config { command } => {
            match command {
                ConfigCommand::Schema => {
                    println!("{}", serde_json::to_string_pretty(&crate::config::schema())?)
                }
                ConfigCommand::Reference => print!("{}", crate::config::sample::reference()),
                ConfigCommand::Sample => {
                    print!(
                        "{}",
                        crate::config::sample::starter(&commands::starter_config(&Default::default(), &[]))
                    )
                }
            }
            Ok(exit::OK)
        }
        Command::Generate { command } => {
            generate(command)?;
            Ok(exit::OK)
        }
    }
}

fn generate(command: GenerateCommand) -> anyhow::Result<()> {
    use clap::CommandFactory;
    match command {
        GenerateCommand::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "preau", &mut std::io::stdout());
        }
        GenerateCommand::Man { dir } => {
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(Cli::command(), &dir)
                .with_context(|| format!("cannot write manual pages into {}", dir.display()))?;
        }
        GenerateCommand::Units { dir } => {
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            for (name, text) in crate::modules::system::packaged_units()? {
                let path = dir.join(name);
                std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
    }
    Ok(())
}

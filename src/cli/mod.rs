//! The command line: parse, then dispatch to one function per command.
//! Errors travel up as `anyhow::Error` and are printed whole, cause by
//! cause, by `main`.

pub mod args;
pub(crate) mod commands;
mod demo;

pub use args::Cli;

pub use crate::engine::{Env, exit};
use anyhow::Context as _;
use args::{Command, ConfigCommand, GenerateCommand, ModulesCommand};

/// Runs the parsed command line; returns the exit status.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let env = Env::new(&cli.global.root, &cli.global.config, cli.global.json)?;
    match cli.command {
        Command::Init(a) => commands::init(&env, &a),
        Command::Check => commands::check(&env),
        Command::Plan { modules } => commands::plan(&env, &modules),
        Command::Apply { modules, confirm } => commands::apply(&env, &modules, confirm),
        Command::Firewall(c) => crate::modules::firewall::cli::run(&env, c),
        Command::Status => commands::status(&env),
        Command::Serve => {
            let config = env.config()?;
            crate::server::run(crate::server::Options::from_env(&env, config))?;
            Ok(exit::OK)
        }
        Command::Demo(a) => demo::run(&a, env.json),
        Command::Accounts(c) => crate::modules::accounts::cli::run(&env, c),
        Command::Shares(c) => crate::modules::shares::cli::run(&env, c),
        Command::Proxy(c) => crate::modules::proxy::cli::run(&env, c),
        Command::VieScolaire(c) => crate::modules::viescolaire::cli::run(&env, c),
        Command::Backup { command } => commands::backup(&env, command),
        Command::Web {
            command: args::WebCommand::Explain { login, method, url },
        } => crate::web::cli::explain(&env, &login, &method, &url),
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

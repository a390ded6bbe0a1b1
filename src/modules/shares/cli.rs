//! `preau shares …`: status, homework hand-out, collection and return.

use super::homework;
use crate::engine::{Env, exit};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// The shares module's top-level commands (flattened into `preau`'s).
#[derive(Debug, Subcommand)]
pub enum Commands {
    /// The file server: usage, homework hand-out, collection and return.
    Shares {
        #[command(subcommand)]
        command: SharesCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum SharesCommand {
    /// Space used per share and per person, biggest users, quota alerts.
    Status {
        /// How many of the biggest users to list.
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
    /// Copy a teacher's files into `devoirs/NAME` of every student of a
    /// class or group. A student's existing copy is never overwritten.
    Distribute {
        #[command(flatten)]
        target: Target,
        /// File or folder to hand out (a host path); default: the
        /// teacher's `perso/<teacher>/devoirs/NAME`.
        #[arg(long, value_name = "PATH")]
        from: Option<PathBuf>,
    },
    /// Gather each student's current `devoirs/NAME` into the teacher's
    /// `devoirs/ramasses/NAME/<student>/`.
    Collect {
        #[command(flatten)]
        target: Target,
    },
    /// Give the corrected `devoirs/ramasses/NAME/<student>/` back into each
    /// student's `devoirs/NAME/corrige/`.
    Return {
        #[command(flatten)]
        target: Target,
    },
    /// Recorded hand-outs.
    List,
}

#[derive(Debug, Args)]
pub struct Target {
    /// Login of the teacher.
    #[arg(long)]
    pub teacher: String,
    /// Code of the class or group (e.g. 6A, 6LATIN).
    #[arg(long = "to", value_name = "CLASS_OR_GROUP")]
    pub to: String,
    /// Name of the homework (its folder name), e.g. dm1-fractions.
    pub name: String,
}

/// Runs `preau shares …`.
pub fn run(env: &Env, command: Commands) -> anyhow::Result<u8> {
    let Commands::Shares { command } = command;
    let config = env.config()?;
    let ctx = env.context(&config);
    let s = &config.shares;
    match command {
        SharesCommand::Status { top } => {
            let dir = super::directory(&ctx)?;
            let report = super::usage::report(ctx.host, s, &dir);
            if env.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.render(top));
            }
            Ok(if report.alerts.is_empty() {
                exit::OK
            } else {
                exit::FAILURE
            })
        }
        SharesCommand::List => {
            let store = crate::store::Store::open_existing(&env.db_path(&config))?;
            let records = homework::records(store.conn())?;
            if env.json {
                println!("{}", serde_json::to_string_pretty(&records)?);
            } else if records.is_empty() {
                println!("No homework handed out yet.");
            } else {
                for r in records {
                    println!(
                        "{:<24} {:<16} {:<8} {} student(s), {} file(s)  distributed {}  collected {}  returned {}",
                        r.name,
                        r.teacher,
                        r.target,
                        r.students,
                        r.files,
                        r.distributed_at.as_deref().unwrap_or("-"),
                        r.collected_at.as_deref().unwrap_or("-"),
                        r.returned_at.as_deref().unwrap_or("-"),
                    );
                }
            }
            Ok(exit::OK)
        }
        SharesCommand::Distribute { target, from } => {
            homework_cmd(env, &config, homework::Action::Distribute, &target, from)
        }
        SharesCommand::Collect { target } => {
            homework_cmd(env, &config, homework::Action::Collect, &target, None)
        }
        SharesCommand::Return { target } => {
            homework_cmd(env, &config, homework::Action::Return, &target, None)
        }
    }
}

fn homework_cmd(
    env: &Env,
    config: &crate::config::Config,
    action: homework::Action,
    target: &Target,
    from: Option<PathBuf>,
) -> anyhow::Result<u8> {
    let mut store = crate::store::Store::open_existing(&env.db_path(config))?;
    let report = homework::run_for(
        &env.host,
        &config.shares,
        &mut store,
        &target.teacher,
        &target.to,
        &target.name,
        action,
        from.as_deref(),
    )?;
    if env.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
    }
    Ok(if report.failed == 0 {
        exit::OK
    } else {
        exit::FAILURE
    })
}

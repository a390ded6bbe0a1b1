//! The command line, as clap definitions. The contract is in DESIGN.md:
//! command names are kept, new ones are added freely.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "preau",
    version,
    about = "Préau: the school server — gateway, file server, accounts and school life in one binary",
    long_about = "Préau runs a school's server: firewall and filtering proxy, Samba shares, \
                  the accounts imported from SIECLE and STS-web, and the school-life web \
                  application. Configure /etc/preau/preau.toml, check it, plan, apply.\n\n\
                  Exit codes: 0 success, 1 failure, 2 usage error, 3 (plan) changes pending."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Configuration file (a path on the host, under --root).
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        default_value = "/etc/preau/preau.toml"
    )]
    pub config: PathBuf,
    /// Treat DIR as the root of the host: every host path is mapped under it
    /// (tests, image building). Services are not touched when it is not /.
    #[arg(long, global = true, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// Machine-readable JSON output for commands that report something.
    #[arg(long, global = true)]
    pub json: bool,
    /// More detail in the log (-v: debug, -vv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a starter configuration and state: database, TLS certificate,
    /// first administrator account.
    Init(InitArgs),
    /// Validate the configuration: every error at once, with key path and
    /// line:column.
    Check,
    /// Show what `apply` would change, as a readable diff; changes nothing.
    /// Exits 0 when nothing would change, 3 when something would.
    Plan {
        /// Only these modules (default: every enabled module).
        modules: Vec<String>,
    },
    /// Perform the changes the plan shows, in order, stopping at the first
    /// failure.
    Apply {
        /// Only these modules (default: every enabled module).
        modules: Vec<String>,
        /// Firewall: roll the new ruleset back by itself after SECONDS
        /// unless `preau confirm` comes first.
        #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86400))]
        confirm: Option<u64>,
    },
    // `confirm`, `rollback`, `firewall …`: the firewall module's.
    #[command(flatten)]
    Firewall(crate::modules::firewall::cli::Commands),
    /// Host figures (CPU, load, memory, disks, uptime) and each module's
    /// health.
    Status,
    /// Run the daemon: HTTPS server (health, metrics, web application),
    /// reload on SIGHUP, stop on SIGTERM.
    Serve,
    /// Run everything that can run unprivileged on an embedded demo school,
    /// in a temporary directory.
    Demo(DemoArgs),
    // `accounts …`: the accounts module's.
    #[command(flatten)]
    Accounts(crate::modules::accounts::cli::Commands),
    // `shares …`: the shares module's.
    #[command(flatten)]
    Shares(crate::modules::shares::cli::Commands),
    // `proxy …`, `blacklists …`: the proxy module's.
    #[command(flatten)]
    Proxy(crate::modules::proxy::cli::Commands),
    // `viescolaire …`: the school-life module's.
    #[command(flatten)]
    VieScolaire(crate::modules::viescolaire::cli::Commands),
    /// Save, check or restore the server's state: configuration, database,
    /// TLS material, saved rulesets, category lists, and with --with-shares
    /// the shares' files; nightly backups with rotation, age encryption.
    Backup {
        #[command(subcommand)]
        command: BackupCommand,
    },
    /// The web console: authorization explained.
    Web {
        #[command(subcommand)]
        command: WebCommand,
    },
    /// The modules this build knows.
    Modules {
        #[command(subcommand)]
        command: ModulesCommand,
    },
    /// The configuration's schema, reference and starter file.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Shell completions and the manual page, generated from these
    /// definitions.
    Generate {
        #[command(subcommand)]
        command: GenerateCommand,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// UAI code of the establishment (seven digits and a letter).
    #[arg(long, default_value = "0999999X")]
    pub uai: String,
    /// Name of the establishment.
    #[arg(long, default_value = "Établissement de démonstration")]
    pub name: String,
    /// Host name of this server.
    #[arg(long, default_value = "preau")]
    pub hostname: String,
    /// DNS domain of the school network.
    #[arg(long, default_value = "ecole.lan")]
    pub domain: String,
    /// Login of the first administrator of the web console.
    #[arg(long, default_value = "admin")]
    pub admin: String,
    /// Replace an existing configuration file (the state is kept).
    #[arg(long)]
    pub force: bool,
    /// Modules the starter configuration enables, comma-separated (e.g.
    /// `accounts,shares,firewall,proxy`); their dependencies are added.
    /// Without it, `init` asks when a terminal is attached and enables
    /// none otherwise.
    #[arg(long, value_delimiter = ',', value_name = "MODULE,…", value_parser = module_name)]
    pub modules: Option<Vec<String>>,
}

/// A module name of this build other than `system` (always on).
fn module_name(name: &str) -> Result<String, String> {
    let known: Vec<&str> = crate::modules::registry()
        .into_iter()
        .map(|m| m.name())
        .filter(|n| *n != "system")
        .collect();
    if known.contains(&name) {
        Ok(name.to_string())
    } else {
        Err(format!("unknown module; known modules: {}", known.join(", ")))
    }
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address the demo server listens on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: String,
    /// Keep the demo's state in this directory instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Write a backup archive (.tar.gz, readable by root only; encrypted
    /// with age when [backup] recipients are set).
    Create {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Also save the shares' folders and files ([shares] root).
        #[arg(long)]
        with_shares: bool,
    },
    /// Check a backup archive all through (checksums, database, versions)
    /// without restoring anything.
    Verify {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// age identity (private key) file for an encrypted backup.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Restore a backup archive, after checking all of it; then run
    /// `preau apply` and restart the daemon.
    Restore {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// age identity (private key) file for an encrypted backup.
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// The scheduled backup (preau-backup.timer): a backup into
    /// [backup] directory, then rotation.
    Run,
    /// Delete the scheduled backups that [backup] keep_daily, keep_weekly
    /// and keep_monthly do not keep.
    Rotate {
        /// Only list what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
    /// Make an age key pair for encrypted backups: the identity goes to
    /// FILE (keep it off the server), the public key is printed for
    /// [backup] recipients.
    Keygen {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModulesCommand {
    /// Every module, whether it is enabled, and what it needs.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// The JSON schema of preau.toml.
    Schema,
    /// The settings reference in Markdown (docs/settings.md).
    Reference,
    /// A commented starter configuration with every default.
    Sample,
}

#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Completion script for a shell.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Manual pages (preau.1 and one per command) into DIR.
    Man {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// The systemd units the Debian package ships (preau.service,
    /// preau-firewall.service) into DIR, from the templates `apply` renders.
    Units {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}

#[derive(Debug, Subcommand)]
pub enum WebCommand {
    /// The authorization decision for an account and a URL: the action,
    /// the facts, allow or deny and the status the person would get
    /// (exit status 0 when allowed, 1 otherwise).
    Explain {
        /// The account: a console administrator or a directory login.
        #[arg(long = "as", value_name = "LOGIN")]
        login: String,
        /// HTTP method.
        #[arg(long, default_value = "GET")]
        method: String,
        /// A URL or a path, e.g. /console/personnes/lea.martin.
        url: String,
    },
}

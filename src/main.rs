//! `preau`: parse the command line, run it, print the whole error chain.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = preau::cli::Cli::parse();
    let daemon = matches!(
        cli.command,
        preau::cli::args::Command::Serve | preau::cli::args::Command::Demo(_)
    );
    preau::logging::init(cli.global.verbose, daemon);
    preau::tls::install_provider();
    match preau::cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("preau: error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(preau::cli::exit::FAILURE)
        }
    }
}

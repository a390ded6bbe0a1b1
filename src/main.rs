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
    if !daemon {
        // `preau accounts list | head` must end quietly like any Unix
        // tool, not panic on a closed pipe. The daemon keeps Rust's
        // default (SIGPIPE ignored): a client closing its socket is an
        // error to handle, not a reason to die.
        // SAFETY: setting a signal's disposition to the default is sound.
        let _ = unsafe {
            nix::sys::signal::signal(
                nix::sys::signal::Signal::SIGPIPE,
                nix::sys::signal::SigHandler::SigDfl,
            )
        };
    }
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

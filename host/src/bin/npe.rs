//! The `npe` command-line tool.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = npe_host::cli::Cli::parse();
    match npe_host::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("npe: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

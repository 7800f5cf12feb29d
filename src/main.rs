use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = sparkup::cli::Cli::parse();
    match sparkup::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("caused by: {cause}");
            }
            ExitCode::from(sparkup::cli::exit_code(&e))
        }
    }
}

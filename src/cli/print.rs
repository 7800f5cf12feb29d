//! Everything the command line writes: stdout that a closed pipe does not turn into an error,
//! and the exit code of every error.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;

/// Every error; 1 is kept for "differences found" (`diff`), as kubectl does.
pub const EXIT_ERROR: u8 = 2;

/// Writes to stdout; a closed pipe (`sparkup render | head`) is not an error.
pub(super) fn print(text: &str) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("writing to stdout"),
        _ => Ok(ExitCode::SUCCESS),
    }
}

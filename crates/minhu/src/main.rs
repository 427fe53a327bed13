//! The `minhu` command: see `minhu --help` and the README.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    minhu::cli::main().await
}

//! The `minhu` command: see `minhu --help` and the README.

use std::process::ExitCode;

/// mimalloc instead of the C library's allocator: see docs/BENCHMARKS.md ("third round").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    minhu::cli::main().await
}

//! The `minhu` command: see `minhu --help` and the README.

use std::process::ExitCode;

/// mimalloc instead of the C library's allocator: see
/// docs/bench/city-scale-rounds-3-to-6.md ("third round").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    minhu::cli::main().await
}

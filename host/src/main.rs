//! `wasio`: run WebAssembly components with Unix sockets, a network policy
//! and per-instance limits. See `wasio run --help`.

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command, EXIT_GUEST_TRAP, EXIT_HOST_ERROR, RunArgs};

fn main() -> ExitCode {
    init_logging();
    let Cli {
        command: Command::Run(args),
    } = Cli::parse();
    let code = match run(args) {
        Ok(code) => code,
        Err(code) => code,
    };
    // Exit codes wrap to 8 bits on Unix, as for any process.
    ExitCode::from(code as u8)
}

/// Log to stderr, filtered by `WASIO_LOG` or `RUST_LOG` (default `warn`).
fn init_logging() {
    let filter = std::env::var("WASIO_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .map(EnvFilter::new)
        .unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

/// Run the component; `Err` carries the exit code after reporting why.
fn run(args: RunArgs) -> Result<i32, i32> {
    let usage = |message: String| {
        eprintln!("error: {message}");
        EXIT_HOST_ERROR
    };
    let config = args.host_config().map_err(usage)?;
    let options = args.run_options().map_err(usage)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| usage(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let host = wasio_host::Host::new(config).map_err(report)?;
        let loaded = host.load(args.component()).map_err(report)?;
        loaded.run(&options).await.map_err(report)
    })
}

/// Print `error` and its causes (without backtraces) and pick the exit code.
fn report(error: wasio_host::Error) -> i32 {
    eprintln!("error: {error}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let text = cause.to_string();
        eprintln!("  caused by: {}", text.replace('\n', "\n    "));
        source = cause.source();
    }
    if error.is_guest_failure() {
        EXIT_GUEST_TRAP
    } else {
        EXIT_HOST_ERROR
    }
}

//! Helpers shared by the guest-side test programs. Each program in
//! `src/programs/` is a wasm32-wasip2 command that the host-side suite in
//! `tests/` runs against native peers; it exits 0 when every check passed
//! and prints what failed otherwise. They are built as one multi-call
//! component (`src/bin/programs.rs`). The crate builds for wasm32-wasip2
//! only, so it is not a default workspace member.

use std::fmt::Debug;

mod pattern;

pub use pattern::Pattern;

/// The program's command-line arguments after its name.
pub fn args() -> Vec<String> {
    std::env::args().skip(1).collect()
}

/// The `index`th argument parsed as `T`, or exit with a usage message.
pub fn arg<T: std::str::FromStr>(index: usize, what: &str) -> T {
    let args = args();
    args.get(index)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| {
            fail(format!(
                "argument {index} must be {what}, got {:?}",
                args.get(index)
            ))
        })
}

/// Stop the program with a failure message and exit code 1.
pub fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("FAIL: {message}");
    std::process::exit(1)
}

/// Check that `got` equals `want`, failing with `what` otherwise.
#[track_caller]
pub fn check_eq<T: PartialEq<U> + Debug, U: Debug>(got: T, want: U, what: &str) {
    if got != want {
        let location = std::panic::Location::caller();
        fail(format!("{what} at {location}: got {got:?}, want {want:?}"));
    }
}

/// Unwrap `result`, failing with `what` on error.
#[track_caller]
pub fn ok<T, E: Debug>(result: Result<T, E>, what: &str) -> T {
    result.unwrap_or_else(|error| {
        let location = std::panic::Location::caller();
        fail(format!("{what} at {location}: {error:?}"))
    })
}

/// Open a connection to `target`: `unix:PATH` for a Unix socket, else
/// `HOST:PORT` (IPv6 in brackets).
pub async fn connect(
    target: &str,
) -> Result<(wasio::StreamReader, wasio::StreamWriter), wasio::Error> {
    connect_with(target, wasio::ConnectOptions::default()).await
}

/// [`connect`] with options (a limit, water marks, ...).
pub async fn connect_with(
    target: &str,
    options: wasio::ConnectOptions,
) -> Result<(wasio::StreamReader, wasio::StreamWriter), wasio::Error> {
    #[cfg(feature = "p2")]
    if let Some(path) = target.strip_prefix("unix:") {
        return wasio::open_unix_connection(path, options).await;
    }
    let (host, port) = host_port(target);
    wasio::open_connection_with(host, port, options).await
}

/// Connect to `target` with the reader's `limit`.
pub async fn connect_limited(
    target: &str,
    limit: usize,
) -> Result<(wasio::StreamReader, wasio::StreamWriter), wasio::Error> {
    let mut options = wasio::ConnectOptions::default();
    options.limits.limit = Some(limit);
    connect_with(target, options).await
}

/// `HOST:PORT` split, an IPv6 host without its brackets.
pub fn host_port(target: &str) -> (&str, u16) {
    let (host, port) = target
        .rsplit_once(':')
        .unwrap_or_else(|| fail(format!("{target:?} is not HOST:PORT or unix:PATH")));
    let port = port
        .parse()
        .unwrap_or_else(|_| fail(format!("bad port in {target:?}")));
    (host.trim_start_matches('[').trim_end_matches(']'), port)
}

/// Exchange `exchanges` lines with the line-echo peer at `echo_target`,
/// checking every echo, then close that connection: the other clients a
/// hostile peer must not disturb.
pub async fn echo_exchanges(echo_target: &str, exchanges: usize) {
    let (reader, echo) = ok(connect(echo_target).await, "connect to the echo");
    for i in 0..exchanges {
        let line = format!("meanwhile {i}\n");
        ok(echo.write(line.as_bytes()), "write");
        check_eq(
            ok(reader.readline().await, "readline from the echo"),
            line,
            "echo",
        );
    }
    echo.close();
    ok(echo.wait_closed().await, "close the echo connection");
}

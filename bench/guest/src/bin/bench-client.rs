//! bench-client: the client side of the benchmark protocol on wasio's
//! Rust API, plain or over TLS (the TLS bench: wasio's TLS is client-only).
//!
//! ```text
//! bench-client HOST PORT [--tls SERVER-NAME] rr N       N round trips of a 64-byte line
//! bench-client HOST PORT [--tls SERVER-NAME] up BYTES   BYTES sent in 64 KiB pieces
//! bench-client HOST PORT [--tls SERVER-NAME] connect N  N connections: open, one line, close
//! ```
//!
//! Prints `elapsed_ns N`: the time of the workload itself, the first
//! connection's opening excluded for `rr` and `up` (`connect` measures
//! that), so the process's start and the component's instantiation do not
//! count.

use std::time::Instant;

use wasio::{ConnectOptions, Error, StreamReader, StreamWriter, TlsOptions};

/// Write piece of `up`.
const PIECE: usize = 64 * 1024;
/// The line of `rr`: 63 bytes and `\n`.
const LINE: &[u8; 64] = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n";

struct Args {
    host: String,
    port: u16,
    tls: Option<String>,
    workload: String,
    count: u64,
}

fn parse_args() -> Result<Args, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (host, port, rest) = match args.as_slice() {
        [host, port, rest @ ..] => (host, port, rest),
        _ => return Err("usage: bench-client HOST PORT [--tls NAME] rr|up|connect N".into()),
    };
    let (tls, rest) = match rest {
        [flag, name, rest @ ..] if flag == "--tls" => (Some(name.clone()), rest),
        rest => (None, rest),
    };
    let [workload, count] = rest else {
        return Err(format!("expected WORKLOAD COUNT, got {rest:?}"));
    };
    Ok(Args {
        host: host.clone(),
        port: port.parse().map_err(|e| format!("port {port:?}: {e}"))?,
        tls,
        workload: workload.clone(),
        count: count.parse().map_err(|e| format!("count {count:?}: {e}"))?,
    })
}

async fn connect(args: &Args) -> Result<(StreamReader, StreamWriter), Error> {
    let options = ConnectOptions {
        tls: args.tls.as_ref().map(|name| TlsOptions {
            server_name: Some(name.clone()),
        }),
        ..ConnectOptions::default()
    };
    wasio::open_connection_with(&args.host, args.port, options).await
}

async fn close(writer: StreamWriter) -> Result<(), Error> {
    writer.close();
    writer.wait_closed().await
}

/// `rr`: `echo`, then `count` lines each written, drained and read back.
async fn round_trips(args: &Args) -> Result<u128, Error> {
    let (reader, writer) = connect(args).await?;
    writer.write(b"echo\n")?;
    let started = Instant::now();
    for _ in 0..args.count {
        writer.write(LINE)?;
        writer.drain().await?;
        let line = reader.readline().await?;
        if line.len() != LINE.len() {
            return Err(Error::Other(format!("echoed {} bytes", line.len())));
        }
    }
    let elapsed = started.elapsed().as_nanos();
    close(writer).await?;
    Ok(elapsed)
}

/// `up`: `sink`, `count` bytes, end of file, the server's count back.
async fn upload(args: &Args) -> Result<u128, Error> {
    let (reader, writer) = connect(args).await?;
    writer.write(b"sink\n")?;
    let piece = vec![b'x'; PIECE];
    let started = Instant::now();
    let mut sent = 0u64;
    while sent < args.count {
        let n = (args.count - sent).min(PIECE as u64) as usize;
        writer.write(&piece[..n])?;
        writer.drain().await?;
        sent += n as u64;
    }
    writer.write_eof()?;
    let answer = reader.readline().await?;
    let elapsed = started.elapsed().as_nanos();
    if answer.trim_ascii() != sent.to_string().as_bytes() {
        return Err(Error::Other(format!("the server counted {answer:?}")));
    }
    close(writer).await?;
    Ok(elapsed)
}

/// `connect`: `count` connections, each opened, echoing one line, closed.
async fn connections(args: &Args) -> Result<u128, Error> {
    let started = Instant::now();
    for _ in 0..args.count {
        let (reader, writer) = connect(args).await?;
        writer.write(b"echo\nhello\n")?;
        if reader.readline().await?.as_ref() != b"hello\n" {
            return Err(Error::Other("no echo".into()));
        }
        close(writer).await?;
    }
    Ok(started.elapsed().as_nanos())
}

async fn run(args: Args) -> Result<u128, String> {
    let measured = match args.workload.as_str() {
        "rr" => round_trips(&args).await,
        "up" => upload(&args).await,
        "connect" => connections(&args).await,
        other => return Err(format!("unknown workload {other:?}")),
    };
    measured.map_err(|e| format!("{} to {}:{}: {e}", args.workload, args.host, args.port))
}

fn main() -> std::process::ExitCode {
    match parse_args().and_then(|args| wasio::block_on(run(args))) {
        Ok(elapsed) => {
            println!("elapsed_ns {elapsed}");
            std::process::ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("bench-client: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

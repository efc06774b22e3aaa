//! wcat: a netcat-like client on wasio's `open_connection`.
//!
//! ```text
//! wcat HOST PORT
//! wcat --tls HOST PORT
//! wcat --unix PATH
//! ```
//!
//! `--tls` (in the build with the `tls` feature, `wcat-tls.wasm`) speaks
//! TLS to HOST, whose certificate the host checks (`wasio run --tls`,
//! `wasmtime run -S tls`).
//!
//! Copies standard input to the connection and the connection to standard
//! output. At the end of input it half-closes (the peer sees end of file
//! and may go on sending); it exits once the peer has closed its side.
//! Errors (refused, denied, unresolvable, reset) end it with a one-line
//! message and exit code 1.

use wasio::cli::{Stdin, Stdout};
use wasio::{Error, StreamReader, StreamWriter};

const USAGE: &str = "usage: wcat HOST PORT | wcat --tls HOST PORT | wcat --unix PATH";

enum Target {
    Tcp(String, u16),
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Tls(String, u16),
    #[cfg_attr(not(feature = "unix"), allow(dead_code))]
    Unix(String),
}

fn parse_args() -> Result<Target, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, path] if flag == "--unix" => {
            if cfg!(feature = "unix") {
                Ok(Target::Unix(path.clone()))
            } else {
                Err("--unix needs the wasio host: run wcat-unix.wasm under `wasio run`".to_owned())
            }
        }
        [host, port] => {
            let port = port.parse().map_err(|e| format!("port {port:?}: {e}"))?;
            Ok(Target::Tcp(host.clone(), port))
        }
        [flag, host, port] if flag == "--tls" => {
            if !cfg!(feature = "tls") {
                return Err("--tls needs the TLS build: run wcat-tls.wasm".to_owned());
            }
            let port = port.parse().map_err(|e| format!("port {port:?}: {e}"))?;
            Ok(Target::Tls(host.clone(), port))
        }
        _ => Err(USAGE.to_owned()),
    }
}

async fn connect(target: &Target) -> Result<(StreamReader, StreamWriter), String> {
    let (what, result) = match target {
        Target::Tcp(host, port) => (
            format!("{host}:{port}"),
            wasio::open_connection(host, *port).await,
        ),
        #[cfg(feature = "tls")]
        Target::Tls(host, port) => (
            format!("{host}:{port}"),
            wasio::open_connection_with(
                host,
                *port,
                wasio::ConnectOptions {
                    tls: Some(wasio::TlsOptions::default()),
                    ..Default::default()
                },
            )
            .await,
        ),
        #[cfg(not(feature = "tls"))]
        Target::Tls(host, port) => (
            format!("{host}:{port}"),
            Err(Error::invalid_argument("TLS needs the TLS build")),
        ),
        #[cfg(feature = "unix")]
        Target::Unix(path) => (
            path.clone(),
            wasio::open_unix_connection(path, Default::default()).await,
        ),
        #[cfg(not(feature = "unix"))]
        Target::Unix(path) => (
            path.clone(),
            Err(Error::invalid_argument("Unix sockets need the wasio host")),
        ),
    };
    result.map_err(|e| format!("cannot connect to {what}: {e}"))
}

/// Standard input into the connection, then half-close.
async fn send_stdin(writer: &StreamWriter) -> Result<(), Error> {
    let mut input = Stdin::new();
    while let Some(bytes) = input.read(64 * 1024).await {
        writer.write_bytes(bytes)?;
        writer.drain().await?;
    }
    writer.write_eof()
}

/// The connection into standard output, until the peer closes.
async fn receive(reader: &StreamReader) -> Result<(), Error> {
    let mut output = Stdout::new();
    loop {
        let chunk = reader.read(64 * 1024).await?;
        if chunk.is_empty() {
            return Ok(());
        }
        output.write_all(&chunk).await?;
    }
}

async fn run(target: Target) -> Result<(), String> {
    let (reader, writer) = connect(&target).await?;
    let sending = wasio::spawn(async move {
        let sent = send_stdin(&writer).await;
        (sent, writer)
    });
    receive(&reader)
        .await
        .map_err(|e| format!("receiving: {e}"))?;
    // The peer is done; input may still be open (an interactive terminal).
    drop(sending);
    Ok(())
}

async fn command() -> u8 {
    let target = match parse_args() {
        Ok(target) => target,
        Err(message) => {
            eprintln!("wcat: {message}");
            return 2;
        }
    };
    match run(target).await {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("wcat: {message}");
            1
        }
    }
}

wasio::main!(command);

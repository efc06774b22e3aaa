//! bench-server: the benchmark protocol on wasio's Rust API.
//!
//! ```text
//! bench-server [--listen HOST:PORT] [--unix PATH] [--startup]
//! ```
//!
//! Prints `listening on ADDR` for each address, serves every client as a
//! task of its own and stops at the end of standard input. `--startup`
//! binds and exits at once (the start-up measurement). Each connection
//! starts with a mode line:
//!
//! - `echo`: every further line is echoed (`readline`, `write`, `drain`);
//! - `frames`: length-prefixed frames (u32 big-endian, then the payload)
//!   read with `readexactly` until a zero length; the answer is the number
//!   of payload bytes as a decimal line;
//! - `sink`: `read(65536)` until end of file; the answer is the byte count;
//! - `source N`: N bytes written in 64 KiB pieces, `drain` after each.
//!
//! The server closes the connection when the mode is done.

use wasio::{Error, ServerOptions, StreamReader, StreamWriter};

/// The listen backlog of every subject (the kernel's default allows 4096).
const BACKLOG: u32 = 1024;
/// Piece size of `read` in `sink` and of the writes in `source`.
const PIECE: usize = 64 * 1024;

struct Args {
    listen: Option<String>,
    unix: Option<String>,
    startup: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        listen: None,
        unix: None,
        startup: false,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(flag) = iter.next() {
        match flag.as_str() {
            "--listen" => args.listen = iter.next(),
            "--unix" => args.unix = iter.next(),
            "--startup" => args.startup = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// Serve one connection: read its mode line, then run the mode.
async fn serve_one(reader: &StreamReader, writer: &StreamWriter) -> Result<(), Error> {
    let mode = reader.readline().await?;
    match &mode[..] {
        b"echo\n" => loop {
            let line = reader.readline().await?;
            if line.is_empty() {
                return Ok(());
            }
            writer.write_bytes(line)?;
            writer.drain().await?;
        },
        b"frames\n" => {
            let mut total = 0u64;
            loop {
                let header = reader.readexactly(4).await?;
                let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
                if length == 0 {
                    break;
                }
                total += reader.readexactly(i64::from(length)).await?.len() as u64;
            }
            writer.write(format!("{total}\n").as_bytes())
        }
        b"sink\n" => {
            let mut total = 0u64;
            loop {
                let chunk = reader.read(PIECE as i64).await?;
                if chunk.is_empty() {
                    break;
                }
                total += chunk.len() as u64;
            }
            writer.write(format!("{total}\n").as_bytes())
        }
        other => {
            let count = std::str::from_utf8(other)
                .ok()
                .and_then(|m| m.strip_prefix("source "))
                .and_then(|n| n.trim_end().parse::<u64>().ok())
                .ok_or_else(|| Error::InvalidArgument("unknown mode".into()))?;
            let piece = vec![b'x'; PIECE];
            let mut sent = 0u64;
            while sent < count {
                let n = (count - sent).min(PIECE as u64) as usize;
                writer.write(&piece[..n])?;
                writer.drain().await?;
                sent += n as u64;
            }
            Ok(())
        }
    }
}

async fn client(reader: StreamReader, writer: StreamWriter) {
    if let Err(error) = serve_one(&reader, &writer).await {
        eprintln!("bench-server: {error}");
    }
    writer.close();
    let _ = writer.wait_closed().await;
}

async fn serve(args: Args) -> Result<(), String> {
    let options = ServerOptions {
        backlog: Some(BACKLOG),
        ..ServerOptions::default()
    };
    let mut servers = Vec::new();
    if let Some(address) = &args.listen {
        let (host, port) = address
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h, p.parse().ok()?)))
            .ok_or_else(|| format!("--listen {address:?}: expected HOST:PORT"))?;
        let server = wasio::start_server(client, Some(host), port, options.clone())
            .await
            .map_err(|e| format!("cannot listen on {address}: {e}"))?;
        servers.push(server);
    }
    #[cfg(not(feature = "p2"))]
    if args.unix.is_some() {
        return Err("--unix needs the WASI 0.2 build".to_owned());
    }
    #[cfg(feature = "p2")]
    if let Some(path) = &args.unix {
        let server = wasio::start_unix_server(client, path, options.clone())
            .await
            .map_err(|e| format!("cannot listen on {path}: {e}"))?;
        servers.push(server);
    }
    if args.startup {
        return Ok(());
    }
    for server in &servers {
        for address in server.sockets() {
            println!("listening on {address}");
        }
    }
    wasio::cli::stdin_closed().await;
    for server in &servers {
        server.close();
        server.abort_clients();
    }
    Ok(())
}

async fn command() -> u8 {
    let result = match parse_args() {
        Ok(args) => serve(args).await,
        Err(message) => Err(message),
    };
    match result {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("bench-server: {message}");
            1
        }
    }
}

wasio::main!(command);

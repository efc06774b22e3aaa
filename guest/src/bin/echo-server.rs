//! echo-server: a line echo server on wasio's `start_server`.
//!
//! ```text
//! echo-server [--listen HOST:PORT]... [--unix PATH] [--limit N] [--backlog N] [--max-clients N] [--stop-on-eof]
//! ```
//!
//! Prints `listening on ADDR` once per bound address when ready, echoes each
//! line back to its client and serves clients concurrently until it is
//! interrupted, or once `--max-clients` clients have come, or, with
//! `--stop-on-eof`, at the end of its standard input (so that whoever
//! started it with a pipe to its input stops it by closing the pipe; a
//! server started in the background without one serves on). A line longer
//! than the limit gets asyncio's treatment (`readline` discards it with a
//! limit-overrun error): the client gets one error line for it and the
//! connection goes on with the next line. `--backlog` sizes the listen
//! queue (asyncio's default, 100, unless given): raise it for thousands of
//! clients connecting at once.

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use wasio::{Error, Server, ServerOptions, StreamLimits, StreamReader, StreamWriter};

const USAGE: &str = "usage: echo-server [--listen HOST:PORT]... [--unix PATH] [--limit N] \
     [--backlog N] [--max-clients N] [--stop-on-eof]";

struct Args {
    listen: Vec<String>,
    unix: Option<String>,
    limit: Option<usize>,
    backlog: Option<u32>,
    max_clients: Option<usize>,
    stop_on_eof: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        listen: Vec::new(),
        unix: None,
        limit: None,
        backlog: None,
        max_clients: None,
        stop_on_eof: false,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(flag) = iter.next() {
        let mut value = || iter.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => args.listen.push(value()?),
            "--unix" => args.unix = Some(value()?),
            "--limit" => args.limit = Some(value()?.parse().map_err(|e| format!("--limit: {e}"))?),
            "--backlog" => {
                args.backlog = Some(value()?.parse().map_err(|e| format!("--backlog: {e}"))?);
            }
            "--max-clients" => {
                args.max_clients = Some(
                    value()?
                        .parse()
                        .map_err(|e| format!("--max-clients: {e}"))?,
                );
            }
            "--stop-on-eof" => args.stop_on_eof = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if cfg!(not(feature = "unix")) && args.unix.is_some() {
        return Err(
            "--unix needs the wasio host: run echo-server-unix.wasm under `wasio run`".to_owned(),
        );
    }
    if args.listen.is_empty() && args.unix.is_none() {
        args.listen.push("127.0.0.1:7878".to_owned());
    }
    Ok(args)
}

/// `HOST:PORT` or `[V6]:PORT`.
fn split_host_port(address: &str) -> Result<(&str, u16), String> {
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| format!("--listen {address:?}: expected HOST:PORT"))?;
    let port = port
        .parse()
        .map_err(|e| format!("--listen {address:?}: port: {e}"))?;
    Ok((host.trim_start_matches('[').trim_end_matches(']'), port))
}

/// A flag one task sets and another awaits.
#[derive(Default)]
struct Signal {
    set: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Signal {
    fn set(&self) {
        self.set.set(true);
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            if self.set.get() {
                Poll::Ready(())
            } else {
                *self.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
    }
}

/// Complete when either future does.
async fn either(a: impl Future<Output = ()>, b: impl Future<Output = ()>) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    poll_fn(|cx| {
        if a.as_mut().poll(cx).is_ready() || b.as_mut().poll(cx).is_ready() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
}

/// Echo lines until the client closes. An over-long line is reported once
/// and skipped up to its end: asyncio's `readline` discards what it has
/// buffered and raises, and the rest of the line arrives later, so the
/// server ignores lines until the over-long one has ended.
async fn echo(reader: StreamReader, writer: StreamWriter) {
    let peer = match writer.get_extra_info().peername.map(|p| p.to_string()) {
        Some(name) if !name.is_empty() => name,
        // Unix clients are usually unnamed.
        _ => "a client".to_owned(),
    };
    let mut skipping = false;
    loop {
        let reply = match reader.readline().await {
            Ok(line) if line.is_empty() => break,
            Ok(line) if skipping => {
                skipping = !line.ends_with(b"\n");
                continue;
            }
            Ok(line) => writer.write_bytes(line),
            Err(Error::LimitOverrun {
                separator_found, ..
            }) => {
                let reported = skipping;
                skipping = !separator_found;
                if reported {
                    continue;
                }
                eprintln!(
                    "echo-server: {peer}: line longer than {} bytes discarded",
                    reader.limit()
                );
                writer
                    .write(format!("error: line longer than {} bytes\n", reader.limit()).as_bytes())
            }
            Err(error) => {
                eprintln!("echo-server: {peer}: {error}");
                break;
            }
        };
        if let Err(error) = reply.and(writer.drain().await) {
            eprintln!("echo-server: {peer}: {error}");
            break;
        }
    }
    writer.close();
    let _ = wasio::timeout(Some(Duration::from_secs(10)), writer.wait_closed()).await;
}

async fn serve(args: Args) -> Result<(), String> {
    let options = ServerOptions {
        limits: StreamLimits {
            limit: args.limit,
            ..StreamLimits::default()
        },
        backlog: args.backlog,
        ..ServerOptions::default()
    };
    let enough = Rc::new(Signal::default());
    let accepted = Rc::new(Cell::new(0usize));
    let handler = {
        let (enough, accepted, max) = (enough.clone(), accepted.clone(), args.max_clients);
        move |reader: StreamReader, writer: StreamWriter| {
            accepted.set(accepted.get() + 1);
            if max.is_some_and(|max| accepted.get() >= max) {
                enough.set();
            }
            echo(reader, writer)
        }
    };
    let mut servers: Vec<Server> = Vec::new();
    for address in &args.listen {
        let (host, port) = split_host_port(address)?;
        let server = wasio::start_server(handler.clone(), Some(host), port, options.clone())
            .await
            .map_err(|e| format!("cannot listen on {address}: {e}"))?;
        servers.push(server);
    }
    #[cfg(feature = "unix")]
    if let Some(path) = &args.unix {
        let server = wasio::start_unix_server(handler.clone(), path, options.clone())
            .await
            .map_err(|e| format!("cannot listen on {path}: {e}"))?;
        servers.push(server);
    }
    for server in &servers {
        for address in server.sockets() {
            println!("listening on {address}");
        }
    }

    let end_of_input = async {
        if args.stop_on_eof {
            wasio::cli::stdin_closed().await;
        } else {
            std::future::pending().await
        }
    };
    either(end_of_input, enough.wait()).await;
    let clients_left = !enough.set.get();
    for server in &servers {
        server.close();
        if clients_left {
            server.close_clients();
        }
    }
    for server in &servers {
        if wasio::timeout(Some(Duration::from_secs(30)), server.wait_closed())
            .await
            .is_err()
        {
            server.abort_clients();
        }
    }
    Ok(())
}

async fn command() -> u8 {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("echo-server: {message}");
            return 2;
        }
    };
    match serve(args).await {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("echo-server: {message}");
            1
        }
    }
}

wasio::main!(command);

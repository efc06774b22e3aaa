//! bench-consumer: the benchmark protocol through wasio's WIT interface,
//! as a component in any language would use it.
//!
//! ```text
//! bench-consumer [--listen HOST:PORT] [--unix PATH] [--startup] [--single]
//! ```
//!
//! Built without the `unix` feature it imports only what wasio's
//! `consumer` world lists (no `--unix`), is plugged into `wasio-tcp.wasm`
//! and runs on the stock `wasmtime` CLI.
//!
//! The same modes and output as `bench-server` (see `bench/src/protocol.rs`),
//! but written against the imports of `wasio:streams` instead of the Rust
//! API linked in: `wasio-plug` composes it with `wasio.wasm`, and every
//! read and write crosses from this component into wasio's. Many clients
//! are served at once by one event loop of the kind a consumer in another
//! language has: the non-blocking forms until `would-block`, then the
//! resource's `subscribe` pollable, all of them in one `wasi:io/poll.poll`
//! with the servers' and standard input's.
//!
//! By default it uses the batched forms: `readlines` takes every complete
//! line buffered in one call and one `write` sends them back. `--single`
//! echoes one `readline` and one `write` at a time, as `bench-server`
//! does, to measure what the batched forms save. Either way it drains
//! once the reads would block rather than after each write: the WIT
//! `drain` starts sending at once (as asyncio's `write` does), where the
//! Rust API's leaves the bytes to be coalesced until its event loop waits.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::ExitCode;

use wasio::streams::streams::{Server, StreamReader, StreamWriter};
use wasio::streams::tcp;
use wasio::streams::types::{Error, ServerOptions, SocketAddress};
use wasip2::io::poll::{Pollable, poll};
use wasip2::io::streams::StreamError;
use wasip2::sockets::network::IpSocketAddress;

#[cfg(feature = "unix")]
wit_bindgen::generate!({
    world: "wasio-bench:consumer/bench-consumer",
    // wasio's contract (with its WASI dependencies), then this world.
    path: ["../../wit", "wit"],
    with: {
        "wasio:streams/types@0.1.0": generate,
        "wasio:streams/streams@0.1.0": generate,
        "wasio:streams/tcp@0.1.0": generate,
        "wasio:streams/unix-streams@0.1.0": generate,
        "wasi:io/poll@0.2.12": wasip2::io::poll,
        "wasi:clocks/monotonic-clock@0.2.12": wasip2::clocks::monotonic_clock,
        "wasi:sockets/network@0.2.12": wasip2::sockets::network,
    },
});

#[cfg(not(feature = "unix"))]
wit_bindgen::generate!({
    world: "wasio-bench:consumer/bench-consumer-tcp",
    path: ["../../wit", "wit"],
    with: {
        "wasio:streams/types@0.1.0": generate,
        "wasio:streams/streams@0.1.0": generate,
        "wasio:streams/tcp@0.1.0": generate,
        "wasi:io/poll@0.2.12": wasip2::io::poll,
        "wasi:clocks/monotonic-clock@0.2.12": wasip2::clocks::monotonic_clock,
        "wasi:sockets/network@0.2.12": wasip2::sockets::network,
    },
});

/// The listen backlog of every subject.
const BACKLOG: u32 = 1024;
/// Piece size of `read` in `sink` and of the writes in `source`.
const PIECE: usize = 64 * 1024;
/// Reads and writes one connection makes before the others get a turn.
const BUDGET: usize = 64;

struct Args {
    listen: Option<String>,
    unix: Option<String>,
    startup: bool,
    single: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        listen: None,
        unix: None,
        startup: false,
        single: false,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(flag) = iter.next() {
        match flag.as_str() {
            "--listen" => args.listen = iter.next(),
            "--unix" => args.unix = iter.next(),
            "--startup" => args.startup = true,
            "--single" => args.single = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// Where a connection is in the protocol.
#[derive(Debug)]
enum Mode {
    /// Reading the mode line.
    Head,
    Echo,
    /// Reading a frame's length (`None`) or its payload.
    Frames {
        length: Option<u32>,
        total: u64,
    },
    Sink {
        total: u64,
    },
    Source {
        left: u64,
    },
    /// `close` called; waiting for `wait-closed`.
    Closing,
}

/// What a connection does next.
enum Next {
    /// Wait for this pollable, then go on.
    Wait(Pollable),
    /// Its budget is used up: go on after the others.
    Yield,
    /// Closed: drop it.
    Done,
}

/// One client. Fields drop in order: the pollable before its resources.
struct Conn {
    ready: Option<Pollable>,
    reader: StreamReader,
    writer: StreamWriter,
    mode: Mode,
    /// A `drain` is to complete before the mode goes on.
    draining: bool,
}

impl Conn {
    fn new(reader: StreamReader, writer: StreamWriter) -> Self {
        Self {
            ready: None,
            reader,
            writer,
            mode: Mode::Head,
            draining: false,
        }
    }

    /// Go on until the connection would block, its budget is used up or
    /// it is closed.
    fn step(&mut self, single: bool) -> Next {
        for _ in 0..BUDGET {
            match self.advance(single) {
                Ok(()) => {}
                Err(Wait::Reader) => return Next::Wait(self.reader.subscribe()),
                Err(Wait::Writer) => return Next::Wait(self.writer.subscribe()),
                Err(Wait::Closed) => return Next::Done,
                Err(Wait::Failed(error)) => {
                    eprintln!("bench-consumer: {error:?}");
                    self.close();
                }
            }
        }
        Next::Yield
    }

    fn close(&mut self) {
        self.writer.close();
        self.draining = false;
        self.mode = Mode::Closing;
    }

    /// Answer `count` as a decimal line and close.
    fn answer(&mut self, count: u64) -> Result<(), Wait> {
        self.writer.write(format!("{count}\n").as_bytes())?;
        self.close();
        Ok(())
    }

    /// One operation of the protocol.
    fn advance(&mut self, single: bool) -> Result<(), Wait> {
        if self.draining {
            self.writer.drain().map_err(Wait::on_writer)?;
            self.draining = false;
        }
        match &mut self.mode {
            Mode::Head => {
                let line = self.reader.readline().map_err(Wait::on_reader)?;
                self.mode = match &line[..] {
                    b"echo\n" => Mode::Echo,
                    b"frames\n" => Mode::Frames {
                        length: None,
                        total: 0,
                    },
                    b"sink\n" => Mode::Sink { total: 0 },
                    other => match std::str::from_utf8(other)
                        .ok()
                        .and_then(|m| m.strip_prefix("source "))
                        .and_then(|n| n.trim_end().parse().ok())
                    {
                        Some(left) => Mode::Source { left },
                        None => {
                            return Err(Wait::Failed(Error::InvalidArgument(
                                "unknown mode".into(),
                            )));
                        }
                    },
                };
            }
            Mode::Echo => {
                let read = if single {
                    self.reader.readline()
                } else {
                    self.reader.readlines()
                };
                let lines = match read {
                    Ok(lines) => lines,
                    // Drain before waiting, not after each write: the
                    // WIT `drain` sends at once, so a drain per line
                    // would cost a send per line.
                    Err(Error::WouldBlock) => {
                        self.draining = true;
                        self.writer.drain().map_err(Wait::on_writer)?;
                        self.draining = false;
                        return Err(Wait::Reader);
                    }
                    Err(error) => return Err(Wait::Failed(error)),
                };
                if lines.is_empty() {
                    self.close();
                    return Ok(());
                }
                self.writer.write(&lines)?;
            }
            Mode::Frames {
                length: None,
                total,
            } => {
                let total = *total;
                let header = self.reader.readexactly(4).map_err(Wait::on_reader)?;
                let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
                if length == 0 {
                    return self.answer(total);
                }
                self.mode = Mode::Frames {
                    length: Some(length),
                    total,
                };
            }
            Mode::Frames {
                length: Some(length),
                total,
            } => {
                let payload = self
                    .reader
                    .readexactly(i64::from(*length))
                    .map_err(Wait::on_reader)?;
                let total = *total + payload.len() as u64;
                self.mode = Mode::Frames {
                    length: None,
                    total,
                };
            }
            Mode::Sink { total } => {
                let chunk = self.reader.read(PIECE as i64).map_err(Wait::on_reader)?;
                if chunk.is_empty() {
                    let total = *total;
                    return self.answer(total);
                }
                *total += chunk.len() as u64;
            }
            Mode::Source { left } => {
                if *left == 0 {
                    self.close();
                    return Ok(());
                }
                let n = (*left).min(PIECE as u64) as usize;
                *left -= n as u64;
                self.writer.write(&PIECE_BYTES[..n])?;
                self.draining = true;
            }
            Mode::Closing => {
                return match self.writer.wait_closed() {
                    Err(Error::WouldBlock) => Err(Wait::Writer),
                    _ => Err(Wait::Closed),
                };
            }
        }
        Ok(())
    }
}

/// The bytes `source` sends.
static PIECE_BYTES: [u8; PIECE] = [b'x'; PIECE];

/// Why an operation stopped.
enum Wait {
    Reader,
    Writer,
    Closed,
    Failed(Error),
}

impl Wait {
    fn on_reader(error: Error) -> Self {
        match error {
            Error::WouldBlock => Wait::Reader,
            error => Wait::Failed(error),
        }
    }

    fn on_writer(error: Error) -> Self {
        match error {
            Error::WouldBlock => Wait::Writer,
            error => Wait::Failed(error),
        }
    }
}

impl From<Error> for Wait {
    fn from(error: Error) -> Self {
        Wait::Failed(error)
    }
}

fn address(address: &SocketAddress) -> String {
    match address {
        SocketAddress::Ip(IpSocketAddress::Ipv4(a)) => {
            let (a0, a1, a2, a3) = a.address;
            format!("{}:{}", Ipv4Addr::new(a0, a1, a2, a3), a.port)
        }
        SocketAddress::Ip(IpSocketAddress::Ipv6(a)) => {
            let (a0, a1, a2, a3, a4, a5, a6, a7) = a.address;
            let ip = Ipv6Addr::new(a0, a1, a2, a3, a4, a5, a6, a7);
            format!("[{ip}]:{}", a.port)
        }
        SocketAddress::Unix(path) => path.clone(),
    }
}

fn start(args: &Args) -> Result<Vec<Server>, String> {
    let options = ServerOptions {
        limit: None,
        write_high_water: None,
        write_low_water: None,
        backlog: Some(BACKLOG),
        family: None,
        keep_alive: None,
        receive_buffer_size: None,
        send_buffer_size: None,
        hop_limit: None,
    };
    let mut servers = Vec::new();
    if let Some(listen) = &args.listen {
        let (host, port) = listen
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h, p.parse().ok()?)))
            .ok_or_else(|| format!("--listen {listen:?}: expected HOST:PORT"))?;
        let server = tcp::start_server(Some(host), port, Some(options))
            .map_err(|e| format!("cannot listen on {listen}: {e:?}"))?;
        servers.push(server);
    }
    if let Some(path) = &args.unix {
        #[cfg(feature = "unix")]
        servers.push(
            wasio::streams::unix_streams::start_unix_server(path, Some(options))
                .map_err(|e| format!("cannot listen on {path}: {e:?}"))?,
        );
        #[cfg(not(feature = "unix"))]
        return Err(format!("--unix {path}: built without Unix sockets"));
    }
    Ok(servers)
}

/// Serve until standard input ends.
fn serve(servers: &[Server], single: bool) {
    let stdin = wasip2::cli::stdin::get_stdin();
    let stdin_ready = stdin.subscribe();
    // One pollable per listening socket, and the server it belongs to.
    let listening: Vec<(usize, Pollable)> = servers
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.subscribe().into_iter().map(move |p| (i, p)))
        .collect();
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut runnable: Vec<usize> = Vec::new();
    let mut accept_from: Vec<usize> = Vec::new();
    'serving: loop {
        for &s in &accept_from {
            loop {
                match servers[s].accept() {
                    Ok((reader, writer)) => {
                        let conn = Some(Conn::new(reader, writer));
                        let slot = match free.pop() {
                            Some(slot) => {
                                conns[slot] = conn;
                                slot
                            }
                            None => {
                                conns.push(conn);
                                conns.len() - 1
                            }
                        };
                        runnable.push(slot);
                    }
                    Err(Error::WouldBlock) => break,
                    Err(error) => {
                        eprintln!("bench-consumer: accept: {error:?}");
                        break;
                    }
                }
            }
        }
        accept_from.clear();
        let mut again = Vec::new();
        for slot in runnable.drain(..) {
            let conn = conns[slot].as_mut().expect("a runnable connection");
            match conn.step(single) {
                Next::Wait(pollable) => conn.ready = Some(pollable),
                Next::Yield => again.push(slot),
                Next::Done => {
                    conns[slot] = None;
                    free.push(slot);
                }
            }
        }
        runnable = again;
        if !runnable.is_empty() {
            continue;
        }
        // Everything waits: poll standard input, the servers and every
        // connection's pollable at once.
        let mut pollables: Vec<&Pollable> = vec![&stdin_ready];
        pollables.extend(listening.iter().map(|(_, p)| p));
        let first_conn = pollables.len();
        let mut owners = Vec::new();
        for (slot, conn) in conns.iter().enumerate() {
            if let Some(ready) = conn.as_ref().and_then(|c| c.ready.as_ref()) {
                pollables.push(ready);
                owners.push(slot);
            }
        }
        let ready = poll(&pollables);
        drop(pollables);
        for index in ready {
            let index = index as usize;
            if index == 0 {
                match stdin.read(256) {
                    Ok(_) => {}
                    Err(StreamError::Closed | StreamError::LastOperationFailed(_)) => {
                        break 'serving;
                    }
                }
            } else if index < first_conn {
                let server = listening[index - 1].0;
                if !accept_from.contains(&server) {
                    accept_from.push(server);
                }
            } else {
                let slot = owners[index - first_conn];
                if let Some(conn) = conns[slot].as_mut() {
                    conn.ready = None;
                    runnable.push(slot);
                }
            }
        }
    }
    drop(listening);
    for server in servers {
        server.close();
        server.abort_clients();
    }
    drop(conns);
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("bench-consumer: {message}");
            return ExitCode::FAILURE;
        }
    };
    let servers = match start(&args) {
        Ok(servers) => servers,
        Err(message) => {
            eprintln!("bench-consumer: {message}");
            return ExitCode::FAILURE;
        }
    };
    if args.startup {
        return ExitCode::SUCCESS;
    }
    for server in &servers {
        for socket in server.sockets() {
            println!("listening on {}", address(&socket));
        }
    }
    serve(&servers, args.single);
    ExitCode::SUCCESS
}

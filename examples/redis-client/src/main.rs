//! redis-client: a Redis client component that uses wasio through its WIT
//! interface, as a component in any language would.
//!
//! ```text
//! redis-client HOST PORT                   PING, SET a key and GET it back
//! redis-client HOST PORT COMMAND [ARG]...  one command; its reply as redis-cli shows it
//! redis-client --tls HOST PORT ...         the same over TLS (a build with the `tls` feature)
//! ```
//!
//! It imports `wasio:streams/tcp`: `blocking-open-connection` connects,
//! `write` and `blocking-drain` send a command, `blocking-readline` reads
//! each reply's type line and `blocking-readexactly` the body of a bulk
//! string, which may hold any bytes. `wac plug` composes it with
//! `wasio-tcp.wasm` into a component that runs on any WASI 0.2 runtime.
//!
//! Built with the `tls` feature it also imports `wasio:streams/tls`, whose
//! `blocking-open-connection` connects with TLS on `--tls`; composed with
//! `wasio-tls.wasm`, it runs where the host provides `wasi:tls`
//! (`wasio run --tls`).
//!
//! A failure (refused, unresolvable, timed out, connection lost, malformed
//! reply) ends it with a one-line message and exit code 1, as does an
//! error reply from the server (after it is shown); bad arguments end it
//! with exit code 2.

mod resp;

use std::fmt;
use std::process::ExitCode;

use resp::{ProtocolError, Reply};
use wasio::streams::streams::{StreamReader, StreamWriter};
use wasio::streams::tcp;
#[cfg(feature = "tls")]
use wasio::streams::tls;
use wasio::streams::types::{ConnectOptions, Error};

/// The bindings of `$world`: wasio's interfaces generated, WASI's from
/// the `wasip2` crate.
macro_rules! bindings {
    ($world:literal $(, $interface:literal)*) => {
        wit_bindgen::generate!({
            world: $world,
            // wasio's contract (with its WASI dependencies), then this
            // world. Outside this repository, vendor wasio's `wit/` into
            // `wit/deps/` instead (see the README).
            path: ["../../wit", "wit"],
            with: {
                "wasio:streams/types@0.1.0": generate,
                "wasio:streams/streams@0.1.0": generate,
                "wasio:streams/tcp@0.1.0": generate,
                $($interface: generate,)*
                "wasi:io/poll@0.2.12": wasip2::io::poll,
                "wasi:clocks/monotonic-clock@0.2.12": wasip2::clocks::monotonic_clock,
                "wasi:sockets/network@0.2.12": wasip2::sockets::network,
            },
        });
    };
}

#[cfg(not(feature = "tls"))]
bindings!("example:redis-client/redis-client");
#[cfg(feature = "tls")]
bindings!(
    "example:redis-client/redis-client-tls",
    "wasio:streams/tls@0.1.0"
);

const USAGE: &str = "usage: redis-client [--tls] HOST PORT [COMMAND [ARG]...]";

/// How long connecting, and then each reply, may take (nanoseconds).
const TIMEOUT: u64 = 10_000_000_000;

/// The demo session's key and value: the value holds `\r\n`, which only a
/// length-prefixed read (`readexactly`) gets right.
const DEMO_KEY: &str = "wasio:example";
const DEMO_VALUE: &str = "one line\r\nand another";

/// Why the client stopped.
#[derive(Debug)]
enum Failure {
    Connect {
        target: String,
        error: Error,
    },
    #[cfg(feature = "tls")]
    Handshake {
        target: String,
        error: tls::HandshakeError,
    },
    Connection(Error),
    ClosedByServer,
    Protocol(ProtocolError),
}

impl From<ProtocolError> for Failure {
    fn from(error: ProtocolError) -> Self {
        Failure::Protocol(error)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Connect { target, error } => {
                write!(f, "cannot connect to {target}: {}", describe(error))
            }
            #[cfg(feature = "tls")]
            Failure::Handshake { target, error } => {
                write!(
                    f,
                    "TLS with {target} failed: {:?}: {}",
                    error.failure, error.detail
                )
            }
            Failure::Connection(error) => write!(f, "connection failed: {}", describe(error)),
            Failure::ClosedByServer => f.write_str("the server closed the connection"),
            Failure::Protocol(error) => write!(f, "malformed reply: {error}"),
        }
    }
}

/// A wasio error as a short phrase.
fn describe(error: &Error) -> String {
    let phrase = match error {
        Error::IncompleteRead(read) => {
            return format!("end of file after {} bytes", read.partial.len());
        }
        Error::LimitOverrun(_) => "a reply line longer than the reader's limit",
        Error::InvalidArgument(reason) | Error::InvalidState(reason) | Error::Other(reason) => {
            return reason.clone();
        }
        Error::ConcurrentRead => "concurrent read",
        Error::Closed => "closed",
        Error::WouldBlock => "would block",
        Error::TimedOut => "timed out",
        Error::ConnectionRefused => "connection refused",
        Error::ConnectionReset => "connection reset by peer",
        Error::ConnectionAborted => "connection aborted",
        Error::BrokenPipe => "broken pipe",
        Error::AccessDenied => "access denied",
        Error::AddressInUse => "address in use",
        Error::AddressNotAvailable => "address not available",
        Error::RemoteUnreachable => "remote unreachable",
        Error::NameUnresolvable => "name does not resolve",
        Error::NotConnected => "not connected",
    };
    phrase.to_owned()
}

/// A connection to a Redis server: wasio's reader and writer.
struct Connection {
    reader: StreamReader,
    writer: StreamWriter,
}

impl Connection {
    fn open(host: &str, port: u16, tls: bool) -> Result<Self, Failure> {
        let options = ConnectOptions {
            limit: None,
            write_high_water: None,
            write_low_water: None,
            timeout: Some(TIMEOUT),
            family: None,
            local_address: None,
            keep_alive: None,
            receive_buffer_size: None,
            send_buffer_size: None,
            hop_limit: None,
        };
        let target = || format!("{host}:{port}");
        #[cfg(feature = "tls")]
        if tls {
            let (reader, writer) = tls::blocking_open_connection(host, port, None, Some(options))
                .map_err(|error| match error {
                tls::TlsError::Handshake(error) => Failure::Handshake {
                    target: target(),
                    error,
                },
                tls::TlsError::Connection(error) => Failure::Connect {
                    target: target(),
                    error,
                },
            })?;
            return Ok(Connection { reader, writer });
        }
        debug_assert!(!tls, "--tls is refused without the tls feature");
        let (reader, writer) =
            tcp::blocking_open_connection(host, port, Some(options)).map_err(|error| {
                Failure::Connect {
                    target: target(),
                    error,
                }
            })?;
        Ok(Connection { reader, writer })
    }

    /// Send one command and read its reply.
    fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Reply, Failure> {
        self.writer
            .write(&resp::encode_command(args))
            .and_then(|()| self.writer.blocking_drain(Some(TIMEOUT)))
            .map_err(Failure::Connection)?;
        resp::read_reply(self)
    }

    /// Send what is left, close and wait until the socket is released.
    fn close(self) {
        self.writer.close();
        let _ = self.writer.blocking_wait_closed(Some(TIMEOUT));
    }
}

impl resp::Source for Connection {
    type Error = Failure;

    fn readline(&mut self) -> Result<Vec<u8>, Failure> {
        match self.reader.blocking_readline(Some(TIMEOUT)) {
            Ok(line) if line.ends_with(b"\n") => Ok(line),
            // At end of file `readline` returns the partial last line.
            Ok(_) => Err(Failure::ClosedByServer),
            Err(error) => Err(Failure::Connection(error)),
        }
    }

    fn readexactly(&mut self, n: usize) -> Result<Vec<u8>, Failure> {
        let n = i64::try_from(n)
            .map_err(|_| ProtocolError::new(format!("a bulk string of {n} bytes")))?;
        match self.reader.blocking_readexactly(n, Some(TIMEOUT)) {
            Ok(data) => Ok(data),
            Err(Error::IncompleteRead(_)) => Err(Failure::ClosedByServer),
            Err(error) => Err(Failure::Connection(error)),
        }
    }
}

/// An argument as the transcript shows it: bare if it is a plain word.
fn show_argument(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
    if plain {
        arg.to_owned()
    } else {
        resp::quote(arg.as_bytes())
    }
}

/// Run `commands`, printing each reply; whether none was an error reply.
fn run(
    host: &str,
    port: u16,
    tls: bool,
    commands: &[Vec<String>],
    transcript: bool,
) -> Result<bool, Failure> {
    let mut connection = Connection::open(host, port, tls)?;
    let mut all_ok = true;
    for command in commands {
        if transcript {
            let shown: Vec<String> = command.iter().map(|a| show_argument(a)).collect();
            println!("> {}", shown.join(" "));
        }
        let reply = connection.call(command)?;
        println!("{}", reply.render());
        all_ok &= !matches!(reply, Reply::Error(_));
    }
    connection.close();
    Ok(all_ok)
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let tls = args.first().is_some_and(|a| a == "--tls");
    if tls {
        args.remove(0);
        if !cfg!(feature = "tls") {
            eprintln!("redis-client: --tls: built without TLS (the tls feature)");
            return ExitCode::from(2);
        }
    }
    let (host, port, command) = match args.as_slice() {
        [host, port, command @ ..] => match port.parse::<u16>() {
            Ok(port) => (host, port, command),
            Err(e) => {
                eprintln!("redis-client: port {port:?}: {e}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("redis-client: {USAGE}");
            return ExitCode::from(2);
        }
    };
    let (commands, transcript) = if command.is_empty() {
        let demo: [&[&str]; 3] = [
            &["PING"],
            &["SET", DEMO_KEY, DEMO_VALUE],
            &["GET", DEMO_KEY],
        ];
        let demo = demo
            .iter()
            .map(|c| c.iter().map(|a| a.to_string()).collect())
            .collect();
        (demo, true)
    } else {
        (vec![command.to_vec()], false)
    };
    match run(host, port, tls, &commands, transcript) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(failure) => {
            eprintln!("redis-client: {failure}");
            ExitCode::FAILURE
        }
    }
}

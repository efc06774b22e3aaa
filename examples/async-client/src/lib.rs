//! async-client: a component that uses wasio over WASI 0.3 through its WIT
//! interface (`wasio:streams@0.2.0`), awaiting each call as asyncio code
//! awaits `readline()`.
//!
//! ```text
//! async-client HOST PORT    a session with a line-echo server at HOST:PORT
//! ```
//!
//! It exports `wasi:cli/run@0.3` and imports `wasio:streams/tcp@0.2.0`;
//! `wac plug` composes it with `wasio-p3.wasm` into a component that runs
//! on any runtime with WASI 0.3 (the stock `wasmtime` CLI 48). The session
//! prints one line per step:
//!
//! - `open-connection` with a 64-byte limit, `write` two lines, `drain`,
//!   `readline`, then `readlines` for the rest;
//! - `readuntil` with two separators and `readexactly`;
//! - an over-long line: `readline` fails with `limit-overrun` and the
//!   next line reads on;
//! - `write-stream`: a `stream<u8>` written into the connection;
//! - a server of its own (`start-server` on port 0) with two clients
//!   accepted and served at the same time, one of them handed on with
//!   `into-stream`;
//! - `write-eof`, `read(-1)` to the end, `at-eof`, `close`, `wait-closed`.
//!
//! A failure ends it with a one-line message and exit code 1.

use futures::join;
use wasio::streams::streams::{StreamReader, StreamWriter};
use wasio::streams::tcp;
use wasio::streams::types::{ConnectOptions, Error};

wit_bindgen::generate!({
    world: "consumer-p3",
    // wasio's contract with its WASI dependencies. Outside this
    // repository, vendor wasio's `wit-p3/` instead (see the README).
    path: "../../wit-p3",
    with: {
        "wasio:streams/types@0.2.0": generate,
        "wasio:streams/streams@0.2.0": generate,
        "wasio:streams/tcp@0.2.0": generate,
        "wasi:sockets/types@0.3.2": wasip3::sockets::types,
        "wasi:clocks/types@0.3.2": wasip3::clocks::types,
    },
});

struct Command;

wasip3::cli::command::export!(Command);

impl wasip3::exports::cli::run::Guest for Command {
    async fn run() -> Result<(), ()> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let [host, port] = args.as_slice() else {
            eprintln!("usage: async-client HOST PORT");
            return Err(());
        };
        let Ok(port) = port.parse() else {
            eprintln!("async-client: bad port {port:?}");
            return Err(());
        };
        session(host, port).await.map_err(|message| {
            eprintln!("async-client: {message}");
        })
    }
}

/// What a step failed with, for the one-line message.
type Failure = String;

fn failed(step: &str) -> impl Fn(Error) -> Failure + '_ {
    move |error| format!("{step}: {error:?}")
}

/// Show `bytes` as one line of output.
fn show(what: &str, bytes: &[u8]) {
    println!("{what}: {:?}", String::from_utf8_lossy(bytes));
}

async fn session(host: &str, port: u16) -> Result<(), Failure> {
    let options = ConnectOptions {
        limit: Some(64),
        ..no_options()
    };
    let (reader, writer) = tcp::open_connection(host.to_owned(), port, Some(options))
        .await
        .map_err(failed("open-connection"))?;
    lines(&reader, &writer).await?;
    separators(&reader, &writer).await?;
    over_long(&reader, &writer).await?;
    streamed(&reader, &writer).await?;
    server().await?;
    end(&reader, &writer).await
}

async fn lines(reader: &StreamReader, writer: &StreamWriter) -> Result<(), Failure> {
    writer
        .write(b"first line\nsecond line\nthird line\n")
        .map_err(failed("write"))?;
    writer.drain().await.map_err(failed("drain"))?;
    show(
        "readline",
        &reader.readline().await.map_err(failed("readline"))?,
    );
    let mut rest = Vec::new();
    while rest.split(|b| *b == b'\n').count() < 3 {
        rest.extend(reader.readlines().await.map_err(failed("readlines"))?);
    }
    show("readlines", &rest);
    Ok(())
}

async fn separators(reader: &StreamReader, writer: &StreamWriter) -> Result<(), Failure> {
    writer
        .write(b"key=value;12345678\n")
        .map_err(failed("write"))?;
    let separators = vec![b";".to_vec(), b"=".to_vec()];
    show(
        "readuntil",
        &reader
            .readuntil(separators.clone())
            .await
            .map_err(failed("readuntil"))?,
    );
    show(
        "readuntil",
        &reader
            .readuntil(separators)
            .await
            .map_err(failed("readuntil"))?,
    );
    show(
        "readexactly",
        &reader.readexactly(4).await.map_err(failed("readexactly"))?,
    );
    show(
        "readline",
        &reader.readline().await.map_err(failed("readline"))?,
    );
    Ok(())
}

async fn over_long(reader: &StreamReader, writer: &StreamWriter) -> Result<(), Failure> {
    let mut long = vec![b'x'; 200];
    long.extend_from_slice(b"\nafter\n");
    writer.write(&long).map_err(failed("write"))?;
    match reader.readline().await {
        Err(Error::LimitOverrun(overrun)) => println!(
            "readline: limit-overrun, consumed {}, separator found {}",
            overrun.consumed, overrun.separator_found
        ),
        other => return Err(format!("an over-long line gave {other:?}")),
    }
    show(
        "readline",
        &reader.readline().await.map_err(failed("readline"))?,
    );
    Ok(())
}

async fn streamed(reader: &StreamReader, writer: &StreamWriter) -> Result<(), Failure> {
    let (mut sink, stream) = wit_stream::new();
    let produce = async move {
        for part in [&b"from a "[..], b"stream<u8>", b"\n"] {
            sink.write_all(part.to_vec()).await;
        }
    };
    let (written, ()) = join!(writer.write_stream(stream), produce);
    written.map_err(failed("write-stream"))?;
    show(
        "readline",
        &reader.readline().await.map_err(failed("readline"))?,
    );
    Ok(())
}

/// A server of its own: two clients connect; one is echoed a line at a
/// time, the other handed on whole with `into-stream`.
async fn server() -> Result<(), Failure> {
    let server = tcp::start_server(Some("127.0.0.1".to_owned()), 0, None)
        .await
        .map_err(failed("start-server"))?;
    let address = match server.sockets().first() {
        Some(wasio::streams::types::SocketAddress::Ip(address)) => *address,
        other => return Err(format!("the server listens on {other:?}")),
    };
    let port = match address {
        wasip3::sockets::types::IpSocketAddress::Ipv4(a) => a.port,
        wasip3::sockets::types::IpSocketAddress::Ipv6(a) => a.port,
    };
    let serve = async {
        let (one, two) = join!(server.accept(), server.accept());
        let (one_reader, one_writer) = one.map_err(failed("accept"))?;
        let (two_reader, _two_writer) = two.map_err(failed("accept"))?;
        let line = one_reader.readline().await.map_err(failed("readline"))?;
        one_writer.write(&line).map_err(failed("write"))?;
        one_writer.close();
        let handed = StreamReader::into_stream(two_reader).await.collect().await;
        Ok::<_, Failure>(handed)
    };
    let clients = async {
        let connect = || tcp::open_connection("127.0.0.1".to_owned(), port, None);
        let (one, two) = join!(connect(), connect());
        let (one_reader, one_writer) = one.map_err(failed("connect"))?;
        let (_two_reader, two_writer) = two.map_err(failed("connect"))?;
        two_writer
            .write(b"handed on\nwhole\n")
            .map_err(failed("write"))?;
        two_writer.close();
        one_writer.write(b"served\n").map_err(failed("write"))?;
        let echoed = one_reader.readline().await.map_err(failed("readline"))?;
        two_writer
            .wait_closed()
            .await
            .map_err(failed("wait-closed"))?;
        Ok::<_, Failure>(echoed)
    };
    // Shown once both sides are done: they run at the same time.
    let (handed, echoed) = join!(serve, clients);
    let (handed, echoed) = (handed?, echoed?);
    show("from the server", &echoed);
    show("into-stream", &handed);
    server.close();
    server.wait_closed().await.map_err(failed("wait-closed"))?;
    println!("server: closed, serving {}", server.is_serving());
    Ok(())
}

async fn end(reader: &StreamReader, writer: &StreamWriter) -> Result<(), Failure> {
    writer.write(b"last words\n").map_err(failed("write"))?;
    writer.write_eof().map_err(failed("write-eof"))?;
    show("read(-1)", &reader.read(-1).await.map_err(failed("read"))?);
    println!("at-eof: {}", reader.at_eof());
    writer.close();
    writer.wait_closed().await.map_err(failed("wait-closed"))?;
    println!("closed");
    Ok(())
}

fn no_options() -> ConnectOptions {
    ConnectOptions {
        limit: None,
        write_high_water: None,
        write_low_water: None,
        timeout: None,
        family: None,
        local_address: None,
        keep_alive: None,
        receive_buffer_size: None,
        send_buffer_size: None,
        hop_limit: None,
    }
}

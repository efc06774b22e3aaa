//! asyncio's `Server` and its client handlers, with clients in the same
//! component.
//!
//! ```text
//! streams_server WHERE SCENARIO
//! ```
//!
//! WHERE is `HOST:PORT` (port 0 picks one) or `unix:PATH` to listen on.
//!
//! - `closed`: after `close()`, `sockets()` is empty, `is_serving()` false,
//!   `serve_forever()` fails and `wait_closed()` returns.
//! - `serve-forever`: `serve_forever()` returns once another task closes
//!   the server; a second `serve_forever()` meanwhile fails.
//! - `failing-handler`: a handler that returns an error has its
//!   connection closed, and the server serves the next client
//!   (asyncio's `test_unhandled_exception`).
//! - `cancelled-handler`: a handler whose read is cancelled (a timeout)
//!   ends, its connection closes, the server serves on (asyncio's
//!   `test_unhandled_cancel`).
//! - `abort-clients`: `abort_clients()` ends every accepted connection at
//!   once: the handlers' reads and the clients see end of file, and
//!   `wait_closed()` returns.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use wasio::{Error, Server, ServerOptions, SocketAddress, StreamReader, StreamWriter};
use wasio_test_programs::{arg, check_eq, connect, fail, host_port, ok};

/// Start a server at `place` running `handler` for every client.
async fn start<F, Fut>(place: &str, handler: F) -> Server
where
    F: Fn(StreamReader, StreamWriter) -> Fut + 'static,
    Fut: Future<Output = Result<(), Error>> + 'static,
{
    let options = ServerOptions::default();
    let started = match place.strip_prefix("unix:") {
        #[cfg(feature = "p2")]
        Some(path) => wasio::start_unix_server(handler, path, options).await,
        _ => {
            let (host, port) = host_port(place);
            wasio::start_server(handler, Some(host), port, options).await
        }
    };
    ok(started, "start the server")
}

/// Where a client reaches `server`.
fn address(server: &Server) -> String {
    match server.sockets().first() {
        Some(SocketAddress::Ip(address)) => address.to_string(),
        Some(SocketAddress::Unix(path)) => format!("unix:{path}"),
        None => fail("the server listens nowhere"),
    }
}

/// Echo lines until end of file; fail on the line `fail\n`.
async fn echo(reader: StreamReader, writer: StreamWriter) -> Result<(), Error> {
    loop {
        let line = reader.readline().await?;
        if line.is_empty() {
            return Ok(());
        }
        if line == b"fail\n"[..] {
            return Err(Error::Other("asked to fail".into()));
        }
        writer.write(&line)?;
        writer.drain().await?;
    }
}

/// One exchange with the echo handler at `address`.
async fn echoed(address: &str, line: &[u8]) {
    let (reader, writer) = ok(connect(address).await, "connect");
    ok(writer.write(line), "write");
    check_eq(
        ok(reader.readline().await, "readline"),
        line.to_vec(),
        "echo",
    );
    writer.close();
    ok(writer.wait_closed().await, "wait_closed");
}

/// Send `line` and expect the server to close the connection without
/// answering.
async fn closed_after(address: &str, line: &[u8]) {
    let (reader, writer) = ok(connect(address).await, "connect");
    ok(writer.write(line), "write");
    check_eq(
        ok(reader.read(-1).await, "read to end of file"),
        Vec::new(),
        "nothing before the server closed",
    );
    writer.close();
    ok(writer.wait_closed().await, "wait_closed");
}

pub fn main() {
    let place: String = arg(0, "where to listen");
    let scenario: String = arg(1, "a scenario");
    wasio::block_on(async {
        match scenario.as_str() {
            "closed" => {
                let server = start(&place, echo).await;
                check_eq(server.sockets().len(), 1, "sockets while serving");
                server.close();
                check_eq(server.sockets(), Vec::new(), "sockets after close");
                check_eq(server.is_serving(), false, "is_serving");
                check_eq(
                    server.serve_forever().await,
                    Err(Error::invalid_state("the server is closed")),
                    "serve_forever on a closed server",
                );
                ok(server.wait_closed().await, "wait_closed");
            }
            "serve-forever" => {
                let server = Rc::new(start(&place, echo).await);
                let address = address(&server);
                let client = wasio::spawn({
                    let server = server.clone();
                    async move {
                        echoed(&address, b"hello\n").await;
                        let second = server.serve_forever().await;
                        server.close();
                        second
                    }
                });
                ok(server.serve_forever().await, "serve_forever");
                check_eq(server.is_serving(), false, "is_serving");
                check_eq(
                    client.await,
                    Err(Error::invalid_state(
                        "the server is already being awaited on serve_forever()",
                    )),
                    "a second serve_forever",
                );
            }
            "failing-handler" => {
                let server = start(&place, echo).await;
                let address = address(&server);
                closed_after(&address, b"fail\n").await;
                echoed(&address, b"still serving\n").await;
                server.close();
                ok(server.wait_closed().await, "wait_closed");
            }
            "cancelled-handler" => {
                let handled = Rc::new(Cell::new(0));
                let counted = handled.clone();
                let server = start(&place, move |reader: StreamReader, writer| {
                    let handled = counted.clone();
                    async move {
                        handled.set(handled.get() + 1);
                        if handled.get() == 1 {
                            // The read is cancelled by the timeout; the
                            // handler ends with it.
                            let read =
                                wasio::timeout(Some(Duration::from_millis(50)), reader.readline());
                            check_eq(read.await.err(), Some(Error::TimedOut), "timeout");
                            return Ok(());
                        }
                        echo(reader, writer).await
                    }
                })
                .await;
                let address = address(&server);
                closed_after(&address, b"").await;
                echoed(&address, b"still serving\n").await;
                check_eq(handled.get(), 2, "clients handled");
                server.close();
                ok(server.wait_closed().await, "wait_closed");
            }
            "abort-clients" => {
                let ended = Rc::new(Cell::new(0));
                let counted = ended.clone();
                let server = start(&place, move |reader: StreamReader, writer| {
                    let ended = counted.clone();
                    async move {
                        // Held, not closed, until the handler ends.
                        let _writer = writer;
                        let line = reader.readline().await;
                        check_eq(
                            line,
                            Ok(wasio::Bytes::new()),
                            "the handler's read after abort",
                        );
                        ended.set(ended.get() + 1);
                        Ok(())
                    }
                })
                .await;
                let address = address(&server);
                let mut clients = Vec::new();
                for _ in 0..2 {
                    clients.push(ok(connect(&address).await, "connect"));
                }
                // Let the handlers start waiting.
                wasio::sleep(Duration::from_millis(50)).await;
                server.close();
                server.abort_clients();
                ok(server.wait_closed().await, "wait_closed");
                for (reader, _writer) in &clients {
                    check_eq(
                        ok(reader.read(-1).await, "the client's read"),
                        Vec::new(),
                        "the client's read after abort",
                    );
                }
                wasio::sleep(Duration::from_millis(10)).await;
                check_eq(ended.get(), 2, "handlers ended");
            }
            other => fail(format!("unknown scenario {other:?}")),
        }
        println!("ok: {scenario}");
    });
}

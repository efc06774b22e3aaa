//! A TLS client against the suite's rustls peers; the host trusts the
//! suite's test CA (`HostConfig::tls`).
//!
//! `tls_client TARGET SERVER_NAME MODE`:
//! - `echo`: open a TLS connection (`ConnectOptions::tls`), exchange lines
//!   with the line-echo peer, close, `wait_closed`; prints `ok: ...`.
//! - `starttls`: open a plain connection, send `STARTTLS\n`, read `OK\n`,
//!   `start_tls`, then the same exchange over TLS; prints `ok: ...`.
//! - `starttls-early`: as `starttls`, reading only `OK` of the reply:
//!   `start_tls` refuses with `invalid-state` while the `\n` is buffered
//!   (it would be lost), and the connection goes on; prints `ok: ...`.
//! - `redis`: open a TLS connection to a `redis-server --tls-port`, `SET`
//!   and `GET` a value and `PING`; prints `ok: ...`.
//! - `fail`: open a TLS connection that must fail; prints `error: ` and
//!   the error's debug form (for a TLS failure, its `TlsFailure`).

#[cfg(feature = "p2")]
pub use over_tls::main;

/// TLS comes from `wasi:tls@0.2`: the WASI 0.3 build has none.
#[cfg(not(feature = "p2"))]
pub fn main() {
    wasio_test_programs::fail("TLS needs the WASI 0.2 build")
}

#[cfg(feature = "p2")]
mod over_tls {
    use wasio::{ConnectOptions, Error, StreamReader, StreamWriter, TlsOptions};
    use wasio_test_programs::{arg, check_eq, connect, connect_with, fail, ok};

    const LINES: usize = 100;

    pub fn main() {
        let target: String = arg(0, "a target");
        let server_name: String = arg(1, "a server name");
        let mode: String = arg(2, "echo, starttls, starttls-early or fail");
        let options = ConnectOptions {
            tls: Some(TlsOptions {
                server_name: Some(server_name.clone()),
            }),
            ..ConnectOptions::default()
        };
        wasio::block_on(async {
            match mode.as_str() {
                "echo" => {
                    let (reader, writer) = ok(connect_with(&target, options).await, "TLS connect");
                    exchange(&reader, &writer).await;
                    println!("ok: {LINES} lines over TLS");
                }
                "starttls" => {
                    let (reader, writer) = ok(connect(&target).await, "connect");
                    ok(writer.write(b"STARTTLS\n"), "write");
                    check_eq(
                        ok(reader.readline().await, "readline"),
                        b"OK\n".to_vec(),
                        "reply",
                    );
                    ok(writer.start_tls(&server_name).await, "start_tls");
                    exchange(&reader, &writer).await;
                    println!("ok: {LINES} lines after STARTTLS");
                }
                "starttls-early" => {
                    let (reader, writer) = ok(connect(&target).await, "connect");
                    ok(writer.write(b"STARTTLS\n"), "write");
                    // The reply's `\n` arrives with `OK` (one write of the
                    // peer) and stays buffered.
                    check_eq(
                        ok(reader.readexactly(2).await, "readexactly"),
                        b"OK".to_vec(),
                        "reply",
                    );
                    match writer.start_tls(&server_name).await {
                        Err(Error::InvalidState(_)) => {}
                        other => fail(format!("start_tls with bytes buffered: {other:?}")),
                    }
                    check_eq(
                        ok(reader.readline().await, "readline"),
                        b"\n".to_vec(),
                        "the buffered byte is still there",
                    );
                    println!("ok: start_tls refused with bytes buffered");
                }
                "redis" => {
                    let (reader, writer) = ok(connect_with(&target, options).await, "TLS connect");
                    let value = "v".repeat(10_000);
                    let set = format!(
                        "*3\r\n$3\r\nSET\r\n$5\r\nwasio\r\n${}\r\n{value}\r\n",
                        value.len()
                    );
                    ok(writer.write(set.as_bytes()), "write SET");
                    ok(
                        writer.write(b"*2\r\n$3\r\nGET\r\n$5\r\nwasio\r\n"),
                        "write GET",
                    );
                    ok(writer.write(b"*1\r\n$4\r\nPING\r\n"), "write PING");
                    check_eq(
                        ok(reader.readline().await, "SET reply"),
                        b"+OK\r\n".to_vec(),
                        "SET",
                    );
                    check_eq(
                        ok(reader.readline().await, "GET header"),
                        format!("${}\r\n", value.len()).into_bytes(),
                        "GET header",
                    );
                    check_eq(
                        ok(reader.readexactly(value.len() as i64 + 2).await, "GET body"),
                        format!("{value}\r\n").into_bytes(),
                        "GET body",
                    );
                    check_eq(
                        ok(reader.readline().await, "PING reply"),
                        b"+PONG\r\n".to_vec(),
                        "PING",
                    );
                    writer.close();
                    ok(writer.wait_closed().await, "wait_closed");
                    println!("ok: SET, GET and PING over TLS");
                }
                "fail" => match connect_with(&target, options).await {
                    Ok(_) => fail("the TLS connection opened"),
                    Err(Error::Tls { failure, detail }) => {
                        println!("error: {failure:?} ({detail})");
                    }
                    Err(error) => println!("error: {error:?}"),
                },
                other => fail(format!("unknown mode {other:?}")),
            }
        });
    }

    /// Exchange lines with the echo peer, then close.
    async fn exchange(reader: &StreamReader, writer: &StreamWriter) {
        for i in 0..LINES {
            let line = format!("line {i} {}\n", "x".repeat(i * 10));
            ok(writer.write(line.as_bytes()), "write");
            check_eq(
                ok(reader.readline().await, "readline"),
                line.into_bytes(),
                "echo",
            );
        }
        writer.close();
        ok(writer.wait_closed().await, "wait_closed");
    }
}

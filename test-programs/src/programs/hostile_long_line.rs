//! Against a peer that sends a line of LENGTH `x` bytes and `\n`, then
//! `next line\n`, and closes; the guest reads with a limit of LIMIT
//! (< LENGTH), on two connections. `readline` fails with `limit-overrun`
//! and discards the long line, and the next `readline` gets `next line\n`.
//! `readuntil` fails with `limit-overrun` too but keeps the bytes, which
//! `readexactly` then returns.

use wasio::{ConnectOptions, Error, StreamLimits, StreamReader, StreamWriter};
use wasio_test_programs::{arg, check_eq, host_port, ok};

async fn connect(target: &str, limit: usize) -> (StreamReader, StreamWriter) {
    let options = ConnectOptions {
        limits: StreamLimits {
            limit: Some(limit),
            ..StreamLimits::default()
        },
        ..ConnectOptions::default()
    };
    let opened = match target.strip_prefix("unix:") {
        #[cfg(feature = "p2")]
        Some(path) => wasio::open_unix_connection(path, options).await,
        _ => {
            let (host, port) = host_port(target);
            wasio::open_connection_with(host, port, options).await
        }
    };
    ok(opened, "connect")
}

pub fn main() {
    let target: String = arg(0, "a target");
    let limit: usize = arg(1, "the reader's limit");
    let length: usize = arg(2, "the long line's length");
    let overrun = Err(Error::LimitOverrun {
        consumed: length as u64,
        separator_found: true,
    });
    wasio::block_on(async {
        let (reader, _writer) = connect(&target, limit).await;
        check_eq(reader.readline().await, overrun.clone(), "readline");
        check_eq(
            ok(reader.readline().await, "readline after the overrun"),
            b"next line\n".to_vec(),
            "the line after the long one",
        );
        check_eq(
            ok(reader.readline().await, "readline at end of file"),
            Vec::new(),
            "end of file",
        );

        let (reader, _writer) = connect(&target, limit).await;
        check_eq(reader.readuntil(&[b"\n"]).await, overrun, "readuntil");
        let mut long_line = vec![b'x'; length];
        long_line.push(b'\n');
        check_eq(
            ok(reader.readexactly(length as i64 + 1).await, "readexactly"),
            long_line,
            "the bytes readuntil kept",
        );
        check_eq(
            ok(reader.readuntil(&[b"\n"]).await, "readuntil"),
            b"next line\n".to_vec(),
            "the line after the long one",
        );
        println!("ok: over-long line of {length} bytes with limit {limit}");
    });
}

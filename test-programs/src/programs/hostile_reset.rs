//! Against a peer that resets the connection in the middle of a line:
//! sends `hello\nunread\n` (of which the peer reads only the first line),
//! and the peer answers `line one\nline two\npartial` and closes with
//! `unread\n` unread, which resets the connection.
//! The two complete lines still come first (wasio's documented choice),
//! then `readline` fails with `connection-reset`, and so do later writes
//! and `wait_closed`.

use wasio::Error;
use wasio_test_programs::{arg, check_eq, connect, ok};

pub fn main() {
    let target: String = arg(0, "a target");
    wasio::block_on(async {
        let (reader, writer) = ok(connect(&target).await, "connect");
        ok(writer.write(b"hello\nunread\n"), "write");
        ok(writer.drain().await, "drain");
        for want in ["line one\n", "line two\n"] {
            check_eq(
                ok(reader.readline().await, "readline"),
                want.as_bytes().to_vec(),
                "line before the reset",
            );
        }
        check_eq(
            reader.readline().await,
            Err(Error::ConnectionReset),
            "readline at the reset",
        );
        check_eq(
            reader.exception(),
            Some(Error::ConnectionReset),
            "exception",
        );
        check_eq(
            writer.write(b"anyone?\n"),
            Err(Error::ConnectionReset),
            "write after the reset",
        );
        check_eq(
            writer.wait_closed().await,
            Err(Error::ConnectionReset),
            "wait_closed after the reset",
        );
        println!("ok: lines, then connection-reset");
    });
}

//! A peer that resets the connection while nothing is being read: as with
//! asyncio's transport, the reset is noticed all the same. The guest sends
//! `hello\nunread\n`; the peer reads only the first line and closes with
//! the rest unread, which resets the connection (TCP sends RST; a Unix
//! socket reports `ECONNRESET`). Half a second later, with no read
//! pending, `exception()` is the reset, `is_closing()` is true and
//! `wait_closed()` fails with it, as in CPython.

use std::time::Duration;

use wasio::Error;
use wasio_test_programs::{arg, check_eq, connect, ok};

pub fn main() {
    let target: String = arg(0, "a target");
    wasio::block_on(async {
        let (reader, writer) = ok(connect(&target).await, "connect");
        ok(writer.write(b"hello\nunread\n"), "write");
        wasio::sleep(Duration::from_millis(500)).await;
        check_eq(
            reader.exception(),
            Some(Error::ConnectionReset),
            "exception",
        );
        check_eq(writer.is_closing(), true, "is_closing");
        check_eq(
            writer.wait_closed().await,
            Err(Error::ConnectionReset),
            "wait_closed",
        );
        check_eq(
            reader.readline().await,
            Err(Error::ConnectionReset),
            "readline",
        );
        check_eq(writer.drain().await, Err(Error::ConnectionReset), "drain");
        println!("ok: the reset was noticed with no read pending");
    });
}

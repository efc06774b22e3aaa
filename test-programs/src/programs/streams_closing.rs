//! Closing as asyncio closes.
//!
//! ```text
//! streams_closing TARGET SCENARIO
//! ```
//!
//! - `extra-info` (any peer): after `close()` and `wait_closed()`,
//!   `get_extra_info()` still gives the addresses.
//! - `drain-while-closing` (a peer that starts reading after a pause):
//!   three tasks drain one paused writer (asyncio's `test_multiple_drain`:
//!   all wake), another task closes it meanwhile; the drains that were
//!   waiting return normally once everything is sent, and a drain after
//!   `wait_closed` fails with `connection-reset` ("Connection lost").
//! - `unread-data` (a peer that sends two lines and waits): one line is
//!   read, then `close()` with the other unread, and `wait_closed()`
//!   returns (asyncio's `test_wait_closed_on_close_with_unread_data`).

use std::rc::Rc;

use wasio::{Error, SocketAddress};
use wasio_test_programs::{arg, check_eq, connect, fail, ok};

/// The bytes `drain-while-closing` writes: more than the kernel buffers
/// of a loopback connection hold, so some are still buffered in wasio.
const DRAINED: usize = 32 << 20;

pub fn main() {
    let target: String = arg(0, "a target");
    let scenario: String = arg(1, "a scenario");
    wasio::block_on(async {
        let (reader, writer) = ok(connect(&target).await, "connect");
        match scenario.as_str() {
            "extra-info" => {
                let before = writer.get_extra_info();
                writer.close();
                ok(writer.wait_closed().await, "wait_closed");
                let after = writer.get_extra_info();
                check_eq(&after, &before, "extra info after close");
                let peer = match &after.peername {
                    Some(SocketAddress::Ip(address)) => address.to_string(),
                    Some(SocketAddress::Unix(path)) => format!("unix:{path}"),
                    None => fail("no peername after close"),
                };
                check_eq(peer, target.clone(), "peername");
            }
            "drain-while-closing" => {
                ok(
                    writer.set_write_buffer_limits(Some(16 * 1024), None),
                    "limits",
                );
                ok(writer.write(&vec![b'd'; DRAINED]), "write");
                let writer = Rc::new(writer);
                let drains: Vec<_> = (0..3)
                    .map(|_| {
                        let writer = writer.clone();
                        wasio::spawn(async move { writer.drain().await })
                    })
                    .collect();
                // Let the drains start waiting, then close under them.
                wasio::sleep(std::time::Duration::from_millis(20)).await;
                check_eq(writer.get_write_buffer_size() > 0, true, "still buffered");
                writer.close();
                for (i, drain) in drains.into_iter().enumerate() {
                    ok(drain.await, &format!("drain {i} that waited"));
                }
                ok(writer.wait_closed().await, "wait_closed");
                check_eq(
                    writer.drain().await,
                    Err(Error::ConnectionReset),
                    "drain after wait_closed",
                );
                check_eq(writer.write(b"x"), Err(Error::Closed), "write after close");
            }
            "unread-data" => {
                check_eq(
                    ok(reader.readline().await, "readline"),
                    b"HTTP/1.0 200 OK\r\n".to_vec(),
                    "the first line",
                );
                writer.close();
                ok(writer.wait_closed().await, "wait_closed with unread data");
            }
            other => fail(format!("unknown scenario {other:?}")),
        }
        println!("ok: {scenario}");
    });
}

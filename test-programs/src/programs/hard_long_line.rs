//! Against a peer that sends one line of LENGTH bytes of `x` (pausing in
//! the middle until the guest sends `go\n`), then `\nnext line\n`: with
//! asyncio's default limit (64 KiB), `readline` fails with
//! `limit-overrun` (separator not found) and discards what it buffered,
//! again and again, until the end of the line arrives; the bytes reported
//! as consumed add up to LENGTH, and the next line reads fine. Meanwhile
//! another task of the same component exchanges EXCHANGES lines with the
//! line-echo peer at ECHO_TARGET, every echo intact; only once they are
//! done does it send `go\n`, so they all happen in the middle of the
//! long line.

use std::rc::Rc;

use wasio::Error;
use wasio_test_programs::{arg, check_eq, connect, echo_exchanges, fail, ok};

pub fn main() {
    let target: String = arg(0, "a target");
    let echo_target: String = arg(1, "a line-echo target");
    let length: u64 = arg(2, "the line's length");
    let exchanges: usize = arg(3, "an exchange count");
    wasio::block_on(async {
        let (reader, writer) = ok(connect(&target).await, "connect");
        let writer = Rc::new(writer);
        check_eq(reader.limit(), 64 * 1024, "the default limit");
        let others = wasio::spawn({
            let writer = writer.clone();
            async move {
                echo_exchanges(&echo_target, exchanges).await;
                ok(writer.write(b"go\n"), "write go");
            }
        });

        let (mut discarded, mut overruns) = (0u64, 0u64);
        loop {
            match reader.readline().await {
                Err(Error::LimitOverrun {
                    consumed,
                    separator_found,
                }) => {
                    if consumed <= reader.limit() as u64 && !separator_found {
                        fail(format!("overrun after only {consumed} bytes"));
                    }
                    discarded += consumed;
                    overruns += 1;
                    if separator_found {
                        break;
                    }
                }
                Ok(tail) if overruns > 0 && tail.ends_with(b"\n") => {
                    if tail.iter().take(tail.len() - 1).any(|&b| b != b'x') {
                        fail("the end of the long line holds other bytes");
                    }
                    discarded += tail.len() as u64 - 1;
                    break;
                }
                other => fail(format!(
                    "after {discarded} bytes in {overruns} overruns: {other:?}"
                )),
            }
        }
        check_eq(discarded, length, "bytes of the long line discarded");
        others.await;
        check_eq(
            ok(reader.readline().await, "the next line"),
            b"next line\n".to_vec(),
            "the line after the long one",
        );
        check_eq(
            ok(reader.readline().await, "end of file"),
            Vec::new(),
            "end of file",
        );
        writer.close();
        ok(writer.wait_closed().await, "wait_closed");
        println!("ok: a line of {length} bytes discarded in {overruns} overruns");
    });
}

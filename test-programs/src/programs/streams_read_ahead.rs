//! asyncio's reading model against a live peer: the socket is read ahead
//! of the reads, so a read finds everything that has arrived, however
//! small the limit, and the peer's end of file is noticed with no read
//! pending. Each scenario gives CPython 3.11/3.13's answer for the same
//! peer.
//!
//! ```text
//! streams_read_ahead TARGET SCENARIO
//! ```
//!
//! - `readuntil-overrun`: the peer sent `b"x" * 10000 + b"\nnext\n"` at
//!   once; with limit 1024, `readuntil(b"\n")` fails with limit-overrun,
//!   consumed 10000, separator found, and keeps the bytes.
//! - `readline-overrun`: the same peer; `readline()` fails once (the long
//!   line is discarded), then gives `next\n`.
//! - `eof-noticed`: the peer sent `bye\n` and end of file; `readline()`
//!   gives `bye\n`, then `at_eof()` is true.
//! - `feed-eof`: the peer sent `a\nb\n` and stays; `feed_eof()` on the
//!   connection's reader ends the stream after those bytes.

use std::time::Duration;

use wasio::Error;
use wasio_test_programs::{arg, check_eq, connect_limited, fail, ok};

/// Long enough for a loopback peer's bytes to have arrived.
const SETTLE: Duration = Duration::from_millis(200);

pub fn main() {
    let target: String = arg(0, "a target");
    let scenario: String = arg(1, "a scenario");
    wasio::block_on(async {
        let (reader, writer) = ok(connect_limited(&target, 1024).await, "connect");
        wasio::sleep(SETTLE).await;
        match scenario.as_str() {
            "readuntil-overrun" => {
                let overrun = Error::LimitOverrun {
                    consumed: 10_000,
                    separator_found: true,
                };
                check_eq(
                    reader.readuntil(&[b"\n"]).await,
                    Err(overrun.clone()),
                    "readuntil",
                );
                check_eq(
                    reader.readuntil(&[b"\n"]).await,
                    Err(overrun),
                    "readuntil again: the bytes stay",
                );
            }
            "readline-overrun" => {
                check_eq(
                    reader.readline().await,
                    Err(Error::LimitOverrun {
                        consumed: 10_000,
                        separator_found: true,
                    }),
                    "readline",
                );
                check_eq(
                    ok(reader.readline().await, "second readline"),
                    b"next\n".to_vec(),
                    "the line after the long one",
                );
            }
            "eof-noticed" => {
                check_eq(
                    ok(reader.readline().await, "readline"),
                    b"bye\n".to_vec(),
                    "the last line",
                );
                check_eq(reader.at_eof(), true, "at_eof after the last line");
                check_eq(writer.is_closing(), false, "is_closing: half-closed only");
            }
            "feed-eof" => {
                reader.feed_eof();
                check_eq(
                    ok(reader.read(-1).await, "read to end of file"),
                    b"a\nb\n".to_vec(),
                    "what had arrived",
                );
                check_eq(reader.at_eof(), true, "at_eof");
            }
            other => fail(format!("unknown scenario {other:?}")),
        }
        writer.close();
        ok(writer.wait_closed().await, "wait_closed");
        println!("ok: {scenario}");
    });
}

//! Against a peer that never reads: the guest writes CHUNK bytes at a time,
//! each followed by a `drain` bounded by a timeout. Once the socket's
//! buffers are full, `drain` blocks (fails with `timed-out`), with the
//! write buffer above the high-water mark by less than one chunk;
//! `try_drain` says `would-block`. `close` then cannot flush, so
//! `wait_closed` times out too; `abort` drops the buffer and `wait_closed`
//! completes at once.

use std::time::Duration;

use wasio::Error;
use wasio_test_programs::{arg, check_eq, connect, fail, ok};

/// How long a drain may wait before it counts as blocked.
const BLOCKED: Duration = Duration::from_millis(300);
/// Fail if this much went out without `drain` ever blocking.
const MOST: usize = 256 << 20;

pub fn main() {
    let target: String = arg(0, "a target");
    let chunk: usize = arg(1, "a chunk size");
    wasio::block_on(async {
        let (_reader, writer) = ok(connect(&target).await, "connect");
        let (low, high) = writer.get_write_buffer_limits();
        check_eq(
            (low, high),
            (16 * 1024, 64 * 1024),
            "the default water marks",
        );
        let data = vec![b'n'; chunk];
        let mut written = 0;
        loop {
            ok(writer.write(&data), "write");
            written += chunk;
            match wasio::timeout(Some(BLOCKED), writer.drain()).await {
                Ok(result) => ok(result, "drain"),
                Err(Error::TimedOut) => break,
                Err(error) => fail(format!("drain: {error:?}")),
            }
            if written > MOST {
                fail(format!("{written} bytes written and drain never blocked"));
            }
        }
        let buffered = writer.get_write_buffer_size();
        if buffered <= high || buffered > high + chunk {
            fail(format!(
                "drain blocked with {buffered} bytes buffered (high-water mark {high}, chunk {chunk})"
            ));
        }
        check_eq(writer.try_drain(), Err(Error::WouldBlock), "try_drain");
        check_eq(writer.is_closing(), false, "is_closing before close");
        writer.close();
        check_eq(writer.is_closing(), true, "is_closing after close");
        check_eq(
            wasio::timeout(Some(BLOCKED), writer.wait_closed()).await,
            Err(Error::TimedOut),
            "wait_closed while the peer reads nothing",
        );
        writer.abort();
        check_eq(
            wasio::timeout(Some(Duration::from_secs(10)), writer.wait_closed()).await,
            Ok(Ok(())),
            "wait_closed after abort",
        );
        check_eq(writer.get_write_buffer_size(), 0, "buffer after abort");
        println!("ok: drain blocked after {written} bytes with {buffered} buffered (high {high})");
    });
}

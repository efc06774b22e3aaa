//! Against a peer that dies in the middle of a transfer: the guest sends a
//! line (which the peer never reads), the peer sends part of
//! `Pattern::new(3)` and closes abortively. Every byte that arrives is the
//! pattern's, in order; then a read fails with `connection-reset` (never a
//! clean end of file), and so do writing and `wait_closed` after it.

use wasio::Error;
use wasio_test_programs::{Pattern, arg, check_eq, connect, fail, ok};

pub fn main() {
    let target: String = arg(0, "a target");
    let most: usize = arg(1, "the most bytes the peer sends");
    wasio::block_on(async {
        let (reader, writer) = ok(connect(&target).await, "connect");
        ok(writer.write(b"never read\n"), "write");
        ok(writer.drain().await, "drain");
        let mut pattern = Pattern::new(3);
        let mut want = Vec::new();
        let mut received = 0;
        let error = loop {
            match reader.read(64 * 1024).await {
                Ok(chunk) if chunk.is_empty() => fail(format!(
                    "a clean end of file after {received} bytes, not a reset"
                )),
                Ok(chunk) => {
                    want.resize(chunk.len(), 0);
                    pattern.fill(&mut want);
                    if chunk != want {
                        fail(format!("wrong bytes after {received} received"));
                    }
                    received += chunk.len();
                    if received > most {
                        fail(format!("{received} bytes from a peer that sent {most}"));
                    }
                }
                Err(error) => break error,
            }
        };
        check_eq(
            error,
            Error::ConnectionReset,
            "the read after the peer died",
        );
        check_eq(
            reader.exception(),
            Some(Error::ConnectionReset),
            "exception",
        );
        match writer.write(b"anyone?\n") {
            Err(Error::ConnectionReset | Error::BrokenPipe) => {}
            other => fail(format!("write after the reset: {other:?}")),
        }
        match writer.wait_closed().await {
            Err(Error::ConnectionReset | Error::BrokenPipe) => {}
            other => fail(format!("wait_closed after the reset: {other:?}")),
        }
        println!("ok: {received} bytes, then connection-reset");
    });
}

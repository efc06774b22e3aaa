//! Against a peer that closes at once: the guest reads end of file, then
//! keeps writing 100 KiB at a time and draining. Within at most 64 rounds
//! `write` or `drain` must fail with `broken-pipe` or `connection-reset`
//! (not spin, not trap); after that, writes and `wait_closed` report the
//! same error, and so does the reader's `exception()`.

use wasio::Error;
use wasio_test_programs::{arg, check_eq, connect, fail, ok};

pub fn main() {
    let target: String = arg(0, "a target");
    wasio::block_on(async {
        let (reader, writer) = ok(connect(&target).await, "connect");
        check_eq(
            ok(reader.read(-1).await, "read to end of file"),
            Vec::<u8>::new(),
            "bytes from the peer",
        );
        let chunk = vec![b'w'; 100 * 1024];
        let mut failure = None;
        for round in 0..64 {
            let outcome = match writer.write(&chunk) {
                Ok(()) => writer.drain().await,
                Err(error) => Err(error),
            };
            if let Err(error) = outcome {
                failure = Some((round, error));
                break;
            }
        }
        let Some((round, error)) = failure else {
            fail("64 rounds of 100 KiB written to a closed peer without an error");
        };
        if !matches!(error, Error::BrokenPipe | Error::ConnectionReset) {
            fail(format!(
                "want broken-pipe or connection-reset, got {error:?}"
            ));
        }
        check_eq(
            writer.write(b"more"),
            Err(error.clone()),
            "write after the error",
        );
        // As asyncio's `connection_lost`: the failure reaches the reader.
        check_eq(
            reader.exception(),
            Some(error.clone()),
            "the reader's exception",
        );
        check_eq(writer.is_closing(), true, "is_closing");
        check_eq(
            writer.wait_closed().await,
            Err(error.clone()),
            "wait_closed",
        );
        println!("ok: {error:?} after {round} rounds");
    });
}

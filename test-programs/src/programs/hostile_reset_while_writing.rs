//! Against a peer that answers `response\n` to the first bytes it gets
//! and then closes with the rest unread (a reset) while the guest is still
//! sending: the guest writes 100 KiB at a time and drains until that fails
//! with `broken-pipe` or `connection-reset` (within 64 rounds). The
//! response arrived before the reset, so `readline` must still return it
//! (wasio returns the bytes that arrived before a reset), then report the
//! end of the connection.

use wasio::Error;
use wasio_test_programs::{arg, check_eq, connect, fail, ok};

pub fn main() {
    let target: String = arg(0, "a target");
    wasio::block_on(async {
        let (reader, writer) = ok(connect(&target).await, "connect");
        let chunk = vec![b'w'; 100 * 1024];
        let mut failure = None;
        for _ in 0..64 {
            let outcome = match writer.write(&chunk) {
                Ok(()) => writer.drain().await,
                Err(error) => Err(error),
            };
            if let Err(error) = outcome {
                failure = Some(error);
                break;
            }
        }
        let Some(error) = failure else {
            fail("64 rounds of 100 KiB written to a peer that reset without an error");
        };
        if !matches!(error, Error::BrokenPipe | Error::ConnectionReset) {
            fail(format!(
                "want broken-pipe or connection-reset, got {error:?}"
            ));
        }
        check_eq(
            reader.readline().await,
            Ok(wasio::Bytes::from_static(b"response\n")),
            "the response that arrived before the reset",
        );
        match reader.readline().await {
            Ok(bytes) if bytes.is_empty() => {}
            Err(Error::BrokenPipe | Error::ConnectionReset) => {}
            other => fail(format!("after the response: got {other:?}")),
        }
        println!("ok: {error:?} while writing, and the response before it");
    });
}

//! Against a peer that sends `no newline here` and closes, on three
//! connections: `readline` returns the partial line and then nothing;
//! `readuntil` fails with `incomplete-read` carrying the partial bytes and
//! no expected length; `readexactly(100)` fails with `incomplete-read`
//! carrying them and the length asked for. Each leaves the reader at end
//! of file.

use wasio::Error;
use wasio_test_programs::{arg, check_eq, connect, ok};

const SENT: &[u8] = b"no newline here";

pub fn main() {
    let target: String = arg(0, "a target");
    wasio::block_on(async {
        let (reader, _writer) = ok(connect(&target).await, "connect");
        check_eq(
            ok(reader.readline().await, "readline"),
            SENT.to_vec(),
            "readline",
        );
        check_eq(
            ok(reader.readline().await, "second readline"),
            Vec::new(),
            "readline after the partial line",
        );
        check_eq(reader.at_eof(), true, "at_eof after readline");

        let (reader, _writer) = ok(connect(&target).await, "connect");
        check_eq(
            reader.readuntil(&[b"\n"]).await,
            Err(Error::IncompleteRead {
                partial: SENT.to_vec(),
                expected: None,
            }),
            "readuntil",
        );
        check_eq(reader.at_eof(), true, "at_eof after readuntil");

        let (reader, _writer) = ok(connect(&target).await, "connect");
        check_eq(
            reader.readexactly(100).await,
            Err(Error::IncompleteRead {
                partial: SENT.to_vec(),
                expected: Some(100),
            }),
            "readexactly",
        );
        check_eq(reader.at_eof(), true, "at_eof after readexactly");
        println!("ok: partial data at end of file");
    });
}

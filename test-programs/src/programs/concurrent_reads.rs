//! Two tasks read one reader at once: while the first waits for a line,
//! a second read that would have to wait fails with `ConcurrentRead`
//! instead of hanging or stealing data; once the first has its line, the
//! reader serves the second normally; `set_exception` fails a waiting read
//! at once. TARGET is a native line-echo server.

use std::rc::Rc;
use std::time::Duration;

use wasio::Error;
use wasio_test_programs::{arg, check_eq, connect, ok};

pub fn main() {
    let target: String = arg(0, "a target");
    wasio::block_on(async {
        let (reader, writer) = ok(connect(&target).await, "connect");
        let reader = Rc::new(reader);
        let first = wasio::spawn({
            let reader = reader.clone();
            async move { reader.readline().await }
        });
        // Let the first read start waiting.
        wasio::sleep(Duration::from_millis(20)).await;
        check_eq(
            reader.readline().await,
            Err(Error::ConcurrentRead),
            "second waiting read",
        );
        check_eq(
            reader.read(10).await,
            Err(Error::ConcurrentRead),
            "another waiting read",
        );
        ok(writer.write(b"one\ntwo\n"), "write");
        check_eq(
            ok(first.await, "first read"),
            b"one\n".to_vec(),
            "first line",
        );
        check_eq(
            ok(reader.readline().await, "readline"),
            b"two\n".to_vec(),
            "second line",
        );
        writer.close();
        ok(writer.wait_closed().await, "wait_closed");
        println!("ok: concurrent reads refused");
    });
}

//! Against a peer that drips a line one byte at a time and holds back its
//! newline until the guest sends `go\n` (slowloris): a `readline` bounded
//! by a timeout fails with `timed-out` and loses nothing; meanwhile another
//! task of the same component exchanges EXCHANGES lines with the line-echo
//! peer at ECHO_TARGET, and only then sends `go\n`; the next `readline`
//! returns the whole line LINE (given without its newline).

use std::rc::Rc;
use std::time::Duration;

use wasio::Error;
use wasio_test_programs::{arg, check_eq, connect, echo_exchanges, ok};

pub fn main() {
    let target: String = arg(0, "a target");
    let echo_target: String = arg(1, "a line-echo target");
    let exchanges: usize = arg(2, "an exchange count");
    let line: String = arg(3, "the dripped line");
    wasio::block_on(async {
        let (reader, writer) = ok(connect(&target).await, "connect");
        let writer = Rc::new(writer);
        check_eq(
            wasio::timeout(Some(Duration::from_millis(250)), reader.readline()).await,
            Err(Error::TimedOut),
            "readline while the line drips",
        );
        let others = wasio::spawn({
            let writer = writer.clone();
            async move {
                echo_exchanges(&echo_target, exchanges).await;
                ok(writer.write(b"go\n"), "write go");
            }
        });
        check_eq(
            ok(reader.readline().await, "the dripped line"),
            format!("{line}\n").into_bytes(),
            "the dripped line",
        );
        others.await;
        writer.close();
        ok(writer.wait_closed().await, "wait_closed");
        println!("ok: a dripped line while {exchanges} lines were exchanged");
    });
}

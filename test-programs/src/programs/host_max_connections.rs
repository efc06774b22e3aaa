//! Opens MAX connections to TARGET (HOST:PORT or unix:PATH), which the
//! host's connection limit allows, then one more, which must fail with the
//! host's limit error; closing one of the open connections frees a slot
//! for a new one.

use wasio::Error;
use wasio_test_programs::{arg, connect, fail, ok};

pub fn main() {
    let target: String = arg(0, "a target");
    let max: usize = arg(1, "the connection limit");
    wasio::block_on(async {
        let mut open = Vec::new();
        for i in 0..max {
            open.push(ok(connect(&target).await, &format!("connection {i}")));
        }
        match connect(&target).await {
            Err(Error::Other(message)) if message.contains("limit") => {
                println!("connection {max} refused: {message}");
            }
            Err(error) => fail(format!(
                "connection {max}: want the limit error, got {error:?}"
            )),
            Ok(_) => fail(format!("connection {max} opened past the limit of {max}")),
        }
        let (reader, writer) = open.pop().unwrap_or_else(|| fail("no connection to close"));
        writer.close();
        ok(writer.wait_closed().await, "wait_closed");
        drop(reader);
        open.push(ok(connect(&target).await, "connection after closing one"));
        println!("ok: {max} connections at most");
    });
}

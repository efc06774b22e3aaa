//! Connects to TARGET (HOST:PORT or unix:PATH) and sends `hello\n`, prints
//! `about to trap`, waits MILLIS milliseconds on the event loop (so that
//! it fails while other instances run), then panics: in a wasm32 command
//! a panic aborts, which traps the instance with its connection open.

use std::time::Duration;

use wasio_test_programs::{arg, connect, ok};

pub fn main() {
    let target: String = arg(0, "a target");
    let millis: u64 = arg(1, "a delay in milliseconds");
    wasio::block_on(async {
        let (_reader, writer) = ok(connect(&target).await, "connect");
        ok(writer.write(b"hello\n"), "write");
        ok(writer.drain().await, "drain");
        println!("about to trap");
        wasio::sleep(Duration::from_millis(millis)).await;
        panic!("a guest bug, on purpose");
    });
}

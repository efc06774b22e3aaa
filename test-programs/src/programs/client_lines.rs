//! Connects to a native line-echo server at TARGET (HOST:PORT or
//! unix:PATH), sends COUNT lines in one burst, reads each echo back with
//! `readline`, then half-closes and expects end of file.

use wasio_test_programs::{arg, check_eq, connect, ok};

pub fn main() {
    let target: String = arg(0, "a target");
    let count: usize = arg(1, "a line count");
    wasio::block_on(async {
        let (reader, writer) = ok(connect(&target).await, "connect");
        for i in 0..count {
            ok(writer.write(format!("line {i}\n").as_bytes()), "write");
        }
        ok(writer.drain().await, "drain");
        for i in 0..count {
            let line = ok(reader.readline().await, "readline");
            check_eq(line, format!("line {i}\n").into_bytes(), "echoed line");
        }
        ok(writer.write_eof(), "write_eof");
        check_eq(
            ok(reader.read(-1).await, "read to EOF"),
            Vec::new(),
            "bytes after the echoes",
        );
        check_eq(reader.at_eof(), true, "at_eof");
        writer.close();
        ok(writer.wait_closed().await, "wait_closed");
        println!("ok: {count} lines echoed");
    });
}

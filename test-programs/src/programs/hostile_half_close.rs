//! Against a peer that sends `hello\n` and half-closes: the guest reads
//! the line, then end of file, and can still write back
//! `still here after your eof\n`, which the peer receives before the
//! guest's own end of file.

use wasio_test_programs::{arg, check_eq, connect, ok};

pub fn main() {
    let target: String = arg(0, "a target");
    wasio::block_on(async {
        let (reader, writer) = ok(connect(&target).await, "connect");
        check_eq(
            ok(reader.readline().await, "readline"),
            b"hello\n".to_vec(),
            "the peer's line",
        );
        check_eq(
            ok(reader.readline().await, "readline at end of file"),
            Vec::new(),
            "readline at end of file",
        );
        check_eq(reader.at_eof(), true, "at_eof");
        ok(writer.write(b"still here after your eof\n"), "write");
        ok(writer.drain().await, "drain");
        writer.close();
        ok(writer.wait_closed().await, "wait_closed");
        println!("ok: wrote after the peer's end of file");
    });
}

//! wasio's streams through the futures-io traits (`AsyncBufRead`,
//! `AsyncRead`, `AsyncWrite`) with the `futures` extension methods, against
//! a native line-echo server at TARGET: lines written with `write_all`,
//! read back with `read_line`, a block with `read_exact`, mixed with
//! asyncio-style reads on the same reader; `close` sends end of file.

use futures::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use wasio_test_programs::{arg, check_eq, connect, ok};

pub fn main() {
    let target: String = arg(0, "a target");
    wasio::block_on(async {
        let (mut reader, mut writer) = ok(connect(&target).await, "connect");
        for i in 0..100 {
            ok(
                writer.write_all(format!("line {i}\n").as_bytes()).await,
                "write_all",
            );
        }
        ok(writer.write_all(b"0123456789\nafter\n").await, "write_all");
        ok(writer.flush().await, "flush");
        check_eq(writer.get_write_buffer_size(), 0, "buffer after flush");

        let mut line = String::new();
        for i in 0..50 {
            line.clear();
            ok(reader.read_line(&mut line).await, "read_line");
            check_eq(
                line.as_str(),
                format!("line {i}\n").as_str(),
                "line through AsyncBufRead",
            );
        }
        // Back to asyncio-style reads: the bytes the buffered reader holds
        // come first.
        for i in 50..100 {
            let line = ok(reader.readline().await, "readline");
            check_eq(
                line,
                format!("line {i}\n").into_bytes(),
                "line through readline",
            );
        }
        let mut block = [0; 11];
        ok(reader.read_exact(&mut block).await, "read_exact");
        check_eq(&block, b"0123456789\n", "read_exact block");
        check_eq(
            ok(reader.readline().await, "readline"),
            b"after\n".to_vec(),
            "last line",
        );

        ok(
            AsyncWriteExt::close(&mut writer).await,
            "close through AsyncWrite",
        );
        let mut rest = Vec::new();
        ok(reader.read_to_end(&mut rest).await, "read_to_end");
        check_eq(rest, Vec::new(), "bytes after close");
        println!("ok: futures-io");
    });
}

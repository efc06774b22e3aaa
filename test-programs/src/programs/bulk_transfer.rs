//! Sends MIB mebibytes of a deterministic pattern to TARGET, half-closes,
//! and reads back what the native peer sends: a line with the SHA-256 of
//! what it received (checked against the hash of what was sent), then MIB
//! mebibytes of the pattern with seed 2 (checked byte for byte) and end of
//! file.

use sha2::{Digest, Sha256};
use wasio_test_programs::{Pattern, arg, check_eq, connect, ok};

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn main() {
    let target: String = arg(0, "a target");
    let mib: usize = arg(1, "a size in MiB");
    let total = mib << 20;
    wasio::block_on(async {
        let (reader, writer) = ok(connect(&target).await, "connect");
        let receiving = wasio::spawn(async move {
            let line = ok(reader.readline().await, "hash line");
            let mut expected = Pattern::new(2);
            let mut want = vec![0; 64 * 1024];
            let mut received = 0;
            loop {
                let chunk = ok(reader.read(256 * 1024).await, "read");
                if chunk.is_empty() {
                    break;
                }
                for piece in chunk.chunks(want.len()) {
                    expected.fill(&mut want[..piece.len()]);
                    if piece != &want[..piece.len()] {
                        wasio_test_programs::fail(format!("wrong bytes after {received} received"));
                    }
                    received += piece.len();
                }
            }
            (line, received)
        });
        let mut pattern = Pattern::new(1);
        let mut hash = Sha256::new();
        let mut chunk = vec![0; 64 * 1024];
        let mut sent = 0;
        while sent < total {
            let n = chunk.len().min(total - sent);
            pattern.fill(&mut chunk[..n]);
            hash.update(&chunk[..n]);
            ok(writer.write(&chunk[..n]), "write");
            ok(writer.drain().await, "drain");
            sent += n;
        }
        ok(writer.write_eof(), "write_eof");
        let (line, received) = receiving.await;
        check_eq(
            String::from_utf8_lossy(&line).trim().to_owned(),
            hex(&hash.finalize()),
            "peer's hash of what was sent",
        );
        check_eq(received, total, "bytes received");
        writer.close();
        ok(writer.wait_closed().await, "wait_closed");
        println!("ok: {mib} MiB each way");
    });
}

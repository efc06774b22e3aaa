//! Integrity under load, from the guest's side: CONNECTIONS connections to
//! the byte-echo peer at TARGET, at most CONCURRENCY at once, each sending
//! a payload of 0 to MAX_PAYLOAD bytes (size and bytes drawn from SEED and
//! the connection's index; sizes spread `uniform`ly or over every power of
//! two, `log`, as SIZES says) in random pieces, half-closing, and reading the
//! echo back in random amounts until end of file. Every byte must come back
//! on its own connection, in order, none lost or added: the echo is
//! compared with the payload regenerated, and their SHA-256 must match.
//! Prints `ok: N connections, B bytes`.
//!
//! ```text
//! hard_soak_client TARGET CONNECTIONS CONCURRENCY SEED MAX_PAYLOAD SIZES
//! ```

use std::cell::Cell;
use std::rc::Rc;

use sha2::{Digest, Sha256};
use wasio_test_programs::{Pattern, arg, check_eq, connect, fail, ok};

/// A seeded stream of random numbers (xorshift64*, as `Pattern`).
struct Random(Pattern);

impl Random {
    fn new(seed: u64) -> Self {
        Self(Pattern::new(seed))
    }

    /// A number in `0..=max`.
    fn up_to(&mut self, max: usize) -> usize {
        let mut word = [0; 8];
        self.0.fill(&mut word);
        (u64::from_le_bytes(word) % (max as u64 + 1)) as usize
    }
}

/// The largest payload and how sizes spread up to it.
#[derive(Clone, Copy)]
struct Sizes {
    max: usize,
    logarithmic: bool,
}

/// Connection `index`'s payload: its length and the seed of its bytes.
fn payload(seed: u64, index: usize, sizes: Sizes) -> (usize, u64) {
    let connection_seed = seed ^ (index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut random = Random::new(connection_seed);
    let length = if sizes.logarithmic {
        let bits = random.up_to(sizes.max.max(1).ilog2() as usize);
        random.up_to((1 << bits).min(sizes.max))
    } else {
        random.up_to(sizes.max)
    };
    (length, connection_seed)
}

async fn round_trip(target: &str, seed: u64, index: usize, sizes: Sizes) -> usize {
    let (length, bytes_seed) = payload(seed, index, sizes);
    let (reader, writer) = ok(connect(target).await, "connect");
    let receiving = wasio::spawn(async move {
        let mut expected = Pattern::new(bytes_seed);
        let mut sizes = Random::new(!bytes_seed);
        let mut want = Vec::new();
        let mut hash = Sha256::new();
        let mut received = 0;
        loop {
            let n = 1 + sizes.up_to(256 * 1024 - 1);
            let chunk = ok(reader.read(n as i64).await, "read the echo");
            if chunk.is_empty() {
                break;
            }
            want.resize(chunk.len(), 0);
            expected.fill(&mut want);
            if chunk != want {
                fail(format!(
                    "connection {index}: wrong bytes after {received} of {length}"
                ));
            }
            hash.update(&chunk);
            received += chunk.len();
        }
        (received, hash.finalize())
    });
    let mut pattern = Pattern::new(bytes_seed);
    let mut sizes = Random::new(bytes_seed.rotate_left(17));
    let mut hash = Sha256::new();
    let mut chunk = Vec::new();
    let mut sent = 0;
    while sent < length {
        let n = (1 + sizes.up_to(128 * 1024 - 1)).min(length - sent);
        chunk.resize(n, 0);
        pattern.fill(&mut chunk);
        hash.update(&chunk);
        ok(writer.write(&chunk), "write");
        ok(writer.drain().await, "drain");
        sent += n;
    }
    ok(writer.write_eof(), "write_eof");
    let (received, echoed) = receiving.await;
    check_eq(
        received,
        length,
        &format!("connection {index}: bytes echoed"),
    );
    check_eq(
        echoed,
        hash.finalize(),
        &format!("connection {index}: SHA-256 of the echo"),
    );
    writer.close();
    ok(writer.wait_closed().await, "wait_closed");
    length
}

pub fn main() {
    let target: Rc<str> = arg::<String>(0, "a target").into();
    let connections: usize = arg(1, "a connection count");
    let concurrency: usize = arg(2, "how many at once");
    let seed: u64 = arg(3, "a seed");
    let max: usize = arg(4, "the largest payload");
    let spread: String = arg(5, "uniform or log");
    let sizes = Sizes {
        max,
        logarithmic: match spread.as_str() {
            "uniform" => false,
            "log" => true,
            other => fail(format!("unknown size spread {other:?}")),
        },
    };
    wasio::block_on(async {
        let next = Rc::new(Cell::new(0));
        // A u64: the total passes 4 GiB in the long form.
        let bytes = Rc::new(Cell::new(0u64));
        let workers: Vec<_> = (0..concurrency.min(connections))
            .map(|_| {
                let (target, next, bytes) = (target.clone(), next.clone(), bytes.clone());
                wasio::spawn(async move {
                    loop {
                        let index = next.get();
                        if index >= connections {
                            break;
                        }
                        next.set(index + 1);
                        let sent = round_trip(&target, seed, index, sizes).await;
                        bytes.set(bytes.get() + sent as u64);
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.await;
        }
        println!("ok: {connections} connections, {} bytes", bytes.get());
    });
}

//! Integrity under load: seeded random payloads pushed through an echo in
//! random pieces with random short pauses, and verified by hash.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Semaphore;

use super::{Endpoint, Stream};

/// How many connections, how many at once, how big and from which seed.
#[derive(Debug, Clone, Copy)]
pub struct LoadPlan {
    pub connections: usize,
    pub concurrency: usize,
    /// Payloads are 0 to this many bytes.
    pub max_payload: usize,
    pub sizes: Sizes,
    pub seed: u64,
}

/// How payload sizes spread between 0 and the largest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sizes {
    /// Uniformly.
    Uniform,
    /// Over every power of two: a bit count `k` drawn uniformly from 0 to
    /// log2(largest), then a size drawn uniformly from 0 to 2^k (at most
    /// the largest). Most payloads are small, every size occurs.
    Logarithmic,
}

impl Sizes {
    /// The name `hard_soak_client` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Uniform => "uniform",
            Self::Logarithmic => "log",
        }
    }

    fn draw(self, rng: &mut StdRng, max: usize) -> usize {
        match self {
            Self::Uniform => rng.random_range(0..=max),
            Self::Logarithmic => {
                let bits = rng.random_range(0..=max.max(1).ilog2());
                rng.random_range(0..=(1usize << bits).min(max))
            }
        }
    }
}

/// What a load run verified.
#[derive(Debug, Clone, Copy)]
pub struct LoadReport {
    pub connections: usize,
    /// Bytes sent and verified coming back (each way counts once).
    pub bytes: u64,
    pub elapsed: Duration,
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        write!(
            f,
            "{} connections, {} bytes verified ({:.1} MiB) in {:.2} s: {:.0} connections/s, {:.1} MiB/s each way",
            self.connections,
            self.bytes,
            self.bytes as f64 / f64::from(1 << 20),
            secs,
            self.connections as f64 / secs,
            self.bytes as f64 / f64::from(1 << 20) / secs
        )
    }
}

/// The payload of connection `index` of `plan`.
fn payload(plan: &LoadPlan, index: usize) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(plan.seed.wrapping_add(index as u64));
    let len = plan.sizes.draw(&mut rng, plan.max_payload);
    let mut bytes = vec![0; len];
    rng.fill(&mut bytes[..]);
    bytes
}

/// Push a payload through `stream` to an echo and check that exactly the
/// same bytes come back: written in random pieces with random short
/// pauses, half-closed, read back in random amounts until end of file.
async fn echo_round_trip(stream: Stream, payload: &[u8], seed: u64) -> io::Result<()> {
    let (mut read, mut write) = tokio::io::split(stream);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut read_rng = StdRng::seed_from_u64(!seed);
    let sending = async {
        write_in_pieces(&mut write, payload, &mut rng).await?;
        write.shutdown().await
    };
    let receiving = async {
        let mut hash = Sha256::new();
        let mut received = 0usize;
        let mut buffer = vec![0; 256 * 1024];
        loop {
            let want = read_rng.random_range(1..=buffer.len());
            let n = read.read(&mut buffer[..want]).await?;
            if n == 0 {
                break;
            }
            hash.update(&buffer[..n]);
            received += n;
            pause(&mut read_rng).await;
        }
        io::Result::Ok((received, hash.finalize()))
    };
    let ((), (received, hash)) = tokio::try_join!(sending, receiving)?;
    if received != payload.len() || hash != Sha256::digest(payload) {
        return Err(io::Error::other(format!(
            "{} bytes sent, {received} came back{}",
            payload.len(),
            if received == payload.len() {
                " with other contents"
            } else {
                ""
            }
        )));
    }
    Ok(())
}

/// Run `plan` against the echo at `endpoint`: every connection's payload
/// must come back intact.
pub async fn echo_load(endpoint: &Endpoint, plan: LoadPlan) -> LoadReport {
    let started = Instant::now();
    let slots = Arc::new(Semaphore::new(plan.concurrency));
    let mut tasks = Vec::with_capacity(plan.connections);
    for index in 0..plan.connections {
        let permit = slots.clone().acquire_owned().await.expect("a slot");
        let endpoint = endpoint.clone();
        tasks.push(tokio::spawn(async move {
            let payload = payload(&plan, index);
            let outcome = async {
                let stream = endpoint.connect().await?;
                echo_round_trip(stream, &payload, plan.seed ^ index as u64).await
            }
            .await;
            drop(permit);
            outcome
                .map(|()| payload.len() as u64)
                .map_err(|e| format!("connection {index}: {e}"))
        }));
    }
    let mut bytes = 0;
    let mut failures = Vec::new();
    for task in tasks {
        match task.await.expect("a load task") {
            Ok(n) => bytes += n,
            Err(failure) => failures.push(failure),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} connections failed: {:?}",
        failures.len(),
        plan.connections,
        &failures[..failures.len().min(10)]
    );
    LoadReport {
        connections: plan.connections,
        bytes,
        elapsed: started.elapsed(),
    }
}

/// Write `bytes` in random pieces, sometimes pausing up to 2 ms between
/// them.
pub(super) async fn write_in_pieces(
    stream: &mut (impl AsyncWrite + Unpin),
    mut bytes: &[u8],
    rng: &mut StdRng,
) -> io::Result<()> {
    while !bytes.is_empty() {
        let n = rng.random_range(1..=bytes.len().min(128 * 1024));
        stream.write_all(&bytes[..n]).await?;
        bytes = &bytes[n..];
        pause(rng).await;
    }
    Ok(())
}

/// A random short pause, one time in sixteen.
pub(super) async fn pause(rng: &mut StdRng) {
    if rng.random_range(0..16) == 0 {
        let micros = rng.random_range(0..=2000);
        tokio::time::sleep(Duration::from_micros(micros)).await;
    }
}

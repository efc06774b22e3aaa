//! Native servers for guest clients that misbehave on purpose: a line that
//! never ends, one byte at a time, a reader that never reads, a peer that
//! dies mid-transfer, an echo that answers in random pieces.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener};

use super::integrity::write_in_pieces;
use super::{Endpoint, Stream, write_repeated};
use crate::hostile::Transport;
use crate::peers::Pattern;

/// A native server for guest clients, over one transport.
#[derive(Debug)]
pub struct NativePeer {
    endpoint: Endpoint,
    dir: Option<TempDir>,
    connections: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
}

/// What a [`NativePeer`] does with each connection.
#[derive(Debug, Clone)]
pub enum PeerScript {
    /// Send `before` bytes of `x`, wait for `go\n` from the client, send
    /// `after` more and then `\nnext line\n`, half-close, and read to the
    /// end.
    EndlessLine { before: usize, after: usize },
    /// Send `text` one byte every `interval`, all but its last byte; wait
    /// for `go\n`, send the last byte, and read to the end.
    Drip { text: Vec<u8>, interval: Duration },
    /// Line echo: every line back, until end of file.
    LineEcho,
    /// Never read; keep the connection open until the test ends.
    NeverRead,
    /// Wait for the client's first bytes (which stay unread), send
    /// `bytes` of `Pattern::new(3)`, then die: close at once, abortively.
    DieMidTransfer { bytes: usize },
    /// Echo every byte, read in random amounts and written back in random
    /// pieces after random short pauses (seeded per connection), until end
    /// of file; count the bytes.
    ChunkyEcho { seed: u64 },
}

impl NativePeer {
    /// Listen over `transport` and run `script` for every connection.
    pub async fn listen(transport: Transport, script: PeerScript) -> io::Result<Self> {
        let connections = Arc::new(AtomicU64::new(0));
        let bytes = Arc::new(AtomicU64::new(0));
        let counters = (connections.clone(), bytes.clone());
        let (endpoint, dir) = match transport {
            Transport::Tcp => {
                let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
                let endpoint = Endpoint::Tcp(listener.local_addr()?);
                tokio::spawn(async move {
                    while let Ok((stream, _)) = listener.accept().await {
                        accepted(Stream::Tcp(stream), &script, &counters);
                    }
                });
                (endpoint, None)
            }
            Transport::Unix => {
                let dir = tempfile::tempdir()?;
                let path = dir.path().join("peer.sock");
                let listener = UnixListener::bind(&path)?;
                tokio::spawn(async move {
                    while let Ok((stream, _)) = listener.accept().await {
                        accepted(Stream::Unix(stream), &script, &counters);
                    }
                });
                (Endpoint::Unix(path), Some(dir))
            }
        };
        Ok(Self {
            endpoint,
            dir,
            connections,
            bytes,
        })
    }

    /// The peer as a test program's target argument.
    pub fn target(&self) -> String {
        self.endpoint.target()
    }

    /// The directory of a Unix peer's socket, for the host's policy.
    pub fn unix_dir(&self) -> Option<&Path> {
        self.dir.as_ref().map(TempDir::path)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// Bytes a [`PeerScript::ChunkyEcho`] has echoed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

fn accepted(
    stream: Stream,
    script: &PeerScript,
    (connections, bytes): &(Arc<AtomicU64>, Arc<AtomicU64>),
) {
    let index = connections.fetch_add(1, Ordering::Relaxed);
    let (script, bytes) = (script.clone(), bytes.clone());
    tokio::spawn(async move {
        // Errors need no report: the guest sees what happened.
        let _ = serve(stream, script, index, &bytes).await;
    });
}

async fn serve(
    mut stream: Stream,
    script: PeerScript,
    index: u64,
    echoed: &AtomicU64,
) -> io::Result<()> {
    match script {
        PeerScript::EndlessLine { before, after } => {
            write_repeated(&mut stream, b'x', before).await?;
            wait_for_go(&mut stream).await?;
            write_repeated(&mut stream, b'x', after).await?;
            stream.write_all(b"\nnext line\n").await?;
            stream.shutdown().await?;
            let mut rest = Vec::new();
            stream.read_to_end(&mut rest).await?;
        }
        PeerScript::Drip { text, interval } => {
            let (last, head) = text.split_last().expect("text to drip");
            for byte in head {
                stream.write_all(std::slice::from_ref(byte)).await?;
                tokio::time::sleep(interval).await;
            }
            wait_for_go(&mut stream).await?;
            stream.write_all(std::slice::from_ref(last)).await?;
            let mut rest = Vec::new();
            stream.read_to_end(&mut rest).await?;
        }
        PeerScript::LineEcho => {
            use tokio::io::AsyncBufReadExt;
            let mut stream = tokio::io::BufReader::new(stream);
            let mut line = Vec::new();
            loop {
                line.clear();
                if stream.read_until(b'\n', &mut line).await? == 0 {
                    break;
                }
                stream.get_mut().write_all(&line).await?;
            }
            stream.get_mut().shutdown().await?;
        }
        PeerScript::NeverRead => {
            std::future::pending::<()>().await;
        }
        PeerScript::DieMidTransfer { bytes } => {
            stream.readable().await?;
            let mut pattern = Pattern::new(3);
            let mut chunk = vec![0; bytes];
            pattern.fill(&mut chunk);
            stream.write_all(&chunk).await?;
            stream.reset();
        }
        PeerScript::ChunkyEcho { seed } => {
            let mut rng = StdRng::seed_from_u64(seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut buffer = vec![0; 256 * 1024];
            loop {
                let want = rng.random_range(1..=buffer.len());
                let n = stream.read(&mut buffer[..want]).await?;
                if n == 0 {
                    break;
                }
                write_in_pieces(&mut stream, &buffer[..n], &mut rng).await?;
                echoed.fetch_add(n as u64, Ordering::Relaxed);
            }
            stream.shutdown().await?;
        }
    }
    Ok(())
}

/// Read until the client has sent `go\n`.
async fn wait_for_go(stream: &mut Stream) -> io::Result<()> {
    let mut seen = Vec::new();
    let mut byte = [0];
    while !seen.ends_with(b"go\n") {
        if stream.read(&mut byte).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        seen.push(byte[0]);
    }
    Ok(())
}

//! Native peers: tokio servers the components connect to, over TCP on
//! loopback or Unix sockets in a temporary directory. Each serves until
//! the test ends (the runtime shuts down) and handles clients concurrently.

use std::io;
use std::net::SocketAddr;
use std::path::Path;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, UnixListener};

#[path = "../../test-programs/src/pattern.rs"]
mod pattern;

pub use pattern::Pattern;

/// What a peer does with each connection.
#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    /// Echo every line back, until end of file.
    LineEcho,
    /// Read everything until end of file, answer with a line holding the
    /// SHA-256 of it in hex, then send `mib` MiB of `Pattern::new(2)`.
    HashThenSend { mib: usize },
}

/// Listen on a free loopback port (`127.0.0.1` or `::1`).
pub async fn tcp(ip: &str, behaviour: Behaviour) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind((ip, 0)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, behaviour));
        }
    });
    Ok(addr)
}

/// Listen on a Unix socket at `path`.
pub async fn unix(path: &Path, behaviour: Behaviour) -> io::Result<()> {
    let listener = UnixListener::bind(path)?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, behaviour));
        }
    });
    Ok(())
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    behaviour: Behaviour,
) -> io::Result<()> {
    let (read, mut write) = tokio::io::split(stream);
    let mut read = BufReader::new(read);
    match behaviour {
        Behaviour::LineEcho => {
            let mut line = Vec::new();
            loop {
                line.clear();
                if read.read_until(b'\n', &mut line).await? == 0 {
                    break;
                }
                write.write_all(&line).await?;
            }
        }
        Behaviour::HashThenSend { mib } => {
            let mut hash = Sha256::new();
            let mut buffer = vec![0; 256 * 1024];
            loop {
                let n = read.read(&mut buffer).await?;
                if n == 0 {
                    break;
                }
                hash.update(&buffer[..n]);
            }
            let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
            write.write_all(format!("{hex}\n").as_bytes()).await?;
            let mut pattern = Pattern::new(2);
            let mut chunk = vec![0; 64 * 1024];
            for _ in 0..mib * 16 {
                pattern.fill(&mut chunk);
                write.write_all(&chunk).await?;
            }
        }
    }
    write.shutdown().await
}

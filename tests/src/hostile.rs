//! Hostile native peers: servers that misbehave as real peers do. They
//! reset a connection in the middle of a line, half-close, never send a
//! newline, send lines longer than any limit, vanish at once, or stop
//! reading for a while. Each
//! listens on loopback TCP or on a Unix socket in a temporary directory,
//! runs its [`Script`] for every connection, and reports what it received
//! so a test can check what reached the wire.

use std::io;
use std::path::Path;
use std::time::Duration;

use tempfile::TempDir;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::mpsc;

/// How long a test waits for a peer to report.
pub const REPORT_TIMEOUT: Duration = Duration::from_secs(20);

/// The two transports a guest reaches a peer over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TCP on `127.0.0.1`.
    Tcp,
    /// A Unix socket in a new temporary directory.
    Unix,
}

/// What a peer does with each connection.
#[derive(Debug, Clone)]
pub enum Script {
    /// Read `read` bytes of what the client sends (it must send more, in
    /// one write, so that the rest is surely waiting), send `send`, then
    /// close with the rest unread. Closing with unread data resets the
    /// connection: TCP sends RST, and the client of a Unix socket gets
    /// `ECONNRESET` once it has read what was sent.
    ResetAfterReading { read: usize, send: Vec<u8> },
    /// Send these bytes and shut down the sending half, then read until the
    /// client's end of file and report what it sent.
    SendThenHalfClose(Vec<u8>),
    /// Close at once, reading and sending nothing.
    CloseAtOnce,
    /// Send these bytes, then read until the client's end of file (the
    /// connection stays open meanwhile) and report what it sent.
    SendThenWait(Vec<u8>),
    /// Read nothing for this long (the client's writes back up), then read
    /// until the client's end of file and report what it sent.
    SinkAfter(Duration),
}

/// A listening hostile peer.
#[derive(Debug)]
pub struct Peer {
    target: String,
    received: mpsc::UnboundedReceiver<io::Result<Vec<u8>>>,
    dir: Option<TempDir>,
}

impl Peer {
    /// Listen over `transport`, running `script` for every connection.
    pub async fn listen(transport: Transport, script: Script) -> io::Result<Self> {
        let (report, received) = mpsc::unbounded_channel();
        match transport {
            Transport::Tcp => {
                let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
                let target = listener.local_addr()?.to_string();
                tokio::spawn(async move {
                    while let Ok((stream, _)) = listener.accept().await {
                        tokio::spawn(run(stream, script.clone(), report.clone()));
                    }
                });
                Ok(Self {
                    target,
                    received,
                    dir: None,
                })
            }
            Transport::Unix => {
                let dir = tempfile::tempdir()?;
                let path = dir.path().join("hostile.sock");
                let listener = UnixListener::bind(&path)?;
                tokio::spawn(async move {
                    while let Ok((stream, _)) = listener.accept().await {
                        tokio::spawn(run(stream, script.clone(), report.clone()));
                    }
                });
                Ok(Self {
                    target: format!("unix:{}", path.display()),
                    received,
                    dir: Some(dir),
                })
            }
        }
    }

    /// The peer as a test program's target argument: `HOST:PORT` or
    /// `unix:PATH`.
    pub fn target(&self) -> String {
        self.target.clone()
    }

    /// The directory of a Unix peer's socket, for the host's policy.
    pub fn unix_dir(&self) -> Option<&Path> {
        self.dir.as_ref().map(TempDir::path)
    }

    /// What the client sent on the next connection to finish a
    /// [`Script::SendThenHalfClose`].
    pub async fn received(&mut self) -> io::Result<Vec<u8>> {
        tokio::time::timeout(REPORT_TIMEOUT, self.received.recv())
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no report from the peer"))?
            .unwrap_or_else(|| Err(io::Error::other("the peer stopped")))
    }
}

async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    script: Script,
    report: mpsc::UnboundedSender<io::Result<Vec<u8>>>,
) {
    match script {
        Script::ResetAfterReading { read, send } => {
            // Errors need no report: the guest sees what happened.
            let mut head = vec![0; read];
            if stream.read_exact(&mut head).await.is_ok() {
                let _ = stream.write_all(&send).await;
            }
        }
        Script::SendThenHalfClose(bytes) => {
            let received = async {
                stream.write_all(&bytes).await?;
                stream.shutdown().await?;
                let mut received = Vec::new();
                stream.read_to_end(&mut received).await?;
                Ok(received)
            }
            .await;
            let _ = report.send(received);
        }
        Script::CloseAtOnce => {}
        Script::SendThenWait(bytes) => {
            let received = async {
                stream.write_all(&bytes).await?;
                let mut received = Vec::new();
                stream.read_to_end(&mut received).await?;
                Ok(received)
            }
            .await;
            let _ = report.send(received);
        }
        Script::SinkAfter(pause) => {
            tokio::time::sleep(pause).await;
            let mut received = Vec::new();
            let _ = report.send(stream.read_to_end(&mut received).await.map(|_| received));
        }
    }
    drop(stream);
}

//! Native streams over TCP or Unix sockets: where to connect, a stream
//! that can be reset, and a client that exchanges lines.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

use super::REPLY_TIMEOUT;

/// Where a native client connects: a loopback TCP address or a Unix
/// socket path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl Endpoint {
    /// An address echo-server printed: `HOST:PORT` or a socket path.
    pub fn announced(address: &str) -> Self {
        match address.parse() {
            Ok(addr) => Self::Tcp(addr),
            Err(_) => Self::Unix(PathBuf::from(address)),
        }
    }

    /// Connect to it.
    pub async fn connect(&self) -> io::Result<Stream> {
        match self {
            Self::Tcp(addr) => TcpStream::connect(addr).await.map(Stream::Tcp),
            Self::Unix(path) => UnixStream::connect(path).await.map(Stream::Unix),
        }
    }

    /// As a test program's target argument: `HOST:PORT` or `unix:PATH`.
    pub fn target(&self) -> String {
        match self {
            Self::Tcp(addr) => addr.to_string(),
            Self::Unix(path) => format!("unix:{}", path.display()),
        }
    }
}

/// A native connected stream, TCP or Unix.
#[derive(Debug)]
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    /// Close abortively. TCP sends a reset (`SO_LINGER` 0) and drops what
    /// it had not sent; a Unix peer sees `ECONNRESET` only if this side
    /// leaves bytes unread, which the caller arranges.
    pub fn reset(self) {
        if let Self::Tcp(stream) = &self {
            stream.set_zero_linger().expect("SO_LINGER 0");
        }
        drop(self);
    }

    /// Wait until bytes (or the end) can be read, without reading them.
    pub async fn readable(&self) -> io::Result<()> {
        match self {
            Self::Tcp(stream) => stream.readable().await,
            Self::Unix(stream) => stream.readable().await,
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_read(cx, buf),
            Self::Unix(stream) => Pin::new(stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_write(cx, buf),
            Self::Unix(stream) => Pin::new(stream).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_flush(cx),
            Self::Unix(stream) => Pin::new(stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_shutdown(cx),
            Self::Unix(stream) => Pin::new(stream).poll_shutdown(cx),
        }
    }
}

/// A client that sends a line and reads its echo, again and again.
#[derive(Debug)]
pub struct LineClient {
    stream: tokio::io::BufReader<Stream>,
}

impl LineClient {
    pub async fn connect(endpoint: &Endpoint) -> Self {
        let stream = endpoint.connect().await.expect("connect a line client");
        Self {
            stream: tokio::io::BufReader::new(stream),
        }
    }

    /// Send `line` (without its newline) and return the reply line.
    pub async fn exchange(&mut self, line: &str) -> String {
        use tokio::io::AsyncBufReadExt;
        let reply = async {
            self.stream
                .get_mut()
                .write_all(format!("{line}\n").as_bytes())
                .await?;
            let mut reply = String::new();
            self.stream.read_line(&mut reply).await?;
            io::Result::Ok(reply)
        };
        let reply = tokio::time::timeout(REPLY_TIMEOUT, reply)
            .await
            .unwrap_or_else(|_| panic!("no reply to {line:?}"))
            .unwrap_or_else(|e| panic!("exchanging {line:?}: {e}"));
        reply
            .strip_suffix('\n')
            .unwrap_or_else(|| panic!("the reply to {line:?} ended early: {reply:?}"))
            .to_owned()
    }

    /// Exchange `count` numbered lines, checking every echo.
    pub async fn exchanges(&mut self, tag: &str, count: usize) {
        for i in 0..count {
            let line = format!("{tag} {i}");
            assert_eq!(self.exchange(&line).await, line, "the echo of {line:?}");
        }
    }

    /// Half-close and expect end of file with nothing more.
    pub async fn finish(mut self) {
        self.stream.get_mut().shutdown().await.expect("half-close");
        let mut rest = Vec::new();
        tokio::time::timeout(REPLY_TIMEOUT, self.stream.read_to_end(&mut rest))
            .await
            .expect("end of file after the half-close")
            .expect("read to end of file");
        assert_eq!(rest, b"", "bytes after the last echo");
    }
}

/// Read from `stream` until end of file (or an error), at most `limit`.
pub async fn read_to_end_within(stream: &mut (impl AsyncRead + Unpin), limit: Duration) -> Vec<u8> {
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut chunk = vec![0; 64 * 1024];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    read.expect("end of file in time");
    bytes
}

/// Write `count` copies of `byte`, a mebibyte at a time.
pub async fn write_repeated(
    stream: &mut (impl AsyncWrite + Unpin),
    byte: u8,
    mut count: usize,
) -> io::Result<()> {
    let chunk = vec![byte; 1 << 20];
    while count > 0 {
        let n = count.min(chunk.len());
        stream.write_all(&chunk[..n]).await?;
        count -= n;
    }
    Ok(())
}

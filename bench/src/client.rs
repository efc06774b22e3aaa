//! The native peer: one client for every subject, over TCP or a Unix
//! socket, with Nagle's algorithm left on as on the servers.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};

/// Where a subject listens.
#[derive(Debug, Clone)]
pub enum Target {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl Target {
    /// Open a connection; its reading and writing halves.
    pub async fn connect(&self) -> io::Result<(ReadHalf, WriteHalf)> {
        Ok(match self {
            Target::Tcp(addr) => {
                let (r, w) = TcpStream::connect(addr).await?.into_split();
                (Box::new(r), Box::new(w))
            }
            Target::Unix(path) => {
                let (r, w) = UnixStream::connect(path).await?.into_split();
                (Box::new(r), Box::new(w))
            }
        })
    }
}

/// The reading half of a client connection (the same for every subject).
pub type ReadHalf = Box<dyn AsyncRead + Send + Unpin>;

/// The writing half of a client connection.
pub type WriteHalf = Box<dyn AsyncWrite + Send + Unpin>;

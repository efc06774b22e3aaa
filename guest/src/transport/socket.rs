//! The socket behind a stream: TCP from `wasi:sockets`, or Unix from the
//! host's `wasio:streams/unix` import. Streams only need to shut it down
//! and to describe it.

use wasip2::io::streams::{InputStream, OutputStream};
use wasip2::sockets::network::IpAddressFamily;
use wasip2::sockets::tcp::{ShutdownType, TcpSocket};

use super::TlsSession;
use super::address::{AddressFamily, ExtraInfo, SocketAddress, to_std};
use super::errors::from_code;
use crate::core::Error;

/// A connected socket with its streams, not yet part of a connection.
/// Fields drop in order: the streams before the TLS session they belong to
/// (if they are TLS streams), then the socket.
#[derive(Debug)]
pub struct Opened {
    pub input: InputStream,
    pub output: OutputStream,
    pub tls: Option<TlsSession>,
    pub socket: Socket,
    /// A pollable of the socket was handed out while it was connecting.
    pub lent: bool,
}

impl Opened {
    /// Pair a socket with its streams, as `accept` and `connect` return
    /// them.
    pub fn new(socket: Socket, input: InputStream, output: OutputStream) -> Self {
        Self {
            input,
            output,
            tls: None,
            socket,
            lent: false,
        }
    }

    /// A connected Unix socket with its streams.
    #[cfg(feature = "unix")]
    pub fn unix((socket, input, output): super::unix::Connected) -> Self {
        Self::new(Socket::Unix(socket), input, output)
    }

    /// Connect to the Unix socket at `path`.
    #[cfg(feature = "unix")]
    pub fn connect_unix(path: &str) -> Result<Self, Error> {
        super::unix::connect(path).map(Self::unix)
    }
}

/// A connected socket.
#[derive(Debug)]
pub enum Socket {
    Tcp(TcpSocket),
    #[cfg(feature = "unix")]
    Unix(super::unix::UnixSocket),
}

impl Socket {
    /// Send end of file once everything written has gone out.
    pub fn shutdown_send(&self) -> Result<(), Error> {
        match self {
            Self::Tcp(socket) => socket.shutdown(ShutdownType::Send).map_err(from_code),
            #[cfg(feature = "unix")]
            Self::Unix(socket) => socket.shutdown(ShutdownType::Send).map_err(from_code),
        }
    }

    /// End the connection in both directions, as far as the socket still
    /// allows (for a socket kept after its release).
    pub fn shutdown_both(&self) {
        let _ = match self {
            Self::Tcp(socket) => socket.shutdown(ShutdownType::Both),
            #[cfg(feature = "unix")]
            Self::Unix(socket) => socket.shutdown(ShutdownType::Both),
        };
    }

    /// The socket's family.
    pub fn family(&self) -> AddressFamily {
        match self {
            Self::Tcp(socket) => match socket.address_family() {
                IpAddressFamily::Ipv4 => AddressFamily::Ipv4,
                IpAddressFamily::Ipv6 => AddressFamily::Ipv6,
            },
            #[cfg(feature = "unix")]
            Self::Unix(_) => AddressFamily::Unix,
        }
    }

    /// asyncio's `get_extra_info`: the peer's and this end's addresses
    /// (`family` is the socket's, as [`family`](Self::family) gave it).
    pub fn extra_info(&self, family: AddressFamily) -> ExtraInfo {
        match self {
            Self::Tcp(socket) => ExtraInfo {
                peername: socket
                    .remote_address()
                    .ok()
                    .map(|a| SocketAddress::Ip(to_std(a))),
                sockname: socket
                    .local_address()
                    .ok()
                    .map(|a| SocketAddress::Ip(to_std(a))),
                family,
            },
            #[cfg(feature = "unix")]
            Self::Unix(socket) => ExtraInfo {
                peername: Some(SocketAddress::Unix(socket.peer_path().unwrap_or_default())),
                sockname: Some(SocketAddress::Unix(socket.local_path().unwrap_or_default())),
                family: AddressFamily::Unix,
            },
        }
    }
}

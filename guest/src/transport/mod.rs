//! Sockets under the streams: TCP from `wasi:sockets`, Unix from the host's
//! `wasio:streams/unix` import, each socket's two halves (`input`,
//! `output`), and the connection that carries out the core's protocol on
//! them.

pub(crate) mod address;
mod connection;
mod errors;
mod input;
mod listener;
mod options;
mod output;
mod resolve;
mod socket;
mod tcp;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "unix")]
mod unix;

pub use address::{AddressFamily, ExtraInfo, SocketAddress};
pub(crate) use connection::Connection;
pub use connection::StreamLimits;
pub(crate) use listener::Listener;
#[cfg(feature = "tls")]
pub use options::TlsOptions;
pub use options::{ConnectOptions, DEFAULT_BACKLOG, KeepAlive, ServerOptions, SocketOptions};
pub(crate) use socket::Opened;
pub(crate) use tcp::{Connecting, bind_server};
#[cfg(all(feature = "tls", feature = "component"))]
pub(crate) use tls::bindings::wasi::tls::types as tls_bindings;
#[cfg(feature = "tls")]
pub(crate) use tls::{Handshaking, Session as TlsSession};

/// Without the `tls` feature a connection never has a TLS session.
#[cfg(not(feature = "tls"))]
#[derive(Debug)]
pub(crate) enum TlsSession {}

#[cfg(not(feature = "tls"))]
impl TlsSession {
    pub fn is_closing(&self) -> bool {
        match *self {}
    }

    pub fn close_output(&mut self) {
        match *self {}
    }
}
#[cfg(feature = "unix")]
pub(crate) use unix::UnixListener;
#[cfg(all(feature = "unix", feature = "component"))]
pub(crate) use unix::bindings::wasio::streams::unix as unix_bindings;

use crate::runtime::nanos as time_nanos;

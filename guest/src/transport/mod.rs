//! Sockets under the streams, and the connection that carries out the
//! core's protocol on them.
//!
//! Under WASI 0.2: TCP from `wasi:sockets@0.2`, Unix from the host's
//! `wasio:streams/unix` import, TLS from `wasi:tls`; each socket's two
//! halves (`input`, `output`) are `wasi:io` streams driven by pollables.
//! Under WASI 0.3 (feature `p3`, module `p3`): TCP from
//! `wasi:sockets@0.3`, whose halves are a `stream<u8>` each way, moved by
//! the connection's two tasks. The addresses and options are shared.

pub(crate) mod address;
mod options;

#[cfg(not(feature = "p3"))]
mod connection;
#[cfg(not(feature = "p3"))]
mod errors;
#[cfg(not(feature = "p3"))]
mod input;
#[cfg(not(feature = "p3"))]
mod listener;
#[cfg(not(feature = "p3"))]
mod output;
#[cfg(feature = "p3")]
mod p3;
#[cfg(not(feature = "p3"))]
mod resolve;
#[cfg(not(feature = "p3"))]
mod socket;
#[cfg(not(feature = "p3"))]
mod tcp;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "unix")]
mod unix;

pub use address::{AddressFamily, ExtraInfo, SocketAddress};
#[cfg(feature = "tls")]
pub use options::TlsOptions;
pub use options::{
    ConnectOptions, DEFAULT_BACKLOG, KeepAlive, ServerOptions, SocketOptions, StreamLimits,
};

#[cfg(not(feature = "p3"))]
pub(crate) use connection::Connection;
#[cfg(not(feature = "p3"))]
pub(crate) use listener::Listener;
#[cfg(feature = "p3")]
pub(crate) use p3::{Connection, Listener, Opened, bind_server, connect};
#[cfg(not(feature = "p3"))]
pub(crate) use socket::Opened;
#[cfg(not(feature = "p3"))]
pub(crate) use tcp::{Connecting, bind_server};
#[cfg(all(feature = "tls", feature = "component"))]
pub(crate) use tls::bindings::wasi::tls::types as tls_bindings;
#[cfg(feature = "tls")]
pub(crate) use tls::{Handshaking, Session as TlsSession};

/// Without the `tls` feature a connection never has a TLS session.
#[cfg(all(not(feature = "tls"), not(feature = "p3")))]
#[derive(Debug)]
pub(crate) enum TlsSession {}

#[cfg(all(not(feature = "tls"), not(feature = "p3")))]
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

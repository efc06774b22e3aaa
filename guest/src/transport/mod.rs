//! Sockets under the streams: TCP from `wasi:sockets`, Unix from the host's
//! `wasio:streams/unix` import, and the connection that joins a socket's
//! `wasi:io` streams to the core's reader and write buffer.

pub(crate) mod address;
mod connection;
mod errors;
mod listener;
mod options;
mod resolve;
mod socket;
mod tcp;
#[cfg(feature = "unix")]
mod unix;

pub use address::{AddressFamily, ExtraInfo, SocketAddress};
pub(crate) use connection::Connection;
pub use connection::StreamLimits;
pub(crate) use listener::Listener;
pub use options::{ConnectOptions, DEFAULT_BACKLOG, KeepAlive, ServerOptions, SocketOptions};
pub(crate) use socket::Opened;
pub(crate) use tcp::{Connecting, bind_server};
#[cfg(all(feature = "unix", feature = "component"))]
pub(crate) use unix::bindings::wasio::streams::unix as unix_bindings;
#[cfg(feature = "unix")]
pub(crate) use unix::{UnixListener, connect as connect_unix};

use crate::runtime::nanos as time_nanos;

//! The WASI 0.3 transport: TCP over `wasi:sockets@0.3`, where connecting
//! and accepting are `async` and a connection's bytes move as a
//! `stream<u8>` each way.

mod connection;
mod errors;
mod tcp;

pub(crate) use connection::Connection;
pub(crate) use errors::from_code;
pub(crate) use tcp::{Listener, Opened, bind_server, connect};

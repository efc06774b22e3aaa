//! wasio: Python asyncio streams for WebAssembly components.
//!
//! - [`core`]: the stream semantics without I/O. A [`core::StreamReader`]
//!   fed with bytes and end of file answers `read`, `readline`,
//!   `readuntil` and `readexactly` exactly as asyncio's does; a
//!   [`core::WriteBuffer`] keeps a writer's buffer, water marks and closing
//!   states. Builds and is tested on any target.
//! - On `wasm32-wasip2`: an event loop over `wasi:io/poll` ([`block_on`],
//!   [`spawn`], [`sleep`]), TCP over `wasi:sockets` and Unix sockets over
//!   the wasio host's import, and the async API: [`open_connection`],
//!   [`start_server`], [`StreamReader`], [`StreamWriter`], [`Server`].
//!   Reads return [`Bytes`] split off the reader's buffer without a copy,
//!   the Rust analogue of the immutable `bytes` asyncio returns.
//! - With the `component` feature: the `wasio:streams` WIT exports, so
//!   components in any language can use all of the above.

pub mod core;

#[cfg(all(feature = "p3", any(feature = "unix", feature = "tls")))]
compile_error!("the `p3` feature does not combine with `unix` or `tls` yet");

#[cfg(target_os = "wasi")]
mod api;
#[cfg(all(target_os = "wasi", feature = "cli"))]
pub mod cli;
#[cfg(all(target_os = "wasi", feature = "component"))]
mod exports;
#[cfg(target_os = "wasi")]
pub mod runtime;
#[cfg(target_os = "wasi")]
mod transport;

/// Reads return `Bytes` split off the reader's buffer without copying;
/// re-exported so that users need not depend on `bytes` themselves.
pub use bytes::{self, Bytes};
pub use core::{Error, TlsFailure};

#[cfg(target_os = "wasi")]
pub use api::*;
#[cfg(target_os = "wasi")]
pub use runtime::{block_on, sleep, spawn, timeout};
#[cfg(all(target_os = "wasi", feature = "tls"))]
pub use transport::TlsOptions;
#[cfg(target_os = "wasi")]
pub use transport::{
    AddressFamily, ConnectOptions, DEFAULT_BACKLOG, ExtraInfo, KeepAlive, ServerOptions,
    SocketAddress, SocketOptions, StreamLimits,
};

//! The host side of `wasio:streams/unix` (see `wit/unix.wit`): Unix-domain
//! stream sockets for guests, under the network policy and the connection
//! limit, with ordinary `wasi:io` streams for the data.

mod error;
mod listener;
mod reader;
mod socket;
mod writer;

use std::path::PathBuf;

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::sockets::network::ErrorCode;
use wasmtime_wasi::p2::bindings::sockets::tcp::ShutdownType;
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable, TcpSocket};

pub use self::error::{Op, io_error_code, path_error_code};
pub use self::listener::UnixListener;
pub use self::socket::UnixSocket;
use crate::limits::InstanceLimits;
use crate::policy::{NetworkPolicy, UnixUse};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        inline: "
            package wasio:host;
            world unix-host {
                import wasio:streams/unix@0.1.0;
            }
        ",
        imports: {
            "wasio:streams/unix.connect": async | trappable,
            "wasio:streams/unix.listen": async | trappable,
            "wasio:streams/unix.[method]unix-listener.accept": async | trappable,
            default: trappable,
        },
        with: {
            "wasi": wasmtime_wasi::p2::bindings,
            "wasio:streams/unix.unix-socket": super::UnixSocket,
            "wasio:streams/unix.unix-listener": super::UnixListener,
        },
    });
}

use bindings::wasio::streams::unix as wit;

/// A connected socket and its two streams, as `connect` and `accept` return.
type Connection = (
    Resource<UnixSocket>,
    Resource<DynInputStream>,
    Resource<DynOutputStream>,
);

/// What the Unix host functions need from the store: the resource table,
/// the policy and the limits.
#[derive(Debug)]
pub struct UnixCtxView<'a> {
    pub table: &'a mut ResourceTable,
    pub policy: &'a NetworkPolicy,
    pub limits: &'a InstanceLimits,
}

/// Store data that can lend a [`UnixCtxView`].
pub trait UnixView: Send {
    fn unix(&mut self) -> UnixCtxView<'_>;
}

/// [`HasData`] marker for `wasio:streams/unix`.
#[derive(Debug)]
pub struct WasioUnix;

impl HasData for WasioUnix {
    type Data<'a> = UnixCtxView<'a>;
}

/// Sockets in `table` that count against the connection limit (see
/// [`crate::limits`]): every TCP socket and every connected Unix socket.
pub fn open_connections(table: &mut ResourceTable) -> usize {
    table
        .iter_mut()
        .filter(|e| e.is::<TcpSocket>() || e.is::<UnixSocket>())
        .count()
}

/// Add `wasio:streams/unix` to `linker`.
pub fn add_to_linker<T: UnixView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, WasioUnix>(linker, T::unix)
}

impl UnixCtxView<'_> {
    /// Resolve `path` through the policy, mapping a refusal to a code.
    fn resolve(&self, path: &str, usage: UnixUse, op: Op) -> Result<PathBuf, ErrorCode> {
        self.policy
            .resolve_unix_path(path, usage)
            .map_err(|e| path_error_code(&e, op))
    }

    /// Put a new connection in the table, its streams as children of the
    /// socket (so the socket outlives them, as in `wasi:sockets`).
    fn push_connection(
        &mut self,
        (socket, input, output): (UnixSocket, DynInputStream, DynOutputStream),
    ) -> wasmtime::Result<Connection> {
        let socket = self.table.push(socket)?;
        let input = self.table.push_child(input, &socket)?;
        let output = self.table.push_child(output, &socket)?;
        Ok((socket, input, output))
    }

    fn connection_allowed(&mut self) -> bool {
        let open = open_connections(self.table);
        self.limits.connection_allowed(open)
    }
}

impl wit::Host for UnixCtxView<'_> {
    async fn connect(&mut self, path: String) -> wasmtime::Result<Result<Connection, ErrorCode>> {
        let file = match self.resolve(&path, UnixUse::Connect, Op::Connect) {
            Ok(file) => file,
            Err(code) => return Ok(Err(code)),
        };
        if !self.connection_allowed() {
            return Ok(Err(ErrorCode::NewSocketLimit));
        }
        match UnixSocket::connect(&file) {
            Ok(connection) => Ok(Ok(self.push_connection(connection)?)),
            Err(e) => {
                tracing::debug!(path, error = %e, "unix connect failed");
                Ok(Err(io_error_code(&e, Op::Connect)))
            }
        }
    }

    async fn listen(
        &mut self,
        path: String,
        backlog: u32,
    ) -> wasmtime::Result<Result<Resource<UnixListener>, ErrorCode>> {
        let file = match self.resolve(&path, UnixUse::Listen, Op::Listen) {
            Ok(file) => file,
            Err(code) => return Ok(Err(code)),
        };
        match UnixListener::listen(&file, path.clone(), backlog) {
            Ok(listener) => Ok(Ok(self.table.push(listener)?)),
            Err(e) => {
                tracing::debug!(path, error = %e, "unix listen failed");
                Ok(Err(io_error_code(&e, Op::Listen)))
            }
        }
    }
}

impl wit::HostUnixSocket for UnixCtxView<'_> {
    fn local_path(&mut self, this: Resource<UnixSocket>) -> wasmtime::Result<Option<String>> {
        Ok(self.table.get(&this)?.local_path())
    }

    fn peer_path(&mut self, this: Resource<UnixSocket>) -> wasmtime::Result<Option<String>> {
        Ok(self.table.get(&this)?.peer_path())
    }

    fn shutdown(
        &mut self,
        this: Resource<UnixSocket>,
        how: ShutdownType,
    ) -> wasmtime::Result<Result<(), ErrorCode>> {
        let socket = self.table.get(&this)?;
        Ok(socket
            .shutdown(how.into())
            .map_err(|e| io_error_code(&e, Op::Shutdown)))
    }

    fn drop(&mut self, this: Resource<UnixSocket>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

impl wit::HostUnixListener for UnixCtxView<'_> {
    fn local_path(&mut self, this: Resource<UnixListener>) -> wasmtime::Result<String> {
        Ok(self.table.get(&this)?.guest_path().to_owned())
    }

    async fn accept(
        &mut self,
        this: Resource<UnixListener>,
    ) -> wasmtime::Result<Result<Connection, ErrorCode>> {
        let listener = self.table.get_mut(&this)?;
        let stream = match listener.accept() {
            Ok(stream) => stream,
            Err(e) => return Ok(Err(io_error_code(&e, Op::Accept))),
        };
        let local_path = listener.guest_path().to_owned();
        if !self.connection_allowed() {
            // Refuse the client: dropping the stream closes it.
            return Ok(Err(ErrorCode::NewSocketLimit));
        }
        match UnixSocket::accepted(stream, local_path) {
            Ok(connection) => Ok(Ok(self.push_connection(connection)?)),
            Err(e) => Ok(Err(io_error_code(&e, Op::Accept))),
        }
    }

    fn subscribe(
        &mut self,
        this: Resource<UnixListener>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        wasmtime_wasi::p2::subscribe(self.table, this)
    }

    fn drop(&mut self, this: Resource<UnixListener>) -> wasmtime::Result<()> {
        // Dropping the listener removes its socket file.
        self.table.delete(this)?;
        Ok(())
    }
}

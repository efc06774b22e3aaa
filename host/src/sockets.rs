//! wasmtime-wasi's `wasi:sockets` imports with wasio's checks in front.
//!
//! wasmtime-wasi checks addresses through `socket_addr_check` (see
//! [`crate::policy`]) but has no hook for the number of sockets or for a
//! refused name lookup. So, after `wasmtime_wasi::p2::add_to_linker_async`,
//! three functions are redefined to check first and then call
//! wasmtime-wasi's own implementation:
//! - `create-tcp-socket` and `tcp-socket.accept`: the connection limit;
//! - `ip-name-lookup.resolve-addresses`: a refused lookup is logged.

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::bindings::sockets::ip_name_lookup::{
    Host as _, Network, ResolveAddressStream,
};
use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, IpAddressFamily};
use wasmtime_wasi::p2::bindings::sockets::tcp::HostTcpSocket;
use wasmtime_wasi::p2::bindings::sockets::tcp_create_socket::Host as _;
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, SocketError, TcpSocket};
use wasmtime_wasi::sockets::WasiSocketsCtxView;

use crate::limits::InstanceLimits;
use crate::policy::NetworkPolicy;
use crate::unix::open_connections;

/// The `wasi:sockets` version wasmtime-wasi 48 defines (guests importing an
/// older 0.2.x are linked to it).
const CREATE_TCP: &str = "wasi:sockets/tcp-create-socket@0.2.12";
const TCP: &str = "wasi:sockets/tcp@0.2.12";
const NAME_LOOKUP: &str = "wasi:sockets/ip-name-lookup@0.2.12";

/// Store data that lends the `wasi:sockets` view with the limits and policy.
pub trait GuardedSocketsView: Send + 'static {
    fn guarded_sockets(&mut self) -> (WasiSocketsCtxView<'_>, &InstanceLimits, &NetworkPolicy);
}

type Accepted = (
    Resource<TcpSocket>,
    Resource<DynInputStream>,
    Resource<DynOutputStream>,
);

/// Redefine the guarded functions in `linker` (which already holds
/// wasmtime-wasi's).
pub fn add_guards_to_linker<T: GuardedSocketsView>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.instance(CREATE_TCP)?.func_wrap(
        "create-tcp-socket",
        |mut store: StoreContextMut<'_, T>, (family,): (IpAddressFamily,)| {
            let (mut view, limits, _) = store.data_mut().guarded_sockets();
            if !limits.connection_allowed(open_connections(view.table)) {
                return Ok((Err(ErrorCode::NewSocketLimit),));
            }
            Ok((split(view.create_tcp_socket(family))?,))
        },
    )?;
    linker.instance(TCP)?.func_wrap(
        "[method]tcp-socket.accept",
        |mut store: StoreContextMut<'_, T>, (this,): (Resource<TcpSocket>,)| {
            let (mut view, limits, _) = store.data_mut().guarded_sockets();
            let open = open_connections(view.table);
            let accepted: Result<Accepted, ErrorCode> =
                split(HostTcpSocket::accept(&mut view, this))?;
            let Ok((socket, input, output)) = accepted else {
                return Ok((accepted,));
            };
            if limits.connection_allowed(open) {
                return Ok((Ok((socket, input, output)),));
            }
            // Over the limit: close the client at once, as a refusal.
            view.table.delete(input)?;
            view.table.delete(output)?;
            view.table.delete(socket)?;
            Ok((Err(ErrorCode::NewSocketLimit),))
        },
    )?;
    linker.instance(NAME_LOOKUP)?.func_wrap(
        "resolve-addresses",
        |mut store: StoreContextMut<'_, T>, (network, name): (Resource<Network>, String)| {
            let (mut view, _, policy) = store.data_mut().guarded_sockets();
            if !policy.name_lookup_enabled() {
                tracing::warn!(
                    name,
                    rule = "name lookup",
                    "network policy denied looking up {name}: allow-dns is off"
                );
                return Ok((Err(ErrorCode::AccessDenied),));
            }
            let stream: Result<Resource<ResolveAddressStream>, ErrorCode> =
                split(view.resolve_addresses(network, name))?;
            Ok((stream,))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Split a wasmtime-wasi socket result into the guest's error code or a trap.
fn split<V>(result: Result<V, SocketError>) -> wasmtime::Result<Result<V, ErrorCode>> {
    match result {
        Ok(v) => Ok(Ok(v)),
        Err(e) => Ok(Err(e.downcast()?)),
    }
}

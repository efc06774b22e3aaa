//! wasmtime-wasi's `wasi:sockets` imports with wasio's checks in front.
//!
//! wasmtime-wasi checks addresses through `socket_addr_check` (see
//! [`crate::policy`]), for WASI 0.2 and 0.3 sockets alike, but has no hook
//! for the number of sockets or for a refused name lookup. So, after
//! wasmtime-wasi's own imports are linked, some functions are redefined to
//! check first and then call wasmtime-wasi's implementation:
//! - 0.2 `create-tcp-socket` and `tcp-socket.accept`: the connection limit;
//! - 0.3 `[static]tcp-socket.create`, `send`, `receive`, `listen` and the
//!   socket's destructor: the connection limit, counting each 0.3 socket
//!   until its streams let go of it too (see `sockets/p3.rs`);
//! - 0.2 and 0.3 `resolve-addresses`: a refused lookup is logged and
//!   answered `access-denied` (wasmtime-wasi's 0.3 lookup would answer
//!   `permanent-resolver-failure`).

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::TrappableError;
use wasmtime_wasi::p2::bindings::sockets::ip_name_lookup::{
    Host as _, Network, ResolveAddressStream,
};
use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, IpAddressFamily};
use wasmtime_wasi::p2::bindings::sockets::tcp::HostTcpSocket;
use wasmtime_wasi::p2::bindings::sockets::tcp_create_socket::Host as _;
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, TcpSocket};
use wasmtime_wasi::sockets::{WasiSocketsCtxView, WasiSocketsView};

use crate::limits::InstanceLimits;
use crate::policy::NetworkPolicy;
use crate::unix::open_connections;

mod p3;

pub(crate) use self::p3::P3Sockets;

/// The `wasi:sockets` version wasmtime-wasi 48 defines (guests importing an
/// older 0.2.x are linked to it).
const CREATE_TCP: &str = "wasi:sockets/tcp-create-socket@0.2.12";
const TCP: &str = "wasi:sockets/tcp@0.2.12";
const NAME_LOOKUP: &str = "wasi:sockets/ip-name-lookup@0.2.12";

/// Store data that lends the `wasi:sockets` view with the limits and policy.
pub trait GuardedSocketsView: WasiSocketsView + 'static {
    fn guarded_sockets(&mut self) -> (WasiSocketsCtxView<'_>, &mut InstanceLimits, &NetworkPolicy);
}

type Accepted = (
    Resource<TcpSocket>,
    Resource<DynInputStream>,
    Resource<DynOutputStream>,
);

/// Redefine the guarded functions in `linker` (which already holds
/// wasmtime-wasi's WASI 0.2 and 0.3 imports).
pub fn add_guards_to_linker<T: GuardedSocketsView>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    add_p2_guards(linker)?;
    p3::add_guards(linker)?;
    linker.allow_shadowing(false);
    Ok(())
}

fn add_p2_guards<T: GuardedSocketsView>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
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
            let (socket, input, output) = match accepted {
                Ok(accepted) => accepted,
                Err(ErrorCode::Unknown) if out_of_descriptors() => {
                    return Ok((Err(ErrorCode::NewSocketLimit),));
                }
                Err(error) => return Ok((Err(error),)),
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
            if !name_lookup_allowed(policy, &name) {
                return Ok((Err(ErrorCode::AccessDenied),));
            }
            let stream: Result<Resource<ResolveAddressStream>, ErrorCode> =
                split(view.resolve_addresses(network, name))?;
            Ok((stream,))
        },
    )?;
    Ok(())
}

/// Whether the process is out of file descriptors now. wasmtime-wasi 48
/// answers an accept that ran out of them (`EMFILE`) with `unknown`: the
/// error reaches its errno mapping wrapped. Opening one more tells it
/// apart, so that the guest gets `new-socket-limit`, as WASI means it.
fn out_of_descriptors() -> bool {
    use rustix::io::Errno;
    std::fs::File::open("/dev/null").is_err_and(|error| {
        matches!(
            Errno::from_io_error(&error),
            Some(Errno::MFILE | Errno::NFILE)
        )
    })
}

/// Whether `policy` lets the guest look `name` up; a refusal is logged.
fn name_lookup_allowed(policy: &NetworkPolicy, name: &str) -> bool {
    let allowed = policy.name_lookup_enabled();
    if !allowed {
        tracing::warn!(
            name,
            rule = "name lookup",
            "network policy denied looking up {name}: allow-dns is off"
        );
    }
    allowed
}

/// Split a wasmtime-wasi socket result (of WASI 0.2 or 0.3) into the
/// guest's error code or a trap.
fn split<V, E>(result: Result<V, TrappableError<E>>) -> wasmtime::Result<Result<V, E>>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(v) => Ok(Ok(v)),
        Err(e) => Ok(Err(e.downcast()?)),
    }
}

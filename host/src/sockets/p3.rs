//! WASI 0.3 TCP sockets under the connection limit, and 0.3 name lookups
//! under the policy.
//!
//! A 0.3 connection's OS socket stays open while the guest holds its
//! `tcp-socket` or a stream taken from it with `send` or `receive` (the
//! guest may drop the socket and keep the streams), and a listener's
//! clients reach the guest through the stream `listen` returns, which also
//! keeps the listener open. So every 0.3 socket the guest gets, from
//! `create` or from a listener, is given a [`Token`] while its handle is
//! in the resource table, and each stream taken from it holds a clone until
//! wasmtime-wasi lets go of the socket: for `send` and `receive` that is
//! when the result future they return resolves, which this module watches
//! by piping it through [`Released`]; for `listen`, when the stream of
//! clients ends. A socket counts against the limit until its last clone
//! is dropped.
//!
//! Under a connection limit, a listener's clients are accepted one at a
//! time, as the guest reads them, and checked against the limit as they
//! are handed over (see [`relay_clients`]): over it, a client is closed at
//! once. The relay learns that the guest dropped its stream of clients
//! only when the next client arrives (which it then closes), so until
//! then, or until the instance ends, the listener stays open and counted.
//! Without a limit the guest reads wasmtime-wasi's stream itself (nothing
//! to count, no relay), and those clients are not in
//! [`HostState::open_connections`](crate::HostState::open_connections).

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use futures::StreamExt as _;
use futures::channel::mpsc;
use tokio::sync::oneshot;
use wasmtime::component::{
    Access, Accessor, Destination, FutureConsumer, FutureReader, Linker, Resource, ResourceType,
    Source, StreamConsumer, StreamProducer, StreamReader, StreamResult,
};
use wasmtime::{AsContextMut as _, StoreContextMut};
use wasmtime_wasi::p3::bindings::sockets::ip_name_lookup as lookup;
use wasmtime_wasi::p3::bindings::sockets::types::{
    ErrorCode, HostTcpSocket as _, HostTcpSocketWithStore, IpAddressFamily,
};
use wasmtime_wasi::sockets::{TcpSocket, WasiSockets};

use super::{GuardedSocketsView, name_lookup_allowed, split};
use crate::unix::open_connections;

/// The WASI 0.3 interfaces (guests importing a later 0.3.x are linked to them).
const TYPES: &str = "wasi:sockets/types@0.3.0";
const NAME_LOOKUP: &str = "wasi:sockets/ip-name-lookup@0.3.0";

/// The result of `send` and `receive`: how the stream ended.
type StreamEnd = Result<(), ErrorCode>;

/// The live WASI 0.3 TCP sockets of one instance.
#[derive(Debug, Default)]
pub(crate) struct P3Sockets {
    /// The token of each socket handle in the resource table, by its rep.
    handles: HashMap<u32, Token>,
    /// How many sockets have a token alive.
    live: Arc<AtomicUsize>,
}

/// Keeps one socket counted while any clone of it is alive.
type Token = Arc<Counted>;

#[derive(Debug)]
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl P3Sockets {
    /// How many 0.3 sockets have their OS socket open.
    pub(crate) fn open(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    fn track(&mut self, socket: &Resource<TcpSocket>) {
        self.live.fetch_add(1, Ordering::Relaxed);
        let token = Arc::new(Counted(Arc::clone(&self.live)));
        self.handles.insert(socket.rep(), token);
    }

    fn token(&self, socket: &Resource<TcpSocket>) -> Option<Token> {
        self.handles.get(&socket.rep()).cloned()
    }

    fn untrack(&mut self, rep: u32) {
        self.handles.remove(&rep);
    }
}

/// The error a 0.3 guest gets over the connection limit: 0.3 has no
/// `new-socket-limit` code, so it is named in `other`.
fn over_the_limit() -> ErrorCode {
    ErrorCode::Other(Some("new-socket-limit".into()))
}

/// Whether the instance may open one more socket of any kind.
fn connection_allowed<T: GuardedSocketsView>(data: &mut T) -> bool {
    let (view, limits, _) = data.guarded_sockets();
    limits.connection_allowed(open_connections(view.table))
}

/// Redefine, in `linker` (which holds wasmtime-wasi's 0.3 imports), the
/// functions that create, hand out, stream from or drop 0.3 TCP sockets,
/// and the name lookup.
pub(super) fn add_guards<T: GuardedSocketsView>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    let mut types = linker.instance(TYPES)?;
    types.func_wrap(
        "[static]tcp-socket.create",
        |mut store: StoreContextMut<'_, T>, (family,): (IpAddressFamily,)| {
            if !connection_allowed(store.data_mut()) {
                return Ok((Err(over_the_limit()),));
            }
            let (mut view, limits, _) = store.data_mut().guarded_sockets();
            let created = split(view.create(family))?;
            if let Ok(socket) = &created {
                limits.p3_sockets().track(socket);
            }
            Ok((created,))
        },
    )?;
    types.resource(
        "tcp-socket",
        ResourceType::host::<TcpSocket>(),
        |mut store: StoreContextMut<'_, T>, rep| {
            let (view, limits, _) = store.data_mut().guarded_sockets();
            limits.p3_sockets().untrack(rep);
            view.table.delete(Resource::<TcpSocket>::new_own(rep))?;
            Ok(())
        },
    )?;
    types.func_wrap(
        "[method]tcp-socket.send",
        |mut store: StoreContextMut<'_, T>,
         (socket, data): (Resource<TcpSocket>, StreamReader<u8>)| {
            let token = token(&mut store, &socket);
            let access = Access::<T, WasiSockets>::new(store.as_context_mut(), T::sockets);
            let end = <WasiSockets as HostTcpSocketWithStore<T>>::send(access, socket, data)?;
            Ok((Released::watch(&mut store, end, token)?,))
        },
    )?;
    types.func_wrap(
        "[method]tcp-socket.receive",
        |mut store: StoreContextMut<'_, T>, (socket,): (Resource<TcpSocket>,)| {
            let token = token(&mut store, &socket);
            let access = Access::<T, WasiSockets>::new(store.as_context_mut(), T::sockets);
            let (bytes, end) = <WasiSockets as HostTcpSocketWithStore<T>>::receive(access, socket)?;
            Ok(((bytes, Released::watch(&mut store, end, token)?),))
        },
    )?;
    types.func_wrap_async(
        "[method]tcp-socket.listen",
        |mut store: StoreContextMut<'_, T>, (socket,): (Resource<TcpSocket>,)| {
            Box::new(async move {
                let token = token(&mut store, &socket);
                let (_, limits, _) = store.data_mut().guarded_sockets();
                let limited = limits.limits().max_connections.is_some();
                let access = Access::<T, WasiSockets>::new(store.as_context_mut(), T::sockets);
                let listened = <WasiSockets as HostTcpSocketWithStore<T>>::listen(access, socket);
                let clients = match split(listened.await)? {
                    Ok(clients) => clients,
                    Err(code) => return Ok((Err(code),)),
                };
                if !limited {
                    return Ok((Ok(clients),));
                }
                Ok((Ok(relay_clients(&mut store, clients, token)?),))
            })
        },
    )?;
    linker.instance(NAME_LOOKUP)?.func_wrap_concurrent(
        "resolve-addresses",
        |store: &Accessor<T>, (name,): (String,)| {
            Box::pin(async move {
                let allowed = store.with(|mut access| {
                    let (_, _, policy) = access.get().guarded_sockets();
                    name_lookup_allowed(policy, &name)
                });
                if !allowed {
                    return Ok((Err(lookup::ErrorCode::AccessDenied),));
                }
                let sockets = store.with_getter::<WasiSockets>(T::sockets);
                let addresses =
                    <WasiSockets as lookup::HostWithStore<T>>::resolve_addresses(&sockets, name)
                        .await?;
                Ok((addresses,))
            })
        },
    )?;
    Ok(())
}

/// The token of `socket`, for a stream taken from it to hold.
fn token<T: GuardedSocketsView>(
    store: &mut StoreContextMut<'_, T>,
    socket: &Resource<TcpSocket>,
) -> Option<Token> {
    let (_, limits, _) = store.data_mut().guarded_sockets();
    limits.p3_sockets().token(socket)
}

/// Holds a socket's token until wasmtime-wasi resolves the result future
/// of a stream taken from it (it does so as it lets go of the socket), and
/// passes the result on to the future the guest gets.
struct Released {
    result: Option<oneshot::Sender<StreamEnd>>,
    token: Option<Token>,
}

impl Released {
    fn watch<T: 'static>(
        store: &mut StoreContextMut<'_, T>,
        end: FutureReader<StreamEnd>,
        token: Option<Token>,
    ) -> wasmtime::Result<FutureReader<StreamEnd>> {
        let (result, passed_on) = oneshot::channel();
        end.pipe(
            store.as_context_mut(),
            Released {
                result: Some(result),
                token,
            },
        )?;
        FutureReader::new(store.as_context_mut(), async move {
            // The sender goes only with the store, or after sending.
            wasmtime::error::Ok(passed_on.await.unwrap_or(Err(ErrorCode::Other(None))))
        })
    }
}

impl<D> FutureConsumer<D> for Released {
    type Item = StreamEnd;

    fn poll_consume(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        store: StoreContextMut<'_, D>,
        mut source: Source<'_, StreamEnd>,
        _: bool,
    ) -> Poll<wasmtime::Result<()>> {
        let mut end = None;
        source.read(store, &mut end)?;
        if let (Some(end), Some(result)) = (end, self.result.take()) {
            let _ = result.send(end);
        }
        self.token = None;
        Poll::Ready(Ok(()))
    }
}

/// Relay wasmtime-wasi's stream of a listener's clients to the stream the
/// guest reads them from: one client at a time, checked against the
/// connection limit as it is handed over, with the listener's token held
/// until wasmtime-wasi's stream is done.
fn relay_clients<T: GuardedSocketsView>(
    store: &mut StoreContextMut<'_, T>,
    clients: StreamReader<Resource<TcpSocket>>,
    token: Option<Token>,
) -> wasmtime::Result<StreamReader<Resource<TcpSocket>>> {
    // No buffer: a client is accepted only when the last one is taken.
    let (sender, receiver) = mpsc::channel(0);
    clients.pipe(
        store.as_context_mut(),
        Accepting {
            sender,
            _token: token,
        },
    )?;
    StreamReader::new(store.as_context_mut(), Delivering { receiver })
}

/// Takes each client wasmtime-wasi accepts out of the resource table and
/// passes it on, once the guest has taken the one before.
struct Accepting {
    sender: mpsc::Sender<TcpSocket>,
    _token: Option<Token>,
}

impl<T: GuardedSocketsView> StreamConsumer<T> for Accepting {
    type Item = Resource<TcpSocket>;

    fn poll_consume(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut store: StoreContextMut<'_, T>,
        mut source: Source<'_, Self::Item>,
        finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        let wanted = match self.sender.poll_ready(cx) {
            Poll::Ready(ready) => ready.is_ok(),
            Poll::Pending if finish => return Poll::Ready(Ok(StreamResult::Cancelled)),
            Poll::Pending => return Poll::Pending,
        };
        let mut accepted = None;
        source.read(store.as_context_mut(), &mut accepted)?;
        if let Some(client) = accepted {
            let client = T::sockets(store.data_mut()).table.delete(client)?;
            // A client nobody will take is closed here.
            let passed_on = wanted && self.sender.start_send(client).is_ok();
            return Poll::Ready(Ok(if passed_on {
                StreamResult::Completed
            } else {
                StreamResult::Dropped
            }));
        }
        // Not wanted: the guest dropped its stream of clients.
        Poll::Ready(Ok(if wanted {
            StreamResult::Completed
        } else {
            StreamResult::Dropped
        }))
    }
}

/// Hands the accepted clients to the guest, each with a token, or closes
/// one at once when the instance is at its connection limit.
struct Delivering {
    receiver: mpsc::Receiver<TcpSocket>,
}

impl<T: GuardedSocketsView> StreamProducer<T> for Delivering {
    type Item = Resource<TcpSocket>;
    type Buffer = Option<Resource<TcpSocket>>;

    fn poll_produce<'a>(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut store: StoreContextMut<'a, T>,
        mut destination: Destination<'a, Self::Item, Self::Buffer>,
        finish: bool,
    ) -> Poll<wasmtime::Result<StreamResult>> {
        // A read of nothing asks whether the stream is ready: it always is.
        if destination.remaining(&mut store) == Some(0) {
            return Poll::Ready(Ok(StreamResult::Completed));
        }
        loop {
            let client = match self.receiver.poll_next_unpin(cx) {
                Poll::Ready(Some(client)) => client,
                Poll::Ready(None) => return Poll::Ready(Ok(StreamResult::Dropped)),
                Poll::Pending if finish => return Poll::Ready(Ok(StreamResult::Cancelled)),
                Poll::Pending => return Poll::Pending,
            };
            if !connection_allowed(store.data_mut()) {
                // Over the limit: close the client at once, as a refusal.
                drop(client);
                continue;
            }
            let (view, limits, _) = store.data_mut().guarded_sockets();
            let client = view.table.push(client)?;
            limits.p3_sockets().track(&client);
            destination.set_buffer(Some(client));
            return Poll::Ready(Ok(StreamResult::Completed));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_counts_until_its_handle_and_its_streams_are_gone() {
        let mut sockets = P3Sockets::default();
        let (first, second) = (Resource::new_own(1), Resource::new_own(2));
        sockets.track(&first);
        sockets.track(&second);
        let stream = sockets.token(&first);
        assert_eq!(sockets.open(), 2);
        sockets.untrack(first.rep());
        assert_eq!(sockets.open(), 2, "its stream still holds the first");
        drop(stream);
        assert_eq!(sockets.open(), 1);
        sockets.untrack(second.rep());
        assert_eq!(sockets.open(), 0);
        assert!(sockets.token(&first).is_none());
    }
}

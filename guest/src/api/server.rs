//! `start_server`, `start_unix_server` and the `Server` they return.

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use futures_util::FutureExt;
#[cfg(not(feature = "p3"))]
use wasip2::{clocks::monotonic_clock, io::poll::Pollable};

use crate::core::Error;
use crate::runtime::{self, Interest};
use crate::transport::{
    Connection, Listener, ServerOptions, SocketAddress, StreamLimits, bind_server,
};

use super::connect::pair;
use super::{StreamReader, StreamWriter, nonblocking};

/// The pause before accepting again after a failed accept.
const ACCEPT_RETRY: std::time::Duration = std::time::Duration::from_millis(20);

#[derive(Debug)]
struct Inner {
    listeners: RefCell<Vec<Listener>>,
    /// Pollables of the listeners were handed out (`subscribe`): closed
    /// listeners are kept until the server goes, since `wasi:io` forbids
    /// dropping a resource before its children.
    lent: Cell<bool>,
    kept: RefCell<Vec<Listener>>,
    clients: RefCell<Vec<Weak<Connection>>>,
    limits: StreamLimits,
    serving: Cell<bool>,
    /// A task is in `serve_forever`.
    serving_forever: Cell<bool>,
    /// Woken when the server closes.
    close_wakers: RefCell<Vec<Waker>>,
}

/// What a client handler returns: nothing, or a `Result` whose error ends
/// the connection, as asyncio closes the transport of a handler that
/// raised (the error is reported on standard error; the server goes on).
pub trait ClientResult {
    /// The error, if the handler failed.
    fn failure(self) -> Option<String>;
}

impl ClientResult for () {
    fn failure(self) -> Option<String> {
        None
    }
}

impl<E: std::fmt::Display> ClientResult for Result<(), E> {
    fn failure(self) -> Option<String> {
        self.err().map(|error| error.to_string())
    }
}

/// A listening server (asyncio's `Server`). Dropping it closes it; the
/// connections it accepted go on.
#[derive(Debug)]
pub struct Server {
    inner: Rc<Inner>,
}

/// asyncio's `start_server`: listen on `host`:`port` and run
/// `client_connected(reader, writer)` as a task for every client. A handler
/// that returns an error has its connection closed; the server serves on.
///
/// With no `host` the server listens on every IPv4 and IPv6 address; a
/// name gets one socket per address it resolves to. Port 0 picks a free
/// port: [`Server::sockets`] tells which.
pub async fn start_server<F, Fut>(
    client_connected: F,
    host: Option<&str>,
    port: u16,
    options: ServerOptions,
) -> Result<Server, Error>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + 'static,
    Fut: Future<Output: ClientResult> + 'static,
{
    let server = listen(host, port, options).await?;
    server.serve(client_connected);
    Ok(server)
}

/// A server whose clients are taken with [`Server::accept`] rather than
/// handed to a callback.
pub async fn listen(
    host: Option<&str>,
    port: u16,
    options: ServerOptions,
) -> Result<Server, Error> {
    let listeners = bind_server(host, port, &options).await?;
    Ok(Server::new(listeners, options.limits))
}

/// asyncio's `start_unix_server`: listen on the Unix socket `path` (needs a
/// host that provides `wasio:streams/unix`). The socket file is removed
/// when the server closes.
#[cfg(feature = "unix")]
pub async fn start_unix_server<F, Fut>(
    client_connected: F,
    path: &str,
    options: ServerOptions,
) -> Result<Server, Error>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + 'static,
    Fut: Future<Output: ClientResult> + 'static,
{
    let server = listen_unix(path, options)?;
    server.serve(client_connected);
    Ok(server)
}

/// A Unix server whose clients are taken with [`Server::accept`].
#[cfg(feature = "unix")]
pub fn listen_unix(path: &str, options: ServerOptions) -> Result<Server, Error> {
    let backlog = options.backlog.unwrap_or(crate::transport::DEFAULT_BACKLOG);
    let listener = crate::transport::UnixListener::bind(path, backlog)?;
    Ok(Server::new(vec![Listener::Unix(listener)], options.limits))
}

impl Server {
    fn new(listeners: Vec<Listener>, limits: StreamLimits) -> Self {
        Self {
            inner: Rc::new(Inner {
                listeners: RefCell::new(listeners),
                lent: Cell::new(false),
                kept: RefCell::new(Vec::new()),
                clients: RefCell::new(Vec::new()),
                limits,
                serving: Cell::new(true),
                serving_forever: Cell::new(false),
                close_wakers: RefCell::new(Vec::new()),
            }),
        }
    }

    /// Run `client_connected` as a task for each client, until the server
    /// closes. The accepting task does not keep the server alive.
    fn serve<F, Fut>(&self, client_connected: F)
    where
        F: Fn(StreamReader, StreamWriter) -> Fut + 'static,
        Fut: Future<Output: ClientResult> + 'static,
    {
        let server = Rc::downgrade(&self.inner);
        runtime::spawn(async move {
            let mut interests = Vec::new();
            loop {
                let accepted = poll_fn(|cx| match server.upgrade() {
                    Some(inner) => inner.poll_accept(&mut interests, cx),
                    None => Poll::Ready(Err(Error::Closed)),
                })
                .await;
                match accepted {
                    Ok((reader, writer)) => {
                        let connection = reader.connection().cloned();
                        let handler = client_connected(reader, writer);
                        // `map` rather than an `async` block, which would
                        // hold the handler's future twice.
                        runtime::spawn(handler.map(move |result| {
                            if let Some(error) = result.failure() {
                                eprintln!("wasio: a client handler failed: {error}");
                                if let Some(connection) = connection {
                                    connection.close();
                                }
                            }
                        }))
                        .detach();
                    }
                    Err(Error::Closed) => return,
                    // One client could not be taken (a connection limit, a
                    // client gone): keep serving the others, as asyncio
                    // does, after a pause that keeps a lasting failure from
                    // spinning.
                    Err(error) => {
                        eprintln!("wasio: accepting a client failed: {error}");
                        runtime::sleep(ACCEPT_RETRY).await;
                    }
                }
            }
        })
        .detach();
    }

    /// The addresses the server listens on, one per socket; none once it
    /// is closed.
    pub fn sockets(&self) -> Vec<SocketAddress> {
        let listeners = self.inner.listeners.borrow();
        listeners.iter().map(Listener::address).collect()
    }

    /// Accept the next client.
    pub async fn accept(&self) -> Result<(StreamReader, StreamWriter), Error> {
        let mut interests = Vec::new();
        poll_fn(|cx| self.inner.poll_accept(&mut interests, cx)).await
    }

    /// Accept a waiting client, or [`Error::WouldBlock`].
    pub fn try_accept(&self) -> Result<(StreamReader, StreamWriter), Error> {
        nonblocking::answer(|| Poll::Ready(self.inner.try_accept()))
    }

    /// Pollables, one per listening socket, ready when a client waits (a
    /// ready one if the server is closed).
    #[cfg(not(feature = "p3"))]
    pub fn subscribe(&self) -> Vec<Pollable> {
        nonblocking::before_waiting();
        let listeners = self.inner.listeners.borrow();
        if listeners.is_empty() {
            return vec![monotonic_clock::subscribe_duration(0)];
        }
        self.inner.lent.set(true);
        listeners.iter().map(Listener::subscribe).collect()
    }

    /// Stop listening; accepted connections go on (asyncio 3.12+).
    pub fn close(&self) {
        self.inner.close();
    }

    /// Whether the server still listens.
    pub fn is_serving(&self) -> bool {
        self.inner.serving.get()
    }

    /// Close every connection this server accepted (asyncio 3.13).
    pub fn close_clients(&self) {
        for client in self.inner.live_clients() {
            client.close();
        }
    }

    /// Abort every connection this server accepted (asyncio 3.13).
    pub fn abort_clients(&self) {
        for client in self.inner.live_clients() {
            client.abort();
        }
    }

    /// asyncio's `wait_closed`: wait until the server is closed and every
    /// connection it accepted is closed.
    pub async fn wait_closed(&self) -> Result<(), Error> {
        poll_fn(|cx| self.inner.poll_closed(Some(cx))).await
    }

    /// Non-blocking [`wait_closed`](Self::wait_closed).
    pub fn try_wait_closed(&self) -> Result<(), Error> {
        nonblocking::answer(|| self.inner.poll_closed(None))
    }

    /// asyncio's `serve_forever`: serve until the server is closed (by
    /// another task); then it returns. Fails with `invalid-state` on a
    /// closed server or while another task is in `serve_forever`, as
    /// asyncio does.
    pub async fn serve_forever(&self) -> Result<(), Error> {
        if !self.is_serving() {
            return Err(Error::invalid_state("the server is closed"));
        }
        if self.inner.serving_forever.replace(true) {
            return Err(Error::invalid_state(
                "the server is already being awaited on serve_forever()",
            ));
        }
        /// Ends `serve_forever`'s claim however it ends.
        struct Claim<'a>(&'a Cell<bool>);
        impl Drop for Claim<'_> {
            fn drop(&mut self) {
                self.0.set(false);
            }
        }
        let _claim = Claim(&self.inner.serving_forever);
        poll_fn(|cx| {
            if self.is_serving() {
                self.inner.add_close_waker(cx.waker());
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.inner.close();
    }
}

impl Inner {
    fn try_accept(&self) -> Result<(StreamReader, StreamWriter), Error> {
        if !self.serving.get() {
            return Err(Error::Closed);
        }
        for listener in self.listeners.borrow().iter() {
            if let Some(opened) = listener.accept()? {
                let (reader, writer) = pair(opened, &self.limits)?;
                let mut clients = self.clients.borrow_mut();
                if clients.len() == clients.capacity() {
                    // Gone clients are pruned only when the list is full,
                    // and it then at least doubles unless pruning halved
                    // it: O(1) amortised per accept with thousands open.
                    clients.retain(|c| c.strong_count() > 0);
                    let live = clients.len();
                    if live * 2 > clients.capacity() {
                        clients.reserve(live.max(4));
                    }
                }
                clients.extend(reader.connection().map(Rc::downgrade));
                return Ok((reader, writer));
            }
        }
        Err(Error::WouldBlock)
    }

    fn poll_accept(
        &self,
        interests: &mut Vec<Interest>,
        cx: &Context<'_>,
    ) -> Poll<Result<(StreamReader, StreamWriter), Error>> {
        match self.try_accept() {
            Err(Error::WouldBlock) => {
                let listeners = self.listeners.borrow();
                interests.resize_with(listeners.len(), Interest::default);
                for (listener, interest) in listeners.iter().zip(interests.iter_mut()) {
                    listener.watch(interest, cx);
                }
                self.add_close_waker(cx.waker());
                Poll::Pending
            }
            result => Poll::Ready(result),
        }
    }

    fn close(&self) {
        self.serving.set(false);
        let closed = std::mem::take(&mut *self.listeners.borrow_mut());
        if self.lent.get() {
            self.kept.borrow_mut().extend(closed);
        }
        self.close_wakers
            .borrow_mut()
            .drain(..)
            .for_each(Waker::wake);
    }

    fn add_close_waker(&self, waker: &Waker) {
        let mut wakers = self.close_wakers.borrow_mut();
        if !wakers.iter().any(|w| w.will_wake(waker)) {
            wakers.push(waker.clone());
        }
    }

    fn poll_closed(&self, cx: Option<&Context<'_>>) -> Poll<Result<(), Error>> {
        let clients = self.live_clients();
        if !self.serving.get() && clients.is_empty() {
            return Poll::Ready(Ok(()));
        }
        if let Some(cx) = cx {
            self.add_close_waker(cx.waker());
            for client in &clients {
                client.on_release(cx.waker());
            }
        }
        Poll::Pending
    }

    fn live_clients(&self) -> Vec<Rc<Connection>> {
        let mut clients = self.clients.borrow_mut();
        clients.retain(|c| c.upgrade().is_some_and(|c| !c.is_released()));
        clients.iter().filter_map(Weak::upgrade).collect()
    }
}

//! TCP over `wasi:sockets@0.3`: opening connections (every resolved
//! address in turn) and listening.

use std::cell::RefCell;
use std::future::poll_fn;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use wasip3::sockets::ip_name_lookup::resolve_addresses;
use wasip3::sockets::types::TcpSocket;
use wit_bindgen::StreamReader;

use super::errors::{from_code, from_lookup};
use crate::core::Error;
use crate::runtime::{self, Interest, JoinHandle};
use crate::transport::address::{
    SocketAddress, family_of, from_std, in_family, ip_to_std, parse_ip, to_std,
};
use crate::transport::options::{ConnectOptions, DEFAULT_BACKLOG, ServerOptions, SocketOptions};

/// A connected socket, before its connection takes it.
#[derive(Debug)]
pub struct Opened {
    pub socket: TcpSocket,
}

/// The addresses `host` names: an IP literal at once, without a lookup
/// (so it works where the host's policy forbids lookups), else through
/// `wasi:sockets/ip-name-lookup`.
async fn resolve(host: &str) -> Result<Vec<IpAddr>, Error> {
    if let Some(ip) = parse_ip(host) {
        return Ok(vec![ip]);
    }
    if host.is_empty() {
        return Err(Error::invalid_argument("empty host name"));
    }
    let found = resolve_addresses(host.to_owned())
        .await
        .map_err(from_lookup)?;
    Ok(found.into_iter().map(ip_to_std).collect())
}

/// asyncio's `open_connection` without the streams: each address `host`
/// resolves to (in `options.family`) is tried in turn until one connects;
/// the last failure is reported.
pub async fn connect(host: &str, port: u16, options: &ConnectOptions) -> Result<Opened, Error> {
    let mut last_error = None;
    for ip in resolve(host).await? {
        if !in_family(&ip, options.family) {
            continue;
        }
        match attempt(SocketAddr::new(ip, port), options).await {
            Ok(opened) => return Ok(opened),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or(Error::NameUnresolvable))
}

/// Connect one socket to `address`.
async fn attempt(address: SocketAddr, options: &ConnectOptions) -> Result<Opened, Error> {
    let socket = TcpSocket::create(family_of(&address)).map_err(from_code)?;
    options.socket.apply(&socket)?;
    if let Some(local) = options.local_address {
        socket.bind(from_std(local)).map_err(from_code)?;
    }
    socket.connect(from_std(address)).await.map_err(from_code)?;
    Ok(Opened { socket })
}

/// Listen on every address `host` resolves to (both wildcard addresses
/// when there is no host), as asyncio's `create_server` does.
pub async fn bind_server(
    host: Option<&str>,
    port: u16,
    options: &ServerOptions,
) -> Result<Vec<Listener>, Error> {
    let found = match host {
        None => vec![
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        ],
        Some(host) => resolve(host).await?,
    };
    let mut addresses = Vec::new();
    for ip in found {
        if in_family(&ip, options.family) && !addresses.contains(&ip) {
            addresses.push(ip);
        }
    }
    if addresses.is_empty() {
        return Err(Error::NameUnresolvable);
    }
    addresses
        .into_iter()
        .map(|ip| Listener::bind(SocketAddr::new(ip, port), options))
        .collect()
}

/// What a listener's acceptor and its `accept`s share.
#[derive(Default)]
struct Backlog {
    /// A client accepted and not yet taken: the acceptor reads the next
    /// one once it is.
    ready: Option<TcpSocket>,
    /// The stream of clients ended: the listening socket failed.
    ended: bool,
    /// The tasks waiting for a client.
    watchers: Vec<Waker>,
    /// The acceptor, while it waits for the ready client to be taken.
    acceptor: Option<Waker>,
}

/// A listening TCP socket: its clients arrive through `listen`'s
/// `stream<tcp-socket>`, which a task of its own (the *acceptor*) reads,
/// one client ahead of the `accept`s, as asyncio's server accepts
/// whenever the socket is readable. Dropping it stops listening.
pub struct Listener {
    backlog: Rc<RefCell<Backlog>>,
    acceptor: JoinHandle<()>,
    local: SocketAddr,
    accepted: SocketOptions,
    /// Dropped after the acceptor's stream.
    _socket: TcpSocket,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("local", &self.local)
            .finish_non_exhaustive()
    }
}

impl Listener {
    /// Listen on `address`.
    fn bind(address: SocketAddr, options: &ServerOptions) -> Result<Self, Error> {
        let socket = TcpSocket::create(family_of(&address)).map_err(from_code)?;
        socket.bind(from_std(address)).map_err(from_code)?;
        socket
            .set_listen_backlog_size(u64::from(options.backlog.unwrap_or(DEFAULT_BACKLOG).max(1)))
            .map_err(from_code)?;
        let clients = socket.listen().map_err(from_code)?;
        let local = socket.get_local_address().map(to_std).map_err(from_code)?;
        let backlog = Rc::new(RefCell::new(Backlog::default()));
        Ok(Self {
            acceptor: runtime::spawn(accept_clients(Rc::downgrade(&backlog), clients)),
            backlog,
            local,
            accepted: options.socket,
            _socket: socket,
        })
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddress {
        SocketAddress::Ip(self.local)
    }

    /// Accept one waiting client, `None` when none waits.
    pub fn accept(&self) -> Result<Option<Opened>, Error> {
        let mut backlog = self.backlog.borrow_mut();
        let Some(socket) = backlog.ready.take() else {
            return match backlog.ended {
                true => Err(Error::Closed),
                false => Ok(None),
            };
        };
        if let Some(acceptor) = backlog.acceptor.take() {
            acceptor.wake();
        }
        // Settings are hints: a refusal must not lose the client.
        let _ = self.accepted.apply(&socket);
        Ok(Some(Opened { socket }))
    }

    /// Wake the task behind `cx` when a client waits (or the listener
    /// fails).
    pub fn watch(&self, _interest: &mut Interest, cx: &Context<'_>) {
        let mut backlog = self.backlog.borrow_mut();
        if backlog.ready.is_some() || backlog.ended {
            cx.waker().wake_by_ref();
        } else if !backlog.watchers.iter().any(|w| w.will_wake(cx.waker())) {
            backlog.watchers.push(cx.waker().clone());
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.acceptor.cancel();
    }
}

/// The pause after a failed accept before the acceptor reads on (as the
/// WASI 0.2 server's, and asyncio's after `EMFILE`).
const FAILED_ACCEPT_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// The acceptor: reads the stream of clients, one ahead of the accepts,
/// until it ends or the listener goes.
///
/// An accept that failed (out of file descriptors, say) still arrives as a
/// socket, one with no peer: wasmtime-wasi 48 hands one over for every
/// failed attempt, as fast as the guest reads them, and a guest that took
/// them all would run out of handles and trap. The acceptor drops such a
/// socket and pauses instead; the client stays in the listen queue until
/// the accept can succeed, as under WASI 0.2.
async fn accept_clients(backlog: Weak<RefCell<Backlog>>, mut clients: StreamReader<TcpSocket>) {
    loop {
        let room = poll_fn(|cx| {
            let Some(backlog) = backlog.upgrade() else {
                return Poll::Ready(false);
            };
            let mut backlog = backlog.borrow_mut();
            if backlog.ready.is_none() {
                return Poll::Ready(true);
            }
            backlog.acceptor = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
        if !room {
            return;
        }
        let client = clients.next().await;
        if client
            .as_ref()
            .is_some_and(|socket| socket.get_remote_address().is_err())
        {
            runtime::sleep(FAILED_ACCEPT_PAUSE).await;
            continue;
        }
        let Some(backlog) = backlog.upgrade() else {
            return;
        };
        let mut backlog = backlog.borrow_mut();
        let ended = client.is_none();
        backlog.ready = client;
        backlog.ended = ended;
        backlog.watchers.drain(..).for_each(Waker::wake);
        if ended {
            return;
        }
    }
}

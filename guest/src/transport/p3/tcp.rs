//! TCP over `wasi:sockets@0.3`: opening connections (every resolved
//! address in turn) and listening.

use std::cell::RefCell;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use wasip3::sockets::ip_name_lookup::resolve_addresses;
use wasip3::sockets::types::TcpSocket;
use wit_bindgen::StreamReader;

use super::errors::{from_code, from_lookup};
use crate::core::Error;
use crate::runtime::Interest;
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

/// What a listener's stream of clients brings next.
type Accept = Pin<Box<dyn Future<Output = (StreamReader<TcpSocket>, Option<TcpSocket>)>>>;

/// Where a listener's stream of clients stands.
enum Clients {
    /// No read in flight.
    Idle(StreamReader<TcpSocket>),
    /// A read in flight; it gives the stream back with its client.
    Accepting(Accept),
    /// The stream ended: the listening socket failed.
    Ended,
}

/// A listening TCP socket: its clients arrive through `listen`'s
/// `stream<tcp-socket>`.
pub struct Listener {
    clients: RefCell<Clients>,
    /// A client the read in flight brought while nobody asked.
    ready: RefCell<Option<TcpSocket>>,
    local: SocketAddr,
    accepted: SocketOptions,
    /// Dropped after the stream of its clients.
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
        Ok(Self {
            clients: RefCell::new(Clients::Idle(clients)),
            ready: RefCell::new(None),
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
        let socket = match self.ready.borrow_mut().take() {
            Some(socket) => socket,
            None => match self.poll_clients(&Context::from_waker(Waker::noop()))? {
                Poll::Ready(socket) => socket,
                Poll::Pending => return Ok(None),
            },
        };
        // Settings are hints: a refusal must not lose the client.
        let _ = self.accepted.apply(&socket);
        Ok(Some(Opened { socket }))
    }

    /// Wake the task behind `cx` when a client waits.
    pub fn watch(&self, _interest: &mut Interest, cx: &Context<'_>) {
        if self.ready.borrow().is_some() {
            cx.waker().wake_by_ref();
            return;
        }
        if let Ok(Poll::Ready(socket)) = self.poll_clients(cx) {
            *self.ready.borrow_mut() = Some(socket);
            cx.waker().wake_by_ref();
        }
    }

    /// Advance the read of the next client.
    fn poll_clients(&self, cx: &Context<'_>) -> Result<Poll<TcpSocket>, Error> {
        let mut clients = self.clients.borrow_mut();
        let mut accept = match std::mem::replace(&mut *clients, Clients::Ended) {
            Clients::Idle(mut stream) => Box::pin(async move {
                let client = stream.next().await;
                (stream, client)
            }),
            Clients::Accepting(accept) => accept,
            Clients::Ended => return Err(Error::Closed),
        };
        match accept.as_mut().poll(&mut Context::from_waker(cx.waker())) {
            Poll::Ready((stream, Some(socket))) => {
                *clients = Clients::Idle(stream);
                Ok(Poll::Ready(socket))
            }
            Poll::Ready((_, None)) => Err(Error::Closed),
            Poll::Pending => {
                *clients = Clients::Accepting(accept);
                Ok(Poll::Pending)
            }
        }
    }
}

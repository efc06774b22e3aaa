//! TCP over `wasi:sockets`: opening connections (every resolved address in
//! turn, within a deadline) and listening.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::Rc;
use std::task::Poll;

use wasip2::clocks::monotonic_clock::{self, Instant};
use wasip2::io::poll::Pollable;
use wasip2::sockets::network::ErrorCode;
use wasip2::sockets::tcp::TcpSocket;
use wasip2::sockets::tcp_create_socket::create_tcp_socket;

use super::address::{family_of, from_std, in_family, to_std};
use super::errors::from_code;
use super::listener::Listener;
use super::options::{ConnectOptions, DEFAULT_BACKLOG, ServerOptions, SocketOptions};
use super::resolve::{Resolving, network};
use super::socket::{Opened, Socket};
use crate::core::Error;
use crate::runtime::deadline_after;

#[derive(Debug)]
enum Step {
    /// Looking up the host name.
    Resolving(Resolving),
    /// Waiting for one address to connect.
    Connecting(Attempt),
    /// Between attempts: the next candidate address is tried.
    Idle,
    /// Finished (connected or failed); the result was handed out.
    Done,
}

/// One address being connected to. Fields drop in order: the pollable
/// before the socket it watches.
#[derive(Debug)]
struct Attempt {
    ready: Rc<Pollable>,
    socket: TcpSocket,
}

/// A connection being opened, advanced without blocking: the name is
/// resolved, then each address tried in turn until one connects.
#[derive(Debug)]
pub struct Connecting {
    port: u16,
    options: ConnectOptions,
    deadline: Option<Instant>,
    candidates: VecDeque<IpAddr>,
    step: Step,
    last_error: Option<Error>,
    /// A pollable was handed out (`subscribe`): finished steps are kept
    /// until this goes, since `wasi:io` forbids dropping a resource before
    /// its children.
    lent: bool,
    kept: Vec<Step>,
}

impl Connecting {
    /// Start opening a connection to `host`:`port`.
    pub fn start(host: &str, port: u16, options: ConnectOptions) -> Result<Self, Error> {
        let deadline = options.timeout.map(deadline_after);
        let resolving = Resolving::start(host)?;
        Ok(Self {
            port,
            options,
            deadline,
            candidates: VecDeque::new(),
            step: Step::Resolving(resolving),
            last_error: None,
            lent: false,
            kept: Vec::new(),
        })
    }

    /// What to wait on while [`poll`](Self::poll) is pending.
    pub fn pollable(&self) -> Option<&Rc<Pollable>> {
        match &self.step {
            Step::Resolving(resolving) => resolving.pollable(),
            Step::Connecting(attempt) => Some(&attempt.ready),
            Step::Idle | Step::Done => None,
        }
    }

    /// A new pollable for what [`poll`](Self::poll) waits on (for
    /// `subscribe`), `None` when it would not wait.
    pub fn subscribe(&mut self) -> Option<Pollable> {
        let pollable = match &self.step {
            Step::Resolving(resolving) => resolving.subscribe(),
            Step::Connecting(attempt) => Some(attempt.socket.subscribe()),
            Step::Idle | Step::Done => None,
        };
        self.lent |= pollable.is_some();
        pollable
    }

    /// Advance as far as possible without waiting.
    pub fn poll(&mut self) -> Poll<Result<Opened, Error>> {
        if matches!(self.step, Step::Done) {
            return Poll::Ready(Err(Error::invalid_state(
                "the connection attempt has finished",
            )));
        }
        let result = self.advance();
        if result.is_ready() {
            let finished = std::mem::replace(&mut self.step, Step::Done);
            self.retire(finished);
        }
        result
    }

    /// Let a finished step go, or keep it while pollables of it may be out.
    fn retire(&mut self, step: Step) {
        if self.lent && matches!(step, Step::Resolving(_) | Step::Connecting(_)) {
            self.kept.push(step);
        }
    }

    fn advance(&mut self) -> Poll<Result<Opened, Error>> {
        loop {
            if let Some(deadline) = self.deadline
                && monotonic_clock::now() >= deadline
            {
                return Poll::Ready(Err(Error::TimedOut));
            }
            match std::mem::replace(&mut self.step, Step::Idle) {
                Step::Resolving(mut resolving) => match resolving.poll_next() {
                    Poll::Ready(Ok(Some(ip))) => {
                        if in_family(&ip, self.options.family) {
                            self.candidates.push_back(ip);
                        }
                        self.step = Step::Resolving(resolving);
                    }
                    Poll::Ready(Ok(None)) => self.retire(Step::Resolving(resolving)),
                    Poll::Ready(Err(error)) => {
                        self.retire(Step::Resolving(resolving));
                        self.last_error = Some(error);
                    }
                    Poll::Pending => {
                        self.step = Step::Resolving(resolving);
                        return Poll::Pending;
                    }
                },
                Step::Connecting(attempt) => match attempt.socket.finish_connect() {
                    Ok((input, output)) => {
                        let Attempt { ready, socket } = attempt;
                        drop(ready);
                        let mut opened = Opened::new(Socket::Tcp(socket), input, output);
                        // A pollable of the socket may be out.
                        opened.lent = self.lent;
                        return Poll::Ready(Ok(opened));
                    }
                    Err(ErrorCode::WouldBlock) => {
                        self.step = Step::Connecting(attempt);
                        return Poll::Pending;
                    }
                    Err(code) => {
                        self.retire(Step::Connecting(attempt));
                        self.last_error = Some(from_code(code));
                    }
                },
                Step::Idle => match self.candidates.pop_front() {
                    Some(ip) => match self.begin(SocketAddr::new(ip, self.port)) {
                        Ok(step) => self.step = step,
                        Err(error) => self.last_error = Some(error),
                    },
                    None => {
                        let error = self.last_error.take().unwrap_or(Error::NameUnresolvable);
                        return Poll::Ready(Err(error));
                    }
                },
                Step::Done => unreachable!("poll checks for Done"),
            }
        }
    }

    fn begin(&self, address: SocketAddr) -> Result<Step, Error> {
        let socket = create_tcp_socket(family_of(&address)).map_err(from_code)?;
        self.options.socket.apply(&socket)?;
        let network = network();
        if let Some(local) = self.options.local_address {
            socket
                .start_bind(&network, from_std(local))
                .map_err(from_code)?;
            socket.finish_bind().map_err(from_code)?;
        }
        socket
            .start_connect(&network, from_std(address))
            .map_err(from_code)?;
        Ok(Step::Connecting(Attempt {
            ready: Rc::new(socket.subscribe()),
            socket,
        }))
    }
}

/// A listening TCP socket.
#[derive(Debug)]
pub struct TcpListener {
    /// Ready when a client waits; drops before the socket.
    ready: Rc<Pollable>,
    socket: TcpSocket,
    local: SocketAddr,
    accepted: SocketOptions,
}

impl TcpListener {
    /// Listen on `address`.
    pub fn bind(address: SocketAddr, options: &ServerOptions) -> Result<Self, Error> {
        let socket = create_tcp_socket(family_of(&address)).map_err(from_code)?;
        let network = network();
        socket
            .start_bind(&network, from_std(address))
            .map_err(from_code)?;
        socket.finish_bind().map_err(from_code)?;
        socket
            .set_listen_backlog_size(u64::from(options.backlog.unwrap_or(DEFAULT_BACKLOG).max(1)))
            .map_err(from_code)?;
        socket.start_listen().map_err(from_code)?;
        socket.finish_listen().map_err(from_code)?;
        let local = socket.local_address().map(to_std).map_err(from_code)?;
        Ok(Self {
            ready: Rc::new(socket.subscribe()),
            socket,
            local,
            accepted: options.socket,
        })
    }

    /// The address the socket listens on (with the chosen port).
    pub fn local_address(&self) -> SocketAddr {
        self.local
    }

    /// Ready when [`accept`](Self::accept) would not block.
    pub fn pollable(&self) -> &Rc<Pollable> {
        &self.ready
    }

    /// A new pollable, ready when a client waits.
    pub fn subscribe(&self) -> Pollable {
        self.socket.subscribe()
    }

    /// Accept one waiting client, `None` when none waits.
    pub fn accept(&self) -> Result<Option<Opened>, Error> {
        loop {
            match self.socket.accept() {
                Ok((socket, input, output)) => {
                    // Settings are hints: a refusal must not lose the client.
                    let _ = self.accepted.apply(&socket);
                    return Ok(Some(Opened::new(Socket::Tcp(socket), input, output)));
                }
                Err(ErrorCode::WouldBlock) => return Ok(None),
                // The client left before we got to it: take the next one.
                Err(ErrorCode::ConnectionAborted | ErrorCode::ConnectionReset) => continue,
                Err(code) => return Err(from_code(code)),
            }
        }
    }
}

/// Listen on every address `host` resolves to (both wildcard addresses
/// when there is no host), as asyncio's `create_server` does.
pub async fn bind_server(
    host: Option<&str>,
    port: u16,
    options: &ServerOptions,
) -> Result<Vec<Listener>, Error> {
    let mut addresses = Vec::new();
    match host {
        None => addresses.extend([
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        ]),
        Some(host) => {
            let mut resolving = Resolving::start(host)?;
            let mut interest = crate::runtime::Interest::default();
            std::future::poll_fn(|cx| {
                loop {
                    match resolving.poll_next() {
                        Poll::Ready(Ok(Some(ip))) => {
                            if !addresses.contains(&ip) {
                                addresses.push(ip);
                            }
                        }
                        Poll::Ready(Ok(None)) => return Poll::Ready(Ok(())),
                        Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                        Poll::Pending => {
                            if let Some(pollable) = resolving.pollable() {
                                interest.wait_for(pollable, cx);
                            }
                            return Poll::Pending;
                        }
                    }
                }
            })
            .await?;
        }
    }
    addresses.retain(|ip| in_family(ip, options.family));
    if addresses.is_empty() {
        return Err(Error::NameUnresolvable);
    }
    addresses
        .into_iter()
        .map(|ip| TcpListener::bind(SocketAddr::new(ip, port), options).map(Listener::Tcp))
        .collect()
}

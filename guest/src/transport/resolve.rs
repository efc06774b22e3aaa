//! Host names to IP addresses through `wasi:sockets/ip-name-lookup`.

use std::cell::OnceCell;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::rc::Rc;
use std::task::Poll;

use wasip2::io::poll::Pollable;
use wasip2::sockets::instance_network::instance_network;
use wasip2::sockets::ip_name_lookup::{ResolveAddressStream, resolve_addresses};
use wasip2::sockets::network::{ErrorCode, Network};

use super::address::{ip_to_std, parse_ip};
use super::errors::from_code;
use crate::core::Error;

thread_local! {
    static NETWORK: OnceCell<Rc<Network>> = const { OnceCell::new() };
}

/// The component's network handle, fetched once.
pub fn network() -> Rc<Network> {
    NETWORK.with(|cell| cell.get_or_init(|| Rc::new(instance_network())).clone())
}

/// A name being resolved. IP literals resolve at once, without a lookup
/// (so they work even where the host's policy forbids name lookups).
#[derive(Debug)]
pub struct Resolving {
    /// Drops before the stream it watches.
    ready: Option<Rc<Pollable>>,
    stream: Option<ResolveAddressStream>,
    found: VecDeque<IpAddr>,
}

impl Resolving {
    /// Start resolving `host`.
    pub fn start(host: &str) -> Result<Self, Error> {
        if let Some(ip) = parse_ip(host) {
            return Ok(Self {
                ready: None,
                stream: None,
                found: VecDeque::from([ip]),
            });
        }
        if host.is_empty() {
            return Err(Error::invalid_argument("empty host name"));
        }
        let stream = resolve_addresses(&network(), host).map_err(from_code)?;
        Ok(Self {
            ready: Some(Rc::new(stream.subscribe())),
            stream: Some(stream),
            found: VecDeque::new(),
        })
    }

    /// The next address, `None` once all are known, or `Pending` while the
    /// lookup runs (wait on [`pollable`](Self::pollable)).
    pub fn poll_next(&mut self) -> Poll<Result<Option<IpAddr>, Error>> {
        if let Some(ip) = self.found.pop_front() {
            return Poll::Ready(Ok(Some(ip)));
        }
        let Some(stream) = &self.stream else {
            return Poll::Ready(Ok(None));
        };
        match stream.resolve_next_address() {
            Ok(Some(ip)) => Poll::Ready(Ok(Some(ip_to_std(ip)))),
            Ok(None) => {
                self.ready = None;
                self.stream = None;
                Poll::Ready(Ok(None))
            }
            Err(ErrorCode::WouldBlock) => Poll::Pending,
            Err(code) => {
                self.ready = None;
                self.stream = None;
                Poll::Ready(Err(from_code(code)))
            }
        }
    }

    /// A new pollable for the lookup, `None` once it is over.
    pub fn subscribe(&self) -> Option<Pollable> {
        self.stream.as_ref().map(ResolveAddressStream::subscribe)
    }

    /// What to wait on while [`poll_next`](Self::poll_next) is pending.
    pub fn pollable(&self) -> Option<&Rc<Pollable>> {
        self.ready.as_ref()
    }
}

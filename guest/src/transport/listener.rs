//! A listening socket of either kind, as a server sees it.

use std::rc::Rc;
use std::task::Context;

use wasip2::io::poll::Pollable;

use super::address::SocketAddress;
use super::socket::Opened;
use super::tcp::TcpListener;
use crate::core::Error;
use crate::runtime::Interest;

/// One listening socket of a server.
#[derive(Debug)]
pub enum Listener {
    Tcp(TcpListener),
    #[cfg(feature = "unix")]
    Unix(super::unix::UnixListener),
}

impl Listener {
    /// Where it listens.
    pub fn address(&self) -> SocketAddress {
        match self {
            Self::Tcp(listener) => SocketAddress::Ip(listener.local_address()),
            #[cfg(feature = "unix")]
            Self::Unix(listener) => SocketAddress::Unix(listener.path().to_owned()),
        }
    }

    /// Ready when a client waits.
    pub fn pollable(&self) -> &Rc<Pollable> {
        match self {
            Self::Tcp(listener) => listener.pollable(),
            #[cfg(feature = "unix")]
            Self::Unix(listener) => listener.pollable(),
        }
    }

    /// Wake the task behind `cx` when a client waits.
    pub fn watch(&self, interest: &mut Interest, cx: &Context<'_>) {
        interest.wait_for(self.pollable(), cx);
    }

    /// A new pollable, ready when a client waits (for `subscribe`).
    pub fn subscribe(&self) -> Pollable {
        match self {
            Self::Tcp(listener) => listener.subscribe(),
            #[cfg(feature = "unix")]
            Self::Unix(listener) => listener.subscribe(),
        }
    }

    /// Accept one waiting client, `None` when none waits.
    pub fn accept(&self) -> Result<Option<Opened>, Error> {
        match self {
            Self::Tcp(listener) => listener.accept(),
            #[cfg(feature = "unix")]
            Self::Unix(listener) => Ok(listener.accept()?.map(Opened::unix)),
        }
    }
}

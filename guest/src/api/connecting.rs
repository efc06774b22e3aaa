//! [`Connecting`]: a connection being opened without blocking, for callers
//! with their own poll loop (WASI 0.2; under WASI 0.3 the connect is one
//! `async` call).

use std::future::poll_fn;
use std::rc::Rc;
use std::task::Poll;

use wasip2::clocks::monotonic_clock;
use wasip2::io::poll::Pollable;

use super::connect::pair;
use super::{StreamReader, StreamWriter, nonblocking};
use crate::core::Error;
use crate::runtime::Interest;
use crate::transport::{self, ConnectOptions, Opened, StreamLimits};

/// A connection being opened: the name resolved, then each address tried
/// in turn until one connects, advanced without blocking (for callers
/// with their own poll loop) or awaited.
///
/// With TLS in the options, the TLS handshake follows the connect, within
/// the same timeout.
#[derive(Debug)]
pub struct Connecting {
    inner: transport::Connecting,
    limits: StreamLimits,
    #[cfg(feature = "tls")]
    tls: Tls,
}

/// Where a connection's TLS stands while it is being opened.
#[cfg(feature = "tls")]
#[derive(Debug)]
enum Tls {
    Off,
    /// To start once connected, with this server name.
    Pending(String),
    Handshaking(transport::Handshaking),
}

impl Connecting {
    /// Start opening a connection to `host`:`port`.
    pub fn start(host: &str, port: u16, options: ConnectOptions) -> Result<Self, Error> {
        let limits = options.limits;
        #[cfg(feature = "tls")]
        let tls = match &options.tls {
            Some(tls) => Tls::Pending(tls.server_name.as_deref().unwrap_or(host).to_owned()),
            None => Tls::Off,
        };
        Ok(Self {
            inner: transport::Connecting::start(host, port, options)?,
            limits,
            #[cfg(feature = "tls")]
            tls,
        })
    }

    /// The reader and writer once connected, or [`Error::WouldBlock`].
    /// After it has answered anything else, it answers `invalid-state`.
    pub fn try_finish(&mut self) -> Result<(StreamReader, StreamWriter), Error> {
        nonblocking::answer(|| self.poll().map(|opened| pair(opened?, &self.limits)))
    }

    /// Wait until connected.
    pub async fn finish(mut self) -> Result<(StreamReader, StreamWriter), Error> {
        let mut interest = Interest::default();
        let opened = poll_fn(|cx| match self.poll() {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => {
                match self.pollable() {
                    Some(pollable) => interest.wait_for(pollable, cx),
                    None => cx.waker().wake_by_ref(),
                }
                Poll::Pending
            }
        })
        .await?;
        pair(opened, &self.limits)
    }

    /// A pollable that is ready when [`try_finish`](Self::try_finish) can
    /// make progress.
    pub fn subscribe(&mut self) -> Pollable {
        nonblocking::before_waiting();
        #[cfg(feature = "tls")]
        if let Tls::Handshaking(handshake) = &self.tls {
            return handshake.subscribe();
        }
        self.inner
            .subscribe()
            .unwrap_or_else(|| monotonic_clock::subscribe_duration(0))
    }

    /// Advance the connect, then the TLS handshake, without waiting.
    fn poll(&mut self) -> Poll<Result<Opened, Error>> {
        #[cfg(feature = "tls")]
        if let Tls::Handshaking(handshake) = &mut self.tls {
            return handshake.poll();
        }
        let opened = match self.inner.poll() {
            Poll::Ready(Ok(opened)) => opened,
            other => return other,
        };
        #[cfg(feature = "tls")]
        if let Tls::Pending(server_name) = &self.tls {
            self.tls = Tls::Handshaking(transport::Handshaking::start(opened, server_name));
            return self.poll();
        }
        Poll::Ready(Ok(opened))
    }

    /// The pollable the current step waits on.
    fn pollable(&self) -> Option<&Rc<Pollable>> {
        #[cfg(feature = "tls")]
        if let Tls::Handshaking(handshake) = &self.tls {
            return Some(handshake.pollable());
        }
        self.inner.pollable()
    }
}

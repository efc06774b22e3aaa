//! TLS over `wasi:tls@0.2.0-draft`: a client handshake on a connected
//! socket's streams, after which the connection reads and writes the
//! streams the handshake returns. The host does the TLS (and decides which
//! certificates it trusts); the socket underneath stays the guest's, so
//! the network policy has already vetted the address.

use std::rc::Rc;
use std::task::Poll;

use wasip2::io::poll::Pollable;

use super::errors::from_tls;
use super::socket::{Opened, Socket};
use crate::core::Error;

pub(crate) mod bindings {
    wit_bindgen::generate!({
        inline: "
            package wasio:tls-import;
            world tls-import {
                import wasi:tls/types@0.2.0-draft;
            }
        ",
        path: "../wit",
        features: ["tls"],
        with: {
            "wasi:io/error@0.2.12": wasip2::io::error,
            "wasi:io/poll@0.2.12": wasip2::io::poll,
            "wasi:io/streams@0.2.12": wasip2::io::streams,
            "wasi:tls/types@0.2.0-draft": generate,
        },
    });
}

use bindings::wasi::tls::types::{ClientConnection, ClientHandshake, FutureClientStreams};

/// The TLS side of an open connection: it owns the streams the handshake
/// returned (they are its children) and sends `close_notify`.
#[derive(Debug)]
pub struct Session {
    connection: ClientConnection,
    closing: bool,
}

impl Session {
    /// Whether `close_notify` has been asked for.
    pub fn is_closing(&self) -> bool {
        self.closing
    }

    /// Start sending `close_notify` (once); the output stream is ready
    /// again when it has gone out.
    pub fn close_output(&mut self) {
        if !self.closing {
            self.connection.close_output();
            self.closing = true;
        }
    }
}

/// A client handshake under way on a socket's streams. Fields drop in
/// order: the pollable before the future it watches, the socket last.
#[derive(Debug)]
pub struct Handshaking {
    ready: Rc<Pollable>,
    future: FutureClientStreams,
    socket: Option<Socket>,
    lent: bool,
}

impl Handshaking {
    /// Hand `opened`'s streams to the host's TLS for a handshake with
    /// `server_name` (the name the certificate must carry). The streams
    /// must have no pollables left: they move to the host.
    pub fn start(opened: Opened, server_name: &str) -> Self {
        let Opened {
            input,
            output,
            socket,
            lent,
            ..
        } = opened;
        let handshake = ClientHandshake::new(server_name, input, output);
        let future = ClientHandshake::finish(handshake);
        Self {
            ready: Rc::new(future.subscribe()),
            future,
            socket: Some(socket),
            lent,
        }
    }

    /// Ready when [`poll`](Self::poll) can make progress.
    pub fn pollable(&self) -> &Rc<Pollable> {
        &self.ready
    }

    /// A new pollable on the handshake, for a consumer's own poll loop.
    pub fn subscribe(&self) -> Pollable {
        self.future.subscribe()
    }

    /// The socket with the TLS streams once the handshake is done, or why
    /// it failed. On failure the socket goes: its streams went to the
    /// handshake and cannot be had back.
    pub fn poll(&mut self) -> Poll<Result<Opened, Error>> {
        let outcome = match self.future.get() {
            None => return Poll::Pending,
            Some(Ok(Ok(streams))) => Ok(streams),
            Some(Ok(Err(error))) => Err(from_tls(&error.to_debug_string())),
            Some(Err(())) => Err(Error::invalid_state("the TLS handshake has finished")),
        };
        let Some(socket) = self.socket.take() else {
            return Poll::Ready(Err(Error::invalid_state("the TLS handshake has finished")));
        };
        Poll::Ready(match outcome {
            Ok((connection, input, output)) => Ok(Opened {
                input,
                output,
                tls: Some(Session {
                    connection,
                    closing: false,
                }),
                socket,
                lent: self.lent,
            }),
            Err(error) => {
                socket.shutdown_both();
                Err(error)
            }
        })
    }
}

//! Unix-domain sockets through the host's `wasio:streams/unix` import.

use std::rc::Rc;

use wasip2::io::poll::Pollable;
use wasip2::io::streams::{InputStream, OutputStream};
use wasip2::sockets::network::ErrorCode;

use super::errors::from_code;
use crate::core::Error;

pub(crate) mod bindings {
    wit_bindgen::generate!({
        inline: "
            package wasio:unix-import;
            world unix-import {
                import wasio:streams/unix@0.1.0;
            }
        ",
        path: "../wit",
        with: {
            "wasi:io/error@0.2.12": wasip2::io::error,
            "wasi:io/poll@0.2.12": wasip2::io::poll,
            "wasi:io/streams@0.2.12": wasip2::io::streams,
            "wasi:sockets/network@0.2.12": wasip2::sockets::network,
            "wasi:sockets/tcp@0.2.12": wasip2::sockets::tcp,
            "wasi:clocks/monotonic-clock@0.2.12": wasip2::clocks::monotonic_clock,
            "wasio:streams/unix@0.1.0": generate,
        },
    });
}

use bindings::wasio::streams::unix;
pub use bindings::wasio::streams::unix::UnixSocket;

/// A connected Unix socket and its streams.
pub type Connected = (UnixSocket, InputStream, OutputStream);

/// Connect to the Unix socket at `path`.
pub fn connect(path: &str) -> Result<Connected, Error> {
    unix::connect(path).map_err(from_code)
}

/// A listening Unix socket; its file goes when it is dropped.
#[derive(Debug)]
pub struct UnixListener {
    /// Ready when a client waits; drops before the listener.
    ready: Rc<Pollable>,
    listener: unix::UnixListener,
    path: String,
}

impl UnixListener {
    /// Listen on `path`.
    pub fn bind(path: &str, backlog: u32) -> Result<Self, Error> {
        let listener = unix::listen(path, backlog).map_err(from_code)?;
        Ok(Self {
            ready: Rc::new(listener.subscribe()),
            path: listener.local_path(),
            listener,
        })
    }

    /// The path listened on.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Ready when [`accept`](Self::accept) would not block.
    pub fn pollable(&self) -> &Rc<Pollable> {
        &self.ready
    }

    /// A new pollable, ready when a client waits.
    pub fn subscribe(&self) -> Pollable {
        self.listener.subscribe()
    }

    /// Accept one waiting client, `None` when none waits.
    pub fn accept(&self) -> Result<Option<Connected>, Error> {
        match self.listener.accept() {
            Ok(connected) => Ok(Some(connected)),
            Err(ErrorCode::WouldBlock) => Ok(None),
            Err(code) => Err(from_code(code)),
        }
    }
}

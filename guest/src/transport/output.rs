//! The sending half of a socket: its `wasi:io` output stream, the pollable
//! that tells when it takes more, and the flush that must complete before
//! end of file is sent.

use std::rc::Rc;

use wasip2::io::poll::Pollable;
use wasip2::io::streams::{OutputStream, StreamError};

use super::errors::from_stream;
use crate::core::Error;

/// Where the flush before end of file stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flush {
    NotAsked,
    /// Asked for; complete once the stream takes bytes again.
    Asked,
}

/// An output stream and its pollable. Fields drop in order: the pollable
/// before the stream it watches.
#[derive(Debug)]
pub struct Output {
    ready: Rc<Pollable>,
    stream: OutputStream,
    flush: Flush,
}

impl Output {
    pub fn new(stream: OutputStream) -> Self {
        Self {
            ready: Rc::new(stream.subscribe()),
            stream,
            flush: Flush::NotAsked,
        }
    }

    /// Hand the socket as much of `bytes` as it takes now; how much that
    /// was (0: none until [`ready`](Self::ready)).
    pub fn send(&self, bytes: &[u8]) -> Result<usize, Error> {
        let granted = self.stream.check_write().map_err(from_stream)?;
        let n = usize::try_from(granted)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        if n > 0 {
            self.stream.write(&bytes[..n]).map_err(from_stream)?;
        }
        Ok(n)
    }

    /// Whether everything written has gone out, asking for a flush the
    /// first time: end of file must not overtake the bytes before it.
    pub fn flushed(&mut self) -> Result<bool, Error> {
        if self.flush == Flush::NotAsked {
            self.stream.flush().map_err(from_stream)?;
            self.flush = Flush::Asked;
        }
        let granted = self.stream.check_write().map_err(from_stream)?;
        Ok(granted > 0)
    }

    /// Whether the stream has finished closing (after a TLS session's
    /// `close-output`: `close_notify` has gone out).
    pub fn closed(&self) -> Result<bool, Error> {
        match self.stream.check_write() {
            Ok(0) => Ok(false),
            Ok(_) | Err(StreamError::Closed) => Ok(true),
            Err(error) => Err(from_stream(error)),
        }
    }

    /// Whether a write is still in flight (the stream takes nothing now).
    pub fn is_busy(&self) -> bool {
        matches!(self.stream.check_write(), Ok(0))
    }

    /// Ready when the stream takes more bytes (or failed).
    pub fn ready(&self) -> &Rc<Pollable> {
        &self.ready
    }

    /// The stream, its pollable dropped (which nothing else may hold).
    #[cfg(feature = "tls")]
    pub fn into_stream(self) -> OutputStream {
        drop(self.ready);
        self.stream
    }

    /// A new pollable on the stream, for a consumer's own poll loop.
    pub fn subscribe(&self) -> Pollable {
        self.stream.subscribe()
    }
}

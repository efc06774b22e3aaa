//! The receiving half of a socket: its `wasi:io` input stream and the
//! pollable that tells when it has something.

use std::rc::Rc;

use wasip2::io::poll::Pollable;
use wasip2::io::streams::{InputStream, StreamError};

use super::errors::from_stream;
use crate::core::Error;

/// What one read found.
#[derive(Debug)]
pub enum Read {
    Bytes(Vec<u8>),
    /// Nothing yet: wait for [`Input::ready`].
    WouldBlock,
    /// The peer sent end of file.
    Eof,
    Failed(Error),
}

/// An input stream and its pollable. Fields drop in order: the pollable
/// before the stream it watches.
#[derive(Debug)]
pub struct Input {
    ready: Rc<Pollable>,
    stream: InputStream,
}

impl Input {
    pub fn new(stream: InputStream) -> Self {
        Self {
            ready: Rc::new(stream.subscribe()),
            stream,
        }
    }

    /// Read at most `size` bytes without waiting.
    pub fn read(&self, size: usize) -> Read {
        match self.stream.read(size as u64) {
            Ok(bytes) if bytes.is_empty() => Read::WouldBlock,
            Ok(bytes) => Read::Bytes(bytes),
            Err(StreamError::Closed) => Read::Eof,
            Err(error) => Read::Failed(from_stream(error)),
        }
    }

    /// Ready when a read would find something.
    pub fn ready(&self) -> &Rc<Pollable> {
        &self.ready
    }

    /// The stream, its pollable dropped (which nothing else may hold).
    #[cfg(feature = "tls")]
    pub fn into_stream(self) -> InputStream {
        drop(self.ready);
        self.stream
    }

    /// A new pollable on the stream, for a consumer's own poll loop.
    pub fn subscribe(&self) -> Pollable {
        self.stream.subscribe()
    }
}

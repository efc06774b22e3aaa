//! The receiving half of a Unix socket as a `wasi:io` input stream.
//!
//! As wasmtime-wasi's TCP input stream does, `read` reads the socket
//! itself, without waiting, when the guest asks, and the pollable is the
//! socket's readiness: no background task reading ahead into a buffer and
//! handing chunks over a channel, which is what the generic
//! `AsyncReadStream` adapter costs per chunk.

use std::io;

use bytes::{Bytes, BytesMut};
use tokio::net::unix::OwnedReadHalf;
use wasmtime_wasi::p2::{InputStream, Pollable, StreamError, StreamResult};

/// The most one `read` takes, as wasmtime-wasi's TCP stream (and the
/// buffer it allocates for it).
const MAX_READ: usize = 64 * 1024;

/// The input stream of a Unix connection; `None` once it has ended.
#[derive(Debug)]
pub(super) struct UnixInputStream(Option<OwnedReadHalf>);

impl UnixInputStream {
    pub(super) fn new(half: OwnedReadHalf) -> Self {
        Self(Some(half))
    }
}

#[wasmtime_wasi::async_trait]
impl InputStream for UnixInputStream {
    /// What the socket holds now, up to `size` bytes: empty when nothing
    /// has arrived, `Closed` at end of file (for good).
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        let Some(half) = &self.0 else {
            return Err(StreamError::Closed);
        };
        if size == 0 {
            return Ok(Bytes::new());
        }
        let mut buf = BytesMut::with_capacity(size.min(MAX_READ));
        match half.try_read_buf(&mut buf) {
            Ok(0) => {
                self.0 = None;
                Err(StreamError::Closed)
            }
            Ok(_) => Ok(buf.freeze()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Bytes::new()),
            Err(e) => {
                self.0 = None;
                Err(StreamError::LastOperationFailed(e.into()))
            }
        }
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for UnixInputStream {
    /// Ready when a read would find something, end of file or an error.
    async fn ready(&mut self) {
        if let Some(half) = &self.0 {
            // An error is ready too: the next read reports it.
            let _ = half.readable().await;
        }
    }
}

//! asyncio's `StreamWriter` and transport write buffer, without I/O.
//!
//! `write` only buffers; the transport takes bytes with
//! [`WriteBuffer::pending`] and reports what it sent with
//! [`WriteBuffer::consume`]. Flow control follows asyncio's transports:
//! writing is *paused* once more than the high-water mark is buffered and
//! resumes at or below the low-water mark, and `drain` waits while paused.
//! `write_eof` and `close` take effect once the buffer has been sent.

use std::task::Poll;

use super::buffer::ByteBuffer;
use super::error::Error;

/// asyncio's default high-water mark: 64 KiB.
pub const DEFAULT_HIGH_WATER: usize = 64 * 1024;

/// The write buffer of one stream, with its flow-control and closing state.
#[derive(Debug)]
pub struct WriteBuffer {
    buffer: ByteBuffer,
    high: usize,
    low: usize,
    paused: bool,
    eof_requested: bool,
    shut_down: bool,
    closing: bool,
    closed: bool,
    lost: Option<Error>,
}

impl Default for WriteBuffer {
    fn default() -> Self {
        Self {
            buffer: ByteBuffer::new(),
            high: DEFAULT_HIGH_WATER,
            low: DEFAULT_HIGH_WATER / 4,
            paused: false,
            eof_requested: false,
            shut_down: false,
            closing: false,
            closed: false,
            lost: None,
        }
    }
}

impl WriteBuffer {
    /// A buffer with asyncio's defaults (64 KiB high, 16 KiB low).
    pub fn new() -> Self {
        Self::default()
    }

    /// asyncio's `set_write_buffer_limits`: a missing `high` is four times
    /// `low` (or 64 KiB), a missing `low` a quarter of `high`; `high` must
    /// not be below `low`.
    pub fn set_write_buffer_limits(
        &mut self,
        high: Option<usize>,
        low: Option<usize>,
    ) -> Result<(), Error> {
        let high =
            high.unwrap_or_else(|| low.map_or(DEFAULT_HIGH_WATER, |low| low.saturating_mul(4)));
        let low = low.unwrap_or(high / 4);
        if high < low {
            return Err(Error::invalid_argument("high must be >= low must be >= 0"));
        }
        self.high = high;
        self.low = low;
        self.maybe_pause();
        Ok(())
    }

    /// The (low, high) water marks.
    pub fn write_buffer_limits(&self) -> (usize, usize) {
        (self.low, self.high)
    }

    /// Bytes buffered and not yet handed to the transport.
    pub fn write_buffer_size(&self) -> usize {
        self.buffer.len()
    }

    /// Bytes of memory the buffer holds.
    pub fn capacity(&self) -> usize {
        self.buffer.capacity()
    }

    /// Buffer `data` for sending. Never waits; call `drain` to respect
    /// flow control.
    pub fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        self.check_writable()?;
        self.buffer.extend(data);
        self.maybe_pause();
        Ok(())
    }

    /// Buffer `data` for sending, adopting the vector when nothing else is
    /// buffered.
    pub fn write_owned(&mut self, data: Vec<u8>) -> Result<(), Error> {
        self.check_writable()?;
        self.buffer.extend_owned(data);
        self.maybe_pause();
        Ok(())
    }

    /// Half-close: end of file is sent once the buffer has been written.
    /// Writing afterwards is an error; calling it again does nothing.
    pub fn write_eof(&mut self) -> Result<(), Error> {
        if self.closing || self.eof_requested {
            return Ok(());
        }
        if let Some(error) = &self.lost {
            return Err(error.clone());
        }
        self.eof_requested = true;
        Ok(())
    }

    /// Whether `write_eof` has been called.
    pub fn eof_requested(&self) -> bool {
        self.eof_requested
    }

    /// Start closing: the buffer is still sent, then the transport shuts
    /// down and releases the socket. Idempotent.
    pub fn close(&mut self) {
        self.closing = true;
    }

    /// asyncio's `is_closing`: `close` was called or the connection is lost.
    pub fn is_closing(&self) -> bool {
        self.closing || self.lost.is_some()
    }

    /// Whether the transport has released the socket.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// asyncio's `drain`: ready unless paused (more than the high-water
    /// mark was buffered and it has not yet dropped to the low-water mark);
    /// an error once the connection is lost or the writer closed.
    pub fn drain(&self) -> Poll<Result<(), Error>> {
        if let Some(error) = &self.lost {
            return Poll::Ready(Err(error.clone()));
        }
        if self.closing {
            return Poll::Ready(Err(Error::Closed));
        }
        if self.paused {
            Poll::Pending
        } else {
            Poll::Ready(Ok(()))
        }
    }

    /// asyncio's `wait_closed`: ready once the socket has been released,
    /// with the error the connection was lost with, if any.
    pub fn wait_closed(&self) -> Poll<Result<(), Error>> {
        if !self.closed {
            return Poll::Pending;
        }
        match &self.lost {
            Some(error) if *error != Error::Closed => Poll::Ready(Err(error.clone())),
            _ => Poll::Ready(Ok(())),
        }
    }

    // The transport's side.

    /// The bytes waiting to be sent, oldest first.
    pub fn pending(&self) -> &[u8] {
        self.buffer.as_slice()
    }

    /// Take up to `n` pending bytes to send, as an owned vector (copied
    /// unless they are the whole buffer).
    pub fn take_pending(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.buffer.len());
        let bytes = self.buffer.take(n);
        self.maybe_resume();
        bytes
    }

    /// Record that the transport sent the first `n` pending bytes.
    pub fn consume(&mut self, n: usize) {
        self.buffer.consume(n);
        self.maybe_resume();
    }

    /// Whether the transport should shut down the sending half now:
    /// `write_eof` or `close` was called and everything has been sent.
    pub fn wants_shutdown(&self) -> bool {
        (self.eof_requested || self.closing)
            && !self.shut_down
            && self.lost.is_none()
            && self.buffer.is_empty()
    }

    /// Record that the sending half has been shut down.
    pub fn shutdown_done(&mut self) {
        self.shut_down = true;
    }

    /// Whether the sending half has been shut down.
    pub fn is_shut_down(&self) -> bool {
        self.shut_down
    }

    /// Whether the transport may release the socket: `close` was called
    /// and there is nothing left to send (or the connection is lost).
    pub fn wants_release(&self) -> bool {
        self.closing && !self.closed && (self.shut_down || self.lost.is_some())
    }

    /// The connection failed or was closed under the writer: unsent bytes
    /// are dropped, waiting drains fail with `error`.
    pub fn connection_lost(&mut self, error: Error) {
        if self.lost.is_none() {
            self.lost = Some(error);
        }
        self.buffer.clear();
        self.paused = false;
    }

    /// The error the connection was lost with, if it was.
    pub fn lost(&self) -> Option<&Error> {
        self.lost.as_ref()
    }

    /// Record that the transport released the socket.
    pub fn closed_done(&mut self) {
        self.closing = true;
        self.closed = true;
        self.buffer.clear();
        self.paused = false;
    }

    fn check_writable(&self) -> Result<(), Error> {
        if let Some(error) = &self.lost {
            return Err(error.clone());
        }
        if self.closing {
            return Err(Error::Closed);
        }
        if self.eof_requested {
            return Err(Error::invalid_state(
                "Cannot call write() after write_eof()",
            ));
        }
        Ok(())
    }

    fn maybe_pause(&mut self) {
        if !self.paused && self.buffer.len() > self.high {
            self.paused = true;
        }
    }

    fn maybe_resume(&mut self) {
        if self.paused && self.buffer.len() <= self.low {
            self.paused = false;
        }
    }
}

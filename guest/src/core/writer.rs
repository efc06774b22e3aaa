//! asyncio's `StreamWriter` and transport write buffer, without I/O.
//!
//! `write` only buffers; the transport takes bytes with
//! [`WriteBuffer::pending`] and reports what it sent with
//! [`WriteBuffer::consume`]. Flow control follows asyncio's transports:
//! writing is *paused* once more than the high-water mark is buffered and
//! resumes at or below the low-water mark, and `drain` waits while paused.
//! `write_eof` and `close` take effect once the buffer has been sent.

use std::task::Poll;

use bytes::Bytes;

use super::error::Error;
use super::outgoing::Outgoing;

/// asyncio's default high-water mark: 64 KiB.
pub const DEFAULT_HIGH_WATER: usize = 64 * 1024;

/// The sending half of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Half {
    /// Writes are accepted and sent.
    Open,
    /// End of file was asked for (`write_eof` or `close`): it follows the
    /// bytes still buffered.
    Finishing,
    /// Nothing more goes out: end of file was sent, or the stream was
    /// aborted.
    Finished,
    /// The connection failed; nothing more goes out. `after_eof`: end of
    /// file had been asked for, so asking again is not an error.
    Lost { error: Error, after_eof: bool },
}

/// The stream's closing, as `close` and `wait_closed` see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closing {
    Open,
    /// `close` was called: the socket goes once the sending half is done.
    Requested,
    /// `abort` was called: the socket goes at once, even after a failed
    /// write whose input is still being read (asyncio's `_force_close`).
    Aborted,
    /// The transport released the socket.
    Closed,
}

/// The write buffer of one stream, with its flow-control and closing states.
#[derive(Debug)]
pub struct WriteBuffer {
    buffer: Outgoing,
    high: usize,
    low: usize,
    /// Above the high-water mark and not yet back at the low one.
    paused: bool,
    half: Half,
    closing: Closing,
}

impl Default for WriteBuffer {
    fn default() -> Self {
        Self {
            buffer: Outgoing::new(),
            high: DEFAULT_HIGH_WATER,
            low: DEFAULT_HIGH_WATER / 4,
            paused: false,
            half: Half::Open,
            closing: Closing::Open,
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

    /// Buffer `data` for sending; a long one is kept without a copy.
    pub fn write_bytes(&mut self, data: Bytes) -> Result<(), Error> {
        self.check_writable()?;
        self.buffer.push(data);
        self.maybe_pause();
        Ok(())
    }

    /// Half-close: end of file is sent once the buffer has been written.
    /// Writing afterwards is an error; calling it again does nothing.
    pub fn write_eof(&mut self) -> Result<(), Error> {
        match &self.half {
            _ if self.closing != Closing::Open => Ok(()),
            Half::Open => {
                self.half = Half::Finishing;
                Ok(())
            }
            Half::Finishing
            | Half::Finished
            | Half::Lost {
                after_eof: true, ..
            } => Ok(()),
            Half::Lost { error, .. } => Err(error.clone()),
        }
    }

    /// Start closing: the buffer is still sent, then the transport shuts
    /// down and releases the socket. Idempotent.
    pub fn close(&mut self) {
        if self.closing == Closing::Open {
            self.closing = Closing::Requested;
        }
        if self.half == Half::Open {
            self.half = Half::Finishing;
        }
    }

    /// asyncio's `transport.abort()`: close at once, dropping whatever is
    /// buffered. The transport releases the socket next, whatever state the
    /// connection is in.
    pub fn abort(&mut self) {
        if self.closing != Closing::Closed {
            self.closing = Closing::Aborted;
        }
        if matches!(self.half, Half::Open | Half::Finishing) {
            self.half = Half::Finished;
        }
        self.buffer.clear();
        self.paused = false;
    }

    /// Whether `abort` was called and the socket is still held: it is to
    /// go at once.
    pub fn is_aborted(&self) -> bool {
        self.closing == Closing::Aborted
    }

    /// asyncio's `is_closing`: `close` was called or the connection is lost.
    pub fn is_closing(&self) -> bool {
        self.closing != Closing::Open || matches!(self.half, Half::Lost { .. })
    }

    /// Whether the transport has released the socket.
    pub fn is_closed(&self) -> bool {
        self.closing == Closing::Closed
    }

    /// asyncio's `drain`, as called: ready unless paused (more than the
    /// high-water mark was buffered and it has not yet dropped to the
    /// low-water mark). Once the connection is lost it fails with the
    /// error; once the socket is released, with `connection-reset`
    /// (asyncio's "Connection lost").
    pub fn drain(&self) -> Poll<Result<(), Error>> {
        self.poll_drain(false)
    }

    /// A `drain` that has been waiting: as [`drain`](Self::drain), except
    /// that the socket being released after a `close` ends it normally, as
    /// asyncio wakes its drain waiters when the connection goes.
    pub fn drain_waited(&self) -> Poll<Result<(), Error>> {
        self.poll_drain(true)
    }

    fn poll_drain(&self, waited: bool) -> Poll<Result<(), Error>> {
        match (&self.half, self.closing) {
            (Half::Lost { error, .. }, _) => Poll::Ready(Err(error.clone())),
            (_, Closing::Closed) if waited => Poll::Ready(Ok(())),
            (_, Closing::Closed) => Poll::Ready(Err(Error::ConnectionReset)),
            _ if self.paused => Poll::Pending,
            _ => Poll::Ready(Ok(())),
        }
    }

    /// asyncio's `wait_closed`: ready once the socket has been released,
    /// with the error the connection was lost with, if any.
    pub fn wait_closed(&self) -> Poll<Result<(), Error>> {
        match (&self.half, self.closing) {
            (_, Closing::Open | Closing::Requested | Closing::Aborted) => Poll::Pending,
            (Half::Lost { error, .. }, Closing::Closed) if *error != Error::Closed => {
                Poll::Ready(Err(error.clone()))
            }
            (_, Closing::Closed) => Poll::Ready(Ok(())),
        }
    }

    /// A flush (futures-io's `poll_flush`): ready once every buffered
    /// byte has been handed to the transport, or with the error that lost
    /// them.
    pub fn flushed(&self) -> Poll<Result<(), Error>> {
        if let Some(error) = self.lost() {
            return Poll::Ready(Err(error.clone()));
        }
        match self.write_buffer_size() {
            0 => Poll::Ready(Ok(())),
            _ => Poll::Pending,
        }
    }

    // The transport's side.

    /// The bytes to send next: the oldest of the buffered chunks (small
    /// writes are coalesced into one). Empty when nothing is buffered.
    pub fn pending(&self) -> &[u8] {
        self.buffer.front()
    }

    /// Record that the transport sent the first `n` pending bytes.
    pub fn consume(&mut self, n: usize) {
        self.buffer.consume(n);
        self.maybe_resume();
    }

    /// Whether the transport should shut down the sending half now:
    /// `write_eof` or `close` was called and everything has been sent.
    pub fn wants_shutdown(&self) -> bool {
        self.half == Half::Finishing && self.buffer.is_empty()
    }

    /// Record that the sending half has been shut down.
    pub fn shutdown_done(&mut self) {
        if self.half == Half::Finishing {
            self.half = Half::Finished;
        }
    }

    /// Whether the transport may release the socket: `close` was called
    /// and there is nothing left to send (or the connection is lost), or
    /// `abort` was called.
    pub fn wants_release(&self) -> bool {
        match self.closing {
            Closing::Requested => matches!(self.half, Half::Finished | Half::Lost { .. }),
            Closing::Aborted => true,
            Closing::Open | Closing::Closed => false,
        }
    }

    /// The connection failed or was closed under the writer: unsent bytes
    /// are dropped, waiting drains fail with `error`.
    pub fn connection_lost(&mut self, error: Error) {
        if !matches!(self.half, Half::Lost { .. }) {
            let after_eof = self.half != Half::Open;
            self.half = Half::Lost { error, after_eof };
        }
        self.buffer.clear();
        self.paused = false;
    }

    /// The error the connection was lost with, if it was.
    pub fn lost(&self) -> Option<&Error> {
        match &self.half {
            Half::Lost { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Record that the transport released the socket.
    pub fn closed_done(&mut self) {
        self.closing = Closing::Closed;
        self.buffer.clear();
        self.paused = false;
    }

    fn check_writable(&self) -> Result<(), Error> {
        match &self.half {
            Half::Lost { error, .. } => Err(error.clone()),
            _ if self.closing != Closing::Open => Err(Error::Closed),
            Half::Open => Ok(()),
            Half::Finishing | Half::Finished => Err(Error::invalid_state(
                "Cannot call write() after write_eof()",
            )),
        }
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

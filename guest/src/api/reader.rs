//! `StreamReader`: asyncio's reads as async Rust.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
#[cfg(not(feature = "p3"))]
use wasip2::{clocks::monotonic_clock, io::poll::Pollable};

use super::nonblocking;
use crate::core::{self, Error, ReadPoll};
use crate::transport::Connection;

/// Where a reader's bytes come from.
#[derive(Debug)]
enum Source {
    /// A connection's socket.
    Connection(Rc<Connection>),
    /// Whoever calls `feed_data` (asyncio allows a reader without a
    /// transport). Boxed: the common reader is a connection's.
    Fed(Box<RefCell<core::StreamReader>>),
}

/// The reading half of a stream (asyncio's `StreamReader`).
///
/// Reads take `&self` so a reader can be shared between tasks as in
/// asyncio; while one read waits for data, a second one that has to wait
/// fails with [`Error::ConcurrentRead`]. They return [`Bytes`] split off
/// the reader's buffer without copying (asyncio returns `bytes`); a
/// `Bytes` keeps the chunk it came from alive, so copy out a small piece
/// that is kept for long (`to_vec`).
#[derive(Debug)]
pub struct StreamReader {
    source: Source,
    /// Bytes handed out by `poll_fill_buf` and not yet consumed; they go
    /// back in front of the buffer before any other read.
    chunk: RefCell<Bytes>,
    /// The waiter identity of the futures-io reads through this handle
    /// while one waits (0: none).
    stream_waiter: Cell<u64>,
}

impl StreamReader {
    pub(crate) fn from_connection(conn: Rc<Connection>) -> Self {
        Self::with_source(Source::Connection(conn))
    }

    fn with_source(source: Source) -> Self {
        Self {
            source,
            chunk: RefCell::new(Bytes::new()),
            stream_waiter: Cell::new(0),
        }
    }

    /// A reader with no transport, fed by [`feed_data`](Self::feed_data) and
    /// [`feed_eof`](Self::feed_eof). `limit` defaults to 64 KiB.
    pub fn new(limit: Option<usize>) -> Result<Self, Error> {
        let reader = match limit {
            Some(limit) => core::StreamReader::new(limit)?,
            None => core::StreamReader::default(),
        };
        Ok(Self::with_source(Source::Fed(Box::new(RefCell::new(
            reader,
        )))))
    }

    /// The connection behind this reader, if it has one.
    pub(crate) fn connection(&self) -> Option<&Rc<Connection>> {
        match &self.source {
            Source::Connection(conn) => Some(conn),
            Source::Fed(_) => None,
        }
    }

    /// asyncio's `feed_data`: append bytes to the buffer (on a connection's
    /// reader, ahead of what the socket brings next).
    pub fn feed_data(&self, data: &[u8]) -> Result<(), Error> {
        self.with_reader(|r| r.feed_data(data))
    }

    /// [`feed_data`](Self::feed_data) of an owned chunk, adopted without
    /// a copy when nothing is buffered.
    #[cfg(feature = "component")]
    pub(crate) fn feed_owned(&self, data: Vec<u8>) -> Result<(), Error> {
        self.with_reader(|r| r.feed_owned(data))
    }

    /// asyncio's `feed_eof`: the stream ends once the buffer is read (a
    /// connection's reader stops reading from its socket).
    pub fn feed_eof(&self) {
        self.with_reader(core::StreamReader::feed_eof);
    }

    /// asyncio's `read(n)`: up to `n` bytes once one is available, all
    /// bytes until end of file for `n < 0`, nothing for `n == 0`.
    pub fn read(&self, n: i64) -> ReadFuture<'_, impl FnMut(&mut core::StreamReader) -> ReadPoll> {
        self.op(move |r| r.read(n))
    }

    /// asyncio's `readline`.
    pub fn readline(&self) -> ReadFuture<'_, impl FnMut(&mut core::StreamReader) -> ReadPoll> {
        self.op(core::StreamReader::readline)
    }

    /// Every complete line buffered, joined, or else one line as
    /// [`readline`](Self::readline) reads it (see
    /// [`core::StreamReader::readlines`]).
    pub fn readlines(&self) -> ReadFuture<'_, impl FnMut(&mut core::StreamReader) -> ReadPoll> {
        self.op(core::StreamReader::readlines)
    }

    /// asyncio's `readuntil` with one or several separators.
    pub fn readuntil<'a>(
        &'a self,
        separators: &'a [&'a [u8]],
    ) -> ReadFuture<'a, impl FnMut(&mut core::StreamReader) -> ReadPoll + 'a> {
        self.op(move |r| r.readuntil(separators))
    }

    /// asyncio's `readexactly(n)`.
    pub fn readexactly(
        &self,
        n: i64,
    ) -> ReadFuture<'_, impl FnMut(&mut core::StreamReader) -> ReadPoll> {
        self.op(move |r| r.readexactly(n))
    }

    /// Non-blocking [`read`](Self::read): [`Error::WouldBlock`] instead of
    /// waiting.
    pub fn try_read(&self, n: i64) -> Result<Bytes, Error> {
        self.try_op(&mut |r| r.read(n))
    }

    /// Non-blocking [`readline`](Self::readline).
    pub fn try_readline(&self) -> Result<Bytes, Error> {
        self.try_op(&mut core::StreamReader::readline)
    }

    /// Non-blocking [`readlines`](Self::readlines).
    pub fn try_readlines(&self) -> Result<Bytes, Error> {
        self.try_op(&mut core::StreamReader::readlines)
    }

    /// Non-blocking [`readuntil`](Self::readuntil).
    pub fn try_readuntil(&self, separators: &[&[u8]]) -> Result<Bytes, Error> {
        self.try_op(&mut |r| r.readuntil(separators))
    }

    /// Non-blocking [`readexactly`](Self::readexactly).
    pub fn try_readexactly(&self, n: i64) -> Result<Bytes, Error> {
        self.try_op(&mut |r| r.readexactly(n))
    }

    /// asyncio's `at_eof`: end of file received and nothing buffered.
    pub fn at_eof(&self) -> bool {
        self.refresh();
        self.chunk_is_empty() && self.with_reader(|r| r.at_eof())
    }

    /// The exception set by [`set_exception`](Self::set_exception), or the
    /// transport failure that ended the stream.
    pub fn exception(&self) -> Option<Error> {
        self.refresh();
        self.with_reader(|r| r.exception().cloned())
    }

    /// Make every later read fail with `error`; a read waiting now fails
    /// with it at once.
    pub fn set_exception(&self, error: Error) {
        self.with_reader(|r| r.set_exception(error));
    }

    /// The reader's limit.
    pub fn limit(&self) -> usize {
        self.with_reader(|r| r.limit())
    }

    /// Whether this reader was made by [`new`](Self::new), without a
    /// transport.
    pub fn is_standalone(&self) -> bool {
        matches!(self.source, Source::Fed(_))
    }

    /// A pollable that is ready when the last read that would have blocked
    /// can make progress (for consumers with their own poll loop).
    #[cfg(not(feature = "p3"))]
    pub fn subscribe(&self) -> Pollable {
        nonblocking::before_waiting();
        match &self.source {
            Source::Connection(conn) => conn.subscribe_read(),
            Source::Fed(_) => monotonic_clock::subscribe_duration(0),
        }
    }

    fn with_reader<R>(&self, f: impl FnOnce(&mut core::StreamReader) -> R) -> R {
        match &self.source {
            Source::Connection(conn) => conn.with_reader(f),
            Source::Fed(reader) => f(&mut reader.borrow_mut()),
        }
    }

    /// Before answering about the stream's state: take in what the socket
    /// has delivered.
    fn refresh(&self) {
        if let Source::Connection(conn) = &self.source {
            conn.refresh();
        }
    }

    /// Attempt `op`; with a waiter, wait as the reader's one waiting read.
    fn poll_op<T>(
        &self,
        op: &mut dyn FnMut(&mut core::StreamReader) -> ReadPoll<T>,
        waiter: Option<(&mut u64, &Context<'_>)>,
    ) -> Poll<Result<T, Error>> {
        let reader = match &self.source {
            Source::Connection(conn) => return conn.poll_read(op, waiter),
            Source::Fed(reader) => &mut *reader.borrow_mut(),
        };
        if let Poll::Ready(result) = op(reader) {
            if let Some((id, _)) = waiter {
                reader.release_waiter(std::mem::take(id));
            }
            return Poll::Ready(result);
        }
        match waiter {
            None => Poll::Ready(Err(Error::WouldBlock)),
            Some((id, cx)) => match reader.claim_waiter(id, cx.waker()) {
                Ok(()) => Poll::Pending,
                Err(error) => Poll::Ready(Err(error)),
            },
        }
    }

    fn op<T, F>(&self, op: F) -> ReadFuture<'_, F>
    where
        F: FnMut(&mut core::StreamReader) -> ReadPoll<T>,
    {
        self.restore_chunk();
        ReadFuture {
            reader: self,
            op,
            id: 0,
        }
    }

    fn try_op<T>(
        &self,
        op: &mut dyn FnMut(&mut core::StreamReader) -> ReadPoll<T>,
    ) -> Result<T, Error> {
        self.restore_chunk();
        nonblocking::answer(|| self.poll_op(op, None))
    }

    fn chunk_is_empty(&self) -> bool {
        self.chunk.borrow().is_empty()
    }

    /// Before an asyncio-style read: a futures-io read through this handle
    /// has been abandoned, and its unconsumed bytes go back in front.
    fn restore_chunk(&self) {
        // The common case, costing no borrow of the reader: no futures-io
        // read through this handle.
        if self.stream_waiter.get() == 0 && self.chunk_is_empty() {
            return;
        }
        let waiter = self.stream_waiter.take();
        let rest = self.chunk.take();
        if waiter != 0 || !rest.is_empty() {
            self.with_reader(|r| {
                r.release_waiter(waiter);
                r.unread(rest);
            });
        }
    }
}

/// One read in progress: the reader's waiter, once it has had to wait,
/// until it completes or is dropped.
#[must_use = "futures do nothing unless awaited"]
pub struct ReadFuture<'a, F> {
    reader: &'a StreamReader,
    op: F,
    /// Its waiter identity, given when it first waits (0: not yet).
    id: u64,
}

impl<F> std::fmt::Debug for ReadFuture<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadFuture").field("id", &self.id).finish()
    }
}

impl<T, F: FnMut(&mut core::StreamReader) -> ReadPoll<T> + Unpin> Future for ReadFuture<'_, F> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.reader.poll_op(&mut this.op, Some((&mut this.id, cx)))
    }
}

impl<F> Drop for ReadFuture<'_, F> {
    fn drop(&mut self) {
        if self.id != 0 {
            let id = self.id;
            self.reader.with_reader(|r| r.release_waiter(id));
        }
    }
}

/// How much one `poll_fill_buf` takes from the buffer at most.
const CHUNK: i64 = 64 * 1024;

impl futures_io::AsyncBufRead for StreamReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.chunk_is_empty() {
            let mut waiter = this.stream_waiter.get();
            let read = this.poll_op(&mut |r| r.read(CHUNK), Some((&mut waiter, cx)));
            this.stream_waiter.set(waiter);
            match read {
                Poll::Ready(Ok(chunk)) => *this.chunk.get_mut() = chunk,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error.into())),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(this.chunk.get_mut()))
    }

    fn consume(self: Pin<&mut Self>, amount: usize) {
        let chunk = self.get_mut().chunk.get_mut();
        chunk.advance(amount.min(chunk.len()));
    }
}

impl futures_io::AsyncRead for StreamReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        let available = match futures_io::AsyncBufRead::poll_fill_buf(self.as_mut(), cx) {
            Poll::Ready(Ok(available)) => available,
            Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
            Poll::Pending => return Poll::Pending,
        };
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        futures_io::AsyncBufRead::consume(self, n);
        Poll::Ready(Ok(n))
    }
}

/// The read futures are `Unpin`, so they can be polled through `&mut`
/// (checked when this compiles).
#[allow(dead_code)]
fn read_futures_are_unpin(reader: &StreamReader) {
    fn unpin<T: Unpin>(_: &T) {}
    unpin(&reader.read(1));
    unpin(&reader.readline());
    unpin(&reader.readlines());
    unpin(&reader.readuntil(&[]));
    unpin(&reader.readexactly(1));
}

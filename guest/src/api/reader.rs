//! `StreamReader`: asyncio's reads as async Rust.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::core::{self, Error, ReadPoll};
use crate::runtime::{self, Interest};
use crate::transport::Connection;

/// The reading half of a stream (asyncio's `StreamReader`).
///
/// Reads take `&self` so a reader can be shared between tasks as in
/// asyncio; while one read waits for data, a second one that has to wait
/// fails with [`Error::ConcurrentRead`].
#[derive(Debug)]
pub struct StreamReader {
    pub(crate) conn: Rc<Connection>,
    /// Bytes handed out by `poll_fill_buf` and not yet consumed; they go
    /// back in front of the buffer before any other read.
    chunk: RefCell<(Vec<u8>, usize)>,
    /// The waiter identity of the futures-io reads through this handle
    /// while one waits (0: none).
    stream_waiter: Cell<u64>,
    stream_interest: Interest,
}

impl StreamReader {
    pub(crate) fn from_connection(conn: Rc<Connection>) -> Self {
        Self {
            conn,
            chunk: RefCell::new((Vec::new(), 0)),
            stream_waiter: Cell::new(0),
            stream_interest: Interest::default(),
        }
    }

    /// A reader with no transport, fed by [`feed_data`](Self::feed_data) and
    /// [`feed_eof`](Self::feed_eof). `limit` defaults to 64 KiB.
    pub fn new(limit: Option<usize>) -> Result<Self, Error> {
        Ok(Self::from_connection(Connection::standalone(limit)?))
    }

    /// Append bytes to a reader made by [`new`](Self::new).
    pub fn feed_data(&self, data: &[u8]) -> Result<(), Error> {
        self.conn.feed_data(data)
    }

    /// Mark the end of a reader made by [`new`](Self::new).
    pub fn feed_eof(&self) {
        self.conn.feed_eof();
    }

    /// asyncio's `read(n)`: up to `n` bytes once one is available, all
    /// bytes until end of file for `n < 0`, nothing for `n == 0`.
    pub fn read(&self, n: i64) -> impl Future<Output = Result<Vec<u8>, Error>> + '_ {
        self.op(move |r| r.read(n))
    }

    /// asyncio's `readline`.
    pub fn readline(&self) -> impl Future<Output = Result<Vec<u8>, Error>> + '_ {
        self.op(core::StreamReader::readline)
    }

    /// asyncio's `readuntil` with one or several separators.
    pub fn readuntil<'a>(
        &'a self,
        separators: &'a [&'a [u8]],
    ) -> impl Future<Output = Result<Vec<u8>, Error>> + 'a {
        self.op(move |r| r.readuntil(separators))
    }

    /// asyncio's `readexactly(n)`.
    pub fn readexactly(&self, n: i64) -> impl Future<Output = Result<Vec<u8>, Error>> + '_ {
        self.op(move |r| r.readexactly(n))
    }

    /// Non-blocking [`read`](Self::read): [`Error::WouldBlock`] instead of
    /// waiting.
    pub fn try_read(&self, n: i64) -> Result<Vec<u8>, Error> {
        self.try_op(&mut |r| r.read(n))
    }

    /// Non-blocking [`readline`](Self::readline).
    pub fn try_readline(&self) -> Result<Vec<u8>, Error> {
        self.try_op(&mut core::StreamReader::readline)
    }

    /// Non-blocking [`readuntil`](Self::readuntil).
    pub fn try_readuntil(&self, separators: &[&[u8]]) -> Result<Vec<u8>, Error> {
        self.try_op(&mut |r| r.readuntil(separators))
    }

    /// Non-blocking [`readexactly`](Self::readexactly).
    pub fn try_readexactly(&self, n: i64) -> Result<Vec<u8>, Error> {
        self.try_op(&mut |r| r.readexactly(n))
    }

    /// asyncio's `at_eof`: end of file received and nothing buffered.
    pub fn at_eof(&self) -> bool {
        self.chunk_is_empty() && self.conn.with_reader(|r| r.at_eof())
    }

    /// The exception set by [`set_exception`](Self::set_exception), or the
    /// transport failure that ended the stream.
    pub fn exception(&self) -> Option<Error> {
        self.conn.with_reader(|r| r.exception().cloned())
    }

    /// Make every later read fail with `error`; a read waiting now fails
    /// with it at once.
    pub fn set_exception(&self, error: Error) {
        self.conn.set_exception(error);
    }

    /// The reader's limit.
    pub fn limit(&self) -> usize {
        self.conn.with_reader(|r| r.limit())
    }

    /// Whether this reader was made by [`new`](Self::new), without a
    /// transport.
    pub fn is_standalone(&self) -> bool {
        self.conn.is_standalone()
    }

    /// A pollable that is ready when the last read that would have blocked
    /// can make progress (for consumers with their own poll loop).
    pub fn subscribe(&self) -> wasip2::io::poll::Pollable {
        self.conn.subscribe_read()
    }

    fn op<'a, T, F>(&'a self, op: F) -> ReadFuture<'a, T, F>
    where
        F: FnMut(&mut core::StreamReader) -> ReadPoll<T> + 'a,
    {
        self.restore_chunk();
        ReadFuture {
            reader: self,
            op,
            id: 0,
            interest: Interest::default(),
        }
    }

    fn try_op<T>(
        &self,
        op: &mut dyn FnMut(&mut core::StreamReader) -> ReadPoll<T>,
    ) -> Result<T, Error> {
        self.restore_chunk();
        match self.conn.poll_read(op, None) {
            Poll::Ready(Err(Error::WouldBlock)) => {
                // About to tell the caller to wait: let buffered writes go.
                runtime::run_until_stalled();
                Err(Error::WouldBlock)
            }
            Poll::Ready(result) => result,
            Poll::Pending => unreachable!("a read without a waiter never pends"),
        }
    }

    fn chunk_is_empty(&self) -> bool {
        let chunk = self.chunk.borrow();
        chunk.1 >= chunk.0.len()
    }

    /// Before an asyncio-style read: a futures-io read through this handle
    /// has been abandoned, and its unconsumed bytes go back in front.
    fn restore_chunk(&self) {
        let waiter = self.stream_waiter.take();
        if waiter != 0 {
            self.conn.release_waiter(waiter);
        }
        let mut chunk = self.chunk.borrow_mut();
        let (bytes, used) = &mut *chunk;
        if *used < bytes.len() {
            let rest = &bytes[*used..];
            self.conn.with_reader(|r| r.unread(rest));
        }
        bytes.clear();
        *used = 0;
    }
}

/// One read in progress: the reader's waiter, once it has had to wait,
/// until it completes or is dropped.
struct ReadFuture<'a, T, F: FnMut(&mut core::StreamReader) -> ReadPoll<T>> {
    reader: &'a StreamReader,
    op: F,
    /// Its waiter identity, given when it first waits (0: not yet).
    id: u64,
    interest: Interest,
}

impl<T, F: FnMut(&mut core::StreamReader) -> ReadPoll<T>> Future for ReadFuture<'_, T, F> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: nothing is moved out of the pinned future; `op` is only
        // called through a mutable reference.
        let this = unsafe { self.get_unchecked_mut() };
        this.reader
            .conn
            .poll_read(&mut this.op, Some((&mut this.id, &mut this.interest, cx)))
    }
}

impl<T, F: FnMut(&mut core::StreamReader) -> ReadPoll<T>> Drop for ReadFuture<'_, T, F> {
    fn drop(&mut self) {
        if self.id != 0 {
            self.reader.conn.release_waiter(self.id);
        }
    }
}

/// How much one `poll_fill_buf` takes from the buffer at most.
const CHUNK: i64 = 64 * 1024;

impl futures_io::AsyncBufRead for StreamReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<&[u8]>> {
        let this = self.get_mut();
        let (bytes, used) = this.chunk.get_mut();
        if *used >= bytes.len() {
            let waiter = (
                this.stream_waiter.get_mut(),
                &mut this.stream_interest,
                &*cx,
            );
            match this.conn.poll_read(&mut |r| r.read(CHUNK), Some(waiter)) {
                Poll::Ready(Ok(chunk)) => {
                    *bytes = chunk;
                    *used = 0;
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error.into())),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(&bytes[*used..]))
    }

    fn consume(self: Pin<&mut Self>, amount: usize) {
        let (bytes, used) = self.get_mut().chunk.get_mut();
        *used = (*used + amount).min(bytes.len());
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

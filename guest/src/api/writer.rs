//! `StreamWriter`: asyncio's writes, flow control and closing as async Rust.

use std::future::poll_fn;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use bytes::Bytes;

use super::nonblocking;
use crate::core::Error;
use crate::runtime::Interest;
use crate::transport::{Connection, ExtraInfo};

/// The writing half of a stream (asyncio's `StreamWriter`).
///
/// `write` only buffers; the bytes go out when the task yields to the
/// event loop (so a burst of writes costs one send), or at `drain`.
/// Dropping the writer closes the stream after sending what is buffered,
/// as asyncio does when a writer is garbage-collected.
#[derive(Debug)]
pub struct StreamWriter {
    pub(crate) conn: Rc<Connection>,
    /// Where the futures-io write side waits.
    interest: Interest,
}

impl StreamWriter {
    pub(crate) fn from_connection(conn: Rc<Connection>) -> Self {
        Self {
            conn,
            interest: Interest::default(),
        }
    }

    /// asyncio's `start_tls`: upgrade the connection to TLS, the server's
    /// certificate checked for `server_name` against the host's trusted
    /// authorities (STARTTLS). What is buffered is sent first. The reader
    /// must hold no unread bytes (`invalid-state` otherwise, as asyncio
    /// refuses too), and the stream's pollables must not be out. On
    /// failure (an [`Error::Tls`], or the transport's error) the
    /// connection is lost.
    #[cfg(feature = "tls")]
    pub async fn start_tls(&self, server_name: &str) -> Result<(), Error> {
        self.conn.start_tls(server_name).await
    }

    /// Buffer `data` for sending. Never waits.
    pub fn write(&self, data: &[u8]) -> Result<(), Error> {
        self.conn.write(data)
    }

    /// Buffer `data` for sending, without copying it when it is long
    /// enough to go out in a send of its own (small writes are copied
    /// together so that they leave in one). Takes [`Bytes`] as the reads
    /// return them, or a `Vec<u8>`, a `String`, ….
    pub fn write_bytes(&self, data: impl Into<Bytes>) -> Result<(), Error> {
        self.conn.write_bytes(data.into())
    }

    /// Buffer each of `lines` in turn.
    pub fn writelines<I>(&self, lines: I) -> Result<(), Error>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        lines
            .into_iter()
            .try_for_each(|line| self.write(line.as_ref()))
    }

    /// asyncio's `drain`: wait until the buffer is back at the low-water
    /// mark if it went above the high-water mark. Several tasks may drain
    /// at once; all wake. A drain waiting while the writer closes returns
    /// once the buffer has gone; one started after the socket went fails
    /// with `connection-reset` (asyncio's "Connection lost").
    pub async fn drain(&self) -> Result<(), Error> {
        let mut interest = Interest::default();
        let mut waited = false;
        poll_fn(|cx| {
            let waited = std::mem::replace(&mut waited, true);
            self.conn.poll_drain(waited, Some((&mut interest, cx)))
        })
        .await
    }

    /// Non-blocking [`drain`](Self::drain): sends what the socket takes
    /// now, then answers [`Error::WouldBlock`] instead of waiting.
    pub fn try_drain(&self) -> Result<(), Error> {
        self.conn.send_now();
        nonblocking::answer(|| self.conn.poll_drain(false, None))
    }

    /// Half-close once the buffer is sent (TCP `shutdown(SHUT_WR)`); what
    /// the socket takes goes at once.
    pub fn write_eof(&self) -> Result<(), Error> {
        self.conn.write_eof()
    }

    /// Whether `write_eof` is supported: always, for TCP and Unix streams.
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Close: send what is buffered, shut down, release the socket; as
    /// much of it at once as the socket takes. Reading from the socket
    /// stops, as in asyncio.
    pub fn close(&self) {
        self.conn.close();
    }

    /// Close at once, dropping what is buffered.
    pub fn abort(&self) {
        self.conn.abort();
    }

    /// asyncio's `is_closing`: `close` was called or the connection is
    /// lost (noticed with no read pending, as asyncio's transport does).
    pub fn is_closing(&self) -> bool {
        if !self.conn.with_writer(|w| w.is_closing()) {
            self.conn.refresh();
        }
        self.conn.with_writer(|w| w.is_closing())
    }

    /// asyncio's `wait_closed`: wait until the socket is released.
    pub async fn wait_closed(&self) -> Result<(), Error> {
        let mut interest = Interest::default();
        poll_fn(|cx| self.conn.poll_wait_closed(Some((&mut interest, cx)))).await
    }

    /// Non-blocking [`wait_closed`](Self::wait_closed).
    pub fn try_wait_closed(&self) -> Result<(), Error> {
        nonblocking::answer(|| self.conn.poll_wait_closed(None))
    }

    /// asyncio's `get_extra_info`: peer and local addresses, family (also
    /// after the stream is closed).
    pub fn get_extra_info(&self) -> ExtraInfo {
        self.conn.extra_info()
    }

    /// Bytes buffered and not yet handed to the socket.
    pub fn get_write_buffer_size(&self) -> usize {
        self.conn.with_writer(|w| w.write_buffer_size())
    }

    /// The (low, high) water marks.
    pub fn get_write_buffer_limits(&self) -> (usize, usize) {
        self.conn.with_writer(|w| w.write_buffer_limits())
    }

    /// asyncio's `set_write_buffer_limits`.
    pub fn set_write_buffer_limits(
        &self,
        high: Option<usize>,
        low: Option<usize>,
    ) -> Result<(), Error> {
        self.conn
            .with_writer(|w| w.set_write_buffer_limits(high, low))
    }

    /// A pollable that is ready when `drain` or `wait_closed` can make
    /// progress (for consumers with their own poll loop).
    #[cfg(not(feature = "p3"))]
    pub fn subscribe(&self) -> wasip2::io::poll::Pollable {
        nonblocking::before_waiting();
        self.conn.subscribe_write()
    }
}

impl Drop for StreamWriter {
    fn drop(&mut self) {
        self.conn.close();
    }
}

impl futures_io::AsyncWrite for StreamWriter {
    /// Waits while the writer is paused (above the high-water mark), then
    /// buffers all of `buf`.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        match this.conn.poll_drain(false, Some((&mut this.interest, cx))) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(error)) => return Poll::Ready(Err(error.into())),
            Poll::Pending => return Poll::Pending,
        }
        this.interest.cancel();
        Poll::Ready(this.conn.write(buf).map(|()| buf.len()).map_err(Into::into))
    }

    /// Waits until every buffered byte has been handed to the socket.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        this.conn
            .poll_flushed(Some((&mut this.interest, cx)))
            .map_err(Into::into)
    }

    /// Closes the stream and waits until the socket is released.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        this.conn.close();
        this.conn
            .poll_wait_closed(Some((&mut this.interest, cx)))
            .map_err(Into::into)
    }
}

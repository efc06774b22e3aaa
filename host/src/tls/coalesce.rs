//! One socket write for all the TLS records rustls has ready.
//!
//! rustls hands its pending records to the transport as a vectored write
//! (one buffer per record). wasmtime-wasi-tls's transport over the guest's
//! socket streams has no vectored write, so each record would leave in a
//! send, and so a segment, of its own: a client's ChangeCipherSpec and
//! Finished in two. With Nagle's algorithm on (WASI 0.2 cannot turn it off)
//! the second waits for the peer's delayed acknowledgement of the first:
//! measured, 40 ms added to every handshake. Gathering the buffers into one
//! write sends them in one segment.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most one gathered write copies (what rustls queues rarely exceeds a
/// few records of 16 KiB).
const GATHER: usize = 64 * 1024;

/// `inner` with its vectored writes gathered into single writes.
pub(super) struct Coalesce<T> {
    inner: T,
    gathered: Vec<u8>,
}

impl<T> Coalesce<T> {
    pub(super) fn new(inner: T) -> Self {
        Self {
            inner,
            gathered: Vec::new(),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Coalesce<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Coalesce<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    /// The buffers' bytes (up to [`GATHER`]) in one write. A partial
    /// write is reported as such: the caller resends the rest, from the
    /// buffers it still holds.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let mut nonempty = bufs.iter().filter(|b| !b.is_empty());
        match (nonempty.next(), nonempty.next()) {
            (None, _) => return Pin::new(&mut this.inner).poll_write(cx, &[]),
            (Some(only), None) => return Pin::new(&mut this.inner).poll_write(cx, only),
            _ => {}
        }
        this.gathered.clear();
        for buf in bufs {
            let room = GATHER - this.gathered.len();
            if room == 0 {
                break;
            }
            this.gathered.extend_from_slice(&buf[..buf.len().min(room)]);
        }
        Pin::new(&mut this.inner).poll_write(cx, &this.gathered)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// A transport that records each write it is given.
    #[derive(Default)]
    struct Recorder(Vec<Vec<u8>>);

    impl AsyncWrite for Recorder {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.0.push(buf.to_vec());
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn records_leave_in_one_write() {
        let mut out = Coalesce::new(Recorder::default());
        let records = [
            IoSlice::new(b"\x14ccs"),
            IoSlice::new(b""),
            IoSlice::new(b"\x16finished"),
        ];
        let n = out.write_vectored(&records).await.unwrap();
        assert_eq!(n, 13);
        assert_eq!(out.inner.0, vec![b"\x14ccs\x16finished".to_vec()]);
    }

    #[tokio::test]
    async fn a_gathered_write_is_bounded() {
        let mut out = Coalesce::new(Recorder::default());
        let big = vec![7; GATHER];
        let n = out
            .write_vectored(&[IoSlice::new(&big), IoSlice::new(b"more")])
            .await
            .unwrap();
        assert_eq!(n, GATHER);
        assert_eq!(out.inner.0.len(), 1);
    }
}

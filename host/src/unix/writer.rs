//! The sending half of a Unix socket as a `wasi:io` output stream, shared
//! with its `unix-socket` so that shutting down waits for the write in
//! flight, as wasmtime-wasi's TCP streams do.
//!
//! As for TCP, `check-write` grants [`WRITE_BUDGET`] bytes whenever no write
//! is in flight, and `flush` has nothing to do. `write` hands the bytes to
//! the socket at once when it can take them; what it cannot take is written
//! by a background task, during which `check-write` grants nothing and the
//! stream's pollable is not ready. Shutting down the sending side
//! (`shutdown(send)`, or dropping the output stream) takes effect once that
//! task is done, so the peer gets every byte the guest wrote before its
//! end-of-file. A write still in flight when the guest drops the whole
//! socket (or the store) completes in the background, as it would from a
//! kernel's send buffer; a peer that neither reads nor disconnects keeps
//! that task, and the descriptor, alive.

use std::io;
use std::mem;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::unix::OwnedWriteHalf;
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

/// How many bytes `check-write` grants, as wasmtime-wasi grants on TCP.
pub(super) const WRITE_BUDGET: usize = 64 * 1024;

/// The sending half of one connection, shared by its output stream, its
/// socket and a write in flight.
#[derive(Clone, Debug)]
pub(super) struct UnixWriter {
    state: Arc<Mutex<WriteState>>,
}

#[derive(Debug)]
enum WriteState {
    /// No write in flight; the guest may write `permit` bytes.
    Ready { half: OwnedWriteHalf, permit: usize },
    /// A background task owns the half and writes the rest of a write.
    Writing {
        /// Shut down once it is done.
        shutdown: bool,
        waker: Option<Waker>,
    },
    /// The last background write failed; the next operation reports it.
    Failed(io::Error),
    /// Shut down, or failed and reported.
    Closed,
}

/// Whether a shutdown happened now or waits for a write in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shutdown {
    Now,
    AfterWrite,
}

impl UnixWriter {
    pub(super) fn new(half: OwnedWriteHalf) -> Self {
        Self {
            state: Arc::new(Mutex::new(WriteState::Ready { half, permit: 0 })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, WriteState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Shut the sending side down now, or once the write in flight is done.
    /// Dropping the half shuts the socket's sending side down.
    pub(super) fn shutdown(&self) -> Shutdown {
        let mut state = self.lock();
        match &mut *state {
            WriteState::Writing { shutdown, .. } => {
                *shutdown = true;
                Shutdown::AfterWrite
            }
            WriteState::Ready { .. } | WriteState::Failed(_) | WriteState::Closed => {
                *state = WriteState::Closed;
                Shutdown::Now
            }
        }
    }

    /// The output stream the guest writes through.
    pub(super) fn stream(&self) -> UnixOutputStream {
        UnixOutputStream(self.clone())
    }

    fn check_write(&self) -> StreamResult<usize> {
        let mut state = self.lock();
        match &mut *state {
            WriteState::Ready { permit, .. } => {
                *permit = WRITE_BUDGET;
                Ok(WRITE_BUDGET)
            }
            WriteState::Writing { .. } => Ok(0),
            WriteState::Failed(_) | WriteState::Closed => Err(take_error(&mut state)),
        }
    }

    fn write(&self, mut bytes: Bytes) -> StreamResult<()> {
        let mut state = self.lock();
        let WriteState::Ready { half, permit } = &mut *state else {
            return match &*state {
                WriteState::Writing { .. } => Err(over_permit(bytes.len())),
                _ => Err(take_error(&mut state)),
            };
        };
        *permit = permit
            .checked_sub(bytes.len())
            .ok_or_else(|| over_permit(bytes.len()))?;
        if let Err(e) = write_now(half, &mut bytes) {
            *state = WriteState::Closed;
            return Err(stream_error(e));
        }
        if bytes.is_empty() {
            return Ok(());
        }
        let writing = WriteState::Writing {
            shutdown: false,
            waker: None,
        };
        let WriteState::Ready { mut half, .. } = mem::replace(&mut *state, writing) else {
            unreachable!("checked above");
        };
        drop(state);
        let this = self.clone();
        wasmtime_wasi::runtime::with_ambient_tokio_runtime(|| {
            tokio::spawn(async move {
                let written = half.write_all(&bytes).await.map(|()| half);
                this.finish_write(written);
            })
        });
        Ok(())
    }

    /// Record the end of a background write and wake the guest's pollable.
    fn finish_write(&self, written: io::Result<OwnedWriteHalf>) {
        let waker = {
            let mut state = self.lock();
            let WriteState::Writing { shutdown, waker } =
                mem::replace(&mut *state, WriteState::Closed)
            else {
                unreachable!("only a background write leaves the writing state");
            };
            *state = match written {
                // Dropping the half shuts the sending side down.
                Ok(_) if shutdown => WriteState::Closed,
                Ok(half) => WriteState::Ready { half, permit: 0 },
                Err(e) => WriteState::Failed(e),
            };
            waker
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn flush(&self) -> StreamResult<()> {
        let mut state = self.lock();
        match &*state {
            WriteState::Ready { .. } | WriteState::Writing { .. } => Ok(()),
            WriteState::Failed(_) | WriteState::Closed => Err(take_error(&mut state)),
        }
    }

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut *self.lock() {
            WriteState::Writing { waker, .. } => {
                *waker = Some(cx.waker().clone());
                Poll::Pending
            }
            _ => Poll::Ready(()),
        }
    }
}

/// Write as much of `bytes` as the socket takes without waiting, removing
/// it from `bytes`.
fn write_now(half: &OwnedWriteHalf, bytes: &mut Bytes) -> io::Result<()> {
    while !bytes.is_empty() {
        match half.try_write(bytes) {
            Ok(n) => drop(bytes.split_to(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The error of a failed or closed stream; a failure is reported once,
/// then the stream is closed.
fn take_error(state: &mut WriteState) -> StreamError {
    match mem::replace(state, WriteState::Closed) {
        WriteState::Failed(e) => stream_error(e),
        _ => StreamError::Closed,
    }
}

/// A peer that is gone closes the stream; anything else is a failure.
fn stream_error(e: io::Error) -> StreamError {
    match e.kind() {
        io::ErrorKind::BrokenPipe => StreamError::Closed,
        _ => StreamError::LastOperationFailed(e.into()),
    }
}

fn over_permit(len: usize) -> StreamError {
    StreamError::Trap(wasmtime::format_err!(
        "write of {len} bytes exceeds what check-write permitted"
    ))
}

/// The output stream of a Unix connection. Dropping it shuts the sending
/// side down (after the write in flight), so the peer sees end-of-file.
#[derive(Debug)]
pub(super) struct UnixOutputStream(UnixWriter);

#[wasmtime_wasi::async_trait]
impl OutputStream for UnixOutputStream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.0.write(bytes)
    }

    fn flush(&mut self) -> StreamResult<()> {
        self.0.flush()
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        self.0.check_write()
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for UnixOutputStream {
    async fn ready(&mut self) {
        std::future::poll_fn(|cx| self.0.poll_ready(cx)).await;
    }
}

impl Drop for UnixOutputStream {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}

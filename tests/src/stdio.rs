//! A guest's standard output or error kept in memory, readable while the
//! guest runs, and a pipe to its standard input: how the suite drives a
//! command (waits for `listening on`, ends a server's input).
//!
//! [`Capture`] is the test's handle; a guest writes through a
//! `CaptureSink`: one in the [`Output`] the options carry (and so in each
//! store made from them), one for each stream the guest opens. Once a sink
//! existed and every sink is gone (the options and the stores were
//! dropped), the output has ended and waiting for more returns.

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncWrite, DuplexStream};
use tokio::sync::Notify;
use wasio_host::{Output, Stdin, StdinReader};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};

/// How many bytes a [`stdin_pipe`] holds that the guest has not read yet;
/// writing more waits for the guest.
pub const STDIN_PIPE_CAPACITY: usize = 64 * 1024;

/// A pipe to a guest's standard input: the guest reads what is written to
/// the returned stream, and end-of-file once it is dropped.
pub fn stdin_pipe() -> (Stdin, DuplexStream) {
    let (reader, writer) = tokio::io::duplex(STDIN_PIPE_CAPACITY);
    (Stdin::Reader(StdinReader::new(reader)), writer)
}

/// How many bytes a [`Capture::new`] keeps.
pub const DEFAULT_CAPTURE_LIMIT: usize = 16 << 20;

/// Output captured in memory: a cloneable handle that reads what the guest
/// wrote so far, while it runs and after.
///
/// Give [`Capture::output`] to the guest's options and keep the capture.
/// Output past the limit is dropped and the guest's stream then reports
/// closed (a Rust guest's `println!` panics on that).
#[derive(Clone)]
pub struct Capture {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    limit: usize,
    /// Notified on every write and when the last sink goes.
    changed: Notify,
}

struct State {
    bytes: Vec<u8>,
    /// Live sinks: the stores' contexts and the guests' streams.
    sinks: usize,
    /// Whether a sink was ever made, so that "no sinks" means "ended"
    /// rather than "not started yet".
    started: bool,
}

impl Capture {
    /// An empty capture that keeps up to [`DEFAULT_CAPTURE_LIMIT`] bytes.
    pub fn new() -> Self {
        Self::with_limit(DEFAULT_CAPTURE_LIMIT)
    }

    /// An empty capture that keeps up to `limit` bytes.
    pub fn with_limit(limit: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    bytes: Vec::new(),
                    sinks: 0,
                    started: false,
                }),
                limit,
                changed: Notify::new(),
            }),
        }
    }

    /// A copy of everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.shared.lock().bytes.clone()
    }

    /// Everything written so far as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.shared.lock().bytes).into_owned()
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.shared.lock().bytes.len()
    }

    /// Whether nothing was written so far.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most bytes this capture keeps.
    pub fn limit(&self) -> usize {
        self.shared.limit
    }

    /// Whether the output has ended: the capture was given to a store and
    /// every store (and every stream the guest opened) is gone.
    pub fn has_ended(&self) -> bool {
        self.shared.lock().has_ended()
    }

    /// Wait until `found` returns `Some` for the output so far, and return
    /// that; `None` if the output ends first.
    ///
    /// `found` runs under the capture's lock after each write: keep it
    /// quick, and do not call this capture's methods from it. The wait has no timeout of its own and does not end while a
    /// store holding the capture lives (a guest that never prints keeps it
    /// waiting): wrap it in `tokio::time::timeout` or race it with the run.
    pub async fn wait_for<T>(&self, mut found: impl FnMut(&[u8]) -> Option<T>) -> Option<T> {
        loop {
            // Register for the next change before looking, so that a write
            // between the look and the wait is not missed.
            let changed = self.shared.changed.notified();
            let mut changed = std::pin::pin!(changed);
            changed.as_mut().enable();
            {
                let state = self.shared.lock();
                if let Some(value) = found(&state.bytes) {
                    return Some(value);
                }
                if state.has_ended() {
                    return None;
                }
            }
            changed.await;
        }
    }

    /// [`Capture::wait_for`] over complete lines: `found` sees each line
    /// once, without its line ending (invalid UTF-8 replaced).
    ///
    /// ```text
    /// let addr = stdout
    ///     .wait_for_line(|line| line.strip_prefix("listening on ").map(str::to_owned))
    ///     .await
    ///     .expect("the server exited before it listened");
    /// ```
    pub async fn wait_for_line<T>(&self, mut found: impl FnMut(&str) -> Option<T>) -> Option<T> {
        let mut next_line = 0;
        self.wait_for(|bytes| {
            while let Some(end) = bytes[next_line..].iter().position(|&b| b == b'\n') {
                let line = &bytes[next_line..next_line + end];
                next_line += end + 1;
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if let Some(value) = found(&String::from_utf8_lossy(line)) {
                    return Some(value);
                }
            }
            None
        })
        .await
    }

    /// The guest's standard output or error, written to this capture.
    pub fn output(&self) -> Output {
        Output::stream(self.sink())
    }

    /// A new writing end.
    fn sink(&self) -> CaptureSink {
        CaptureSink::new(Arc::clone(&self.shared))
    }
}

impl Default for Capture {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Capture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Capture")
            .field("len", &state.bytes.len())
            .field("limit", &self.shared.limit)
            .field("ended", &state.has_ended())
            .finish()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keep as much of `bytes` as fits; returns how much that was.
    fn append(&self, bytes: &[u8]) -> usize {
        let kept = {
            let mut state = self.lock();
            let room = self.limit.saturating_sub(state.bytes.len());
            let kept = bytes.len().min(room);
            state.bytes.extend_from_slice(&bytes[..kept]);
            kept
        };
        if kept > 0 {
            self.changed.notify_waiters();
        }
        kept
    }

    fn room(&self) -> usize {
        self.limit.saturating_sub(self.lock().bytes.len())
    }
}

impl State {
    fn has_ended(&self) -> bool {
        self.started && self.sinks == 0
    }
}

/// The writing end of a [`Capture`]: the `wasi:cli` stdout (or stderr) of a
/// store, and each output stream the guest gets from it. Writes complete at
/// once; past the limit the stream reports closed.
struct CaptureSink {
    shared: Arc<Shared>,
}

impl CaptureSink {
    fn new(shared: Arc<Shared>) -> Self {
        {
            let mut state = shared.lock();
            state.sinks += 1;
            state.started = true;
        }
        Self { shared }
    }
}

impl Clone for CaptureSink {
    fn clone(&self) -> Self {
        Self::new(Arc::clone(&self.shared))
    }
}

impl Drop for CaptureSink {
    fn drop(&mut self) {
        let ended = {
            let mut state = self.shared.lock();
            state.sinks -= 1;
            state.sinks == 0
        };
        if ended {
            self.shared.changed.notify_waiters();
        }
    }
}

impl IsTerminal for CaptureSink {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CaptureSink {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for CaptureSink {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        // More than `check-write` allowed can only come from several streams
        // sharing the capture: keep what fits rather than trap.
        self.shared.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        match self.shared.room() {
            0 => Err(StreamError::Closed),
            room => Ok(room),
        }
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CaptureSink {
    async fn ready(&mut self) {}
}

impl AsyncWrite for CaptureSink {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(self.shared.append(buf)))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

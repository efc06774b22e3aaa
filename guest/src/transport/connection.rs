//! One stream: the core's reader and write buffer joined to a socket's
//! `wasi:io` streams.
//!
//! Bytes are read from the socket when a read needs more than is buffered
//! (never while the reader is paused and nobody waits), and written by a
//! background task that the first `write` after an idle period spawns. That
//! task runs when the writing task yields to the event loop, so a burst of
//! writes leaves in one `check-write` / `write` pair; it keeps the
//! connection alive until everything buffered has gone out, as an asyncio
//! transport does, and then shuts down and releases the socket if the
//! writer was closed.

use std::cell::RefCell;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use wasip2::clocks::monotonic_clock;
use wasip2::io::poll::Pollable;
use wasip2::io::streams::{InputStream, OutputStream, StreamError};

use super::address::{AddressFamily, ExtraInfo};
use super::errors::from_stream;
use super::socket::{Opened, Socket};
use crate::core::{Error, ReadPoll, StreamReader, WriteBuffer};
use crate::runtime::{self, Interest};

/// Smallest and largest socket read. wasmtime allocates and zeroes a host
/// buffer of the requested size (up to 64 KiB) on every read, so reads
/// start small and grow while they come back full.
const MIN_READ: u64 = 4 * 1024;
const MAX_READ: u64 = 64 * 1024;

/// Flow-control settings of one stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamLimits {
    /// The reader's limit; `None` is asyncio's 64 KiB.
    pub limit: Option<usize>,
    /// The writer's high-water mark; `None` derives it from `low` or uses
    /// 64 KiB.
    pub high: Option<usize>,
    /// The writer's low-water mark; `None` is a quarter of `high`.
    pub low: Option<usize>,
}

impl StreamLimits {
    fn build(&self) -> Result<(StreamReader, WriteBuffer), Error> {
        let reader = match self.limit {
            Some(limit) => StreamReader::new(limit)?,
            None => StreamReader::default(),
        };
        let mut writer = WriteBuffer::new();
        if self.high.is_some() || self.low.is_some() {
            writer.set_write_buffer_limits(self.high, self.low)?;
        }
        Ok((reader, writer))
    }
}

/// The socket side of a connection. Fields drop in order: pollables before
/// the streams they watch, streams before their socket.
#[derive(Debug)]
struct Io {
    input_ready: Rc<Pollable>,
    output_ready: Rc<Pollable>,
    input: InputStream,
    output: OutputStream,
    socket: Socket,
}

impl Io {
    /// Let the socket go. Dropping an output stream waits for the write in
    /// flight (wasmtime-wasi's TCP stream does), which a peer that never
    /// reads would hold up forever: while a write is in flight, a task
    /// drops the socket once it completes (or the instance ends), and the
    /// caller goes on at once.
    fn retire(self) {
        if !matches!(self.output.check_write(), Ok(0)) {
            return;
        }
        let ready = self.output_ready.clone();
        runtime::spawn(async move {
            runtime::wait_for(ready).await;
            drop(self);
        })
        .detach();
    }
}

#[derive(Debug)]
struct State {
    reader: StreamReader,
    writer: WriteBuffer,
    io: Option<Io>,
    family: AddressFamily,
    /// A reader made without a transport, fed by `feed_data`.
    standalone: bool,
    /// The waiting read, woken by whatever ends its wait other than the
    /// socket: `feed_data`, `feed_eof`, `set_exception`.
    read_waker: Option<Waker>,
    flushing: bool,
    read_size: u64,
    /// The last non-blocking read answered "would block".
    read_blocked: bool,
    /// The last socket read came back short, so the socket is most likely
    /// empty: the next read that needs bytes waits for the input pollable
    /// instead of spending a host call on a read that finds nothing.
    /// (wasmtime-wasi's TCP pollable can still be ready then, until a read
    /// finds nothing, which costs a `poll`; request/response measured
    /// faster this way all the same, and the Unix streams save a call.)
    drained: bool,
    /// The identity the last read that had to wait was given.
    last_waiter: u64,
    /// Woken when the socket is released.
    release_wakers: Vec<Waker>,
    /// A flush before shutting down was requested.
    flushed_for_shutdown: bool,
}

/// What one attempt at sending the write buffer achieved.
enum Flush {
    /// Nothing left to do for now.
    Idle,
    /// The socket takes no more bytes until its output pollable is ready.
    Blocked,
}

/// A stream shared by its reader, its writer and its background flush.
#[derive(Debug)]
pub struct Connection {
    state: RefCell<State>,
}

impl Connection {
    /// A connection over an open socket and its streams.
    pub fn open(opened: Opened, limits: &StreamLimits) -> Result<Rc<Self>, Error> {
        let (reader, writer) = limits.build()?;
        let Opened {
            input,
            output,
            socket,
        } = opened;
        let family = socket.family();
        let io = Io {
            input_ready: Rc::new(input.subscribe()),
            output_ready: Rc::new(output.subscribe()),
            input,
            output,
            socket,
        };
        Ok(Self::with_state(reader, writer, Some(io), family))
    }

    /// A reader with no transport, fed by [`feed_data`](Self::feed_data).
    pub fn standalone(limit: Option<usize>) -> Result<Rc<Self>, Error> {
        let (reader, mut writer) = StreamLimits {
            limit,
            ..StreamLimits::default()
        }
        .build()?;
        writer.close();
        writer.closed_done();
        Ok(Self::with_state(reader, writer, None, AddressFamily::Unix))
    }

    /// A connection over `io`; without one, a standalone reader.
    fn with_state(
        reader: StreamReader,
        writer: WriteBuffer,
        io: Option<Io>,
        family: AddressFamily,
    ) -> Rc<Self> {
        Rc::new(Self {
            state: RefCell::new(State {
                reader,
                writer,
                standalone: io.is_none(),
                io,
                family,
                read_waker: None,
                flushing: false,
                read_size: MIN_READ,
                read_blocked: false,
                drained: false,
                last_waiter: 0,
                release_wakers: Vec::new(),
                flushed_for_shutdown: false,
            }),
        })
    }

    /// Whether this is a reader without a transport.
    pub fn is_standalone(&self) -> bool {
        self.state.borrow().standalone
    }

    // --- reading ------------------------------------------------------------

    /// Attempt the read `op`, reading from the socket while it needs more.
    ///
    /// With a context the caller waits: it becomes the reader's one waiter
    /// and is woken when more bytes can be read. Its identity (`0` until it
    /// first waits) is given here, so a read that completes at once costs
    /// no bookkeeping. Without a context (the non-blocking form) the caller
    /// only learns that the read would block.
    pub fn poll_read<T>(
        &self,
        op: &mut dyn FnMut(&mut StreamReader) -> ReadPoll<T>,
        waiter: Option<(&mut u64, &mut Interest, &Context<'_>)>,
    ) -> Poll<Result<T, Error>> {
        let mut state = self.state.borrow_mut();
        loop {
            if let Poll::Ready(result) = op(&mut state.reader) {
                state.read_blocked = false;
                if let Some((id, interest, _)) = waiter {
                    if *id != 0 {
                        state.reader.release_waiter(std::mem::take(id));
                    }
                    interest.cancel();
                }
                return Poll::Ready(result);
            }
            if !state.fill() {
                break;
            }
        }
        state.read_blocked = true;
        // Whoever asks next has waited (or been told to wait): it reads.
        state.drained = false;
        let Some((id, interest, cx)) = waiter else {
            return Poll::Ready(Err(Error::WouldBlock));
        };
        if *id == 0 {
            state.last_waiter += 1;
            *id = state.last_waiter;
        }
        if let Err(error) = state.reader.claim_waiter(*id) {
            return Poll::Ready(Err(error));
        }
        if let Some(io) = &state.io {
            interest.wait_for(&io.input_ready, cx);
        }
        state.read_waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// A read waiter gave up (its future was dropped).
    pub fn release_waiter(&self, id: u64) {
        self.state.borrow_mut().reader.release_waiter(id);
    }

    /// Run `f` on the core reader (for the calls that never wait).
    pub fn with_reader<R>(&self, f: impl FnOnce(&mut StreamReader) -> R) -> R {
        f(&mut self.state.borrow_mut().reader)
    }

    /// Append bytes to a reader made without a transport.
    pub fn feed_data(&self, data: &[u8]) -> Result<(), Error> {
        let mut state = self.state.borrow_mut();
        if !state.standalone {
            return Err(Error::invalid_state(
                "feed_data on a reader that belongs to a connection",
            ));
        }
        state.reader.feed_data(data)?;
        state.wake_reader();
        Ok(())
    }

    /// asyncio's `set_exception`: later reads fail with `error`, and a
    /// read waiting now wakes up to fail with it.
    pub fn set_exception(&self, error: Error) {
        let mut state = self.state.borrow_mut();
        state.reader.set_exception(error);
        state.wake_reader();
    }

    /// Mark the end of a reader made without a transport.
    pub fn feed_eof(&self) {
        let mut state = self.state.borrow_mut();
        if state.standalone {
            state.reader.feed_eof();
            state.wake_reader();
        }
    }

    /// A pollable for the reader's `subscribe`: the socket's input when the
    /// last read would have blocked, else one that is ready at once.
    pub fn subscribe_read(&self) -> Pollable {
        runtime::run_until_stalled();
        let state = self.state.borrow();
        match &state.io {
            Some(io) if state.read_blocked && !state.reader.is_ended() => io.input.subscribe(),
            _ => monotonic_clock::subscribe_duration(0),
        }
    }

    // --- writing ------------------------------------------------------------

    /// Buffer `data`; a background flush sends it when the caller yields.
    pub fn write(self: &Rc<Self>, data: &[u8]) -> Result<(), Error> {
        self.buffer_write(|writer| writer.write(data))
    }

    /// Buffer `data` without copying it when nothing else is buffered.
    pub fn write_owned(self: &Rc<Self>, data: Vec<u8>) -> Result<(), Error> {
        self.buffer_write(|writer| writer.write_owned(data))
    }

    /// Half-close once the buffer is sent.
    pub fn write_eof(self: &Rc<Self>) -> Result<(), Error> {
        self.buffer_write(WriteBuffer::write_eof)
    }

    /// Apply `f` to the write buffer and make sure a flush will follow.
    fn buffer_write(
        self: &Rc<Self>,
        f: impl FnOnce(&mut WriteBuffer) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut state = self.state.borrow_mut();
        f(&mut state.writer)?;
        if state.flushing || state.io.is_none() {
            return Ok(());
        }
        drop(state);
        self.schedule_flush();
        Ok(())
    }

    /// Close once the buffer is sent: shut down, then release the socket.
    pub fn close(self: &Rc<Self>) {
        let mut state = self.state.borrow_mut();
        state.writer.close();
        if state.io.is_none() {
            state.writer.closed_done();
            return;
        }
        drop(state);
        self.schedule_flush();
    }

    /// Close at once, dropping whatever is buffered.
    pub fn abort(&self) {
        let mut state = self.state.borrow_mut();
        state.writer.close();
        state.release(None);
    }

    /// Run `f` on the core write buffer (for the calls that never wait).
    pub fn with_writer<R>(&self, f: impl FnOnce(&mut WriteBuffer) -> R) -> R {
        f(&mut self.state.borrow_mut().writer)
    }

    /// asyncio's `drain`: ready at once unless the writer is paused (above
    /// its high-water mark); then send what the socket takes and wait for
    /// the low-water mark. A reader exception (the connection failed) is
    /// reported first, as in asyncio.
    pub fn poll_drain(
        &self,
        waiter: Option<(&mut Interest, &Context<'_>)>,
    ) -> Poll<Result<(), Error>> {
        let mut state = self.state.borrow_mut();
        if let Some(error) = state.reader.exception() {
            return Poll::Ready(Err(error.clone()));
        }
        if let Poll::Ready(result) = state.writer.drain() {
            return Poll::Ready(result);
        }
        let flush = state.flush();
        match state.writer.drain() {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => state.wait_writable(flush, waiter),
        }
    }

    /// Send everything buffered: ready once the write buffer is empty.
    pub fn poll_flushed(
        &self,
        waiter: Option<(&mut Interest, &Context<'_>)>,
    ) -> Poll<Result<(), Error>> {
        let mut state = self.state.borrow_mut();
        let flush = state.flush();
        if let Some(error) = state.writer.lost() {
            return Poll::Ready(Err(error.clone()));
        }
        if state.writer.write_buffer_size() == 0 {
            return Poll::Ready(Ok(()));
        }
        state.wait_writable(flush, waiter)
    }

    /// asyncio's `wait_closed`: sends what is left and completes once the
    /// socket is released.
    pub fn poll_wait_closed(
        &self,
        waiter: Option<(&mut Interest, &Context<'_>)>,
    ) -> Poll<Result<(), Error>> {
        let mut state = self.state.borrow_mut();
        let flush = state.flush();
        match state.writer.wait_closed() {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => state.wait_writable(flush, waiter),
        }
    }

    /// A pollable for the writer's `subscribe`: the socket's output while
    /// `drain` or `wait_closed` would wait on it, else ready at once.
    pub fn subscribe_write(&self) -> Pollable {
        runtime::run_until_stalled();
        let state = self.state.borrow();
        match &state.io {
            Some(io) if state.writer.write_buffer_size() > 0 || state.writer.wants_release() => {
                io.output.subscribe()
            }
            _ => monotonic_clock::subscribe_duration(0),
        }
    }

    /// asyncio's `get_extra_info`.
    pub fn extra_info(&self) -> ExtraInfo {
        let state = self.state.borrow();
        match &state.io {
            Some(io) => io.socket.extra_info(),
            None => ExtraInfo {
                peername: None,
                sockname: None,
                family: state.family,
            },
        }
    }

    /// Whether the socket has been released.
    pub fn is_released(&self) -> bool {
        self.state.borrow().io.is_none()
    }

    /// Wake `waker` when the socket is released (at once if it is).
    pub fn on_release(&self, waker: &Waker) {
        let mut state = self.state.borrow_mut();
        if state.io.is_none() {
            waker.wake_by_ref();
        } else {
            state.add_release_waker(waker);
        }
    }

    /// Start the background flush unless it runs already.
    fn schedule_flush(self: &Rc<Self>) {
        let mut state = self.state.borrow_mut();
        if state.flushing || state.io.is_none() {
            return;
        }
        state.flushing = true;
        drop(state);
        let connection = self.clone();
        // The task ends once there is nothing left to send.
        runtime::spawn(async move {
            let mut interest = Interest::default();
            std::future::poll_fn(|cx| {
                let mut state = connection.state.borrow_mut();
                match state.flush() {
                    Flush::Idle => {
                        state.flushing = false;
                        Poll::Ready(())
                    }
                    Flush::Blocked => {
                        let output_ready = state.io.as_ref().map(|io| io.output_ready.clone());
                        if let Some(pollable) = output_ready {
                            interest.wait_for(&pollable, cx);
                        }
                        Poll::Pending
                    }
                }
            })
            .await;
        })
        .detach();
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(io) = self.state.get_mut().io.take() {
            io.retire();
        }
    }
}

impl State {
    fn wake_reader(&mut self) {
        if let Some(waker) = self.read_waker.take() {
            waker.wake();
        }
    }

    /// Read once from the socket into the reader. Returns whether anything
    /// changed (bytes, end of file or an error arrived).
    fn fill(&mut self) -> bool {
        let Some(io) = &self.io else {
            return false;
        };
        if self.reader.is_ended() || self.drained {
            return false;
        }
        match io.input.read(self.read_size) {
            Ok(bytes) if bytes.is_empty() => false,
            Ok(bytes) => {
                let full = bytes.len() as u64 == self.read_size;
                self.drained = !full;
                self.read_size = if full {
                    (self.read_size * 2).min(MAX_READ)
                } else if (bytes.len() as u64) < self.read_size / 4 {
                    (self.read_size / 2).max(MIN_READ)
                } else {
                    self.read_size
                };
                // A reader fed by its own socket is never past EOF here.
                let _ = self.reader.feed_owned(bytes);
                true
            }
            Err(StreamError::Closed) => {
                self.reader.feed_eof();
                self.release_if_done();
                true
            }
            Err(error) => {
                self.read_failed(from_stream(error));
                true
            }
        }
    }

    /// Send as much of the write buffer as the socket takes without
    /// waiting; shut down and release the socket when the writer asks.
    fn flush(&mut self) -> Flush {
        loop {
            let Some(io) = &self.io else {
                return Flush::Idle;
            };
            if self.writer.pending().is_empty() {
                if self.writer.wants_shutdown() {
                    // Everything written must reach the socket before the
                    // FIN: flush, and shut down once the flush completed.
                    let flushed = match self.flushed_for_shutdown {
                        false => io.output.flush().map(|()| 0),
                        true => io.output.check_write(),
                    };
                    match flushed {
                        Ok(0) if !self.flushed_for_shutdown => {
                            self.flushed_for_shutdown = true;
                            continue;
                        }
                        Ok(0) => return Flush::Blocked,
                        Ok(_) => {}
                        Err(error) => {
                            self.write_failed(from_stream(error));
                            continue;
                        }
                    }
                    if let Err(error) = io.socket.shutdown_send() {
                        self.write_failed(error);
                        continue;
                    }
                    self.writer.shutdown_done();
                }
                if self.writer.wants_release() {
                    self.release(None);
                }
                return Flush::Idle;
            }
            let granted = match io.output.check_write() {
                Ok(0) => return Flush::Blocked,
                Ok(n) => usize::try_from(n).unwrap_or(usize::MAX),
                Err(error) => {
                    self.write_failed(from_stream(error));
                    continue;
                }
            };
            let pending = self.writer.pending();
            let n = granted.min(pending.len());
            match io.output.write(&pending[..n]) {
                Ok(()) => self.writer.consume(n),
                Err(error) => self.write_failed(from_stream(error)),
            }
        }
    }

    /// Reading failed: the connection is gone. The reader reports the
    /// error after its buffered bytes, the writer drops its buffer, the
    /// socket goes.
    fn read_failed(&mut self, error: Error) {
        self.writer.connection_lost(error.clone());
        self.release(Some(error));
    }

    /// Writing failed (the peer reset or went away): the writer drops its
    /// buffer and its `drain` fails from now on. What the peer sent before
    /// stays readable: the socket is released only once reading has ended
    /// too.
    fn write_failed(&mut self, error: Error) {
        self.writer.connection_lost(error);
        self.release_if_done();
    }

    /// Release the socket once neither half can do anything more.
    fn release_if_done(&mut self) {
        if self.io.is_some() && self.reader.is_ended() && self.writer.lost().is_some() {
            self.release(None);
        }
    }

    /// Release the socket; the reader sees end of file (or `error`).
    fn release(&mut self, error: Option<Error>) {
        if let Some(io) = self.io.take() {
            io.retire();
        }
        match error {
            Some(error) => self.reader.feed_error(error),
            None => self.reader.feed_eof(),
        }
        self.writer.closed_done();
        self.wake_reader();
        self.release_wakers.drain(..).for_each(Waker::wake);
    }

    fn add_release_waker(&mut self, waker: &Waker) {
        if !self.release_wakers.iter().any(|w| w.will_wake(waker)) {
            self.release_wakers.push(waker.clone());
        }
    }

    /// Register a writer-side waiter on the socket's output (or, with
    /// nothing to send, on the socket's release), or report `would-block`
    /// to a non-blocking caller.
    fn wait_writable(
        &mut self,
        flush: Flush,
        waiter: Option<(&mut Interest, &Context<'_>)>,
    ) -> Poll<Result<(), Error>> {
        let Some((interest, cx)) = waiter else {
            return Poll::Ready(Err(Error::WouldBlock));
        };
        match (&self.io, flush) {
            (Some(io), Flush::Blocked) => {
                interest.wait_for(&io.output_ready, cx);
                // An abort releases the socket without the output becoming
                // ready: it wakes this waiter too.
                self.add_release_waker(cx.waker());
            }
            (Some(_), Flush::Idle) => self.add_release_waker(cx.waker()),
            (None, _) => cx.waker().wake_by_ref(),
        }
        Poll::Pending
    }
}

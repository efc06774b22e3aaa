//! One connection: the decisions of a [`Protocol`] carried out on a
//! socket's two halves.
//!
//! Two tasks move bytes while the event loop waits, as an asyncio
//! transport's reader and writer callbacks do. The *receiver* reads
//! whenever the socket is readable and reading is not paused, so a read
//! that starts finds everything that has arrived, and the peer's end of
//! file or reset is noticed with no read pending. The *sender*, started by
//! the first write after an idle period, runs when the writing task yields
//! (so a burst of writes leaves in one send), and shuts down and lets the
//! socket go when the protocol says so. A read that needs bytes, a drain
//! that must wait, `write_eof` and `close` move bytes at once.

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use wasip2::clocks::monotonic_clock;
use wasip2::io::poll::Pollable;

use super::TlsSession;
use super::address::{AddressFamily, ExtraInfo};
use super::input::{Input, Read};
use super::options::StreamLimits;
use super::output::Output;
use super::socket::{Opened, Socket};
use crate::core::{Error, Protocol, ReadPoll, Reason, Round, Send, StreamReader, WriteBuffer};
use crate::runtime::{self, Interest};

/// The socket and its halves. Fields drop in order: the streams (and
/// their pollables), then the TLS session they belong to if any, then the
/// socket.
#[derive(Debug)]
struct Halves {
    input: Input,
    output: Output,
    tls: Option<TlsSession>,
    socket: Socket,
}

impl Halves {
    /// Send end of file once everything written has gone out; over TLS,
    /// `close_notify` first (after which the TLS output is closed).
    /// `false`: not yet, wait for the output.
    fn shutdown_send(&mut self) -> Result<bool, Error> {
        let closing_tls = self.tls.as_ref().is_some_and(TlsSession::is_closing);
        if !closing_tls && !self.output.flushed()? {
            return Ok(false);
        }
        if let Some(tls) = &mut self.tls {
            tls.close_output();
            if !self.output.closed()? {
                return Ok(false);
            }
        }
        self.socket.shutdown_send().map(|()| true)
    }

    /// Let the socket go. Dropping an output stream waits for the write in
    /// flight (wasmtime-wasi's TCP stream does), which a peer that never
    /// reads would hold up forever: while a write is in flight, a task
    /// drops the socket once it completes (or the instance ends), and the
    /// caller goes on at once.
    fn retire(self) {
        if !self.output.is_busy() {
            return;
        }
        let ready = self.output.ready().clone();
        runtime::spawn(async move {
            runtime::wait_for(ready).await;
            drop(self);
        })
        .detach();
    }
}

/// Whether the socket is still there.
#[derive(Debug)]
enum Transport {
    Open(Halves),
    /// Released, but kept until the connection goes: a caller holds
    /// pollables of its streams, and `wasi:io` forbids dropping a resource
    /// before its children.
    Kept(Halves),
    Released,
    /// Its streams are with the TLS handshake of `start_tls`.
    #[cfg(feature = "tls")]
    Upgrading,
}

/// Whether a sender task is on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sender {
    Idle,
    Scheduled,
}

/// What sending achieved for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    /// Nothing is left to do until the protocol has more.
    Done,
    /// The socket takes no more until its output is ready.
    Blocked,
}

#[derive(Debug)]
struct Inner {
    protocol: Protocol,
    transport: Transport,
    family: AddressFamily,
    /// The addresses, learnt when first asked for or when the socket goes,
    /// so that `get_extra_info` answers after `close` as asyncio does.
    info: Option<ExtraInfo>,
    sender: Sender,
    /// The last non-blocking read answered `would-block`, and nothing has
    /// arrived since: the reader's `subscribe` waits on the socket.
    read_blocked: bool,
    /// Pollables of the streams were handed out (`subscribe`).
    lent: bool,
    /// The reader's caller holds a pollable of the socket's input and will
    /// read once it is ready: until the reader is called again, the
    /// receiver leaves the socket alone, or a turn of the event loop for
    /// another resource could take in the bytes that pollable stands for
    /// and leave it unready with a read that would succeed.
    input_lent: Option<Waker>,
    /// Woken when the socket goes: `wait_closed`, waiting drains, servers.
    release_wakers: Vec<Waker>,
    /// The receiver, while it waits on the socket's input.
    #[cfg(feature = "tls")]
    receiver: Option<Waker>,
}

/// A stream shared by its reader, its writer and its two tasks.
#[derive(Debug)]
pub struct Connection {
    inner: RefCell<Inner>,
}

impl Connection {
    /// A connection over an open socket and its streams; its receiver
    /// starts watching the socket.
    pub fn open(opened: Opened, limits: &StreamLimits) -> Result<Rc<Self>, Error> {
        let Opened {
            input,
            output,
            tls,
            socket,
            lent,
        } = opened;
        let connection = Rc::new(Self {
            inner: RefCell::new(Inner {
                protocol: Protocol::new(limits.reader()?, limits.writer()?),
                family: socket.family(),
                transport: Transport::Open(Halves {
                    input: Input::new(input),
                    output: Output::new(output),
                    tls,
                    socket,
                }),
                info: None,
                sender: Sender::Idle,
                read_blocked: false,
                lent,
                input_lent: None,
                release_wakers: Vec::new(),
                #[cfg(feature = "tls")]
                receiver: None,
            }),
        });
        spawn_receiver(Rc::downgrade(&connection));
        Ok(connection)
    }

    // --- reading ------------------------------------------------------------

    /// Attempt the read `op`, reading from the socket while it needs more.
    ///
    /// With a waiter the caller waits: it becomes the reader's one waiting
    /// read (given an identity the first time) and is woken when the
    /// receiver brings something. Without one (the non-blocking form) the
    /// caller only learns that the read would block.
    pub fn poll_read<T>(
        &self,
        op: &mut dyn FnMut(&mut StreamReader) -> ReadPoll<T>,
        waiter: Option<(&mut u64, &Context<'_>)>,
    ) -> Poll<Result<T, Error>> {
        let mut inner = self.inner.borrow_mut();
        inner.reader_called();
        loop {
            if let Poll::Ready(result) = op(inner.protocol.reader_mut()) {
                inner.read_blocked = false;
                if let Some((id, _)) = waiter {
                    inner
                        .protocol
                        .reader_mut()
                        .release_waiter(std::mem::take(id));
                }
                return Poll::Ready(result);
            }
            if !inner.receive(Reason::OnDemand).changed() {
                break;
            }
        }
        inner.read_blocked = true;
        inner.protocol.waiting();
        let Some((id, cx)) = waiter else {
            return Poll::Ready(Err(Error::WouldBlock));
        };
        match inner.protocol.reader_mut().claim_waiter(id, cx.waker()) {
            Ok(()) => Poll::Pending,
            Err(error) => Poll::Ready(Err(error)),
        }
    }

    /// Run `f` on the core reader (for the calls that never wait).
    pub fn with_reader<R>(&self, f: impl FnOnce(&mut StreamReader) -> R) -> R {
        f(self.inner.borrow_mut().protocol.reader_mut())
    }

    /// Take in what the socket has already delivered, before answering a
    /// question about the connection's state (`at_eof`, `exception`,
    /// `is_closing`), as asyncio's event loop would have between two
    /// steps of a task.
    pub fn refresh(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.reader_called();
        if inner.protocol.wants_read() {
            inner.receive(Reason::Ready);
        }
    }

    /// A pollable for the reader's `subscribe`: the socket's input when the
    /// last read would have blocked, else one that is ready at once.
    pub fn subscribe_read(&self) -> Pollable {
        let mut inner = self.inner.borrow_mut();
        let wants_socket = inner.read_blocked && inner.protocol.wants_read();
        match &inner.transport {
            Transport::Open(halves) if wants_socket => {
                let pollable = halves.input.subscribe();
                inner.lent = true;
                inner
                    .input_lent
                    .get_or_insert_with(|| Waker::noop().clone());
                pollable
            }
            _ => monotonic_clock::subscribe_duration(0),
        }
    }

    // --- writing ------------------------------------------------------------

    /// Buffer `data`; the sender sends it when the caller yields.
    pub fn write(self: &Rc<Self>, data: &[u8]) -> Result<(), Error> {
        self.buffer_write(|writer| writer.write(data))
    }

    /// Buffer `data`, without copying it if it is long.
    pub fn write_bytes(self: &Rc<Self>, data: Bytes) -> Result<(), Error> {
        self.buffer_write(|writer| writer.write_bytes(data))
    }

    /// Apply `f` to the write buffer and make sure a sender will follow.
    fn buffer_write(
        self: &Rc<Self>,
        f: impl FnOnce(&mut WriteBuffer) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut inner = self.inner.borrow_mut();
        f(inner.protocol.writer_mut())?;
        if inner.sender == Sender::Idle {
            inner.sender = Sender::Scheduled;
            drop(inner);
            spawn_sender(self.clone());
        }
        Ok(())
    }

    /// Half-close: end of file goes out after the buffer, now if the
    /// socket takes it.
    pub fn write_eof(self: &Rc<Self>) -> Result<(), Error> {
        self.finish(|writer| writer.write_eof())
    }

    /// Close: the buffer goes out, then end of file, then the socket; as
    /// much of it now as the socket takes.
    pub fn close(self: &Rc<Self>) {
        let _ = self.finish(|writer| {
            writer.close();
            Ok(())
        });
    }

    /// Apply `f`, then send at once what can be sent, leaving the rest to
    /// a sender.
    fn finish(
        self: &Rc<Self>,
        f: impl FnOnce(&mut WriteBuffer) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut inner = self.inner.borrow_mut();
        f(inner.protocol.writer_mut())?;
        if inner.send() == Sent::Blocked && inner.sender == Sender::Idle {
            inner.sender = Sender::Scheduled;
            drop(inner);
            spawn_sender(self.clone());
        }
        Ok(())
    }

    /// Close at once, dropping whatever is buffered.
    pub fn abort(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.protocol.writer_mut().abort();
        inner.send();
    }

    /// Run `f` on the core write buffer (for the calls that never wait).
    pub fn with_writer<R>(&self, f: impl FnOnce(&mut WriteBuffer) -> R) -> R {
        f(self.inner.borrow_mut().protocol.writer_mut())
    }

    /// asyncio's `drain`: ready at once unless the writer is paused (above
    /// its high-water mark); then send what the socket takes and wait for
    /// the low-water mark. `waited` tells a drain that has already waited.
    pub fn poll_drain(
        &self,
        waited: bool,
        waiter: Option<(&mut Interest, &Context<'_>)>,
    ) -> Poll<Result<(), Error>> {
        let mut inner = self.inner.borrow_mut();
        if let Poll::Ready(result) = inner.protocol.drain(waited) {
            return Poll::Ready(result);
        }
        let sent = inner.send();
        match inner.protocol.drain(waited) {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => inner.wait_writable(sent, waiter),
        }
    }

    /// Send what is buffered now, as far as the socket takes it (the
    /// non-blocking `drain`'s promise to start sending).
    pub fn send_now(&self) {
        self.inner.borrow_mut().send();
    }

    /// Send everything buffered: ready once the write buffer is empty.
    pub fn poll_flushed(
        &self,
        waiter: Option<(&mut Interest, &Context<'_>)>,
    ) -> Poll<Result<(), Error>> {
        let mut inner = self.inner.borrow_mut();
        let sent = inner.send();
        match inner.protocol.writer().flushed() {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => inner.wait_writable(sent, waiter),
        }
    }

    /// asyncio's `wait_closed`: sends what is left and completes once the
    /// socket is released.
    pub fn poll_wait_closed(
        &self,
        waiter: Option<(&mut Interest, &Context<'_>)>,
    ) -> Poll<Result<(), Error>> {
        let mut inner = self.inner.borrow_mut();
        let sent = inner.send();
        match inner.protocol.writer().wait_closed() {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => inner.wait_writable(sent, waiter),
        }
    }

    /// A pollable for the writer's `subscribe`: the socket's output while
    /// `drain` or `wait_closed` would wait on it, else ready at once.
    /// The caller is about to wait, so what can be sent goes first.
    pub fn subscribe_write(&self) -> Pollable {
        let mut inner = self.inner.borrow_mut();
        let wants_socket = inner.send() == Sent::Blocked;
        match &inner.transport {
            Transport::Open(halves) if wants_socket => {
                let pollable = halves.output.subscribe();
                inner.lent = true;
                pollable
            }
            _ => monotonic_clock::subscribe_duration(0),
        }
    }

    // --- TLS ----------------------------------------------------------------

    /// asyncio's `start_tls`: send what is buffered, then hand the
    /// socket's streams to a TLS handshake with `server_name`; reads and
    /// writes go over TLS from then on. Nothing may be buffered unread (it
    /// would have come before the handshake), and no pollable of the
    /// streams may be out (they move to the host). A failed handshake
    /// loses the connection: its streams went to the handshake.
    #[cfg(feature = "tls")]
    pub async fn start_tls(self: &Rc<Self>, server_name: &str) -> Result<(), Error> {
        let mut interest = Interest::default();
        poll_fn(|cx| self.poll_flushed(Some((&mut interest, cx)))).await?;
        drop(interest);
        // Dropped before the handshake has ended (a timeout), the guard
        // loses the connection: its socket went with the dropped future.
        let guard = UpgradeGuard(self);
        let halves = self.take_for_tls().await?;
        let Halves {
            input,
            output,
            socket,
            ..
        } = halves;
        let opened = Opened::new(socket, input.into_stream(), output.into_stream());
        let mut handshake = super::Handshaking::start(opened, server_name);
        let mut interest = Interest::default();
        let outcome = poll_fn(|cx| {
            let poll = handshake.poll();
            if poll.is_pending() {
                interest.wait_for(handshake.pollable(), cx);
            }
            poll
        })
        .await;
        drop(interest);
        drop(handshake);
        let mut inner = self.inner.borrow_mut();
        let result = match outcome {
            Ok(opened) => {
                inner.transport = Transport::Open(Halves {
                    input: Input::new(opened.input),
                    output: Output::new(opened.output),
                    tls: opened.tls,
                    socket: opened.socket,
                });
                inner.read_blocked = false;
                Ok(())
            }
            Err(error) => {
                inner.lose_upgrade(error.clone());
                Err(error)
            }
        };
        // Ended either way: nothing for the guard to do (and `inner` is
        // borrowed).
        std::mem::forget(guard);
        inner.release_wakers.drain(..).for_each(Waker::wake);
        let resend = result.is_ok()
            && inner.protocol.writer().write_buffer_size() > 0
            && inner.sender == Sender::Idle;
        if resend {
            inner.sender = Sender::Scheduled;
        }
        drop(inner);
        if result.is_ok() {
            spawn_receiver(Rc::downgrade(self));
        }
        if resend {
            spawn_sender(self.clone());
        }
        result
    }

    /// Take the socket's halves out for `start_tls`, once the receiver,
    /// the sender and waiting drains have let go of their pollables.
    #[cfg(feature = "tls")]
    async fn take_for_tls(self: &Rc<Self>) -> Result<Halves, Error> {
        /// Turns of the event loop the tasks get to let go.
        const TURNS: usize = 16;
        let halves = self.inner.borrow_mut().begin_upgrade()?;
        for _ in 0..TURNS {
            if Rc::strong_count(halves.input.ready()) == 1
                && Rc::strong_count(halves.output.ready()) == 1
            {
                return Ok(halves);
            }
            // A turn of the event loop: ready tasks run, and the reactor
            // wakes those whose pollables are ready.
            runtime::wait_for(Rc::new(monotonic_clock::subscribe_duration(0))).await;
        }
        // Still in use: give the socket back as it was.
        self.inner.borrow_mut().transport = Transport::Open(halves);
        spawn_receiver(Rc::downgrade(self));
        Err(Error::invalid_state(
            "start_tls: the stream's pollables are still in use",
        ))
    }

    // --- the connection -----------------------------------------------------

    /// asyncio's `get_extra_info`, also after the socket has gone.
    pub fn extra_info(&self) -> ExtraInfo {
        let mut inner = self.inner.borrow_mut();
        inner.learn_info();
        inner.info.clone().unwrap_or(ExtraInfo {
            peername: None,
            sockname: None,
            family: inner.family,
        })
    }

    /// Whether the socket has been released.
    pub fn is_released(&self) -> bool {
        matches!(
            self.inner.borrow().transport,
            Transport::Kept(_) | Transport::Released
        )
    }

    /// Wake `waker` when the socket is released (at once if it is).
    pub fn on_release(&self, waker: &Waker) {
        let mut inner = self.inner.borrow_mut();
        match inner.transport {
            Transport::Open(_) => inner.add_release_waker(waker),
            #[cfg(feature = "tls")]
            Transport::Upgrading => inner.add_release_waker(waker),
            Transport::Kept(_) | Transport::Released => waker.wake_by_ref(),
        }
    }

    /// The receiver: one round of reads each time the socket is readable,
    /// parked while reading is paused, done once reading has ended.
    fn poll_receive(&self, cx: &Context<'_>, interest: &mut Interest, woken: bool) -> Poll<()> {
        let mut inner = self.inner.borrow_mut();
        if let Some(waker) = &mut inner.input_lent {
            // Parked until the reader is called again.
            interest.cancel();
            waker.clone_from(cx.waker());
            return Poll::Pending;
        }
        if woken {
            inner.receive(Reason::Ready);
        }
        let Inner {
            protocol,
            transport,
            #[cfg(feature = "tls")]
            receiver,
            ..
        } = &mut *inner;
        let Transport::Open(halves) = transport else {
            return Poll::Ready(());
        };
        if protocol.wants_read() {
            interest.wait_for(halves.input.ready(), cx);
            #[cfg(feature = "tls")]
            receiver.replace(cx.waker().clone());
            return Poll::Pending;
        }
        interest.cancel();
        if !protocol.is_reading() {
            return Poll::Ready(());
        }
        protocol.reader_mut().wake_on_resume(cx.waker());
        Poll::Pending
    }

    /// The sender: send until nothing is left, waiting on the socket when
    /// it takes no more.
    fn poll_send(&self, cx: &Context<'_>, interest: &mut Interest) -> Poll<()> {
        let mut inner = self.inner.borrow_mut();
        match (inner.send(), &inner.transport) {
            (Sent::Blocked, Transport::Open(halves)) => {
                interest.wait_for(halves.output.ready(), cx);
                Poll::Pending
            }
            _ => {
                inner.sender = Sender::Idle;
                Poll::Ready(())
            }
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let inner = self.inner.get_mut();
        if let Transport::Open(halves) | Transport::Kept(halves) =
            std::mem::replace(&mut inner.transport, Transport::Released)
        {
            halves.retire();
        }
    }
}

/// Start the receiver of a new connection. It holds the connection weakly:
/// a connection nobody holds goes, and its receiver with it.
fn spawn_receiver(connection: Weak<Connection>) {
    let mut interest = Interest::default();
    // The first poll only starts watching: a new socket has rarely
    // anything yet, and a read that needs bytes reads on its own.
    let mut woken = false;
    runtime::spawn(poll_fn(move |cx| match connection.upgrade() {
        Some(connection) => {
            connection.poll_receive(cx, &mut interest, std::mem::replace(&mut woken, true))
        }
        None => Poll::Ready(()),
    }))
    .detach();
}

/// Start a sender; it ends once there is nothing left to send.
fn spawn_sender(connection: Rc<Connection>) {
    let mut interest = Interest::default();
    runtime::spawn(poll_fn(move |cx| connection.poll_send(cx, &mut interest))).detach();
}

impl Inner {
    /// Take the halves out for `start_tls` and wake the tasks that wait on
    /// their pollables, so that they let go.
    #[cfg(feature = "tls")]
    fn begin_upgrade(&mut self) -> Result<Halves, Error> {
        self.refresh_for_tls()?;
        let Transport::Open(halves) = std::mem::replace(&mut self.transport, Transport::Upgrading)
        else {
            unreachable!("refresh_for_tls checked that the socket is open");
        };
        self.reader_called();
        if let Some(receiver) = self.receiver.take() {
            receiver.wake();
        }
        self.release_wakers.iter().for_each(Waker::wake_by_ref);
        Ok(halves)
    }

    /// The upgrade of `start_tls` failed or was abandoned: the socket is
    /// gone with the handshake.
    #[cfg(feature = "tls")]
    fn lose_upgrade(&mut self, error: Error) {
        let mut round = Round::new(Reason::OnDemand);
        self.protocol.lost(&mut round, error);
        self.transport = Transport::Released;
        self.protocol.released();
    }

    /// Whether the connection can move to TLS now: open, not TLS yet, no
    /// pollables lent, and nothing read ahead that would be lost.
    #[cfg(feature = "tls")]
    fn refresh_for_tls(&mut self) -> Result<(), Error> {
        let Transport::Open(halves) = &self.transport else {
            return Err(Error::Closed);
        };
        if halves.tls.is_some() {
            return Err(Error::invalid_state("start_tls: the stream is already TLS"));
        }
        if self.lent {
            return Err(Error::invalid_state(
                "start_tls: pollables of the stream were handed out",
            ));
        }
        if !self.protocol.reader().buffered().is_empty() {
            return Err(Error::invalid_state(
                "start_tls: the reader holds bytes that arrived before the handshake",
            ));
        }
        if let Some(error) = self.protocol.writer().lost() {
            return Err(error.clone());
        }
        Ok(())
    }

    /// The reader was called: a pollable of the input it lent is done with,
    /// and the receiver watches the socket again.
    fn reader_called(&mut self) {
        if let Some(receiver) = self.input_lent.take() {
            receiver.wake();
        }
    }

    /// One round of reads of the socket into the reader; once the
    /// connection is lost and its input has ended, the socket goes.
    fn receive(&mut self, reason: Reason) -> Round {
        let mut round = Round::new(reason);
        let Self {
            protocol,
            transport,
            ..
        } = self;
        let Transport::Open(halves) = transport else {
            return round;
        };
        while let Some(size) = protocol.next_read(&round) {
            match halves.input.read(size) {
                Read::Bytes(bytes) => protocol.received(&mut round, bytes),
                Read::WouldBlock => protocol.would_block(&mut round),
                Read::Eof => protocol.eof_received(&mut round),
                Read::Failed(error) => protocol.lost(&mut round, error),
            }
        }
        if round.changed() {
            self.read_blocked = false;
        }
        if protocol.writer().lost().is_some() && matches!(protocol.next_send(), Send::Release) {
            self.release();
        }
        round
    }

    /// Carry out what the protocol asks of the sending side, as far as the
    /// socket allows without waiting.
    fn send(&mut self) -> Sent {
        loop {
            let Self {
                protocol,
                transport,
                ..
            } = self;
            let Transport::Open(halves) = transport else {
                return Sent::Done;
            };
            let failed = match protocol.next_send() {
                Send::Bytes(bytes) => match halves.output.send(bytes) {
                    Ok(0) => return Sent::Blocked,
                    Ok(n) => {
                        protocol.sent(n);
                        continue;
                    }
                    Err(error) => error,
                },
                Send::Shutdown => match halves.shutdown_send() {
                    Ok(true) => {
                        protocol.shut_down();
                        continue;
                    }
                    Ok(false) => return Sent::Blocked,
                    Err(error) => error,
                },
                Send::Release => {
                    self.release();
                    continue;
                }
                Send::Idle => return Sent::Done,
            };
            self.protocol.send_failed(failed);
            // Drains and `wait_closed` learn of it now; the socket goes
            // once its input has been read to the end.
            self.release_wakers.drain(..).for_each(Waker::wake);
        }
    }

    /// Let the socket go; the reader ends, and whoever waits for that wakes.
    fn release(&mut self) {
        self.learn_info();
        if let Transport::Open(halves) = std::mem::replace(&mut self.transport, Transport::Released)
        {
            if self.lent {
                halves.socket.shutdown_both();
                self.transport = Transport::Kept(halves);
            } else {
                halves.retire();
            }
        }
        self.protocol.released();
        self.release_wakers.drain(..).for_each(Waker::wake);
    }

    fn learn_info(&mut self) {
        if let (None, Transport::Open(halves)) = (&self.info, &self.transport) {
            self.info = Some(halves.socket.extra_info(self.family));
        }
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
        sent: Sent,
        waiter: Option<(&mut Interest, &Context<'_>)>,
    ) -> Poll<Result<(), Error>> {
        let Some((interest, cx)) = waiter else {
            return Poll::Ready(Err(Error::WouldBlock));
        };
        match (&self.transport, sent) {
            (Transport::Open(halves), Sent::Blocked) => {
                interest.wait_for(halves.output.ready(), cx);
                // An abort releases the socket without the output becoming
                // ready: it wakes this waiter too.
                self.add_release_waker(cx.waker());
            }
            (Transport::Open(_), Sent::Done) => self.add_release_waker(cx.waker()),
            #[cfg(feature = "tls")]
            (Transport::Upgrading, _) => self.add_release_waker(cx.waker()),
            (Transport::Kept(_) | Transport::Released, _) => cx.waker().wake_by_ref(),
        }
        Poll::Pending
    }
}

/// Loses the connection if `start_tls` is dropped while the socket is with
/// the upgrade, so that its reader and writer report it instead of waiting
/// for a socket that will not come back.
#[cfg(feature = "tls")]
struct UpgradeGuard<'a>(&'a Rc<Connection>);

#[cfg(feature = "tls")]
impl Drop for UpgradeGuard<'_> {
    fn drop(&mut self) {
        let mut inner = self.0.inner.borrow_mut();
        if matches!(inner.transport, Transport::Upgrading) {
            inner.lose_upgrade(Error::ConnectionAborted);
            inner.release_wakers.drain(..).for_each(Waker::wake);
        }
    }
}

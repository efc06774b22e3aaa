//! One connection under WASI 0.3: the decisions of a [`Protocol`] carried
//! out on a socket's two `stream<u8>`s.
//!
//! Two tasks move bytes, as an asyncio transport's reader and writer
//! callbacks do. The *receiver* keeps a read of the socket's input in
//! flight whenever reading is not paused, so bytes, the peer's end of file
//! or a reset arrive with no read pending. The *sender* hands what is
//! buffered to the socket's output when the writing task yields (so a
//! burst of writes leaves in one write), and ends the output for
//! `write_eof` and `close`. The connection lets the socket go when the
//! protocol says so, cancelling both.

use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use wasip3::sockets::types::{ErrorCode, IpAddressFamily, TcpSocket};
use wit_bindgen::{FutureReader, StreamReader, StreamResult, StreamWriter};

use super::errors::from_code;
use super::tcp::Opened;
use crate::core::{Error, Protocol, ReadPoll, Reason, Round, Send, WriteBuffer};
use crate::runtime::{self, Interest, JoinHandle};
use crate::transport::address::{AddressFamily, ExtraInfo, SocketAddress, to_std};
use crate::transport::options::StreamLimits;

/// How one direction of the socket ended, as its `future<result>` says.
type Outcome = FutureReader<Result<(), ErrorCode>>;

#[derive(Debug)]
struct Inner {
    protocol: Protocol,
    /// `None` once released.
    socket: Option<TcpSocket>,
    family: AddressFamily,
    /// The addresses, learnt when first asked for or when the socket goes,
    /// so that `get_extra_info` answers after `close` as asyncio does.
    info: Option<ExtraInfo>,
    /// The receiver and the sender, cancelled when the socket goes.
    tasks: Vec<JoinHandle<()>>,
    /// The sender, while it waits for something to send.
    sender: Option<Waker>,
    /// The receiver, while reading is paused or stopped by `close`.
    receiver: Option<Waker>,
    /// Woken when bytes leave, sending ends or fails, or the socket goes:
    /// waiting drains, flushes, `wait_closed`, servers.
    waiters: Vec<Waker>,
}

/// A stream shared by its reader, its writer and its two tasks.
#[derive(Debug)]
pub struct Connection {
    inner: RefCell<Inner>,
}

/// What the sender does next.
enum Job {
    /// Hand these bytes (a copy of the oldest pending ones) to the output.
    Bytes(Vec<u8>),
    /// End the output: everything written has been handed over.
    Shutdown,
    /// Nothing more, ever: the socket went.
    Stop,
}

impl Connection {
    /// A connection over a connected socket; its receiver starts reading
    /// and its sender waits for writes.
    pub fn open(opened: Opened, limits: &StreamLimits) -> Result<Rc<Self>, Error> {
        let socket = opened.socket;
        let (input, received) = socket.receive();
        let (output, outgoing) = wasip3::wit_stream::new();
        let sent = socket.send(outgoing);
        let family = match socket.get_address_family() {
            IpAddressFamily::Ipv4 => AddressFamily::Ipv4,
            IpAddressFamily::Ipv6 => AddressFamily::Ipv6,
        };
        let connection = Rc::new(Self {
            inner: RefCell::new(Inner {
                protocol: Protocol::new(limits.reader()?, limits.writer()?),
                socket: Some(socket),
                family,
                info: None,
                tasks: Vec::with_capacity(2),
                sender: None,
                receiver: None,
                waiters: Vec::new(),
            }),
        });
        let receiver = runtime::spawn(receive(Rc::downgrade(&connection), input, received));
        let sender = runtime::spawn(send(connection.clone(), output, sent));
        connection.inner.borrow_mut().tasks = vec![receiver, sender];
        Ok(connection)
    }

    // --- reading ------------------------------------------------------------

    /// Attempt the read `op`. With a waiter the caller waits: it becomes
    /// the reader's one waiting read (given an identity the first time)
    /// and is woken when the receiver brings something. Without one (the
    /// non-blocking form) the caller only learns that the read would block.
    pub fn poll_read<T>(
        &self,
        op: &mut dyn FnMut(&mut crate::core::StreamReader) -> ReadPoll<T>,
        waiter: Option<(&mut u64, &Context<'_>)>,
    ) -> Poll<Result<T, Error>> {
        let mut inner = self.inner.borrow_mut();
        let reader = inner.protocol.reader_mut();
        if let Poll::Ready(result) = op(reader) {
            if let Some((id, _)) = waiter {
                reader.release_waiter(std::mem::take(id));
            }
            return Poll::Ready(result);
        }
        let Some((id, cx)) = waiter else {
            return Poll::Ready(Err(Error::WouldBlock));
        };
        match reader.claim_waiter(id, cx.waker()) {
            Ok(()) => Poll::Pending,
            Err(error) => Poll::Ready(Err(error)),
        }
    }

    /// Run `f` on the core reader (for the calls that never wait).
    pub fn with_reader<R>(&self, f: impl FnOnce(&mut crate::core::StreamReader) -> R) -> R {
        f(self.inner.borrow_mut().protocol.reader_mut())
    }

    /// Answer from what the receiver has taken in: it runs whenever the
    /// caller's task waits, so there is nothing to fetch first.
    pub fn refresh(&self) {}

    /// The receiver's next read: its size once reading is wanted, `None`
    /// once the input is over. While reading is paused, or stopped by
    /// `close` (which a failed send ends: the input is then read to its
    /// end), the receiver waits.
    fn poll_read_size(&self, cx: &Context<'_>) -> Poll<Option<usize>> {
        let mut inner = self.inner.borrow_mut();
        if inner.socket.is_none() || inner.protocol.reader().is_ended() {
            return Poll::Ready(None);
        }
        if let Some(size) = inner.protocol.next_read(&Round::new(Reason::Ready)) {
            return Poll::Ready(Some(size));
        }
        inner.protocol.reader_mut().wake_on_resume(cx.waker());
        inner.receiver = Some(cx.waker().clone());
        Poll::Pending
    }

    /// A read of the receiver's `round` brought `bytes`. The reader keeps
    /// the buffer they came in, which was allocated for a whole read: one
    /// mostly empty is shrunk first, so that what the reader holds in
    /// memory stays close to what it holds in bytes (its limit is on the
    /// latter).
    fn received(&self, round: &mut Round, mut bytes: Vec<u8>) {
        if bytes.capacity() > 2 * bytes.len() {
            bytes.shrink_to_fit();
        }
        self.inner.borrow_mut().protocol.received(round, bytes);
    }

    /// The size of the next read of `round`, if the round goes on (its
    /// last read came back full, and it is under asyncio's 256 KiB: like
    /// asyncio's one `recv`, a round is not cut short where reading
    /// pauses, which is looked at between rounds).
    fn next_read(&self, round: &Round) -> Option<usize> {
        let inner = self.inner.borrow();
        inner.socket.as_ref()?;
        inner.protocol.next_read(round)
    }

    /// The socket's input ended: end of file, or the error that ended it.
    fn input_ended(&self, outcome: Result<(), ErrorCode>) {
        let mut inner = self.inner.borrow_mut();
        let mut round = Round::new(Reason::Ready);
        match outcome {
            Ok(()) => inner.protocol.eof_received(&mut round),
            Err(code) => inner.protocol.lost(&mut round, from_code(code)),
        }
        inner.advance();
        inner.wake_waiters();
    }

    // --- writing ------------------------------------------------------------

    /// Buffer `data`; the sender sends it when the caller yields.
    pub fn write(self: &Rc<Self>, data: &[u8]) -> Result<(), Error> {
        self.update_writer(|writer| writer.write(data))
    }

    /// Buffer `data`, without copying it if it is long.
    pub fn write_bytes(self: &Rc<Self>, data: Bytes) -> Result<(), Error> {
        self.update_writer(|writer| writer.write_bytes(data))
    }

    /// Half-close: the output ends after the buffer.
    pub fn write_eof(self: &Rc<Self>) -> Result<(), Error> {
        self.update_writer(WriteBuffer::write_eof)
    }

    /// Close: the buffer goes out, then end of file, then the socket.
    pub fn close(self: &Rc<Self>) {
        let _ = self.update_writer(|writer| {
            writer.close();
            Ok(())
        });
    }

    /// Close at once, dropping whatever is buffered.
    pub fn abort(&self) {
        let _ = self.update_writer(|writer| {
            writer.abort();
            Ok(())
        });
    }

    /// Apply `f` to the write buffer, then set the sender (or the
    /// release) going.
    fn update_writer(
        &self,
        f: impl FnOnce(&mut WriteBuffer) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut inner = self.inner.borrow_mut();
        f(inner.protocol.writer_mut())?;
        inner.advance();
        Ok(())
    }

    /// Run `f` on the core write buffer (for the calls that never wait).
    pub fn with_writer<R>(&self, f: impl FnOnce(&mut WriteBuffer) -> R) -> R {
        f(self.inner.borrow_mut().protocol.writer_mut())
    }

    /// asyncio's `drain`: ready at once unless the writer is paused (above
    /// its high-water mark); then wait for the low-water mark. `waited`
    /// tells a drain that has already waited.
    pub fn poll_drain(
        &self,
        waited: bool,
        waiter: Option<(&mut Interest, &Context<'_>)>,
    ) -> Poll<Result<(), Error>> {
        let mut inner = self.inner.borrow_mut();
        match inner.protocol.drain(waited) {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => inner.wait_writer(waiter),
        }
    }

    /// Set the sender going on what is buffered (the non-blocking
    /// `drain`'s promise to start sending).
    pub fn send_now(&self) {
        self.inner.borrow_mut().advance();
    }

    /// Send everything buffered: ready once the write buffer is empty.
    pub fn poll_flushed(
        &self,
        waiter: Option<(&mut Interest, &Context<'_>)>,
    ) -> Poll<Result<(), Error>> {
        let mut inner = self.inner.borrow_mut();
        match inner.protocol.writer().flushed() {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => inner.wait_writer(waiter),
        }
    }

    /// asyncio's `wait_closed`: completes once the socket is released.
    pub fn poll_wait_closed(
        &self,
        waiter: Option<(&mut Interest, &Context<'_>)>,
    ) -> Poll<Result<(), Error>> {
        let mut inner = self.inner.borrow_mut();
        match inner.protocol.writer().wait_closed() {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => inner.wait_writer(waiter),
        }
    }

    /// The sender's next job, or `Pending` until there is one.
    fn poll_job(&self, cx: &Context<'_>) -> Poll<Job> {
        let mut inner = self.inner.borrow_mut();
        if inner.socket.is_none() {
            return Poll::Ready(Job::Stop);
        }
        match inner.protocol.next_send() {
            Send::Bytes(bytes) => Poll::Ready(Job::Bytes(bytes.to_vec())),
            Send::Shutdown => Poll::Ready(Job::Shutdown),
            Send::Release => {
                inner.release();
                Poll::Ready(Job::Stop)
            }
            Send::Idle => {
                inner.sender = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    /// The output took the first `n` pending bytes.
    fn sent(&self, n: usize) {
        let mut inner = self.inner.borrow_mut();
        if inner.socket.is_some() {
            inner.protocol.sent(n);
            inner.wake_waiters();
        }
    }

    /// The output ended (`write_eof` or `close`), or failed.
    fn output_ended(&self, outcome: Result<(), ErrorCode>) {
        let mut inner = self.inner.borrow_mut();
        if inner.socket.is_none() {
            return;
        }
        match outcome {
            Ok(()) => inner.protocol.shut_down(),
            Err(code) => {
                inner.protocol.send_failed(from_code(code));
                if let Some(receiver) = inner.receiver.take() {
                    receiver.wake();
                }
            }
        }
        inner.advance();
        inner.wake_waiters();
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
        self.inner.borrow().socket.is_none()
    }

    /// Wake `waker` when the socket is released (at once if it is).
    pub fn on_release(&self, waker: &Waker) {
        let mut inner = self.inner.borrow_mut();
        match inner.socket {
            Some(_) => inner.add_waiter(waker),
            None => waker.wake_by_ref(),
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.inner.get_mut().release();
    }
}

/// The receiver: a read in flight whenever reading is wanted, until the
/// input ends. It holds the connection weakly: a connection nobody holds
/// goes, and cancels its receiver.
///
/// A read that comes back full is followed at once by reads of what the
/// input already holds, up to asyncio's 256 KiB a round, before the task
/// yields to a reader: so that a read sees everything that has arrived,
/// as asyncio's does (a long line is an overrun of all of it, not of the
/// first few KiB).
async fn receive(connection: Weak<Connection>, mut input: StreamReader<u8>, outcome: Outcome) {
    loop {
        let size = poll_fn(|cx| match connection.upgrade() {
            Some(connection) => connection.poll_read_size(cx),
            None => Poll::Ready(None),
        })
        .await;
        let Some(size) = size else { return };
        let mut round = Round::new(Reason::Ready);
        let mut read = input.read(Vec::with_capacity(size)).await;
        loop {
            match read {
                (StreamResult::Complete(_), bytes) if !bytes.is_empty() => {
                    let Some(connection) = connection.upgrade() else {
                        return;
                    };
                    connection.received(&mut round, bytes);
                }
                (StreamResult::Dropped, _) => {
                    drop(input);
                    let outcome = outcome.await;
                    if let Some(connection) = connection.upgrade() {
                        connection.input_ended(outcome);
                    }
                    return;
                }
                // Nothing (more) there for now.
                (StreamResult::Complete(_) | StreamResult::Cancelled, _) => break,
            }
            match connection.upgrade().and_then(|c| c.next_read(&round)) {
                Some(size) => read = read_now(&mut input, size),
                None => break,
            }
        }
    }
}

/// A read of what `input` holds now: started, and taken back (with what
/// it got meanwhile, if anything) when it would wait.
fn read_now(input: &mut StreamReader<u8>, size: usize) -> (StreamResult, Vec<u8>) {
    let mut read = pin!(input.read(Vec::with_capacity(size)));
    match read.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(done) => done,
        Poll::Pending => read.as_mut().cancel(),
    }
}

/// The sender: hands the buffered bytes to the output as it takes them,
/// then ends it. It holds the connection until the socket goes, as a
/// transport holds its protocol, so that what was written before the
/// writer went still leaves.
async fn send(connection: Rc<Connection>, mut output: StreamWriter<u8>, outcome: Outcome) {
    loop {
        match poll_fn(|cx| connection.poll_job(cx)).await {
            Job::Bytes(bytes) => {
                let (mut result, mut rest) = output.write(bytes).await;
                while let StreamResult::Complete(n) = result {
                    connection.sent(n);
                    if rest.remaining() == 0 {
                        break;
                    }
                    (result, rest) = output.write_buf(rest).await;
                }
                if result == StreamResult::Dropped {
                    // The host stopped taking bytes: the output failed.
                    drop(output);
                    let failure = outcome.await.and(Err(ErrorCode::ConnectionBroken));
                    connection.output_ended(failure);
                    return;
                }
            }
            Job::Shutdown => {
                // Everything written has been handed over. A zero-length
                // write first: wasmtime 48 notices the end of a send
                // stream that was never written to only once it has been
                // asked for readiness. The end is not awaited (the host
                // resolves it late or not at all for such a stream): the
                // host shuts the socket's sending half down once it has
                // sent what it holds.
                let _ = output.write(Vec::new()).await;
                drop((output, outcome));
                connection.output_ended(Ok(()));
                return;
            }
            Job::Stop => return,
        }
    }
}

impl Inner {
    /// Carry out what the protocol asks that needs no waiting: let the
    /// socket go, or set the sender going.
    fn advance(&mut self) {
        match self.protocol.next_send() {
            Send::Release => self.release(),
            Send::Bytes(_) | Send::Shutdown => {
                if let Some(sender) = self.sender.take() {
                    sender.wake();
                }
            }
            Send::Idle => {}
        }
    }

    /// Let the socket go: its tasks are cancelled, the reader ends, and
    /// whoever waits for that wakes.
    fn release(&mut self) {
        self.learn_info();
        if self.socket.take().is_none() {
            return;
        }
        for task in &mut self.tasks {
            task.cancel();
        }
        self.protocol.released();
        self.wake_waiters();
    }

    fn learn_info(&mut self) {
        if let (None, Some(socket)) = (&self.info, &self.socket) {
            let address = |a: Result<_, ErrorCode>| a.ok().map(|a| SocketAddress::Ip(to_std(a)));
            self.info = Some(ExtraInfo {
                peername: address(socket.get_remote_address()),
                sockname: address(socket.get_local_address()),
                family: self.family,
            });
        }
    }

    fn add_waiter(&mut self, waker: &Waker) {
        if !self.waiters.iter().any(|w| w.will_wake(waker)) {
            self.waiters.push(waker.clone());
        }
    }

    fn wake_waiters(&mut self) {
        self.waiters.drain(..).for_each(Waker::wake);
    }

    /// Register a writer-side waiter (the sender set going first), or
    /// report `would-block` to a non-blocking caller.
    fn wait_writer(
        &mut self,
        waiter: Option<(&mut Interest, &Context<'_>)>,
    ) -> Poll<Result<(), Error>> {
        self.advance();
        let Some((_, cx)) = waiter else {
            return Poll::Ready(Err(Error::WouldBlock));
        };
        match self.socket {
            Some(_) => self.add_waiter(cx.waker()),
            None => cx.waker().wake_by_ref(),
        }
        Poll::Pending
    }
}

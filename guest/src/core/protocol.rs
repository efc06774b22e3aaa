//! One connection without I/O: a [`StreamReader`] and a [`WriteBuffer`]
//! joined by the decisions an asyncio transport makes. When to read and
//! how much, when reading pauses and resumes, what to send, when to shut
//! down the sending half and when to let the socket go.
//!
//! The I/O layer asks ([`Protocol::next_read`], [`Protocol::next_send`])
//! and reports what happened ([`Protocol::received`],
//! [`Protocol::eof_received`], [`Protocol::sent`], [`Protocol::shut_down`],
//! [`Protocol::lost`], [`Protocol::released`]); it never decides anything
//! itself.
//!
//! Reading follows asyncio's transports, which receive whenever the socket
//! is readable, up to 256 KiB at a time, and stop only while the reader
//! holds more than twice its limit: a *round* of reads takes in what has
//! arrived (reads grow while they come back full, and stop at the first
//! short one or at 256 KiB), and only then is the reader's limit looked at.
//! So a read that starts sees everything that had arrived, however small
//! the limit.

use std::task::Poll;

use super::error::Error;
use super::reader::StreamReader;
use super::writer::WriteBuffer;

/// The smallest and the largest single read. A host may allocate and zero
/// a buffer of the requested size on every read, so reads start small and
/// grow while they come back full.
pub const MIN_READ: usize = 4 * 1024;
/// See [`MIN_READ`].
pub const MAX_READ: usize = 64 * 1024;
/// The most one round takes in before the reader's limit is looked at:
/// what asyncio's transports receive at once.
pub const MAX_ROUND: usize = 256 * 1024;

/// What the last read said about the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    /// It may hold bytes.
    Unknown,
    /// The last read came back short: it is most likely empty, so a read
    /// on demand is skipped until a wait has given the peer time.
    Drained,
}

/// Why a round of reads is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The socket said it is readable (or a caller wants its state now):
    /// read even if the last read drained it.
    Ready,
    /// A read needs more bytes than are buffered.
    OnDemand,
}

/// One round of reads: asyncio's one `recv` of up to 256 KiB.
#[derive(Debug, Clone, Copy)]
pub struct Round {
    reason: Reason,
    /// Reads made, whatever they found.
    reads: usize,
    /// Bytes taken in.
    taken: usize,
    /// Something arrived: bytes, end of file or an error.
    changed: bool,
    /// The last read filled its buffer: more is probably waiting.
    full: bool,
}

impl Round {
    /// A round for `reason`.
    pub fn new(reason: Reason) -> Self {
        Self {
            reason,
            reads: 0,
            taken: 0,
            changed: false,
            full: false,
        }
    }

    /// Whether any read of this round brought something (bytes, end of
    /// file or an error).
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// A read that brought something: `taken` bytes (0 for end of file or
    /// an error), filling its buffer or not.
    fn read(&mut self, taken: usize, full: bool) {
        self.reads += 1;
        self.taken += taken;
        self.changed = true;
        self.full = full;
    }
}

/// What to send next.
#[derive(Debug, PartialEq, Eq)]
pub enum Send<'a> {
    /// These bytes, as many as the socket takes; report them with
    /// [`Protocol::sent`].
    Bytes(&'a [u8]),
    /// Everything is sent and end of file is due: make sure what was
    /// written has gone out, shut down the sending half and report it with
    /// [`Protocol::shut_down`].
    Shutdown,
    /// The connection is over: let the socket go and report it with
    /// [`Protocol::released`].
    Release,
    /// Nothing, for now.
    Idle,
}

/// A connection's reader, write buffer and transport decisions.
#[derive(Debug)]
pub struct Protocol {
    reader: StreamReader,
    writer: WriteBuffer,
    read_size: usize,
    input: Input,
}

impl Protocol {
    /// A connection with `reader` and `writer` over an open socket.
    pub fn new(reader: StreamReader, writer: WriteBuffer) -> Self {
        Self {
            reader,
            writer,
            read_size: MIN_READ,
            input: Input::Unknown,
        }
    }

    /// The reading half.
    pub fn reader(&self) -> &StreamReader {
        &self.reader
    }

    /// The reading half, to read from or feed.
    pub fn reader_mut(&mut self) -> &mut StreamReader {
        &mut self.reader
    }

    /// The write buffer.
    pub fn writer(&self) -> &WriteBuffer {
        &self.writer
    }

    /// The write buffer, to write to.
    pub fn writer_mut(&mut self) -> &mut WriteBuffer {
        &mut self.writer
    }

    // --- receiving ----------------------------------------------------------

    /// Whether the socket is to be read now: it is still being read
    /// ([`is_reading`](Self::is_reading)) and the reader is not paused.
    /// After a failed write the limit no longer applies: the input is read
    /// to its end (what the kernel still holds), so that the socket can go.
    pub fn wants_read(&self) -> bool {
        self.is_reading() && (!self.reader.is_paused() || self.writer.lost().is_some())
    }

    /// Whether the socket is still being read (perhaps paused): until its
    /// input ends, or the writer closes (asyncio stops reading at `close`).
    /// After a failed write it is read to its end all the same, so that
    /// what the peer sent before the failure is not lost.
    pub fn is_reading(&self) -> bool {
        !self.reader.is_ended() && (!self.writer.is_closing() || self.writer.lost().is_some())
    }

    /// The size of the next read of `round`, or `None` when the round is
    /// over: reading is not wanted, the last read was short, or the round
    /// took in [`MAX_ROUND`]. A round on demand does not start when the
    /// last read drained the socket.
    pub fn next_read(&self, round: &Round) -> Option<usize> {
        let more = match (round.reads, round.reason) {
            (0, Reason::Ready) => self.wants_read(),
            (0, Reason::OnDemand) => self.wants_read() && self.input == Input::Unknown,
            _ => self.is_reading() && round.full && round.taken < MAX_ROUND,
        };
        more.then_some(self.read_size)
    }

    /// A read of [`next_read`](Self::next_read)'s size brought `bytes`.
    pub fn received(&mut self, round: &mut Round, bytes: Vec<u8>) {
        let requested = self.read_size;
        let n = bytes.len();
        round.read(n, n >= requested);
        self.input = if round.full {
            Input::Unknown
        } else {
            Input::Drained
        };
        self.read_size = if round.full {
            (requested * 2).min(MAX_READ)
        } else if n < requested / 4 {
            (requested / 2).max(MIN_READ)
        } else {
            requested
        };
        // Not reading once the reader has ended, so this cannot fail.
        let _ = self.reader.feed_owned(bytes);
    }

    /// A read found nothing: the round is over.
    pub fn would_block(&mut self, round: &mut Round) {
        round.reads += 1;
        round.full = false;
        self.input = Input::Drained;
    }

    /// A caller is about to wait for the peer: the next read on demand is
    /// worth making, whatever the last one found.
    pub fn waiting(&mut self) {
        self.input = Input::Unknown;
    }

    /// The peer sent end of file. The sending half stays open, as asyncio's
    /// streams keep it.
    pub fn eof_received(&mut self, round: &mut Round) {
        round.read(0, false);
        self.reader.feed_eof();
    }

    // --- sending ------------------------------------------------------------

    /// What the transport does next for the sending side and the socket.
    pub fn next_send(&self) -> Send<'_> {
        let writer = &self.writer;
        if writer.is_closed() {
            Send::Idle
        } else if writer.is_aborted() {
            Send::Release
        } else if writer.lost().is_some() {
            match self.reader.is_ended() {
                true => Send::Release,
                false => Send::Idle,
            }
        } else if writer.wants_release() {
            Send::Release
        } else if !writer.pending().is_empty() {
            Send::Bytes(writer.pending())
        } else if writer.wants_shutdown() {
            Send::Shutdown
        } else {
            Send::Idle
        }
    }

    /// The first `n` bytes of [`Send::Bytes`] were handed to the socket.
    pub fn sent(&mut self, n: usize) {
        self.writer.consume(n);
    }

    /// End of file was sent.
    pub fn shut_down(&mut self) {
        self.writer.shutdown_done();
    }

    /// asyncio's `drain`: a reader exception (set, or the failure of the
    /// connection) first, then the writer's flow control. `waited` tells a
    /// drain that has already waited, which the connection closing under
    /// it ends normally.
    pub fn drain(&self, waited: bool) -> Poll<Result<(), Error>> {
        if waited {
            return self.writer.drain_waited();
        }
        if let Some(error) = self.reader.exception() {
            return Poll::Ready(Err(error.clone()));
        }
        self.writer.drain()
    }

    // --- the connection -----------------------------------------------------

    /// Reading failed: the connection is lost. The reader returns what it
    /// holds and then `error`, the writer drops its buffer, and the socket
    /// goes next ([`Send::Release`]), as asyncio's transport closes on a
    /// fatal error.
    pub fn lost(&mut self, round: &mut Round, error: Error) {
        round.read(0, false);
        self.reader.feed_error(error.clone());
        self.writer.connection_lost(error);
    }

    /// Sending failed: the connection is lost, as asyncio's transport
    /// reports at once (`exception`, `is_closing`, failing drains). Unlike
    /// asyncio, the socket's input is read to its end before the socket
    /// goes, and the reader returns what the peer sent before the error.
    pub fn send_failed(&mut self, error: Error) {
        self.reader.connection_failed(error.clone());
        self.writer.connection_lost(error);
    }

    /// The socket was let go: the reader ends (asyncio's
    /// `connection_lost(None)` feeds end of file) and `wait_closed`
    /// completes.
    pub fn released(&mut self) {
        if !self.reader.is_ended() {
            self.reader.feed_eof();
        }
        self.writer.closed_done();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protocol(limit: usize) -> Protocol {
        Protocol::new(StreamReader::new(limit).unwrap(), WriteBuffer::new())
    }

    /// Carry out a round against a socket holding `available` bytes; the
    /// sizes of the reads made.
    fn round(protocol: &mut Protocol, reason: Reason, available: &mut usize) -> Vec<usize> {
        let mut round = Round::new(reason);
        let mut reads = Vec::new();
        while let Some(size) = protocol.next_read(&round) {
            reads.push(size);
            let n = size.min(*available);
            *available -= n;
            if n == 0 {
                protocol.would_block(&mut round);
            } else {
                protocol.received(&mut round, vec![b'x'; n]);
            }
        }
        reads
    }

    #[test]
    fn a_round_takes_in_everything_that_arrived_whatever_the_limit() {
        let mut protocol = protocol(1024);
        let mut available = 10_006;
        assert_eq!(
            round(&mut protocol, Reason::Ready, &mut available),
            [4096, 8192]
        );
        assert_eq!(available, 0);
        assert_eq!(protocol.reader().buffered().len(), 10_006);
        assert!(protocol.reader().is_paused(), "above twice the limit");
        assert!(!protocol.wants_read());
    }

    #[test]
    fn a_round_stops_at_256_kib_and_reads_grow_to_64_kib() {
        let mut protocol = protocol(1 << 20);
        let mut available = 1 << 20;
        let reads = round(&mut protocol, Reason::Ready, &mut available);
        assert_eq!(reads[..5], [4096, 8192, 16384, 32768, 65536]);
        assert!(reads[5..].iter().all(|&size| size == MAX_READ));
        let taken = (1 << 20) - available;
        assert!(
            (MAX_ROUND..MAX_ROUND + MAX_READ).contains(&taken),
            "{taken}"
        );
        assert_eq!(
            protocol.next_read(&Round::new(Reason::OnDemand)),
            Some(MAX_READ)
        );
    }

    #[test]
    fn a_short_read_drains_until_someone_waits() {
        let mut protocol = protocol(1024);
        let mut available = 100;
        assert_eq!(
            round(&mut protocol, Reason::OnDemand, &mut available),
            [4096]
        );
        assert_eq!(protocol.next_read(&Round::new(Reason::OnDemand)), None);
        assert!(protocol.next_read(&Round::new(Reason::Ready)).is_some());
        protocol.waiting();
        assert!(protocol.next_read(&Round::new(Reason::OnDemand)).is_some());
    }

    #[test]
    fn small_reads_shrink_the_read_size_back() {
        let mut protocol = protocol(1 << 20);
        let mut available = 3 * 4096;
        round(&mut protocol, Reason::Ready, &mut available);
        assert_eq!(protocol.next_read(&Round::new(Reason::Ready)), Some(16384));
        let mut available = 10;
        round(&mut protocol, Reason::Ready, &mut available);
        assert_eq!(protocol.next_read(&Round::new(Reason::Ready)), Some(8192));
    }

    #[test]
    fn reading_pauses_above_twice_the_limit_and_resumes_at_the_limit() {
        let mut protocol = protocol(1000);
        let mut available = 2001;
        round(&mut protocol, Reason::Ready, &mut available);
        assert!(!protocol.wants_read());
        assert_eq!(protocol.next_read(&Round::new(Reason::Ready)), None);
        let reader = protocol.reader_mut();
        assert!(reader.read(1000).is_ready());
        assert!(reader.is_paused(), "1001 left, above the limit");
        assert!(reader.read(1).is_ready());
        assert!(protocol.wants_read());
    }

    #[test]
    fn end_of_file_ends_reading_and_keeps_the_sending_half() {
        let mut protocol = protocol(1024);
        let mut round = Round::new(Reason::Ready);
        protocol.eof_received(&mut round);
        assert!(round.changed());
        assert!(!protocol.wants_read());
        assert!(protocol.reader().at_eof());
        protocol.writer_mut().write(b"still here").unwrap();
        assert_eq!(protocol.next_send(), Send::Bytes(b"still here"));
    }

    #[test]
    fn close_sends_the_buffer_then_shuts_down_then_releases() {
        let mut protocol = protocol(1024);
        protocol.writer_mut().write(b"bye").unwrap();
        protocol.writer_mut().close();
        assert!(!protocol.wants_read(), "asyncio stops reading at close");
        assert_eq!(protocol.next_send(), Send::Bytes(b"bye"));
        protocol.sent(2);
        assert_eq!(protocol.next_send(), Send::Bytes(b"e"));
        protocol.sent(1);
        assert_eq!(protocol.next_send(), Send::Shutdown);
        protocol.shut_down();
        assert_eq!(protocol.next_send(), Send::Release);
        assert!(protocol.writer().wait_closed().is_pending());
        protocol.released();
        assert_eq!(protocol.next_send(), Send::Idle);
        assert_eq!(protocol.writer().wait_closed(), Poll::Ready(Ok(())));
        assert!(protocol.reader().at_eof());
    }

    #[test]
    fn write_eof_shuts_down_without_releasing() {
        let mut protocol = protocol(1024);
        protocol.writer_mut().write_eof().unwrap();
        assert_eq!(protocol.next_send(), Send::Shutdown);
        protocol.shut_down();
        assert_eq!(protocol.next_send(), Send::Idle);
        assert!(protocol.wants_read(), "the reading half goes on");
    }

    #[test]
    fn abort_drops_the_buffer_and_releases_at_once() {
        let mut protocol = protocol(1024);
        protocol.writer_mut().write(b"never sent").unwrap();
        protocol.writer_mut().abort();
        assert_eq!(protocol.next_send(), Send::Release);
        protocol.released();
        assert_eq!(protocol.writer().wait_closed(), Poll::Ready(Ok(())));
    }

    #[test]
    fn abort_after_a_failed_write_releases_at_once() {
        let mut protocol = protocol(1024);
        protocol.writer_mut().write(b"request").unwrap();
        protocol.send_failed(Error::BrokenPipe);
        assert_eq!(protocol.next_send(), Send::Idle, "the input is still read");
        protocol.writer_mut().abort();
        assert_eq!(
            protocol.next_send(),
            Send::Release,
            "abort does not wait for the input to end"
        );
        protocol.released();
        assert_eq!(protocol.next_send(), Send::Idle);
        assert_eq!(
            protocol.writer().wait_closed(),
            Poll::Ready(Err(Error::BrokenPipe))
        );
    }

    #[test]
    fn a_lost_connection_fails_both_halves_and_releases() {
        let mut protocol = protocol(1024);
        let mut round = Round::new(Reason::Ready);
        protocol.received(&mut round, b"line\npart".to_vec());
        protocol.writer_mut().write(b"unsent").unwrap();
        protocol.lost(&mut round, Error::ConnectionReset);
        assert_eq!(protocol.reader().exception(), Some(&Error::ConnectionReset));
        assert!(protocol.writer().is_closing());
        assert_eq!(protocol.next_send(), Send::Release);
        protocol.released();
        let reader = protocol.reader_mut();
        assert_eq!(
            reader.readline(),
            Poll::Ready(Ok(bytes::Bytes::from_static(b"line\n")))
        );
        assert_eq!(reader.readline(), Poll::Ready(Err(Error::ConnectionReset)));
        assert_eq!(
            protocol.writer().wait_closed(),
            Poll::Ready(Err(Error::ConnectionReset))
        );
        assert_eq!(
            protocol.drain(false),
            Poll::Ready(Err(Error::ConnectionReset))
        );
    }

    #[test]
    fn drain_after_close_waits_for_the_flush_and_fails_once_released() {
        let mut protocol = protocol(1024);
        protocol
            .writer_mut()
            .set_write_buffer_limits(Some(4), Some(0))
            .unwrap();
        protocol.writer_mut().write(b"12345").unwrap();
        assert!(protocol.drain(false).is_pending(), "paused");
        protocol.writer_mut().close();
        assert!(protocol.drain(false).is_pending(), "still flushing");
        protocol.sent(5);
        assert_eq!(protocol.drain(true), Poll::Ready(Ok(())));
        protocol.shut_down();
        protocol.released();
        assert_eq!(
            protocol.drain(true),
            Poll::Ready(Ok(())),
            "a drain that waited"
        );
        assert_eq!(
            protocol.drain(false),
            Poll::Ready(Err(Error::ConnectionReset)),
            "asyncio's 'Connection lost'"
        );
    }

    #[test]
    fn after_a_failed_write_the_input_is_read_to_its_end_before_release() {
        let mut protocol = protocol(1024);
        protocol.writer_mut().write(b"request").unwrap();
        protocol.send_failed(Error::BrokenPipe);
        assert_eq!(protocol.reader().exception(), Some(&Error::BrokenPipe));
        assert!(protocol.writer().is_closing());
        assert_eq!(
            protocol.next_send(),
            Send::Idle,
            "not before the input ends"
        );
        let mut available = 9;
        round(&mut protocol, Reason::Ready, &mut available);
        assert_eq!(
            protocol.reader().buffered().len(),
            9,
            "the answer before the failure"
        );
        let mut round = Round::new(Reason::Ready);
        protocol.eof_received(&mut round);
        assert_eq!(protocol.next_send(), Send::Release);
        protocol.released();
        let reader = protocol.reader_mut();
        assert_eq!(
            reader.read(100),
            Poll::Ready(Ok(bytes::Bytes::from(vec![b'x'; 9])))
        );
        assert_eq!(reader.read(100), Poll::Ready(Err(Error::BrokenPipe)));
    }

    #[test]
    fn a_user_end_of_file_stops_reading_from_the_socket() {
        let mut protocol = protocol(1024);
        protocol.reader_mut().feed_eof();
        assert!(!protocol.wants_read());
        assert_eq!(protocol.next_read(&Round::new(Reason::Ready)), None);
    }
}

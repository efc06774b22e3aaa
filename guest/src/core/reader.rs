//! asyncio's `StreamReader`, without I/O.
//!
//! A transport (or a test) feeds bytes with [`StreamReader::feed_data`] and
//! end of file with [`StreamReader::feed_eof`]. Each read operation answers
//! at once: `Poll::Ready` with the bytes or the error asyncio would raise, or
//! `Poll::Pending` when it needs more data, in which case the caller waits
//! for the transport and calls the same operation again. A `readuntil` that
//! waits resumes its search where it stopped.
//!
//! As in asyncio, the reader wakes its one waiting read whenever something
//! is fed (the waker given to [`StreamReader::claim_waiter`]).
//!
//! Back-pressure follows asyncio: the reader asks the transport to pause once
//! more than twice the limit is buffered ([`StreamReader::is_paused`]), and to
//! resume when the buffer drops to the limit or when an operation has to wait
//! for data (otherwise `readexactly(n)` with `n` above the limit could never
//! finish); a transport that stopped reading is woken then (the waker given
//! to [`StreamReader::wake_on_resume`]).
//!
//! The buffer is a [`BytesMut`]: a chunk read from the socket is adopted
//! without copying when nothing else is buffered, and every read splits
//! its bytes off the front as an immutable [`Bytes`] (asyncio returns
//! `bytes`), so a line costs neither a copy nor, amortised, an allocation.
//! Consumed prefixes cost nothing to drop.

use std::task::{Poll, Waker};

use bytes::{Bytes, BytesMut};

use super::error::Error;
use super::scan::Separators;

/// asyncio's default limit: 64 KiB.
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// The result of one attempt at a read operation.
pub type ReadPoll<T = Bytes> = Poll<Result<T, Error>>;

/// A `readuntil` that is waiting for more data, so the next attempt with the
/// same separators can resume its search.
#[derive(Debug, Clone)]
struct PendingScan {
    separators: Vec<Vec<u8>>,
    offset: usize,
}

/// The buffered, limit-aware reading half of a stream.
#[derive(Debug, Clone)]
pub struct StreamReader {
    buffer: BytesMut,
    limit: usize,
    eof: bool,
    exception: Option<Error>,
    lost: Option<Error>,
    /// The connection failed while the input is still being read to its
    /// end: reported at once, returned by reads once the input ends.
    failed: Option<Error>,
    paused: bool,
    scan: Option<PendingScan>,
    /// The read that waits for data (asyncio's `_waiter`), and its waker.
    waiter: Option<u64>,
    waker: Option<Waker>,
    last_waiter: u64,
    /// The transport, stopped while the reader is paused.
    resume: Option<Waker>,
}

impl Default for StreamReader {
    fn default() -> Self {
        Self::with_limit(DEFAULT_LIMIT)
    }
}

impl StreamReader {
    /// A reader with the given line/chunk limit. asyncio rejects a limit
    /// of zero or less.
    pub fn new(limit: usize) -> Result<Self, Error> {
        if limit == 0 {
            return Err(Error::invalid_argument("Limit cannot be <= 0"));
        }
        Ok(Self::with_limit(limit))
    }

    fn with_limit(limit: usize) -> Self {
        Self {
            buffer: BytesMut::new(),
            limit,
            eof: false,
            exception: None,
            lost: None,
            failed: None,
            paused: false,
            scan: None,
            waiter: None,
            waker: None,
            last_waiter: 0,
            resume: None,
        }
    }

    /// The limit this reader was made with.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The bytes buffered and not yet read.
    pub fn buffered(&self) -> &[u8] {
        &self.buffer
    }

    /// Bytes of memory the buffer holds.
    pub fn capacity(&self) -> usize {
        self.buffer.capacity()
    }

    /// Whether end of file has been fed (bytes may still be buffered).
    pub fn eof_received(&self) -> bool {
        self.eof
    }

    /// asyncio's `at_eof`: end of file was fed and every byte has been read.
    pub fn at_eof(&self) -> bool {
        self.eof && self.buffer.is_empty()
    }

    /// Whether the transport should stop reading: more than twice the
    /// limit is buffered and no operation is waiting for data.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// The exception set with [`set_exception`](Self::set_exception), or
    /// else the failure fed with [`feed_error`](Self::feed_error) or
    /// [`connection_failed`](Self::connection_failed).
    pub fn exception(&self) -> Option<&Error> {
        self.exception
            .as_ref()
            .or(self.lost.as_ref())
            .or(self.failed.as_ref())
    }

    /// Make every later read fail with `error`; a waiting read is woken to
    /// fail with it. Buffered bytes stay, as in asyncio.
    pub fn set_exception(&mut self, error: Error) {
        self.exception = Some(error);
        self.wake_waiter();
    }

    /// Make the read `waiter` the one waiting for data, to be woken
    /// through `waker`, as asyncio's `_wait_for_data` does: the same waiter
    /// may claim again, a different one while it waits gets
    /// [`Error::ConcurrentRead`]. A waiter of 0 has not waited before: it
    /// is given an identity here.
    pub fn claim_waiter(&mut self, waiter: &mut u64, waker: &Waker) -> Result<(), Error> {
        if *waiter == 0 {
            self.last_waiter += 1;
            *waiter = self.last_waiter;
        }
        match self.waiter {
            Some(current) if current != *waiter => Err(Error::ConcurrentRead),
            _ => {
                self.waiter = Some(*waiter);
                match &mut self.waker {
                    Some(current) => current.clone_from(waker),
                    None => self.waker = Some(waker.clone()),
                }
                Ok(())
            }
        }
    }

    /// `waiter` stopped waiting: it completed, failed or was cancelled. A
    /// waiter that never waited (0) has nothing to release.
    pub fn release_waiter(&mut self, waiter: u64) {
        if waiter != 0 && self.waiter == Some(waiter) {
            self.waiter = None;
            self.waker = None;
        }
    }

    /// Wake `waker` when the reader stops being paused (at once if it is
    /// not paused): how a transport that stopped reading learns to resume.
    pub fn wake_on_resume(&mut self, waker: &Waker) {
        if self.paused {
            self.resume = Some(waker.clone());
        } else {
            waker.wake_by_ref();
        }
    }

    /// Whether a read is waiting for data.
    pub fn has_waiter(&self) -> bool {
        self.waiter.is_some()
    }

    /// Append bytes received from the transport.
    pub fn feed_data(&mut self, data: &[u8]) -> Result<(), Error> {
        self.check_feed()?;
        self.buffer.extend_from_slice(data);
        self.fed();
        Ok(())
    }

    /// Append bytes received from the transport, adopting their
    /// allocation without copying when the buffer is empty (the common
    /// case for a chunk just read from a socket).
    pub fn feed_owned(&mut self, data: Vec<u8>) -> Result<(), Error> {
        self.check_feed()?;
        if self.buffer.is_empty() {
            self.buffer = BytesMut::from(Bytes::from(data));
        } else {
            self.buffer.extend_from_slice(&data);
        }
        self.fed();
        Ok(())
    }

    /// Put back bytes that a byte-oriented consumer took with `read` but did
    /// not use, ahead of everything buffered.
    pub fn unread(&mut self, bytes: Bytes) {
        self.scan = None;
        if bytes.is_empty() {
            return;
        }
        let mut buffer = BytesMut::from(bytes);
        buffer.extend_from_slice(&self.buffer);
        self.buffer = buffer;
    }

    /// Record end of file: once the buffer is drained, reads return what
    /// asyncio returns at EOF.
    pub fn feed_eof(&mut self) {
        self.eof = true;
        if let Some(error) = self.failed.take() {
            self.lost.get_or_insert(error);
        }
        self.wake_waiter();
    }

    /// Record that the transport failed with `error`. Unlike
    /// [`set_exception`](Self::set_exception), bytes that arrived before
    /// the failure are still returned; a read that needs more than is
    /// buffered fails with `error` (the buffer is kept).
    pub fn feed_error(&mut self, error: Error) {
        if self.lost.is_none() {
            self.lost = Some(self.failed.take().unwrap_or(error));
        }
        self.wake_waiter();
    }

    /// Record that the connection failed elsewhere (a write did) while
    /// its input is still read to its end: [`exception`](Self::exception)
    /// reports `error` at once, reads go on with what arrives, and once
    /// the input ends ([`feed_eof`](Self::feed_eof) or
    /// [`feed_error`](Self::feed_error)) they fail with `error` after the
    /// buffered bytes.
    pub fn connection_failed(&mut self, error: Error) {
        if self.lost.is_none() && self.failed.is_none() {
            self.failed = Some(error);
        }
        self.wake_waiter();
        // The input is read to its end whatever the limit: a transport
        // stopped by it goes on.
        if let Some(waker) = self.resume.take() {
            waker.wake();
        }
    }

    /// Whether no more data will arrive: end of file or a transport failure.
    pub fn is_ended(&self) -> bool {
        self.eof || self.lost.is_some()
    }

    /// asyncio's `read(n)`: `n == 0` gives nothing, `n < 0` everything up
    /// to end of file, `n > 0` up to `n` bytes as soon as one is buffered.
    /// The limit does not apply.
    pub fn read(&mut self, n: i64) -> ReadPoll {
        self.scan = None;
        self.check_exception()?;
        if n == 0 {
            return Poll::Ready(Ok(Bytes::new()));
        }
        if n < 0 {
            if !self.is_ended() {
                return self.wait();
            }
            self.check_lost()?;
            return Poll::Ready(Ok(self.take(self.buffer.len())));
        }
        if self.buffer.is_empty() {
            if !self.is_ended() {
                return self.wait();
            }
            self.check_lost()?;
        }
        let n = usize::try_from(n)
            .unwrap_or(usize::MAX)
            .min(self.buffer.len());
        Poll::Ready(Ok(self.take(n)))
    }

    /// asyncio's `readline`: a line ending in `\n`, or the partial last
    /// line at end of file. A line longer than the limit is discarded (up
    /// to and including its `\n` if that has arrived, else the whole
    /// buffer) and reported as [`Error::LimitOverrun`].
    pub fn readline(&mut self) -> ReadPoll {
        // The common case, a whole line within the limit already buffered,
        // without the general search's bookkeeping. A search resuming
        // where an earlier one stopped takes the general path.
        if self.scan.is_none()
            && self.exception.is_none()
            && let Some(at) = memchr::memchr(b'\n', &self.buffer)
            && at <= self.limit
        {
            return Poll::Ready(Ok(self.take(at + 1)));
        }
        const NEWLINE: &[&[u8]] = &[b"\n"];
        match self.readuntil(NEWLINE) {
            Poll::Ready(Err(Error::IncompleteRead { partial, .. })) => {
                Poll::Ready(Ok(Bytes::from(partial)))
            }
            Poll::Ready(Err(Error::LimitOverrun {
                consumed,
                separator_found,
            })) => {
                let consumed = usize::try_from(consumed).unwrap_or(usize::MAX);
                if self.buffer.get(consumed) == Some(&b'\n') {
                    self.discard(consumed + 1);
                } else {
                    self.discard(self.buffer.len());
                }
                self.maybe_resume();
                Poll::Ready(Err(Error::LimitOverrun {
                    consumed: consumed as u64,
                    separator_found,
                }))
            }
            other => other,
        }
    }

    /// Every complete line buffered, in one piece: the bytes up to and
    /// including the last `\n` among the first `limit + 1` buffered bytes
    /// (so no line in it is longer than [`readline`](Self::readline)
    /// allows). Without such a `\n` it is [`readline`](Self::readline).
    /// A `readlines` that waited takes every line that has arrived since,
    /// not only the first.
    pub fn readlines(&mut self) -> ReadPoll {
        if self.exception.is_none() {
            let window = self.buffer.len().min(self.limit.saturating_add(1));
            // A search for `\n` that waited saw none before its offset.
            let from = match &self.scan {
                Some(scan) if matches!(&scan.separators[..], [sep] if sep == b"\n") => {
                    scan.offset.min(window)
                }
                _ => 0,
            };
            if let Some(at) = memchr::memrchr(b'\n', &self.buffer[from..window]) {
                self.scan = None;
                return Poll::Ready(Ok(self.take(from + at + 1)));
            }
        }
        self.readline()
    }

    /// asyncio's `readuntil`: the bytes up to and including the separator
    /// that ends first. Over the limit, [`Error::LimitOverrun`] is returned
    /// and the bytes stay buffered; at end of file without a separator,
    /// [`Error::IncompleteRead`] carries the whole buffer, which is emptied.
    pub fn readuntil(&mut self, separators: &[&[u8]]) -> ReadPoll {
        let separators = match Separators::new(separators) {
            Ok(separators) => separators,
            Err(e) => {
                self.scan = None;
                return Poll::Ready(Err(Error::invalid_argument(e.message())));
            }
        };
        let pending = self.scan.take();
        self.check_exception()?;

        let mut offset = match pending {
            Some(scan) if separators.same_as(&scan.separators) => scan.offset,
            _ => 0,
        };
        let buffered = self.buffer.len();
        if buffered - offset >= separators.min_len() {
            if let Some(found) = separators.find(&self.buffer, offset) {
                if found.start > self.limit {
                    return Poll::Ready(Err(Error::LimitOverrun {
                        consumed: found.start as u64,
                        separator_found: true,
                    }));
                }
                return Poll::Ready(Ok(self.take(found.end)));
            }
            offset = separators.resume_offset(buffered);
            if offset > self.limit {
                return Poll::Ready(Err(Error::LimitOverrun {
                    consumed: offset as u64,
                    separator_found: false,
                }));
            }
        }
        if self.is_ended() {
            self.check_lost()?;
            let partial = self.take_all();
            return Poll::Ready(Err(Error::IncompleteRead {
                partial,
                expected: None,
            }));
        }
        self.scan = Some(PendingScan {
            separators: separators.to_owned_list(),
            offset,
        });
        self.wait()
    }

    /// asyncio's `readexactly(n)`: exactly `n` bytes, or at end of file
    /// [`Error::IncompleteRead`] with what there was (the buffer is
    /// emptied). Negative `n` is rejected; `n` above the limit is fine.
    pub fn readexactly(&mut self, n: i64) -> ReadPoll {
        self.scan = None;
        let Ok(n) = u64::try_from(n) else {
            return Poll::Ready(Err(Error::invalid_argument(
                "readexactly size can not be less than zero",
            )));
        };
        self.check_exception()?;
        if n == 0 {
            return Poll::Ready(Ok(Bytes::new()));
        }
        let buffered = self.buffer.len();
        if (buffered as u64) >= n {
            return Poll::Ready(Ok(self.take(n as usize)));
        }
        if self.is_ended() {
            self.check_lost()?;
            let partial = self.take_all();
            return Poll::Ready(Err(Error::IncompleteRead {
                partial,
                expected: Some(n),
            }));
        }
        self.wait()
    }

    fn check_feed(&self) -> Result<(), Error> {
        if self.eof {
            return Err(Error::invalid_state("feed_data after feed_eof"));
        }
        Ok(())
    }

    fn check_lost(&self) -> Result<(), Error> {
        match &self.lost {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    fn check_exception(&self) -> Result<(), Error> {
        match &self.exception {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    /// An operation must wait for data: make sure the transport reads.
    fn wait<T>(&mut self) -> ReadPoll<T> {
        self.resume();
        Poll::Pending
    }

    /// Bytes were fed: wake the waiting read, pause above twice the limit.
    fn fed(&mut self) {
        self.wake_waiter();
        if !self.paused && self.buffer.len() > self.limit.saturating_mul(2) {
            self.paused = true;
        }
    }

    fn wake_waiter(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    /// Split the first `n` buffered bytes off, without copying them.
    fn take(&mut self, n: usize) -> Bytes {
        let bytes = self.buffer.split_to(n).freeze();
        self.release_if_empty();
        self.maybe_resume();
        bytes
    }

    /// Every buffered byte, for an error that carries them (they are
    /// copied only if bytes handed out earlier share their allocation).
    fn take_all(&mut self) -> Vec<u8> {
        let bytes = Vec::from(self.buffer.split());
        self.release_if_empty();
        bytes
    }

    /// Drop the first `n` buffered bytes.
    fn discard(&mut self, n: usize) {
        let _ = self.buffer.split_to(n);
        self.release_if_empty();
    }

    /// An empty buffer lets go of its allocation, which the bytes already
    /// handed out may share: an idle stream holds no memory, and the next
    /// chunk from the socket is adopted as it is.
    fn release_if_empty(&mut self) {
        if self.buffer.is_empty() {
            self.buffer = BytesMut::new();
        }
    }

    fn maybe_resume(&mut self) {
        if self.paused && self.buffer.len() <= self.limit {
            self.resume();
        }
    }

    fn resume(&mut self) {
        self.paused = false;
        if let Some(waker) = self.resume.take() {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_off_an_adopted_chunk_without_copying() {
        let mut reader = StreamReader::default();
        let chunk = b"one\ntwo\nthr".to_vec();
        let start = chunk.as_ptr();
        reader.feed_owned(chunk).unwrap();
        let one = match reader.readline() {
            Poll::Ready(Ok(line)) => line,
            other => panic!("{other:?}"),
        };
        let two = match reader.readexactly(4) {
            Poll::Ready(Ok(bytes)) => bytes,
            other => panic!("{other:?}"),
        };
        assert_eq!((&one[..], &two[..]), (&b"one\n"[..], &b"two\n"[..]));
        assert_eq!(one.as_ptr(), start);
        assert_eq!(two.as_ptr(), start.wrapping_add(4));
        assert_eq!(reader.buffered(), b"thr");
    }

    #[test]
    fn a_limit_of_half_the_address_space_or_more_never_pauses() {
        for limit in [usize::MAX / 2 + 1, usize::MAX] {
            let mut reader = StreamReader::new(limit).unwrap();
            reader.feed_data(b"no newline yet").unwrap();
            reader.feed_owned(vec![b'x'; 1 << 16]).unwrap();
            assert!(!reader.is_paused(), "limit {limit}");
            assert!(reader.readline().is_pending());
        }
    }

    #[test]
    fn an_emptied_buffer_holds_no_memory() {
        let mut reader = StreamReader::default();
        reader.feed_owned(vec![b'x'; 1 << 20]).unwrap();
        assert!(matches!(reader.read(-1), Poll::Pending));
        assert!(matches!(reader.read(1 << 20), Poll::Ready(Ok(_))));
        assert_eq!(reader.capacity(), 0);
    }
}

//! A reference model of asyncio's `StreamReader` and a driver that runs a
//! script of reads against it or against `wasio::core::StreamReader`.
//!
//! The model is a literal transcription of CPython 3.13's
//! `Lib/asyncio/streams.py`: a plain `Vec` with `drain`, a naive separator
//! search, the `offset` of `readuntil` kept in the (simulated) coroutine
//! frame. It is slow and obviously right; the core must agree with it on
//! every script and every way of splitting the input into chunks.
//!
//! Shared by the property tests and the fuzz target.

#![allow(dead_code)]

use std::task::Poll;

use wasio::core::{Error, StreamReader};

/// One read operation of a script.
#[derive(Debug, Clone)]
pub enum Op {
    Read(i64),
    Readline,
    Readuntil(Vec<Vec<u8>>),
    Readexactly(i64),
}

/// What one operation returned.
pub type Outcome = Result<Vec<u8>, Error>;

/// Something the driver can run reads against.
pub trait Reader {
    fn feed_data(&mut self, data: &[u8]);
    fn feed_eof(&mut self);
    /// Attempt `op`; `Pending` means "feed me and call again".
    fn attempt(&mut self, op: &Op, frame: &mut Frame) -> Poll<Outcome>;
    /// The bytes still buffered.
    fn leftover(&self) -> Vec<u8>;
}

/// The local state of one simulated coroutine (asyncio's `offset`).
#[derive(Debug, Default)]
pub struct Frame {
    offset: usize,
}

/// Run `ops` in order; whenever one waits, feed the next chunk (or EOF
/// once `chunks` run out). Returns each operation's outcome; the chunks no
/// operation waited for are fed at the end, so the reader's leftover is
/// everything not read.
pub fn run_script(reader: &mut impl Reader, ops: &[Op], chunks: &[Vec<u8>]) -> Vec<Outcome> {
    let mut chunks = chunks.iter();
    let mut eof = false;
    let mut outcomes = Vec::with_capacity(ops.len());
    for op in ops {
        let mut frame = Frame::default();
        loop {
            match reader.attempt(op, &mut frame) {
                Poll::Ready(outcome) => {
                    outcomes.push(outcome);
                    break;
                }
                Poll::Pending => match chunks.next() {
                    Some(chunk) => reader.feed_data(chunk),
                    None => {
                        assert!(!eof, "{op:?} waits after EOF");
                        eof = true;
                        reader.feed_eof();
                    }
                },
            }
        }
    }
    for chunk in chunks {
        reader.feed_data(chunk);
    }
    outcomes
}

impl Reader for StreamReader {
    fn feed_data(&mut self, data: &[u8]) {
        StreamReader::feed_data(self, data).unwrap();
    }

    fn feed_eof(&mut self) {
        StreamReader::feed_eof(self);
    }

    fn attempt(&mut self, op: &Op, _frame: &mut Frame) -> Poll<Outcome> {
        let attempt = match op {
            Op::Read(n) => self.read(*n),
            Op::Readline => self.readline(),
            Op::Readuntil(seps) => {
                let seps: Vec<&[u8]> = seps.iter().map(Vec::as_slice).collect();
                self.readuntil(&seps)
            }
            Op::Readexactly(n) => self.readexactly(*n),
        };
        attempt.map_ok(Vec::from)
    }

    fn leftover(&self) -> Vec<u8> {
        self.buffered().to_vec()
    }
}

/// CPython's `StreamReader`, transcribed, plus wasio's one extension: a
/// transport failure (`lost`) that acts like end of file carrying an error,
/// after the buffered bytes.
#[derive(Debug)]
pub struct Model {
    buffer: Vec<u8>,
    eof: bool,
    limit: usize,
    pub exception: Option<Error>,
    pub lost: Option<Error>,
    pub paused: bool,
}

impl Model {
    pub fn new(limit: usize) -> Self {
        assert!(limit > 0);
        Self {
            buffer: Vec::new(),
            eof: false,
            limit,
            exception: None,
            lost: None,
            paused: false,
        }
    }

    /// `_maybe_resume_transport` after taking bytes.
    fn take(&mut self, n: usize) -> Vec<u8> {
        let taken = self.buffer.drain(..n).collect();
        self.maybe_resume();
        taken
    }

    fn maybe_resume(&mut self) {
        if self.paused && self.buffer.len() <= self.limit {
            self.paused = false;
        }
    }

    /// `_wait_for_data`: a waiting read resumes a paused transport.
    fn wait(&mut self) -> Poll<Outcome> {
        self.paused = false;
        Poll::Pending
    }

    fn ended(&self) -> bool {
        self.eof || self.lost.is_some()
    }

    fn check(&self, error: &Option<Error>) -> Result<(), Error> {
        error.clone().map_or(Ok(()), Err)
    }

    /// asyncio's `at_eof`.
    pub fn at_eof(&self) -> bool {
        self.eof && self.buffer.is_empty()
    }

    /// wasio's `feed_error`.
    pub fn feed_error(&mut self, error: Error) {
        self.lost.get_or_insert(error);
    }

    fn find(&self, sep: &[u8], from: usize) -> Option<usize> {
        (from..=self.buffer.len().saturating_sub(sep.len()))
            .find(|&i| i + sep.len() <= self.buffer.len() && &self.buffer[i..i + sep.len()] == sep)
    }

    fn readuntil(&mut self, separators: &[Vec<u8>], frame: &mut Frame) -> Poll<Outcome> {
        let mut separators = separators.to_vec();
        separators.sort_by_key(Vec::len); // stable, as Python's sorted()
        let Some(first) = separators.first() else {
            return Poll::Ready(Err(Error::invalid_argument(
                "Separator should contain at least one element",
            )));
        };
        let min_seplen = first.len();
        let max_seplen = separators.last().map_or(0, Vec::len);
        if min_seplen == 0 {
            return Poll::Ready(Err(Error::invalid_argument(
                "Separator should be at least one-byte string",
            )));
        }
        if let Err(e) = self.check(&self.exception) {
            return Poll::Ready(Err(e));
        }
        let buflen = self.buffer.len();
        if buflen - frame.offset >= min_seplen {
            let mut best: Option<(usize, usize)> = None; // (match_start, match_end)
            for sep in &separators {
                if let Some(isep) = self.find(sep, frame.offset) {
                    let end = isep + sep.len();
                    if best.is_none_or(|(_, match_end)| end < match_end) {
                        best = Some((isep, end));
                    }
                }
            }
            if let Some((match_start, match_end)) = best {
                if match_start > self.limit {
                    return Poll::Ready(Err(Error::LimitOverrun {
                        consumed: match_start as u64,
                        separator_found: true,
                    }));
                }
                return Poll::Ready(Ok(self.take(match_end)));
            }
            frame.offset = (buflen + 1).saturating_sub(max_seplen);
            if frame.offset > self.limit {
                return Poll::Ready(Err(Error::LimitOverrun {
                    consumed: frame.offset as u64,
                    separator_found: false,
                }));
            }
        }
        if self.ended() {
            if let Err(e) = self.check(&self.lost) {
                return Poll::Ready(Err(e));
            }
            let partial = std::mem::take(&mut self.buffer);
            return Poll::Ready(Err(Error::IncompleteRead {
                partial,
                expected: None,
            }));
        }
        self.wait()
    }
}

impl Reader for Model {
    fn feed_data(&mut self, data: &[u8]) {
        assert!(!self.eof);
        self.buffer.extend_from_slice(data);
        if !self.paused && self.buffer.len() > 2 * self.limit {
            self.paused = true;
        }
    }

    fn feed_eof(&mut self) {
        self.eof = true;
    }

    fn attempt(&mut self, op: &Op, frame: &mut Frame) -> Poll<Outcome> {
        match op {
            Op::Read(n) => {
                if let Err(e) = self.check(&self.exception) {
                    return Poll::Ready(Err(e));
                }
                if *n == 0 {
                    return Poll::Ready(Ok(Vec::new()));
                }
                if *n < 0 {
                    // CPython reads blocks of `limit` until EOF and joins them.
                    if !self.ended() {
                        return self.wait();
                    }
                    if let Err(e) = self.check(&self.lost) {
                        return Poll::Ready(Err(e));
                    }
                    let all = self.buffer.len();
                    return Poll::Ready(Ok(self.take(all)));
                }
                if self.buffer.is_empty() {
                    if !self.ended() {
                        return self.wait();
                    }
                    if let Err(e) = self.check(&self.lost) {
                        return Poll::Ready(Err(e));
                    }
                }
                let n = (*n as usize).min(self.buffer.len());
                Poll::Ready(Ok(self.take(n)))
            }
            Op::Readline => match self.readuntil(&[b"\n".to_vec()], frame) {
                Poll::Ready(Err(Error::IncompleteRead { partial, .. })) => Poll::Ready(Ok(partial)),
                Poll::Ready(Err(Error::LimitOverrun {
                    consumed,
                    separator_found,
                })) => {
                    let consumed = consumed as usize;
                    if self.buffer.get(consumed) == Some(&b'\n') {
                        self.buffer.drain(..consumed + 1);
                    } else {
                        self.buffer.clear();
                    }
                    self.maybe_resume();
                    Poll::Ready(Err(Error::LimitOverrun {
                        consumed: consumed as u64,
                        separator_found,
                    }))
                }
                other => other,
            },
            Op::Readuntil(seps) => self.readuntil(seps, frame),
            Op::Readexactly(n) => {
                if *n < 0 {
                    return Poll::Ready(Err(Error::invalid_argument(
                        "readexactly size can not be less than zero",
                    )));
                }
                if let Err(e) = self.check(&self.exception) {
                    return Poll::Ready(Err(e));
                }
                let n = *n as usize;
                if n == 0 {
                    return Poll::Ready(Ok(Vec::new()));
                }
                if self.buffer.len() >= n {
                    return Poll::Ready(Ok(self.take(n)));
                }
                if self.ended() {
                    if let Err(e) = self.check(&self.lost) {
                        return Poll::Ready(Err(e));
                    }
                    let partial = std::mem::take(&mut self.buffer);
                    return Poll::Ready(Err(Error::IncompleteRead {
                        partial,
                        expected: Some(n as u64),
                    }));
                }
                self.wait()
            }
        }
    }

    fn leftover(&self) -> Vec<u8> {
        self.buffer.clone()
    }
}

/// Split `data` at the given cut points (sorted, deduplicated, in range).
pub fn split(data: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut chunks = Vec::new();
    let mut start = 0;
    for cut in cuts.into_iter().chain([data.len()]) {
        if cut > start {
            chunks.push(data[start..cut].to_vec());
            start = cut;
        }
    }
    chunks
}

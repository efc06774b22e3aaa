//! Random sequences of reader and writer operations — data, end of file,
//! exceptions, transport failures, reads of every kind, writes, flow
//! control, closing — run against the core and against the models, with
//! everything observable compared after every step.
//!
//! Shared by the property tests, the `stream_ops` fuzz target and the
//! replay of saved fuzz inputs.

#![allow(dead_code)]

use std::task::Poll;

use wasio::core::{Error, StreamReader, WriteBuffer};

use super::model::{Frame, Model, Op, Reader};

/// One step of a script.
#[derive(Debug, Clone)]
pub enum Action {
    Feed(Vec<u8>),
    FeedEof,
    SetException(Error),
    FeedError(Error),
    Read(Op),
    Write(Vec<u8>),
    WriteEof,
    Close,
    /// The transport sent up to this many buffered bytes.
    Send(usize),
    /// The transport shut down the sending half (when the writer asks).
    Shutdown,
    /// The transport released the socket (when the writer asks).
    Release,
    ConnectionLost(Error),
    SetLimits(Option<usize>, Option<usize>),
}

/// The errors scripts use.
pub const ERRORS: [Error; 3] = [Error::ConnectionReset, Error::BrokenPipe, Error::TimedOut];

/// asyncio's transport write buffer, written out plainly.
#[derive(Debug)]
pub struct WriterModel {
    buffer: Vec<u8>,
    high: usize,
    low: usize,
    paused: bool,
    eof: bool,
    shut: bool,
    closing: bool,
    closed: bool,
    lost: Option<Error>,
}

impl Default for WriterModel {
    fn default() -> Self {
        Self {
            buffer: Vec::new(),
            high: 64 * 1024,
            low: 16 * 1024,
            paused: false,
            eof: false,
            shut: false,
            closing: false,
            closed: false,
            lost: None,
        }
    }
}

impl WriterModel {
    fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        if let Some(e) = &self.lost {
            return Err(e.clone());
        }
        if self.closing {
            return Err(Error::Closed);
        }
        if self.eof {
            return Err(Error::invalid_state(
                "Cannot call write() after write_eof()",
            ));
        }
        self.buffer.extend_from_slice(data);
        self.paused |= self.buffer.len() > self.high;
        Ok(())
    }

    fn write_eof(&mut self) -> Result<(), Error> {
        if self.closing || self.eof {
            return Ok(());
        }
        if let Some(e) = &self.lost {
            return Err(e.clone());
        }
        self.eof = true;
        Ok(())
    }

    fn send(&mut self, n: usize) {
        let n = n.min(self.buffer.len());
        self.buffer.drain(..n);
        if self.paused && self.buffer.len() <= self.low {
            self.paused = false;
        }
    }

    fn set_limits(&mut self, high: Option<usize>, low: Option<usize>) -> Result<(), Error> {
        let high = high.unwrap_or_else(|| low.map_or(64 * 1024, |l| l.saturating_mul(4)));
        let low = low.unwrap_or(high / 4);
        if high < low {
            return Err(Error::invalid_argument("high must be >= low must be >= 0"));
        }
        (self.high, self.low) = (high, low);
        self.paused |= self.buffer.len() > self.high;
        Ok(())
    }

    fn lose(&mut self, error: Error) {
        self.lost.get_or_insert(error);
        self.buffer.clear();
        self.paused = false;
    }

    fn drain(&self) -> Poll<Result<(), Error>> {
        // asyncio: the connection's error; once it is gone, "Connection
        // lost"; else wait while paused.
        match (&self.lost, self.closed, self.paused) {
            (Some(e), _, _) => Poll::Ready(Err(e.clone())),
            (None, true, _) => Poll::Ready(Err(Error::ConnectionReset)),
            (None, false, true) => Poll::Pending,
            (None, false, false) => Poll::Ready(Ok(())),
        }
    }

    fn wants_shutdown(&self) -> bool {
        (self.eof || self.closing) && !self.shut && self.lost.is_none() && self.buffer.is_empty()
    }

    fn wants_release(&self) -> bool {
        self.closing && !self.closed && (self.shut || self.lost.is_some())
    }

    fn wait_closed(&self) -> Poll<Result<(), Error>> {
        if !self.closed {
            return Poll::Pending;
        }
        match &self.lost {
            Some(e) if *e != Error::Closed => Poll::Ready(Err(e.clone())),
            _ => Poll::Ready(Ok(())),
        }
    }
}

/// Run `actions` on a reader with `limit` and a writer, against the
/// models; panics at the first difference.
pub fn check(limit: usize, actions: &[Action]) {
    let mut core = StreamReader::new(limit).unwrap();
    let mut model = Model::new(limit);
    let mut writer = WriteBuffer::new();
    let mut writer_model = WriterModel::default();
    for (step, action) in actions.iter().enumerate() {
        let context = || format!("step {step}: {action:?}\nscript: {actions:?}");
        match action {
            Action::Feed(data) => {
                if core.eof_received() {
                    assert!(core.feed_data(data).is_err(), "{}", context());
                } else {
                    core.feed_data(data).unwrap();
                    Reader::feed_data(&mut model, data);
                }
            }
            Action::FeedEof => {
                core.feed_eof();
                Reader::feed_eof(&mut model);
            }
            Action::SetException(e) => {
                core.set_exception(e.clone());
                model.exception = Some(e.clone());
            }
            Action::FeedError(e) => {
                core.feed_error(e.clone());
                model.feed_error(e.clone());
            }
            Action::Read(op) => {
                let got = Reader::attempt(&mut core, op, &mut Frame::default());
                let want = Reader::attempt(&mut model, op, &mut Frame::default());
                assert_eq!(got, want, "{}", context());
            }
            Action::Write(data) => {
                assert_eq!(
                    writer.write(data),
                    writer_model.write(data),
                    "{}",
                    context()
                );
            }
            Action::WriteEof => {
                assert_eq!(
                    writer.write_eof(),
                    writer_model.write_eof(),
                    "{}",
                    context()
                );
            }
            Action::Close => {
                writer.close();
                writer_model.closing = true;
            }
            Action::Send(n) => {
                let n = (*n).min(writer.pending().len());
                writer.consume(n);
                writer_model.send(n);
            }
            Action::Shutdown => {
                if writer.wants_shutdown() {
                    writer.shutdown_done();
                    writer_model.shut = true;
                }
            }
            Action::Release => {
                if writer.wants_release() {
                    writer.closed_done();
                    writer_model.closing = true;
                    writer_model.closed = true;
                    writer_model.buffer.clear();
                    writer_model.paused = false;
                }
            }
            Action::ConnectionLost(e) => {
                writer.connection_lost(e.clone());
                writer_model.lose(e.clone());
            }
            Action::SetLimits(high, low) => {
                assert_eq!(
                    writer.set_write_buffer_limits(*high, *low),
                    writer_model.set_limits(*high, *low),
                    "{}",
                    context()
                );
            }
        }
        // Everything observable agrees after every step.
        assert_eq!(core.leftover(), model.leftover(), "{}", context());
        assert_eq!(core.at_eof(), model.at_eof(), "{}", context());
        let model_exception = model.exception.clone().or_else(|| model.lost.clone());
        assert_eq!(core.exception().cloned(), model_exception, "{}", context());
        assert_eq!(core.is_paused(), model.paused, "{}", context());
        assert_eq!(
            writer.pending(),
            writer_model.buffer.as_slice(),
            "{}",
            context()
        );
        assert_eq!(writer.drain(), writer_model.drain(), "{}", context());
        assert_eq!(
            writer.wants_shutdown(),
            writer_model.wants_shutdown(),
            "{}",
            context()
        );
        assert_eq!(
            writer.wants_release(),
            writer_model.wants_release(),
            "{}",
            context()
        );
        assert_eq!(
            writer.wait_closed(),
            writer_model.wait_closed(),
            "{}",
            context()
        );
        assert_eq!(
            writer.is_closing(),
            writer_model.closing || writer_model.lost.is_some(),
            "{}",
            context()
        );
        assert_eq!(
            writer.write_buffer_limits(),
            (writer_model.low, writer_model.high),
            "{}",
            context()
        );
    }
}

/// Fuzzer bytes as a limit and a script.
pub fn decode(bytes: &[u8]) -> (usize, Vec<Action>) {
    let mut input = Input(bytes);
    let limit = 1 + usize::from(input.byte() % 32);
    let mut actions = Vec::new();
    while !input.0.is_empty() && actions.len() < 64 {
        let action = match input.byte() % 14 {
            0 | 1 => Action::Feed(input.bytes(24)),
            2 => Action::FeedEof,
            3 => Action::SetException(input.error()),
            4 => Action::FeedError(input.error()),
            5..=7 => Action::Read(input.op()),
            8 => Action::Write(input.bytes(40)),
            9 => Action::WriteEof,
            10 => Action::Close,
            11 => Action::Send(usize::from(input.byte() % 24)),
            12 => match input.byte() % 3 {
                0 => Action::Shutdown,
                1 => Action::Release,
                _ => Action::ConnectionLost(input.error()),
            },
            _ => Action::SetLimits(input.size(), input.size()),
        };
        actions.push(action);
    }
    (limit, actions)
}

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let (&first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        first
    }

    fn bytes(&mut self, max: u8) -> Vec<u8> {
        let n = usize::from(self.byte() % max).min(self.0.len());
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        // Map onto a small alphabet so separators are common.
        taken
            .iter()
            .map(|b| b"ab\n\rX"[usize::from(b % 5)])
            .collect()
    }

    fn error(&mut self) -> Error {
        ERRORS[usize::from(self.byte()) % ERRORS.len()].clone()
    }

    /// Small water marks, so that buffers cross them often.
    fn size(&mut self) -> Option<usize> {
        match self.byte() {
            0..=63 => None,
            b => Some(usize::from(b % 48)),
        }
    }

    fn op(&mut self) -> Op {
        let size = i64::from(self.byte() % 40) - 2;
        match self.byte() % 4 {
            0 => Op::Read(size),
            1 => Op::Readline,
            2 => {
                let count = usize::from(self.byte() % 4);
                Op::Readuntil((0..count).map(|_| self.bytes(4)).collect())
            }
            _ => Op::Readexactly(size),
        }
    }
}

//! The bytes a writer has buffered and the transport has not yet sent.
//!
//! Each handing of bytes to the socket is a host call that costs more than
//! copying a few kilobytes, so small writes are copied together into one
//! [`BytesMut`] and leave in one call. A write of at least [`ADOPT_MIN`]
//! bytes given as [`Bytes`] is kept as it came, without a copy, queued
//! after what was buffered before it. The coalescing buffer is let go
//! whenever it empties, so an idle stream holds no memory for writing.

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

/// A write at least this long, given as [`Bytes`], is queued as it is
/// instead of being copied.
pub const ADOPT_MIN: usize = 4 * 1024;

/// The most the coalescing buffer reserves at once for the next burst.
const MAX_RESERVE: usize = 256 * 1024;

/// Buffered outgoing bytes, oldest first: the queued chunks, then the
/// coalesced tail.
#[derive(Debug, Default)]
pub struct Outgoing {
    queued: VecDeque<Bytes>,
    tail: BytesMut,
    len: usize,
    /// How full the coalescing buffer has been since it was last empty.
    burst: usize,
    /// The `burst` before it: the next one reserves that much at once
    /// instead of growing to it by doublings, each a copy.
    last_burst: usize,
}

impl Outgoing {
    /// Nothing buffered; allocates nothing until bytes arrive.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes buffered.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of memory held (at least): the coalescing buffer's free
    /// room and the buffered bytes.
    pub fn capacity(&self) -> usize {
        self.tail.capacity() + self.queued.iter().map(Bytes::len).sum::<usize>()
    }

    /// Append a copy of `data`.
    pub fn extend(&mut self, data: &[u8]) {
        if self.tail.capacity() == 0 {
            self.tail.reserve(data.len().max(self.last_burst));
        }
        self.tail.extend_from_slice(data);
        self.burst = self.burst.max(self.tail.len());
        self.len += data.len();
    }

    /// Append `data`, keeping it without a copy when it is long enough to
    /// be worth a send of its own.
    pub fn push(&mut self, data: Bytes) {
        if data.len() < ADOPT_MIN {
            return self.extend(&data);
        }
        if !self.tail.is_empty() {
            self.queued.push_back(self.tail.split().freeze());
        }
        self.len += data.len();
        self.queued.push_back(data);
    }

    /// The bytes to send next: the oldest chunk (empty when nothing is
    /// buffered).
    pub fn front(&self) -> &[u8] {
        self.queued.front().map_or(&self.tail, |chunk| chunk)
    }

    /// Drop the first `n` buffered bytes.
    ///
    /// # Panics
    /// If fewer than `n` bytes are buffered.
    pub fn consume(&mut self, mut n: usize) {
        assert!(n <= self.len, "consume({n}) past the end of {}", self.len);
        self.len -= n;
        while let Some(chunk) = self.queued.front_mut() {
            if n < chunk.len() {
                chunk.advance(n);
                return;
            }
            n -= chunk.len();
            self.queued.pop_front();
        }
        self.tail.advance(n);
        if self.tail.is_empty() {
            self.clear_tail();
        }
    }

    /// Drop everything buffered, releasing the memory.
    pub fn clear(&mut self) {
        self.queued = VecDeque::new();
        self.len = 0;
        self.clear_tail();
    }

    fn clear_tail(&mut self) {
        self.last_burst = std::mem::take(&mut self.burst).min(MAX_RESERVE);
        self.tail = BytesMut::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_leave_in_order_across_small_and_large_writes() {
        let mut outgoing = Outgoing::new();
        let mut expected = Vec::new();
        for round in 0..200usize {
            let size = if round % 5 == 0 {
                ADOPT_MIN + round
            } else {
                round
            };
            let chunk: Vec<u8> = (0..size).map(|i| (i + round) as u8).collect();
            expected.extend_from_slice(&chunk);
            if round % 2 == 0 {
                outgoing.push(Bytes::from(chunk));
            } else {
                outgoing.extend(&chunk);
            }
            assert_eq!(outgoing.len(), expected.len());
            let n = (round * 37) % (outgoing.front().len() + 1);
            assert_eq!(outgoing.front()[..n], expected[..n]);
            outgoing.consume(n);
            expected.drain(..n);
        }
        let mut sent = Vec::new();
        while !outgoing.is_empty() {
            let front = outgoing.front().to_vec();
            outgoing.consume(front.len());
            sent.extend_from_slice(&front);
        }
        assert_eq!(sent, expected);
    }

    #[test]
    fn small_writes_leave_together() {
        let mut outgoing = Outgoing::new();
        for _ in 0..10 {
            outgoing.push(Bytes::from_static(b"line\n"));
        }
        assert_eq!(outgoing.front().len(), 50);
    }

    #[test]
    fn a_large_write_is_not_copied() {
        let mut outgoing = Outgoing::new();
        outgoing.extend(b"head ");
        let large = Bytes::from(vec![7; ADOPT_MIN]);
        outgoing.push(large.clone());
        assert_eq!(outgoing.front(), b"head ");
        outgoing.consume(5);
        assert_eq!(outgoing.front().as_ptr(), large.as_ptr());
    }

    #[test]
    fn consume_spans_chunks() {
        let mut outgoing = Outgoing::new();
        outgoing.push(Bytes::from(vec![1; ADOPT_MIN]));
        outgoing.extend(b"abc");
        outgoing.consume(ADOPT_MIN + 1);
        assert_eq!(outgoing.front(), b"bc");
        assert_eq!(outgoing.len(), 2);
    }

    #[test]
    fn the_next_burst_reserves_what_the_last_one_grew_to() {
        let mut outgoing = Outgoing::new();
        for _ in 0..1000 {
            outgoing.extend(&[1; 64]);
        }
        outgoing.consume(64_000);
        assert_eq!(outgoing.capacity(), 0);
        outgoing.extend(&[2; 64]);
        assert_eq!(outgoing.capacity(), 64_000);
    }

    #[test]
    fn emptied_buffer_releases_large_allocations() {
        let mut outgoing = Outgoing::new();
        outgoing.extend(&vec![0; 1 << 20]);
        outgoing.consume(1 << 20);
        assert_eq!(outgoing.capacity(), 0);
    }
}

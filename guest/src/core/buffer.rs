//! A byte queue that drops consumed prefixes in amortised O(1).
//!
//! Bytes are appended at the back and taken from the front. Taking moves a
//! head index instead of shifting the remaining bytes; the live bytes are
//! moved to the front only when the consumed prefix has grown at least as
//! large as they are, so every byte is moved at most once on average. The
//! live bytes stay contiguous, which is what separator scans need.

/// A buffer that keeps its capacity below this when it empties, so an idle
/// stream does not pin the memory of its largest burst.
const RETAINED_CAPACITY: usize = 16 * 1024;

/// Growable contiguous byte queue.
#[derive(Debug, Default, Clone)]
pub struct ByteBuffer {
    data: Vec<u8>,
    head: usize,
}

impl ByteBuffer {
    /// An empty buffer; allocates nothing until bytes arrive.
    pub const fn new() -> Self {
        Self {
            data: Vec::new(),
            head: 0,
        }
    }

    /// Number of buffered bytes.
    pub fn len(&self) -> usize {
        self.data.len() - self.head
    }

    /// Whether no bytes are buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffered bytes, oldest first.
    pub fn as_slice(&self) -> &[u8] {
        &self.data[self.head..]
    }

    /// Bytes of memory held, buffered or not.
    pub fn capacity(&self) -> usize {
        self.data.capacity()
    }

    /// Append a copy of `bytes`.
    pub fn extend(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.compact_for(bytes.len());
        self.data.extend_from_slice(bytes);
    }

    /// Append `bytes`, adopting the vector without copying when the buffer
    /// is empty (the common case for a chunk just read from a socket).
    pub fn extend_owned(&mut self, bytes: Vec<u8>) {
        if self.is_empty() && bytes.capacity() >= self.data.capacity() {
            self.data = bytes;
            self.head = 0;
        } else {
            self.extend(&bytes);
        }
    }

    /// Put `bytes` back in front of the buffered ones (they were taken
    /// from the front and not used).
    pub fn unread(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if bytes.len() <= self.head {
            self.head -= bytes.len();
            self.data[self.head..self.head + bytes.len()].copy_from_slice(bytes);
        } else {
            let mut data = Vec::with_capacity(bytes.len() + self.len());
            data.extend_from_slice(bytes);
            data.extend_from_slice(self.as_slice());
            self.data = data;
            self.head = 0;
        }
    }

    /// Drop the first `n` buffered bytes.
    ///
    /// # Panics
    /// If fewer than `n` bytes are buffered.
    pub fn consume(&mut self, n: usize) {
        assert!(
            n <= self.len(),
            "consume({n}) past the end of {}",
            self.len()
        );
        self.head += n;
        if self.head == self.data.len() {
            self.clear();
        }
    }

    /// Remove and return the first `n` buffered bytes.
    ///
    /// Taking everything from an uncompacted buffer hands over its vector
    /// without copying.
    ///
    /// # Panics
    /// If fewer than `n` bytes are buffered.
    pub fn take(&mut self, n: usize) -> Vec<u8> {
        assert!(n <= self.len(), "take({n}) past the end of {}", self.len());
        if n == self.len() && self.head == 0 {
            return std::mem::take(&mut self.data);
        }
        let bytes = self.as_slice()[..n].to_vec();
        self.consume(n);
        bytes
    }

    /// Remove and return every buffered byte.
    pub fn take_all(&mut self) -> Vec<u8> {
        self.take(self.len())
    }

    /// Drop every buffered byte, releasing memory beyond a small reserve.
    pub fn clear(&mut self) {
        self.head = 0;
        if self.data.capacity() > RETAINED_CAPACITY {
            self.data = Vec::new();
        } else {
            self.data.clear();
        }
    }

    /// Move the live bytes to the front before `additional` more arrive,
    /// when the consumed prefix is at least as long as the live part (so the
    /// move is paid for by the consumption) or when it avoids a reallocation.
    fn compact_for(&mut self, additional: usize) {
        if self.head == 0 {
            return;
        }
        let live = self.len();
        let would_grow = self.data.len() + additional > self.data.capacity();
        if self.head >= live || (would_grow && live + additional <= self.data.capacity()) {
            self.data.drain(..self.head);
            self.head = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_returns_bytes_in_order_across_compactions() {
        let mut buffer = ByteBuffer::new();
        let mut expected = std::collections::VecDeque::new();
        let mut next = 0u8;
        for round in 0..2000usize {
            let chunk: Vec<u8> = (0..(round % 37))
                .map(|_| {
                    next = next.wrapping_add(1);
                    next
                })
                .collect();
            expected.extend(chunk.iter().copied());
            buffer.extend(&chunk);
            let n = (round * 7) % (buffer.len() + 1);
            let taken = buffer.take(n);
            let want: Vec<u8> = expected.drain(..n).collect();
            assert_eq!(taken, want);
            assert_eq!(
                buffer.as_slice(),
                expected.iter().copied().collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn taking_everything_hands_over_the_vector() {
        let mut buffer = ByteBuffer::new();
        let chunk = b"hello".to_vec();
        let ptr = chunk.as_ptr();
        buffer.extend_owned(chunk);
        let taken = buffer.take_all();
        assert_eq!(taken.as_ptr(), ptr);
        assert!(buffer.is_empty());
    }

    #[test]
    fn consumed_prefix_is_reclaimed_before_growing() {
        let mut buffer = ByteBuffer::new();
        buffer.extend(&[1; 1000]);
        let capacity = buffer.capacity();
        for _ in 0..10_000 {
            buffer.consume(500);
            buffer.extend(&[2; 500]);
        }
        assert_eq!(buffer.len(), 1000);
        assert!(buffer.capacity() <= 2 * capacity, "{}", buffer.capacity());
    }

    #[test]
    fn unread_puts_bytes_back_in_front() {
        let mut buffer = ByteBuffer::new();
        buffer.extend(b"hello world");
        let taken = buffer.take(6);
        buffer.unread(&taken[2..]);
        assert_eq!(buffer.as_slice(), b"llo world");
        buffer.unread(b"long prefix, longer than the head room: ");
        assert_eq!(
            buffer.as_slice(),
            b"long prefix, longer than the head room: llo world"
        );
    }

    #[test]
    fn emptied_buffer_releases_large_allocations() {
        let mut buffer = ByteBuffer::new();
        buffer.extend(&vec![0; 1 << 20]);
        buffer.consume(1 << 20);
        assert_eq!(buffer.capacity(), 0);
    }
}

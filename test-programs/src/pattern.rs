//! The deterministic byte stream both sides of a transfer test generate:
//! the guest programs use it, and the native peers include this file.

/// A deterministic byte stream (xorshift64*), the same on both sides of a
/// transfer test.
#[derive(Debug, Clone)]
pub struct Pattern {
    state: u64,
    word: [u8; 8],
    used: usize,
}

impl Pattern {
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed | 1,
            word: [0; 8],
            used: 8,
        }
    }

    /// Fill `buffer` with the next bytes of the stream; how the stream is
    /// cut into buffers does not change it.
    pub fn fill(&mut self, buffer: &mut [u8]) {
        for byte in buffer {
            if self.used == 8 {
                self.state ^= self.state >> 12;
                self.state ^= self.state << 25;
                self.state ^= self.state >> 27;
                self.word = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
                self.used = 0;
            }
            *byte = self.word[self.used];
            self.used += 1;
        }
    }
}

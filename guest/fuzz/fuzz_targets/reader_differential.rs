//! Differential fuzzing: the core's `StreamReader` and the CPython
//! reference model must answer every script of reads identically, for
//! every way of splitting the input into chunks.

#![no_main]

#[path = "../../tests/support/model.rs"]
mod model;

use libfuzzer_sys::fuzz_target;
use model::{Model, Op, Reader, run_script, split};
use wasio::core::StreamReader;

/// Reads fuzzer bytes as a script: a limit, some operations, chunk cuts
/// and the data itself.
struct Decoder<'a> {
    bytes: &'a [u8],
}

impl Decoder<'_> {
    fn byte(&mut self) -> u8 {
        let (&first, rest) = self.bytes.split_first().unwrap_or((&0, &[]));
        self.bytes = rest;
        first
    }

    fn small(&mut self, max: u8) -> usize {
        usize::from(self.byte() % max)
    }

    fn bytes(&mut self, max: u8) -> Vec<u8> {
        let n = self.small(max).min(self.bytes.len());
        let (taken, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        taken.to_vec()
    }

    fn op(&mut self) -> Op {
        let size = i64::from(self.byte()) - 2;
        match self.byte() % 4 {
            0 => Op::Read(size),
            1 => Op::Readline,
            2 => {
                let count = self.small(4);
                Op::Readuntil((0..count).map(|_| self.bytes(5)).collect())
            }
            _ => Op::Readexactly(size),
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let mut decoder = Decoder { bytes: input };
    let limit = 1 + decoder.small(64);
    let ops: Vec<Op> = (0..1 + decoder.small(16)).map(|_| decoder.op()).collect();
    let cuts: Vec<usize> = (0..decoder.small(24)).map(|_| decoder.small(255)).collect();
    let data = decoder.bytes.to_vec();
    let chunks = split(&data, &cuts);

    let mut core = StreamReader::new(limit).unwrap();
    let mut reference = Model::new(limit);
    let got = run_script(&mut core, &ops, &chunks);
    let expected = run_script(&mut reference, &ops, &chunks);
    assert_eq!(got, expected, "limit {limit}, ops {ops:?}, chunks {chunks:?}");
    assert_eq!(core.leftover(), reference.leftover());
});

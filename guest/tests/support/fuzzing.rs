//! The checks behind the fuzz targets, as plain functions of the fuzzer's
//! bytes: the targets call them, and `fuzz_regressions.rs` replays saved
//! inputs through them in every test run.

#![allow(dead_code)]

use wasio::core::StreamReader;

use super::model::{Model, Op, Reader, run_script, split};
use super::ops;

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

/// The core's reader and the CPython model answer a script of reads
/// identically, for the chunking the bytes describe.
pub fn reader_differential(input: &[u8]) {
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
    assert_eq!(
        got, expected,
        "limit {limit}, ops {ops:?}, chunks {chunks:?}"
    );
    assert_eq!(core.leftover(), reference.leftover());
}

/// Reader and writer operations agree with the models at every step.
pub fn stream_ops(input: &[u8]) {
    let (limit, actions) = ops::decode(input);
    ops::check(limit, &actions);
}

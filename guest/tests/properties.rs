//! Property tests of the core against the reference model in
//! `support/model.rs`: for any input split into any chunks and any script
//! of reads, the core answers exactly what CPython's algorithm answers; and
//! where asyncio's answers do not depend on chunking, splitting the input
//! changes nothing.

#![cfg(not(target_os = "wasi"))]

mod support;

use proptest::prelude::*;
use support::model::{Model, Op, Outcome, Reader, run_script, split};
use support::ops;
use wasio::core::StreamReader;

/// Bytes drawn mostly from a small alphabet, so separators are common.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        8 => prop::sample::select(&b"ab\n\rX"[..]),
        1 => any::<u8>(),
    ]
}

fn data() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(byte(), 0..300)
}

fn separators() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(byte(), 0..4), 0..4)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (-1i64..40).prop_map(Op::Read),
        3 => Just(Op::Readline),
        3 => separators().prop_map(Op::Readuntil),
        2 => (-1i64..60).prop_map(Op::Readexactly),
    ]
}

/// An op whose answer does not depend on how the input was chunked
/// (given a limit that cannot be overrun): everything but `read(n > 0)`.
fn chunk_independent_op() -> impl Strategy<Value = Op> {
    op().prop_filter(
        "read(n > 0) returns what has arrived",
        |op| !matches!(op, Op::Read(n) if *n > 0),
    )
}

fn cuts() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..1000, 0..30)
}

fn run_core(limit: usize, ops: &[Op], chunks: &[Vec<u8>]) -> (Vec<Outcome>, Vec<u8>) {
    let mut reader = StreamReader::new(limit).unwrap();
    let outcomes = run_script(&mut reader, ops, chunks);
    (outcomes, reader.leftover())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn core_agrees_with_cpython_model_for_any_chunking(
        data in data(),
        cuts in cuts(),
        ops in prop::collection::vec(op(), 1..16),
        limit in 1usize..48,
    ) {
        let chunks = split(&data, &cuts);
        let (core, core_left) = run_core(limit, &ops, &chunks);
        let mut model = Model::new(limit);
        let expected = run_script(&mut model, &ops, &chunks);
        prop_assert_eq!(core, expected);
        prop_assert_eq!(core_left, model.leftover());
    }

    #[test]
    fn chunking_does_not_change_results(
        data in data(),
        cuts in cuts(),
        ops in prop::collection::vec(chunk_independent_op(), 1..16),
    ) {
        // A limit nothing can overrun: overrun handling depends on chunking
        // in asyncio itself (readline discards what has arrived so far).
        let limit = data.len() + 8;
        let whole = run_core(limit, &ops, std::slice::from_ref(&data));
        let chunked = run_core(limit, &ops, &split(&data, &cuts));
        prop_assert_eq!(chunked, whole);
    }

    #[test]
    fn reads_return_the_input_in_order_without_loss(
        data in data(),
        cuts in cuts(),
        sizes in prop::collection::vec(1i64..64, 1..400),
        limit in 1usize..48,
    ) {
        let chunks = split(&data, &cuts);
        let ops: Vec<Op> = sizes.iter().map(|&n| Op::Read(n)).collect();
        let (outcomes, left) = run_core(limit, &ops, &chunks);
        let mut joined = Vec::new();
        let mut at_eof = false;
        for (outcome, n) in outcomes.into_iter().zip(&sizes) {
            let block = outcome.unwrap();
            prop_assert!(block.len() as i64 <= *n);
            if block.is_empty() {
                at_eof = true;
            } else {
                prop_assert!(!at_eof, "bytes after an empty read");
            }
            joined.extend(block);
        }
        joined.extend(left);
        prop_assert_eq!(joined, data);
    }

    #[test]
    fn reader_and_writer_operations_agree_with_the_models(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        let (limit, actions) = ops::decode(&bytes);
        ops::check(limit, &actions);
    }

    #[test]
    fn buffer_stays_bounded_while_lines_overrun(
        line_lengths in prop::collection::vec(0usize..400, 1..20),
        cuts in cuts(),
        limit in 1usize..64,
    ) {
        // Whatever the chunking, readline never holds more than what has
        // arrived since the last answer, and always makes progress.
        let data: Vec<u8> = line_lengths
            .iter()
            .flat_map(|&n| std::iter::repeat_n(b'x', n).chain([b'\n']))
            .collect();
        let chunks = split(&data, &cuts);
        let ops = vec![Op::Readline; data.len() + 2];
        let (outcomes, left) = run_core(limit, &ops, &chunks);
        prop_assert!(left.is_empty());
        prop_assert_eq!(outcomes.last().cloned(), Some(Ok(Vec::new())));
        for line in outcomes.into_iter().flatten() {
            prop_assert!(line.len() <= limit + 1, "line of {} bytes", line.len());
        }
    }
}

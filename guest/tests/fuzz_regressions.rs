//! Every saved fuzz input — crashes turned regressions, and seeds — runs
//! through its target's check on every test run. Inputs live in
//! `fuzz/seeds/<target>/`; `make fuzz` adds them to the corpus it starts from.

#![cfg(not(target_os = "wasi"))]

mod support;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let input = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&input));
        assert!(outcome.is_ok(), "{} fails again", path.display());
        count += 1;
    }
    count
}

#[test]
fn saved_reader_differential_inputs_pass() {
    assert!(replay("reader_differential", support::fuzzing::reader_differential) > 0);
}

#[test]
fn saved_stream_ops_inputs_pass() {
    assert!(replay("stream_ops", support::fuzzing::stream_ops) > 0);
}

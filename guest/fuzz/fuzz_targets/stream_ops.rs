//! Random sequences of reader and writer operations (data, end of file,
//! exceptions, transport failures, reads, writes, flow control, closing)
//! against the models, compared after every step.

#![no_main]

#[path = "../../tests/support/mod.rs"]
mod support;

libfuzzer_sys::fuzz_target!(|input: &[u8]| support::fuzzing::stream_ops(input));

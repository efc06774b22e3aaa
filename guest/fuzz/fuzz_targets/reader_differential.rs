//! Differential fuzzing: the core's `StreamReader` and the CPython
//! reference model must answer every script of reads identically, for
//! every way of splitting the input into chunks.

#![no_main]

#[path = "../../tests/support/mod.rs"]
mod support;

libfuzzer_sys::fuzz_target!(|input: &[u8]| support::fuzzing::reader_differential(input));

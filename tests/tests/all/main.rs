//! The end-to-end suite, one test binary (Wasmtime and Cranelift are
//! linked once, not once per file): each module is a suite of its own,
//! `support` is the harness they share.

mod support;

mod async_consumer;
mod asyncio_model;
mod bad_calls;
mod commands;
mod composition;
mod exports;
mod guest_programs;
mod hardening;
mod host_leaks;
mod host_limits;
mod host_policy;
mod hostile_peers;
mod isolation;
mod p3_host;
mod python;
mod soak;
mod stdio;
mod stock_cli;
mod tls;

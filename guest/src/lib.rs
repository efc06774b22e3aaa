//! wasio: Python asyncio streams for WebAssembly components.
//!
//! The [`core`] module holds the stream semantics without any I/O: a
//! [`core::StreamReader`] fed with bytes and end-of-file answers `read`,
//! `readline`, `readuntil` and `readexactly` exactly as asyncio's
//! `StreamReader` does, and a [`core::WriteBuffer`] keeps the writer's
//! buffer, water marks and closing states. Everything that touches WASI is
//! built on top of it.

pub mod core;

//! The `wasio:streams` WIT exports: resources and functions that convert
//! WIT values and forward to the Rust API, nothing more.
//!
//! Non-blocking forms try once and answer `would-block`; `blocking-` forms
//! run the event loop (`block_on`) until done or timed out. Either way,
//! other streams' buffered writes go out meanwhile.

mod convert;
mod reader;
mod server;
mod tcp;
#[cfg(feature = "unix")]
mod unix;
mod writer;

#[cfg(not(feature = "unix"))]
wit_bindgen::generate!({
    world: "wasio-tcp",
    path: "../wit",
    with: {
        "wasi:io/poll@0.2.12": wasip2::io::poll,
        "wasi:clocks/monotonic-clock@0.2.12": wasip2::clocks::monotonic_clock,
        "wasi:sockets/network@0.2.12": wasip2::sockets::network,
    },
});

#[cfg(feature = "unix")]
wit_bindgen::generate!({
    world: "wasio",
    path: "../wit",
    with: {
        "wasi:io/error@0.2.12": wasip2::io::error,
        "wasi:io/poll@0.2.12": wasip2::io::poll,
        "wasi:io/streams@0.2.12": wasip2::io::streams,
        "wasi:clocks/monotonic-clock@0.2.12": wasip2::clocks::monotonic_clock,
        "wasi:sockets/network@0.2.12": wasip2::sockets::network,
        "wasi:sockets/tcp@0.2.12": wasip2::sockets::tcp,
        "wasio:streams/unix@0.1.0": crate::transport::unix_bindings,
    },
});

/// The component: every exported interface is implemented on it.
struct Component;

export!(Component);

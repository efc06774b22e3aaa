//! The `wasio:streams` WIT exports: resources and functions that convert
//! WIT values and forward to the Rust API, nothing more.
//!
//! `wasio:streams@0.1.0` (WASI 0.2): non-blocking forms try once and
//! answer `would-block`; `blocking-` forms run the event loop
//! (`block_on`) until done or timed out. Either way, other streams'
//! buffered writes go out meanwhile. `wasio:streams@0.2.0` (WASI 0.3,
//! feature `p3`, module `p3`): `async func`s that await the Rust API.

mod convert;
#[cfg(feature = "p3")]
mod p3;
#[cfg(not(feature = "p3"))]
mod reader;
#[cfg(not(feature = "p3"))]
mod server;
#[cfg(not(feature = "p3"))]
mod tcp;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "unix")]
mod unix;
#[cfg(not(feature = "p3"))]
mod writer;

/// The bindings of the world the features select, with the WASI imports
/// every world has mapped to `wasip2`'s, plus `$key => $module` for the
/// world's others (each must be used: wit-bindgen rejects the rest).
#[cfg(not(feature = "p3"))]
macro_rules! bindings {
    ({ $($world:tt)* } $(, $key:literal => $($segment:ident)::+)* $(,)?) => {
        wit_bindgen::generate!({
            $($world)*
            path: "../wit",
            features: ["tls"],
            with: {
                "wasi:io/poll@0.2.12": wasip2::io::poll,
                "wasi:clocks/monotonic-clock@0.2.12": wasip2::clocks::monotonic_clock,
                "wasi:sockets/network@0.2.12": wasip2::sockets::network,
                $($key: $($segment)::+,)*
            },
        });
    };
}

#[cfg(not(any(feature = "unix", feature = "tls", feature = "p3")))]
bindings!({ world: "wasio-tcp", });

// WASI 0.3: `wasio:streams@0.2.0`, whose waiting functions are `async`.
#[cfg(feature = "p3")]
wit_bindgen::generate!({
    world: "wasio-p3",
    path: "../wit-p3",
    with: {
        "wasi:sockets/types@0.3.2": wasip3::sockets::types,
        "wasi:clocks/types@0.3.2": wasip3::clocks::types,
    },
});

#[cfg(all(feature = "unix", not(feature = "tls")))]
bindings!(
    { world: "wasio", },
    "wasi:io/error@0.2.12" => wasip2::io::error,
    "wasi:io/streams@0.2.12" => wasip2::io::streams,
    "wasi:sockets/tcp@0.2.12" => wasip2::sockets::tcp,
    "wasio:streams/unix@0.1.0" => crate::transport::unix_bindings,
);

#[cfg(all(feature = "tls", not(feature = "unix")))]
bindings!(
    { world: "wasio-tls", },
    "wasi:io/error@0.2.12" => wasip2::io::error,
    "wasi:io/streams@0.2.12" => wasip2::io::streams,
    "wasi:tls/types@0.2.0-draft" => crate::transport::tls_bindings,
);

// Both: the two worlds together (no published world has both).
#[cfg(all(feature = "unix", feature = "tls"))]
bindings!(
    {
        inline: "
            package wasio:component;
            world wasio-unix-tls {
                include wasio:streams/wasio@0.1.0;
                include wasio:streams/wasio-tls@0.1.0;
            }
        ",
    },
    "wasi:io/error@0.2.12" => wasip2::io::error,
    "wasi:io/streams@0.2.12" => wasip2::io::streams,
    "wasi:sockets/tcp@0.2.12" => wasip2::sockets::tcp,
    "wasio:streams/unix@0.1.0" => crate::transport::unix_bindings,
    "wasi:tls/types@0.2.0-draft" => crate::transport::tls_bindings,
);

/// The component: every exported interface is implemented on it.
struct Component;

export!(Component);

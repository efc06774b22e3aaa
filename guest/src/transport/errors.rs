//! WASI errors mapped to [`Error`], in one place.

use wasip2::io::streams::StreamError;
use wasip2::sockets::network::ErrorCode;

use crate::core::Error;
#[cfg(feature = "tls")]
use crate::core::TlsFailure;

/// A `wasi:sockets` error code as a wasio error.
pub fn from_code(code: ErrorCode) -> Error {
    match code {
        ErrorCode::AccessDenied => Error::AccessDenied,
        ErrorCode::Timeout => Error::TimedOut,
        ErrorCode::WouldBlock => Error::WouldBlock,
        ErrorCode::AddressInUse => Error::AddressInUse,
        ErrorCode::AddressNotBindable => Error::AddressNotAvailable,
        ErrorCode::RemoteUnreachable => Error::RemoteUnreachable,
        ErrorCode::ConnectionRefused => Error::ConnectionRefused,
        ErrorCode::ConnectionReset => Error::ConnectionReset,
        ErrorCode::ConnectionAborted => Error::ConnectionAborted,
        ErrorCode::NameUnresolvable | ErrorCode::PermanentResolverFailure => {
            Error::NameUnresolvable
        }
        ErrorCode::InvalidArgument => Error::invalid_argument("invalid argument for the socket"),
        ErrorCode::InvalidState => Error::invalid_state("the socket is not in a state for this"),
        ErrorCode::NewSocketLimit => {
            Error::Other("connection limit reached (new-socket-limit)".to_owned())
        }
        other => Error::Other(other.message().to_owned()),
    }
}

/// A `wasi:io` stream error as a wasio error.
///
/// WASI 0.2 describes a failed stream operation only by a debug string:
/// `wasi:sockets/network.network-error-code` would give the code, but it is
/// `@unstable` and the stock `wasmtime` CLI does not link it, so a
/// component importing it would not even instantiate there. The common
/// failures are recognised by the words of the host's error (wasmtime
/// formats the `std::io::Error`: its kind and the OS message); anything
/// else keeps its text.
pub fn from_stream(error: StreamError) -> Error {
    match error {
        StreamError::Closed => Error::BrokenPipe,
        StreamError::LastOperationFailed(error) => from_description(&error.to_debug_string()),
    }
}

/// A failed `wasi:tls` handshake, from the host's description: a TLS
/// failure by its name, else what the transport reported (a reset).
#[cfg(feature = "tls")]
pub fn from_tls(text: &str) -> Error {
    // A host whose errors capture backtraces (`RUST_BACKTRACE=1`) appends
    // one to the description: it says nothing to the guest.
    let text = text
        .split_once("\nStack backtrace:")
        .map_or(text, |(description, _)| description);
    match TlsFailure::classify(text) {
        Some(failure) => Error::Tls {
            failure,
            detail: text.to_owned(),
        },
        None => match from_description(text) {
            Error::Other(_) => Error::Tls {
                failure: TlsFailure::Handshake,
                detail: text.to_owned(),
            },
            transport => transport,
        },
    }
}

fn from_description(text: &str) -> Error {
    let lower = text.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if has(&["reset", "econnreset"]) {
        Error::ConnectionReset
    } else if has(&["broken pipe", "epipe"]) {
        Error::BrokenPipe
    } else if has(&["aborted"]) {
        Error::ConnectionAborted
    } else if has(&["refused"]) {
        Error::ConnectionRefused
    } else if has(&["timed out", "timeout"]) {
        Error::TimedOut
    } else if has(&["not connected"]) {
        Error::NotConnected
    } else {
        Error::Other(text.to_owned())
    }
}

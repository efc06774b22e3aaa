//! WASI 0.3 socket errors mapped to [`Error`], in one place.

use wasip3::sockets::ip_name_lookup::ErrorCode as LookupError;
use wasip3::sockets::types::ErrorCode;

use crate::core::Error;

/// A `wasi:sockets@0.3` error code as a wasio error.
pub fn from_code(code: ErrorCode) -> Error {
    match code {
        ErrorCode::AccessDenied => Error::AccessDenied,
        ErrorCode::Timeout => Error::TimedOut,
        ErrorCode::AddressInUse => Error::AddressInUse,
        ErrorCode::AddressNotBindable => Error::AddressNotAvailable,
        ErrorCode::RemoteUnreachable => Error::RemoteUnreachable,
        ErrorCode::ConnectionRefused => Error::ConnectionRefused,
        ErrorCode::ConnectionReset => Error::ConnectionReset,
        ErrorCode::ConnectionAborted => Error::ConnectionAborted,
        ErrorCode::ConnectionBroken => Error::BrokenPipe,
        ErrorCode::InvalidArgument => Error::invalid_argument("invalid argument for the socket"),
        ErrorCode::InvalidState => Error::invalid_state("the socket is not in a state for this"),
        ErrorCode::Other(Some(message)) => Error::Other(message),
        other => Error::Other(format!("{other:?}")),
    }
}

/// A failed name lookup as a wasio error.
pub fn from_lookup(code: LookupError) -> Error {
    match code {
        LookupError::AccessDenied => Error::AccessDenied,
        LookupError::InvalidArgument => Error::invalid_argument("invalid host name"),
        LookupError::Other(Some(message)) => Error::Other(message),
        // Unresolvable, or the resolver failed (for now or for good).
        _ => Error::NameUnresolvable,
    }
}

//! The one place where Unix-socket failures become `wasi:sockets` error codes.

use std::io;

use wasmtime_wasi::p2::bindings::sockets::network::ErrorCode;

use crate::policy::UnixPathError;

/// The operation that failed: the same errno means different things to a
/// client and to a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Connect,
    Listen,
    Accept,
    Shutdown,
}

/// Map an I/O error from `op` to the code the guest sees.
pub fn io_error_code(err: &io::Error, op: Op) -> ErrorCode {
    use io::ErrorKind as K;
    let code = match (err.raw_os_error(), err.kind()) {
        // Nothing listens there, or its backlog is full (a non-blocking
        // Unix connect says EAGAIN instead of waiting).
        (_, K::NotFound | K::ConnectionRefused | K::WouldBlock) if op == Op::Connect => {
            ErrorCode::ConnectionRefused
        }
        (_, K::NotFound) if op == Op::Listen => ErrorCode::AddressNotBindable,
        (_, K::WouldBlock) => ErrorCode::WouldBlock,
        (_, K::PermissionDenied) => ErrorCode::AccessDenied,
        (_, K::AddrInUse) => ErrorCode::AddressInUse,
        (_, K::AddrNotAvailable) => ErrorCode::AddressNotBindable,
        (_, K::InvalidInput | K::InvalidFilename) => ErrorCode::InvalidArgument,
        (_, K::ConnectionRefused) => ErrorCode::ConnectionRefused,
        (_, K::ConnectionReset | K::BrokenPipe) => ErrorCode::ConnectionReset,
        (_, K::ConnectionAborted) => ErrorCode::ConnectionAborted,
        (_, K::NotConnected) => ErrorCode::InvalidState,
        (_, K::OutOfMemory) => ErrorCode::OutOfMemory,
        (Some(libc_errno::EMFILE | libc_errno::ENFILE), _) => ErrorCode::NewSocketLimit,
        (Some(libc_errno::ENOBUFS | libc_errno::ENOMEM), _) => ErrorCode::OutOfMemory,
        (Some(libc_errno::ENAMETOOLONG), _) => ErrorCode::InvalidArgument,
        _ => ErrorCode::Unknown,
    };
    if code == ErrorCode::Unknown {
        tracing::debug!(?op, error = %err, "unix socket error without a specific code");
    }
    code
}

/// Map a refused or unresolvable path for `op` to the code the guest sees.
pub fn path_error_code(err: &UnixPathError, op: Op) -> ErrorCode {
    match err {
        UnixPathError::Invalid => ErrorCode::InvalidArgument,
        UnixPathError::Denied { .. } => ErrorCode::AccessDenied,
        UnixPathError::Io(e) => io_error_code(e, op),
    }
}

/// The few errno values that `io::ErrorKind` does not name (Linux values,
/// which the other Unix systems wasio runs on share for these).
mod libc_errno {
    pub const ENOMEM: i32 = 12;
    pub const ENFILE: i32 = 23;
    pub const EMFILE: i32 = 24;
    pub const ENAMETOOLONG: i32 = 36;
    pub const ENOBUFS: i32 = 105;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errno(n: i32) -> io::Error {
        io::Error::from_raw_os_error(n)
    }

    #[test]
    fn missing_or_busy_server_is_connection_refused() {
        for n in [
            2,   /* ENOENT */
            111, /* ECONNREFUSED */
            11,  /* EAGAIN */
        ] {
            assert_eq!(
                io_error_code(&errno(n), Op::Connect),
                ErrorCode::ConnectionRefused
            );
        }
    }

    #[test]
    fn listen_errors_name_the_address() {
        assert_eq!(
            io_error_code(&errno(98), Op::Listen),
            ErrorCode::AddressInUse
        );
        assert_eq!(
            io_error_code(&errno(2), Op::Listen),
            ErrorCode::AddressNotBindable
        );
        assert_eq!(
            io_error_code(&errno(13), Op::Listen),
            ErrorCode::AccessDenied
        );
    }

    #[test]
    fn resource_exhaustion_has_its_own_codes() {
        assert_eq!(
            io_error_code(&errno(24), Op::Accept),
            ErrorCode::NewSocketLimit
        );
        assert_eq!(
            io_error_code(&errno(105), Op::Accept),
            ErrorCode::OutOfMemory
        );
        assert_eq!(io_error_code(&errno(11), Op::Accept), ErrorCode::WouldBlock);
    }

    #[test]
    fn shutdown_of_unconnected_socket_is_invalid_state() {
        assert_eq!(
            io_error_code(&errno(107), Op::Shutdown),
            ErrorCode::InvalidState
        );
    }

    #[test]
    fn policy_refusal_is_access_denied() {
        let denied = UnixPathError::Denied { path: "/x".into() };
        assert_eq!(
            path_error_code(&denied, Op::Connect),
            ErrorCode::AccessDenied
        );
        assert_eq!(
            path_error_code(&UnixPathError::Invalid, Op::Listen),
            ErrorCode::InvalidArgument
        );
    }
}

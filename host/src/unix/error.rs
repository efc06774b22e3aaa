//! The one place where Unix-socket failures become `wasi:sockets` error codes.

use std::io;

use rustix::io::Errno;
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
    let code = match Errno::from_io_error(err) {
        Some(errno) => errno_code(errno, op),
        // Not from the system: an error Rust or socket2 made (a path too
        // long for a socket address is `InvalidInput`, for one).
        None => kind_code(err.kind(), op),
    };
    if code == ErrorCode::Unknown {
        tracing::debug!(?op, error = %err, "unix socket error without a specific code");
    }
    code
}

/// The code for an errno from `op`. The values differ between systems
/// (`ENAMETOOLONG` is 36 on Linux and 63 on macOS): `Errno` names them
/// for the system the host is built for.
fn errno_code(errno: Errno, op: Op) -> ErrorCode {
    match errno {
        // connect(2) on a Unix socket: nothing listens at the path, or its
        // backlog is full, which a non-blocking connect reports as EAGAIN
        // instead of waiting (unix(7)).
        Errno::NOENT | Errno::CONNREFUSED | Errno::AGAIN if op == Op::Connect => {
            ErrorCode::ConnectionRefused
        }
        // bind(2): a directory of the path is missing.
        Errno::NOENT if op == Op::Listen => ErrorCode::AddressNotBindable,
        // EWOULDBLOCK is EAGAIN on every system wasio runs on.
        Errno::AGAIN => ErrorCode::WouldBlock,
        Errno::ACCESS | Errno::PERM => ErrorCode::AccessDenied,
        Errno::ADDRINUSE => ErrorCode::AddressInUse,
        Errno::ADDRNOTAVAIL => ErrorCode::AddressNotBindable,
        Errno::INVAL | Errno::NAMETOOLONG => ErrorCode::InvalidArgument,
        Errno::CONNREFUSED => ErrorCode::ConnectionRefused,
        Errno::CONNRESET | Errno::PIPE => ErrorCode::ConnectionReset,
        Errno::CONNABORTED => ErrorCode::ConnectionAborted,
        Errno::NOTCONN => ErrorCode::InvalidState,
        // accept(2), socket(2): the process or the system is out of
        // descriptors.
        Errno::MFILE | Errno::NFILE => ErrorCode::NewSocketLimit,
        Errno::NOMEM | Errno::NOBUFS => ErrorCode::OutOfMemory,
        _ => ErrorCode::Unknown,
    }
}

/// The code for an error that carries no errno, by its kind.
fn kind_code(kind: io::ErrorKind, op: Op) -> ErrorCode {
    use io::ErrorKind as K;
    match kind {
        K::NotFound | K::ConnectionRefused | K::WouldBlock if op == Op::Connect => {
            ErrorCode::ConnectionRefused
        }
        K::NotFound if op == Op::Listen => ErrorCode::AddressNotBindable,
        K::WouldBlock => ErrorCode::WouldBlock,
        K::PermissionDenied => ErrorCode::AccessDenied,
        K::AddrInUse => ErrorCode::AddressInUse,
        K::AddrNotAvailable => ErrorCode::AddressNotBindable,
        K::InvalidInput | K::InvalidFilename => ErrorCode::InvalidArgument,
        K::ConnectionRefused => ErrorCode::ConnectionRefused,
        K::ConnectionReset | K::BrokenPipe => ErrorCode::ConnectionReset,
        K::ConnectionAborted => ErrorCode::ConnectionAborted,
        K::NotConnected => ErrorCode::InvalidState,
        K::OutOfMemory => ErrorCode::OutOfMemory,
        _ => ErrorCode::Unknown,
    }
}

/// Map a refused or unresolvable path for `op` to the code the guest sees.
pub fn path_error_code(err: &UnixPathError, op: Op) -> ErrorCode {
    match err {
        UnixPathError::Invalid => ErrorCode::InvalidArgument,
        UnixPathError::Denied { .. } => ErrorCode::AccessDenied,
        UnixPathError::Io(e) => io_error_code(e, op),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(errno: Errno) -> io::Error {
        io::Error::from_raw_os_error(errno.raw_os_error())
    }

    #[test]
    fn missing_or_busy_server_is_connection_refused() {
        for errno in [Errno::NOENT, Errno::CONNREFUSED, Errno::AGAIN] {
            assert_eq!(
                io_error_code(&os(errno), Op::Connect),
                ErrorCode::ConnectionRefused
            );
        }
    }

    #[test]
    fn listen_errors_name_the_address() {
        assert_eq!(
            io_error_code(&os(Errno::ADDRINUSE), Op::Listen),
            ErrorCode::AddressInUse
        );
        assert_eq!(
            io_error_code(&os(Errno::NOENT), Op::Listen),
            ErrorCode::AddressNotBindable
        );
        assert_eq!(
            io_error_code(&os(Errno::ACCESS), Op::Listen),
            ErrorCode::AccessDenied
        );
        assert_eq!(
            io_error_code(&os(Errno::NAMETOOLONG), Op::Listen),
            ErrorCode::InvalidArgument
        );
    }

    #[test]
    fn resource_exhaustion_has_its_own_codes() {
        assert_eq!(
            io_error_code(&os(Errno::MFILE), Op::Accept),
            ErrorCode::NewSocketLimit
        );
        assert_eq!(
            io_error_code(&os(Errno::NOBUFS), Op::Accept),
            ErrorCode::OutOfMemory
        );
        assert_eq!(
            io_error_code(&os(Errno::AGAIN), Op::Accept),
            ErrorCode::WouldBlock
        );
    }

    #[test]
    fn shutdown_of_unconnected_socket_is_invalid_state() {
        assert_eq!(
            io_error_code(&os(Errno::NOTCONN), Op::Shutdown),
            ErrorCode::InvalidState
        );
    }

    #[test]
    fn errors_without_an_errno_are_mapped_by_kind() {
        let too_long = io::Error::new(io::ErrorKind::InvalidInput, "path too long");
        assert_eq!(
            io_error_code(&too_long, Op::Connect),
            ErrorCode::InvalidArgument
        );
        let closed = io::Error::from(io::ErrorKind::BrokenPipe);
        assert_eq!(
            io_error_code(&closed, Op::Accept),
            ErrorCode::ConnectionReset
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

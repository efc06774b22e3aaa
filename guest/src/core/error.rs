//! The one error type of wasio.
//!
//! It carries what asyncio's exceptions carry (the partial bytes of an
//! incomplete read, how many bytes a limit overrun consumed) and what the
//! transport reports. The WIT `error` variant mirrors it one to one.

use std::borrow::Cow;
use std::fmt;

/// Why a stream operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// End of file came before the operation could complete (asyncio's
    /// `IncompleteReadError`). `partial` holds the bytes read before it;
    /// `expected` is the length asked for, `None` for `readuntil`.
    IncompleteRead {
        partial: Vec<u8>,
        expected: Option<u64>,
    },
    /// The data before a separator is longer than the reader's limit
    /// (asyncio's `LimitOverrunError`). `consumed` is how many bytes the
    /// separator search examined; `separator_found` tells which of asyncio's
    /// two cases this is. `readuntil` leaves the bytes buffered, `readline`
    /// discards them as asyncio does.
    LimitOverrun {
        consumed: u64,
        separator_found: bool,
    },
    /// A read was started while another read on the same reader is waiting
    /// for data.
    ConcurrentRead,
    /// An argument is out of range (asyncio's `ValueError`).
    InvalidArgument(Cow<'static, str>),
    /// The call is not allowed in the stream's current state, such as
    /// feeding data after end of file or writing after `write_eof`.
    InvalidState(Cow<'static, str>),
    /// The stream or its writer has been closed.
    Closed,
    /// The operation could not complete without waiting (non-blocking forms).
    WouldBlock,
    /// A blocking operation or a connect ran out of time.
    TimedOut,
    /// The peer refused the connection.
    ConnectionRefused,
    /// The peer reset the connection.
    ConnectionReset,
    /// The connection was aborted locally.
    ConnectionAborted,
    /// Writing to a connection whose peer has gone.
    BrokenPipe,
    /// The network policy or the system denied the operation.
    AccessDenied,
    /// The local address is already in use.
    AddressInUse,
    /// The local address cannot be bound here.
    AddressNotAvailable,
    /// The remote address cannot be reached.
    RemoteUnreachable,
    /// The host name does not resolve to any address.
    NameUnresolvable,
    /// The socket is not connected.
    NotConnected,
    /// Any other failure, described for a human.
    Other(String),
}

impl Error {
    /// An [`Error::InvalidArgument`] with a fixed reason.
    pub const fn invalid_argument(reason: &'static str) -> Self {
        Self::InvalidArgument(Cow::Borrowed(reason))
    }

    /// An [`Error::InvalidState`] with a fixed reason.
    pub const fn invalid_state(reason: &'static str) -> Self {
        Self::InvalidState(Cow::Borrowed(reason))
    }

    /// Whether this error means the connection is gone (as opposed to a
    /// protocol-level failure such as a limit overrun).
    pub fn is_connection_lost(&self) -> bool {
        matches!(
            self,
            Self::ConnectionReset | Self::ConnectionAborted | Self::BrokenPipe | Self::Closed
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IncompleteRead { partial, expected } => {
                let expected = expected.map_or_else(|| "undefined".to_owned(), |n| n.to_string());
                write!(
                    f,
                    "{} bytes read on a total of {expected} expected bytes",
                    partial.len()
                )
            }
            Self::LimitOverrun {
                separator_found: true,
                ..
            } => f.write_str("Separator is found, but chunk is longer than limit"),
            Self::LimitOverrun {
                separator_found: false,
                ..
            } => f.write_str("Separator is not found, and chunk exceed the limit"),
            Self::ConcurrentRead => {
                f.write_str("read called while another read is already waiting for incoming data")
            }
            Self::InvalidArgument(what) | Self::InvalidState(what) => f.write_str(what),
            Self::Closed => f.write_str("the stream is closed"),
            Self::WouldBlock => f.write_str("the operation would block"),
            Self::TimedOut => f.write_str("timed out"),
            Self::ConnectionRefused => f.write_str("connection refused"),
            Self::ConnectionReset => f.write_str("connection reset by peer"),
            Self::ConnectionAborted => f.write_str("connection aborted"),
            Self::BrokenPipe => f.write_str("broken pipe"),
            Self::AccessDenied => f.write_str("access denied"),
            Self::AddressInUse => f.write_str("address in use"),
            Self::AddressNotAvailable => f.write_str("address not available"),
            Self::RemoteUnreachable => f.write_str("remote unreachable"),
            Self::NameUnresolvable => f.write_str("name does not resolve"),
            Self::NotConnected => f.write_str("not connected"),
            Self::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(error: Error) -> Self {
        use std::io::ErrorKind;
        let kind = match &error {
            Error::IncompleteRead { .. } => ErrorKind::UnexpectedEof,
            Error::LimitOverrun { .. } | Error::InvalidArgument(_) => ErrorKind::InvalidInput,
            Error::ConcurrentRead | Error::InvalidState(_) => ErrorKind::Other,
            Error::Closed | Error::BrokenPipe => ErrorKind::BrokenPipe,
            Error::WouldBlock => ErrorKind::WouldBlock,
            Error::TimedOut => ErrorKind::TimedOut,
            Error::ConnectionRefused => ErrorKind::ConnectionRefused,
            Error::ConnectionReset => ErrorKind::ConnectionReset,
            Error::ConnectionAborted => ErrorKind::ConnectionAborted,
            Error::AccessDenied => ErrorKind::PermissionDenied,
            Error::AddressInUse => ErrorKind::AddrInUse,
            Error::AddressNotAvailable => ErrorKind::AddrNotAvailable,
            Error::RemoteUnreachable => ErrorKind::HostUnreachable,
            Error::NameUnresolvable => ErrorKind::NotFound,
            Error::NotConnected => ErrorKind::NotConnected,
            Error::Other(_) => ErrorKind::Other,
        };
        Self::new(kind, error)
    }
}

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
    /// The TLS handshake failed (asyncio's `ssl.SSLError` and
    /// `ssl.SSLCertVerificationError`). `detail` is the TLS library's own
    /// description.
    Tls { failure: TlsFailure, detail: String },
    /// Any other failure, described for a human.
    Other(String),
}

/// Why a TLS handshake failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFailure {
    /// The server's certificate does not lead to a certificate authority
    /// the host trusts (with `wasio run`: add it with `--tls-ca`).
    CertificateNotTrusted,
    /// The certificate is valid, but not for the server name asked for.
    NameMismatch,
    /// The certificate has expired or is not valid yet.
    CertificateExpired,
    /// The certificate is unusable for another reason (bad signature,
    /// wrong purpose, revoked, malformed).
    CertificateInvalid,
    /// The peer does not speak TLS: what it sent is not a TLS record.
    NotTls,
    /// The handshake failed otherwise: an alert from the peer, no common
    /// protocol version or cipher suite, the peer closing mid-handshake.
    Handshake,
    /// The host offers no TLS, or the server name is not a valid DNS name
    /// or IP address.
    Unavailable,
}

impl TlsFailure {
    /// The failure a host's description of a failed handshake names.
    ///
    /// `wasi:tls@0.2.0-draft` reports a failed handshake only as an
    /// `io-error` with a debug string. Wasmtime's providers (the stock
    /// CLI's and `wasio run`'s) pass rustls's wording on, which these
    /// match: "invalid peer certificate: UnknownIssuer", "... certificate
    /// not valid for name ...", "... certificate expired ...", "received
    /// corrupt message of type InvalidContentType". `None`: not a TLS
    /// failure (the transport's, such as a reset).
    pub fn classify(description: &str) -> Option<Self> {
        let has = |words: &[&str]| words.iter().any(|w| description.contains(w));
        Some(
            // The peer's alert first: its verdict (on a client certificate,
            // a version, ...) is named like ours would be.
            if has(&["received fatal alert"]) {
                Self::Handshake
            } else if has(&["UnknownIssuer"]) {
                Self::CertificateNotTrusted
            } else if has(&["NotValidForName", "not valid for name"]) {
                Self::NameMismatch
            } else if has(&[
                "Expired",
                "certificate expired",
                "NotValidYet",
                "not valid yet",
            ]) {
                Self::CertificateExpired
            } else if has(&["invalid peer certificate", "BadCertificate"]) {
                Self::CertificateInvalid
            } else if has(&[
                "corrupt message",
                "InvalidContentType",
                "unexpected message",
            ]) {
                Self::NotTls
            } else if has(&["TLS is off", "no TLS provider", "invalid server name"]) {
                Self::Unavailable
            } else if has(&[
                "tls handshake eof",
                "peer is incompatible",
                "peer misbehaved",
                "handshake",
            ]) {
                Self::Handshake
            } else {
                return None;
            },
        )
    }
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CertificateNotTrusted => "TLS certificate not trusted",
            Self::NameMismatch => "TLS certificate not valid for the server name",
            Self::CertificateExpired => "TLS certificate expired or not yet valid",
            Self::CertificateInvalid => "TLS certificate invalid",
            Self::NotTls => "the peer does not speak TLS",
            Self::Handshake => "TLS handshake failed",
            Self::Unavailable => "TLS unavailable",
        })
    }
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
            Self::Tls { failure, detail } => write!(f, "{failure}: {detail}"),
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
            Error::Tls { .. } | Error::Other(_) => ErrorKind::Other,
        };
        Self::new(kind, error)
    }
}

#[cfg(test)]
mod tests {
    use super::TlsFailure::{self, *};

    #[test]
    fn tls_failures_are_named_from_rustls_wording() {
        let cases = [
            (
                "invalid peer certificate: UnknownIssuer",
                CertificateNotTrusted,
            ),
            (
                "invalid peer certificate: certificate not valid for name \"a.test\"; \
                 certificate is only valid for b.test",
                NameMismatch,
            ),
            ("invalid peer certificate: NotValidForName", NameMismatch),
            (
                "invalid peer certificate: certificate expired: verification time 2, \
                 but certificate is not valid after 1 (1 seconds ago)",
                CertificateExpired,
            ),
            ("invalid peer certificate: BadSignature", CertificateInvalid),
            (
                "received corrupt message of type InvalidContentType",
                NotTls,
            ),
            ("tls handshake eof", Handshake),
            ("received fatal alert: HandshakeFailure", Handshake),
            ("received fatal alert: UnknownCA", Handshake),
            ("invalid server name \"\"", Unavailable),
            ("TLS is off in this host: run wasio with --tls", Unavailable),
        ];
        for (text, failure) in cases {
            assert_eq!(TlsFailure::classify(text), Some(failure), "{text}");
        }
        assert_eq!(
            TlsFailure::classify("Connection reset by peer (os error 104)"),
            None
        );
    }
}

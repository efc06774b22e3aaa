//! WIT values to and from wasio's Rust types, in one place.

use std::time::Duration;

#[cfg(feature = "tls")]
use super::exports::wasio::streams::tls;
use super::exports::wasio::streams::types as wit;
use crate::core::Error;
use crate::transport::address::{from_std, to_std};
use crate::{
    AddressFamily, ConnectOptions, ExtraInfo, KeepAlive, ServerOptions, SocketAddress,
    SocketOptions, StreamLimits,
};

/// A wasio error as the WIT `error` variant.
pub fn error(error: Error) -> wit::Error {
    match error {
        Error::IncompleteRead { partial, expected } => {
            wit::Error::IncompleteRead(wit::IncompleteRead { partial, expected })
        }
        Error::LimitOverrun {
            consumed,
            separator_found,
        } => wit::Error::LimitOverrun(wit::LimitOverrun {
            consumed,
            separator_found,
        }),
        Error::ConcurrentRead => wit::Error::ConcurrentRead,
        // A TLS failure after the handshake (the `tls` interface reports
        // handshakes' own).
        error @ Error::Tls { .. } => wit::Error::Other(error.to_string()),
        Error::InvalidArgument(reason) => wit::Error::InvalidArgument(reason.into_owned()),
        Error::InvalidState(reason) => wit::Error::InvalidState(reason.into_owned()),
        Error::Closed => wit::Error::Closed,
        Error::WouldBlock => wit::Error::WouldBlock,
        Error::TimedOut => wit::Error::TimedOut,
        Error::ConnectionRefused => wit::Error::ConnectionRefused,
        Error::ConnectionReset => wit::Error::ConnectionReset,
        Error::ConnectionAborted => wit::Error::ConnectionAborted,
        Error::BrokenPipe => wit::Error::BrokenPipe,
        Error::AccessDenied => wit::Error::AccessDenied,
        Error::AddressInUse => wit::Error::AddressInUse,
        Error::AddressNotAvailable => wit::Error::AddressNotAvailable,
        Error::RemoteUnreachable => wit::Error::RemoteUnreachable,
        Error::NameUnresolvable => wit::Error::NameUnresolvable,
        Error::NotConnected => wit::Error::NotConnected,
        Error::Other(message) => wit::Error::Other(message),
    }
}

/// A wasio error as the `tls` interface's `tls-error`: a failed
/// handshake, or the connection's error.
#[cfg(feature = "tls")]
pub fn tls_error(error: Error) -> tls::TlsError {
    use crate::TlsFailure;
    match error {
        Error::Tls { failure, detail } => tls::TlsError::Handshake(tls::HandshakeError {
            failure: match failure {
                TlsFailure::CertificateNotTrusted => tls::HandshakeFailure::CertificateNotTrusted,
                TlsFailure::NameMismatch => tls::HandshakeFailure::NameMismatch,
                TlsFailure::CertificateExpired => tls::HandshakeFailure::CertificateExpired,
                TlsFailure::CertificateInvalid => tls::HandshakeFailure::CertificateInvalid,
                TlsFailure::NotTls => tls::HandshakeFailure::NotTls,
                TlsFailure::Handshake => tls::HandshakeFailure::Handshake,
                TlsFailure::Unavailable => tls::HandshakeFailure::Unavailable,
            },
            detail,
        }),
        other => tls::TlsError::Connection(self::error(other)),
    }
}

/// The WIT `error` variant as a wasio error (for `set-exception`).
pub fn from_wit_error(error: wit::Error) -> Error {
    match error {
        wit::Error::IncompleteRead(e) => Error::IncompleteRead {
            partial: e.partial,
            expected: e.expected,
        },
        wit::Error::LimitOverrun(e) => Error::LimitOverrun {
            consumed: e.consumed,
            separator_found: e.separator_found,
        },
        wit::Error::ConcurrentRead => Error::ConcurrentRead,
        wit::Error::InvalidArgument(reason) => Error::InvalidArgument(reason.into()),
        wit::Error::InvalidState(reason) => Error::InvalidState(reason.into()),
        wit::Error::Closed => Error::Closed,
        wit::Error::WouldBlock => Error::WouldBlock,
        wit::Error::TimedOut => Error::TimedOut,
        wit::Error::ConnectionRefused => Error::ConnectionRefused,
        wit::Error::ConnectionReset => Error::ConnectionReset,
        wit::Error::ConnectionAborted => Error::ConnectionAborted,
        wit::Error::BrokenPipe => Error::BrokenPipe,
        wit::Error::AccessDenied => Error::AccessDenied,
        wit::Error::AddressInUse => Error::AddressInUse,
        wit::Error::AddressNotAvailable => Error::AddressNotAvailable,
        wit::Error::RemoteUnreachable => Error::RemoteUnreachable,
        wit::Error::NameUnresolvable => Error::NameUnresolvable,
        wit::Error::NotConnected => Error::NotConnected,
        wit::Error::Other(message) => Error::Other(message),
    }
}

/// A WIT result with its error converted.
pub fn result<T>(result: Result<T, Error>) -> Result<T, wit::Error> {
    result.map_err(error)
}

/// A WIT `duration` (nanoseconds).
pub fn duration(nanos: u64) -> Duration {
    Duration::from_nanos(nanos)
}

/// A `blocking-` form: run the event loop until `operation` completes or
/// `timeout` (WIT nanoseconds) passes.
#[cfg(not(feature = "p3"))]
pub fn blocking<T>(
    timeout: Option<u64>,
    operation: impl Future<Output = Result<T, Error>>,
) -> Result<T, wit::Error> {
    result(
        crate::runtime::block_on(crate::runtime::timeout(timeout.map(duration), operation))
            .and_then(|r| r),
    )
}

fn size(value: Option<u64>, what: &'static str) -> Result<Option<usize>, Error> {
    value
        .map(|v| usize::try_from(v).map_err(|_| Error::invalid_argument(what)))
        .transpose()
}

fn limits(limit: Option<u64>, high: Option<u64>, low: Option<u64>) -> Result<StreamLimits, Error> {
    Ok(StreamLimits {
        limit: size(limit, "limit too large")?,
        high: size(high, "write-high-water too large")?,
        low: size(low, "write-low-water too large")?,
    })
}

fn family(family: wit::AddressFamily) -> AddressFamily {
    match family {
        wit::AddressFamily::Ipv4 => AddressFamily::Ipv4,
        wit::AddressFamily::Ipv6 => AddressFamily::Ipv6,
        wit::AddressFamily::Unix => AddressFamily::Unix,
    }
}

fn keep_alive(k: wit::KeepAlive) -> KeepAlive {
    KeepAlive {
        enabled: k.enabled,
        idle_time: k.idle_time.map(duration),
        interval: k.interval.map(duration),
        count: k.count,
    }
}

/// WIT `connect-options` (none: the defaults).
pub fn connect_options(options: Option<wit::ConnectOptions>) -> Result<ConnectOptions, Error> {
    let Some(o) = options else {
        return Ok(ConnectOptions::default());
    };
    Ok(ConnectOptions {
        limits: limits(o.limit, o.write_high_water, o.write_low_water)?,
        timeout: o.timeout.map(duration),
        family: o.family.map(family),
        local_address: o.local_address.map(to_std),
        socket: SocketOptions {
            keep_alive: o.keep_alive.map(keep_alive),
            receive_buffer_size: o.receive_buffer_size,
            send_buffer_size: o.send_buffer_size,
            hop_limit: o.hop_limit,
        },
        #[cfg(feature = "tls")]
        tls: None,
    })
}

/// WIT `server-options` (none: the defaults).
pub fn server_options(options: Option<wit::ServerOptions>) -> Result<ServerOptions, Error> {
    let Some(o) = options else {
        return Ok(ServerOptions::default());
    };
    Ok(ServerOptions {
        limits: limits(o.limit, o.write_high_water, o.write_low_water)?,
        backlog: o.backlog,
        family: o.family.map(family),
        socket: SocketOptions {
            keep_alive: o.keep_alive.map(keep_alive),
            receive_buffer_size: o.receive_buffer_size,
            send_buffer_size: o.send_buffer_size,
            hop_limit: o.hop_limit,
        },
    })
}

/// A socket address as the WIT variant.
pub fn socket_address(address: SocketAddress) -> wit::SocketAddress {
    match address {
        SocketAddress::Ip(address) => wit::SocketAddress::Ip(from_std(address)),
        SocketAddress::Unix(path) => wit::SocketAddress::Unix(path),
    }
}

/// `get-extra-info`'s record.
pub fn extra_info(info: ExtraInfo) -> wit::ExtraInfo {
    wit::ExtraInfo {
        peername: info.peername.map(socket_address),
        sockname: info.sockname.map(socket_address),
        family: match info.family {
            AddressFamily::Ipv4 => wit::AddressFamily::Ipv4,
            AddressFamily::Ipv6 => wit::AddressFamily::Ipv6,
            AddressFamily::Unix => wit::AddressFamily::Unix,
        },
    }
}

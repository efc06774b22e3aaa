//! `open_connection` and `open_unix_connection`.

#[cfg(not(feature = "p3"))]
use super::Connecting;
use super::{StreamReader, StreamWriter};
use crate::core::Error;
use crate::runtime;
#[cfg(feature = "p3")]
use crate::transport;
use crate::transport::{ConnectOptions, Connection, Opened, StreamLimits};

/// asyncio's `open_connection`: connect to `host`:`port` with the default
/// options.
pub async fn open_connection(host: &str, port: u16) -> Result<(StreamReader, StreamWriter), Error> {
    open_connection_with(host, port, ConnectOptions::default()).await
}

/// asyncio's `open_connection` with options: `host` is an IP address or a
/// name; every address it resolves to is tried in turn; `options.timeout`
/// bounds the whole attempt.
pub async fn open_connection_with(
    host: &str,
    port: u16,
    options: ConnectOptions,
) -> Result<(StreamReader, StreamWriter), Error> {
    let timeout = options.timeout;
    #[cfg(not(feature = "p3"))]
    {
        let connecting = Connecting::start(host, port, options)?;
        runtime::timeout(timeout, connecting.finish()).await?
    }
    #[cfg(feature = "p3")]
    {
        let opened = runtime::timeout(timeout, transport::connect(host, port, &options)).await??;
        pair(opened, &options.limits)
    }
}

/// A reader and a writer sharing one new connection.
pub(crate) fn pair(
    opened: Opened,
    limits: &StreamLimits,
) -> Result<(StreamReader, StreamWriter), Error> {
    let conn = Connection::open(opened, limits)?;
    Ok((
        StreamReader::from_connection(conn.clone()),
        StreamWriter::from_connection(conn),
    ))
}

/// asyncio's `open_unix_connection`: connect to the Unix socket at `path`
/// (needs a host that provides `wasio:streams/unix`, such as `wasio run`).
/// Of the options, the limits apply.
#[cfg(feature = "unix")]
pub async fn open_unix_connection(
    path: &str,
    options: ConnectOptions,
) -> Result<(StreamReader, StreamWriter), Error> {
    pair(Opened::connect_unix(path)?, &options.limits)
}

//! `open_connection` and `open_unix_connection`.

use std::future::poll_fn;
use std::task::Poll;

use crate::core::Error;
use crate::runtime::{self, Interest};
use crate::transport::{ConnectOptions, Connecting, Connection, Opened, StreamLimits};

use super::{StreamReader, StreamWriter};

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
    let limits = options.limits;
    let timeout = options.timeout;
    let mut connecting = Connecting::start(host, port, options)?;
    let opened = runtime::timeout(timeout, connect(&mut connecting)).await??;
    pair(opened, &limits)
}

/// Drive `connecting` until it has connected or failed.
pub(crate) async fn connect(connecting: &mut Connecting) -> Result<Opened, Error> {
    let mut interest = Interest::default();
    poll_fn(|cx| match connecting.poll() {
        Poll::Ready(result) => Poll::Ready(result),
        Poll::Pending => {
            match connecting.pollable() {
                Some(pollable) => interest.wait_for(pollable, cx),
                None => cx.waker().wake_by_ref(),
            }
            Poll::Pending
        }
    })
    .await
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
    pair(crate::transport::connect_unix(path)?, &options.limits)
}

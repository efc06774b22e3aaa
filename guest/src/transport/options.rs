//! Options of connections and servers, mirroring the WIT records.

use std::net::SocketAddr;
use std::time::Duration;

#[cfg(not(feature = "p3"))]
use wasip2::sockets::tcp::TcpSocket;
#[cfg(feature = "p3")]
use wasip3::sockets::types::TcpSocket;

use super::address::AddressFamily;
#[cfg(not(feature = "p3"))]
use super::errors::from_code;
#[cfg(feature = "p3")]
use super::p3::from_code;
use crate::core::{Error, StreamReader, WriteBuffer};
use crate::runtime::nanos;

/// Flow-control settings of one stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamLimits {
    /// The reader's limit; `None` is asyncio's 64 KiB.
    pub limit: Option<usize>,
    /// The writer's high-water mark; `None` derives it from `low` or uses
    /// 64 KiB.
    pub high: Option<usize>,
    /// The writer's low-water mark; `None` is a quarter of `high`.
    pub low: Option<usize>,
}

impl StreamLimits {
    /// A reader with these limits.
    pub fn reader(&self) -> Result<StreamReader, Error> {
        match self.limit {
            Some(limit) => StreamReader::new(limit),
            None => Ok(StreamReader::default()),
        }
    }

    pub(crate) fn writer(&self) -> Result<WriteBuffer, Error> {
        let mut writer = WriteBuffer::new();
        if self.high.is_some() || self.low.is_some() {
            writer.set_write_buffer_limits(self.high, self.low)?;
        }
        Ok(writer)
    }
}

/// TCP keep-alive (`SO_KEEPALIVE` and its timings); `None` keeps the
/// system's value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeepAlive {
    pub enabled: bool,
    pub idle_time: Option<Duration>,
    pub interval: Option<Duration>,
    pub count: Option<u32>,
}

/// Per-socket settings offered by `wasi:sockets`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SocketOptions {
    pub keep_alive: Option<KeepAlive>,
    /// `SO_RCVBUF` hint.
    pub receive_buffer_size: Option<u64>,
    /// `SO_SNDBUF` hint.
    pub send_buffer_size: Option<u64>,
    /// Unicast hop limit (IPv4 TTL, IPv6 hop limit).
    pub hop_limit: Option<u8>,
}

impl SocketOptions {
    /// Apply the settings that are set to `socket`.
    pub(crate) fn apply(&self, socket: &TcpSocket) -> Result<(), Error> {
        if let Some(keep_alive) = self.keep_alive {
            socket
                .set_keep_alive_enabled(keep_alive.enabled)
                .map_err(from_code)?;
            if let Some(idle) = keep_alive.idle_time {
                socket
                    .set_keep_alive_idle_time(nanos(idle))
                    .map_err(from_code)?;
            }
            if let Some(interval) = keep_alive.interval {
                socket
                    .set_keep_alive_interval(nanos(interval))
                    .map_err(from_code)?;
            }
            if let Some(count) = keep_alive.count {
                socket.set_keep_alive_count(count).map_err(from_code)?;
            }
        }
        if let Some(size) = self.receive_buffer_size {
            socket.set_receive_buffer_size(size).map_err(from_code)?;
        }
        if let Some(size) = self.send_buffer_size {
            socket.set_send_buffer_size(size).map_err(from_code)?;
        }
        if let Some(hops) = self.hop_limit {
            socket.set_hop_limit(hops).map_err(from_code)?;
        }
        Ok(())
    }
}

/// Options of `open_connection`; `Default` gives asyncio's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Reader limit and writer water marks.
    pub limits: StreamLimits,
    /// How long resolving plus connecting may take in all.
    pub timeout: Option<Duration>,
    /// Only use addresses of this family.
    pub family: Option<AddressFamily>,
    /// Bind to this local address before connecting.
    pub local_address: Option<SocketAddr>,
    /// Socket settings.
    pub socket: SocketOptions,
    /// Speak TLS on the connection (asyncio's `ssl`), through the host's
    /// `wasi:tls`.
    #[cfg(feature = "tls")]
    pub tls: Option<TlsOptions>,
}

/// TLS on a connection: asyncio's `ssl` and `server_hostname`. Which
/// certificate authorities are trusted is the host's to decide (`wasio run
/// --tls --tls-ca FILE`; the stock `wasmtime run -S tls` trusts the public
/// roots only).
#[cfg(feature = "tls")]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// The name the server's certificate must be valid for (and that is
    /// sent as SNI); `None`: the host name (or IP address) connected to.
    pub server_name: Option<String>,
}

/// Options of `start_server`; `Default` gives asyncio's defaults. IPv6
/// sockets are always IPv6-only in WASI 0.2 (asyncio's choice too).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerOptions {
    /// Reader limit and writer water marks of each accepted stream.
    pub limits: StreamLimits,
    /// Listen backlog; asyncio's default is 100.
    pub backlog: Option<u32>,
    /// Only bind addresses of this family.
    pub family: Option<AddressFamily>,
    /// Settings of each accepted socket.
    pub socket: SocketOptions,
}

/// asyncio's default listen backlog.
pub const DEFAULT_BACKLOG: u32 = 100;

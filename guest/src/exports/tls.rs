//! The `tls` interface: `open-connection` with TLS, its `connecting`
//! resource, and `start-tls`.

use std::cell::RefCell;

use wasip2::clocks::monotonic_clock::Duration;
use wasip2::io::poll::Pollable;

use super::Component;
use super::convert::{connect_options, duration, tls_error};
use super::exports::wasio::streams::streams::{
    StreamReader as WitReader, StreamWriter as WitWriter, StreamWriterBorrow,
};
use super::exports::wasio::streams::tls::{
    Connecting as WitConnecting, Guest, GuestConnecting, TlsError,
};
use super::exports::wasio::streams::types::ConnectOptions;
use super::server::pair;
use super::writer::Writer;
use crate::{Connecting, TlsOptions, api, runtime};

/// A TLS connection being opened for the consumer.
pub struct Opening(RefCell<Connecting>);

impl GuestConnecting for Opening {
    fn finish(&self) -> Result<(WitReader, WitWriter), TlsError> {
        self.0
            .borrow_mut()
            .try_finish()
            .map(pair)
            .map_err(tls_error)
    }

    fn subscribe(&self) -> Pollable {
        self.0.borrow_mut().subscribe()
    }
}

/// The Rust API's options for a TLS connection: `options` with TLS on,
/// checked for `server_name` (`None`: the host connected to).
fn tls_options(
    server_name: Option<String>,
    options: Option<ConnectOptions>,
) -> Result<crate::ConnectOptions, TlsError> {
    let mut options = connect_options(options).map_err(tls_error)?;
    options.tls = Some(TlsOptions { server_name });
    Ok(options)
}

impl Guest for Component {
    type Connecting = Opening;

    fn open_connection(
        host: String,
        port: u16,
        server_name: Option<String>,
        options: Option<ConnectOptions>,
    ) -> Result<WitConnecting, TlsError> {
        let options = tls_options(server_name, options)?;
        let connecting = Connecting::start(&host, port, options).map_err(tls_error)?;
        Ok(WitConnecting::new(Opening(RefCell::new(connecting))))
    }

    fn blocking_open_connection(
        host: String,
        port: u16,
        server_name: Option<String>,
        options: Option<ConnectOptions>,
    ) -> Result<(WitReader, WitWriter), TlsError> {
        let options = tls_options(server_name, options)?;
        runtime::block_on(api::open_connection_with(&host, port, options))
            .map(pair)
            .map_err(tls_error)
    }

    fn start_tls(
        writer: StreamWriterBorrow<'_>,
        server_name: String,
        timeout: Option<Duration>,
    ) -> Result<(), TlsError> {
        let writer = &writer.get::<Writer>().0;
        let upgrade = writer.start_tls(&server_name);
        runtime::block_on(runtime::timeout(timeout.map(duration), upgrade))
            .and_then(|upgraded| upgraded)
            .map_err(tls_error)
    }
}

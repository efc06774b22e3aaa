//! The `tcp` interface: `open-connection`, `start-server` and the
//! `connecting` resource.

use std::cell::RefCell;

use wasip2::io::poll::Pollable;

use super::Component;
use super::convert::{connect_options, error, result, server_options};
use super::exports::wasio::streams::streams::{
    Server as WitServer, StreamReader as WitReader, StreamWriter as WitWriter,
};
use super::exports::wasio::streams::tcp::{Connecting as WitConnecting, Guest, GuestConnecting};
use super::exports::wasio::streams::types::{ConnectOptions, Error as WitError, ServerOptions};
use super::server::{Listening, pair};
use crate::{Connecting, api, runtime};

/// A connection being opened for the consumer.
pub struct Opening(RefCell<Connecting>);

impl GuestConnecting for Opening {
    fn finish(&self) -> Result<(WitReader, WitWriter), WitError> {
        result(self.0.borrow_mut().try_finish()).map(pair)
    }

    fn subscribe(&self) -> Pollable {
        self.0.borrow_mut().subscribe()
    }
}

impl Guest for Component {
    type Connecting = Opening;

    fn open_connection(
        host: String,
        port: u16,
        options: Option<ConnectOptions>,
    ) -> Result<WitConnecting, WitError> {
        let options = connect_options(options).map_err(error)?;
        let connecting = Connecting::start(&host, port, options).map_err(error)?;
        Ok(WitConnecting::new(Opening(RefCell::new(connecting))))
    }

    fn blocking_open_connection(
        host: String,
        port: u16,
        options: Option<ConnectOptions>,
    ) -> Result<(WitReader, WitWriter), WitError> {
        let options = connect_options(options).map_err(error)?;
        result(runtime::block_on(api::open_connection_with(
            &host, port, options,
        )))
        .map(pair)
    }

    fn start_server(
        host: Option<String>,
        port: u16,
        options: Option<ServerOptions>,
    ) -> Result<WitServer, WitError> {
        let options = server_options(options).map_err(error)?;
        let server =
            runtime::block_on(api::listen(host.as_deref(), port, options)).map_err(error)?;
        Ok(WitServer::new(Listening(server)))
    }
}

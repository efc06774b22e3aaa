//! The `tcp` interface: `open-connection`, `start-server` and the
//! `connecting` resource.

use std::cell::RefCell;
use std::task::Poll;

use wasip2::clocks::monotonic_clock;
use wasip2::io::poll::Pollable;

use super::Component;
use super::convert::{connect_options, error, result, server_options};
use super::exports::wasio::streams::streams::{
    Server as WitServer, StreamReader as WitReader, StreamWriter as WitWriter,
};
use super::exports::wasio::streams::tcp::{Connecting as WitConnecting, Guest, GuestConnecting};
use super::exports::wasio::streams::types::{ConnectOptions, Error as WitError, ServerOptions};
use super::server::{Listening, pair};
use crate::core::Error;
use crate::transport::{Connecting, StreamLimits};
use crate::{api, runtime};

/// A connection being opened for the consumer.
pub struct Opening {
    connecting: RefCell<Connecting>,
    limits: StreamLimits,
}

impl GuestConnecting for Opening {
    fn finish(&self) -> Result<(WitReader, WitWriter), WitError> {
        let polled = self.connecting.borrow_mut().poll();
        match polled {
            Poll::Ready(opened) => {
                result(opened.and_then(|o| api::pair(o, &self.limits))).map(pair)
            }
            Poll::Pending => {
                runtime::run_until_stalled();
                Err(error(Error::WouldBlock))
            }
        }
    }

    fn subscribe(&self) -> Pollable {
        self.connecting
            .borrow()
            .subscribe()
            .unwrap_or_else(|| monotonic_clock::subscribe_duration(0))
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
        let limits = options.limits;
        let connecting = Connecting::start(&host, port, options).map_err(error)?;
        Ok(WitConnecting::new(Opening {
            connecting: RefCell::new(connecting),
            limits,
        }))
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

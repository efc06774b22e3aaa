//! The `unix-streams` interface: Unix-domain variants over the host's
//! `unix` import.

use super::Component;
use super::convert::{connect_options, error, result, server_options};
use super::exports::wasio::streams::streams::{
    Server as WitServer, StreamReader as WitReader, StreamWriter as WitWriter,
};
use super::exports::wasio::streams::types::{ConnectOptions, Error as WitError, ServerOptions};
use super::exports::wasio::streams::unix_streams::Guest;
use super::server::{Listening, pair};
use crate::{api, runtime};

impl Guest for Component {
    fn open_unix_connection(
        path: String,
        options: Option<ConnectOptions>,
    ) -> Result<(WitReader, WitWriter), WitError> {
        let options = connect_options(options).map_err(error)?;
        result(runtime::block_on(api::open_unix_connection(&path, options))).map(pair)
    }

    fn start_unix_server(
        path: String,
        options: Option<ServerOptions>,
    ) -> Result<WitServer, WitError> {
        let options = server_options(options).map_err(error)?;
        let server = api::listen_unix(&path, options).map_err(error)?;
        Ok(WitServer::new(Listening(server)))
    }
}

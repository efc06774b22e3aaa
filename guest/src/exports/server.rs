//! The `server` resource, and the `streams` interface's resource types.

use wasip2::clocks::monotonic_clock::Duration;
use wasip2::io::poll::Pollable;

use super::Component;
use super::convert::{blocking, result, socket_address};
use super::exports::wasio::streams::streams::{
    Guest, GuestServer, StreamReader as WitReader, StreamWriter as WitWriter,
};
use super::exports::wasio::streams::types::{Error as WitError, SocketAddress};
use super::reader::Reader;
use super::writer::Writer;
use crate::{Server, StreamReader, StreamWriter};

impl Guest for Component {
    type StreamReader = Reader;
    type StreamWriter = Writer;
    type Server = Listening;
}

/// A server handed to the consumer. Dropping it stops listening.
pub struct Listening(pub Server);

/// A new pair of reader and writer resources.
pub fn pair((reader, writer): (StreamReader, StreamWriter)) -> (WitReader, WitWriter) {
    (
        WitReader::new(Reader(reader)),
        WitWriter::new(Writer(writer)),
    )
}

impl GuestServer for Listening {
    fn sockets(&self) -> Vec<SocketAddress> {
        self.0.sockets().into_iter().map(socket_address).collect()
    }

    fn accept(&self) -> Result<(WitReader, WitWriter), WitError> {
        result(self.0.try_accept()).map(pair)
    }

    fn blocking_accept(
        &self,
        timeout: Option<Duration>,
    ) -> Result<(WitReader, WitWriter), WitError> {
        blocking(timeout, self.0.accept()).map(pair)
    }

    fn subscribe(&self) -> Vec<Pollable> {
        self.0.subscribe()
    }

    fn close(&self) {
        self.0.close();
    }

    fn is_serving(&self) -> bool {
        self.0.is_serving()
    }

    fn close_clients(&self) {
        self.0.close_clients();
    }

    fn abort_clients(&self) {
        self.0.abort_clients();
    }

    fn wait_closed(&self) -> Result<(), WitError> {
        result(self.0.try_wait_closed())
    }

    fn blocking_wait_closed(&self, timeout: Option<Duration>) -> Result<(), WitError> {
        blocking(timeout, self.0.wait_closed())
    }
}

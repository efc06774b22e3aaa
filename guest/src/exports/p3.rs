//! The `wasio:streams@0.2.0` exports (WASI 0.3): each `async func`
//! awaits the Rust API's future; nothing else happens here but converting.
//!
//! Each call runs as a component-model task of its own. A connection's
//! receiver and sender run in the task that opened or accepted it, which
//! goes on after returning its result, for as long as they do.

use bytes::Bytes;
use wit_bindgen::{StreamReader as ByteStream, StreamResult};

use super::Component;
use super::convert::{
    connect_options, error, extra_info, from_wit_error, result, server_options, socket_address,
};
use super::exports::wasio::streams::streams::{
    Guest, GuestServer, GuestStreamReader, GuestStreamWriter, Server as WitServer,
    StreamReader as WitReader, StreamWriter as WitWriter,
};
use super::exports::wasio::streams::tcp;
use super::exports::wasio::streams::types::{
    ConnectOptions, Error as WitError, ExtraInfo, ServerOptions, SocketAddress,
};
use crate::core::Error;

/// How much `into-stream` and `write-stream` move at a time.
const CHUNK: usize = 64 * 1024;

/// A reader handed to the consumer.
pub struct Reader(crate::StreamReader);

/// A writer handed to the consumer.
pub struct Writer(crate::StreamWriter);

/// A server handed to the consumer. Dropping it stops listening.
pub struct Listening(crate::Server);

impl Guest for Component {
    type StreamReader = Reader;
    type StreamWriter = Writer;
    type Server = Listening;
}

/// A new pair of reader and writer resources.
fn pair((reader, writer): (crate::StreamReader, crate::StreamWriter)) -> (WitReader, WitWriter) {
    (
        WitReader::new(Reader(reader)),
        WitWriter::new(Writer(writer)),
    )
}

/// A read's bytes as a WIT `list<u8>`: the one copy out of the reader's
/// buffer (none when the bytes own their whole allocation).
fn list(read: Result<Bytes, Error>) -> Result<Vec<u8>, WitError> {
    read.map(Vec::from).map_err(error)
}

impl GuestStreamReader for Reader {
    fn create(limit: Option<u64>) -> Result<WitReader, WitError> {
        let limit = limit
            .map(|l| usize::try_from(l).map_err(|_| Error::invalid_argument("limit too large")))
            .transpose()
            .map_err(error)?;
        let reader = crate::StreamReader::new(limit).map_err(error)?;
        Ok(WitReader::new(Self(reader)))
    }

    fn feed_data(&self, data: Vec<u8>) -> Result<(), WitError> {
        self.0.feed_owned(data).map_err(error)
    }

    fn feed_eof(&self) {
        self.0.feed_eof();
    }

    async fn read(&self, n: i64) -> Result<Vec<u8>, WitError> {
        list(self.0.read(n).await)
    }

    async fn readline(&self) -> Result<Vec<u8>, WitError> {
        list(self.0.readline().await)
    }

    async fn readlines(&self) -> Result<Vec<u8>, WitError> {
        list(self.0.readlines().await)
    }

    async fn readuntil(&self, separators: Vec<Vec<u8>>) -> Result<Vec<u8>, WitError> {
        let separators: Vec<&[u8]> = separators.iter().map(Vec::as_slice).collect();
        list(self.0.readuntil(&separators).await)
    }

    async fn readexactly(&self, n: i64) -> Result<Vec<u8>, WitError> {
        list(self.0.readexactly(n).await)
    }

    fn at_eof(&self) -> bool {
        self.0.at_eof()
    }

    fn exception(&self) -> Option<WitError> {
        self.0.exception().map(error)
    }

    fn set_exception(&self, exception: WitError) {
        self.0.set_exception(from_wit_error(exception));
    }

    fn limit(&self) -> u64 {
        self.0.limit() as u64
    }

    async fn into_stream(this: WitReader) -> ByteStream<u8> {
        let reader = this.into_inner::<Self>().0;
        let (mut sink, stream) = super::wit_stream::new();
        // Copies until end of file, a failure, or the consumer dropping the
        // stream; a task of this call, which goes on after it returns.
        crate::spawn(async move {
            while let Ok(chunk) = reader.read(CHUNK as i64).await {
                if chunk.is_empty() || !sink.write_all(Vec::from(chunk)).await.is_empty() {
                    break;
                }
            }
        })
        .detach();
        stream
    }
}

impl GuestStreamWriter for Writer {
    fn write(&self, data: Vec<u8>) -> Result<(), WitError> {
        result(self.0.write_bytes(data))
    }

    fn writelines(&self, data: Vec<Vec<u8>>) -> Result<(), WitError> {
        result(
            data.into_iter()
                .try_for_each(|line| self.0.write_bytes(line)),
        )
    }

    async fn drain(&self) -> Result<(), WitError> {
        result(self.0.drain().await)
    }

    async fn write_stream(&self, mut data: ByteStream<u8>) -> Result<(), WitError> {
        loop {
            let (status, chunk) = data.read(Vec::with_capacity(CHUNK)).await;
            match status {
                StreamResult::Complete(_) if chunk.is_empty() => {}
                StreamResult::Complete(_) => {
                    result(self.0.write_bytes(chunk))?;
                    result(self.0.drain().await)?;
                }
                StreamResult::Dropped | StreamResult::Cancelled => return Ok(()),
            }
        }
    }

    fn write_eof(&self) -> Result<(), WitError> {
        result(self.0.write_eof())
    }

    fn can_write_eof(&self) -> bool {
        self.0.can_write_eof()
    }

    fn close(&self) {
        self.0.close();
    }

    fn abort(&self) {
        self.0.abort();
    }

    fn is_closing(&self) -> bool {
        self.0.is_closing()
    }

    async fn wait_closed(&self) -> Result<(), WitError> {
        result(self.0.wait_closed().await)
    }

    fn get_extra_info(&self) -> ExtraInfo {
        extra_info(self.0.get_extra_info())
    }

    fn get_write_buffer_size(&self) -> u64 {
        self.0.get_write_buffer_size() as u64
    }

    fn get_write_buffer_limits(&self) -> (u64, u64) {
        let (low, high) = self.0.get_write_buffer_limits();
        (low as u64, high as u64)
    }

    fn set_write_buffer_limits(&self, high: Option<u64>, low: Option<u64>) -> Result<(), WitError> {
        let size = |v: Option<u64>| v.map(|v| usize::try_from(v).unwrap_or(usize::MAX));
        result(self.0.set_write_buffer_limits(size(high), size(low)))
    }
}

impl GuestServer for Listening {
    fn sockets(&self) -> Vec<SocketAddress> {
        self.0.sockets().into_iter().map(socket_address).collect()
    }

    async fn accept(&self) -> Result<(WitReader, WitWriter), WitError> {
        result(self.0.accept().await).map(pair)
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

    async fn wait_closed(&self) -> Result<(), WitError> {
        result(self.0.wait_closed().await)
    }
}

impl tcp::Guest for Component {
    async fn open_connection(
        host: String,
        port: u16,
        options: Option<ConnectOptions>,
    ) -> Result<(WitReader, WitWriter), WitError> {
        let options = connect_options(options).map_err(error)?;
        result(crate::open_connection_with(&host, port, options).await).map(pair)
    }

    async fn start_server(
        host: Option<String>,
        port: u16,
        options: Option<ServerOptions>,
    ) -> Result<WitServer, WitError> {
        let options = server_options(options).map_err(error)?;
        let server = crate::listen(host.as_deref(), port, options).await;
        result(server).map(|server| WitServer::new(Listening(server)))
    }
}

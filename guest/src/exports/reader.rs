//! The `stream-reader` resource.

use std::future::Future;

use bytes::Bytes;
use wasip2::clocks::monotonic_clock::Duration;
use wasip2::io::poll::Pollable;

use super::convert::{blocking, error, from_wit_error};
use super::exports::wasio::streams::streams::{GuestStreamReader, StreamReader as WitReader};
use super::exports::wasio::streams::types::Error as WitError;
use crate::StreamReader;
use crate::core::Error;

/// A reader handed to the consumer.
pub struct Reader(pub StreamReader);

/// Run a blocking form: `op` until done or `timeout`. A reader without a
/// transport cannot be fed while this component blocks, so for it the
/// blocking form answers like the non-blocking one.
/// A read's bytes as a WIT `list<u8>`: the one copy out of the reader's
/// buffer (none when the bytes own their whole allocation).
fn list(read: Result<Bytes, Error>) -> Result<Vec<u8>, WitError> {
    read.map(Vec::from).map_err(error)
}

fn read_blocking<F: Future<Output = Result<Bytes, Error>>>(
    reader: &StreamReader,
    timeout: Option<Duration>,
    op: F,
    try_op: impl FnOnce() -> Result<Bytes, Error>,
) -> Result<Vec<u8>, WitError> {
    if reader.is_standalone() {
        return list(try_op());
    }
    blocking(timeout, op).map(Vec::from)
}

impl GuestStreamReader for Reader {
    fn create(limit: Option<u64>) -> Result<WitReader, WitError> {
        let limit = limit
            .map(|l| usize::try_from(l).map_err(|_| Error::invalid_argument("limit too large")))
            .transpose()
            .map_err(error)?;
        let reader = StreamReader::new(limit).map_err(error)?;
        Ok(WitReader::new(Self(reader)))
    }

    fn feed_data(&self, data: Vec<u8>) -> Result<(), WitError> {
        self.0.feed_owned(data).map_err(error)
    }

    fn feed_eof(&self) {
        self.0.feed_eof();
    }

    fn read(&self, n: i64) -> Result<Vec<u8>, WitError> {
        list(self.0.try_read(n))
    }

    fn blocking_read(&self, n: i64, timeout: Option<Duration>) -> Result<Vec<u8>, WitError> {
        read_blocking(&self.0, timeout, self.0.read(n), || self.0.try_read(n))
    }

    fn readline(&self) -> Result<Vec<u8>, WitError> {
        list(self.0.try_readline())
    }

    fn blocking_readline(&self, timeout: Option<Duration>) -> Result<Vec<u8>, WitError> {
        read_blocking(&self.0, timeout, self.0.readline(), || {
            self.0.try_readline()
        })
    }

    fn readlines(&self) -> Result<Vec<u8>, WitError> {
        list(self.0.try_readlines())
    }

    fn blocking_readlines(&self, timeout: Option<Duration>) -> Result<Vec<u8>, WitError> {
        read_blocking(&self.0, timeout, self.0.readlines(), || {
            self.0.try_readlines()
        })
    }

    fn readuntil(&self, separators: Vec<Vec<u8>>) -> Result<Vec<u8>, WitError> {
        let separators: Vec<&[u8]> = separators.iter().map(Vec::as_slice).collect();
        list(self.0.try_readuntil(&separators))
    }

    fn blocking_readuntil(
        &self,
        separators: Vec<Vec<u8>>,
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, WitError> {
        let separators: Vec<&[u8]> = separators.iter().map(Vec::as_slice).collect();
        read_blocking(&self.0, timeout, self.0.readuntil(&separators), || {
            self.0.try_readuntil(&separators)
        })
    }

    fn readexactly(&self, n: i64) -> Result<Vec<u8>, WitError> {
        list(self.0.try_readexactly(n))
    }

    fn blocking_readexactly(&self, n: i64, timeout: Option<Duration>) -> Result<Vec<u8>, WitError> {
        read_blocking(&self.0, timeout, self.0.readexactly(n), || {
            self.0.try_readexactly(n)
        })
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

    fn subscribe(&self) -> Pollable {
        self.0.subscribe()
    }
}

//! The `stream-writer` resource.

use wasip2::clocks::monotonic_clock::Duration;
use wasip2::io::poll::Pollable;

use super::convert::{blocking, extra_info, result};
use super::exports::wasio::streams::streams::GuestStreamWriter;
use super::exports::wasio::streams::types::{Error as WitError, ExtraInfo};
use crate::StreamWriter;

/// A writer handed to the consumer. Dropping it closes the stream (as
/// `close` does): what the socket takes goes at once, the rest as far as
/// this component runs to send it.
pub struct Writer(pub StreamWriter);

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

    fn drain(&self) -> Result<(), WitError> {
        result(self.0.try_drain())
    }

    fn blocking_drain(&self, timeout: Option<Duration>) -> Result<(), WitError> {
        blocking(timeout, self.0.drain())
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

    fn wait_closed(&self) -> Result<(), WitError> {
        result(self.0.try_wait_closed())
    }

    fn blocking_wait_closed(&self, timeout: Option<Duration>) -> Result<(), WitError> {
        blocking(timeout, self.0.wait_closed())
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

    fn subscribe(&self) -> Pollable {
        self.0.subscribe()
    }
}

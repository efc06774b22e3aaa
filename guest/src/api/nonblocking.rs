//! The rule of the non-blocking forms: before a caller is told to wait
//! (`would-block`, or a pollable to wait on), the event loop makes one
//! turn without waiting, so that reads ahead, buffered writes, shutdowns
//! and releases go on for a caller that waits outside wasio's event loop,
//! as they would in the background of asyncio's.

use std::task::Poll;

use crate::core::Error;
use crate::runtime;

/// A turn of the event loop before the caller waits elsewhere.
pub fn before_waiting() {
    runtime::turn();
}

/// The answer of a non-blocking form: `attempt`'s result, or, when it
/// would wait, its result after a turn of the event loop (which may have
/// brought what it needed), or `would-block`.
pub fn answer<T>(mut attempt: impl FnMut() -> Poll<Result<T, Error>>) -> Result<T, Error> {
    for turned in [false, true] {
        match attempt() {
            Poll::Ready(Err(Error::WouldBlock)) | Poll::Pending => {}
            Poll::Ready(result) => return result,
        }
        if !turned {
            before_waiting();
        }
    }
    Err(Error::WouldBlock)
}

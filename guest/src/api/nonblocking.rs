//! The rule of the non-blocking forms: before a caller is told to wait
//! (`would-block`, or a pollable to wait on), the event loop makes a turn
//! without waiting, so that reads ahead, buffered writes, shutdowns and
//! releases go on for a caller that waits outside wasio's event loop, as
//! they would in the background of asyncio's.
//!
//! What a turn covers, so that a call costs the same with ten connections
//! open or ten thousand:
//! - the resource called moves its own bytes at once: a read reads what
//!   the socket has, a drain, `wait-closed` or a writer's `subscribe`
//!   sends what it takes (and shuts down or releases when that is due);
//! - tasks already woken run;
//! - every other connection's background work (the pollables of all of
//!   them) moves at a *full turn*, made at every call while fewer than 64
//!   pollables wait, and otherwise once per registrations / 64 calls or
//!   10 ms, whichever comes first (`runtime::turn`). A consumer sweeping
//!   its n connections thus makes about 64 full turns per sweep at most,
//!   and an untouched connection is served within a sweep or 10 ms of
//!   any call.

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

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
//!   them) moves at a *full turn*, made at every call while at most 16
//!   pollables wait, and otherwise once per (pollables / 4) calls or
//!   10 ms, whichever comes first (`runtime::turn`). A call thus pays
//!   for about four pollables of a full turn, however many are open; a
//!   consumer sweeping its n connections (a call or two each) makes a
//!   handful of full turns per sweep, and an untouched connection is
//!   served within a sweep or 10 ms of any call.

use std::task::Poll;

use crate::core::Error;
use crate::runtime;

/// A turn of the event loop before the caller waits elsewhere; whether
/// it ran anything.
pub fn before_waiting() -> bool {
    runtime::turn()
}

/// The answer of a non-blocking form: `attempt`'s result, or, when it
/// would wait, its result after a turn of the event loop if the turn ran
/// anything (which may have brought what it needed), or `would-block`.
pub fn answer<T>(mut attempt: impl FnMut() -> Poll<Result<T, Error>>) -> Result<T, Error> {
    let settled = |poll| match poll {
        Poll::Ready(Err(Error::WouldBlock)) | Poll::Pending => None,
        Poll::Ready(result) => Some(result),
    };
    if let Some(result) = settled(attempt()) {
        return result;
    }
    if before_waiting()
        && let Some(result) = settled(attempt())
    {
        return result;
    }
    Err(Error::WouldBlock)
}

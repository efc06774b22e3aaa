//! The event loop of a wasio component: an executor for tasks and a
//! reactor over `wasi:io/poll`, with timers from `wasi:clocks`.
//!
//! Everything runs on the component's one thread. Tasks run until they
//! wait; then one `poll` call waits for all of them at once.

mod executor;
mod reactor;
mod time;
mod wait;

pub use executor::{JoinHandle, block_on, run_until_stalled, spawn, turn};
pub use time::{Sleep, deadline_after, nanos, sleep, timeout};
pub(crate) use wait::Interest;
pub use wait::wait_for;

//! The event loop of a wasio component.
//!
//! Under WASI 0.2: an executor for tasks and a reactor over
//! `wasi:io/poll`, with timers from `wasi:clocks`. Everything runs on the
//! component's one thread; tasks run until they wait, then one `poll`
//! call waits for all of them at once.
//!
//! Under WASI 0.3 (feature `p3`): the component model's own tasks and
//! waitables, through wit-bindgen's executor (`p3.rs`).

#[cfg(not(feature = "p3"))]
mod executor;
#[cfg(feature = "p3")]
mod p3;
#[cfg(not(feature = "p3"))]
mod reactor;
#[cfg(not(feature = "p3"))]
mod time;
#[cfg(not(feature = "p3"))]
mod wait;

#[cfg(not(feature = "p3"))]
pub use executor::{JoinHandle, block_on, run_until_stalled, spawn, turn};
#[cfg(feature = "p3")]
pub(crate) use p3::Interest;
#[cfg(feature = "p3")]
pub use p3::{JoinHandle, block_on, nanos, sleep, spawn, timeout, turn};
#[cfg(not(feature = "p3"))]
pub use time::{Sleep, deadline_after, nanos, sleep, timeout};
#[cfg(not(feature = "p3"))]
pub(crate) use wait::Interest;
#[cfg(not(feature = "p3"))]
pub use wait::wait_for;

//! The event loop under WASI 0.3: the component model's own. Every wait
//! is an `async` import or a `stream`/`future` operation, and wit-bindgen's
//! executor runs tasks until they all wait, then hands the component's
//! waitable set to the host. wasio adds only what its API names: `spawn`,
//! `sleep`, `timeout`.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::{Either, select};
use wasip3::clocks::monotonic_clock;

use crate::core::Error;

/// Run `future` concurrently with the caller, within the component-model
/// task that spawns it (an exported call, or [`block_on`]): that task
/// ends once every task spawned in it has ended. Dropping the handle (or
/// [`JoinHandle::detach`]) lets the task run on; [`JoinHandle::cancel`]
/// drops it.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
{
    JoinHandle(wit_bindgen::spawn_local(future))
}

/// The output of a spawned task, as a future.
pub struct JoinHandle<T>(wit_bindgen::JoinHandle<T>);

impl<T> std::fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinHandle").finish_non_exhaustive()
    }
}

impl<T> JoinHandle<T> {
    /// Let the task run on without waiting for its output.
    pub fn detach(self) {}

    /// Drop the task's future where it waits (its operations in flight
    /// are cancelled with it).
    pub fn cancel(&mut self) {
        self.0.cancel();
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match Pin::new(&mut self.0).poll(cx) {
            Poll::Ready(Some(output)) => Poll::Ready(output),
            // Cancelled: the output never comes, as for a task that waits
            // forever.
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }
    }
}

/// Run `future` to completion, and every task it spawns. Only outside an
/// exported `async` function (which needs none): a synchronous export may
/// not block under the component model.
pub fn block_on<F: Future>(future: F) -> F::Output {
    wit_bindgen::block_on(future)
}

/// Nanoseconds in `duration`, saturating (WASI durations are u64 ns).
pub fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Completes once `duration` has passed.
pub async fn sleep(duration: Duration) {
    monotonic_clock::wait_for(nanos(duration)).await;
}

/// Run `future`, giving up with [`Error::TimedOut`] after `duration`
/// (`None`: no limit). Dropping the future on timeout cancels it; wasio's
/// operations keep their progress, so the call can be made again.
pub async fn timeout<F: Future>(duration: Option<Duration>, future: F) -> Result<F::Output, Error> {
    let Some(duration) = duration else {
        return Ok(future.await);
    };
    match select(pin!(future), pin!(sleep(duration))).await {
        Either::Left((output, _)) => Ok(output),
        Either::Right(((), _)) => Err(Error::TimedOut),
    }
}

/// Where a future waits. Under WASI 0.3 a wasio future waits on wakers its
/// connection keeps, so there is nothing to register or cancel; the type
/// exists so that the API reads the same over both transports.
#[derive(Debug, Default)]
pub struct Interest(());

impl Interest {
    /// Stop waiting.
    pub fn cancel(&mut self) {}
}

/// A turn of the event loop for the non-blocking forms. Under WASI 0.3
/// the connections' tasks run whenever the caller's task waits, so there
/// is nothing to turn.
pub fn turn() -> bool {
    false
}

//! Timers on `wasi:clocks/monotonic-clock`: `sleep` and `timeout`.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use wasip2::clocks::monotonic_clock;
use wasip2::io::poll::Pollable;

use super::wait::Interest;
use crate::core::Error;

/// Nanoseconds in `duration`, saturating (WASI durations are u64 ns).
pub fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// The monotonic instant `duration` from now.
pub fn deadline_after(duration: Duration) -> monotonic_clock::Instant {
    monotonic_clock::now().saturating_add(nanos(duration))
}

/// Completes once `duration` has passed.
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::until(deadline_after(duration))
}

/// A timer future.
#[derive(Debug)]
pub struct Sleep {
    timer: Rc<Pollable>,
    interest: Interest,
}

impl Sleep {
    /// Completes once the monotonic clock reaches `deadline`.
    pub fn until(deadline: monotonic_clock::Instant) -> Self {
        Self {
            timer: Rc::new(monotonic_clock::subscribe_instant(deadline)),
            interest: Interest::default(),
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.timer.ready() {
            self.interest.cancel();
            return Poll::Ready(());
        }
        let this = &mut *self;
        this.interest.wait_for(&this.timer, cx);
        Poll::Pending
    }
}

/// Run `future`, giving up with [`Error::TimedOut`] after `duration`
/// (`None`: no limit). Dropping the future on timeout cancels it; wasio's
/// operations keep their progress, so the call can be made again.
pub async fn timeout<F: Future>(duration: Option<Duration>, future: F) -> Result<F::Output, Error> {
    let Some(duration) = duration else {
        return Ok(future.await);
    };
    let mut future = std::pin::pin!(future);
    let mut timer: Option<Sleep> = None;
    std::future::poll_fn(move |cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let timer = timer.get_or_insert_with(|| sleep(duration));
        match Pin::new(timer).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Error::TimedOut)),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

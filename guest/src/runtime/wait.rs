//! `Interest`: a future's registration with the reactor, cancelled on drop;
//! and [`wait_for`], which waits on any `wasi:io` pollable.

use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Context, Poll};

use wasip2::io::poll::Pollable;

use super::reactor::{self, Key};

/// The pollable a future currently waits on, if any.
#[derive(Debug, Default)]
pub struct Interest(Option<Key>);

impl Interest {
    /// Wake the task behind `cx` once `pollable` is ready, replacing any
    /// earlier registration.
    pub fn wait_for(&mut self, pollable: &Rc<Pollable>, cx: &Context<'_>) {
        self.cancel();
        self.0 = Some(reactor::register(pollable, cx.waker()));
    }

    /// Stop waiting.
    #[inline]
    pub fn cancel(&mut self) {
        if let Some(key) = self.0.take() {
            reactor::deregister(key);
        }
    }
}

impl Drop for Interest {
    #[inline]
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Wait until `pollable` is ready, letting other tasks run meanwhile: the
/// way to combine wasio with any other `wasi:io` source (stdin, a file, an
/// HTTP body) in one event loop.
pub async fn wait_for(pollable: Rc<Pollable>) {
    let mut interest = Interest::default();
    poll_fn(|cx| {
        if pollable.ready() {
            Poll::Ready(())
        } else {
            interest.wait_for(&pollable, cx);
            Poll::Pending
        }
    })
    .await;
}

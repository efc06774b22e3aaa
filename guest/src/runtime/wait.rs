//! `Interest`: a future's registration with the reactor, cancelled on drop.

use std::rc::Rc;
use std::task::Context;

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
    pub fn cancel(&mut self) {
        if let Some(key) = self.0.take() {
            reactor::deregister(key);
        }
    }
}

impl Drop for Interest {
    fn drop(&mut self) {
        self.cancel();
    }
}

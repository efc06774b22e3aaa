//! Native helpers of the hardening, soak and isolation suites: a command
//! component run in a store the test can inspect afterwards (for its peak
//! memory), native streams over TCP or Unix that can be reset, peers that
//! misbehave on purpose, and clients that push seeded random payloads
//! through an echo and verify them by hash.

mod guest;
mod integrity;
mod peer;
mod stream;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

pub use self::guest::{Guest, Outcome};
pub use self::integrity::{LoadPlan, LoadReport, Sizes, echo_load};
pub use self::peer::{NativePeer, PeerScript};
pub use self::stream::{Endpoint, LineClient, Stream, read_to_end_within, write_repeated};

/// The longest a test waits for a line of a guest's output or a reply.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// Run `body`, failing (instead of hanging) once `limit` has passed: for
/// the long runs, whose size is chosen at run time.
pub async fn within_for<T>(limit: Duration, body: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, body)
        .await
        .unwrap_or_else(|_| panic!("the test ran past its deadline of {limit:?}"))
}

/// A one-way signal between tasks: set once, awaited by any number.
#[derive(Debug, Clone)]
pub struct Signal {
    sender: Arc<watch::Sender<bool>>,
}

impl Default for Signal {
    fn default() -> Self {
        Self {
            sender: Arc::new(watch::channel(false).0),
        }
    }
}

impl Signal {
    pub fn set(&self) {
        self.sender.send_replace(true);
    }

    pub async fn wait(&self) {
        let mut receiver = self.sender.subscribe();
        receiver
            .wait_for(|set| *set)
            .await
            .expect("the signal outlives its waiters");
    }
}

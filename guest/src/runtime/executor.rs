//! A single-threaded executor: spawned tasks and `block_on`.
//!
//! A component instance is single-threaded, so tasks are plain boxed
//! futures in a slab and a woken task's index goes on a ready queue. When no
//! task is ready, [`block_on`] lets the reactor wait on every pollable the
//! tasks registered, all at once.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::FutureExt;
use slab::Slab;
use wasip2::clocks::monotonic_clock;

use super::reactor;

type BoxedTask = Pin<Box<dyn Future<Output = ()>>>;

/// Indices of tasks that were woken.
#[derive(Debug, Default)]
struct ReadyQueue(Mutex<VecDeque<usize>>);

impl ReadyQueue {
    fn push(&self, index: usize) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(index);
    }

    fn take(&self) -> VecDeque<usize> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn is_empty(&self) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
    }
}

/// What a task's waker knows: where the task is and whether it is queued.
#[derive(Debug)]
struct Header {
    index: usize,
    queued: AtomicBool,
    queue: Arc<ReadyQueue>,
}

impl Wake for Header {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.queue.push(self.index);
        }
    }
}

struct Task {
    future: BoxedTask,
    waker: Waker,
    header: Arc<Header>,
}

#[derive(Default)]
struct Executor {
    /// A task is out of its slot while it is being polled.
    tasks: RefCell<Slab<Option<Task>>>,
    queue: Arc<ReadyQueue>,
    /// A `block_on` is running.
    blocking: Cell<bool>,
}

thread_local! {
    static EXECUTOR: Executor = Executor::default();
}

/// Run `future` concurrently with the caller; it makes progress whenever
/// the caller waits in [`block_on`] (or an exported blocking call). Its
/// output is available through the returned handle; dropping the handle
/// (or [`JoinHandle::detach`]) lets the task run on regardless.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
{
    let slot = Rc::new(RefCell::new(JoinSlot {
        output: None,
        waker: None,
    }));
    let result = slot.clone();
    // `map` rather than an `async` block, which would hold `future` twice.
    spawn_boxed(Box::pin(future.map(move |output| {
        let mut slot = result.borrow_mut();
        slot.output = Some(output);
        if let Some(waker) = slot.waker.take() {
            waker.wake();
        }
    })));
    JoinHandle { slot }
}

fn spawn_boxed(future: BoxedTask) {
    EXECUTOR.with(|executor| {
        let index = executor.tasks.borrow_mut().insert(None);
        let header = Arc::new(Header {
            index,
            queued: AtomicBool::new(false),
            queue: executor.queue.clone(),
        });
        let waker = Waker::from(header.clone());
        executor.tasks.borrow_mut()[index] = Some(Task {
            future,
            waker,
            header: header.clone(),
        });
        header.wake_by_ref();
    });
}

struct JoinSlot<T> {
    output: Option<T>,
    waker: Option<Waker>,
}

/// The output of a spawned task, as a future.
pub struct JoinHandle<T> {
    slot: Rc<RefCell<JoinSlot<T>>>,
}

impl<T> std::fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinHandle").finish_non_exhaustive()
    }
}

impl<T> JoinHandle<T> {
    /// Let the task run on without waiting for its output.
    pub fn detach(self) {}
}

impl<T> Future for JoinHandle<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.slot.borrow_mut();
        match slot.output.take() {
            Some(output) => Poll::Ready(output),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Poll every task that was woken since the last call. Returns how many
/// were polled.
pub fn run_ready() -> usize {
    EXECUTOR.with(|executor| {
        let batch = executor.queue.take();
        let count = batch.len();
        for index in batch {
            let task = executor
                .tasks
                .borrow_mut()
                .get_mut(index)
                .and_then(Option::take);
            let Some(mut task) = task else { continue };
            task.header.queued.store(false, Ordering::Release);
            let mut cx = Context::from_waker(&task.waker);
            // No executor borrow is held here: the task may spawn others.
            match task.future.as_mut().poll(&mut cx) {
                Poll::Ready(()) => {
                    executor.tasks.borrow_mut().remove(index);
                }
                Poll::Pending => executor.tasks.borrow_mut()[index] = Some(task),
            }
        }
        count
    })
}

/// Run every task until none is ready, without waiting on I/O. Returns
/// whether any task ran.
pub fn run_until_stalled() -> bool {
    let mut ran = false;
    while run_ready() > 0 {
        ran = true;
    }
    ran
}

fn has_ready() -> bool {
    EXECUTOR.with(|executor| !executor.queue.is_empty())
}

#[derive(Debug, Default)]
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// Run `future` to completion on this thread, running spawned tasks and
/// waiting on their I/O meanwhile. This is the event loop: call it once at
/// the top of a program (the exported blocking functions call it too).
/// Before returning it runs every task that is ready, so writes buffered
/// by the future go out even when it completed without waiting.
///
/// # Panics
/// If the future and every task wait on nothing at all, which would
/// otherwise hang forever; and when called from inside `block_on` (a task
/// must `.await` instead), as tokio refuses a runtime inside a runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    /// Ends the `block_on` claim however it ends.
    struct Blocking;
    impl Drop for Blocking {
        fn drop(&mut self) {
            EXECUTOR.with(|executor| executor.blocking.set(false));
        }
    }
    let nested = EXECUTOR.with(|executor| executor.blocking.replace(true));
    assert!(
        !nested,
        "block_on inside block_on: a task must .await the future instead"
    );
    let _blocking = Blocking;
    let mut future = pin!(future);
    let woken = Arc::new(Flag(AtomicBool::new(true)));
    let waker = Waker::from(woken.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if woken.0.swap(false, Ordering::AcqRel)
            && let Poll::Ready(output) = future.as_mut().poll(&mut cx)
        {
            run_until_stalled();
            return output;
        }
        if run_ready() > 0 || woken.0.load(Ordering::Acquire) {
            continue;
        }
        assert!(
            reactor::pending() > 0 || has_ready(),
            "block_on: every task waits on nothing (a wasio bug)"
        );
        reactor::wait(None);
    }
}

/// One turn of the event loop without waiting, for a caller about to wait
/// outside it (the non-blocking forms). Ready tasks always run. The
/// reactor's pollables are all looked at (a *full turn*, whose cost grows
/// with the number of connections) only when one is due: see
/// [`FullTurns`]. The resource a caller is on moves its own bytes directly
/// (a read reads, a drain sends), so a call's cost does not depend on how
/// many other connections are open. Returns whether any task ran (and so
/// may have changed what the caller asked about).
pub fn turn() -> bool {
    let mut ran = run_until_stalled();
    let pending = reactor::pending();
    if pending > 0 && FULL_TURNS.with(|turns| turns.due(pending)) {
        reactor::wait(Some(monotonic_clock::now()));
        ran |= run_until_stalled();
    }
    ran
}

/// When [`turn`] looks at every registered pollable: at every call while
/// at most [`FEW`] are registered; past that, at the first call after
/// `registrations / POLLABLES_PER_CALL` calls or [`PERIOD_NANOS`] since
/// the last full turn (looked at every [`CLOCK_EVERY`] calls), whichever
/// comes first. So a call pays for at most
/// a few pollables' worth of full turn, amortised, whatever the number
/// of connections; a consumer's sweep over its connections (a call or two
/// each) makes a handful of full turns; and the reading ahead, flushing,
/// shutdowns and releases of connections nobody is calling still happen
/// within a sweep, or within 10 ms of any call.
#[derive(Debug)]
struct FullTurns {
    /// Calls since the last full turn.
    calls: Cell<usize>,
    /// When the last full turn was (monotonic clock).
    last: Cell<monotonic_clock::Instant>,
}

/// Registrations few enough for a full turn at every call.
const FEW: usize = 16;

/// Registrations a call pays for, amortised, past [`FEW`].
const POLLABLES_PER_CALL: usize = 4;

/// The longest a call waits for a full turn.
const PERIOD_NANOS: u64 = 10_000_000;

/// How often past [`FEW`] a call looks at the clock.
const CLOCK_EVERY: usize = 8;

thread_local! {
    static FULL_TURNS: FullTurns = const {
        FullTurns { calls: Cell::new(0), last: Cell::new(0) }
    };
}

impl FullTurns {
    /// Count a call; whether it makes a full turn over `pending`
    /// registrations. The clock is read only at every
    /// [`CLOCK_EVERY`]th call past [`FEW`], to keep calls cheap.
    fn due(&self, pending: usize) -> bool {
        if pending <= FEW {
            return true;
        }
        let calls = self.calls.get() + 1;
        let due = calls * POLLABLES_PER_CALL >= pending
            || (calls.is_multiple_of(CLOCK_EVERY)
                && monotonic_clock::now().saturating_sub(self.last.get()) >= PERIOD_NANOS);
        if due {
            self.calls.set(0);
            self.last.set(monotonic_clock::now());
        } else {
            self.calls.set(calls);
        }
        due
    }
}

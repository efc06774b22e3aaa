//! The reactor: which task waits on which `wasi:io` pollable.
//!
//! A future that cannot make progress registers the pollable it waits on
//! together with its waker. When the executor has nothing left to run it
//! calls [`wait`], which hands every registered pollable to one
//! `wasi:io/poll.poll` call and wakes the futures whose pollables are ready.
//! Registrations are one-shot: a woken future registers again if it still
//! has to wait.
//!
//! The reactor holds pollables weakly. Their owner (a connection, a timer)
//! drops them before the stream or socket they belong to, as `wasi:io`
//! requires; a registration whose pollable is gone is woken, so its future
//! sees the closure instead of waiting forever.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, DefaultHasher};
use std::rc::{Rc, Weak};
use std::task::Waker;

use slab::Slab;
use wasip2::clocks::monotonic_clock;
use wasip2::io::poll::{Pollable, poll};

thread_local! {
    static REACTOR: RefCell<Reactor> = const { RefCell::new(Reactor::new()) };
}

/// Identifies one registration, so its future can cancel it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    index: usize,
    generation: u64,
}

#[derive(Debug)]
struct Registration {
    pollable: Weak<Pollable>,
    waker: Waker,
    generation: u64,
}

#[derive(Debug)]
struct Reactor {
    registrations: Slab<Registration>,
    /// Tells a registration from a later one in the same slot.
    generation: u64,
}

impl Reactor {
    const fn new() -> Self {
        Self {
            registrations: Slab::new(),
            generation: 0,
        }
    }

    fn insert(&mut self, pollable: &Rc<Pollable>, waker: &Waker) -> Key {
        self.generation += 1;
        let index = self.registrations.insert(Registration {
            pollable: Rc::downgrade(pollable),
            waker: waker.clone(),
            generation: self.generation,
        });
        Key {
            index,
            generation: self.generation,
        }
    }
}

/// Wake `waker` once `pollable` is ready (or gone). Returns the key that
/// [`deregister`] takes.
pub fn register(pollable: &Rc<Pollable>, waker: &Waker) -> Key {
    REACTOR.with_borrow_mut(|reactor| reactor.insert(pollable, waker))
}

/// Cancel a registration that has not fired yet; a fired or unknown key is
/// ignored.
pub fn deregister(key: Key) {
    REACTOR.with_borrow_mut(|reactor| {
        let matches = reactor
            .registrations
            .get(key.index)
            .is_some_and(|r| r.generation == key.generation);
        if matches {
            reactor.registrations.remove(key.index);
        }
    });
}

/// Number of registrations waiting.
pub fn pending() -> usize {
    REACTOR.with_borrow(|reactor| reactor.registrations.len())
}

/// Block until at least one registered pollable is ready, or until
/// `deadline` (a monotonic-clock instant) passes, and wake the futures
/// concerned. Returns at once when there is nothing to wait for.
pub fn wait(deadline: Option<monotonic_clock::Instant>) {
    let mut wakers = Vec::new();
    let mut pollables: Vec<Rc<Pollable>> = Vec::new();
    // For each distinct pollable, the slots that wait on it.
    let mut waiting: Vec<Vec<usize>> = Vec::new();
    // A fixed hasher: handles are not attacker-chosen, and a random seed
    // would import `wasi:random` for nothing.
    let mut position: HashMap<u32, usize, BuildHasherDefault<DefaultHasher>> = HashMap::default();
    REACTOR.with_borrow_mut(|reactor| {
        let mut gone = Vec::new();
        for (index, registration) in &reactor.registrations {
            match registration.pollable.upgrade() {
                Some(pollable) => match position.get(&pollable.handle()) {
                    Some(&at) => waiting[at].push(index),
                    None => {
                        position.insert(pollable.handle(), pollables.len());
                        pollables.push(pollable);
                        waiting.push(vec![index]);
                    }
                },
                None => gone.push(index),
            }
        }
        for index in gone {
            wakers.push(reactor.registrations.remove(index).waker);
        }
    });
    if !wakers.is_empty() {
        wakers.into_iter().for_each(Waker::wake);
        return;
    }
    let timer = deadline.map(|at| Rc::new(monotonic_clock::subscribe_instant(at)));
    if pollables.is_empty() && timer.is_none() {
        return;
    }
    let mut list: Vec<&Pollable> = pollables.iter().map(Rc::as_ref).collect();
    if let Some(timer) = &timer {
        list.push(timer);
    }
    let ready = poll(&list);
    REACTOR.with_borrow_mut(|reactor| {
        for at in ready {
            for &index in waiting.get(at as usize).into_iter().flatten() {
                if let Some(registration) = reactor.registrations.try_remove(index) {
                    wakers.push(registration.waker);
                }
            }
        }
    });
    // The timer and our strong references go before any waker runs code.
    drop(list);
    drop(timer);
    drop(pollables);
    wakers.into_iter().for_each(Waker::wake);
}

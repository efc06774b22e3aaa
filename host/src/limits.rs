//! Per-instance limits: linear memory, CPU time and open connections.
//!
//! Each instance has its own [`Store`], so each gets its own
//! [`InstanceLimits`]; a guest that exceeds one is stopped (or refused) on
//! its own while the host goes on serving the others.
//!
//! - **Memory**: the total size of the instance's linear memories. A growth
//!   past the limit fails inside the guest (`memory.grow` returns -1), as an
//!   allocator expects; if the guest then traps, the error says which limit
//!   it hit.
//! - **CPU time**: the engine's epoch advances every [`EPOCH_TICK`]; each
//!   store yields to the executor at every tick and is charged one tick for
//!   each tick in which it ran WebAssembly. Time spent waiting in host calls
//!   (`poll`, blocking reads) is not charged, so the budget measures the
//!   guest's own computation, rounded up to whole ticks. Without a CPU
//!   limit the engine has no epochs (they cost guest code even when no
//!   deadline is reached): a guest then yields only when it waits in a
//!   host call, as under the stock `wasmtime` CLI.
//! - **Connections**: the sockets the guest holds at once. For Unix, every
//!   connected `unix-socket` (from `connect` or `accept`); listeners do not
//!   count. For TCP, every `tcp-socket` resource: wasmtime-wasi decides its
//!   role only after creation, so a TCP listener counts too. Over the limit,
//!   `create-tcp-socket`, `accept` and `connect` return `new-socket-limit`
//!   (see [`crate::sockets`] for how TCP is hooked). A WASI 0.3 TCP socket
//!   counts until its `send` and `receive` streams have let go of it too,
//!   and a 0.3 listener's client past the limit is closed at once; over
//!   the limit, 0.3's `create` returns `other("new-socket-limit")` (0.3
//!   has no `new-socket-limit` code).
//! - **Component handles**: Wasmtime caps the live component-model handles
//!   of a store (100,000 by default) and traps the guest past it: about
//!   20,000 WASI 0.2 connections, at five handles each, would end every
//!   connection at once. The host raises the cap to
//!   [`HANDLES_PER_CONNECTION`] per connection the instance may hold (its
//!   connection limit, else the process's open-file limit), so that what a
//!   guest meets first is an error on the one connection past a limit
//!   (`new-socket-limit`, or the system's "too many open files").

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Engine, EngineWeak, ResourceLimiter, Store, StoreContextMut, UpdateDeadline};

use crate::sockets::P3Sockets;

/// How often the engine's epoch advances: the unit of CPU-time accounting
/// and the longest a guest runs before yielding to other tasks.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Table elements an instance may have in all (function tables of a few
/// thousand entries are usual; this only stops runaway growth).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// Component handles budgeted per connection: a socket, its two streams
/// and their pollables, and the resources a composed consumer holds for it
/// (a reader, a writer, their pollables), with room to spare.
pub const HANDLES_PER_CONNECTION: usize = 16;

/// Wasmtime's own cap on a store's live component handles.
const DEFAULT_COMPONENT_HANDLES: usize = 100_000;

/// The cap on live component handles for an instance under `limits`:
/// enough for every connection it may hold (see the module docs).
pub fn max_component_handles(limits: &Limits) -> usize {
    let connections = limits.max_connections.unwrap_or_else(open_files_limit);
    DEFAULT_COMPONENT_HANDLES.max(connections.saturating_mul(HANDLES_PER_CONNECTION))
}

/// The process's limit on open files (each connection holds one), or
/// 65,536 where the system does not say.
fn open_files_limit() -> usize {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    limit
        .current
        .map_or(65_536, |n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// The limits of one instance. `None` means unlimited.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of linear memory, all memories of the instance together.
    pub max_memory: Option<usize>,
    /// WebAssembly execution time (see the module docs for how it is counted).
    pub cpu_time: Option<Duration>,
    /// Sockets open at once (see the module docs for what counts).
    pub max_connections: Option<usize>,
}

/// Per-store accounting for [`Limits`]; lives in the store's data.
#[derive(Debug)]
pub struct InstanceLimits {
    limits: Limits,
    memory_in_use: usize,
    tables_in_use: usize,
    memory_denied: Option<MemoryLimitExceeded>,
    ticks_charged: u64,
    p3_sockets: P3Sockets,
}

impl InstanceLimits {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            memory_in_use: 0,
            tables_in_use: 0,
            memory_denied: None,
            ticks_charged: 0,
            p3_sockets: P3Sockets::default(),
        }
    }

    /// The configured limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Bytes of linear memory the instance has now, all memories together.
    pub fn memory_in_use(&self) -> usize {
        self.memory_in_use
    }

    /// The last memory growth that was refused, if any: explains a trap that
    /// follows (a Rust guest aborts when an allocation fails).
    pub fn memory_denied(&self) -> Option<&MemoryLimitExceeded> {
        self.memory_denied.as_ref()
    }

    /// Whether one more connection may be opened while `open` sockets of
    /// the resource table (WASI 0.2 TCP, Unix) and the WASI 0.3 sockets
    /// counted here are.
    pub fn connection_allowed(&self, open: usize) -> bool {
        let open = open + self.p3_sockets.open();
        let allowed = self.limits.max_connections.is_none_or(|max| open < max);
        if !allowed {
            tracing::warn!(
                open,
                "connection refused: the max-connections limit is reached"
            );
        }
        allowed
    }

    /// The WASI 0.3 TCP sockets whose OS socket is open.
    pub(crate) fn p3_sockets(&mut self) -> &mut P3Sockets {
        &mut self.p3_sockets
    }

    /// Charge one epoch tick of execution; `Err` once the budget is spent.
    fn charge_tick(&mut self) -> Result<UpdateDeadline, CpuTimeExceeded> {
        // Without a CPU limit no deadline is set, so this is not called.
        let Some(limit) = self.limits.cpu_time else {
            return Ok(UpdateDeadline::Yield(1));
        };
        self.ticks_charged += 1;
        if u128::from(self.ticks_charged) * EPOCH_TICK.as_nanos() > limit.as_nanos() {
            tracing::warn!(?limit, "guest exceeded its CPU time limit and was stopped");
            return Err(CpuTimeExceeded { limit });
        }
        Ok(UpdateDeadline::Yield(1))
    }
}

impl ResourceLimiter for InstanceLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.memory_in_use - current + desired;
        if let Some(limit) = self.limits.max_memory
            && total > limit
        {
            tracing::warn!(
                limit,
                requested = total,
                "guest memory growth refused: over the max-memory limit"
            );
            self.memory_denied = Some(MemoryLimitExceeded {
                limit,
                requested: total,
            });
            return Ok(false);
        }
        self.memory_in_use = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.tables_in_use - current + desired;
        if total > MAX_TABLE_ELEMENTS {
            return Ok(false);
        }
        self.tables_in_use = total;
        Ok(true)
    }
}

/// Store data that carries [`InstanceLimits`].
pub trait HasLimits: Send + 'static {
    fn limits(&mut self) -> &mut InstanceLimits;
}

/// Install memory and CPU limits into a new store. A CPU limit needs an
/// engine with epoch interruption.
pub fn install<T: HasLimits>(store: &mut Store<T>) {
    store.limiter(|data| data.limits() as &mut dyn ResourceLimiter);
    let handles = max_component_handles(&store.data_mut().limits().limits);
    store.set_max_component_handles(handles);
    if store.data_mut().limits().limits.cpu_time.is_none() {
        return;
    }
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|mut cx: StoreContextMut<'_, T>| {
        Ok(cx.data_mut().limits().charge_tick()?)
    });
}

/// The guest used up its CPU time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the guest used its CPU time limit of {limit:?} and was stopped")]
pub struct CpuTimeExceeded {
    pub limit: Duration,
}

/// The guest asked for more linear memory than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the guest asked for {requested} bytes of linear memory, over its limit of {limit} bytes")]
pub struct MemoryLimitExceeded {
    pub limit: usize,
    pub requested: usize,
}

/// A thread that advances an engine's epoch every [`EPOCH_TICK`] until
/// dropped (or until the engine is gone).
#[derive(Debug)]
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub fn start(engine: &Engine) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let weak: EngineWeak = engine.weak();
        let thread = std::thread::Builder::new()
            .name("wasio-epoch".into())
            .spawn({
                let stop = Arc::clone(&stop);
                move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        match weak.upgrade() {
                            Some(engine) => engine.increment_epoch(),
                            None => break,
                        }
                    }
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limited(max_memory: usize) -> InstanceLimits {
        InstanceLimits::new(Limits {
            max_memory: Some(max_memory),
            ..Limits::default()
        })
    }

    #[test]
    fn memory_limit_counts_all_memories_together() {
        let mut l = limited(100);
        assert!(l.memory_growing(0, 60, None).unwrap());
        assert!(l.memory_growing(0, 40, None).unwrap());
        assert!(!l.memory_growing(40, 41, None).unwrap());
        assert_eq!(
            l.memory_denied(),
            Some(&MemoryLimitExceeded {
                limit: 100,
                requested: 101
            })
        );
        assert!(l.memory_growing(60, 20, None).unwrap());
        assert!(l.memory_growing(40, 80, None).unwrap());
    }

    #[test]
    fn handle_cap_covers_every_connection_allowed() {
        let limited = |n| Limits {
            max_connections: Some(n),
            ..Limits::default()
        };
        // Never below Wasmtime's own cap.
        assert_eq!(max_component_handles(&limited(10)), 100_000);
        assert_eq!(
            max_component_handles(&limited(50_000)),
            50_000 * HANDLES_PER_CONNECTION
        );
        assert_eq!(max_component_handles(&limited(usize::MAX)), usize::MAX);
        // Unlimited: as many as the process can open files.
        assert!(
            max_component_handles(&Limits::default())
                >= open_files_limit().min(usize::MAX / HANDLES_PER_CONNECTION)
                    * HANDLES_PER_CONNECTION
        );
    }

    #[test]
    fn cpu_budget_is_charged_per_tick_and_then_stops() {
        let mut l = InstanceLimits::new(Limits {
            cpu_time: Some(EPOCH_TICK * 3),
            ..Limits::default()
        });
        for _ in 0..3 {
            assert!(matches!(l.charge_tick(), Ok(UpdateDeadline::Yield(1))));
        }
        assert!(matches!(
            l.charge_tick(),
            Err(CpuTimeExceeded { limit }) if limit == EPOCH_TICK * 3
        ));
    }

    #[test]
    fn unlimited_cpu_is_never_used_up() {
        let mut l = InstanceLimits::new(Limits::default());
        for _ in 0..1000 {
            assert!(matches!(l.charge_tick(), Ok(UpdateDeadline::Yield(1))));
        }
    }

    #[test]
    fn connection_limit_allows_up_to_max() {
        let l = InstanceLimits::new(Limits {
            max_connections: Some(2),
            ..Limits::default()
        });
        assert!(l.connection_allowed(0));
        assert!(l.connection_allowed(1));
        assert!(!l.connection_allowed(2));
        assert!(InstanceLimits::new(Limits::default()).connection_allowed(usize::MAX - 1));
    }
}

//! The data each instance's store holds: its WASI context, resource table,
//! the shared policy and its own limits; and what it can report about them.

use std::fmt;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable, TcpSocket};
use wasmtime_wasi::sockets::{TcpSocket as P3TcpSocket, WasiSocketsCtxView};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_tls::{WasiTlsCtx, WasiTlsCtxView, WasiTlsView};

use crate::error::Error;
use crate::limits::{self, HasLimits, InstanceLimits};
use crate::policy::NetworkPolicy;
use crate::sockets::GuardedSocketsView;
use crate::unix::{UnixCtxView, UnixListener, UnixSocket, UnixView};

/// The data of one instance's store, as [`Host::new_store`](crate::Host::new_store)
/// makes it: the WASI context, the resource table that holds every host
/// resource the guest has (streams, pollables, sockets, ...), the host's
/// network policy and this instance's limits.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    policy: Arc<NetworkPolicy>,
    limits: InstanceLimits,
    tls: WasiTlsCtx,
}

impl HostState {
    pub(crate) fn new(
        wasi: WasiCtx,
        policy: Arc<NetworkPolicy>,
        limits: InstanceLimits,
        tls: WasiTlsCtx,
    ) -> Self {
        Self {
            wasi,
            table: ResourceTable::new(),
            policy,
            limits,
            tls,
        }
    }

    /// The resource table: host resources the guest holds handles to, and
    /// where host functions an embedder adds to the linker keep theirs.
    pub fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    /// The network policy the instance runs under.
    pub fn policy(&self) -> &NetworkPolicy {
        &self.policy
    }

    /// The instance's limits and what they have recorded (memory in use, a
    /// refused memory growth).
    pub fn instance_limits(&self) -> &InstanceLimits {
        &self.limits
    }

    /// How many entries the resource table holds: every host resource the
    /// guest (or the embedder) has not dropped yet.
    ///
    /// Exact, and O(n) in the table's high-water mark (freed slots are
    /// reused, so it stays small for a guest that does not leak): cheap
    /// enough to call between requests. Resources the guest itself defines
    /// and exports (such as wasio's `stream-reader`) live in the component
    /// instance, not here; only the host resources behind them are counted.
    /// [`HostState::resources`] breaks the count down.
    pub fn resource_count(&mut self) -> usize {
        self.table.iter_mut().count()
    }

    /// [`HostState::resource_count`] by kind, to say what leaks.
    pub fn resources(&mut self) -> ResourceCounts {
        let mut counts = ResourceCounts::default();
        for entry in self.table.iter_mut() {
            counts.total += 1;
            let kind = if entry.is::<TcpSocket>() || entry.is::<P3TcpSocket>() {
                &mut counts.tcp_sockets
            } else if entry.is::<UnixSocket>() {
                &mut counts.unix_sockets
            } else if entry.is::<UnixListener>() {
                &mut counts.unix_listeners
            } else if entry.is::<DynInputStream>() {
                &mut counts.input_streams
            } else if entry.is::<DynOutputStream>() {
                &mut counts.output_streams
            } else if entry.is::<DynPollable>() {
                &mut counts.pollables
            } else {
                &mut counts.other
            };
            *kind += 1;
        }
        counts
    }

    /// The sockets that count against the connection limit: every TCP
    /// socket (a WASI 0.3 one until its streams are done with it too; a 0.3
    /// listener's clients only under a limit) and every connected Unix
    /// socket.
    pub fn open_connections(&mut self) -> usize {
        crate::unix::open_connections(&mut self.table) + self.limits.p3_sockets().open()
    }

    /// Turn an error from instantiating or calling into the guest into an
    /// [`Error`], saying which limit (CPU time, memory) explains it, if any.
    pub fn guest_error(&self, error: wasmtime::Error) -> Error {
        if let Some(cpu) = error.downcast_ref::<limits::CpuTimeExceeded>() {
            return Error::CpuTime(*cpu);
        }
        match self.limits.memory_denied() {
            Some(limit) => Error::Memory {
                limit: *limit,
                trap: error,
            },
            None => Error::Trap(error),
        }
    }
}

impl fmt::Debug for HostState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostState")
            .field("table", &self.table)
            .field("policy", &self.policy)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// The entries of an instance's resource table, by kind
/// (see [`HostState::resources`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResourceCounts {
    /// All entries; the sum of the others.
    pub total: usize,
    /// WASI 0.2 and 0.3 TCP sockets.
    pub tcp_sockets: usize,
    /// Connected Unix sockets.
    pub unix_sockets: usize,
    pub unix_listeners: usize,
    /// `wasi:io` input streams (of sockets, stdin, files).
    pub input_streams: usize,
    /// `wasi:io` output streams.
    pub output_streams: usize,
    /// `wasi:io` pollables.
    pub pollables: usize,
    /// Everything else: networks, name lookups, errors, files, ...
    pub other: usize,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiTlsView for HostState {
    fn tls(&mut self) -> WasiTlsCtxView<'_> {
        WasiTlsCtxView {
            ctx: &mut self.tls,
            table: &mut self.table,
        }
    }
}

impl UnixView for HostState {
    fn unix(&mut self) -> UnixCtxView<'_> {
        UnixCtxView {
            table: &mut self.table,
            policy: &self.policy,
            limits: &self.limits,
        }
    }
}

impl HasLimits for HostState {
    fn limits(&mut self) -> &mut InstanceLimits {
        &mut self.limits
    }
}

impl GuardedSocketsView for HostState {
    fn guarded_sockets(&mut self) -> (WasiSocketsCtxView<'_>, &mut InstanceLimits, &NetworkPolicy) {
        let view = WasiSocketsCtxView {
            ctx: self.wasi.sockets(),
            table: &mut self.table,
        };
        (view, &mut self.limits, &self.policy)
    }
}

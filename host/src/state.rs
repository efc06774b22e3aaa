//! The data each instance's store holds: its WASI context, resource table,
//! the shared policy and its own limits.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::sockets::WasiSocketsCtxView;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::limits::{HasLimits, InstanceLimits};
use crate::policy::NetworkPolicy;
use crate::sockets::GuardedSocketsView;
use crate::unix::{UnixCtxView, UnixView};

/// Store data of one instance.
pub(crate) struct InstanceState {
    wasi: WasiCtx,
    table: ResourceTable,
    policy: Arc<NetworkPolicy>,
    limits: InstanceLimits,
}

impl InstanceState {
    pub(crate) fn new(wasi: WasiCtx, policy: Arc<NetworkPolicy>, limits: InstanceLimits) -> Self {
        Self {
            wasi,
            table: ResourceTable::new(),
            policy,
            limits,
        }
    }

    pub(crate) fn instance_limits(&self) -> &InstanceLimits {
        &self.limits
    }
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl UnixView for InstanceState {
    fn unix(&mut self) -> UnixCtxView<'_> {
        UnixCtxView {
            table: &mut self.table,
            policy: &self.policy,
            limits: &self.limits,
        }
    }
}

impl HasLimits for InstanceState {
    fn limits(&mut self) -> &mut InstanceLimits {
        &mut self.limits
    }
}

impl GuardedSocketsView for InstanceState {
    fn guarded_sockets(&mut self) -> (WasiSocketsCtxView<'_>, &InstanceLimits, &NetworkPolicy) {
        let view = WasiSocketsCtxView {
            ctx: self.wasi.sockets(),
            table: &mut self.table,
        };
        (view, &self.limits, &self.policy)
    }
}

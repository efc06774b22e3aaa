//! The wasio component (world `wasio`) instantiated in the wasio host, its
//! exports called from Rust as another component would call them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use wasio_host::{Host, HostState, RunOptions};
use wasmtime::Store;
use wasmtime::component::{Resource, ResourceAny};
use wasmtime_wasi::p2::DynPollable;

use crate::artifact;

wasmtime::component::bindgen!({
    path: "../wit",
    world: "wasio",
    exports: { default: async },
    with: {
        "wasi": wasmtime_wasi::p2::bindings,
        "wasio:streams/unix.unix-socket": wasio_host::unix::UnixSocket,
        "wasio:streams/unix.unix-listener": wasio_host::unix::UnixListener,
    },
});

pub use exports::wasio::streams::types::{Error as WitError, SocketAddress};

/// One instance of the wasio component (the Unix world) in its own store.
pub struct Instance {
    pub store: Store<HostState>,
    wasio: Arc<Wasio>,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance").finish_non_exhaustive()
    }
}

/// Generous bound for anything that should happen at once on loopback.
pub const SOON: Duration = Duration::from_secs(20);

/// [`SOON`] as a WIT duration (nanoseconds).
pub fn soon() -> Option<u64> {
    Some(SOON.as_nanos() as u64)
}

/// Compile (cached) and instantiate `wasio.wasm` in a new store of `host`.
pub async fn instance(host: &Host) -> Instance {
    let component = host
        .compile(artifact("wasio.wasm"))
        .expect("compile wasio.wasm");
    let mut store = host.new_store(&RunOptions::default()).expect("a store");
    let wasio = Wasio::instantiate_async(&mut store, &component, host.linker())
        .await
        .expect("instantiate wasio.wasm");
    Instance {
        store,
        wasio: Arc::new(wasio),
    }
}

impl Instance {
    /// The exports, apart from the store they are called with.
    pub fn api(&self) -> Arc<Wasio> {
        self.wasio.clone()
    }

    /// `blocking-open-connection` to `addr`.
    pub async fn connect(&mut self, addr: SocketAddr) -> (ResourceAny, ResourceAny) {
        self.wasio
            .wasio_streams_tcp()
            .call_blocking_open_connection(
                &mut self.store,
                &addr.ip().to_string(),
                addr.port(),
                None,
            )
            .await
            .unwrap()
            .expect("connected")
    }

    /// `start-server` on `host` (every address when `None`) with port 0:
    /// the server and the addresses it bound, as `sockets` lists them.
    pub async fn start_server(&mut self, host: Option<&str>) -> (ResourceAny, Vec<SocketAddr>) {
        let server = self
            .wasio
            .wasio_streams_tcp()
            .call_start_server(&mut self.store, host, 0, None)
            .await
            .unwrap()
            .expect("listening");
        let sockets = self
            .wasio
            .wasio_streams_streams()
            .server()
            .call_sockets(&mut self.store, server)
            .await
            .unwrap();
        let bound = sockets
            .into_iter()
            .map(|socket| match socket {
                SocketAddress::Ip(ip) => SocketAddr::from(ip),
                other => panic!("a TCP server bound {other:?}"),
            })
            .collect();
        (server, bound)
    }

    /// `write` that must succeed.
    pub async fn write(&mut self, writer: ResourceAny, data: &[u8]) {
        let api = self.api();
        let writer_api = api.wasio_streams_streams().stream_writer();
        writer_api
            .call_write(&mut self.store, writer, data)
            .await
            .unwrap()
            .expect("write");
    }

    /// `blocking-readline` with an optional timeout.
    pub async fn readline(
        &mut self,
        reader: ResourceAny,
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, WitError> {
        let nanos = timeout.map(|t| t.as_nanos() as u64);
        let api = self.api();
        let reader_api = api.wasio_streams_streams().stream_reader();
        reader_api
            .call_blocking_readline(&mut self.store, reader, nanos)
            .await
            .unwrap()
    }

    /// Wait on a pollable the component handed out, then drop it.
    pub async fn block(&mut self, pollable: Resource<DynPollable>) {
        let table = self.store.data_mut().table();
        let borrowed = Resource::<DynPollable>::new_borrow(pollable.rep());
        tokio::time::timeout(
            SOON,
            wasmtime_wasi::p2::bindings::io::poll::Host::poll(table, vec![borrowed]),
        )
        .await
        .expect("the pollable became ready")
        .unwrap();
        table.delete(pollable).unwrap();
    }

    /// Drop resources the component handed out, in this order.
    pub async fn drop_all(&mut self, resources: impl IntoIterator<Item = ResourceAny>) {
        for resource in resources {
            resource.resource_drop_async(&mut self.store).await.unwrap();
        }
    }
}

//! The TLS world's component (`dist/wasio-tls.wasm`) instantiated in the
//! wasio host, its exports called from Rust as another component would
//! call them.

use std::net::SocketAddr;
use std::sync::Arc;

use wasio_host::{Host, HostState, RunOptions};
use wasmtime::Store;
use wasmtime::component::ResourceAny;

use crate::component::soon;
use crate::made_by;

wasmtime::component::bindgen!({
    path: "../wit",
    world: "wasio-tls",
    exports: { default: async },
    // The host links `wasi:tls`; these bindings only call the exports.
    with: {
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:sockets": wasmtime_wasi::p2::bindings::sockets,
    },
});

pub use exports::wasio::streams::tls::{HandshakeFailure, TlsError};
pub use exports::wasio::streams::types::Error as WitError;

/// One instance of `wasio-tls.wasm` in its own store.
pub struct TlsInstance {
    pub store: Store<HostState>,
    wasio: Arc<WasioTls>,
}

impl std::fmt::Debug for TlsInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsInstance").finish_non_exhaustive()
    }
}

/// Compile (cached) and instantiate `dist/wasio-tls.wasm` in a new store
/// of `host`.
pub async fn tls_instance(host: &Host) -> TlsInstance {
    let component = host
        .compile(made_by("dist/wasio-tls.wasm", "make build"))
        .expect("compile wasio-tls.wasm");
    let mut store = host.new_store(&RunOptions::default()).expect("a store");
    let wasio = WasioTls::instantiate_async(&mut store, &component, host.linker())
        .await
        .expect("instantiate wasio-tls.wasm");
    TlsInstance {
        store,
        wasio: Arc::new(wasio),
    }
}

impl TlsInstance {
    /// The exports, apart from the store they are called with.
    pub fn api(&self) -> Arc<WasioTls> {
        self.wasio.clone()
    }

    /// `tls.blocking-open-connection` to `addr`, the certificate checked
    /// for `server_name`.
    pub async fn connect_tls(
        &mut self,
        addr: SocketAddr,
        server_name: &str,
    ) -> Result<(ResourceAny, ResourceAny), TlsError> {
        self.wasio
            .wasio_streams_tls()
            .call_blocking_open_connection(
                &mut self.store,
                &addr.ip().to_string(),
                addr.port(),
                Some(server_name),
                None,
            )
            .await
            .unwrap()
    }

    /// Plain `tcp.blocking-open-connection` to `addr`.
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

    /// `tls.start-tls` on `writer` with `timeout`.
    pub async fn start_tls(
        &mut self,
        writer: ResourceAny,
        server_name: &str,
        timeout: Option<std::time::Duration>,
    ) -> Result<(), TlsError> {
        let nanos = timeout.map(|t| t.as_nanos() as u64).or(soon());
        self.wasio
            .wasio_streams_tls()
            .call_start_tls(&mut self.store, writer, server_name, nanos)
            .await
            .unwrap()
    }

    /// `write` then `blocking-drain`.
    pub async fn send(&mut self, writer: ResourceAny, data: &[u8]) -> Result<(), WitError> {
        let wasio = &self.wasio;
        let writer_api = wasio.wasio_streams_streams().stream_writer();
        writer_api
            .call_write(&mut self.store, writer, data)
            .await
            .unwrap()?;
        writer_api
            .call_blocking_drain(&mut self.store, writer, soon())
            .await
            .unwrap()
    }

    /// `blocking-readline` (bounded by `SOON`).
    pub async fn readline(&mut self, reader: ResourceAny) -> Result<Vec<u8>, WitError> {
        self.wasio
            .wasio_streams_streams()
            .stream_reader()
            .call_blocking_readline(&mut self.store, reader, soon())
            .await
            .unwrap()
    }

    /// `feed-data` on a reader.
    pub async fn feed_data(&mut self, reader: ResourceAny, data: &[u8]) {
        self.wasio
            .wasio_streams_streams()
            .stream_reader()
            .call_feed_data(&mut self.store, reader, data)
            .await
            .unwrap()
            .expect("feed-data");
    }

    /// Drop resources the component handed out, in this order.
    pub async fn drop_all(&mut self, resources: impl IntoIterator<Item = ResourceAny>) {
        for resource in resources {
            resource.resource_drop_async(&mut self.store).await.unwrap();
        }
    }
}

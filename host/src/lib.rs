//! wasio-host: a Wasmtime host for wasio components.
//!
//! It runs WASI 0.2 and 0.3 components with three additions: the
//! `wasio:streams/unix` import (Unix-domain stream sockets, which WASI 0.2
//! lacks), a deny-by-default [network policy](policy::NetworkPolicy), and
//! per-instance [limits](limits::Limits) on memory, CPU time and open
//! connections. The `wasio` binary is a command-line front end; an
//! application can embed the same host.
//!
//! A command component (one that exports `wasi:cli/run`, WASI 0.2's or
//! 0.3's async one) runs with
//! [`Host::load`] and [`Loaded::run`]. Its standard I/O is the host's by
//! default; [`RunOptions`] can instead feed stdin from bytes or any
//! [reader](StdinReader), and send stdout and stderr to any `wasmtime-wasi`
//! output stream, such as a `MemoryOutputPipe` that keeps them in memory:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use wasio_host::{Host, HostConfig, Output, RunOptions, Stdin};
//! use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
//!
//! let mut config = HostConfig::default();
//! config.policy.allow_connect("127.0.0.1:7878".parse()?);
//! config.limits.max_memory = Some(64 << 20);
//! let host = Host::new(config)?;
//! let wcat = host.load("wcat.wasm")?;
//!
//! let stdout = MemoryOutputPipe::new(1 << 20);
//! let options = RunOptions {
//!     args: ["wcat.wasm", "127.0.0.1", "7878"].map(String::from).to_vec(),
//!     stdin: Stdin::Bytes(b"hello\n".to_vec()),
//!     stdout: Output::stream(stdout.clone()),
//!     ..RunOptions::default()
//! };
//! let exit_code = wcat.run(&options).await?;
//! let echoed = stdout.contents(); // what the server sent back
//! # Ok(()) }
//! ```
//!
//! Any other component (a plugin exporting its own interface, or the wasio
//! component itself) is compiled with [`Host::compile`] and instantiated
//! with [`Host::linker`] in a store from [`Host::new_store`], which has the
//! same WASI context, policy and limits as a command's. The engine runs
//! guests asynchronously (for the CPU limit, and because the WASI imports
//! are async), so instantiate and call with the `_async` functions, and
//! generate bindings with `exports: { default: async }`:
//!
//! ```no_run
//! # async fn demo(host: wasio_host::Host) -> Result<(), wasio_host::Error> {
//! wasmtime::component::bindgen!({
//!     inline: "
//!         package example:plugin;
//!         world plugin {
//!             export greet: func(name: string) -> string;
//!         }
//!     ",
//!     exports: { default: async },
//! });
//!
//! let component = host.compile("plugin.wasm")?;
//! let mut store = host.new_store(&wasio_host::RunOptions::default())?;
//! let greeting = async {
//!     let plugin = Plugin::instantiate_async(&mut store, &component, host.linker()).await?;
//!     plugin.call_greet(&mut store, "world").await
//! }
//! .await
//! .map_err(|e| store.data().guest_error(e))?;
//! let leftover = store.data_mut().resource_count();
//! # Ok(()) }
//! ```
//!
//! An export that uses the component model's async ABI (`async func`, as
//! WASI 0.3 components have) is called inside
//! [`Store::run_concurrent`], as [`Loaded::run`] does for a 0.3 command.
//!
//! Each run or store is its own instance: instances share nothing but the
//! compiled code, and a limit stops only the instance that exceeds it.

pub mod engine;
mod error;
pub mod limits;
pub mod policy;
mod run;
pub mod sockets;
mod state;
pub mod stdio;
pub mod tls;
pub mod unix;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store};

pub use crate::engine::CacheSetting;
pub use crate::error::Error;
pub use crate::limits::Limits;
pub use crate::policy::NetworkPolicy;
pub use crate::run::{DirMapping, RunOptions};
pub use crate::state::{HostState, ResourceCounts};
pub use crate::stdio::{Output, Stdin, StdinReader};
pub use crate::tls::TlsConfig;

/// How a [`Host`] treats every component it runs.
#[derive(Clone, Debug, Default)]
pub struct HostConfig {
    pub policy: NetworkPolicy,
    pub limits: Limits,
    pub cache: CacheSetting,
    /// TLS for guests (`wasi:tls`), trusting these CAs; with `None` (the
    /// default) a component that imports `wasi:tls` still runs, and each
    /// of its handshakes fails.
    pub tls: Option<TlsConfig>,
}

/// An engine, a linker with every import wasio provides, and the policy and
/// limits; cheap to clone and share between tasks.
#[derive(Clone)]
pub struct Host {
    inner: Arc<HostInner>,
}

struct HostInner {
    engine: Engine,
    linker: Linker<HostState>,
    policy: Arc<NetworkPolicy>,
    limits: Limits,
    tls: Option<tls::Trust>,
    /// Only with a CPU limit: the engine then has epoch interruption.
    _ticker: Option<limits::EpochTicker>,
}

impl Host {
    /// Build the engine (with its compiled-code cache) and linker, and load
    /// the TLS trust store if TLS is on; with a CPU limit, the engine has
    /// epoch interruption and an epoch ticker drives it (without one, guest
    /// code runs without the epoch checks).
    pub fn new(config: HostConfig) -> Result<Self, Error> {
        let tls = config.tls.as_ref().map(tls::Trust::load).transpose()?;
        if let Some(trust) = &tls {
            tracing::debug!(roots = trust.roots(), "wasi:tls on");
        }
        let metered = config.limits.cpu_time.is_some();
        let engine = engine::new_engine(&config.cache, metered).map_err(Error::Engine)?;
        let mut linker = Linker::new(&engine);
        run::link(&mut linker).map_err(Error::Engine)?;
        let ticker = metered
            .then(|| limits::EpochTicker::start(&engine))
            .transpose()
            .map_err(|e| Error::Engine(wasmtime::Error::new(e)))?;
        Ok(Self {
            inner: Arc::new(HostInner {
                engine,
                linker,
                policy: Arc::new(config.policy),
                limits: config.limits,
                tls,
                _ticker: ticker,
            }),
        })
    }

    /// The engine, for callers that compile or inspect components themselves.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The linker with every import wasio provides (WASI 0.2 and 0.3 with
    /// the policy's guards, `wasio:streams/unix`, and `wasi:tls`), for instantiating a
    /// component in a store from [`Host::new_store`]. To add imports of
    /// your own, clone it and define them on the clone.
    pub fn linker(&self) -> &Linker<HostState> {
        &self.inner.linker
    }

    /// The network policy every instance runs under.
    pub fn policy(&self) -> &NetworkPolicy {
        &self.inner.policy
    }

    /// Whether guests get `wasi:tls`.
    pub fn has_tls(&self) -> bool {
        self.inner.tls.is_some()
    }

    /// The limits each instance gets.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// A store for one instance, as [`Loaded::run`] makes for each run: a
    /// WASI context with the arguments, environment, directories and
    /// standard I/O of `options`, the host's policy, and the limits
    /// installed (memory, and the epoch deadline that meters CPU time).
    ///
    /// Instantiate and call in it with the `_async` functions: the CPU limit
    /// and the WASI imports need them. An error from a call can be explained
    /// with [`HostState::guest_error`].
    pub fn new_store(&self, options: &RunOptions) -> Result<Store<HostState>, Error> {
        let host = &self.inner;
        run::new_store(
            &host.engine,
            &host.policy,
            &host.limits,
            host.tls.as_ref(),
            options,
        )
    }

    /// Read and compile (or fetch from the compiled-code cache) the
    /// component at `path`, whatever it exports.
    pub fn compile(&self, path: impl AsRef<Path>) -> Result<Component, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        self.compile_bytes(&bytes, path)
    }

    /// Like [`Host::compile`] for a component already in memory; `name` is
    /// used in error messages.
    pub fn compile_bytes(&self, bytes: &[u8], name: impl AsRef<Path>) -> Result<Component, Error> {
        let path = name.as_ref().to_owned();
        if !bytes.starts_with(b"\0asm") {
            return Err(Error::NotWasm { path });
        }
        if is_core_module(bytes) {
            return Err(Error::CoreModule { path });
        }
        Component::new(&self.inner.engine, bytes).map_err(|source| Error::Compile { path, source })
    }

    /// Read, compile (or fetch from the cache) and pre-instantiate the
    /// command component at `path`.
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Loaded, Error> {
        let path = path.as_ref();
        let component = self.compile(path)?;
        self.load_component(&component, path)
    }

    /// Like [`Host::load`] for a component already in memory; `name` is used
    /// in error messages.
    pub fn load_bytes(&self, bytes: &[u8], name: impl AsRef<Path>) -> Result<Loaded, Error> {
        let name = name.as_ref();
        let component = self.compile_bytes(bytes, name)?;
        self.load_component(&component, name)
    }

    /// Pre-instantiate a compiled command component; `name` is used in
    /// error messages.
    pub fn load_component(
        &self,
        component: &Component,
        name: impl AsRef<Path>,
    ) -> Result<Loaded, Error> {
        let path = name.as_ref().to_owned();
        let pre = self
            .inner
            .linker
            .instantiate_pre(component)
            .map_err(|source| Error::Link {
                path: path.clone(),
                source,
            })?;
        let pre = run::CommandPre::new(pre).map_err(|source| Error::NotACommand {
            path: path.clone(),
            source,
        })?;
        Ok(Loaded {
            host: self.clone(),
            pre,
            path,
        })
    }
}

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Host")
            .field("policy", &self.inner.policy)
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

/// A compiled, pre-instantiated command component, ready to run any number
/// of times (concurrently too), each run in a fresh instance.
#[derive(Clone)]
pub struct Loaded {
    host: Host,
    pre: run::CommandPre,
    path: PathBuf,
}

impl Loaded {
    /// Run the command once, in a store from [`Host::new_store`], and return
    /// its exit code: 0 on success, the code given to `wasi:cli/exit`, or 1
    /// when `run` returns an error.
    pub async fn run(&self, options: &RunOptions) -> Result<i32, Error> {
        let store = self.host.new_store(options)?;
        run::run_command(&self.pre, store).await
    }

    /// The path (or name) the component was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Debug for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loaded")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Whether `bytes` start like a core WebAssembly module (layer 0) rather
/// than a component (layer 1).
fn is_core_module(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[6..8] == [0, 0]
}

//! wasio-host: a Wasmtime host for wasio components.
//!
//! It runs WASI 0.2 command components with three additions: the
//! `wasio:streams/unix` import (Unix-domain stream sockets, which WASI 0.2
//! lacks), a deny-by-default [network policy](policy::NetworkPolicy), and
//! per-instance [limits](limits::Limits) on memory, CPU time and open
//! connections. The `wasio` binary is a command-line front end; an
//! application can embed the same host:
//!
//! ```no_run
//! # async fn demo() -> Result<(), wasio_host::Error> {
//! use wasio_host::{Host, HostConfig, RunOptions};
//!
//! let mut config = HostConfig::default();
//! config.policy.allow_connect("127.0.0.1:8080".parse().unwrap());
//! config.limits.max_memory = Some(64 << 20);
//! let host = Host::new(config)?;
//! let plugin = host.load("plugin.wasm")?;
//! let options = RunOptions {
//!     args: vec!["plugin.wasm".into()],
//!     ..RunOptions::default()
//! };
//! let exit_code = plugin.run(&options).await?;
//! # Ok(()) }
//! ```
//!
//! Each run gets its own store, so instances share nothing but the compiled
//! code, and a limit stops only the instance that exceeds it.

pub mod engine;
mod error;
pub mod limits;
pub mod policy;
mod run;
pub mod sockets;
mod state;
pub mod unix;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::Engine;
use wasmtime::component::{Component, Linker};
use wasmtime_wasi::p2::bindings::CommandPre;

pub use crate::engine::CacheSetting;
pub use crate::error::Error;
pub use crate::limits::Limits;
pub use crate::policy::NetworkPolicy;
pub use crate::run::{DirMapping, RunOptions};
use crate::state::InstanceState;

/// How a [`Host`] treats every component it runs.
#[derive(Clone, Debug, Default)]
pub struct HostConfig {
    pub policy: NetworkPolicy,
    pub limits: Limits,
    pub cache: CacheSetting,
}

/// An engine, a linker with every import wasio provides, and the policy and
/// limits; cheap to clone and share between tasks.
#[derive(Clone)]
pub struct Host {
    inner: Arc<HostInner>,
}

struct HostInner {
    engine: Engine,
    linker: Linker<InstanceState>,
    policy: Arc<NetworkPolicy>,
    limits: Limits,
    _ticker: limits::EpochTicker,
}

impl Host {
    /// Build the engine (with its compiled-code cache) and linker, and start
    /// the epoch ticker that drives CPU limits.
    pub fn new(config: HostConfig) -> Result<Self, Error> {
        let engine = engine::new_engine(&config.cache).map_err(Error::Engine)?;
        let mut linker = Linker::new(&engine);
        run::link(&mut linker).map_err(Error::Engine)?;
        let ticker = limits::EpochTicker::start(&engine)
            .map_err(|e| Error::Engine(wasmtime::Error::new(e)))?;
        Ok(Self {
            inner: Arc::new(HostInner {
                engine,
                linker,
                policy: Arc::new(config.policy),
                limits: config.limits,
                _ticker: ticker,
            }),
        })
    }

    /// The engine, for callers that compile or inspect components themselves.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Read, compile (or fetch from the cache) and pre-instantiate the
    /// command component at `path`.
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Loaded, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        self.load_bytes(&bytes, path)
    }

    /// Like [`Host::load`] for a component already in memory; `name` is used
    /// in error messages.
    pub fn load_bytes(&self, bytes: &[u8], name: impl AsRef<Path>) -> Result<Loaded, Error> {
        let path = name.as_ref().to_owned();
        if !bytes.starts_with(b"\0asm") {
            return Err(Error::NotWasm { path });
        }
        if is_core_module(bytes) {
            return Err(Error::CoreModule { path });
        }
        let component =
            Component::new(&self.inner.engine, bytes).map_err(|source| Error::Compile {
                path: path.clone(),
                source,
            })?;
        let pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(|source| Error::Link {
                path: path.clone(),
                source,
            })?;
        let pre = CommandPre::new(pre).map_err(|source| Error::NotACommand {
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
    pre: CommandPre<InstanceState>,
    path: PathBuf,
}

impl Loaded {
    /// Run the command once and return its exit code: 0 on success, the
    /// code given to `wasi:cli/exit`, or 1 when `run` returns an error.
    pub async fn run(&self, options: &RunOptions) -> Result<i32, Error> {
        let host = &self.host.inner;
        run::run_command(&host.engine, &self.pre, &host.policy, &host.limits, options).await
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

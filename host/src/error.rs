//! Everything that can stop the host from running a component to its end,
//! with what the user should do about it.

use std::path::PathBuf;

use crate::limits::{CpuTimeExceeded, MemoryLimitExceeded};

/// A failure to load or run a component. A guest that exits with a non-zero
/// code is not an error: its code is returned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The engine could not be configured (for example the cache directory
    /// cannot be created).
    #[error("could not set up the WebAssembly engine")]
    Engine(#[source] wasmtime::Error),
    /// The component file could not be read.
    #[error("cannot read component {}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not binary WebAssembly.
    #[error(
        "{} is not a WebAssembly binary (the text format is not accepted: \
         convert it with `wasm-tools parse`)",
        path.display()
    )]
    NotWasm { path: PathBuf },
    /// The file is a core WebAssembly module, not a component.
    #[error(
        "{} is a core WebAssembly module, not a component: build it for \
         wasm32-wasip2 or wrap it with `wasm-tools component new`",
        path.display()
    )]
    CoreModule { path: PathBuf },
    /// The file is not valid WebAssembly, or failed to compile.
    #[error("{} is not a valid WebAssembly component", path.display())]
    Compile {
        path: PathBuf,
        source: wasmtime::Error,
    },
    /// The component imports something this host does not provide.
    #[error(
        "{} imports something wasio does not provide (wasio provides WASI 0.2 \
         and 0.3, wasio:streams/unix and wasi:tls@0.2.0-draft)",
        path.display()
    )]
    Link {
        path: PathBuf,
        source: wasmtime::Error,
    },
    /// The component exports neither WASI 0.2's nor 0.3's `wasi:cli/run`.
    #[error(
        "{} is not a command component: it must export wasi:cli/run \
         (build a binary crate, i.e. one with `fn main`)",
        path.display()
    )]
    NotACommand {
        path: PathBuf,
        source: wasmtime::Error,
    },
    /// A directory to preopen could not be opened.
    #[error("cannot open directory {} for --dir", host.display())]
    Preopen {
        host: PathBuf,
        source: wasmtime::Error,
    },
    /// The TLS trust store could not be built (`--tls-ca`).
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// The guest used its CPU time.
    #[error(transparent)]
    CpuTime(CpuTimeExceeded),
    /// The guest trapped after a memory growth was refused by the limit.
    #[error("the guest trapped: {limit}")]
    Memory {
        limit: MemoryLimitExceeded,
        #[source]
        trap: wasmtime::Error,
    },
    /// The guest trapped (or instantiation failed).
    #[error("the guest trapped")]
    Trap(#[source] wasmtime::Error),
}

impl Error {
    /// Whether the guest ran and was stopped (a trap or a limit), as opposed
    /// to the host failing to start it.
    pub fn is_guest_failure(&self) -> bool {
        matches!(
            self,
            Error::CpuTime(_) | Error::Memory { .. } | Error::Trap(_)
        )
    }
}

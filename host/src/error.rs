//! Everything that can stop the host from running a component to its end,
//! with what the user should do about it.

use std::fmt;
use std::path::PathBuf;

use crate::limits::{CpuTimeExceeded, MemoryLimitExceeded};

/// A failure to load or run a component. A guest that exits with a non-zero
/// code is not an error: its code is returned.
#[derive(Debug)]
pub enum Error {
    /// The engine could not be configured (for example the cache directory
    /// cannot be created).
    Engine(wasmtime::Error),
    /// The component file could not be read.
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not binary WebAssembly.
    NotWasm { path: PathBuf },
    /// The file is a core WebAssembly module, not a component.
    CoreModule { path: PathBuf },
    /// The file is not valid WebAssembly, or failed to compile.
    Compile {
        path: PathBuf,
        source: wasmtime::Error,
    },
    /// The component imports something this host does not provide.
    Link {
        path: PathBuf,
        source: wasmtime::Error,
    },
    /// The component does not export `wasi:cli/run`.
    NotACommand {
        path: PathBuf,
        source: wasmtime::Error,
    },
    /// A directory to preopen could not be opened.
    Preopen {
        host: PathBuf,
        source: wasmtime::Error,
    },
    /// The guest used its CPU time.
    CpuTime(CpuTimeExceeded),
    /// The guest trapped after a memory growth was refused by the limit.
    Memory {
        limit: MemoryLimitExceeded,
        trap: wasmtime::Error,
    },
    /// The guest trapped (or instantiation failed).
    Trap(wasmtime::Error),
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

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Engine(_) => f.write_str("could not set up the WebAssembly engine"),
            Error::Read { path, .. } => write!(f, "cannot read component {}", path.display()),
            Error::NotWasm { path } => write!(
                f,
                "{} is not a WebAssembly binary (the text format is not accepted: \
                 convert it with `wasm-tools parse`)",
                path.display()
            ),
            Error::CoreModule { path } => write!(
                f,
                "{} is a core WebAssembly module, not a component: build it for \
                 wasm32-wasip2 or wrap it with `wasm-tools component new`",
                path.display()
            ),
            Error::Compile { path, .. } => {
                write!(f, "{} is not a valid WebAssembly component", path.display())
            }
            Error::Link { path, .. } => write!(
                f,
                "{} imports something wasio does not provide (wasio provides WASI 0.2 \
                 and wasio:streams/unix)",
                path.display()
            ),
            Error::NotACommand { path, .. } => write!(
                f,
                "{} is not a command component: it must export wasi:cli/run \
                 (build a binary crate, i.e. one with `fn main`)",
                path.display()
            ),
            Error::Preopen { host, .. } => {
                write!(f, "cannot open directory {} for --dir", host.display())
            }
            Error::CpuTime(e) => e.fmt(f),
            Error::Memory { limit, .. } => write!(f, "the guest trapped: {limit}"),
            Error::Trap(_) => f.write_str("the guest trapped"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Read { source, .. } => Some(source),
            Error::Engine(source)
            | Error::Compile { source, .. }
            | Error::Link { source, .. }
            | Error::NotACommand { source, .. }
            | Error::Preopen { source, .. }
            | Error::Memory { trap: source, .. }
            | Error::Trap(source) => Some(source.as_ref()),
            Error::NotWasm { .. } | Error::CoreModule { .. } | Error::CpuTime(_) => None,
        }
    }
}

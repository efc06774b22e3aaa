//! Running a `wasi:cli` command component in a fresh store: arguments,
//! environment, preopened directories, inherited stdio, the policy and the
//! limits; the guest's exit code comes back as an `i32`.

use std::path::PathBuf;
use std::sync::Arc;

use wasmtime::component::Linker;
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

use crate::error::Error;
use crate::limits::{self, InstanceLimits, Limits};
use crate::policy::{self, NetworkPolicy};
use crate::state::InstanceState;

/// A host directory made visible to the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirMapping {
    pub host: PathBuf,
    /// The name the guest opens it by.
    pub guest: String,
}

/// What one run of a command gets: its arguments (the first is the program
/// name), environment and directories.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOptions {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub dirs: Vec<DirMapping>,
    /// Connect the guest's stdin, stdout and stderr to the host's; otherwise
    /// stdin is empty and output is discarded.
    pub inherit_stdio: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            args: Vec::new(),
            env: Vec::new(),
            dirs: Vec::new(),
            inherit_stdio: true,
        }
    }
}

/// Add everything a wasio command may import to `linker`: WASI 0.2 (with
/// wasio's guards in front of some socket functions) and
/// `wasio:streams/unix`.
pub(crate) fn link(linker: &mut Linker<InstanceState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    crate::sockets::add_guards_to_linker(linker)?;
    crate::unix::add_to_linker(linker)
}

/// Instantiate `pre` in a new store and call its `wasi:cli/run`.
pub(crate) async fn run_command(
    engine: &Engine,
    pre: &CommandPre<InstanceState>,
    policy: &Arc<NetworkPolicy>,
    limits: &Limits,
    options: &RunOptions,
) -> Result<i32, Error> {
    let mut builder = WasiCtxBuilder::new();
    builder.args(&options.args).envs(&options.env);
    if options.inherit_stdio {
        builder.inherit_stdio();
    }
    for dir in &options.dirs {
        builder
            .preopened_dir(&dir.host, &dir.guest, FsPerms::ReadWrite)
            .map_err(|source| Error::Preopen {
                host: dir.host.clone(),
                source,
            })?;
    }
    policy::apply_to_wasi(policy, &mut builder);

    let state = InstanceState::new(
        builder.build(),
        Arc::clone(policy),
        InstanceLimits::new(limits.clone()),
    );
    let mut store = Store::new(engine, state);
    limits::install(&mut store);

    let outcome = match pre.instantiate_async(&mut store).await {
        Ok(command) => command.wasi_cli_run().call_run(&mut store).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(Ok(())) => Ok(0),
        Ok(Err(())) => Ok(1),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(exit) => Ok(exit.0),
            None => Err(guest_failure(e, store.data().instance_limits())),
        },
    }
}

/// Say which limit, if any, explains a trap.
fn guest_failure(e: wasmtime::Error, limits: &InstanceLimits) -> Error {
    if let Some(cpu) = e.downcast_ref::<limits::CpuTimeExceeded>() {
        return Error::CpuTime(*cpu);
    }
    match limits.memory_denied() {
        Some(limit) => Error::Memory {
            limit: *limit,
            trap: e,
        },
        None => Error::Trap(e),
    }
}

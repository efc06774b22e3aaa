//! A store for one instance (arguments, environment, preopened directories,
//! standard I/O, the policy and the limits), and running a `wasi:cli`
//! command component in one, whether it exports WASI 0.2's `run` or WASI
//! 0.3's async `run`: the guest's exit code comes back as an `i32`.

use std::path::PathBuf;
use std::sync::Arc;

use wasmtime::component::{InstancePre, Linker};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder, p2, p3};

use crate::error::Error;
use crate::limits::{self, InstanceLimits, Limits};
use crate::policy::{self, NetworkPolicy};
use crate::state::HostState;
use crate::stdio::{self, Output, Stdin};
use crate::tls::Trust;

/// A host directory made visible to the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirMapping {
    pub host: PathBuf,
    /// The name the guest opens it by.
    pub guest: String,
}

/// What one instance gets: its arguments (the first is the program name),
/// environment, directories and standard I/O. The default has no
/// arguments, environment or directories, and the host's own stdin, stdout
/// and stderr.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub dirs: Vec<DirMapping>,
    pub stdin: Stdin,
    pub stdout: Output,
    pub stderr: Output,
}

/// Add everything a wasio component may import to `linker`: WASI 0.2 and
/// 0.3 (with wasio's guards in front of some socket functions; a component
/// may import both, as Rust's standard library still prints through 0.2),
/// `wasio:streams/unix` and `wasi:tls@0.2.0-draft` (whose handshakes
/// fail unless the host has TLS configured).
pub(crate) fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    p2::add_to_linker_async(linker)?;
    p3::add_to_linker(linker)?;
    crate::sockets::add_guards_to_linker(linker)?;
    crate::unix::add_to_linker(linker)?;
    let mut options = wasmtime_wasi_tls::p2::LinkOptions::default();
    options.tls(true);
    wasmtime_wasi_tls::p2::add_to_linker(linker, &options)
}

/// A new store for one instance, with its WASI context built from
/// `options` and `policy`, and `limits` installed.
pub(crate) fn new_store(
    engine: &Engine,
    policy: &Arc<NetworkPolicy>,
    limits: &Limits,
    tls: Option<&Trust>,
    options: &RunOptions,
) -> Result<Store<HostState>, Error> {
    let mut builder = WasiCtxBuilder::new();
    builder.args(&options.args).envs(&options.env);
    stdio::install(
        &mut builder,
        &options.stdin,
        &options.stdout,
        &options.stderr,
    );
    for dir in &options.dirs {
        builder
            .preopened_dir(&dir.host, &dir.guest, FsPerms::ReadWrite)
            .map_err(|source| Error::Preopen {
                host: dir.host.clone(),
                source,
            })?;
    }
    policy::apply_to_wasi(policy, &mut builder);

    let state = HostState::new(
        builder.build(),
        Arc::clone(policy),
        InstanceLimits::new(limits.clone()),
        tls.map_or_else(crate::tls::disabled_context, Trust::context),
    );
    let mut store = Store::new(engine, state);
    limits::install(&mut store);
    Ok(store)
}

/// A pre-instantiated command component, by the `wasi:cli/run` it exports.
#[derive(Clone)]
pub(crate) enum CommandPre {
    /// WASI 0.2's `run`, called like any async host call.
    P2(p2::bindings::CommandPre<HostState>),
    /// WASI 0.3's async `run`, which runs inside the store's event loop
    /// (`run_concurrent`) with the streams and futures it creates.
    P3(p3::bindings::CommandPre<HostState>),
}

impl CommandPre {
    /// Find the `run` that `pre` exports: WASI 0.3's if it has one (as
    /// `wasmtime run` does), else WASI 0.2's; the error says that neither
    /// is there.
    pub(crate) fn new(pre: InstancePre<HostState>) -> wasmtime::Result<Self> {
        match p3::bindings::CommandPre::new(pre.clone()) {
            Ok(p3) => Ok(Self::P3(p3)),
            Err(_) => p2::bindings::CommandPre::new(pre).map(Self::P2),
        }
    }
}

/// Instantiate `pre` in `store` and call its `wasi:cli/run`.
///
/// The guest runs outside tokio's cooperative budget: one `wasi:io/poll`
/// over more than about 128 sockets would use up the task's budget, after
/// which tokio reports every further socket not ready, so the `read` or
/// `check-write` that follows a successful `poll` finds nothing and the
/// guest spins until the budget is renewed (wasmtime's issue #14174, fixed
/// the same way for its own synchronous calls). The epoch deadline still
/// makes a busy guest yield to the host's other tasks.
pub(crate) async fn run_command(
    pre: &CommandPre,
    mut store: Store<HostState>,
) -> Result<i32, Error> {
    let outcome = tokio::task::unconstrained(async {
        match pre {
            CommandPre::P2(pre) => {
                let command = pre.instantiate_async(&mut store).await?;
                command.wasi_cli_run().call_run(&mut store).await
            }
            CommandPre::P3(pre) => {
                let command = pre.instantiate_async(&mut store).await?;
                store
                    .run_concurrent(async |store| command.wasi_cli_run().call_run(store).await)
                    .await?
            }
        }
    })
    .await;
    match outcome {
        Ok(Ok(())) => Ok(0),
        Ok(Err(())) => Ok(1),
        Err(e) => match e.downcast_ref::<I32Exit>() {
            Some(exit) => Ok(exit.0),
            None => Err(store.data().guest_error(e)),
        },
    }
}

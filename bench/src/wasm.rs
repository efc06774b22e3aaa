//! The guest subjects: a command component run by the wasio host (as
//! `wasio run` does, on a multi-threaded tokio runtime), with standard
//! input kept by this process so that it can answer `stats` between
//! workloads.
//!
//! With `--count-calls` a call hook counts every call from the guest into
//! the host (imported functions and the runtime's own libcalls such as
//! resource drops) and samples the guest's linear memory. With `--perf-map`
//! the component runs on an engine of its own that writes
//! `/tmp/perf-PID.map`, so `perf report` names the guest's functions; that
//! engine links the same WASI 0.2 implementation and wasio's Unix import,
//! without the host's CPU-time metering.
//!
//! The guest runs outside tokio's cooperative budget
//! (`tokio::task::unconstrained`): within one budget (128 operations per
//! task poll) a `poll` over more than about 128 sockets uses the budget up,
//! and the non-blocking `read` and `check-write` calls that follow then
//! find nothing ready although `poll` said they were, so the guest spins
//! until an epoch yield happens to fall between the two; `wasio-host`
//! runs its guests the same way. `--coop-budget` runs it inside the
//! budget, to show the difference.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use tokio::io::{AsyncBufReadExt, BufReader};
use wasio_host::{Host, HostConfig, HostState, NetworkPolicy, RunOptions, Stdin, StdinReader};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{CallHook, Config, Engine, ProfilingStrategy, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi::{p2, p3};

use crate::serve::ServeArgs;

/// What the call hook records.
#[derive(Debug, Default)]
struct Counters {
    calls: AtomicU64,
    memory: AtomicUsize,
}

/// The policy a subject runs under: listen on loopback, Unix sockets in
/// the directory of `unix`.
fn policy(unix: Option<&str>) -> anyhow::Result<NetworkPolicy> {
    let mut policy = NetworkPolicy::deny_all();
    policy.allow_listen("127.0.0.1:*".parse()?);
    if let Some(dir) = unix.and_then(|p| Path::new(p).parent()) {
        policy.allow_unix_dir(dir)?;
    }
    Ok(policy)
}

fn guest_args(component: &Path, args: &ServeArgs) -> Vec<String> {
    let mut argv = vec![component.display().to_string()];
    if let Some(listen) = &args.listen {
        argv.extend(["--listen".to_owned(), listen.clone()]);
    }
    if let Some(unix) = &args.unix {
        argv.extend(["--unix".to_owned(), unix.clone()]);
    }
    if args.startup {
        argv.push("--startup".to_owned());
    }
    if args.single {
        argv.push("--single".to_owned());
    }
    argv
}

/// Run the command component at `component` until standard input ends.
pub fn serve(component: &Path, args: &ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let counters = Arc::new(Counters::default());
        if args.perf_map {
            let (reader, input) = tokio::io::duplex(4096);
            let argv = guest_args(component, args);
            let guest = tokio::spawn(tokio::task::unconstrained(run_profiled(
                component.to_owned(),
                argv,
                reader,
                args.unix.clone(),
            )));
            answer_stats(&counters).await;
            drop(input);
            return guest.await?;
        }
        let (reader, input) = tokio::io::duplex(4096);
        let options = RunOptions {
            args: guest_args(component, args),
            stdin: Stdin::Reader(StdinReader::new(reader)),
            ..RunOptions::default()
        };
        let guest = {
            let host = Host::new(HostConfig {
                policy: policy(args.unix.as_deref())?,
                ..HostConfig::default()
            })?;
            let compiled = host.compile(component)?;
            let mut store = host.new_store(&options)?;
            if args.count_calls {
                install_counter(&mut store, counters.clone());
            }
            let linker = host.linker().clone();
            let run = async move { run_command(&mut store, &compiled, &linker).await };
            if args.coop_budget {
                tokio::spawn(run)
            } else {
                tokio::spawn(tokio::task::unconstrained(run))
            }
        };
        answer_stats(&counters).await;
        drop(input);
        guest.await?
    })
}

fn install_counter(store: &mut Store<HostState>, counters: Arc<Counters>) {
    store.call_hook(move |cx, hook| {
        if let CallHook::CallingHost = hook {
            counters.calls.fetch_add(1, Ordering::Relaxed);
            let memory = cx.data().instance_limits().memory_in_use();
            counters.memory.store(memory, Ordering::Relaxed);
        }
        Ok(())
    });
}

/// Answer `stats` lines on standard input until it ends.
async fn answer_stats(counters: &Counters) {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim() == "stats" {
            println!(
                "stats calls={} memory={}",
                counters.calls.load(Ordering::Relaxed),
                counters.memory.load(Ordering::Relaxed)
            );
        }
    }
}

/// A wasmtime result as an anyhow one (wasmtime's error type is its own).
fn wt<T>(result: wasmtime::Result<T>) -> anyhow::Result<T> {
    result.map_err(|error| anyhow::anyhow!("{error:?}"))
}

/// Instantiate `component` and call its `wasi:cli/run`: WASI 0.3's inside
/// the store's event loop if it exports one (as the host does), else WASI
/// 0.2's.
async fn run_command<T: WasiView + Send + 'static>(
    store: &mut Store<T>,
    component: &Component,
    linker: &Linker<T>,
) -> anyhow::Result<()> {
    let pre = wt(linker.instantiate_pre(component))?;
    let outcome = match p3::bindings::CommandPre::new(pre.clone()) {
        Ok(pre) => {
            let command = wt(pre.instantiate_async(&mut *store).await)?;
            wt(store
                .run_concurrent(async |store| command.wasi_cli_run().call_run(store).await)
                .await)?
        }
        Err(_) => {
            let pre = wt(p2::bindings::CommandPre::new(pre))?;
            let command = wt(pre.instantiate_async(&mut *store).await)?;
            command.wasi_cli_run().call_run(&mut *store).await
        }
    };
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(())) => anyhow::bail!("the guest failed"),
        Err(error) => wt(Err(error)),
    }
}

/// Time one instance of the cached component at `component`, run with
/// `--startup` (bind, exit), `runs` times; the times in µs.
pub fn startup(component: &Path, runs: usize) -> anyhow::Result<Vec<f64>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let host = Host::new(HostConfig {
            policy: policy(None)?,
            ..HostConfig::default()
        })?;
        let loaded = host.load(component)?;
        let args = ServeArgs {
            listen: Some("127.0.0.1:0".to_owned()),
            startup: true,
            ..ServeArgs::default()
        };
        let options = RunOptions {
            args: guest_args(component, &args),
            stdin: Stdin::Null,
            ..RunOptions::default()
        };
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let started = Instant::now();
            let code = loaded.run(&options).await?;
            times.push(started.elapsed().as_secs_f64() * 1e6);
            anyhow::ensure!(code == 0, "the start-up run exited with {code}");
        }
        Ok(times)
    })
}

/// Store data of the profiling engine.
struct ProfiledState {
    wasi: WasiCtx,
    table: ResourceTable,
    policy: NetworkPolicy,
    limits: wasio_host::limits::InstanceLimits,
}

impl WasiView for ProfiledState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl wasio_host::unix::UnixView for ProfiledState {
    fn unix(&mut self) -> wasio_host::unix::UnixCtxView<'_> {
        wasio_host::unix::UnixCtxView {
            table: &mut self.table,
            policy: &self.policy,
            limits: &self.limits,
        }
    }
}

async fn run_profiled(
    component: PathBuf,
    argv: Vec<String>,
    stdin: tokio::io::DuplexStream,
    unix: Option<String>,
) -> anyhow::Result<()> {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .profiler(ProfilingStrategy::PerfMap);
    let engine = wt(Engine::new(&config))?;
    let mut linker = Linker::new(&engine);
    wt(p2::add_to_linker_async(&mut linker))?;
    wt(wasio_host::unix::add_to_linker(&mut linker))?;
    let policy = policy(unix.as_deref())?;
    let mut builder = WasiCtxBuilder::new();
    builder
        .args(&argv)
        .stdin(wasmtime_wasi::cli::AsyncStdinStream::new(stdin))
        .inherit_stdout()
        .inherit_stderr();
    wasio_host::policy::apply_to_wasi(&Arc::new(policy.clone()), &mut builder);
    let state = ProfiledState {
        wasi: builder.build(),
        table: ResourceTable::new(),
        policy,
        limits: wasio_host::limits::InstanceLimits::new(wasio_host::Limits::default()),
    };
    let mut store = Store::new(&engine, state);
    let compiled = wt(Component::from_file(&engine, &component))?;
    run_command(&mut store, &compiled, &linker).await
}

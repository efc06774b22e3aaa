//! wasio-bench: the wasio component under the wasio host side by side with
//! native tokio, CPython asyncio, a raw wasi:sockets guest and a consumer
//! component that uses wasio through its WIT exports.
//!
//! ```text
//! wasio-bench [run] [--quick] [--rounds N] [--only TEXT,...] [--artifacts DIR] [--out DIR]
//! wasio-bench serve-native [--listen ADDR] [--unix PATH] [--naive] [--startup]
//! wasio-bench serve-wasm COMPONENT [--listen ADDR] [--unix PATH] [--count-calls] [--perf-map] [--startup]
//! wasio-bench client ADDR|unix:PATH WORKLOAD [COUNT]
//! wasio-bench tls [--quick] [--rounds N] [--artifacts DIR] [--out DIR]
//! wasio-bench client-wasm --tls-ca FILE COMPONENT [ARGS]...
//! ```
//!
//! `run` starts one server process per kind of subject, runs every
//! workload against every subject round after round (the order of the
//! subjects rotating each round), then prints the medians, spreads and
//! ratios (the composed consumer's also to wasio's Rust API and to the raw
//! guest), checks the goals and writes `results.json` and `chart.svg`.
//! `client` drives a server started by hand (for profiling it). `tls`
//! measures wasio's TLS client against plain TCP (see `tls`), running the
//! guest client through `client-wasm`.

mod client;
mod native;
mod protocol;
mod report;
mod serve;
mod subjects;
mod tls;
mod wasm;
mod workloads;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::client::Target;
use crate::report::Results;
use crate::serve::ServeArgs;
use crate::subjects::{Kind, Paths, Server, Subject};
use crate::workloads::{Plan, Workload};

/// The driver and the servers it starts; with no command, `run`.
#[derive(Debug, Parser)]
#[command(name = "wasio-bench", args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every workload against every subject, round after round.
    Run(RunArgs),
    /// Serve the benchmark protocol natively (tokio).
    ServeNative(ServeArgs),
    /// Serve the benchmark protocol with a guest component under wasio-host.
    ServeWasm {
        /// The command component to run.
        component: PathBuf,
        #[command(flatten)]
        args: ServeArgs,
    },
    /// wasio's TLS client next to plain TCP and native tokio (writes tls.json).
    Tls(RunArgs),
    /// Run a command component under wasio-host with TLS, trusting one CA.
    ClientWasm {
        /// PEM file of the CA to trust.
        #[arg(long)]
        tls_ca: PathBuf,
        /// The command component to run.
        component: PathBuf,
        /// The guest's arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run one workload against a server started by hand (for profiling).
    Client {
        /// `ADDR` or `unix:PATH`.
        target: String,
        /// echo, rr, up, down or frames.
        workload: String,
        /// Lines, round trips or bytes (each workload has a default).
        count: Option<u64>,
    },
}

/// What `run` measures and where it writes.
#[derive(Debug, Args)]
struct RunArgs {
    /// Three smaller rounds, written to target/bench-quick/.
    #[arg(long)]
    quick: bool,
    /// How many rounds (5, or 3 with --quick).
    #[arg(long)]
    rounds: Option<usize>,
    /// Only the workloads whose names contain one of these.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Where the guest components are (target/wasm32-wasip2/component).
    #[arg(long)]
    artifacts: Option<PathBuf>,
    /// Where results.json and chart.svg go (bench/).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Run(cli.run)) {
        Command::Run(args) => run(args),
        Command::Tls(args) => run_tls(args),
        Command::ClientWasm {
            tls_ca,
            component,
            args,
        } => tls::client_wasm(&component, &tls_ca, &args),
        Command::ServeNative(args) => native::serve(&args, args.naive),
        Command::ServeWasm { component, args } => wasm::serve(&component, &args),
        Command::Client {
            target,
            workload,
            count,
        } => client_command(&target, &workload, count),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("wasio-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ is inside the workspace")
        .to_path_buf()
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(drive(args))
}

fn run_tls(args: RunArgs) -> anyhow::Result<()> {
    let root = root();
    let artifacts = args
        .artifacts
        .unwrap_or_else(|| root.join("target/wasm32-wasip2/component"));
    let out = args.out.unwrap_or_else(|| {
        root.join(if args.quick {
            "target/bench-quick"
        } else {
            "bench"
        })
    });
    let plan = if args.quick { Plan::QUICK } else { Plan::FULL };
    let rounds = args.rounds.unwrap_or(plan.rounds);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(tls::run(
        &artifacts.join("bench-client.wasm"),
        rounds,
        args.quick,
        &out,
    ))
}

async fn drive(args: RunArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let root = root();
    let mut plan = if args.quick { Plan::QUICK } else { Plan::FULL };
    if let Some(rounds) = args.rounds {
        plan.rounds = rounds;
    }
    let out = args.out.clone().unwrap_or_else(|| {
        root.join(if args.quick {
            "target/bench-quick"
        } else {
            "bench"
        })
    });
    let socket_dir = tempfile::tempdir()?;
    let paths = Paths {
        artifacts: args
            .artifacts
            .clone()
            .unwrap_or_else(|| root.join("target/wasm32-wasip2/component")),
        python_server: workloads::python_server(&root),
        socket_dir: socket_dir.path().to_owned(),
        wasmtime: root.join(".tools/bin/wasmtime"),
        python_component: root.join("dist/python-asyncio.wasm"),
    };
    for kind in [
        Kind::Wasio,
        Kind::WasioP3,
        Kind::Raw,
        Kind::Composed,
        Kind::ComposedCli,
    ] {
        let component = paths.component(kind);
        anyhow::ensure!(
            component.exists(),
            "{} is missing: build it with `scripts/build-bench.sh`",
            component.display()
        );
    }
    let workloads: Vec<Workload> = Workload::ALL
        .into_iter()
        .filter(|w| args.only.is_empty() || args.only.iter().any(|part| w.name().contains(part)))
        .collect();

    let mut servers = HashMap::new();
    for kind in Kind::ALL {
        servers.insert(kind, Server::start(kind, &paths, false).await?);
    }
    let mut results = Results::default();
    for round in 0..plan.rounds {
        for &workload in &workloads {
            let mut subjects = workload.subjects();
            let len = subjects.len();
            subjects.rotate_left(round % len);
            for subject in subjects {
                let server = &servers[&subject.kind];
                let measured = workloads::measure(workload, subject, server, &paths, &plan).await;
                match measured {
                    Ok(sample) => {
                        eprintln!(
                            "round {}/{} {:<18} {:<20} {:>14} {}",
                            round + 1,
                            plan.rounds,
                            workload.name(),
                            subject.name(),
                            report::figure(sample.value),
                            workload.unit()
                        );
                        results.add(workload, subject, sample);
                    }
                    Err(error) => {
                        let failure =
                            format!("{} / {}: {error:#}", workload.name(), subject.name());
                        eprintln!("FAILED: {failure}");
                        results.failures.push(failure);
                    }
                }
            }
        }
    }
    for (_, server) in servers {
        server.stop().await?;
    }
    if args.only.is_empty() {
        for (kind, unix) in [
            (Kind::Wasio, false),
            (Kind::Wasio, true),
            (Kind::WasioP3, false),
            (Kind::Raw, false),
            (Kind::Composed, false),
            (Kind::Composed, true),
            (Kind::ComposedSingle, false),
        ] {
            let subject = Subject { kind, unix };
            match workloads::host_calls(kind, unix, &paths, &plan).await {
                Ok(calls) => {
                    for (what, n) in calls {
                        results.host_calls.push((subject, what, n));
                    }
                }
                Err(error) => results
                    .failures
                    .push(format!("host calls / {}: {error:#}", subject.name())),
            }
        }
    }

    let wall = started.elapsed();
    let table = results.table();
    println!("{table}");
    println!("{}", results.goals_table());
    println!("wall time: {:.1} s", wall.as_secs_f64());

    let context = json!({
        "plan": format!("{plan:?}"),
        "quick": args.quick,
        "wall_seconds": (wall.as_secs_f64() * 10.0).round() / 10.0,
        "machine": machine(),
        "settings": {
            "tcp_nodelay": "off for every subject (WASI 0.2 cannot set it, wasmtime-wasi leaves it off); 'asyncio nodelay tcp' keeps asyncio's default (on)",
            "listen_backlog": protocol::BACKLOG,
            "largest_read": protocol::PIECE,
            "servers": "one process per kind; tokio and the wasio host on tokio's multi-threaded runtime (as `wasio run`), asyncio on its default loop",
            "client": "one native tokio client (current-thread runtime) in the driver process",
            "guests": "built with the `component` profile (opt-level 3, lto), run by wasio-host with its default limits, outside tokio's cooperative budget (tokio::task::unconstrained; inside it a poll over more than ~128 sockets livelocks)",
        },
    });
    std::fs::create_dir_all(&out)?;
    let json_path = out.join("results.json");
    std::fs::write(
        &json_path,
        serde_json::to_string_pretty(&results.json(context))? + "\n",
    )?;
    let title = format!(
        "wasio vs native tokio and CPython asyncio ({} cores, {} rounds, loopback)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        plan.rounds
    );
    let chart_path = out.join("chart.svg");
    std::fs::write(&chart_path, results.chart(&title))?;
    println!("wrote {} and {}", json_path.display(), chart_path.display());
    Ok(())
}

/// What the run ran on.
fn machine() -> serde_json::Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let python = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let commit = std::process::Command::new("git")
        .args([
            "-C",
            &root().display().to_string(),
            "describe",
            "--always",
            "--dirty",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    json!({
        "commit": commit,
        "load_average_at_end": load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "kernel": kernel.trim(),
        "python": python,
    })
}

/// `client ADDR|unix:PATH WORKLOAD [COUNT]`: run one workload against a
/// server started by hand.
fn client_command(target: &str, workload: &str, count: Option<u64>) -> anyhow::Result<()> {
    let target = match target.strip_prefix("unix:") {
        Some(path) => Target::Unix(path.into()),
        None => Target::Tcp(target.parse()?),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let started = Instant::now();
        let figure = match workload {
            "echo" => workloads::line_echo(&target, count.unwrap_or(1_000_000)).await?,
            "rr" => {
                workloads::request_response(&target, count.unwrap_or(20_000) as usize)
                    .await?
                    .value
            }
            "up" => {
                workloads::bulk_up(&target, count.unwrap_or(1 << 30))
                    .await?
                    .value
            }
            "down" => {
                workloads::bulk_down(&target, count.unwrap_or(1 << 30))
                    .await?
                    .value
            }
            "frames" => {
                workloads::frames(&target, 1024, count.unwrap_or(256 << 20))
                    .await?
                    .value
            }
            other => anyhow::bail!("unknown workload {other:?}"),
        };
        println!(
            "{workload}: {} in {:.2} s",
            report::figure(figure),
            started.elapsed().as_secs_f64()
        );
        Ok(())
    })
}

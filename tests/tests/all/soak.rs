//! Integrity under load: connections carrying seeded random payloads of 0
//! to 1 MiB (sizes uniform in the long form, spread over every power of two
//! in the short one), written in random pieces with random short pauses, through an
//! echo, and verified by length and SHA-256: nothing lost, duplicated or
//! reordered, over TCP and over Unix sockets, both ways round:
//!
//! - native clients through the echo-server component;
//! - the `hard_soak_client` component through a native echo that answers
//!   in random pieces after random pauses.
//!
//! The short form runs with the suite. The long form is `#[ignore]`d and
//! sized by the environment (`make soak`):
//! `WASIO_SOAK_CONNECTIONS` (default 10,000 each way and transport),
//! `WASIO_SOAK_SECONDS` (the deadline of each test, default 3,600) and
//! `WASIO_SOAK_SEED`. Each prints what it verified and how fast
//! (`--nocapture`).

use std::time::{Duration, Instant};

use wasio_host::{Host, HostConfig, Limits};
use wasio_tests::hostile::Transport;
use wasio_tests::load::{
    self, Endpoint, Guest, LoadPlan, LoadReport, NativePeer, PeerScript, Sizes, within_for,
};
use wasio_tests::loopback_policy;

use crate::support::{over_tcp_and_unix, programs};

const MAX_PAYLOAD: usize = 1 << 20;
/// echo-server's line limit: above any payload, so that arbitrary bytes
/// (whose "lines" are as long as a payload at worst) come back whole.
const ECHO_LIMIT: &str = "2097152";

/// The short form: sizes spread over every power of two up to 1 MiB, so
/// that the run stays short while every size occurs.
const SHORT: LoadPlan = LoadPlan {
    connections: 250,
    concurrency: 16,
    max_payload: MAX_PAYLOAD,
    sizes: Sizes::Logarithmic,
    seed: 0x5eed,
};

fn host(unix_dir: Option<&std::path::Path>) -> Host {
    Host::new(HostConfig {
        policy: loopback_policy(unix_dir),
        limits: Limits::default(),
        ..HostConfig::default()
    })
    .expect("a host")
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a valid value")),
        Err(_) => default,
    }
}

/// The long form's plan and deadline.
fn soak_plan() -> (LoadPlan, Duration) {
    let plan = LoadPlan {
        connections: env_or("WASIO_SOAK_CONNECTIONS", 10_000),
        concurrency: env_or("WASIO_SOAK_CONCURRENCY", 32),
        max_payload: MAX_PAYLOAD,
        sizes: Sizes::Uniform,
        seed: env_or("WASIO_SOAK_SEED", 0x50a_u64),
    };
    (
        plan,
        Duration::from_secs(env_or("WASIO_SOAK_SECONDS", 3600)),
    )
}

/// Native clients run `plan` through the echo-server component.
async fn through_echo_server(transport: Transport, plan: LoadPlan) -> LoadReport {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("echo.sock").display().to_string();
    let (host, mut args) = match transport {
        Transport::Tcp => (host(None), vec!["--listen", "127.0.0.1:0"]),
        Transport::Unix => (host(Some(dir.path())), vec!["--unix", path.as_str()]),
    };
    args.extend(["--limit", ECHO_LIMIT]);
    let (server, addresses) = Guest::echo_server(&host, &args, 1).await;
    let report = load::echo_load(&Endpoint::announced(&addresses[0]), plan).await;
    let outcome = server.stop().await;
    outcome.assert_success();
    println!(
        "echo-server over {transport:?} ({:?} sizes, seed {:#x}, up to {} at once): {report}; peak memory {} KiB",
        plan.sizes,
        plan.seed,
        plan.concurrency,
        outcome.peak_memory >> 10
    );
    report
}

/// The guest client runs `plan` through a native echo that answers in
/// random pieces after random pauses.
async fn through_native_echo(transport: Transport, plan: LoadPlan) -> LoadReport {
    let echo = NativePeer::listen(transport, PeerScript::ChunkyEcho { seed: plan.seed })
        .await
        .unwrap();
    let host = host(echo.unix_dir());
    let args = [
        echo.target(),
        plan.connections.to_string(),
        plan.concurrency.to_string(),
        plan.seed.to_string(),
        plan.max_payload.to_string(),
        plan.sizes.name().to_owned(),
    ];
    let started = Instant::now();
    let outcome = Guest::start(&host, programs::HARD_SOAK_CLIENT, &args)
        .finish_within(Duration::MAX)
        .await;
    let elapsed = started.elapsed();
    outcome.assert_success();
    let bytes = echo.bytes();
    assert_eq!(
        outcome.stdout.trim(),
        format!("ok: {} connections, {bytes} bytes", plan.connections),
        "what the guest verified and what the peer echoed"
    );
    assert_eq!(echo.connections(), plan.connections as u64);
    let report = LoadReport {
        connections: plan.connections,
        bytes,
        elapsed,
    };
    println!(
        "guest client over {transport:?} ({:?} sizes, seed {:#x}, up to {} at once): {report}; peak memory {} KiB",
        plan.sizes,
        plan.seed,
        plan.concurrency,
        outcome.peak_memory >> 10
    );
    report
}

async fn echo_server_short(transport: Transport) {
    through_echo_server(transport, SHORT).await;
}

async fn guest_client_short(transport: Transport) {
    through_native_echo(transport, SHORT).await;
}

over_tcp_and_unix! {
    echo_server_returns_every_random_payload_intact => echo_server_short;
    guest_client_gets_every_random_payload_back_intact => guest_client_short;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: run by `make soak`"]
async fn soak_echo_server_over_tcp_and_unix() {
    let (plan, deadline) = soak_plan();
    within_for(deadline, async {
        through_echo_server(Transport::Tcp, plan).await;
        through_echo_server(Transport::Unix, plan).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: run by `make soak`"]
async fn soak_guest_client_over_tcp_and_unix() {
    let (plan, deadline) = soak_plan();
    within_for(deadline, async {
        through_native_echo(Transport::Tcp, plan).await;
        through_native_echo(Transport::Unix, plan).await;
    })
    .await;
}

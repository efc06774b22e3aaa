//! Guest isolation: a guest that traps, runs out of memory or computes
//! forever is stopped with an error that says which, its connections are
//! closed, and the same `Host` goes on serving its other instances, during
//! the failures and after them. (`host_limits.rs` has each limit alone.)

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::TcpListener;
use wasio_host::{Error, Host, HostConfig, Limits};
use wasio_tests::load::{Endpoint, Guest, LineClient, REPLY_TIMEOUT};
use wasio_tests::{loopback_policy, within};

use crate::support::programs;

/// A spinner given this many iterations runs until its CPU time is up.
const FOREVER: &str = "18446744073709551615";
const MEMORY_CAP: usize = 32 << 20;
const CPU_BUDGET: Duration = Duration::from_secs(1);

fn host(limits: Limits) -> Host {
    Host::new(HostConfig {
        policy: loopback_policy(None),
        limits,
        ..HostConfig::default()
    })
    .expect("a host")
}

/// A native peer for `hard_trap`: accepts one connection and checks that
/// the guest's line arrives; the connection, to watch it close.
async fn trap_peer() -> (
    String,
    tokio::task::JoinHandle<BufReader<tokio::net::TcpStream>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = listener.local_addr().unwrap().to_string();
    let accepted = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut stream = BufReader::new(stream);
        let mut line = String::new();
        stream.read_line(&mut line).await.unwrap();
        assert_eq!(line, "hello\n");
        stream
    });
    (target, accepted)
}

/// After its guest was stopped, the peer's connection ends.
async fn assert_closed(mut stream: BufReader<tokio::net::TcpStream>) {
    let mut rest = Vec::new();
    let read = tokio::time::timeout(REPLY_TIMEOUT, stream.read_to_end(&mut rest))
        .await
        .expect("the stopped guest's connection closes");
    match read {
        Ok(_) => assert_eq!(rest, b"", "bytes after the guest trapped"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
}

/// The error of a trap, with its cause.
fn assert_trap(outcome: &wasio_tests::load::Outcome) {
    match &outcome.result {
        Err(error @ Error::Trap(trap)) => {
            assert!(error.is_guest_failure());
            assert_eq!(error.to_string(), "the guest trapped");
            let cause = format!("{trap:?}");
            assert!(cause.contains("unreachable"), "unclear cause: {cause}");
        }
        other => panic!(
            "want a trap, got {other:?}\nstdout:\n{}\nstderr:\n{}",
            outcome.stdout, outcome.stderr
        ),
    }
    assert!(
        outcome.stderr.contains("a guest bug, on purpose"),
        "the panic message: {}",
        outcome.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_that_traps_is_stopped_with_its_connections_closed_and_the_host_runs_the_next() {
    within(async {
        let host = host(Limits::default());
        let (target, accepted) = trap_peer().await;
        let outcome = Guest::start(&host, programs::HARD_TRAP, &[target, "0".into()])
            .finish_within(REPLY_TIMEOUT)
            .await;
        assert_trap(&outcome);
        assert_closed(accepted.await.unwrap()).await;

        let (target, accepted) = trap_peer().await;
        let next = Guest::start(&host, programs::HARD_TRAP, &[target, "0".into()]);
        next.line_after("about to trap").await;
        assert_trap(&next.finish_within(REPLY_TIMEOUT).await);
        assert_closed(accepted.await.unwrap()).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_that_trap_run_out_of_memory_or_spin_are_stopped_while_a_server_serves_on() {
    within(async {
        let limits = Limits {
            max_memory: Some(MEMORY_CAP),
            cpu_time: Some(CPU_BUDGET),
            ..Limits::default()
        };
        let host = host(limits);
        let (server, addresses) = Guest::echo_server(&host, &["--listen", "127.0.0.1:0"], 1).await;
        let endpoint = Endpoint::announced(&addresses[0]);
        let mut steady = LineClient::connect(&endpoint).await;
        steady.exchanges("before", 5).await;

        let (target, accepted) = trap_peer().await;
        let trap = Guest::start(&host, programs::HARD_TRAP, &[target, "500".into()]);
        let hog = Guest::start(&host, programs::HOST_MEMORY_HOG, &["256".into()]);
        let spin = Guest::start(&host, programs::HOST_SPIN, &[FOREVER.into()]);
        trap.line_after("about to trap").await;
        steady.exchanges("during", 20).await;

        let (trap, hog, spin) = tokio::join!(
            trap.finish_within(REPLY_TIMEOUT),
            hog.finish_within(REPLY_TIMEOUT),
            spin.finish_within(REPLY_TIMEOUT),
        );
        assert_trap(&trap);
        assert_closed(accepted.await.unwrap()).await;
        match &hog.result {
            Err(error @ Error::Memory { limit, .. }) => {
                assert_eq!(limit.limit, MEMORY_CAP);
                assert!(error.to_string().contains("over its limit"), "{error}");
            }
            other => panic!("want the memory error, got {other:?}\n{}", hog.stderr),
        }
        match &spin.result {
            Err(error @ Error::CpuTime(exceeded)) => {
                assert_eq!(exceeded.limit, CPU_BUDGET);
                assert!(error.to_string().contains("CPU time limit"), "{error}");
            }
            other => panic!("want the CPU time error, got {other:?}\n{}", spin.stderr),
        }

        steady.exchanges("after", 5).await;
        steady.finish().await;
        let mut next = LineClient::connect(&endpoint).await;
        next.exchanges("a new client", 5).await;
        next.finish().await;
        server.stop().await.assert_success();
        // And a new instance of each kind runs to its end.
        Guest::start(&host, programs::HOST_SPIN, &["1000".into()])
            .finish_within(REPLY_TIMEOUT)
            .await
            .assert_success();
        Guest::start(&host, programs::HOST_MEMORY_HOG, &["4".into()])
            .finish_within(REPLY_TIMEOUT)
            .await
            .assert_success();
    })
    .await;
}

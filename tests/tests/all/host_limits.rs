//! Per-instance limits, end to end: a guest over its memory cap or
//! spinning past its CPU time is stopped with the matching
//! `wasio_host::Error`, and the same `Host` then runs the next instance; a
//! spinning guest does not starve other instances; past the connection
//! limit the guest's connect, and a server's accept, fail with the host's
//! limit error while the connections already open go on.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixListener;
use std::process::Command;
use std::time::Duration;

use wasio_host::{Host, HostConfig, Limits, NetworkPolicy};
use wasio_tests::peers::{self, Behaviour};
use wasio_tests::{loopback_policy, target};

use crate::support::{programs, run, run_command, start, wasio_cli};

const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A guest that spins this long is stopped by any CPU limit in this file.
const FOREVER: &str = "18446744073709551615";

fn host(limits: Limits, policy: NetworkPolicy) -> Host {
    Host::new(HostConfig {
        policy,
        limits,
        ..HostConfig::default()
    })
    .expect("a host")
}

// --- memory and CPU ----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_over_its_memory_cap_is_stopped_and_the_host_runs_the_next() {
    let cap = 32 << 20;
    let limits = Limits {
        max_memory: Some(cap),
        ..Limits::default()
    };
    let host = host(limits, NetworkPolicy::deny_all());
    let hog = run(&host, programs::HOST_MEMORY_HOG, &["256".into()]).await;
    match &hog.result {
        Err(error @ wasio_host::Error::Memory { limit, .. }) => {
            assert_eq!(limit.limit, cap);
            assert!(limit.requested > cap, "{limit:?}");
            let message = error.to_string();
            assert!(message.contains("over its limit"), "unclear: {message}");
        }
        other => panic!("want the memory error, got {other:?}\n{}", hog.output()),
    }
    let next = run(&host, programs::HOST_MEMORY_HOG, &["4".into()]).await;
    next.assert_success();
    assert!(
        next.stdout.contains("ok: allocated 4 MiB"),
        "{}",
        next.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spinning_guest_is_stopped_and_the_host_runs_the_next() {
    let budget = Duration::from_millis(200);
    let limits = Limits {
        cpu_time: Some(budget),
        ..Limits::default()
    };
    let host = host(limits, NetworkPolicy::deny_all());
    let spin = run(&host, programs::HOST_SPIN, &[FOREVER.into()]).await;
    match &spin.result {
        Err(error @ wasio_host::Error::CpuTime(exceeded)) => {
            assert_eq!(exceeded.limit, budget);
            let message = error.to_string();
            assert!(message.contains("CPU time limit"), "unclear: {message}");
        }
        other => panic!("want the CPU time error, got {other:?}\n{}", spin.output()),
    }
    let next = run(&host, programs::HOST_SPIN, &["1000".into()]).await;
    next.assert_success();
}

/// On a single-threaded runtime a guest that did not yield would hold the
/// only thread until its CPU budget ran out; the echo client must instead
/// finish while the spinner is still running.
#[tokio::test(flavor = "current_thread")]
async fn spinning_guest_yields_so_another_instance_is_served() {
    let limits = Limits {
        cpu_time: Some(Duration::from_secs(30)),
        ..Limits::default()
    };
    let host = host(limits, loopback_policy(None));
    let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
    let spinner = start(&host, programs::HOST_SPIN, &[FOREVER.into()]);
    tokio::task::yield_now().await;
    let client = run(&host, "client_lines", &[target(addr), "100".into()]).await;
    client.assert_success();
    assert!(
        !spinner.is_finished(),
        "the spinner ended (ran out of CPU time) before the other instance was served"
    );
    spinner.stop().await;
}

#[test]
fn wasio_run_stops_a_spinning_guest_with_exit_status_134() {
    let output = run_command(
        Command::new(wasio_cli())
            .args(["run", "--cpu-time-limit", "0.2"])
            .arg(wasio_tests::artifact(&format!(
                "{}.wasm",
                programs::HOST_SPIN
            )))
            .arg(FOREVER)
            .env("RUST_BACKTRACE", "0"),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(134), "stderr:\n{stderr}");
    assert!(stderr.contains("CPU time limit"), "unclear:\n{stderr}");
}

// --- connections -------------------------------------------------------------

fn connection_limit(max: usize) -> Limits {
    Limits {
        max_connections: Some(max),
        ..Limits::default()
    }
}

/// How many connections wait in `accept`'s queue of a non-blocking listener.
fn queued<S>(mut accept: impl FnMut() -> io::Result<S>) -> usize {
    let mut count = 0;
    loop {
        match accept() {
            Ok(_) => count += 1,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return count,
            Err(e) => panic!("accept: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_connection_past_the_limit_fails_in_the_guest_until_one_closes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let host = host(connection_limit(3), loopback_policy(None));
    let args = [target(addr), "3".into()];
    run(&host, programs::HOST_MAX_CONNECTIONS, &args)
        .await
        .assert_success();
    // Three, then one more after closing one: the refused one never left.
    assert_eq!(queued(|| listener.accept()), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_connection_past_the_limit_fails_in_the_guest_until_one_closes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("peer.sock");
    let listener = UnixListener::bind(&path).unwrap();
    listener.set_nonblocking(true).unwrap();
    let host = host(connection_limit(3), loopback_policy(Some(dir.path())));
    let args = [format!("unix:{}", path.display()), "3".into()];
    run(&host, programs::HOST_MAX_CONNECTIONS, &args)
        .await
        .assert_success();
    assert_eq!(queued(|| listener.accept()), 4);
}

fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect to the guest");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream
}

/// Send a line and read its echo.
fn exchange(stream: &mut TcpStream, line: &[u8]) -> io::Result<Vec<u8>> {
    stream.write_all(line)?;
    let mut echoed = vec![0; line.len()];
    stream.read_exact(&mut echoed)?;
    Ok(echoed)
}

/// A client refused by the host is closed at once: end of file (or a
/// reset), never an echo.
fn assert_refused(mut stream: TcpStream) {
    let mut byte = [0];
    match stream.read(&mut byte) {
        Ok(0) => {}
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
        other => panic!("want the client closed by the host, got {other:?}"),
    }
}

/// With the guest's server at `addr` under a limit of one client: a first
/// client is served, a second one is refused while the first is
/// connected; then the first leaves.
async fn first_served_second_refused(addr: &str) {
    let addr = addr.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut first = connect(&addr);
        let echoed = exchange(&mut first, b"first\n").expect("the first client served");
        assert_eq!(echoed, b"first\n");
        assert_refused(connect(&addr));
    })
    .await
    .expect("the clients");
}

/// A client connecting to the guest's server at `addr` is served.
async fn served(addr: &str) {
    let mut client = connect(addr);
    let echoed = tokio::task::spawn_blocking(move || exchange(&mut client, b"third\n"))
        .await
        .expect("the client");
    let echoed = echoed.expect("no echo for a client after the refused one");
    assert_eq!(echoed, b"third\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_past_the_limit_refuses_the_client_and_the_next_is_served() {
    // The listening socket counts: two allows it and one client.
    let host = host(connection_limit(2), loopback_policy(None));
    let server = start(&host, programs::HOST_LIMIT_ACCEPT, &[]);
    let addr = server.line_after("listening on ").await;
    first_served_second_refused(&addr).await;
    server.line_after("released the first client").await;
    served(&addr).await;
    server.finish().await.assert_success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_server_goes_on_serving_after_a_client_past_the_limit() {
    let host = host(connection_limit(2), loopback_policy(None));
    let server = start(&host, programs::HOST_LIMIT_SERVER, &[]);
    let addr = server.line_after("listening on ").await;
    first_served_second_refused(&addr).await;
    server.line_after("closed client 1").await;
    served(&addr).await;
    server.finish().await.assert_success();
}

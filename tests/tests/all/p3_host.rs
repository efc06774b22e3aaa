//! WASI 0.3 command components, end to end: the test program `p3` (async
//! `wasi:cli/run@0.3`, TCP over `wasi:sockets@0.3`, standard output
//! through `wasi:cli@0.2`) in an in-process `wasio_host::Host`, under
//! `wasio run` and under the stock `wasmtime` CLI, against native peers on
//! loopback. It gets the exit codes, output, arguments, network policy
//! and memory and CPU limits a 0.2 command gets, and the connection limit
//! counts its sockets for as long as they are open: also after the guest
//! drops a `tcp-socket` whose streams it keeps, and for the clients of its
//! listeners.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Output};

use wasio_host::{Host, HostConfig, Limits, NetworkPolicy};
use wasio_tests::peers::{self, Behaviour};
use wasio_tests::{loopback_policy, made_by, target};

use crate::support::{Finished, programs, run, run_command, start, wasio_cli};

fn host(policy: NetworkPolicy, limits: Limits) -> Host {
    Host::new(HostConfig {
        policy,
        limits,
        ..HostConfig::default()
    })
    .expect("a host")
}

fn connect_policy(rules: &[&str]) -> NetworkPolicy {
    let mut policy = NetworkPolicy::deny_all();
    for rule in rules {
        policy.allow_connect(rule.parse().expect("a valid rule"));
    }
    policy
}

fn connection_limit(max: usize) -> Limits {
    Limits {
        max_connections: Some(max),
        ..Limits::default()
    }
}

/// Run `p3 ARGS...` on `host` to its end.
async fn p3(host: &Host, args: &[&str]) -> Finished {
    let args: Vec<String> = args.iter().map(|&arg| arg.to_owned()).collect();
    run(host, programs::P3, &args).await
}

/// The program failed as it reports failures: exit code 1 and
/// `error: STEP: CODE` on its standard output.
#[track_caller]
fn assert_failed(finished: &Finished, error: &str) {
    let reported = finished.stdout.contains(&format!("error: {error}\n"));
    assert!(
        matches!(finished.result, Ok(1)) && reported,
        "want exit code 1 and `error: {error}`\n{}",
        finished.output()
    );
}

/// A TCP listener on 127.0.0.1 nobody accepts from: its queue holds the
/// connections the guest made.
fn tcp_listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// How many connections wait in `listener`'s queue.
fn queued(listener: &TcpListener) -> usize {
    let mut count = 0;
    loop {
        match listener.accept() {
            Ok(_) => count += 1,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return count,
            Err(e) => panic!("accept: {e}"),
        }
    }
}

// --- running under the host library --------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_command_round_trips_a_line_and_exits_0() {
    let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
    let host = host(loopback_policy(None), Limits::default());
    let finished = p3(&host, &["connect", &target(addr), "hello over wasi 0.3"]).await;
    finished.assert_success();
    assert_eq!(finished.stdout, "echo: hello over wasi 0.3\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_command_whose_run_fails_exits_1() {
    let host = host(NetworkPolicy::deny_all(), Limits::default());
    let finished = p3(&host, &["no-such-command"]).await;
    assert_failed(
        &finished,
        "usage: connect HOST:PORT LINE | hold HOST:PORT N | hold-streams HOST:PORT N \
         | cycle HOST:PORT N | listen IP:PORT N | udp IP:PORT | spin | hog MIB | exit N",
    );
}

/// `wasi:cli/exit` inside the async `run` ends the instance there: its
/// status is the exit code (the 0.2 `exit` that Rust's standard library
/// calls carries only success or failure, so 3 becomes 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_command_that_calls_exit_ends_with_its_status() {
    let host = host(NetworkPolicy::deny_all(), Limits::default());
    for (code, status) in [("0", 0), ("3", 1)] {
        let finished = p3(&host, &["exit", code]).await;
        assert!(
            matches!(finished.result, Ok(s) if s == status),
            "exit {code}: {:?}\n{}",
            finished.result,
            finished.output()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_command_spinning_past_its_cpu_time_is_stopped() {
    let budget = std::time::Duration::from_millis(200);
    let limits = Limits {
        cpu_time: Some(budget),
        ..Limits::default()
    };
    let finished = p3(&host(NetworkPolicy::deny_all(), limits), &["spin"]).await;
    match &finished.result {
        Err(wasio_host::Error::CpuTime(exceeded)) => assert_eq!(exceeded.limit, budget),
        other => panic!(
            "want the CPU time error, got {other:?}\n{}",
            finished.output()
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_command_over_its_memory_cap_is_stopped() {
    let cap = 32 << 20;
    let limits = Limits {
        max_memory: Some(cap),
        ..Limits::default()
    };
    let host = host(NetworkPolicy::deny_all(), limits);
    let hog = p3(&host, &["hog", "256"]).await;
    match &hog.result {
        Err(wasio_host::Error::Memory { limit, .. }) => assert_eq!(limit.limit, cap),
        other => panic!("want the memory error, got {other:?}\n{}", hog.output()),
    }
    let within = p3(&host, &["hog", "4"]).await;
    within.assert_success();
    assert_eq!(within.stdout, "allocated 4 MiB\n");
}

// --- the network policy ----------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_connect_to_a_denied_port_is_access_denied() {
    let (listener, addr) = tcp_listener();
    // The system never picks a port below 1024 for a listener bound to 0.
    let host = host(connect_policy(&["127.0.0.0/8:1-1023"]), Limits::default());
    let finished = p3(&host, &["connect", &target(addr), "x"]).await;
    assert_failed(&finished, "connect: ErrorCode::AccessDenied");
    assert_eq!(queued(&listener), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_lookup_with_name_lookup_off_is_access_denied() {
    let (listener, addr) = tcp_listener();
    let host = host(
        connect_policy(&["127.0.0.0/8:*", "[::1]:*"]),
        Limits::default(),
    );
    let by_name = format!("localhost:{}", addr.port());
    let finished = p3(&host, &["connect", &by_name, "x"]).await;
    assert_failed(&finished, "lookup: ErrorCode::AccessDenied");
    assert_eq!(queued(&listener), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_lookup_with_name_lookup_on_reaches_the_peer() {
    let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
    let host = host(loopback_policy(None), Limits::default());
    let by_name = format!("localhost:{}", addr.port());
    let finished = p3(&host, &["connect", &by_name, "by name"]).await;
    finished.assert_success();
    assert_eq!(finished.stdout, "echo: by name\n");
}

fn listen_policy(rules: &[&str]) -> NetworkPolicy {
    let mut policy = NetworkPolicy::deny_all();
    for rule in rules {
        policy.allow_listen(rule.parse().expect("a valid rule"));
    }
    policy
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_listen_on_an_allowed_address_serves_a_client() {
    let host = host(listen_policy(&["127.0.0.1:*"]), Limits::default());
    let server = start(
        &host,
        programs::P3,
        &["listen".into(), "127.0.0.1:0".into(), "1".into()],
    );
    let addr = server.line_after("listening on ").await;
    let echoed = tokio::task::spawn_blocking(move || {
        let mut client = TcpStream::connect(&addr)?;
        client.set_read_timeout(Some(std::time::Duration::from_secs(20)))?;
        client.write_all(b"to the server\n")?;
        let mut echoed = Vec::new();
        client.read_to_end(&mut echoed)?;
        io::Result::Ok(echoed)
    });
    let finished = server.finish().await;
    finished.assert_success();
    assert_eq!(echoed.await.unwrap().unwrap(), b"to the server\n");
    assert!(finished.stdout.ends_with("served: to the server\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_listen_without_a_listen_rule_is_access_denied() {
    let host = host(connect_policy(&["127.0.0.0/8:*"]), Limits::default());
    let finished = p3(&host, &["listen", "127.0.0.1:0", "1"]).await;
    assert_failed(&finished, "bind: ErrorCode::AccessDenied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_udp_is_refused_whatever_the_rules() {
    let mut policy = loopback_policy(None);
    policy.inherit_network(true);
    let finished = p3(&host(policy, Limits::default()), &["udp", "127.0.0.1:0"]).await;
    assert_failed(&finished, "create: ErrorCode::AccessDenied");
}

// --- the connection limit --------------------------------------------------

/// What the guest gets past the limit (0.3 has no `new-socket-limit`).
const OVER_THE_LIMIT: &str = "create: ErrorCode::Other(Some(\"new-socket-limit\"))";

/// Run the program's `command` (`hold` or `hold-streams`) for five
/// connections under a limit of three: three are held, the fourth fails
/// in the guest, and the peer sees three.
async fn three_of_five_held(command: &str) {
    let (listener, addr) = tcp_listener();
    let host = host(loopback_policy(None), connection_limit(3));
    let finished = p3(&host, &[command, &target(addr), "5"]).await;
    assert_failed(&finished, OVER_THE_LIMIT);
    assert!(
        finished.stdout.starts_with("held 3 of 5\n"),
        "{}",
        finished.output()
    );
    assert_eq!(queued(&listener), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_connection_past_the_limit_fails_in_the_guest() {
    three_of_five_held("hold").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_sockets_dropped_with_their_streams_kept_still_count() {
    three_of_five_held("hold-streams").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_connection_closed_with_its_streams_frees_its_place() {
    let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
    let host = host(loopback_policy(None), connection_limit(1));
    let finished = p3(&host, &["cycle", &target(addr), "3"]).await;
    finished.assert_success();
    assert!(
        finished.stdout.ends_with("echo: cycle 2\ncycled 3\n"),
        "{}",
        finished.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_holds_every_connection_without_a_connection_limit() {
    let (listener, addr) = tcp_listener();
    let host = host(loopback_policy(None), Limits::default());
    let finished = p3(&host, &["hold-streams", &target(addr), "3"]).await;
    finished.assert_success();
    assert_eq!(finished.stdout, "held 3 of 3\n");
    assert_eq!(queued(&listener), 3);
}

/// Connect to the guest's server at `addr`, send a line; what comes back
/// before end of file (or a reset: nothing).
fn exchange(addr: &str, line: &[u8]) -> Vec<u8> {
    let mut client = TcpStream::connect(addr).expect("connect to the guest");
    client
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut echoed = Vec::new();
    match client
        .write_all(line)
        .and_then(|()| client.read_to_end(&mut echoed))
    {
        Ok(_) => echoed,
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => Vec::new(),
        Err(e) => panic!("the client: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_listener_serves_one_client_after_another_within_the_limit() {
    // The listener counts: two allow it and one client at a time.
    let host = host(listen_policy(&["127.0.0.1:*"]), connection_limit(2));
    let args = ["listen", "127.0.0.1:0", "3"].map(String::from);
    let server = start(&host, programs::P3, &args);
    let addr = server.line_after("listening on ").await;
    let echoed = tokio::task::spawn_blocking(move || {
        ["one\n", "two\n", "three\n"].map(|line| exchange(&addr, line.as_bytes()))
    });
    server.finish().await.assert_success();
    assert_eq!(
        echoed.await.unwrap(),
        [b"one\n".to_vec(), b"two\n".to_vec(), b"three\n".to_vec()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_listeners_client_past_the_limit_is_closed_at_once() {
    let host = host(listen_policy(&["127.0.0.1:*"]), connection_limit(1));
    let server = start(
        &host,
        programs::P3,
        &["listen".into(), "127.0.0.1:0".into(), "1".into()],
    );
    let addr = server.line_after("listening on ").await;
    let echoed = tokio::task::spawn_blocking(move || exchange(&addr, b"past\n"));
    assert_eq!(
        echoed.await.unwrap(),
        b"",
        "a client past the limit was served"
    );
    assert!(
        !server.is_finished(),
        "the guest got a client past the limit"
    );
    server.stop().await;
}

// --- the CLIs ----------------------------------------------------------------

/// `COMMAND run FLAGS... p3.wasm ARGS...` to its end.
fn cli_run(cli: &std::path::Path, flags: &[&str], args: &[&str]) -> Output {
    run_command(
        Command::new(cli)
            .arg("run")
            .args(flags)
            .arg(wasio_tests::artifact(&format!("{}.wasm", programs::P3)))
            .args(args)
            .env("WASIO_LOG", "warn")
            .env("RUST_BACKTRACE", "0"),
    )
}

fn describe(output: &Output) -> String {
    format!(
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasio_run_and_stock_wasmtime_run_a_p3_command() {
    let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
    let target = target(addr);
    let stock = made_by(".tools/bin/wasmtime", "make setup");
    let runs = [
        (wasio_cli().to_owned(), ["--allow-connect", &target]),
        (stock, ["-S", "inherit-network"]),
    ];
    for (cli, flags) in runs {
        let flags = flags.map(str::to_owned);
        let target = target.clone();
        let output = tokio::task::spawn_blocking(move || {
            let flags = flags.each_ref().map(String::as_str);
            cli_run(&cli, &flags, &["connect", &target, "from the cli"])
        })
        .await
        .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
        assert_eq!(
            output.stdout,
            b"echo: from the cli\n",
            "{}",
            describe(&output)
        );
    }
}

#[test]
fn wasio_run_logs_a_denied_p3_connect() {
    let (listener, addr) = tcp_listener();
    let target = target(addr);
    let output = cli_run(wasio_cli(), &[], &["connect", &target, "x"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("denied tcp connect") && stderr.contains(&target),
        "no warning naming the denial:\n{}",
        describe(&output)
    );
    assert_eq!(queued(&listener), 0);
}

#[test]
fn wasio_run_logs_a_p3_connection_past_max_connections() {
    let (listener, addr) = tcp_listener();
    let target = target(addr);
    let flags = ["--max-connections", "2", "--allow-connect", &target];
    let output = cli_run(wasio_cli(), &flags, &["hold", &target, "3"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("max-connections limit is reached"),
        "no warning saying why:\n{}",
        describe(&output)
    );
    assert_eq!(queued(&listener), 2);
}

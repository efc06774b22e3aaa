//! The network policy, end to end: a guest program in an in-process
//! `wasio_host::Host` with a policy built for each test tries to connect or
//! listen over real sockets (TCP on loopback, Unix sockets in a temporary
//! directory). Every allowed case must work (the bytes reach the native
//! side) and every denied case must reach the guest as `access-denied`
//! with nothing reaching the network. The `wasio run` CLI is checked end
//! to end too: its help, its policy flags, its exit codes.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use wasio_host::{Host, HostConfig, NetworkPolicy};

use crate::support::{programs, run, run_command, start, wasio_cli};

const GREETING: &[u8] = b"hello from the guest\n";
const IO_TIMEOUT: Duration = Duration::from_secs(20);

fn host(policy: NetworkPolicy) -> Host {
    Host::new(HostConfig {
        policy,
        ..HostConfig::default()
    })
    .expect("a host")
}

/// A policy from `--allow-connect` style rules.
fn connect_policy(rules: &[&str]) -> NetworkPolicy {
    let mut policy = NetworkPolicy::deny_all();
    for rule in rules {
        policy.allow_connect(rule.parse().expect("a valid rule"));
    }
    policy
}

fn listen_policy(rules: &[&str]) -> NetworkPolicy {
    let mut policy = NetworkPolicy::deny_all();
    for rule in rules {
        policy.allow_listen(rule.parse().expect("a valid rule"));
    }
    policy
}

fn unix_policy(dir: &Path) -> NetworkPolicy {
    let mut policy = NetworkPolicy::deny_all();
    policy.allow_unix_dir(dir).expect("an allowed directory");
    policy
}

/// Run `host_policy OP TARGET EXPECT` and require it to pass.
async fn expect(host: &Host, op: &str, target: &str, outcome: &str) {
    run(
        host,
        programs::HOST_POLICY,
        &[op.into(), target.into(), outcome.into()],
    )
    .await
    .assert_success();
}

// --- the native side -------------------------------------------------------

/// A TCP listener nobody accepts from: after the guest has run, its queue
/// holds exactly the connections the guest made.
fn tcp_listener(ip: &str) -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind((ip, 0)).expect("bind");
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// What the one connection the guest made to `listener` carried; fails
/// if it made none or more than one.
fn tcp_greeting(listener: &TcpListener) -> Vec<u8> {
    let (stream, _) = listener.accept().expect("the guest's connection");
    assert_no_tcp_connection(listener);
    read_all(stream)
}

fn assert_no_tcp_connection(listener: &TcpListener) {
    match listener.accept() {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        other => panic!("want no (more) connections, got {other:?}"),
    }
}

fn unix_listener(path: &Path) -> UnixListener {
    let listener = UnixListener::bind(path).expect("bind");
    listener.set_nonblocking(true).unwrap();
    listener
}

fn unix_greeting(listener: &UnixListener) -> Vec<u8> {
    let (stream, _) = listener.accept().expect("the guest's connection");
    assert_no_unix_connection(listener);
    read_all(stream)
}

fn assert_no_unix_connection(listener: &UnixListener) {
    match listener.accept() {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        other => panic!("want no (more) connections, got {other:?}"),
    }
}

trait Stream: Read {
    fn prepare(&self) -> io::Result<()>;
}

impl Stream for TcpStream {
    fn prepare(&self) -> io::Result<()> {
        self.set_nonblocking(false)?;
        self.set_read_timeout(Some(IO_TIMEOUT))
    }
}

impl Stream for UnixStream {
    fn prepare(&self) -> io::Result<()> {
        self.set_nonblocking(false)?;
        self.set_read_timeout(Some(IO_TIMEOUT))
    }
}

fn read_all(mut stream: impl Stream) -> Vec<u8> {
    stream.prepare().unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("read to end of file");
    bytes
}

/// A free TCP port on `ip` (the system's choice, released again).
fn free_port(ip: &str) -> u16 {
    TcpListener::bind((ip, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start `host_policy listen TARGET ok`, connect to where it listens with
/// `connect`, and check that one line comes back.
async fn listen_and_exchange<S: Read + Write + Send + 'static>(
    host: &Host,
    target: &str,
    connect: impl FnOnce(&str) -> io::Result<S>,
) {
    let running = start(
        host,
        programs::HOST_POLICY,
        &["listen".into(), target.into(), "ok".into()],
    );
    let addr = running.line_after("listening on ").await;
    let line = b"one line\n";
    let echoed = tokio::task::spawn_blocking({
        let mut stream = connect(&addr).expect("connect to the guest");
        move || {
            stream.write_all(line)?;
            let mut echoed = Vec::new();
            stream.read_to_end(&mut echoed)?;
            io::Result::Ok(echoed)
        }
    });
    running.finish().await.assert_success();
    assert_eq!(echoed.await.unwrap().unwrap(), line);
}

fn tcp_connect(addr: &str) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    Ok(stream)
}

fn unix_connect(path: &str) -> io::Result<UnixStream> {
    let stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    Ok(stream)
}

// --- TCP connect -------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_to_allowed_address_and_port_reaches_the_peer() {
    let (listener, addr) = tcp_listener("127.0.0.1");
    let host = host(connect_policy(&[&addr.to_string()]));
    expect(&host, "connect", &addr.to_string(), "ok").await;
    assert_eq!(tcp_greeting(&listener), GREETING);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_without_any_rule_is_access_denied() {
    let (listener, addr) = tcp_listener("127.0.0.1");
    expect(
        &host(NetworkPolicy::deny_all()),
        "connect",
        &addr.to_string(),
        "denied",
    )
    .await;
    assert_no_tcp_connection(&listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_to_another_port_of_an_allowed_address_is_access_denied() {
    let (listener, addr) = tcp_listener("127.0.0.1");
    let rule = format!("127.0.0.1:{}", addr.port() - 1);
    expect(
        &host(connect_policy(&[&rule])),
        "connect",
        &addr.to_string(),
        "denied",
    )
    .await;
    assert_no_tcp_connection(&listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_inside_allowed_cidr_reaches_the_peer() {
    // 127.0.0.2 is a loopback address on Linux: the rule, not the exact
    // address, lets it through.
    let (listener, addr) = tcp_listener("127.0.0.2");
    let host = host(connect_policy(&["127.0.0.0/30:*"]));
    expect(&host, "connect", &addr.to_string(), "ok").await;
    assert_eq!(tcp_greeting(&listener), GREETING);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_outside_allowed_cidr_is_access_denied() {
    // 127.0.0.0/31 holds .0 and .1 but not .2.
    let (listener, addr) = tcp_listener("127.0.0.2");
    let host = host(connect_policy(&["127.0.0.0/31:*"]));
    expect(&host, "connect", &addr.to_string(), "denied").await;
    assert_no_tcp_connection(&listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_inside_allowed_port_range_reaches_the_peer() {
    let (listener, addr) = tcp_listener("127.0.0.1");
    let rule = format!("127.0.0.1:{}-{}", addr.port() - 1, addr.port() + 1);
    expect(
        &host(connect_policy(&[&rule])),
        "connect",
        &addr.to_string(),
        "ok",
    )
    .await;
    assert_eq!(tcp_greeting(&listener), GREETING);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_outside_allowed_port_range_is_access_denied() {
    // The system never picks a port below 1024 for a listener bound to 0.
    let (listener, addr) = tcp_listener("127.0.0.1");
    let host = host(connect_policy(&["127.0.0.0/8:1-1023"]));
    expect(&host, "connect", &addr.to_string(), "denied").await;
    assert_no_tcp_connection(&listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_over_ipv6_needs_an_ipv6_rule() {
    let (listener, addr) = tcp_listener("::1");
    let target = addr.to_string();
    expect(
        &host(connect_policy(&["127.0.0.0/8:*"])),
        "connect",
        &target,
        "denied",
    )
    .await;
    assert_no_tcp_connection(&listener);
    expect(
        &host(connect_policy(&["[::1]:*"])),
        "connect",
        &target,
        "ok",
    )
    .await;
    assert_eq!(tcp_greeting(&listener), GREETING);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_with_only_a_listen_rule_is_access_denied() {
    let (listener, addr) = tcp_listener("127.0.0.1");
    let host = host(listen_policy(&["127.0.0.0/8:*"]));
    expect(&host, "connect", &addr.to_string(), "denied").await;
    assert_no_tcp_connection(&listener);
}

// --- name lookup -------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_by_name_with_name_lookup_allowed_reaches_the_peer() {
    let (listener, addr) = tcp_listener("127.0.0.1");
    let mut policy = connect_policy(&["127.0.0.0/8:*", "[::1]:*"]);
    policy.allow_name_lookup(true);
    let target = format!("localhost:{}", addr.port());
    expect(&host(policy), "connect", &target, "ok").await;
    assert_eq!(tcp_greeting(&listener), GREETING);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_by_name_with_name_lookup_off_is_access_denied() {
    let (listener, addr) = tcp_listener("127.0.0.1");
    let host = host(connect_policy(&["127.0.0.0/8:*", "[::1]:*"]));
    let target = format!("localhost:{}", addr.port());
    expect(&host, "connect", &target, "denied").await;
    assert_no_tcp_connection(&listener);
    // The same address as a literal needs no lookup.
    expect(&host, "connect", &addr.to_string(), "ok").await;
    assert_eq!(tcp_greeting(&listener), GREETING);
}

// --- TCP listen --------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_on_allowed_address_and_port_serves_a_client() {
    let port = free_port("127.0.0.1");
    let host = host(listen_policy(&[&format!("127.0.0.1:{port}")]));
    listen_and_exchange(&host, &format!("127.0.0.1:{port}"), tcp_connect).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_on_port_zero_in_allowed_cidr_serves_a_client() {
    let host = host(listen_policy(&["127.0.0.0/8:*"]));
    listen_and_exchange(&host, "127.0.0.1:0", tcp_connect).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_over_ipv6_with_an_ipv6_rule_serves_a_client() {
    let host = host(listen_policy(&["[::1]:*"]));
    listen_and_exchange(&host, "[::1]:0", tcp_connect).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_without_any_rule_is_access_denied() {
    let host = host(NetworkPolicy::deny_all());
    expect(&host, "listen", "127.0.0.1:0", "denied").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_on_port_outside_allowed_range_is_access_denied() {
    let port = free_port("127.0.0.1");
    let host = host(listen_policy(&["127.0.0.1:1-1023"]));
    expect(&host, "listen", &format!("127.0.0.1:{port}"), "denied").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_on_port_zero_is_access_denied_when_no_chosen_port_can_match() {
    // Binding to port 0 needs only the address to match; the port the
    // system then picks (never below 1024) is checked at listen.
    let host = host(listen_policy(&["127.0.0.1:1-1023"]));
    expect(&host, "listen", "127.0.0.1:0", "denied").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_outside_allowed_cidr_is_access_denied() {
    let host = host(listen_policy(&["127.0.0.0/31:*"]));
    expect(&host, "listen", "127.0.0.2:0", "denied").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_on_every_address_with_only_a_loopback_rule_is_access_denied() {
    let host = host(listen_policy(&["127.0.0.0/8:*", "[::1]:*"]));
    expect(&host, "listen", "*:0", "denied").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_with_only_a_connect_rule_is_access_denied() {
    let host = host(connect_policy(&["127.0.0.0/8:*"]));
    expect(&host, "listen", "127.0.0.1:0", "denied").await;
}

// --- Unix paths --------------------------------------------------------------

/// A temporary directory with `allowed/` (the policy's directory),
/// `allowed/sub/` and `outside/` beside it.
struct Dirs {
    _root: tempfile::TempDir,
    allowed: PathBuf,
    outside: PathBuf,
}

impl Dirs {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let allowed = root.path().join("allowed");
        let outside = root.path().join("outside");
        std::fs::create_dir_all(allowed.join("sub")).unwrap();
        std::fs::create_dir(&outside).unwrap();
        Self {
            _root: root,
            allowed,
            outside,
        }
    }

    fn host(&self) -> Host {
        host(unix_policy(&self.allowed))
    }
}

fn unix_target(path: &Path) -> String {
    format!("unix:{}", path.display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_connect_inside_allowed_dir_reaches_the_peer() {
    let dirs = Dirs::new();
    let path = dirs.allowed.join("sub/peer.sock");
    let listener = unix_listener(&path);
    expect(&dirs.host(), "connect", &unix_target(&path), "ok").await;
    assert_eq!(unix_greeting(&listener), GREETING);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_connect_outside_allowed_dir_is_access_denied() {
    let dirs = Dirs::new();
    let path = dirs.outside.join("peer.sock");
    let listener = unix_listener(&path);
    expect(&dirs.host(), "connect", &unix_target(&path), "denied").await;
    assert_no_unix_connection(&listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_connect_without_any_rule_is_access_denied() {
    let dirs = Dirs::new();
    let path = dirs.allowed.join("peer.sock");
    let listener = unix_listener(&path);
    let host = host(connect_policy(&["127.0.0.0/8:*"]));
    expect(&host, "connect", &unix_target(&path), "denied").await;
    assert_no_unix_connection(&listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_connect_escaping_through_dotdot_is_access_denied() {
    let dirs = Dirs::new();
    let listener = unix_listener(&dirs.outside.join("peer.sock"));
    let escape = dirs.allowed.join("../outside/peer.sock");
    expect(&dirs.host(), "connect", &unix_target(&escape), "denied").await;
    assert_no_unix_connection(&listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_connect_through_a_symlinked_socket_file_is_access_denied() {
    let dirs = Dirs::new();
    let real = dirs.outside.join("peer.sock");
    let listener = unix_listener(&real);
    let link = dirs.allowed.join("peer.sock");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    expect(&dirs.host(), "connect", &unix_target(&link), "denied").await;
    assert_no_unix_connection(&listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_connect_through_a_symlinked_dir_is_access_denied() {
    let dirs = Dirs::new();
    let listener = unix_listener(&dirs.outside.join("peer.sock"));
    std::os::unix::fs::symlink(&dirs.outside, dirs.allowed.join("link")).unwrap();
    let via_link = dirs.allowed.join("link/peer.sock");
    expect(&dirs.host(), "connect", &unix_target(&via_link), "denied").await;
    assert_no_unix_connection(&listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_connect_to_a_missing_path_outside_allowed_dir_is_access_denied() {
    // Not `connection-refused`: the guest learns nothing about paths it
    // may not use.
    let dirs = Dirs::new();
    let missing = dirs.outside.join("missing.sock");
    expect(&dirs.host(), "connect", &unix_target(&missing), "denied").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_listen_inside_allowed_dir_serves_a_client_and_removes_the_file() {
    let dirs = Dirs::new();
    let path = dirs.allowed.join("sub/guest.sock");
    listen_and_exchange(&dirs.host(), &unix_target(&path), unix_connect).await;
    assert!(!path.exists(), "the socket file outlived the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_listen_outside_allowed_dir_is_access_denied() {
    let dirs = Dirs::new();
    let path = dirs.outside.join("guest.sock");
    expect(&dirs.host(), "listen", &unix_target(&path), "denied").await;
    assert!(!path.exists(), "a denied listen created {}", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_listen_escaping_through_dotdot_is_access_denied() {
    let dirs = Dirs::new();
    let escape = dirs.allowed.join("../outside/guest.sock");
    expect(&dirs.host(), "listen", &unix_target(&escape), "denied").await;
    assert!(!dirs.outside.join("guest.sock").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_listen_through_a_symlinked_dir_is_access_denied() {
    let dirs = Dirs::new();
    std::os::unix::fs::symlink(&dirs.outside, dirs.allowed.join("link")).unwrap();
    let via_link = dirs.allowed.join("link/guest.sock");
    expect(&dirs.host(), "listen", &unix_target(&via_link), "denied").await;
    assert!(!dirs.outside.join("guest.sock").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_listen_on_the_allowed_dir_itself_is_access_denied() {
    let dirs = Dirs::new();
    let target = unix_target(&dirs.allowed.join("."));
    expect(&dirs.host(), "listen", &target, "denied").await;
}

// --- the CLI -----------------------------------------------------------------

fn wasio_run(flags: &[&str], program: &str, args: &[&str]) -> std::process::Output {
    let wasm = wasio_tests::artifact(&format!("{program}.wasm"));
    run_command(
        Command::new(wasio_cli())
            .arg("run")
            .args(flags)
            .arg(wasm)
            .args(args)
            .env("WASIO_LOG", "warn")
            .env("RUST_BACKTRACE", "0"),
    )
}

fn describe(output: &std::process::Output) -> String {
    format!(
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn wasio_run_help_documents_the_policy_flags() {
    let output = run_command(Command::new(wasio_cli()).args(["run", "--help"]));
    assert!(output.status.success(), "{}", describe(&output));
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--allow-connect",
        "--allow-listen",
        "--allow-unix",
        "--allow-dns",
        "--inherit-network",
        "--max-memory",
        "--max-connections",
        "--cpu-time-limit",
        "access-denied",
    ] {
        assert!(
            help.contains(flag),
            "`wasio run --help` lacks {flag}:\n{help}"
        );
    }
}

#[test]
fn wasio_run_denies_by_default_and_logs_the_denial() {
    let (listener, addr) = tcp_listener("127.0.0.1");
    let target = addr.to_string();
    let output = wasio_run(&[], programs::HOST_POLICY, &["connect", &target, "denied"]);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("denied tcp connect") && stderr.contains(&target),
        "no warning naming the denial:\n{stderr}"
    );
    assert_no_tcp_connection(&listener);
}

#[test]
fn wasio_run_allow_connect_lets_the_guest_connect() {
    let (listener, addr) = tcp_listener("127.0.0.1");
    let target = addr.to_string();
    let output = wasio_run(
        &["--allow-connect", &target],
        programs::HOST_POLICY,
        &["connect", &target, "ok"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert_eq!(tcp_greeting(&listener), GREETING);
}

#[test]
fn wasio_run_allow_unix_lets_the_guest_connect_inside_only() {
    let dirs = Dirs::new();
    let inside = dirs.allowed.join("peer.sock");
    let outside = dirs.outside.join("peer.sock");
    let (inside_listener, outside_listener) = (unix_listener(&inside), unix_listener(&outside));
    let allowed = dirs.allowed.to_str().unwrap();
    let output = wasio_run(
        &["--allow-unix", allowed],
        programs::HOST_POLICY,
        &["connect", &unix_target(&inside), "ok"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert_eq!(unix_greeting(&inside_listener), GREETING);
    let output = wasio_run(
        &["--allow-unix", allowed],
        programs::HOST_POLICY,
        &["connect", &unix_target(&outside), "denied"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert_no_unix_connection(&outside_listener);
}

#[test]
fn wasio_run_passes_the_guests_exit_code_through() {
    // Expecting success without a rule makes the program fail: exit 1.
    let (_listener, addr) = tcp_listener("127.0.0.1");
    let output = wasio_run(
        &[],
        programs::HOST_POLICY,
        &["connect", &addr.to_string(), "ok"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("AccessDenied"), "{}", describe(&output));
}

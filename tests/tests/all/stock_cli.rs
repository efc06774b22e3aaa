//! The command components as a user runs them: `dist/echo-server.wasm` and
//! `dist/wcat.wasm` under the pinned stock `wasmtime` CLI (TCP), and
//! `dist/echo-server-unix.wasm` and `dist/wcat-unix.wasm` under the
//! `wasio run` binary (Unix sockets), each a child process talking to
//! native tokio peers; the TCP tests also run the WASI 0.3 builds
//! (`dist/echo-server-p3.wasm`, `dist/wcat-p3.wasm`) under the stock CLI,
//! where WASI 0.3 is on by default. They use what `make build` put in
//! `dist/`. The crowd tests connect a thousand clients at once, under the
//! stock CLI and `wasio run`, on both WASI versions.

use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpStream, UnixStream};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::timeout;
use wasio_tests::peers::{self, Behaviour};
use wasio_tests::{PROCESS_TIMEOUT, closed_port, dist_command, made_by, within};

use crate::support::on_wasi_0_2_and_0_3;

/// `wasmtime run -S inherit-network COMPONENT ARGS...` with the pinned CLI.
fn stock_cli(component: &str, args: &[&str]) -> Command {
    let mut command = Command::new(made_by(".tools/bin/wasmtime", "make setup"));
    command
        .args(["run", "-S", "inherit-network"])
        .arg(made_by(
            &format!("dist/{}", dist_command(component)),
            "make build",
        ))
        .args(args);
    piped(command)
}

/// `wasio run --allow-unix DIR COMPONENT ARGS...`; `component` is named
/// as for the WASI 0.2 build and is its 0.3 build within `on_wasi_0_3`.
fn wasio_run(unix_dir: &Path, component: &str, args: &[&str]) -> Command {
    wasio_run_with(unix_dir, &[], component, args)
}

/// [`wasio_run`] with more of its flags (`policy`) before the component.
fn wasio_run_with(unix_dir: &Path, policy: &[&str], component: &str, args: &[&str]) -> Command {
    let mut command = Command::new(made_by("target/debug/wasio", "make build"));
    command
        .arg("run")
        .args(policy)
        .arg("--allow-unix")
        .arg(unix_dir)
        .arg(made_by(
            &format!("dist/{}", dist_command(component)),
            "make build",
        ))
        .args(args);
    piped(command)
}

fn piped(mut command: Command) -> Command {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("RUST_BACKTRACE", "0")
        .kill_on_drop(true);
    command
}

/// A running echo-server: its input (closing it stops the server), its
/// announcements and its standard error, collected as it goes.
struct EchoServer {
    child: Child,
    stdin: ChildStdin,
    stdout: tokio::io::Lines<BufReader<ChildStdout>>,
    stderr: JoinHandle<String>,
}

impl EchoServer {
    fn spawn(mut command: Command) -> Self {
        let mut child = command.spawn().expect("start echo-server");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let stderr = collect(child.stderr.take().unwrap());
        EchoServer {
            child,
            stdin,
            stdout,
            stderr,
        }
    }

    /// The address of its next `listening on ADDR` line.
    async fn listening_on(&mut self) -> String {
        let line = timeout(PROCESS_TIMEOUT, self.stdout.next_line())
            .await
            .expect("echo-server announced nothing in time")
            .unwrap();
        let Some(line) = line else {
            let status = self.child.wait().await.unwrap();
            panic!("echo-server exited ({status}) before listening");
        };
        line.strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected announcement {line:?}"))
            .to_owned()
    }

    /// Close its input, wait for it to exit; its exit status and stderr.
    async fn stop(self) -> (ExitStatus, String) {
        let EchoServer {
            mut child,
            stdin,
            stdout: _stdout,
            stderr,
        } = self;
        drop(stdin);
        let status = timeout(PROCESS_TIMEOUT, child.wait())
            .await
            .expect("echo-server did not stop at end of input")
            .unwrap();
        (status, stderr.await.unwrap())
    }
}

/// Everything `stream` yields, as text, read in a task of its own.
fn collect(mut stream: impl AsyncRead + Unpin + Send + 'static) -> JoinHandle<String> {
    tokio::spawn(async move {
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text).await;
        text
    })
}

/// Send `lines` one at a time, expecting each echoed back; then half-close
/// and expect end of file.
async fn exchange(stream: impl AsyncRead + AsyncWrite + Unpin, lines: &[&str]) {
    let (read, mut write) = tokio::io::split(stream);
    let mut replies = BufReader::new(read).lines();
    for line in lines {
        write
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        let reply = replies.next_line().await.unwrap();
        assert_eq!(reply.as_deref(), Some(*line));
    }
    write.shutdown().await.unwrap();
    assert_eq!(replies.next_line().await.unwrap(), None);
}

/// Run `command` with `input` on its standard input (closed after it);
/// what it printed and how it exited.
async fn run_with_input(mut command: Command, input: Vec<u8>) -> Output {
    let mut child = command.spawn().expect("start the command");
    let mut stdin = child.stdin.take().unwrap();
    let feeding = tokio::spawn(async move {
        // The command may exit (on an error) without reading it all.
        let _ = stdin.write_all(&input).await;
    });
    let output = timeout(PROCESS_TIMEOUT, child.wait_with_output())
        .await
        .expect("the command did not finish in time")
        .unwrap();
    feeding.await.unwrap();
    output
}

/// Lines of many lengths holding every byte value but `\n`, and a last
/// line without one: about 300 KB.
fn varied_input() -> Vec<u8> {
    let mut input = Vec::new();
    for n in 0..1200usize {
        input.extend((0..n % 500).map(|i| match ((i * 7 + n) % 256) as u8 {
            b'\n' => b'.',
            byte => byte,
        }));
        input.push(b'\n');
    }
    input.extend_from_slice(b"no newline at the end");
    input
}

fn stderr_text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `name` succeeded and wrote back exactly `input`, byte for byte.
fn assert_echoed(name: &str, output: &Output, input: &[u8]) {
    assert!(output.status.success(), "{name}: {}", stderr_text(output));
    assert_eq!(output.stdout.len(), input.len());
    assert!(
        output.stdout == input,
        "{name}'s output differs from its input"
    );
}

async fn stock_cli_runs_echo_server_for_native_clients_until_its_input_ends() {
    within(async {
        let args = ["--listen", "127.0.0.1:0", "--stop-on-eof"];
        let mut server = EchoServer::spawn(stock_cli("echo-server.wasm", &args));
        let address = server.listening_on().await;
        assert!(address.starts_with("127.0.0.1:"), "{address}");

        let first = TcpStream::connect(&address).await.unwrap();
        let second = TcpStream::connect(&address).await.unwrap();
        tokio::join!(
            exchange(first, &["hello from the first client", "", "bye"]),
            exchange(second, &["the second client", "\tand its tab"]),
        );

        let (status, stderr) = server.stop().await;
        assert!(status.success(), "echo-server: {status}\n{stderr}");
    })
    .await;
}

async fn stock_cli_runs_echo_server_in_the_background_until_it_is_killed() {
    within(async {
        // As a script starts it with `&`: no terminal, input at its end.
        let mut command = stock_cli("echo-server.wasm", &["--listen", "127.0.0.1:0"]);
        command.stdin(Stdio::null());
        let mut child = command.spawn().expect("start echo-server");
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let stderr = collect(child.stderr.take().unwrap());
        let line = timeout(PROCESS_TIMEOUT, stdout.next_line())
            .await
            .expect("echo-server announced nothing in time")
            .unwrap()
            .expect("echo-server exited before listening");
        let address = line.strip_prefix("listening on ").unwrap().to_owned();

        for client in ["the first client", "the second client"] {
            let stream = TcpStream::connect(&address).await.unwrap();
            exchange(stream, &[client, "bye"]).await;
        }
        let running = child.try_wait().unwrap();
        assert!(running.is_none(), "echo-server exited: {running:?}");

        child.kill().await.unwrap();
        assert_eq!(stderr.await.unwrap(), "");
    })
    .await;
}

async fn stock_cli_runs_wcat_byte_exact_through_a_native_echo_server() {
    within(async {
        let address = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let port = address.port().to_string();
        let input = varied_input();
        let output =
            run_with_input(stock_cli("wcat.wasm", &["127.0.0.1", &port]), input.clone()).await;
        assert_echoed("wcat", &output, &input);
    })
    .await;
}

async fn stock_cli_wcat_reports_a_refused_connection_in_one_line() {
    within(async {
        let port = closed_port().await.to_string();
        let output =
            run_with_input(stock_cli("wcat.wasm", &["127.0.0.1", &port]), Vec::new()).await;
        assert_eq!(output.status.code(), Some(1), "{}", stderr_text(&output));
        assert!(output.stdout.is_empty());
        assert_eq!(
            stderr_text(&output),
            format!("wcat: cannot connect to 127.0.0.1:{port}: connection refused\n")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasio_run_runs_echo_server_on_a_unix_socket_and_removes_it() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("echo.sock");
        let socket_arg = socket.to_str().unwrap();
        let mut server = EchoServer::spawn(wasio_run(
            dir.path(),
            "echo-server-unix.wasm",
            &["--unix", socket_arg, "--stop-on-eof"],
        ));
        assert_eq!(server.listening_on().await, socket_arg);

        let first = UnixStream::connect(&socket).await.unwrap();
        let second = UnixStream::connect(&socket).await.unwrap();
        tokio::join!(
            exchange(first, &["over a unix socket", "bye"]),
            exchange(second, &["a second client"]),
        );

        let (status, stderr) = server.stop().await;
        assert!(status.success(), "echo-server-unix: {status}\n{stderr}");
        assert!(!socket.exists(), "the socket file is left behind");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasio_run_runs_wcat_byte_exact_through_a_native_unix_echo_server() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("peer.sock");
        peers::unix(&socket, Behaviour::LineEcho).await.unwrap();
        let input = varied_input();
        let command = wasio_run(
            dir.path(),
            "wcat-unix.wasm",
            &["--unix", socket.to_str().unwrap()],
        );
        let output = run_with_input(command, input.clone()).await;
        assert_echoed("wcat-unix", &output, &input);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasio_run_denies_wcat_a_unix_socket_outside_the_policy() {
    within(async {
        let allowed = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let socket = elsewhere.path().join("peer.sock");
        peers::unix(&socket, Behaviour::LineEcho).await.unwrap();
        let socket_arg = socket.to_str().unwrap();
        let command = wasio_run(allowed.path(), "wcat-unix.wasm", &["--unix", socket_arg]);
        let output = run_with_input(command, b"not sent\n".to_vec()).await;
        assert_eq!(output.status.code(), Some(1), "{}", stderr_text(&output));
        assert!(output.stdout.is_empty());
        let message = format!("wcat: cannot connect to {socket_arg}: access denied");
        assert!(
            stderr_text(&output).lines().any(|line| line == message),
            "no line {message:?} in:\n{}",
            stderr_text(&output)
        );
    })
    .await;
}

/// Clients of the crowd tests, all connected before any of them sends:
/// past 128 of them, the 48.0.2 CLI's WASI 0.2 sockets stalled.
const CROWD: usize = 1000;
/// Lines each client of a crowd exchanges, one at a time.
const CROWD_LINES: usize = 5;

/// echo-server's arguments for a crowd: a listen queue that takes it all.
const CROWD_ARGS: [&str; 5] = [
    "--listen",
    "127.0.0.1:0",
    "--backlog",
    "1024",
    "--stop-on-eof",
];

/// [`CROWD`] native clients connect to the echo-server `command` starts,
/// all at once; then each sends [`CROWD_LINES`] lines, expecting each
/// back, and half-closes, expecting end of file. Every client is served,
/// and the server stops cleanly at the end of its input.
async fn crowd_is_served_by(command: Command) {
    crowd_is_served_after(command, "").await;
}

/// [`crowd_is_served_by`] with `greeting` sent first on each connection.
async fn crowd_is_served_after(command: Command, greeting: &'static str) {
    let mut server = EchoServer::spawn(command);
    let address = server.listening_on().await;
    let mut connecting = JoinSet::new();
    for _ in 0..CROWD {
        let address = address.clone();
        connecting.spawn(async move { TcpStream::connect(address).await });
    }
    let mut talking = JoinSet::new();
    let mut client = 0;
    while let Some(connected) = connecting.join_next().await {
        let stream = connected.unwrap().expect("a client connects");
        client += 1;
        talking.spawn(async move {
            let mut stream = stream;
            stream.write_all(greeting.as_bytes()).await.unwrap();
            let lines: Vec<String> = (0..CROWD_LINES)
                .map(|n| format!("client {client} line {n}"))
                .collect();
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            exchange(stream, &lines).await;
        });
    }
    let mut served = 0;
    while let Some(done) = talking.join_next().await {
        done.expect("a client's exchange");
        served += 1;
    }
    assert_eq!(served, CROWD);
    let (status, stderr) = server.stop().await;
    assert!(status.success(), "echo-server: {status}\n{stderr}");
}

async fn stock_cli_serves_a_thousand_clients_at_once() {
    within(crowd_is_served_by(stock_cli(
        "echo-server.wasm",
        &CROWD_ARGS,
    )))
    .await;
}

async fn wasio_run_serves_a_thousand_clients_at_once() {
    let dir = tempfile::tempdir().unwrap();
    within(crowd_is_served_by(wasio_run_with(
        dir.path(),
        &["--allow-listen", "127.0.0.1:*"],
        "echo-server.wasm",
        &CROWD_ARGS,
    )))
    .await;
}

/// Clients of the limit test, and the connections `wasio run` allows
/// echo-server (its listener counts as one).
const OVER_LIMIT_CLIENTS: usize = 300;
const CONNECTION_LIMIT: usize = 200;

/// How one client of the limit test fared.
#[derive(Debug, PartialEq, Eq)]
enum Fate {
    Served,
    Refused,
}

/// Send a line on `stream`: echoed, or closed by the host unanswered.
async fn fate(stream: &mut TcpStream, line: &str) -> Fate {
    stream.write_all(line.as_bytes()).await.unwrap();
    let mut reply = vec![0; line.len()];
    match stream.read_exact(&mut reply).await {
        Ok(_) => {
            assert_eq!(reply, line.as_bytes());
            Fate::Served
        }
        Err(error) => {
            assert!(
                matches!(
                    error.kind(),
                    std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
                ),
                "a refused client sees end of file or a reset, not {error}"
            );
            Fate::Refused
        }
    }
}

/// Under `wasio run --max-connections`, a crowd larger than the limit:
/// every client within it is served, every one past it is closed at once
/// (its accept failed in the guest), and none of the served stalls. All
/// stay connected until every fate is known.
async fn wasio_run_refuses_only_the_clients_past_its_connection_limit() {
    let dir = tempfile::tempdir().unwrap();
    let limit = (CONNECTION_LIMIT + 1).to_string();
    let mut server = EchoServer::spawn(wasio_run_with(
        dir.path(),
        &["--allow-listen", "127.0.0.1:*", "--max-connections", &limit],
        "echo-server.wasm",
        &CROWD_ARGS,
    ));
    let address = server.listening_on().await;
    let mut clients = Vec::new();
    for _ in 0..OVER_LIMIT_CLIENTS {
        clients.push(TcpStream::connect(&address).await.unwrap());
    }
    let everyone = wasio_tests::load::Signal::default();
    let (told, mut fates_told) = tokio::sync::mpsc::unbounded_channel();
    let mut talking = JoinSet::new();
    for (n, mut stream) in clients.into_iter().enumerate() {
        let (everyone, told) = (everyone.clone(), told.clone());
        talking.spawn(async move {
            told.send(fate(&mut stream, &format!("client {n}\n")).await)
                .unwrap();
            everyone.wait().await;
        });
    }
    let mut fates = Vec::new();
    while fates.len() < OVER_LIMIT_CLIENTS {
        fates.push(
            fates_told
                .recv()
                .await
                .expect("every client tells its fate"),
        );
    }
    everyone.set();
    while let Some(done) = talking.join_next().await {
        done.unwrap();
    }
    let served = fates.iter().filter(|f| **f == Fate::Served).count();
    assert_eq!(
        (served, fates.len() - served),
        (CONNECTION_LIMIT, OVER_LIMIT_CLIENTS - CONNECTION_LIMIT)
    );
    let (status, stderr) = server.stop().await;
    assert!(status.success(), "echo-server: {status}\n{stderr}");
}

/// Open files `wasio run` gets in the descriptor test: its own (the
/// engine, the cache, standard I/O) and a few dozen clients, fewer than
/// [`OVER_LIMIT_CLIENTS`].
const OPEN_FILES: &str = "--nofile=128";

/// How long a client of the descriptor test waits to tell served from
/// waiting.
const WAITING: std::time::Duration = std::time::Duration::from_secs(2);

/// `wasio run` of echo-server with too few file descriptors for a crowd:
/// the clients it can take are served at once; the rest wait in the
/// listen queue (the guest's accept fails with `new-socket-limit`, as
/// asyncio's does with `EMFILE`) and are served, every one, once the
/// first have left. Nobody stalls and the server stays up.
async fn wasio_run_out_of_descriptors_serves_the_rest_once_some_leave() {
    let mut command = Command::new("prlimit");
    command
        .arg(OPEN_FILES)
        .arg("--")
        .arg(made_by("target/debug/wasio", "make build"))
        .args(["run", "--allow-listen", "127.0.0.1:*"])
        .arg(made_by(
            &format!("dist/{}", dist_command("echo-server.wasm")),
            "make build",
        ))
        .args(CROWD_ARGS);
    let stderr = out_of_descriptors_serves_the_rest_once_some_leave(command).await;
    if !wasio_tests::running_on_wasi_0_3() {
        assert!(
            stderr
                .contains("accepting a client failed: connection limit reached (new-socket-limit)"),
            "{stderr}"
        );
    }
}

/// The same under the stock CLI, whose WASI 0.2 accept reports the
/// exhaustion as `unknown`.
async fn stock_cli_out_of_descriptors_serves_the_rest_once_some_leave() {
    let mut command = Command::new("prlimit");
    command
        .arg(OPEN_FILES)
        .arg("--")
        .arg(made_by(".tools/bin/wasmtime", "make setup"))
        .args(["run", "-S", "inherit-network"])
        .arg(made_by(
            &format!("dist/{}", dist_command("echo-server.wasm")),
            "make build",
        ))
        .args(CROWD_ARGS);
    out_of_descriptors_serves_the_rest_once_some_leave(command).await;
}

/// Run the echo-server `command` starts with too few file descriptors
/// (see [`wasio_run_out_of_descriptors_serves_the_rest_once_some_leave`]);
/// its standard error.
async fn out_of_descriptors_serves_the_rest_once_some_leave(command: Command) -> String {
    let mut server = EchoServer::spawn(piped(command));
    let address = server.listening_on().await;
    let mut served = Vec::new();
    let mut waiting = Vec::new();
    for n in 0..OVER_LIMIT_CLIENTS {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        let line = format!("client {n}\n");
        stream.write_all(line.as_bytes()).await.unwrap();
        let mut reply = vec![0; line.len()];
        match timeout(WAITING, stream.read_exact(&mut reply)).await {
            Ok(read) => {
                read.expect("a served client's echo");
                assert_eq!(reply, line.as_bytes());
                served.push(stream);
            }
            Err(_) => waiting.push((stream, line)),
        }
        if waiting.len() == 3 {
            break;
        }
    }
    assert!(
        !served.is_empty() && waiting.len() == 3,
        "{} served",
        served.len()
    );
    drop(served);
    for (mut stream, line) in waiting {
        let mut reply = vec![0; line.len()];
        timeout(PROCESS_TIMEOUT, stream.read_exact(&mut reply))
            .await
            .expect("a waiting client is served once others leave")
            .unwrap();
        assert_eq!(reply, line.as_bytes());
    }
    let (status, stderr) = server.stop().await;
    assert!(status.success(), "echo-server: {status}\n{stderr}");
    stderr
}

/// `bench/consumer` plugged into `wasio-tcp.wasm`, as `make build` leaves
/// it for this test: a consumer with its own poll loop over wasio's
/// non-blocking forms, across the component boundary.
fn composed_consumer() -> String {
    made_by(
        "target/wasm32-wasip2/component/bench-composed-tcp.wasm",
        "make build",
    )
    .to_string_lossy()
    .into_owned()
}

/// The composed consumer serves a crowd in the benchmark's echo mode
/// (its first line, `echo`, picks it) under `command`.
async fn composed_consumer_serves_a_crowd(command: Command) {
    within(crowd_is_served_after(command, "echo\n")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_cli_composed_consumer_serves_a_thousand_clients_at_once() {
    let mut command = Command::new(made_by(".tools/bin/wasmtime", "make setup"));
    command
        .args(["run", "-S", "inherit-network"])
        .arg(composed_consumer())
        .args(["--listen", "127.0.0.1:0"]);
    composed_consumer_serves_a_crowd(piped(command)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasio_run_composed_consumer_serves_a_thousand_clients_at_once() {
    let mut command = Command::new(made_by("target/debug/wasio", "make build"));
    command
        .args(["run", "--allow-listen", "127.0.0.1:*"])
        .arg(composed_consumer())
        .args(["--listen", "127.0.0.1:0"]);
    composed_consumer_serves_a_crowd(piped(command)).await;
}

on_wasi_0_2_and_0_3! {
    stock_cli_runs_echo_server_for_native_clients_until_its_input_ends => stock_cli_runs_echo_server_for_native_clients_until_its_input_ends;
    stock_cli_runs_echo_server_in_the_background_until_it_is_killed => stock_cli_runs_echo_server_in_the_background_until_it_is_killed;
    stock_cli_runs_wcat_byte_exact_through_a_native_echo_server => stock_cli_runs_wcat_byte_exact_through_a_native_echo_server;
    stock_cli_wcat_reports_a_refused_connection_in_one_line => stock_cli_wcat_reports_a_refused_connection_in_one_line;
    stock_cli_serves_a_thousand_clients_at_once => stock_cli_serves_a_thousand_clients_at_once;
    wasio_run_serves_a_thousand_clients_at_once => wasio_run_serves_a_thousand_clients_at_once;
    wasio_run_refuses_only_the_clients_past_its_connection_limit => wasio_run_refuses_only_the_clients_past_its_connection_limit;
    wasio_run_out_of_descriptors_serves_the_rest_once_some_leave => wasio_run_out_of_descriptors_serves_the_rest_once_some_leave;
    stock_cli_out_of_descriptors_serves_the_rest_once_some_leave => stock_cli_out_of_descriptors_serves_the_rest_once_some_leave;
}

//! Python's asyncio on wasio: the programs in `python/examples`, written
//! against stock asyncio only, run under native CPython and inside the
//! component `scripts/build-python.sh` builds with componentize-py
//! (`dist/python-asyncio.wasm` under the stock `wasmtime` CLI,
//! `dist/python-asyncio-unix.wasm` under `wasio run`), talking to native
//! CPython peers and to each other; and CPython's `test_streams.py` cases
//! ported in `python/tests` pass in both.
//!
//! Over WASI 0.3: `python/examples/echo_client_p3.py` in
//! `dist/python-asyncio-p3.wasm` (world `wasio:python/asyncio-p3`, which
//! awaits `wasio:streams@0.2.0`'s async funcs from an async
//! `wasi:cli/run@0.3.2`, plugged into `wasio-p3.wasm`) under the stock CLI
//! prints the same session as under CPython, against a native line-echo
//! peer.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdout, Command};
use tokio::task::JoinHandle;
use tokio::time::timeout;
use wasio_tests::peers::{self, Behaviour};
use wasio_tests::{ComponentWorld, closed_port, made_by};

/// How long one test may take: a first run compiles the 20 MB component.
const DEADLINE: Duration = Duration::from_secs(600);

/// How many clients the echo tests run at once.
const CLIENTS: &str = "50";

/// Lines per client: with sizes up to 60,000 bytes, about 1 MB a client.
const LINES: &str = "24";

fn python_dir(relative: &str) -> PathBuf {
    made_by(&format!("python/{relative}"), "git checkout")
}

/// Native CPython running `python/examples/SCRIPT` (or a test) with `args`.
fn cpython(script: &str, args: &[&str]) -> Command {
    let mut command = Command::new("python3");
    command.arg(python_dir(script)).args(args);
    piped(command)
}

/// `wasmtime run -S inherit-network dist/python-asyncio.wasm MODULE ARGS...`.
fn stock_cli(module: &str, args: &[&str]) -> Command {
    let mut command = Command::new(made_by(".tools/bin/wasmtime", "make setup"));
    command
        .args(["run", "-S", "inherit-network"])
        .arg(made_by("dist/python-asyncio.wasm", "make build"))
        .arg(module)
        .args(args);
    piped(command)
}

/// `wasio run` of `dist/python-asyncio-unix.wasm` with loopback TCP and
/// Unix sockets in `unix_dir` allowed.
fn wasio_run(unix_dir: &Path, module: &str, args: &[&str]) -> Command {
    let mut command = Command::new(made_by("target/debug/wasio", "make build"));
    command
        .arg("run")
        .args([
            "--allow-connect",
            "127.0.0.1:*",
            "--allow-listen",
            "127.0.0.1:*",
        ])
        .arg("--allow-unix")
        .arg(unix_dir)
        .args(["--max-memory", "1G"])
        .arg(made_by("dist/python-asyncio-unix.wasm", "make build"))
        .arg(module)
        .args(args);
    piped(command)
}

/// `wasmtime run -S inherit-network dist/python-asyncio-p3.wasm
/// echo_client_p3 ARGS...`: the WASI 0.3 component.
fn stock_cli_p3(args: &[&str]) -> Command {
    let mut command = Command::new(made_by(".tools/bin/wasmtime", "make setup"));
    command
        .args(["run", "-S", "inherit-network"])
        .arg(made_by("dist/python-asyncio-p3.wasm", "make build"))
        .arg("echo_client_p3")
        .args(args);
    piped(command)
}

fn piped(mut command: Command) -> Command {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("RUST_BACKTRACE", "0")
        .kill_on_drop(true);
    command
}

/// A running echo_server: its announcements, and its stderr as it goes.
struct Server {
    child: Child,
    stdout: tokio::io::Lines<BufReader<ChildStdout>>,
    stderr: JoinHandle<String>,
}

impl Server {
    fn spawn(mut command: Command) -> Self {
        let mut child = command.spawn().expect("start echo_server");
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let stderr = collect(child.stderr.take().unwrap());
        Server {
            child,
            stdout,
            stderr,
        }
    }

    /// The next line it prints.
    async fn next_line(&mut self) -> String {
        match timeout(DEADLINE, self.stdout.next_line()).await {
            Ok(Ok(Some(line))) => line,
            _ => {
                let _ = self.child.start_kill();
                let stderr =
                    std::mem::replace(&mut self.stderr, tokio::spawn(async { String::new() }));
                panic!(
                    "echo_server printed nothing more; stderr:\n{}",
                    stderr.await.unwrap()
                );
            }
        }
    }

    /// The address of its next `listening on ADDR` line.
    async fn listening_on(&mut self) -> String {
        let line = self.next_line().await;
        line.strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected announcement {line:?}"))
            .to_owned()
    }

    /// Wait for it to exit after a client sent QUIT; its last line.
    async fn finish(self) -> String {
        self.finish_logged().await.0
    }

    /// [`finish`](Self::finish), with what it wrote on standard error.
    async fn finish_logged(mut self) -> (String, String) {
        let last = self.next_line().await;
        let status = timeout(DEADLINE, self.child.wait())
            .await
            .expect("echo_server did not exit after QUIT")
            .unwrap();
        let stderr = self.stderr.await.unwrap();
        assert!(status.success(), "echo_server: {status}\n{stderr}");
        (last, stderr)
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

/// Run `command` to its end: exit status, stdout, stderr.
async fn run(mut command: Command) -> (ExitStatus, String, String) {
    let child = command.spawn().expect("start the program");
    let output = timeout(DEADLINE, child.wait_with_output())
        .await
        .expect("the program did not finish in time")
        .unwrap();
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// echo_client reported every line of every client echoed intact.
fn assert_clients_ok((status, stdout, stderr): (ExitStatus, String, String)) {
    let expected = format!("ok: {CLIENTS} clients, ");
    assert!(
        status.success() && stdout.starts_with(&expected),
        "echo_client: {status}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
}

fn host_port(address: &str) -> (&str, &str) {
    address.rsplit_once(':').expect("HOST:PORT")
}

/// The client arguments for `address` (HOST:PORT or a Unix path).
fn client_args(address: &str) -> Vec<&str> {
    let mut args = if address.starts_with('/') {
        vec!["--unix", address]
    } else {
        let (host, port) = host_port(address);
        vec![host, port]
    };
    args.extend(["--clients", CLIENTS, "--lines", LINES, "--quit"]);
    args
}

/// Serve `CLIENTS` clients from `client` and check the server's count.
async fn serve_and_check(mut server: Server, client: impl FnOnce(&str) -> Command) {
    let address = server.listening_on().await;
    assert_clients_ok(run(client(&address)).await);
    let served = format!("served {} clients, ", CLIENTS.parse::<u32>().unwrap() + 1);
    let last = server.finish().await;
    assert!(last.starts_with(&served), "echo_server said {last:?}");
}

async fn within(body: impl Future<Output = ()>) {
    timeout(DEADLINE, body)
        .await
        .expect("the test hung: it ran past its deadline");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpython_runs_the_examples_unchanged() {
    within(async {
        let server = Server::spawn(cpython("examples/echo_server.py", &["--port", "0"]));
        serve_and_check(server, |address| {
            cpython("examples/echo_client.py", &client_args(address))
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpython_passes_the_ported_test_streams() {
    within(async {
        let (status, stdout, stderr) = run(cpython("tests/test_streams.py", &[])).await;
        assert!(status.success(), "{stdout}\n{stderr}");
        assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_cli_python_server_serves_native_cpython_clients() {
    within(async {
        let server = Server::spawn(stock_cli("echo_server", &["--port", "0"]));
        serve_and_check(server, |address| {
            cpython("examples/echo_client.py", &client_args(address))
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_cli_python_clients_talk_to_a_native_cpython_server() {
    within(async {
        let server = Server::spawn(cpython("examples/echo_server.py", &["--port", "0"]));
        serve_and_check(server, |address| {
            stock_cli("echo_client", &client_args(address))
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_cli_python_components_talk_to_each_other() {
    within(async {
        let server = Server::spawn(stock_cli("echo_server", &["--port", "0"]));
        serve_and_check(server, |address| {
            stock_cli("echo_client", &client_args(address))
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_cli_passes_the_ported_test_streams() {
    within(async {
        let (status, stdout, stderr) = run(stock_cli("test_streams", &[])).await;
        assert!(status.success(), "{stdout}\n{stderr}");
        // The Unix case needs the wasio host: skipped here.
        assert!(stdout.contains(" passed, 0 failed"), "{stdout}\n{stderr}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasio_run_python_server_serves_native_cpython_clients_over_unix() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("echo.sock");
        let socket = socket.to_str().unwrap();
        let server = Server::spawn(wasio_run(dir.path(), "echo_server", &["--unix", socket]));
        serve_and_check(server, |address| {
            cpython("examples/echo_client.py", &client_args(address))
        })
        .await;
        assert!(
            !Path::new(socket).exists(),
            "the socket file is left behind"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasio_run_python_components_talk_over_unix_and_tcp() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("echo.sock");
        let socket = socket.to_str().unwrap();
        // One server on both; a component client over Unix, then over TCP.
        let mut server = Server::spawn(wasio_run(
            dir.path(),
            "echo_server",
            &["--port", "0", "--unix", socket],
        ));
        let tcp = server.listening_on().await;
        assert_eq!(server.listening_on().await, socket);
        let mut unix_args = client_args(socket);
        unix_args.retain(|arg| *arg != "--quit");
        assert_clients_ok(run(wasio_run(dir.path(), "echo_client", &unix_args)).await);
        assert_clients_ok(run(wasio_run(dir.path(), "echo_client", &client_args(&tcp))).await);
        let last = server.finish().await;
        let served = format!(
            "served {} clients, ",
            2 * CLIENTS.parse::<u32>().unwrap() + 1
        );
        assert!(last.starts_with(&served), "echo_server said {last:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasio_run_passes_the_ported_test_streams_with_unix_sockets() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let unix_dir = dir.path().to_str().unwrap();
        let (status, stdout, stderr) = run(wasio_run(
            dir.path(),
            "test_streams",
            &["--unix-dir", unix_dir],
        ))
        .await;
        assert!(status.success(), "{stdout}\n{stderr}");
        assert!(
            stdout.contains(" passed, 0 failed, 0 skipped"),
            "{stdout}\n{stderr}"
        );
    })
    .await;
}

/// Connections the crowd tests hold open at once: a thousand, each
/// exchanging a few short lines and then seeing its peer's end of file.
const CROWD: &str = "1000";

/// echo_client's arguments for a crowd at `address`: every client
/// connected before any sends, short lines, then `QUIT`.
fn crowd_args(address: &str) -> Vec<&str> {
    let (host, port) = host_port(address);
    vec![
        host,
        port,
        "--clients",
        CROWD,
        "--lines",
        "3",
        "--max-size",
        "100",
        "--together",
        "--quit",
    ]
}

/// echo_server's arguments for a crowd: a backlog that takes it at once.
const CROWD_SERVER: [&str; 4] = ["--port", "0", "--backlog", "1024"];

/// A crowd from `client` served by `server`; both report every line and
/// every client (and the server, the `QUIT` connection too).
async fn serve_crowd(mut server: Server, client: impl FnOnce(&str) -> Command) {
    let address = server.listening_on().await;
    let (status, stdout, stderr) = run(client(&address)).await;
    let expected = format!("ok: {CROWD} clients, ");
    assert!(
        status.success() && stdout.starts_with(&expected),
        "echo_client: {status}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let served = format!("served {} clients, ", CROWD.parse::<u32>().unwrap() + 1);
    let last = server.finish().await;
    assert!(last.starts_with(&served), "echo_server said {last:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_cli_python_server_holds_a_thousand_cpython_clients_at_once() {
    within(serve_crowd(
        Server::spawn(stock_cli("echo_server", &CROWD_SERVER)),
        |address| cpython("examples/echo_client.py", &crowd_args(address)),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_cli_python_client_holds_a_thousand_connections_at_once() {
    within(serve_crowd(
        Server::spawn(cpython("examples/echo_server.py", &CROWD_SERVER)),
        |address| stock_cli("echo_client", &crowd_args(address)),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasio_run_python_server_holds_a_thousand_cpython_clients_at_once() {
    let dir = tempfile::tempdir().unwrap();
    within(serve_crowd(
        Server::spawn(wasio_run(dir.path(), "echo_server", &CROWD_SERVER)),
        |address| cpython("examples/echo_client.py", &crowd_args(address)),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasio_run_python_client_holds_a_thousand_connections_at_once() {
    let dir = tempfile::tempdir().unwrap();
    within(serve_crowd(
        Server::spawn(cpython("examples/echo_server.py", &CROWD_SERVER)),
        |address| wasio_run(dir.path(), "echo_client", &crowd_args(address)),
    ))
    .await;
}

/// How long a client of the descriptor test waits to tell served from
/// waiting.
const WAITING: Duration = Duration::from_secs(2);

/// Send `line` on `stream` and expect it back within `limit`: `false` if
/// nothing came back in time.
async fn echoed_within(stream: &mut TcpStream, line: &str, limit: Duration) -> bool {
    stream.write_all(line.as_bytes()).await.unwrap();
    let mut reply = vec![0; line.len()];
    match timeout(limit, stream.read_exact(&mut reply)).await {
        Ok(read) => {
            read.expect("an echo");
            assert_eq!(reply, line.as_bytes());
            true
        }
        Err(_) => false,
    }
}

/// The Python server under `wasio run` with too few file descriptors for
/// its clients: those it can take are served; the accept of the next one
/// fails (`new-socket-limit`), which asyncio's server reports and retries
/// after asyncio's `ACCEPT_RETRY_DELAY` (1 s) rather than at once, so the
/// report comes about once a second, not thousands of times; the clients
/// left in the listen queue are all served once others leave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasio_run_python_server_out_of_descriptors_retries_after_a_pause() {
    within(async {
        let mut command = Command::new("prlimit");
        command
            .args(["--nofile=256", "--"])
            .arg(made_by("target/debug/wasio", "make build"))
            .args(["run", "--allow-listen", "127.0.0.1:*", "--max-memory", "1G"])
            .arg(made_by("dist/python-asyncio-unix.wasm", "make build"))
            .args(["echo_server", "--port", "0", "--backlog", "1024"]);
        let mut server = Server::spawn(piped(command));
        let address = server.listening_on().await;
        let mut served = Vec::new();
        let mut waiting = Vec::new();
        for n in 0..1000 {
            let mut stream = TcpStream::connect(&address).await.unwrap();
            let line = format!("client {n}\n");
            if echoed_within(&mut stream, &line, WAITING).await {
                served.push(stream);
            } else {
                waiting.push((stream, line));
                if waiting.len() == 3 {
                    break;
                }
            }
        }
        assert_eq!(waiting.len(), 3, "{} served, none waiting", served.len());
        let clients = served.len() + waiting.len();
        drop(served);
        for (mut stream, line) in waiting {
            let mut reply = vec![0; line.len()];
            timeout(DEADLINE, stream.read_exact(&mut reply))
                .await
                .expect("a waiting client is served once others leave")
                .unwrap();
            assert_eq!(reply, line.as_bytes());
        }
        let mut quit = TcpStream::connect(&address).await.unwrap();
        quit.write_all(b"QUIT\n").await.unwrap();
        let mut bye = [0; 4];
        timeout(DEADLINE, quit.read_exact(&mut bye))
            .await
            .expect("QUIT answered")
            .unwrap();
        assert_eq!(&bye, b"BYE\n");
        let (last, stderr) = server.finish_logged().await;
        assert!(
            last.starts_with(&format!("served {} clients, ", clients + 1)),
            "echo_server said {last:?}"
        );
        let reports = stderr.matches("accepting a connection failed").count();
        assert!(
            (1..=20).contains(&reports),
            "{reports} reports of a failed accept:\n{stderr}"
        );
    })
    .await;
}

/// What `echo_client_p3` prints for its session with a line-echo peer,
/// under CPython's asyncio and over wasio's WASI 0.3 contract alike.
const P3_SESSION: &str = concat!(
    "readline: b'first line\\n'\n",
    "readline: b'second line\\n'\n",
    "readuntil: b'key='\n",
    "readuntil: b'value;'\n",
    "readexactly: b'1234'\n",
    "readline: b'5678\\n'\n",
    "readuntil: LimitOverrunError, consumed 200\n",
    "readexactly: skipped 201 bytes\n",
    "readline: b'after\\n'\n",
    "gather(readline, drain): b'together\\n'\n",
    "read(-1): b'last words\\n'\n",
    "at_eof: True\n",
    "readexactly: IncompleteReadError, partial b'', expected 4\n",
    "closed\n",
);

/// Run the command `command` makes for a native line-echo peer's port;
/// assert it printed `P3_SESSION` and nothing on stderr.
async fn assert_p3_session(command: impl FnOnce(&str) -> Command) {
    let peer = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
    let (status, stdout, stderr) = run(command(&peer.port().to_string())).await;
    assert!(
        status.success(),
        "echo_client_p3: {status}\n{stdout}\n{stderr}"
    );
    assert_eq!(stdout, P3_SESSION);
    assert_eq!(stderr, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpython_runs_the_p3_session_on_asyncio() {
    within(assert_p3_session(|port| {
        cpython("examples/echo_client_p3.py", &["127.0.0.1", port])
    }))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_cli_python_p3_client_awaits_every_call_of_its_session() {
    within(assert_p3_session(|port| stock_cli_p3(&["127.0.0.1", port]))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_cli_python_p3_client_reports_a_refused_connection_in_one_line() {
    within(async {
        let port = closed_port().await.to_string();
        let (status, stdout, stderr) = run(stock_cli_p3(&["127.0.0.1", &port])).await;
        assert!(!status.success(), "{stdout}");
        assert_eq!(stdout, "");
        assert_eq!(
            stderr,
            format!(
                "echo_client_p3: cannot connect to 127.0.0.1:{port}: \
                 ConnectionRefusedError: Connection refused\n"
            )
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_p3_component_imports_only_wasi_and_exports_the_0_3_run() {
    within(async {
        let world = ComponentWorld::of(&made_by("dist/python-asyncio-p3.wasm", "make build"));
        world.assert_imports_only_wasi_with("wasi:sockets/types@0.3.2");
        assert_eq!(world.exports, ["wasi:cli/run@0.3.2"]);
    })
    .await;
}

//! The example commands under the wasio host, in-process: echo-server
//! serving native clients over TCP (IPv4, IPv6, by name) and Unix, many at
//! once; wcat copying between its standard streams and a native server.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, DuplexStream};
use tokio::net::{TcpStream, UnixStream};
use tokio::task::JoinHandle;
use wasio_host::{Host, Output, RunOptions, Stdin};
use wasio_tests::peers::{self, Behaviour};
use wasio_tests::stdio::{Capture, stdin_pipe};
use wasio_tests::{artifact, closed_port, loopback_host, within};

use crate::support::on_wasi_0_2_and_0_3;

/// A running echo-server: the addresses it announced, its input (closing
/// it stops the server) and its exit code to come.
struct EchoServer {
    addresses: Vec<String>,
    stdin: DuplexStream,
    stderr: Capture,
    exit: JoinHandle<i32>,
}

/// Start echo-server with `args` and `--stop-on-eof`, and wait until it has
/// announced `expected_addresses` addresses.
async fn echo_server(host: &Host, args: &[&str], expected_addresses: usize) -> EchoServer {
    let program = host
        .load(artifact("echo-server.wasm"))
        .expect("load echo-server");
    let (stdin, input) = stdin_pipe();
    let stdout = Capture::new();
    let stderr = Capture::new();
    let mut argv = vec!["echo-server".to_owned(), "--stop-on-eof".to_owned()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let options = RunOptions {
        args: argv,
        stdin,
        stdout: stdout.output(),
        stderr: stderr.output(),
        ..RunOptions::default()
    };
    let exit = tokio::spawn(async move { program.run(&options).await.expect("echo-server ran") });
    let mut announced = Vec::new();
    let addresses = stdout
        .wait_for_line(|line| {
            if let Some(address) = line.strip_prefix("listening on ") {
                announced.push(address.to_owned());
            }
            (announced.len() == expected_addresses).then(|| announced.clone())
        })
        .await
        .unwrap_or_else(|| panic!("echo-server exited before listening: {}", stderr.text()));
    EchoServer {
        addresses,
        stdin: input,
        stderr,
        exit,
    }
}

impl EchoServer {
    /// Close its input and wait for a clean exit.
    async fn stop(self) -> Capture {
        drop(self.stdin);
        assert_eq!(
            self.exit.await.unwrap(),
            0,
            "echo-server failed: {}",
            self.stderr.text()
        );
        self.stderr
    }
}

/// Send `lines` and expect each back.
async fn exchange(stream: impl AsyncRead + AsyncWrite + Unpin, lines: &[String]) -> Vec<String> {
    let (read, mut write) = tokio::io::split(stream);
    let mut replies = BufReader::new(read).lines();
    let mut got = Vec::new();
    for line in lines {
        write
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        got.push(replies.next_line().await.unwrap().expect("a reply"));
    }
    write.shutdown().await.unwrap();
    assert_eq!(
        replies.next_line().await.unwrap(),
        None,
        "end of file after the last echo"
    );
    got
}

async fn echo_server_serves_a_hundred_native_clients_at_once() {
    within(async {
        let host = loopback_host(None);
        let server = echo_server(&host, &["--listen", "127.0.0.1:0"], 1).await;
        let address = server.addresses[0].clone();
        let clients: Vec<_> = (0..120)
            .map(|client| {
                let address = address.clone();
                tokio::spawn(async move {
                    let stream = TcpStream::connect(&address).await.unwrap();
                    let lines: Vec<String> = (0..10)
                        .map(|l| format!("client {client} line {l}"))
                        .collect();
                    assert_eq!(exchange(stream, &lines).await, lines);
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        server.stop().await;
    })
    .await;
}

async fn echo_server_listens_on_ipv6_and_on_every_address_of_a_name() {
    within(async {
        let host = loopback_host(None);
        let server = echo_server(&host, &["--listen", "[::1]:0"], 1).await;
        assert!(
            server.addresses[0].starts_with("[::1]:"),
            "{:?}",
            server.addresses
        );
        let stream = TcpStream::connect(&server.addresses[0]).await.unwrap();
        assert_eq!(exchange(stream, &["over ipv6".into()]).await, ["over ipv6"]);
        server.stop().await;

        // One socket per address the name resolves to (which ones depends
        // on the machine's hosts file).
        let mut resolved: Vec<_> = tokio::net::lookup_host("localhost:0")
            .await
            .unwrap()
            .map(|a| a.ip())
            .collect();
        resolved.sort();
        resolved.dedup();
        let server = echo_server(&host, &["--listen", "localhost:0"], resolved.len()).await;
        let mut bound: Vec<_> = server
            .addresses
            .iter()
            .map(|a| a.parse::<std::net::SocketAddr>().unwrap().ip())
            .collect();
        bound.sort();
        assert_eq!(bound, resolved);
        for address in &server.addresses {
            let stream = TcpStream::connect(address).await.unwrap();
            let echoed = exchange(stream, std::slice::from_ref(address)).await;
            assert_eq!(&echoed, std::slice::from_ref(address));
        }
        server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_server_over_unix_removes_its_socket_file() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("echo.sock");
        let host = loopback_host(Some(dir.path()));
        let path_arg = path.display().to_string();
        let server = echo_server(&host, &["--unix", &path_arg], 1).await;
        assert_eq!(server.addresses, std::slice::from_ref(&path_arg));
        let stream = UnixStream::connect(&path).await.unwrap();
        assert_eq!(exchange(stream, &["over unix".into()]).await, ["over unix"]);
        server.stop().await;
        assert!(!path.exists());
    })
    .await;
}

async fn an_over_long_line_is_discarded_for_that_client_only() {
    within(async {
        let host = loopback_host(None);
        let server = echo_server(&host, &["--listen", "127.0.0.1:0", "--limit", "32"], 1).await;
        let address = server.addresses[0].clone();
        let steady = TcpStream::connect(&address).await.unwrap();
        let (steady_read, mut steady_write) = steady.into_split();
        let mut steady_lines = BufReader::new(steady_read).lines();

        let long = "x".repeat(10_000);
        let stream = TcpStream::connect(&address).await.unwrap();
        let replies = exchange(stream, &["short".into(), long, "after".into()]).await;
        assert_eq!(
            replies,
            ["short", "error: line longer than 32 bytes", "after"]
        );

        steady_write.write_all(b"still here\n").await.unwrap();
        let reply = steady_lines.next_line().await.unwrap();
        assert_eq!(reply.as_deref(), Some("still here"));
        drop(steady_write);
        let stderr = server.stop().await;
        assert!(
            stderr
                .text()
                .contains("line longer than 32 bytes discarded"),
            "{}",
            stderr.text()
        );
    })
    .await;
}

async fn echo_server_stops_after_max_clients() {
    within(async {
        let host = loopback_host(None);
        let server =
            echo_server(&host, &["--listen", "127.0.0.1:0", "--max-clients", "2"], 1).await;
        for client in 0..2 {
            let stream = TcpStream::connect(&server.addresses[0]).await.unwrap();
            let line = format!("client {client}");
            assert_eq!(exchange(stream, std::slice::from_ref(&line)).await, [line]);
        }
        // It exits on its own: input stays open.
        let code = tokio::time::timeout(Duration::from_secs(30), server.exit).await;
        assert_eq!(code.expect("exited after two clients").unwrap(), 0);
        drop(server.stdin);
    })
    .await;
}

async fn wcat_copies_stdin_to_the_peer_and_the_reply_to_stdout() {
    within(async {
        let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let host = loopback_host(None);
        let program = host.load(artifact("wcat.wasm")).expect("load wcat");
        let stdout = Capture::new();
        let input: Vec<u8> = (0..2000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let options = RunOptions {
            args: vec!["wcat".into(), "127.0.0.1".into(), addr.port().to_string()],
            stdin: Stdin::Bytes(input.clone()),
            stdout: stdout.output(),
            stderr: Output::Null,
            ..RunOptions::default()
        };
        assert_eq!(program.run(&options).await.unwrap(), 0);
        assert_eq!(stdout.contents(), input, "every byte came back, in order");
    })
    .await;
}

async fn wcat_reports_a_refused_connection_in_one_line() {
    within(async {
        let closed = closed_port().await;
        let host = loopback_host(None);
        let program = host.load(artifact("wcat.wasm")).expect("load wcat");
        let stderr = Capture::new();
        let options = RunOptions {
            args: vec!["wcat".into(), "127.0.0.1".into(), closed.to_string()],
            stdin: Stdin::Null,
            stdout: Output::Null,
            stderr: stderr.output(),
            ..RunOptions::default()
        };
        assert_ne!(program.run(&options).await.unwrap(), 0);
        assert_eq!(
            stderr.text(),
            format!(
                "wcat: cannot connect to 127.0.0.1:{}: connection refused\n",
                closed
            )
        );
    })
    .await;
}

on_wasi_0_2_and_0_3! {
    echo_server_serves_a_hundred_native_clients_at_once => echo_server_serves_a_hundred_native_clients_at_once;
    echo_server_listens_on_ipv6_and_on_every_address_of_a_name => echo_server_listens_on_ipv6_and_on_every_address_of_a_name;
    an_over_long_line_is_discarded_for_that_client_only => an_over_long_line_is_discarded_for_that_client_only;
    echo_server_stops_after_max_clients => echo_server_stops_after_max_clients;
    wcat_copies_stdin_to_the_peer_and_the_reply_to_stdout => wcat_copies_stdin_to_the_peer_and_the_reply_to_stdout;
    wcat_reports_a_refused_connection_in_one_line => wcat_reports_a_refused_connection_in_one_line;
}

//! The composed example, as a user runs it: `dist/redis-client.composed.wasm`
//! (examples/redis-client plugged into wasio-tcp.wasm by `wasio-plug`, as
//! `wac plug` does) under the pinned stock `wasmtime` CLI, against a real
//! `redis-server` that each test starts on a free loopback port, without
//! persistence, in a temporary directory, and stops when it ends. Replies
//! are checked byte for byte.

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::time::sleep;
use wasio_tests::{ComponentWorld, PROCESS_TIMEOUT, made_by, stock_cli_output, within};

use crate::support;

fn composed() -> PathBuf {
    made_by("dist/redis-client.composed.wasm", "make build")
}

/// A loopback port that nothing listens on (for now).
async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// A `redis-server` of the test's own, killed when dropped.
struct Redis {
    port: u16,
    _child: Child,
    _dir: tempfile::TempDir,
}

impl Redis {
    async fn start() -> Redis {
        let dir = tempfile::tempdir().unwrap();
        // The port is free when chosen; another process may take it before
        // the server binds it, so try a few.
        for _ in 0..5 {
            let port = free_port().await;
            let log = dir.path().join(format!("redis-{port}.log"));
            let mut child = Command::new("redis-server")
                .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .arg("--dir")
                .arg(dir.path())
                .arg("--logfile")
                .arg(&log)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot start redis-server ({e}): run `make setup`, which installs it")
                });
            let deadline = tokio::time::Instant::now() + PROCESS_TIMEOUT;
            while tokio::time::Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)).await
                    && call(&mut stream, &[b"PING"]).await == b"+PONG\r\n"
                {
                    return Redis {
                        port,
                        _child: child,
                        _dir: dir,
                    };
                }
                sleep(Duration::from_millis(20)).await;
            }
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            assert!(
                log.contains("Address already in use"),
                "redis-server did not start:\n{log}"
            );
        }
        panic!("redis-server found no free port");
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(("127.0.0.1", self.port)).await.unwrap()
    }
}

/// One command from a native client: the raw bytes of its reply (a
/// single-line reply or a bulk string).
async fn call(stream: &mut TcpStream, args: &[&[u8]]) -> Vec<u8> {
    let mut command = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        command.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        command.extend_from_slice(arg);
        command.extend_from_slice(b"\r\n");
    }
    stream.write_all(&command).await.unwrap();
    let mut reader = BufReader::new(stream);
    let mut reply = Vec::new();
    reader.read_until(b'\n', &mut reply).await.unwrap();
    if let Some(len) = reply.strip_prefix(b"$") {
        let len: i64 = std::str::from_utf8(&len[..len.len() - 2])
            .unwrap()
            .parse()
            .unwrap();
        if len >= 0 {
            let mut body = vec![0; len as usize + 2];
            reader.read_exact(&mut body).await.unwrap();
            reply.extend_from_slice(&body);
        }
    }
    reply
}

/// `wasmtime run -S inherit-network dist/redis-client.composed.wasm ARGS...`
/// with the pinned stock CLI.
async fn redis_client(args: &[&str]) -> Output {
    stock_cli_output(&composed(), args).await
}

/// Run the client with `args`; its standard output, expecting success.
async fn reply_to(redis: &Redis, args: &[&str]) -> String {
    let port = redis.port.to_string();
    let output = redis_client(&[&["127.0.0.1", port.as_str()], args].concat()).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "redis-client {args:?}: {stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composed_component_imports_only_wasi() {
    within(async {
        ComponentWorld::of(&composed()).assert_imports_only_wasi_with("wasi:sockets/tcp@0.2.12");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composed_client_pings_sets_and_gets_a_value_holding_crlf() {
    within(async {
        let redis = Redis::start().await;
        assert_eq!(reply_to(&redis, &[]).await, support::REDIS_DEMO_TRANSCRIPT);
        let mut native = redis.connect().await;
        assert_eq!(
            call(&mut native, &[b"GET", b"wasio:example"]).await,
            b"$21\r\none line\r\nand another\r\n"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composed_client_shows_every_reply_type_as_redis_cli_does() {
    within(async {
        let redis = Redis::start().await;
        let cases: [(&[&str], &str); 8] = [
            (&["PING", "hello"], "\"hello\"\n"),
            (&["SET", "text", "tab\there \"quoted\" é"], "OK\n"),
            (
                &["GET", "text"],
                "\"tab\\there \\\"quoted\\\" \\xc3\\xa9\"\n",
            ),
            (&["GET", "missing"], "(nil)\n"),
            (&["INCRBY", "counter", "-7"], "(integer) -7\n"),
            (&["RPUSH", "list", "a", "", "c d"], "(integer) 3\n"),
            (
                &["LRANGE", "list", "0", "-1"],
                "1) \"a\"\n2) \"\"\n3) \"c d\"\n",
            ),
            (&["LRANGE", "nothing", "0", "-1"], "(empty array)\n"),
        ];
        for (args, shown) in cases {
            assert_eq!(reply_to(&redis, args).await, shown, "{args:?}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composed_client_reads_a_value_larger_than_the_readers_limit() {
    within(async {
        let redis = Redis::start().await;
        // 200 KB, over the 64 KiB limit of `readline`: `readexactly` is
        // not bound by it.
        let value: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let mut native = redis.connect().await;
        assert_eq!(
            call(&mut native, &[b"SET", b"big", &value]).await,
            b"+OK\r\n"
        );
        let shown = reply_to(&redis, &["GET", "big"]).await;
        assert_eq!(shown.len(), value.len() + 3);
        assert!(shown.as_bytes()[1..=value.len()] == value[..]);
        assert_eq!((&shown[..1], &shown[value.len() + 1..]), ("\"", "\"\n"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composed_client_shows_an_error_reply_and_exits_non_zero() {
    within(async {
        let redis = Redis::start().await;
        let port = redis.port.to_string();
        let output = redis_client(&["127.0.0.1", &port, "NOSUCHCOMMAND", "x"]).await;
        assert_eq!(output.status.code(), Some(1));
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(
            stdout.starts_with("(error) ERR unknown command 'NOSUCHCOMMAND'"),
            "{stdout}"
        );
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composed_client_fails_in_one_line_when_nothing_listens() {
    within(async {
        let port = free_port().await.to_string();
        let output = redis_client(&["127.0.0.1", &port]).await;
        assert_eq!(output.status.code(), Some(1));
        assert!(output.stdout.is_empty());
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            format!("redis-client: cannot connect to 127.0.0.1:{port}: connection refused\n")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composed_client_reports_a_server_that_closes_inside_a_bulk_string() {
    within(async {
        // A native stand-in that announces ten bytes, sends three and goes.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            // Read the whole command, so that closing sends FIN, not RST.
            let mut command = [0; 20];
            stream.read_exact(&mut command).await.unwrap();
            assert_eq!(&command, b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
            stream.write_all(b"$10\r\nabc").await.unwrap();
        });
        let output = redis_client(&["127.0.0.1", &port, "GET", "k"]).await;
        server.await.unwrap();
        assert_eq!(output.status.code(), Some(1));
        assert!(output.stdout.is_empty());
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            "redis-client: the server closed the connection\n"
        );
    })
    .await;
}

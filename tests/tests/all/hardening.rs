//! Hostile peers and faults, over TCP and Unix sockets, against the
//! echo-server component (native clients misbehave) and against client
//! components (the `hard_*` test programs, on wasio's Rust API, talk to
//! native peers that misbehave):
//!
//! - a 100 MiB line without a newline gets asyncio's limit error and costs
//!   no more memory than a short over-long line: each instance runs under
//!   a memory cap far below 100 MiB, and its peak memory is compared with
//!   the same run on a 1 MiB line, and for echo-server with a run under a
//!   1 MiB limit, where a connection's buffers show (`--nocapture` prints
//!   the figures);
//! - slowloris clients and peers, idle clients past the connection limit,
//!   a reset mid-line, a half-close, a peer that closes while the server
//!   writes, a peer that never reads: each gives its documented result,
//!   and the other clients are served meanwhile;
//! - faults: a peer killed mid-transfer, the Unix socket file removed while
//!   listening, a closed port, a name that does not resolve, a policy
//!   denial: each gives its documented error.
//!
//! The client-side reset, half-close and write-after-close cases are in
//! `hostile_peers`.

use std::path::Path;
use std::time::Duration;

use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wasio_host::{Host, HostConfig, Limits, NetworkPolicy};
use wasio_tests::hostile::Transport;
use wasio_tests::load::{
    Endpoint, Guest, LineClient, NativePeer, Outcome, PeerScript, REPLY_TIMEOUT, Signal,
    read_to_end_within, write_repeated,
};
use wasio_tests::{loopback_policy, within};

use crate::support::{over_tcp_and_unix, programs};

/// asyncio's default limit, which echo-server and the programs keep.
const LIMIT: usize = 64 * 1024;
/// The line that never ends.
const LONG_LINE: usize = 100 << 20;
/// The over-long line of the comparison run.
const SHORT_LINE: usize = 1 << 20;
/// The most one round of reading ahead takes in beyond twice the limit:
/// 256 KiB, as asyncio's transports receive at once, and the read that
/// ends the round.
const ROUND: usize = (256 + 64) * 1024;
/// What a line of any length may cost a connection: the reader's buffer
/// (paused above twice the limit) and one round of reading ahead, in
/// storage that grows by doubling (`BytesMut`, as a `Vec`), so up to twice
/// that. Far below the line's length, which is what the tests show.
const LINE_GROWTH: usize = 2 * (2 * LIMIT + ROUND);
/// A limit whose buffers do not fit in the memory an instance starts
/// with, so that what one connection costs shows.
const LARGE_LIMIT: usize = 1 << 20;
/// The memory cap of every instance that meets a long line or a peer that
/// never reads: far below what buffering either would take.
const TIGHT_MEMORY: usize = 16 << 20;
/// Most a client that never reads may push before it stalls: far more
/// than socket buffers and a server's bounded buffers hold.
const NEVER_READ_MOST: usize = 64 << 20;
/// The CPU time of a server whose client vanishes under it: a task that
/// spun on the error instead of ending would use it up.
const SPIN_BUDGET: Duration = Duration::from_secs(10);

fn host(limits: Limits, unix_dirs: &[&Path]) -> Host {
    let mut policy = loopback_policy(None);
    for dir in unix_dirs {
        policy.allow_unix_dir(dir).expect("a Unix directory");
    }
    host_with(policy, limits)
}

fn host_with(policy: NetworkPolicy, limits: Limits) -> Host {
    Host::new(HostConfig {
        policy,
        limits,
        ..HostConfig::default()
    })
    .expect("a host")
}

fn tight_memory() -> Limits {
    Limits {
        max_memory: Some(TIGHT_MEMORY),
        ..Limits::default()
    }
}

/// The echo-server component serving on one transport.
struct EchoServer {
    guest: Guest,
    endpoint: Endpoint,
    dir: Option<TempDir>,
}

impl EchoServer {
    async fn start(transport: Transport, limits: Limits, extra: &[&str]) -> Self {
        let (dir, mut args) = match transport {
            Transport::Tcp => (None, vec!["--listen".to_owned(), "127.0.0.1:0".to_owned()]),
            Transport::Unix => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let path = dir.path().join("echo.sock").display().to_string();
                (Some(dir), vec!["--unix".to_owned(), path])
            }
        };
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let dirs: Vec<&Path> = dir.iter().map(TempDir::path).collect();
        let (guest, addresses) = Guest::echo_server(&host(limits, &dirs), &args, 1).await;
        Self {
            guest,
            endpoint: Endpoint::announced(&addresses[0]),
            dir,
        }
    }

    /// Stop it (end of its input) and expect a clean exit.
    async fn stop(self) -> Outcome {
        let outcome = self.guest.stop().await;
        outcome.assert_success();
        drop(self.dir);
        outcome
    }
}

/// Expect `stream` to be closed by the server without a byte.
async fn assert_refused(mut stream: wasio_tests::load::Stream) {
    let mut byte = [0];
    let read = tokio::time::timeout(REPLY_TIMEOUT, stream.read(&mut byte))
        .await
        .expect("the refused client is closed");
    match read {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("want the client refused (closed), got {other:?}"),
    }
}

// --- a line that never ends --------------------------------------------------

/// Send `length` bytes of `x`, pausing halfway until `resume`, then
/// `\nafter\n`, and return everything the echo-server sent back. Another
/// client exchanges lines while the long line is half sent.
async fn long_line_to_echo_server(server: &EchoServer, length: usize) -> Vec<u8> {
    let mut steady = LineClient::connect(&server.endpoint).await;
    steady.exchanges("before", 5).await;
    let stream = server.endpoint.connect().await.expect("connect");
    let (mut read, mut write) = tokio::io::split(stream);
    let (halfway, resume) = (Signal::default(), Signal::default());
    let sending = tokio::spawn({
        let (halfway, resume) = (halfway.clone(), resume.clone());
        async move {
            let first_half = length / 2;
            write_repeated(&mut write, b'x', first_half).await?;
            halfway.set();
            resume.wait().await;
            write_repeated(&mut write, b'x', length - first_half).await?;
            write.write_all(b"\nafter\n").await?;
            write.shutdown().await
        }
    });
    let replies = tokio::spawn(async move { read_to_end_within(&mut read, REPLY_TIMEOUT).await });
    halfway.wait().await;
    steady.exchanges("during", 20).await;
    resume.set();
    sending.await.unwrap().expect("send the line");
    let replies = replies.await.expect("the replies");
    steady.exchanges("after", 5).await;
    steady.finish().await;
    replies
}

async fn echo_server_long_line(transport: Transport) {
    // (limit, line length): the comparison run, the long line, and the
    // long line under a larger limit, whose buffers no longer fit in the
    // memory the instance starts with.
    let runs = [
        (LIMIT, SHORT_LINE),
        (LIMIT, LONG_LINE),
        (LARGE_LIMIT, LONG_LINE),
    ];
    let mut peaks = Vec::new();
    for (limit, length) in runs {
        let limit_arg = limit.to_string();
        let args = ["--limit", limit_arg.as_str()];
        let server = EchoServer::start(transport, tight_memory(), &args).await;
        let replies = long_line_to_echo_server(&server, length).await;
        assert_eq!(
            String::from_utf8_lossy(&replies),
            format!("error: line longer than {limit} bytes\nafter\n"),
            "one error for the line, then the next line"
        );
        let outcome = server.stop().await;
        let reported = outcome.stderr.matches("discarded").count();
        assert_eq!(reported, 1, "{}", outcome.stderr);
        peaks.push(outcome.peak_memory);
    }
    let growth = peaks[1].saturating_sub(peaks[0]);
    let large_growth = peaks[2].saturating_sub(peaks[0]);
    println!(
        "echo-server over {transport:?}, peak memory (cap {} MiB): {} KiB with a {} MiB line, \
         {} KiB with a {} MiB line (+{} KiB) at the {} KiB limit; {} KiB (+{} KiB) at a {} KiB limit",
        TIGHT_MEMORY >> 20,
        peaks[0] >> 10,
        SHORT_LINE >> 20,
        peaks[1] >> 10,
        LONG_LINE >> 20,
        growth >> 10,
        LIMIT >> 10,
        peaks[2] >> 10,
        large_growth >> 10,
        LARGE_LIMIT >> 10,
    );
    assert!(
        growth <= LINE_GROWTH,
        "a 100 MiB line took {growth} bytes more than a 1 MiB one"
    );
    // The buffered bytes stay below the limit plus one read; the buffer's
    // capacity doubles past them, and the allocator needs the old and the
    // new block while it grows. Over WASI 0.3 the receiver reads on in the
    // background up to the pause at twice the limit, with a read in flight
    // besides: measured 7.3 MiB under the 1 MiB limit (against 2.9 MiB over
    // WASI 0.2), so the bound there is 8 times the limit.
    let bound = match wasio_tests::running_on_wasi_0_3() {
        true => 8 * LARGE_LIMIT,
        false => 6 * LARGE_LIMIT,
    };
    assert!(
        large_growth <= bound,
        "a 100 MiB line took {large_growth} bytes more under a {LARGE_LIMIT}-byte limit"
    );
}

over_tcp_and_unix! {
    echo_server_answers_a_100_mib_line_with_one_error_in_bounded_memory => echo_server_long_line;
}

async fn client_long_line(transport: Transport) {
    let mut peaks = Vec::new();
    for length in [SHORT_LINE, LONG_LINE] {
        let script = PeerScript::EndlessLine {
            before: length / 2,
            after: length - length / 2,
        };
        let peer = NativePeer::listen(transport, script).await.unwrap();
        let echo = NativePeer::listen(transport, PeerScript::LineEcho)
            .await
            .unwrap();
        let dirs: Vec<&Path> = peer.unix_dir().into_iter().chain(echo.unix_dir()).collect();
        let args = [
            peer.target(),
            echo.target(),
            length.to_string(),
            "50".into(),
        ];
        let outcome = Guest::start(
            &host(tight_memory(), &dirs),
            programs::HARD_LONG_LINE,
            &args,
        )
        .finish_within(REPLY_TIMEOUT)
        .await;
        outcome.assert_success();
        println!(
            "hard_long_line over {transport:?}: {}",
            outcome.stdout.trim()
        );
        peaks.push(outcome.peak_memory);
    }
    let growth = peaks[1].saturating_sub(peaks[0]);
    println!(
        "client over {transport:?}: peak memory {} KiB with a {} MiB line, {} KiB with a {} MiB line (+{} KiB); cap {} MiB",
        peaks[1] >> 10,
        LONG_LINE >> 20,
        peaks[0] >> 10,
        SHORT_LINE >> 20,
        growth >> 10,
        TIGHT_MEMORY >> 20
    );
    assert!(
        growth <= LINE_GROWTH,
        "a 100 MiB line took {growth} bytes more than a 1 MiB one"
    );
}

over_tcp_and_unix! {
    client_readline_gets_limit_overrun_for_a_100_mib_line_in_bounded_memory => client_long_line;
}

// --- slowloris ---------------------------------------------------------------

/// The pace of a slowloris client.
const DRIP: Duration = Duration::from_millis(100);

async fn echo_server_slowloris(transport: Transport) {
    let server = EchoServer::start(transport, Limits::default(), &[]).await;
    let release = Signal::default();
    let mut started = Vec::new();
    let mut slow = Vec::new();
    for k in 0..3 {
        let begun = Signal::default();
        started.push(begun.clone());
        let (endpoint, release) = (server.endpoint.clone(), release.clone());
        slow.push(tokio::spawn(async move {
            let mut stream = endpoint.connect().await.expect("connect");
            for (i, byte) in format!("slow {k}").bytes().enumerate() {
                stream.write_all(&[byte]).await.expect("drip");
                if i == 0 {
                    begun.set();
                }
                tokio::time::sleep(DRIP).await;
            }
            release.wait().await;
            stream.write_all(b"\n").await.expect("the newline");
            stream.shutdown().await.expect("half-close");
            read_to_end_within(&mut stream, REPLY_TIMEOUT).await
        }));
    }
    for begun in &started {
        begun.wait().await;
    }
    // Served while every slow line is still incomplete.
    let mut fast = LineClient::connect(&server.endpoint).await;
    fast.exchanges("fast", 50).await;
    fast.finish().await;
    release.set();
    for (k, client) in slow.into_iter().enumerate() {
        let echoed = client.await.expect("a slow client");
        assert_eq!(String::from_utf8_lossy(&echoed), format!("slow {k}\n"));
    }
    server.stop().await;
}

over_tcp_and_unix! {
    echo_server_serves_others_while_slowloris_clients_drip => echo_server_slowloris;
}

async fn client_slow_peer(transport: Transport) {
    let line = "a line, one byte every 100 ms";
    let script = PeerScript::Drip {
        text: format!("{line}\n").into_bytes(),
        interval: DRIP,
    };
    let peer = NativePeer::listen(transport, script).await.unwrap();
    let echo = NativePeer::listen(transport, PeerScript::LineEcho)
        .await
        .unwrap();
    let dirs: Vec<&Path> = peer.unix_dir().into_iter().chain(echo.unix_dir()).collect();
    let args = [peer.target(), echo.target(), "50".into(), line.into()];
    Guest::start(
        &host(Limits::default(), &dirs),
        programs::HARD_SLOW_PEER,
        &args,
    )
    .finish_within(REPLY_TIMEOUT)
    .await
    .assert_success();
}

over_tcp_and_unix! {
    client_reads_a_dripped_line_and_serves_others_meanwhile => client_slow_peer;
}

// --- past the connection limit -----------------------------------------------

async fn echo_server_connection_limit(transport: Transport) {
    // Three clients: over TCP the listening socket counts too.
    let max = match transport {
        Transport::Tcp => 4,
        Transport::Unix => 3,
    };
    let limits = Limits {
        max_connections: Some(max),
        ..Limits::default()
    };
    let server = EchoServer::start(transport, limits, &[]).await;
    let mut served = LineClient::connect(&server.endpoint).await;
    served.exchanges("served", 3).await;
    // Two more, served once and then idle: the limit is reached.
    let mut idle = Vec::new();
    for i in 0..2 {
        let mut client = LineClient::connect(&server.endpoint).await;
        client.exchanges(&format!("idle {i}"), 1).await;
        idle.push(client);
    }
    for _ in 0..5 {
        let refused = server.endpoint.connect().await.expect("connect");
        assert_refused(refused).await;
    }
    // A WASI 0.2 guest's accept fails with `new-socket-limit`, which
    // echo-server reports; under WASI 0.3 the host closes such a client as
    // it hands it over, and the guest never sees it.
    if !wasio_tests::running_on_wasi_0_3() {
        server.guest.stderr_line(&["connection limit"]).await;
    }
    served.exchanges("still served", 10).await;

    // One idle client leaves; its slot goes to the next client once the
    // server has closed its side.
    idle.pop().expect("an idle client").finish().await;
    let mut attempts = 0;
    let mut next = loop {
        let mut stream = server.endpoint.connect().await.expect("connect");
        let mut reply = [0; 5];
        let exchanged = async {
            stream.write_all(b"next\n").await?;
            stream.read_exact(&mut reply).await
        };
        if exchanged.await.is_ok() {
            assert_eq!(&reply, b"next\n");
            break stream;
        }
        attempts += 1;
        assert!(attempts < 100, "no slot freed after an idle client left");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    next.shutdown().await.expect("half-close");
    assert_eq!(read_to_end_within(&mut next, REPLY_TIMEOUT).await, b"");
    served.finish().await;
    for client in idle {
        client.finish().await;
    }
    server.stop().await;
}

over_tcp_and_unix! {
    echo_server_refuses_idle_clients_past_the_limit_and_serves_the_rest => echo_server_connection_limit;
}

// --- resets, half-closes, vanished peers -------------------------------------

async fn echo_server_reset_mid_line(transport: Transport) {
    let server = EchoServer::start(transport, Limits::default(), &[]).await;
    let mut steady = LineClient::connect(&server.endpoint).await;
    steady.exchanges("before", 3).await;
    let mut client = server.endpoint.connect().await.expect("connect");
    client
        .write_all(b"whole\npartial, never end")
        .await
        .expect("send");
    // Leave the echo of the whole line unread: closing then resets.
    client.readable().await.expect("the echo arrives");
    client.reset();
    let line = server
        .guest
        .stderr_line(&["connection reset by peer"])
        .await;
    println!("echo-server over {transport:?}: {line}");
    steady.exchanges("after", 10).await;
    steady.finish().await;
    server.stop().await;
}

over_tcp_and_unix! {
    echo_server_reports_a_reset_mid_line_and_serves_on => echo_server_reset_mid_line;
}

async fn echo_server_half_close(transport: Transport) {
    let server = EchoServer::start(transport, Limits::default(), &[]).await;
    let mut client = server.endpoint.connect().await.expect("connect");
    client
        .write_all(b"one\ntwo\nthree without a newline")
        .await
        .expect("send");
    client.shutdown().await.expect("half-close");
    // Still reading after the half-close: every echo, the partial last
    // line too, then the server's end of file.
    let echoed = read_to_end_within(&mut client, REPLY_TIMEOUT).await;
    assert_eq!(
        String::from_utf8_lossy(&echoed),
        "one\ntwo\nthree without a newline"
    );
    server.stop().await;
}

over_tcp_and_unix! {
    echo_server_echoes_everything_after_a_half_close_then_ends => echo_server_half_close;
}

/// Lines of 64 bytes, `count` of them.
fn lines(count: usize) -> Vec<u8> {
    (0..count)
        .flat_map(|i| format!("{i:063}\n").into_bytes())
        .collect()
}

/// Push lines to the server and never read, until a write makes no
/// progress for a while: the server stopped reading because its writes to
/// this client wait in `drain`. How much was pushed.
async fn push_until_stalled(client: &mut wasio_tests::load::Stream) -> usize {
    let chunk = lines(1024);
    let mut pushed = 0;
    loop {
        let write = tokio::time::timeout(Duration::from_millis(500), client.write_all(&chunk));
        match write.await {
            Ok(written) => written.expect("push lines"),
            Err(_) => return pushed,
        }
        pushed += chunk.len();
        assert!(
            pushed < NEVER_READ_MOST,
            "{pushed} bytes pushed to a server whose writes nobody reads"
        );
    }
}

async fn echo_server_write_after_close(transport: Transport) {
    let limits = Limits {
        cpu_time: Some(SPIN_BUDGET),
        ..Limits::default()
    };
    let server = EchoServer::start(transport, limits, &[]).await;
    let mut steady = LineClient::connect(&server.endpoint).await;
    steady.exchanges("before", 3).await;
    // The client fills every buffer, half-closes, reads a little of the
    // echo and closes: the server still has echoes to write.
    let mut client = server.endpoint.connect().await.expect("connect");
    push_until_stalled(&mut client).await;
    client.shutdown().await.expect("half-close");
    let mut first = vec![0; 4096];
    client
        .read_exact(&mut first)
        .await
        .expect("the first echoes");
    assert_eq!(first, lines(64));
    drop(client);
    let line = server
        .guest
        .stderr_line(&["connection reset by peer", "broken pipe"])
        .await;
    println!("echo-server over {transport:?}: {line}");
    steady.exchanges("after", 10).await;
    steady.finish().await;
    server.stop().await;
}

over_tcp_and_unix! {
    echo_server_writing_to_a_closed_peer_gets_an_error_not_a_spin => echo_server_write_after_close;
}

// --- a peer that never reads -------------------------------------------------

async fn echo_server_never_reading_client(transport: Transport) {
    let limits = Limits {
        max_memory: Some(TIGHT_MEMORY),
        cpu_time: Some(SPIN_BUDGET),
        ..Limits::default()
    };
    let server = EchoServer::start(transport, limits, &[]).await;
    let mut steady = LineClient::connect(&server.endpoint).await;
    let mut client = server.endpoint.connect().await.expect("connect");
    let pushed = push_until_stalled(&mut client).await;
    steady.exchanges("while blocked", 20).await;
    // The client goes without reading a byte: the server's pending writes
    // fail, and it serves on.
    client.reset();
    let line = server
        .guest
        .stderr_line(&["connection reset by peer", "broken pipe"])
        .await;
    steady.exchanges("after", 5).await;
    steady.finish().await;
    let outcome = server.stop().await;
    println!(
        "echo-server over {transport:?}: stalled a client that never reads after {} KiB pushed; peak memory {} KiB (cap {} MiB); {line}",
        pushed >> 10,
        outcome.peak_memory >> 10,
        TIGHT_MEMORY >> 20
    );
}

over_tcp_and_unix! {
    echo_server_stalls_a_client_that_never_reads_in_bounded_memory => echo_server_never_reading_client;
}

async fn client_never_reading_peer(transport: Transport) {
    let peer = NativePeer::listen(transport, PeerScript::NeverRead)
        .await
        .unwrap();
    let dirs: Vec<&Path> = peer.unix_dir().into_iter().collect();
    let args = [peer.target(), (16 * 1024).to_string()];
    // It needs a second or two; abort must not leave it waiting.
    let outcome = Guest::start(
        &host(tight_memory(), &dirs),
        programs::HARD_NEVER_READS,
        &args,
    )
    .finish_within(Duration::from_secs(15))
    .await;
    outcome.assert_success();
    println!(
        "hard_never_reads over {transport:?}: {}",
        outcome.stdout.trim()
    );
}

over_tcp_and_unix! {
    client_drain_blocks_within_the_high_water_mark_and_abort_closes => client_never_reading_peer;
}

// --- faults ------------------------------------------------------------------

async fn peer_killed(transport: Transport) {
    let most = 4 << 20;
    let peer = NativePeer::listen(transport, PeerScript::DieMidTransfer { bytes: most })
        .await
        .unwrap();
    let dirs: Vec<&Path> = peer.unix_dir().into_iter().collect();
    let args = [peer.target(), most.to_string()];
    let outcome = Guest::start(
        &host(Limits::default(), &dirs),
        programs::HARD_PEER_KILLED,
        &args,
    )
    .finish_within(REPLY_TIMEOUT)
    .await;
    outcome.assert_success();
    println!(
        "hard_peer_killed over {transport:?}: {}",
        outcome.stdout.trim()
    );
}

over_tcp_and_unix! {
    peer_killed_mid_transfer_gives_its_bytes_then_connection_reset => peer_killed;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_server_serves_on_after_its_socket_file_is_removed_and_closes_cleanly() {
    within(async {
        let server = EchoServer::start(Transport::Unix, Limits::default(), &[]).await;
        let Endpoint::Unix(path) = server.endpoint.clone() else {
            unreachable!("a Unix server")
        };
        let mut accepted = LineClient::connect(&server.endpoint).await;
        accepted.exchanges("before", 3).await;
        std::fs::remove_file(&path).expect("remove the socket file");
        accepted.exchanges("after the removal", 10).await;
        let refused = tokio::net::UnixStream::connect(&path).await;
        assert_eq!(
            refused.expect_err("no file, no new clients").kind(),
            std::io::ErrorKind::NotFound
        );
        // Another server takes the path: closing must leave its file alone.
        let other = tokio::net::UnixListener::bind(&path).expect("another server");
        accepted.finish().await;
        let EchoServer { guest, dir, .. } = server;
        let outcome = guest.stop().await;
        outcome.assert_success();
        assert!(path.exists(), "the other server's socket file was removed");
        assert_eq!(outcome.stderr, "", "closing reported a failure");
        drop((other, dir));
    })
    .await;
}

/// Run `hard_connect_error` against `target` on `host`, expecting `error`.
async fn connect_error(host: &Host, target: &str, error: &str) {
    let args = [target.to_owned(), error.to_owned()];
    let outcome = Guest::start(host, programs::HARD_CONNECT_ERROR, &args)
        .finish_within(REPLY_TIMEOUT)
        .await;
    outcome.assert_success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_to_a_closed_port_is_connection_refused_over_tcp() {
    within(async {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let host = host(Limits::default(), &[]);
        connect_error(&host, &closed.to_string(), "connection-refused").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_to_a_socket_nobody_listens_on_is_connection_refused_over_unix() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        // A socket file left behind by a server that is gone, and a path
        // with no file at all.
        let stale = dir.path().join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
        assert!(stale.exists());
        let missing = dir.path().join("missing.sock");
        let host = host(Limits::default(), &[dir.path()]);
        for path in [stale, missing] {
            let target = format!("unix:{}", path.display());
            connect_error(&host, &target, "connection-refused").await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_does_not_resolve_is_name_unresolvable() {
    within(async {
        let host = host(Limits::default(), &[]);
        connect_error(&host, "no-such-host.invalid:80", "name-unresolvable").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_denial_is_access_denied_over_tcp_and_unix() {
    within(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("peer.sock");
        let unix_listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let host = host_with(NetworkPolicy::deny_all(), Limits::default());
        let tcp = listener.local_addr().unwrap().to_string();
        connect_error(&host, &tcp, "access-denied").await;
        let unix = format!("unix:{}", path.display());
        connect_error(&host, &unix, "access-denied").await;
        // Nothing got through to either peer.
        listener.set_nonblocking(true).unwrap();
        unix_listener.set_nonblocking(true).unwrap();
        let would_block = |e: std::io::Error| e.kind() == std::io::ErrorKind::WouldBlock;
        assert!(listener.accept().is_err_and(would_block));
        assert!(unix_listener.accept().is_err_and(would_block));
    })
    .await;
}

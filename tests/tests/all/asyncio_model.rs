//! asyncio's behaviour against a live peer, over TCP and over Unix
//! sockets: the guest programs `streams_*` meet native peers and give the
//! answers CPython 3.11/3.13 gives with the same peers (the socket read
//! ahead of the reads, the peer's end of file and resets noticed with no
//! read pending, closing and servers as asyncio closes them).

use std::time::Duration;

use wasio_tests::hostile::{Peer, Script, Transport};
use wasio_tests::loopback_host;

use crate::support::{programs, run};

/// Run the test program `name` against a `script` peer over `transport`,
/// with `args` after the target; the peer, for what it received.
async fn against(transport: Transport, script: Script, name: &str, args: &[&str]) -> Peer {
    let peer = Peer::listen(transport, script).await.expect("a peer");
    let host = loopback_host(peer.unix_dir());
    let mut argv = vec![peer.target()];
    argv.extend(args.iter().map(|a| a.to_string()));
    run(&host, name, &argv).await.assert_success();
    peer
}

/// `b"x" * 10000 + b"\nnext\n"`, sent at once.
fn long_line_then_next() -> Vec<u8> {
    let mut bytes = vec![b'x'; 10_000];
    bytes.extend_from_slice(b"\nnext\n");
    bytes
}

/// One test per transport for each scenario, in a module `$group` with
/// `tcp` and `unix` inside, and `tcp_on_wasi_0_3`: TCP on the WASI 0.3
/// builds of the programs.
macro_rules! over_tcp_and_unix {
    ($group:ident { $($name:ident => $body:expr;)* }) => {
        mod $group {
            use super::*;
            mod tcp {
                use super::*;
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        ($body)(Transport::Tcp).await;
                    }
                )*
            }
            mod unix {
                use super::*;
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        ($body)(Transport::Unix).await;
                    }
                )*
            }
            mod tcp_on_wasi_0_3 {
                use super::*;
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        wasio_tests::on_wasi_0_3(($body)(Transport::Tcp)).await;
                    }
                )*
            }
        }
    };
}

over_tcp_and_unix!(streams {
    readuntil_over_the_limit_sees_every_byte_that_arrived => |transport| async move {
        let script = Script::SendThenWait(long_line_then_next());
        against(transport, script, programs::STREAMS_READ_AHEAD, &["readuntil-overrun"]).await;
    };
    readline_over_the_limit_fails_once_then_reads_the_next_line => |transport| async move {
        let script = Script::SendThenWait(long_line_then_next());
        against(transport, script, programs::STREAMS_READ_AHEAD, &["readline-overrun"]).await;
    };
    end_of_file_is_noticed_with_no_read_pending => |transport| async move {
        let script = Script::SendThenHalfClose(b"bye\n".to_vec());
        let mut peer = against(transport, script, programs::STREAMS_READ_AHEAD, &["eof-noticed"]).await;
        assert_eq!(peer.received().await.expect("a report"), b"");
    };
    feed_eof_ends_a_connections_stream => |transport| async move {
        let script = Script::SendThenWait(b"a\nb\n".to_vec());
        against(transport, script, programs::STREAMS_READ_AHEAD, &["feed-eof"]).await;
    };
    a_reset_is_noticed_with_no_read_pending => |transport| async move {
        let script = Script::ResetAfterReading { read: "hello\n".len(), send: Vec::new() };
        against(transport, script, programs::STREAMS_PEER_GONE, &[]).await;
    };
    extra_info_outlives_close => |transport| async move {
        let script = Script::SendThenWait(Vec::new());
        against(transport, script, programs::STREAMS_CLOSING, &["extra-info"]).await;
    };
    drains_waiting_when_the_writer_closes_return_once_sent => |transport| async move {
        // Long enough for the guest to write and start draining, even on
        // a loaded machine.
        let script = Script::SinkAfter(Duration::from_millis(1500));
        let mut peer = against(transport, script, programs::STREAMS_CLOSING, &["drain-while-closing"]).await;
        let received = peer.received().await.expect("what the guest sent");
        assert_eq!(received.len(), 32 << 20);
        assert!(received.iter().all(|&b| b == b'd'));
    };
    close_with_unread_data_completes => |transport| async move {
        let script = Script::SendThenWait(b"HTTP/1.0 200 OK\r\nmore\r\n".to_vec());
        against(transport, script, programs::STREAMS_CLOSING, &["unread-data"]).await;
    };
});

/// The server scenarios: the guest listens (on a port it picks, or a Unix
/// socket in a temporary directory) and is its own client.
async fn server(transport: Transport, scenario: &str) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (host, place) = match transport {
        Transport::Tcp => (loopback_host(None), "127.0.0.1:0".to_owned()),
        Transport::Unix => {
            let path = dir.path().join("server.sock");
            (
                loopback_host(Some(dir.path())),
                format!("unix:{}", path.display()),
            )
        }
    };
    run(
        &host,
        programs::STREAMS_SERVER,
        &[place, scenario.to_owned()],
    )
    .await
    .assert_success();
}

over_tcp_and_unix!(servers {
    a_closed_server_has_no_sockets_and_cannot_serve_forever => |transport| server(transport, "closed");
    serve_forever_returns_when_the_server_closes => |transport| server(transport, "serve-forever");
    a_failing_handler_closes_its_connection_and_the_server_serves_on
        => |transport| server(transport, "failing-handler");
    a_cancelled_handler_closes_its_connection_and_the_server_serves_on
        => |transport| server(transport, "cancelled-handler");
    abort_clients_ends_every_accepted_connection => |transport| server(transport, "abort-clients");
});

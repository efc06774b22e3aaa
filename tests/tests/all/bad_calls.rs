//! A consumer component calling wasio wrongly: out-of-range sizes, empty
//! separators, writes after close, a huge readexactly, and every order of
//! dropping readers, writers, servers and pending connections. Each is a
//! clear error (or simply works), never a trap, and the resource table is
//! back to its baseline afterwards.

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use wasio_tests::component::{Instance, WitError, instance, soon};
use wasio_tests::peers::{self, Behaviour};
use wasio_tests::{loopback_host, within};

async fn resources(wasio: &mut Instance) -> usize {
    wasio.store.data_mut().resources().total
}

/// The resource count with nothing open but what the component keeps for
/// good (its `network` handle, fetched by a first connection).
async fn baseline(wasio: &mut Instance, addr: std::net::SocketAddr) -> usize {
    let (reader, writer) = wasio.connect(addr).await;
    wasio.drop_all([reader, writer]).await;
    resources(wasio).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_range_arguments_are_invalid_argument_errors() {
    within(async {
        let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let mut wasio = instance(&loopback_host(None)).await;
        let (reader, writer) = wasio.connect(addr).await;
        let api = wasio.api();
        let reader_api = api.wasio_streams_streams().stream_reader();
        let writer_api = api.wasio_streams_streams().stream_writer();
        let store = &mut wasio.store;
        for outcome in [
            reader_api
                .call_readexactly(&mut *store, reader, -1)
                .await
                .unwrap(),
            reader_api
                .call_blocking_readexactly(&mut *store, reader, i64::MIN, None)
                .await
                .unwrap(),
            reader_api
                .call_readuntil(&mut *store, reader, &[])
                .await
                .unwrap(),
            reader_api
                .call_readuntil(&mut *store, reader, &[b"ok".to_vec(), Vec::new()])
                .await
                .unwrap(),
            reader_api
                .call_blocking_readuntil(&mut *store, reader, &[Vec::new()], None)
                .await
                .unwrap(),
        ] {
            assert!(
                matches!(outcome, Err(WitError::InvalidArgument(_))),
                "{outcome:?}"
            );
        }
        let limits = writer_api
            .call_set_write_buffer_limits(&mut *store, writer, Some(10), Some(20))
            .await
            .unwrap();
        assert!(
            matches!(limits, Err(WitError::InvalidArgument(_))),
            "{limits:?}"
        );
        // The stream is unharmed by all that.
        wasio.write(writer, b"still fine\n").await;
        assert_eq!(
            wasio.readline(reader, soon_duration()).await.unwrap(),
            b"still fine\n"
        );
        wasio.drop_all([reader, writer]).await;
    })
    .await;
}

fn soon_duration() -> Option<std::time::Duration> {
    soon().map(std::time::Duration::from_nanos)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_readexactly_waits_without_allocating_its_size() {
    within(async {
        let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let mut wasio = instance(&loopback_host(None)).await;
        let (reader, writer) = wasio.connect(addr).await;
        let before = wasio.store.data().instance_limits().memory_in_use();
        wasio.write(writer, b"abc\n").await;
        let api = wasio.api();
        let reader_api = api.wasio_streams_streams().stream_reader();
        let waited = reader_api
            .call_blocking_readexactly(&mut wasio.store, reader, i64::MAX, Some(100_000_000))
            .await
            .unwrap();
        assert!(matches!(waited, Err(WitError::TimedOut)), "{waited:?}");
        let after = wasio.store.data().instance_limits().memory_in_use();
        assert!(
            after - before < 1 << 20,
            "memory grew from {before} to {after}"
        );
        // The three bytes are still there for a sensible read.
        let got = reader_api
            .call_blocking_readexactly(&mut wasio.store, reader, 3, soon())
            .await
            .unwrap();
        assert_eq!(got.unwrap(), b"abc");
        wasio.drop_all([reader, writer]).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_writer_refuses_writes_with_closed() {
    within(async {
        let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let mut wasio = instance(&loopback_host(None)).await;
        let (reader, writer) = wasio.connect(addr).await;
        let api = wasio.api();
        let writer_api = api.wasio_streams_streams().stream_writer();
        writer_api
            .call_close(&mut wasio.store, writer)
            .await
            .unwrap();
        writer_api
            .call_close(&mut wasio.store, writer)
            .await
            .unwrap();
        let write = writer_api
            .call_write(&mut wasio.store, writer, b"late")
            .await
            .unwrap();
        assert!(matches!(write, Err(WitError::Closed)), "{write:?}");
        let lines = writer_api
            .call_writelines(&mut wasio.store, writer, &[b"a".to_vec()])
            .await
            .unwrap();
        assert!(matches!(lines, Err(WitError::Closed)), "{lines:?}");
        let drain = writer_api
            .call_blocking_drain(&mut wasio.store, writer, soon())
            .await
            .unwrap();
        // Closed with nothing buffered, the socket is gone: asyncio's
        // "Connection lost".
        assert!(matches!(drain, Err(WitError::ConnectionReset)), "{drain:?}");
        // write-eof after close does nothing; waiting for the close works.
        writer_api
            .call_write_eof(&mut wasio.store, writer)
            .await
            .unwrap()
            .unwrap();
        writer_api
            .call_blocking_wait_closed(&mut wasio.store, writer, soon())
            .await
            .unwrap()
            .unwrap();
        // The reader sees end of file once the stream is closed.
        assert_eq!(wasio.readline(reader, soon_duration()).await.unwrap(), b"");
        wasio.drop_all([reader, writer]).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_and_writers_drop_in_either_order_without_a_leak() {
    within(async {
        let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let mut wasio = instance(&loopback_host(None)).await;
        let baseline = baseline(&mut wasio, addr).await;
        for round in 0..4 {
            let (reader, writer) = wasio.connect(addr).await;
            wasio.write(writer, b"ping\n").await;
            if round % 2 == 1 {
                assert_eq!(
                    wasio.readline(reader, soon_duration()).await.unwrap(),
                    b"ping\n"
                );
            }
            let order = if round < 2 {
                [reader, writer]
            } else {
                [writer, reader]
            };
            wasio.drop_all(order).await;
            // The writer's drop sends what is buffered and lets the socket go.
            assert_eq!(resources(&mut wasio).await, baseline, "round {round}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_outlives_its_dropped_writer_and_reads_to_the_end() {
    within(async {
        let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let mut wasio = instance(&loopback_host(None)).await;
        let baseline = baseline(&mut wasio, addr).await;
        let (reader, writer) = wasio.connect(addr).await;
        wasio.write(writer, b"last words\n").await;
        assert_eq!(
            wasio.readline(reader, soon_duration()).await.unwrap(),
            b"last words\n"
        );
        wasio.drop_all([writer]).await;
        // Dropping the writer closed the stream, as asyncio's writer does
        // when it goes away: the reader is at end of file, not broken.
        assert_eq!(wasio.readline(reader, soon_duration()).await.unwrap(), b"");
        let api = wasio.api();
        let reader_api = api.wasio_streams_streams().stream_reader();
        assert!(
            reader_api
                .call_at_eof(&mut wasio.store, reader)
                .await
                .unwrap()
        );
        wasio.drop_all([reader]).await;
        assert_eq!(resources(&mut wasio).await, baseline);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_dropped_before_its_connections_leaves_them_working() {
    within(async {
        let echo = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let mut wasio = instance(&loopback_host(None)).await;
        let baseline = baseline(&mut wasio, echo).await;
        let api = wasio.api();
        let server_api = api.wasio_streams_streams().server();
        let (server, bound) = wasio.start_server(Some("127.0.0.1")).await;
        let [address] = bound[..] else {
            panic!("{bound:?}")
        };
        let client = tokio::spawn(async move {
            let stream = TcpStream::connect(address).await.unwrap();
            let (read, mut write) = stream.into_split();
            write.write_all(b"hello\n").await.unwrap();
            let mut lines = BufReader::new(read).lines();
            (
                lines.next_line().await.unwrap(),
                lines.next_line().await.unwrap(),
            )
        });
        let (reader, writer) = server_api
            .call_blocking_accept(&mut wasio.store, server, soon())
            .await
            .unwrap()
            .unwrap();
        wasio.drop_all([server]).await;
        // Nobody listens any more, but the accepted connection goes on.
        let refused = TcpStream::connect(address).await;
        assert!(refused.is_err(), "the listening socket is gone");
        let line = wasio.readline(reader, soon_duration()).await.unwrap();
        wasio.write(writer, &line).await;
        wasio.drop_all([writer, reader]).await;
        let (echo, end) = client.await.unwrap();
        assert_eq!(echo.as_deref(), Some("hello"));
        assert_eq!(end, None);
        assert_eq!(resources(&mut wasio).await, baseline);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_attempt_can_be_dropped_half_way() {
    within(async {
        let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let mut wasio = instance(&loopback_host(None)).await;
        let baseline = baseline(&mut wasio, addr).await;
        let api = wasio.api();
        let tcp = api.wasio_streams_tcp();
        for _ in 0..3 {
            let connecting = tcp
                .call_open_connection(&mut wasio.store, "127.0.0.1", addr.port(), None)
                .await
                .unwrap()
                .unwrap();
            wasio.drop_all([connecting]).await;
        }
        // Finished, then asked again: a clear error.
        let connecting = tcp
            .call_open_connection(&mut wasio.store, "127.0.0.1", addr.port(), None)
            .await
            .unwrap()
            .unwrap();
        let connecting_api = tcp.connecting();
        let pair = loop {
            match connecting_api
                .call_finish(&mut wasio.store, connecting)
                .await
                .unwrap()
            {
                Err(WitError::WouldBlock) => {
                    let pollable = connecting_api
                        .call_subscribe(&mut wasio.store, connecting)
                        .await
                        .unwrap();
                    wasio.block(pollable).await;
                }
                other => break other.unwrap(),
            }
        };
        let again = connecting_api
            .call_finish(&mut wasio.store, connecting)
            .await
            .unwrap();
        assert!(
            matches!(again, Err(WitError::InvalidState(_))),
            "{:?}",
            again.err()
        );
        wasio.drop_all([connecting, pair.0, pair.1]).await;
        assert_eq!(resources(&mut wasio).await, baseline);
    })
    .await;
}

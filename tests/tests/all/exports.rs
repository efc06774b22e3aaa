//! The `wasio:streams` exports, called from the host as another component
//! would call them: blocking and non-blocking forms, pollables, timeouts,
//! half-close, servers, errors, against native tokio peers.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use wasio_host::Host;
use wasio_tests::component::{SOON, SocketAddress, WitError, exports, instance};
use wasio_tests::peers::{self, Behaviour};
use wasio_tests::{loopback_host, within};
use wasmtime::component::Resource;
use wasmtime_wasi::p2::DynPollable;

fn unspecified() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_forms_read_lines_separators_and_exact_sizes() {
    within(async {
        let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let mut wasio = instance(&loopback_host(None)).await;
        let (reader, writer) = wasio.connect(addr).await;
        wasio
            .write(writer, b"first line\nsecond\r\nexactly12345\n")
            .await;
        assert_eq!(wasio.readline(reader, None).await.unwrap(), b"first line\n");
        let api = wasio.api();
        let reader_api = api.wasio_streams_streams().stream_reader();
        let line = reader_api
            .call_blocking_readuntil(
                &mut wasio.store,
                reader,
                &[b"\n".to_vec(), b"\r\n".to_vec()],
                None,
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(line, b"second\r\n");
        let exact = reader_api
            .call_blocking_readexactly(&mut wasio.store, reader, 12, None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(exact, b"exactly12345");
        assert_eq!(wasio.readline(reader, None).await.unwrap(), b"\n");

        let writer_api = api.wasio_streams_streams().stream_writer();
        let info = writer_api
            .call_get_extra_info(&mut wasio.store, writer)
            .await
            .unwrap();
        match info.peername {
            Some(SocketAddress::Ip(peer)) => assert_eq!(SocketAddr::from(peer), addr),
            other => panic!("peername {other:?}"),
        }
        writer_api
            .call_close(&mut wasio.store, writer)
            .await
            .unwrap();
        writer_api
            .call_blocking_wait_closed(&mut wasio.store, writer, Some(SOON.as_nanos() as u64))
            .await
            .unwrap()
            .expect("closed");
        assert!(
            writer_api
                .call_is_closing(&mut wasio.store, writer)
                .await
                .unwrap()
        );
        wasio.drop_all([reader, writer]).await;
    })
    .await;
}

/// A peer that sends `first`, waits for a signal, sends `second`, then
/// echoes lines.
async fn paced_peer(
    first: &'static [u8],
    second: &'static [u8],
) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = TcpListener::bind(unspecified()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (go, wait) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        stream.write_all(first).await.unwrap();
        let _ = wait.await;
        stream.write_all(second).await.unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
    });
    (addr, go)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonblocking_forms_answer_would_block_and_keep_their_progress() {
    within(async {
        let (addr, go) = paced_peer(b"hel", b"lo\nworld\n").await;
        let mut go = Some(go);
        let mut wasio = instance(&loopback_host(None)).await;
        let api = wasio.api();
        let tcp = api.wasio_streams_tcp();
        let reader_api = api.wasio_streams_streams().stream_reader();

        // Connect without blocking: finish until it stops saying would-block.
        let connecting = tcp
            .call_open_connection(&mut wasio.store, "127.0.0.1", addr.port(), None)
            .await
            .unwrap()
            .unwrap();
        let connecting_api = tcp.connecting();
        let mut attempts = 0;
        let (reader, writer) = loop {
            attempts += 1;
            assert!(attempts < 100, "connect never finished");
            match connecting_api
                .call_finish(&mut wasio.store, connecting)
                .await
                .unwrap()
            {
                Ok(pair) => break pair,
                Err(WitError::WouldBlock) => {
                    let pollable = connecting_api
                        .call_subscribe(&mut wasio.store, connecting)
                        .await
                        .unwrap();
                    wasio.block(pollable).await;
                }
                Err(other) => panic!("connect failed: {other:?}"),
            }
        };
        wasio.drop_all([connecting]).await;

        // "hel" arrives: the line is not complete, readline would block.
        let mut blocked = 0;
        let line = loop {
            match reader_api
                .call_readline(&mut wasio.store, reader)
                .await
                .unwrap()
            {
                Ok(line) => break line,
                Err(WitError::WouldBlock) => {
                    blocked += 1;
                    assert!(blocked < 100, "readline never completed");
                    if blocked == 2 {
                        go.take().unwrap().send(()).unwrap();
                    }
                    let pollable = reader_api
                        .call_subscribe(&mut wasio.store, reader)
                        .await
                        .unwrap();
                    if blocked > 2 {
                        wasio.block(pollable).await;
                    } else {
                        wasio.store.data_mut().table().delete(pollable).unwrap();
                    }
                }
                Err(other) => panic!("readline failed: {other:?}"),
            }
        };
        assert_eq!(line, b"hello\n", "the bytes seen while blocked are kept");
        assert!(blocked >= 2);
        assert_eq!(wasio.readline(reader, None).await.unwrap(), b"world\n");
        // Nothing waits now: subscribe is ready at once.
        let pollable = reader_api
            .call_subscribe(&mut wasio.store, reader)
            .await
            .unwrap();
        wasio.block(pollable).await;
        wasio.drop_all([reader, writer]).await;
    })
    .await;
}

/// A pollable handed out for one reader stays true while the caller goes
/// on calling other streams (as an event loop subscribes to each waiting
/// task in turn): the bytes it stands for are left to the read it
/// announces, not taken in by a read-ahead that leaves it unready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_readers_pollable_survives_calls_on_other_streams() {
    within(async {
        let listener = TcpListener::bind(unspecified()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut wasio = instance(&loopback_host(None)).await;
        let (reader_a, writer_a) = wasio.connect(addr).await;
        let (mut peer_a, _) = listener.accept().await.unwrap();
        let (reader_b, writer_b) = wasio.connect(addr).await;
        let (_peer_b, _) = listener.accept().await.unwrap();
        let api = wasio.api();
        let reader_api = api.wasio_streams_streams().stream_reader();
        let would_block = |answer: Result<Vec<u8>, WitError>| {
            assert!(matches!(answer, Err(WitError::WouldBlock)), "{answer:?}");
        };

        would_block(
            reader_api
                .call_readline(&mut wasio.store, reader_a)
                .await
                .unwrap(),
        );
        let pollable_a = reader_api
            .call_subscribe(&mut wasio.store, reader_a)
            .await
            .unwrap();
        peer_a.write_all(b"for a\n").await.unwrap();
        // B's calls turn wasio's event loop while A's line arrives.
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            would_block(
                reader_api
                    .call_readline(&mut wasio.store, reader_b)
                    .await
                    .unwrap(),
            );
            let pollable_b = reader_api
                .call_subscribe(&mut wasio.store, reader_b)
                .await
                .unwrap();
            wasio.store.data_mut().table().delete(pollable_b).unwrap();
        }
        wasio.block(pollable_a).await;
        let line = reader_api
            .call_readline(&mut wasio.store, reader_a)
            .await
            .unwrap();
        assert_eq!(line.unwrap(), b"for a\n");
        wasio
            .drop_all([reader_a, writer_a, reader_b, writer_b])
            .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_read_times_out_and_a_later_call_gets_the_line() {
    within(async {
        let (addr, go) = paced_peer(b"partial", b" line\n").await;
        let mut wasio = instance(&loopback_host(None)).await;
        let (reader, writer) = wasio.connect(addr).await;
        let timed_out = wasio
            .readline(reader, Some(Duration::from_millis(100)))
            .await;
        assert!(
            matches!(timed_out, Err(WitError::TimedOut)),
            "{timed_out:?}"
        );
        go.send(()).unwrap();
        assert_eq!(
            wasio.readline(reader, Some(SOON)).await.unwrap(),
            b"partial line\n"
        );
        wasio.drop_all([reader, writer]).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_eof_half_closes_and_the_reply_still_arrives() {
    within(async {
        let listener = TcpListener::bind(unspecified()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut received = Vec::new();
            stream.read_to_end(&mut received).await.unwrap();
            stream
                .write_all(format!("got {} bytes\n", received.len()).as_bytes())
                .await
                .unwrap();
            stream.shutdown().await.unwrap();
            received
        });
        let mut wasio = instance(&loopback_host(None)).await;
        let (reader, writer) = wasio.connect(addr).await;
        let api = wasio.api();
        let writer_api = api.wasio_streams_streams().stream_writer();
        let reader_api = api.wasio_streams_streams().stream_reader();
        wasio.write(writer, b"request body").await;
        assert!(
            writer_api
                .call_can_write_eof(&mut wasio.store, writer)
                .await
                .unwrap()
        );
        writer_api
            .call_write_eof(&mut wasio.store, writer)
            .await
            .unwrap()
            .unwrap();
        let refused = writer_api
            .call_write(&mut wasio.store, writer, b"more")
            .await
            .unwrap();
        assert!(
            matches!(refused, Err(WitError::InvalidState(_))),
            "{refused:?}"
        );
        assert_eq!(
            wasio.readline(reader, Some(SOON)).await.unwrap(),
            b"got 12 bytes\n"
        );
        assert_eq!(wasio.readline(reader, Some(SOON)).await.unwrap(), b"");
        assert!(
            reader_api
                .call_at_eof(&mut wasio.store, reader)
                .await
                .unwrap()
        );
        assert_eq!(peer.await.unwrap(), b"request body");
        wasio.drop_all([reader, writer]).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_accepts_native_clients_and_closes() {
    within(async {
        let mut wasio = instance(&loopback_host(None)).await;
        let api = wasio.api();
        let server_api = api.wasio_streams_streams().server();
        let (server, bound) = wasio.start_server(Some("127.0.0.1")).await;
        let [bound] = bound[..] else {
            panic!("one IPv4 socket expected, got {bound:?}")
        };
        assert_ne!(bound.port(), 0, "port 0 is replaced by the chosen port");

        let nothing = server_api
            .call_accept(&mut wasio.store, server)
            .await
            .unwrap();
        assert!(matches!(nothing, Err(WitError::WouldBlock)));

        let client = tokio::spawn(async move {
            let stream = TcpStream::connect(bound).await.unwrap();
            let (read, mut write) = stream.into_split();
            write.write_all(b"ping\n").await.unwrap();
            let mut lines = BufReader::new(read).lines();
            let reply = lines.next_line().await.unwrap();
            let end = lines.next_line().await.unwrap();
            (reply, end)
        });
        let pollables = server_api
            .call_subscribe(&mut wasio.store, server)
            .await
            .unwrap();
        assert_eq!(pollables.len(), 1);
        for pollable in pollables {
            wasio.block(pollable).await;
        }
        let (reader, writer) = server_api
            .call_blocking_accept(&mut wasio.store, server, Some(SOON.as_nanos() as u64))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(wasio.readline(reader, Some(SOON)).await.unwrap(), b"ping\n");
        wasio.write(writer, b"pong\n").await;

        server_api
            .call_close(&mut wasio.store, server)
            .await
            .unwrap();
        assert!(
            !server_api
                .call_is_serving(&mut wasio.store, server)
                .await
                .unwrap()
        );
        let refused = server_api
            .call_accept(&mut wasio.store, server)
            .await
            .unwrap();
        assert!(matches!(refused, Err(WitError::Closed)), "{refused:?}");
        // Closing the server leaves the accepted client: wait-closed waits for it.
        let waiting = server_api
            .call_wait_closed(&mut wasio.store, server)
            .await
            .unwrap();
        assert!(matches!(waiting, Err(WitError::WouldBlock)), "{waiting:?}");
        server_api
            .call_close_clients(&mut wasio.store, server)
            .await
            .unwrap();
        server_api
            .call_blocking_wait_closed(&mut wasio.store, server, Some(SOON.as_nanos() as u64))
            .await
            .unwrap()
            .expect("every client closed");
        let (reply, end) = client.await.unwrap();
        assert_eq!(reply.as_deref(), Some("pong"));
        assert_eq!(end, None, "close-clients sent end of file after the reply");
        wasio.drop_all([reader, writer, server]).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_reader_is_fed_by_the_caller() {
    within(async {
        let mut wasio = instance(&loopback_host(None)).await;
        let api = wasio.api();
        let reader_api = api.wasio_streams_streams().stream_reader();
        let invalid = reader_api
            .call_create(&mut wasio.store, Some(0))
            .await
            .unwrap();
        assert!(
            matches!(invalid, Err(WitError::InvalidArgument(_))),
            "{invalid:?}"
        );
        let reader = reader_api
            .call_create(&mut wasio.store, Some(8))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            reader_api
                .call_limit(&mut wasio.store, reader)
                .await
                .unwrap(),
            8
        );
        reader_api
            .call_feed_data(&mut wasio.store, reader, b"short\nmuch too long\nta")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            reader_api
                .call_readline(&mut wasio.store, reader)
                .await
                .unwrap()
                .unwrap(),
            b"short\n"
        );
        let overrun = reader_api
            .call_readline(&mut wasio.store, reader)
            .await
            .unwrap();
        assert!(
            matches!(overrun, Err(WitError::LimitOverrun(ref o)) if o.separator_found && o.consumed == 13),
            "{overrun:?}"
        );
        // Nothing can feed it while this component blocks: no waiting, no hang.
        let blocked = reader_api
            .call_blocking_readline(&mut wasio.store, reader, None)
            .await
            .unwrap();
        assert!(matches!(blocked, Err(WitError::WouldBlock)), "{blocked:?}");
        reader_api
            .call_feed_eof(&mut wasio.store, reader)
            .await
            .unwrap();
        let late = reader_api
            .call_feed_data(&mut wasio.store, reader, b"x")
            .await
            .unwrap();
        assert!(matches!(late, Err(WitError::InvalidState(_))), "{late:?}");
        assert_eq!(
            reader_api
                .call_readline(&mut wasio.store, reader)
                .await
                .unwrap()
                .unwrap(),
            b"ta"
        );
        assert!(
            reader_api
                .call_at_eof(&mut wasio.store, reader)
                .await
                .unwrap()
        );
        reader_api
            .call_set_exception(
                &mut wasio.store,
                reader,
                &WitError::Other("given up".into()),
            )
            .await
            .unwrap();
        let failed = reader_api
            .call_read(&mut wasio.store, reader, 1)
            .await
            .unwrap();
        assert!(
            matches!(failed, Err(WitError::Other(ref m)) if m == "given up"),
            "{failed:?}"
        );
        wasio.drop_all([reader]).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_asyncio_information() {
    within(async {
        let listener = TcpListener::bind(unspecified()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.write_all(b"12345").await.unwrap();
            stream.shutdown().await.unwrap();
            let mut rest = Vec::new();
            let _ = stream.read_to_end(&mut rest).await;
        });
        let mut wasio = instance(&loopback_host(None)).await;
        let (reader, writer) = wasio.connect(addr).await;
        let api = wasio.api();
        let reader_api = api.wasio_streams_streams().stream_reader();
        let empty = reader_api
            .call_readuntil(&mut wasio.store, reader, &[])
            .await
            .unwrap();
        assert!(
            matches!(empty, Err(WitError::InvalidArgument(_))),
            "{empty:?}"
        );
        let negative = reader_api
            .call_readexactly(&mut wasio.store, reader, -1)
            .await
            .unwrap();
        assert!(
            matches!(negative, Err(WitError::InvalidArgument(_))),
            "{negative:?}"
        );
        let short = reader_api
            .call_blocking_readexactly(&mut wasio.store, reader, 10, None)
            .await
            .unwrap();
        match short {
            Err(WitError::IncompleteRead(e)) => {
                assert_eq!(e.partial, b"12345");
                assert_eq!(e.expected, Some(10));
            }
            other => panic!("{other:?}"),
        }
        wasio.drop_all([reader, writer]).await;

        // Nothing listens on a port just released.
        let closed = TcpListener::bind(unspecified())
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let refused = api
            .wasio_streams_tcp()
            .call_blocking_open_connection(&mut wasio.store, "127.0.0.1", closed.port(), None)
            .await
            .unwrap();
        assert!(
            matches!(refused, Err(WitError::ConnectionRefused)),
            "{:?}",
            refused.err()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_connection_and_server_through_the_exports() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let native = dir.path().join("native.sock");
        peers::unix(&native, Behaviour::LineEcho).await.unwrap();
        let mut wasio = instance(&loopback_host(Some(dir.path()))).await;
        let api = wasio.api();
        let unix = api.wasio_streams_unix_streams();
        let (reader, writer) = unix
            .call_open_unix_connection(&mut wasio.store, &native.display().to_string(), None)
            .await
            .unwrap()
            .unwrap();
        wasio.write(writer, b"over unix\n").await;
        assert_eq!(
            wasio.readline(reader, Some(SOON)).await.unwrap(),
            b"over unix\n"
        );
        let info = api
            .wasio_streams_streams()
            .stream_writer()
            .call_get_extra_info(&mut wasio.store, writer)
            .await
            .unwrap();
        match info.peername {
            Some(SocketAddress::Unix(path)) => assert_eq!(path, native.display().to_string()),
            other => panic!("peername {other:?}"),
        }
        wasio.drop_all([reader, writer]).await;

        let path = dir.path().join("guest.sock");
        let server_api = api.wasio_streams_streams().server();
        let server = unix
            .call_start_unix_server(&mut wasio.store, &path.display().to_string(), None)
            .await
            .unwrap()
            .unwrap();
        let client = tokio::spawn({
            let path = path.clone();
            async move {
                let mut stream = tokio::net::UnixStream::connect(path).await.unwrap();
                stream.write_all(b"hi guest\n").await.unwrap();
                let mut reply = String::new();
                BufReader::new(stream).read_line(&mut reply).await.unwrap();
                reply
            }
        });
        let (reader, writer) = server_api
            .call_blocking_accept(&mut wasio.store, server, Some(SOON.as_nanos() as u64))
            .await
            .unwrap()
            .unwrap();
        let line = wasio.readline(reader, Some(SOON)).await.unwrap();
        wasio.write(writer, &line).await;
        let writer_api = api.wasio_streams_streams().stream_writer();
        writer_api
            .call_blocking_drain(&mut wasio.store, writer, Some(SOON.as_nanos() as u64))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(client.await.unwrap(), "hi guest\n");
        writer_api
            .call_close(&mut wasio.store, writer)
            .await
            .unwrap();
        writer_api
            .call_blocking_wait_closed(&mut wasio.store, writer, Some(SOON.as_nanos() as u64))
            .await
            .unwrap()
            .unwrap();
        wasio.drop_all([reader, writer, server]).await;
        assert!(!path.exists(), "the socket file goes with the server");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_poll_loop_drives_two_hundred_streams() {
    within(async {
        const STREAMS: usize = 200;
        let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let mut wasio = instance(&loopback_host(None)).await;
        let api = wasio.api();
        let reader_api = api.wasio_streams_streams().stream_reader();
        let mut streams = Vec::new();
        for i in 0..STREAMS {
            let (reader, writer) = wasio.connect(addr).await;
            wasio
                .write(writer, format!("stream {i}\n").as_bytes())
                .await;
            streams.push((reader, writer, None));
        }
        // Poll every unfinished stream's readline at once, as an event loop would.
        for _round in 0..1000 {
            let mut waiting = Vec::new();
            for (i, (reader, _, line)) in streams.iter_mut().enumerate() {
                if line.is_some() {
                    continue;
                }
                match reader_api
                    .call_readline(&mut wasio.store, *reader)
                    .await
                    .unwrap()
                {
                    Ok(got) => *line = Some(got),
                    Err(WitError::WouldBlock) => {
                        waiting.push((
                            i,
                            reader_api
                                .call_subscribe(&mut wasio.store, *reader)
                                .await
                                .unwrap(),
                        ));
                    }
                    Err(other) => panic!("stream {i}: {other:?}"),
                }
            }
            if waiting.is_empty() {
                break;
            }
            let table = wasio.store.data_mut().table();
            let borrowed = waiting
                .iter()
                .map(|(_, p)| Resource::<DynPollable>::new_borrow(p.rep()))
                .collect();
            tokio::time::timeout(
                SOON,
                wasmtime_wasi::p2::bindings::io::poll::Host::poll(table, borrowed),
            )
            .await
            .expect("some stream became ready")
            .unwrap();
            for (_, pollable) in waiting {
                table.delete(pollable).unwrap();
            }
        }
        for (i, (reader, writer, line)) in streams.into_iter().enumerate() {
            assert_eq!(line.as_deref(), Some(format!("stream {i}\n").as_bytes()));
            wasio.drop_all([reader, writer]).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buffered_writes_flush_while_blocked_on_another_stream() {
    within(async {
        // Peer B must receive a whole MiB before peer A sends the line the
        // component is blocked on: only a background flush of B's buffer while
        // waiting on A lets this finish.
        const SIZE: usize = 1 << 20;
        let (addr_a, go) = paced_peer(b"", b"now\n").await;
        let listener = TcpListener::bind(unspecified()).await.unwrap();
        let addr_b = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut received = vec![0; SIZE];
            stream.read_exact(&mut received).await.unwrap();
            go.send(()).unwrap();
        });
        let mut wasio = instance(&loopback_host(None)).await;
        let (reader_a, writer_a) = wasio.connect(addr_a).await;
        let (reader_b, writer_b) = wasio.connect(addr_b).await;
        wasio.write(writer_b, &vec![7; SIZE]).await;
        assert_eq!(
            wasio.readline(reader_a, Some(SOON)).await.unwrap(),
            b"now\n"
        );
        wasio
            .drop_all([reader_a, writer_a, reader_b, writer_b])
            .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_without_a_host_listens_on_every_ipv4_and_ipv6_address() {
    within(async {
        let mut policy = wasio_tests::loopback_policy(None);
        policy.allow_listen("0.0.0.0:*".parse().unwrap());
        policy.allow_listen("[::]:*".parse().unwrap());
        let host = Host::new(wasio_host::HostConfig {
            policy,
            ..wasio_host::HostConfig::default()
        })
        .unwrap();
        let mut wasio = instance(&host).await;
        let api = wasio.api();
        let server_api = api.wasio_streams_streams().server();
        let (server, mut bound) = wasio.start_server(None).await;
        bound.sort();
        assert_eq!(bound.len(), 2, "{bound:?}");
        assert_eq!(bound[0].ip(), std::net::Ipv4Addr::UNSPECIFIED);
        assert_eq!(bound[1].ip(), std::net::Ipv6Addr::UNSPECIFIED);
        let pollables = server_api
            .call_subscribe(&mut wasio.store, server)
            .await
            .unwrap();
        assert_eq!(pollables.len(), 2, "one pollable per socket");
        // Children of the server's sockets, as in wasi:io: dropped first.
        for pollable in pollables {
            wasio.store.data_mut().table().delete(pollable).unwrap();
        }

        // Reach each socket over loopback.
        let v4 = TcpStream::connect(("127.0.0.1", bound[0].port()))
            .await
            .unwrap();
        let v6 = TcpStream::connect(("::1", bound[1].port())).await.unwrap();
        let mut accepted = Vec::new();
        for _ in 0..2 {
            let (reader, writer) = server_api
                .call_blocking_accept(&mut wasio.store, server, Some(SOON.as_nanos() as u64))
                .await
                .unwrap()
                .unwrap();
            let info = api
                .wasio_streams_streams()
                .stream_writer()
                .call_get_extra_info(&mut wasio.store, writer)
                .await
                .unwrap();
            accepted.push(info.family);
            wasio.drop_all([reader, writer]).await;
        }
        use exports::wasio::streams::types::AddressFamily;
        accepted.sort_by_key(|f| matches!(f, AddressFamily::Ipv6));
        assert!(
            matches!(accepted[..], [AddressFamily::Ipv4, AddressFamily::Ipv6]),
            "{accepted:?}"
        );
        drop((v4, v6));
        wasio.drop_all([server]).await;
    })
    .await;
}

/// `readlines` takes every complete line that has arrived in one call and
/// leaves a partial one; once it waited, it takes every line that came
/// meanwhile; at end of file the partial last line, then nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readlines_returns_every_line_that_has_arrived_in_one_call() {
    within(async {
        let listener = TcpListener::bind(unspecified()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut wasio = instance(&loopback_host(None)).await;
        let (reader, writer) = wasio.connect(addr).await;
        let (mut peer, _) = listener.accept().await.unwrap();
        let api = wasio.api();
        let reader_api = api.wasio_streams_streams().stream_reader();

        peer.write_all(b"one\ntwo\nthr").await.unwrap();
        let lines = reader_api
            .call_blocking_readlines(&mut wasio.store, reader, Some(SOON.as_nanos() as u64))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(lines, b"one\ntwo\n");
        let partial = reader_api
            .call_readlines(&mut wasio.store, reader)
            .await
            .unwrap();
        assert!(matches!(partial, Err(WitError::WouldBlock)), "{partial:?}");

        // The rest of the line and more arrive while the caller waits on
        // the reader's pollable.
        let pollable = reader_api
            .call_subscribe(&mut wasio.store, reader)
            .await
            .unwrap();
        peer.write_all(b"ee\nfour\nfive\nsi").await.unwrap();
        wasio.block(pollable).await;
        let mut attempts = 0;
        let lines = loop {
            attempts += 1;
            assert!(attempts < 100, "readlines never completed");
            match reader_api
                .call_readlines(&mut wasio.store, reader)
                .await
                .unwrap()
            {
                Ok(lines) => break lines,
                Err(WitError::WouldBlock) => {
                    let pollable = reader_api
                        .call_subscribe(&mut wasio.store, reader)
                        .await
                        .unwrap();
                    wasio.block(pollable).await;
                }
                Err(other) => panic!("readlines failed: {other:?}"),
            }
        };
        assert_eq!(lines, b"three\nfour\nfive\n");

        peer.write_all(b"x").await.unwrap();
        peer.shutdown().await.unwrap();
        let mut tail = Vec::new();
        for _ in 0..3 {
            tail.push(
                reader_api
                    .call_blocking_readlines(&mut wasio.store, reader, Some(SOON.as_nanos() as u64))
                    .await
                    .unwrap()
                    .unwrap(),
            );
        }
        assert_eq!(tail, [b"six".to_vec(), Vec::new(), Vec::new()]);
        wasio.drop_all([reader, writer]).await;
    })
    .await;
}

/// On a reader with a limit, `readlines` hands out only lines `readline`
/// would, and reports an over-long one as `readline` does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readlines_keeps_to_the_limit_on_a_standalone_reader() {
    within(async {
        let mut wasio = instance(&loopback_host(None)).await;
        let api = wasio.api();
        let reader_api = api.wasio_streams_streams().stream_reader();
        let reader = reader_api
            .call_create(&mut wasio.store, Some(8))
            .await
            .unwrap()
            .unwrap();
        reader_api
            .call_feed_data(&mut wasio.store, reader, b"ab\ncd\nmuch too long\nok\nta")
            .await
            .unwrap()
            .unwrap();
        let mut answers = Vec::new();
        for _ in 0..4 {
            answers.push(
                reader_api
                    .call_blocking_readlines(&mut wasio.store, reader, None)
                    .await
                    .unwrap(),
            );
        }
        let line = |answer: &Result<Vec<u8>, WitError>, expected: &[u8]| {
            assert!(
                matches!(answer, Ok(bytes) if bytes == expected),
                "{answer:?}"
            );
        };
        line(&answers[0], b"ab\ncd\n");
        assert!(
            matches!(&answers[1], Err(WitError::LimitOverrun(o)) if o.separator_found && o.consumed == 13),
            "{:?}",
            answers[1]
        );
        line(&answers[2], b"ok\n");
        // Nothing can feed a standalone reader while it blocks: no waiting.
        assert!(
            matches!(answers[3], Err(WitError::WouldBlock)),
            "{:?}",
            answers[3]
        );
        reader_api
            .call_feed_eof(&mut wasio.store, reader)
            .await
            .unwrap();
        let last = reader_api
            .call_readlines(&mut wasio.store, reader)
            .await
            .unwrap();
        line(&last, b"ta");
        wasio.drop_all([reader]).await;
    })
    .await;
}

/// `writelines` sends every buffer, in order, from one call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writelines_sends_every_buffer_in_order() {
    within(async {
        let listener = TcpListener::bind(unspecified()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut wasio = instance(&loopback_host(None)).await;
        let (reader, writer) = wasio.connect(addr).await;
        let (mut peer, _) = listener.accept().await.unwrap();
        let api = wasio.api();
        let writer_api = api.wasio_streams_streams().stream_writer();
        writer_api
            .call_writelines(
                &mut wasio.store,
                writer,
                &[b"one\n".to_vec(), Vec::new(), b"two\nthree\n".to_vec()],
            )
            .await
            .unwrap()
            .unwrap();
        writer_api
            .call_write_eof(&mut wasio.store, writer)
            .await
            .unwrap()
            .unwrap();
        writer_api
            .call_blocking_drain(&mut wasio.store, writer, Some(SOON.as_nanos() as u64))
            .await
            .unwrap()
            .unwrap();
        let mut received = Vec::new();
        let mut receiving = std::pin::pin!(peer.read_to_end(&mut received));
        // The component sends while it runs: drive it until the peer has
        // everything and end of file.
        for _ in 0..100 {
            if tokio::time::timeout(Duration::from_millis(20), &mut receiving)
                .await
                .is_ok()
            {
                break;
            }
            let _ = writer_api
                .call_blocking_wait_closed(
                    &mut wasio.store,
                    writer,
                    Some(Duration::from_millis(1).as_nanos() as u64),
                )
                .await
                .unwrap();
        }
        assert_eq!(received, b"one\ntwo\nthree\n");
        wasio.drop_all([reader, writer]).await;
    })
    .await;
}

//! Leaks, measured: one instance of the wasio component (world `wasio`,
//! called through its exports as a consumer component would) opens 1,000
//! connections in a row to a native line-echo peer, over TCP and over Unix
//! sockets, exchanging a line on each, closing it and dropping its
//! resources. After a warm-up of 100 connections, the 1,000 must leave
//! the store's resource table exactly as it was, the guest's linear
//! memory no larger, and the host process's resident memory (VmRSS from
//! /proc/self/status) at most 8 MiB larger. The numbers are printed
//! (`--nocapture` shows them).

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;
use wasio_host::{Host, HostState, ResourceCounts};
use wasio_tests::component::{Instance, WitError, instance};
use wasio_tests::loopback_host;
use wasio_tests::peers::{self, Behaviour};
use wasmtime::Store;
use wasmtime::component::ResourceAny;

const WARM_UP: usize = 100;
const CONNECTIONS: usize = 1000;
const RSS_GROWTH_BOUND: u64 = 8 << 20;
/// How long any one blocking call into the component may wait.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);
/// How long all the connections of one test may take.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Resident memory is measured for the whole process: one measurement at
/// a time.
static MEASURING: Mutex<()> = Mutex::const_new(());

/// Where the connections go.
enum Peer<'a> {
    Tcp(std::net::SocketAddr),
    Unix(&'a Path),
}

/// What the leak test does with one instance of the component.
trait LeakTest {
    async fn round_trip(&mut self, peer: &Peer<'_>, i: usize);
    async fn round_trips(&mut self, peer: &Peer<'_>, count: usize);
    fn snapshot(&mut self) -> Snapshot;
}

impl LeakTest for Instance {
    /// Open a connection, exchange one line, close it, drop its resources.
    async fn round_trip(&mut self, peer: &Peer<'_>, i: usize) {
        let timeout = Some(nanos(CALL_TIMEOUT));
        let api = self.api();
        let opened = match peer {
            Peer::Tcp(addr) => {
                api.wasio_streams_tcp()
                    .call_blocking_open_connection(
                        &mut self.store,
                        &addr.ip().to_string(),
                        addr.port(),
                        None,
                    )
                    .await
            }
            Peer::Unix(path) => {
                api.wasio_streams_unix_streams()
                    .call_open_unix_connection(&mut self.store, &path.to_string_lossy(), None)
                    .await
            }
        };
        let (reader, writer) = wit(opened, "open a connection");
        let streams = api.wasio_streams_streams();
        let line = format!("line {i}\n").into_bytes();
        wit(
            streams
                .stream_writer()
                .call_write(&mut self.store, writer, &line)
                .await,
            "write",
        );
        let echoed = wit(
            streams
                .stream_reader()
                .call_blocking_readline(&mut self.store, reader, timeout)
                .await,
            "blocking-readline",
        );
        assert_eq!(echoed, line, "the echo of line {i}");
        streams
            .stream_writer()
            .call_close(&mut self.store, writer)
            .await
            .expect("close");
        wit(
            streams
                .stream_writer()
                .call_blocking_wait_closed(&mut self.store, writer, timeout)
                .await,
            "blocking-wait-closed",
        );
        drop_resource(&mut self.store, reader).await;
        drop_resource(&mut self.store, writer).await;
    }

    async fn round_trips(&mut self, peer: &Peer<'_>, count: usize) {
        for i in 0..count {
            self.round_trip(peer, i).await;
        }
    }

    fn snapshot(&mut self) -> Snapshot {
        let data = self.store.data_mut();
        Snapshot {
            resources: data.resources(),
            guest_memory: data.instance_limits().memory_in_use(),
            rss: resident_bytes(),
        }
    }
}

fn wit<T>(result: wasmtime::Result<Result<T, WitError>>, what: &str) -> T {
    match result {
        Ok(Ok(value)) => value,
        Ok(Err(error)) => panic!("{what}: {error:?}"),
        Err(trap) => panic!("{what} trapped: {trap:?}"),
    }
}

async fn drop_resource(store: &mut Store<HostState>, resource: ResourceAny) {
    resource
        .resource_drop_async(&mut *store)
        .await
        .expect("drop a resource");
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[derive(Debug)]
struct Snapshot {
    resources: ResourceCounts,
    guest_memory: usize,
    rss: u64,
}

/// The process's resident set size in bytes.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse::<u64>().ok())
        .expect("a VmRSS line in kB");
    kib * 1024
}

/// Warm up, then measure 1,000 sequential connections to `peer`.
async fn measure(host: &Host, peer: Peer<'_>, transport: &str) {
    let _alone = MEASURING.lock().await;
    let mut instance = instance(host).await;
    let (before, after, elapsed) = tokio::time::timeout(TEST_TIMEOUT, async {
        instance.round_trips(&peer, WARM_UP).await;
        let before = instance.snapshot();
        let started = Instant::now();
        instance.round_trips(&peer, CONNECTIONS).await;
        let elapsed = started.elapsed();
        (before, instance.snapshot(), elapsed)
    })
    .await
    .expect("1,100 connections within the test's time");

    println!(
        "{transport}: {CONNECTIONS} connections in {elapsed:?} ({:?} each)",
        elapsed / CONNECTIONS as u32
    );
    println!("{transport}: resources before {:?}", before.resources);
    println!("{transport}: resources after  {:?}", after.resources);
    println!(
        "{transport}: guest memory {} -> {} bytes; host RSS {} -> {} KiB ({:+} KiB)",
        before.guest_memory,
        after.guest_memory,
        before.rss / 1024,
        after.rss / 1024,
        (after.rss as i64 - before.rss as i64) / 1024
    );

    assert_eq!(after.resources, before.resources, "the resource table grew");
    assert_eq!(after.resources.tcp_sockets, 0, "a TCP socket is left open");
    assert_eq!(
        after.resources.unix_sockets, 0,
        "a Unix socket is left open"
    );
    assert_eq!(after.guest_memory, before.guest_memory, "guest memory grew");
    let growth = after.rss.saturating_sub(before.rss);
    assert!(
        growth < RSS_GROWTH_BOUND,
        "host memory grew by {} KiB over {CONNECTIONS} connections",
        growth / 1024
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_sequential_tcp_connections_leave_no_resources_or_memory_behind() {
    let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
    measure(&loopback_host(None), Peer::Tcp(addr), "tcp").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_sequential_unix_connections_leave_no_resources_or_memory_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("echo.sock");
    peers::unix(&path, Behaviour::LineEcho).await.unwrap();
    measure(&loopback_host(Some(dir.path())), Peer::Unix(&path), "unix").await;
}

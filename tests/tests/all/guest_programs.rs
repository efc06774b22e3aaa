//! Guest-side test programs (wasio's Rust API inside a component) against
//! native tokio peers, run in-process by the wasio host.

use wasio_tests::hostile::Transport;
use wasio_tests::peers::{self, Behaviour};
use wasio_tests::{loopback_host, run_program, target, within};

use crate::support::{over_tcp_and_unix, programs};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_lines_over_ipv4() {
    within(async {
        let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let code = run_program(
            &loopback_host(None),
            programs::CLIENT_LINES,
            &[target(addr), "1000".into()],
        )
        .await;
        assert_eq!(code, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_lines_over_ipv6() {
    within(async {
        let addr = peers::tcp("::1", Behaviour::LineEcho).await.unwrap();
        let code = run_program(
            &loopback_host(None),
            programs::CLIENT_LINES,
            &[target(addr), "100".into()],
        )
        .await;
        assert_eq!(code, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_lines_to_localhost_by_name() {
    within(async {
        let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let name = format!("localhost:{}", addr.port());
        let code = run_program(
            &loopback_host(None),
            programs::CLIENT_LINES,
            &[name, "100".into()],
        )
        .await;
        assert_eq!(code, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_lines_over_unix() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("echo.sock");
        peers::unix(&path, Behaviour::LineEcho).await.unwrap();
        let target = format!("unix:{}", path.display());
        let code = run_program(
            &loopback_host(Some(dir.path())),
            programs::CLIENT_LINES,
            &[target, "1000".into()],
        )
        .await;
        assert_eq!(code, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_clients_in_one_component() {
    within(async {
        let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let args = [target(addr), "150".into(), "20".into()];
        let code = run_program(&loopback_host(None), programs::CONCURRENT_CLIENTS, &args).await;
        assert_eq!(code, 0);
    })
    .await;
}

async fn bulk_transfer_64_mib_each_way(transport: Transport) {
    let dir = tempfile::tempdir().unwrap();
    let (target, unix_dir) = match transport {
        Transport::Tcp => {
            let addr = peers::tcp("127.0.0.1", Behaviour::HashThenSend { mib: 64 })
                .await
                .unwrap();
            (target(addr), None)
        }
        Transport::Unix => {
            let path = dir.path().join("bulk.sock");
            peers::unix(&path, Behaviour::HashThenSend { mib: 64 })
                .await
                .unwrap();
            (format!("unix:{}", path.display()), Some(dir.path()))
        }
    };
    let args = [target, "64".into()];
    let code = run_program(&loopback_host(unix_dir), programs::BULK_TRANSFER, &args).await;
    assert_eq!(code, 0);
}

over_tcp_and_unix! {
    bulk_transfer_64_mib_each_way => bulk_transfer_64_mib_each_way;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn futures_io_traits_and_asyncio_reads_share_one_buffer() {
    within(async {
        let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let code = run_program(&loopback_host(None), programs::FUTURES_IO, &[target(addr)]).await;
        assert_eq!(code, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_waiting_read_is_an_error_not_a_hang() {
    within(async {
        let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let code = run_program(
            &loopback_host(None),
            programs::CONCURRENT_READS,
            &[target(addr)],
        )
        .await;
        assert_eq!(code, 0);
    })
    .await;
}

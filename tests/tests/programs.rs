//! Guest-side test programs (wasio's Rust API inside a component) against
//! native tokio peers, run in-process by the wasio host.

use wasio_tests::peers::{self, Behaviour};
use wasio_tests::{loopback_host, run_program, target, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_lines_over_ipv4() {
    within(async {
        let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let code = run_program(
            &loopback_host(None),
            "client_lines",
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
            "client_lines",
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
        let code = run_program(&loopback_host(None), "client_lines", &[name, "100".into()]).await;
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
            "client_lines",
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
        let code = run_program(&loopback_host(None), "concurrent_clients", &args).await;
        assert_eq!(code, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_transfer_64_mib_each_way_over_tcp() {
    within(async {
        let addr = peers::tcp("127.0.0.1", Behaviour::HashThenSend { mib: 64 })
            .await
            .unwrap();
        let code = run_program(
            &loopback_host(None),
            "bulk_transfer",
            &[target(addr), "64".into()],
        )
        .await;
        assert_eq!(code, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_transfer_64_mib_each_way_over_unix() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bulk.sock");
        peers::unix(&path, Behaviour::HashThenSend { mib: 64 })
            .await
            .unwrap();
        let target = format!("unix:{}", path.display());
        let code = run_program(
            &loopback_host(Some(dir.path())),
            "bulk_transfer",
            &[target, "64".into()],
        )
        .await;
        assert_eq!(code, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn futures_io_traits_and_asyncio_reads_share_one_buffer() {
    within(async {
        let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let code = run_program(&loopback_host(None), "futures_io", &[target(addr)]).await;
        assert_eq!(code, 0);
    })
    .await;
}

/// Every program in test-programs/ runs in some test: a program that no
/// test names would silently test nothing.
#[test]
fn every_test_program_has_a_test() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut suites = String::new();
    for entry in std::fs::read_dir(root.join("tests/tests")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            suites.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root.join("test-programs/src/bin")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if !suites.contains(&format!("\"{name}\"")) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "test programs no test runs: {missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_waiting_read_is_an_error_not_a_hang() {
    within(async {
        let addr = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let code = run_program(&loopback_host(None), "concurrent_reads", &[target(addr)]).await;
        assert_eq!(code, 0);
    })
    .await;
}

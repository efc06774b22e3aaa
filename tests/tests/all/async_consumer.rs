//! The WASI 0.3 contract from a consumer's side, as a user runs it:
//! `dist/async-client.composed.wasm` (examples/async-client, which awaits
//! `wasio:streams@0.2.0`'s async funcs, plugged into `wasio-p3.wasm`)
//! under the pinned stock `wasmtime` CLI, where WASI 0.3 is on by
//! default, against a native line-echo peer.

use std::path::PathBuf;
use std::process::Output;

use wasio_tests::peers::{self, Behaviour};
use wasio_tests::{ComponentWorld, closed_port, made_by, stock_cli_output, within};

/// What the example prints for its session with a line-echo peer.
const SESSION: &str = concat!(
    "readline: \"first line\\n\"\n",
    "readlines: \"second line\\nthird line\\n\"\n",
    "readuntil: \"key=\"\n",
    "readuntil: \"value;\"\n",
    "readexactly: \"1234\"\n",
    "readline: \"5678\\n\"\n",
    "readline: limit-overrun, consumed 200, separator found true\n",
    "readline: \"after\\n\"\n",
    "readline: \"from a stream<u8>\\n\"\n",
    "from the server: \"served\\n\"\n",
    "into-stream: \"handed on\\nwhole\\n\"\n",
    "server: closed, serving false\n",
    "read(-1): \"last words\\n\"\n",
    "at-eof: true\n",
    "closed\n",
);

fn composed() -> PathBuf {
    made_by("dist/async-client.composed.wasm", "make build")
}

/// `wasmtime run -S inherit-network dist/async-client.composed.wasm ARGS...`.
async fn async_client(args: &[&str]) -> Output {
    stock_cli_output(&composed(), args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composed_async_client_imports_only_wasi_and_exports_the_0_3_run() {
    within(async {
        let world = ComponentWorld::of(&composed());
        world.assert_imports_only_wasi_with("wasi:sockets/types@0.3.2");
        assert_eq!(world.exports, ["wasi:cli/run@0.3.2"]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composed_async_client_awaits_every_call_of_its_session() {
    within(async {
        let peer = peers::tcp("127.0.0.1", Behaviour::LineEcho).await.unwrap();
        let output = async_client(&["127.0.0.1", &peer.port().to_string()]).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "async-client: {stderr}");
        assert_eq!(String::from_utf8_lossy(&output.stdout), SESSION);
        assert!(stderr.is_empty(), "{stderr}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composed_async_client_reports_a_refused_connection_in_one_line() {
    within(async {
        let output = async_client(&["127.0.0.1", &closed_port().await.to_string()]).await;
        assert!(!output.status.success());
        assert_eq!(output.stdout, b"");
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            "async-client: open-connection: Error::ConnectionRefused\n"
        );
    })
    .await;
}

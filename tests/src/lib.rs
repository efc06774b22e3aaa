//! Shared pieces of the end-to-end suite: where the wasm artifacts are, a
//! host configured for loopback, native peers (tokio servers) that the
//! components talk to, and the guests' standard streams.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub mod component;
pub mod hostile;
pub mod load;
pub mod peers;
pub mod stdio;
pub mod tls_component;

/// The directory holding the wasm artifacts `build.rs` built.
pub fn artifacts() -> PathBuf {
    PathBuf::from(env!("WASIO_ARTIFACTS"))
}

tokio::task_local! {
    /// Set while a test runs on the WASI 0.3 builds ([`on_wasi_0_3`]).
    static WASI_0_3: ();
}

/// Run `test` on the WASI 0.3 builds: every [`artifact`] it asks for is
/// the WASI 0.3 build of that command or test program (an artifact that
/// has none fails the test).
pub async fn on_wasi_0_3<F: Future>(test: F) -> F::Output {
    WASI_0_3.scope((), test).await
}

/// Whether the test runs within [`on_wasi_0_3`].
pub fn running_on_wasi_0_3() -> bool {
    WASI_0_3.try_with(|()| ()).is_ok()
}

/// The name in `dist/` of the command component `name` (`wcat.wasm`):
/// within [`on_wasi_0_3`], its WASI 0.3 build (`wcat-p3.wasm`).
pub fn dist_command(name: &str) -> String {
    match running_on_wasi_0_3() {
        true => name.replace(".wasm", "-p3.wasm"),
        false => name.to_owned(),
    }
}

/// The path of one artifact (`wasio-tcp.wasm`, `client_lines.wasm`, ...):
/// its WASI 0.3 build within [`on_wasi_0_3`].
pub fn artifact(name: &str) -> PathBuf {
    let path = match running_on_wasi_0_3() {
        true => artifacts().join("wasi-0.3").join(name),
        false => artifacts().join(name),
    };
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// A file under the repository root that `make_target` creates (a
/// component in `dist/`, a tool in `.tools/`); a clear failure if missing.
pub fn made_by(relative: &str, make_target: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    assert!(
        path.exists(),
        "{} is missing: run `{make_target}` first",
        path.display()
    );
    path
}

/// The longest a child process may take to start, announce itself or exit.
pub const PROCESS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// A policy allowing what the suite's components need: TCP to and from
/// loopback, name lookups (for `localhost`), and Unix sockets in `unix_dir`.
pub fn loopback_policy(unix_dir: Option<&Path>) -> wasio_host::NetworkPolicy {
    let mut policy = wasio_host::NetworkPolicy::deny_all();
    for rule in ["127.0.0.0/8:*", "[::1]:*"] {
        policy.allow_connect(rule.parse().expect("a valid rule"));
        policy.allow_listen(rule.parse().expect("a valid rule"));
    }
    policy.allow_name_lookup(true);
    if let Some(dir) = unix_dir {
        policy.allow_unix_dir(dir).expect("a Unix directory");
    }
    policy
}

/// A host with [`loopback_policy`] and the default limits.
pub fn loopback_host(unix_dir: Option<&Path>) -> wasio_host::Host {
    wasio_host::Host::new(wasio_host::HostConfig {
        policy: loopback_policy(unix_dir),
        ..wasio_host::HostConfig::default()
    })
    .expect("a host")
}

/// Run the test program `name` (an artifact) with `args`; its exit code.
pub async fn run_program(host: &wasio_host::Host, name: &str, args: &[String]) -> i32 {
    let program = host
        .load(artifact(&format!("{name}.wasm")))
        .expect("load the program");
    let mut argv = vec![name.to_owned()];
    argv.extend_from_slice(args);
    let options = wasio_host::RunOptions {
        args: argv,
        ..wasio_host::RunOptions::default()
    };
    program.run(&options).await.expect("run the program")
}

/// How long any one end-to-end test may take before it counts as hung.
pub const TEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);

/// Run a test body, failing it (instead of hanging the suite) if it takes
/// longer than [`TEST_DEADLINE`].
pub async fn within<T>(body: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_DEADLINE, body)
        .await
        .expect("the test hung: it ran past its deadline")
}

/// `addr` as a test program target argument.
pub fn target(addr: SocketAddr) -> String {
    addr.to_string()
}

/// What a component imports and exports, as `wasm-tools component wit`
/// prints it: the interfaces it names (`wasi:cli/run@0.3.2`), not those it
/// defines inline.
#[derive(Debug)]
pub struct ComponentWorld {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

impl ComponentWorld {
    /// The world of the component at `path`, read with the pinned
    /// `wasm-tools`.
    pub fn of(path: &Path) -> Self {
        let output = std::process::Command::new(made_by(".tools/bin/wasm-tools", "make setup"))
            .args(["component", "wit"])
            .arg(path)
            .output()
            .expect("run wasm-tools");
        assert!(
            output.status.success(),
            "wasm-tools component wit {}",
            path.display()
        );
        let wit = String::from_utf8(output.stdout).expect("UTF-8 WIT");
        let items = |keyword: &str| -> Vec<String> {
            wit.lines()
                .filter_map(|line| line.trim().strip_prefix(keyword)?.strip_suffix(';'))
                .map(str::to_owned)
                .collect()
        };
        Self {
            imports: items("import "),
            exports: items("export "),
        }
    }

    /// Check that it imports nothing but WASI, `wanted` among it.
    pub fn assert_imports_only_wasi_with(&self, wanted: &str) {
        assert!(!self.imports.is_empty());
        for import in &self.imports {
            assert!(import.starts_with("wasi:"), "{import}");
        }
        assert!(
            self.imports.iter().any(|i| i == wanted),
            "{:?}",
            self.imports
        );
    }
}

/// A loopback TCP port that nothing listens on (for now).
pub async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// Run `component` under the pinned stock `wasmtime` CLI with the host's
/// network (`wasmtime run -S inherit-network COMPONENT ARGS...`), nothing
/// on its input, to its end within [`PROCESS_TIMEOUT`]; its output.
pub async fn stock_cli_output(component: &Path, args: &[&str]) -> std::process::Output {
    let child = tokio::process::Command::new(made_by(".tools/bin/wasmtime", "make setup"))
        .args(["run", "-S", "inherit-network"])
        .arg(component)
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start wasmtime");
    tokio::time::timeout(PROCESS_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{} did not finish in time", component.display()))
        .expect("wait for wasmtime")
}

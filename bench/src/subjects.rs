//! The subjects, and the server processes behind them: one process per
//! kind of server, listening on TCP and (where the kind has it) a Unix
//! socket, started by the driver and stopped by ending its standard input.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::client::Target;

/// A kind of server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `bench-server.wasm` (wasio's Rust API) under the wasio host.
    Wasio,
    /// `bench-server-p3.wasm`: the same server built over WASI 0.3 (the
    /// `p3` feature) under the wasio host.
    WasioP3,
    /// `bench-raw.wasm` (raw wasi:sockets) under the wasio host.
    Raw,
    /// `bench-composed.wasm` under the wasio host: `bench/consumer`, which
    /// uses wasio through its WIT exports (with the batched forms), plugged
    /// into wasio's library component.
    Composed,
    /// The same component echoing one `readline` at a time (`--single`).
    ComposedSingle,
    /// `bench-composed-tcp.wasm` (the consumer plugged into
    /// `wasio-tcp.wasm`) under the stock `wasmtime` CLI.
    ComposedCli,
    /// Native tokio, wasio's algorithm.
    Tokio,
    /// Native tokio, `write_all` per line.
    TokioNaive,
    /// CPython asyncio streams, TCP_NODELAY off.
    Asyncio,
    /// CPython asyncio streams with asyncio's default TCP_NODELAY on.
    AsyncioNodelay,
    /// `bench/python/server.py` inside `dist/python-asyncio.wasm` (CPython
    /// in wasm, asyncio on wasio) under the stock `wasmtime` CLI.
    PythonComponent,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::Wasio,
        Kind::WasioP3,
        Kind::Raw,
        Kind::Composed,
        Kind::ComposedSingle,
        Kind::ComposedCli,
        Kind::Tokio,
        Kind::TokioNaive,
        Kind::Asyncio,
        Kind::AsyncioNodelay,
        Kind::PythonComponent,
    ];

    fn has_unix(self) -> bool {
        matches!(
            self,
            Kind::Wasio | Kind::Composed | Kind::Tokio | Kind::Asyncio
        )
    }

    /// Whether it is a component run by the wasio host.
    pub fn is_guest(self) -> bool {
        matches!(
            self,
            Kind::Wasio | Kind::WasioP3 | Kind::Raw | Kind::Composed | Kind::ComposedSingle
        )
    }
}

/// A kind of server over one transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Subject {
    pub kind: Kind,
    pub unix: bool,
}

impl Subject {
    pub const fn tcp(kind: Kind) -> Self {
        Self { kind, unix: false }
    }

    pub const fn unix(kind: Kind) -> Self {
        Self { kind, unix: true }
    }

    pub fn name(self) -> &'static str {
        match (self.kind, self.unix) {
            (Kind::Wasio, false) => "wasio tcp",
            (Kind::Wasio, true) => "wasio unix",
            (Kind::WasioP3, _) => "wasio p3 tcp",
            (Kind::Raw, _) => "raw wasi tcp",
            (Kind::Composed, false) => "wasio composed tcp",
            (Kind::Composed, true) => "wasio composed unix",
            (Kind::ComposedSingle, _) => "composed single tcp",
            (Kind::ComposedCli, _) => "composed cli tcp",
            (Kind::Tokio, false) => "tokio tcp",
            (Kind::Tokio, true) => "tokio unix",
            (Kind::TokioNaive, _) => "tokio naive tcp",
            (Kind::Asyncio, false) => "asyncio tcp",
            (Kind::Asyncio, true) => "asyncio unix",
            (Kind::AsyncioNodelay, _) => "asyncio nodelay tcp",
            (Kind::PythonComponent, _) => "python component tcp",
        }
    }

    /// The native subject with wasio's algorithm on the same transport.
    pub fn native(self) -> Subject {
        Subject {
            kind: Kind::Tokio,
            unix: self.unix,
        }
    }

    /// wasio's Rust API linked in, on the same transport.
    pub fn in_component(self) -> Subject {
        Subject {
            kind: Kind::Wasio,
            unix: self.unix,
        }
    }

    /// The asyncio subject on the same transport.
    pub fn asyncio(self) -> Subject {
        Subject {
            kind: Kind::Asyncio,
            unix: self.unix,
        }
    }
}

/// Where the driver finds what the servers run.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Directory holding `bench-server.wasm`, `bench-server-p3.wasm`, `bench-raw.wasm`,
    /// `bench-composed.wasm` and `bench-composed-tcp.wasm`.
    pub artifacts: PathBuf,
    /// `bench/python/server.py`.
    pub python_server: PathBuf,
    /// Where the Unix sockets go.
    pub socket_dir: PathBuf,
    /// The stock `wasmtime` CLI (`.tools/bin/wasmtime`).
    pub wasmtime: PathBuf,
    /// `dist/python-asyncio.wasm` (`make build`).
    pub python_component: PathBuf,
}

impl Paths {
    pub fn component(&self, kind: Kind) -> PathBuf {
        match kind {
            Kind::Raw => self.artifacts.join("bench-raw.wasm"),
            Kind::WasioP3 => self.artifacts.join("bench-server-p3.wasm"),
            Kind::Composed | Kind::ComposedSingle => self.artifacts.join("bench-composed.wasm"),
            Kind::ComposedCli => self.artifacts.join("bench-composed-tcp.wasm"),
            _ => self.artifacts.join("bench-server.wasm"),
        }
    }
}

/// A running server process.
#[derive(Debug)]
pub struct Server {
    pub kind: Kind,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
    pub tcp: SocketAddr,
    pub unix: Option<PathBuf>,
}

/// What a guest's host reports.
#[derive(Debug, Clone, Copy, Default)]
pub struct GuestStats {
    pub calls: u64,
    pub memory: usize,
}

/// The command that starts a server of `kind`, with extra `flags`.
pub fn command(kind: Kind, paths: &Paths, flags: &[&str]) -> anyhow::Result<Command> {
    let exe = std::env::current_exe()?;
    let mut command = match kind {
        Kind::Wasio | Kind::WasioP3 | Kind::Raw | Kind::Composed | Kind::ComposedSingle => {
            let mut c = Command::new(&exe);
            c.arg("serve-wasm").arg(paths.component(kind));
            if kind == Kind::ComposedSingle {
                c.arg("--single");
            }
            c
        }
        Kind::ComposedCli => {
            let mut c = Command::new(&paths.wasmtime);
            c.args(["run", "-S", "inherit-network"])
                .arg(paths.component(kind));
            c
        }
        Kind::Tokio | Kind::TokioNaive => {
            let mut c = Command::new(&exe);
            c.arg("serve-native");
            if kind == Kind::TokioNaive {
                c.arg("--naive");
            }
            c
        }
        Kind::PythonComponent => {
            let mut c = Command::new(&paths.wasmtime);
            c.args(["run", "-S", "inherit-network"])
                .arg(&paths.python_component)
                .arg("server");
            c
        }
        Kind::Asyncio | Kind::AsyncioNodelay => {
            let mut c = Command::new("python3");
            c.arg(&paths.python_server);
            if kind == Kind::AsyncioNodelay {
                c.arg("--nodelay");
            }
            c
        }
    };
    command.args(flags);
    Ok(command)
}

impl Server {
    /// Start a server of `kind`; `count_calls` installs the host-call
    /// counter (guests only).
    pub async fn start(kind: Kind, paths: &Paths, count_calls: bool) -> anyhow::Result<Self> {
        let mut flags = vec!["--listen", "127.0.0.1:0"];
        // A path of its own: a fresh server of a kind may run beside the
        // long-lived one.
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let socket = paths
            .socket_dir
            .join(format!("{kind:?}-{n}.sock").to_lowercase());
        let socket_arg = socket.display().to_string();
        if kind.has_unix() {
            flags.extend(["--unix", &socket_arg]);
        }
        if count_calls && kind.is_guest() {
            flags.push("--count-calls");
        }
        let mut child = command(kind, paths, &flags)?
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("start the {kind:?} server"))?;
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
        let expected = if kind.has_unix() { 2 } else { 1 };
        let mut tcp = None;
        let mut announced = 0;
        while announced < expected {
            let line = tokio::time::timeout(Duration::from_secs(60), stdout.next_line())
                .await
                .with_context(|| format!("the {kind:?} server did not start"))??
                .with_context(|| format!("the {kind:?} server exited"))?;
            if let Some(address) = line.strip_prefix("listening on ") {
                announced += 1;
                if let Ok(addr) = address.parse() {
                    tcp = Some(addr);
                }
            }
        }
        Ok(Self {
            kind,
            child,
            stdin,
            stdout,
            tcp: tcp.context("no TCP address announced")?,
            unix: kind.has_unix().then_some(socket),
        })
    }

    /// Where `subject` connects.
    pub fn target(&self, subject: Subject) -> Target {
        match (&self.unix, subject.unix) {
            (Some(path), true) => Target::Unix(path.clone()),
            _ => Target::Tcp(self.tcp),
        }
    }

    /// The process's resident set size, in bytes.
    pub fn rss(&self) -> anyhow::Result<u64> {
        let pid = self.child.id().context("the server has exited")?;
        rss_of(pid)
    }

    /// CPU time the process has used (user and system), in seconds.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        let pid = self.child.id().context("the server has exited")?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // The fields after the command name (which may hold spaces).
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .context("malformed stat")?
            .1
            .split_whitespace()
            .collect();
        let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
        Ok(ticks / CLOCK_TICKS_PER_SECOND)
    }

    /// The guest's host-call count and linear memory (a guest started
    /// with `count_calls`).
    pub async fn guest_stats(&mut self) -> anyhow::Result<GuestStats> {
        let stdin = self.stdin.as_mut().context("stdin closed")?;
        stdin.write_all(b"stats\n").await?;
        stdin.flush().await?;
        loop {
            let line = tokio::time::timeout(Duration::from_secs(10), self.stdout.next_line())
                .await??
                .context("the server exited")?;
            let Some(rest) = line.strip_prefix("stats ") else {
                continue;
            };
            let mut stats = GuestStats::default();
            for field in rest.split_whitespace() {
                match field.split_once('=') {
                    Some(("calls", n)) => stats.calls = n.parse()?,
                    Some(("memory", n)) => stats.memory = n.parse()?,
                    _ => {}
                }
            }
            return Ok(stats);
        }
    }

    /// End the server's input and wait for it to exit.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if self.kind == Kind::PythonComponent {
            // It serves until stopped: no thread in it can wait for its
            // input to end.
            self.child.kill().await?;
            return Ok(());
        }
        drop(self.stdin.take());
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                let status = status?;
                anyhow::ensure!(status.success(), "the {:?} server: {status}", self.kind);
            }
            Err(_) => {
                self.child.kill().await?;
                anyhow::bail!("the {:?} server did not stop", self.kind);
            }
        }
        Ok(())
    }
}

/// `sysconf(_SC_CLK_TCK)` on Linux.
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// Resident set size of process `pid`, in bytes.
pub fn rss_of(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("status"))?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")?;
    Ok(kib * 1024)
}

//! The harness the suites share: the test programs by name, tests
//! generated for both transports, running a test program with its output
//! captured (so that a failure shows what the guest saw), and finding the
//! `wasio` CLI.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output as ProcessOutput, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use wasio_host::{Host, RunOptions, Stdin};
use wasio_tests::stdio::Capture;

/// The test programs of `test-programs/src/programs`, one constant each, which
/// `tests/build.rs` generates. A program that no test runs leaves its
/// constant unused, which fails the build: every program has a test.
#[deny(dead_code)]
pub mod programs {
    include!(concat!(env!("OUT_DIR"), "/programs.rs"));
}

/// Tests that run one body over TCP and over Unix sockets: each
/// `name => body;` becomes a module `name` with the tests `over_tcp` and
/// `over_unix`, which run `body(Transport::Tcp)` and
/// `body(Transport::Unix)` within the suite's deadline, and
/// `over_tcp_on_wasi_0_3`, `body(Transport::Tcp)` on the WASI 0.3 builds
/// of the programs (which have no Unix sockets). Doc comments before
/// `name` document the module.
macro_rules! over_tcp_and_unix {
    ($($(#[$meta:meta])* $name:ident => $body:ident;)+) => {$(
        $(#[$meta])*
        mod $name {
            use wasio_tests::hostile::Transport;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn over_tcp() {
                wasio_tests::within(super::$body(Transport::Tcp)).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn over_unix() {
                wasio_tests::within(super::$body(Transport::Unix)).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn over_tcp_on_wasi_0_3() {
                let body = super::$body(Transport::Tcp);
                wasio_tests::within(wasio_tests::on_wasi_0_3(body)).await;
            }
        }
    )+};
}
pub(crate) use over_tcp_and_unix;

/// Tests that run one body on the WASI 0.2 and on the WASI 0.3 builds of
/// the commands and programs: each `name => body;` becomes a module
/// `name` with the tests `on_wasi_0_2` and `on_wasi_0_3`.
macro_rules! on_wasi_0_2_and_0_3 {
    ($($(#[$meta:meta])* $name:ident => $body:ident;)+) => {$(
        $(#[$meta])*
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_wasi_0_2() {
                super::$body().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_wasi_0_3() {
                wasio_tests::on_wasi_0_3(super::$body()).await;
            }
        }
    )+};
}
pub(crate) use on_wasi_0_2_and_0_3;

/// What the Redis example prints for its demo session (PING, then SET and
/// GET of a value holding `\r\n`), whichever way it reaches the server.
pub const REDIS_DEMO_TRANSCRIPT: &str = concat!(
    "> PING\n",
    "PONG\n",
    "> SET wasio:example \"one line\\r\\nand another\"\n",
    "OK\n",
    "> GET wasio:example\n",
    "\"one line\\r\\nand another\"\n",
);

/// The longest a test program may run before its test fails.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest a test waits for a line of a program's output.
pub const LINE_TIMEOUT: Duration = Duration::from_secs(20);

/// A test program running in a task of its own.
#[derive(Debug)]
pub struct Running {
    name: String,
    stdout: Capture,
    stderr: Capture,
    task: JoinHandle<Result<i32, wasio_host::Error>>,
}

/// How a test program ended, with everything it printed.
#[derive(Debug)]
pub struct Finished {
    pub name: String,
    pub result: Result<i32, wasio_host::Error>,
    pub stdout: String,
    pub stderr: String,
}

/// Start the test program `name` (an artifact) with `args` on `host`.
pub fn start(host: &Host, name: &str, args: &[String]) -> Running {
    let program = host
        .load(wasio_tests::artifact(&format!("{name}.wasm")))
        .expect("load the program");
    let (stdout, stderr) = (Capture::new(), Capture::new());
    let options = RunOptions {
        args: std::iter::once(name.to_owned())
            .chain(args.iter().cloned())
            .collect(),
        stdin: Stdin::Null,
        stdout: stdout.output(),
        stderr: stderr.output(),
        ..RunOptions::default()
    };
    let task = tokio::spawn(async move { program.run(&options).await });
    Running {
        name: name.to_owned(),
        stdout,
        stderr,
        task,
    }
}

/// Run the test program `name` with `args` on `host` to its end.
pub async fn run(host: &Host, name: &str, args: &[String]) -> Finished {
    start(host, name, args).finish().await
}

impl Running {
    /// Wait for a line of output starting with `prefix`; the rest of it.
    pub async fn line_after(&self, prefix: &str) -> String {
        let line = self
            .stdout
            .wait_for_line(|line| line.strip_prefix(prefix).map(str::to_owned));
        match tokio::time::timeout(LINE_TIMEOUT, line).await {
            Ok(Some(rest)) => rest,
            outcome => panic!(
                "{}: no line starting with {prefix:?} ({}):\n{}",
                self.name,
                if outcome.is_ok() {
                    "it exited"
                } else {
                    "timed out"
                },
                self.output()
            ),
        }
    }

    /// Whether the program has ended.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Wait for the program to end (at most [`RUN_TIMEOUT`]).
    pub async fn finish(mut self) -> Finished {
        let result = match tokio::time::timeout(RUN_TIMEOUT, &mut self.task).await {
            Ok(joined) => joined.expect("the program's task"),
            Err(_) => {
                self.task.abort();
                panic!(
                    "{} still running after {RUN_TIMEOUT:?}:\n{}",
                    self.name,
                    self.output()
                );
            }
        };
        Finished {
            name: self.name,
            result,
            stdout: self.stdout.text(),
            stderr: self.stderr.text(),
        }
    }

    /// Stop the program: its instance is dropped wherever it is.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }

    fn output(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            self.stdout.text(),
            self.stderr.text()
        )
    }
}

impl Finished {
    /// Panic, showing the output, unless the program exited with code 0.
    #[track_caller]
    pub fn assert_success(&self) {
        if !matches!(self.result, Ok(0)) {
            panic!(
                "{} ended with {:?}\n{}",
                self.name,
                self.result,
                self.output()
            );
        }
    }

    pub fn output(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }
}

/// The `wasio` CLI of this workspace, built by cargo if it is missing or
/// out of date (the tests depend on the host's library, not its binary,
/// so cargo does not build the binary for them).
pub fn wasio_cli() -> &'static Path {
    static CLI: OnceLock<PathBuf> = OnceLock::new();
    CLI.get_or_init(|| {
        let output = Command::new(env!("CARGO"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["build", "--quiet", "--message-format=json"])
            // The packages `scripts/build.sh` names: the same features, so
            // this finds the host built already instead of building
            // Wasmtime a second time with the host's features alone.
            .args(["-p", "wasio", "-p", "wasio-host", "-p", "wasio-tests"])
            .args(["--bin", "wasio"])
            .output()
            .expect("run cargo to build the wasio CLI");
        assert!(
            output.status.success(),
            "building the wasio CLI failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let messages = String::from_utf8_lossy(&output.stdout);
        let executable = messages
            .lines()
            .filter(|line| line.contains(r#""reason":"compiler-artifact""#))
            .find_map(|line| {
                let (_, rest) = line.split_once(r#""executable":""#)?;
                rest.split_once('"').map(|(path, _)| PathBuf::from(path))
            })
            .expect("cargo names the wasio executable");
        assert!(executable.exists(), "{} is missing", executable.display());
        executable
    })
}

/// Run `command` (such as the `wasio` CLI) to its end with its output
/// captured; it is killed, and the test fails, after [`RUN_TIMEOUT`].
pub fn run_command(command: &mut Command) -> ProcessOutput {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().expect("stdout")));
    let stderr = read_all(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the command") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} still running after {RUN_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    ProcessOutput {
        status,
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    }
}

//! A command component run in a task of its own, in a store the test keeps
//! so that what the instance used (its peak memory) can be read once it
//! has ended.

use std::time::Duration;

use tokio::io::DuplexStream;
use tokio::task::JoinHandle;
use wasio_host::{Host, HostState, RunOptions};
use wasmtime::Store;
use wasmtime::component::{Component, Linker};
use wasmtime_wasi::I32Exit;
use wasmtime_wasi::{p2, p3};

use super::REPLY_TIMEOUT;
use crate::stdio::{Capture, stdin_pipe};

/// A command component running in a task of its own, in a store that is
/// kept so that what the instance used can be read once it has ended.
#[derive(Debug)]
pub struct Guest {
    name: String,
    stdin: Option<DuplexStream>,
    stdout: Capture,
    stderr: Capture,
    task: JoinHandle<(Result<i32, wasio_host::Error>, usize)>,
}

/// How a [`Guest`] ended.
#[derive(Debug)]
pub struct Outcome {
    pub name: String,
    /// The exit code, or why the instance was stopped.
    pub result: Result<i32, wasio_host::Error>,
    /// The most linear memory the instance had: memories only grow, so
    /// what it has at its end is its peak.
    pub peak_memory: usize,
    pub stdout: String,
    pub stderr: String,
}

impl Guest {
    /// Start the artifact `name` (without `.wasm`) on `host` with `args`;
    /// its standard input is a pipe that [`Guest::close_stdin`] ends.
    pub fn start(host: &Host, name: &str, args: &[String]) -> Self {
        let component = host
            .compile(crate::artifact(&format!("{name}.wasm")))
            .expect("compile the component");
        let (stdin, input) = stdin_pipe();
        let (stdout, stderr) = (Capture::new(), Capture::new());
        let options = RunOptions {
            args: std::iter::once(name.to_owned())
                .chain(args.iter().cloned())
                .collect(),
            stdin,
            stdout: stdout.output(),
            stderr: stderr.output(),
            ..RunOptions::default()
        };
        let mut store = host.new_store(&options).expect("a store");
        let linker = host.linker().clone();
        let task = tokio::spawn(async move {
            let outcome = run(&mut store, &component, &linker).await;
            let result = match outcome {
                Ok(Ok(())) => Ok(0),
                Ok(Err(())) => Ok(1),
                Err(error) => match error.downcast_ref::<I32Exit>() {
                    Some(exit) => Ok(exit.0),
                    None => Err(store.data().guest_error(error)),
                },
            };
            (result, store.data().instance_limits().memory_in_use())
        });
        Self {
            name: name.to_owned(),
            stdin: Some(input),
            stdout,
            stderr,
            task,
        }
    }

    /// Start the echo-server component with `args` and `--stop-on-eof` (so
    /// that [`Guest::stop`] stops it) and wait until it has announced
    /// `count` addresses; those addresses.
    pub async fn echo_server(host: &Host, args: &[&str], count: usize) -> (Self, Vec<String>) {
        let args: Vec<String> = std::iter::once("--stop-on-eof")
            .chain(args.iter().copied())
            .map(str::to_owned)
            .collect();
        let guest = Self::start(host, "echo-server", &args);
        let mut announced = Vec::new();
        let addresses = guest
            .stdout
            .wait_for_line(|line| {
                if let Some(address) = line.strip_prefix("listening on ") {
                    announced.push(address.to_owned());
                }
                (announced.len() == count).then(|| announced.clone())
            })
            .await
            .unwrap_or_else(|| panic!("echo-server did not listen:\n{}", guest.stderr.text()));
        (guest, addresses)
    }

    /// Wait for a line of output starting with `prefix`; the rest of it.
    pub async fn line_after(&self, prefix: &str) -> String {
        let line = self
            .stdout
            .wait_for_line(|line| line.strip_prefix(prefix).map(str::to_owned));
        match tokio::time::timeout(REPLY_TIMEOUT, line).await {
            Ok(Some(rest)) => rest,
            _ => panic!(
                "{}: no line starting with {prefix:?}\nstdout:\n{}\nstderr:\n{}",
                self.name,
                self.stdout.text(),
                self.stderr.text()
            ),
        }
    }

    /// What the guest has written to its standard error so far.
    pub fn stderr(&self) -> String {
        self.stderr.text()
    }

    /// Wait for a line of the guest's standard error that contains one of
    /// `needles`; that line.
    pub async fn stderr_line(&self, needles: &[&str]) -> String {
        let line = self.stderr.wait_for_line(|line| {
            needles
                .iter()
                .any(|needle| line.contains(needle))
                .then(|| line.to_owned())
        });
        match tokio::time::timeout(REPLY_TIMEOUT, line).await {
            Ok(Some(line)) => line,
            _ => panic!(
                "{}: no line of stderr with any of {needles:?}\nstderr:\n{}",
                self.name,
                self.stderr.text()
            ),
        }
    }

    /// Whether the instance has ended.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// End the guest's standard input (echo-server with `--stop-on-eof`
    /// then stops).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Wait for the instance to end (at most `limit`).
    pub async fn finish_within(mut self, limit: Duration) -> Outcome {
        let (result, peak_memory) = match tokio::time::timeout(limit, &mut self.task).await {
            Ok(joined) => joined.expect("the guest's task"),
            Err(_) => {
                self.task.abort();
                panic!(
                    "{} still running after {limit:?}\nstdout:\n{}\nstderr:\n{}",
                    self.name,
                    self.stdout.text(),
                    self.stderr.text()
                );
            }
        };
        Outcome {
            name: self.name,
            result,
            peak_memory,
            stdout: self.stdout.text(),
            stderr: self.stderr.text(),
        }
    }

    /// Close the standard input and wait for the instance to end.
    pub async fn stop(mut self) -> Outcome {
        self.close_stdin();
        self.finish_within(REPLY_TIMEOUT).await
    }
}

impl Outcome {
    /// Panic, showing the output, unless the guest exited with code 0.
    #[track_caller]
    pub fn assert_success(&self) {
        assert!(
            matches!(self.result, Ok(0)),
            "{} ended with {:?}\nstdout:\n{}\nstderr:\n{}",
            self.name,
            self.result,
            self.stdout,
            self.stderr
        );
    }
}

/// Instantiate `component` in `store` and call its `wasi:cli/run`: WASI
/// 0.3's inside the store's event loop if it exports one, as the host
/// does, else WASI 0.2's.
async fn run(
    store: &mut Store<HostState>,
    component: &Component,
    linker: &Linker<HostState>,
) -> wasmtime::Result<Result<(), ()>> {
    let pre = linker.instantiate_pre(component)?;
    match p3::bindings::CommandPre::new(pre.clone()) {
        Ok(pre) => {
            let command = pre.instantiate_async(&mut *store).await?;
            store
                .run_concurrent(async |store| command.wasi_cli_run().call_run(store).await)
                .await?
        }
        Err(_) => {
            let command = p2::bindings::CommandPre::new(pre)?
                .instantiate_async(&mut *store)
                .await?;
            command.wasi_cli_run().call_run(store).await
        }
    }
}

//! The workloads, as the native client runs them against one subject.
//! Every loop is bounded in count, and every measurement in time.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::future::join_all;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::client::Target;
use crate::protocol::{Mode, PIECE};
use crate::subjects::{Kind, Paths, Server, Subject, command};

/// The longest one measurement may take.
pub const MEASUREMENT_LIMIT: Duration = Duration::from_secs(180);

/// Line length of the echo workloads, newline included.
pub const LINE: usize = 64;

/// How much each workload does.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub rounds: usize,
    pub echo_lines: u64,
    pub round_trips: usize,
    pub frame_bytes: u64,
    pub bulk_bytes: u64,
    /// Lines echoed in all by the connection-count sweep, at each count.
    pub connection_lines: usize,
    pub connection_batch: usize,
    pub connects: usize,
    pub startups: usize,
}

impl Plan {
    pub const FULL: Plan = Plan {
        rounds: 5,
        echo_lines: 1_000_000,
        round_trips: 20_000,
        frame_bytes: 256 << 20,
        bulk_bytes: 1 << 30,
        connection_lines: 320_000,
        connection_batch: 16,
        connects: 1000,
        startups: 20,
    };

    pub const QUICK: Plan = Plan {
        rounds: 3,
        echo_lines: 200_000,
        round_trips: 4_000,
        frame_bytes: 32 << 20,
        bulk_bytes: 128 << 20,
        connection_lines: 80_000,
        connection_batch: 16,
        connects: 300,
        startups: 10,
    };
}

/// One workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    LineEcho,
    RequestResponse,
    Frames(u32),
    BulkUp,
    BulkDown,
    /// That many connections open at once, all echoing lines.
    Concurrency(usize),
    Connect,
    Startup,
}

/// One measurement: the headline figure and others that go with it.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub value: f64,
    pub extra: Vec<(&'static str, f64)>,
}

impl Sample {
    fn of(value: f64) -> Self {
        Self {
            value,
            extra: Vec::new(),
        }
    }
}

impl Workload {
    pub const ALL: [Workload; 12] = [
        Workload::LineEcho,
        Workload::RequestResponse,
        Workload::Frames(1024),
        Workload::Frames(64 * 1024),
        Workload::BulkUp,
        Workload::BulkDown,
        Workload::Concurrency(10),
        Workload::Concurrency(100),
        Workload::Concurrency(1000),
        Workload::Concurrency(10_000),
        Workload::Connect,
        Workload::Startup,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Workload::LineEcho => "line echo",
            Workload::RequestResponse => "request/response",
            Workload::Frames(1024) => "frames 1 KiB",
            Workload::Frames(_) => "frames 64 KiB",
            Workload::BulkUp => "bulk to server",
            Workload::BulkDown => "bulk from server",
            Workload::Concurrency(10) => "10 connections",
            Workload::Concurrency(100) => "100 connections",
            Workload::Concurrency(1000) => "1000 connections",
            Workload::Concurrency(_) => "10000 connections",
            Workload::Connect => "connect/accept",
            Workload::Startup => "start-up",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Workload::LineEcho | Workload::Concurrency(_) => "lines/s",
            Workload::RequestResponse => "round trips/s",
            Workload::Frames(_) | Workload::BulkUp | Workload::BulkDown => "MiB/s",
            Workload::Connect => "conns/s",
            Workload::Startup => "µs",
        }
    }

    /// The name and count of the operations the long-lived server's CPU
    /// time is divided by (none for the workloads with their own server).
    fn operations(self, plan: &Plan) -> Option<(&'static str, f64)> {
        let mib = |bytes: u64| bytes as f64 / (1 << 20) as f64;
        match self {
            Workload::LineEcho => Some(("server CPU µs/line", plan.echo_lines as f64)),
            Workload::RequestResponse => Some((
                "server CPU µs/round trip",
                (plan.round_trips + plan.round_trips / 10) as f64,
            )),
            Workload::Frames(_) => Some(("server CPU µs/MiB", mib(plan.frame_bytes))),
            Workload::BulkUp | Workload::BulkDown => {
                Some(("server CPU µs/MiB", mib(plan.bulk_bytes)))
            }
            Workload::Connect => Some(("server CPU µs/conn", plan.connects as f64)),
            Workload::Concurrency(_) | Workload::Startup => None,
        }
    }

    /// Whether a larger figure is better.
    pub fn higher_is_better(self) -> bool {
        self != Workload::Startup
    }

    pub fn subjects(self) -> Vec<Subject> {
        use Kind::*;
        let streams = vec![
            Subject::tcp(Wasio),
            Subject::unix(Wasio),
            Subject::tcp(WasioP3),
            Subject::tcp(Raw),
            Subject::tcp(Composed),
            Subject::unix(Composed),
            Subject::tcp(ComposedCli),
            Subject::tcp(Tokio),
            Subject::unix(Tokio),
            Subject::tcp(Asyncio),
            Subject::unix(Asyncio),
        ];
        match self {
            Workload::LineEcho | Workload::RequestResponse => {
                let mut all = streams;
                all.insert(6, Subject::tcp(ComposedSingle));
                all.insert(10, Subject::tcp(TokioNaive));
                all.push(Subject::tcp(AsyncioNodelay));
                all
            }
            Workload::Frames(_) | Workload::BulkUp | Workload::BulkDown | Workload::Connect => {
                streams
            }
            Workload::Concurrency(_) | Workload::Startup => {
                let mut own_servers = vec![
                    Subject::tcp(Wasio),
                    Subject::tcp(WasioP3),
                    Subject::tcp(Raw),
                    Subject::tcp(Composed),
                    Subject::tcp(Tokio),
                    Subject::tcp(Asyncio),
                ];
                if self != Workload::Startup {
                    own_servers.push(Subject::tcp(PythonComponent));
                }
                own_servers
            }
        }
    }
}

/// Measure `workload` once against `subject`, served by `server` (the
/// concurrency and start-up workloads start their own).
pub async fn measure(
    workload: Workload,
    subject: Subject,
    server: &Server,
    paths: &Paths,
    plan: &Plan,
) -> anyhow::Result<Sample> {
    let target = server.target(subject);
    let cpu_before = server.cpu_seconds()?;
    let run = async {
        match workload {
            Workload::LineEcho => line_echo(&target, plan.echo_lines).await.map(Sample::of),
            Workload::RequestResponse => request_response(&target, plan.round_trips).await,
            Workload::Frames(size) => frames(&target, size, plan.frame_bytes).await,
            Workload::BulkUp => bulk_up(&target, plan.bulk_bytes).await,
            Workload::BulkDown => bulk_down(&target, plan.bulk_bytes).await,
            Workload::Concurrency(count) => concurrency(subject.kind, paths, plan, count).await,
            Workload::Connect => connect_rate(&target, plan.connects).await,
            Workload::Startup => startup(subject.kind, paths, plan.startups).await,
        }
    };
    let mut sample = tokio::time::timeout(MEASUREMENT_LIMIT, run)
        .await
        .with_context(|| format!("{} took too long", workload.name()))??;
    if let Some((name, ops)) = workload.operations(plan) {
        let cpu = server.cpu_seconds()? - cpu_before;
        sample.extra.push((name, cpu * 1e6 / ops));
    }
    Ok(sample)
}

fn line() -> [u8; LINE] {
    let mut line = [b'x'; LINE];
    line[LINE - 1] = b'\n';
    line
}

/// Pipeline `lines` 64-byte lines over one connection; lines/s.
pub async fn line_echo(target: &Target, lines: u64) -> anyhow::Result<f64> {
    let (mut r, mut w) = target.connect().await?;
    w.write_all(&Mode::Echo.line().into_bytes()).await?;
    let batch = line().repeat(1024);
    let started = Instant::now();
    let send = async {
        let mut left = lines;
        while left > 0 {
            let n = left.min(1024);
            w.write_all(&batch[..n as usize * LINE]).await?;
            left -= n;
        }
        w.shutdown().await
    };
    let receive = async {
        let (mut bytes, mut newlines) = (0u64, 0u64);
        let mut buf = vec![0; PIECE];
        while bytes < lines * LINE as u64 {
            let n = r.read(&mut buf).await?;
            anyhow::ensure!(n > 0, "the echo ended after {bytes} bytes");
            bytes += n as u64;
            newlines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        }
        anyhow::ensure!(newlines == lines, "{newlines} lines came back, not {lines}");
        Ok(())
    };
    let (sent, received) = tokio::join!(send, receive);
    sent?;
    received?;
    Ok(lines as f64 / started.elapsed().as_secs_f64())
}

/// One 64-byte line at a time, each waiting for its echo; round trips/s
/// with the 50th and 99th percentile latencies in µs.
pub async fn request_response(target: &Target, trips: usize) -> anyhow::Result<Sample> {
    let (mut r, mut w) = target.connect().await?;
    w.write_all(&Mode::Echo.line().into_bytes()).await?;
    let line = line();
    let mut reply = [0; LINE];
    for _ in 0..trips / 10 {
        w.write_all(&line).await?;
        r.read_exact(&mut reply).await?;
    }
    let mut latencies = Vec::with_capacity(trips);
    let started = Instant::now();
    for _ in 0..trips {
        let sent = Instant::now();
        w.write_all(&line).await?;
        r.read_exact(&mut reply).await?;
        latencies.push(sent.elapsed().as_secs_f64() * 1e6);
    }
    let rate = trips as f64 / started.elapsed().as_secs_f64();
    anyhow::ensure!(reply == line, "the echo differs");
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    Ok(Sample {
        value: rate,
        extra: vec![("p50 µs", at(0.50)), ("p99 µs", at(0.99))],
    })
}

fn mib_per_s(bytes: u64, elapsed: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / elapsed.as_secs_f64()
}

/// Read the decimal answer line and check it is `expected`.
async fn expect_count<R: tokio::io::AsyncRead + Unpin>(r: R, expected: u64) -> anyhow::Result<()> {
    let mut answer = String::new();
    BufReader::new(r).read_line(&mut answer).await?;
    let got: u64 = answer.trim().parse().context("the answer is not a count")?;
    anyhow::ensure!(
        got == expected,
        "the server counted {got} bytes, not {expected}"
    );
    Ok(())
}

/// Length-prefixed frames of `size` bytes, `total` payload bytes in all;
/// payload MiB/s.
pub async fn frames(target: &Target, size: u32, total: u64) -> anyhow::Result<Sample> {
    let (r, mut w) = target.connect().await?;
    w.write_all(&Mode::Frames.line().into_bytes()).await?;
    let per_chunk = (PIECE * 4 / size as usize).max(1);
    let mut chunk = Vec::new();
    for _ in 0..per_chunk {
        chunk.extend_from_slice(&size.to_be_bytes());
        chunk.resize(chunk.len() + size as usize, b'f');
    }
    let count = total.div_ceil(u64::from(size));
    let started = Instant::now();
    let mut left = count;
    while left > 0 {
        let n = left.min(per_chunk as u64) as usize;
        w.write_all(&chunk[..n * (size as usize + 4)]).await?;
        left -= n as u64;
    }
    w.write_all(&0u32.to_be_bytes()).await?;
    expect_count(r, count * u64::from(size)).await?;
    Ok(Sample::of(mib_per_s(
        count * u64::from(size),
        started.elapsed(),
    )))
}

/// `total` bytes to the server; MiB/s.
pub async fn bulk_up(target: &Target, total: u64) -> anyhow::Result<Sample> {
    let (r, mut w) = target.connect().await?;
    w.write_all(&Mode::Sink.line().into_bytes()).await?;
    let chunk = vec![b'u'; 4 * PIECE];
    let started = Instant::now();
    let mut left = total;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        w.write_all(&chunk[..n]).await?;
        left -= n as u64;
    }
    w.shutdown().await?;
    expect_count(r, total).await?;
    Ok(Sample::of(mib_per_s(total, started.elapsed())))
}

/// `total` bytes from the server; MiB/s.
pub async fn bulk_down(target: &Target, total: u64) -> anyhow::Result<Sample> {
    let (mut r, mut w) = target.connect().await?;
    let started = Instant::now();
    w.write_all(&Mode::Source(total).line().into_bytes())
        .await?;
    let mut buf = vec![0; 4 * PIECE];
    let mut got = 0u64;
    loop {
        let n = r.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        got += n as u64;
    }
    let elapsed = started.elapsed();
    anyhow::ensure!(got == total, "received {got} bytes, not {total}");
    Ok(Sample::of(mib_per_s(total, elapsed)))
}

/// Connect, echo one short line, close (the server closes first, at end
/// of file), one connection after the other; connections/s.
pub async fn connect_rate(target: &Target, count: usize) -> anyhow::Result<Sample> {
    let started = Instant::now();
    for _ in 0..count {
        let (mut r, mut w) = target.connect().await?;
        w.write_all(b"echo\nx\n").await?;
        w.shutdown().await?;
        let mut reply = Vec::new();
        r.read_to_end(&mut reply).await?;
        anyhow::ensure!(reply == b"x\n", "the echo differs: {reply:?}");
    }
    Ok(Sample::of(count as f64 / started.elapsed().as_secs_f64()))
}

/// Open `count` echo connections to a fresh server and leave them idle:
/// memory per connection (the guest's linear memory and the server's
/// resident set). Then every connection echoes batches of
/// `connection_batch` lines at once, `connection_lines` in all (at least
/// one batch each): total lines/s, and the server's CPU time per line,
/// which stays flat from 10 to 10,000 connections when a call's cost does
/// not grow with the number open.
pub async fn concurrency(
    kind: Kind,
    paths: &Paths,
    plan: &Plan,
    count: usize,
) -> anyhow::Result<Sample> {
    let mut server = Server::start(kind, paths, true).await?;
    let target = server.target(Subject::tcp(kind));
    let guest = kind.is_guest();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = if guest {
        server.guest_stats().await?
    } else {
        Default::default()
    };
    let rss_before = server.rss()?;
    let line = line();
    let mut conns = Vec::with_capacity(count);
    // Open in groups, so that no listen queue overflows into SYN retries.
    for group in (0..count).collect::<Vec<_>>().chunks(100) {
        let opened = group.iter().map(|_| async {
            let (mut r, mut w) = target.connect().await?;
            w.write_all(b"echo\n").await?;
            w.write_all(&line).await?;
            let mut reply = [0; LINE];
            r.read_exact(&mut reply).await?;
            anyhow::Ok((r, w))
        });
        for conn in join_all(opened).await {
            conns.push(conn?);
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle = if guest {
        server.guest_stats().await?
    } else {
        Default::default()
    };
    let rss_idle = server.rss()?;
    let per_conn = |a: u64, b: u64| b.saturating_sub(a) as f64 / count as f64;

    let batch = line.repeat(plan.connection_batch);
    let rounds = (plan.connection_lines / (count * plan.connection_batch)).max(1);
    let cpu_before = server.cpu_seconds()?;
    let started = Instant::now();
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|(mut r, mut w)| {
            let batch = batch.clone();
            tokio::spawn(async move {
                let mut reply = vec![0; batch.len()];
                for _ in 0..rounds {
                    w.write_all(&batch).await?;
                    r.read_exact(&mut reply).await?;
                }
                anyhow::Ok((r, w))
            })
        })
        .collect();
    let mut done = Vec::with_capacity(tasks.len());
    for task in tasks {
        done.push(task.await??);
    }
    let elapsed = started.elapsed();
    let cpu = server.cpu_seconds()? - cpu_before;
    let lines = (count * rounds * plan.connection_batch) as f64;
    let after = if guest {
        server.guest_stats().await?
    } else {
        Default::default()
    };
    drop(done);
    // Let the server see every client leave before it is stopped.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.stop().await?;
    let mut sample = Sample {
        value: lines / elapsed.as_secs_f64(),
        extra: vec![
            ("host RSS B/conn", per_conn(rss_before, rss_idle)),
            ("server CPU µs/line", cpu * 1e6 / lines),
        ],
    };
    if guest {
        sample.extra.push((
            "guest memory B/conn",
            per_conn(before.memory as u64, idle.memory as u64),
        ));
        sample
            .extra
            .push(("host calls/line", (after.calls - idle.calls) as f64 / lines));
    }
    Ok(sample)
}

/// Start-up: the median over `runs` of one instance of the cached
/// component run to exit with `--startup` (bind, exit) for the guests, and
/// of a whole process doing the same for the native and Python servers.
pub async fn startup(kind: Kind, paths: &Paths, runs: usize) -> anyhow::Result<Sample> {
    let mut times = match kind {
        kind if kind.is_guest() => {
            let component = paths.component(kind);
            std::thread::spawn(move || crate::wasm::startup(&component, runs))
                .join()
                .map_err(|_| anyhow::anyhow!("the start-up thread panicked"))??
        }
        _ => {
            let mut times = Vec::with_capacity(runs);
            for _ in 0..runs {
                let mut command = command(kind, paths, &["--listen", "127.0.0.1:0", "--startup"])?;
                command.stdout(std::process::Stdio::null());
                let started = Instant::now();
                let status = command.status().await?;
                times.push(started.elapsed().as_secs_f64() * 1e6);
                anyhow::ensure!(status.success(), "start-up run: {status}");
            }
            times
        }
    };
    times.sort_by(f64::total_cmp);
    Ok(Sample::of(times[times.len() / 2]))
}

/// Host calls the guest `kind` makes per echoed line (pipelined, and in
/// request/response), counted by the call hook of a fresh server.
pub async fn host_calls(
    kind: Kind,
    unix: bool,
    paths: &Paths,
    plan: &Plan,
) -> anyhow::Result<Vec<(&'static str, f64)>> {
    let mut server = Server::start(kind, paths, true).await?;
    let target = server.target(Subject { kind, unix });
    let before = server.guest_stats().await?;
    line_echo(&target, plan.echo_lines).await?;
    let echoed = server.guest_stats().await?;
    let _ = request_response(&target, plan.round_trips).await?;
    let after = server.guest_stats().await?;
    server.stop().await?;
    let trips = plan.round_trips + plan.round_trips / 10;
    Ok(vec![
        (
            "line echo",
            (echoed.calls - before.calls) as f64 / plan.echo_lines as f64,
        ),
        (
            "request/response",
            (after.calls - echoed.calls) as f64 / trips as f64,
        ),
    ])
}

/// The directory of the Python subject.
pub fn python_server(root: &Path) -> std::path::PathBuf {
    root.join("bench").join("python").join("server.py")
}

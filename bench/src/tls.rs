//! The TLS bench: wasio's TLS client (`bench-client.wasm` under the wasio
//! host with `wasi:tls`) next to the same client over plain TCP, and
//! native tokio (tokio-rustls) both ways, against one native server that
//! speaks the benchmark protocol plain and over TLS.
//!
//! wasio's TLS is client-only (no WASI host offers server-side TLS), so
//! here the guest is the client, unlike the `run` workloads. The guest
//! times its own workload (`elapsed_ns`), so its process start and
//! instantiation do not count. Workloads: `rr` (round trips of a 64-byte
//! line), `up` (bytes sent in 64 KiB pieces, counted by the server) and
//! `connect` (open, echo one line, close: with TLS, a full handshake each).
//! The certificate authority and the server's certificate are made for the
//! run (rcgen); both clients trust that CA only.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use wasio_host::{Host, HostConfig, NetworkPolicy, RunOptions, Stdin, TlsConfig};

use crate::protocol::PIECE;
use crate::report::Summary;

/// The name the server's certificate carries.
const SERVER_NAME: &str = "localhost";
/// The line of `rr` (as `bench-client` sends it).
const LINE: &[u8; 64] = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n";

/// The workloads, with their sizes at full and quick scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    RoundTrips,
    Upload,
    Connect,
}

impl Workload {
    const ALL: [Workload; 3] = [Workload::RoundTrips, Workload::Upload, Workload::Connect];

    /// `bench-client`'s name for it.
    fn arg(self) -> &'static str {
        match self {
            Workload::RoundTrips => "rr",
            Workload::Upload => "up",
            Workload::Connect => "connect",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Workload::RoundTrips => "request/response",
            Workload::Upload => "bulk upload",
            Workload::Connect => "connect, 1 line, close",
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Workload::RoundTrips => "µs/trip",
            Workload::Upload => "MiB/s",
            Workload::Connect => "µs/conn",
        }
    }

    fn count(self, quick: bool) -> u64 {
        match (self, quick) {
            (Workload::RoundTrips, false) => 5_000,
            (Workload::RoundTrips, true) => 1_000,
            (Workload::Upload, false) => 256 << 20,
            (Workload::Upload, true) => 64 << 20,
            (Workload::Connect, false) => 200,
            (Workload::Connect, true) => 50,
        }
    }

    /// The figure of `count` done in `nanos`.
    fn figure(self, count: u64, nanos: f64) -> f64 {
        match self {
            Workload::RoundTrips | Workload::Connect => nanos / 1e3 / count as f64,
            Workload::Upload => count as f64 / (1 << 20) as f64 / (nanos / 1e9),
        }
    }
}

/// Who runs the client, over what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Subject {
    wasio: bool,
    tls: bool,
}

impl Subject {
    const ALL: [Subject; 4] = [
        Subject {
            wasio: true,
            tls: false,
        },
        Subject {
            wasio: true,
            tls: true,
        },
        Subject {
            wasio: false,
            tls: false,
        },
        Subject {
            wasio: false,
            tls: true,
        },
    ];

    fn name(self) -> &'static str {
        match (self.wasio, self.tls) {
            (true, false) => "wasio tcp",
            (true, true) => "wasio tls",
            (false, false) => "tokio tcp",
            (false, true) => "tokio tls",
        }
    }
}

/// A certificate authority and a server configuration with its
/// certificate, made for one run.
struct Pki {
    ca_file: PathBuf,
    roots: RootCertStore,
    server: Arc<ServerConfig>,
    _dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> anyhow::Result<Self> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "wasio bench CA");
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        let dir = tempfile::tempdir()?;
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, issuer.pem())?;
        let mut roots = RootCertStore::empty();
        roots.add(issuer.der().clone())?;

        let leaf = CertificateParams::new(vec![SERVER_NAME.to_owned()])?;
        let key = KeyPair::generate()?;
        let cert = leaf.signed_by(&key, &issuer)?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let server = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], key)?;
        Ok(Self {
            ca_file,
            roots,
            server: Arc::new(server),
            _dir: dir,
        })
    }

    fn client(&self) -> anyhow::Result<TlsConnector> {
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(self.roots.clone())
            .with_no_client_auth();
        Ok(TlsConnector::from(Arc::new(config)))
    }
}

/// rustls's `ring` provider, as the wasio host uses.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The servers: the benchmark protocol on tokio, plain and over TLS.
async fn start_servers(pki: &Pki) -> anyhow::Result<(SocketAddr, SocketAddr)> {
    let plain = TcpListener::bind("127.0.0.1:0").await?;
    let tls = TcpListener::bind("127.0.0.1:0").await?;
    let addrs = (plain.local_addr()?, tls.local_addr()?);
    tokio::spawn(async move {
        while let Ok((stream, _)) = plain.accept().await {
            let (r, w) = stream.into_split();
            tokio::spawn(crate::native::client(r, w, false));
        }
    });
    let acceptor = TlsAcceptor::from(pki.server.clone());
    tokio::spawn(async move {
        while let Ok((stream, _)) = tls.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(stream) = acceptor.accept(stream).await {
                    let (r, w) = tokio::io::split(stream);
                    crate::native::client(r, w, false).await;
                }
            });
        }
    });
    Ok(addrs)
}

/// Where a client goes and what it trusts.
struct Setup<'a> {
    pki: &'a Pki,
    plain: SocketAddr,
    tls: SocketAddr,
    component: &'a Path,
}

/// One measurement: the workload's figure for `subject`.
async fn measure(
    setup: &Setup<'_>,
    workload: Workload,
    subject: Subject,
    quick: bool,
) -> anyhow::Result<f64> {
    let count = workload.count(quick);
    let addr = if subject.tls { setup.tls } else { setup.plain };
    let nanos = if subject.wasio {
        guest(setup, addr, workload, subject.tls, count).await?
    } else {
        let connector = subject.tls.then(|| setup.pki.client()).transpose()?;
        native(addr, connector.as_ref(), workload, count).await?
    };
    Ok(workload.figure(count, nanos))
}

/// Run `bench-client.wasm` in a process of its own (`client-wasm`); the
/// nanoseconds it reports.
async fn guest(
    setup: &Setup<'_>,
    addr: SocketAddr,
    workload: Workload,
    tls: bool,
    count: u64,
) -> anyhow::Result<f64> {
    let mut command = tokio::process::Command::new(std::env::current_exe()?);
    command
        .arg("client-wasm")
        .arg("--tls-ca")
        .arg(&setup.pki.ca_file)
        .arg(setup.component)
        .args([addr.ip().to_string(), addr.port().to_string()]);
    if tls {
        command.args(["--tls", SERVER_NAME]);
    }
    command.args([workload.arg().to_owned(), count.to_string()]);
    let output = command
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .await?;
    anyhow::ensure!(output.status.success(), "bench-client: {}", output.status);
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("elapsed_ns "))
        .context("bench-client printed no elapsed_ns")?
        .trim()
        .parse()
        .context("elapsed_ns")
}

/// The same workload on tokio: the nanoseconds it took.
async fn native(
    addr: SocketAddr,
    tls: Option<&TlsConnector>,
    workload: Workload,
    count: u64,
) -> anyhow::Result<f64> {
    match workload {
        Workload::Connect => {
            let started = Instant::now();
            for _ in 0..count {
                let stream = connect(addr, tls).await?;
                let mut stream = BufReader::new(stream);
                stream.write_all(b"echo\nhello\n").await?;
                let mut line = String::new();
                stream.read_line(&mut line).await?;
                anyhow::ensure!(line == "hello\n", "no echo");
                stream.shutdown().await?;
            }
            Ok(started.elapsed().as_nanos() as f64)
        }
        Workload::RoundTrips => {
            let mut stream = BufReader::new(connect(addr, tls).await?);
            stream.write_all(b"echo\n").await?;
            let mut line = Vec::with_capacity(LINE.len());
            let started = Instant::now();
            for _ in 0..count {
                stream.write_all(LINE).await?;
                stream.flush().await?;
                line.clear();
                stream.read_until(b'\n', &mut line).await?;
                anyhow::ensure!(line == LINE, "the echo differs");
            }
            let nanos = started.elapsed().as_nanos() as f64;
            stream.shutdown().await?;
            Ok(nanos)
        }
        Workload::Upload => {
            let mut stream = BufReader::new(connect(addr, tls).await?);
            stream.write_all(b"sink\n").await?;
            let piece = vec![b'x'; PIECE];
            let started = Instant::now();
            let mut sent = 0;
            while sent < count {
                let n = (count - sent).min(PIECE as u64) as usize;
                stream.write_all(&piece[..n]).await?;
                sent += n as u64;
            }
            stream.shutdown().await?;
            let mut answer = String::new();
            stream.read_line(&mut answer).await?;
            let nanos = started.elapsed().as_nanos() as f64;
            anyhow::ensure!(
                answer.trim() == sent.to_string(),
                "the server counted {answer:?}"
            );
            Ok(nanos)
        }
    }
}

/// A connection to `addr`, over TLS with `tls`.
async fn connect(addr: SocketAddr, tls: Option<&TlsConnector>) -> anyhow::Result<Box<dyn Stream>> {
    let stream = TcpStream::connect(addr).await?;
    Ok(match tls {
        None => Box::new(stream),
        Some(connector) => {
            let name = ServerName::try_from(SERVER_NAME)?;
            Box::new(connector.connect(name, stream).await?)
        }
    })
}

/// A plain or TLS stream.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// `tls`: every workload for every subject, round after round (the order
/// of the subjects rotating); prints the medians and ratios and writes
/// `tls.json` into `out`.
pub async fn run(component: &Path, rounds: usize, quick: bool, out: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        component.exists(),
        "{} is missing: build it with `cargo build -p wasio-bench-guest --target wasm32-wasip2 --profile component --features tls --bin bench-client`",
        component.display()
    );
    let pki = Pki::new()?;
    let (plain, tls) = start_servers(&pki).await?;
    let setup = Setup {
        pki: &pki,
        plain,
        tls,
        component,
    };
    let mut samples: Vec<(Workload, Subject, Vec<f64>)> = Vec::new();
    for workload in Workload::ALL {
        for subject in Subject::ALL {
            samples.push((workload, subject, Vec::new()));
        }
    }
    for round in 0..rounds {
        for workload in Workload::ALL {
            let mut subjects = Subject::ALL;
            subjects.rotate_left(round % Subject::ALL.len());
            for subject in subjects {
                let figure = measure(&setup, workload, subject, quick)
                    .await
                    .with_context(|| format!("{} / {}", workload.name(), subject.name()))?;
                eprintln!(
                    "tls round {}/{rounds} {:<24} {:<10} {:>12.2} {}",
                    round + 1,
                    workload.name(),
                    subject.name(),
                    figure,
                    workload.unit()
                );
                let entry = samples
                    .iter_mut()
                    .find(|(w, s, _)| *w == workload && *s == subject)
                    .expect("every pair has an entry");
                entry.2.push(figure);
            }
        }
    }

    let summary = |workload: Workload, subject: Subject| {
        let (_, _, values) = samples
            .iter()
            .find(|(w, s, _)| *w == workload && *s == subject)
            .expect("every pair has an entry");
        Summary::of(values).expect("every round measured every pair")
    };
    // Every ratio is TLS's cost: above 1 where TLS is slower.
    let cost = |workload: Workload, tls: f64, plain: f64| match workload {
        Workload::Upload => plain / tls,
        Workload::RoundTrips | Workload::Connect => tls / plain,
    };
    let mut rows = Vec::new();
    println!(
        "| workload | unit | wasio tcp | wasio tls | TLS cost | tokio tcp | tokio tls | TLS cost |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for workload in Workload::ALL {
        let [wasio_tcp, wasio_tls, tokio_tcp, tokio_tls] =
            Subject::ALL.map(|subject| summary(workload, subject));
        let wasio_cost = cost(workload, wasio_tls.median, wasio_tcp.median);
        let tokio_cost = cost(workload, tokio_tls.median, tokio_tcp.median);
        let cell = |s: &Summary| format!("{:.2} ±{:.0} %", s.median, s.spread());
        println!(
            "| {} | {} | {} | {} | {wasio_cost:.2}× | {} | {} | {tokio_cost:.2}× |",
            workload.name(),
            workload.unit(),
            cell(&wasio_tcp),
            cell(&wasio_tls),
            cell(&tokio_tcp),
            cell(&tokio_tls),
        );
        let subjects = Subject::ALL.map(|subject| {
            let s = summary(workload, subject);
            json!({
                "subject": subject.name(),
                "median": s.median,
                "spread_percent": s.spread(),
            })
        });
        rows.push(json!({
            "workload": workload.name(),
            "unit": workload.unit(),
            "count": workload.count(quick),
            "subjects": subjects,
            "tls_cost": { "wasio": wasio_cost, "tokio": tokio_cost },
        }));
    }
    std::fs::create_dir_all(out)?;
    let path = out.join("tls.json");
    let document = json!({
        "rounds": rounds,
        "quick": quick,
        "method": "the guest is the client (wasio's TLS is client-only) and times its own workload; one native tokio server in the driver, plain and tokio-rustls (ring); clients trust a CA made for the run; the TLS cost is TLS's time over plain TCP's (for bulk, plain's rate over TLS's)",
        "workloads": rows,
    });
    std::fs::write(&path, serde_json::to_string_pretty(&document)? + "\n")?;
    println!("wrote {}", path.display());
    Ok(())
}

/// `client-wasm`: run the command component `component` with `args`
/// under the wasio host, TLS on and trusting `ca_file` only, connections
/// to loopback allowed; its standard output is this process's.
pub fn client_wasm(component: &Path, ca_file: &Path, args: &[String]) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut policy = NetworkPolicy::deny_all();
        policy.allow_connect("127.0.0.1:*".parse()?);
        let host = Host::new(HostConfig {
            policy,
            tls: Some(TlsConfig {
                system_roots: false,
                ca_files: vec![ca_file.to_owned()],
            }),
            ..HostConfig::default()
        })?;
        let loaded = host.load(component)?;
        let mut argv = vec![component.display().to_string()];
        argv.extend(args.iter().cloned());
        let options = RunOptions {
            args: argv,
            stdin: Stdin::Null,
            ..RunOptions::default()
        };
        let code = tokio::task::unconstrained(loaded.run(&options)).await?;
        anyhow::ensure!(code == 0, "bench-client exited with {code}");
        Ok(())
    })
}

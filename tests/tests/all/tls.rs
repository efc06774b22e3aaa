//! TLS clients (`wasi:tls` through the wasio host) against native rustls
//! peers on loopback, with a test CA made here: a TLS connection, STARTTLS
//! with `start_tls`, and each way a handshake can fail, which must be a
//! clear error, never a hang or a trap.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, date_time_ymd,
};
use rustls::ServerConfig;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use wasio_host::{Host, HostConfig, TlsConfig};

use wasio_tests::tls_component::{HandshakeFailure, TlsError, TlsInstance, WitError, tls_instance};
use wasio_tests::{loopback_host, loopback_policy, made_by, target, within};
use wasmtime::component::Resource;
use wasmtime_wasi::p2::DynPollable;

use crate::support::{self, programs, run_command, wasio_cli};

/// A certificate authority made for one test, its certificate in a file
/// for the host to trust.
struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    dir: tempfile::TempDir,
}

/// What a server certificate is like.
#[derive(Clone, Copy)]
enum Leaf {
    /// Valid now for `localhost` and `127.0.0.1`.
    Good,
    /// Valid for `other.test` only.
    OtherName,
    /// Valid for `localhost` and `127.0.0.1`, but only in 2020.
    Expired,
}

impl TestCa {
    /// A CA named `name` (two CAs of one name would look like one CA
    /// with a bad signature).
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), issuer.pem()).unwrap();
        Self { issuer, dir }
    }

    fn pem_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A certificate of this CA for `localhost` and `127.0.0.1` and its key, as PEM files
    /// in the CA's directory: (certificate, key).
    fn leaf_files(&self) -> (PathBuf, PathBuf) {
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let params = CertificateParams::new(names).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let (cert_file, key_file) = (
            self.dir.path().join("leaf.pem"),
            self.dir.path().join("leaf.key"),
        );
        std::fs::write(&cert_file, cert.pem()).unwrap();
        std::fs::write(&key_file, key.serialize_pem()).unwrap();
        (cert_file, key_file)
    }

    /// A rustls server configuration with a certificate of this CA.
    fn server(&self, leaf: Leaf) -> Arc<ServerConfig> {
        let names = match leaf {
            Leaf::OtherName => vec!["other.test".to_owned()],
            Leaf::Good | Leaf::Expired => vec!["localhost".to_owned(), "127.0.0.1".to_owned()],
        };
        let mut params = CertificateParams::new(names).unwrap();
        if let Leaf::Expired = leaf {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2020, 12, 31);
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], key)
            .unwrap();
        Arc::new(config)
    }

    /// A host that trusts this CA only.
    fn host(&self) -> Host {
        Host::new(HostConfig {
            policy: loopback_policy(None),
            tls: Some(TlsConfig {
                system_roots: false,
                ca_files: vec![self.pem_file()],
            }),
            ..HostConfig::default()
        })
        .expect("a host with TLS")
    }
}

/// How a native peer treats each connection.
#[derive(Clone)]
enum Peer {
    /// TLS at once, then echo everything.
    TlsEcho(Arc<ServerConfig>),
    /// Plain until `STARTTLS\n`, answered `OK\n`; then TLS and echo.
    StartTls(Arc<ServerConfig>),
    /// Not TLS: answers whatever comes with an HTTP error and closes.
    Plain,
    /// Reads the start of the handshake, then resets the connection.
    Reset,
    /// Plain until `STARTTLS\n`, answered `OK\n`; then silent, the
    /// connection held open until the client goes.
    Stall,
}

/// Start `peer` on a loopback port; it serves until the test ends.
async fn start_peer(peer: Peer) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(peer.clone(), stream));
        }
    });
    addr
}

async fn serve(peer: Peer, mut stream: TcpStream) {
    match peer {
        Peer::TlsEcho(config) => tls_echo(config, stream).await,
        Peer::StartTls(config) => {
            let mut line = Vec::new();
            // Byte by byte: nothing after the `\n` may be read here.
            while !line.ends_with(b"\n") && line.len() < 64 {
                match stream.read_u8().await {
                    Ok(byte) => line.push(byte),
                    Err(_) => return,
                }
            }
            if line == b"STARTTLS\n" && stream.write_all(b"OK\n").await.is_ok() {
                tls_echo(config, stream).await;
            }
        }
        Peer::Stall => {
            let mut buf = [0; 1024];
            let _ = stream.read(&mut buf).await;
            let _ = stream.write_all(b"OK\n").await;
            // Read (and ignore) the handshake until the client is gone.
            while let Ok(1..) = stream.read(&mut buf).await {}
        }
        Peer::Plain => {
            let mut buf = [0; 1024];
            let _ = stream.read(&mut buf).await;
            let _ = stream.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\n").await;
        }
        Peer::Reset => {
            let mut buf = [0; 16];
            let _ = stream.read_exact(&mut buf).await;
            let _ = stream.set_zero_linger();
        }
    }
}

/// Accept TLS on `stream` and echo everything until the client's end.
async fn tls_echo(config: Arc<ServerConfig>, stream: TcpStream) {
    let Ok(tls) = TlsAcceptor::from(config).accept(stream).await else {
        return;
    };
    let (mut reader, mut writer) = tokio::io::split(tls);
    if tokio::io::copy(&mut reader, &mut writer).await.is_ok() {
        let _ = writer.shutdown().await;
    }
}

/// Run `tls_client` on `host` against `addr`; its output once it exited 0.
async fn tls_client(host: &Host, addr: SocketAddr, server_name: &str, mode: &str) -> String {
    let args = [target(addr), server_name.to_owned(), mode.to_owned()];
    let finished = support::run(host, programs::TLS_CLIENT, &args).await;
    finished.assert_success();
    finished.stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_connection_exchanges_lines_with_a_rustls_server() {
    within(async {
        let ca = TestCa::new("wasio test CA");
        let addr = start_peer(Peer::TlsEcho(ca.server(Leaf::Good))).await;
        let out = tls_client(&ca.host(), addr, "localhost", "echo").await;
        assert!(out.contains("ok: 100 lines over TLS"), "{out}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_start_tls_upgrades_a_plain_connection() {
    within(async {
        let ca = TestCa::new("wasio test CA");
        let addr = start_peer(Peer::StartTls(ca.server(Leaf::Good))).await;
        let out = tls_client(&ca.host(), addr, "localhost", "starttls").await;
        assert!(out.contains("ok: 100 lines after STARTTLS"), "{out}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_start_tls_refuses_while_bytes_are_buffered() {
    within(async {
        let ca = TestCa::new("wasio test CA");
        let addr = start_peer(Peer::StartTls(ca.server(Leaf::Good))).await;
        let out = tls_client(&ca.host(), addr, "localhost", "starttls-early").await;
        assert!(
            out.contains("ok: start_tls refused with bytes buffered"),
            "{out}"
        );
    })
    .await;
}

/// The error line `tls_client … fail` printed.
async fn failure(host: &Host, peer: Peer, server_name: &str) -> String {
    let addr = start_peer(peer).await;
    let out = tls_client(host, addr, server_name, "fail").await;
    out.lines()
        .find_map(|line| line.strip_prefix("error: "))
        .unwrap_or_else(|| panic!("no error line in {out:?}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_certificate_of_an_unknown_ca_is_not_trusted() {
    within(async {
        let (trusted, unknown) = (
            TestCa::new("wasio trusted CA"),
            TestCa::new("wasio unknown CA"),
        );
        let error = failure(
            &trusted.host(),
            Peer::TlsEcho(unknown.server(Leaf::Good)),
            "localhost",
        )
        .await;
        assert!(error.starts_with("CertificateNotTrusted"), "{error}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_certificate_for_another_name_is_a_name_mismatch() {
    within(async {
        let ca = TestCa::new("wasio test CA");
        let error = failure(
            &ca.host(),
            Peer::TlsEcho(ca.server(Leaf::OtherName)),
            "localhost",
        )
        .await;
        assert!(error.starts_with("NameMismatch"), "{error}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_expired_certificate_is_refused() {
    within(async {
        let ca = TestCa::new("wasio test CA");
        let error = failure(
            &ca.host(),
            Peer::TlsEcho(ca.server(Leaf::Expired)),
            "localhost",
        )
        .await;
        assert!(error.starts_with("CertificateExpired"), "{error}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_peer_that_is_not_tls_is_named() {
    within(async {
        let ca = TestCa::new("wasio test CA");
        let error = failure(&ca.host(), Peer::Plain, "localhost").await;
        assert!(error.starts_with("NotTls"), "{error}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_reset_during_the_handshake_is_a_reset() {
    within(async {
        let ca = TestCa::new("wasio test CA");
        let error = failure(&ca.host(), Peer::Reset, "localhost").await;
        assert!(error.starts_with("ConnectionReset"), "{error}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_off_in_the_host_fails_the_handshake_clearly() {
    within(async {
        let ca = TestCa::new("wasio test CA");
        let error = failure(
            &loopback_host(None),
            Peer::TlsEcho(ca.server(Leaf::Good)),
            "localhost",
        )
        .await;
        assert!(error.starts_with("Unavailable"), "{error}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_under_wasio_run_with_tls_ca() {
    let ca = TestCa::new("wasio test CA");
    let addr = within(start_peer(Peer::TlsEcho(ca.server(Leaf::Good)))).await;
    let program = wasio_tests::artifact("tls_client.wasm");
    let output = tokio::task::spawn_blocking(move || {
        run_command(
            std::process::Command::new(wasio_cli())
                .args(["run", "--tls", "--tls-ca"])
                .arg(ca.pem_file())
                .args(["--allow-connect", "127.0.0.1:*"])
                .arg(program)
                .args([target(addr).as_str(), "localhost", "echo"]),
        )
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("ok: 100 lines over TLS"),
        "{output:?}"
    );
}

/// A `redis-server` (OpenSSL) with only a TLS port, killed when dropped.
struct TlsRedis {
    port: u16,
    _child: tokio::process::Child,
}

impl TlsRedis {
    async fn start(ca: &TestCa) -> TlsRedis {
        let (cert, key) = ca.leaf_files();
        let port = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = tokio::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", "0"])
            .args(["--tls-port", &port.to_string()])
            .arg("--tls-cert-file")
            .arg(&cert)
            .arg("--tls-key-file")
            .arg(&key)
            .arg("--tls-ca-cert-file")
            .arg(ca.pem_file())
            .args(["--tls-auth-clients", "no"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(ca.dir.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start redis-server (make setup installs it)");
        // Listening once a TCP connect succeeds; bounded by the test's deadline.
        for _ in 0..500 {
            assert!(
                child.try_wait().unwrap().is_none(),
                "redis-server exited: is it built with TLS?"
            );
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return TlsRedis {
                    port,
                    _child: child,
                };
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("redis-server did not listen on its TLS port {port}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_redis_server_with_tls_port() {
    within(async {
        let ca = TestCa::new("wasio test CA");
        let redis = TlsRedis::start(&ca).await;
        let addr = SocketAddr::from(([127, 0, 0, 1], redis.port));
        let out = tls_client(&ca.host(), addr, "localhost", "redis").await;
        assert!(out.contains("ok: SET, GET and PING over TLS"), "{out}");
    })
    .await;
}

/// `PROGRAM ARGS... dist/wcat-tls.wasm --tls localhost PORT` with no
/// input, against a rustls echo peer with a certificate of `ca`.
async fn wcat_tls(ca: &TestCa, program: PathBuf, args: &[&str]) -> std::process::Output {
    let addr = start_peer(Peer::TlsEcho(ca.server(Leaf::Good))).await;
    let mut args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    let wcat = made_by("dist/wcat-tls.wasm", "make build");
    args.push(wcat.display().to_string());
    args.extend(["--tls".into(), "localhost".into(), addr.port().to_string()]);
    tokio::task::spawn_blocking(move || {
        run_command(std::process::Command::new(program).args(&args))
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_wcat_under_wasio_run_trusts_the_tls_ca() {
    let ca = TestCa::new("wasio test CA");
    let ca_file = ca.pem_file().display().to_string();
    let args = [
        "run",
        "--tls",
        "--tls-ca",
        &ca_file,
        "--allow-connect",
        "127.0.0.1:*",
        "--allow-dns",
    ];
    let output = within(wcat_tls(&ca, wasio_cli().to_owned(), &args)).await;
    assert!(output.status.success(), "{output:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_stock_cli_trusts_only_the_public_roots() {
    let ca = TestCa::new("wasio test CA");
    let args = [
        "run",
        "-S",
        "inherit-network",
        "-S",
        "allow-ip-name-lookup",
        "-S",
        "tls",
    ];
    let wasmtime = made_by(".tools/bin/wasmtime", "make setup");
    let output = within(wcat_tls(&ca, wasmtime, &args)).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(stderr.contains("TLS certificate not trusted"), "{stderr}");
}

// --- the `tls` interface of wasio-tls.wasm, called as a consumer would ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_exports_open_connection_exchanges_lines() {
    within(async {
        let ca = TestCa::new("wasio test CA");
        let addr = start_peer(Peer::TlsEcho(ca.server(Leaf::Good))).await;
        let mut wasio = tls_instance(&ca.host()).await;
        let (reader, writer) = wasio.connect_tls(addr, "localhost").await.unwrap();
        wasio.send(writer, b"over TLS\nand again\n").await.unwrap();
        assert_eq!(wasio.readline(reader).await.unwrap(), b"over TLS\n");
        assert_eq!(wasio.readline(reader).await.unwrap(), b"and again\n");
        wasio.drop_all([reader, writer]).await;

        // The non-blocking form: `finish` until it stops answering
        // `would-block`, waiting on `subscribe` in between.
        let api = wasio.api();
        let tls = api.wasio_streams_tls();
        let connecting = tls
            .call_open_connection(&mut wasio.store, "127.0.0.1", addr.port(), None, None)
            .await
            .unwrap()
            .expect("connecting");
        let mut waits = 0;
        let (reader, writer) = loop {
            let finished = tls
                .connecting()
                .call_finish(&mut wasio.store, connecting)
                .await
                .unwrap();
            match finished {
                Err(TlsError::Connection(WitError::WouldBlock)) if waits < 100 => {
                    waits += 1;
                    let pollable = tls
                        .connecting()
                        .call_subscribe(&mut wasio.store, connecting)
                        .await
                        .unwrap();
                    block(&mut wasio, pollable).await;
                }
                other => break other.expect("connected"),
            }
        };
        // The certificate also names 127.0.0.1, the default server name.
        wasio.send(writer, b"non-blocking\n").await.unwrap();
        assert_eq!(wasio.readline(reader).await.unwrap(), b"non-blocking\n");
        wasio.drop_all([reader, writer, connecting]).await;
    })
    .await;
}

/// What a case of `tls_exports_name_each_failure` must fail with.
type Expected = Box<dyn Fn(&TlsError) -> bool>;

/// Whether `error` is a failed handshake of `failure`.
fn handshake(error: &TlsError, failure: HandshakeFailure) -> bool {
    matches!(error, TlsError::Handshake(e) if e.failure == failure)
}

/// Wait on a pollable `wasio` handed out, then drop it.
async fn block(wasio: &mut TlsInstance, pollable: Resource<DynPollable>) {
    let table = wasio.store.data_mut().table();
    let borrowed = Resource::<DynPollable>::new_borrow(pollable.rep());
    wasmtime_wasi::p2::bindings::io::poll::Host::poll(table, vec![borrowed])
        .await
        .unwrap();
    table.delete(pollable).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_exports_name_each_failure() {
    within(async {
        let ca = TestCa::new("wasio test CA");
        let unknown = TestCa::new("wasio unknown CA");
        let refused = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let refused_addr = refused.local_addr().unwrap();
        drop(refused);
        let cases: Vec<(&str, SocketAddr, Expected)> = vec![
            (
                "unknown CA",
                start_peer(Peer::TlsEcho(unknown.server(Leaf::Good))).await,
                Box::new(|e| handshake(e, HandshakeFailure::CertificateNotTrusted)),
            ),
            (
                "other name",
                start_peer(Peer::TlsEcho(ca.server(Leaf::OtherName))).await,
                Box::new(|e| handshake(e, HandshakeFailure::NameMismatch)),
            ),
            (
                "expired",
                start_peer(Peer::TlsEcho(ca.server(Leaf::Expired))).await,
                Box::new(|e| handshake(e, HandshakeFailure::CertificateExpired)),
            ),
            (
                "not TLS",
                start_peer(Peer::Plain).await,
                Box::new(|e| handshake(e, HandshakeFailure::NotTls)),
            ),
            (
                "reset",
                start_peer(Peer::Reset).await,
                Box::new(|e| matches!(e, TlsError::Connection(WitError::ConnectionReset))),
            ),
            (
                "refused",
                refused_addr,
                Box::new(|e| matches!(e, TlsError::Connection(WitError::ConnectionRefused))),
            ),
        ];
        let mut wasio = tls_instance(&ca.host()).await;
        for (case, addr, expected) in cases {
            let error = wasio.connect_tls(addr, "localhost").await.err();
            let error = error.unwrap_or_else(|| panic!("{case}: connected"));
            assert!(expected(&error), "{case}: {error:?}");
        }
        // A host without TLS: `unavailable`, with a description.
        let addr = start_peer(Peer::TlsEcho(ca.server(Leaf::Good))).await;
        let mut plain_host = tls_instance(&loopback_host(None)).await;
        match plain_host.connect_tls(addr, "localhost").await {
            Err(TlsError::Handshake(e)) if e.failure == HandshakeFailure::Unavailable => {
                assert!(!e.detail.is_empty());
            }
            other => panic!("{other:?}"),
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_exports_start_tls_upgrades_after_plain_lines() {
    within(async {
        let ca = TestCa::new("wasio test CA");
        let addr = start_peer(Peer::StartTls(ca.server(Leaf::Good))).await;
        let mut wasio = tls_instance(&ca.host()).await;
        let (reader, writer) = wasio.connect(addr).await;
        wasio.send(writer, b"STARTTLS\n").await.unwrap();
        assert_eq!(wasio.readline(reader).await.unwrap(), b"OK\n");
        // Bytes in the reader's buffer would have come before TLS:
        // refused, and the stream stays as it was.
        wasio.feed_data(reader, b"early\n").await;
        match wasio.start_tls(writer, "localhost", None).await {
            Err(TlsError::Connection(WitError::InvalidState(reason))) => {
                assert!(reason.contains("before the handshake"), "{reason}");
            }
            other => panic!("start-tls with bytes buffered: {other:?}"),
        }
        assert_eq!(wasio.readline(reader).await.unwrap(), b"early\n");
        wasio.start_tls(writer, "localhost", None).await.unwrap();
        wasio.send(writer, b"secret\n").await.unwrap();
        assert_eq!(wasio.readline(reader).await.unwrap(), b"secret\n");
        // Already TLS: refused.
        match wasio.start_tls(writer, "localhost", None).await {
            Err(TlsError::Connection(WitError::InvalidState(_))) => {}
            other => panic!("start-tls twice: {other:?}"),
        }
        wasio.drop_all([reader, writer]).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_exports_start_tls_timeout_loses_the_connection() {
    within(async {
        let ca = TestCa::new("wasio test CA");
        let addr = start_peer(Peer::Stall).await;
        let mut wasio = tls_instance(&ca.host()).await;
        let (reader, writer) = wasio.connect(addr).await;
        wasio.send(writer, b"STARTTLS\n").await.unwrap();
        assert_eq!(wasio.readline(reader).await.unwrap(), b"OK\n");
        let timeout = Some(Duration::from_millis(300));
        match wasio.start_tls(writer, "localhost", timeout).await {
            Err(TlsError::Connection(WitError::TimedOut)) => {}
            other => panic!("start-tls against a silent peer: {other:?}"),
        }
        // The socket went with the abandoned handshake: the stream says
        // so at once rather than waiting for it.
        match wasio.readline(reader).await {
            Err(WitError::ConnectionAborted) => {}
            other => panic!("readline after the timeout: {other:?}"),
        }
        assert!(wasio.send(writer, b"more\n").await.is_err());
        wasio.drop_all([reader, writer]).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_composed_redis_client_under_wasio_run() {
    let ca = TestCa::new("wasio test CA");
    let redis = within(TlsRedis::start(&ca)).await;
    let client = made_by("dist/redis-client-tls.composed.wasm", "make build");
    let port = redis.port.to_string();
    let output = tokio::task::spawn_blocking(move || {
        run_command(
            std::process::Command::new(wasio_cli())
                .args(["run", "--tls", "--tls-ca"])
                .arg(ca.pem_file())
                .args(["--allow-connect", "127.0.0.1:*"])
                .arg(client)
                .args(["--tls", "127.0.0.1", &port]),
        )
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        support::REDIS_DEMO_TRANSCRIPT
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_exports_start_tls_refuses_a_stream_whose_pollables_were_handed_out() {
    within(async {
        let ca = TestCa::new("wasio test CA");
        let addr = start_peer(Peer::StartTls(ca.server(Leaf::Good))).await;
        let mut wasio = tls_instance(&ca.host()).await;
        let (reader, writer) = wasio.connect(addr).await;
        // An event loop tries to read, then waits on the reader's
        // pollable, which is then the socket's.
        let api = wasio.api();
        let reader_api = api.wasio_streams_streams().stream_reader();
        let first = reader_api
            .call_readline(&mut wasio.store, reader)
            .await
            .unwrap();
        assert!(matches!(first, Err(WitError::WouldBlock)), "{first:?}");
        let pollable = reader_api
            .call_subscribe(&mut wasio.store, reader)
            .await
            .unwrap();
        wasio.send(writer, b"STARTTLS\n").await.unwrap();
        block(&mut wasio, pollable).await;
        assert_eq!(wasio.readline(reader).await.unwrap(), b"OK\n");
        match wasio.start_tls(writer, "localhost", None).await {
            Err(TlsError::Connection(WitError::InvalidState(reason))) => {
                assert!(reason.contains("pollables"), "{reason}");
            }
            other => panic!("start-tls after subscribe: {other:?}"),
        }
        // Refused, not broken: the plain stream goes on.
        wasio.send(writer, b"plain\n").await.unwrap();
        wasio.drop_all([reader, writer]).await;
    })
    .await;
}

//! `make run`: the echo-server component under `wasio run`, listening on
//! loopback TCP and on a Unix socket in a temporary directory, with a
//! native client exchanging lines over both. Prints the policy in force and
//! the transcript, then stops the server by closing its input (the server
//! runs with `--stop-on-eof`).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpStream, UnixStream};
use tokio::process::Command;
use tokio::time::timeout;

const LINES: [&str; 3] = ["hello, wasio", "asyncio streams in a component", "bye"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()?;
    let wasio = std::env::current_exe()?.with_file_name("wasio");
    let component = root.join("dist/echo-server-unix.wasm");
    for needed in [&wasio, &component] {
        if !needed.exists() {
            bail!("{} is missing: run `make build` first", needed.display());
        }
    }
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join("echo.sock");
    let policy = [
        "--allow-listen".to_owned(),
        "127.0.0.1:*".to_owned(),
        "--allow-unix".to_owned(),
        dir.path().display().to_string(),
    ];
    println!("policy: deny by default; {}", policy.join(" "));
    println!(
        "$ wasio run {} dist/echo-server-unix.wasm --listen 127.0.0.1:0 --unix {} --stop-on-eof",
        policy.join(" "),
        socket.display()
    );
    let mut server = Command::new(&wasio)
        .arg("run")
        .args(&policy)
        .arg(&component)
        .args(["--listen", "127.0.0.1:0", "--unix"])
        .arg(&socket)
        .arg("--stop-on-eof")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", wasio.display()))?;

    let mut announcements = BufReader::new(server.stdout.take().context("server stdout")?).lines();
    let mut tcp_address = None;
    let mut unix_path = None;
    while tcp_address.is_none() || unix_path.is_none() {
        let line = timeout(Duration::from_secs(60), announcements.next_line())
            .await
            .context("the server did not announce its addresses in time")??
            .context("the server exited before listening")?;
        println!("server: {line}");
        let address = line
            .strip_prefix("listening on ")
            .unwrap_or_default()
            .to_owned();
        if address.starts_with('/') {
            unix_path = Some(address);
        } else if !address.is_empty() {
            tcp_address = Some(address);
        }
    }

    let tcp = TcpStream::connect(tcp_address.as_deref().unwrap_or_default()).await?;
    exchange("tcp", tcp).await?;
    let unix = UnixStream::connect(unix_path.as_deref().unwrap_or_default()).await?;
    exchange("unix", unix).await?;

    drop(server.stdin.take());
    let status = timeout(Duration::from_secs(30), server.wait())
        .await
        .context("the server did not stop after its input closed")??;
    println!("server stopped: {status}");
    if !status.success() {
        bail!("the server failed: {status}");
    }
    if socket.exists() {
        bail!("the server left its socket file behind");
    }
    println!("the socket file is gone; done");
    Ok(())
}

/// Send each line, print it and its echo.
async fn exchange(
    transport: &str,
    stream: impl AsyncRead + AsyncWrite + Unpin,
) -> anyhow::Result<()> {
    let (read, mut write) = tokio::io::split(stream);
    let mut echoes = BufReader::new(read).lines();
    for line in LINES {
        println!("{transport} > {line}");
        write.write_all(format!("{line}\n").as_bytes()).await?;
        let echo = timeout(Duration::from_secs(10), echoes.next_line())
            .await
            .context("no echo in time")??
            .context("the server closed the connection")?;
        println!("{transport} < {echo}");
        if echo != line {
            bail!("{transport}: sent {line:?}, got {echo:?} back");
        }
    }
    write.shutdown().await?;
    Ok(())
}

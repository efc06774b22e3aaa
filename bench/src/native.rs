//! The native subjects: the benchmark protocol on tokio, in the same
//! algorithm as wasio (a `BufReader` and a write buffer flushed when the
//! input is drained) and in the naive form (`write_all` for every line).

use std::io;
use std::time::Instant;

use tokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter,
};
use tokio::net::{TcpListener, UnixListener};

use crate::protocol::{BACKLOG, Mode, PIECE};
use crate::serve::{ServeArgs, announce, stdin_closed};

/// Run a native server until standard input ends.
pub fn serve(args: &ServeArgs, naive: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let tcp = match &args.listen {
            Some(address) => {
                let socket = tokio::net::TcpSocket::new_v4()?;
                socket.set_reuseaddr(true)?;
                socket.bind(address.parse()?)?;
                Some(socket.listen(BACKLOG)?)
            }
            None => None,
        };
        let unix = match &args.unix {
            Some(path) => Some(UnixListener::bind(path)?),
            None => None,
        };
        if args.startup {
            println!("started in {} µs", started.elapsed().as_micros());
            return Ok(());
        }
        if let Some(listener) = &tcp {
            announce(&listener.local_addr()?.to_string());
        }
        if let Some(path) = &args.unix {
            announce(path);
        }
        if let Some(listener) = tcp {
            tokio::spawn(accept_tcp(listener, naive));
        }
        if let Some(listener) = unix {
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let (r, w) = stream.into_split();
                    tokio::spawn(client(r, w, naive));
                }
            });
        }
        stdin_closed().await;
        anyhow::Ok(())
    })
}

async fn accept_tcp(listener: TcpListener, naive: bool) {
    while let Ok((stream, _)) = listener.accept().await {
        // Nagle stays on, as for the guests (see the protocol module).
        let (r, w) = stream.into_split();
        tokio::spawn(client(r, w, naive));
    }
}

/// Serve one connection (the TLS bench's server too).
pub async fn client<R, W>(reader: R, writer: W, naive: bool)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    if let Err(error) = serve_one(reader, writer, naive).await {
        eprintln!("serve-native: {error}");
    }
}

async fn serve_one<R, W>(reader: R, mut writer: W, naive: bool) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut reader = BufReader::with_capacity(PIECE, reader);
    let mut head = Vec::new();
    reader.read_until(b'\n', &mut head).await?;
    match Mode::parse(&head) {
        Some(Mode::Echo) if naive => {
            let mut line = Vec::with_capacity(128);
            loop {
                line.clear();
                if reader.read_until(b'\n', &mut line).await? == 0 {
                    break;
                }
                writer.write_all(&line).await?;
            }
        }
        Some(Mode::Echo) => {
            let mut out = BufWriter::with_capacity(PIECE, &mut writer);
            let mut line = Vec::with_capacity(128);
            loop {
                line.clear();
                if reader.read_until(b'\n', &mut line).await? == 0 {
                    break;
                }
                out.write_all(&line).await?;
                if reader.buffer().is_empty() {
                    out.flush().await?;
                }
            }
            out.flush().await?;
        }
        Some(Mode::Frames) => {
            let mut total = 0u64;
            let mut payload = Vec::new();
            loop {
                let length = reader.read_u32().await?;
                if length == 0 {
                    break;
                }
                payload.resize(length as usize, 0);
                reader.read_exact(&mut payload).await?;
                total += u64::from(length);
            }
            writer.write_all(format!("{total}\n").as_bytes()).await?;
        }
        Some(Mode::Sink) => {
            let mut total = 0u64;
            let mut piece = vec![0; PIECE];
            loop {
                let n = reader.read(&mut piece).await?;
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
            writer.write_all(format!("{total}\n").as_bytes()).await?;
        }
        Some(Mode::Source(count)) => {
            let piece = vec![b'x'; PIECE];
            let mut sent = 0u64;
            while sent < count {
                let n = (count - sent).min(PIECE as u64) as usize;
                writer.write_all(&piece[..n]).await?;
                sent += n as u64;
            }
        }
        None => {}
    }
    writer.shutdown().await
}

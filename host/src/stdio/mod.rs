//! What a guest's standard input, output and error are connected to: the
//! host's own, nothing, bytes given up front, a pipe the host writes to
//! while the guest runs, or a [`Capture`] the host reads while it runs.

mod capture;

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, DuplexStream};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::cli::AsyncStdinStream;
use wasmtime_wasi::p2::pipe::MemoryInputPipe;

pub use self::capture::{Capture, DEFAULT_CAPTURE_LIMIT};

/// How many bytes a [`Stdin::pipe`] holds that the guest has not read yet;
/// writing more waits for the guest.
pub const STDIN_PIPE_CAPACITY: usize = 64 * 1024;

/// The guest's standard input.
#[derive(Clone, Debug, Default)]
pub enum Stdin {
    /// The host process's standard input.
    #[default]
    Inherit,
    /// Nothing: the guest reads end-of-file at once.
    Null,
    /// These bytes, then end-of-file. Each store reads them from the start.
    Bytes(Vec<u8>),
    /// A stream the host feeds, such as the reading end of [`Stdin::pipe`].
    Reader(StdinReader),
}

impl Stdin {
    /// A pipe: the guest reads what the host writes to the [`StdinWriter`],
    /// and end-of-file once the writer is closed (or dropped).
    pub fn pipe() -> (Stdin, StdinWriter) {
        let (reader, writer) = tokio::io::duplex(STDIN_PIPE_CAPACITY);
        (
            Stdin::Reader(StdinReader::new(reader)),
            StdinWriter { writer },
        )
    }

    fn install(&self, builder: &mut WasiCtxBuilder) {
        match self {
            Stdin::Inherit => builder.inherit_stdin(),
            Stdin::Null => builder.stdin(tokio::io::empty()),
            Stdin::Bytes(bytes) => builder.stdin(MemoryInputPipe::new(bytes.clone())),
            Stdin::Reader(reader) => builder.stdin(Arc::clone(&reader.stream)),
        };
    }
}

/// A host stream read as a guest's standard input.
///
/// Reading starts when this is made, in a task on the current tokio runtime
/// (or wasmtime-wasi's own when there is none). Clones share the stream and
/// its position; give it to one running store at a time (two stores reading
/// at once makes one of them trap).
#[derive(Clone)]
pub struct StdinReader {
    stream: Arc<AsyncStdinStream>,
}

impl StdinReader {
    pub fn new(reader: impl AsyncRead + Send + Sync + 'static) -> Self {
        Self {
            stream: Arc::new(AsyncStdinStream::new(reader)),
        }
    }
}

impl fmt::Debug for StdinReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StdinReader").finish_non_exhaustive()
    }
}

/// The host's end of a [`Stdin::pipe`]: what is written here, the guest
/// reads. Closing or dropping it gives the guest end-of-file once it has
/// read the rest.
///
/// Writes wait while the pipe holds [`STDIN_PIPE_CAPACITY`] unread bytes.
/// The reading end lives as long as any [`Stdin`] holding it (in
/// [`RunOptions`](crate::RunOptions) or a store), even after the guest has
/// exited; drop those too to make writes fail instead of wait.
#[derive(Debug)]
pub struct StdinWriter {
    writer: DuplexStream,
}

impl StdinWriter {
    /// Write all of `bytes`.
    pub async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.writer.write_all(bytes).await
    }

    /// End the guest's input: it reads end-of-file after what was written.
    pub fn close(self) {}
}

impl AsyncWrite for StdinWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.writer).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.writer).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.writer).poll_shutdown(cx)
    }
}

/// The guest's standard output or error.
#[derive(Clone, Debug, Default)]
pub enum Output {
    /// The host process's own stream.
    #[default]
    Inherit,
    /// Discarded.
    Null,
    /// Kept in memory: read it through (a clone of) the [`Capture`].
    Capture(Capture),
}

impl From<Capture> for Output {
    fn from(capture: Capture) -> Self {
        Output::Capture(capture)
    }
}

/// Connect a store's standard streams as `stdin`, `stdout` and `stderr` say.
pub(crate) fn install(
    builder: &mut WasiCtxBuilder,
    stdin: &Stdin,
    stdout: &Output,
    stderr: &Output,
) {
    stdin.install(builder);
    match stdout {
        Output::Inherit => builder.inherit_stdout(),
        Output::Null => builder.stdout(tokio::io::empty()),
        Output::Capture(capture) => builder.stdout(capture.sink()),
    };
    match stderr {
        Output::Inherit => builder.inherit_stderr(),
        Output::Null => builder.stderr(tokio::io::empty()),
        Output::Capture(capture) => builder.stderr(capture.sink()),
    };
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use wasmtime_wasi::cli::StdinStream;
    use wasmtime_wasi::p2::{InputStream, StreamError};

    use super::*;

    /// Read from `stream` until `want` bytes or end-of-file (bounded).
    async fn read(stream: &mut Box<dyn InputStream>, want: usize) -> (Vec<u8>, bool) {
        let mut got = Vec::new();
        while got.len() < want {
            tokio::time::timeout(Duration::from_secs(5), stream.ready())
                .await
                .expect("stdin ready");
            match stream.read(want - got.len()) {
                Ok(bytes) => got.extend_from_slice(&bytes),
                Err(StreamError::Closed) => return (got, true),
                Err(e) => panic!("read failed: {e}"),
            }
        }
        (got, false)
    }

    #[tokio::test]
    async fn pipe_delivers_writes_then_end_of_file_after_close() {
        let (stdin, mut writer) = Stdin::pipe();
        let Stdin::Reader(reader) = stdin else {
            panic!("a pipe is read through a reader");
        };
        let mut stream = reader.stream.p2_stream();
        writer.write_all(b"hello\n").await.unwrap();
        assert_eq!(read(&mut stream, 6).await, (b"hello\n".to_vec(), false));
        writer.write_all(b"bye").await.unwrap();
        writer.close();
        assert_eq!(read(&mut stream, 10).await, (b"bye".to_vec(), true));
    }
}

//! What a guest's standard input, output and error are connected to: the
//! host's own, nothing, bytes given up front, or any stream the embedder
//! provides.

use std::fmt;
use std::sync::Arc;

use tokio::io::AsyncRead;
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::cli::{AsyncStdinStream, StdoutStream};
use wasmtime_wasi::p2::pipe::MemoryInputPipe;

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
    /// A stream the host feeds (see [`StdinReader`]).
    Reader(StdinReader),
}

impl Stdin {
    fn install(&self, builder: &mut WasiCtxBuilder) {
        match self {
            Stdin::Inherit => builder.inherit_stdin(),
            Stdin::Null => builder.stdin(tokio::io::empty()),
            Stdin::Bytes(bytes) => builder.stdin(MemoryInputPipe::new(bytes.clone())),
            Stdin::Reader(reader) => builder.stdin(Arc::clone(&reader.stream)),
        };
    }
}

/// A host stream read as a guest's standard input: a pipe, a socket, a
/// file. The guest reads end-of-file when the stream ends; for input the
/// host writes while the guest runs, give it the reading end of
/// `tokio::io::duplex` and drop the writing end to end the input.
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

/// The guest's standard output or error.
#[derive(Clone, Default)]
pub enum Output {
    /// The host process's own stream.
    #[default]
    Inherit,
    /// Discarded.
    Null,
    /// Any `wasmtime-wasi` output stream, shared by every store the options
    /// make: `MemoryOutputPipe` to keep the output in memory,
    /// `AsyncStdoutStream` over a file, a socket or a pipe, or a type of
    /// the embedder's own.
    Stream(Arc<dyn StdoutStream + Sync>),
}

impl Output {
    /// [`Output::Stream`] of `stream`.
    pub fn stream(stream: impl StdoutStream + Sync + 'static) -> Self {
        Output::Stream(Arc::new(stream))
    }
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Output::Inherit => f.write_str("Inherit"),
            Output::Null => f.write_str("Null"),
            Output::Stream(_) => f.debug_tuple("Stream").finish_non_exhaustive(),
        }
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
        Output::Stream(stream) => builder.stdout(Arc::clone(stream)),
    };
    match stderr {
        Output::Inherit => builder.inherit_stderr(),
        Output::Null => builder.stderr(tokio::io::empty()),
        Output::Stream(stream) => builder.stderr(Arc::clone(stream)),
    };
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncWriteExt;
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
    async fn reader_delivers_writes_then_end_of_file_after_close() {
        let (reading, mut writing) = tokio::io::duplex(64);
        let reader = StdinReader::new(reading);
        let mut stream = reader.stream.p2_stream();
        writing.write_all(b"hello\n").await.unwrap();
        assert_eq!(read(&mut stream, 6).await, (b"hello\n".to_vec(), false));
        writing.write_all(b"bye").await.unwrap();
        drop(writing);
        assert_eq!(read(&mut stream, 10).await, (b"bye".to_vec(), true));
    }
}

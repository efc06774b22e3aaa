//! A connected Unix stream socket and the `wasi:io` streams over it.

use std::io;
use std::net::Shutdown;
use std::os::unix::net::UnixStream as StdUnixStream;
use std::path::Path;

use socket2::{Domain, SockAddr, Socket, Type};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream};

use super::reader::UnixInputStream;
use super::writer::{self, UnixWriter};

/// The host side of `unix-socket`.
///
/// The data moves through the tokio halves inside the streams; this keeps a
/// duplicate of the descriptor so that `shutdown` and the names work on the
/// socket itself whatever the guest has done with its streams, and shares
/// the sending half with the output stream so that shutting it down waits
/// for a write in flight.
#[derive(Debug)]
pub struct UnixSocket {
    socket: Socket,
    writer: UnixWriter,
    /// Reported as the local path instead of the system's name: for an
    /// accepted socket, the path as the guest gave it to `listen`.
    local_path: Option<String>,
}

impl UnixSocket {
    /// Connect to `path` without blocking. A full backlog fails at once
    /// (`WouldBlock`) instead of waiting, as the WIT contract says.
    ///
    /// Must run inside a tokio runtime.
    pub fn connect(path: &Path) -> io::Result<(Self, DynInputStream, DynOutputStream)> {
        let addr = SockAddr::unix(path)?;
        let socket = Socket::new(Domain::UNIX, Type::STREAM.nonblocking().cloexec(), None)?;
        socket.connect(&addr)?;
        Self::wrap(socket, None)
    }

    /// Wrap an accepted connection; `local_path` is the listener's path as
    /// the guest named it.
    pub fn accepted(
        stream: tokio::net::UnixStream,
        local_path: String,
    ) -> io::Result<(Self, DynInputStream, DynOutputStream)> {
        let socket = Socket::from(std::os::fd::OwnedFd::from(stream.into_std()?));
        Self::wrap(socket, Some(local_path))
    }

    fn wrap(
        socket: Socket,
        local_path: Option<String>,
    ) -> io::Result<(Self, DynInputStream, DynOutputStream)> {
        let for_streams: StdUnixStream = socket.try_clone()?.into();
        for_streams.set_nonblocking(true)?;
        let (read, write) = tokio::net::UnixStream::from_std(for_streams)?.into_split();
        let writer = UnixWriter::new(write);
        let input: DynInputStream = Box::new(UnixInputStream::new(read));
        let output: DynOutputStream = Box::new(writer.stream());
        let socket = Self {
            socket,
            writer,
            local_path,
        };
        Ok((socket, input, output))
    }

    /// The path this end is bound to, if any.
    pub fn local_path(&self) -> Option<String> {
        self.local_path
            .clone()
            .or_else(|| path_name(self.socket.local_addr()))
    }

    /// The path the peer is bound to, if any.
    pub fn peer_path(&self) -> Option<String> {
        path_name(self.socket.peer_addr())
    }

    /// Shut down one or both directions. Receiving stops at once; sending
    /// stops once a write in flight is done, so the peer's end-of-file
    /// comes after every byte written.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if let Shutdown::Read | Shutdown::Both = how {
            self.socket.shutdown(Shutdown::Read)?;
        }
        if let Shutdown::Write | Shutdown::Both = how
            && self.writer.shutdown() == writer::Shutdown::Now
        {
            self.socket.shutdown(Shutdown::Write)?;
        }
        Ok(())
    }
}

/// The file-system name of a Unix socket address; `None` for an unnamed
/// (or abstract) socket.
fn path_name(addr: io::Result<SockAddr>) -> Option<String> {
    let addr = addr.ok()?;
    addr.as_pathname().map(|p| p.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::time::Duration;

    use bytes::Bytes;
    use wasmtime_wasi::p2::{Pollable, StreamError};

    use super::*;

    /// Read from `input` until `want` bytes or end-of-file, waiting with
    /// `ready` in between (bounded).
    async fn read_some(input: &mut DynInputStream, want: usize) -> (Vec<u8>, bool) {
        let mut got = Vec::new();
        for _ in 0..100 {
            tokio::time::timeout(Duration::from_secs(5), input.ready())
                .await
                .expect("input ready");
            match input.read(want - got.len()) {
                Ok(bytes) => got.extend_from_slice(&bytes),
                Err(StreamError::Closed) => return (got, true),
                Err(e) => panic!("read failed: {e}"),
            }
            if got.len() == want {
                return (got, false);
            }
        }
        panic!("no data after 100 waits");
    }

    #[tokio::test]
    async fn connect_to_a_missing_path_fails_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let Err(err) = UnixSocket::connect(&dir.path().join("none.sock")) else {
            panic!("connected to nothing");
        };
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn connect_to_a_full_backlog_fails_instead_of_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None).unwrap();
        socket.bind(&SockAddr::unix(&path).unwrap()).unwrap();
        socket.listen(1).unwrap();
        let mut held = Vec::new();
        let err = loop {
            match UnixSocket::connect(&path) {
                Ok(conn) if held.len() < 64 => held.push(conn),
                Ok(_) => panic!("backlog never filled"),
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }

    #[tokio::test]
    async fn data_flows_both_ways_and_names_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let server = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let (socket, mut input, _output) = UnixSocket::connect(&path).unwrap();
        let (mut peer, _) = server.accept().unwrap();
        assert_eq!(socket.local_path(), None);
        assert_eq!(
            socket.peer_path(),
            Some(path.to_string_lossy().into_owned())
        );
        peer.write_all(b"hello").unwrap();
        assert_eq!(read_some(&mut input, 5).await, (b"hello".to_vec(), false));
    }

    #[tokio::test]
    async fn shutdown_send_gives_the_peer_end_of_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let server = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let (socket, _input, _output) = UnixSocket::connect(&path).unwrap();
        let (mut peer, _) = server.accept().unwrap();
        socket.shutdown(Shutdown::Write).unwrap();
        peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(
            peer.read(&mut buf).unwrap(),
            0,
            "end-of-file, not a timeout"
        );
    }

    /// Write until a write is left in flight (the peer is not reading);
    /// returns the bytes written.
    fn write_until_in_flight(output: &mut DynOutputStream) -> usize {
        let mut written = 0;
        for _ in 0..1000 {
            match output.check_write().unwrap() {
                0 => return written,
                n => {
                    output.write(Bytes::from(vec![b'x'; n])).unwrap();
                    written += n;
                }
            }
        }
        panic!("the socket took {written} bytes without a write left in flight");
    }

    /// Read everything the peer gets until end-of-file, in a blocking task.
    async fn read_to_end(mut peer: StdUnixStream) -> Vec<u8> {
        peer.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        tokio::task::spawn_blocking(move || {
            let mut got = Vec::new();
            peer.read_to_end(&mut got)
                .expect("end-of-file, not a timeout");
            got
        })
        .await
        .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shutdown_send_waits_for_the_write_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let server = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let (socket, _input, mut output) = UnixSocket::connect(&path).unwrap();
        let (peer, _) = server.accept().unwrap();
        let written = write_until_in_flight(&mut output);
        socket.shutdown(Shutdown::Write).unwrap();
        assert_eq!(output.check_write().unwrap(), 0, "still writing");
        let got = read_to_end(peer).await;
        assert_eq!(got.len(), written);
        tokio::time::timeout(Duration::from_secs(5), output.ready())
            .await
            .expect("output ready once shut down");
        assert!(matches!(output.check_write(), Err(StreamError::Closed)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_the_streams_and_socket_still_delivers_the_write_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let server = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let (socket, input, mut output) = UnixSocket::connect(&path).unwrap();
        let (peer, _) = server.accept().unwrap();
        let written = write_until_in_flight(&mut output);
        drop((input, output, socket));
        assert_eq!(read_to_end(peer).await.len(), written);
    }

    #[tokio::test]
    async fn dropping_the_output_stream_gives_the_peer_end_of_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let server = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let (_socket, _input, mut output) = UnixSocket::connect(&path).unwrap();
        let (peer, _) = server.accept().unwrap();
        assert_eq!(output.check_write().unwrap(), writer::WRITE_BUDGET);
        output.write(Bytes::from_static(b"last words")).unwrap();
        drop(output);
        assert_eq!(read_to_end(peer).await, b"last words");
    }

    #[tokio::test]
    async fn write_without_a_permit_traps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let _server = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let (_socket, _input, mut output) = UnixSocket::connect(&path).unwrap();
        let write = output.write(Bytes::from_static(b"x"));
        assert!(matches!(write, Err(StreamError::Trap(_))));
        let permit = output.check_write().unwrap();
        let write = output.write(Bytes::from(vec![0; permit + 1]));
        assert!(matches!(write, Err(StreamError::Trap(_))));
    }

    #[tokio::test]
    async fn writing_to_a_departed_peer_reports_closed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let server = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let (_socket, _input, mut output) = UnixSocket::connect(&path).unwrap();
        drop(server.accept().unwrap());
        output.check_write().unwrap();
        // The write fails at once, or in the background when the socket's
        // readiness is not known yet.
        let write = output.write(Bytes::from_static(b"anyone?"));
        assert!(
            matches!(write, Ok(()) | Err(StreamError::Closed)),
            "{write:?}"
        );
        tokio::time::timeout(Duration::from_secs(5), output.ready())
            .await
            .expect("output ready once the write failed");
        let check = output.check_write();
        assert!(matches!(check, Err(StreamError::Closed)), "{check:?}");
    }

    #[tokio::test]
    async fn shutdown_receive_ends_the_input_stream() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let server = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let (socket, mut input, _output) = UnixSocket::connect(&path).unwrap();
        let (_peer, _) = server.accept().unwrap();
        socket.shutdown(Shutdown::Read).unwrap();
        assert_eq!(read_some(&mut input, 1).await, (Vec::new(), true));
    }

    #[tokio::test]
    async fn accepted_socket_reports_the_guests_listen_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let server = tokio::net::UnixListener::bind(&path).unwrap();
        let _client = std::os::unix::net::UnixStream::connect(&path).unwrap();
        let (stream, _) = server.accept().await.unwrap();
        let (socket, _, _) = UnixSocket::accepted(stream, "rel/s.sock".into()).unwrap();
        assert_eq!(socket.local_path().as_deref(), Some("rel/s.sock"));
        assert_eq!(socket.peer_path(), None, "the client is unnamed");
    }
}

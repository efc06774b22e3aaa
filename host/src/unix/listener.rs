//! A listening Unix socket: asyncio-style stale-socket replacement on
//! `listen`, non-blocking `accept`, readiness for `subscribe`, and removal of
//! its socket file when dropped.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::task::{Context, Poll, Waker};

use socket2::{Domain, SockAddr, Socket, Type};
use wasmtime_wasi::p2::Pollable;

/// Backlog used when the guest passes 0 (asyncio's default is 100).
const DEFAULT_BACKLOG: i32 = 128;

/// The host side of `unix-listener`.
#[derive(Debug)]
pub struct UnixListener {
    listener: tokio::net::UnixListener,
    /// The path as the guest gave it.
    guest_path: String,
    /// The resolved path the socket file was created at.
    file: PathBuf,
    /// Device and inode of the socket file we created: only that file is
    /// removed on drop, not one another server put there since.
    file_id: Option<(u64, u64)>,
    /// A connection taken by `ready` and not yet handed out by `accept`.
    pending: Option<io::Result<tokio::net::UnixStream>>,
}

impl UnixListener {
    /// Listen at the resolved path `file` (the guest named it `guest_path`).
    ///
    /// A socket file already at `file` is removed first (it is taken to be
    /// left over from an earlier server, as asyncio does); any other kind of
    /// file makes this fail with `AddrInUse`. Must run inside a tokio runtime.
    pub fn listen(file: &Path, guest_path: String, backlog: u32) -> io::Result<Self> {
        let addr = SockAddr::unix(file)?;
        remove_stale_socket(file)?;
        let socket = Socket::new(Domain::UNIX, Type::STREAM.nonblocking().cloexec(), None)?;
        socket.bind(&addr)?;
        let file_id = fs::symlink_metadata(file).ok().map(|m| (m.dev(), m.ino()));
        let backlog = match backlog {
            0 => DEFAULT_BACKLOG,
            n => i32::try_from(n).unwrap_or(i32::MAX),
        };
        let listening = socket.listen(backlog).and_then(|()| {
            let std: std::os::unix::net::UnixListener = socket.into();
            tokio::net::UnixListener::from_std(std)
        });
        let listener = match listening {
            Ok(l) => l,
            Err(e) => {
                let _ = fs::remove_file(file);
                return Err(e);
            }
        };
        tracing::debug!(path = %guest_path, file = %file.display(), "unix listener bound");
        Ok(Self {
            listener,
            guest_path,
            file: file.to_owned(),
            file_id,
            pending: None,
        })
    }

    /// The path as the guest gave it to `listen`.
    pub fn guest_path(&self) -> &str {
        &self.guest_path
    }

    /// Take one pending connection without waiting: `WouldBlock` if none.
    /// Must run inside a tokio runtime.
    pub fn accept(&mut self) -> io::Result<tokio::net::UnixStream> {
        if let Some(pending) = self.pending.take() {
            return pending;
        }
        match self.poll_accept(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<tokio::net::UnixStream>> {
        self.listener.poll_accept(cx).map_ok(|(stream, _)| stream)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for UnixListener {
    async fn ready(&mut self) {
        if self.pending.is_none() {
            let accepted = std::future::poll_fn(|cx| self.poll_accept(cx)).await;
            self.pending = Some(accepted);
        }
    }
}

impl Drop for UnixListener {
    fn drop(&mut self) {
        let ours = fs::symlink_metadata(&self.file)
            .is_ok_and(|m| m.file_type().is_socket() && Some((m.dev(), m.ino())) == self.file_id);
        if ours && let Err(e) = fs::remove_file(&self.file) {
            let file = self.file.display();
            tracing::warn!(%file, error = %e, "could not remove unix socket file");
        }
    }
}

/// Remove a socket file at `path`; refuse any other kind of file.
fn remove_stale_socket(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            tracing::debug!(file = %path.display(), "replacing stale unix socket file");
            fs::remove_file(path)
        }
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("{} exists and is not a socket", path.display()),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sock_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
        dir.path().join(name)
    }

    #[tokio::test]
    async fn listen_replaces_a_stale_socket_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = sock_path(&dir, "s.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(
            path.exists(),
            "the stale socket file stays after its server"
        );
        let listener = UnixListener::listen(&path, "s.sock".into(), 0).unwrap();
        std::os::unix::net::UnixStream::connect(&path).unwrap();
        drop(listener);
    }

    #[tokio::test]
    async fn listen_refuses_a_file_that_is_not_a_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = sock_path(&dir, "data");
        fs::write(&path, b"keep me").unwrap();
        let err = UnixListener::listen(&path, "data".into(), 0).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert_eq!(fs::read(&path).unwrap(), b"keep me");
    }

    #[tokio::test]
    async fn dropping_the_listener_removes_its_socket_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = sock_path(&dir, "s.sock");
        let listener = UnixListener::listen(&path, "s.sock".into(), 0).unwrap();
        assert!(fs::symlink_metadata(&path).unwrap().file_type().is_socket());
        drop(listener);
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn dropping_the_listener_spares_a_file_that_replaced_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = sock_path(&dir, "s.sock");
        let listener = UnixListener::listen(&path, "s.sock".into(), 0).unwrap();
        fs::remove_file(&path).unwrap();
        let other = std::os::unix::net::UnixListener::bind(&path).unwrap();
        drop(listener);
        assert!(path.exists(), "another server's socket file must stay");
        drop(other);
    }

    #[tokio::test]
    async fn accept_would_block_until_ready_says_a_client_waits() {
        let dir = tempfile::tempdir().unwrap();
        let path = sock_path(&dir, "s.sock");
        let mut listener = UnixListener::listen(&path, "given/s.sock".into(), 0).unwrap();
        assert_eq!(
            listener.accept().unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        let _client = std::os::unix::net::UnixStream::connect(&path).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), listener.ready())
            .await
            .expect("ready once a client connects");
        listener.accept().expect("the client ready announced");
        assert_eq!(
            listener.accept().unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        assert_eq!(listener.guest_path(), "given/s.sock");
    }
}

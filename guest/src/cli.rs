//! What the command components share (feature `cli`): their entry point
//! and standard input and output on the component's event loop, the same
//! over WASI 0.2 and 0.3.

use crate::core::Error;

/// The entry point of a command: `main!(run)` runs `async fn run() -> u8`
/// (the exit code) on wasio's event loop.
///
/// Under WASI 0.2 that is `fn main`. Under WASI 0.3 (feature `p3`) the
/// command exports `wasi:cli/run@0.3` with an `async` `run`, which hosts
/// with WASI 0.3 call; a Rust binary still exports the 0.2 `run` too,
/// which only says that it needs WASI 0.3.
#[macro_export]
macro_rules! main {
    ($run:path) => {
        #[cfg(not(feature = "p3"))]
        fn main() -> std::process::ExitCode {
            std::process::ExitCode::from($crate::block_on($run()))
        }

        #[cfg(feature = "p3")]
        fn main() -> std::process::ExitCode {
            eprintln!("this command needs a host with WASI 0.3 (wasi:cli/run@0.3)");
            std::process::ExitCode::from(2)
        }

        #[cfg(feature = "p3")]
        const _: () = {
            struct Command;

            impl $crate::cli::p3::exports::cli::run::Guest for Command {
                /// WASI 0.3's `run` tells success or failure: any code
                /// but 0 is a failure (exit status 1).
                async fn run() -> Result<(), ()> {
                    match $run().await {
                        0 => Ok(()),
                        _ => Err(()),
                    }
                }
            }

            $crate::cli::p3::cli::command::export!(Command);
        };
    };
}

/// The WASI 0.3 bindings the [`main!`] macro expands to.
#[cfg(feature = "p3")]
#[doc(hidden)]
pub use wasip3 as p3;

/// The command's standard input, read on the event loop.
#[derive(Debug)]
pub struct Stdin {
    /// Drops before the stream it watches.
    #[cfg(not(feature = "p3"))]
    ready: std::rc::Rc<wasip2::io::poll::Pollable>,
    #[cfg(not(feature = "p3"))]
    stream: wasip2::io::streams::InputStream,
    #[cfg(feature = "p3")]
    stream: wit_bindgen::StreamReader<u8>,
}

impl Default for Stdin {
    fn default() -> Self {
        Self::new()
    }
}

impl Stdin {
    /// Standard input.
    pub fn new() -> Self {
        #[cfg(not(feature = "p3"))]
        {
            let stream = wasip2::cli::stdin::get_stdin();
            let ready = std::rc::Rc::new(stream.subscribe());
            Self { stream, ready }
        }
        #[cfg(feature = "p3")]
        {
            let (stream, _) = wasip3::cli::stdin::read_via_stream();
            Self { stream }
        }
    }

    /// Up to `size` bytes once some are there; `None` at the end of input
    /// (or when it fails: a command has nothing better to do then).
    pub async fn read(&mut self, size: usize) -> Option<Vec<u8>> {
        #[cfg(not(feature = "p3"))]
        loop {
            match self.stream.read(size as u64) {
                Ok(bytes) if bytes.is_empty() => crate::runtime::wait_for(self.ready.clone()).await,
                Ok(bytes) => return Some(bytes),
                Err(_) => return None,
            }
        }
        #[cfg(feature = "p3")]
        loop {
            match self.stream.read(Vec::with_capacity(size)).await {
                (wit_bindgen::StreamResult::Complete(_), bytes) if bytes.is_empty() => {}
                (wit_bindgen::StreamResult::Complete(_), bytes) => return Some(bytes),
                _ => return None,
            }
        }
    }
}

/// Complete at the end of standard input (or when it fails), discarding
/// what it reads: how a driver or a terminal (Ctrl-D) stops a server that
/// was started to stop at the end of its input.
pub async fn stdin_closed() {
    let mut stdin = Stdin::new();
    while stdin.read(4096).await.is_some() {}
}

/// The command's standard output, written on the event loop.
#[derive(Debug)]
pub struct Stdout {
    /// Drops before the stream it watches.
    #[cfg(not(feature = "p3"))]
    ready: std::rc::Rc<wasip2::io::poll::Pollable>,
    #[cfg(not(feature = "p3"))]
    stream: wasip2::io::streams::OutputStream,
    #[cfg(feature = "p3")]
    stream: wit_bindgen::StreamWriter<u8>,
    /// How the host's copy of the stream ended.
    #[cfg(feature = "p3")]
    _copied: wit_bindgen::FutureReader<Result<(), wasip3::cli::types::ErrorCode>>,
}

impl Default for Stdout {
    fn default() -> Self {
        Self::new()
    }
}

impl Stdout {
    /// Standard output.
    pub fn new() -> Self {
        #[cfg(not(feature = "p3"))]
        {
            let stream = wasip2::cli::stdout::get_stdout();
            let ready = std::rc::Rc::new(stream.subscribe());
            Self { stream, ready }
        }
        #[cfg(feature = "p3")]
        {
            let (stream, reader) = wasip3::wit_stream::new();
            let copied = wasip3::cli::stdout::write_via_stream(reader);
            Self {
                stream,
                _copied: copied,
            }
        }
    }

    /// Write all of `bytes`, waiting while the output takes no more.
    pub async fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let failed = || Error::Other("cannot write to standard output".to_owned());
        #[cfg(not(feature = "p3"))]
        {
            let mut rest = bytes;
            while !rest.is_empty() {
                let granted = self.stream.check_write().map_err(|_| failed())?;
                if granted == 0 {
                    crate::runtime::wait_for(self.ready.clone()).await;
                    continue;
                }
                let n = rest
                    .len()
                    .min(usize::try_from(granted).unwrap_or(usize::MAX));
                self.stream.write(&rest[..n]).map_err(|_| failed())?;
                rest = &rest[n..];
            }
            self.stream.flush().map_err(|_| failed())
        }
        #[cfg(feature = "p3")]
        {
            match self.stream.write_all(bytes.to_vec()).await.is_empty() {
                true => Ok(()),
                false => Err(failed()),
            }
        }
    }
}

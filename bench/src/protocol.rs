//! The protocol every subject speaks, and the settings they share.
//!
//! A connection starts with a mode line:
//!
//! - `echo`: each further line is echoed; the server closes at end of file;
//! - `frames`: u32 big-endian length-prefixed frames, read with
//!   `readexactly`, until a zero length; the answer is the payload byte
//!   count as a decimal line;
//! - `sink`: reads (64 KiB at most) until end of file; the answer is the
//!   byte count;
//! - `source N`: the server writes N bytes in 64 KiB pieces and closes.
//!
//! Settings shared by every subject: listen backlog 1024; TCP_NODELAY off
//! (WASI 0.2 cannot set it and wasmtime-wasi leaves it off; the asyncio
//! subject turns off what asyncio turns on, and a separate subject keeps
//! asyncio's default); reads of 64 KiB at most.

/// The listen backlog of every subject.
pub const BACKLOG: u32 = 1024;
/// Largest read and write piece.
pub const PIECE: usize = 64 * 1024;

/// What a connection asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Echo,
    Frames,
    Sink,
    Source(u64),
}

impl Mode {
    /// The mode of a mode line (with its newline).
    pub fn parse(line: &[u8]) -> Option<Self> {
        match line {
            b"echo\n" => Some(Self::Echo),
            b"frames\n" => Some(Self::Frames),
            b"sink\n" => Some(Self::Sink),
            other => std::str::from_utf8(other)
                .ok()?
                .strip_prefix("source ")?
                .trim_end()
                .parse()
                .ok()
                .map(Self::Source),
        }
    }

    /// The mode line to send.
    pub fn line(self) -> String {
        match self {
            Self::Echo => "echo\n".to_owned(),
            Self::Frames => "frames\n".to_owned(),
            Self::Sink => "sink\n".to_owned(),
            Self::Source(n) => format!("source {n}\n"),
        }
    }
}

//! asyncio stream semantics without I/O.
//!
//! Nothing here knows about WASI: a transport feeds a [`StreamReader`] from
//! a socket and empties a [`WriteBuffer`] into one, as a [`Protocol`]
//! decides, and every rule about limits, end of file, separators, flow
//! control, reading ahead and closing lives here, where it can be tested
//! natively and fuzzed.

mod error;
mod outgoing;
mod protocol;
mod reader;
mod scan;
mod writer;

pub use error::{Error, TlsFailure};
pub use protocol::{MAX_READ, MAX_ROUND, MIN_READ, Protocol, Reason, Round, Send};
pub use reader::{DEFAULT_LIMIT, ReadPoll, StreamReader};
pub use scan::{Match, SeparatorError, Separators};
pub use writer::{DEFAULT_HIGH_WATER, WriteBuffer};

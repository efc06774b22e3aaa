//! The Rust API: asyncio streams as async Rust, on wasio's own event loop.
//!
//! ```no_run
//! # async fn example() -> Result<(), wasio::Error> {
//! let (reader, writer) = wasio::open_connection("127.0.0.1", 7878).await?;
//! writer.write(b"PING\n")?;
//! let line = reader.readline().await?;
//! writer.close();
//! writer.wait_closed().await?;
//! # Ok(())
//! # }
//! ```

mod connect;
#[cfg(not(feature = "p3"))]
mod connecting;
mod nonblocking;
mod reader;
mod server;
mod writer;

#[cfg(feature = "unix")]
pub use connect::open_unix_connection;
pub use connect::{open_connection, open_connection_with};
#[cfg(not(feature = "p3"))]
pub use connecting::Connecting;
pub use reader::{ReadFuture, StreamReader};
pub use server::{ClientResult, Server, listen, start_server};
#[cfg(feature = "unix")]
pub use server::{listen_unix, start_unix_server};
pub use writer::StreamWriter;

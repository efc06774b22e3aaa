//! What the server processes share: their arguments, the `listening on`
//! announcement the driver waits for, and stopping at end of input.

use tokio::io::AsyncReadExt;

/// Arguments of `serve-native` and `serve-wasm`.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ServeArgs {
    /// `HOST:PORT` to listen on (TCP).
    #[arg(long)]
    pub listen: Option<String>,
    /// Unix socket path to listen on.
    #[arg(long)]
    pub unix: Option<String>,
    /// Bind, report, exit (the start-up measurement).
    #[arg(long)]
    pub startup: bool,
    /// Count the guest's host calls (guests only).
    #[arg(long)]
    pub count_calls: bool,
    /// Write a perf map of the compiled guest code (guests only).
    #[arg(long)]
    pub perf_map: bool,
    /// The native server writes each line with its own `write_all`.
    #[arg(long)]
    pub naive: bool,
    /// The composed guest echoes one `readline` at a time instead of
    /// using the batched forms.
    #[arg(long)]
    pub single: bool,
    /// Run the guest inside tokio's cooperative budget (see `wasm`).
    #[arg(long)]
    pub coop_budget: bool,
}

/// Tell the driver an address is ready.
pub fn announce(address: &str) {
    println!("listening on {address}");
}

/// Complete at the end of standard input.
pub async fn stdin_closed() {
    let mut stdin = tokio::io::stdin();
    let mut sink = [0; 256];
    while matches!(stdin.read(&mut sink).await, Ok(n) if n > 0) {}
}

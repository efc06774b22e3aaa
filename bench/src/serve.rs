//! What the server processes share: their arguments, the `listening on`
//! announcement the driver waits for, and stopping at end of input.

use tokio::io::AsyncReadExt;

/// Arguments of `serve-native` and `serve-wasm`.
#[derive(Debug, Default, Clone)]
pub struct ServeArgs {
    /// `HOST:PORT` to listen on (TCP).
    pub listen: Option<String>,
    /// Unix socket path to listen on.
    pub unix: Option<String>,
    /// Bind, report, exit (the start-up measurement).
    pub startup: bool,
    /// Count the guest's host calls (guests only).
    pub count_calls: bool,
    /// Write a perf map of the compiled guest code (guests only).
    pub perf_map: bool,
    /// The native server writes each line with its own `write_all`.
    pub naive: bool,
    /// Run the guest inside tokio's cooperative budget (see `wasm`).
    pub coop_budget: bool,
}

impl ServeArgs {
    /// Parse `--listen A --unix P --startup --count-calls --perf-map --naive --coop-budget`.
    pub fn parse(args: &mut impl Iterator<Item = String>) -> anyhow::Result<Self> {
        let mut parsed = Self::default();
        while let Some(flag) = args.next() {
            match flag.as_str() {
                "--listen" => parsed.listen = args.next(),
                "--unix" => parsed.unix = args.next(),
                "--startup" => parsed.startup = true,
                "--count-calls" => parsed.count_calls = true,
                "--perf-map" => parsed.perf_map = true,
                "--naive" => parsed.naive = true,
                "--coop-budget" => parsed.coop_budget = true,
                other => anyhow::bail!("unknown argument {other:?}"),
            }
        }
        Ok(parsed)
    }
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

//! `wasio-plug --plug PLUG... SOCKET -o OUT`: fill the imports of the
//! component SOCKET with the exports of each PLUG and write the composed
//! component to OUT, as `wac plug` does (on the same library, wac-graph).
//! `make build` composes `examples/redis-client` with `wasio-tcp.wasm`
//! this way.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};

#[derive(Debug, Parser)]
#[command(
    name = "wasio-plug",
    about = "Plug components into the imports of another (wac plug)"
)]
struct Args {
    /// A component whose exports fill the socket's imports.
    #[arg(long = "plug", value_name = "PLUG", required = true)]
    plugs: Vec<PathBuf>,
    /// The component whose imports are filled.
    #[arg(value_name = "SOCKET")]
    socket: PathBuf,
    /// Where the composed component goes.
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut graph = CompositionGraph::new();
    let socket = Package::from_file("socket", None, &args.socket, graph.types_mut())
        .with_context(|| format!("cannot read the socket {}", args.socket.display()))?;
    let socket = graph.register_package(socket)?;
    let mut plugs = Vec::new();
    for (i, path) in args.plugs.iter().enumerate() {
        // Named after the file, as wac names them; numbered when several.
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default();
        let mut name = format!("plug:{stem}");
        if args.plugs.len() > 1 {
            name.push_str(&i.to_string());
        }
        let plug = Package::from_file(&name, None, path, graph.types_mut())
            .with_context(|| format!("cannot read the plug {}", path.display()))?;
        plugs.push(graph.register_package(plug)?);
    }
    wac_graph::plug(&mut graph, plugs, socket)?;
    let bytes = graph.encode(EncodeOptions::default())?;
    std::fs::write(&args.output, bytes)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    Ok(())
}

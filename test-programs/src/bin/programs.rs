//! Every test program in one command component, run by the name it is
//! started under, as a multi-call binary: argv[0] `bulk_transfer`, or a
//! path such as `artifacts/bulk_transfer.wasm`, runs `bulk_transfer`. The
//! suite copies the component under each program's name (tests/build.rs),
//! so a program is still started as `NAME.wasm`, while one build, one link
//! and one compilation by Wasmtime serve them all.

use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/programs.rs"));

#[cfg(not(feature = "p3"))]
fn main() {
    run_named_program();
}

/// Under WASI 0.3 the component exports `wasi:cli/run@0.3`, whose `run`
/// runs the program; its `wasio::block_on` waits within that task.
#[cfg(feature = "p3")]
async fn command() -> u8 {
    run_named_program();
    0
}

#[cfg(feature = "p3")]
wasio::main!(command);

/// Run the program argv[0] names.
fn run_named_program() {
    let argv0 = std::env::args().next().unwrap_or_default();
    let name = Path::new(&argv0)
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    match PROGRAMS.iter().find(|(program, _)| *program == name) {
        Some((_, main)) => main(),
        None => {
            let known: Vec<&str> = PROGRAMS.iter().map(|(program, _)| *program).collect();
            eprintln!(
                "no test program {name:?}; the programs: {}",
                known.join(", ")
            );
            std::process::exit(2);
        }
    }
}

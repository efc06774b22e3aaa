//! Builds the wasm artifacts the end-to-end tests run: the wasio
//! components (both worlds), the guest-side test programs and the example
//! commands (echo-server, wcat, with Unix support), in a target
//! directory of their own (the outer build holds the lock on `target/`),
//! and tells the tests where they are through `WASIO_ARTIFACTS`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();
    let target_dir = root.join("target").join("test-artifacts");
    let out = target_dir.join("wasm32-wasip2").join("release");
    let artifacts = target_dir.join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();

    for watched in ["guest/src", "guest/Cargo.toml", "wit", "test-programs"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    // One build per world: the output has the same name, so copy it away.
    for (features, name) in [
        ("component", "wasio-tcp.wasm"),
        ("component,unix", "wasio.wasm"),
    ] {
        cargo(
            &root,
            &target_dir,
            &["-p", "wasio", "--lib", "--features", features],
        );
        std::fs::copy(out.join("wasio.wasm"), artifacts.join(name)).unwrap();
    }
    cargo(&root, &target_dir, &["-p", "wasio-test-programs", "--bins"]);
    // The example commands, in their Unix-capable form.
    cargo(
        &root,
        &target_dir,
        &["-p", "wasio", "--bins", "--features", "cli,unix"],
    );
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "wasm") && !path.ends_with("wasio.wasm") {
            std::fs::copy(&path, artifacts.join(path.file_name().unwrap())).unwrap();
        }
    }
    println!("cargo:rustc-env=WASIO_ARTIFACTS={}", artifacts.display());
}

fn cargo(root: &Path, target_dir: &Path, args: &[&str]) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir)
        // Flags and wrappers meant for the outer (native) build, such as
        // clippy's, must not leak in.
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CLIPPY_ARGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET");
    let status = command
        .status()
        .expect("run cargo to build the wasm artifacts");
    assert!(
        status.success(),
        "building the wasm artifacts failed: cargo {args:?}"
    );
}

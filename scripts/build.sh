#!/usr/bin/env bash
# Builds the wasio components into dist/ (not committed) and the host.
#
#   dist/wasio-tcp.wasm   wasio:streams over TCP: runs on any WASI 0.2 runtime
#   dist/wasio.wasm       the same plus Unix sockets through the host's import
#   target/debug/wasio    the host (`wasio run`)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p dist
out=target/wasm32-wasip2/component

component() { # features dist-name
  cargo build --quiet -p wasio --target wasm32-wasip2 --profile component --features "$1"
  cp "$out/wasio.wasm" "dist/$2"
}

component component wasio-tcp.wasm
component component,unix wasio.wasm
cargo build --quiet -p wasio-host

for wasm in dist/*.wasm; do
  .tools/bin/wasm-tools validate "$wasm"
  printf 'build: %-24s %6d bytes\n' "$wasm" "$(stat -c %s "$wasm")"
done

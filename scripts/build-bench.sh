#!/usr/bin/env bash
# Builds the guest subjects of `make bench` into target/wasm32-wasip2/component:
#
#   bench-server.wasm    the protocol on wasio's Rust API, linked in
#   bench-raw.wasm       the protocol on raw wasi:sockets (the floor)
#   bench-composed.wasm  bench/consumer plugged into wasio.wasm (the library
#                        component with Unix sockets): the protocol through
#                        wasio's WIT exports, across a component boundary
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-target}
out=$target/wasm32-wasip2/component

cargo build --quiet -p wasio-bench-guest --target wasm32-wasip2 --profile component
# The library component on its own: its features must not mix with the
# bench guest's (which links wasio without the `component` feature).
cargo build --quiet -p wasio --lib --target wasm32-wasip2 --profile component --features component,unix
cp "$out/wasio.wasm" "$out/bench-wasio.wasm"
cargo build --quiet -p wasio-bench-consumer --target wasm32-wasip2 --profile component
cargo build --quiet -p wasio-plug --profile tool
"$target/tool/wasio-plug" --plug "$out/bench-wasio.wasm" "$out/wasio-bench-consumer.wasm" \
  -o "$out/bench-composed.wasm"

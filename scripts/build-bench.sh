#!/usr/bin/env bash
# Builds the guest subjects of `make bench` into target/wasm32-wasip2/component:
#
#   bench-server.wasm        the protocol on wasio's Rust API, linked in
#   bench-server-p3.wasm     the same built over WASI 0.3 (wasio's `p3` feature)
#   bench-raw.wasm           the protocol on raw wasi:sockets (the floor)
#   bench-client.wasm        the TLS client of `wasio-bench tls`
#   bench-composed.wasm      bench/consumer plugged into wasio.wasm (the library
#                            component with Unix sockets): the protocol through
#                            wasio's WIT exports, across a component boundary
#   bench-composed-tcp.wasm  bench/consumer without Unix sockets plugged into
#                            wasio-tcp.wasm: imports only WASI 0.2, for the
#                            stock `wasmtime` CLI
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-target}
out=$target/wasm32-wasip2/component

# bench-server over WASI 0.3 first: the default build below replaces its
# bench-server.wasm.
cargo build --quiet -p wasio-bench-guest --target wasm32-wasip2 --profile component \
  --no-default-features --features p3 --bin bench-server
cp "$out/bench-server.wasm" "$out/bench-server-p3.wasm"
cargo build --quiet -p wasio-bench-guest --target wasm32-wasip2 --profile component
# The TLS client of `wasio-bench tls`, with wasio's `tls` feature.
cargo build --quiet -p wasio-bench-guest --target wasm32-wasip2 --profile component --features tls --bin bench-client
cargo build --quiet -p wasio-plug --profile tool

# composed NAME WASIO-FEATURES CONSUMER-FLAGS: the library component and
# the consumer, each built on its own (features must not mix with the
# bench guest's), then plugged together.
composed() {
  cargo build --quiet -p wasio --lib --target wasm32-wasip2 --profile component --features "$2"
  cp "$out/wasio.wasm" "$out/bench-wasio-lib.wasm"
  # shellcheck disable=SC2086
  cargo build --quiet -p wasio-bench-consumer --target wasm32-wasip2 --profile component $3
  "$target/tool/wasio-plug" --plug "$out/bench-wasio-lib.wasm" "$out/wasio-bench-consumer.wasm" \
    -o "$out/$1"
  rm "$out/bench-wasio-lib.wasm"
}

composed bench-composed-tcp.wasm component --no-default-features
composed bench-composed.wasm component,unix ""

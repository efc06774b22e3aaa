#!/usr/bin/env bash
# Builds the wasio components into dist/ (not committed) and the host.
#
#   dist/wasio-tcp.wasm        wasio:streams over TCP: runs on any WASI 0.2 runtime
#   dist/wasio.wasm            the same plus Unix sockets through the host's import
#   dist/wasio-tls.wasm        wasio-tcp plus TLS clients (`tls`): imports
#                              wasi:tls@0.2.0-draft (`wasio run --tls`, `wasmtime run -S tls`)
#   dist/wasio-p3.wasm         wasio:streams@0.2.0 over WASI 0.3: async funcs, TCP
#   dist/echo-server.wasm      command components for any WASI 0.2 runtime (TCP)
#   dist/wcat.wasm
#   dist/echo-server-unix.wasm the same with --unix, for `wasio run`
#   dist/wcat-unix.wasm
#   dist/echo-server-p3.wasm   the commands over WASI 0.3 (TCP): for the stock
#   dist/wcat-p3.wasm          CLI (where 0.3 is on by default) and `wasio run`
#   dist/wcat-tls.wasm         wcat with --tls (the tls feature): imports
#                              wasi:tls@0.2.0-draft, so it runs only where the host
#                              has it (`wasio run`, `wasmtime run -S tls`)
#   dist/redis-client.composed.wasm
#                              examples/redis-client plugged into wasio-tcp.wasm:
#                              imports only WASI 0.2, runs on the stock CLI
#   dist/redis-client-tls.composed.wasm
#                              its TLS build (`--tls`) plugged into wasio-tls.wasm
#   dist/async-client.composed.wasm
#                              examples/async-client (awaits wasio's async funcs)
#                              plugged into wasio-p3.wasm: runs where WASI 0.3 is on
#   target/wasm32-wasip2/component/bench-composed-tcp.wasm
#                              bench/consumer plugged into wasio-tcp.wasm (tests)
#   target/debug/wasio         the host (`wasio run`)
#   target/debug/demo          what `make run` runs
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p dist
out=target/wasm32-wasip2/component

component() { # features dist-name
  cargo build --quiet -p wasio --lib --target wasm32-wasip2 --profile component --features "$1"
  cp "$out/wasio.wasm" "dist/$2"
}

commands() { # features suffix
  cargo build --quiet -p wasio --bins --target wasm32-wasip2 --profile component --features "$1"
  for bin in echo-server wcat; do
    cp "$out/$bin.wasm" "dist/$bin$2.wasm"
  done
}

component component wasio-tcp.wasm
component component,unix wasio.wasm
component component,tls wasio-tls.wasm
component component,p3 wasio-p3.wasm
commands cli ""
commands cli,unix -unix
commands cli,p3 -p3
cargo build --quiet -p wasio --bin wcat --target wasm32-wasip2 --profile component --features cli,tls
cp "$out/wcat.wasm" dist/wcat-tls.wasm
# The host together with the packages `cargo test` builds, so that both
# resolve the same features and share one build of Wasmtime. The suite's
# build script (tests/build.rs) builds its wasm artifacts here: the
# builds above, found fresh, and the test programs.
cargo build --quiet -p wasio -p wasio-host -p wasio-tests

# The example consumer imports wasio:streams; wasio-plug (`wac plug` on
# wac's library) fills the imports with wasio-tcp.wasm's exports. Built on
# its own, so that its dependencies' features leave the host's alone.
cargo build --quiet -p redis-client --target wasm32-wasip2 --profile component
cargo build --quiet -p wasio-plug --profile tool
target/tool/wasio-plug --plug dist/wasio-tcp.wasm "$out/redis-client.wasm" \
  -o dist/redis-client.composed.wasm
cargo build --quiet -p redis-client --target wasm32-wasip2 --profile component --features tls
target/tool/wasio-plug --plug dist/wasio-tls.wasm "$out/redis-client.wasm" \
  -o dist/redis-client-tls.composed.wasm
cargo build --quiet -p async-client --target wasm32-wasip2 --profile component
target/tool/wasio-plug --plug dist/wasio-p3.wasm "$out/async_client.wasm" \
  -o dist/async-client.composed.wasm

# The benchmark's consumer (bench/consumer: its own poll loop over the
# non-blocking forms) plugged into wasio-tcp.wasm, for the suite's test of
# a composed consumer holding a thousand connections. Not for users: it
# goes next to the bench's builds, not into dist/.
cargo build --quiet -p wasio-bench-consumer --target wasm32-wasip2 --profile component --no-default-features
target/tool/wasio-plug --plug dist/wasio-tcp.wasm "$out/wasio-bench-consumer.wasm" \
  -o "$out/bench-composed-tcp.wasm"

for wasm in dist/*.wasm; do
  .tools/bin/wasm-tools validate "$wasm"
  printf 'build: %-32s %7d bytes\n' "$wasm" "$(stat -c %s "$wasm")"
done

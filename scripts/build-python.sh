#!/usr/bin/env bash
# Builds the Python example component with componentize-py and plugs wasio
# into it (after scripts/build.sh made dist/wasio*.wasm):
#
#   dist/python-asyncio.wasm       world wasio:python/asyncio plugged with
#                                  wasio-tcp.wasm: imports only WASI 0.2
#                                  (stock wasmtime CLI)
#   dist/python-asyncio-unix.wasm  world wasio:python/asyncio-unix plugged
#                                  with wasio.wasm: for `wasio run`
#   dist/python-asyncio-p3.wasm    world wasio:python/asyncio-p3 (WASI 0.3,
#                                  python/wit/p3) plugged with
#                                  wasio-p3.wasm: stock wasmtime CLI
#
# The first two hold python/wasio, the programs in python/examples and the
# ported tests in python/tests, and the benchmark's server
# (bench/python/server.py); the third python/wasio and echo_client_p3.py.
# A component's first argument names the module to run (`echo_server`,
# `echo_client`, `test_streams`, `server`; `echo_client_p3`).
# componentize-py takes about a minute per component, so a build is
# skipped while its inputs are unchanged.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools="$root/.tools/bin"
work=target/python-components
mkdir -p "$work" dist

# The WIT the worlds need: python/wit plus wasio's contract as a dependency.
rm -rf "$work/wit"
mkdir -p "$work/wit/deps/wasio-streams"
cp python/wit/*.wit "$work/wit/"
cp wit/*.wit "$work/wit/deps/wasio-streams/"
cp -r wit/deps/. "$work/wit/deps/"

# The WASI 0.3 world: python/wit/p3 plus the 0.3 contract (wit-p3), whose
# deps include the wasi:cli the run export needs.
rm -rf "$work/p3"
mkdir -p "$work/p3/wit/deps/wasio-streams"
cp python/wit/p3/*.wit "$work/p3/wit/"
cp wit-p3/*.wit "$work/p3/wit/deps/wasio-streams/"
cp -r wit-p3/deps/. "$work/p3/wit/deps/"

# The `wasi:cli/run` exports: run the program named by the first argument.
python3 scripts/python-app.py "$work/app.py" python/examples/echo_server.py \
  python/examples/echo_client.py python/tests/test_streams.py bench/python/server.py
python3 scripts/python-app.py --async "$work/p3/app.py" python/examples/echo_client_p3.py

stamp_of() { # world plug app-dir
  {
    "$tools/componentize-py" --version
    sha256sum "$2" scripts/python-app.py
    find "$3/app.py" "$3/wit" -type f | sort | xargs sha256sum
    find python -name '*.py' -o -name '*.wit' | sort | xargs sha256sum
    echo "$1"
  } | sha256sum | cut -d' ' -f1
}

build() { # world plug output [app-dir]
  local world=$1 plug=$2 out=$3 app=${4:-$work}
  local stamp
  stamp=$(stamp_of "$world" "$plug" "$app")
  if [ -f "dist/$out" ] && [ "$(cat "$work/$out.stamp" 2>/dev/null)" = "$stamp" ]; then
    return
  fi
  "$tools/componentize-py" --quiet -d "$app/wit" -w "$world" componentize \
    -p "$app" -p python -p python/examples -p python/tests -p bench/python \
    app -o "$work/$out.unplugged"
  target/tool/wasio-plug --plug "$plug" "$work/$out.unplugged" -o "dist/$out"
  "$tools/wasm-tools" validate "dist/$out"
  echo "$stamp" > "$work/$out.stamp"
}

build wasio:python/asyncio@0.1.0 dist/wasio-tcp.wasm python-asyncio.wasm
build wasio:python/asyncio-unix@0.1.0 dist/wasio.wasm python-asyncio-unix.wasm
build wasio:python/asyncio-p3@0.2.0 dist/wasio-p3.wasm python-asyncio-p3.wasm "$work/p3"

for wasm in dist/python-asyncio.wasm dist/python-asyncio-unix.wasm dist/python-asyncio-p3.wasm; do
  printf 'build: %-32s %9d bytes\n' "$wasm" "$(stat -c %s "$wasm")"
done

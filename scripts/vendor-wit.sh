#!/usr/bin/env bash
# Vendors the WASI 0.2 WIT packages wasio uses into wit/deps, from the
# pinned `wasip2` crate (its version names the WASI release it carries),
# and `wasi:tls@0.2.0-draft` from the pinned `wasmtime-wasi-tls` crate (the
# draft the host implements; TLS builds only); and the WASI 0.3 packages
# of the 0.3 contract into wit-p3/deps, from the pinned `wasip3` crate,
# with `wasi:cli` (and what it uses) for consumers that export its `run`.
#
#   scripts/vendor-wit.sh          re-vendor
#   scripts/vendor-wit.sh --check  fail if wit/deps or wit-p3/deps drifted
#                                  from the pins
set -euo pipefail

WASIP2_VERSION="2.0.1+wasi-0.2.12"
WASI_VERSION="0.2.12"
PACKAGES=(cli clocks filesystem io random sockets)
WASIP3_VERSION="0.10.0+wasi-0.3.2"
WASI_P3_VERSION="0.3.2"
P3_PACKAGES=(cli clocks filesystem random sockets)
WASI_TLS_CRATE="wasmtime-wasi-tls-48.0.8"

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# Make sure the pinned crate is in cargo's registry cache.
cargo fetch --quiet --manifest-path guest/Cargo.toml
cargo fetch --quiet --manifest-path host/Cargo.toml
crate_src() { find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -maxdepth 2 -type d -name "$1" | head -n 1; }
src=$(crate_src "wasip2-${WASIP2_VERSION}")
[ -n "$src" ] || { echo "vendor-wit: wasip2 ${WASIP2_VERSION} not found in cargo's registry" >&2; exit 1; }
p3_src=$(crate_src "wasip3-${WASIP3_VERSION}")
[ -n "$p3_src" ] || { echo "vendor-wit: wasip3 ${WASIP3_VERSION} not found in cargo's registry" >&2; exit 1; }
tls_src=$(crate_src "$WASI_TLS_CRATE")
[ -n "$tls_src" ] || { echo "vendor-wit: $WASI_TLS_CRATE not found in cargo's registry" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for pkg in "${PACKAGES[@]}"; do
  cp "$src/wit/deps/$pkg.wit" "$stage/$pkg.wit"
  grep -q "^package wasi:$pkg@${WASI_VERSION};" "$stage/$pkg.wit" \
    || { echo "vendor-wit: $pkg.wit is not WASI ${WASI_VERSION}" >&2; exit 1; }
done
cp -r "$tls_src/wit/deps/tls" "$stage/tls"
stage_p3=$(mktemp -d)
trap 'rm -rf "$stage" "$stage_p3"' EXIT
for pkg in "${P3_PACKAGES[@]}"; do
  cp "$p3_src/wit/deps/$pkg.wit" "$stage_p3/$pkg.wit"
  grep -q "^package wasi:$pkg@${WASI_P3_VERSION};" "$stage_p3/$pkg.wit" \
    || { echo "vendor-wit: $pkg.wit is not WASI ${WASI_P3_VERSION}" >&2; exit 1; }
done

if [ "${1:-}" = "--check" ]; then
  if ! diff -r "$stage" wit/deps >/dev/null; then
    echo "vendor-wit: wit/deps differs from WASI ${WASI_VERSION} (wasip2 ${WASIP2_VERSION});" >&2
    echo "            run scripts/vendor-wit.sh to re-vendor." >&2
    diff -r "$stage" wit/deps >&2 || true
    exit 1
  fi
  if ! diff -r "$stage_p3" wit-p3/deps >/dev/null; then
    echo "vendor-wit: wit-p3/deps differs from WASI ${WASI_P3_VERSION} (wasip3 ${WASIP3_VERSION});" >&2
    echo "            run scripts/vendor-wit.sh to re-vendor." >&2
    diff -r "$stage_p3" wit-p3/deps >&2 || true
    exit 1
  fi
  echo "wit/deps: WASI ${WASI_VERSION} and wasi:tls from $WASI_TLS_CRATE, unchanged"
  echo "wit-p3/deps: WASI ${WASI_P3_VERSION} from wasip3 ${WASIP3_VERSION}, unchanged"
else
  rm -rf wit/deps
  mkdir -p wit/deps
  cp -r "$stage"/* wit/deps/
  echo "wit/deps: vendored WASI ${WASI_VERSION} from wasip2 ${WASIP2_VERSION}"
  rm -rf wit-p3/deps
  mkdir -p wit-p3/deps
  cp -r "$stage_p3"/* wit-p3/deps/
  echo "wit-p3/deps: vendored WASI ${WASI_P3_VERSION} from wasip3 ${WASIP3_VERSION}"
fi

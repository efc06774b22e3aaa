#!/usr/bin/env bash
# Runs wasio's fuzz targets for a bounded time each (FUZZ_SECONDS, default
# 60). cargo-fuzz needs a nightly toolchain for its sanitizer flags; both
# are installed on first use (cargo-fuzz pinned, into .tools/).
set -euo pipefail

CARGO_FUZZ_VERSION="0.13.2"
seconds="${FUZZ_SECONDS:-60}"
targets="${FUZZ_TARGETS:-reader_differential stream_ops}"

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal
fi
if [ "$("$tools/bin/cargo-fuzz" --version 2>/dev/null | awk '{print $2}')" != "$CARGO_FUZZ_VERSION" ]; then
  cargo install --locked --quiet --root "$tools" "cargo-fuzz@$CARGO_FUZZ_VERSION"
fi

cd "$root/guest"
for target in $targets; do
  echo "fuzz: $target for ${seconds}s"
  mkdir -p "fuzz/corpus/$target"
  # Seeds checked in under fuzz/seeds (regressions) join the corpus.
  [ -d "fuzz/seeds/$target" ] && cp -n "fuzz/seeds/$target"/* "fuzz/corpus/$target"/ 2>/dev/null || true
  log="fuzz/artifacts/$target.log"
  mkdir -p fuzz/artifacts
  if ! PATH="$tools/bin:$PATH" cargo +nightly fuzz run --release "$target" "fuzz/corpus/$target" -- \
      -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz: $target FAILED; the crashing input is in guest/fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E '^(Done|stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb))' "$log"
done

# wasio: the commands users type. Each target is a line or two that calls
# cargo or a script in scripts/; `cargo test` alone still runs the native
# parts.

TOOLS := $(CURDIR)/.tools/bin
export PATH := $(TOOLS):$(PATH)
# Wasmtime errors carry long backtraces when this is 1.
export RUST_BACKTRACE ?= 0

FUZZ_SECONDS ?= 60

.PHONY: setup build run test lint fmt fuzz

## setup: install the pinned tools the build and tests need (idempotent)
setup:
	@scripts/setup.sh

## build: components into dist/, and the wasio host
build: setup
	@scripts/build.sh

## run: the demo (needs nothing started by hand)
run: build
	@cargo run --quiet -p wasio-tests --bin demo

## test: every test suite: core, host, components end to end
test: build
	cargo test --no-fail-fast

## lint: formatting, clippy on the host and the wasm target, WIT checks
lint: setup
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy -p wasio -p wasio-test-programs --target wasm32-wasip2 --all-targets --features wasio/component,wasio/unix,wasio/cli -- -D warnings
	scripts/vendor-wit.sh --check
	wasm-tools component wit wit > /dev/null

## fmt: format the code
fmt:
	cargo fmt --all

## fuzz: run the fuzz targets for FUZZ_SECONDS each
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

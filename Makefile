# wasio: the commands users type. Each target is a line or two that calls
# cargo or a script in scripts/; `cargo test` alone still runs the native
# parts.

TOOLS := $(CURDIR)/.tools/bin
export PATH := $(TOOLS):$(PATH)
# Wasmtime errors carry long backtraces when this is 1.
export RUST_BACKTRACE ?= 0

FUZZ_SECONDS ?= 60

.PHONY: setup build run test lint lint-wasm fmt fuzz soak bench bench-quick

## setup: install the pinned tools the build and tests need (idempotent)
setup:
	@scripts/setup.sh

## build: components into dist/ (Rust and the Python examples), and the wasio host
build: setup
	@scripts/build.sh
	@scripts/build-python.sh

## run: the demo (needs nothing started by hand)
run: build
	@target/debug/demo

## test: every test suite: core, host,
## components end to end, Python and JavaScript consumers, the example
## (each test in a process of its own; the doc examples through cargo test)
test: build
	cargo nextest run --no-fail-fast
	cargo test --doc
	CARGO_TARGET_WASM32_WASIP2_RUNNER=wasmtime cargo test -p redis-client --target wasm32-wasip2 --profile component
	cd js && npm test

## lint: formatting, clippy on the host and the wasm target, WIT checks
lint: lint-wasm
	cargo clippy -p wasio -p wasio-host -p wasio-tests -p wasio-bench -p wasio-plug --all-targets -- -D warnings

## lint-wasm: what CI checks after the tests: formatting, clippy on the wasm
## target (at the component profile, whose proc macros `make build` built),
## WIT checks. Clippy on the host checks every dependency of Wasmtime again
## (a third of a fresh CI run on two cores): `make lint` before committing.
lint-wasm: setup
	cargo fmt --all -- --check
	cargo clippy -p wasio -p wasio-test-programs -p wasio-test-programs-p3 -p wasio-bench-guest --target wasm32-wasip2 --profile component --all-targets --features wasio/component,wasio/unix,wasio/cli,wasio/tls,wasio-bench-guest/tls -- -D warnings
	cargo clippy -p redis-client --target wasm32-wasip2 --profile component --all-targets --features tls -- -D warnings
	cargo clippy -p wasio-bench-consumer --target wasm32-wasip2 --profile component --all-targets -- -D warnings
	cargo clippy -p wasio-bench-consumer --target wasm32-wasip2 --profile component --all-targets --no-default-features -- -D warnings
	cargo clippy -p wasio --target wasm32-wasip2 --profile component --all-targets --features p3,cli,component -- -D warnings
	cargo clippy -p wasio-test-programs --target wasm32-wasip2 --profile component --all-targets --no-default-features --features p3 -- -D warnings
	cargo clippy -p async-client --target wasm32-wasip2 --profile component --all-targets -- -D warnings
	cargo clippy -p wasio-bench-guest --target wasm32-wasip2 --profile component --all-targets --no-default-features --features p3 -- -D warnings
	scripts/vendor-wit.sh --check
	wasm-tools component wit wit > /dev/null
	wasm-tools component wit wit-p3 > /dev/null

## fmt: format the code
fmt:
	cargo fmt --all

## fuzz: run the fuzz targets for FUZZ_SECONDS each
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

## soak: the long integrity run, 10,000 connections each way over TCP and Unix
## (release build); WASIO_SOAK_CONNECTIONS resizes it, WASIO_SOAK_SECONDS bounds each test
soak: setup
	cargo test -p wasio-tests --release --test all -- soak:: --ignored --nocapture --test-threads 1

## bench: every workload against every subject, 5 rounds (release build; a few
## minutes); writes bench/results.json and bench/chart.svg; then the TLS
## client against plain TCP (bench/tls.json)
bench: setup
	scripts/build-bench.sh
	cargo run --quiet --release -p wasio-bench -- run
	cargo run --quiet --release -p wasio-bench -- tls

## bench-quick: the same, reduced (3 rounds, smaller sizes); writes target/bench-quick/
bench-quick: setup
	scripts/build-bench.sh
	cargo run --quiet --release -p wasio-bench -- run --quick
	cargo run --quiet --release -p wasio-bench -- tls --quick

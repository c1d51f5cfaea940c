#!/usr/bin/env bash
# Runs every check and test of the workspace. Test data is read from ../shared/testdata.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/deltalake-target}"
# Every build names its target: napi-rs always passes --target to cargo, and cargo keeps an
# explicit target's artifacts apart from a plain build's, so otherwise the Node addon would compile
# the whole dependency tree again. (The workspace's features are the same whatever a build
# selects, see Cargo.toml, so the bindings' builds reuse what `cargo test` compiled.)
CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-$(rustc -vV | sed -n 's/^host: //p')}"
export CARGO_BUILD_TARGET
if [ ! -d ../shared/testdata/tables ]; then
  echo "error: ../shared/testdata not found beside the repository" >&2
  exit 1
fi
# Cheap checks first, to fail in seconds rather than after the long builds.
cargo fmt --all -- --check
# What would be published: the crates' packages and the Python sdist (file lists, no compiling).
./scripts/check-packaging.sh
# The GitHub workflows. actionlint is a Go module: the first run fetches and compiles it (about a
# minute), later runs reuse Go's caches.
command -v go >/dev/null || { echo "error: Go is needed to run actionlint: https://go.dev/dl/" >&2; exit 1; }
go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
# The reference readers (the `deltalake` PyPI package, pyarrow) for the interoperability tests.
DELTA_REFERENCE_PYTHON="$(./scripts/setup-python.sh)"
export DELTA_REFERENCE_PYTHON
# Ruby and its headers (Debian's packages): the workspace's Ruby extension crate reads the
# configuration of the `ruby` on PATH when it builds, so clippy and cargo test need it too.
./scripts/setup-ruby.sh
# Local servers for the cloud storage tests (moto, Azurite): each test starts its own.
eval "$(./scripts/setup-services.sh)"
cargo clippy --workspace --all-targets -- -D warnings
# delta-inspect without its `sql` feature (DataFusion), as scripts/demo.sh builds it.
cargo clippy -p delta-inspect --no-default-features --all-targets -- -D warnings
cargo test --workspace
# The Python package, built into a fresh virtual environment, and its pytest suite.
./scripts/test-python.sh
# The Ruby gem (ruby/): its extension built with cargo and its minitest suite.
./scripts/test-ruby.sh
# The C ABI, its header, the C example under valgrind, and the Go package on it.
./scripts/test-ffi.sh
# The Node.js package (node/): the napi-rs addon, node --test, tsc, and npm pack installed fresh.
./scripts/test-node.sh
# kafka-delta-ingest against a real Kafka broker (KRaft, started and stopped by the script).
./scripts/test-kafka.sh

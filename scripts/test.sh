#!/usr/bin/env bash
# Runs every check and test of the workspace. Test data is read from ../shared/testdata.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/deltalake-target}"
if [ ! -d ../shared/testdata/tables ]; then
  echo "error: ../shared/testdata not found beside the repository" >&2
  exit 1
fi
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace

#!/usr/bin/env bash
# Builds delta-inspect and shows a few shared test tables with it.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/deltalake-target}"
command -v cargo >/dev/null || { echo "install Rust first: https://rustup.rs" >&2; exit 1; }
# The demo profile (no LTO, no optimisation) and no DataFusion (the `sql` feature, which the
# commands below do not use): a cold build in minutes. `cargo install` gets the full, optimised tool.
cargo build --profile demo -p delta-inspect --no-default-features
bin="$CARGO_TARGET_DIR/demo/delta-inspect"
tables=../shared/testdata/tables
set -x
"$bin" info "$tables/delta-0.8.0-partitioned"
"$bin" history "$tables/simple_table" --limit 3
"$bin" scan "$tables/delta-0.8.0-partitioned" --format csv
"$bin" scan "$tables/table-with-dv-small" --format json
"$bin" scan "$tables/simple_table" --version 0 --format csv

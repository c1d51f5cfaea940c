#!/usr/bin/env bash
# Builds our Python package (python/) in release mode into the benchmark virtual environment, with
# pyarrow, and prints the environment's interpreter. Rebuilds only what changed (one target dir).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/deltalake-target}"
venv="${DELTA_BENCH_VENV:-$CARGO_TARGET_DIR/bench-python-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "pyarrow>=16" >&2
fi
MATURIN_PEP517_ARGS="--profile release" "$venv/bin/pip" install --quiet --disable-pip-version-check \
  --force-reinstall --no-deps ./python >&2
echo "$venv/bin/python"

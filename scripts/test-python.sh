#!/usr/bin/env bash
# Builds the Python package (python/) into a fresh virtual environment and runs its pytest suite.
# Test tables are read from ../shared/testdata. Set MATURIN_PEP517_ARGS to change the build
# (default: the dev profile, which shares compiled dependencies with `cargo test`, and a stripped
# library).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/deltalake-target}"
export MATURIN_PEP517_ARGS="${MATURIN_PEP517_ARGS:---profile dev --strip}"
venv="${DELTA_PYTHON_TEST_VENV:-$CARGO_TARGET_DIR/python-test-venv}"
rm -rf "$venv"
python3 -m venv "$venv"
# polars, duckdb and datafusion: the interoperability tests read our tables through them;
# arro3-core: the schema conversion helper libraries import from deltalake.writer;
# dask-deltatable: it reads and writes through this package (its deltalake>=1.1 is this one).
"$venv/bin/pip" install --quiet --disable-pip-version-check ./python pytest pyarrow pandas \
  polars duckdb datafusion arro3-core dask-deltatable
status=0
"$venv/bin/python" -m pytest python/tests -q -p no:cacheprovider || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests in python/tests" >&2
  exit 0
fi
exit "$status"

#!/usr/bin/env bash
# Builds the Ruby gem's extension (ruby/, dev profile, in the shared target directory) and runs its
# minitest suite. Test tables are read from ../shared/testdata; the interoperability tests use the
# reference Python package from scripts/setup-python.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/deltalake-target}"
./scripts/setup-ruby.sh
start=$(date +%s)
DELTA_REFERENCE_PYTHON="${DELTA_REFERENCE_PYTHON:-$(./scripts/setup-python.sh)}"
export DELTA_REFERENCE_PYTHON
cd ruby
rake compile
rake test
echo "ruby: build and tests took $(( $(date +%s) - start ))s"

#!/usr/bin/env bash
# Builds the Node.js package (node/: the napi-rs addon in the dev profile, sharing the workspace's
# compiled core) and runs its tests: `node --test`, the TypeScript check of a typed example, and
# `npm pack` installed and loaded in a fresh directory. Test tables are read from ../shared/testdata.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/deltalake-target}"
start=$SECONDS
command -v node >/dev/null || { echo "error: Node.js (18 or newer) is needed: apt-get install nodejs npm" >&2; exit 1; }
# The reference readers for the conformance and interoperability tests.
DELTA_REFERENCE_PYTHON="${DELTA_REFERENCE_PYTHON:-$(./scripts/setup-python.sh)}"
export DELTA_REFERENCE_PYTHON
cd node
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
npm run --silent typecheck
npm test
# The package as published: packed, installed into an empty project, loaded both ways.
pack_dir="$(mktemp -d)"
trap 'rm -rf "$pack_dir"' EXIT
# Packed from a staging copy whose addon is stripped: the dev build's debug line tables weigh
# over 100 MB (`npm run build:release` makes the addon that ships).
stage="$pack_dir/stage"
mkdir -p "$stage"
cp package.json README.md index.js index.mjs index.d.ts native.js native.d.ts "$stage/"
strip -o "$stage/deltalake.linux-x64-gnu.node" deltalake.linux-x64-gnu.node
tarball="$(cd "$stage" && npm pack --silent --pack-destination "$pack_dir")"
(
  cd "$pack_dir"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --loglevel=error "./$tarball"
  node -e "const { DeltaTable } = require('deltalake'); DeltaTable.open(process.argv[1]).then(t => { if (t.version() !== 4) process.exit(1); console.log('require: ok') })" "$OLDPWD/../../shared/testdata/tables/simple_table"
  node --input-type=module -e "import { DeltaTable } from 'deltalake'; const t = await DeltaTable.open(process.argv[1]); if ((await t.toArrowTable()).numRows !== 3) process.exit(1); console.log('import: ok')" "$OLDPWD/../../shared/testdata/tables/simple_table"
)
echo "node: built and tested in $((SECONDS - start)) s"

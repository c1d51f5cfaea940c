#!/usr/bin/env bash
# Installs the local servers that the cloud storage tests start on 127.0.0.1 (idempotent):
#   moto (S3 + DynamoDB) in a virtual environment, Azurite (Azure Blob / ADLS Gen2) with npm.
#   (GCS has no local server speaking the XML API object_store uses: its tests use a stand-in.)
# Prints `export NAME=PATH` lines for the tests: eval "$(./scripts/setup-services.sh)".
set -euo pipefail
cache="${DELTA_SERVICES_CACHE:-$HOME/.cache/deltalake-services}"
mkdir -p "$cache"

moto_venv="$cache/moto-venv"
if [ ! -x "$moto_venv/bin/moto_server" ]; then
  python3 -m venv "$moto_venv" >&2
  "$moto_venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==5.*" >&2
fi
# moto_server_serial.py: moto with one request at a time, so conditional puts are atomic.
moto_server="$cache/moto-server-serial"
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$moto_venv/bin/python" "$(cd "$(dirname "$0")" && pwd)/moto_server_serial.py" > "$moto_server"
chmod +x "$moto_server"
echo "export DELTA_TEST_MOTO_SERVER='$moto_server'"

azurite_dir="$cache/azurite"
if [ ! -x "$azurite_dir/node_modules/.bin/azurite" ]; then
  mkdir -p "$azurite_dir"
  npm install --silent --no-audit --no-fund --prefix "$azurite_dir" azurite@3 >&2
fi
echo "export DELTA_TEST_AZURITE='$azurite_dir/node_modules/.bin/azurite'"

#!/usr/bin/env bash
# Creates the virtual environment with the reference readers (the `deltalake` PyPI package and
# pyarrow) that interoperability tests compare against. Prints the interpreter's path.
set -euo pipefail
venv="${DELTA_REFERENCE_VENV:-$HOME/.cache/deltalake-reference-venv}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import deltalake, pyarrow" 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "deltalake==1.6.6" "pyarrow>=15" "pandas" >&2
fi
echo "$venv/bin/python"

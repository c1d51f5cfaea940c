#!/usr/bin/env bash
# Checks what would be published, without compiling anything (seconds, so scripts/test.sh runs it
# before the long tests):
#   - the crates' packages (`cargo package --list`) hold their sources and nothing else: no test
#     data, nothing from outside the crate;
#   - the Python sdist (`maturin sdist`) holds every file a build from it needs: the extension
#     crate, the Python package, the path dependency crates/deltalake and the workspace manifest
#     and lock file.
# The builds from these packages run in .github/workflows/release.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/deltalake-target}"
work="$CARGO_TARGET_DIR/packaging-check"
rm -rf "$work"
mkdir -p "$work"

fail() {
  echo "check-packaging: $*" >&2
  exit 1
}

# Every file of a crate's package must match the allowed pattern, and every file git tracks under
# the crate's src/ must be in it (cargo would leave out a file matched by `exclude`, or one missing
# from `include`).
check_crate() {
  local crate=$1 dir=$2 list="$work/$1.list"
  # --allow-dirty: this checks the content of the working tree, it publishes nothing.
  cargo package -p "$crate" --list --allow-dirty --quiet >"$list"
  local allowed='^(Cargo\.toml|Cargo\.toml\.orig|Cargo\.lock|\.cargo_vcs_info\.json|README\.md|LICENSE[^/]*|src/.+\.rs|tests/.+\.rs)$'
  local unexpected
  unexpected=$(grep -Ev "$allowed" "$list" || true)
  [ -z "$unexpected" ] || fail "the $crate crate's package would contain files that are not its sources:
$unexpected
(only Cargo.toml, README.md, LICENSE*, src/**/*.rs and tests/**/*.rs belong in it: set \`include\`
or \`exclude\` in $dir/Cargo.toml)"
  local missing
  missing=$(git ls-files "$dir/src" | sed "s|^$dir/||" | grep -vxF -f "$list" || true)
  [ -z "$missing" ] || fail "the $crate crate's package would miss sources:
$missing"
  echo "check-packaging: $crate package: $(wc -l <"$list") files, sources only"
}
check_crate deltalake crates/deltalake
check_crate delta-inspect crates/delta-inspect

# maturin from PyPI in its own virtual environment (the version range the build backend allows);
# made again if a cached one no longer runs.
venv="$CARGO_TARGET_DIR/maturin-venv"
if ! "$venv/bin/maturin" --version >/dev/null 2>&1; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "maturin>=1.8,<2"
fi
# Its progress goes to stderr; kept in a file, shown on failure.
"$venv/bin/maturin" sdist --manifest-path python/Cargo.toml --out "$work/sdist" >"$work/sdist.log" 2>&1 ||
  { cat "$work/sdist.log" >&2; fail "maturin sdist failed"; }
sdists=("$work"/sdist/*.tar.gz)
if [ "${#sdists[@]}" -ne 1 ] || [ ! -f "${sdists[0]}" ]; then
  fail "maturin sdist made no single .tar.gz in $work/sdist"
fi
sdist=${sdists[0]}
# The archive's files, without their top directory (deltalake-VERSION/).
tar -tzf "$sdist" >"$work/sdist.raw"
top=$(sed -n '1s|/.*||p' "$work/sdist.raw")
grep -v '/$' "$work/sdist.raw" | sed "s|^$top/||" | sort >"$work/sdist.list"

# What a build from the sdist needs, under its paths in the archive: maturin puts pyproject.toml and
# the Python package (python-source "." in python/pyproject.toml) at the top, and the crates at
# their workspace paths.
{
  printf '%s\n' PKG-INFO pyproject.toml Cargo.toml Cargo.lock python/Cargo.toml crates/deltalake/Cargo.toml
  git ls-files python/src crates/deltalake/src
  git ls-files python/deltalake | sed 's|^python/||'
} | sort >"$work/sdist.needed"
missing=$(comm -23 "$work/sdist.needed" "$work/sdist.list")
[ -z "$missing" ] || fail "the Python sdist ${sdist##*/} misses files a build from it needs:
$missing"
# And nothing that only the tests read, nor build output.
unexpected=$(grep -E '(^|/)(testdata|target|\.git)(/|$)|\.parquet$' "$work/sdist.list" || true)
[ -z "$unexpected" ] || fail "the Python sdist ${sdist##*/} holds test data or build output:
$unexpected"
# The workspace it carries must list only members it holds (cargo refuses a missing member).
members=$(tar -xzOf "$sdist" "$top/Cargo.toml" |
  sed -n 's/^members *= *\[\(.*\)\]/\1/p' | tr -d '" ' | tr ',' '\n')
[ -n "$members" ] || fail "no workspace members found in the sdist's Cargo.toml"
for member in $members; do
  grep -qxF "$member/Cargo.toml" "$work/sdist.list" ||
    fail "the sdist's workspace lists the member $member, which it does not hold"
done
echo "check-packaging: Python sdist ${sdist##*/}: $(wc -l <"$work/sdist.list") files, complete"

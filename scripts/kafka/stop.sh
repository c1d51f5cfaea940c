#!/usr/bin/env bash
# Stops the broker that start.sh started in WORK_DIR, by its PID.
set -euo pipefail
work="${1:?usage: stop.sh WORK_DIR}"
[ -f "$work/kafka.pid" ] || exit 0
pid="$(cat "$work/kafka.pid")"
if kill "$pid" 2>/dev/null; then
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
fi
rm -f "$work/kafka.pid"

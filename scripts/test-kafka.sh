#!/usr/bin/env bash
# kafka-delta-ingest's tests: unit tests, then the end-to-end tests against a real Kafka broker
# (KRaft, single node on 127.0.0.1, one per run; the jars are fetched once by Maven and cached).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/deltalake-target}"
start=$(date +%s)
cargo build -p kafka-delta-ingest --all-targets
work="$(mktemp -d)"
cleanup() { ./scripts/kafka/stop.sh "$work"; rm -rf "$work"; }
trap cleanup EXIT
# moto, for the S3 table test (installed once by setup-services.sh; each test starts its own).
eval "$(./scripts/setup-services.sh)"
eval "$(./scripts/kafka/start.sh "$work")"
export KDI_TEST_BROKERS="$KAFKA_BROKERS"
unset KAFKA_BROKERS  # the daemon reads it as its -k default; the unit tests check that default
# The broker tests share one broker; two at a time keeps the 2-core machine responsive.
cargo test -p kafka-delta-ingest -- --include-ignored --test-threads 2 --skip bench --skip soak
echo "kafka-delta-ingest tests took $(( $(date +%s) - start )) s"

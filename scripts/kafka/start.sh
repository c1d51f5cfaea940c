#!/usr/bin/env bash
# Starts a single-node Apache Kafka broker (KRaft) on 127.0.0.1 for the tests, on a free port.
# Usage: start.sh WORK_DIR. Prints `KAFKA_BROKERS=127.0.0.1:PORT` and `KAFKA_PID=PID`; the
# broker's log is WORK_DIR/broker.log; stop it with stop.sh WORK_DIR.
# The jars (kafka_2.13 from Maven Central) are fetched once into ~/.cache/kafka-delta-ingest.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${1:?usage: start.sh WORK_DIR}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
libs="${KAFKA_LIBS:-$HOME/.cache/kafka-delta-ingest/kafka-libs}"
stamp="$libs/.pom-$(sha256sum "$here/pom.xml" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  command -v mvn >/dev/null || { echo "error: Maven (mvn) is needed to fetch the Kafka broker" >&2; exit 1; }
  rm -rf "$libs" && mkdir -p "$libs"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$libs" -DincludeScope=runtime >&2
  touch "$stamp"
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port="$(free_port)"
controller="$(free_port)"
cat > "$work/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$work/data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
java_opts=(-Xmx512m -Xms128m -XX:+UseSerialGC -cp "$libs/*")
cluster="$(java "${java_opts[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
java "${java_opts[@]}" kafka.tools.StorageTool format -t "$cluster" -c "$work/server.properties" >"$work/format.log" 2>&1
nohup java "${java_opts[@]}" kafka.Kafka "$work/server.properties" >"$work/broker.log" 2>&1 &
pid=$!
echo "$pid" >"$work/kafka.pid"
for _ in $(seq 1 120); do
  if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && grep -q "Kafka Server started\|started (kafka.server" "$work/broker.log"; then
    echo "KAFKA_BROKERS=127.0.0.1:$port"
    echo "KAFKA_PID=$pid"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || { echo "error: the Kafka broker exited; see $work/broker.log" >&2; tail -20 "$work/broker.log" >&2; exit 1; }
  sleep 0.5
done
echo "error: the Kafka broker did not start in 60 s; see $work/broker.log" >&2
kill "$pid" 2>/dev/null || true
exit 1

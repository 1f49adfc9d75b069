#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, broker + controller in one JVM) on the loopback interface, for the
# Kafka connector tests. Jars come from Maven Central through setup.sh (run here when lib/ is incomplete).
#
#   broker.sh start [--fresh]   format the storage on first use, start, wait until the broker answers; --fresh wipes
#                               the data first. Does nothing when the broker is already running.
#   broker.sh stop              SIGTERM, wait for the exit (SIGKILL after 30 s); does nothing when it is not running.
#   broker.sh status            prints "running <pid> <bootstrap>" (exit 0) or "stopped" (exit 3).
#
# Environment: KAFKA_PEER_DIR (data, pid file and logs; default test/peers/kafka/.data), KAFKA_PEER_PORT (9092),
# KAFKA_PEER_CONTROLLER_PORT (9093), KAFKA_PEER_START_TIMEOUT (seconds, 90).
# Logs: $KAFKA_PEER_DIR/broker.log (Log4j 2, WARN and up) and $KAFKA_PEER_DIR/broker.out (the JVM's stdout/stderr).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="${KAFKA_PEER_DIR:-$here/.data}"
port="${KAFKA_PEER_PORT:-9092}"
controller_port="${KAFKA_PEER_CONTROLLER_PORT:-9093}"
start_timeout="${KAFKA_PEER_START_TIMEOUT:-90}"
pid_file="$data/broker.pid"
props="$data/server.properties"
log_dirs="$data/kraft-logs"

fail() {
  echo "kafka broker: $*" >&2
  exit 1
}

running_pid() {
  local pid
  [[ -f "$pid_file" ]] || return 1
  pid="$(cat "$pid_file")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  # A recycled pid is not our broker.
  grep -q 'kafka.Kafka' "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# -Xmx512m is plenty for a test broker; serial GC keeps the footprint small on a 2-core machine.
java_cmd=(java -Xms128m -Xmx512m -XX:+UseSerialGC -Djava.awt.headless=true
  "-Dkafka.logs.dir=$data" "-Dlog4j2.configurationFile=$here/log4j2.properties" -cp "$here/lib/*")

write_properties() {
  cat >"$props" <<PROPS
# Written by broker.sh: single node, KRaft, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$log_dirs
num.partitions=1
# One node: every replication factor and ISR minimum is 1.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# The default 50 offsets partitions make the first consumer-group join slow.
offsets.topic.num.partitions=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.retention.hours=24
log.segment.bytes=67108864
PROPS
}

start() {
  local pid
  if [[ "${1:-}" == "--fresh" ]]; then
    stop
    rm -rf "$data"
  elif [[ -n "${1:-}" ]]; then
    fail "unknown argument '$1' (usage: broker.sh start [--fresh])"
  fi
  if pid="$(running_pid)"; then
    echo "kafka broker: already running (pid $pid) on 127.0.0.1:$port" >&2
    return 0
  fi
  if port_open "$port" || port_open "$controller_port"; then
    fail "port $port or $controller_port on 127.0.0.1 is taken by another process"
  fi
  bash "$here/setup.sh"
  mkdir -p "$data"
  write_properties
  if [[ ! -f "$log_dirs/meta.properties" ]]; then
    local cluster_id
    cluster_id="$("${java_cmd[@]}" kafka.tools.StorageTool random-uuid)"
    echo "kafka broker: formatting $log_dirs (cluster $cluster_id)" >&2
    "${java_cmd[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$props" >"$data/format.out" 2>&1 ||
      fail "formatting the storage failed: $(cat "$data/format.out")"
  fi
  : >"$data/broker.log"
  # setsid + nohup: the broker outlives this script and whoever started it (npm test, .ci/run) until `stop`.
  setsid nohup "${java_cmd[@]}" kafka.Kafka "$props" </dev/null >"$data/broker.out" 2>&1 &
  echo $! >"$pid_file"
  pid=$!
  echo "kafka broker: starting (pid $pid), waiting up to ${start_timeout}s ..." >&2
  local deadline=$((SECONDS + start_timeout))
  until grep -q 'Kafka Server started' "$data/broker.log" 2>/dev/null && port_open "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pid_file"
      fail "the broker exited during start-up; $data/broker.out and broker.log say:
$(tail -n 30 "$data/broker.out" "$data/broker.log" 2>/dev/null)"
    fi
    if ((SECONDS >= deadline)); then
      stop
      fail "the broker was not ready within ${start_timeout}s (see $data/broker.log)"
    fi
    sleep 0.2
  done
  echo "kafka broker: ready on 127.0.0.1:$port (pid $pid, data $data)" >&2
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$pid_file"
    echo "kafka broker: not running" >&2
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      echo "kafka broker: still running after 30s, sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.2
  done
  rm -f "$pid_file"
  echo "kafka broker: stopped (pid $pid)" >&2
}

status() {
  local pid
  if pid="$(running_pid)"; then
    echo "running $pid 127.0.0.1:$port"
  else
    echo "stopped"
    return 3
  fi
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  *) fail "usage: broker.sh start [--fresh] | stop | status" ;;
esac

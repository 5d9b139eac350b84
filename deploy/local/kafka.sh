#!/usr/bin/env bash
# A single-node Kafka 4.2 (KRaft broker + controller in one JVM) on 127.0.0.1, from Maven jars.
#
#   kafka.sh start [--port 9092] [--controller-port 9093]   format storage once, start, wait for the port
#   kafka.sh stop                                            TERM, then KILL after 30 s
#   kafka.sh status
#   kafka.sh reset                                           stop and delete all data
#   kafka.sh create-topic NAME [PARTITIONS]                  (default 4 partitions, replication 1)
#   kafka.sh produce TOPIC                                   one record per stdin line (value only)
#   kafka.sh consume TOPIC [MAX_MESSAGES] [TIMEOUT_MS]       read_committed, from the beginning
#   kafka.sh tool MAIN_CLASS [ARGS...]                       any Kafka tool with this classpath
#
# Data, logs and the PID file live in deploy/local/.work/kafka/. Retention is off (log.retention.ms=-1):
# Flink's KafkaSink stamps records with event time, and old event times would be deleted at once.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

KAFKA_DIR="$WORK_DIR/kafka"
PID_FILE="$KAFKA_DIR/kafka.pid"
PORT_FILE="$KAFKA_DIR/port"
CLASSPATH_FILE="$WORK_DIR/kafka.classpath"

kafka_classpath() {
  if [[ ! -s "$CLASSPATH_FILE" ]]; then
    log "Resolving the Kafka classpath (once) into $CLASSPATH_FILE"
    mkdir -p "$WORK_DIR"
    mvn_local -Pkafka dependency:build-classpath -DincludeScope=runtime \
      -Dmdep.outputFile="$CLASSPATH_FILE"
  fi
  cat "$CLASSPATH_FILE"
}

broker_port() {
  [[ -f "$PORT_FILE" ]] && cat "$PORT_FILE" || echo "${KAFKA_PORT:-9092}"
}

bootstrap() { echo "127.0.0.1:$(broker_port)"; }

# Command line tools log warnings only, to stderr, so their stdout stays data.
tools_log4j() {
  local file="$KAFKA_DIR/log4j2-tools.properties"
  mkdir -p "$KAFKA_DIR"
  write_stderr_log4j "$file"
  echo "$file"
}

run_tool() {
  local main="$1"; shift
  "$JAVA" -Xmx256m -Dlog4j2.configurationFile="$(tools_log4j)" -cp "$(kafka_classpath)" "$main" "$@"
}

write_config() {
  local port="$1" controller_port="$2"
  mkdir -p "$KAFKA_DIR/data" "$KAFKA_DIR/logs"
  cat > "$KAFKA_DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=4
log.retention.ms=-1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
transaction.max.timeout.ms=${KAFKA_TRANSACTION_MAX_TIMEOUT_MS:-900000}
auto.create.topics.enable=false
PROPS
  cat > "$KAFKA_DIR/log4j2.properties" <<PROPS
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
appender.file.type = File
appender.file.name = file
appender.file.fileName = $KAFKA_DIR/logs/server.log
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
PROPS
}

start() {
  local port=9092 controller_port=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --port) port="$2"; shift 2 ;;
      --controller-port) controller_port="$2"; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  controller_port="${controller_port:-$((port + 1))}"
  if [[ -n "$(live_pid "$PID_FILE")" ]]; then
    log "Kafka already running (PID $(cat "$PID_FILE")) on $(bootstrap)"
    return 0
  fi
  port_open "$port" && die "port $port is already in use"
  port_open "$controller_port" && die "port $controller_port is already in use"

  local begin cp
  begin="$(now_ms)"
  cp="$(kafka_classpath)"
  write_config "$port" "$controller_port"
  echo "$port" > "$PORT_FILE"
  if [[ ! -f "$KAFKA_DIR/data/meta.properties" ]]; then
    local cluster_id
    cluster_id="$(run_tool kafka.tools.StorageTool random-uuid)"
    run_tool kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_DIR/server.properties" \
      > "$KAFKA_DIR/logs/format.out"
  fi
  nohup "$JAVA" -Xms512m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" \
    -Dkafka.logs.dir="$KAFKA_DIR/logs" \
    -cp "$cp" kafka.Kafka "$KAFKA_DIR/server.properties" \
    > "$KAFKA_DIR/logs/kafka.out" 2>&1 < /dev/null &
  local pid=$!
  echo "$pid" > "$PID_FILE"
  wait_for_port "$port" 60 "$pid"
  log "Kafka started on 127.0.0.1:$port (PID $pid) in $(( $(now_ms) - begin )) ms"
}

stop() {
  local pid
  pid="$(live_pid "$PID_FILE")"
  if [[ -z "$pid" ]]; then
    log "Kafka is not running"
    return 0
  fi
  stop_pid_file "$PID_FILE" 30
  log "Kafka stopped (PID $pid)"
}

status() {
  local pid
  pid="$(live_pid "$PID_FILE")"
  if [[ -n "$pid" ]]; then
    echo "kafka: running, PID $pid, bootstrap $(bootstrap)"
  else
    echo "kafka: stopped"
    return 3
  fi
}

command="${1:-}"
[[ $# -gt 0 ]] && shift
case "$command" in
  start) start "$@" ;;
  stop) stop ;;
  status) status ;;
  reset) stop; rm -rf "$KAFKA_DIR"; log "Kafka data deleted" ;;
  create-topic)
    [[ $# -ge 1 ]] || die "usage: kafka.sh create-topic NAME [PARTITIONS]"
    run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$(bootstrap)" --create \
      --if-not-exists --topic "$1" --partitions "${2:-4}" --replication-factor 1
    ;;
  produce)
    [[ $# -ge 1 ]] || die "usage: kafka.sh produce TOPIC < lines"
    run_tool org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$(bootstrap)" --topic "$1"
    ;;
  consume)
    [[ $# -ge 1 ]] || die "usage: kafka.sh consume TOPIC [MAX_MESSAGES] [TIMEOUT_MS]"
    run_tool org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$(bootstrap)" \
      --topic "$1" --from-beginning --isolation-level read_committed \
      --max-messages "${2:-10}" --timeout-ms "${3:-10000}"
    ;;
  tool)
    [[ $# -ge 1 ]] || die "usage: kafka.sh tool MAIN_CLASS [ARGS...]"
    run_tool "$@"
    ;;
  *)
    sed -n '2,14p' "$0" >&2
    exit 2
    ;;
esac

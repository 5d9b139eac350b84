#!/usr/bin/env bash
# The whole local pipeline in one command: Kafka, a Flink cluster, the Vigil job, and a check that
# committed output arrives; then everything is stopped again. Kafka starts empty (kafka.sh reset).
#
#   demo-cluster.sh [SPEC]          SPEC defaults to jobs/specs/iot-telemetry-kafka.yaml
#
# Environment (defaults in brackets):
#   VIGIL_JAR [jobs/target/vigil-cluster.jar]   built by: mvn -B -o -pl jobs -am package -DskipTests
#   MAIN_CLASS [io.vigil.jobs.cli.VigilCli]     VIGIL_ARGS []: extra arguments after "run SPEC"
#   INPUT_TOPIC [sensor-readings]  OUTPUT_TOPIC [iot-aggregates]
#   DEAD_LETTER_TOPIC [iot-dead-letters]  PARTITIONS [4]  TASKMANAGERS [2]
#   PRODUCE_CMD [java -jar jobs/target/vigil.jar produce SPEC --max-events 50000]
#                           a command run after the job starts, to feed INPUT_TOPIC
#   EXPECTED_OUTPUT [10]    committed output records to wait for   WAIT_MS [180000]
#   KEEP_RUNNING [0]        1 leaves Kafka and the cluster running for a look at the web UI
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

spec="${1:-$REPO_DIR/jobs/specs/iot-telemetry-kafka.yaml}"
jar="${VIGIL_JAR:-$REPO_DIR/jobs/target/vigil-cluster.jar}"
input_topic="${INPUT_TOPIC:-sensor-readings}"
output_topic="${OUTPUT_TOPIC:-iot-aggregates}"
dead_letter_topic="${DEAD_LETTER_TOPIC:-iot-dead-letters}"
produce_cmd="${PRODUCE_CMD-java -jar $REPO_DIR/jobs/target/vigil.jar produce $spec --max-events 50000}"
partitions="${PARTITIONS:-4}"
expected="${EXPECTED_OUTPUT:-10}"
wait_ms="${WAIT_MS:-180000}"
read -r -a vigil_args <<< "${VIGIL_ARGS:-}"

[[ -f "$jar" ]] || die "no job jar at $jar; build it with: mvn -B -o -pl jobs -am package -DskipTests"
[[ -f "$spec" ]] || die "no job spec at $spec"

cleanup() {
  if [[ "${KEEP_RUNNING:-0}" == 1 ]]; then
    log "KEEP_RUNNING=1: stop later with deploy/local/flink-cluster.sh stop; deploy/local/kafka.sh stop"
    return
  fi
  "$LOCAL_DIR/flink-cluster.sh" stop || true
  "$LOCAL_DIR/kafka.sh" stop || true
}
trap cleanup EXIT

# Counts committed records in a topic (up to $2, waiting at most $3 ms), without printing payloads.
count_committed() {
  "$LOCAL_DIR/kafka.sh" tool org.apache.kafka.tools.consumer.ConsoleConsumer \
    --bootstrap-server "127.0.0.1:$(cat "$WORK_DIR/kafka/port")" --topic "$1" --from-beginning \
    --isolation-level read_committed --max-messages "$2" --timeout-ms "$3" \
    --formatter-property print.value=false --formatter-property print.partition=true \
    --formatter-property print.offset=true 2>/dev/null | grep -c '^Partition:' || true
}

begin="$(now_ms)"
# Empty topics, so that the counts below are this run's output only.
"$LOCAL_DIR/kafka.sh" reset
"$LOCAL_DIR/kafka.sh" start
"$LOCAL_DIR/flink-cluster.sh" start --taskmanagers "${TASKMANAGERS:-2}"
for topic in "$input_topic" "$output_topic" "$dead_letter_topic"; do
  "$LOCAL_DIR/kafka.sh" create-topic "$topic" "$partitions"
done

job_id="$("$LOCAL_DIR/submit.sh" "$jar" run "$spec" "${vigil_args[@]}")"
log "Submitted job $job_id"
if [[ -n "$produce_cmd" ]]; then
  log "Feeding $input_topic: $produce_cmd"
  bash -c "$produce_cmd"
fi

log "Waiting up to ${wait_ms} ms for $expected committed records on $output_topic"
output_count="$(count_committed "$output_topic" "$expected" "$wait_ms")"
dead_letter_count="$(count_committed "$dead_letter_topic" 1000000 5000)"
rest="http://127.0.0.1:$(sed -n 's/^rest\.port: *//p' "$WORK_DIR/flink/conf/config.yaml")"
job_state="$(curl -sf "$rest/jobs/$job_id" | grep -o '"state":"[A-Z]*"' | head -1 | cut -d'"' -f4 || echo unknown)"

echo "----------------------------------------------------------------"
echo "job:            $job_id ($job_state) from $jar"
echo "spec:           $spec"
echo "output:         $output_count committed record(s) read on $output_topic (wanted $expected)"
echo "dead letters:   $dead_letter_count committed record(s) on $dead_letter_topic"
echo "elapsed:        $(( ($(now_ms) - begin) / 1000 )) s"
echo "----------------------------------------------------------------"
(( output_count >= expected )) || die "expected output did not arrive; logs in $WORK_DIR/flink/log"

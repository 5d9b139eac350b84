#!/usr/bin/env bash
# Submits a job jar, detached, to the cluster started by flink-cluster.sh; prints the job id.
#
#   submit.sh JAR [ARGS...]
#
# The main class is io.vigil.jobs.cli.VigilCli unless MAIN_CLASS is set, e.g.
#   submit.sh jobs/target/vigil-cluster.jar run jobs/specs/iot-telemetry-kafka.yaml
#   MAIN_CLASS=org.example.WordCount submit.sh wordcount.jar --output /tmp/out
# The client runs with Flink's CliFrontend and the cluster's generated conf/ (FLINK_CONF_DIR).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ $# -ge 1 ]] || { sed -n '2,9p' "$0" >&2; exit 2; }
jar="$1"; shift
[[ -f "$jar" ]] || die "no such jar: $jar"
main_class="${MAIN_CLASS:-io.vigil.jobs.cli.VigilCli}"
conf_dir="$WORK_DIR/flink/conf"
[[ -f "$conf_dir/config.yaml" ]] || die "no cluster configuration in $conf_dir; run flink-cluster.sh start"

output="$WORK_DIR/flink/log/submit-$(date +%Y%m%d-%H%M%S).out"
mkdir -p "$(dirname "$output")"
set +e
FLINK_CONF_DIR="$conf_dir" "$JAVA" -Xmx512m "${JAVA_MODULE_OPTS[@]}" \
  -Dlog4j.configurationFile="file:$conf_dir/log4j-cli.properties" \
  -cp "$WORK_DIR/flink-lib/*" org.apache.flink.client.cli.CliFrontend \
  run -d -c "$main_class" "$jar" "$@" > "$output" 2>&1
status=$?
set -e
job_id="$(sed -n 's/.*Job has been submitted with JobID \([0-9a-f]\{32\}\).*/\1/p' "$output" | tail -1)"
if [[ $status -ne 0 || -z "$job_id" ]]; then
  cat "$output" >&2
  die "submission failed (exit $status); output kept in $output"
fi
echo "$job_id"

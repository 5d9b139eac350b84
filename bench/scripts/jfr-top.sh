#!/usr/bin/env bash
# Aggregates a JFR recording's CPU samples (jdk.ExecutionSample) into the hottest methods:
#   1. top frames (where the CPU was),
#   2. for each sample, the first frame of a package of interest (who asked for that work).
# Usage: [THREAD=substring] bench/scripts/jfr-top.sh recording.jfr [N] [package-prefix ...]
# THREAD keeps only samples of threads whose name contains it (e.g. THREAD='(1/1)' for Flink's
# task threads, leaving out start-up, class loading and the harness).
# Default prefixes: io.vigil. org.apache.flink.cep. org.apache.flink.streaming.api.operators.
set -euo pipefail
jfr_file=$1
n=${2:-15}
shift $(( $# >= 2 ? 2 : 1 ))
prefixes=${*:-"io.vigil. org.apache.flink.cep. org.apache.flink.streaming.api.operators."}

jfr print --stack-depth 64 --events jdk.ExecutionSample "$jfr_file" |
  awk -v prefixes="$prefixes" -v thread="${THREAD:-}" '
    BEGIN { np = split(prefixes, p, " ") }
    /sampledThread = / { keep = thread == "" || index($0, thread) > 0; next }
    /stackTrace = \[/ { in_stack = keep; depth = 0; owner = ""; next }
    in_stack && /^[[:space:]]*\]/ { in_stack = 0; total++; owners[owner == "" ? "(other)" : owner]++; next }
    in_stack {
      frame = $1
      sub(/\(.*/, "", frame)
      if (depth == 0) { tops[frame]++ }
      if (owner == "") { for (i = 1; i <= np; i++) if (index(frame, p[i]) == 1) { owner = frame; break } }
      depth++
    }
    END {
      printf("%d samples\n\n== top frames ==\n", total)
      for (f in tops) printf("%6.1f%%  %s\n", 100 * tops[f] / total, f) | "sort -rn | head -'"$n"'"
      close("sort -rn | head -'"$n"'")
      printf("\n== first frame in %s ==\n", prefixes)
      for (f in owners) printf("%6.1f%%  %s\n", 100 * owners[f] / total, f) | "sort -rn | head -'"$n"'"
    }'

# Shared helpers for the local scripts; sourced, not run.
# Everything lives under deploy/local/.work/ (git-ignored) and listens on 127.0.0.1 only.
# shellcheck disable=SC2034  # the variables are for the scripts that source this file

LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK_DIR="${VIGIL_WORK_DIR:-$LOCAL_DIR/.work}"
REPO_DIR="$(cd "$LOCAL_DIR/../.." && pwd)"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# mvn, offline first (the usual case once ~/.m2 is warm), online only if that fails. Its output
# goes to stderr: callers capture stdout (a classpath), which Maven's console codes would corrupt.
mvn_local() {
  { mvn -B -q -o -f "$LOCAL_DIR/pom.xml" "$@" || mvn -B -q -f "$LOCAL_DIR/pom.xml" "$@"; } 1>&2
}

# The PID in file $1 if that process is alive, else nothing (and the stale file is removed).
live_pid() {
  local file="$1" pid
  [[ -f "$file" ]] || return 0
  pid="$(cat "$file")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    echo "$pid"
  else
    rm -f "$file"
  fi
}

# Stops the process whose PID is in file $1: TERM, then KILL after $2 seconds (default 30).
stop_pid_file() {
  local file="$1" timeout="${2:-30}" pid waited=0
  pid="$(live_pid "$file")"
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if (( waited >= timeout * 10 )); then
      log "PID $pid still alive after ${timeout}s, sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$file"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits until 127.0.0.1:$1 accepts connections; fails after $2 seconds or if PID $3 dies.
wait_for_port() {
  local port="$1" timeout="$2" pid="${3:-}" start=$SECONDS
  until port_open "$port"; do
    [[ -z "$pid" ]] || kill -0 "$pid" 2>/dev/null || die "process $pid died before port $port opened"
    (( SECONDS - start < timeout )) || die "port $port not open after ${timeout}s"
    sleep 0.2
  done
}

# What flink-dist's config.yaml passes to every Flink JVM, client included, on Java 17 (env.java.opts.all).
JAVA_MODULE_OPTS=(
  --add-exports=java.base/sun.net.util=ALL-UNNAMED
  --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED
  --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.text=ALL-UNNAMED
  --add-opens=java.base/java.time=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED
)

# Milliseconds since the epoch, for timings in the scripts' output.
now_ms() { date +%s%3N; }

# Writes a log4j2 config to file $1 for command-line tools: warnings and worse, to stderr.
write_stderr_log4j() {
  cat > "$1" <<'PROPS'
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = stderr
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %d{HH:mm:ss} %-5p %c{1} - %m%n
PROPS
}

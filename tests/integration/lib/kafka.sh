# Shell helpers for integration tests that need a real Kafka (scripts/kafka).
# Source it from a test:
#
#   . "$EARSHOT_SOURCE_DIR/tests/integration/lib/kafka.sh"
#   kafka_setup --nodes 3          # fetch (cached), start, trap EXIT; sets KAFKA_BOOTSTRAP
#   kafka_py create-topic --topic posts --partitions 3 --replication 3
#   kafka_py produce --topic posts --file "$EARSHOT_SOURCE_DIR/tests/data/posts.jsonl"
#   n=$(kafka_py consume-count --topic posts.enriched --expect 1000 --timeout 60)
#   kafka_kill 2; kafka_restart 2  # fault tests
#
# kafka_setup installs `trap kafka_cleanup EXIT` unless the test has an EXIT
# trap already; such a test calls kafka_cleanup from its own trap. Every cluster lives in its own mktemp
# directory on a free port range (--port auto), so tests may run in parallel.
# Nothing is skipped: if Kafka cannot be fetched or started the test fails,
# and scripts/kafka has printed the broker log tail on stderr.

: "${EARSHOT_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}"
KAFKA_SCRIPT=$EARSHOT_SOURCE_DIR/scripts/kafka
KAFKA_HELPERS=$EARSHOT_SOURCE_DIR/tests/integration/lib/kafka_helpers.py
KAFKA_DIR=
KAFKA_BOOTSTRAP=
# Functional tests want brokers up fast more than at peak speed: C1-only JIT
# saves about a second of start CPU per broker and still took 200k+ 750-B
# msgs/s from kcat here. Benchmarks run scripts/kafka directly (full JIT) or
# set EARSHOT_KAFKA_JVM_OPTS themselves.
export EARSHOT_KAFKA_JVM_OPTS=${EARSHOT_KAFKA_JVM_OPTS--XX:TieredStopAtLevel=1}

# A Python 3 that can import kafka-python: $EARSHOT_PYTHON, Debian's own, or
# whatever python3 is on PATH (kafka_helpers.py falls back to Debian's copy).
kafka_python() {
  if [ -n "${EARSHOT_PYTHON:-}" ]; then echo "$EARSHOT_PYTHON"
  elif [ -x /usr/bin/python3 ]; then echo /usr/bin/python3
  else command -v python3
  fi
}

kafka_fail() {
  echo "FAIL: $*" >&2
  exit 1
}

kafka_setup() {
  KAFKA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/earshot-it-kafka.XXXXXX")
  # Never replace a test's own EXIT trap; such a test calls kafka_cleanup.
  [ -n "$(trap -p EXIT)" ] || trap kafka_cleanup EXIT
  "$KAFKA_SCRIPT" fetch >/dev/null || kafka_fail "scripts/kafka fetch failed (see above)"
  KAFKA_BOOTSTRAP=$("$KAFKA_SCRIPT" start --dir "$KAFKA_DIR" --port auto "$@") ||
    kafka_fail "Kafka did not start (broker log tail above; files in $KAFKA_DIR)"
  [ -n "$KAFKA_BOOTSTRAP" ] || kafka_fail "scripts/kafka start printed no bootstrap list"
  export KAFKA_BOOTSTRAP KAFKA_DIR
}

# Stops the brokers and removes their directory; keeps it (and says where)
# when EARSHOT_KEEP_KAFKA=1, and keeps the logs when the test failed.
kafka_cleanup() {
  local rc=$?
  [ -n "$KAFKA_DIR" ] || return 0
  if [ -f "$KAFKA_DIR/cluster.env" ]; then
    EARSHOT_KAFKA_STOP_TIMEOUT=${EARSHOT_KAFKA_STOP_TIMEOUT:-15} \
      "$KAFKA_SCRIPT" stop --dir "$KAFKA_DIR" --keep-data 2>/dev/null || true
  fi
  if [ "${EARSHOT_KEEP_KAFKA:-0}" = 1 ]; then
    echo "kafka: kept $KAFKA_DIR (EARSHOT_KEEP_KAFKA=1)" >&2
  elif [ "$rc" != 0 ]; then
    # A failed run keeps its broker logs (not their data) for a post-mortem.
    for log in "$KAFKA_DIR"/node-*/server.log; do
      [ -f "$log" ] || continue
      echo "---- WARN/ERROR lines of $log" >&2
      grep -E '\] (WARN|ERROR) ' "$log" | tail -n 10 >&2 || true
    done
    rm -rf "$KAFKA_DIR"/node-*/data
    echo "kafka: kept the logs of this failed run in $KAFKA_DIR" >&2
  else
    rm -rf "$KAFKA_DIR"
  fi
  KAFKA_DIR=
  # 0, not $rc: a caller's trap may go on to other cleanups under set -e; the
  # script's exit status stays the one it was exiting with.
  return 0
}

# kafka_py SUBCOMMAND [ARGS]: kafka_helpers.py against this test's cluster.
kafka_py() {
  local cmd=$1
  shift
  "$(kafka_python)" "$KAFKA_HELPERS" "$cmd" --bootstrap "$KAFKA_BOOTSTRAP" "$@"
}

# Is pid $1 a live process? A zombie waiting to be reaped by init is not.
kafka_pid_alive() {
  [ -r "/proc/$1/status" ] || return 1
  ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"
}

# kafka_produce_kcat TOPIC FILE: one message per line, acks=all, idempotent;
# librdkafka (as in earshot), ~200k 750-B messages/s here. kcat exits
# non-zero when it cannot reach the brokers; count what arrived with
# `kafka_py end-offsets` rather than trusting its exit status alone.
kafka_produce_kcat() {
  kcat -P -b "$KAFKA_BOOTSTRAP" -t "$1" -X acks=all -X enable.idempotence=true <"$2"
}

kafka_kill() { "$KAFKA_SCRIPT" kill "$1" --dir "$KAFKA_DIR"; }
kafka_restart() { "$KAFKA_SCRIPT" restart "$1" --dir "$KAFKA_DIR"; }
kafka_status() { "$KAFKA_SCRIPT" status --dir "$KAFKA_DIR"; }

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
  if [ "$2" != "$3" ]; then kafka_fail "$1: expected $2, got $3"; fi
  echo "ok: $1 = $3"
}

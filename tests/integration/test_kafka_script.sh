#!/usr/bin/env bash
# Proves scripts/kafka gives the other integration tests a working real Kafka:
# fetch is cached, a single node starts and answers both librdkafka (kcat,
# the library earshot uses) and kafka-python, data survives a restart, stop
# stops it; then a 3-node cluster keeps acks=all writes through the loss of
# one broker and takes it back. $1 (the earshot binary) is not needed here.
set -euo pipefail

: "${EARSHOT_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$EARSHOT_SOURCE_DIR/tests/integration/lib/kafka.sh"

command -v kcat >/dev/null || kafka_fail "kcat is not installed (scripts/install-deps)"
work=$(mktemp -d "${TMPDIR:-/tmp}/earshot-it-kafka-work.XXXXXX")
trap 'kafka_cleanup; rm -rf "$work"' EXIT

# Messages that would show truncation, reordering of bytes or loss: distinct,
# 300+ bytes each, JSON like the posts earshot reads.
N=2000
pad=$(printf 'x%.0s' $(seq 1 300))
for ((i = 0; i < N; i++)); do
  printf '{"id":"%d","text":"post %d %s"}\n' "$i" "$i" "$pad"
done >"$work/in.jsonl"
sort "$work/in.jsonl" >"$work/in.sorted"

# ---- fetch: the second call is a cached no-op.
"$KAFKA_SCRIPT" fetch >"$work/home1"
t0=$(date +%s%3N)
"$KAFKA_SCRIPT" fetch >"$work/home2"
t1=$(date +%s%3N)
assert_eq "fetch prints the same cache dir twice" "$(cat "$work/home1")" "$(cat "$work/home2")"
[ $((t1 - t0)) -lt 1000 ] || kafka_fail "cached fetch took $((t1 - t0)) ms; it should not download again"
echo "ok: cached fetch took $((t1 - t0)) ms"
[ -f "$(cat "$work/home1")/log4j2.properties" ] || kafka_fail "fetch wrote no log4j2 config"

# ---- single node
kafka_setup --nodes 1
[[ "$KAFKA_BOOTSTRAP" =~ ^127\.0\.0\.1:[0-9]+$ ]] || kafka_fail "bootstrap '$KAFKA_BOOTSTRAP' is not one loopback address"
echo "ok: single node at $KAFKA_BOOTSTRAP"
kafka_status >"$work/status" || kafka_fail "status says a node is down: $(cat "$work/status")"
assert_eq "nodes up" 1 "$(grep -c '^node [0-9]*: up ' "$work/status")"
[ -s "$KAFKA_DIR/node-1/server.log" ] || kafka_fail "the broker did not log to $KAFKA_DIR/node-1/server.log"
if grep -q 'INFO' "$KAFKA_DIR/node-1/console.log" 2>/dev/null; then
  kafka_fail "the broker logs to the terminal (console.log), not only to server.log"
fi

# A second start on the same directory is a no-op that prints the same list.
assert_eq "start again" "$KAFKA_BOOTSTRAP" "$("$KAFKA_SCRIPT" start --dir "$KAFKA_DIR" 2>/dev/null)"

# librdkafka in, kafka-python out.
kafka_py create-topic --topic it.kcat --partitions 3 --replication 1
kafka_produce_kcat it.kcat "$work/in.jsonl"
assert_eq "end offsets after kcat produce" "$N" "$(kafka_py end-offsets --topic it.kcat)"
assert_eq "kafka-python consumed" "$N" \
  "$(kafka_py consume-count --topic it.kcat --expect "$N" --timeout 60 --settle 1 --out "$work/out.py")"
sort "$work/out.py" >"$work/out.py.sorted"
cmp -s "$work/in.sorted" "$work/out.py.sorted" || kafka_fail "kafka-python read other bytes than kcat wrote"
echo "ok: kafka-python read back exactly what kcat wrote"

# kafka-python in, librdkafka consumer group out (group join, commit).
kafka_py create-topic --topic it.py --partitions 2 --replication 1
assert_eq "kafka-python produced" "$N" "$(kafka_py produce --topic it.py --file "$work/in.jsonl")"
kcat -C -b "$KAFKA_BOOTSTRAP" -G it-group -X auto.offset.reset=earliest -e -q it.py >"$work/out.kcat"
assert_eq "kcat group consumed" "$N" "$(wc -l <"$work/out.kcat")"
sort "$work/out.kcat" | cmp -s "$work/in.sorted" - || kafka_fail "kcat read other bytes than kafka-python wrote"
# The group committed: a second run of the same group reads nothing new.
kcat -C -b "$KAFKA_BOOTSTRAP" -G it-group -X auto.offset.reset=earliest -e -q it.py >"$work/out.kcat2"
assert_eq "kcat group after commit" 0 "$(wc -l <"$work/out.kcat2")"

# produce --count goes round a short file: 2500 from 2000 lines.
kafka_py create-topic --topic it.count --partitions 1 --replication 1
assert_eq "kafka-python produced with --count" 2500 \
  "$(kafka_py produce --topic it.count --file "$work/in.jsonl" --count 2500)"
assert_eq "end offsets after --count" 2500 "$(kafka_py end-offsets --topic it.count)"

# Restart keeps the data.
kafka_restart 1
assert_eq "end offsets after restart" "$N" "$(kafka_py end-offsets --topic it.kcat)"

# Bad requests fail with a reason.
if "$KAFKA_SCRIPT" kill 7 --dir "$KAFKA_DIR" 2>"$work/err"; then kafka_fail "kill 7 of a 1-node cluster succeeded"; fi
grep -q 'nodes are 1..1' "$work/err" || kafka_fail "kill 7 said: $(cat "$work/err")"
mkdir -p "$work/notkafka" && touch "$work/notkafka/precious"
if "$KAFKA_SCRIPT" start --dir "$work/notkafka" --port auto 2>"$work/err" >/dev/null; then
  kafka_fail "start used a non-empty directory that is not a cluster"
fi
[ -f "$work/notkafka/precious" ] || kafka_fail "start removed files from a foreign directory"
echo "ok: refuses a foreign directory: $(cat "$work/err")"

# Stop: the JVM is gone and the port is free.
pid=$(cat "$KAFKA_DIR/node-1/pid")
port=${KAFKA_BOOTSTRAP##*:}
"$KAFKA_SCRIPT" stop --dir "$KAFKA_DIR"
if kafka_pid_alive "$pid"; then kafka_fail "broker pid $pid still alive after stop"; fi
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then kafka_fail "port $port still open after stop"; fi
if kafka_status >"$work/status"; then kafka_fail "status exits 0 with the cluster stopped"; fi
assert_eq "nodes down after stop" 1 "$(grep -c '^node 1: down ' "$work/status")"
kafka_cleanup

# ---- three nodes: replication factor 3, min.insync.replicas 2, one broker killed.
kafka_setup --nodes 3
[[ "$KAFKA_BOOTSTRAP" =~ ^127\.0\.0\.1:[0-9]+,127\.0\.0\.1:[0-9]+,127\.0\.0\.1:[0-9]+$ ]] ||
  kafka_fail "bootstrap '$KAFKA_BOOTSTRAP' is not three loopback addresses"
echo "ok: three nodes at $KAFKA_BOOTSTRAP"
kafka_py create-topic --topic it.ha --partitions 3 --replication 3
head -n 1000 "$work/in.jsonl" |
  kcat -P -b "$KAFKA_BOOTSTRAP" -t it.ha -X acks=all -X enable.idempotence=true
kafka_kill 2
kafka_status >"$work/status" && kafka_fail "status exits 0 with node 2 killed"
assert_eq "nodes down after kill 2" 1 "$(grep -c '^node 2: down ' "$work/status")"
# Two of three replicas are in sync: acks=all writes still succeed.
tail -n +1001 "$work/in.jsonl" |
  kcat -P -b "$KAFKA_BOOTSTRAP" -t it.ha -X acks=all -X enable.idempotence=true 2>"$work/kcat.err" ||
  kafka_fail "acks=all produce with one broker down failed: $(tail -n 3 "$work/kcat.err")"
kafka_restart 2
kafka_status >/dev/null || kafka_fail "status says a node is down after restart 2"
assert_eq "end offsets, 3 nodes" "$N" "$(kafka_py end-offsets --topic it.ha)"
assert_eq "consumed, 3 nodes" "$N" \
  "$(kafka_py consume-count --topic it.ha --expect "$N" --timeout 60 --settle 1 --out "$work/out.ha")"
sort "$work/out.ha" | cmp -s "$work/in.sorted" - || kafka_fail "3-node cluster returned other bytes than written"
echo "ok: nothing lost or duplicated across a broker kill and restart"

#!/usr/bin/env bash
# test_run_config: `earshot run --check` validates the shipped example config
# (deploy/earshot.conf) and names FILE:LINE and the fix for bad ones, without
# connecting to any broker. usage: test_run_config.sh EARSHOT
set -euo pipefail
earshot=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_error WANT_STATUS WANT_STDERR_SUBSTRING -- earshot args...
expect_error() {
  local want_rc=$1 want=$2 rc=0
  shift 3
  # timeout: a config that hangs the reader (a FIFO) must fail, not stall CI.
  timeout 60 "$earshot" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  [ "$rc" = "$want_rc" ] || fail "$*: exit $rc, want $want_rc ($(cat "$tmp/err"))"
  grep -qF -- "$want" "$tmp/err" || fail "$*: stderr lacks '$want': $(cat "$tmp/err")"
}

# The example validates (its rules.dir is /etc/earshot/rules: point it here).
"$earshot" run -c "$root/deploy/earshot.conf" --rules "$root/rules" \
  --set rules.cache.dir= --check >"$tmp/out" 2>"$tmp/err" || fail "example: $(cat "$tmp/err")"
grep -q '^config ok: brokers kafka-1.example.net:9093' "$tmp/out" || fail "example: $(cat "$tmp/out")"
grep -q '^rules ok: .* (12 brands, [0-9]* rules, version [0-9a-f]*)$' "$tmp/out" || fail "rules: $(cat "$tmp/out")"

printf 'brokers = localhost:9092\n\ntreads = 4\n' >"$tmp/typo.conf"
expect_error 2 "$tmp/typo.conf:3: unknown key 'treads' (did you mean 'threads'?)" -- run -c "$tmp/typo.conf" --check

printf 'brokers = localhost:9092\ntickets.min_priority = 300\n' >"$tmp/range.conf"
expect_error 2 "$tmp/range.conf:2: 'tickets.min_priority' must be an integer 0..100, got '300'" -- run -c "$tmp/range.conf" --check

printf 'brokers = localhost:9092\nkafka.no.such.property = 1\n' >"$tmp/kafka.conf"
expect_error 2 "$tmp/kafka.conf:2: librdkafka property 'no.such.property': No such configuration property" -- run -c "$tmp/kafka.conf" --check

# Not a config: a device (read forever), a FIFO (open blocks for a writer),
# a directory, a file past the 1 MiB cap (sparse, so it costs no disk).
expect_error 2 "config file '/dev/zero' is not a regular file (a device); give the path of a plain file" -- run -c /dev/zero --check
mkfifo "$tmp/fifo.conf"
expect_error 2 "config file '$tmp/fifo.conf' is not a regular file (a FIFO)" -- run -c "$tmp/fifo.conf" --check
expect_error 2 "config file '$tmp' is not a regular file (a directory)" -- run -c "$tmp" --check
truncate -s 2M "$tmp/big.conf"
expect_error 2 "config file '$tmp/big.conf' is larger than 1 MiB; a config holds 'key = value' lines: check the path" -- run -c "$tmp/big.conf" --check

EARSHOT_THREADS=many "$earshot" run -b x:1 --check >/dev/null 2>"$tmp/err" && fail "EARSHOT_THREADS=many accepted"
grep -qF "environment EARSHOT_THREADS: 'threads' must be an integer 0..256, got 'many'" "$tmp/err" || fail "env: $(cat "$tmp/err")"

# The command line wins over the environment, which wins over the file.
printf 'brokers = localhost:9092\nthreads = 3\n' >"$tmp/ok.conf"
EARSHOT_THREADS=5 "$earshot" run -c "$tmp/ok.conf" --print-config | grep -qx 'threads = 5' || fail "env over file"
EARSHOT_THREADS=5 "$earshot" run -c "$tmp/ok.conf" -t 7 --print-config | grep -qx 'threads = 7' || fail "flag over env"
EARSHOT_KAFKA_SASL_PASSWORD=hunter2 "$earshot" run -c "$tmp/ok.conf" --print-config >"$tmp/out"
grep -qx 'kafka.consumer.sasl.password = \[redacted\]' "$tmp/out" || fail "secret not hidden: $(cat "$tmp/out")"
grep -qx 'kafka.producer.sasl.password = \[redacted\]' "$tmp/out" || fail "secret not hidden: $(cat "$tmp/out")"
# Every property librdkafka flags sensitive is hidden, by librdkafka's own
# redaction, from each source (issue 12 item 5, issue 11 item 4): -X, the
# environment, the file.
printf 'brokers = localhost:9092\nkafka.sasl.oauthbearer.config = principal=admin extension_token=s3cr1t\n' >"$tmp/oauth.conf"
EARSHOT_KAFKA_SSL_KEY_PEM=PEMDATA "$earshot" run -c "$tmp/oauth.conf" \
  -X ssl.key.password=hunter3 -X ssl.key.pem=XPEMDATA -X client.id=visible --print-config >"$tmp/out"
for client in consumer producer; do
  for prop in ssl.key.pem ssl.key.password sasl.oauthbearer.config; do
    grep -qx "kafka.$client.$prop = \[redacted\]" "$tmp/out" || fail "$client $prop shown: $(cat "$tmp/out")"
  done
  grep -qx "kafka.$client.client.id = visible" "$tmp/out" || fail "client.id hidden: $(cat "$tmp/out")"
done
! grep -qE 'PEMDATA|hunter3|s3cr1t' "$tmp/out" || fail "a secret leaked: $(cat "$tmp/out")"
EARSHOT_KAFKA_SSL_KEY_PEM=PEMDATA "$earshot" run -c "$tmp/ok.conf" --print-config >"$tmp/out"
grep -qx 'kafka.consumer.ssl.key.pem = \[redacted\]' "$tmp/out" || fail "env ssl.key.pem shown: $(cat "$tmp/out")"

# --print-config shows what each client runs with: earshot's defaults (from
# config keys), the user's -X, and what at-least-once requires.
"$earshot" run -c "$tmp/ok.conf" -X producer.linger.ms=2 --set consumer.fetch.min.bytes=5000 \
  --print-config >"$tmp/out"
for want in 'kafka.consumer.bootstrap.servers = localhost:9092' \
            'kafka.consumer.enable.auto.offset.store = false' \
            'kafka.consumer.fetch.min.bytes = 5000' \
            'kafka.consumer.partition.assignment.strategy = cooperative-sticky' \
            'kafka.producer.enable.idempotence = true' \
            'kafka.producer.request.required.acks = -1' \
            'kafka.producer.queue.buffering.max.ms = 2' \
            'kafka.producer.message.timeout.ms = 0'; do
  grep -qxF "$want" "$tmp/out" || fail "--print-config lacks '$want': $(cat "$tmp/out")"
done
! grep -q '^kafka.producer.fetch.min.bytes' "$tmp/out" || fail "consumer property given to the producer"

# A setting earshot must override is refused with the reason, at --check
# and at start, never silently replaced (issue 11 item 4).
expect_error 2 "-X: librdkafka property 'acks=1' is refused: earshot's producer needs acks=all: an output counts as delivered, and its input offset as committable, only once every in-sync replica has it" -- run -b x:1 -X producer.acks=1 --check
expect_error 2 "-X: librdkafka property 'request.required.acks=0' is refused: earshot's producer needs acks=all" -- run -b x:1 -X request.required.acks=0 --check
printf 'brokers = localhost:9092\n\nkafka.enable.auto.offset.store = true\n' >"$tmp/store.conf"
expect_error 2 "$tmp/store.conf:3: librdkafka property 'enable.auto.offset.store=true' is refused: earshot's consumer needs enable.auto.offset.store=false: earshot stores an input offset only after every output of that post is acknowledged" -- run -c "$tmp/store.conf" --check
expect_error 2 "-X: librdkafka property 'enable.auto.commit=false' is refused: earshot's consumer needs enable.auto.commit=true" -- run -b x:1 -X consumer.enable.auto.commit=false --check
expect_error 2 "-X: librdkafka property 'enable.idempotence=false' is refused: earshot's producer needs enable.idempotence=true: a retried produce must not duplicate or reorder outputs" -- run -b x:1 -X enable.idempotence=false --check
# at start too (before any connection: the brokers here do not exist)
expect_error 2 "-X: librdkafka property 'acks=1' is refused" -- run -b 127.0.0.1:1 --rules "$root/rules" --set rules.cache.dir= -X acks=1
# The required value itself, in any spelling, is fine.
"$earshot" run -b x:1 --rules "$root/rules" --set rules.cache.dir= -X acks=-1 -X producer.acks=all \
  -X enable.idempotence=true --check >/dev/null 2>"$tmp/err" || fail "acks=all refused: $(cat "$tmp/err")"
# A client prefix on the other client's property is an error, not ignored.
expect_error 2 "-X: librdkafka property 'producer.group.id': 'group.id' is a consumer property (librdkafka), the producer ignores it; use 'consumer.group.id' or drop the prefix" -- run -b x:1 -X producer.group.id=g --check

# A broken rules directory fails the check with FILE:LINE:COL.
cp -r "$root/rules" "$tmp/rules"
printf '{"brands": [ {"id": "x", }\n' >"$tmp/rules/brands.json"
expect_error 2 "$tmp/rules/brands.json:1:" -- run -b x:1 --rules "$tmp/rules" --set rules.cache.dir= --check
echo "ok: example config valid, bad file/env/kafka/rules and non-files named with their place"

#!/usr/bin/env bash
# `earshot demo` end to end, as CI sees it (stdout not a terminal): it runs
# for --duration, stops cleanly, and its final summary adds up. Beyond the
# summary's own checks (consumed == generated, every event read back), the
# counts per route must equal what `earshot classify` makes of the very
# same posts offline: the firehose with --seed S writes exactly what
# `earshot generate --seed S --shape mix --malformed-rate 0.005` writes, and
# routing (brand -> enriched; complaint/question with priority >= 30 ->
# tickets; refused -> rejected) does not depend on the clock.
set -euo pipefail

earshot=${1:?usage: test_demo.sh EARSHOT_BINARY}
: "${EARSHOT_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
export EARSHOT_RULES="$EARSHOT_SOURCE_DIR/rules"
python=/usr/bin/python3
[ -x "$python" ] || python=python3

work=$(mktemp -d "${TMPDIR:-/tmp}/earshot-it-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- demo stdout" >&2
  cat "$work/out" >&2 || true
  echo "--- demo stderr" >&2
  cat "$work/err" >&2 || true
  exit 1
}

seed=4242
rc=0
timeout 120 "$earshot" demo --duration 8 --seed "$seed" --rate 1500 >"$work/out" 2>"$work/err" </dev/null || rc=$?
[ "$rc" -eq 0 ] || fail "earshot demo exited $rc, want 0"

# Not a terminal: no escape sequences, compact blocks, then the summary.
if grep -q $'\033' "$work/out"; then fail "ANSI escapes written to a pipe"; fi
grep -q '^\[00:0[0-9]\] running: generated' "$work/out" || fail "no progress block"
grep -q '^earshot demo: final summary after' "$work/out" || fail "no final summary"

field() { # field NAME -> the number after "  NAME" in the summary
  awk -v name="$1" '/^earshot demo: final summary/ { s = 1 } s && $1 == name { print $2; exit }' "$work/out"
}
generated=$(field generated)
consumed=$(field consumed)
enriched=$(field enriched)
tickets=$(field tickets)
rejected=$(field rejected)
malformed=$(sed -n 's/^  generated .*(\([0-9]*\) of them malformed on purpose)$/\1/p' "$work/out")
for v in generated consumed enriched tickets rejected malformed; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || fail "summary has no number for $v (got '${!v}')"
done
echo "demo: generated $generated consumed $consumed enriched $enriched tickets $tickets rejected $rejected malformed $malformed"

[ "$generated" -gt 0 ] || fail "nothing generated"
# 8 s at 1500/s; the firehose starts before the group is joined, so nearly
# all of it is generated.
[ "$generated" -ge 6000 ] || fail "generated $generated, want >= 6000 in 8 s at 1500/s"
[ "$consumed" -eq "$generated" ] || fail "consumed $consumed != generated $generated"
grep -q 'consumed == generated, every post was read' "$work/out" || fail "summary does not confirm consumed == generated"
grep -q '^  all counts agree$' "$work/out" || fail "summary does not say all counts agree"
if grep -q MISMATCH "$work/out"; then fail "summary reports a mismatch"; fi
[ "$tickets" -gt 0 ] || fail "no tickets"
[ "$rejected" -gt 0 ] || fail "nothing rejected"
[ "$tickets" -le "$enriched" ] || fail "tickets $tickets > enriched $enriched: a ticket is also an enriched event"
[ "$rejected" -eq "$malformed" ] || fail "rejected $rejected != malformed lines generated $malformed"
for route in posts.enriched care.tickets posts.rejected; do
  grep -Eq "events to $route +\(read back: [0-9]+\)$" "$work/out" || fail "$route not all read back by the view"
done

# The same posts, offline.
"$earshot" generate --count "$generated" --seed "$seed" --shape mix --malformed-rate 0.005 >"$work/posts.jsonl"
"$earshot" classify --rejected "$work/rejected.jsonl" "$work/posts.jsonl" >"$work/events.jsonl" || fail "earshot classify failed"
read -r want_enriched want_tickets <<<"$("$python" - "$work/events.jsonl" <<'EOF'
import json, sys
enriched = tickets = 0
for line in open(sys.argv[1], encoding="utf-8"):
    ev = json.loads(line)
    if ev.get("brands"):
        enriched += 1
        if ev["polarity"] in ("complaint", "question") and ev["priority"] >= 30:
            tickets += 1
print(enriched, tickets)
EOF
)"
want_rejected=$(wc -l <"$work/rejected.jsonl")
echo "offline: enriched $want_enriched tickets $want_tickets rejected $want_rejected"
[ "$enriched" -eq "$want_enriched" ] || fail "enriched $enriched, offline classify says $want_enriched"
[ "$tickets" -eq "$want_tickets" ] || fail "tickets $tickets, offline classify says $want_tickets"
[ "$rejected" -eq "$want_rejected" ] || fail "rejected $rejected, offline classify says $want_rejected"

# Bad usage is refused with status 2, before anything starts.
rc=0
"$earshot" demo --rate 0 >/dev/null 2>"$work/usage" || rc=$?
[ "$rc" -eq 2 ] || fail "--rate 0 exited $rc, want 2"
grep -q -- '--rate' "$work/usage" || fail "--rate 0: the message does not name the option"
echo "ok"

#!/usr/bin/env bash
# `earshot demo --spike`: an injected 10x complaint spike for one brand is
# alerted by the in-demo aggregator in the spike's own window, the live
# blocks show the alert, DUE reads "due in N min" / "N min overdue" on the
# demo's clock, the summary says "alerted" and the counts still agree; a
# bad --spike is a usage error (exit 2) that says what is expected.
set -euo pipefail

earshot=${1:?usage: test_demo_spike.sh EARSHOT_BINARY}
: "${EARSHOT_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
export EARSHOT_RULES="$EARSHOT_SOURCE_DIR/rules"

work=$(mktemp -d "${TMPDIR:-/tmp}/earshot-it-demo-spike.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- demo stdout" >&2
  cat "$work/out" >&2 || true
  echo "--- demo stderr" >&2
  cat "$work/err" >&2 || true
  exit 1
}

rc=0
timeout 120 "$earshot" demo --duration 12 --seed 99 --rate 1500 --spike dell@5x10 \
  >"$work/out" 2>"$work/err" </dev/null || rc=$?
[ "$rc" -eq 0 ] || fail "earshot demo --spike exited $rc, want 0"
grep -q '^  all counts agree$' "$work/out" || fail "counts do not agree"

# The summary: the spike line, and the alert it points at.
spike=$(grep -E '^  spike      Dell x10: [0-9]+ complaint posts injected into the [0-9]{2}:[0-9]{2} window \(baseline [0-9.]+ a window\): alerted$' "$work/out") \
  || fail "no 'spike ... alerted' line in the summary"
window=$(sed -E 's/.* into the ([0-9:]+) window.*/\1/' <<<"$spike")
grep -Eq "^             $window spike Dell: [0-9]+ complaints, baseline [0-9.]+ \(x[0-9.]+\)  <- the injected spike$" "$work/out" \
  || fail "the care alerts list has no spike for Dell at $window marked as the injected one"
spikes=$(grep -cE '^             [0-9:]+ spike ' "$work/out" || true)
[ "$spikes" -eq 1 ] || fail "$spikes spike alerts, want exactly the injected one"

# The live view showed it before the summary, and DUE on the demo's clock.
grep -Eq "^        alert: $window spike Dell: " "$work/out" || fail "no live block shows the spike"
grep -Eq '^        latest ticket: .* (due in [0-9]+ min|[0-9]+ min overdue|due now) "' "$work/out" \
  || fail "no latest ticket with a 'due in N min' DUE"

# Usage errors.
for bad in 'dell' 'dell@' 'dell@5x1' '@5' 'dell@5xz'; do
  rc=0
  "$earshot" demo --duration 10 --spike "$bad" >/dev/null 2>"$work/err" || rc=$?
  [ "$rc" -eq 2 ] || fail "--spike '$bad' exited $rc, want 2"
  grep -q 'BRAND@SECONDS\[xFACTOR\]\|FACTOR 2..1000' "$work/err" || fail "--spike '$bad': no hint of the syntax"
done
rc=0
"$earshot" demo --duration 10 --spike nosuch@3 >/dev/null 2>"$work/err" || rc=$?
[ "$rc" -eq 2 ] || fail "--spike nosuch@3 exited $rc, want 2"
grep -q "no brand 'nosuch' in .*; brands: comcast dell" "$work/err" || fail "unknown brand: no list of brands"
echo "ok: demo --spike dell@5x10 alerted in the $window window; bad --spike refused"

#!/usr/bin/env bash
# An installed earshot finds its own rules, wherever it was installed and
# from any directory: `cmake --install` into a temporary prefix (no rebuild:
# the build tree is the one the binary under test lives in), then
# `check-rules` from / with no $EARSHOT_RULES must load PREFIX/share/earshot/
# rules and say so; with those rules removed the error must list every place
# it looked, so an operator can tell what to fix.
set -euo pipefail

earshot=${1:?usage: test_install.sh EARSHOT_BINARY}
build=$(cd "$(dirname "$earshot")" && pwd)
[ -f "$build/CMakeCache.txt" ] || { echo "test_install: $build is not a build tree" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/earshot-it-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test_install: FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/p" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log" >&2; fail "cmake --install"; }
p=$tmp/p
for f in bin/earshot share/earshot/rules share/earshot/examples/earshot.conf \
         share/earshot/examples/earshot.service share/doc/earshot/README.md; do
    [ -e "$p/$f" ] || fail "not installed: $f"
done

# From /, no $EARSHOT_RULES, no ./rules: the installed rules, named by path.
(cd / && env -u EARSHOT_RULES "$p/bin/earshot" check-rules) >"$tmp/ok" 2>"$tmp/err" ||
    { cat "$tmp/err" >&2; fail "check-rules from / failed"; }
grep -qx "rules ok: $p/share/earshot/rules" "$tmp/ok" ||
    { cat "$tmp/ok" >&2; fail "check-rules did not load $p/share/earshot/rules"; }

# A relative install still finds them (a symlinked or moved tree too).
mv "$p" "$tmp/moved"
p=$tmp/moved
(cd / && env -u EARSHOT_RULES "$p/bin/earshot" check-rules) >"$tmp/ok" 2>"$tmp/err" ||
    { cat "$tmp/err" >&2; fail "check-rules of a moved install failed"; }
grep -qx "rules ok: $p/share/earshot/rules" "$tmp/ok" || fail "moved install: $(cat "$tmp/ok")"

# Rules gone: exit 2 and every place tried, never the source checkout's.
rm -rf "$p/share/earshot/rules"
set +e
(cd / && env -u EARSHOT_RULES "$p/bin/earshot" check-rules) >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "check-rules without rules: exit $rc, want 2"
want="earshot check-rules: no rules directory: tried --rules (not given), \$EARSHOT_RULES (unset), ./rules (absent), $p/share/earshot/rules (absent); give --rules DIR"
[ "$(cat "$tmp/err")" = "$want" ] || { printf 'got:  %s\nwant: %s\n' "$(cat "$tmp/err")" "$want" >&2; fail "error message"; }

# An explicit directory that is not there is an error, not a fall-through.
set +e
(cd / && EARSHOT_RULES=$tmp/nope "$p/bin/earshot" check-rules) >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "cannot open rules directory $tmp/nope (\$EARSHOT_RULES): no such directory" "$tmp/err" ||
    fail "EARSHOT_RULES=missing: exit $rc, $(cat "$tmp/err")"
echo "test_install: ok"

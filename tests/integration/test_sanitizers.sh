#!/usr/bin/env bash
# test_sanitizers: the unit tests, the classify/eval/rules tests and the
# embedded-broker pipeline tests again, in a build with AddressSanitizer and
# UndefinedBehaviorSanitizer (issue 12: "zero sanitizer reports in CI").
# A report aborts the process (UBSan with -fno-sanitize-recover, ASan and
# LeakSanitizer by default), so it fails the test that hit it, and so this one.
#
# The sanitizer tree is built beside the one ctest runs from (BUILD/asan);
# inside it this script skips itself (EARSHOT_SANITIZER_RUN). Set
# EARSHOT_SKIP_SANITIZERS=1 to skip it (a quick local ctest).
# usage: test_sanitizers.sh EARSHOT
set -euo pipefail
if [ -n "${EARSHOT_SANITIZER_RUN:-}" ] || [ -n "${EARSHOT_SKIP_SANITIZERS:-}" ]; then
  echo "skip: ${EARSHOT_SANITIZER_RUN:+inside the sanitizer build}${EARSHOT_SKIP_SANITIZERS:+EARSHOT_SKIP_SANITIZERS is set}"
  exit 0
fi
build=$(cd "$(dirname "$(realpath "$1")")" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
tree="$build/asan"
cmake -S "$root" -B "$tree" -DCMAKE_BUILD_TYPE=Debug -DASAN=ON -DUBSAN=ON >/dev/null
cmake --build "$tree" -j"$(nproc)" --target earshot \
  $(cd "$root/tests/unit" && ls test_*.c | sed 's/\.c$//') >/dev/null
export EARSHOT_SANITIZER_RUN=1
# The sanitizers' own defaults, stated: abort on the first report, leaks too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$tree"
ctest --output-on-failure -L unit
ctest --output-on-failure -R 'it_test_(classify|eval|rules_examples|run_config|train|watch_spike|run_mock_counts|run_mock_reject_utf8|run_mock_first_start|run_reload)'

#!/usr/bin/env bash
# test_fuzz: each libFuzzer target in tests/fuzz (fuzz_post, fuzz_engine,
# fuzz_rules) on its seed corpus, then for a short fixed budget (issue 12:
# "each fuzz target runs for a short fixed budget in CI on the committed seed
# corpus"). A crash, a timeout, a leak, an ASan or UBSan report or a broken
# harness invariant makes libFuzzer exit non-zero and fails this test; the
# reproducer is kept under BUILD/fuzz/artifacts.
#
# The fuzz tree is built with clang-14 beside the one ctest runs from
# (BUILD/fuzz) and reused on the next run. Longer runs on demand:
# tests/fuzz/README.md. Budget: EARSHOT_FUZZ_SECONDS per target (default 20).
# Set EARSHOT_SKIP_FUZZ=1 to skip it. Skipped, saying so, without clang-14.
# usage: test_fuzz.sh EARSHOT
set -euo pipefail
if [ -n "${EARSHOT_SKIP_FUZZ:-}" ] || [ -n "${EARSHOT_SANITIZER_RUN:-}" ]; then
  echo "skip: ${EARSHOT_SKIP_FUZZ:+EARSHOT_SKIP_FUZZ is set}${EARSHOT_SANITIZER_RUN:+inside the sanitizer build}"
  exit 0
fi
if ! command -v clang-14 >/dev/null || ! command -v clang++-14 >/dev/null; then
  echo "skip: clang-14 not found; the fuzz targets need clang and libFuzzer" \
       "(apt-get install clang-14 libclang-rt-14-dev, or scripts/install-deps)"
  exit 0
fi
# clang without its runtime links nothing: say which package, not a link error.
if [ ! -e "$(clang-14 -print-file-name=libclang_rt.fuzzer-x86_64.a)" ] &&
   [ ! -e "$(clang-14 -print-runtime-dir)/libclang_rt.fuzzer.a" ]; then
  echo "FAIL: clang-14 is installed but libFuzzer is not: apt-get install libclang-rt-14-dev" >&2
  exit 1
fi
build=$(cd "$(dirname "$(realpath "$1")")" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${EARSHOT_FUZZ_SECONDS:-20}
tree="$build/fuzz"
jobs=$(nproc)

# -O1 -g as the README's recipe: fast enough to fuzz, readable stacks.
CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$tree" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DEARSHOT_FUZZ=ON -DEARSHOT_TESTS=OFF >/dev/null
cmake --build "$tree" -j"$jobs" --target fuzz_post fuzz_engine fuzz_rules >/dev/null

work=$(mktemp -d /tmp/earshot-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$tree/artifacts"
# Seeds: the committed rule files for fuzz_rules; for the post targets the
# test posts, one per file and whole files (tests/fuzz/README.md). libFuzzer
# adds what it finds to the first corpus directory, so it gets a copy.
mkdir -p "$work/post" "$work/rules"
cp "$root"/tests/data/posts/*.jsonl "$work/post/"
for f in "$root"/tests/data/posts/*.jsonl; do
  split -l 1 "$f" "$work/post/$(basename "$f" .jsonl)-"
done
cp -r "$work/post" "$work/engine"
cp "$root"/tests/fuzz/corpus_rules/* "$work/rules/"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
run() { # target corpus max_len
  local target=$1 corpus=$2 max_len=$3 log="$work/$1.log"
  local opts=(-max_len="$max_len" -timeout=20 -rss_limit_mb=2048
              -artifact_prefix="$tree/artifacts/$target-" -print_final_stats=1)
  echo "== $target: $(ls "$corpus" | wc -l) seeds, then ${seconds}s"
  if ! "$tree/$target" "${opts[@]}" -runs=0 "$corpus" >"$log" 2>&1 ||
     ! "$tree/$target" "${opts[@]}" -max_total_time="$seconds" "$corpus" >>"$log" 2>&1; then
    echo "FAIL: $target found a defect; reproducer in $tree/artifacts/, log:" >&2
    tail -n 60 "$log" >&2
    status=1
    return
  fi
  grep -E '^stat::number_of_executed_units|^stat::new_units_added|^Done' "$log" | tail -n 3
}
run fuzz_post "$work/post" 4200
run fuzz_engine "$work/engine" 4200
run fuzz_rules "$work/rules" 4096
[ "$status" = 0 ] && echo "ok: no finding in ${seconds}s per target"
exit "$status"

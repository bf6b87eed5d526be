#!/usr/bin/env bash
# The CMake configure step's promises (issue 13), each checked by configuring
# a scratch copy of the source tree (configure only, no compile: seconds):
# - without cmocka, -DBUILD_TESTING=OFF configures the binary and no test;
#   with tests on, the error names the package and the way out;
# - a source file listed in CMakeLists.txt but missing, a .c file in a
#   module that no list names, and a missing module directory each stop the
#   configure with an error naming the file and the fix.
set -euo pipefail

earshot=${1:?usage: test_package_configure.sh EARSHOT_BINARY}
root=${EARSHOT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/earshot-it-configure.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test_package_configure: FAIL: $*" >&2; exit 1; }

# A pkg-config search path with every .pc file of the system except cmocka's.
mkdir "$tmp/pc"
for d in $(pkg-config --variable pc_path pkg-config | tr : ' '); do
    [ -d "$d" ] || continue
    for pc in "$d"/*.pc; do
        [ -e "$pc" ] || continue
        name=$(basename "$pc")
        [ "$name" = cmocka.pc ] || [ -e "$tmp/pc/$name" ] || ln -s "$pc" "$tmp/pc/$name"
    done
done
nocmocka() { PKG_CONFIG_LIBDIR=$tmp/pc PKG_CONFIG_PATH= "$@"; }
nocmocka pkg-config --exists cmocka && fail "cmocka still visible through $tmp/pc"
nocmocka pkg-config --exists libhs || fail "libhs lost from $tmp/pc"

# 1. No cmocka, tests off: configures; earshot is a target, no test is.
nocmocka cmake -S "$root" -B "$tmp/b1" -DBUILD_TESTING=OFF >"$tmp/c1.log" 2>&1 ||
    { cat "$tmp/c1.log" >&2; fail "configure without cmocka and -DBUILD_TESTING=OFF"; }
cmake --build "$tmp/b1" --target help >"$tmp/help1"
grep -qx '\.\.\. earshot' "$tmp/help1" || fail "no earshot target with BUILD_TESTING=OFF"
grep -q '^\.\.\. test_' "$tmp/help1" && fail "test targets built with BUILD_TESTING=OFF"
[ ! -e "$tmp/b1/CTestTestfile.cmake" ] || ! grep -q add_test "$tmp/b1/CTestTestfile.cmake" ||
    fail "tests registered with BUILD_TESTING=OFF"

# 2. No cmocka, tests on (the default): a configure error that says what to do.
set +e
nocmocka cmake -S "$root" -B "$tmp/b2" >"$tmp/c2.log" 2>&1
rc=$?
set -e
[ "$rc" != 0 ] || fail "configure without cmocka and tests on succeeded"
tr -s ' \n' ' ' <"$tmp/c2.log" | grep -q 'cmocka not found (the unit tests need it): install libcmocka-dev (scripts/install-deps), or configure with -DBUILD_TESTING=OFF' ||
    { cat "$tmp/c2.log" >&2; fail "no clear cmocka error"; }

# A scratch copy of what CMake reads, to break on purpose.
copy() {
    rm -rf "$tmp/src"
    mkdir "$tmp/src"
    cp -r "$root/CMakeLists.txt" "$root/src" "$root/rules" "$root/deploy" "$root/README.md" "$tmp/src/"
    [ ! -d "$root/bench" ] || cp -r "$root/bench" "$tmp/src/"
}
configure_fails() { # WANT: configure the copy, expect failure with WANT in the log
    set +e
    cmake -S "$tmp/src" -B "$tmp/b3" -DBUILD_TESTING=OFF >"$tmp/c3.log" 2>&1
    local rc=$?
    set -e
    rm -rf "$tmp/b3"
    [ "$rc" != 0 ] || fail "configure succeeded, wanted: $1"
    tr -s ' \n' ' ' <"$tmp/c3.log" | grep -qF "$1" || { cat "$tmp/c3.log" >&2; fail "wanted: $1"; }
}

# 3. A listed source file gone.
copy
rm "$tmp/src/src/text/text.c"
configure_fails "src/text/text.c: listed in CMakeLists.txt but missing; restore the file or remove it from the text list"

# 4. A new file nobody listed.
copy
echo 'int ops_new_thing(void);' >"$tmp/src/src/ops/ops_new.c"
configure_fails "src/ops/ops_new.c: not in CMakeLists.txt; add it to the ops source list (or delete the file)"

# 5. A whole module gone.
copy
rm -r "$tmp/src/src/watch"
configure_fails "src/watch/: module directory missing (listed in CMakeLists.txt); restore it or remove its earshot_module() call"

# 6. The untouched copy configures (the failures above are the breakage's).
copy
cmake -S "$tmp/src" -B "$tmp/b4" -DBUILD_TESTING=OFF >"$tmp/c4.log" 2>&1 ||
    { cat "$tmp/c4.log" >&2; fail "pristine copy does not configure"; }
echo "test_package_configure: ok"

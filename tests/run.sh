#!/bin/sh
# Runs every test of the suite against each build directory given:
# the unit tests ($BUILD/tests/test_*) and the end-to-end scripts
# (tests/e2e_*.sh, which use $ATTNBENCH). Prints one line per test and a
# closing "N passed, N failed" line; exits non-zero if any failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
pass=0; fail=0; skip=0; failed=""
for build in "$@"; do
  case "$build" in */asan) tag=asan ;; *) tag=normal ;; esac
  export ATTNBENCH="$build/attnbench" TEST_BUILD="$build"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99"
  export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  for t in "$build"/tests/test_* "$here"/e2e_*.sh; do
    [ -e "$t" ] || continue
    name="$(basename "$t" .sh) [$tag]"
    log=$(mktemp)
    start=$(date +%s)
    case "$t" in *.sh) sh "$t" >"$log" 2>&1 ;; *) "$t" >"$log" 2>&1 ;; esac
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ]; then
      pass=$((pass + 1)); printf 'PASS %s (%ss)\n' "$name" "$secs"
    elif [ $rc -eq 77 ] && [ "${t%.sh}" != "$t" ]; then  # a unit test never skips
      skip=$((skip + 1)); printf 'SKIP %s: %s\n' "$name" "$(tail -n 1 "$log")"
    else
      fail=$((fail + 1)); failed="$failed $name"
      printf 'FAIL %s (exit %s, %ss)\n' "$name" "$rc" "$secs"
      sed -n '1,60p' "$log" | sed 's/^/    /'
    fi
    rm -f "$log"
  done
done
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]

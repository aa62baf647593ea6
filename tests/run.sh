#!/bin/sh
# Runs every test of the suite against each build directory given:
# the unit tests ($BUILD/tests/test_*) and the end-to-end scripts
# (tests/e2e_*.sh, which use $ATTNBENCH). Prints one line per test, in a
# fixed order, and a closing "N passed, N failed" line; exits non-zero if
# any failed. JOBS tests run at once (default: the online CPUs; JOBS=1 runs
# them one after another): each test has its own temporary files, and a
# test's lines are printed when it ends, in the order of the list.
set -u
here=$(cd "$(dirname "$0")" && pwd)
jobs=${JOBS:-$(nproc 2>/dev/null || echo 1)}
work=$(mktemp -d /tmp/attnbench-run-XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT INT TERM

# --one WORK N BUILD TEST: one test; its exit status, seconds and log into
# WORK/N.{rc,secs,log} (the .secs file last: the test has ended)
if [ "${1:-}" = --one ]; then
  w=$2 n=$3 build=$4 t=$5
  export ATTNBENCH="$build/attnbench" TEST_BUILD="$build"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99"
  export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  start=$(date +%s)
  case "$t" in *.sh) sh "$t" >"$w/$n.log" 2>&1 ;; *) "$t" >"$w/$n.log" 2>&1 ;; esac
  echo $? > "$w/$n.rc"
  echo $(( $(date +%s) - start )) > "$w/$n.secs"
  exit 0
fi

n=0
for build in "$@"; do
  for t in "$build"/tests/test_* "$here"/e2e_*.sh; do
    [ -e "$t" ] || continue
    n=$((n + 1))
    printf '%s %s %s\n' "$n" "$build" "$t" >> "$work/list"
  done
done
[ -s "$work/list" ] || { echo "0 passed, 0 failed, 0 skipped"; exit 0; }
# the end-to-end tests (the long ones) first, so none finishes last alone
grep '/e2e_' "$work/list" > "$work/order" || :
grep -v '/e2e_' "$work/list" >> "$work/order" || :
xargs -P "$jobs" -L 1 sh "$here/run.sh" --one "$work" < "$work/order" &
xpid=$!

pass=0; fail=0; skip=0
while read -r i build t; do
  while [ ! -e "$work/$i.secs" ]; do
    kill -0 "$xpid" 2>/dev/null || [ -e "$work/$i.secs" ] || { echo "run.sh: test runner died" >&2; exit 1; }
    sleep 1
  done
  case "$build" in */asan) tag=asan ;; *) tag=normal ;; esac
  name="$(basename "$t" .sh) [$tag]"
  rc=$(cat "$work/$i.rc") secs=$(cat "$work/$i.secs")
  if [ "$rc" -eq 0 ]; then
    pass=$((pass + 1)); printf 'PASS %s (%ss)\n' "$name" "$secs"
  elif [ "$rc" -eq 77 ] && [ "${t%.sh}" != "$t" ]; then  # a unit test never skips
    skip=$((skip + 1)); printf 'SKIP %s: %s\n' "$name" "$(tail -n 1 "$work/$i.log")"
  else
    fail=$((fail + 1))
    printf 'FAIL %s (exit %s, %ss)\n' "$name" "$rc" "$secs"
    sed -n '1,60p' "$work/$i.log" | sed 's/^/    /'
  fi
done < "$work/order"
wait "$xpid" 2>/dev/null
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]

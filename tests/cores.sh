#!/bin/sh
# Runs the unit tests of a build once per OpenBLAS core choice: the core
# OpenBLAS detects (OPENBLAS_CORETYPE unset), Haswell, and SkylakeX where the
# CPU has AVX-512 (OpenBLAS may pick any of them on a user's machine; two
# computations compared without a tolerance fail on one of them).
# Usage: tests/cores.sh BUILD. JOBS runs at once (default: the online CPUs).
# Prints a line per test and core, in a fixed order, and a closing
# "N passed, N failed" line; exits non-zero if any failed.
set -u
if [ "${1:-}" = --one ]; then # --one WORK N CORE TEST: one run into WORK/N.{log,rc}
  if [ "$4" = detected ]; then
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$5" > "$2/$3.log" 2>&1
  else
    OPENBLAS_CORETYPE=$4 "$5" > "$2/$3.log" 2>&1
  fi
  echo $? > "$2/$3.rc"
  exit 0
fi
build=${1:-build}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 1)}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/attnbench-cores-XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT INT TERM
cores="detected Haswell"
grep -q ' avx512f' /proc/cpuinfo 2>/dev/null && cores="$cores SkylakeX"
n=0
for core in $cores; do
  for t in "$build"/tests/test_*; do
    [ -x "$t" ] || continue
    n=$((n + 1))
    echo "$n $core $t" >> "$work/list"
  done
done
[ -s "$work/list" ] || { echo "0 passed, 0 failed"; exit 0; }
xargs -P "$jobs" -L 1 sh "$here/cores.sh" --one "$work" < "$work/list"
pass=0; fail=0
while read -r i core t; do
  rc=$(cat "$work/$i.rc" 2>/dev/null || echo "none")
  if [ "$rc" = 0 ]; then
    pass=$((pass + 1)); printf 'PASS %s [core %s]\n' "$(basename "$t")" "$core"
  else
    fail=$((fail + 1)); printf 'FAIL %s [core %s] (exit %s)\n' "$(basename "$t")" "$core" "$rc"
    sed -n '1,30p' "$work/$i.log" | sed 's/^/    /'
  fi
done < "$work/list"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]

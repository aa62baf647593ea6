#!/bin/sh
# Runs the unit tests of a build once per OpenBLAS core choice: the core
# OpenBLAS detects (OPENBLAS_CORETYPE unset), Haswell, and SkylakeX where the
# CPU has AVX-512 (OpenBLAS may pick any of them on a user's machine; two
# computations compared without a tolerance fail on one of them).
# Usage: tests/cores.sh BUILD. Prints a line per test and core and a closing
# "N passed, N failed" line; exits non-zero if any failed.
set -u
build=${1:-build}
cores="detected Haswell"
grep -q ' avx512f' /proc/cpuinfo 2>/dev/null && cores="$cores SkylakeX"
pass=0; fail=0
for core in $cores; do
  for t in "$build"/tests/test_*; do
    [ -x "$t" ] || continue
    log=$(mktemp)
    if [ "$core" = detected ]; then
      env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$t" > "$log" 2>&1
    else
      OPENBLAS_CORETYPE=$core "$t" > "$log" 2>&1
    fi
    rc=$?
    if [ $rc -eq 0 ]; then
      pass=$((pass + 1)); printf 'PASS %s [core %s]\n' "$(basename "$t")" "$core"
    else
      fail=$((fail + 1)); printf 'FAIL %s [core %s] (exit %s)\n' "$(basename "$t")" "$core" "$rc"
      sed -n '1,30p' "$log" | sed 's/^/    /'
    fi
    rm -f "$log"
  done
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]

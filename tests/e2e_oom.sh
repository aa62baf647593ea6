#!/bin/sh
# e2e_oom.sh — out of memory under an address-space limit (ulimit -v), end to
# end: every command ends promptly with an `oom` row and exit 3 (capture and
# decode --probe, which write no row: one line and exit 3), never a hang
# (OpenBLAS retries a refused buffer forever, so the floor must be computed
# before any BLAS call); the floor is the program's own figure, not a
# constant: a run at the floor it printed succeeds, one below is oom; a sweep
# under an inherited limit skips what does not fit (not `crashed`), and its
# --dry-run says which points would not fit. Each command runs under
# `timeout 60`: a hang (exit 124) fails the test, never blocks it. Not under
# ASan (its shadow memory needs terabytes of address space).
. "$(dirname "$0")/lib.sh"
A=$ATTNBENCH
TB=${TEST_BUILD:-build}
[ -x "$A" ] || { echo "no $A"; exit 77; }
unset OPENBLAS_NUM_THREADS # OpenBLAS's thread pool as a user gets it
case "$A" in */asan/*)
  echo "note: an ASan build cannot run under a small RLIMIT_AS; the limit checks run in the normal build" >&2
  finish ;;
esac
if ! (ulimit -v 1000000) 2> /dev/null; then
  echo "note: this sh has no ulimit -v; the limit checks are skipped" >&2
  finish
fi

# under KIB CMD ARGS...: CMD under ulimit -v KIB and timeout 60; out, err in $tmp
under() {
  kib=$1; shift
  timeout 60 sh -c 'ulimit -v "$0" && exec "$@"' "$kib" "$@" > "$tmp/out" 2> "$tmp/err"
}

# oom KIB CMD ARGS...: exit 3 and one oom row naming the limit, or, on a
# machine where the point fits (fewer cores: fewer OpenBLAS buffers), exit 0
# and an ok row; never a hang
oom() {
  kib=$1; shift
  under "$kib" "$A" "$@" --row-only
  rc=$?
  case $rc in
  3) grep -q ",oom,.*address-space limit (ulimit -v) of $((kib / 1024)) MiB\|,oom,.*could not be allocated\|,oom,.*out of memory" "$tmp/out" ||
       fail "$* under ulimit -v $kib: exit 3, row $(cat "$tmp/out")"
     [ "$(wc -l < "$tmp/out")" -eq 1 ] || fail "$* under ulimit -v $kib: not one row: $(cat "$tmp/out")" ;;
  0) grep -q ",ok," "$tmp/out" || fail "$* under ulimit -v $kib: exit 0 without an ok row: $(cat "$tmp/out")" ;;
  *) fail "$* under ulimit -v $kib: exit $rc (124: a hang): $(head -c 300 "$tmp/err")" ;;
  esac
}

# ---- the issue's reproductions ------------------------------------------------
small="--context 64 --steps 4 --heads 2 --d-head 16"
oom 280000 decode $small
oom 280000 run --n 256
oom 450000 run --threads 2
oom 1000000 decode --context 32768 --steps 32 --heads 8 --d-head 64
oom 100000 ffn
ck="$tmp/tiny.bin"
if "$TB/tests/test_eval" --write-ckpt "$ck" > /dev/null 2>&1; then
  oom 280000 eval --llama2c "$ck" --n 16 --sequences 1
  under 100000 "$A" capture --llama2c "$ck" --out "$tmp/cap" --n 8
  rc=$?
  [ $rc -eq 3 ] && grep -q "out of memory: the address-space limit" "$tmp/err" ||
    fail "capture under ulimit -v 100000: exit $rc (want 3): $(head -c 300 "$tmp/err")"
else
  echo "note: no $TB/tests/test_eval to write a checkpoint; eval and capture are skipped" >&2
fi
# the probe: no figure of 0 from a buffer it could not have
under 100000 "$A" decode --probe
rc=$?
[ $rc -eq 3 ] && [ ! -s "$tmp/out" ] && grep -q "out of memory for the probe's buffer" "$tmp/err" ||
  fail "decode --probe under ulimit -v 100000: exit $rc (want 3, no figures): $(cat "$tmp/out" "$tmp/err")"

# ---- the floor is the program's own figure -----------------------------------
for c in "decode $small" "run --n 256 --reps 1" "run --threads 2 --n 512 --reps 1"; do
  under 100000 "$A" $c --row-only
  rc=$?
  floor=$(grep -o "below the [0-9]* MiB" "$tmp/out" | grep -o "[0-9]*")
  [ $rc -eq 3 ] && [ -n "$floor" ] || { fail "$c under ulimit -v 100000: exit $rc, no floor in $(cat "$tmp/out" "$tmp/err")"; continue; }
  under $((floor * 1024)) "$A" $c --row-only
  rc=$?
  [ $rc -eq 0 ] && grep -q ",ok," "$tmp/out" || fail "$c at its floor of $floor MiB: exit $rc (124: a hang): $(head -c 300 "$tmp/out" "$tmp/err")"
  under $(((floor - 8) * 1024)) "$A" $c --row-only
  rc=$?
  [ $rc -eq 3 ] && grep -q ",oom,.*below the $floor MiB" "$tmp/out" ||
    fail "$c 8 MiB below its floor of $floor MiB: exit $rc (want 3 and an oom row): $(head -c 300 "$tmp/out" "$tmp/err")"
done

# ---- the sweep under an inherited limit ----------------------------------------
printf '[g]\nattention vanilla\nn 256\nheads 2\nd-head 16\nreps 1\nwarmup 0\n[d]\ncommand decode\ncontext 32768\nsteps 32\nheads 8\nd-head 64\n' > "$tmp/s.sweep"
under 280000 "$A" sweep "$tmp/s.sweep" --dry-run --out "$tmp/dry.csv"
rc=$?
[ $rc -eq 0 ] || fail "sweep --dry-run under ulimit -v 280000: exit $rc (124: a hang): $(head -c 300 "$tmp/err")"
grep -q "inherited address-space limit" "$tmp/err" || fail "sweep --dry-run: the limit's origin not said: $(cat "$tmp/err")"
grep -q "skip .*over --mem-limit" "$tmp/out" || fail "sweep --dry-run under ulimit -v 280000: no point said not to fit: $(cat "$tmp/out")"
under 1000000 "$A" sweep "$tmp/s.sweep" --out "$tmp/s.csv"
rc=$?
[ $rc -eq 0 ] || fail "sweep under ulimit -v 1000000: exit $rc (124: a hang): $(head -c 300 "$tmp/err")"
[ "$(col status "$tmp/s.csv" 2)" = skipped ] || [ "$(col status "$tmp/s.csv" 2)" = oom ] ||
  fail "sweep under ulimit -v 1000000: the decode point is '$(col status "$tmp/s.csv" 2)', not skipped or oom"
finish

#!/bin/sh
# e2e_timing_context.sh — the timing context (issue 17 item 6): run, ffn,
# decode and sweep say on stderr, when they start timing, the BLAS core and
# how it was chosen, the threads and the load average (one line; none with
# --row-only, a sweep's child; bad input stays one line); the .env sidecar
# records load_avg and the core, and the bandwidth probe (read_gbps_1t,
# read_gbps_all) for a sweep and for ATTNBENCH_SIDECAR_PROBE=1 (bench), not
# for a plain `run --csv`; a user's OPENBLAS_CORETYPE is honoured and said
# so; bench's verdicts (scripts/verdict.awk) agree with the number they
# print; `make bench` does not write README.md. Asserts no times.
. "$(dirname "$0")/lib.sh"
A=$ATTNBENCH
[ -x "$A" ] || { echo "FAIL: no $A (build first)"; exit 1; }
here=$(cd "$(dirname "$0")/.." && pwd)
export OPENBLAS_NUM_THREADS=1
asan=0
case "$A" in */asan/*) asan=1 ;; esac # (an AddressSanitizer sweep runs no probe)

# ctx_line CMD FILE: the start line of CMD in FILE (stderr), or nothing
ctx_line() { grep "^attnbench $1: OpenBLAS core " "$2"; }
# the line's form: core, (how), threads, load average L on N core(s)
ctx_re='^attnbench [a-z]*: OpenBLAS core [^ ]* ([^)]*), [^,]*, load average [0-9][0-9.]* on [0-9][0-9]* cores*$'

# ---- run, ffn, decode: one start line each -----------------------------------
"$A" run --n 32 --heads 2 --d-head 8 --reps 1 --warmup 0 --csv "$tmp/r.csv" 2> "$tmp/run.err" ||
  fail "run: exit $?: $(cat "$tmp/run.err")"
"$A" ffn --n 16 --d-model 8 --reps 1 --warmup 0 --csv "$tmp/f.csv" 2> "$tmp/ffn.err" ||
  fail "ffn: exit $?: $(cat "$tmp/ffn.err")"
"$A" decode --context 32 --steps 2 --heads 2 --d-head 8 --csv "$tmp/d.csv" 2> "$tmp/decode.err" ||
  fail "decode: exit $?: $(cat "$tmp/decode.err")"
for c in run ffn decode; do
  n=$(ctx_line $c "$tmp/$c.err" | wc -l)
  [ "$n" -eq 1 ] || fail "$c: $n start lines on stderr, want 1: $(cat "$tmp/$c.err")"
  ctx_line $c "$tmp/$c.err" | grep -q "$ctx_re" || fail "$c: start line '$(ctx_line $c "$tmp/$c.err")' is not of the form"
done
ctx_line run "$tmp/run.err" | grep -q ", 1 thread, " || fail "run: start line does not say 1 thread: $(cat "$tmp/run.err")"
"$A" run --n 32 --heads 2 --d-head 8 --reps 1 --warmup 0 --threads 2 2>&1 >/dev/null | grep -q ", 2 threads, " ||
  fail "run --threads 2: start line does not say 2 threads"

# ---- --row-only (a sweep's child) says nothing; bad input stays one line --------
"$A" run --n 32 --heads 2 --d-head 8 --reps 1 --warmup 0 --row-only > /dev/null 2> "$tmp/ro.err"
[ -s "$tmp/ro.err" ] && fail "run --row-only wrote to stderr: $(cat "$tmp/ro.err")"
for args in "run --k 0 --attention topk" "run --n 0" "ffn --d-model 0" "decode --context 4 --k 9 --attention topk"; do
  $A $args > /dev/null 2> "$tmp/bad.err"
  rc=$?
  [ $rc -eq 2 ] && [ "$(wc -l < "$tmp/bad.err")" -eq 1 ] || fail "$args: exit $rc, stderr: $(cat "$tmp/bad.err")"
done

# ---- the .env: load average and core; the probe only where asked ------------------
core=$(ctx_line run "$tmp/run.err" | sed 's/^attnbench run: OpenBLAS core \([^ ]*\) .*/\1/')
grep -q "^load_avg=[0-9][0-9.]*$" "$tmp/r.env" || fail "r.env: no load_avg= number: $(grep load_avg "$tmp/r.env")"
grep -qx "blas_core=$core" "$tmp/r.env" || fail "r.env: blas_core is not the start line's '$core'"
grep -q "^read_gbps" "$tmp/r.env" && fail "a plain run --csv ran the bandwidth probe"
ATTNBENCH_SIDECAR_PROBE=1 "$A" run --n 32 --heads 2 --d-head 8 --reps 1 --warmup 0 --csv "$tmp/p.csv" 2> /dev/null
for k in read_gbps_1t read_gbps_all; do
  v=$(sed -n "s/^$k=//p" "$tmp/p.env")
  [ -n "$v" ] && fle 0.001 "$v" || fail "ATTNBENCH_SIDECAR_PROBE=1: $k='$v'"
done

# ---- sweep: its start line, its sidecar holds the probe -----------------------------
printf 'heads 2\nd-head 8\nreps 1\nwarmup 0\n\n[g]\nattention vanilla\nn 16\n' > "$tmp/s.sweep"
if "$A" sweep "$tmp/s.sweep" --check > /dev/null; then
  "$A" sweep "$tmp/s.sweep" --out "$tmp/s.csv" 2> "$tmp/sweep.err" || fail "sweep: exit $?: $(cat "$tmp/sweep.err")"
  ctx_line sweep "$tmp/sweep.err" | grep -q "$ctx_re" || fail "sweep: no start line: $(cat "$tmp/sweep.err")"
  grep -q "^load_avg=[0-9]" "$tmp/s.env" || fail "s.env: no load_avg"
  v=$(sed -n 's/^read_gbps_1t=//p' "$tmp/s.env")
  [ $asan = 1 ] || { [ -n "$v" ] && fle 0.001 "$v"; } || fail "s.env: read_gbps_1t='$v'"
else
  fail "the spec of the sweep part is refused"
fi

# ---- a user's core is honoured and said so ------------------------------------------
if grep -qw avx2 /proc/cpuinfo; then
  OPENBLAS_CORETYPE=Haswell "$A" run --n 16 --heads 1 --d-head 8 --reps 1 --warmup 0 --csv "$tmp/u.csv" 2> "$tmp/u.err"
  ctx_line run "$tmp/u.err" | grep -q "core Haswell (set by OPENBLAS_CORETYPE)" ||
    fail "OPENBLAS_CORETYPE=Haswell: $(cat "$tmp/u.err")"
  grep -qx "blas_core_forced_by=user" "$tmp/u.env" || fail "u.env: $(grep forced "$tmp/u.env")"
fi
grep -q 'env -u OPENBLAS_CORETYPE' "$here/scripts/bench.sh" && fail "bench.sh still drops the user's OPENBLAS_CORETYPE"

# ---- verdicts agree with the numbers printed beside them ----------------------------
v() { awk "$(cat "$here/scripts/verdict.awk")"' BEGIN { print target_cells('"$1"') }'; }
[ "$(v '0.6015, "<=", 0.6, 1, 1, 2, "", "x"')" = '0.602x | **no**' ] || fail "0.6015 at most 0.6: $(v '0.6015, "<=", 0.6, 1, 1, 2, "", "x"')"
[ "$(v '0.6, "<=", 0.6, 1, 1, 2, "", "x"')" = '0.60x | **yes**' ] || fail "0.6 at most 0.6: $(v '0.6, "<=", 0.6, 1, 1, 2, "", "x"')"
[ "$(v '0.4996, ">=", 0.5, 1, 100, 0, "", "%"')" = '49.96% | **no**' ] || fail "0.4996 at least 50%"
[ "$(v '0.1004, "within", 0.1, 1, 100, 1, "+", "%"')" = '+10.04% | **no**' ] || fail "+10.04% within 10%"
[ "$(v '1.7, ">=", 3, 0, 1, 2, "", "x"')" = '- | not measured' ] || fail "not measured"
# every ratio near every threshold: the number shown, judged again, gives the verdict shown
bad=$(awk "$(cat "$here/scripts/verdict.awk")"'
  function check(x, op, t, scale, dec, flags,    s, n, want) {
    s = target_text(x, op, t, scale, dec, flags, "")
    n = (s + 0) / scale
    if (target_met(n, op, t) != target_met(x, op, t) && bad++ < 3) print x, op, t, "shown", s
  }
  BEGIN {
    split("0.5 3 1.5 0.75 0.6 2 0.1", T, " ")
    for (i = 1; i <= 7; i++) for (j = -300; j <= 300; j++) {
      x = T[i] * (1 + j * 1e-5)
      check(x, ">=", T[i], 1, 2, ""); check(x, "<=", T[i], 1, 2, ""); check(x, ">=", T[i], 100, 0, "")
      check(x, "within", T[i], 100, 1, "+"); check(-x, "within", T[i], 100, 1, "+")
    }
    exit bad > 0
  }') || fail "verdicts disagree with their numbers: $bad"
n=$(cat "$here/scripts/bench.sh" "$here/scripts/bench_decode.sh" | grep -c 'target_cells(')
[ "$n" -ge 10 ] || fail "bench.sh, bench_decode.sh: $n targets through target_cells, want every one (10)"
grep -q 'verdict(x' "$here/scripts/bench.sh" "$here/scripts/bench_decode.sh" && fail "bench still judges a target outside verdict.awk"

# ---- make bench writes under OUT only (make readme puts it into README.md) ------------
if command -v make > /dev/null; then
  make -n -C "$here" bench OUT=results BENCH=full BUILD="$tmp/nobuild" 2> /dev/null | grep -q readme_update &&
    fail "make bench OUT=results runs readme_update.sh (README.md is make readme's)"
fi
finish

#!/bin/sh
# e2e_decode.sh — `attnbench decode` end to end: a header and one decode
# row; exact decode within 1e-5 of float64 exact attention (one sequence, a
# batch, two threads, --input in operator and layer form); cache_bytes per
# scheme and operator as the formulas say (mqa and mhe 1/heads of mha,
# Performer the same at every context); bad input exits 2 with one line
# and no row; the bandwidth probe prints a rate.
. "$(dirname "$0")/lib.sh"
A=$ATTNBENCH
small="--heads 4 --d-head 16 --context 300 --steps 12 --warmup 2"

# ---- one row, exact within 1e-5 -------------------------------------------
"$A" decode $small > "$tmp/d.csv" 2> "$tmp/err" || fail "decode exit $?: $(cat "$tmp/err")"
[ "$(wc -l < "$tmp/d.csv")" -eq 2 ] || fail "expected a header and one row"
[ "$(col status "$tmp/d.csv")" = ok ] || fail "status $(col status "$tmp/d.csv")"
[ "$(col regime "$tmp/d.csv")" = decode ] || fail "regime $(col regime "$tmp/d.csv")"
[ "$(col attention "$tmp/d.csv")" = exact ] || fail "attention $(col attention "$tmp/d.csv")"
[ "$(col n "$tmp/d.csv")" = 312 ] || fail "n $(col n "$tmp/d.csv"), want 312"
[ "$(col reps "$tmp/d.csv")" = 12 ] || fail "reps $(col reps "$tmp/d.csv"), want 12"
[ "$(col err_rows "$tmp/d.csv")" = 12 ] || fail "err_rows $(col err_rows "$tmp/d.csv")"
fle "$(col rel_err "$tmp/d.csv")" 1e-5 || fail "exact: rel_err $(col rel_err "$tmp/d.csv") > 1e-5"
for c in step_time_s tokens_per_s read_bytes_per_step read_gbps cache_bytes; do
  v=$(col $c "$tmp/d.csv"); fle 1e-12 "$v" || fail "$c '$v' not positive"
done
# 2 (K, V) x 4 heads x 312 tokens x 16 x 4 bytes
[ "$(col cache_bytes "$tmp/d.csv")" = 159744 ] || fail "mha cache_bytes $(col cache_bytes "$tmp/d.csv"), want 159744"
for extra in "--batch 3" "--threads 2" "--batch 2 --threads 2 --attention vanilla"; do
  "$A" decode $small $extra --row-only > "$tmp/x.csv" 2> "$tmp/err" || fail "$extra: exit $?: $(cat "$tmp/err")"
  (cat "$tmp/d.csv" | head -n 1; cat "$tmp/x.csv") > "$tmp/x2.csv"
  fle "$(col rel_err "$tmp/x2.csv")" 1e-5 || fail "$extra: rel_err $(col rel_err "$tmp/x2.csv")"
done

# ---- cache_bytes per scheme and operator -----------------------------------
cache() { "$A" decode --heads 4 --d-head 16 --steps 4 "$@" > "$tmp/c.csv" 2> "$tmp/err" || fail "$*: exit $?: $(cat "$tmp/err")"; col cache_bytes "$tmp/c.csv"; }
mha=$(cache --context 508)
[ "$(cache --context 508 --projection mqa)" -eq $((mha / 4)) ] || fail "mqa cache is not 1/heads of mha's ($mha)"
[ "$(cache --context 508 --projection gqa --kv-heads 2)" -eq $((mha / 2)) ] || fail "gqa 2 cache is not half of mha's"
[ "$(cache --context 508 --projection mhe-mul)" -eq $((mha / 4)) ] || fail "mhe-mul cache is not 1/heads of mha's"
[ "$(cache --context 508 --projection mhe-add)" -eq $((mha / 4)) ] || fail "mhe-add cache is not 1/heads of mha's"
[ "$(cache --context 508 --attention topk --k 8)" -eq "$mha" ] || fail "topk holds a different cache than exact"
[ "$(cache --context 508 --attention window --sink 4 --window 60)" -eq $((2 * 4 * 64 * 16 * 4)) ] || fail "window cache"
p1=$(cache --context 100 --attention performer --features 32)
p2=$(cache --context 900 --attention performer --features 32)
[ "$p1" -eq "$p2" ] && [ "$p1" -eq $((4 * 32 * 18 * 4)) ] || fail "performer state: $p1 at 100, $p2 at 900, want $((4 * 32 * 18 * 4))"

# ---- bad input: exit 2, one line, no row ------------------------------------
bad() { # bad WANT_IN_MESSAGE ARGS...
  want=$1; shift
  "$A" decode --csv "$tmp/bad.csv" "$@" > "$tmp/out" 2> "$tmp/err"
  rc=$?
  [ $rc -eq 2 ] || fail "decode $*: exit $rc, want 2"
  [ -s "$tmp/out" ] && fail "decode $*: wrote to stdout"
  [ -e "$tmp/bad.csv" ] && { fail "decode $*: wrote a row"; rm -f "$tmp/bad.csv"; }
  [ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "decode $*: stderr is not one line: $(cat "$tmp/err")"
  grep -q -- "$want" "$tmp/err" || fail "decode $*: message '$(cat "$tmp/err")' lacks '$want'"
}
bad "steps must be at least 1" --steps 0
bad "context must be at least 1" --context 0
bad "batch must be at least 1" --batch 0
bad "larger than the cache" --context 64 --attention topk --k 65
bad "larger than the cache" --context 64 --attention window --sink 4 --window 61
bad "window must be at least 1" --context 64 --attention window --window 0
bad "unknown --attention" --attention nope
bad "unknown --projection" --projection nope
bad "warmup" --context 4 --warmup 5
bad "unknown option" --n 5
bad "needs --kv-heads" --projection gqa
bad "/none" --input "$tmp/none"

# ---- --input: a captured layer's first L positions, then S steps -------------
"$A" run --n 200 --heads 2 --d-head 8 --attention chunked --reps 1 --dump "$tmp" > /dev/null 2>&1 || { mkdir -p "$tmp/dump"; }
if [ -s "$tmp/q.npy" ]; then
  mkdir -p "$tmp/opform" && mv "$tmp/q.npy" "$tmp/k.npy" "$tmp/v.npy" "$tmp/opform/"
  "$A" decode --input "$tmp/opform" --context 150 --steps 50 > "$tmp/i.csv" 2> "$tmp/err" || fail "--input: exit $?: $(cat "$tmp/err")"
  fle "$(col rel_err "$tmp/i.csv")" 1e-5 || fail "--input exact: rel_err $(col rel_err "$tmp/i.csv")"
  [ "$(col n "$tmp/i.csv")" = 200 ] || fail "--input: n $(col n "$tmp/i.csv")"
  bad "more than the 200 positions" --input "$tmp/opform" --context 150 --steps 51
  bad "needs the layer form" --input "$tmp/opform" --context 150 --steps 10 --projection mqa
else
  fail "run --dump wrote no q.npy"
fi
py=$(numpy_python)
if [ -n "$py" ]; then
  mkdir -p "$tmp/layer"
  "$py" -c "
import numpy as np, sys
r = np.random.default_rng(3); d = sys.argv[1]
np.save(d + '/x.npy', r.standard_normal((120, 24)).astype(np.float32))
for w in ('wq', 'wk', 'wv'): np.save(d + '/' + w + '.npy', (r.standard_normal((3, 24, 8)) / 3).astype(np.float32))
" "$tmp/layer"
  for p in mha mhe-mul; do
    "$A" decode --input "$tmp/layer" --context 100 --steps 20 --projection $p > "$tmp/l.csv" 2> "$tmp/err" || fail "layer $p: exit $?: $(cat "$tmp/err")"
    [ "$(col status "$tmp/l.csv")" = ok ] || fail "layer $p: status"
    [ $p = mha ] && { fle "$(col rel_err "$tmp/l.csv")" 1e-5 || fail "layer mha: rel_err $(col rel_err "$tmp/l.csv")"; }
  done
  fle "$(col rel_err "$tmp/l.csv")" 1 || fail "layer mhe-mul: rel_err $(col rel_err "$tmp/l.csv")"
fi

# ---- a sweep of decode points resumes: run twice, the second has nothing
# to do (the planned row's identity is the one decode writes) -------------
printf '[d]\ncommand decode\nheads 2\nd-head 16\nattention exact topk window performer\nprojection mha mqa\nk 8\nsink 2\nwindow 16\nfeatures 8\ncontext 64\nsteps 4\n' > "$tmp/d.sweep"
if [ -n "$py" ]; then printf '[i]\ncommand decode\ninput %s\nattention exact topk\nprojection mha mqa\ncontext 100\nsteps 4\n' "$tmp/layer" >> "$tmp/d.sweep"; fi
want=$(( $([ -n "$py" ] && echo 12 || echo 8) + 1 ))
"$A" sweep "$tmp/d.sweep" --out "$tmp/ds.csv" > /dev/null 2> "$tmp/err" || fail "decode sweep: exit $?: $(cat "$tmp/err")"
"$A" sweep "$tmp/d.sweep" --out "$tmp/ds.csv" > /dev/null 2> "$tmp/err" || fail "decode sweep again: exit $?: $(cat "$tmp/err")"
grep -q ', 0 to go' "$tmp/err" || fail "decode sweep resumed nothing: $(grep 'to go' "$tmp/err")"
! grep -q 'other knobs' "$tmp/err" || fail "decode sweep: $(grep -m1 'other knobs' "$tmp/err")"
[ "$(wc -l < "$tmp/ds.csv")" -eq $want ] || fail "decode sweep: $(wc -l < "$tmp/ds.csv") lines, want $want (each point once)"

# ---- the bandwidth probe -----------------------------------------------------
"$A" decode --probe > "$tmp/p.csv" 2> "$tmp/err" || fail "--probe: exit $?"
fle 0.01 "$(col read_gbps "$tmp/p.csv")" || fail "--probe: read_gbps '$(col read_gbps "$tmp/p.csv")'"
finish

#!/bin/sh
# e2e_policies.sh — the eviction policies (h2o, tova, snapkv) end to end:
# decode holds a bounded cache (h2o's cache_bytes about budget / (context +
# steps) of exact's, the same at twice the context); eval on a tiny random
# checkpoint (written by test_eval --write-ckpt) gives dnll_beyond for an
# operator with a fixed token budget (the policies, the window) and none for
# top-k; snapkv with the prompt within the budget is exact; not causal, an
# embedding scheme in decode and a recent window over the budget are bad
# input (exit 2, one line, no row).
. "$(dirname "$0")/lib.sh"
A=$ATTNBENCH
TB=${TEST_BUILD:-build}
ck="$tmp/tiny.bin"
tiny_checkpoint "$ck"

# decode FILE CONTEXT ARGS...: the header and one row into $tmp/FILE
decode() {
  f=$1 ctx=$2; shift 2
  timeout 120 "$A" decode --context "$ctx" --steps 8 --heads 4 --d-head 32 "$@" > "$tmp/$f" 2> "$tmp/err" ||
    fail "decode $f: exit $? ($(cat "$tmp/err"))"
}
decode e.csv 1016
decode h.csv 1016 --attention h2o --budget 64
decode h2.csv 2040 --attention h2o --budget 64
decode t.csv 1016 --attention tova --budget 64
ex=$(col cache_bytes "$tmp/e.csv") h=$(col cache_bytes "$tmp/h.csv") h2=$(col cache_bytes "$tmp/h2.csv")
[ -n "$ex" ] && [ -n "$h" ] || fail "decode: no cache_bytes (exact '$ex', h2o '$h')"
# 64 of 1024 keys (and 16 bytes of state a key): within 1.05 of 64 / 1024
awk -v e="$ex" -v h="$h" 'BEGIN { r = h / e; exit !(r >= 64 / 1024 && r <= 1.05 * 64 / 1024) }' ||
  fail "h2o cache_bytes $h is not about 64/1024 of exact's $ex"
[ "$h" = "$h2" ] || fail "h2o's cache grew with the context: $h, $h2"
[ "$(col status "$tmp/t.csv")" = ok ] && [ "$(col budget "$tmp/t.csv")" = 64 ] || fail "tova decode row: $(cat "$tmp/t.csv")"

# eval: dnll_beyond for a fixed token budget, exact snapkv, none for top-k
ev() {
  timeout 120 "$A" eval --llama2c "$ck" --n 32 --sequences 2 "$@" > "$tmp/ev.csv" 2> "$tmp/err" ||
    fail "eval $*: exit $? ($(cat "$tmp/err"))"
}
for p in "h2o --budget 8" "tova --budget 8" "snapkv --budget 8 --obs-window 4 --prompt 20" "window --sink 2 --window 6"; do
  ev --attention $p
  [ "$(col status "$tmp/ev.csv")" = ok ] && [ -n "$(col dnll_beyond "$tmp/ev.csv")" ] && [ -n "$(col cache_bytes "$tmp/ev.csv")" ] ||
    fail "eval $p: status '$(col status "$tmp/ev.csv")', dnll_beyond '$(col dnll_beyond "$tmp/ev.csv")'"
done
ev --attention snapkv --budget 8 --obs-window 4 --prompt 8
d=$(col dnll "$tmp/ev.csv")
fle "${d#-}" 1e-4 || fail "snapkv with the prompt within the budget: dnll $d, want 0"
ev --attention topk --k 4
[ -z "$(col dnll_beyond "$tmp/ev.csv")" ] || fail "top-k has no token budget, dnll_beyond '$(col dnll_beyond "$tmp/ev.csv")'"

# bad input: exit 2, one line, no row
bad() {
  name=$1 pat=$2; shift 2
  timeout 60 "$A" "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?
  [ $rc -eq 2 ] || fail "$name: exit $rc, want 2"
  [ ! -s "$tmp/out" ] || fail "$name: wrote a row"
  [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q -- "$pat" "$tmp/err" || fail "$name: stderr '$(cat "$tmp/err")', want one line with '$pat'"
}
bad "not causal" "causal" run --attention h2o --n 64 --budget 16
bad "mhe decode" "mhe-add" decode --attention tova --projection mhe-add --context 32 --steps 2
bad "recent over budget" "--recent 17" run --attention h2o --n 64 --budget 16 --recent 17 --causal
bad "window over budget" "--obs-window 20" decode --attention snapkv --budget 16 --obs-window 20 --context 32 --steps 2
# --cache-ratio sets the budget so the cache (its scores too) is at most R of exact's
for p in h2o tova; do
  "$A" decode --attention $p --cache-ratio 0.25 --context 1024 --steps 8 --heads 4 --d-head 32 > "$tmp/cr.csv" 2> "$tmp/err" ||
    fail "$p --cache-ratio 0.25: exit $?: $(cat "$tmp/err")"
  r=$(col cache_ratio "$tmp/cr.csv"); b=$(col budget "$tmp/cr.csv")
  fle "$r" 0.25 && fle 0.2 "$r" || fail "$p --cache-ratio 0.25: achieved '$r'"
  fle 200 "$b" || fail "$p --cache-ratio 0.25: budget '$b'"
done
finish

#!/bin/sh
# e2e_cache_ratio.sh — eval --cache-ratio R on the tests' tiny checkpoint
# (4 heads of 4, 2 K/V heads, 2 layers, n 32): per substituted layer the
# knobs are fitted so the layer's cache at n is at most R of the f32 cache
# of the checkpoint's 2 K/V heads at n (2 x 2 x 32 x 4 x 4 = 2048 bytes a
# layer), and every row with a cache gets cache_ratio = cache_bytes / that
# reference (all layers). The knobs, by hand (decode_fit_ratio's rule: B0 =
# min(n, floor(R / (bits / 32) x n)) rows; while the cache, rows and the
# entry's state, is over R x 2048, the rows shrink by (R x 2048 / cache) x
# 0.999 and B = floor(rows x n) again):
#   window 0.25: sink 4 + window 4 = 8 rows, 512 bytes: ratio 0.25;
#   tova 0.25: B0 7, B + 1 = 8 slots and a position each (+ 1) = 584 > 512,
#     rows x 0.8758 -> 7 tokens, budget 6 (7 x 64 + 8 x 8 = 512), ratio 0.25;
#   h2o 0.25: 8 rows + 2 floats of state a slot = 640 > 512, so rows x 0.7992
#     -> budget 6 (6 x 64 + 6 x 16 = 480 bytes a layer), ratio 0.234375;
#   h2o + q4_0 0.25: q4_0 at d_head 4 is 8 bits a value (a block of 4: 2
#     bytes of scale, 2 of quants), B0 = min(32, floor(0.25 / (8/32) x 32))
#     = 32; 32 x 16 + 32 x 16 = 1024 > 512, rows x 0.4995 -> budget 15
#     (15 x 16 + 15 x 16 = 480), ratio 0.234375;
#   gqa (--projection gqa, vanilla) 0.5: the largest K/V heads that fit, 1;
#     0.25: not even one K/V head fits, exit 2;
# and exit 2 (one line, no row) for an operator that cannot shrink (topk,
# vanilla, a format alone, the model's own attention) and for a knob the
# fit sets given beside it (--budget).
. "$(dirname "$0")/lib.sh"
A=$ATTNBENCH
ck="$tmp/tiny.bin"
tiny_checkpoint "$ck"
ev="eval --llama2c $ck --sequences 2"

# fitted NAME "ARGS" COLUMN=VALUE ...: the row of eval ARGS has those values
fitted() {
  name=$1 args=$2; shift 2
  # shellcheck disable=SC2086
  timeout 60 "$A" $ev $args > "$tmp/$name.csv" 2> "$tmp/err" || { fail "$name: exit $?: $(cat "$tmp/err")"; return; }
  for kv in "$@"; do
    got=$(col "${kv%%=*}" "$tmp/$name.csv")
    [ "$got" = "${kv#*=}" ] || fail "$name: ${kv%%=*} $got, want ${kv#*=}"
  done
  case "$args" in *--cache-ratio*) ;; *) return ;; esac
  fle "$(col cache_ratio "$tmp/$name.csv")" "${args##*--cache-ratio }" ||
    fail "$name: cache_ratio $(col cache_ratio "$tmp/$name.csv") over the one asked"
}

fitted window "--attention window --cache-ratio 0.25" sink=4 window=4 cache_bytes=1024 cache_ratio=0.25
fitted tova "--attention tova --cache-ratio 0.25" budget=6 cache_bytes=1024 cache_ratio=0.25
fitted h2o "--attention h2o --cache-ratio 0.25" budget=6 recent=3 cache_bytes=960 cache_ratio=0.234375
fitted h2o_q4 "--attention h2o --kv-format q4_0 --cache-ratio 0.25" budget=15 kv_format=q4_0 cache_bytes=960 cache_ratio=0.234375
fitted gqa "--attention vanilla --projection gqa --cache-ratio 0.5" kv_heads=1 cache_bytes=2048 cache_ratio=0.5
# the budget fitted is the one dnll_beyond starts after: the same row as --budget 6 given
fitted h2o6 "--attention h2o --budget 6" budget=6 cache_ratio=0.234375
[ "$(col dnll_beyond "$tmp/h2o.csv")" = "$(col dnll_beyond "$tmp/h2o6.csv")" ] && [ -n "$(col dnll_beyond "$tmp/h2o.csv")" ] ||
  fail "h2o fitted: dnll_beyond $(col dnll_beyond "$tmp/h2o.csv"), given --budget 6: $(col dnll_beyond "$tmp/h2o6.csv")"
# without --cache-ratio, a row with a cache still gets its ratio: vanilla holds the checkpoint's cache
timeout 60 "$A" $ev --attention vanilla > "$tmp/v.csv" 2> "$tmp/err" || fail "vanilla exit $?"
[ "$(col cache_ratio "$tmp/v.csv")" = 1 ] || fail "vanilla: cache_ratio $(col cache_ratio "$tmp/v.csv"), want 1"

refused "topk" "cannot shrink" $ev --attention topk --k 4 --cache-ratio 0.25
refused "vanilla" "cannot shrink" $ev --attention vanilla --cache-ratio 0.5
refused "a format alone" "cannot shrink" $ev --attention vanilla --kv-format q4_0 --cache-ratio 0.5
refused "model" "needs a substituted" $ev --cache-ratio 0.5
refused "gqa below one K/V head" "even one K/V head" $ev --attention vanilla --projection gqa --cache-ratio 0.25
refused "budget given" "sets --budget" $ev --attention h2o --budget 100 --cache-ratio 0.25
refused "non-positive" "must be positive" $ev --attention h2o --cache-ratio 0
finish

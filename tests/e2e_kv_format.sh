#!/bin/sh
# e2e_kv_format.sh — the cache format axis and equal memory end to end:
# decode's cache_bytes in q8_0 and q4_0 is exactly 34/128 and 18/128 of
# f32's at d_head 64 (8.5 and 4.5 bits_per_value, cache_ratio the same);
# every format of decode --help decodes; the refusals are one line and exit
# 2 with no row (a format that does not fit d_head, an unknown one, kivi's
# knobs with another format, kivi under the window's ring or with an
# eviction policy, --cache-ratio for an operator that cannot shrink its
# cache); h2o in q4_0 holds its budget's rows at q4_0's bytes; --cache-ratio
# fits the window (and, with q4_0, a window 32/4.5 times as long) and gqa's
# K/V heads, the
# achieved ratio at most the one asked; eval --kv-format f32 gives the
# prefill's nll (1e-5) and q8_0 a kv_format column and KL percentiles.
. "$(dirname "$0")/lib.sh"
A=$ATTNBENCH
small="--context 1024 --steps 4 --heads 4 --d-head 64 --warmup 0"

# ---- exact bytes -----------------------------------------------------------
for f in f32 q8_0 q4_0; do
  "$A" decode $small --kv-format $f > "$tmp/$f.csv" 2> "$tmp/err" || fail "$f exit $?: $(cat "$tmp/err")"
done
b32=$(col cache_bytes "$tmp/f32.csv")
[ "$(col cache_bytes "$tmp/q8_0.csv")" = $((b32 * 34 / 128)) ] && [ $((b32 * 34 % 128)) = 0 ] ||
  fail "q8_0 cache_bytes $(col cache_bytes "$tmp/q8_0.csv"), want 34/128 of $b32"
[ "$(col cache_bytes "$tmp/q4_0.csv")" = $((b32 * 18 / 128)) ] || fail "q4_0 cache_bytes $(col cache_bytes "$tmp/q4_0.csv"), want 18/128 of $b32"
[ "$(col bits_per_value "$tmp/q8_0.csv")" = 8.5 ] && [ "$(col bits_per_value "$tmp/q4_0.csv")" = 4.5 ] &&
  [ "$(col bits_per_value "$tmp/f32.csv")" = 32 ] || fail "bits_per_value $(col bits_per_value "$tmp/q8_0.csv") $(col bits_per_value "$tmp/q4_0.csv")"
[ "$(col cache_ratio "$tmp/q8_0.csv")" = 0.265625 ] && [ "$(col kv_format "$tmp/q4_0.csv")" = q4_0 ] ||
  fail "cache_ratio $(col cache_ratio "$tmp/q8_0.csv"), kv_format $(col kv_format "$tmp/q4_0.csv")"
# every format decodes and errs less than q4_0's bound
for f in $("$A" decode --help | awk '/^cache formats/ { on = 1; next } on && NF == 0 { on = 0 } on { print $1 }'); do
  "$A" decode $small --kv-format $f > "$tmp/any.csv" 2> "$tmp/err" || fail "$f exit $?: $(cat "$tmp/err")"
  [ "$(col status "$tmp/any.csv")" = ok ] && fle "$(col rel_err "$tmp/any.csv")" 0.3 || fail "$f: status $(col status "$tmp/any.csv") rel_err $(col rel_err "$tmp/any.csv")"
done
"$A" decode $small --kv-format kivi --bits 2 --kivi-group 16 --residual 32 > "$tmp/kivi.csv" 2> "$tmp/err" || fail "kivi exit $?"
[ "$(col kv_bits "$tmp/kivi.csv"),$(col kivi_group "$tmp/kivi.csv"),$(col residual "$tmp/kivi.csv")" = 2,16,32 ] || fail "kivi columns"

# ---- refusals: one line, exit 2, no row ----------------------------------------
refuse() { # refuse WHAT ARGS...: exit 2, one line naming WHAT, nothing on stdout
  what=$1; shift
  "$A" "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?
  [ $rc = 2 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l < "$tmp/err")" = 1 ] && grep -q -- "$what" "$tmp/err" ||
    fail "$*: exit $rc, stdout $(wc -c < "$tmp/out") bytes, stderr '$(cat "$tmp/err")'"
}
refuse "d_head 48" decode --context 64 --steps 2 --d-head 48 --kv-format q8_0
refuse "unknown --kv-format" decode --context 64 --steps 2 --kv-format q3
refuse "--bits" decode --context 64 --steps 2 --kv-format q8_0 --bits 2
refuse "--bits 3" decode --context 64 --steps 2 --kv-format kivi --bits 3
refuse "re-places or bounds" decode --context 64 --steps 2 --attention window --window 16 --kv-format kivi
refuse "no K/V cache" decode --context 64 --steps 2 --attention performer --kv-format f16
refuse "eviction policy keeps scattered" decode --context 64 --steps 2 --attention h2o --kv-format kivi
# a policy in a row format: budget rows at the format's bytes, its scores beside them
# (h2o, 4 K/V heads, B 64, q4_0 at d 64: 2 x 4 x 64 x 36 bytes + 4 x 4 x 2 x 64)
"$A" decode $small --attention h2o --budget 64 --kv-format q4_0 > "$tmp/h4.csv" 2> "$tmp/err" || fail "h2o q4_0 exit $?: $(cat "$tmp/err")"
[ "$(col cache_bytes "$tmp/h4.csv")" = 20480 ] && [ "$(col kv_format "$tmp/h4.csv")" = q4_0 ] || fail "h2o q4_0: cache_bytes $(col cache_bytes "$tmp/h4.csv")"
refuse "cannot shrink" decode --context 64 --steps 2 --cache-ratio 0.5
refuse "cannot shrink" decode --context 64 --steps 2 --attention topk --cache-ratio 0.5
refuse "sets --window" decode --context 256 --steps 2 --attention window --window 16 --cache-ratio 0.5

# ---- --cache-ratio ----------------------------------------------------------------
"$A" decode $small --attention window --cache-ratio 0.1 > "$tmp/w.csv" 2> "$tmp/err" || fail "window ratio exit $?: $(cat "$tmp/err")"
"$A" decode $small --attention window --cache-ratio 0.1 --kv-format q4_0 > "$tmp/w4.csv" 2> "$tmp/err" || fail "window q4_0 ratio exit $?: $(cat "$tmp/err")"
"$A" decode $small --projection gqa --cache-ratio 0.5 > "$tmp/g.csv" 2> "$tmp/err" || fail "gqa ratio exit $?: $(cat "$tmp/err")"
fle "$(col cache_ratio "$tmp/w.csv")" 0.1 && fle 0.09 "$(col cache_ratio "$tmp/w.csv")" || fail "window cache_ratio $(col cache_ratio "$tmp/w.csv")"
fle "$(col cache_ratio "$tmp/w4.csv")" 0.1 && fle 0.09 "$(col cache_ratio "$tmp/w4.csv")" || fail "window q4_0 cache_ratio $(col cache_ratio "$tmp/w4.csv")"
w=$(col window "$tmp/w.csv"); w4=$(col window "$tmp/w4.csv")
[ $(( (w4 + 4) * 45 / 320 )) -ge $(( w + 4 - 2 )) ] && [ "$w4" -gt "$w" ] || fail "window $w at f32, $w4 at q4_0 (want about 32/4.5 times)"
[ "$(col kv_heads "$tmp/g.csv")" = 2 ] && [ "$(col cache_ratio "$tmp/g.csv")" = 0.5 ] || fail "gqa: kv_heads $(col kv_heads "$tmp/g.csv") ratio $(col cache_ratio "$tmp/g.csv")"

# ---- eval: the decode path ------------------------------------------------------------
ck=data/stories260K.bin
if [ -f "$ck" ]; then
  ev="eval --llama2c $ck --attention vanilla --n 48 --sequences 2"
  "$A" $ev > "$tmp/e.csv" 2> "$tmp/err" || fail "eval exit $?: $(cat "$tmp/err")"
  "$A" $ev --kv-format f32 > "$tmp/e32.csv" 2> "$tmp/err" || fail "eval f32 exit $?: $(cat "$tmp/err")"
  "$A" $ev --kv-format q8_0 > "$tmp/e8.csv" 2> "$tmp/err" || fail "eval q8_0 exit $?: $(cat "$tmp/err")"
  awk -v a="$(col nll "$tmp/e.csv")" -v b="$(col nll "$tmp/e32.csv")" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-5) }' ||
    fail "eval nll prefill $(col nll "$tmp/e.csv"), decode path f32 $(col nll "$tmp/e32.csv")"
  [ "$(col kv_format "$tmp/e8.csv")" = q8_0 ] && [ -z "$(col kv_format "$tmp/e.csv")" ] && fle 0 "$(col kl_p99 "$tmp/e8.csv")" &&
    fle "$(col kl_p99 "$tmp/e8.csv")" "$(col kl_max "$tmp/e8.csv")" || fail "eval q8_0 columns"
  refuse "needs a substituted" eval --llama2c $ck --n 16 --sequences 1 --kv-format q8_0
  refuse "no K/V cache" eval --llama2c $ck --n 16 --sequences 1 --attention performer --kv-format q8_0
else
  fail "$ck missing"
fi
finish

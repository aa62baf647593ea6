#!/bin/sh
# e2e_eval.sh — `attnbench eval` end to end on a tiny random checkpoint
# (written by test_eval --write-ckpt): one row with the model-level columns;
# exact substitutions give dnll 0; a 2-D --tokens file; the planner's rows;
# bad input (a per-layer list of the wrong length, a layer out of range, a
# file that is not a tokenizer, a weight whose forward overflows float32, ...)
# exits 2 with one line and no row (a sweep of it: invalid rows, and analyze
# prints no NaN). With the real stories260K checkpoint present
# (data/stories260K.bin, or $ATTNBENCH_MODEL) also the issue's two acceptance
# commands, shortened, and the overflowing weight of the issue.
. "$(dirname "$0")/lib.sh"
A=$ATTNBENCH
TB=${TEST_BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
ck="$tmp/tiny.bin"
tiny_checkpoint "$ck"

# ok_row NAME ARGS...: exit 0, a header and one row, nothing on stderr
ok_row() {
  name=$1; shift
  "$A" eval --llama2c "$ck" "$@" > "$tmp/out.csv" 2> "$tmp/err" || fail "$name: exit $? ($(cat "$tmp/err"))"
  [ "$(wc -l < "$tmp/out.csv")" -eq 2 ] || fail "$name: $(wc -l < "$tmp/out.csv") lines, want a header and one row"
  [ ! -s "$tmp/err" ] || fail "$name: stderr: $(cat "$tmp/err")"
}
# bad NAME PATTERN ARGS...: exit 2, one line naming the problem, no row
bad() { name=$1 pat=$2; shift 2; refused "$name" "$pat" eval "$@"; }

ok_row chunked --attention chunked --sequences 3 --n 20 --chunk 7
[ "$(col regime "$tmp/out.csv")" = model ] || fail "regime $(col regime "$tmp/out.csv")"
[ "$(col sequences "$tmp/out.csv")" = 3 ] && [ "$(col n "$tmp/out.csv")" = 20 ] || fail "sequences/n wrong"
d=$(col dnll "$tmp/out.csv"); fle "${d#-}" 1e-5 || fail "chunked dnll $d"
[ "$(col kv_heads "$tmp/out.csv")" = 2 ] && [ "$(col projection "$tmp/out.csv")" = gqa ] || fail "default projection not the checkpoint's gqa"
[ "$(col cache_bytes "$tmp/out.csv")" = $((2 * 2 * 4 * 4 * 20 * 2)) ] || fail "cache_bytes $(col cache_bytes "$tmp/out.csv")"
rel=$(col layer_rel_err "$tmp/out.csv"); case "$rel" in *\;*) ;; *) fail "layer_rel_err '$rel' is not one per layer";; esac

ok_row "topk k = n" --attention topk --k 20 --n 20 --sequences 2
d=$(col dnll "$tmp/out.csv"); fle "${d#-}" 1e-5 || fail "topk k = n: dnll $d"
ok_row "topk per layer" --attention topk --k 2,20 --n 20 --sequences 2 --generate 4
[ "$(col k "$tmp/out.csv")" = "2;20" ] || fail "per-layer k column '$(col k "$tmp/out.csv")'"
[ "$(col gen_tokens "$tmp/out.csv")" = 4 ] && [ -n "$(col gen_match "$tmp/out.csv")" ] || fail "generation columns empty"
ok_row "layer 1" --attention topk --k 2 --layers 1 --n 20 --sequences 2
[ "$(col layers "$tmp/out.csv")" = 1 ] || fail "layers column '$(col layers "$tmp/out.csv")'"
ok_row mqa --attention chunked --projection mqa --n 20 --sequences 2
[ "$(col kv_heads "$tmp/out.csv")" = 1 ] || fail "mqa kv_heads"
d=$(col dnll "$tmp/out.csv"); fle 1e-6 "${d#-}" || fail "mqa changed nothing: dnll $d"

PY=$(numpy_python)
if [ -n "$PY" ]; then
  "$PY" -c "import numpy as np; np.save('$tmp/t.npy', (np.arange(48).reshape(3, 16) * 7 % 32).astype(np.int32))"
  ok_row "2-D tokens" --attention chunked --tokens "$tmp/t.npy" --sequences 2
  [ "$(col sequences "$tmp/out.csv")" = 2 ] && [ "$(col n "$tmp/out.csv")" = 16 ] || fail "2-D tokens: wrong shape"
fi

# the planner: 2 layers x ladder 4, 8, 16 (<= n 16) sensitivity rows, the plan, uniform rows
"$A" eval --llama2c "$ck" --attention topk --target-dnll 0.01 --n 16 --sequences 2 > "$tmp/plan.csv" 2> "$tmp/err" || fail "planner: $(cat "$tmp/err")"
grep -c 'plan sensitivity' "$tmp/plan.csv" | grep -qx 6 || fail "planner: not 6 sensitivity rows"
grep -q 'plan per-layer' "$tmp/plan.csv" && grep -q 'plan uniform' "$tmp/plan.csv" || fail "planner: no plan or uniform row"
[ "$(grep -c '^layer,' "$tmp/plan.csv")" -eq 1 ] || fail "planner: more than one header"

# a sweep of eval points resumes: run twice, the second has nothing to do
# (the planned row's identity, from the checkpoint's header, is the row's)
printf '[m]\ncommand eval\nllama2c %s\nn 16\nsequences 1\nattention model\nffn topk\nffn-k 4\n' "$ck" > "$tmp/e.sweep"
printf '[m2]\ncommand eval\nllama2c %s\nn 16\nsequences 1\nattention topk chunked\nprojection gqa mqa mhe-mul\nk 4\nlayers 0 1\n' "$ck" >> "$tmp/e.sweep"
printf '[m3]\ncommand eval\nllama2c %s\nn 16\nsequences 2\nattention window performer\ngenerate 4\n' "$ck" >> "$tmp/e.sweep"
"$A" sweep "$tmp/e.sweep" --out "$tmp/es.csv" > /dev/null 2> "$tmp/err" || fail "eval sweep: exit $?: $(cat "$tmp/err")"
"$A" sweep "$tmp/e.sweep" --out "$tmp/es.csv" > /dev/null 2> "$tmp/err" || fail "eval sweep again: exit $?: $(cat "$tmp/err")"
grep -q ', 0 to go' "$tmp/err" || fail "eval sweep resumed nothing: $(grep 'to go' "$tmp/err")"
! grep -q 'other knobs' "$tmp/err" || fail "eval sweep: $(grep -m1 'other knobs' "$tmp/err")"
[ "$(wc -l < "$tmp/es.csv")" -eq 16 ] || fail "eval sweep: $(wc -l < "$tmp/es.csv") lines, want 16 (each of 15 points once)"

bad "k list length" "3 values for 2 substituted layers" --llama2c "$ck" --attention topk --k 8,16,32
bad "layer range" "out of range" --llama2c "$ck" --attention topk --layers 0,2
bad "layer twice" "listed twice" --llama2c "$ck" --attention topk --layers 1,1
bad "knob of another operator" "does not apply" --llama2c "$ck" --attention performer --k 8
bad "k > n" "larger than" --llama2c "$ck" --attention topk --k 30 --n 20
bad "unknown attention" "unknown --attention" --llama2c "$ck" --attention nope
bad "kv-heads" "must divide" --llama2c "$ck" --attention chunked --projection gqa --kv-heads 3
bad "no checkpoint" "required" --attention topk
bad "not a checkpoint" "--llama2c" --llama2c /dev/null
bad "generate" "--generate" --llama2c "$ck" --generate 40 --n 20
head -c 500 /dev/urandom > "$tmp/junk.bin"
echo "once upon a time" > "$tmp/story.txt"
bad "not a tokenizer" "not a llama2.c tokenizer" --llama2c "$ck" --text "$tmp/story.txt" --tokenizer "$tmp/junk.bin"
bad "tokenizer FIFO" "not a regular file" --llama2c "$ck" --text "$tmp/story.txt" --tokenizer /dev/zero
bad "text alone" "go together" --llama2c "$ck" --text "$tmp/story.txt"
bad "planner operator" "needs --attention topk" --llama2c "$ck" --target-dnll 0.01

# ---- a finite weight whose forward overflows (the issue: eval called its
# NaN row `ok`, nll -nan, kl 0, top1 1; capture refused the same file) ----
# plant IN OUT INDEX BYTES: IN with float INDEX after the header set to BYTES
# (printf escapes of a little-endian float32: 3e38 or 1e30)
plant() {
  cp "$1" "$2" && printf "$4" | dd of="$2" bs=1 seek=$((28 + 4 * $3)) conv=notrunc 2> /dev/null
}
e3e38='\346\261\141\177' e1e30='\312\362\111\161'
wk0=$((32 * 16 + 2 * 16 + 2 * 16 * 16)) # tiny's wk[0][0]
plant "$ck" "$tmp/big.bin" $wk0 "$e3e38"
bad "exact forward overflows" "sequence 0: layer 1's k is not finite at position 0: the checkpoint's values overflow float32" \
  --llama2c "$tmp/big.bin" --n 16 --sequences 2
bad "exact forward overflows (topk)" "the exact model's own forward" --llama2c "$tmp/big.bin" --attention topk --k 4 --n 16 --sequences 2
# inside a sweep: the points are invalid rows, and analyze leaves the
# checkpoint out rather than print "exact NLL -nan"
printf '[big]\ncommand eval\nllama2c %s\nn 16\nsequences 2\nattention model topk\nk 4\n' "$tmp/big.bin" > "$tmp/big.sweep"
printf '[tiny]\ncommand eval\nllama2c %s\nn 16\nsequences 2\nattention model topk\nk 4\n' "$ck" >> "$tmp/big.sweep"
"$A" sweep "$tmp/big.sweep" --out "$tmp/big.csv" > /dev/null 2> "$tmp/err" || fail "overflow sweep: exit $?: $(cat "$tmp/err")"
[ "$(grep -c ',invalid,' "$tmp/big.csv")" -eq 2 ] && [ "$(grep -c ',ok,' "$tmp/big.csv")" -eq 2 ] ||
  fail "overflow sweep: want 2 invalid and 2 ok rows: $(cut -d, -f16,19 "$tmp/big.csv" | tr '\n' ' ')"
grep -Eqi '(^|[,;])-?(nan|inf)([,;]|$)' "$tmp/big.csv" && fail "overflow sweep: a NaN in the rows: $(grep -i -m1 nan "$tmp/big.csv")"
"$A" analyze "$tmp/big.csv" --out "$tmp/big-an" > /dev/null 2> "$tmp/err" || fail "analyze: exit $?: $(cat "$tmp/err")"
grep -q 'exact NLL [-]*nan' "$tmp/big-an/summary.md" && fail "analyze: $(grep -m1 'exact NLL [-]*nan' "$tmp/big-an/summary.md")"
grep -q '^### tiny (n 16, 2 sequences, exact NLL [0-9]' "$tmp/big-an/summary.md" || fail "analyze: no section of the good checkpoint"
grep -q '^### big ' "$tmp/big-an/summary.md" && fail "analyze: a section of the checkpoint without an ok row"
# the exact forward finite, the substituted one not (Performer's features
# overflow on a k of 1e30): the row every command's rows pass through
# (row_check_finite) calls it nonfinite, naming the columns; exit 0
plant "$ck" "$tmp/big30.bin" $wk0 "$e1e30"
"$A" eval --llama2c "$tmp/big30.bin" --attention performer --n 16 --sequences 2 > "$tmp/out.csv" 2> "$tmp/err" ||
  fail "performer on a k of 1e30: exit $? ($(cat "$tmp/err"))"
[ "$(col status "$tmp/out.csv")" = nonfinite ] || fail "performer on a k of 1e30: status '$(col status "$tmp/out.csv")'"
grep -q '"not finite: nll -*nan, dnll -*nan, kl -*nan, layer_rel_err [^;]*;[^;]*; exact nll 0\.' "$tmp/out.csv" ||
  fail "performer on a k of 1e30: note: $(tail -n 1 "$tmp/out.csv")"

# the real checkpoint, shortened: one row each (data/stories260K.bin, or $ATTNBENCH_MODEL)
model=${ATTNBENCH_MODEL:-$root/data/stories260K.bin}
[ -f "$model" ] || fail "no checkpoint $model (data/ ships it)"
if [ -f "$model" ]; then
  # the issue's command: one weight of 3e38 in layer 0's wk
  plant "$model" "$tmp/one_big.bin" $((512 * 64 + 5 * 64 + 5 * 64 * 64)) "$e3e38"
  bad "stories260K with a weight of 3e38" "layer 0's k is not finite at position 2" --llama2c "$tmp/one_big.bin" --n 32 --sequences 2
  "$A" eval --llama2c "$model" --attention topk --k 32 --sequences 2 --n 128 > "$tmp/real.csv" || fail "real topk"
  [ "$(wc -l < "$tmp/real.csv")" -eq 2 ] || fail "real topk: not one row"
  for c in nll dnll dnll_se kl top1; do [ -n "$(col $c "$tmp/real.csv")" ] || fail "real topk: empty $c"; done
  "$A" eval --llama2c "$model" --attention chunked --sequences 2 --n 128 > "$tmp/real.csv" || fail "real chunked"
  d=$(col dnll "$tmp/real.csv"); fle "${d#-}" 1e-5 || fail "real chunked: dnll $d"
fi
finish

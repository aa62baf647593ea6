#!/bin/sh
# e2e_eval.sh — `attnbench eval` end to end on a tiny random checkpoint
# (written by test_eval --write-ckpt): one row with the model-level columns;
# exact substitutions give dnll 0; a 2-D --tokens file; the planner's rows;
# bad input (a per-layer list of the wrong length, a layer out of range, a
# file that is not a tokenizer, ...) exits 2 with one line and no row. With
# the real stories260K checkpoint present (data/ of the repository, or
# $ATTNBENCH_MODEL) also the issue's two acceptance commands, shortened.
. "$(dirname "$0")/lib.sh"
A=$ATTNBENCH
TB=${TEST_BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
ck="$tmp/tiny.bin"
"$TB/tests/test_eval" --write-ckpt "$ck" || { echo "skip: no $TB/tests/test_eval to write the checkpoint"; exit 77; }

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

# the real checkpoint, shortened: one row each
model=${ATTNBENCH_MODEL:-$root/data/stories260K.bin}
[ -f "$model" ] || fail "no checkpoint $model (data/ ships it)"
if [ -f "$model" ]; then
  "$A" eval --llama2c "$model" --attention topk --k 32 --sequences 2 --n 128 > "$tmp/real.csv" || fail "real topk"
  [ "$(wc -l < "$tmp/real.csv")" -eq 2 ] || fail "real topk: not one row"
  for c in nll dnll dnll_se kl top1; do [ -n "$(col $c "$tmp/real.csv")" ] || fail "real topk: empty $c"; done
  "$A" eval --llama2c "$model" --attention chunked --sequences 2 --n 128 > "$tmp/real.csv" || fail "real chunked"
  d=$(col dnll "$tmp/real.csv"); fle "${d#-}" 1e-5 || fail "real chunked: dnll $d"
fi
finish

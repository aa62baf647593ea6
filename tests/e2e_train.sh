#!/bin/sh
# e2e_train.sh — `attnbench train` end to end on a tiny random checkpoint
# (test_eval --write-ckpt): for mqa, gqa, mhe-add, mhe-mul one row (regime
# model, the train_* columns), distillation lowers the held-out dnll and kl,
# the curve CSV, the conversion at the checkpoint's own grouping is the
# checkpoint (dnll_before 0); --out FILE: `eval --llama2c FILE` on the
# held-out sequences gives the student's nll (the MHE sidecar found by
# itself; a stale one refused; a grouped student removes one), an MQA file
# has n_kv_heads 1, and an independent NumPy reader of the llama2.c file
# (tests/llama2c_nll.py) gives eval's nll; --tokens splits held-out and
# training rows; bad input exits 2 with one line and no row. With
# data/babyllama105.bin (shipped; a missing one fails) the issue's check:
# an uptrained MQA student's dnll by eval at most half the conversion's.
. "$(dirname "$0")/lib.sh"
A=$ATTNBENCH
TB=${TEST_BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
ck="$tmp/tiny.bin"
tiny_checkpoint "$ck"
PY=$(numpy_python)
[ -n "$PY" ] || { echo "skip: no python3 with NumPy"; exit 77; }

# field NAME FILE: column NAME of the first data row (quoted fields allowed)
field() { "$PY" -c "import csv, sys; print(next(csv.DictReader(open(sys.argv[2])))[sys.argv[1]])" "$1" "$2"; }
# close A B REL: |A - B| <= REL |B|
close() { awk -v a="$1" -v b="$2" -v r="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b; exit !(d <= r * m) }'; }
# kv_of FILE: the n_kv_heads field of a llama2.c header
kv_of() { "$PY" -c "import numpy as np, sys; print(np.fromfile(sys.argv[1], dtype=np.int32, count=7)[4])" "$1"; }

common="--n 16 --sequences 3 --train-sequences 8 --train-batch 4 --lr 1e-2 --cache $tmp/cache"
for p in mqa gqa mhe-add mhe-mul; do
  timeout 120 "$A" train --llama2c "$ck" --projection "$p" $common --train-steps 12 --out "$tmp/s-$p.bin" --curve "$tmp/c-$p.csv" \
    > "$tmp/t-$p.csv" 2> "$tmp/err" || { fail "$p: exit $? ($(tail -n 3 "$tmp/err"))"; continue; }
  [ "$(wc -l < "$tmp/t-$p.csv")" -eq 2 ] || fail "$p: not a header and one row"
  [ "$(field regime "$tmp/t-$p.csv")" = model ] && [ "$(field projection "$tmp/t-$p.csv")" = "$p" ] || fail "$p: regime/projection"
  [ "$(field train_steps "$tmp/t-$p.csv")" = 12 ] && [ "$(field train_tokens "$tmp/t-$p.csv")" = $((12 * 4 * 16)) ] ||
    fail "$p: train_steps/train_tokens $(field train_steps "$tmp/t-$p.csv") $(field train_tokens "$tmp/t-$p.csv")"
  grep -q 'step 12/12' "$tmp/err" || fail "$p: no progress line for the last step on stderr"
  [ "$(head -n 1 "$tmp/c-$p.csv")" = "step,tokens,loss,eval_dnll,eval_kl" ] || fail "$p: curve header"
  [ "$(sed -n 2p "$tmp/c-$p.csv" | cut -d, -f1-3)" = "0,0," ] || fail "$p: the curve's first row is not step 0"
  [ "$(cut -d, -f1 "$tmp/c-$p.csv" | tr '\n' ' ')" = "step 0 2 4 6 8 10 12 " ] ||
    fail "$p: the curve's steps $(cut -d, -f1 "$tmp/c-$p.csv" | tr '\n' ' '), want every 2 (a tenth of 12, rounded up)"
  before=$(field dnll_before "$tmp/t-$p.csv") after=$(field dnll "$tmp/t-$p.csv")
  klb=$(field kl_before "$tmp/t-$p.csv") kla=$(field kl "$tmp/t-$p.csv")
  # eval of the written student on the held-out sequences: the student's nll
  held=$(ls "$tmp"/cache/*heldout3.npy)
  timeout 60 "$A" eval --llama2c "$tmp/s-$p.bin" --tokens "$held" > "$tmp/e.csv" 2> "$tmp/err" || fail "$p: eval of --out: $(cat "$tmp/err")"
  close "$(field nll "$tmp/e.csv")" "$(field nll "$tmp/t-$p.csv")" 1e-5 ||
    fail "$p: eval of the written student nll $(field nll "$tmp/e.csv"), the student in memory $(field nll "$tmp/t-$p.csv")"
  if [ "$p" = gqa ]; then
    fle "${before#-}" 1e-5 || fail "gqa at the checkpoint's own K/V heads: dnll_before $before, not the checkpoint"
  else
    fle "$after" "$before" && fle "$kla" "$klb" || fail "$p: training raised dnll $before -> $after or kl $klb -> $kla"
  fi
done
[ "$(kv_of "$tmp/s-mqa.bin")" = 1 ] || fail "mqa: n_kv_heads $(kv_of "$tmp/s-mqa.bin"), want 1"
[ "$(kv_of "$tmp/s-gqa.bin")" = 2 ] || fail "gqa: n_kv_heads $(kv_of "$tmp/s-gqa.bin"), want the checkpoint's 2"
[ -s "$tmp/s-mhe-add.bin.mhe" ] && [ -s "$tmp/s-mhe-mul.bin.mhe" ] || fail "no MHE sidecar beside the written file"

# an independent reader of the plain llama2.c file: eval's nll (mhe-mul needs no sidecar either)
for p in mqa mhe-mul; do
  "$A" eval --llama2c "$tmp/s-$p.bin" --tokens "$held" > "$tmp/e.csv" 2>/dev/null
  np=$("$PY" "$root/tests/llama2c_nll.py" "$tmp/s-$p.bin" "$held") || fail "llama2c_nll.py $p failed"
  close "$np" "$(field nll "$tmp/e.csv")" 1e-4 || fail "$p: NumPy reader nll $np, eval $(field nll "$tmp/e.csv")"
done

# a stale sidecar is refused; a grouped student written over an MHE one takes its sidecar away
cp "$tmp/s-mhe-add.bin.mhe" "$tmp/s-mhe-mul.bin.mhe"
"$A" eval --llama2c "$tmp/s-mhe-mul.bin" --tokens "$held" > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'stale sidecar' "$tmp/err" && [ ! -s "$tmp/out" ] || fail "stale sidecar: exit $rc, $(cat "$tmp/err")"
"$A" train --llama2c "$ck" --projection mqa $common --train-steps 1 --out "$tmp/s-mhe-mul.bin" > /dev/null 2>&1 || fail "mqa over mhe: exit $?"
[ ! -e "$tmp/s-mhe-mul.bin.mhe" ] || fail "the replaced file's sidecar is still there"

# --tokens: the first --sequences rows held out, the rest train
"$PY" -c "import numpy as np; np.save('$tmp/t.npy', (np.arange(96).reshape(6, 16) * 7 % 32).astype(np.int32))"
"$A" train --llama2c "$ck" --projection mqa --tokens "$tmp/t.npy" --sequences 2 --train-steps 2 > "$tmp/tt.csv" 2> "$tmp/err" ||
  fail "--tokens: exit $? $(cat "$tmp/err")"
[ "$(field sequences "$tmp/tt.csv")" = 2 ] && field note "$tmp/tt.csv" | grep -q 'the first 2 held out, the next 4 train' ||
  fail "--tokens split: $(field note "$tmp/tt.csv")"

# bad NAME PATTERN ARGS...: exit 2, one line naming the problem, no row
bad() { name=$1 pat=$2; shift 2; refused "$name" "$pat" train "$@"; }
bad "no projection" "--projection is required" --llama2c "$ck"
bad "no checkpoint" "--llama2c CHECKPOINT is required" --projection mqa
bad "loss" "kl, ce or mix" --llama2c "$ck" --projection mqa --loss l2
bad "trainable" "attention or all" --llama2c "$ck" --projection mqa --trainable ffn
bad "kv-heads" "must divide" --llama2c "$ck" --projection gqa --kv-heads 3
bad "kv-heads of mqa" "does not apply" --llama2c "$ck" --projection mqa --kv-heads 2
bad "warmup" "exceeds" --llama2c "$ck" --projection mqa --train-steps 4 --warmup-steps 5
bad "lr" "must be positive" --llama2c "$ck" --projection mqa --lr 0
bad "cache with tokens" "sampled sequences only" --llama2c "$ck" --projection mqa --tokens "$tmp/t.npy" --cache "$tmp/c2"
bad "too few rows" "none left to train" --llama2c "$ck" --projection mqa --tokens "$tmp/t.npy" --sequences 6
bad "an MHE student as teacher" "sidecar" --llama2c "$tmp/s-mhe-add.bin" --projection mqa

# the issue's check on the shipped checkpoint: uptrained MQA halves (at least) the conversion's dnll, by eval
bl="$root/data/babyllama105.bin"
if [ ! -f "$bl" ]; then fail "no $bl (it ships with the repository)"; finish; fi
timeout 300 "$A" train --llama2c "$bl" --projection mqa --n 128 --train-steps 40 --lr 3e-3 --train-sequences 64 \
  --cache "$tmp/bc" --out "$tmp/bl-mqa.bin" > "$tmp/bt.csv" 2> "$tmp/err" || { fail "babyllama mqa: exit $? $(tail -n 2 "$tmp/err")"; finish; }
hb=$(ls "$tmp"/bc/*heldout8.npy)
"$A" eval --llama2c "$bl" --tokens "$hb" > "$tmp/teacher.csv" 2>/dev/null
"$A" eval --llama2c "$bl" --tokens "$hb" --projection mqa > "$tmp/conv.csv" 2>/dev/null
"$A" eval --llama2c "$tmp/bl-mqa.bin" --tokens "$hb" > "$tmp/student.csv" 2>/dev/null
[ "$(kv_of "$tmp/bl-mqa.bin")" = 1 ] || fail "babyllama mqa: n_kv_heads $(kv_of "$tmp/bl-mqa.bin")"
conv=$(field dnll "$tmp/conv.csv")
trained=$(awk -v s="$(field nll "$tmp/student.csv")" -v t="$(field nll "$tmp/teacher.csv")" 'BEGIN { print s - t }')
close "$conv" "$(field dnll_before "$tmp/bt.csv")" 1e-4 || fail "train's dnll_before $(field dnll_before "$tmp/bt.csv") is not eval's mqa dnll $conv"
fle "$trained" "$(awk -v c="$conv" 'BEGIN { print c / 2 }')" || fail "babyllama mqa: uptrained dnll $trained > half the conversion's $conv"
np=$("$PY" "$root/tests/llama2c_nll.py" "$tmp/bl-mqa.bin" "$hb")
close "$np" "$(field nll "$tmp/student.csv")" 1e-4 || fail "babyllama mqa: NumPy reader nll $np, eval $(field nll "$tmp/student.csv")"
echo "babyllama105 mqa: conversion dnll $conv, uptrained $trained (40 steps of 8 x 128 tokens)"
finish

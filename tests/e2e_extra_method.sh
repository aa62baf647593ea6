#!/bin/sh
# e2e_extra_method.sh — adding an attention operator is one file and its
# table line: builds the program with tests/extra_op.c (the operator, with a
# decode entry) and tests/extra_op.h (its line in attn_methods[]), nothing
# else edited, and shows "extraop" in run (and run --help), decode, eval, a
# sweep's point keys and analyze's tables. Without the extra files the same
# commands refuse the name (the build under test does not know it).
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
A=$ATTNBENCH
# one build proves the wiring; under the ASan pass of make test the normal pass has run it
if grep -q __asan_init "$A" 2> /dev/null; then echo "note: the extra operator is built and checked in the normal pass"; finish; fi
b=$tmp/build
# the normal flags, and the extra operator
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$root" BUILD="$b" EXTRA_SRCS=tests/extra_op.c \
  CFLAGS="-O2 -march=native -g -DATTN_EXTRA_METHOD='\"$root/tests/extra_op.h\"'" "$b/attnbench" > "$tmp/make.log" 2>&1 ||
  { fail "build with the extra operator: $(tail -n 5 "$tmp/make.log")"; finish; }
X=$b/attnbench
"$X" run --help | grep -q '^  extraop ' || fail "run --help does not list extraop"
"$A" run --attention extraop --n 64 > /dev/null 2>&1 && fail "the build under test knows extraop: the test proves nothing"

# run: a row of its own, exact attention's error
"$X" run --attention extraop --n 64 --heads 2 --d-head 16 --reps 1 --warmup 0 > "$tmp/run.csv" 2> "$tmp/err" ||
  fail "run: exit $?: $(cat "$tmp/err")"
[ "$(col attention "$tmp/run.csv")" = extraop ] || fail "run: attention '$(col attention "$tmp/run.csv")'"
fle "$(col rel_err "$tmp/run.csv")" 1e-5 || fail "run: rel_err $(col rel_err "$tmp/run.csv")"
# decode: its own entry's name in the row, a growing cache
"$X" decode --attention extraop --context 64 --steps 4 --heads 2 --d-head 16 > "$tmp/dec.csv" 2> "$tmp/err" ||
  fail "decode: exit $?: $(cat "$tmp/err")"
[ "$(col attention "$tmp/dec.csv")" = extraop ] || fail "decode: attention '$(col attention "$tmp/dec.csv")'"
fle "$(col rel_err "$tmp/dec.csv")" 1e-5 || fail "decode: rel_err $(col rel_err "$tmp/dec.csv")"
# eval: inside the model, the exact model again, with the cache its entry holds
model=${ATTNBENCH_MODEL:-$root/data/stories260K.bin}
"$X" eval --llama2c "$model" --attention extraop --n 32 --sequences 2 > "$tmp/ev.csv" 2> "$tmp/err" ||
  fail "eval: exit $?: $(cat "$tmp/err")"
[ "$(col attention "$tmp/ev.csv")" = extraop ] || fail "eval: attention '$(col attention "$tmp/ev.csv")'"
d=$(col dnll "$tmp/ev.csv"); fle "${d#-}" 1e-4 || fail "eval: dnll $d"
[ -n "$(col cache_bytes "$tmp/ev.csv")" ] || fail "eval: no cache_bytes from its decode entry"
# a sweep crosses it beside chunked; its points have keys of their own; analyze names it
cat > "$tmp/x.sweep" <<EOF
heads 2
d-head 16
reps 1
warmup 0
[extra]
attention extraop chunked
n 64 128
EOF
"$X" sweep "$tmp/x.sweep" --out "$tmp/x.csv" > /dev/null 2> "$tmp/err" || fail "sweep: exit $?: $(cat "$tmp/err")"
[ "$(grep -c ',extraop,' "$tmp/x.csv")" -eq 2 ] || fail "sweep: not 2 extraop rows"
"$X" point-key "$tmp/x.csv" > "$tmp/keys" 2> "$tmp/err" || fail "point-key: exit $?: $(cat "$tmp/err")"
[ "$(sort -u "$tmp/keys" | wc -l)" -eq 4 ] || fail "point-key: 4 points do not have 4 keys: $(cat "$tmp/keys")"
grep -q extraop "$tmp/keys" || fail "point-key: no key names extraop"
"$X" analyze "$tmp/x.csv" --out "$tmp/an" > /dev/null 2> "$tmp/err" || fail "analyze: exit $?: $(cat "$tmp/err")"
grep -q extraop "$tmp/an/summary.md" || fail "analyze: summary.md does not name extraop"
finish

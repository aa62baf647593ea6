#!/bin/sh
# e2e_window.sh — `attnbench run --attention window` end to end, from its
# table line alone: with sink + window >= n (causal) it is exact attention
# and its output equals chunked's (rel 1e-6, by --dump); otherwise the row
# reports the kept mass in topk_mass (in (0, 1)) and its sink and window
# columns; the defaults come from the operator (sink 4, window 256);
# --window 0 is exit 2 with no row; --sink with another operator is exit 2
# naming both; --help lists the operator and its options.
. "$(dirname "$0")/lib.sh"
A=$ATTNBENCH
small="--n 2048 --heads 2 --d-head 32 --causal --reps 1 --warmup 0"

# ---- sink + window >= n: exact, equal to chunked ---------------------------
"$A" run --attention window --sink 4 --window 2044 $small --dump "$tmp/w" > "$tmp/w.csv" 2> "$tmp/err" ||
  fail "window exact exit $?: $(cat "$tmp/err")"
"$A" run --attention chunked $small --dump "$tmp/c" > "$tmp/c.csv" 2> "$tmp/err" || fail "chunked exit $?: $(cat "$tmp/err")"
[ "$(col status "$tmp/w.csv")" = ok ] || fail "window status $(col status "$tmp/w.csv")"
[ "$(col sink "$tmp/w.csv")" = 4 ] && [ "$(col window "$tmp/w.csv")" = 2044 ] ||
  fail "sink/window columns '$(col sink "$tmp/w.csv")' '$(col window "$tmp/w.csv")'"
[ -z "$(col k "$tmp/w.csv")$(col chunk "$tmp/w.csv")$(col features "$tmp/w.csv")" ] || fail "window row fills other methods' knobs"
fle "$(col topk_mass "$tmp/w.csv")" 1.0000001 && fle 0.9999999 "$(col topk_mass "$tmp/w.csv")" ||
  fail "kept mass at the exact limit $(col topk_mass "$tmp/w.csv"), want 1"
PY=$(numpy_python)
if [ -n "$PY" ]; then
  rel=$("$PY" -c 'import numpy as np, sys; a = np.load(sys.argv[1]).astype(np.float64); b = np.load(sys.argv[2]).astype(np.float64)
print("%.3g" % (np.linalg.norm(a - b) / np.linalg.norm(b)))' "$tmp/w/out.npy" "$tmp/c/out.npy") || fail "compare outputs"
  fle "$rel" 1e-6 || fail "window (sink 4 + window 2044 >= n) vs chunked: rel $rel > 1e-6"
else
  echo "e2e_window: no numpy; comparing the rel_err columns only" >&2
fi
rw=$(col rel_err "$tmp/w.csv"); rc=$(col rel_err "$tmp/c.csv")
awk -v a="$rw" -v b="$rc" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-6) }' ||
  fail "rel_err window $rw vs chunked $rc"

# ---- sink 4 + window 60 < n: the kept mass is reported ---------------------
"$A" run --attention window --sink 4 --window 60 $small > "$tmp/m.csv" 2> "$tmp/err" || fail "window 60 exit $?: $(cat "$tmp/err")"
m=$(col topk_mass "$tmp/m.csv")
fle 1e-6 "$m" && fle "$m" 0.999 || fail "kept mass '$m' not in (0, 1)"
fle 0.01 "$(col rel_err "$tmp/m.csv")" || fail "window 60: rel_err $(col rel_err "$tmp/m.csv") suspiciously small"

# ---- defaults are the operator's --------------------------------------------
"$A" run --attention window --n 300 --heads 2 --d-head 16 --reps 1 --warmup 0 > "$tmp/d.csv" 2> "$tmp/err" || fail "defaults exit $?"
[ "$(col sink "$tmp/d.csv")" = 4 ] && [ "$(col window "$tmp/d.csv")" = 256 ] ||
  fail "default sink/window '$(col sink "$tmp/d.csv")' '$(col window "$tmp/d.csv")', want 4 256"

# ---- bad input: exit 2, one line, no row -------------------------------------
"$A" run --attention window --window 0 --n 64 > "$tmp/o" 2> "$tmp/err"; rc=$?
[ "$rc" -eq 2 ] || fail "--window 0: exit $rc, want 2"
[ ! -s "$tmp/o" ] && [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q -- "--window" "$tmp/err" || fail "--window 0: $(cat "$tmp/err")"
for op in topk chunked performer vanilla; do
  "$A" run --attention $op --sink 4 --n 64 > "$tmp/o" 2> "$tmp/err"; rc=$?
  [ "$rc" -eq 2 ] || fail "--sink with $op: exit $rc, want 2"
  grep -q -- "--sink is not read by --attention $op" "$tmp/err" || fail "--sink with $op: '$(cat "$tmp/err")'"
  [ ! -s "$tmp/o" ] || fail "--sink with $op wrote a row"
done

# ---- --help ------------------------------------------------------------------
"$A" run --help > "$tmp/h"
grep -q "^  window " "$tmp/h" && grep -q -- "--sink N" "$tmp/h" && grep -q -- "--window N" "$tmp/h" ||
  fail "run --help lacks the window operator or its options"
finish

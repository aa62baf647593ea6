#!/bin/sh
# e2e_make_sweep.sh — `make sweep` itself, as a user runs it: with MODEL and
# the quick spec into OUT, the capture, the sweep, the summary and every
# figure; then OUT as a clean clone holds it (real/ with capture.txt only:
# the captured tensors are not in git) and `make sweep RESUME=1` again: the
# capture is made anew, the sweep finds every point done, and nothing fails.
# Uses make's BUILD of the binary under test ($ATTNBENCH); skips (77) under
# AddressSanitizer (what is tested is the Makefile's flow, and the sanitizer
# build would double the time) and without the llama2.c checkpoint
# (../shared/data/stories260K.bin, or $ATTNBENCH_MODEL).
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$ATTNBENCH
case "$bin" in /*) ;; *) bin="$(pwd)/$bin" ;; esac
[ -x "$bin" ] || { echo "no $bin (build first)"; exit 77; }
grep -q AddressSanitizer "$bin" 2>/dev/null && { echo "the Makefile flow is tested with the normal build"; exit 77; }
model=${ATTNBENCH_MODEL:-$root/../shared/data/stories260K.bin}
[ -f "$model" ] || { echo "no llama2.c checkpoint at $model"; exit 77; }
command -v gnuplot > /dev/null 2>&1 || { echo "no gnuplot"; exit 77; }
build=$(dirname "$bin")
# this test may run under make: its flags and jobserver are not for the inner make
unset MAKEFLAGS MFLAGS MAKELEVEL
out=$tmp/o

sweep() { make -C "$root" --no-print-directory sweep BUILD="$build" SWEEP=quick OUT="$out" MODEL="$model" "$@"; }

sweep RESUME=0 > "$tmp/log1" 2>&1 || fail "make sweep: exit $?: $(tail -n 5 "$tmp/log1")"
[ -s "$out/sweep.csv" ] && [ -s "$out/summary.md" ] || fail "make sweep wrote no sweep.csv or summary.md"
rows=$(($(wc -l < "$out/sweep.csv") - 1))
grep -q "$out/real/layer0" "$out/sweep.csv" || fail "no real-layer rows in $out/sweep.csv"
for gp in "$root"/scripts/*.gp; do
  f=$(basename "$gp" .gp)
  [ -s "$out/figures/$f.svg" ] && [ -s "$out/figures/$f.png" ] || fail "no figure $f"
done

# as a clean clone has it: the capture's text, not its tensors
rm -rf "$out"/real/layer*
sweep RESUME=1 > "$tmp/log2" 2>&1 || fail "make sweep on a capture without its tensors: exit $?: $(tail -n 3 "$tmp/log2")"
[ -f "$out/real/layer0/q.npy" ] || fail "the capture was not made anew"
grep -q "0 to go" "$tmp/log2" || fail "the resumed sweep ran points again: $(grep 'to go' "$tmp/log2")"
[ "$(($(wc -l < "$out/sweep.csv") - 1))" = "$rows" ] || fail "the resumed sweep has $(($(wc -l < "$out/sweep.csv") - 1)) rows, want $rows"
finish

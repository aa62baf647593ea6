#!/bin/sh
# e2e_make_sweep.sh — `make sweep` itself, as a user runs it. First (no
# model needed; a tiny SPEC): SIGINT midway, then the same command runs only
# the missing points and ends with the points of an uninterrupted run, each
# once; a typo in SWEEP exits with OUT byte-identical; README.md is never
# written; rows of other sources are moved aside, never deleted. Then, with MODEL and
# the quick spec into OUT, the capture, the sweep, the summary and every
# figure; then OUT as a clean clone holds it (real/ with capture.txt only:
# the captured tensors are not in git) and `make sweep RESUME=1` again: the
# capture is made anew, the sweep finds every point done, and nothing fails.
# Uses make's BUILD of the binary under test ($ATTNBENCH); passes at once
# under AddressSanitizer (what is tested is the Makefile's flow, which the
# normal build's run covers; the sanitizer build would double the time).
# Without the binary, gnuplot, setsid or perl, or the llama2.c checkpoint
# (data/stories260K.bin, or $ATTNBENCH_MODEL) it fails.
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$ATTNBENCH
case "$bin" in /*) ;; *) bin="$(pwd)/$bin" ;; esac
[ -x "$bin" ] || { echo "FAIL: no $bin (build first)"; exit 1; }
grep -q __asan_init "$bin" 2>/dev/null && { echo "e2e_make_sweep: the Makefile flow is tested with the normal build"; exit 0; }
model=${ATTNBENCH_MODEL:-$root/data/stories260K.bin}
command -v gnuplot > /dev/null 2>&1 || { echo "FAIL: no gnuplot (a dependency: scripts/deps.sh)"; exit 1; }
command -v setsid > /dev/null 2>&1 && command -v perl > /dev/null 2>&1 || { echo "FAIL: no setsid or perl"; exit 1; }
build=$(dirname "$bin")
# BUILD as the build under test spells it, relative to the tree when inside:
# an absolute spelling changes the flags version.h records (-I$(BUILD)), and
# the inner make would rewrite it and relink the program under other tests
build=${build#"$root"/}
# this test may run under make: its flags and jobserver are not for the inner make
unset MAKEFLAGS MFLAGS MAKELEVEL

# ---- interrupted and resumed, a typo, README untouched (synthetic only)
cat > "$tmp/tiny.sweep" <<'EOF'
heads   2
d-head  32
warmup  0
reps    3
[slow]
attention vanilla chunked
n       512 768 1024
seed    1 2 3
EOF
keys() { awk -F, 'NR > 1 { print $2 "|" $4 "|" $11 "|" $17 }' "$1" | sort; }
snap() { (cd "$1" && find . -type f | sort | xargs md5sum) 2>/dev/null; }
tiny() { make -C "$root" --no-print-directory sweep BUILD="$build" SPEC="$tmp/tiny.sweep" MODEL= "$@"; }
readme=$(md5sum < "$root/README.md")
ti=$tmp/ti
mkdir -p "$ti"
# as Ctrl-C does: SIGINT to the whole process group (a background job of a
# script starts with SIGINT ignored: perl puts the default back)
setsid perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die' \
  make -C "$root" --no-print-directory sweep BUILD="$build" SPEC="$tmp/tiny.sweep" MODEL= OUT="$ti" > "$tmp/ti1" 2>&1 &
mk=$!
i=0
while [ "$(($(cat "$ti/sweep.csv" 2>/dev/null | wc -l) - 1))" -lt 4 ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT -$mk 2>/dev/null
wait $mk
done1=$(($(wc -l < "$ti/sweep.csv") - 1))
[ "$done1" -ge 4 ] && [ "$done1" -lt 18 ] || fail "the interrupted make sweep left $done1 rows (want 4..17: interrupted midway)"
tiny OUT="$ti" > "$tmp/ti2" 2>&1 || fail "make sweep after SIGINT: exit $?: $(tail -n 3 "$tmp/ti2")"
grep -q "18 point(s), $done1 already in $ti/sweep.csv, $((18 - done1)) to go" "$tmp/ti2" ||
  fail "the rerun did not run only the missing points: $(grep -E 'to go|moved' "$tmp/ti2")"
tiny OUT="$tmp/tu" > "$tmp/tu1" 2>&1 || fail "uninterrupted make sweep: exit $?: $(tail -n 3 "$tmp/tu1")"
keys "$ti/sweep.csv" > "$tmp/ti.keys"; keys "$tmp/tu/sweep.csv" > "$tmp/tu.keys"
cmp -s "$tmp/ti.keys" "$tmp/tu.keys" || fail "interrupted + resumed differs from uninterrupted: $(diff "$tmp/ti.keys" "$tmp/tu.keys" | head -n 4)"
[ -z "$(uniq -d "$tmp/ti.keys")" ] || fail "a point twice after the resume"
tiny OUT="$ti" > "$tmp/ti3" 2>&1 || fail "make sweep after a complete one: exit $?"
grep -q "0 to go" "$tmp/ti3" || fail "make sweep after a complete one ran points: $(grep -E 'to go|moved' "$tmp/ti3")"
before=$(snap "$ti")
make -C "$root" --no-print-directory sweep BUILD="$build" SWEEP=nope-no-such-spec MODEL= OUT="$ti" > "$tmp/ti4" 2>&1 &&
  fail "make sweep SWEEP=nope-no-such-spec succeeded"
[ "$(snap "$ti")" = "$before" ] || fail "make sweep SWEEP=nope changed OUT"
grep -q "nope-no-such-spec.sweep: No such file" "$tmp/ti4" || fail "the typo's message: $(tail -n 2 "$tmp/ti4")"
sed -i 's/^source_hash=.*/source_hash=0000000000000000/' "$ti/sweep.env"
cp "$ti/sweep.csv" "$tmp/old.csv"
tiny OUT="$ti" > "$tmp/ti5" 2>&1 || fail "make sweep over rows of other sources: exit $?"
cmp -s "$tmp/old.csv" "$ti/sweep.old-1.csv" || fail "rows of other sources were not moved aside to sweep.old-1.csv"
[ "$(md5sum < "$root/README.md")" = "$readme" ] || fail "make sweep wrote README.md"
[ -f "$model" ] || { fail "no checkpoint $model (data/ ships it)"; finish; }

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

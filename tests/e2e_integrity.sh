#!/bin/sh
# e2e_integrity.sh — no row lost or doubled, no input that hangs (issue 13):
# inputs that are not regular files (FIFO, /dev/zero, a directory, a symlink
# loop) refused at once for sweep, merge and analyze; options parsed as run's;
# two sweeps on one file (the second refused, every point once); merge of a
# shard twice, of a doubled point, of a partial set, onto its own input or a
# device; resume across specs with different defaults (resolved identity);
# rows of other sources moved aside, never deleted; a 0-byte sidecar
# repaired; a blank results file given its header; analyze naming doubled
# points; --mem-limit under the program's own footprint giving skipped rows;
# a line with an unbalanced quote or a repeated header line (shards joined
# with cat) read as no row by resume, merge, analyze and finish.sbatch.
# Uses $ATTNBENCH; asserts no times (a hang is caught by `timeout`).
. "$(dirname "$0")/lib.sh"
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=$ATTNBENCH
case "$bin" in /*) ;; *) bin="$(pwd)/$bin" ;; esac
[ -x "$bin" ] || { echo "FAIL: no $bin (build first)"; exit 1; }
cd "$tmp" || exit 1

# expect RC WHAT -- command...: the exit status and one line on stderr
expect() {
  want=$1 what=$2; shift 3
  timeout 60 "$@" > out.txt 2> err.txt
  rc=$?
  [ "$rc" = "$want" ] || { fail "$what: exit $rc, want $want: $(head -n 2 err.txt)"; return; }
  [ "$want" != 2 ] || [ "$(wc -l < err.txt)" = 1 ] || fail "$what: $(wc -l < err.txt) lines on stderr, want 1: $(cat err.txt)"
}
rows() { tail -n +2 "$1" | grep -c .; }
# the points a CSV holds, one line each (layer..threads, the identity columns)
keys() { awk -F, 'NR > 1 { print $1 "|" $2 "|" $3 "|" $4 "|" $10 "|" $11 "|" $12 "|" $14 "|" $17 }' "$1" | sort; }

cat > a.sweep <<'EOF'
heads   1
d-head  8
warmup  0
reps    1
[p]
attention performer vanilla topk
n       32 48
features 8
k       4
EOF
sed '/^features/d; /^k /d' a.sweep > b.sweep   # the same points, knobs left to their defaults
mkfifo fifo
ln -s loop1 loop2; ln -s loop2 loop1

# ---- inputs that are not regular files: refused at once, one line
for f in /dev/zero /dev/urandom fifo . loop1 missing.sweep; do
  expect 2 "sweep $f" -- "$bin" sweep "$f" --out s.csv
done
"$bin" sweep fifo --out s.csv 2>&1 | grep -q "not a regular file (a FIFO)" || fail "sweep FIFO: the cause is not named"
"$bin" sweep loop1 --out s.csv 2>&1 | grep -q "Too many levels of symbolic links" || fail "sweep loop: ELOOP not named"
[ ! -e s.csv ] || fail "a refused sweep created its --out"
for f in /dev/zero fifo . loop1; do
  expect 2 "analyze $f" -- "$bin" analyze "$f" --out an
  expect 2 "merge shard $f" -- "$bin" merge m.csv "$f"
done
[ ! -e m.csv ] || fail "a refused merge wrote OUT"

# ---- options, as run's
expect 2 "sweep --out DIR" -- "$bin" sweep a.sweep --out .
expect 2 "sweep --out --dry-run" -- "$bin" sweep a.sweep --out --dry-run
[ ! -e ./--dry-run ] || fail "sweep --out --dry-run wrote a file named --dry-run"
expect 2 "sweep --out twice" -- "$bin" sweep a.sweep --out x.csv --out y.csv
expect 2 "sweep --jobs twice" -- "$bin" sweep a.sweep --jobs 1 --jobs=2
expect 2 "sweep --out FIFO" -- "$bin" sweep a.sweep --out fifo
cp a.sweep self.sweep
expect 2 "sweep --out SPEC" -- "$bin" sweep self.sweep --out self.sweep --resume never
cmp -s a.sweep self.sweep && [ ! -e self.old-1.sweep ] || fail "sweep --out SPEC moved or changed the spec"
expect 2 "analyze --out twice" -- "$bin" analyze x.csv --out a --out b
expect 2 "merge --allow-partial twice" -- "$bin" merge m.csv x.csv --allow-partial --allow-partial
for c in sweep merge analyze; do
  "$bin" $c --help | grep -q -- "--" || fail "$c --help lists no option"
done
"$bin" sweep --help | grep -q -- "--resume MODE" || fail "sweep --help lacks --resume"
expect 2 "sweep typo'd spec" -- "$bin" sweep a.sweeep --check

# ---- a sweep, then a resume across a spec that leaves knobs to the defaults
expect 0 "sweep a" -- "$bin" sweep a.sweep --out r.csv
[ "$(rows r.csv)" = 6 ] || fail "sweep a: $(rows r.csv) rows, want 6"
grep -q '^source_hash=' r.env || fail "r.env records no source_hash"
expect 0 "sweep b, resumed always" -- "$bin" sweep b.sweep --out r.csv --resume always
# performer features 8 != default ceil(8 ln 8) = 17 and topk k 4 != default min(64, n): both run anew
grep -q "6 point(s), 2 already in r.csv, 4 to go" err.txt ||
  fail "resume across specs: $(grep 'to go' err.txt) (want 2 already: vanilla's; the knobs the point leaves to its default are resolved)"
[ "$(keys r.csv | uniq -d | wc -l)" = 0 ] || fail "resume across specs doubled a point"
expect 0 "sweep b again" -- "$bin" sweep b.sweep --out r.csv --resume always
grep -q "0 to go" err.txt || fail "sweep b again: $(grep 'to go' err.txt)"

# ---- rows of another spec (resume auto): moved aside, never deleted
cp r.csv r.before
expect 0 "sweep a, auto, after b's sidecar... a's" -- "$bin" sweep a.sweep --out r.csv
grep -q "0 to go" err.txt || fail "sweep a (same spec points as r.env's): $(grep 'to go' err.txt)"
expect 0 "sweep b, auto" -- "$bin" sweep b.sweep --out r.csv
grep -q "moved it to r.old-1.csv" err.txt || fail "rows of another spec were not moved aside: $(head -n 1 err.txt)"
cmp -s r.before r.old-1.csv || fail "r.old-1.csv is not the old r.csv"
[ -s r.old-1.env ] || fail "the old sidecar was not moved with it"
[ "$(rows r.csv)" = 6 ] || fail "after moving aside: $(rows r.csv) rows, want 6"
sed -i 's/^source_hash=.*/source_hash=0000000000000000/' r.env
expect 0 "sweep b, other sources" -- "$bin" sweep b.sweep --out r.csv
grep -q "other sources" err.txt && [ -f r.old-2.csv ] || fail "rows of other sources were not moved aside: $(head -n 1 err.txt)"

# ---- a 0-byte sidecar is repaired on resume; a blank results file gets its header
: > r.env
expect 0 "resume with a 0-byte sidecar" -- "$bin" sweep b.sweep --out r.csv
grep -q '^source_hash=' r.env || fail "the 0-byte sidecar was not written anew"
grep -q "0 to go" err.txt || fail "resume with a 0-byte sidecar: $(grep 'to go' err.txt)"
printf '\n  \n\n' > w.csv
expect 0 "sweep into a blank file" -- "$bin" sweep a.sweep --out w.csv
head -n 1 w.csv | grep -q '^layer,attention,' || fail "a blank results file got rows without a header"
expect 0 "analyze w.csv" -- "$bin" analyze w.csv --out wan

# ---- two sweeps on one file: the second is refused, every point once
cat > slow.sweep <<'EOF'
heads   2
d-head  32
warmup  0
reps    3
[slow]
attention vanilla chunked
n       512 768 1024
seed    1 2
EOF
"$bin" sweep slow.sweep --out two.csv 2> first.err &
first=$!
i=0
while [ ! -s two.env ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
timeout 10 "$bin" sweep slow.sweep --out two.csv > /dev/null 2> second.err
rc2=$?
wait $first
rc1=$?
[ $rc1 = 0 ] || fail "the first sweep: exit $rc1"
if [ "$rc2" = 0 ]; then # (the first had ended before it began)
  grep -q "0 to go" second.err || fail "a second sweep on a locked file ran points (exit $rc2): $(cat second.err)"
else
  [ $rc2 = 2 ] && grep -q "another sweep is writing it" second.err || fail "second sweep: exit $rc2: $(cat second.err)"
fi
[ "$(rows two.csv)" = 12 ] && [ "$(keys two.csv | uniq -d | wc -l)" = 0 ] ||
  fail "two sweeps on one file: $(rows two.csv) rows, $(keys two.csv | uniq -d | wc -l) doubled; want 12, 0"

# ---- merge: a shard twice, a doubled point, a partial set, OUT an input or a device
for i in 1 2; do "$bin" sweep a.sweep --shard $i/2 --out sh$i.csv 2> /dev/null || fail "shard $i/2"; done
expect 0 "merge both shards" -- "$bin" merge all.csv sh1.csv sh2.csv
[ "$(rows all.csv)" = 6 ] || fail "merge: $(rows all.csv) rows, want 6"
[ -s all.env ] || fail "merge wrote no all.env"
expect 2 "merge a shard twice" -- "$bin" merge m.csv sh1.csv sh1.csv sh2.csv
cp sh1.csv c1.csv; cp sh1.env c1.env
expect 2 "merge the same shard (a copy) twice" -- "$bin" merge m.csv sh1.csv c1.csv sh2.csv
expect 2 "merge one of two shards" -- "$bin" merge m.csv sh1.csv
grep -q "missing: 2" err.txt || fail "merge of a partial set does not name the missing shard: $(cat err.txt)"
expect 0 "merge one of two shards, --allow-partial" -- "$bin" merge part.csv sh1.csv --allow-partial
{ cat sh2.csv; tail -n 1 sh2.csv; } > d2.csv; cp sh2.env d2.env
expect 2 "merge a doubled point" -- "$bin" merge m.csv sh1.csv d2.csv
grep -q "same point" err.txt || fail "merge of a doubled point: $(cat err.txt)"
expect 2 "merge onto its own shard" -- "$bin" merge sh1.csv sh1.csv sh2.csv
expect 2 "merge onto a device" -- "$bin" merge /dev/null sh1.csv sh2.csv
[ -c /dev/null ] || fail "merge replaced /dev/null"
[ ! -e m.csv ] || fail "a refused merge wrote m.csv"
cp all.csv all.before
expect 0 "merge over an existing OUT" -- "$bin" merge all.csv sh1.csv sh2.csv
ls all.old-*.csv > /dev/null 2>&1 || fail "merge replaced an existing OUT instead of moving it aside"

# ---- analyze names doubled points
expect 0 "analyze a doubled file" -- "$bin" analyze d2.csv --out dan
grep -q "repeat the point" err.txt || fail "analyze said nothing of a doubled point: $(cat err.txt)"
grep -q "Doubled points" dan/summary.md || fail "summary.md lists no doubled points"

# ---- a line with an unbalanced quote spoils only itself: every resume finds
# every point, adds no row, and leaves the line where it is; analyze reads
# every other row (it used to read the quote to the end of the file: the
# rows after it were missing, and each resume ran them again)
expect 0 "sweep q" -- "$bin" sweep a.sweep --out q.csv
sed -i '3a oops,"' q.csv
cp q.csv q.before
for i in 1 2; do
  expect 0 "resume $i after an unbalanced quote" -- "$bin" sweep a.sweep --out q.csv
  grep -q "6 already in q.csv, 0 to go" err.txt || fail "resume $i after an unbalanced quote: $(grep 'to go' err.txt)"
  grep -q "left out 1 malformed line(s) (the first is line 4)" err.txt || fail "resume $i: no note: $(cat err.txt)"
  cmp -s q.before q.csv || fail "resume $i after an unbalanced quote changed q.csv ($(wc -l < q.csv) lines, had $(wc -l < q.before))"
done
expect 0 "analyze after an unbalanced quote" -- "$bin" analyze q.csv --out qan
grep -q "analyze: 6 rows" err.txt || fail "analyze after an unbalanced quote: $(tail -n 1 err.txt), want 6 rows"
grep -q "1 malformed line(s), the first line 4" qan/summary.md || fail "summary.md does not name the malformed line"
# a repeated header line: no row, no point; resume adds nothing
head -n 1 q.csv >> q.csv
expect 0 "resume after a repeated header" -- "$bin" sweep a.sweep --out q.csv
grep -q "0 to go" err.txt && grep -q "left out 1 repeated header line(s) (the first is line 9)" err.txt ||
  fail "resume after a repeated header: $(cat err.txt)"

# ---- a shard whose header is written twice; shards joined with cat
{ head -n 2 sh2.csv; head -n 1 sh2.csv; tail -n +3 sh2.csv; } > h2.csv; cp sh2.env h2.env
expect 0 "merge a shard with its header twice" -- "$bin" merge hm.csv sh1.csv h2.csv
[ "$(rows hm.csv)" = 6 ] || fail "merge of a doubled header: $(rows hm.csv) rows, want 6"
awk -F, 'NR > 1 && $19 == "status" { exit 1 }' hm.csv || fail "merge of a doubled header wrote a row of status 'status'"
grep -q "h2.csv: left out 1 repeated header line(s) (the first is line 3)" err.txt || fail "merge: no note: $(cat err.txt)"
cat sh1.csv sh2.csv > cat.csv
expect 0 "analyze shards joined with cat" -- "$bin" analyze cat.csv --out catan
grep -q "analyze: 6 rows" err.txt || fail "analyze of shards joined with cat: $(tail -n 1 err.txt), want 6 rows"
! grep -q "repeat the point" err.txt && ! grep -q "Doubled points" catan/summary.md ||
  fail "analyze of shards joined with cat found a doubled point: $(grep 'repeat' err.txt)"
grep -q "left out 1 repeated header line(s)" err.txt || fail "analyze: no note of the header line: $(cat err.txt)"

# ---- finish.sbatch (run here as a script) over those two shards: complete, 6 rows
if command -v gnuplot > /dev/null 2>&1; then
  mkdir -p fin/slurm fin/shards
  ln -s "$bin" fin/slurm/attnbench; cp a.sweep fin/slurm/spec.sweep
  cp sh1.env fin/shards/1-of-2.env; sed '2a oops,"' sh1.csv > fin/shards/1-of-2.csv
  cp h2.env fin/shards/2-of-2.env; cp h2.csv fin/shards/2-of-2.csv
  (cd "$repo" && timeout 120 sh scripts/slurm/finish.sbatch "$tmp/fin" 2) > fin.out 2> fin.err ||
    fail "finish.sbatch over a malformed line and a repeated header: exit $?: $(head -n 3 fin.err)"
  [ "$(rows fin/sweep.csv)" = 6 ] && [ "$(keys fin/sweep.csv | uniq -d | wc -l)" = 0 ] ||
    fail "finish.sbatch merged $(rows fin/sweep.csv) rows, want 6"
  grep -q "left out 1 malformed line" fin.err && grep -q "left out 1 repeated header line" fin.err ||
    fail "finish.sbatch: the notes are missing: $(cat fin.err)"
fi

# ---- under the program's own footprint: skipped rows at once, no timeout
if ! grep -q __asan_init "$bin" 2>/dev/null; then
  expect 0 "sweep --mem-limit 200M" -- "$bin" sweep a.sweep --out mem.csv --mem-limit 200M --timeout 30
  [ "$(col status mem.csv)" = skipped ] && [ "$(rows mem.csv)" = "$(grep -c ',skipped,' mem.csv)" ] ||
    fail "--mem-limit 200M: statuses $(awk -F, 'NR > 1 { print $19 }' mem.csv | sort | uniq -c | tr '\n' ' ')"
  grep -q "needs at least" mem.csv || fail "--mem-limit 200M: the skipped rows do not say what the point needs"
fi
finish

#!/bin/sh
# e2e_sweep.sh — `attnbench sweep`, `merge` and `analyze` end to end on tiny
# specs: every point gets exactly one row; a sweep killed with SIGKILL (and a
# torn last line) resumes to every point once under one header; points over
# --mem-limit end skipped (or oom), points over --timeout end timeout, points
# that crash end crashed, and the sweep goes on; shards are disjoint, cover
# the spec, and merge to the unsharded set. Uses $ATTNBENCH; exit 0 pass,
# else fail (never skips: a missing command, option, hook or gnuplot is a
# failure). Asserts no times. (tests/e2e_faults.sh adds random
# SIGKILLs, full disks and hangs.)
set -u
bin=${ATTNBENCH:-build/attnbench}
[ -x "$bin" ] || { echo "FAIL: no $bin (build first)"; exit 1; }
case "$bin" in /*) ;; *) bin="$(pwd)/$bin" ;; esac
"$bin" sweep --help >/dev/null 2>&1 || { echo "FAIL: this attnbench has no sweep command"; exit 1; }
"$bin" run --help 2>/dev/null | grep -q -- '--row-only' || { echo "FAIL: run has no --row-only"; exit 1; }

scripts=$(cd "$(dirname "$0")/../scripts" && pwd)
tmp=$(mktemp -d)
sweep_pid=""
cleanup() {
  [ -n "$sweep_pid" ] && kill -9 "$sweep_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# column NAME of every data row of CSV (the knob and status columns hold no commas)
col() {
  awk -F, -v want="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == want) c = i; next } { print $c }' "$1"
}
# each row's point identity, one line per row (the key resume and merge use)
keys() { "$bin" point-key "$1"; }
rows() { tail -n +2 "$1" | wc -l | tr -d ' '; }
headers() { grep -c '^layer,' "$1"; }
points() { "$bin" sweep "$1" --dry-run --out "$tmp/none.csv" | grep -c '^ *[0-9]'; }

# ---- a tiny spec: every method, one that has not landed, one invalid point
cat > tiny.sweep <<'EOF'
# tiny study for the end-to-end test
heads   1
d-head  8
warmup  0
reps    1
[methods]
attention vanilla chunked topk performer not-landed-yet
n       32 64
k       4
chunk   16
features 8
[bad]
attention topk
n       32
k       64      # k > n: run refuses it, the row says invalid
EOF
want=$(points tiny.sweep)
[ "$want" = 11 ] || fail "tiny.sweep has $want points, want 11"

# one configuration spelled three ways (the default left out, said, said as
# 4.0) runs once; another value does not merge with it
printf 'heads 1\nd-head 8\n[a]\nattention vanilla\nn 32\n[b]\nattention vanilla\nn 32\nscore-std 4\n[c]\nattention vanilla\nn 32\nscore-std 4.0 2\n' > same.sweep
[ "$(points same.sweep)" = 2 ] || fail "same.sweep: $(points same.sweep) points, want 2 (score std 4 once, 2 once)"
"$bin" sweep tiny.sweep --out a.csv 2>err.txt || { fail "sweep exit $?"; cat err.txt; }
[ "$(rows a.csv)" = "$want" ] || fail "a.csv has $(rows a.csv) rows, want $want"
[ "$(headers a.csv)" = 1 ] || fail "a.csv has $(headers a.csv) headers"
[ -f a.env ] || fail "no a.env sidecar"
[ "$(col a.csv status | grep -c '^ok$')" = 8 ] || fail "want 8 ok rows: $(col a.csv status | tr '\n' ' ')"
[ "$(col a.csv status | grep -c '^skipped$')" = 2 ] || fail "the unknown method is not 2 skipped rows"
grep -q 'not-landed-yet.*unknown method' a.csv || fail "no 'unknown method' note"
grep -q 'invalid.*larger than' a.csv || fail "k > n is not an invalid row with the run's message"
# the same command again runs nothing and adds nothing
"$bin" sweep tiny.sweep --out a.csv 2>err.txt || fail "rerun exit $?"
[ "$(rows a.csv)" = "$want" ] || fail "rerun added rows: $(rows a.csv)"

# ---- bad specs: one line on stderr with file and line, exit 2
printf '[g]\nattention vanilla\nfoo 1\n' > bad.sweep
"$bin" sweep bad.sweep --out b.csv 2>err.txt
rc=$?
[ $rc = 2 ] || fail "bad spec: exit $rc, want 2"
grep -q "bad.sweep:3: unknown knob 'foo'" err.txt || fail "bad spec message: $(cat err.txt)"
[ ! -e b.csv ] || fail "bad spec wrote b.csv"

# ---- SIGKILL midway, a torn line, resume: every point once, one header
cat > slow.sweep <<'EOF'
heads   1
d-head  8
warmup  0
reps    0       # calls for at least a second (each call >= 10 ms): busy when killed
ref-rows 16
[slow]
attention vanilla chunked
n       3072 4096
chunk   64
EOF
want=$(points slow.sweep)
"$bin" sweep slow.sweep --out k.csv 2>/dev/null &
sweep_pid=$!
i=0
while [ $i -lt 600 ] && { [ ! -f k.csv ] || [ "$(rows k.csv)" -lt 2 ]; }; do sleep 0.1; i=$((i + 1)); done
kill -9 "$sweep_pid" 2>/dev/null
wait "$sweep_pid" 2>/dev/null
sweep_pid=""
got=$(rows k.csv)
if [ "$got" -ge "$want" ]; then
  echo "note: the sweep finished before the kill; the resume is still checked"
fi
printf 'attention,vanilla,mha,4' >> k.csv   # a writer that died mid-line
"$bin" sweep slow.sweep --out k.csv 2>err.txt || { fail "resume exit $?"; cat err.txt; }
grep -q 'torn last line' err.txt || fail "the torn line was not reported: $(cat err.txt)"
[ "$(rows k.csv)" = "$want" ] || fail "after resume k.csv has $(rows k.csv) rows, want $want"
[ "$(headers k.csv)" = 1 ] || fail "after resume k.csv has $(headers k.csv) headers"
[ "$(keys k.csv | sort -u | wc -l | tr -d ' ')" = "$want" ] || fail "a point is in k.csv twice"
[ -z "$(tail -c 1 k.csv | tr -d '\n')" ] || fail "k.csv does not end in a newline"
[ "$(col k.csv status | grep -vc '^ok$')" = 0 ] || fail "resumed rows not all ok"

# ---- limits: a tiny --mem-limit and a tiny --timeout; the sweep goes on
"$bin" sweep slow.sweep --out m.csv --mem-limit 1M 2>err.txt || fail "mem-limit sweep exit $?"
[ "$(rows m.csv)" = "$want" ] || fail "m.csv has $(rows m.csv) rows, want $want"
[ "$(col m.csv status | grep -Evc '^(oom|skipped)$')" = 0 ] || fail "--mem-limit 1M: $(col m.csv status | tr '\n' ' ')"
grep -q 'mem-limit' m.csv || fail "no --mem-limit reason in the notes"
"$bin" sweep slow.sweep --out t.csv --timeout 0.2 2>err.txt || fail "timeout sweep exit $?"
[ "$(rows t.csv)" = "$want" ] || fail "t.csv has $(rows t.csv) rows, want $want"
[ "$(col t.csv status | grep -vc '^timeout$')" = 0 ] || fail "--timeout 0.2: $(col t.csv status | tr '\n' ' ')"
grep -q 'killed after' t.csv || fail "no timeout note"

# ---- points that crash (run's test-only ATTNBENCH_FAULT hook): rows, and on
printf '[two]\nattention vanilla chunked\nheads 1\nd-head 8\nn 32\nwarmup 0\nreps 1\n' > two.sweep
ATTNBENCH_FAULT=crash "$bin" run --heads 1 --d-head 8 --n 16 --warmup 0 --reps 1 --row-only >/dev/null 2>&1 &&
  fail "ATTNBENCH_FAULT=crash: attnbench run did not crash (the hook the crash check needs)"
ATTNBENCH_FAULT=crash "$bin" sweep two.sweep --out c.csv 2>err.txt || fail "crash sweep exit $?"
[ "$(rows c.csv)" = 2 ] && [ "$(col c.csv status | grep -vc '^crashed$')" = 0 ] ||
  fail "ATTNBENCH_FAULT=crash: $(col c.csv status | tr '\n' ' ')"
grep -q 'signal 6' c.csv || fail "the crashed rows' note does not name the signal"

# ---- shards: disjoint and covering (dry runs, N beyond the points too), merge
all=$("$bin" sweep tiny.sweep --dry-run --out none.csv | awk '/^ *[0-9]/ { print $1 }' | sort -n | tr '\n' ' ')
for n in 1 2 3 5 11 16; do
  i=1 union=""
  while [ $i -le $n ]; do
    union="$union $("$bin" sweep tiny.sweep --dry-run --shard $i/$n --out none.csv | awk '/^ *[0-9]/ { print $1 }' | tr '\n' ' ')"
    i=$((i + 1))
  done
  u=$(echo $union | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')
  [ "$u" = "$all" ] || fail "shards of $n: union [$u] is not [$all] (overlap or gap)"
done
for i in 1 2 3; do "$bin" sweep tiny.sweep --shard $i/3 --out s$i.csv 2>/dev/null || fail "shard $i/3 exit $?"; done
"$bin" merge merged.csv s1.csv s2.csv s3.csv s2.csv 2>err.txt
[ $? = 2 ] && [ ! -e merged.csv ] || fail "merge of a shard given twice: not refused: $(cat err.txt)"
"$bin" merge merged.csv s1.csv s2.csv s3.csv 2>err.txt || fail "merge exit $?: $(cat err.txt)"
[ "$(headers merged.csv)" = 1 ] || fail "merged.csv has $(headers merged.csv) headers"
keys a.csv | sort > want.keys
keys merged.csv | sort > got.keys
cmp -s want.keys got.keys || { fail "merged shards differ from the unsharded sweep"; diff want.keys got.keys; }
# point-key: a line per row; two points that differ in one knob differ; a
# doubled row is doubled; an unreadable file is bad input
[ "$(wc -l < want.keys | tr -d ' ')" = "$(rows a.csv)" ] || fail "point-key: $(wc -l < want.keys) keys of $(rows a.csv) rows"
[ "$(uniq -d want.keys | wc -l | tr -d ' ')" = 0 ] || fail "point-key: two points of a.csv share a key: $(uniq -d want.keys)"
awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "window") w = i; print; next }
                  NR == 2 { print; print; $w = 7; print; next } { print }' a.csv > twice.csv
"$bin" point-key twice.csv | sort > twice.keys
[ "$(uniq -d twice.keys | wc -l | tr -d ' ')" = 1 ] && [ "$(sort -u twice.keys | wc -l | tr -d ' ')" = "$(($(rows a.csv) + 1))" ] ||
  fail "point-key: a doubled row and two rows that differ only in window: $(uniq -c twice.keys | sort -rn | head -3)"
"$bin" point-key none/such.csv 2>err.txt
[ $? = 2 ] && grep -q 'point-key' err.txt || fail "point-key of a missing file: not bad input: $(cat err.txt)"
sed '1s/^layer,/stratum,/' s1.csv > other.csv
"$bin" merge bad.csv s2.csv other.csv 2>err.txt
rc=$?
[ $rc = 2 ] || fail "merge of a different header: exit $rc, want 2"
[ ! -e bad.csv ] || fail "refused merge wrote bad.csv"
"$bin" sweep tiny.sweep --shard 4/3 --out none.csv 2>/dev/null
[ $? = 2 ] || fail "--shard 4/3 accepted"

# ---- analyze: the summary and every figure's data, from rows that include failures
"$bin" analyze a.csv --out an 2>err.txt || fail "analyze exit $?: $(cat err.txt)"
[ -s an/summary.md ] || fail "no summary.md"
for f in error_vs_memory memory_vs_n time_vs_n error_vs_k chunk_tradeoff error_vs_features error_vs_head_sim ffn_error_vs_k; do
  [ -f "an/data/$f.dat" ] && [ -f "an/data/$f.meta" ] || fail "no data for $f"
done
grep -q '| skipped | prefill | not-landed-yet |' an/summary.md || fail "summary does not list the skipped rows (status, regime, method)"
# every figure drawn, as a real SVG and a real PNG 900 px wide (a study without rows is
# drawn with a "no data" note, so all of them exist)
if command -v gnuplot > /dev/null 2>&1; then
  sh "$scripts/figures.sh" an > /dev/null 2> err.txt || fail "figures.sh: $(cat err.txt)"
  for gp in "$scripts"/*.gp; do
    f=$(basename "$gp" .gp)
    grep -q '<svg' "an/figures/$f.svg" 2>/dev/null && grep -q '</svg>' "an/figures/$f.svg" || fail "an/figures/$f.svg is not an SVG"
    [ "$(head -c 8 "an/figures/$f.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "an/figures/$f.png is not a PNG"
    # read at 900 px: the width in the PNG header (IHDR, bytes 16-19, big-endian)
    w=$(od -An -tu1 -j16 -N4 "an/figures/$f.png" 2>/dev/null | awk '{print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4}')
    [ "$w" = 900 ] || fail "an/figures/$f.png is ${w:-?} px wide, not 900"
  done
else
  fail "no gnuplot (a dependency: scripts/deps.sh); the figures are not drawn"
fi

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "e2e_sweep: ok"

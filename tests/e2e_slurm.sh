#!/bin/sh
# e2e_slurm.sh — `make sweep-slurm` (scripts/slurm/) against a real Slurm.
#
# Without Slurm: the shards of a spec are disjoint and cover it for several N
# (N beyond the points too), and `attnbench merge` refuses shards whose .env
# sidecars record another commit, spec hash or split, or none at all.
# With Slurm (Debian's slurm-wlm and munge, run as root): a private one-node
# cluster on 127.0.0.1 (scripts/slurm/local-cluster.sh), a sweep of 3 shards
# whose task 2 dies after its first row (ATTNBENCH_SLURM_TEST_KILL=2): the
# merge job finds shard 2 incomplete and merges nothing; resubmitting only
# index 2 completes the sweep with every point exactly once, the finished row
# kept; a resubmission with another CPUS or of another commit is refused; a
# split with more shards than points merges too. Every daemon is stopped at
# the end, on failure too (and by a watchdog if this script is killed).
# Uses $ATTNBENCH; exit 0 pass, 77 skip (no Slurm, not root), else fail.
set -u
bin=${ATTNBENCH:-build/attnbench}
[ -x "$bin" ] || { echo "FAIL: no $bin (build first)"; exit 1; }
case "$bin" in /*) ;; *) bin="$(pwd)/$bin" ;; esac
repo=$(cd "$(dirname "$0")/.." && pwd)
"$bin" merge --help >/dev/null 2>&1 || { echo "FAIL: this attnbench has no merge command"; exit 1; }

tmp=$(mktemp -d /tmp/attnbench-slurm-XXXXXX)
cluster=""
cleanup() {
  [ -n "$cluster" ] && sh "$repo/scripts/slurm/local-cluster.sh" stop "$cluster" >/dev/null 2>&1
  [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
cd "$tmp" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

rows() { tail -n +2 "$1" | wc -l | tr -d ' '; }
# attention|n of every data row (each point of the specs below has its own)
keys() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c["attention"] "|" $c["n"] }' "$1"
}
# a dry run's listing of SPEC [OPTIONS], and the point indices in it; the
# spec's variable NB comes from the command line, as SWEEP_FLAGS give it
dry() { "$bin" sweep "$@" --define "NB=32 64" --dry-run --out "$tmp/none.csv" 2>/dev/null; }
indices() { dry "$@" | awk '$1 ~ /^[0-9]+$/ { print $1 }'; }
# FNV-1a/64 of a file, where python3 is at hand
fnv() {
  command -v python3 >/dev/null 2>&1 || return 1
  python3 -c 'import sys
h = 0xcbf29ce484222325
for b in open(sys.argv[1], "rb").read(): h = ((h ^ b) * 0x100000001b3) & (2**64 - 1)
print("%016x" % h)' "$1"
}
# a copy of CSV as NEW, its sidecar with KEY=VALUE set (VALUE "-": the line removed)
copy_with() {
  cp "$1" "$2.csv"
  grep -v "^$3=" "${1%.csv}.env" > "$2.env"
  [ "$4" = - ] || echo "$3=$4" >> "$2.env"
}

# 7 points, each one a different attention|n. The point the failing task
# (shard 2 of 3: points 1 and 4) dies in, 4, takes a second (reps 0: calls
# for >= 1 s), so the kill after its shard's first row lands within it.
cat > tiny.sweep <<'EOF'
heads    1
d-head   8
warmup   0
reps     1
ref-rows 16
[a]
attention vanilla chunked
n        32 64
chunk    16
[slow]
attention vanilla
n        4096
reps     0
[b]
attention topk
n        ${NB}
k        4
chunk    16
EOF
npoints=$(indices tiny.sweep | wc -l | tr -d ' ')
[ "$npoints" = 7 ] || fail "tiny.sweep has $npoints points, want 7"

# ---- shards: disjoint and covering, for N below, at and beyond the points
all=$(indices tiny.sweep | sort -n | tr '\n' ' ')
for n in 1 2 3 4 6 7 8 13; do
  got="" i=1
  while [ $i -le $n ]; do
    got="$got $(indices tiny.sweep --shard $i/$n | tr '\n' ' ')"
    i=$((i + 1))
  done
  dup=$(echo $got | tr ' ' '\n' | grep . | sort -n | uniq -d | tr '\n' ' ')
  u=$(echo $got | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')
  [ -z "$dup" ] || fail "shards of $n: point(s) $dup in more than one shard"
  [ "$u" = "$all" ] || fail "shards of $n cover [$u], the spec is [$all]"
done

# ---- merge refuses shards of different code, specs or splits
printf 'heads 1\nd-head 8\nwarmup 0\nreps 1\n[g]\nattention vanilla chunked\nn 32 64\nchunk 16\n' > fast.sweep
for i in 1 2; do "$bin" sweep fast.sweep --shard $i/2 --out m$i.csv 2>/dev/null || fail "shard $i/2 exit $?"; done
"$bin" merge ok.csv m1.csv m2.csv 2>err.txt || fail "merge of two shards of one sweep: exit $?: $(cat err.txt)"
[ "$(rows ok.csv)" = 4 ] || fail "merged ok.csv has $(rows ok.csv) rows, want 4"
grep -q '^spec_fnv1a64=' m1.env || fail "m1.env records no spec_fnv1a64"
grep -qx "spec=fast.sweep" m1.env || fail "m1.env: no spec=fast.sweep: $(grep '^spec' m1.env)"
grep -qx "shard=1/2" m1.env || fail "m1.env: no shard=1/2"
want=$(fnv fast.sweep) && { grep -qx "spec_fnv1a64=$want" m1.env || fail "m1.env: spec_fnv1a64 is not FNV-1a/64 of the spec ($want)"; }
grep -q '^spec_points_fnv1a64=[0-9a-f]\{16\}$' m1.env || fail "m1.env: no spec_points_fnv1a64"
[ "$(grep '^spec_points' m1.env)" = "$(grep '^spec_points' m2.env)" ] || fail "two shards of one sweep record different points hashes"
refused() { # WHAT EXPECTED-WORD SHARD...: merge must exit 2, name the files and the word, write nothing
  what=$1 word=$2
  shift 2
  rm -f refused.csv
  "$bin" merge refused.csv "$@" 2>err.txt
  rc=$?
  [ $rc = 2 ] || fail "merge of $what: exit $rc, want 2"
  [ ! -e refused.csv ] || fail "merge of $what wrote its output"
  for f in "$1" "$2"; do grep -q "$f" err.txt || fail "merge of $what: the message does not name $f: $(cat err.txt)"; done
  grep -q "$word" err.txt || fail "merge of $what: the message does not say '$word': $(cat err.txt)"
}
copy_with m2.csv other-commit commit 0123456789ab
# (the code is told by source_hash= where the sidecars record it)
sed -i 's/^source_hash=.*/source_hash=0123456789abcdef/' other-commit.env
refused "another commit" commit m1.csv other-commit.csv
copy_with m1.csv spec-a spec_fnv1a64 00000000000000aa
copy_with m2.csv spec-b spec_fnv1a64 00000000000000bb
refused "another spec" spec spec-a.csv spec-b.csv
copy_with m2.csv spec-none spec_fnv1a64 -
refused "a spec hash against none" spec spec-a.csv spec-none.csv
copy_with m1.csv points-a spec_points_fnv1a64 00000000000000aa
copy_with m2.csv points-b spec_points_fnv1a64 00000000000000bb
refused "other points of one spec" points points-a.csv points-b.csv
copy_with m1.csv split-a shard 1/2
copy_with m2.csv split-b shard 2/3
refused "another split" shard split-a.csv split-b.csv
cp m2.csv lone.csv
"$bin" merge refused.csv m1.csv lone.csv 2>err.txt
rc=$?
[ $rc = 2 ] && [ ! -e refused.csv ] && grep -q 'lone.csv: no readable sidecar lone.env' err.txt ||
  fail "merge of a shard without a sidecar: exit $rc, want 2 naming lone.env: $(cat err.txt)"

# ---- the Slurm part: once, with the normal build
case "$bin" in
  */asan/attnbench)
    [ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
    echo "e2e_slurm: ok without Slurm; the Slurm part runs with the normal build only"
    exit 0 ;;
esac
if [ "$(id -u)" != 0 ] || ! command -v sbatch >/dev/null 2>&1 || ! [ -x /usr/sbin/slurmctld ] || ! [ -x /usr/sbin/munged ]; then
  [ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
  if [ "$(id -u)" != 0 ]; then echo "e2e_slurm: the parts without Slurm pass; a private Slurm cluster needs root"
  else echo "e2e_slurm: the parts without Slurm pass; Slurm is not installed (apt-get install slurm-wlm munge)"; fi
  exit 77
fi
start=$(date +%s)
cluster=$tmp/cluster
chmod 711 "$tmp" # munged wants its socket's directories searchable by all
sh "$repo/scripts/slurm/local-cluster.sh" start "$cluster" $$ 900 > cluster.txt 2>&1
rc=$?
if [ $rc != 0 ]; then
  cat cluster.txt
  fail "the private Slurm cluster did not start (exit $rc)"
  exit 1
fi
export SLURM_CONF=$cluster/slurm.conf
cpus=$(sinfo -h -o %c | head -n 1)
[ "$cpus" -ge 2 ] 2>/dev/null && cpus=2 || cpus=1
mem=$(( $(sinfo -h -o %m | head -n 1) / 2 - 24 ))M   # two tasks at a time; also each point's --mem-limit
# submit OPTIONS: scripts/slurm/submit.sh on tiny.sweep, with --define "NB=$nb" in SWEEP_FLAGS
nb="32 64"
submit() {
  set -- "$@" -- --define "NB=$nb"
  timeout 120 sh "$repo/scripts/slurm/submit.sh" --bin "$bin" --spec tiny.sweep --time 10 --mem "$mem" --poll 1 "$@"
}
# the array tasks' states that submit --wait printed: "1 COMPLETED, 2 FAILED, ..."
states() { sed -n 's/.*: array [0-9]*: task //p' "$1"; }

# a sweep of 3 shards whose task 2 dies after its first row
ATTNBENCH_SLURM_TEST_KILL=2 submit --out out --shards 3 --cpus $cpus --wait > sub1.txt 2>&1
rc=$?
[ $rc = 1 ] || { fail "submission with a failing task: exit $rc, want 1"; cat sub1.txt; }
array=$(sed -n 's/.*job array \([0-9]*\) .*/\1/p' sub1.txt)
echo "first submission: array $array: tasks $(states sub1.txt)"
[ "$(states sub1.txt)" = "1 COMPLETED, 2 FAILED, 3 COMPLETED" ] || fail "array states '$(states sub1.txt)'"
grep -q 'incomplete: shard(s) 2 of 3' sub1.txt || fail "no 'incomplete: shard(s) 2' report: $(cat sub1.txt)"
[ "$(cat out/slurm/incomplete 2>/dev/null)" = 2 ] || fail "out/slurm/incomplete is not '2'"
[ ! -e out/sweep.csv ] || fail "an incomplete sweep was merged into out/sweep.csv"
[ -n "$array" ] && scontrol show job "$array" | grep -q "NumCPUs=$cpus " || fail "the array's tasks did not get $cpus CPUs"
grep -qx "threads $cpus" out/slurm/spec.sweep || fail "the tasks' spec does not set threads $cpus"
shard2=out/shards/2-of-3.csv
left=$( [ -f $shard2 ] && rows $shard2 || echo 0)
first_row=$(sed -n 2p $shard2 2>/dev/null)
[ "$left" = 1 ] || fail "the killed task left $left row(s) in $shard2, want its first point's 1"

# resubmissions that must be refused, before anything is submitted
submit --out out --shards 3 --cpus $((3 - cpus)) --indices 2 > bad1.txt 2>&1
rc=$?
[ $rc = 2 ] && grep -q 'CPUS' bad1.txt || fail "resubmission with another CPUS: exit $rc, want 2: $(cat bad1.txt)"
cp out/shards/1-of-3.env saved.env
sed -i 's/^commit=.*/commit=0123456789ab/' out/shards/1-of-3.env
submit --out out --shards 3 --cpus $cpus --indices 2 > bad2.txt 2>&1
rc=$?
[ $rc = 2 ] && grep -q 'made by commit 0123456789ab' bad2.txt ||
  fail "resubmission onto shards of another commit: exit $rc, want 2: $(cat bad2.txt)"
cp saved.env out/shards/1-of-3.env
submit --out out --shards 3 --cpus $cpus --indices 4 > bad3.txt 2>&1
rc=$?
[ $rc = 2 ] || fail "INDICES=4 of 3 shards: exit $rc, want 2"
nb="32 128"
submit --out out --shards 3 --cpus $cpus --indices 2 > bad4.txt 2>&1
rc=$?
nb="32 64"
[ $rc = 2 ] && grep -q 'points differ' bad4.txt || fail "resubmission with other --define values: exit $rc, want 2: $(cat bad4.txt)"

# resubmit index 2 only: the sweep completes
submit --out out --shards 3 --cpus $cpus --indices 2 --wait > sub2.txt 2>&1
rc=$?
[ $rc = 0 ] || { fail "resubmission of index 2: exit $rc"; cat sub2.txt out/slurm/logs/*.out; }
echo "resubmission: array $(sed -n 's/.*job array \([0-9]*\) .*/\1/p' sub2.txt): task $(states sub2.txt)"
[ "$(states sub2.txt)" = "2 COMPLETED" ] || fail "resubmitted array states '$(states sub2.txt)'"
if [ -f out/sweep.csv ]; then
  [ "$(rows out/sweep.csv)" = 7 ] || fail "out/sweep.csv has $(rows out/sweep.csv) rows, want 7"
  [ "$(grep -c '^layer,' out/sweep.csv)" = 1 ] || fail "out/sweep.csv has more than one header"
  keys out/sweep.csv | sort > got.keys
  dry tiny.sweep |
    awk '$1 ~ /^[0-9]+$/ { for (i = 1; i < NF; i++) { if ($i == "--attention") a = $(i + 1); if ($i == "--n") n = $(i + 1) } print a "|" n }' |
    sort > want.keys
  cmp -s got.keys want.keys || { fail "out/sweep.csv is not every point exactly once"; diff want.keys got.keys; }
  [ "$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "threads") c = i; next } { print $c }' out/sweep.csv | sort -u)" = "$cpus" ] ||
    fail "the rows' threads are not CPUS=$cpus"
  [ "$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "status") c = i; next } $c != "ok"' out/sweep.csv | wc -l)" = 0 ] ||
    fail "rows not ok: $(cut -c1-200 out/sweep.csv)"
  [ "$(sed -n 2p $shard2)" = "$first_row" ] || fail "the killed task's finished row was not kept"
  [ "$(rows $shard2)" = 2 ] || fail "$shard2 has $(rows $shard2) rows after the resume, want 2"
  [ -s out/summary.md ] || fail "no out/summary.md"
  [ "$(ls out/figures/*.svg 2>/dev/null | wc -l)" -gt 0 ] || fail "no figures in out/figures"
  grep -q '^commit=' out/sweep.env || fail "out/sweep.env has no commit="
else
  fail "no out/sweep.csv after the resubmission"
fi

# the merge refuses the Slurm shards beside a shard of another sweep
refused "shards of two specs" spec out/shards/1-of-3.csv m1.csv

# more shards than points: the empty shards have no file, the merge does not mind
submit --out out9 --shards 9 --cpus 1 --wait > sub3.txt 2>&1
rc=$?
[ $rc = 0 ] || { fail "9 shards of 7 points: exit $rc"; cat sub3.txt out9/slurm/logs/merge-*.out; }
echo "9 shards: array $(sed -n 's/.*job array \([0-9]*\) .*/\1/p' sub3.txt): tasks $(states sub3.txt)"
[ -f out9/sweep.csv ] && [ "$(rows out9/sweep.csv)" = 7 ] || fail "9 shards: out9/sweep.csv is not 7 rows"
[ "$(ls out9/shards/*.csv | wc -l)" = 7 ] || fail "9 shards: $(ls out9/shards/*.csv | wc -l) shard files, want 7"

# SLURM_QUICK=1 (make test-slurm): the quick sweep as 3 shards through Slurm
# beside the same sweep run here: the merged rows are the local run's points,
# each once. A point is its identity (attnbench point-key; the rows'
# measurements differ).
if [ "${SLURM_QUICK:-0}" = 1 ]; then
  quick="$repo/bench/sweeps/quick.sweep"
  pointkeys() { "$bin" point-key "$1" | sort; } # the identity resume and merge know a point by
  t0=$(date +%s)
  "$bin" sweep "$quick" --out local/sweep.csv > /dev/null 2> local.err || fail "quick sweep here: $(tail -n 1 local.err)"
  t1=$(date +%s)
  timeout 600 sh "$repo/scripts/slurm/submit.sh" --bin "$bin" --spec "$quick" --time 10 --mem "$mem" --poll 1 \
    --out quick --shards 3 --cpus 1 --wait > subq.txt 2>&1 || { fail "quick sweep through Slurm: $(tail -n 5 subq.txt)"; }
  t2=$(date +%s)
  echo "quick sweep: $((t1 - t0)) s here, $((t2 - t1)) s as 3 shards through Slurm (tasks $(states subq.txt))"
  if [ -f quick/sweep.csv ]; then
    pointkeys local/sweep.csv > local.keys
    pointkeys quick/sweep.csv > quick.keys
    [ "$(wc -l < local.keys)" -gt 10 ] || fail "the local quick sweep has $(wc -l < local.keys) rows"
    cmp -s local.keys quick.keys || { fail "the merged quick sweep's points differ from the local run's"; diff local.keys quick.keys | head; }
    [ "$(uniq -d quick.keys | wc -l)" = 0 ] || fail "the merged quick sweep repeats a point"
    [ "$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "status") c = i; next } $c == "ok"' quick/sweep.csv | wc -l)" = \
      "$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "status") c = i; next } $c == "ok"' local/sweep.csv | wc -l)" ] ||
      fail "the merged quick sweep has another number of ok rows than the local run"
  else
    fail "no quick/sweep.csv"
  fi
fi

# every job finished and recorded; then nothing of the cluster may be left running
echo "jobs (id, state, array task):"
awk '{ for (f = 1; f <= NF; f++) if ($f ~ /^(JobId|JobState|ArrayTaskId)=/) printf " %s", $f; print "" }' "$cluster/jobcomp.txt"
pids=$(cat "$cluster"/munged.pid "$cluster"/slurmctld.pid "$cluster"/slurmd.pid 2>/dev/null)
sh "$repo/scripts/slurm/local-cluster.sh" stop "$cluster"
cluster=""
for p in $pids; do kill -0 "$p" 2>/dev/null && fail "daemon $p still running after stop"; done
echo "slurm part: $(( $(date +%s) - start )) s"

[ $fails = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "e2e_slurm: ok"

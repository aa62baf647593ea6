#!/bin/sh
# submit.sh — what `make sweep-slurm` runs: one Slurm job array for the
# shards of a sweep, and one job after it that merges, analyzes and draws.
#
#   sh scripts/slurm/submit.sh --bin BUILD/attnbench --spec SPEC --out DIR --shards N
#       [--indices LIST] [--partition P] [--time T] [--cpus C] [--mem M]
#       [--resume auto|0|1] [--wait] [--poll SECONDS] [-- SWEEP FLAGS...]
#
# Task I of the array (scripts/slurm/sweep.sbatch) runs
#   attnbench sweep DIR/slurm/spec.sweep --shard I/N --out DIR/shards/I-of-N.csv
# and the job after it (scripts/slurm/finish.sbatch, --dependency=afterany)
# merges the shards into DIR/sweep.csv when all are complete, then runs
# `attnbench analyze` and scripts/figures.sh. DIR/slurm/ holds what the jobs
# run (a copy of the binary, the spec with `threads C`, the list of its
# points), their logs, and `jobs`, the ids submitted so far. The sweep flags
# go to every task and to the merge job's completeness check (--define and
# --capture change the points).
#
# --indices 3,5 (or 2-4): only those tasks (sbatch --array=3,5), resuming
# their shards: what a failed task left is kept and its missing points run.
# --resume: auto (default) keeps the shards when they are of this build's
# clean commit and the same spec and points, else starts them afresh; 1 keeps
# them (and refuses when they are of another commit, spec or points); 0 starts
# afresh. Jobs of an earlier submission still queued or running are refused.
# --cpus C goes to Slurm (--cpus-per-task) and to the sweep (the spec's
# `threads` knob becomes C); --partition, --time, --mem go to sbatch (empty:
# the cluster's default). --wait: wait for the merge job, print the tasks'
# states, exit with its status. Exit status: 0 submitted (or, with --wait,
# the sweep is merged); 2 bad options, a bad spec, or shards that cannot be
# resumed; 1 sbatch failed (or, with --wait, the sweep is not complete).
set -u
me="make sweep-slurm"
bin="" spec="" out="" n="" indices="" partition="" time="" cpus="" mem="" resume=auto wait=0 poll=10
while [ $# -gt 0 ]; do
  case "$1" in
    --bin|--spec|--out|--shards|--indices|--partition|--time|--cpus|--mem|--resume|--poll)
      [ $# -ge 2 ] || { echo "$me: $1 needs a value" >&2; exit 2; }
      v=$2
      case "$1" in
        --bin) bin=$v ;; --spec) spec=$v ;; --out) out=$v ;; --shards) n=$v ;;
        --indices) indices=$v ;; --partition) partition=$v ;; --time) time=$v ;;
        --cpus) cpus=$v ;; --mem) mem=$v ;; --resume) resume=$v ;; --poll) poll=$v ;;
      esac
      shift 2 ;;
    --wait) wait=1; shift ;;
    --) shift; break ;;
    *) echo "$me: unknown option '$1'" >&2; exit 2 ;;
  esac
done
# what is left: the sweep's own flags (SWEEP_FLAGS)

is_count() { case "$1" in ''|*[!0-9]*|0*) return 1 ;; esac; [ ${#1} -le 6 ]; }
[ -n "$bin" ] && [ -x "$bin" ] || { echo "$me: no attnbench binary '$bin' (make builds it)" >&2; exit 2; }
[ -n "$spec" ] && [ -f "$spec" ] || { echo "$me: no spec '$spec' (SWEEP=NAME reads bench/sweeps/NAME.sweep)" >&2; exit 2; }
[ -n "$out" ] || { echo "$me: OUT is empty" >&2; exit 2; }
case "$out" in *[[:space:]]*) echo "$me: OUT '$out' holds a blank; the job scripts need one without" >&2; exit 2 ;; esac
is_count "$n" || { echo "$me: SHARDS='$n': expected the number of array tasks, e.g. SHARDS=8" >&2; exit 2; }
[ -z "$cpus" ] || is_count "$cpus" || { echo "$me: CPUS='$cpus': expected a positive integer" >&2; exit 2; }
is_count "$poll" || { echo "$me: --poll '$poll': expected whole seconds" >&2; exit 2; }
case "$resume" in auto|0|1) ;; *) echo "$me: RESUME='$resume': expected auto, 0 or 1" >&2; exit 2 ;; esac
if [ -n "$indices" ]; then
  # 3,5 or 2-4,7: each index within 1..N
  bad=$(echo "$indices" | awk -F, -v n="$n" '{
    for (f = 1; f <= NF; f++) {
      if ($f !~ /^[0-9]+(-[0-9]+)?$/) { print $f; exit }
      split($f, r, "-"); hi = (r[2] == "" ? r[1] : r[2])
      if (r[1] + 0 < 1 || hi + 0 > n || r[1] + 0 > hi + 0) { print $f; exit }
    } }')
  [ -z "$bad" ] || { echo "$me: INDICES='$indices': '$bad' is not an index or range within 1..$n" >&2; exit 2; }
fi
for a in "$@"; do
  case "$a" in --shard|--out|--dry-run) echo "$me: SWEEP_FLAGS may not hold $a (the tasks set it)" >&2; exit 2 ;; esac
done
for t in sbatch squeue scancel; do
  command -v $t >/dev/null 2>&1 || { echo "$me: $t not found: run this on a Slurm login node (or see scripts/slurm/local-cluster.sh)" >&2; exit 2; }
done

repo=$(cd "$(dirname "$0")/../.." && pwd)
case "$bin" in /*) ;; *) bin=$(pwd)/$bin ;; esac
mkdir -p "$out/slurm/logs" || exit 1
out=$(cd "$out" && pwd)
run=$out/slurm

# the spec the tasks run: the user's, with `threads C` (a knob line before the
# first group sets the default of every group; other threads lines go)
"$bin" sweep "$spec" --check "$@" >/dev/null || { echo "$me: $spec is not a valid spec, or SWEEP_FLAGS are wrong (above)" >&2; exit 2; }
if [ -n "$cpus" ]; then
  { echo "# written by make sweep-slurm: the spec below with threads = CPUS"
    echo "threads $cpus"
    grep -Ev '^[[:space:]]*threads([[:space:]]|#|$)' "$spec"; } > "$run/spec.sweep.new"
else
  cp "$spec" "$run/spec.sweep.new"
fi || exit 1
# the points, as the tasks will expand them (--define and --capture in the flags count)
"$bin" sweep "$run/spec.sweep.new" --dry-run --out /dev/null "$@" 2>/dev/null |
  awk '$1 ~ /^[0-9]+$/ { $2 = ""; sub(/ +# .*/, ""); print }' > "$run/points.new" || exit 1

# jobs of an earlier submission still queued or running would write the same shards
active=""
if [ -f "$run/jobs" ]; then
  for id in $(grep -oE '(array|merge)=[0-9]+' "$run/jobs" | cut -d= -f2 | sort -u); do
    [ -n "$(squeue -h -j "$id" -o %i 2>/dev/null)" ] && active="$active${active:+,}$id"
  done
fi
if [ -n "$active" ]; then
  rm -f "$run/spec.sweep.new" "$run/points.new"
  echo "$me: job(s) $active of an earlier submission are still queued or running for $out (squeue -j $active); wait for them or scancel them first" >&2
  exit 2
fi

# keep the shards, or start afresh
commit=$("$bin" --version | sed -n 's/.*(commit \(.*\)).*/\1/p')
why=""
[ -f "$run/spec.sweep" ] && ! cmp -s "$run/spec.sweep" "$run/spec.sweep.new" &&
  why="$run/spec.sweep differs from the spec (or CPUS) given now"
[ -z "$why" ] && [ -f "$run/points" ] && ! cmp -s "$run/points" "$run/points.new" &&
  why="the points differ from the shards' ($run/points): other --define or --capture values in SWEEP_FLAGS?"
for f in "$out"/shards/*.csv; do
  [ -e "$f" ] && [ -z "$why" ] || continue
  case "$f" in *-of-$n.csv) ;; *) why="$f is a shard of another split (SHARDS)"; continue ;; esac
  c=$("$bin" env-get commit "$f" 2>/dev/null)
  [ "$c" = "$commit" ] || why="$f was made by commit ${c:-(no .env)}, this build is $commit"
done
have=$(ls "$out"/shards/*.csv 2>/dev/null | wc -l)
clean=1
case "$commit" in *-dirty|unknown*|'') clean=0 ;; esac
fresh=0
if [ "$resume" = 0 ]; then
  fresh=1
elif [ -n "$indices" ] || [ "$resume" = 1 ]; then
  if [ -n "$why" ]; then
    rm -f "$run/spec.sweep.new" "$run/points.new"
    echo "$me: cannot resume the shards in $out/shards: $why; RESUME=0 starts them afresh" >&2
    exit 2
  fi
  [ "$have" -gt 0 ] && [ $clean = 0 ] &&
    echo "$me: warning: resuming shards of commit $commit: uncommitted changes since they were made cannot be seen" >&2
elif [ "$have" -gt 0 ]; then
  if [ -n "$why" ] || [ $clean = 0 ]; then
    echo "$me: starting the shards afresh: ${why:-commit $commit is not a clean commit}"
    fresh=1
  else
    echo "$me: resuming $have shard file(s) of commit $commit in $out/shards (RESUME=0 starts afresh)"
  fi
fi
if [ $fresh = 1 ]; then
  # rows are never deleted: the old shards go aside, to shards.old-N
  if [ -d "$out/shards" ]; then
    k=1
    while [ -e "$out/shards.old-$k" ]; do k=$((k + 1)); done
    mv "$out/shards" "$out/shards.old-$k" || exit 1
    echo "$me: the old shards are in $out/shards.old-$k"
  fi
  rm -f "$run"/finished-* "$run/incomplete"
fi
mkdir -p "$out/shards" || exit 1
mv "$run/spec.sweep.new" "$run/spec.sweep" && mv "$run/points.new" "$run/points" || exit 1
# the binary the jobs run, copied so that a rebuild meanwhile cannot mix code (rename: running tasks keep theirs)
cp "$bin" "$run/attnbench.new" && mv "$run/attnbench.new" "$run/attnbench" || exit 1

opts=""
[ -n "$partition" ] && opts="$opts --partition=$partition"
[ -n "$time" ] && opts="$opts --time=$time"
[ -n "$mem" ] && opts="$opts --mem=$mem"
array=${indices:-1-$n}
# $opts and the sweep flags ("$@") are words on purpose
jid=$(sbatch --parsable --job-name=attnbench-sweep --array="$array" ${cpus:+--cpus-per-task=$cpus} $opts \
        --chdir="$repo" --output="$run/logs/sweep-%A_%a.out" \
        "$repo/scripts/slurm/sweep.sbatch" "$out" "$n" "$@") || { echo "$me: sbatch of the job array failed" >&2; exit 1; }
jid=${jid%%;*}
fid=$(sbatch --parsable --job-name=attnbench-merge --dependency="afterany:$jid" --cpus-per-task=1 $opts \
        --chdir="$repo" --output="$run/logs/merge-%j.out" \
        "$repo/scripts/slurm/finish.sbatch" "$out" "$n" "$@") || {
  echo "$me: sbatch of the merge job failed; cancelling the array $jid" >&2
  scancel "$jid" 2>/dev/null
  exit 1
}
fid=${fid%%;*}
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) array=$jid tasks=$array shards=$n merge=$fid spec=$spec commit=$commit" >> "$run/jobs"

cat <<EOF
$me: job array $jid (tasks $array of $n: $out/shards/I-of-$n.csv), merge job $fid after it ($out/sweep.csv)
  watch:   squeue -j $jid,$fid        (squeue -r: one line per task)
  logs:    $run/logs/sweep-${jid}_I.out, $run/logs/merge-$fid.out
  cancel:  scancel $jid $fid
  a failed task keeps its rows; resubmit it with the same command and INDICES=I
EOF
[ $wait = 1 ] || exit 0

# --wait: until the merge job has run (or left the queue without running)
echo "$me: waiting for job $fid (polling every $poll s)"
while [ ! -f "$run/finished-$fid" ] && [ -n "$(squeue -h -j "$fid" -o %i 2>/dev/null)" ]; do sleep "$poll"; done
t=0
while [ ! -f "$run/finished-$fid" ] && [ $t -lt 10 ]; do sleep 1; t=$((t + 1)); done  # a shared disk may lag
states=$(scontrol show job "$jid" 2>/dev/null | awk '
  { for (f = 1; f <= NF; f++) { if ($f ~ /^ArrayTaskId=/) { split($f, a, "="); id = a[2] }
                                 if ($f ~ /^JobState=/) { split($f, s, "="); print id " " s[2] } } }' | sort -n | awk '{ printf "%s%s %s", sep, $1, $2; sep = ", " }')
[ -n "$states" ] && echo "$me: array $jid: task $states"
rc=$(cat "$run/finished-$fid" 2>/dev/null)
if [ "$rc" = 0 ]; then
  echo "$me: done: $out/sweep.csv, $out/summary.md, $out/figures/"
  exit 0
fi
if [ -f "$run/incomplete" ]; then
  echo "$me: incomplete: shard(s) $(cat "$run/incomplete") of $n; resubmit them with INDICES=$(cat "$run/incomplete") (see $run/logs/merge-$fid.out)" >&2
else
  echo "$me: the merge job $fid ${rc:+exited $rc}${rc:-ended without a result (cancelled?)}: see $run/logs/merge-$fid.out" >&2
fi
exit 1

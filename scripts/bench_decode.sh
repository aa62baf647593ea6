#!/bin/sh
# bench_decode.sh — make bench's decode section (scripts/bench.sh runs it;
# it runs alone too): every decode family against its roofline.
#
#   sh scripts/bench_decode.sh BUILD OUT [full|quick]
#
# Families: exact with mha, mqa, gqa 2 and mhe-mul, topk (k 64), window
# (sink 4, window 256), performer (M 256), and exact MHA with its cache
# stored as f16, q8_0, q4_0 and kivi (4 bits; --kv-format, kernels/
# kv_format.h: "exact MHA @q8_0"); heads 8 of 64, synthetic input
# (seed 1, score-std 4), batch 1, 16 timed steps; at context L = 8192 and
# 65536 (quick: 1024 and 4096), on 1 and THREADS (default 2) threads.
# Per thread count, in one window: the roofline probe (`attnbench decode
# --probe`: the read bandwidth over working sets from 256 KiB to 1 GiB and
# the sgemm rate, bench/measure/roofline.h), every family at every L with
# --probe-file (the row's roofline_s and roofline_frac), then the probe
# again; the load average before and after. Outputs, in OUT:
#   decode.csv         the rows (decode.env: the machine and the curve used)
#   decode_probe_T.csv the probe of T threads the rows used (before)
#   decode.md          the Markdown section: per row step time, roofline,
#                      fraction; the targets; the timing context
# A warning (stderr and decode.md) when a probe's bandwidth at 1 GiB or its
# sgemm rate moved by more than 10% between before and after, or the load
# average exceeds the threads.
set -eu

BUILD=${1:?usage: bench_decode.sh BUILD OUT [full|quick]}
OUT=${2:?usage: bench_decode.sh BUILD OUT [full|quick]}
SIZE=${3:-full}
THREADS=${THREADS:-2}
AB=$BUILD/attnbench
here=$(cd "$(dirname "$0")/.." && pwd)
case "$SIZE" in
  full)  LS="8192 65536" ;;
  quick) LS="1024 4096" ;;
  *) echo "bench_decode.sh: size '$SIZE': full or quick" >&2; exit 2 ;;
esac
S=16 SEED=1 SCORE_STD=4
export ATTNBENCH_SIDECAR_PROBE=0 # the sidecar records the roofline curve the rows used instead
mkdir -p "$OUT"
dcsv=$OUT/decode.csv dmd=$OUT/decode.md
rm -f "$dcsv" "$OUT/decode.env" "$dmd" "$OUT"/decode_probe_*.csv
tmp=$(mktemp -d /tmp/attnbench-bench-decode-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
: > "$tmp/warnings"; : > "$tmp/context"

warn() { echo "warning: $*" | tee -a "$tmp/warnings" >&2; }
# at_top FILE T: "GB/s at the largest size,sgemm GFLOP/s" of T threads in a probe file
at_top() { awk -F, -v t="$2" '$1 == t { g = $2; s = $4 } END { print g "," s }' "$1"; }
# drift WHAT A B UNIT: a warning when A and B differ by more than 10%
drift() {
  if awk -v a="$2" -v b="$3" 'BEGIN { exit !(a > 1.1 * b || b > 1.1 * a) }'; then
    warn "$1 before and after the decode rows differ by more than 10% ($2 and $3 $4): the machine was not quiet"
  fi
}
load() {
  l=$(cut -d' ' -f1 /proc/loadavg)
  if awk -v l="$l" -v t="$1" 'BEGIN { exit !(l > t) }'; then
    warn "load average $l exceeds the $1 thread(s) of the decode rows: other processes share the cores"
  fi
  echo "$l"
}

families="--projection mha
--projection mqa
--projection gqa --kv-heads 2
--projection mhe-mul
--attention topk --k 64
--attention window --sink 4 --window 256
--attention performer --features 256
--kv-format f16
--kv-format q8_0
--kv-format q4_0
--kv-format kivi --bits 4"

thread_counts=1
[ "$THREADS" = 1 ] || thread_counts="1 $THREADS"
for T in $thread_counts; do
  probe=$OUT/decode_probe_$T.csv
  l0=$(load "$T")
  echo "bench: attnbench decode --probe --threads $T" >&2
  "$AB" decode --probe --threads "$T" > "$probe"
  for L in $LS; do
    echo "$families" | while read -r fam; do
      echo "bench: attnbench decode $fam --context $L --threads $T" >&2
      # shellcheck disable=SC2086 # fam is a list of options
      "$AB" decode --heads 8 --d-head 64 --threads "$T" --seed $SEED --score-std $SCORE_STD \
        --context "$L" --steps $S $fam --probe-file "$probe" --csv "$dcsv" < /dev/null
    done
  done
  "$AB" decode --probe --threads "$T" > "$tmp/after_$T.csv"
  l1=$(load "$T")
  b=$(at_top "$probe" "$T") a=$(at_top "$tmp/after_$T.csv" "$T")
  drift "the $T-thread bandwidth at 1 GiB" "${b%,*}" "${a%,*}" GB/s
  drift "the $T-thread sgemm rate" "${b#*,}" "${a#*,}" GFLOP/s
  echo "$T thread(s): load average $l0 before and $l1 after; bandwidth at 1 GiB ${b%,*} and ${a%,*} GB/s, sgemm ${b#*,} and ${a#*,} GFLOP/s (before, after; the rows use before)." >> "$tmp/context"
done

verdict_awk=$(cat "$here/scripts/verdict.awk")
awk -F, -v S=$S -v threads="$THREADS" -v Lmax="${LS#* }" -v Lmin="${LS%% *}" "$verdict_awk"'
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  { rows++; for (i = 1; i <= NF; i++) cell[rows, i] = $i }
  function get(r, name) { return cell[r, col[name]] }
  function stored(r,    f) { # the cache format, when not f32: " @q8_0", " @kivi-4"
    f = get(r, "kv_format")
    if (f == "" || f == "f32") return ""
    return " @" f (f == "kivi" ? "-" get(r, "kv_bits") : "")
  }
  function family(r,    a, p) {
    a = get(r, "attention"); p = get(r, "projection")
    if (a == "exact" && p == "gqa") return "exact GQA-" get(r, "kv_heads")
    if (a == "exact") return "exact " (p == "mhe-mul" ? "MHE (mhe-mul)" : toupper(p)) stored(r)
    if (a == "topk") return "top-k (k " get(r, "k") ")"
    if (a == "window") return "window (sink " get(r, "sink") ", " get(r, "window") ")"
    if (a == "performer") return "performer (M " get(r, "features") ")"
    return a " " p
  }
  function find(fam, L, t,    r) {
    for (r = 1; r <= rows; r++)
      if (family(r) == fam && get(r, "context") == L && get(r, "threads") == t && get(r, "status") == "ok") return r
    return 0
  }
  END {
    printf "\n## Decode at its roofline\n\n"
    printf "8 heads of 64, synthetic input (seed 1, score-std 4), batch 1, %d timed steps after a\n", S
    printf "warm-up step; time per step is the median. roofline = max(bytes a step reads / the read\n"
    printf "bandwidth at that working set, flops / sgemm rate), from `attnbench decode --probe` on the\n"
    printf "same threads just before (bench/measure/roofline.h); %% of roofline = roofline / step time;\n"
    printf "bound: which term of the roofline is the larger (memory: the bytes; compute: the flops);\n"
    printf "vs exact MHA: the step time, and the roofline, over exact MHA'"'"'s (f32) at the same L and threads.\n\n"
    printf "| family | L | threads | step ms | roofline ms | %% of roofline | bound | step vs exact MHA | roofline vs exact MHA | read GB/s | rel_err |\n"
    printf "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
    for (r = 1; r <= rows; r++) {
      m = find("exact MHA", get(r, "context"), get(r, "threads"))
      vs = m ? sprintf("%.2fx", get(r, "step_time_s") / get(m, "step_time_s")) : "—"
      vr = m ? sprintf("%.2fx", get(r, "roofline_s") / get(m, "roofline_s")) : "—"
      printf "| %s | %s | %s | %.3g | %.3g | %.0f%% | %s | %s | %s | %.3g | %.3g |\n", family(r), get(r, "context"), get(r, "threads"),
             1000 * get(r, "step_time_s"), 1000 * get(r, "roofline_s"), 100 * get(r, "roofline_frac"), get(r, "roofline_bound"),
             vs, vr, get(r, "read_gbps"), get(r, "rel_err")
    }
    ex = find("exact MHA", Lmax, threads); mq = find("exact MQA", Lmax, threads)
    printf "\n| target | measured | met |\n| --- | --- | --- |\n"
    x = ex ? get(ex, "roofline_frac") : 0
    printf "| exact MHA, L = %d, %d threads: at least 80%% of its roofline | %s |\n", Lmax, threads, target_cells(x, ">=", 0.8, ex, 100, 0, "", "%")
    x = (ex && mq) ? get(mq, "step_time_s") / get(ex, "step_time_s") : 0
    printf "| exact MQA, L = %d, %d threads: step at most 0.25x MHA'"'"'s | %s |\n", Lmax, threads, target_cells(x, "<=", 0.25, ex && mq, 1, 2, "", "x")
    e1 = find("exact MHA", Lmax, 1)
    x = e1 ? get(e1, "roofline_frac") : 0
    printf "| exact MHA, L = %d, 1 thread: at least 80%% of its roofline | %s |\n", Lmax, target_cells(x, ">=", 0.8, e1, 100, 0, "", "%")
    for (t = 1; t <= 2; t++) {
      tt = t == 1 ? 1 : threads
      es = find("exact MHA", Lmin, tt)
      x = es ? get(es, "roofline_frac") : 0
      printf "| exact MHA, L = %d, %d thread(s): at least 70%% of its roofline | %s |\n", Lmin, tt, target_cells(x, ">=", 0.7, es, 100, 0, "", "%")
      if (threads == 1) break
    }
    q8 = find("exact MHA @q8_0", Lmax, threads)
    x = (ex && q8) ? get(q8, "step_time_s") / get(ex, "step_time_s") : 0
    printf "| q8_0 step at most 0.4x f32'"'"'s (exact MHA, L = %d, %d threads) | %s |\n", Lmax, threads, target_cells(x, "<=", 0.4, ex && q8, 1, 2, "", "x")
  }' "$dcsv" > "$dmd"
{
  printf '\n### Decode timing context\n\n'
  cat "$tmp/context"
  if [ -s "$tmp/warnings" ]; then printf '\n'; sed 's/^warning: /- **Warning:** /; s/$/./' "$tmp/warnings"; fi
} >> "$dmd"
echo "bench: wrote $dcsv and $dmd" >&2

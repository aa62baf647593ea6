#!/bin/sh
# bench.sh — `make bench`: the suite's attention kernels and PyTorch side by
# side, on the same inputs, in one run, against this machine's sgemm rate.
#
#   sh scripts/bench.sh BUILD OUT [full|quick]
#
# Every configuration is heads 8, d_head 64, THREADS threads (default 2),
# synthetic input (seed 1, --score-std 4), non-causal unless said:
#   n = 4096   vanilla, chunked, torch-exact
#   n = 8192   chunked, chunked causal
#   n = 16384  topk (k 64, C 1024), chunked, performer (M 256),
#              torch-topk, torch-performer
#   decode     scripts/bench_decode.sh: exact with mha, mqa, gqa 2, mhe-mul;
#              topk (k 64), window (sink 4, window 256), performer (M 256) at
#              context L = 8192 and 65536 on 1 and THREADS threads, each row
#              against its roofline (the bandwidth curve and sgemm rate of
#              `attnbench decode --probe`, measured in the same window)
# (`quick`: n = 1024, 2048, 4096 and L = 1024, 4096, a smoke test of a few minutes.)
#
# The peer (bench/peers/torch_attention.py, Debian's python3-torch) reads the
# q, k, v of `attnbench run --dump DIR` and reports its error against the
# suite's float64 reference in the same DIR; torch-performer uses the suite's
# own random features (performer_features). Without PyTorch the peer rows
# are left out and said so. Outputs, in OUT:
#   bench.csv   all rows, attnbench's columns (bench.env: the machine, load_avg,
#               read_gbps_1t and read_gbps_all of the bandwidth probe)
#   bench.md    medians, GFLOP/s, share of the sgemm rate, ratios, targets;
#               the decode table (time per step, roofline, share of it)
#   decode.csv  the decode rows (decode.env: the machine and the curve),
#               decode_probe_T.csv the probes, decode.md the decode section
#
# Timing: every process runs on one BLAS core, chosen as the program chooses
# it (a user's OPENBLAS_CORETYPE; else the detected core, or the one attnbench
# forces where OpenBLAS fell back to a generic core), recorded in blas_core,
# with THREADS BLAS and PyTorch threads. The first line on stderr is the
# timing context (core and why, threads, load average); bench warns, on
# stderr and under "Timing context" in bench.md, when the sgemm rate or the
# probe moved by more than 10% between before and after the kernels, and when
# the load average exceeds THREADS. Targets are judged on unrounded ratios,
# shown with the digits that agree with the verdict (scripts/verdict.awk). attnbench times at least 3 calls and 1 s after a
# warm-up call and reports the median; the PyTorch peer likewise, except
# torch-topk at n = 16384 (about 100 s a call here): 1 call after no warm-up.
# The limit is sgemm at N = 2048 (peers/sgemm_rate), as a rate after warm-up,
# measured before and after the kernels; the table uses the faster of the two.
set -eu

BUILD=${1:?usage: bench.sh BUILD OUT [full|quick]}
OUT=${2:?usage: bench.sh BUILD OUT [full|quick]}
SIZE=${3:-full}
THREADS=${THREADS:-2}
PYTHON=${PYTHON:-/usr/bin/python3}
AB=$BUILD/attnbench
here=$(cd "$(dirname "$0")/.." && pwd)
peer=$here/bench/peers/torch_attention.py

case "$SIZE" in
  full)  N_EXACT=4096 N_CAUSAL=8192 N_LONG=16384 SLOW_PEER="--warmup 0 --reps 1" ;;
  quick) N_EXACT=1024 N_CAUSAL=2048 N_LONG=4096 SLOW_PEER="" ;;
  *) echo "bench.sh: size '$SIZE': full or quick" >&2; exit 2 ;;
esac
K=64 CHUNK=1024 FEATURES=256 SEED=1 SCORE_STD=4 REF_ROWS=512

mkdir -p "$OUT"
csv=$OUT/bench.csv md=$OUT/bench.md dcsv=$OUT/decode.csv
rm -f "$csv" "$OUT/bench.env" "$md" "$dcsv" "$OUT/decode.env"
tmp=$(mktemp -d /tmp/attnbench-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

verdict_awk=$(cat "$here/scripts/verdict.awk")

# sidecar_get KEY FILE: the value of KEY= in a .env sidecar
sidecar_get() { sed -n "s/^$1=//p" "$2" | head -n 1; }
# above A B LIMIT: true when A > B * LIMIT (awk numbers)
above() { awk -v a="$1" -v b="$2" -v l="$3" 'BEGIN { exit !(a > b * l) }'; }
# drift WHAT A B UNIT: warns when two measurements of one limit differ by more than 10%
drift() {
  if above "$2" "$3" 1.1 || above "$3" "$2" 1.1; then
    echo "warning: $1 before and after the kernels differ by more than 10% ($2 and $3 $4): the machine was not quiet; the table uses the faster" | tee -a "$tmp/warnings" >&2
  fi
}
# busy WHEN: warns when the load average exceeds the threads bench uses
busy() {
  l=$(cut -d' ' -f1 /proc/loadavg)
  if above "$l" "$THREADS" 1; then
    echo "warning: load average $l $1 exceeds the $THREADS threads bench uses: other processes share the cores; times are not a quiet machine's" | tee -a "$tmp/warnings" >&2
  fi
  echo "$l"
}

# One core policy, the program's (bench/measure/env.c blas_ensure_native_core): the
# user's OPENBLAS_CORETYPE when set; else the core OpenBLAS detects, or,
# where that is a generic fallback core on a CPU with AVX-512 or AVX2, the
# core attnbench forces. A probe run says which; every process then runs on
# it (the same environment the program's re-exec sets).
ctx=$("$AB" run --n 16 --heads 1 --d-head 8 --reps 1 --warmup 0 --threads "$THREADS" --csv "$tmp/core.csv" 2>&1 >/dev/null |
      grep '^attnbench run: OpenBLAS core ' | head -n 1 || true)
core=$(sidecar_get blas_core "$tmp/core.env")
case "$(sidecar_get blas_core_forced_by "$tmp/core.env")" in
  attnbench*) export OPENBLAS_CORETYPE="$core" ATTNBENCH_NO_REEXEC=1 ;;
esac
export OPENBLAS_NUM_THREADS="$THREADS"
export ATTNBENCH_SIDECAR_PROBE=1 # bench.env and decode.env record the bandwidth probe
: > "$tmp/warnings"
echo "${ctx:-attnbench run: OpenBLAS core $core}" | sed 's/^attnbench run:/attnbench bench:/' >&2
load_first=$(busy "at the start")
echo "bench: sizes $SIZE; rows into $csv" >&2

have_torch=1
if ! "$PYTHON" -c 'import torch, numpy' >/dev/null 2>&1; then
  have_torch=0
  echo "bench: PyTorch not found for $PYTHON (apt-get install python3-torch); running the suite's methods without the peer" >&2
fi
torch_version=none
[ "$have_torch" = 0 ] || torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null)
header=$("$AB" run --n 16 --heads 1 --d-head 8 --reps 1 2>/dev/null | head -n 1)

common="--heads 8 --d-head 64 --threads $THREADS --seed $SEED --score-std $SCORE_STD"
suite() { # suite ARGS...: one attnbench row into the CSV
  echo "bench: attnbench run $*" >&2
  "$AB" run $common "$@" --csv "$csv"
}
torch_peer() { # torch_peer DIR ARGS...: one PyTorch row into the CSV
  [ "$have_torch" = 1 ] || return 0
  dir=$1; shift
  echo "bench: torch_attention.py $*" >&2
  "$PYTHON" "$peer" --input "$dir" --threads "$THREADS" --header "$header" --csv "$csv" \
    --label score_std="$SCORE_STD" --label seed="$SEED" --label head_sim=0 "$@"
}

# table CSV SGEMM_LINE: the Markdown report of the rows in CSV
table() {
  awk -v sgemm="$2" -v threads="$THREADS" -v core="$core" -v have_torch="$have_torch" -v torch="$torch_version" \
      -v nx="$N_EXACT" -v nc="$N_CAUSAL" -v nl="$N_LONG" -v cpu="$(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //')" \
      -v date="$(date -u '+%Y-%m-%d %H:%M UTC')" -v commit="$(git -C "$here" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" "$verdict_awk"'
  # split a CSV line (libcsv / Python csv: quotes only around fields that need them)
  function split_csv(line, f,    n, i, c, q, cur) {
    n = 0; cur = ""; q = 0
    for (i = 1; i <= length(line); i++) {
      c = substr(line, i, 1)
      if (q) { if (c == "\"") { if (substr(line, i + 1, 1) == "\"") { cur = cur c; i++ } else q = 0 } else cur = cur c }
      else if (c == "\"") q = 1
      else if (c == ",") { f[++n] = cur; cur = "" }
      else cur = cur c
    }
    f[++n] = cur
    return n
  }
  function get(r, name) { return cell[r, col[name]] }
  function find(att, n, causal,    r) {
    for (r = 1; r <= rows; r++)
      if (get(r, "attention") == att && get(r, "n") == n && get(r, "causal") == causal && get(r, "status") == "ok") return r
    return 0
  }
  function mib(b) { return b == "" ? "" : sprintf("%.1f", b / 1048576) }
  function peer_of(att) {
    if (att == "vanilla" || att == "chunked") return "torch-exact"
    if (att == "topk" || att == "performer") return "torch-" att
    return ""
  }
  NR == 1 { split_csv($0, h); for (i in h) col[h[i]] = i; next }
  { nf = split_csv($0, f); rows++; for (i = 1; i <= nf; i++) cell[rows, i] = f[i] }
  END {
    split(sgemm, s, ","); limit = s[6] + 0
    printf "# make bench: attnbench kernels and PyTorch, side by side\n\n"
    printf "%s; %s, %d threads, OpenBLAS core %s, PyTorch %s; commit %s.\n", date, cpu, threads, core, torch, commit
    printf "heads 8, d_head 64, synthetic input (seed 1, score-std 4), one run; times are medians\n"
    printf "(reps calls after a warm-up call). The limit: sgemm N = %d on the same core and\n", s[2]
    printf "threads (the faster of a run before and one after the kernels), **%.1f GFLOP/s**.\n", limit
    printf "`vs PyTorch`: the PyTorch peer'"'"'s median time / this one.\n\n"
    printf "| n | causal | method | knobs | median s | reps | GFLOP/s | %% of sgemm | vs PyTorch | rel_err | kernel peak MiB | workspace MiB |\n"
    printf "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
    for (r = 1; r <= rows; r++) {
      att = get(r, "attention"); n = get(r, "n"); c = get(r, "causal")
      knobs = ""
      if (get(r, "k") != "") knobs = knobs "k " get(r, "k") " "
      if (get(r, "chunk") != "") knobs = knobs "C " get(r, "chunk") " "
      if (get(r, "features") != "") knobs = knobs "M " get(r, "features") " "
      vs = ""
      p = peer_of(att)
      if (p != "" && (pr = find(p, n, c))) vs = sprintf("%.2f", get(pr, "time_median_s") / get(r, "time_median_s"))
      printf "| %s | %s | %s | %s | %s | %s | %s | %.0f%% | %s | %s | %s | %s |\n", n, c, att, knobs,
             get(r, "time_median_s"), get(r, "reps"), get(r, "gflops"), 100 * get(r, "gflops") / limit, vs,
             get(r, "rel_err"), mib(get(r, "kernel_peak_bytes")), mib(get(r, "workspace_bytes"))
    }
    printf "\n## Targets (ratios from this run)\n\n| target | measured | met |\n| --- | --- | --- |\n"
    ch = find("chunked", nx, 0); va = find("vanilla", nx, 0); te = find("torch-exact", nx, 0)
    x = ch ? get(ch, "gflops") / limit : 0
    printf "| chunked, n = %d: at least 50%% of the sgemm rate | %s |\n", nx, target_cells(x, ">=", 0.5, ch, 100, 0, "", "%")
    x = (ch && te) ? get(te, "time_median_s") / get(ch, "time_median_s") : 0
    printf "| chunked, n = %d: at least 3x PyTorch exact | %s |\n", nx, target_cells(x, ">=", 3, ch && te, 1, 2, "", "x")
    x = (va && te) ? get(te, "time_median_s") / get(va, "time_median_s") : 0
    printf "| vanilla, n = %d: at least 1.5x PyTorch exact | %s |\n", nx, target_cells(x, ">=", 1.5, va && te, 1, 2, "", "x")
    tk = find("topk", nl, 0); tt = find("torch-topk", nl, 0); cl = find("chunked", nl, 0)
    x = (tk && tt) ? get(tt, "time_median_s") / get(tk, "time_median_s") : 0
    printf "| topk (k 64, C 1024), n = %d: at least 3x the PyTorch top-k recipe | %s |\n", nl, target_cells(x, ">=", 3, tk && tt, 1, 2, "", "x")
    x = (tk && cl) ? get(tk, "time_median_s") / get(cl, "time_median_s") : 0
    printf "| topk, n = %d: at most 0.75x the time of chunked | %s |\n", nl, target_cells(x, "<=", 0.75, tk && cl, 1, 2, "", "x")
    x = tk ? get(tk, "kernel_peak_bytes") / get(tk, "workspace_bytes") - 1 : 0
    printf "| topk, n = %d: kernel_peak_bytes within 10%% of its formula (workspace_bytes) | %s |\n", nl, target_cells(x, "within", 0.1, tk, 100, 1, "+", "%")
    pf = find("performer", nl, 0); tp = find("torch-performer", nl, 0)
    x = (pf && tp) ? get(tp, "time_median_s") / get(pf, "time_median_s") : 0
    printf "| performer (M 256), n = %d: at least 2x PyTorch FAVOR+ | %s |\n", nl, target_cells(x, ">=", 2, pf && tp, 1, 2, "", "x")
    a = find("chunked", nc, 0); b = find("chunked", nc, 1)
    x = (a && b) ? get(b, "time_median_s") / get(a, "time_median_s") : 0
    printf "| chunked, n = %d: causal time at most 0.6x non-causal | %s |\n", nc, target_cells(x, "<=", 0.6, a && b, 1, 2, "", "x")
    if (have_torch != 1) printf "\nPyTorch was not found, so the PyTorch rows and ratios are missing (apt-get install python3-torch).\n"
  }' "$1"
}

sgemm_first=$("$BUILD/peers/sgemm_rate" 2048 "$THREADS" 2)
echo "bench: $sgemm_first" >&2

# ---- n = N_EXACT: exact attention ----------------------------------------------
d1=$tmp/n$N_EXACT; mkdir -p "$d1"
suite --attention chunked --n $N_EXACT --dump "$d1"        # the inputs and reference for the peer
suite --attention vanilla --n $N_EXACT
torch_peer "$d1" --attention exact

# ---- n = N_CAUSAL: what causal saves ------------------------------------------
suite --attention chunked --n $N_CAUSAL --ref-rows $REF_ROWS
suite --attention chunked --n $N_CAUSAL --ref-rows $REF_ROWS --causal

# ---- n = N_LONG: the approximations --------------------------------------------
d2=$tmp/n$N_LONG; mkdir -p "$d2"
suite --attention topk --n $N_LONG --k $K --chunk $CHUNK --dump "$d2"
suite --attention chunked --n $N_LONG --ref-rows $REF_ROWS
suite --attention performer --n $N_LONG --features $FEATURES --ref-rows $REF_ROWS
if [ "$have_torch" = 1 ]; then
  "$BUILD/peers/performer_features" 8 64 $FEATURES $SEED "$d2/w.npy"
  torch_peer "$d2" --attention topk --k $K --chunk $CHUNK $SLOW_PEER
  torch_peer "$d2" --attention performer --features-file "$d2/w.npy"
fi

# ---- the limit: the faster of the two sgemm runs -----------------------------------
sgemm_last=$("$BUILD/peers/sgemm_rate" 2048 "$THREADS" 2)
echo "bench: $sgemm_last" >&2
drift "the sgemm rate" "$(echo "$sgemm_first" | cut -d, -f6)" "$(echo "$sgemm_last" | cut -d, -f6)" GFLOP/s
sgemm=$(printf '%s\n%s\n' "$sgemm_first" "$sgemm_last" | sort -t, -k6 -g | tail -n 1)

# ---- decode: every family against its roofline (scripts/bench_decode.sh) -------
THREADS=$THREADS sh "$here/scripts/bench_decode.sh" "$BUILD" "$OUT" "$SIZE"
load_last=$(busy "after the kernels")

table "$csv" "$sgemm" > "$md"
cat "$OUT/decode.md" >> "$md"
{
  printf '\n## Timing context\n\n'
  echo "${ctx:-attnbench run: OpenBLAS core $core}" | sed 's/^attnbench run: //; s/, load average.*//; s/$/./'
  printf 'Load average %s at the start, %s after the kernels (%s cores). ' "$load_first" "$load_last" "$(nproc)"
  printf 'sgemm %s and %s GFLOP/s, before and after (the decode rows'"'"' probes: their own context above).\n' \
    "$(echo "$sgemm_first" | cut -d, -f6)" "$(echo "$sgemm_last" | cut -d, -f6)"
  if [ -s "$tmp/warnings" ]; then printf '\n'; sed 's/^warning: /- **Warning:** /; s/$/./' "$tmp/warnings"; fi
} >> "$md"
[ ! -f "$OUT/bench.env" ] || echo "torch=$torch_version" >> "$OUT/bench.env"
echo "bench: wrote $csv and $md" >&2
cat "$md"

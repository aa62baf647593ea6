#!/bin/sh
# peer_ggml.sh — ggml's CPU flash attention (ggml_flash_attn_ext, F32 K/V)
# timed on attnbench's decode and prefill shapes, a peer beside the suite:
#
#   sh scripts/peer_ggml.sh GGML_SRC GGML_BUILD OUT [PEER ARGS...]
#
# ggml is never a dependency of attnbench nor copied into it: the user builds
# it anywhere outside this repository, CPU backend only, static, e.g.
#   git clone https://github.com/ggml-org/ggml GGML_SRC
#   cmake -S GGML_SRC -B GGML_BUILD -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
#     -DGGML_METAL=OFF -DGGML_CUDA=OFF -DBUILD_SHARED_LIBS=OFF \
#     -DGGML_BUILD_TESTS=OFF -DGGML_BUILD_EXAMPLES=OFF
#   cmake --build GGML_BUILD -j2
# This script compiles bench/peers/ggml_flash_attn.c (with the suite's timer
# and generator, bench/measure/measure.c and rng.c) against GGML_SRC/include
# and GGML_BUILD's static libraries into OUT/ggml_flash_attn, and runs it once
# per thread count in THREADS (default "2 1"). The cases (see the peer's
# comment): decode, one query per head, 8 heads of 64, L = 65536 with 8, 1
# and 2 K/V heads, and L = 8192; prefill, 8 heads of 64 at N = 4096
# non-causal and causal, 8 heads of 128 at N = 4096, 32 heads of 64 at
# N = 1024. PEER ARGS pass through, e.g. `--case decode-mha-8k --reps 1` for
# a smoke check. Outputs, in OUT (refused if OUT/ggml.csv exists, so no row
# is overwritten or doubled):
#   ggml.csv  case,n,heads,kv_heads,d_head,causal,threads,reps,median_ms,
#             max_abs_diff,status (one line per case and thread count)
#   ggml.env  the ggml commit (git, or GGML_SRC/COMMIT for an exported tree),
#             attnbench's commit, the compiler, the CPU, the load average
#             before and after
# Times are medians after a warm-up call (decode 16 calls, prefill at least 3
# calls and 1 s); compare them with attnbench's on a quiet machine only.
# Without a usable ggml: one line saying how to get it, exit 2. A case out of
# memory: an oom row, the other cases still run, exit 3.
set -eu

howto="usage: peer_ggml.sh GGML_SRC GGML_BUILD OUT [PEER ARGS...]: needs a ggml source tree and its CPU build, e.g. git clone https://github.com/ggml-org/ggml SRC && cmake -S SRC -B BUILD -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF -DGGML_BUILD_TESTS=OFF -DGGML_BUILD_EXAMPLES=OFF && cmake --build BUILD -j2 (see the top of scripts/peer_ggml.sh)"
if [ $# -lt 3 ]; then echo "$howto" >&2; exit 2; fi
SRC=$1 GB=$2 OUT=$3
shift 3
THREADS=${THREADS:-"2 1"}
CC=${CC:-cc}
here=$(cd "$(dirname "$0")/.." && pwd)

if [ ! -f "$SRC/include/ggml.h" ] || [ ! -f "$SRC/include/ggml-cpu.h" ]; then
  echo "$howto; no $SRC/include/ggml.h" >&2; exit 2
fi
lib() { find "$GB" -name "$1" -type f 2>/dev/null | head -n 1; }
cpu=$(lib libggml-cpu.a) base=$(lib libggml-base.a) top=$(lib libggml.a)
if [ -z "$cpu" ] || [ -z "$base" ]; then
  echo "$howto; no libggml-cpu.a and libggml-base.a under $GB (built with -DBUILD_SHARED_LIBS=OFF?)" >&2; exit 2
fi
for t in $THREADS; do
  case "$t" in ''|*[!0-9]*|0) echo "peer_ggml.sh: THREADS '$THREADS': positive integers" >&2; exit 2 ;; esac
done
mkdir -p "$OUT"
if [ -e "$OUT/ggml.csv" ]; then
  echo "peer_ggml.sh: $OUT/ggml.csv exists; give another OUT (rows are never overwritten)" >&2; exit 2
fi

# ggml's CPU backend is C++ and, by default, OpenMP
omp=
grep -q '^GGML_OPENMP:BOOL=ON' "$GB/CMakeCache.txt" 2>/dev/null && omp=-fopenmp
bin=$OUT/ggml_flash_attn
$CC -std=c11 -D_GNU_SOURCE -O2 -march=native -ffp-contract=off -Wall -Wextra \
  -I"$SRC/include" -I"$here/bench/measure" \
  "$here/bench/peers/ggml_flash_attn.c" "$here/bench/measure/measure.c" "$here/bench/measure/rng.c" \
  ${top:+"$top"} "$cpu" "$base" $omp -lstdc++ -lm -lpthread -o "$bin"

commit=unknown
if git -C "$SRC" rev-parse HEAD >/dev/null 2>&1; then commit=$(git -C "$SRC" rev-parse HEAD)
elif [ -f "$SRC/COMMIT" ]; then commit=$(head -n 1 "$SRC/COMMIT"); fi
{
  echo "ggml_commit=$commit"
  echo "attnbench_commit=$(git -C "$here" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
  echo "cc=$($CC --version | head -n 1)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')"
  echo "cores=$(nproc)"
  echo "threads=$THREADS"
  echo "load_avg_before=$(cut -d' ' -f1 /proc/loadavg)"
} > "$OUT/ggml.env"

# each run's rows go into ggml.csv as they come (one header); a case out of
# memory is an oom row (the peer goes on, and exits 3 at the end)
run=$OUT/ggml_run.csv
header=1 status=0
for t in $THREADS; do
  rc=0
  "$bin" --threads "$t" "$@" > "$run" || rc=$?
  if [ $header = 1 ]; then cat "$run" >> "$OUT/ggml.csv"; else tail -n +2 "$run" >> "$OUT/ggml.csv"; fi
  rm -f "$run"
  header=0
  if [ $rc != 0 ]; then
    echo "peer_ggml.sh: the peer exited with status $rc on $t threads (see the status column of $OUT/ggml.csv)" >&2
    if [ $rc -gt $status ]; then status=$rc; fi
  fi
done
echo "load_avg_after=$(cut -d' ' -f1 /proc/loadavg)" >> "$OUT/ggml.env"
cat "$OUT/ggml.csv"
exit $status

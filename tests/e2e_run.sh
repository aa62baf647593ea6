#!/bin/sh
# e2e_run.sh — `attnbench run` end to end: exact methods give ok rows within
# 1e-5, bad input of every kind exits 2 with one line and no row, .npy files
# written by NumPy are read, --dump matches an independent float64
# computation, memory figures separate linear from quadratic, the .env
# sidecar, determinism, and logit calibration.
. "$(dirname "$0")/lib.sh"
A=$ATTNBENCH

# ---- exact methods: header + one ok row, rel_err <= 1e-5 -------------------
for m in vanilla chunked; do
  for c in 0 1; do
    "$A" run --attention $m --n 1024 --heads 8 --d-head 64 --causal=$c --warmup 0 --reps 1 > "$tmp/$m.csv" 2> "$tmp/err" || fail "$m causal=$c exit $?: $(cat "$tmp/err")"
    [ "$(wc -l < "$tmp/$m.csv")" -eq 2 ] || fail "$m: expected a header and one row"
    [ "$(col status "$tmp/$m.csv")" = ok ] || fail "$m: status $(col status "$tmp/$m.csv")"
    fle "$(col rel_err "$tmp/$m.csv")" 1e-5 || fail "$m causal=$c: rel_err $(col rel_err "$tmp/$m.csv") > 1e-5"
    [ "$(col causal "$tmp/$m.csv")" = "$c" ] || fail "$m: causal column"
  done
done
# odd sizes
"$A" run --attention chunked --n 1000 --heads 3 --d-head 48 --chunk 96 --causal --reps 1 > "$tmp/odd.csv" || fail "odd sizes"
fle "$(col rel_err "$tmp/odd.csv")" 1e-5 || fail "odd sizes: rel_err $(col rel_err "$tmp/odd.csv")"

# ---- bad input: exit 2, one line on stderr, nothing on stdout, no file -----
bad() { # bad WANT_IN_MESSAGE ARGS...
  want=$1; shift
  "$A" run --csv "$tmp/bad.csv" "$@" > "$tmp/out" 2> "$tmp/err"
  rc=$?
  [ $rc -eq 2 ] || fail "run $*: exit $rc, want 2"
  [ -s "$tmp/out" ] && fail "run $*: wrote to stdout"
  [ -e "$tmp/bad.csv" ] && { fail "run $*: wrote a row"; rm -f "$tmp/bad.csv"; }
  [ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "run $*: stderr is not one line: $(cat "$tmp/err")"
  grep -q -- "$want" "$tmp/err" || fail "run $*: message '$(cat "$tmp/err")' lacks '$want'"
}
bad "unknown option" --nope 3
bad "unexpected argument" stray
bad "needs a value" --n
bad "non-negative integer" --n -5
bad "non-negative integer" --n 12x
bad "too large" --n 99999999999999999999999
bad "--n 0: must be 1..2147483647" --n 0
bad "--heads 0: must be 1..65536" --heads 0
bad "--d-head 0: must be 1..65536" --d-head 0
bad "--chunk 0: must be 1.." --attention chunked --chunk 0
bad "unknown --attention" --attention nope
bad "unknown --projection" --projection nope
bad "must be positive" --score-std -1
bad "finite number" --score-std nan
bad "\[0, 1\]" --head-sim 2
bad "non-negative integer" --seed abc
bad "given twice" --n 4 --n 5
bad "does not apply" --projection mha --kv-heads 3
bad "threads" --threads 0
bad "must be 1..2147483647" --n 4294967296 --heads 4294967296 --d-head 4294967296
bad "more than this machine" --n 2000000000 --heads 64 --d-head 64
bad "No such file or directory" --input "$tmp/none"
: > "$tmp/afile"
bad "not a directory" --dump "$tmp/afile/sub"
# --dump creates its directory, parents included (mkdir -p)
"$A" run --n 8 --heads 2 --d-head 4 --dump "$tmp/new/a/b" --row-only > /dev/null 2> "$tmp/err" || fail "--dump new dir: $(cat "$tmp/err")"
[ -s "$tmp/new/a/b/out.npy" ] || fail "--dump new dir: no out.npy"
bad "at least 1" --attention topk --k 0
bad "larger than --n" --attention topk --n 64 --k 65
bad "must be 1..1048576" --attention performer --features 0
bad "must divide" --projection gqa --heads 8 --kv-heads 3
bad "needs --kv-heads" --projection gqa

# ---- .npy input: malformed, NaN, disagreeing shapes ------------------------
mkdir -p "$tmp/in"
printf 'not a numpy file' > "$tmp/in/q.npy"; cp "$tmp/in/q.npy" "$tmp/in/k.npy"; cp "$tmp/in/q.npy" "$tmp/in/v.npy"
bad "bad magic" --input "$tmp/in"

PY=$(numpy_python)
if [ -z "$PY" ]; then
  echo "note: no python3 with NumPy; the NumPy interoperability checks are skipped" >&2
else
  # NumPy writes the inputs (float32 and float64, format 1.0 and 2.0)
  "$PY" - "$tmp" <<'PYEOF' || fail "numpy setup"
import sys, numpy as np
t = sys.argv[1]
rng = np.random.default_rng(7)
import os
for name, dt in (("f32", np.float32), ("f64", np.float64)):
    d = os.path.join(t, name); os.makedirs(d, exist_ok=True)
    for x in "qkv":
        np.save(os.path.join(d, x + ".npy"), (rng.standard_normal((3, 200, 40)) * 1.3).astype(dt))
d = os.path.join(t, "v2"); os.makedirs(d, exist_ok=True)
for x in "qkv":
    a = rng.standard_normal((2, 50, 16)).astype(np.float32)
    with open(os.path.join(d, x + ".npy"), "wb") as f:
        np.lib.format.write_array(f, a, version=(2, 0))
d = os.path.join(t, "nan"); os.makedirs(d, exist_ok=True)
for x in "qkv":
    a = rng.standard_normal((2, 50, 16)).astype(np.float32)
    if x == "k": a[1, 3, 2] = np.nan
    np.save(os.path.join(d, x + ".npy"), a)
d = os.path.join(t, "mismatch"); os.makedirs(d, exist_ok=True)
np.save(os.path.join(d, "q.npy"), rng.standard_normal((2, 50, 16)).astype(np.float32))
np.save(os.path.join(d, "k.npy"), rng.standard_normal((2, 49, 16)).astype(np.float32))
np.save(os.path.join(d, "v.npy"), rng.standard_normal((2, 50, 16)).astype(np.float32))
d = os.path.join(t, "layer"); os.makedirs(d, exist_ok=True)
np.save(os.path.join(d, "x.npy"), rng.standard_normal((100, 32)).astype(np.float32))
for w in ("wq", "wk", "wv"):
    np.save(os.path.join(d, w + ".npy"), (rng.standard_normal((4, 32, 8)) / np.sqrt(32)).astype(np.float32))
PYEOF
  bad "NaN" --input "$tmp/nan"
  bad "disagrees" --input "$tmp/mismatch"
  bad "disagrees" --input "$tmp/f32" --n 100
  bad "needs the layer form" --input "$tmp/f32" --projection mqa
  bad "synthetic input only" --input "$tmp/f32" --score-std 2
  for d in f32 f64 v2 layer; do
    for m in vanilla chunked; do
      mkdir -p "$tmp/dump-$d-$m"
      "$A" run --attention $m --input "$tmp/$d" --causal --dump "$tmp/dump-$d-$m" --reps 1 > "$tmp/npy.csv" 2> "$tmp/err" || fail "--input $d $m: $(cat "$tmp/err")"
      [ "$(col input "$tmp/npy.csv")" = "$tmp/$d" ] || fail "input column: $(col input "$tmp/npy.csv")"
      # an independent float64 computation of softmax(QK^T/sqrt(d))V (causal)
      "$PY" - "$tmp/$d" "$tmp/dump-$d-$m" <<'PYEOF' || fail "--dump of $d/$m does not match NumPy's float64 attention"
import sys, os, numpy as np
src, dump = sys.argv[1], sys.argv[2]
if os.path.exists(os.path.join(src, "x.npy")):
    x = np.load(os.path.join(src, "x.npy")).astype(np.float64)
    q, k, v = (np.einsum("nm,hmd->hnd", x, np.load(os.path.join(src, w + ".npy")).astype(np.float64)) for w in ("wq", "wk", "wv"))
else:
    q, k, v = (np.load(os.path.join(src, t + ".npy")).astype(np.float64) for t in "qkv")
s = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
n = s.shape[-1]
s = np.where(np.tril(np.ones((n, n), bool)), s, -np.inf)
p = np.exp(s - s.max(-1, keepdims=True)); p /= p.sum(-1, keepdims=True)
want = p @ v
out, ref = np.load(os.path.join(dump, "out.npy")), np.load(os.path.join(dump, "ref.npy"))
assert out.dtype == np.float32 and ref.dtype == np.float64 and out.shape == want.shape, (out.dtype, ref.dtype, out.shape)
e_out = np.linalg.norm(out - want) / np.linalg.norm(want)
e_ref = np.linalg.norm(ref - want) / np.linalg.norm(want)
print("out rel_err %.3g, ref rel_err %.3g" % (e_out, e_ref))
assert e_out <= 1e-5, e_out
assert e_ref <= 1e-12, e_ref
PYEOF
    done
  done
fi

# ---- --csv: header once, .env sidecar --------------------------------------
"$A" run --attention chunked --n 256 --reps 1 --csv "$tmp/r.csv" || fail "csv 1"
"$A" run --attention vanilla --n 256 --reps 1 --csv "$tmp/r.csv" || fail "csv 2"
[ "$(grep -c '^layer,' "$tmp/r.csv")" -eq 1 ] || fail "header written more than once"
[ "$(wc -l < "$tmp/r.csv")" -eq 3 ] || fail "expected 3 lines in r.csv"
[ -f "$tmp/r.env" ] || fail "no r.env sidecar"
for key in cpu_model blas blas_core commit compiler cflags mem_total_bytes; do
  grep -q "^$key=" "$tmp/r.env" || fail "r.env lacks $key"
done

# ---- memory: chunked is linear, vanilla holds the n^2 scores ---------------
"$A" run --attention vanilla --n 2048 --heads 4 --reps 1 > "$tmp/v.csv" || fail "vanilla 2048"
"$A" run --attention chunked --n 2048 --heads 4 --reps 1 > "$tmp/c.csv" || fail "chunked 2048"
vk=$(col kernel_peak_bytes "$tmp/v.csv"); vw=$(col workspace_bytes "$tmp/v.csv"); ck=$(col kernel_peak_bytes "$tmp/c.csv")
[ "$vw" -eq $((4 * 2048 * 2048 * 4)) ] || fail "vanilla workspace $vw, want heads*n*n*4"
fle "$((vw * 9 / 10))" "$vk" || fail "vanilla kernel_peak_bytes $vk below 90% of its $vw-byte workspace"
fle "$((ck * 10))" "$vk" || fail "chunked kernel_peak_bytes $ck is not under a tenth of vanilla's $vk"

# top-k: the measured peak is its stated workspace formula plus a fixed overhead
for n in 4096 8192; do
  "$A" run --attention topk --n $n --heads 2 --k 64 --chunk 256 --reps 1 --ref-rows 64 > "$tmp/t.csv" || fail "topk $n"
  tk=$(col kernel_peak_bytes "$tmp/t.csv"); tw=$(col workspace_bytes "$tmp/t.csv")
  [ "$tw" -eq $((4 * (256 * n + n + 2 * 256 * 64))) ] || fail "topk n=$n workspace $tw, not 4(Cn + n + 2Ck)"
  awk -v k="$tk" -v w="$tw" 'BEGIN { d = k - w; if (d < 0) d = -d; exit !(d <= 0.1 * w + 1048576) }' ||
    fail "topk n=$n kernel_peak_bytes $tk is not within 10% + 1 MiB of its formula $tw"
done

# ---- determinism and calibration ------------------------------------------
mkdir -p "$tmp/d1" "$tmp/d2" "$tmp/d3"
"$A" run --n 128 --seed 5 --reps 1 --dump "$tmp/d1" > /dev/null || fail "dump d1"
"$A" run --n 128 --seed 5 --reps 1 --dump "$tmp/d2" > /dev/null || fail "dump d2"
"$A" run --n 128 --seed 6 --reps 1 --dump "$tmp/d3" > /dev/null || fail "dump d3"
cmp -s "$tmp/d1/q.npy" "$tmp/d2/q.npy" || fail "same seed, different q"
cmp -s "$tmp/d1/q.npy" "$tmp/d3/q.npy" && fail "different seeds, same q"
for s in 1 8; do
  "$A" run --n 512 --score-std $s --reps 1 > "$tmp/s.csv" || fail "score-std $s"
  ls=$(col logit_std "$tmp/s.csv")
  awk -v a="$ls" -v b="$s" 'BEGIN { exit !(a > 0.9 * b && a < 1.1 * b) }' || fail "score-std $s gives logit_std $ls"
done
"$A" run --n 512 --score-std 1 --reps 1 > "$tmp/e1.csv"; e1=$(col entropy "$tmp/e1.csv")
"$A" run --n 512 --score-std 8 --reps 1 > "$tmp/e8.csv"; e8=$(col entropy "$tmp/e8.csv")
fle "$e8" "$e1" || fail "entropy at score-std 8 ($e8) not below score-std 1 ($e1)"

# ---- the BLAS core: never a generic fallback on a CPU with AVX2 -----------
if grep -q ' avx2 ' /proc/cpuinfo; then
  env -u OPENBLAS_CORETYPE -u ATTNBENCH_NO_REEXEC "$A" run --n 64 --reps 1 > "$tmp/core.csv"
  core=$(col blas_core "$tmp/core.csv")
  case "$core" in Prescott|Katmai|Coppermine|Northwood|Banias|Core2|Penryn|Atom|"") fail "ran on the fallback core '$core'";; esac
fi
finish

#!/bin/sh
# e2e_capture_layer.sh — the layer form `attnbench capture --llama2c` writes
# beside the operator form, on a tiny random grouped-query checkpoint (4
# heads, 2 K/V heads) written here: DIR/layerL/layer/ holds x [n, dim] and
# wq, wk, wv [heads, dim, head_size]; x wv is the captured v; x wq has the
# captured q's row norms (RoPE rotates pairs, keeping their norms); the K/V
# weights of a group are one head's, repeated; `run --input` takes it, and
# `--projection gqa --kv-heads 2` is the model's own layer (the error of
# MHA, i.e. float32 rounding) while mqa is not. With stories260K present,
# the same on its five layers (8 heads, 4 K/V heads).
. "$(dirname "$0")/lib.sh"
A=$ATTNBENCH
root=$(cd "$(dirname "$0")/.." && pwd)
PY=$(numpy_python)
if [ -z "$PY" ]; then echo "skip: no python3 with NumPy to write the test checkpoint"; exit 77; fi

"$PY" - "$tmp/tiny.bin" <<'PYEOF' || { fail "could not write the checkpoint"; finish; }
import sys, numpy as np
dim, hid, L, H, KV, V, S = 16, 40, 2, 4, 2, -32, 24
r = np.random.default_rng(3); hs = dim // H; kvd = hs * KV
mat = lambda n, fan, g=1.0: r.normal(0, g / np.sqrt(fan), n)
norm = lambda n: 1 + r.normal(0, 0.1, n)
ang = np.arange(S)[:, None] * 10000.0 ** (-np.arange(0, hs, 2) / hs)[None]
w = np.concatenate([r.normal(0, 1, -V * dim), norm(L * dim), mat(L * dim * dim, dim, 3), mat(L * kvd * dim, dim, 3),
                    mat(L * kvd * dim, dim), mat(L * dim * dim, dim), norm(L * dim), mat(L * hid * dim, dim),
                    mat(L * dim * hid, hid), mat(L * hid * dim, dim), norm(dim), np.cos(ang).ravel(), np.sin(ang).ravel(),
                    mat(-V * dim, dim)])
open(sys.argv[1], "wb").write(np.array([dim, hid, L, H, KV, V, S], "<i4").tobytes() + w.astype("<f4").tobytes())
PYEOF

# check DIR LAYERS HEADS KV_HEADS: files, shapes and the relations above
check() {
  "$PY" - "$@" <<'PYEOF' || fail "layer form of $1 (above)"
import os, sys, numpy as np
d, L, H, G = sys.argv[1], *map(int, sys.argv[2:])
def rel(a, b): return np.linalg.norm(a - b) / np.linalg.norm(b)
bad = 0
for l in range(L):
    lay = os.path.join(d, "layer%d" % l, "layer")
    x, wq, wk, wv = (np.load(os.path.join(lay, f + ".npy")).astype(np.float64) for f in ("x", "wq", "wk", "wv"))
    q, k, v = (np.load(os.path.join(d, "layer%d" % l, f + ".npy")).astype(np.float64) for f in "qkv")
    n, dim = x.shape
    assert q.shape[0] == H and wq.shape == wk.shape == wv.shape == (H, dim, dim // H), (wq.shape, q.shape)
    proj = lambda w: np.einsum("nm,hmd->hnd", x, w)
    errs = {"v = x wv": rel(proj(wv), v),
            "|q| rows = |x wq| rows": rel(np.linalg.norm(proj(wq), axis=-1), np.linalg.norm(q, axis=-1)),
            "|k| rows = |x wk| rows": rel(np.linalg.norm(proj(wk), axis=-1), np.linalg.norm(k, axis=-1))}
    grp = H // G
    same = all(np.array_equal(w[g * grp], w[g * grp + j]) for w in (wk, wv) for g in range(G) for j in range(grp))
    for what, e in errs.items():
        ok = e < 1e-5; bad += not ok
        print("layer%d: %s rel err %.3g%s" % (l, what, e, "" if ok else "  FAIL"))
    if not same:
        bad += 1; print("layer%d: the K/V weights of a group differ  FAIL" % l)
    if os.path.exists(os.path.join(d, "layer%d" % L)):
        bad += 1; print("a layer%d beyond the model's %d layers  FAIL" % (L, L))
sys.exit(1 if bad else 0)
PYEOF
}

# runs DIR/layer0/layer under each projection; the GQA of the model's own
# grouping is exact (MHA's float32 error), MQA (one K/V head) is not
runs() { # runs DIR KV_HEADS
  for p in mha "gqa --kv-heads $2" mqa; do
    # shellcheck disable=SC2086
    "$A" run --input "$1/layer0/layer" --attention chunked --causal --reps 1 --warmup 0 --projection $p > "$tmp/r.csv" 2> "$tmp/err" ||
      { fail "run --input $1/layer0/layer --projection $p: exit $?: $(cat "$tmp/err")"; continue; }
    [ "$(col status "$tmp/r.csv")" = ok ] || fail "--projection $p: status $(col status "$tmp/r.csv")"
    e=$(col rel_err "$tmp/r.csv")
    case $p in
      mqa) fle "$e" 1e-3 && fail "--projection mqa: rel_err $e; the K/V heads were all alike?" ;;
      *) fle "$e" 1e-5 || fail "--projection $p: rel_err $e, want float32 rounding" ;;
    esac
    echo "$1 layer0 layer form --projection $p: rel_err $e logit_std $(col logit_std "$tmp/r.csv")"
  done
}

"$A" capture --llama2c "$tmp/tiny.bin" --out "$tmp/cap" --n 20 --seed 2 > /dev/null 2> "$tmp/err" ||
  { fail "capture: exit $?: $(cat "$tmp/err")"; finish; }
check "$tmp/cap" 2 4 2
runs "$tmp/cap" 2
# the operator form is still what it was: the layer form sits beside it
"$A" run --input "$tmp/cap/layer1" --attention chunked --causal --reps 1 > "$tmp/op.csv" 2> "$tmp/err" &&
  [ "$(col kv_heads "$tmp/op.csv")" = 4 ] && [ "$(col input "$tmp/op.csv")" = "$tmp/cap/layer1" ] ||
  fail "run --input layer1 (operator form): $(cat "$tmp/err")"

model=${ATTNBENCH_MODEL:-$root/data/stories260K.bin}
if [ -f "$model" ]; then
  "$A" capture --llama2c "$model" --out "$tmp/real" --n 128 --seed 1 > /dev/null 2> "$tmp/err" ||
    { fail "capture stories260K: $(cat "$tmp/err")"; finish; }
  check "$tmp/real" 5 8 4
  runs "$tmp/real" 4
else
  fail "no checkpoint $model (data/ ships it)"
fi
finish

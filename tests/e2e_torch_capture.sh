#!/bin/sh
# e2e_torch_capture.sh — scripts/torch_capture.py end to end: its demo (an
# nn.TransformerEncoderLayer model and a rotary grouped-query model with
# q_proj/k_proj/v_proj and scaled_dot_product_attention) writes, per layer,
# q, k, v that reproduce the model's own attention output (NumPy:
# softmax(q kᵀ/√d) v against what the model computed), a layer form whose
# projections give back those q, k, v (v exactly; q, k up to the rotary
# rotation, so row norms), and directories that `attnbench run --input`
# takes: chunked at float32 error, top-k, and the layer form under mha and
# (the model's own grouping) gqa. Exit 77 when no python3 imports torch.
. "$(dirname "$0")/lib.sh"
A=$ATTNBENCH
root=$(cd "$(dirname "$0")/.." && pwd)

PY=$(torch_python)
if [ -z "$PY" ]; then echo "skip: no python3 that imports torch and numpy (Debian: python3-torch)"; exit 77; fi

# ---- bad input: one line, exit 2, no traceback (it used to be exit 1 and a
# traceback for --demo FILE / FIFO and for an --n the demo cannot hold) ----------
: > "$tmp/afile"
mkfifo "$tmp/fifo"
for args in "--demo $tmp/afile|not a directory (a regular file)" "--demo $tmp/fifo|not a directory (a FIFO)" \
            "--demo $tmp/afile/sub|is a regular file" "--demo $tmp/big --n 100000000|--n 100000000: must be 2..4096" \
            "--demo $tmp/big --n 1|--n 1: must be 2..4096" "--n 8|required: --demo"; do
  want=${args#*|}
  # shellcheck disable=SC2086
  timeout 60 "$PY" "$root/scripts/torch_capture.py" ${args%%|*} > "$tmp/out" 2> "$tmp/err"
  rc=$?
  [ $rc -eq 2 ] || fail "torch_capture.py ${args%%|*}: exit $rc, want 2: $(tail -n 3 "$tmp/err")"
  [ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "torch_capture.py ${args%%|*}: stderr is not one line: $(head -c 400 "$tmp/err")"
  grep -q -- "$want" "$tmp/err" || fail "torch_capture.py ${args%%|*}: '$(cat "$tmp/err")' lacks '$want'"
done
[ -e "$tmp/big" ] && fail "torch_capture.py --n out of range made its --demo directory"

"$PY" "$root/scripts/torch_capture.py" --demo "$tmp/demo" > "$tmp/demo.out" 2> "$tmp/demo.err" ||
  { fail "torch_capture.py --demo: exit $?: $(cat "$tmp/demo.err")"; finish; }
for m in mha rope; do
  for l in 0 1; do
    for f in q k v layer/x layer/wq layer/wk layer/wv; do
      [ -s "$tmp/demo/$m/layer$l/$f.npy" ] || fail "$m: no layer$l/$f.npy"
    done
  done
  [ -e "$tmp/demo/$m/layer2" ] && fail "$m: a third layer for a 2-layer model"
  [ "$(grep -c '^layer [0-9] logit_std [0-9.]* entropy [0-9.]*$' "$tmp/demo/$m/capture.txt")" -eq 2 ] ||
    fail "$m: capture.txt lacks two layer lines"
done
grep -q '^site 0 module blocks.0.self_attn source nn.MultiheadAttention causal 1 ' "$tmp/demo/mha/capture.txt" || fail "mha: site 0 line"
grep -q '^site 1 module attn.1 source sdpa causal 1 heads 4 kv_heads [24] d_head 16 n 32 layer_form layer1/layer layer_kv_heads 2$' \
  "$tmp/demo/rope/capture.txt" || fail "rope: site 1 line: $(grep '^site 1' "$tmp/demo/rope/capture.txt")"
grep -q '^note 0 the projections have biases' "$tmp/demo/mha/capture.txt" || fail "mha: no note on biases"

# ---- the captured tensors against what the model computed ----------------------
"$PY" - "$tmp/demo" <<'PYEOF' || fail "the captured tensors disagree with the models (above)"
import os, sys
import numpy as np
root = sys.argv[1]
def rel(a, b): return np.linalg.norm(a - b) / np.linalg.norm(b)
bad = 0
for model in ("mha", "rope"):
    sites = [l.split() for l in open(os.path.join(root, model, "capture.txt")) if l.startswith("site ")]
    for f in sites:
        site = dict(zip(f[2::2], f[3::2]))
        d = os.path.join(root, model, "layer" + f[1])
        load = lambda name: np.load(os.path.join(d, name + ".npy")).astype(np.float64)
        q, k, v = load("q"), load("k"), load("v")
        H, n, dh = q.shape
        assert site["causal"] == "1" and int(site["heads"]) == H and int(site["kv_heads"]) == k.shape[0], f
        rep = H // k.shape[0]
        k, v = np.repeat(k, rep, 0), np.repeat(v, rep, 0)
        s = q @ k.transpose(0, 2, 1) / np.sqrt(dh)
        s = np.where(np.tril(np.ones((n, n), bool)), s, -np.inf)
        p = np.exp(s - s.max(-1, keepdims=True)); p /= p.sum(-1, keepdims=True)
        o = p @ v
        errs = {}
        if os.path.exists(os.path.join(d, "check", "attn_out.npy")):
            errs["attention output"] = rel(o, load("check/attn_out"))
        else:  # nn.MultiheadAttention: its output is out_proj(concat of heads)
            y = o.transpose(1, 0, 2).reshape(n, H * dh) @ load("check/wo").T + load("check/bo")
            errs["module output"] = rel(y, load("check/module_out"))
        x = load("layer/x")
        proj = lambda w, b: np.einsum("nm,hmd->hnd", x, load("layer/" + w)) + (load("layer/" + b)[:, None] if os.path.exists(os.path.join(d, "layer", b + ".npy")) else 0)
        lq, lv = proj("wq", "bq"), proj("wv", "bv")
        errs["layer-form v"] = rel(lv, v)
        if site["source"] == "sdpa":  # rotary: q, k rotated after the projection, row norms kept
            errs["layer-form |q| rows"] = rel(np.linalg.norm(lq, axis=-1), np.linalg.norm(q, axis=-1))
        else:
            errs["layer-form q"] = rel(lq, q)
        for what, e in errs.items():
            ok = e < 1e-5
            bad += not ok
            print("%s layer%s: %s rel err %.3g%s" % (model, f[1], what, e, "" if ok else "  FAIL (want < 1e-5)"))
sys.exit(1 if bad else 0)
PYEOF

# ---- every directory is an attnbench input -----------------------------------------
run() { # run OUT ARGS...: attnbench run must succeed with one ok row
  out=$1; shift
  "$A" run --reps 1 --warmup 0 --causal "$@" > "$out" 2> "$tmp/err" || { fail "run $*: exit $?: $(cat "$tmp/err")"; return 1; }
  [ "$(col status "$out")" = ok ] || { fail "run $*: status $(col status "$out")"; return 1; }
}
for m in mha rope; do
  for l in 0 1; do
    d=$tmp/demo/$m/layer$l
    run "$tmp/c.csv" --input "$d" --attention chunked &&
      { fle "$(col rel_err "$tmp/c.csv")" 1e-5 || fail "$m layer$l chunked: rel_err $(col rel_err "$tmp/c.csv")"; }
    run "$tmp/t.csv" --input "$d" --attention topk --k 8 &&
      { [ "$(col k "$tmp/t.csv")" = 8 ] || fail "$m layer$l topk: k $(col k "$tmp/t.csv")"; }
    run "$tmp/l.csv" --input "$d/layer" --attention chunked --projection mha &&
      { fle "$(col rel_err "$tmp/l.csv")" 1e-5 || fail "$m layer$l layer form mha: rel_err $(col rel_err "$tmp/l.csv")"; }
    # the rotary model's K/V weights are grouped (2 heads, repeated): gqa with
    # its grouping is the same layer; the MHA model's heads are not, so gqa loses
    run "$tmp/g.csv" --input "$d/layer" --attention chunked --projection gqa --kv-heads 2 || continue
    e=$(col rel_err "$tmp/g.csv")
    if [ $m = rope ]; then fle "$e" 1e-5 || fail "rope layer$l layer form gqa --kv-heads 2: rel_err $e, want the model's own grouping"
    else fle "$e" 1e-3 && fail "mha layer$l layer form gqa --kv-heads 2: rel_err $e, independent heads should lose"; fi
  done
done
echo "rel_err of chunked on rope/layer1: $(col rel_err "$tmp/c.csv"), logit_std $(col logit_std "$tmp/c.csv")"
finish

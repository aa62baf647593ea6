#!/bin/sh
# e2e_train_torch.sh — the student's gradients (bench/train/train_grad.c, through
# `test_train --dump`) against PyTorch autograd in float64, every trainable
# configuration: mha, the checkpoint's own gqa, mqa, mhe-add, mhe-mul;
# trainable attention and all; loss kl and ce; shared and unshared
# classifier (tests/train_torch.py, relative error <= 1e-4 per tensor).
# Exit 77 when no python3 imports torch.
. "$(dirname "$0")/lib.sh"
TB=${TEST_BUILD:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
PY=$(torch_python)
if [ -z "$PY" ]; then echo "skip: no python3 that imports torch and numpy (Debian: python3-torch)"; exit 77; fi
[ -x "$TB/tests/test_train" ] || { fail "no $TB/tests/test_train (make tests)"; finish; }

"$TB/tests/test_train" --dump "$tmp/g" > "$tmp/out" 2>&1 || fail "test_train --dump: $(cat "$tmp/out")"
n=$(ls -d "$tmp"/g/*/ | wc -l)
[ "$n" -eq 40 ] || fail "$n configurations dumped, want 40"
timeout 300 "$PY" "$root/tests/train_torch.py" "$tmp/g" > "$tmp/py.out" 2> "$tmp/py.err" ||
  fail "gradients differ from PyTorch's: $(head -n 20 "$tmp/py.err") $(cat "$tmp/py.out")"
grep -q '^40 configurations, 0 mismatches' "$tmp/py.out" || fail "train_torch.py: $(cat "$tmp/py.out")"
finish

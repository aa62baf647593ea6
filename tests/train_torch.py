#!/usr/bin/env python3
"""train_torch.py DIR — the student's gradients (bench/train/train_grad.c) against
PyTorch autograd in float64.

DIR is what `test_train --dump DIR` writes: teacher0.bin (shared classifier)
and teacher1.bin (unshared), llama2.c checkpoints, and one directory per
configuration holding meta.txt, tokens.npy (B, T), and per tensor of the
student NAME.npy (its values) and NAME.grad.npy (the C backward's gradient).
Here the same model is built in PyTorch from those values (float64), the
same loss is taken against the teacher's distributions, and every trainable
tensor's gradient must match: ||g_C - g_torch|| / ||g_torch|| <= TOL (1e-4;
the C side computes in float32). Exit 1 on any mismatch, naming it."""
import os
import sys

import numpy as np
import torch

TOL = 1e-4
ATTENTION = {"wq", "wk", "wv", "wo", "eq", "ek", "ev"}


def read_llama2c(path):
    """header dict and named float64 tensors of a llama2.c checkpoint"""
    raw = open(path, "rb").read()
    dim, hid, L, H, KV, V, S = np.frombuffer(raw[:28], dtype=np.int32)
    shared = V > 0
    V = abs(int(V))
    hs = dim // H
    w = np.frombuffer(raw[28:], dtype=np.float32).astype(np.float64)
    shapes = [("token_embedding", (V, dim)), ("rms_att", (L, dim)), ("wq", (L, dim, dim)),
              ("wk", (L, KV * hs, dim)), ("wv", (L, KV * hs, dim)), ("wo", (L, dim, dim)),
              ("rms_ffn", (L, dim)), ("w1", (L, hid, dim)), ("w2", (L, dim, hid)), ("w3", (L, hid, dim)),
              ("rms_final", (dim,)), ("rope", (S * hs,))]
    if not shared:
        shapes.append(("wcls", (V, dim)))
    t, at = {}, 0
    for name, shape in shapes:
        n = int(np.prod(shape))
        t[name] = w[at:at + n].reshape(shape)
        at += n
    assert at == w.size, "size mismatch"
    if shared:
        t["wcls"] = t["token_embedding"]
    cfg = dict(dim=int(dim), hid=int(hid), L=int(L), H=int(H), KV=int(KV), V=V, hs=int(hs), shared=shared)
    return cfg, t


def rmsnorm(x, g):
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + 1e-5) * g


def rope(x):
    """x (B, T, heads, hs): rotate the pairs (2i, 2i+1) at position t"""
    T, hs = x.shape[1], x.shape[3]
    i = torch.arange(hs // 2, dtype=torch.float64)
    ang = torch.arange(T, dtype=torch.float64)[:, None] * torch.pow(10000.0, -2.0 * i / hs)[None, :]
    c, s = torch.cos(ang)[None, :, None, :], torch.sin(ang)[None, :, None, :]
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack([a * c - b * s, a * s + b * c], dim=-1).flatten(-2)


def forward(cfg, p, tokens, kind, kv):
    """logits (B, T, V) of the model with tensors p (torch), projection kind"""
    B, T = tokens.shape
    H, hs, L = cfg["H"], cfg["hs"], cfg["L"]
    x = p["token_embedding"][tokens]
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    for l in range(L):
        xb = rmsnorm(x, p["rms_att"][l])
        qkv = []
        for w, e in (("wq", "eq"), ("wk", "ek"), ("wv", "ev")):
            if kind.startswith("mhe"):
                s = (xb @ p[w][l].reshape(hs, -1).T)[:, :, None, :]
                emb = p[e][l].reshape(H, hs)[None, None]
                qkv.append(s * emb if kind == "mhe-mul" else s + emb)
            else:
                heads = H if w == "wq" else kv
                qkv.append((xb @ p[w][l].reshape(heads * hs, -1).T).reshape(B, T, heads, hs))
        q, k, v = rope(qkv[0]), rope(qkv[1]), qkv[2]
        rep = H // k.shape[2]
        k, v = k.repeat_interleave(rep, dim=2), v.repeat_interleave(rep, dim=2)
        sc = torch.einsum("bthd,bshd->bhts", q, k) / np.sqrt(hs)
        att = torch.softmax(sc.masked_fill(mask, float("-inf")), dim=-1)
        out = torch.einsum("bhts,bshd->bthd", att, v).reshape(B, T, H * hs)
        mat = lambda name, cols: p[name][l].reshape(-1, cols)
        x = x + out @ mat("wo", cfg["dim"]).T
        xb2 = rmsnorm(x, p["rms_ffn"][l])
        h = torch.nn.functional.silu(xb2 @ mat("w1", cfg["dim"]).T) * (xb2 @ mat("w3", cfg["dim"]).T)
        x = x + h @ mat("w2", cfg["hid"]).T
    return rmsnorm(x, p["rms_final"]) @ p["wcls"].T


def check(cdir, root):
    meta = dict(line.split(None, 1) for line in open(os.path.join(cdir, "meta.txt")).read().splitlines())
    meta = {k: v.strip() for k, v in meta.items()}
    cfg, teacher = read_llama2c(os.path.join(root, meta["teacher"]))
    tokens = torch.from_numpy(np.load(os.path.join(cdir, "tokens.npy")).astype(np.int64))
    kind, kv, all_ = meta["kind"], int(meta["kv"]), meta["all"] == "1"
    tp = {k: torch.from_numpy(v) for k, v in teacher.items()}
    with torch.no_grad():
        lt = torch.log_softmax(forward(cfg, tp, tokens, "gqa", cfg["KV"]), -1)[:, :-1]
    names = [f[:-4] for f in os.listdir(cdir) if f.endswith(".npy") and not f.endswith(".grad.npy") and f != "tokens.npy"]
    p, grads = {}, {}
    L, dim = cfg["L"], cfg["dim"]
    for n in names:
        v = np.load(os.path.join(cdir, n + ".npy")).astype(np.float64)
        grads[n] = np.load(os.path.join(cdir, n + ".grad.npy")).astype(np.float64)
        shape = (dim,) if n == "rms_final" else (-1, dim) if n in ("token_embedding", "wcls") else (L, -1)
        p[n] = torch.tensor(v.reshape(shape), requires_grad=True)
    if cfg["shared"]:
        p["wcls"] = p["token_embedding"]
    ls = torch.log_softmax(forward(cfg, p, tokens, kind, kv), -1)[:, :-1]
    if meta["loss"] == "kl":
        loss = (lt.exp() * (lt - ls)).sum(-1).mean()
    else:
        loss = -ls.gather(-1, tokens[:, 1:, None]).mean()
    loss.backward()
    bad = []
    for n in names:
        if not all_ and n not in ATTENTION:
            continue
        ref = p[n].grad.numpy().ravel()
        err = np.linalg.norm(grads[n] - ref) / max(np.linalg.norm(ref), 1e-30)
        if not err <= TOL:
            bad.append("%s: %s gradient rel_err %.3g (torch norm %.3g, C norm %.3g)" %
                       (os.path.basename(cdir), n, err, np.linalg.norm(ref), np.linalg.norm(grads[n])))
    return bad


def main():
    root = sys.argv[1]
    torch.set_default_dtype(torch.float64)
    dirs = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    bad = []
    for d in dirs:
        bad += check(os.path.join(root, d), root)
    for b in bad:
        print("FAIL: " + b, file=sys.stderr)
    print("%d configurations, %d mismatches (tolerance %g)" % (len(dirs), len(bad), TOL))
    sys.exit(1 if bad or not dirs else 0)


if __name__ == "__main__":
    main()

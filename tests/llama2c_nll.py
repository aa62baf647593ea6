#!/usr/bin/env python3
"""llama2c_nll.py CKPT TOKENS.npy — an independent llama2.c reader: the
mean NLL (nats per token, positions 1..n-1 of every row) of a checkpoint in
Karpathy's legacy float32 layout over the token sequences of a 2-D .npy,
in float64 NumPy; nothing of attnbench's code. It reads the plain file only
(no MHE sidecar): what any llama2.c reader sees."""
import sys

import numpy as np


def load(path):
    raw = open(path, "rb").read()
    dim, hid, L, H, KV, V, S = (int(x) for x in np.frombuffer(raw[:28], dtype=np.int32))
    shared, V, hs = V > 0, abs(V), dim // H
    w = np.frombuffer(raw[28:], dtype=np.float32).astype(np.float64)
    at = 0

    def take(*shape):
        nonlocal at
        n = int(np.prod(shape))
        t = w[at:at + n].reshape(shape)
        at += n
        return t
    p = dict(emb=take(V, dim), rms_att=take(L, dim), wq=take(L, dim, dim), wk=take(L, KV * hs, dim),
             wv=take(L, KV * hs, dim), wo=take(L, dim, dim), rms_ffn=take(L, dim), w1=take(L, hid, dim),
             w2=take(L, dim, hid), w3=take(L, hid, dim), rms_final=take(dim))
    take(S * hs)  # the two RoPE tables
    p["wcls"] = p["emb"] if shared else take(V, dim)
    assert at == w.size, "the file's size does not match its header"
    return (L, H, KV, hs), p


def rmsnorm(x, g):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5) * g


def rope(x):  # x (T, heads, hs)
    T, hs = x.shape[0], x.shape[2]
    ang = np.arange(T)[:, None] * 10000.0 ** (-2.0 * np.arange(hs // 2) / hs)[None, :]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2], out[..., 1::2] = a * c - b * s, a * s + b * c
    return out


def nll(shape, p, tok):
    L, H, KV, hs = shape
    T = len(tok)
    x = p["emb"][tok]
    mask = np.triu(np.ones((T, T), dtype=bool), 1)
    for l in range(L):
        xb = rmsnorm(x, p["rms_att"][l])
        q = rope((xb @ p["wq"][l].T).reshape(T, H, hs))
        k = rope((xb @ p["wk"][l].T).reshape(T, KV, hs)).repeat(H // KV, axis=1)
        v = (xb @ p["wv"][l].T).reshape(T, KV, hs).repeat(H // KV, axis=1)
        sc = np.einsum("thd,shd->hts", q, k) / np.sqrt(hs)
        sc[:, mask] = -np.inf
        a = np.exp(sc - sc.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        x = x + np.einsum("hts,shd->thd", a, v).reshape(T, H * hs) @ p["wo"][l].T
        xb = rmsnorm(x, p["rms_ffn"][l])
        h1 = xb @ p["w1"][l].T
        x = x + (h1 / (1 + np.exp(-h1)) * (xb @ p["w3"][l].T)) @ p["w2"][l].T
    logits = rmsnorm(x, p["rms_final"]) @ p["wcls"].T
    mx = logits.max(-1, keepdims=True)
    lp = logits - mx - np.log(np.exp(logits - mx).sum(-1, keepdims=True))
    return -lp[np.arange(T - 1), tok[1:]].sum(), T - 1


def main():
    shape, p = load(sys.argv[1])
    toks = np.load(sys.argv[2]).astype(np.int64)
    toks = toks.reshape(1, -1) if toks.ndim == 1 else toks
    total, count = 0.0, 0
    for row in toks:
        s, c = nll(shape, p, row)
        total, count = total + s, count + c
    print("%.9g" % (total / count))


if __name__ == "__main__":
    main()

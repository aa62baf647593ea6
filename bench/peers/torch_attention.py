#!/usr/bin/env python3
"""torch_attention.py — the PyTorch peer of `make bench`.

Reads q.npy, k.npy, v.npy (float32, [heads, n, d_head]) and ref.npy (the
suite's float64 exact attention, same shape) from the directory that
`attnbench run --dump DIR` wrote, runs one attention method written plainly
as a PyTorch user would, times it the way attnbench does (warm-up calls,
then timed calls; median), and appends one row to a CSV whose header it is
given, so the row has attnbench's columns:

  torch-exact      softmax(Q K^T / sqrt(d)) V
  torch-topk       Gupta et al. 2021: queries in chunks of C, torch.topk per
                   row, the softmax of the k kept scores scattered into the
                   zeroed chunk scores, then a dense product with V
  torch-performer  FAVOR+ with positive random features; W is read from
                   --features-file (the suite's own orthogonal features,
                   written by build/bench/performer_features), so its error
                   is comparable with the suite's performer row for row

Errors are against ref.npy over all rows (err_rows = n). gflops uses the same
analytic FLOP count as the suite's method (exact: 4 h n^2 d, topk and
performer: the formulas of kernels/topk.c and kernels/performer.c), so
gflops ratios are speed ratios. kernel_peak_bytes is measured like attnbench
(VmHWM reset through /proc/self/clear_refs) and includes the output tensor
each call allocates.
"""
import argparse
import csv
import math
import os
import statistics
import sys
import time

import numpy as np

try:
    import torch
except ImportError:  # the caller checks first; this is the message if it did not
    sys.stderr.write("torch_attention.py: PyTorch is not installed (apt-get install python3-torch)\n")
    sys.exit(3)


# ---- the methods, as a PyTorch user writes them -----------------------------

def causal_mask(rows, cols, first_row):
    """True where key j is in the future of query first_row + i."""
    i = torch.arange(first_row, first_row + rows).unsqueeze(1)
    j = torch.arange(cols).unsqueeze(0)
    return j > i


def exact_attention(q, k, v, causal):
    scores = (q @ k.transpose(-2, -1)) * q.shape[-1] ** -0.5
    if causal:
        scores = scores.masked_fill(causal_mask(q.shape[-2], k.shape[-2], 0), float("-inf"))
    return scores.softmax(dim=-1) @ v


def topk_attention(q, k, v, topk, chunk, causal):
    n = q.shape[-2]
    out = torch.empty_like(q)
    for i0 in range(0, n, chunk):
        i1 = min(n, i0 + chunk)
        nk = i1 if causal else n  # no query of the chunk sees keys past its last row
        scores = (q[:, i0:i1] @ k[:, :nk].transpose(-2, -1)) * q.shape[-1] ** -0.5
        if causal:
            scores.masked_fill_(causal_mask(i1 - i0, nk, i0), float("-inf"))
        vals, idx = scores.topk(min(topk, nk), dim=-1)
        scores.zero_().scatter_(-1, idx, vals.softmax(dim=-1))
        out[:, i0:i1] = scores @ v[:, :nk]
    return out


def favor_features(x, w, shift_all):
    """phi(x) = exp(W x' - |x'|^2 / 2 - c) / sqrt(M), x' = x d^(-1/4); c the
    row's largest exponent (queries) or the largest over all rows (keys)."""
    xs = x * x.shape[-1] ** -0.25
    e = xs @ w.transpose(-2, -1) - (xs * xs).sum(dim=-1, keepdim=True) / 2
    c = e.amax(dim=(-2, -1), keepdim=True) if shift_all else e.amax(dim=-1, keepdim=True)
    return torch.exp(e - c) / math.sqrt(w.shape[-2])


def performer_attention(q, k, v, w, causal, block=64):
    qf = favor_features(q, w, shift_all=False)
    kf = favor_features(k, w, shift_all=True)
    if not causal:
        kv = kf.transpose(-2, -1) @ v            # (heads, M, d)
        z = kf.sum(dim=-2).unsqueeze(-1)         # (heads, M, 1)
        return (qf @ kv) / (qf @ z)
    # causal: running state over blocks of queries, masked products inside a block
    heads, n, d = q.shape
    m = w.shape[-2]
    out = torch.empty_like(q)
    kv = q.new_zeros(heads, m, d)
    z = q.new_zeros(heads, m, 1)
    for i0 in range(0, n, block):
        i1 = min(n, i0 + block)
        qb, kb, vb = qf[:, i0:i1], kf[:, i0:i1], v[:, i0:i1]
        a = (qb @ kb.transpose(-2, -1)).masked_fill(causal_mask(i1 - i0, i1 - i0, 0), 0.0)
        num = qb @ kv + a @ vb
        den = qb @ z + a.sum(dim=-1, keepdim=True)
        out[:, i0:i1] = num / den
        kv = kv + kb.transpose(-2, -1) @ vb
        z = z + kb.sum(dim=-2).unsqueeze(-1)
    return out


# ---- FLOP counts, as the suite's methods count them --------------------------

def exact_flops(h, n, d, causal):
    f = 4.0 * h * n * n * d
    return f / 2 if causal else f


def topk_flops(h, n, d, k, chunk, causal):
    c = min(chunk, n)
    scores, kept = float(n) * n, float(n) * k
    if causal:
        m, r = n // c, n % c
        scores = float(c) * c * m * (m + 1) / 2 + float(r) * n
        kept = n * (n + 1) / 2 if k >= n else k * (k + 1) / 2 + (n - k) * k
    return h * 2.0 * d * (scores + kept)


def performer_flops(h, kv_heads, n, d, m, causal, block=64):
    blocks = math.ceil(m / d)
    per_kv = blocks * 2.0 * d ** 3 + 2.0 * n * m * d + 2.0 * n * d
    per_q = 2.0 * n * m * d + 2.0 * n * d + 2.0 * n * m * d + 2.0 * n * m
    if causal:
        c = min(block, n)
        sum_b2 = (n // c) * c * c + (n % c) ** 2
        per_q += 2.0 * n * m * d + n * m + sum_b2 * (2.0 * m + 2.0 * d)
    else:
        per_kv += 2.0 * n * m * d + n * m
    return kv_heads * per_kv + h * per_q


# ---- measurement ------------------------------------------------------------

def status_bytes(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def measure(fn, warmup, reps):
    """warm-up calls, then `reps` timed calls (0: at least 3 and 1 s of
    calls, at most 100 or 30 s), as bench/measure/measure.c. Returns the median, the
    minimum, the calls, the peak RSS, the peak above the RSS before, and the
    last output."""
    for _ in range(warmup):
        out = fn()
        del out
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        exact_rss = True
    except OSError:
        exact_rss = False
    before = status_bytes("VmRSS")
    times, total, out = [], 0.0, None
    cap = reps if reps else 100
    while len(times) < cap:
        out = None  # the previous output is freed before the next call, as in a loop of calls
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        total += dt
        if not reps and ((len(times) >= 3 and total >= 1.0) or total >= 30.0):
            break
    peak = status_bytes("VmHWM") if exact_rss else 0
    return statistics.median(times), min(times), len(times), peak, max(0, peak - before), out


def errors(out, ref):
    """rel_err, max_abs_err, cos_err (mean over rows of 1 - cosine), in float64"""
    o = out.astype(np.float64).reshape(-1, out.shape[-1])
    r = ref.reshape(-1, ref.shape[-1])
    diff = o - r
    rel = math.sqrt(float((diff * diff).sum()) / float((r * r).sum()))
    cos = (o * r).sum(axis=1) / np.maximum(np.linalg.norm(o, axis=1) * np.linalg.norm(r, axis=1), 1e-300)
    return rel, float(np.abs(diff).max()), float((1.0 - cos).mean())


# the measured columns this peer fills
NUMERIC = ("time_median_s", "time_min_s", "gflops", "rel_err", "max_abs_err", "cos_err")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", required=True, help="the directory attnbench run --dump wrote")
    ap.add_argument("--attention", required=True, choices=["exact", "topk", "performer"])
    ap.add_argument("--k", type=int, default=64)
    ap.add_argument("--chunk", type=int, default=1024)
    ap.add_argument("--features-file", help="performer: w.npy (kv_heads, M, d_head)")
    ap.add_argument("--causal", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--reps", type=int, default=0)
    ap.add_argument("--label", action="append", default=[],
                    help="COLUMN=VALUE copied into the row (score_std, seed, ...)")
    ap.add_argument("--header", required=True, help="the CSV header line of the suite's rows")
    ap.add_argument("--csv", required=True, help="append the row to this file")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.set_grad_enabled(False)
    load = lambda name: np.load(os.path.join(a.input, name))
    q, k, v = (torch.from_numpy(np.ascontiguousarray(load(f + ".npy"), dtype=np.float32)) for f in "qkv")
    ref = load("ref.npy")
    heads, n, d = q.shape
    kv_heads = k.shape[0]
    if kv_heads != heads:  # grouped K/V heads: each query head reads its group's K/V head
        k = k.repeat_interleave(heads // kv_heads, dim=0)
        v = v.repeat_interleave(heads // kv_heads, dim=0)
    causal = bool(a.causal)

    row = {"layer": "attention", "attention": "torch-" + a.attention, "projection": "mha",
           "n": n, "heads": heads, "kv_heads": kv_heads, "d_head": d, "causal": int(causal),
           "threads": a.threads, "input": "synthetic", "err_rows": n,
           "blas_core": os.environ.get("OPENBLAS_CORETYPE", ""),
           "note": "PyTorch %s peer" % torch.__version__}
    if a.attention == "exact":
        fn = lambda: exact_attention(q, k, v, causal)
        flops = exact_flops(heads, n, d, causal)
    elif a.attention == "topk":
        kk, c = min(a.k, n), min(a.chunk, n)
        fn = lambda: topk_attention(q, k, v, kk, c, causal)
        flops = topk_flops(heads, n, d, kk, c, causal)
        row.update(k=kk, chunk=a.chunk)
    else:
        if not a.features_file:
            ap.error("--attention performer needs --features-file")
        w = torch.from_numpy(np.ascontiguousarray(np.load(a.features_file), dtype=np.float32))
        m = w.shape[1]
        if w.shape[0] != kv_heads or w.shape[2] != d:
            ap.error("%s: shape %s, want (%d, M, %d)" % (a.features_file, tuple(w.shape), kv_heads, d))
        wq = w.repeat_interleave(heads // kv_heads, dim=0)  # each query head its K/V head's features
        fn = lambda: performer_attention(q, k, v, wq, causal)
        flops = performer_flops(heads, kv_heads, n, d, m, causal)
        row.update(features=m, note=row["note"] + "; W: the suite's features (w.npy)")
    for lab in a.label:
        col, _, val = lab.partition("=")
        row[col] = val

    median, tmin, reps, peak, kpeak, out = measure(fn, a.warmup, a.reps)
    rel, mx, cos = errors(out.numpy(), ref)
    row.update(status="ok", time_median_s="%.6g" % median, time_min_s="%.6g" % tmin, reps=reps,
               gflops="%.4g" % (flops / median * 1e-9), peak_rss_bytes=peak, kernel_peak_bytes=kpeak,
               rel_err="%.6g" % rel, max_abs_err="%.6g" % mx, cos_err="%.6g" % cos)
    # as attnbench's rows (row_check_finite): an ok row never holds NaN or Inf
    bad = [c for c, v in row.items() if c in NUMERIC and not math.isfinite(float(v))]
    if bad:
        row.update(status="nonfinite", note="not finite: %s; %s" % (", ".join("%s %s" % (c, row[c]) for c in bad), row["note"]))

    columns = next(csv.reader([a.header]))
    unknown = set(row) - set(columns)
    if unknown:
        sys.stderr.write("torch_attention.py: columns not in the header: %s\n" % ", ".join(sorted(unknown)))
        return 1
    new = not os.path.exists(a.csv) or os.path.getsize(a.csv) == 0
    with open(a.csv, "a", newline="") as f:
        wr = csv.writer(f, lineterminator="\n")
        if new:
            wr.writerow(columns)
        wr.writerow([row.get(c, "") for c in columns])
    return 0


if __name__ == "__main__":
    sys.exit(main())

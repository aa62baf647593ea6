#!/usr/bin/env python3
"""gen_kivi_golden.py -- golden bytes of KIVI's quantized groups for
tests/test_kv_format.c, from an independent NumPy implementation of the
format kernels/kv_kivi.c states: asymmetric `bits` quantization of a group,
min m and scale s = (max - m) / (2^bits - 1) as fp16 (m', s'),
q = clip(floor((x - m') / s' + 1/2), 0, 2^bits - 1) in float32 (q = 0 when
s' = 0), x' = q s' + m'. Keys: per channel over a group of G tokens, layout
[d fp16 mins | d fp16 scales | codes token-major]; values: per token over
groups of b = min(G, d) channels, [m' | s' | b codes] per group; codes
packed from bit 0 of byte 0 up. Prints the C initializers (run with a
Python that has NumPy; the output is pasted into the test)."""
import numpy as np

def quant(x, bits):
    """x: (count, n) float32, n values per group -> (mins f16, scales f16, q uint8, x' float32)"""
    x = x.astype(np.float32)
    mn = x.min(axis=1).astype(np.float16)
    sc = ((x.max(axis=1) - x.min(axis=1)) / np.float32(2**bits - 1)).astype(np.float16)
    m32, s32 = mn.astype(np.float32)[:, None], sc.astype(np.float32)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.floor((x - m32) / s32 + np.float32(0.5))
    q = np.where(s32 > 0, np.clip(q, 0, 2**bits - 1), 0).astype(np.uint8)
    return mn, sc, q, q.astype(np.float32) * s32 + m32

def pack(codes, bits):
    out = np.zeros(len(codes) * bits // 8, np.uint8)
    for i, c in enumerate(codes):
        out[i * bits // 8] |= np.uint8(int(c) << (i * bits % 8))
    return out

def key_group(x, bits):
    """x: (G, d) -> bytes, dequantized (G, d)"""
    mn, sc, q, y = quant(x.T, bits)          # a group per channel
    b = mn.tobytes() + sc.tobytes() + pack(q.T.reshape(-1), bits).tobytes()
    return b, y.T

def value_row(x, G, bits):
    d = x.size
    blk = min(G, d)
    mn, sc, q, y = quant(x.reshape(d // blk, blk), bits)
    b = b"".join(mn[j:j + 1].tobytes() + sc[j:j + 1].tobytes() + pack(q[j], bits).tobytes() for j in range(d // blk))
    return b, y.reshape(-1)

def c_floats(a):
    return "{" + ", ".join(repr(float(v)) + "f" for v in np.asarray(a, np.float32).reshape(-1)) + "}"

def c_bytes(b):
    return "{" + ", ".join("0x%02x" % v for v in b) + "}"

rng = np.random.default_rng(260)
cases = []
for name, G, d, bits in [("k4", 4, 8, 4), ("k2", 4, 8, 2), ("kconst", 2, 4, 2)]:
    x = rng.standard_normal((G, d)).astype(np.float32) * 2
    if name == "kconst":
        x[:, 1] = 0.75                       # a channel of one value: s' = 0
    b, y = key_group(x, bits)
    cases.append(("key", name, G, d, bits, x, b, y))
for name, G, d, bits in [("v4", 8, 16, 4), ("v2", 8, 16, 2), ("v2d8", 32, 8, 2)]:
    x = rng.standard_normal(d).astype(np.float32) * 3
    b, y = value_row(x, G, bits)
    cases.append(("value", name, G, d, bits, x, b, y))
for kind, name, G, d, bits, x, b, y in cases:
    print('    {"%s", %d, %d, %d, %d, %s,\n     %s,\n     %s},' % (name, kind == "key", G, d, bits, c_floats(x), c_bytes(b), c_floats(y)))

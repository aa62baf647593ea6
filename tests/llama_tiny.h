/* llama_tiny.h — writes a tiny llama2.c checkpoint of random weights for the
 * tests (test_eval, and e2e_eval.sh through `test_eval --write-ckpt PATH`):
 * header dim, hidden_dim, layers, heads, kv_heads, vocab (negative:
 * unshared classifier), seq_len, then the float32 tensors in llama2.c's
 * order, matrices scaled by 1/sqrt(fan-in), RMSNorm weights near 1. */
#ifndef LLAMA_TINY_H
#define LLAMA_TINY_H

#include "check.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct { int h[7]; } llama_tiny_header;

/* the floats after the header */
static inline size_t llama_tiny_floats(const llama_tiny_header *hd) {
    size_t dim = (size_t)hd->h[0], hid = (size_t)hd->h[1], L = (size_t)hd->h[2], H = (size_t)hd->h[3],
           KV = (size_t)hd->h[4], V = (size_t)abs(hd->h[5]), S = (size_t)hd->h[6];
    size_t hs = dim / H, kvd = hs * KV;
    size_t n = V * dim + L * dim + L * dim * dim + 2 * L * kvd * dim + L * dim * dim + L * dim + 3 * L * hid * dim + dim + S * hs;
    return hd->h[5] < 0 ? n + V * dim : n;
}

/* 0, or -1 (cannot write) */
static inline int llama_tiny_write(const char *path, const llama_tiny_header *hd) {
    size_t dim = (size_t)hd->h[0], hid = (size_t)hd->h[1], L = (size_t)hd->h[2], H = (size_t)hd->h[3],
           KV = (size_t)hd->h[4], V = (size_t)abs(hd->h[5]);
    size_t hs = dim / H, kvd = hs * KV, total = llama_tiny_floats(hd);
    float *w = malloc(total * sizeof(float));
    if (!w) return -1;
    /* sections: (count, scale); scale 0 marks RMSNorm weights */
    size_t counts[12] = {V * dim, L * dim, L * dim * dim, L * kvd * dim, L * kvd * dim, L * dim * dim,
                         L * dim, L * hid * dim, L * dim * hid, L * hid * dim, dim, 0};
    double scales[12] = {1, 0, 1 / sqrt((double)dim), 1 / sqrt((double)dim), 1 / sqrt((double)dim),
                         1 / sqrt((double)dim), 0, 1 / sqrt((double)dim), 1 / sqrt((double)hid),
                         1 / sqrt((double)dim), 0, 0};
    size_t at = 0;
    for (int s = 0; s < 11; s++) {
        for (size_t i = 0; i < counts[s]; i++)
            w[at + i] = scales[s] ? (float)(scales[s] * test_normal()) : (float)(1 + 0.1 * test_normal());
        at += counts[s];
    }
    for (; at < total; at++) w[at] = (float)(0.5 * test_normal()); /* RoPE tables (unused), classifier */
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(hd->h, sizeof(int), 7, f) == 7 && fwrite(w, sizeof(float), total, f) == total;
    if (f && fclose(f) != 0) ok = 0;
    free(w);
    return ok ? 0 : -1;
}

#endif

/* chunked.c — exact attention in blocks of C queries x C keys with an online
 * softmax (running max m and running sum l per query), as in
 * FlashAttention / Rabe & Staats: memory O(C^2) per call, independent of n.
 *
 * For a query row with running (m, l, acc), a new key block with scores s:
 *   m' = max(m, max s);  acc = acc * e^(m - m') + sum_j e^(s_j - m') v_j;
 *   l  = l * e^(m - m') + sum_j e^(s_j - m');          out = acc / l.
 * The accumulator is the output row itself, so no (C, d_head) buffer. */
#include "methods.h"
#include "softmax.h"

#include <cblas.h>
#include <math.h>

static size_t chunk_of(const attn_shape *s, const attn_knobs *kn) {
    return kn->chunk < s->n ? kn->chunk : s->n;
}

/* workspace: C*C scores + 2*C floats (m, l), C = min(chunk, n) */
size_t chunked_workspace(const attn_shape *s, const attn_knobs *kn) {
    size_t c = chunk_of(s, kn);
    return size_mul_sat(size_add_sat(size_mul_sat(c, c), size_mul_sat(2, c)), sizeof(float));
}

/* q: (heads, n, d_head); k, v: (kv_heads, n, d_head); out: (heads, n, d_head) */
int chunked_forward(const attn_shape *s, const attn_knobs *kn, const float *q,
                    const float *k, const float *v, float *out, workspace *ws) {
    if (kn->chunk < 1)
        return ATTN_EINVAL;
    const size_t n = s->n, d = s->d_head, group = s->heads / s->kv_heads;
    const size_t C = chunk_of(s, kn);
    float *sc = ws_alloc_n(ws, C * C, sizeof(float)); /* (C, C) scores of one block pair */
    float *m = ws_alloc_n(ws, 2 * C, sizeof(float));  /* (C) running max, then (C) running sum */
    if (!sc || !m) {
        ws_free(ws, sc); ws_free(ws, m);
        return ATTN_ENOMEM;
    }
    float *l = m + C;
    const float scale = 1.0f / sqrtf((float)d);
    for (size_t h = 0; h < s->heads; h++) {
        const float *kh = k + (h / group) * n * d, *vh = v + (h / group) * n * d;
        for (size_t i0 = 0; i0 < n; i0 += C) {
            const size_t bq = n - i0 < C ? n - i0 : C;
            const float *qb = q + (h * n + i0) * d;
            float *ob = out + (h * n + i0) * d; /* (bq, d) accumulator */
            for (size_t i = 0; i < bq; i++) { m[i] = -INFINITY; l[i] = 0.0f; }
            for (size_t x = 0; x < bq * d; x++) ob[x] = 0.0f;
            /* causal: key blocks past the block's last query are all masked */
            const size_t kend = s->causal ? i0 + bq : n;
            for (size_t j0 = 0; j0 < kend; j0 += C) {
                const size_t bk = kend - j0 < C ? kend - j0 : C;
                /* sc = qb kb^T / sqrt(d): (bq, bk) */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)bq, (int)bk, (int)d,
                            scale, qb, (int)d, kh + j0 * d, (int)d, 0.0f, sc, (int)bk);
                for (size_t i = 0; i < bq; i++) {
                    float *si = sc + i * bk;
                    /* causal: row i0+i sees keys j0 .. i0+i */
                    size_t vis = bk;
                    if (s->causal && j0 + bk > i0 + i + 1) vis = i0 + i + 1 - j0;
                    const float mnew = fmaxf(m[i], row_max(si, vis));
                    const float alpha = expf(m[i] - mnew); /* 0 on the first block */
                    float sum = 0.0f;
                    for (size_t j = 0; j < vis; j++) { si[j] = expf(si[j] - mnew); sum += si[j]; }
                    for (size_t j = vis; j < bk; j++) si[j] = 0.0f;
                    l[i] = l[i] * alpha + sum;
                    m[i] = mnew;
                    if (alpha != 1.0f)
                        for (size_t x = 0; x < d; x++) ob[i * d + x] *= alpha;
                }
                /* ob += P vb: (bq, d) += (bq, bk) x (bk, d) */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)bq, (int)d, (int)bk,
                            1.0f, sc, (int)bk, vh + j0 * d, (int)d, 1.0f, ob, (int)d);
            }
            for (size_t i = 0; i < bq; i++) {
                const float inv = 1.0f / l[i];
                for (size_t x = 0; x < d; x++) ob[i * d + x] *= inv;
            }
        }
    }
    ws_free(ws, sc); ws_free(ws, m);
    return ATTN_OK;
}

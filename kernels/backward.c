/* backward.c — exact attention's backward, and the blocked forward that
 * goes with it (see backward.h). Per head and
 * block of query rows i, with S = q k^T / sqrt(d), P = softmax(S) (causal:
 * row i over keys 0..i), out = P v:
 *   dv += P^T dout          dP = dout v^T
 *   dS = P * (dP - D)       D_i = dout_i . out_i  (= sum_j dP_ij P_ij)
 *   dq = dS k / sqrt(d)     dk += dS^T q / sqrt(d)
 * dk, dv of a K/V head sum over the query heads that read it. */
#include "backward.h"
#include "softmax.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <string.h>

enum { BACKWARD_ROWS = 64 };

static int shape_ok(const attn_shape *s) {
    return s->heads && s->kv_heads && s->heads % s->kv_heads == 0 && s->n && s->d_head && s->n <= INT_MAX &&
           s->d_head <= INT_MAX;
}

int exact_attention_forward(const attn_shape *s, const attn_knobs *kn, const float *q, const float *k,
                            const float *v, float *out, workspace *ws) {
    (void)kn;
    const size_t n = s->n, d = s->d_head, group = s->heads / (s->kv_heads ? s->kv_heads : 1);
    if (!shape_ok(s))
        return ATTN_EINVAL;
    float *p = ws_alloc_n(ws, (size_t)BACKWARD_ROWS * n, sizeof(float)); /* (rows, keys) */
    if (!p)
        return ATTN_ENOMEM;
    const float scale = 1.0f / sqrtf((float)d);
    for (size_t h = 0; h < s->heads; h++) {
        const float *kh = k + (h / group) * n * d, *vh = v + (h / group) * n * d;
        for (size_t i0 = 0; i0 < n; i0 += BACKWARD_ROWS) {
            const size_t b = n - i0 < BACKWARD_ROWS ? n - i0 : BACKWARD_ROWS;
            const size_t nk = s->causal ? i0 + b : n;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)nk, (int)d, scale, q + (h * n + i0) * d,
                        (int)d, kh, (int)d, 0.0f, p, (int)nk);
            for (size_t i = 0; i < b; i++) {
                const size_t vis = s->causal ? i0 + i + 1 : n;
                softmax_row(p + i * nk, vis);
                memset(p + i * nk + vis, 0, (nk - vis) * sizeof(float));
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)d, (int)nk, 1.0f, p, (int)nk, vh,
                        (int)d, 0.0f, out + (h * n + i0) * d, (int)d);
        }
    }
    ws_free(ws, p);
    return ATTN_OK;
}

int exact_attention_backward(const attn_shape *s, const attn_knobs *kn, const float *q,
                             const float *k, const float *v, const float *out,
                             const float *dout, float *dq, float *dk, float *dv, workspace *ws) {
    (void)kn;
    const size_t n = s->n, d = s->d_head, H = s->heads, G = s->kv_heads;
    if (!shape_ok(s))
        return ATTN_EINVAL;
    size_t block;
    if (size_mul(BACKWARD_ROWS, n, &block))
        return ATTN_ENOMEM;
    float *p = ws_alloc_n(ws, block, sizeof(float));  /* (rows, keys) probabilities */
    float *dp = ws_alloc_n(ws, block, sizeof(float)); /* (rows, keys) dP, then dS */
    if (!p || !dp) {
        ws_free(ws, p); ws_free(ws, dp);
        return ATTN_ENOMEM;
    }
    memset(dk, 0, G * n * d * sizeof(float));
    memset(dv, 0, G * n * d * sizeof(float));
    const float scale = 1.0f / sqrtf((float)d);
    const size_t group = H / G;
    for (size_t h = 0; h < H; h++) {
        const float *kh = k + (h / group) * n * d, *vh = v + (h / group) * n * d;
        float *dkh = dk + (h / group) * n * d, *dvh = dv + (h / group) * n * d;
        for (size_t i0 = 0; i0 < n; i0 += BACKWARD_ROWS) {
            const size_t b = n - i0 < BACKWARD_ROWS ? n - i0 : BACKWARD_ROWS;
            const size_t nk = s->causal ? i0 + b : n; /* keys any row of the block sees */
            const float *qb = q + (h * n + i0) * d, *ob = out + (h * n + i0) * d, *gb = dout + (h * n + i0) * d;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)nk, (int)d, scale, qb, (int)d, kh,
                        (int)d, 0.0f, p, (int)nk);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)nk, (int)d, 1.0f, gb, (int)d, vh,
                        (int)d, 0.0f, dp, (int)nk);
            for (size_t i = 0; i < b; i++) {
                float *pi = p + i * nk, *dpi = dp + i * nk;
                const size_t vis = s->causal ? i0 + i + 1 : n;
                softmax_row(pi, vis);
                double di = 0;
                for (size_t j = 0; j < d; j++) di += (double)gb[i * d + j] * ob[i * d + j];
                const float dif = (float)di;
                for (size_t j = 0; j < vis; j++) dpi[j] = pi[j] * (dpi[j] - dif);
                for (size_t j = vis; j < nk; j++) pi[j] = dpi[j] = 0.0f;
            }
            /* dv[:nk] += P^T dout_rows; dq_rows = dS k[:nk] scale; dk[:nk] += dS^T q_rows scale */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)nk, (int)d, (int)b, 1.0f, p, (int)nk, gb,
                        (int)d, 1.0f, dvh, (int)d);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)d, (int)nk, scale, dp, (int)nk,
                        kh, (int)d, 0.0f, dq + (h * n + i0) * d, (int)d);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)nk, (int)d, (int)b, scale, dp, (int)nk, qb,
                        (int)d, 1.0f, dkh, (int)d);
        }
    }
    ws_free(ws, p); ws_free(ws, dp);
    return ATTN_OK;
}

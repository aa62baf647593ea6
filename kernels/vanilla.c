/* vanilla.c — exact attention with the (heads, n, n) score tensor
 * materialised: the quadratic-memory baseline every method is measured
 * against. One sgemm for the scores of a head, a row softmax, one sgemm
 * for P·V. All heads' scores are held at once, as a naive implementation
 * that batches heads does. */
#include "methods.h"
#include "softmax.h"

#include <cblas.h>
#include <math.h>

/* workspace: heads * n * n floats of scores */
size_t vanilla_workspace(const attn_shape *s, const attn_knobs *kn) {
    (void)kn;
    return size_mul_sat(size_mul_sat(s->heads, size_mul_sat(s->n, s->n)), sizeof(float));
}

/* q: (heads, n, d_head); k, v: (kv_heads, n, d_head); out: (heads, n, d_head) */
int vanilla_forward(const attn_shape *s, const attn_knobs *kn, const float *q,
                    const float *k, const float *v, float *out, workspace *ws) {
    (void)kn;
    const size_t n = s->n, d = s->d_head, group = s->heads / s->kv_heads;
    size_t count;
    if (size_mul3(s->heads, n, n, &count))
        return ATTN_ENOMEM;
    float *scores = ws_alloc_n(ws, count, sizeof(float)); /* (heads, n, n) */
    if (!scores)
        return ATTN_ENOMEM;
    const float scale = 1.0f / sqrtf((float)d);
    for (size_t h = 0; h < s->heads; h++) {
        const float *qh = q + h * n * d, *kh = k + (h / group) * n * d, *vh = v + (h / group) * n * d;
        float *sh = scores + h * n * n;
        /* sh = qh kh^T / sqrt(d): (n, n) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, (int)d, scale,
                    qh, (int)d, kh, (int)d, 0.0f, sh, (int)n);
        for (size_t i = 0; i < n; i++) {
            size_t vis = s->causal ? i + 1 : n;
            softmax_row(sh + i * n, vis);
            for (size_t j = vis; j < n; j++) sh[i * n + j] = 0.0f;
        }
        /* out_h = P v_h: (n, d) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)d, (int)n, 1.0f,
                    sh, (int)n, vh, (int)d, 0.0f, out + h * n * d, (int)d);
    }
    ws_free(ws, scores);
    return ATTN_OK;
}

/* proj_mha.c — multi-head attention's projection: one Q, K, V matrix per head. */
#include "methods.h"

#include <cblas.h>
#include <string.h>

size_t mha_kv_heads(size_t heads, size_t kv_heads_opt) {
    (void)kv_heads_opt;
    return heads;
}

/* 3 * heads * d_model * d_head */
size_t mha_params(const proj_shape *s) {
    return size_mul_sat(3, size_mul_sat(s->heads, size_mul_sat(s->d_model, s->d_head)));
}

/* y = x w for every head: x (n, d_model); w (heads, d_model, d_head); y (heads, n, d_head) */
void project_heads(const proj_shape *s, size_t heads, const float *x, const float *w, float *y) {
    for (size_t h = 0; h < heads; h++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)s->n, (int)s->d_head,
                    (int)s->d_model, 1.0f, x, (int)s->d_model, w + h * s->d_model * s->d_head,
                    (int)s->d_head, 0.0f, y + h * s->n * s->d_head, (int)s->d_head);
}

/* x: (n, d_model); wq, wk, wv: (heads, d_model, d_head); q, k, v: (heads, n, d_head) */
int mha_project(const proj_shape *s, const float *x, const float *wq, const float *wk,
                const float *wv, float *q, float *k, float *v, workspace *ws) {
    (void)ws;
    project_heads(s, s->heads, x, wq, q);
    project_heads(s, s->heads, x, wk, k);
    project_heads(s, s->heads, x, wv, v);
    return ATTN_OK;
}

/* decode: w (3 heads, d_model, d_head) <- wq, wk, wv as they are */
int mha_decode_weights(const proj_shape *s, const float *x, const float *wq, const float *wk,
                       const float *wv, float *w, float *emb, workspace *ws) {
    (void)x; (void)emb; (void)ws;
    const size_t per = s->heads * s->d_model * s->d_head;
    memcpy(w, wq, per * sizeof(float));
    memcpy(w + per, wk, per * sizeof(float));
    memcpy(w + 2 * per, wv, per * sizeof(float));
    return ATTN_OK;
}

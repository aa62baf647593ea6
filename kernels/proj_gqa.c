/* proj_gqa.c — grouped-query (gqa, G = --kv-heads) and multi-query (mqa,
 * G = 1) projections, converted from the MHA weights as in Ainslie et al.
 * (2023): queries keep their per-head projections; the K and V projection of
 * a group is the mean of its heads' K and V projections (mean pooling). */
#include "methods.h"

#include <string.h>

/* gqa: the --kv-heads value as given (0: unset, which the program rejects) */
size_t gqa_kv_heads(size_t heads, size_t kv_heads_opt) {
    (void)heads;
    return kv_heads_opt;
}

/* mqa: one K/V head, whatever --kv-heads says */
size_t mqa_kv_heads(size_t heads, size_t kv_heads_opt) {
    (void)heads; (void)kv_heads_opt;
    return 1;
}

/* heads * d_model * d_head (Q) + 2 * kv_heads * d_model * d_head (K, V) */
size_t gqa_params(const proj_shape *s) {
    size_t per_head = size_mul_sat(s->d_model, s->d_head);
    return size_add_sat(size_mul_sat(s->heads, per_head),
                        size_mul_sat(2, size_mul_sat(s->kv_heads, per_head)));
}

/* w: (heads, d_model, d_head) -> wg: (groups, d_model, d_head), the mean of
 * each group's heads, summed in double */
void gqa_group_mean(size_t heads, size_t groups, size_t per_head, const float *w, float *wg) {
    const size_t group = heads / groups;
    for (size_t g = 0; g < groups; g++)
        for (size_t x = 0; x < per_head; x++) {
            double sum = 0;
            for (size_t h = g * group; h < (g + 1) * group; h++) sum += w[h * per_head + x];
            wg[g * per_head + x] = (float)(sum / (double)group);
        }
}

/* x: (n, d_model); wq, wk, wv: (heads, d_model, d_head);
 * q: (heads, n, d_head); k, v: (kv_heads, n, d_head) */
int gqa_project(const proj_shape *s, const float *x, const float *wq, const float *wk,
                const float *wv, float *q, float *k, float *v, workspace *ws) {
    const size_t G = s->kv_heads;
    if (!G || !s->heads || s->heads % G)
        return ATTN_EINVAL;
    size_t per_head, count;
    if (size_mul(s->d_model, s->d_head, &per_head) || size_mul(G, per_head, &count))
        return ATTN_ENOMEM;
    float *wg = ws_alloc_n(ws, count, sizeof(float)); /* (G, d_model, d_head) group weights */
    if (!wg)
        return ATTN_ENOMEM;
    project_heads(s, s->heads, x, wq, q);
    gqa_group_mean(s->heads, G, per_head, wk, wg);
    project_heads(s, G, x, wg, k);
    gqa_group_mean(s->heads, G, per_head, wv, wg);
    project_heads(s, G, x, wg, v);
    ws_free(ws, wg);
    return ATTN_OK;
}

/* decode: w (heads + 2 kv_heads, d_model, d_head) <- the query heads as
 * they are, each group's mean K, then V */
int gqa_decode_weights(const proj_shape *s, const float *x, const float *wq, const float *wk,
                       const float *wv, float *w, float *emb, workspace *ws) {
    (void)x; (void)emb; (void)ws;
    const size_t per_head = s->d_model * s->d_head, H = s->heads, G = s->kv_heads;
    if (!G || H % G) return ATTN_EINVAL;
    memcpy(w, wq, H * per_head * sizeof(float));
    gqa_group_mean(H, G, per_head, wk, w + H * per_head);
    gqa_group_mean(H, G, per_head, wv, w + (H + G) * per_head);
    return ATTN_OK;
}

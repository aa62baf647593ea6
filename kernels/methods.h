/* methods.h — the entry points the tables in methods.c point to.
 * One block per kernel file. */
#ifndef METHODS_H
#define METHODS_H

#include "attention.h"

/* exact attention: 4 * heads * n^2 * d_head (QK^T and PV), halved for causal */
double exact_flops(const attn_shape *s, const attn_knobs *kn);

/* vanilla.c */
int vanilla_forward(const attn_shape *s, const attn_knobs *kn, const float *q,
                    const float *k, const float *v, float *out, workspace *ws);
size_t vanilla_workspace(const attn_shape *s, const attn_knobs *kn);

/* chunked.c */
int chunked_forward(const attn_shape *s, const attn_knobs *kn, const float *q,
                    const float *k, const float *v, float *out, workspace *ws);
size_t chunked_workspace(const attn_shape *s, const attn_knobs *kn);

/* proj_mha.c */
int mha_project(const proj_shape *s, const float *x, const float *wq, const float *wk,
                const float *wv, float *q, float *k, float *v, workspace *ws);
size_t mha_kv_heads(size_t heads, size_t kv_heads_opt);
size_t mha_params(const proj_shape *s);
/* y = x w per head: x (n, d_model); w (heads, d_model, d_head); y (heads, n, d_head) */
void project_heads(const proj_shape *s, size_t heads, const float *x, const float *w, float *y);

#endif

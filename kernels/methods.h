/* methods.h — the entry points the tables in methods.c point to.
 * One block per kernel file. */
#ifndef METHODS_H
#define METHODS_H

#include "attention.h"

/* exact attention: 4 * heads * n^2 * d_head (QK^T and PV), halved for causal */
double exact_flops(const attn_shape *s, const attn_knobs *kn);
/* exact_limit hooks (attention.h) of the table entries without a file's own:
 * exact as they are (1, knobs unchanged); approximate only (0); top-k k = n;
 * projections: mha (any --kv-heads), gqa (--kv-heads = heads), none (0) */
int exact_as_is(const attn_shape *s, attn_knobs *kn);
int exact_none(const attn_shape *s, attn_knobs *kn);
int topk_exact_limit(const attn_shape *s, attn_knobs *kn);
int proj_exact_as_is(size_t heads, size_t *kv_heads_opt);
int proj_exact_all_heads(size_t heads, size_t *kv_heads_opt);
int proj_exact_none(size_t heads, size_t *kv_heads_opt);
/* resolve hooks (attention.h) of the table entries: defaults and checks of
 * the knobs each reads; resolve_none for a method that reads none */
enum { ATTN_DEFAULT_CHUNK = 256 };
#define PERFORMER_MAX_FEATURES ((size_t)1 << 20)
int resolve_none(const attn_shape *s, attn_knobs *kn, char *why, size_t cap);
int chunked_resolve(const attn_shape *s, attn_knobs *kn, char *why, size_t cap);
int topk_resolve(const attn_shape *s, attn_knobs *kn, char *why, size_t cap);
int performer_resolve(const attn_shape *s, attn_knobs *kn, char *why, size_t cap);

/* vanilla.c */
int vanilla_forward(const attn_shape *s, const attn_knobs *kn, const float *q,
                    const float *k, const float *v, float *out, workspace *ws);
size_t vanilla_workspace(const attn_shape *s, const attn_knobs *kn);

/* chunked.c */
int chunked_forward(const attn_shape *s, const attn_knobs *kn, const float *q,
                    const float *k, const float *v, float *out, workspace *ws);
size_t chunked_workspace(const attn_shape *s, const attn_knobs *kn);

/* performer.c */
int performer_forward(const attn_shape *s, const attn_knobs *kn, const float *q,
                      const float *k, const float *v, float *out, workspace *ws);
double performer_flops(const attn_shape *s, const attn_knobs *kn);
size_t performer_workspace(const attn_shape *s, const attn_knobs *kn);
/* ceil(d_head ln d_head): the default M (knobs->features 0 also means this) */
size_t performer_default_features(size_t d_head);
/* w: (m, d_head) orthogonal random features of K/V head `head`; g: (d_head, d_head) scratch */
void performer_draw_features(size_t m, size_t d_head, uint64_t seed, size_t head, float *w,
                             double *g);
/* x: (rows, d_head); w: (m, d_head); phi: (rows, m) positive features, shifted by: */
enum { PERFORMER_SHIFT_NONE, PERFORMER_SHIFT_ROW, PERFORMER_SHIFT_ALL };
void performer_feature_map(size_t rows, size_t d_head, size_t m, const float *x, const float *w,
                           int shift, float *phi);

/* topk.c */
int topk_forward(const attn_shape *s, const attn_knobs *kn, const float *q,
                 const float *k, const float *v, float *out, workspace *ws);
double topk_flops(const attn_shape *s, const attn_knobs *kn);
size_t topk_workspace(const attn_shape *s, const attn_knobs *kn);
/* s: (len); scratch: (len); idx: (min(k, len)) the indices of the k largest
 * of s, ascending, the lower index winning ties; returns min(k, len)
 * (fewer only if s holds NaN) */
size_t topk_select_row(const float *s, size_t len, size_t k, float *scratch, uint32_t *idx);

/* window.c: sink + sliding window (the kept set is defined at the top of window.c) */
enum { WINDOW_DEFAULT_SINK = 4, WINDOW_DEFAULT_WINDOW = 256 };
int window_forward(const attn_shape *s, const attn_knobs *kn, const float *q,
                   const float *k, const float *v, float *out, workspace *ws);
double window_flops(const attn_shape *s, const attn_knobs *kn);
size_t window_workspace(const attn_shape *s, const attn_knobs *kn);
int window_exact_limit(const attn_shape *s, attn_knobs *kn);
int window_resolve(const attn_shape *s, attn_knobs *kn, char *why, size_t cap);
/* the reference statistic, float64: q (heads, n, d_head); k (kv_heads, n,
 * d_head); rows (nrows) ascending, NULL for all n; mass (heads, nrows) <- the
 * exact attention's probability on each row's kept set (1 at window >= n) */
int window_kept_mass(const attn_shape *s, const attn_knobs *kn, const double *q,
                     const double *k, const size_t *rows, size_t nrows, double *mass,
                     workspace *ws);

/* h2o.c: H2O, an eviction policy (defined at the top of h2o.c); its prefill
 * is its decode (decode_prefill.c), decode_h2o its decode entry */
int h2o_forward(const attn_shape *s, const attn_knobs *kn, const float *q, const float *k, const float *v,
                float *out, workspace *ws);
double h2o_flops(const attn_shape *s, const attn_knobs *kn);
size_t h2o_workspace(const attn_shape *s, const attn_knobs *kn);
int h2o_exact_limit(const attn_shape *s, attn_knobs *kn);
int h2o_resolve(const attn_shape *s, attn_knobs *kn, char *why, size_t cap);
extern const struct attn_decode decode_h2o;

/* tova.c: TOVA, an eviction policy (defined at the top of tova.c), as h2o.c */
int tova_forward(const attn_shape *s, const attn_knobs *kn, const float *q, const float *k, const float *v,
                 float *out, workspace *ws);
double tova_flops(const attn_shape *s, const attn_knobs *kn);
size_t tova_workspace(const attn_shape *s, const attn_knobs *kn);
int tova_exact_limit(const attn_shape *s, attn_knobs *kn);
int tova_resolve(const attn_shape *s, attn_knobs *kn, char *why, size_t cap);
extern const struct attn_decode decode_tova;

/* snapkv.c: SnapKV, an eviction policy (defined at the top of snapkv.c), as h2o.c */
int snapkv_forward(const attn_shape *s, const attn_knobs *kn, const float *q, const float *k, const float *v,
                   float *out, workspace *ws);
double snapkv_flops(const attn_shape *s, const attn_knobs *kn);
size_t snapkv_workspace(const attn_shape *s, const attn_knobs *kn);
int snapkv_exact_limit(const attn_shape *s, attn_knobs *kn);
int snapkv_resolve(const attn_shape *s, attn_knobs *kn, char *why, size_t cap);
extern const struct attn_decode decode_snapkv;

/* ffn.c — the feed-forward layer out = ReLU(x w1) w2, exact and top-k over
 * the d_ff hidden units (keys: columns of w1, values: rows of w2), rows in
 * chunks of C = min(chunk, n). For every function:
 *   x (n, d_model); w1 (d_model, d_ff); w2 (d_ff, d_model); out (n, d_model)
 * k (top-k) >= 1; k >= d_ff keeps every unit, which is the exact layer.
 * Return ATTN_OK, ATTN_EINVAL (empty shape, k or chunk 0, a size over INT_MAX)
 * or ATTN_ENOMEM. */
typedef struct {
    size_t n;        /* rows of x (tokens) */
    size_t d_model;  /* width of x and out */
    size_t d_ff;     /* hidden units */
} ffn_shape;
int ffn_exact_forward(const ffn_shape *s, size_t chunk, const float *x, const float *w1,
                      const float *w2, float *out, workspace *ws);
size_t ffn_exact_workspace(const ffn_shape *s, size_t chunk);    /* 4*C*d_ff bytes */
double ffn_exact_flops(const ffn_shape *s);                      /* 4*n*d_model*d_ff */
int ffn_topk_forward(const ffn_shape *s, size_t k, size_t chunk, const float *x,
                     const float *w1, const float *w2, float *out, workspace *ws);
/* 4*(C*d_ff + d_ff + 2*C*k') bytes, k' = min(k, d_ff) */
size_t ffn_topk_workspace(const ffn_shape *s, size_t k, size_t chunk);
double ffn_topk_flops(const ffn_shape *s, size_t k);             /* 2*n*d_model*(d_ff + k') */
/* The float64 exact layer for the rows listed in `rows` (ascending or not;
 * NULL means all n), in blocks of 64 rows (memory linear in d_ff).
 * out: (nrows, d_model); relu_mass: (nrows) sum of the positive activations
 * of the row, or NULL; topk_share: (nrows) the share of that mass carried by
 * the k largest pre-activations (1 where the mass is 0), or NULL (or k 0:
 * not computed); the mean over rows can serve as the ffn CSV's topk_mass. */
int ffn_reference(const ffn_shape *s, size_t k, const double *x, const double *w1,
                  const double *w2, const size_t *rows, size_t nrows, double *out,
                  double *relu_mass, double *topk_share, workspace *ws);

/* the feed-forward layer's table (methods.c): the knobs each variant reads
 * (KNOB_K, KNOB_CHUNK of attn_knobs), their rules, the kernel and formulas */
typedef struct {
    const char *name;      /* ffn --attention NAME */
    const char *summary;
    unsigned knobs;
    int (*resolve)(const ffn_shape *s, attn_knobs *kn, char *why, size_t cap);
    int mass;              /* ATTN_MASS_LARGEST: the reference reports the top-k share */
    int (*forward)(const ffn_shape *s, const attn_knobs *kn, const float *x, const float *w1,
                   const float *w2, float *out, workspace *ws);
    double (*flops)(const ffn_shape *s, const attn_knobs *kn);
    size_t (*workspace_bytes)(const ffn_shape *s, const attn_knobs *kn);
    unsigned flags;        /* ATTN_EXACT: the dense layer */
} ffn_method;
extern const ffn_method ffn_methods[];   /* terminated by a {NULL} entry */
const ffn_method *ffn_method_find(const char *name);
int ffn_topk_resolve(const ffn_shape *s, attn_knobs *kn, char *why, size_t cap);
int ffn_exact_resolve(const ffn_shape *s, attn_knobs *kn, char *why, size_t cap);
int ffn_topk_call(const ffn_shape *s, const attn_knobs *kn, const float *x, const float *w1,
                  const float *w2, float *out, workspace *ws);
int ffn_exact_call(const ffn_shape *s, const attn_knobs *kn, const float *x, const float *w1,
                   const float *w2, float *out, workspace *ws);
double ffn_topk_flops_kn(const ffn_shape *s, const attn_knobs *kn);
double ffn_exact_flops_kn(const ffn_shape *s, const attn_knobs *kn);
size_t ffn_topk_workspace_kn(const ffn_shape *s, const attn_knobs *kn);
size_t ffn_exact_workspace_kn(const ffn_shape *s, const attn_knobs *kn);

/* proj_mha.c */
int mha_project(const proj_shape *s, const float *x, const float *wq, const float *wk,
                const float *wv, float *q, float *k, float *v, workspace *ws);
size_t mha_kv_heads(size_t heads, size_t kv_heads_opt);
size_t mha_params(const proj_shape *s);
/* y = x w per head: x (n, d_model); w (heads, d_model, d_head); y (heads, n, d_head) */
void project_heads(const proj_shape *s, size_t heads, const float *x, const float *w, float *y);

/* proj_gqa.c: gqa and mqa (the same projection; kv_heads groups) */
int gqa_project(const proj_shape *s, const float *x, const float *wq, const float *wk,
                const float *wv, float *q, float *k, float *v, workspace *ws);
size_t gqa_kv_heads(size_t heads, size_t kv_heads_opt);
size_t mqa_kv_heads(size_t heads, size_t kv_heads_opt);
size_t gqa_params(const proj_shape *s);
/* w: (heads, d_model, d_head) -> wg: (groups, d_model, d_head), each group's mean (per_head = d_model * d_head) */
void gqa_group_mean(size_t heads, size_t groups, size_t per_head, const float *w, float *wg);

/* decode's step projections (attention.h proj_decode_fn): mha as it is;
 * gqa and mqa each group's mean; mhe the fit (mhe_fit) */
int mha_decode_weights(const proj_shape *s, const float *x, const float *wq, const float *wk,
                       const float *wv, float *w, float *emb, workspace *ws);
int gqa_decode_weights(const proj_shape *s, const float *x, const float *wq, const float *wk,
                       const float *wv, float *w, float *emb, workspace *ws);
int mhe_add_decode_weights(const proj_shape *s, const float *x, const float *wq, const float *wk,
                           const float *wv, float *w, float *emb, workspace *ws);
int mhe_mul_decode_weights(const proj_shape *s, const float *x, const float *wq, const float *wk,
                           const float *wv, float *w, float *emb, workspace *ws);
/* how decode applies MHE's head embeddings: x + e (mhe-add), x * e (mhe-mul) */
extern const head_embed mhe_add_embed, mhe_mul_embed;

/* proj_mhe.c */
int mhe_add_project(const proj_shape *s, const float *x, const float *wq, const float *wk,
                    const float *wv, float *q, float *k, float *v, workspace *ws);
int mhe_mul_project(const proj_shape *s, const float *x, const float *wq, const float *wk,
                    const float *wv, float *q, float *k, float *v, workspace *ws);
size_t mhe_kv_heads(size_t heads, size_t kv_heads_opt);
size_t mhe_params(const proj_shape *s);
/* the conversion alone (multiply 0: mhe-add, 1: mhe-mul), so a decode cache can hold the
 * shared K, V: wm (3, d_model, d_head) shared Q, K, V weights; e (3, heads, d_head) embeddings */
int mhe_fit(const proj_shape *s, int multiply, const float *x, const float *wq, const float *wk,
            const float *wv, float *wm, float *e, workspace *ws);

#endif

/* proj_mhe.c — multi-head embedding (MHE): one shared Q, K and V projection
 * plus one head embedding e_h (d_head) per head and per Q, K, V, fitted to
 * the MHA weights so that the error measures what the conversion loses.
 *
 *   mhe-add:  Q_h = X W + 1 e_h^T.  Least squares on the input:
 *             min sum_h |X W_h - X W - 1 e_h^T|^2 gives W = mean_h W_h and
 *             e_h = mean row of X (W_h - W) (the rows of X centred, the
 *             residual X_c (W_h - W) is smallest at the mean).
 *   mhe-mul:  Q_h = (X W) * e_h, column j scaled by e_h[j].  Per column j,
 *             the (d_model, heads) matrix A_j of the heads' j-th columns is
 *             replaced by its best rank-one approximation W[:, j] e[j]^T:
 *             e[j] the top eigenvector of A_j^T A_j (unit norm, sum >= 0),
 *             by power iteration in double, and W[:, j] = A_j e[j].
 * Both produce kv_heads = heads. */
#include "methods.h"

#include <math.h>

enum { POWER_MAX_ITERS = 10000 };

/* one K/V per query head, as MHA */
size_t mhe_kv_heads(size_t heads, size_t kv_heads_opt) {
    (void)kv_heads_opt;
    return heads;
}

/* 3 * d_model * d_head (shared Q, K, V) + 3 * heads * d_head (embeddings) */
size_t mhe_params(const proj_shape *s) {
    return size_mul_sat(3, size_add_sat(size_mul_sat(s->d_model, s->d_head),
                                        size_mul_sat(s->heads, s->d_head)));
}

/* w: (heads, d_model, d_head); xbar: (d_model) mean row of x;
 * wm: (d_model, d_head) <- mean_h w_h; e: (heads, d_head) <- xbar (w_h - wm) */
static void fit_additive(const proj_shape *s, const double *xbar, const float *w, float *wm,
                         float *e) {
    const size_t H = s->heads, dm = s->d_model, dh = s->d_head, per_head = dm * dh;
    for (size_t x = 0; x < per_head; x++) {
        double sum = 0;
        for (size_t h = 0; h < H; h++) sum += w[h * per_head + x];
        wm[x] = (float)(sum / (double)H);
    }
    for (size_t h = 0; h < H; h++)
        for (size_t j = 0; j < dh; j++) {
            double sum = 0;
            for (size_t i = 0; i < dm; i++)
                sum += xbar[i] * ((double)w[h * per_head + i * dh + j] - wm[i * dh + j]);
            e[h * dh + j] = (float)sum;
        }
}

/* b: (H, H) symmetric positive semi-definite; e: (H) <- its top unit
 * eigenvector by power iteration from the all-ones direction, sign fixed so
 * that sum(e) >= 0; t: (H) scratch */
static void top_eigenvector(size_t H, const double *b, double *e, double *t) {
    for (size_t a = 0; a < H; a++) e[a] = 1.0 / sqrt((double)H);
    for (int it = 0; it < POWER_MAX_ITERS; it++) {
        double norm = 0;
        for (size_t a = 0; a < H; a++) {
            double sum = 0;
            for (size_t c = 0; c < H; c++) sum += b[a * H + c] * e[c];
            t[a] = sum;
            norm += sum * sum;
        }
        if (norm == 0)
            return; /* b = 0: every direction is as good */
        norm = sqrt(norm);
        double change = 0;
        for (size_t a = 0; a < H; a++) {
            t[a] /= norm;
            change = fmax(change, fabs(t[a] - e[a]));
            e[a] = t[a];
        }
        if (change < 1e-13)
            break;
    }
    double sum = 0;
    for (size_t a = 0; a < H; a++) sum += e[a];
    if (sum < 0)
        for (size_t a = 0; a < H; a++) e[a] = -e[a];
}

/* w: (heads, d_model, d_head); wm: (d_model, d_head), e: (heads, d_head) with
 * w_h[:, j] ~ wm[:, j] e[h, j], the best rank-one fit of each column j;
 * b: (heads, heads), ev, t: (heads) double scratch */
static void fit_multiplicative(const proj_shape *s, const float *w, float *wm, float *e,
                               double *b, double *ev, double *t) {
    const size_t H = s->heads, dm = s->d_model, dh = s->d_head, per_head = dm * dh;
    for (size_t j = 0; j < dh; j++) {
        /* b = A_j^T A_j, A_j[i, h] = w_h[i, j] */
        for (size_t a = 0; a < H; a++)
            for (size_t c = 0; c <= a; c++) {
                double sum = 0;
                for (size_t i = 0; i < dm; i++)
                    sum += (double)w[a * per_head + i * dh + j] * w[c * per_head + i * dh + j];
                b[a * H + c] = b[c * H + a] = sum;
            }
        top_eigenvector(H, b, ev, t);
        for (size_t i = 0; i < dm; i++) {
            double sum = 0;
            for (size_t h = 0; h < H; h++) sum += w[h * per_head + i * dh + j] * ev[h];
            wm[i * dh + j] = (float)sum;
        }
        for (size_t h = 0; h < H; h++) e[h * dh + j] = (float)ev[h];
    }
}

/* x: (n, d_model); wm: (d_model, d_head); e: (heads, d_head);
 * y: (heads, n, d_head) <- x wm, plus (or times) e_h on every row of head h */
static void apply_embeddings(const proj_shape *s, int multiply, const float *x, const float *wm,
                             const float *e, float *y) {
    const size_t H = s->heads, n = s->n, dh = s->d_head;
    float *shared = y + (H - 1) * n * dh; /* x wm goes in the last head's slot, scaled last */
    project_heads(s, 1, x, wm, shared);
    for (size_t h = 0; h < H; h++) {
        float *yh = y + h * n * dh;
        const float *eh = e + h * dh;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < dh; j++)
                yh[i * dh + j] = multiply ? shared[i * dh + j] * eh[j] : shared[i * dh + j] + eh[j];
    }
}

/* x: (n, d_model); wq, wk, wv: (heads, d_model, d_head);
 * wm: (3, d_model, d_head) the shared Q, K, V projections;
 * e: (3, heads, d_head) the Q, K, V head embeddings */
int mhe_fit(const proj_shape *s, int multiply, const float *x, const float *wq, const float *wk,
            const float *wv, float *wm, float *e, workspace *ws) {
    const size_t H = s->heads, dm = s->d_model, dh = s->d_head, n = s->n;
    if (!H || s->kv_heads != H || !n || !dm || !dh)
        return ATTN_EINVAL;
    size_t per_head, emb, hh;
    if (size_mul(dm, dh, &per_head) || size_mul(H, dh, &emb) || size_mul(H, H + 2, &hh))
        return ATTN_ENOMEM;
    double *xbar = ws_alloc_n(ws, dm, sizeof(double));    /* (d_model) mean row of x */
    double *b = ws_alloc_n(ws, hh, sizeof(double));       /* (H, H) A^T A, then (H) ev, (H) t */
    if (!xbar || !b) {
        ws_free(ws, xbar); ws_free(ws, b);
        return ATTN_ENOMEM;
    }
    for (size_t i = 0; i < dm; i++) xbar[i] = 0;
    for (size_t r = 0; r < n; r++)
        for (size_t i = 0; i < dm; i++) xbar[i] += x[r * dm + i];
    for (size_t i = 0; i < dm; i++) xbar[i] /= (double)n;
    const float *w[3] = {wq, wk, wv};
    for (int t = 0; t < 3; t++) {
        if (multiply)
            fit_multiplicative(s, w[t], wm + t * per_head, e + t * emb, b, b + H * H, b + H * H + H);
        else
            fit_additive(s, xbar, w[t], wm + t * per_head, e + t * emb);
    }
    ws_free(ws, xbar); ws_free(ws, b);
    return ATTN_OK;
}

/* x: (n, d_model); wq, wk, wv: (heads, d_model, d_head); q, k, v: (heads, n, d_head) */
static int mhe_project(const proj_shape *s, int multiply, const float *x, const float *wq,
                       const float *wk, const float *wv, float *q, float *k, float *v,
                       workspace *ws) {
    const size_t H = s->heads, dm = s->d_model, dh = s->d_head;
    if (!H || s->kv_heads != H || !s->n || !dm || !dh)
        return ATTN_EINVAL;
    size_t per_head, emb;
    if (size_mul3(3, dm, dh, &per_head) || size_mul3(3, H, dh, &emb))
        return ATTN_ENOMEM;
    float *wm = ws_alloc_n(ws, per_head, sizeof(float)); /* (3, d_model, d_head) shared weights */
    float *e = ws_alloc_n(ws, emb, sizeof(float));        /* (3, heads, d_head) embeddings */
    int rc = wm && e ? mhe_fit(s, multiply, x, wq, wk, wv, wm, e, ws) : ATTN_ENOMEM;
    float *y[3] = {q, k, v};
    for (int t = 0; t < 3 && rc == ATTN_OK; t++)
        apply_embeddings(s, multiply, x, wm + t * dm * dh, e + t * H * dh, y[t]);
    ws_free(ws, wm); ws_free(ws, e);
    return rc;
}

/* x: (n, d_model); wq, wk, wv: (heads, d_model, d_head); q, k, v: (heads, n, d_head) */
int mhe_add_project(const proj_shape *s, const float *x, const float *wq, const float *wk,
                    const float *wv, float *q, float *k, float *v, workspace *ws) {
    return mhe_project(s, 0, x, wq, wk, wv, q, k, v, ws);
}

/* x: (n, d_model); wq, wk, wv: (heads, d_model, d_head); q, k, v: (heads, n, d_head) */
int mhe_mul_project(const proj_shape *s, const float *x, const float *wq, const float *wk,
                    const float *wv, float *q, float *k, float *v, workspace *ws) {
    return mhe_project(s, 1, x, wq, wk, wv, q, k, v, ws);
}

/* decode: w (3, d_model, d_head) the shared Q, K, V; emb (3, heads, d_head) */
int mhe_add_decode_weights(const proj_shape *s, const float *x, const float *wq, const float *wk,
                           const float *wv, float *w, float *emb, workspace *ws) {
    return mhe_fit(s, 0, x, wq, wk, wv, w, emb, ws);
}

int mhe_mul_decode_weights(const proj_shape *s, const float *x, const float *wq, const float *wk,
                           const float *wv, float *w, float *emb, workspace *ws) {
    return mhe_fit(s, 1, x, wq, wk, wv, w, emb, ws);
}

static void embed_add(float *x, const float *e, size_t d) {
    for (size_t j = 0; j < d; j++) x[j] += e[j];
}
static void embed_mul(float *x, const float *e, size_t d) {
    for (size_t j = 0; j < d; j++) x[j] *= e[j];
}
/* mhe-add: q . (k + e) = q . k + q . e, a constant of the query row: nothing to fold */
const head_embed mhe_add_embed = {embed_add, NULL, 0};
/* mhe-mul: q . (k * e) = (q * e) . k */
const head_embed mhe_mul_embed = {embed_mul, embed_mul, 1};

/* ffn.c — the feed-forward layer out = ReLU(X W1) W2, exact and top-k
 * (Gupta et al., 2021), plus its float64 reference.
 *
 * Read as a key-value memory, the keys are the d_ff columns of W1 and the
 * values the d_ff rows of W2: row i of the output is the sum over hidden
 * units j of ReLU(x_i . W1[:, j]) W2[j, :]. Top-k keeps, per row, the k
 * largest pre-activations (before the ReLU; among equal ones the lower unit
 * index wins), applies the ReLU to those and sums the k matching rows of W2,
 * gathered. Both float kernels take rows in chunks of C, so the (n, d_ff)
 * hidden matrix never exists: memory is independent of n. */
#include "methods.h"

#include <cblas.h>
#include <limits.h>
#include <string.h>

enum { FFN_REF_BLOCK = 64 };

static size_t ffn_chunk(const ffn_shape *s, size_t chunk) {
    return chunk < s->n ? chunk : s->n;
}

static size_t ffn_kept(const ffn_shape *s, size_t k) {
    return k < s->d_ff ? k : s->d_ff;
}

/* shapes the kernels handle: non-empty, and sizes sgemm's int arguments and
 * the uint32_t unit indices can hold */
static int ffn_shape_ok(const ffn_shape *s) {
    return s->n && s->d_model && s->d_ff && s->n <= INT_MAX && s->d_model <= INT_MAX &&
           s->d_ff <= INT_MAX;
}

/* workspace, bytes: 4 * C*d_ff (the hidden activations of one chunk), C = min(chunk, n) */
size_t ffn_exact_workspace(const ffn_shape *s, size_t chunk) {
    return size_mul_sat(size_mul_sat(ffn_chunk(s, chunk), s->d_ff), sizeof(float));
}

/* FLOPs (multiply-add = 2): the two products, 4 * n * d_model * d_ff */
double ffn_exact_flops(const ffn_shape *s) {
    return 4.0 * (double)s->n * (double)s->d_model * (double)s->d_ff;
}

/* x: (n, d_model); w1: (d_model, d_ff); w2: (d_ff, d_model); out: (n, d_model) */
int ffn_exact_forward(const ffn_shape *s, size_t chunk, const float *x, const float *w1,
                      const float *w2, float *out, workspace *ws) {
    if (!ffn_shape_ok(s) || chunk < 1)
        return ATTN_EINVAL;
    const size_t dm = s->d_model, dff = s->d_ff, C = ffn_chunk(s, chunk);
    size_t count;
    if (size_mul(C, dff, &count))
        return ATTN_ENOMEM;
    float *hb = ws_alloc_n(ws, count, sizeof(float)); /* (C, d_ff) hidden activations */
    if (!hb)
        return ATTN_ENOMEM;
    for (size_t i0 = 0; i0 < s->n; i0 += C) {
        const size_t b = s->n - i0 < C ? s->n - i0 : C;
        /* hb = ReLU(xb W1): (b, d_ff) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)dff, (int)dm, 1.0f,
                    x + i0 * dm, (int)dm, w1, (int)dff, 0.0f, hb, (int)dff);
        for (size_t j = 0; j < b * dff; j++) hb[j] = hb[j] > 0.0f ? hb[j] : 0.0f;
        /* out rows = hb W2: (b, d_model) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)dm, (int)dff, 1.0f,
                    hb, (int)dff, w2, (int)dm, 0.0f, out + i0 * dm, (int)dm);
    }
    ws_free(ws, hb);
    return ATTN_OK;
}

/* workspace, bytes: 4 * (C*d_ff + d_ff + 2*C*k'), C = min(chunk, n), k' = min(k, d_ff):
 *   C*d_ff floats  the pre-activations of one chunk (one sgemm, reused per chunk)
 *   d_ff floats    one row's copy, which the selection reorders
 *   C*k' uint32_t  the kept unit indices;   C*k' floats  their ReLU activations */
size_t ffn_topk_workspace(const ffn_shape *s, size_t k, size_t chunk) {
    size_t c = ffn_chunk(s, chunk), kk = ffn_kept(s, k);
    size_t floats = size_add_sat(size_add_sat(size_mul_sat(c, s->d_ff), s->d_ff), size_mul_sat(c, kk));
    return size_add_sat(size_mul_sat(floats, sizeof(float)),
                        size_mul_sat(size_mul_sat(c, kk), sizeof(uint32_t)));
}

/* FLOPs (multiply-add = 2): the score sgemm, 2 * n * d_model * d_ff, plus
 * 2 * d_model per kept unit for the gathered sum, 2 * n * k' * d_model
 * (kept units whose ReLU is 0 are skipped at run time but counted).
 * Selection and the ReLU are not counted. */
double ffn_topk_flops(const ffn_shape *s, size_t k) {
    return 2.0 * (double)s->n * (double)s->d_model * ((double)s->d_ff + (double)ffn_kept(s, k));
}

/* x: (n, d_model); w1: (d_model, d_ff); w2: (d_ff, d_model); out: (n, d_model) */
int ffn_topk_forward(const ffn_shape *s, size_t k, size_t chunk, const float *x,
                     const float *w1, const float *w2, float *out, workspace *ws) {
    if (!ffn_shape_ok(s) || k < 1 || chunk < 1)
        return ATTN_EINVAL;
    const size_t dm = s->d_model, dff = s->d_ff, C = ffn_chunk(s, chunk), K = ffn_kept(s, k);
    size_t n_scores, n_kept;
    if (size_mul(C, dff, &n_scores) || size_mul(C, K, &n_kept))
        return ATTN_ENOMEM;
    float *sc = ws_alloc_n(ws, n_scores, sizeof(float));        /* (C, d_ff) pre-activations */
    float *row = ws_alloc_n(ws, dff, sizeof(float));            /* (d_ff) selection scratch */
    uint32_t *idx = ws_alloc_n(ws, n_kept, sizeof(uint32_t));   /* (C, k') kept unit indices */
    float *a = ws_alloc_n(ws, n_kept, sizeof(float));           /* (C, k') their activations */
    if (!sc || !row || !idx || !a) {
        ws_free(ws, sc); ws_free(ws, row); ws_free(ws, idx); ws_free(ws, a);
        return ATTN_ENOMEM;
    }
    for (size_t i0 = 0; i0 < s->n; i0 += C) {
        const size_t b = s->n - i0 < C ? s->n - i0 : C;
        /* sc = xb W1: (b, d_ff) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)dff, (int)dm, 1.0f,
                    x + i0 * dm, (int)dm, w1, (int)dff, 0.0f, sc, (int)dff);
        /* per row: the k' largest pre-activations, then their ReLU */
        for (size_t i = 0; i < b; i++) {
            const float *si = sc + i * dff;
            uint32_t *ii = idx + i * K;
            float *ai = a + i * K;
            size_t m = topk_select_row(si, dff, K, row, ii);
            for (size_t j = 0; j < m; j++) ai[j] = si[ii[j]] > 0.0f ? si[ii[j]] : 0.0f;
            for (size_t j = m; j < K; j++) { ii[j] = 0; ai[j] = 0.0f; } /* NaN scores only */
        }
        /* out row = sum over kept units of activation * W2 row: (d_model) per row */
        for (size_t i = 0; i < b; i++) {
            const uint32_t *ii = idx + i * K;
            const float *ai = a + i * K;
            float *o = out + (i0 + i) * dm;
            for (size_t c = 0; c < dm; c++) o[c] = 0.0f;
            for (size_t j = 0; j < K; j++) {
                if (ai[j] == 0.0f)
                    continue;
                const float *wr = w2 + (size_t)ii[j] * dm;
                const float aj = ai[j];
                for (size_t c = 0; c < dm; c++) o[c] += aj * wr[c];
            }
        }
    }
    ws_free(ws, sc); ws_free(ws, row); ws_free(ws, idx); ws_free(ws, a);
    return ATTN_OK;
}

/* ---- the float64 reference ------------------------------------------- */

/* x: (n, d_model); w1: (d_model, d_ff); w2: (d_ff, d_model); out: (nrows, d_model);
 * relu_mass, topk_share: (nrows) or NULL */
int ffn_reference(const ffn_shape *s, size_t k, const double *x, const double *w1,
                  const double *w2, const size_t *rows, size_t nrows, double *out,
                  double *relu_mass, double *topk_share, workspace *ws) {
    if (!ffn_shape_ok(s))
        return ATTN_EINVAL;
    if (!rows) nrows = s->n;
    const size_t dm = s->d_model, dff = s->d_ff, B = FFN_REF_BLOCK;
    double *xb = ws_alloc_n(ws, B * dm, sizeof(double));   /* (B, d_model) gathered rows */
    double *hb = ws_alloc_n(ws, B, dff * sizeof(double));  /* (B, d_ff) pre-activations, then ReLU */
    double *tmp = ws_alloc_n(ws, dff, sizeof(double));     /* one row, for the top-k share */
    if (!xb || !hb || !tmp) {
        ws_free(ws, xb); ws_free(ws, hb); ws_free(ws, tmp);
        return ATTN_ENOMEM;
    }
    for (size_t r0 = 0; r0 < nrows; r0 += B) {
        const size_t b = nrows - r0 < B ? nrows - r0 : B;
        for (size_t i = 0; i < b; i++) {
            size_t row = rows ? rows[r0 + i] : r0 + i;
            memcpy(xb + i * dm, x + row * dm, dm * sizeof(double));
        }
        /* hb = xb W1: (b, d_ff) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)dff, (int)dm, 1.0,
                    xb, (int)dm, w1, (int)dff, 0.0, hb, (int)dff);
        for (size_t i = 0; i < b; i++) {
            double *hi = hb + i * dff, mass = 0;
            for (size_t j = 0; j < dff; j++) {
                hi[j] = hi[j] > 0.0 ? hi[j] : 0.0;
                mass += hi[j];
            }
            if (relu_mass) relu_mass[r0 + i] = mass;
            /* ReLU is monotone, so the ReLU of the k largest pre-activations
             * sums to the k largest activations */
            if (topk_share && k) {
                memcpy(tmp, hi, dff * sizeof(double));
                topk_share[r0 + i] = mass > 0 ? sum_largest_f64(tmp, dff, k) / mass : 1.0;
            }
        }
        /* out rows = hb W2: (b, d_model) */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)dm, (int)dff, 1.0,
                    hb, (int)dff, w2, (int)dm, 0.0, out + r0 * dm, (int)dm);
    }
    ws_free(ws, xb); ws_free(ws, hb); ws_free(ws, tmp);
    return ATTN_OK;
}

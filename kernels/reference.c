/* reference.c — exact softmax attention in float64, the reference for every
 * error figure.
 *
 * Query rows are taken a block at a time; for each block the scores against
 * every visible key (block x n) are computed with one dgemm, and the softmax
 * is taken over the whole row in two passes (max, then exp/sum). Memory stays
 * linear in n (block x n doubles), and the two-pass softmax is the most
 * accurate form, which is what a reference is for. */
#include "attention.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

enum { REF_BLOCK = 64 };

/* Move the `k` largest of a[0..len) to the front (any order): quickselect
 * with a three-way partition (greater | equal | less than a median-of-three
 * pivot), so runs of equal values cannot make it quadratic. */
static void select_largest(double *a, size_t len, size_t k) {
    size_t lo = 0, hi = len; /* the k-boundary lies inside [lo, hi) */
    while (hi - lo > 1 && k > lo && k < hi) {
        double x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi - 1];
        double pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        size_t gt = lo, i = lo, lt = hi; /* [lo,gt) > p, [gt,i) == p, [lt,hi) < p */
        while (i < lt) {
            double t = a[i];
            if (t > pivot) { a[i] = a[gt]; a[gt] = t; gt++; i++; }
            else if (t < pivot) { lt--; a[i] = a[lt]; a[lt] = t; }
            else i++;
        }
        if (k <= gt) hi = gt;
        else if (k <= lt) return;
        else lo = lt;
    }
}

/* sum of the k largest of a[0..len); a is reordered */
double sum_largest_f64(double *a, size_t len, size_t k) {
    if (k >= len) k = len;
    else select_largest(a, len, k);
    double sum = 0;
    for (size_t j = 0; j < k; j++) sum += a[j];
    return sum;
}

/* q: (heads, n, d_head); k, v: (kv_heads, n, d_head); out: (heads, nrows, d_head);
 * entropy, mass: (heads, nrows) or NULL */
int reference_attention(const attn_shape *s, const double *q, const double *k,
                        const double *v, const size_t *rows, size_t nrows,
                        const ref_opts *o, double *out, double *entropy,
                        double *mass, workspace *ws) {
    const size_t n = s->n, d = s->d_head;
    if (!s->heads || !s->kv_heads || s->heads % s->kv_heads || !n || !d)
        return ATTN_EINVAL;
    if (!rows) nrows = n;
    const size_t group = s->heads / s->kv_heads;
    const size_t B = (o && o->block) ? o->block : REF_BLOCK;
    const size_t topk = o ? o->topk : 0;
    const double scale = 1.0 / sqrt((double)d);

    double *qb = ws_alloc_n(ws, B * d, sizeof(double));   /* (B, d) gathered queries */
    double *sc = ws_alloc_n(ws, B, n * sizeof(double));   /* (B, n) scores, then probabilities */
    double *tmp = ws_alloc_n(ws, n, sizeof(double));      /* one row, for the top-k mass */
    if (!qb || !sc || !tmp) {
        ws_free(ws, qb); ws_free(ws, sc); ws_free(ws, tmp);
        return ATTN_ENOMEM;
    }
    for (size_t h = 0; h < s->heads; h++) {
        const double *qh = q + h * n * d;
        const double *kh = k + (h / group) * n * d;
        const double *vh = v + (h / group) * n * d;
        for (size_t r0 = 0; r0 < nrows; r0 += B) {
            size_t b = nrows - r0 < B ? nrows - r0 : B;
            size_t last = 0; /* highest query index in the block */
            for (size_t i = 0; i < b; i++) {
                size_t row = rows ? rows[r0 + i] : r0 + i;
                memcpy(qb + i * d, qh + row * d, d * sizeof(double));
                if (row > last) last = row;
            }
            size_t nk = s->causal ? last + 1 : n; /* keys any row of the block sees */
            /* sc[i, j] = q_i . k_j / sqrt(d): (b, nk) = (b, d) x (nk, d)^T */
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)nk, (int)d,
                        scale, qb, (int)d, kh, (int)d, 0.0, sc, (int)nk);
            for (size_t i = 0; i < b; i++) {
                size_t row = rows ? rows[r0 + i] : r0 + i;
                size_t vis = s->causal ? row + 1 : n; /* keys this row sees */
                double *si = sc + i * nk;
                double mx = -INFINITY;
                for (size_t j = 0; j < vis; j++) if (si[j] > mx) mx = si[j];
                double z = 0, zs = 0;
                for (size_t j = 0; j < vis; j++) {
                    double p = exp(si[j] - mx);
                    zs += p * (si[j] - mx);
                    si[j] = p;
                    z += p;
                }
                for (size_t j = vis; j < nk; j++) si[j] = 0.0;
                double inv = 1.0 / z;
                for (size_t j = 0; j < vis; j++) si[j] *= inv;
                /* H = -sum p log p = log z - sum (e/z)(s - max) */
                if (entropy) entropy[h * nrows + r0 + i] = log(z) - zs * inv;
                if (mass && topk) {
                    memcpy(tmp, si, vis * sizeof(double));
                    mass[h * nrows + r0 + i] = sum_largest_f64(tmp, vis, topk);
                }
            }
            /* out rows = P V: (b, d) = (b, nk) x (nk, d) */
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)d, (int)nk,
                        1.0, sc, (int)nk, vh, (int)d, 0.0, out + (h * nrows + r0) * d, (int)d);
        }
    }
    ws_free(ws, qb); ws_free(ws, sc); ws_free(ws, tmp);
    return ATTN_OK;
}

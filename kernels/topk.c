/* topk.c — top-k attention (Gupta et al., 2021, "Memory-efficient
 * Transformers via Top-k Attention"): queries in chunks of C; the scores of
 * a chunk against every visible key come from one sgemm into a (C, n) buffer
 * reused for every chunk, so memory is linear in n. Per query row the k
 * largest scores are selected (quickselect, expected linear time), the
 * softmax is taken over those k only, and the output row is the weighted sum
 * of the k matching rows of V, gathered.
 *
 * Ties: among equal scores the lower key index wins, so the result does not
 * depend on the order the selection happens to visit the scores in.
 * Causal: query i sees keys 0..i; rows with fewer than k visible keys use all. */
#include "methods.h"
#include "softmax.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <string.h>

static size_t chunk_of(const attn_shape *s, const attn_knobs *kn) {
    return kn->chunk < s->n ? kn->chunk : s->n;
}

/* a: (len), reordered. The k-th largest value of a (1 <= k <= len) and, in
 * *greater, how many values of a are strictly larger than it. Quickselect
 * with a three-way partition (greater | equal | less than the pivot), so
 * runs of equal scores cannot make it quadratic; the pivot is the median of
 * three positions drawn from a local generator, so no input order is
 * systematically bad. After each step every value left of lo is larger than
 * every value in [lo, hi), so at the end the values larger than the answer
 * are exactly those left of it. */
static float kth_largest(float *a, size_t len, size_t k, size_t *greater) {
    size_t lo = 0, hi = len, p = k - 1; /* p: the answer's place in descending order */
    uint64_t r = 0x9e3779b97f4a7c15ull ^ len;
    while (hi - lo > 1) {
        float c[3];
        for (int t = 0; t < 3; t++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            c[t] = a[lo + (size_t)((r >> 33) % (hi - lo))];
        }
        const float pivot = c[0] < c[1] ? (c[1] < c[2] ? c[1] : (c[0] < c[2] ? c[2] : c[0]))
                                        : (c[0] < c[2] ? c[0] : (c[1] < c[2] ? c[2] : c[1]));
        size_t gt = lo, i = lo, lt = hi; /* [lo,gt) > pivot, [gt,i) == pivot, [lt,hi) < pivot */
        while (i < lt) {
            const float t = a[i];
            if (t > pivot) { a[i] = a[gt]; a[gt] = t; gt++; i++; }
            else if (t < pivot) { lt--; a[i] = a[lt]; a[lt] = t; }
            else i++;
        }
        if (p < gt) hi = gt;
        else if (p < lt) { *greater = gt; return pivot; }
        else lo = lt;
    }
    *greater = lo;
    return a[lo];
}

/* Heap order for the selection: a sits below b when it would be dropped
 * first, a lower score, or an equal score at a higher index. */
static inline int heap_below(float sa, uint32_t ia, float sb, uint32_t ib) {
    return sa < sb || (sa == sb && ia > ib);
}

/* hs, hi: (k) a heap by heap_below with root 0; restores it from slot 0 */
static void heap_sift_down(float *hs, uint32_t *hi, size_t k) {
    size_t p = 0;
    const float s = hs[0];
    const uint32_t i = hi[0];
    for (;;) {
        size_t c = 2 * p + 1;
        if (c >= k) break;
        if (c + 1 < k && heap_below(hs[c + 1], hi[c + 1], hs[c], hi[c])) c++;
        if (!heap_below(hs[c], hi[c], s, i)) break;
        hs[p] = hs[c]; hi[p] = hi[c];
        p = c;
    }
    hs[p] = s; hi[p] = i;
}

/* s: (len); hs: (k) scratch; idx: (k) out, unordered. For k much smaller than
 * len: a k-sized min-heap of the best so far; a score enters only if it beats
 * the root, which after the first few hundred keys is rare, so the scan costs
 * about one comparison per score. Scanning in index order with a strict
 * comparison keeps the lower index among equal scores. */
static void topk_heap_row(const float *s, size_t len, size_t k, float *hs, uint32_t *idx) {
    for (size_t j = 0; j < k; j++) {
        /* sift up */
        size_t c = j;
        while (c > 0 && heap_below(s[j], (uint32_t)j, hs[(c - 1) / 2], idx[(c - 1) / 2])) {
            hs[c] = hs[(c - 1) / 2]; idx[c] = idx[(c - 1) / 2];
            c = (c - 1) / 2;
        }
        hs[c] = s[j]; idx[c] = (uint32_t)j;
    }
    for (size_t j = k; j < len; j++) {
        if (s[j] > hs[0]) {
            hs[0] = s[j]; idx[0] = (uint32_t)j;
            heap_sift_down(hs, idx, k);
        }
    }
}

static void sort_indices(uint32_t *a, size_t len) {
    /* k is small: insertion sort; ascending order makes the weighted sum's
     * order, and so its rounding, independent of the selection path */
    for (size_t i = 1; i < len; i++) {
        uint32_t x = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > x) { a[j] = a[j - 1]; j--; }
        a[j] = x;
    }
}

/* s: (len) scores; scratch: (len); idx: (min(k, len)) out.
 * Writes the indices of the k largest scores, ascending; among equal scores
 * the lower index wins. Returns how many it wrote: min(k, len) (fewer only if
 * s holds NaN, which the program rejects before any kernel runs).
 * Small k (k <= len/8, k <= 256): a k-sized heap, one pass. Otherwise
 * quickselect on a copy, then one scan in index order: expected linear time.
 * Never a full sort of the row. */
size_t topk_select_row(const float *s, size_t len, size_t k, float *scratch, uint32_t *idx) {
    if (k >= len) {
        for (size_t j = 0; j < len; j++) idx[j] = (uint32_t)j;
        return len;
    }
    if (k == 0)
        return 0;
    if (k <= 256 && 8 * k <= len) {
        topk_heap_row(s, len, k, scratch, idx);
        sort_indices(idx, k);
        return k;
    }
    memcpy(scratch, s, len * sizeof(float));
    size_t greater;
    const float t = kth_largest(scratch, len, k, &greater);
    /* every score above the threshold, then the first scores equal to it
     * (in index order) until k are taken */
    size_t ties = k - greater, m = 0;
    for (size_t j = 0; j < len && m < k; j++) {
        if (s[j] > t) idx[m++] = (uint32_t)j;
        else if (s[j] == t && ties) { idx[m++] = (uint32_t)j; ties--; }
    }
    return m;
}

/* workspace, bytes: 4 * (C*n + n + 2*C*k), C = min(chunk, n):
 *   C*n floats    the scores of one query chunk (one sgemm, reused per chunk)
 *   n floats      one row's copy, which the selection reorders
 *   C*k uint32_t  the kept key indices of the chunk (so n < 2^32)
 *   C*k floats    their softmax weights */
size_t topk_workspace(const attn_shape *s, const attn_knobs *kn) {
    size_t c = chunk_of(s, kn);
    size_t floats = size_add_sat(size_add_sat(size_mul_sat(c, s->n), s->n), size_mul_sat(c, kn->k));
    return size_add_sat(size_mul_sat(floats, sizeof(float)),
                        size_mul_sat(size_mul_sat(c, kn->k), sizeof(uint32_t)));
}

/* FLOPs counted (multiply-add = 2): the score sgemm as executed, 2*d per
 * score: n*n per head, or causal, each chunk of C rows against keys 0 .. its
 * last row: C^2 * m(m+1)/2 + r*n scores for n = m*C + r; plus 2*d per kept
 * key for the weighted sum of V rows: n*k per head, or causal
 * sum_i min(k, i+1). Selection, exp and normalisation are not counted, as
 * exact_flops counts only the two products. */
double topk_flops(const attn_shape *s, const attn_knobs *kn) {
    const size_t c = chunk_of(s, kn);
    if (c == 0)
        return 0;
    const double n = (double)s->n, d = (double)s->d_head, k = (double)kn->k, C = (double)c;
    double scores = n * n, kept = n * k;
    if (s->causal) {
        const size_t m = s->n / c, r = s->n % c;
        scores = C * C * (double)m * (double)(m + 1) / 2 + (double)r * n;
        kept = k >= n ? n * (n + 1) / 2 : k * (k + 1) / 2 + (n - k) * k;
    }
    return (double)s->heads * 2.0 * d * (scores + kept);
}

/* q: (heads, n, d_head); k, v: (kv_heads, n, d_head); out: (heads, n, d_head) */
int topk_forward(const attn_shape *s, const attn_knobs *kn, const float *q,
                 const float *k, const float *v, float *out, workspace *ws) {
    const size_t n = s->n, d = s->d_head, K = kn->k;
    if (!s->heads || !s->kv_heads || s->heads % s->kv_heads || !n || !d)
        return ATTN_EINVAL;
    if (K < 1 || K > n || kn->chunk < 1 || n > INT_MAX || d > INT_MAX)
        return ATTN_EINVAL;
    const size_t group = s->heads / s->kv_heads, C = chunk_of(s, kn);
    size_t n_scores, n_kept;
    if (size_mul(C, n, &n_scores) || size_mul(C, K, &n_kept))
        return ATTN_ENOMEM;
    float *sc = ws_alloc_n(ws, n_scores, sizeof(float));        /* (C, n) scores of one chunk */
    float *row = ws_alloc_n(ws, n, sizeof(float));              /* (n) selection scratch */
    uint32_t *idx = ws_alloc_n(ws, n_kept, sizeof(uint32_t));   /* (C, k) kept key indices */
    float *w = ws_alloc_n(ws, n_kept, sizeof(float));           /* (C, k) their weights */
    if (!sc || !row || !idx || !w) {
        ws_free(ws, sc); ws_free(ws, row); ws_free(ws, idx); ws_free(ws, w);
        return ATTN_ENOMEM;
    }
    const float scale = 1.0f / sqrtf((float)d);
    for (size_t h = 0; h < s->heads; h++) {
        const float *kh = k + (h / group) * n * d, *vh = v + (h / group) * n * d;
        for (size_t i0 = 0; i0 < n; i0 += C) {
            const size_t bq = n - i0 < C ? n - i0 : C;
            const float *qb = q + (h * n + i0) * d;
            float *ob = out + (h * n + i0) * d;
            /* causal: no row of the chunk sees keys past its last query */
            const size_t nk = s->causal ? i0 + bq : n;
            /* sc = qb kh^T / sqrt(d): (bq, nk) */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)bq, (int)nk, (int)d,
                        scale, qb, (int)d, kh, (int)d, 0.0f, sc, (int)nk);
            /* per row: the k kept keys and their softmax weights */
            for (size_t i = 0; i < bq; i++) {
                const size_t vis = s->causal ? i0 + i + 1 : n;
                const size_t kr = K < vis ? K : vis;
                const float *si = sc + i * nk;
                uint32_t *ii = idx + i * K;
                float *wi = w + i * K;
                size_t m = topk_select_row(si, vis, K, row, ii);
                for (size_t j = 0; j < m; j++) wi[j] = si[ii[j]];
                softmax_row(wi, m);
                for (size_t j = m; j < kr; j++) { ii[j] = 0; wi[j] = NAN; } /* NaN scores only */
            }
            /* out row = sum over kept keys of weight * V row: (d) per row */
            for (size_t i = 0; i < bq; i++) {
                const size_t vis = s->causal ? i0 + i + 1 : n;
                const size_t kr = K < vis ? K : vis;
                const uint32_t *ii = idx + i * K;
                const float *wi = w + i * K;
                float *o = ob + i * d;
                for (size_t x = 0; x < d; x++) o[x] = 0.0f;
                for (size_t j = 0; j < kr; j++) {
                    const float *vr = vh + (size_t)ii[j] * d;
                    const float wj = wi[j];
                    for (size_t x = 0; x < d; x++) o[x] += wj * vr[x];
                }
            }
        }
    }
    ws_free(ws, sc); ws_free(ws, row); ws_free(ws, idx); ws_free(ws, w);
    return ATTN_OK;
}

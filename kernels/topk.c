/* topk.c — top-k attention (Gupta et al., 2021, "Memory-efficient
 * Transformers via Top-k Attention"): queries in chunks of C; the scores of
 * a chunk against every visible key go into a (C, n) buffer reused for every
 * chunk, so memory is linear in n. Per query row the k largest scores are
 * selected, the softmax is taken over those k only, and the output row is
 * the weighted sum of the k matching rows of V, gathered.
 *
 * Speed: a chunk's rows are tasks of up to 256 rows for knobs->threads
 * threads (parallel.h): one sgemm for the task's scores, then per row the
 * selection (topk_select_row: for small k a vector pass deals the row into
 * 256 lanes whose maxima bound the k-th largest score from below, a second
 * collects the ~k scores at or above the bound, and a quickselect runs on
 * those instead of the row), the softmax over the kept scores and the
 * weighted sum of their V rows. The scores of a chunk are written to, and
 * read back from, memory (the (C, n) buffer is what the recipe holds), so at
 * large n this method is bound by memory traffic more than by arithmetic.
 *
 * Ties: among equal scores the lower key index wins, so the kept set does
 * not depend on the order the selection visits the scores in.
 * Causal: query i sees keys 0..i; rows with fewer than k visible keys use all. */
#include "methods.h"
#include "parallel.h"
#include "softmax.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

static size_t chunk_of(const attn_shape *s, const attn_knobs *kn) {
    return kn->chunk < s->n ? kn->chunk : s->n;
}

/* a: (len), reordered. The k-th largest value of a (1 <= k <= len) and, in
 * *greater, how many values of a are strictly larger than it. Quickselect:
 * each step counts the values above and equal to a pivot (vector passes),
 * then keeps only the side holding the answer, compacted to the front of a
 * without branches (a store per value, the write position advancing only
 * when the value is kept), so the unpredictable comparisons cost no
 * mispredicted jumps. Equal values are set aside at once, so runs of equal
 * scores cannot make it quadratic; the pivot is the median of three
 * positions drawn from a local generator, so no input order is
 * systematically bad. */
static float kth_largest(float *a, size_t len, size_t k, size_t *greater) {
    size_t p = k - 1, above = 0; /* p: the answer's place in descending order within a[0, len) */
    uint64_t r = 0x9e3779b97f4a7c15ull ^ len;
    while (len > 1) {
        float c[3];
        for (int t = 0; t < 3; t++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            c[t] = a[(size_t)((r >> 33) % len)];
        }
        const float pivot = c[0] < c[1] ? (c[1] < c[2] ? c[1] : (c[0] < c[2] ? c[2] : c[0]))
                                        : (c[0] < c[2] ? c[0] : (c[1] < c[2] ? c[2] : c[1]));
        size_t gt = 0, eq = 0, i = 0;
        { /* counted in 16 lanes at a time: a vector compare */
            unsigned gt_l[16] = {0}, eq_l[16] = {0};
            for (; i + 16 <= len; i += 16)
                for (size_t l = 0; l < 16; l++) {
                    gt_l[l] += a[i + l] > pivot;
                    eq_l[l] += a[i + l] == pivot;
                }
            for (size_t l = 0; l < 16; l++) { gt += gt_l[l]; eq += eq_l[l]; }
        }
        for (; i < len; i++) { gt += a[i] > pivot; eq += a[i] == pivot; }
        if (p >= gt && p < gt + eq) { *greater = above + gt; return pivot; }
        const int keep_above = p < gt;
        size_t w = 0;
        for (size_t x_at = 0; x_at < len; x_at++) {
            const float x = a[x_at];
            a[w] = x;
            w += keep_above ? x > pivot : x < pivot;
        }
        if (!keep_above) { p -= gt + eq; above += gt + eq; }
        len = w;
        if (len == 0) break; /* NaN pivot (or values): nothing orders; give up on it */
    }
    *greater = above;
    return a[0];
}

enum { TOPK_LANES = 256 }; /* lanes of the threshold pass (see topk_select_row) */

/* lanes: (TOPK_LANES) -> how many are >= t (a vector count) */
static size_t count_at_least(const float *lanes, float t) {
    size_t c = 0;
    for (size_t l = 0; l < TOPK_LANES; l++) c += lanes[l] >= t;
    return c;
}

/* lanes: (TOPK_LANES) running lane maxima; s: (len) a row's scores. Deals s
 * into the lanes (score j into lane j mod TOPK_LANES), keeping each lane's
 * maximum: a vector max. */
static void lanes_fold(float *restrict lanes, const float *restrict s, size_t len) {
    size_t j = 0;
    for (; j + TOPK_LANES <= len; j += TOPK_LANES)
        for (size_t l = 0; l < TOPK_LANES; l++) lanes[l] = s[j + l] > lanes[l] ? s[j + l] : lanes[l];
    for (size_t l = 0; j + l < len; l++) lanes[l] = s[j + l] > lanes[l] ? s[j + l] : lanes[l];
}

/* lanes: (TOPK_LANES) the lane maxima of a row, 1 <= k <= TOPK_LANES. A value
 * no larger than the row's k-th largest score: if k lanes have a maximum
 * >= t, those are k distinct scores >= t, so the k-th largest is >= t too.
 * t is found by bisection between the smallest and the largest lane maximum,
 * keeping k lanes at or above it (vector counts). With k = 64 of 8192 random
 * scores about 75 scores reach it. -inf if a lane is empty or not finite. */
static float lanes_threshold(const float *lanes, size_t k) {
    float lo_l[16], hi_l[16]; /* lane-wise min and max of the lane maxima, 16 at a time */
    memcpy(lo_l, lanes, sizeof lo_l);
    memcpy(hi_l, lanes, sizeof hi_l);
    for (size_t b = 16; b < TOPK_LANES; b += 16)
        for (size_t l = 0; l < 16; l++) {
            lo_l[l] = lanes[b + l] < lo_l[l] ? lanes[b + l] : lo_l[l];
            hi_l[l] = lanes[b + l] > hi_l[l] ? lanes[b + l] : hi_l[l];
        }
    float lo = lo_l[0], hi = hi_l[0];
    for (size_t l = 1; l < 16; l++) {
        lo = lo_l[l] < lo ? lo_l[l] : lo;
        hi = hi_l[l] > hi ? hi_l[l] : hi;
    }
    if (!isfinite(lo) || !isfinite(hi))
        return -INFINITY; /* every score is a candidate */
    for (int it = 0; it < 12; it++) { /* count_at_least(lanes, lo) >= k throughout */
        const float mid = lo + 0.5f * (hi - lo);
        if (mid <= lo || mid >= hi) break;
        if (count_at_least(lanes, mid) >= k) lo = mid;
        else hi = mid;
    }
    return lo;
}

/* does the lane bound pay for a row of len scores and k kept? */
static int lanes_apply(size_t k, size_t len) {
    return 2 * k <= TOPK_LANES && len >= 8 * TOPK_LANES;
}

/* s: (16) -> bit l set where s[l] >= t: one vector compare. AVX-512 gives
 * the bits directly; the plain loop is what other machines run (gcc builds
 * the same bits from a vector compare, with a few more instructions). */
static inline unsigned mask_at_least(const float *s, float t) {
#ifdef __AVX512F__
    return _mm512_cmp_ps_mask(_mm512_loadu_ps(s), _mm512_set1_ps(t), _CMP_GE_OQ);
#else
    unsigned m = 0;
    for (unsigned l = 0; l < 16; l++) m |= (unsigned)(s[l] >= t) << l;
    return m;
#endif
}

/* s: (len). The scores >= t, in index order, into cv and their indices into
 * ci (as floats: exact below 2^24); returns how many, or cap + 1 if there
 * are more than cap. 16 scores per vector compare; only the ones that pass
 * are visited, one per set bit. */
static size_t collect_at_least(const float *s, size_t len, float t, float *cv, float *ci,
                               size_t cap) {
    size_t m = 0, j = 0;
    for (; j + 16 <= len; j += 16)
        for (unsigned mk = mask_at_least(s + j, t); mk; mk &= mk - 1) {
            const size_t x = j + (unsigned)__builtin_ctz(mk);
            if (m == cap) return cap + 1;
            cv[m] = s[x];
            ci[m++] = (float)x;
        }
    for (; j < len; j++)
        if (s[j] >= t) {
            if (m == cap) return cap + 1;
            cv[m] = s[j];
            ci[m++] = (float)j;
        }
    return m;
}

/* s: (len) scores; scratch: (len); idx: (min(k, len)) out.
 * Writes the indices of the k largest scores, ascending; among equal scores
 * the lower index wins. Returns how many it wrote: min(k, len) (fewer only if
 * s holds NaN, which the program rejects before any kernel runs).
 * Small k (lanes_apply): one vector pass for the lane bound, one that
 * collects the scores at or above it with their indices (a few more than k),
 * a quickselect for the k-th largest t among those, and the candidates above
 * t and the first ones equal to it, in index order. Otherwise: quickselect
 * on a copy of the row, then one scan in index order takes every score above
 * t and the first scores equal to it. Expected linear time; never a full
 * sort. */
size_t topk_select_row(const float *s, size_t len, size_t k, float *scratch, uint32_t *idx) {
    if (k >= len) {
        for (size_t j = 0; j < len; j++) idx[j] = (uint32_t)j;
        return len;
    }
    if (k == 0)
        return 0;
    size_t greater, m = 0;
    if (lanes_apply(k, len) && len <= (1u << 24)) {
        /* candidates: the scores at or above the lane bound with their indices,
         * then a copy for the quickselect, a third of scratch each */
        const size_t cap = len / 3;
        float *cv = scratch, *ci = scratch + cap, *copy = scratch + 2 * cap;
        float lanes[TOPK_LANES];
        for (size_t l = 0; l < TOPK_LANES; l++) lanes[l] = -INFINITY;
        lanes_fold(lanes, s, len);
        const size_t cand = collect_at_least(s, len, lanes_threshold(lanes, k), cv, ci, cap);
        if (cand >= k && cand <= cap) { /* else NaN scores, or a bound too low: the plain path */
            memcpy(copy, cv, cand * sizeof(float));
            const float t = kth_largest(copy, cand, k, &greater);
            size_t ties = k - greater;
            for (size_t x = 0; x < cand && m < k; x++) {
                if (cv[x] > t) idx[m++] = (uint32_t)ci[x];
                else if (cv[x] == t && ties) { idx[m++] = (uint32_t)ci[x]; ties--; }
            }
            return m;
        }
    }
    memcpy(scratch, s, len * sizeof(float));
    const float t = kth_largest(scratch, len, k, &greater);
    /* every score above t, then the first scores equal to it (in index
     * order) until k are taken; only the scores >= t are visited, one per
     * set bit of a vector compare */
    size_t ties = k - greater, j = 0;
    for (; j + 16 <= len && m < k; j += 16)
        for (unsigned mk = mask_at_least(s + j, t); mk && m < k; mk &= mk - 1) {
            const size_t x = j + (unsigned)__builtin_ctz(mk);
            if (s[x] > t) idx[m++] = (uint32_t)x;
            else if (ties) { idx[m++] = (uint32_t)x; ties--; } /* s[x] == t */
        }
    for (; j < len && m < k; j++) {
        if (s[j] > t) idx[m++] = (uint32_t)j;
        else if (s[j] == t && ties) { idx[m++] = (uint32_t)j; ties--; }
    }
    return m;
}


/* query rows per task: up to 256 (the fewer, the more often a task packs
 * all of K for its sgemm), but at least two tasks per thread (so a thread
 * slowed by a busy machine leaves its share to the others), and at least 32 */
static size_t rows_per_task(size_t chunk, size_t threads) {
    size_t r = (chunk + 2 * threads - 1) / (2 * threads);
    return r > 256 ? 256 : r < 32 ? 32 : r;
}

/* the threads and the query rows per task for a chunk of c rows */
static void topk_split(const attn_knobs *kn, size_t c, size_t *threads, size_t *rows) {
    *rows = rows_per_task(c, kn->threads ? kn->threads : 1);
    *threads = par_threads(kn, (c + *rows - 1) / *rows);
}

/* workspace, bytes: 4 * (C*n + T*n + 2*C*k), C = min(chunk, n), T threads
 * (topk_split; 1 unless knobs->threads says more):
 *   C*n floats    the scores of one query chunk (reused per chunk)
 *   T*n floats    per thread one row's copy, which the selection reorders
 *   C*k uint32_t  the kept key indices of the chunk (so n < 2^32)
 *   C*k floats    their scores, then softmax weights */
size_t topk_workspace(const attn_shape *s, const attn_knobs *kn) {
    const size_t c = chunk_of(s, kn);
    size_t threads, rows;
    topk_split(kn, c, &threads, &rows);
    size_t floats = size_add_sat(size_mul_sat(c, s->n), size_mul_sat(threads, s->n));
    floats = size_add_sat(floats, size_mul_sat(c, kn->k));
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

/* ---- the forward pass ------------------------------------------------------ */

typedef struct {
    const attn_shape *s;
    size_t K;
    const float *q, *k, *v;
    float *out;
    float *sc;        /* (C, nk) the chunk's scores, row stride nk */
    float *rows;      /* (threads, n) selection scratch, one row per thread */
    uint32_t *idx;    /* (C, K) kept key indices */
    float *w;         /* (C, K) their weights */
    size_t h, i0, bq, nk;  /* the chunk: head, first row, rows, keys scored */
    size_t per_task;       /* query rows per task */
} topk_job;

/* row i of the chunk, its m kept keys and their scores in the chunk's idx
 * and w rows: the softmax over those scores and the weighted sum of their V
 * rows (the output row) */
static void topk_finish_row(const topk_job *j, size_t i, size_t m, size_t vis) {
    const attn_shape *s = j->s;
    const size_t n = s->n, d = s->d_head, K = j->K, group = s->heads / s->kv_heads;
    const float *vh = j->v + (j->h / group) * n * d;
    const uint32_t *ii = j->idx + i * K;
    float *wi = j->w + i * K;
    float *o = j->out + (j->h * n + j->i0 + i) * d;
    memset(o, 0, d * sizeof(float));
    if (m < (K < vis ? K : vis)) { /* NaN scores only (the program rejects NaN input) */
        for (size_t x = 0; x < d; x++) o[x] = NAN;
        return;
    }
    /* the kept V rows are scattered over V, which the score buffer streaming
     * through the cache has evicted: ask for all of them before the softmax,
     * so their misses overlap */
    for (size_t x = 0; x < m; x++)
        for (size_t b = 0; b < d; b += 16) __builtin_prefetch(vh + (size_t)ii[x] * d + b);
    softmax_row(wi, m);
    for (size_t x = 0; x < m; x++) axpy_row(o, d, wi[x], vh + (size_t)ii[x] * d);
}

/* rows [r0, r1) = [task * per_task, + per_task) of the chunk: one sgemm for
 * their scores into the chunk's buffer, then per row the selection, the
 * softmax over the kept scores and the weighted sum of their V rows */
static int topk_task(void *ctx, size_t task, size_t thread) {
    const topk_job *j = ctx;
    const attn_shape *s = j->s;
    const size_t n = s->n, d = s->d_head, K = j->K, nk = j->nk, group = s->heads / s->kv_heads;
    const size_t r0 = task * j->per_task, r1 = j->bq - r0 < j->per_task ? j->bq : r0 + j->per_task;
    /* sc[r0:r1] = q_rows kh^T / sqrt(d): (r1 - r0, nk) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(r1 - r0), (int)nk, (int)d,
                1.0f / sqrtf((float)d), j->q + (j->h * n + j->i0 + r0) * d, (int)d,
                j->k + (j->h / group) * n * d, (int)d, 0.0f, j->sc + r0 * nk, (int)nk);
    for (size_t i = r0; i < r1; i++) {
        const size_t vis = s->causal ? j->i0 + i + 1 : n;
        const float *si = j->sc + i * nk;
        uint32_t *ii = j->idx + i * K;
        float *wi = j->w + i * K;
        const size_t m = topk_select_row(si, vis, K, j->rows + thread * n, ii);
        for (size_t x = 0; x < m; x++) wi[x] = si[ii[x]];
        topk_finish_row(j, i, m, vis);
    }
    return ATTN_OK;
}

/* q: (heads, n, d_head); k, v: (kv_heads, n, d_head); out: (heads, n, d_head) */
int topk_forward(const attn_shape *s, const attn_knobs *kn, const float *q,
                 const float *k, const float *v, float *out, workspace *ws) {
    const size_t n = s->n, d = s->d_head, K = kn->k;
    if (!s->heads || !s->kv_heads || s->heads % s->kv_heads || !n || !d)
        return ATTN_EINVAL;
    if (K < 1 || K > n || kn->chunk < 1 || n > INT_MAX || d > INT_MAX)
        return ATTN_EINVAL;
    const size_t C = chunk_of(s, kn);
    size_t threads, rows_per;
    topk_split(kn, C, &threads, &rows_per);
    size_t n_scores, n_rows, n_kept;
    if (size_mul(C, n, &n_scores) || size_mul(threads, n, &n_rows) || size_mul(C, K, &n_kept))
        return ATTN_ENOMEM;
    float *sc = ws_alloc_n(ws, n_scores, sizeof(float));        /* (C, n) scores of one chunk */
    float *rows = ws_alloc_n(ws, n_rows, sizeof(float));        /* (threads, n) selection scratch */
    uint32_t *idx = ws_alloc_n(ws, n_kept, sizeof(uint32_t));   /* (C, k) kept key indices */
    float *w = ws_alloc_n(ws, n_kept, sizeof(float));           /* (C, k) their weights */
    int rc = ATTN_ENOMEM;
    if (sc && rows && idx && w) {
        rc = ATTN_OK;
        topk_job job = {s, K, q, k, v, out, sc, rows, idx, w, 0, 0, 0, 0, rows_per};
        for (size_t h = 0; h < s->heads && rc == ATTN_OK; h++)
            for (size_t i0 = 0; i0 < n && rc == ATTN_OK; i0 += C) {
                job.h = h;
                job.i0 = i0;
                job.bq = n - i0 < C ? n - i0 : C;
                /* causal: no row of the chunk sees keys past its last query */
                job.nk = s->causal ? i0 + job.bq : n;
                rc = par_run(threads, (job.bq + rows_per - 1) / rows_per, topk_task, &job);
            }
    }
    ws_free(ws, sc); ws_free(ws, rows); ws_free(ws, idx); ws_free(ws, w);
    return rc;
}

/* window.c — attention sinks plus a sliding window (Xiao et al., 2023,
 * "Efficient Streaming Language Models with Attention Sinks"): query i
 * attends to the first `sink` keys and to its `window` nearest keys, with an
 * exact softmax over the union of the two (a key in both counts once).
 *
 * The kept set of query i, with w = min(window, n) (window >= 1; sink >= 0):
 *   causal:      keys j <= i with j < sink or i - w < j <= i: the w most
 *                recent keys, itself included (fewer near the start).
 *   not causal:  keys j < sink or lo_i <= j < lo_i + w, with
 *                lo_i = clamp(i - floor(w/2), 0, n - w): the w keys nearest
 *                to i (floor(w/2) before it, the rest after; ties to the
 *                earlier key), shifted inward at the ends so that every
 *                query keeps w window keys.
 * window >= n keeps every visible key, which is exact attention; when
 * causal, so does sink + window >= n.
 *
 * Queries go in blocks of C = min(64, n) rows of one head. The keys any row
 * of a block keeps are at most two runs: the sinks [0, na) and the union of
 * the rows' windows [b0, b0 + nb) (one run when they touch); the block's
 * scores against those na + nb <= min(n, sink + w + C - 1) keys are two
 * sgemms into a (C, na + nb) tile, each row's keys outside its own set are
 * masked to -inf, a row softmax, and two sgemms for P·V. Memory per thread
 * is the tile: linear in sink + window, independent of n. One task is one
 * block of one head, on knobs->threads threads (parallel.h). */
#include "methods.h"
#include "parallel.h"
#include "softmax.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

enum { WINDOW_BLOCK = 64 };

static size_t block_of(const attn_shape *s) {
    return WINDOW_BLOCK < s->n ? WINDOW_BLOCK : s->n;
}

static size_t width_of(const attn_shape *s, const attn_knobs *kn) {
    return kn->window < s->n ? kn->window : s->n;
}

/* query i -> its window keys [*lo, *hi) (the definition at the top) */
static void window_range(const attn_shape *s, size_t w, size_t i, size_t *lo, size_t *hi) {
    if (s->causal) {
        *lo = i + 1 > w ? i + 1 - w : 0;
        *hi = i + 1;
        return;
    }
    size_t l = i > w / 2 ? i - w / 2 : 0;
    if (l > s->n - w) l = s->n - w;
    *lo = l;
    *hi = l + w;
}

/* the sinks query i sees: keys [0, sink_of) */
static size_t sink_of(const attn_shape *s, const attn_knobs *kn, size_t i) {
    const size_t lim = s->causal ? i + 1 : s->n;
    return kn->sink < lim ? kn->sink : lim;
}

/* query rows [i0, i0 + bq) -> the keys any of them keeps, as the runs
 * [0, *na) and [*b0, *b0 + *nb) with *na <= *b0 (*nb 0 when one run) */
static void block_keys(const attn_shape *s, const attn_knobs *kn, size_t i0, size_t bq,
                       size_t *na, size_t *b0, size_t *nb) {
    const size_t w = width_of(s, kn), smax = sink_of(s, kn, i0 + bq - 1);
    size_t lo, hi, lo_last, hi_last;
    window_range(s, w, i0, &lo, &hi);
    window_range(s, w, i0 + bq - 1, &lo_last, &hi_last);
    if (smax >= lo) { /* the sinks reach the windows: one run */
        *na = smax > hi_last ? smax : hi_last;
        *b0 = *na;
        *nb = 0;
    } else {
        *na = smax;
        *b0 = lo;
        *nb = hi_last - lo;
    }
}

/* the tile's columns: at most min(n, sink + w + C - 1) (see block_keys) */
static size_t tile_cols(const attn_shape *s, const attn_knobs *kn) {
    const size_t sink = kn->sink < s->n ? kn->sink : s->n;
    const size_t cols = sink + width_of(s, kn) + block_of(s) - 1;
    return cols < s->n ? cols : s->n;
}

static size_t tasks_of(const attn_shape *s) {
    const size_t c = block_of(s);
    return c ? s->heads * ((s->n + c - 1) / c) : 0;
}

/* workspace, bytes: 4 * T * C * min(n, sink + w + C - 1), the (C, cols)
 * score tile per thread, C = min(64, n), w = min(window, n),
 * T = par_threads(knobs, heads * ceil(n / C)) */
size_t window_workspace(const attn_shape *s, const attn_knobs *kn) {
    const size_t per_thread = size_mul_sat(block_of(s), tile_cols(s, kn));
    return size_mul_sat(size_mul_sat(per_thread, par_threads(kn, tasks_of(s))), sizeof(float));
}

/* FLOPs counted (multiply-add = 2) as executed: per block of bq rows, 2*d
 * per score and 2*d per P·V term against its na + nb keys, summed over the
 * blocks of every head. exp and normalisation are not counted, as
 * exact_flops counts only the two products. */
double window_flops(const attn_shape *s, const attn_knobs *kn) {
    const size_t C = block_of(s);
    if (!C || !kn->window)
        return 0;
    double cols = 0; /* sum over blocks of bq * (na + nb) */
    for (size_t i0 = 0; i0 < s->n; i0 += C) {
        const size_t bq = s->n - i0 < C ? s->n - i0 : C;
        size_t na, b0, nb;
        block_keys(s, kn, i0, bq, &na, &b0, &nb);
        cols += (double)bq * (double)(na + nb);
    }
    return (double)s->heads * 4.0 * (double)s->d_head * cols;
}

/* 1: window = n keeps every key (sink as it is) */
int window_exact_limit(const attn_shape *s, attn_knobs *kn) {
    kn->window = s->n;
    return 1;
}

typedef struct {
    const attn_shape *s;
    const attn_knobs *kn;
    const float *q, *k, *v;
    float *out;
    float *tiles;         /* (threads, C * cols) */
    size_t C, cols;       /* query block, tile columns */
} window_job;

/* si: (na + nb) row i's scores against keys [0, na) then [b0, b0 + nb):
 * the keys outside its own kept set to -inf, then the softmax in place */
static void window_row_softmax(const window_job *j, size_t i, float *si, size_t na, size_t b0,
                               size_t nb) {
    size_t lo, hi;
    window_range(j->s, width_of(j->s, j->kn), i, &lo, &hi);
    const size_t sk = sink_of(j->s, j->kn, i);
    for (size_t c = 0; c < na; c++)
        si[c] = (c < sk || (c >= lo && c < hi)) ? si[c] : -INFINITY;
    for (size_t c = 0; c < nb; c++) {
        const size_t key = b0 + c;
        si[na + c] = (key < sk || (key >= lo && key < hi)) ? si[na + c] : -INFINITY;
    }
    softmax_row(si, na + nb); /* e^-inf is 0: masked keys get no weight */
}

/* query rows [i0, i0 + bq) of one head */
static int window_task(void *ctx, size_t task, size_t thread) {
    const window_job *j = ctx;
    const attn_shape *s = j->s;
    const size_t n = s->n, d = s->d_head, group = s->heads / s->kv_heads;
    const size_t h = task % s->heads, i0 = (task / s->heads) * j->C;
    const size_t bq = n - i0 < j->C ? n - i0 : j->C;
    size_t na, b0, nb;
    block_keys(s, j->kn, i0, bq, &na, &b0, &nb);
    const size_t T = na + nb;
    float *sc = j->tiles + thread * j->C * j->cols; /* (bq, T) scores, then weights */
    const float *qb = j->q + (h * n + i0) * d;
    const float *kh = j->k + (h / group) * n * d, *vh = j->v + (h / group) * n * d;
    float *ob = j->out + (h * n + i0) * d; /* (bq, d) */
    const float scale = 1.0f / sqrtf((float)d);
    /* sc[:, :na] = qb K[0:na]^T / sqrt(d); sc[:, na:] = qb K[b0:b0+nb]^T / sqrt(d) */
    if (na)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)bq, (int)na, (int)d, scale, qb,
                    (int)d, kh, (int)d, 0.0f, sc, (int)T);
    if (nb)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)bq, (int)nb, (int)d, scale, qb,
                    (int)d, kh + b0 * d, (int)d, 0.0f, sc + na, (int)T);
    for (size_t r = 0; r < bq; r++) window_row_softmax(j, i0 + r, sc + r * T, na, b0, nb);
    /* ob = P[:, :na] V[0:na] + P[:, na:] V[b0:b0+nb]: (bq, d) */
    if (na)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)bq, (int)d, (int)na, 1.0f, sc,
                    (int)T, vh, (int)d, 0.0f, ob, (int)d);
    if (nb)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)bq, (int)d, (int)nb, 1.0f,
                    sc + na, (int)T, vh + b0 * d, (int)d, na ? 1.0f : 0.0f, ob, (int)d);
    return ATTN_OK;
}

/* q: (heads, n, d_head); k, v: (kv_heads, n, d_head); out: (heads, n, d_head) */
int window_forward(const attn_shape *s, const attn_knobs *kn, const float *q,
                   const float *k, const float *v, float *out, workspace *ws) {
    if (!s->heads || !s->kv_heads || s->heads % s->kv_heads || !s->n || !s->d_head)
        return ATTN_EINVAL;
    if (kn->window < 1 || s->n > INT_MAX || s->d_head > INT_MAX)
        return ATTN_EINVAL;
    const size_t C = block_of(s), cols = tile_cols(s, kn), tasks = tasks_of(s);
    const size_t threads = par_threads(kn, tasks);
    size_t count;
    if (size_mul3(C, cols, threads, &count))
        return ATTN_ENOMEM;
    float *tiles = ws_alloc_n(ws, count, sizeof(float)); /* (threads, C, cols) */
    if (!tiles)
        return ATTN_ENOMEM;
    window_job job = {s, kn, q, k, v, out, tiles, C, cols};
    const int rc = par_run(threads, tasks, window_task, &job);
    ws_free(ws, tiles);
    return rc;
}

/* q: (heads, n, d_head); k: (kv_heads, n, d_head), float64; rows: (nrows)
 * ascending query rows, NULL for all n; mass: (heads, nrows) <- the exact
 * attention's probability on each row's kept set. Rows in blocks of
 * WINDOW_BLOCK: (block, n) doubles of scores, so memory linear in n. */
int window_kept_mass(const attn_shape *s, const attn_knobs *kn, const double *q,
                     const double *k, const size_t *rows, size_t nrows, double *mass,
                     workspace *ws) {
    const size_t n = s->n, d = s->d_head, B = WINDOW_BLOCK;
    if (!s->heads || !s->kv_heads || s->heads % s->kv_heads || !n || !d || kn->window < 1)
        return ATTN_EINVAL;
    if (n > INT_MAX || d > INT_MAX)
        return ATTN_EINVAL;
    if (!rows) nrows = n;
    const size_t group = s->heads / s->kv_heads, w = width_of(s, kn);
    double *qb = ws_alloc_n(ws, B * d, sizeof(double)); /* (B, d) gathered queries */
    double *sc = ws_alloc_n(ws, B, n * sizeof(double)); /* (B, n) scores */
    if (!qb || !sc) {
        ws_free(ws, qb); ws_free(ws, sc);
        return ATTN_ENOMEM;
    }
    for (size_t h = 0; h < s->heads; h++)
        for (size_t r0 = 0; r0 < nrows; r0 += B) {
            const size_t b = nrows - r0 < B ? nrows - r0 : B;
            for (size_t r = 0; r < b; r++)
                memcpy(qb + r * d, q + (h * n + (rows ? rows[r0 + r] : r0 + r)) * d, d * sizeof(double));
            /* sc = qb K^T / sqrt(d): (b, n) */
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)n, (int)d,
                        1.0 / sqrt((double)d), qb, (int)d, k + (h / group) * n * d, (int)d, 0.0,
                        sc, (int)n);
            for (size_t r = 0; r < b; r++) {
                const size_t i = rows ? rows[r0 + r] : r0 + r, vis = s->causal ? i + 1 : n;
                const size_t sk = sink_of(s, kn, i);
                size_t lo, hi;
                window_range(s, w, i, &lo, &hi);
                const double *si = sc + r * n;
                double mx = -INFINITY, z = 0, kept = 0;
                for (size_t j = 0; j < vis; j++) mx = si[j] > mx ? si[j] : mx;
                for (size_t j = 0; j < vis; j++) {
                    const double p = exp(si[j] - mx);
                    z += p;
                    if (j < sk || (j >= lo && j < hi)) kept += p;
                }
                mass[h * nrows + r0 + r] = kept / z;
            }
        }
    ws_free(ws, qb); ws_free(ws, sc);
    return ATTN_OK;
}

/* the knob rules (attention.h resolve): sink 4 and window 256 unless given;
 * sink 0 is valid, window at least 1; both past n are clamped above */
int window_resolve(const attn_shape *s, attn_knobs *kn, char *why, size_t cap) {
    (void)s;
    if (kn->sink == ATTN_KNOB_UNSET) kn->sink = WINDOW_DEFAULT_SINK;
    if (kn->window == ATTN_KNOB_UNSET) kn->window = WINDOW_DEFAULT_WINDOW;
    if (kn->window >= 1) return ATTN_OK;
    if (why && cap) snprintf(why, cap, "--window must be at least 1");
    return ATTN_EINVAL;
}

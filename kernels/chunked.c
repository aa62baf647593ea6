/* chunked.c — exact attention in blocks of C queries x B keys with an online
 * softmax (running max m and running sum l per query), as in
 * FlashAttention / Rabe & Staats: memory O(C B) per thread, independent of n.
 *
 * For a query row with running (m, l, acc), a new key block with scores s:
 *   m' = max(m, max s);  acc = acc * e^(m - m') + sum_j e^(s_j - m') v_j;
 *   l  = l * e^(m - m') + sum_j e^(s_j - m');          out = acc / l.
 * The accumulator is the output row itself, so no (C, d_head) buffer.
 *
 * C is --chunk; the key block B is fixed (CHUNKED_KEY_BLOCK) so a (C, B)
 * score tile stays in L2 whatever C is. One task is one query block of one
 * head; tasks run on knobs->threads threads (parallel.h), each with its own
 * tile, and BLAS single-threaded inside. Causal: key blocks wholly past a
 * query block's last row are skipped, so causal does about half the work. */
#include "methods.h"
#include "parallel.h"
#include "softmax.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <string.h>

enum { CHUNKED_KEY_BLOCK = 256 };

static size_t query_block(const attn_shape *s, const attn_knobs *kn) {
    return kn->chunk < s->n ? kn->chunk : s->n;
}

static size_t key_block(const attn_shape *s) {
    return CHUNKED_KEY_BLOCK < s->n ? CHUNKED_KEY_BLOCK : s->n;
}

static size_t tasks_of(const attn_shape *s, const attn_knobs *kn) {
    const size_t c = query_block(s, kn);
    return c ? s->heads * ((s->n + c - 1) / c) : 0;
}

/* workspace, per thread: C*B scores + 2*C floats (m, l), C = min(chunk, n),
 * B = min(256, n); times par_threads(knobs, heads * ceil(n / C)) */
size_t chunked_workspace(const attn_shape *s, const attn_knobs *kn) {
    const size_t c = query_block(s, kn), b = key_block(s);
    const size_t per_thread = size_add_sat(size_mul_sat(c, b), size_mul_sat(2, c));
    return size_mul_sat(size_mul_sat(per_thread, par_threads(kn, tasks_of(s, kn))), sizeof(float));
}

typedef struct {
    const attn_shape *s;
    const float *q, *k, *v;
    float *out;
    size_t C, B, blocks;  /* query block, key block, query blocks per head */
    float *scratch;       /* (threads, C*B + 2*C) */
} chunked_job;

/* one query block of one head. Causal: the last query blocks first, as
 * they have the most keys, so the threads finish together. */
static int chunked_task(void *ctx, size_t task, size_t thread) {
    const chunked_job *j = ctx;
    const attn_shape *s = j->s;
    const size_t n = s->n, d = s->d_head, group = s->heads / s->kv_heads, C = j->C, B = j->B;
    const size_t h = task % s->heads, i0 = (j->blocks - 1 - task / s->heads) * C;
    float *sc = j->scratch + thread * (C * B + 2 * C); /* (C, B) scores of one block pair */
    float *m = sc + C * B, *l = m + C;                 /* (C) running max, (C) running sum */
    const float *kh = j->k + (h / group) * n * d, *vh = j->v + (h / group) * n * d;
    const size_t bq = n - i0 < C ? n - i0 : C;
    const float *qb = j->q + (h * n + i0) * d;
    float *ob = j->out + (h * n + i0) * d; /* (bq, d) accumulator */
    const float scale = 1.0f / sqrtf((float)d);
    for (size_t i = 0; i < bq; i++) { m[i] = -INFINITY; l[i] = 0.0f; }
    memset(ob, 0, bq * d * sizeof(float));
    /* causal: key blocks past the block's last query are all masked */
    const size_t kend = s->causal ? i0 + bq : n;
    for (size_t j0 = 0; j0 < kend; j0 += B) {
        const size_t bk = kend - j0 < B ? kend - j0 : B;
        /* sc = qb kb^T / sqrt(d): (bq, bk) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)bq, (int)bk, (int)d, scale, qb,
                    (int)d, kh + j0 * d, (int)d, 0.0f, sc, (int)bk);
        for (size_t i = 0; i < bq; i++) {
            float *si = sc + i * bk;
            /* causal: row i0+i sees keys j0 .. i0+i of this block (maybe none) */
            size_t vis = bk;
            if (s->causal && j0 + bk > i0 + i + 1) vis = i0 + i + 1 > j0 ? i0 + i + 1 - j0 : 0;
            memset(si + vis, 0, (bk - vis) * sizeof(float));
            if (!vis) continue;
            const float mnew = fmaxf(m[i], row_max(si, vis));
            const float alpha = exp_fast(m[i] - mnew); /* 0 on the first block */
            l[i] = l[i] * alpha + exp_shift_sum(si, vis, mnew);
            m[i] = mnew;
            if (alpha != 1.0f) scale_row(ob + i * d, d, alpha);
        }
        /* ob += P vb: (bq, d) += (bq, bk) x (bk, d) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)bq, (int)d, (int)bk, 1.0f, sc,
                    (int)bk, vh + j0 * d, (int)d, 1.0f, ob, (int)d);
    }
    for (size_t i = 0; i < bq; i++) scale_row(ob + i * d, d, 1.0f / l[i]);
    return ATTN_OK;
}

/* q: (heads, n, d_head); k, v: (kv_heads, n, d_head); out: (heads, n, d_head) */
int chunked_forward(const attn_shape *s, const attn_knobs *kn, const float *q,
                    const float *k, const float *v, float *out, workspace *ws) {
    if (kn->chunk < 1)
        return ATTN_EINVAL;
    if (!s->heads || !s->kv_heads || s->heads % s->kv_heads || !s->n || !s->d_head)
        return ATTN_EINVAL;
    if (s->n > INT_MAX || s->d_head > INT_MAX)
        return ATTN_EINVAL;
    const size_t C = query_block(s, kn), B = key_block(s), tasks = tasks_of(s, kn);
    const size_t threads = par_threads(kn, tasks);
    size_t count;
    if (size_mul(size_add_sat(size_mul_sat(C, B), size_mul_sat(2, C)), threads, &count))
        return ATTN_ENOMEM;
    float *scratch = ws_alloc_n(ws, count, sizeof(float));
    if (!scratch)
        return ATTN_ENOMEM;
    chunked_job job = {s, q, k, v, out, C, B, (s->n + C - 1) / C, scratch};
    const int rc = par_run(threads, tasks, chunked_task, &job);
    ws_free(ws, scratch);
    return rc;
}

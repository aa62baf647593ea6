/* vanilla.c — exact attention with the (heads, n, n) score tensor
 * materialised: the quadratic-memory baseline every method is measured
 * against. All heads' scores are held at once, as a naive implementation
 * that batches heads does, and every score is written.
 *
 * The work goes in blocks of VANILLA_ROWS query rows of one head: one sgemm
 * for the block's scores, a row softmax, one sgemm for P·V. The block's rows
 * of the score tensor are still in cache when the softmax and P·V read them,
 * and the blocks are tasks for knobs->threads threads (parallel.h). Causal:
 * a block's scores stop at its last row (the rest of its rows is zeroed,
 * not computed) and P·V reads only those columns. */
#include "methods.h"
#include "parallel.h"
#include "softmax.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <string.h>

enum { VANILLA_ROWS = 64 };

/* workspace: heads * n * n floats of scores (whatever the thread count) */
size_t vanilla_workspace(const attn_shape *s, const attn_knobs *kn) {
    (void)kn;
    return size_mul_sat(size_mul_sat(s->heads, size_mul_sat(s->n, s->n)), sizeof(float));
}

typedef struct {
    const attn_shape *s;
    const float *q, *k, *v;
    float *out, *scores;  /* scores: (heads, n, n) */
    size_t blocks;        /* row blocks per head */
} vanilla_job;

/* rows [i0, i0 + VANILLA_ROWS) of one head; causal: the last blocks first */
static int vanilla_task(void *ctx, size_t task, size_t thread) {
    (void)thread;
    const vanilla_job *j = ctx;
    const attn_shape *s = j->s;
    const size_t n = s->n, d = s->d_head, group = s->heads / s->kv_heads;
    const size_t h = task % s->heads, i0 = (j->blocks - 1 - task / s->heads) * VANILLA_ROWS;
    const size_t b = n - i0 < VANILLA_ROWS ? n - i0 : VANILLA_ROWS;
    const size_t nk = s->causal ? i0 + b : n; /* keys any row of the block sees */
    const float *kh = j->k + (h / group) * n * d, *vh = j->v + (h / group) * n * d;
    float *sb = j->scores + (h * n + i0) * n; /* (b, n) rows of the score tensor */
    const float scale = 1.0f / sqrtf((float)d);
    /* sb[:, :nk] = q_rows k^T / sqrt(d): (b, nk) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)nk, (int)d, scale,
                j->q + (h * n + i0) * d, (int)d, kh, (int)d, 0.0f, sb, (int)n);
    for (size_t i = 0; i < b; i++) {
        float *si = sb + i * n;
        const size_t vis = s->causal ? i0 + i + 1 : n;
        softmax_row(si, vis);
        memset(si + vis, 0, (n - vis) * sizeof(float));
    }
    /* out_rows = P[:, :nk] v[:nk]: (b, d) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)d, (int)nk, 1.0f, sb,
                (int)n, vh, (int)d, 0.0f, j->out + (h * n + i0) * d, (int)d);
    return ATTN_OK;
}

/* q: (heads, n, d_head); k, v: (kv_heads, n, d_head); out: (heads, n, d_head) */
int vanilla_forward(const attn_shape *s, const attn_knobs *kn, const float *q,
                    const float *k, const float *v, float *out, workspace *ws) {
    const size_t n = s->n;
    if (!s->heads || !s->kv_heads || s->heads % s->kv_heads || !n || !s->d_head)
        return ATTN_EINVAL;
    if (n > INT_MAX || s->d_head > INT_MAX)
        return ATTN_EINVAL;
    size_t count;
    if (size_mul3(s->heads, n, n, &count))
        return ATTN_ENOMEM;
    float *scores = ws_alloc_n(ws, count, sizeof(float)); /* (heads, n, n) */
    if (!scores)
        return ATTN_ENOMEM;
    const size_t blocks = (n + VANILLA_ROWS - 1) / VANILLA_ROWS, tasks = s->heads * blocks;
    vanilla_job job = {s, q, k, v, out, scores, blocks};
    const int rc = par_run(par_threads(kn, tasks), tasks, vanilla_task, &job);
    ws_free(ws, scores);
    return rc;
}

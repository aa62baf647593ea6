/* decode_split.c — a step split along the context (flash-decoding), for an
 * entry with attend_range (decode.h): after the step's appends, the tasks
 * are (sequence b, unit u, block x) over every sequence's held slots in
 * blocks of d->block, each writing its part (the block's unnormalised
 * output, running max and sum per query head); then one task per
 * (sequence, unit) merges its parts in block order:
 *   M = max_x m_x,  out = sum_x e^(m_x - M) acc_x / sum_x e^(m_x - M) l_x
 * and applies the V embedding. The blocks depend on the lengths and the
 * block size only, so the result is the same on any number of threads. */
#include "decode.h"
#include "pool.h"
#include "softmax.h"

#include <math.h>
#include <string.h>

typedef struct {
    const decode_ctx *d;
    const decode_seq *seqs;
    const float *q;
    size_t ldq, blocks; /* blocks: this step's most blocks of one unit */
    float *out;
} split_job;

/* the held slots of sequence b after its append, and its blocks */
static size_t held_of(const split_job *j, size_t b, size_t *blocks) {
    const size_t held = decode_held(j->d, j->seqs[b].len + 1), B = j->d->block;
    *blocks = held / B + (held % B != 0);
    return held;
}

static float *part_of(const decode_ctx *d, size_t b, size_t u, size_t x) {
    return d->parts + ((b * d->units + u) * d->blocks + x) * d->part_floats;
}

static int block_task(void *ctx, size_t task, size_t thread) {
    const split_job *j = ctx;
    const decode_ctx *d = j->d;
    const size_t x = task % j->blocks, u = task / j->blocks % d->units, b = task / j->blocks / d->units;
    size_t nb;
    const size_t held = held_of(j, b, &nb);
    if (x >= nb) return ATTN_OK; /* a shorter sequence of the batch */
    const size_t j0 = x * d->block, j1 = held - j0 < d->block ? held : j0 + d->block;
    decode_seq view = j->seqs[b];
    view.len++;
    const float *q = j->q + b * j->ldq + u * decode_group(d) * d->c.d_head;
    d->c.op->attend_range(d, &view, u, q, j0, j1, part_of(d, b, u, x), d->scratch + thread * d->scratch_floats);
    return ATTN_OK;
}

static int merge_task(void *ctx, size_t task, size_t thread) {
    (void)thread;
    const split_job *j = ctx;
    const decode_ctx *d = j->d;
    const size_t u = task % d->units, b = task / d->units, dh = d->c.d_head, G = decode_group(d);
    size_t nb;
    held_of(j, b, &nb);
    for (size_t i = 0; i < G; i++) {
        const size_t h = u * G + i;
        float *out = j->out + (b * d->c.heads + h) * dh;
        float mx = -INFINITY;
        for (size_t x = 0; x < nb; x++) {
            const float m = part_of(d, b, u, x)[G * dh + i];
            mx = m > mx ? m : mx;
        }
        double sum = 0;
        memset(out, 0, dh * sizeof(float));
        for (size_t x = 0; x < nb; x++) {
            const float *p = part_of(d, b, u, x);
            const float w = expf(p[G * dh + i] - mx);
            sum += (double)w * p[G * dh + G + i];
            axpy_row(out, dh, w, p + i * dh);
        }
        scale_row(out, dh, (float)(1.0 / sum));
        decode_embed_out(d, h, out);
    }
    return ATTN_OK;
}

/* threads for `tasks` tasks: the knobs' and the context's bound (decode.c's steps use it too) */
size_t decode_threads_for(const decode_ctx *d, size_t tasks) {
    const size_t t = par_threads(&d->c.kn, tasks);
    return t < d->threads ? t : d->threads;
}

int decode_split_attend(const decode_ctx *d, const decode_seq *seqs, size_t batch, const float *q,
                        size_t ldq, float *out) {
    split_job job = {d, seqs, q, ldq, 0, out};
    for (size_t b = 0; b < batch; b++) {
        size_t nb;
        held_of(&job, b, &nb);
        if (nb > job.blocks) job.blocks = nb;
    }
    size_t tasks = batch * d->units * job.blocks;
    int rc = par_pool_run(d->c.pool, decode_threads_for(d, tasks), tasks, block_task, &job);
    tasks = batch * d->units; /* a merge is a few rows: a thread per 16 */
    if (rc == ATTN_OK) rc = par_pool_run(d->c.pool, decode_threads_for(d, (tasks + 15) / 16), tasks, merge_task, &job);
    return rc;
}

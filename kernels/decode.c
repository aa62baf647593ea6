/* decode.c — one query per head against a per-sequence K/V cache: the exact,
 * top-k and window steps, the cache layouts and the task split (decode.h).
 * Performer's recurrent state is in decode_performer.c.
 *
 * The exact step streams the cache: for the query heads of one K/V head,
 * scores = K q / sqrt(d) in one pass over K, the softmax over the row,
 * then out = V^T p in one pass over V, in plain vector loops (OpenBLAS's
 * sgemv, and sgemm for a group, were slower here). A group of G query heads
 * (gqa, mqa, MHE) shares each pass, so K and V are read once per group; its
 * arithmetic is G times that of one row, and with one group (mqa, MHE at
 * batch 1) the step is bound by that arithmetic on one thread, not by
 * memory. The window operator is the same step over
 * its ring of sink + window slots (the softmax does not care where a key
 * sits). Top-k keeps the score pass and reads only the k kept rows of V. */
#include "decode.h"
#include "methods.h"
#include "parallel.h"
#include "softmax.h"

#include <limits.h>
#include <math.h>
#include <string.h>

static size_t group_of(const decode_config *c) { return c->heads / c->kv_heads; }

/* the tasks of a step: (sequence, unit), a unit a K/V head or a state head */
static size_t units_of(const decode_ctx *d) {
    return d->c.op == DECODE_PERFORMER ? d->state_heads : d->c.kv_heads;
}

static size_t features_of(const decode_config *c) {
    return c->kn.features ? c->kn.features : performer_default_features(c->d_head);
}

static size_t slots_of(const decode_config *c) {
    if (c->op == DECODE_WINDOW) return size_add_sat(c->kn.sink, c->kn.window);
    return c->op == DECODE_PERFORMER ? 0 : c->max_len;
}

static size_t state_heads_of(const decode_config *c) {
    return c->embed != DECODE_EMBED_NONE ? c->heads : c->kv_heads;
}

/* floats of one thread's scratch:
 *   exact, window  G * slots scores + G * d queries (G = heads / kv_heads)
 *   topk           the same + slots (the selection's copy) + 2 k (kept keys, weights)
 *   performer      decode_performer_scratch */
static size_t scratch_floats(const decode_config *c) {
    const size_t G = group_of(c), slots = slots_of(c), d = c->d_head;
    if (c->op == DECODE_PERFORMER) return decode_performer_scratch(c, features_of(c));
    size_t f = size_add_sat(size_mul_sat(G, slots), size_mul_sat(G, d));
    if (c->op == DECODE_TOPK) f = size_add_sat(f, size_add_sat(slots, size_mul_sat(2, c->kn.k)));
    return f;
}

static size_t threads_of(const decode_config *c) {
    const size_t units = c->op == DECODE_PERFORMER ? state_heads_of(c) : c->kv_heads;
    return par_threads(&c->kn, size_mul_sat(c->batch ? c->batch : 1, units));
}

/* 4 * (threads * scratch floats [+ performer: state_heads * M * d features]) */
size_t decode_workspace_bytes(const decode_config *c) {
    size_t f = size_mul_sat(threads_of(c), scratch_floats(c));
    if (c->op == DECODE_PERFORMER)
        f = size_add_sat(f, size_mul_sat(state_heads_of(c), size_mul_sat(features_of(c), c->d_head)));
    return size_mul_sat(f, sizeof(float));
}

/* exact, topk: 2 kv_heads max_len d; window: 2 kv_heads (sink + window) d;
 * performer: state_heads M (d + 2); floats, times 4 */
size_t decode_cache_bytes(const decode_config *c) {
    size_t f;
    if (c->op == DECODE_PERFORMER)
        f = size_mul_sat(state_heads_of(c), size_mul_sat(features_of(c), size_add_sat(c->d_head, 2)));
    else
        f = size_mul_sat(2, size_mul_sat(c->kv_heads, size_mul_sat(slots_of(c), c->d_head)));
    return size_mul_sat(f, sizeof(float));
}

double decode_read_bytes(const decode_config *c, double held) {
    const double d = (double)c->d_head, kv = (double)c->kv_heads;
    if (c->op == DECODE_PERFORMER)
        return 4.0 * (double)state_heads_of(c) * (double)features_of(c) * (d + 1);
    if (c->op == DECODE_WINDOW && held > (double)slots_of(c)) held = (double)slots_of(c);
    if (c->op == DECODE_TOPK) {
        const double k = held < (double)c->kn.k ? held : (double)c->kn.k;
        return 4.0 * d * (kv * held + (double)c->heads * k);
    }
    return 4.0 * 2 * kv * held * d;
}

static int config_valid(const decode_config *c) {
    if (!c->heads || !c->kv_heads || c->heads % c->kv_heads || !c->d_head || !c->max_len)
        return 0;
    if (c->embed != DECODE_EMBED_NONE && (c->kv_heads != 1 || !c->ek || !c->ev))
        return 0;
    if (c->op == DECODE_TOPK && c->kn.k < 1) return 0;
    if (c->op == DECODE_WINDOW && c->kn.window < 1) return 0;
    const size_t big = (size_t)INT_MAX;
    return c->d_head <= big && slots_of(c) <= big && features_of(c) <= big && c->heads <= big;
}

int decode_init(decode_ctx *d, const decode_config *c, workspace *ws) {
    memset(d, 0, sizeof *d);
    if (!config_valid(c)) return ATTN_EINVAL;
    d->c = *c;
    d->slots = slots_of(c);
    d->state_heads = state_heads_of(c);
    d->M = c->op == DECODE_PERFORMER ? features_of(c) : 0;
    d->threads = threads_of(c);
    d->scratch_floats = scratch_floats(c);
    if (d->scratch_floats == SIZE_MAX) return ATTN_ENOMEM;
    d->scratch = ws_alloc_n(ws, size_mul_sat(d->threads, d->scratch_floats), sizeof(float));
    if (!d->scratch) return ATTN_ENOMEM;
    if (c->op == DECODE_PERFORMER) {
        d->w = ws_alloc_n(ws, size_mul_sat(d->state_heads, size_mul_sat(d->M, c->d_head)), sizeof(float));
        if (!d->w) { decode_free(d, ws); return ATTN_ENOMEM; }
        decode_performer_features(d, d->scratch);
    }
    return ATTN_OK;
}

void decode_free(decode_ctx *d, workspace *ws) {
    ws_free(ws, d->scratch);
    ws_free(ws, d->w);
    d->scratch = d->w = NULL;
}

int decode_seq_init(const decode_ctx *d, decode_seq *s, workspace *ws) {
    memset(s, 0, sizeof *s);
    const decode_config *c = &d->c;
    if (c->op == DECODE_PERFORMER) {
        const size_t sm = size_mul_sat(d->state_heads, d->M);
        s->st = ws_alloc_n(ws, size_mul_sat(sm, c->d_head), sizeof(float));
        s->z = ws_alloc_n(ws, sm, sizeof(float));
        s->c = ws_alloc_n(ws, sm, sizeof(float));
        if (!s->st || !s->z || !s->c) { decode_seq_free(s, ws); return ATTN_ENOMEM; }
        memset(s->st, 0, sm * c->d_head * sizeof(float));
        memset(s->z, 0, sm * sizeof(float));
        for (size_t i = 0; i < sm; i++) s->c[i] = -INFINITY;
        return ATTN_OK;
    }
    const size_t count = size_mul_sat(c->kv_heads, size_mul_sat(d->slots, c->d_head));
    s->k = ws_alloc_n(ws, count, sizeof(float));
    s->v = ws_alloc_n(ws, count, sizeof(float));
    if (!s->k || !s->v) { decode_seq_free(s, ws); return ATTN_ENOMEM; }
    return ATTN_OK;
}

void decode_seq_free(decode_seq *s, workspace *ws) {
    ws_free(ws, s->k); ws_free(ws, s->v); ws_free(ws, s->st); ws_free(ws, s->z); ws_free(ws, s->c);
    memset(s, 0, sizeof *s);
}

/* the cache slot of position pos: itself, or for the window operator a
 * sink slot or the ring slot the position evicts */
static size_t slot_of(const decode_ctx *d, size_t pos) {
    const size_t sink = d->c.kn.sink;
    if (d->c.op != DECODE_WINDOW || pos < sink) return pos;
    return sink + (pos - sink) % d->c.kn.window;
}

/* keys held after len tokens */
static size_t held_of(const decode_ctx *d, size_t len) {
    return len < d->slots ? len : d->slots;
}

/* stores `rows` tokens from position s->len on, K/V head g (not advancing len) */
static void cache_store(const decode_ctx *d, decode_seq *s, size_t g, size_t rows, const float *k,
                        const float *v, size_t ld) {
    const size_t dh = d->c.d_head;
    float *kg = s->k + g * d->slots * dh, *vg = s->v + g * d->slots * dh;
    for (size_t i = 0; i < rows; i++) {
        const size_t at = slot_of(d, s->len + i) * dh;
        memcpy(kg + at, k + i * ld + g * dh, dh * sizeof(float));
        memcpy(vg + at, v + i * ld + g * dh, dh * sizeof(float));
    }
}

/* the value embedding of head h on its output row o: (d) */
static void embed_value(const decode_config *c, size_t h, float *o) {
    const float *e = c->ev + h * c->d_head;
    if (c->embed == DECODE_EMBED_MUL)
        for (size_t j = 0; j < c->d_head; j++) o[j] *= e[j];
    else if (c->embed == DECODE_EMBED_ADD)
        for (size_t j = 0; j < c->d_head; j++) o[j] += e[j];
}

/* kg: (held, d) keys; qe: (G, d) queries; sc: (G, held) <- scale * qe kg^T.
 * One pass over the keys, four rows at a time: per row and query 16
 * independent lanes (a vector FMA), reduced once per row; the G queries of
 * a group reuse each block of rows from L1, so K is read once per group. */
static void score_rows(const float *restrict kg, size_t held, size_t d, const float *restrict qe,
                       size_t G, float scale, float *restrict sc) {
    enum { R = 4, LANES = 16 };
    const size_t dv = d - d % LANES;
    size_t j = 0;
    for (; j + R <= held; j += R)
        for (size_t i = 0; i < G; i++) {
            const float *q = qe + i * d;
            float acc[R][LANES] = {{0}};
            for (size_t c = 0; c < dv; c += LANES)
                for (size_t r = 0; r < R; r++)
                    for (size_t l = 0; l < LANES; l++) acc[r][l] += kg[(j + r) * d + c + l] * q[c + l];
            for (size_t r = 0; r < R; r++) {
                float t = 0;
                for (size_t l = 0; l < LANES; l++) t += acc[r][l];
                for (size_t c = dv; c < d; c++) t += kg[(j + r) * d + c] * q[c];
                sc[i * held + j + r] = scale * t;
            }
        }
    for (; j < held; j++)
        for (size_t i = 0; i < G; i++) {
            float t = 0;
            for (size_t c = 0; c < d; c++) t += kg[j * d + c] * qe[i * d + c];
            sc[i * held + j] = scale * t;
        }
}

/* vg: (held, d) values; p: (G, held) weights; out: (G, d) <- p vg, one pass
 * over the values, two rows at a time into two accumulators per query */
static void weighted_rows(const float *restrict vg, size_t held, size_t d, const float *restrict p,
                          size_t G, float *restrict out, float *restrict acc2) {
    memset(out, 0, G * d * sizeof(float));
    memset(acc2, 0, G * d * sizeof(float));
    size_t j = 0;
    for (; j + 2 <= held; j += 2)
        for (size_t i = 0; i < G; i++) {
            axpy_row(out + i * d, d, p[i * held + j], vg + j * d);
            axpy_row(acc2 + i * d, d, p[i * held + j + 1], vg + (j + 1) * d);
        }
    for (; j < held; j++)
        for (size_t i = 0; i < G; i++) axpy_row(out + i * d, d, p[i * held + j], vg + j * d);
    for (size_t i = 0; i < G * d; i++) out[i] += acc2[i];
}

/* q: the group's G query rows (G, d), each moved to k's side of the
 * product (mhe-mul: q_h * e_h; mhe-add: as is) into qe; sc: (G, held) <-
 * their scores against the held keys of K/V head g */
static void group_scores(const decode_ctx *d, const decode_seq *s, size_t g, const float *q,
                         float *qe, float *sc, size_t held) {
    const decode_config *c = &d->c;
    const size_t dh = c->d_head, G = group_of(c);
    memcpy(qe, q, G * dh * sizeof(float));
    if (c->embed == DECODE_EMBED_MUL)
        for (size_t i = 0; i < G; i++) {
            const float *e = c->ek + (g * G + i) * dh;
            for (size_t j = 0; j < dh; j++) qe[i * dh + j] *= e[j];
        }
    score_rows(s->k + g * d->slots * dh, held, dh, qe, G, 1.0f / sqrtf((float)dh), sc);
}

/* exact and window: softmax rows, out = P V (one pass over V) */
static void attend_exact(const decode_ctx *d, const decode_seq *s, size_t g, const float *q,
                         float *out, float *scratch) {
    const decode_config *c = &d->c;
    const size_t dh = c->d_head, G = group_of(c), held = held_of(d, s->len);
    float *sc = scratch, *qe = scratch + G * d->slots;
    group_scores(d, s, g, q, qe, sc, held);
    for (size_t i = 0; i < G; i++) softmax_row(sc + i * held, held);
    weighted_rows(s->v + g * d->slots * dh, held, dh, sc, G, out, qe);
    for (size_t i = 0; i < G; i++) embed_value(c, g * G + i, out + i * dh);
}

/* top-k: per query head the k largest scores, softmax over them, the
 * weighted sum of their V rows */
static void attend_topk(const decode_ctx *d, const decode_seq *s, size_t g, const float *q,
                        float *out, float *scratch) {
    const decode_config *c = &d->c;
    const size_t dh = c->d_head, G = group_of(c), held = held_of(d, s->len), K = c->kn.k;
    float *sc = scratch, *qe = sc + G * d->slots, *sel = qe + G * dh, *wt = sel + d->slots;
    uint32_t *idx = (uint32_t *)(wt + K);
    group_scores(d, s, g, q, qe, sc, held);
    const float *vg = s->v + g * d->slots * dh;
    for (size_t i = 0; i < G; i++) {
        const float *si = sc + i * held;
        const size_t m = topk_select_row(si, held, K, sel, idx);
        for (size_t x = 0; x < m; x++) wt[x] = si[idx[x]];
        float *o = out + i * dh;
        memset(o, 0, dh * sizeof(float));
        softmax_row(wt, m);
        for (size_t x = 0; x < m; x++) axpy_row(o, dh, wt[x], vg + (size_t)idx[x] * dh);
        embed_value(c, g * G + i, o);
    }
}

typedef struct {
    const decode_ctx *d;
    decode_seq *seqs;
    const float *q, *k, *v;
    size_t ldq, ldkv;
    float *out;
} step_job;

/* sequence b = task / units, unit u: append its token's K/V head (or state
 * head), then attend with the unit's query heads */
static int step_task(void *ctx, size_t task, size_t thread) {
    const step_job *j = ctx;
    const decode_ctx *d = j->d;
    const decode_config *c = &d->c;
    const size_t units = units_of(d), b = task / units, u = task % units, dh = c->d_head;
    decode_seq *s = &j->seqs[b];
    float *scratch = d->scratch + thread * d->scratch_floats;
    const float *kb = j->k + b * j->ldkv, *vb = j->v + b * j->ldkv;
    if (c->op == DECODE_PERFORMER) {
        decode_performer_append(d, s, u, 1, kb, vb, j->ldkv, scratch);
        /* every unit has appended its own part: the length the attend sees */
        decode_seq view = *s;
        view.len = s->len + 1;
        decode_performer_attend(d, &view, u, j->q + b * j->ldq, j->out + b * c->heads * dh, scratch);
        return ATTN_OK;
    }
    cache_store(d, s, u, 1, kb, vb, j->ldkv);
    decode_seq view = *s;
    view.len = s->len + 1;
    const size_t G = group_of(c);
    const float *q = j->q + b * j->ldq + u * G * dh;
    float *o = j->out + (b * c->heads + u * G) * dh;
    if (c->op == DECODE_TOPK) attend_topk(d, &view, u, q, o, scratch);
    else attend_exact(d, &view, u, q, o, scratch);
    return ATTN_OK;
}

int decode_step(const decode_ctx *d, decode_seq *seqs, size_t batch, const float *q, size_t ldq,
                const float *k, const float *v, size_t ldkv, float *out) {
    if (!batch || batch > (d->c.batch ? d->c.batch : 1)) return ATTN_EINVAL;
    for (size_t b = 0; b < batch; b++)
        if (seqs[b].len >= d->c.max_len) return ATTN_EINVAL;
    step_job job = {d, seqs, q, k, v, ldq, ldkv, out};
    const size_t tasks = batch * units_of(d);
    const int rc = par_run(par_threads(&d->c.kn, tasks) < d->threads ? par_threads(&d->c.kn, tasks)
                                                                      : d->threads,
                           tasks, step_task, &job);
    if (rc == ATTN_OK)
        for (size_t b = 0; b < batch; b++) seqs[b].len++;
    return rc;
}

typedef struct {
    const decode_ctx *d;
    decode_seq *s;
    size_t rows, ld;
    const float *k, *v;
} append_job;

static int append_task(void *ctx, size_t u, size_t thread) {
    const append_job *j = ctx;
    if (j->d->c.op == DECODE_PERFORMER)
        decode_performer_append(j->d, j->s, u, j->rows, j->k, j->v, j->ld,
                                j->d->scratch + thread * j->d->scratch_floats);
    else
        cache_store(j->d, j->s, u, j->rows, j->k, j->v, j->ld);
    return ATTN_OK;
}

int decode_append(const decode_ctx *d, decode_seq *s, size_t rows, const float *k,
                  const float *v, size_t ld) {
    if (rows > d->c.max_len - s->len) return ATTN_EINVAL;
    if (!rows) return ATTN_OK;
    append_job job = {d, s, rows, ld, k, v};
    const size_t units = units_of(d);
    const size_t threads = par_threads(&d->c.kn, units) < d->threads ? par_threads(&d->c.kn, units) : d->threads;
    const int rc = par_run(threads, units, append_task, &job);
    if (rc == ATTN_OK) s->len += rows;
    return rc;
}

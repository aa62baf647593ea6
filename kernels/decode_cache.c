/* decode_cache.c — the cache rows of a decode sequence (decode.h): K and V
 * of K/V head g in slots 0 .. slots-1 of (kv_heads, slots, d_head) float
 * arrays. Every write (a stored row) and every read of a row (the score
 * pass over K, the weighted pass over V, the gathered V rows of a
 * selection, a kept row moved by a policy's compaction) is here, so a
 * cache format (f16, q8_0, ...) is a change of this file: each function
 * hands a format other than f32 to decode_format.c, which dequantizes tiles
 * of rows and does the same.
 *
 * The passes stream the cache: for the query heads of one K/V head,
 * scores = K q / sqrt(d) in one pass over K, then out = V^T p in one pass
 * over V, in plain vector loops (OpenBLAS's sgemv, and sgemm for a group,
 * were slower here). A group of G query heads (gqa, mqa, MHE) shares each
 * pass, so K and V are read once per group; its arithmetic is G times that
 * of one row, and with one group (mqa, MHE at batch 1) the step is bound by
 * that arithmetic on one thread, not by memory. */
#include "decode.h"
#include "softmax.h"

#include <string.h>

static const float *k_rows(const decode_ctx *d, const decode_seq *s, size_t g) {
    return s->k + g * d->slots * d->c.d_head;
}
static const float *v_rows(const decode_ctx *d, const decode_seq *s, size_t g) {
    return s->v + g * d->slots * d->c.d_head;
}

void decode_cache_store(const decode_ctx *d, decode_seq *s, size_t g, size_t rows, const float *k,
                        const float *v, size_t ld) {
    if (decode_format_on(d)) { decode_format_store(d, s, g, rows, k, v, ld); return; }
    const size_t dh = d->c.d_head;
    float *kg = s->k + g * d->slots * dh, *vg = s->v + g * d->slots * dh;
    size_t (*slot_of)(const decode_ctx *, const decode_seq *, size_t, size_t) = d->c.op->slot_of;
    for (size_t i = 0; i < rows; i++) {
        const size_t at = (slot_of ? slot_of(d, s, g, s->len + i) : s->len + i) * dh;
        memcpy(kg + at, k + i * ld + g * dh, dh * sizeof(float));
        memcpy(vg + at, v + i * ld + g * dh, dh * sizeof(float));
    }
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

void decode_cache_scores(const decode_ctx *d, const decode_seq *s, size_t g, size_t held,
                         const float *qe, size_t G, float scale, float *sc) {
    if (decode_format_on(d)) { decode_format_scores(d, s, g, held, qe, G, scale, sc); return; }
    score_rows(k_rows(d, s, g), held, d->c.d_head, qe, G, scale, sc);
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

void decode_cache_weighted(const decode_ctx *d, const decode_seq *s, size_t g, size_t held,
                           const float *p, size_t G, float *out, float *acc) {
    if (decode_format_on(d)) { decode_format_weighted(d, s, g, held, p, G, out); return; }
    weighted_rows(v_rows(d, s, g), held, d->c.d_head, p, G, out, acc);
}

void decode_cache_gather(const decode_ctx *d, const decode_seq *s, size_t g, const uint32_t *idx,
                         const float *w, size_t m, float *out) {
    if (decode_format_on(d)) { decode_format_gather(d, s, g, idx, w, m, out); return; }
    const size_t dh = d->c.d_head;
    const float *vg = v_rows(d, s, g);
    memset(out, 0, dh * sizeof(float));
    for (size_t x = 0; x < m; x++) axpy_row(out, dh, w[x], vg + (size_t)idx[x] * dh);
}

void decode_cache_move(const decode_ctx *d, const decode_seq *s, size_t g, size_t to, size_t from) {
    const size_t dh = d->c.d_head;
    float *kg = s->k + g * d->slots * dh, *vg = s->v + g * d->slots * dh;
    if (to == from) return;
    memcpy(kg + to * dh, kg + from * dh, dh * sizeof(float));
    memcpy(vg + to * dh, vg + from * dh, dh * sizeof(float));
}

/* decode_cache.c — the cache rows of a decode sequence (decode.h): K and V
 * of K/V head g in slots 0 .. slots-1 of (kv_heads, slots, d_head) float
 * arrays. Every write (a stored row) and every read of a row (the score
 * pass over K, the weighted pass over V, the gathered V rows of a
 * selection, a kept row moved by a policy's compaction) is here, so a
 * cache format (f16, q8_0, ...) is a change of this file: each function
 * hands a format other than f32 to decode_format.c, which dequantizes tiles
 * of rows and does the same.
 *
 * The reads run through the micro-kernel (decode_tile.h): the G query
 * heads of one K/V head against a range of slots, so K and V are read once
 * per group. decode_cache_attend is the step of exact attention and the
 * window (an online softmax over a range of slots: the framework splits the
 * held slots into blocks, decode.h); decode_cache_scores and
 * decode_cache_weighted are the two passes of a step that needs every
 * score at once (top-k's selection, an eviction policy's scores). */
#include "decode.h"
#include "decode_tile.h"
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

void decode_cache_scores(const decode_ctx *d, const decode_seq *s, size_t g, size_t held,
                         const float *qe, size_t G, float scale, float *sc) {
    if (decode_format_on(d)) { decode_format_scores(d, s, g, held, qe, G, scale, sc); return; }
    decode_tile_scores(k_rows(d, s, g), held, d->c.d_head, qe, G, scale, sc, held);
}

void decode_cache_weighted(const decode_ctx *d, const decode_seq *s, size_t g, size_t held,
                           const float *p, size_t G, float *out, float *acc) {
    if (decode_format_on(d)) { decode_format_weighted(d, s, g, held, p, G, out); return; }
    (void)acc;
    memset(out, 0, G * d->c.d_head * sizeof(float));
    decode_tile_weighted(v_rows(d, s, g), held, d->c.d_head, p, held, G, out);
}

/* A stored format (decode_format_attend) converts at most DECODE_TILE rows
 * of K and V at a time into float32 and runs the same micro-kernel. */
void decode_cache_attend(const decode_ctx *d, const decode_seq *s, size_t g, size_t j0, size_t j1,
                         const float *qe, size_t G, float scale, float *m, float *l, float *acc,
                         float *tile) {
    const size_t dh = d->c.d_head;
    if (decode_format_on(d)) { decode_format_attend(d, s, g, j0, j1, qe, G, scale, m, l, acc, tile); return; }
    decode_tile_attend(k_rows(d, s, g) + j0 * dh, v_rows(d, s, g) + j0 * dh, j1 - j0, dh, qe, G, scale, m, l,
                       acc, tile);
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
    if (to == from) return;
    if (decode_format_on(d)) { decode_format_move(d, s, g, to, from); return; }
    const size_t dh = d->c.d_head;
    float *kg = s->k + g * d->slots * dh, *vg = s->v + g * d->slots * dh;
    memcpy(kg + to * dh, kg + from * dh, dh * sizeof(float));
    memcpy(vg + to * dh, vg + from * dh, dh * sizeof(float));
}

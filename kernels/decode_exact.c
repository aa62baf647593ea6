/* decode_exact.c — exact attention as a decode step (decode.h): the query
 * heads of one K/V head against a block of held slots, an online softmax
 * through the micro-kernel (decode_attend_range: the framework splits the
 * slots into blocks and merges them); decode_attend_softmax is the same
 * step in two passes with every probability at once (an eviction policy's
 * scores). The entry of vanilla and chunked (rows record "exact"); the
 * window's step is the same over its ring of slots (the softmax does not
 * care where a key sits). */
#include "decode.h"
#include "decode_tile.h"
#include "methods.h"
#include "softmax.h"

#include <math.h>
#include <string.h>

size_t decode_all_slots(const decode_config *c) { return c->max_len; }

/* G slots scores + G d queries (G = heads / kv_heads) */
size_t decode_exact_scratch(const decode_config *c) {
    const size_t G = c->heads / c->kv_heads, slots = c->op->slots(c);
    return size_add_sat(size_mul_sat(G, slots), size_mul_sat(G, c->d_head));
}

double decode_exact_read_bytes(const decode_config *c, double held) {
    const double d = (double)c->d_head, kv = (double)c->kv_heads;
    return 4.0 * 2 * kv * held * d;
}

void decode_attend_softmax(const decode_ctx *d, const decode_seq *s, size_t u, const float *q,
                           float *out, float *scratch) {
    const size_t dh = d->c.d_head, G = decode_group(d), held = decode_held(d, s->len);
    float *sc = scratch, *qe = scratch + G * d->slots;
    decode_fold_queries(d, u, q, qe);
    decode_cache_scores(d, s, u, held, qe, G, 1.0f / sqrtf((float)dh), sc);
    for (size_t i = 0; i < G; i++) softmax_row(sc + i * held, held);
    decode_cache_weighted(d, s, u, held, sc, G, out, qe);
    for (size_t i = 0; i < G; i++) decode_embed_out(d, u * G + i, out + i * dh);
}

size_t decode_range_scratch(const decode_config *c) {
    return size_mul_sat(c->heads / c->kv_heads, size_add_sat(c->d_head, DECODE_TILE));
}

void decode_attend_range(const decode_ctx *d, const decode_seq *s, size_t u, const float *q, size_t j0,
                         size_t j1, float *part, float *scratch) {
    const size_t dh = d->c.d_head, G = decode_group(d);
    float *qe = scratch, *tile = scratch + G * dh, *acc = part, *m = part + G * dh, *l = m + G;
    decode_fold_queries(d, u, q, qe);
    memset(acc, 0, G * dh * sizeof(float));
    for (size_t i = 0; i < G; i++) { m[i] = -INFINITY; l[i] = 0; }
    decode_cache_attend(d, s, u, j0, j1, qe, G, 1.0f / sqrtf((float)dh), m, l, acc, tile);
}

const attn_decode decode_exact = {
    .name = "exact",
    .summary = "softmax over every held key (also --attention vanilla, chunked)",
    .knobs = 0,
    .resolve = resolve_none,
    .slots = decode_all_slots,
    .scratch_floats = decode_range_scratch,
    .attend_range = decode_attend_range,
    .read_bytes = decode_exact_read_bytes,
};

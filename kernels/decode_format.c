/* decode_format.c — a decode cache in a format other than f32 (kv_format.h):
 * what decode_cache.c dispatches to. Every read dequantizes a tile of rows
 * (at most TILE floats, on the stack) and runs the same arithmetic as the
 * f32 path on it; queries are never quantized.
 *
 * Layout per K/V head g (slots: the entry's rows per K/V head):
 *   row formats (f16, bf16, q8_0, q4_0): kf, vf (kv_heads, slots, row_bytes),
 *     the row of a position where the entry's slot_of puts it;
 *   kivi: positions 0 .. Q-1, Q = kivi_quantized(len), quantized: keys in
 *     groups of G tokens, kf (kv_heads, Qmax / G, key_group_bytes), values
 *     as rows, vf (kv_heads, Qmax, row_bytes), Qmax = kivi_quantized(max_len);
 *     positions Q .. len-1 in float32 in the ring s->k, s->v (kv_heads, ring,
 *     d), position j at slot j % ring, ring = min(max_len, R + G): the
 *     residual holds at most R + G - 1 tokens before a step, and the G
 *     oldest leave it as one key group once it holds R + G. kivi takes a
 *     growing cache at positions as they are (no slot_of). */
#include "decode.h"
#include "decode_tile.h"
#include "softmax.h"

#include <stdio.h>
#include <string.h>

enum { TILE = 8192 }; /* floats of the dequantized tile (32 KiB of stack) */

int decode_format_on(const decode_ctx *d) { return d->c.fmt && d->c.fmt != &kv_formats[0]; }

static int is_kivi(const decode_config *c) { return c->fmt && c->fmt->key_group_bytes; }

static size_t ring_of(const decode_config *c) {
    const size_t r = size_add_sat(c->kvp.residual, c->kvp.group);
    return r < c->max_len ? r : c->max_len;
}

int decode_format_check(const decode_config *c, size_t slots, char *why, size_t cap) {
    const kv_format *f = c->fmt;
    if (!f || f == &kv_formats[0]) return 0;
#define REFUSE(...) do { if (why && cap) snprintf(why, cap, __VA_ARGS__); return -1; } while (0)
    if (kv_format_check(f, c->d_head, &c->kvp, why, cap)) return -1;
    if (!slots) REFUSE("--attention %s holds no K/V cache: --kv-format %s does not apply", c->op->name, f->name);
    if (c->d_head > TILE) REFUSE("--kv-format %s: d_head %zu is more than %d", f->name, c->d_head, TILE);
    /* an eviction policy keeps scattered positions, kivi groups of consecutive ones */
    if (c->op->queries && is_kivi(c))
        REFUSE("--attention %s with --kv-format %s: kivi quantizes keys in groups of consecutive tokens, and an eviction policy keeps scattered ones",
               c->op->name, f->name);
    if (is_kivi(c)) {
        if (c->op->slot_of || slots != c->max_len)
            REFUSE("--kv-format %s quantizes groups of consecutive tokens: --attention %s re-places or bounds its cache",
                   f->name, c->op->name);
        if (size_mul_sat(c->kvp.group, c->d_head) > TILE)
            REFUSE("--kv-format %s: --kivi-group %zu x d_head %zu is more than %d", f->name, c->kvp.group, c->d_head, TILE);
    }
#undef REFUSE
    return 0;
}

/* the quantized positions at max_len (kivi) */
static size_t qmax_of(const decode_config *c) { return kivi_quantized(&c->kvp, c->max_len); }

size_t decode_kv_bytes(const decode_config *c, size_t slots) {
    const size_t kv = c->kv_heads, d = c->d_head;
    const kv_format *f = c->fmt ? c->fmt : &kv_formats[0];
    if (!is_kivi(c)) return size_mul_sat(2 * kv, size_mul_sat(slots, f->row_bytes(d, &c->kvp)));
    const size_t q = qmax_of(c), groups = q / c->kvp.group;
    size_t per = size_mul_sat(groups, f->key_group_bytes(d, &c->kvp));
    per = size_add_sat(per, size_mul_sat(q, f->row_bytes(d, &c->kvp)));
    per = size_add_sat(per, size_mul_sat(2 * sizeof(float), size_mul_sat(ring_of(c), d)));
    return size_mul_sat(kv, per);
}

double decode_format_bits(const decode_config *c, size_t slots, double held) {
    const double d = (double)c->d_head;
    const kv_format *f = c->fmt ? c->fmt : &kv_formats[0];
    if (!is_kivi(c)) return 8.0 * (double)f->row_bytes(c->d_head, &c->kvp) / d;
    (void)slots;
    if (!(held > 0)) return 32;
    const size_t h = (size_t)held, q = kivi_quantized(&c->kvp, h);
    const double bytes = (double)(q / c->kvp.group) * (double)f->key_group_bytes(c->d_head, &c->kvp) +
                         (double)q * (double)f->row_bytes(c->d_head, &c->kvp) + 8.0 * (double)(h - q) * d;
    return 8.0 * bytes / (2.0 * (double)h * d);
}

static void *alloc_or_none(workspace *ws, size_t bytes, int *bad) {
    if (!bytes) return NULL;
    void *p = ws_alloc(ws, bytes);
    if (!p) *bad = 1;
    return p;
}

int decode_format_alloc(const decode_ctx *d, decode_seq *s, workspace *ws) {
    const decode_config *c = &d->c;
    const size_t kv = c->kv_heads, dh = c->d_head;
    int bad = 0;
    if (!is_kivi(c)) {
        const size_t bytes = size_mul_sat(kv, size_mul_sat(d->slots, c->fmt->row_bytes(dh, &c->kvp)));
        s->kf = alloc_or_none(ws, bytes, &bad);
        s->vf = alloc_or_none(ws, bytes, &bad);
        return bad ? ATTN_ENOMEM : ATTN_OK;
    }
    const size_t q = qmax_of(c), ring = size_mul_sat(kv, size_mul_sat(ring_of(c), dh));
    s->kf = alloc_or_none(ws, size_mul_sat(kv, size_mul_sat(q / c->kvp.group, c->fmt->key_group_bytes(dh, &c->kvp))), &bad);
    s->vf = alloc_or_none(ws, size_mul_sat(kv, size_mul_sat(q, c->fmt->row_bytes(dh, &c->kvp))), &bad);
    s->k = alloc_or_none(ws, size_mul_sat(ring, sizeof(float)), &bad);
    s->v = alloc_or_none(ws, size_mul_sat(ring, sizeof(float)), &bad);
    return bad ? ATTN_ENOMEM : ATTN_OK;
}

/* ---- where a row is ------------------------------------------------------ */

static size_t row_bytes(const decode_ctx *d) { return d->c.fmt->row_bytes(d->c.d_head, &d->c.kvp); }

/* row formats: slot's K (or V) row of head g */
static unsigned char *row_at(const decode_ctx *d, unsigned char *base, size_t g, size_t slot) {
    return base + (g * d->slots + slot) * row_bytes(d);
}
/* kivi: the float32 residual row of position j, head g */
static float *ring_row(const decode_ctx *d, float *base, size_t g, size_t j) {
    const size_t ring = ring_of(&d->c);
    return base + (g * ring + j % ring) * d->c.d_head;
}
/* kivi: key group gi of head g; value row of quantized position j */
static unsigned char *kgroup_at(const decode_ctx *d, unsigned char *kf, size_t g, size_t gi) {
    const decode_config *c = &d->c;
    return kf + (g * (qmax_of(c) / c->kvp.group) + gi) * c->fmt->key_group_bytes(c->d_head, &c->kvp);
}
static unsigned char *vrow_at(const decode_ctx *d, unsigned char *vf, size_t g, size_t j) {
    return vf + (g * qmax_of(&d->c) + j) * row_bytes(d);
}

/* rows j0 .. j0 + rows - 1 of K (key 1) or V of head g into tile (rows, d);
 * rows within one kivi group or the residual, at most TILE / d */
static void load_rows(const decode_ctx *d, const decode_seq *s, int key, size_t g, size_t j0, size_t rows, size_t q,
                      float *tile) {
    const decode_config *c = &d->c;
    const size_t dh = c->d_head;
    if (!is_kivi(c)) { /* slots, where slot_of put them: the passes run over slots, a head's consecutive */
        c->fmt->load_rows(row_at(d, key ? s->kf : s->vf, g, j0), rows, dh, &c->kvp, tile);
        return;
    }
    if (j0 >= q) {
        for (size_t r = 0; r < rows; r++) memcpy(tile + r * dh, ring_row(d, key ? s->k : s->v, g, j0 + r), dh * sizeof(float));
    } else if (key) {
        const size_t G = c->kvp.group;
        c->fmt->key_load(kgroup_at(d, s->kf, g, j0 / G), dh, &c->kvp, j0 % G, rows, tile);
    } else {
        c->fmt->load_rows(vrow_at(d, s->vf, g, j0), rows, dh, &c->kvp, tile);
    }
}

/* rows from j0 that load_rows takes at once, of held */
static size_t tile_rows(const decode_ctx *d, size_t j0, size_t held, size_t q) {
    const decode_config *c = &d->c;
    size_t r = TILE / c->d_head;
    if (is_kivi(c) && j0 < q) {
        const size_t left = c->kvp.group - j0 % c->kvp.group;
        if (r > left) r = left;
    }
    if (r > held - j0) r = held - j0;
    return r;
}

static size_t quantized_of(const decode_ctx *d, size_t len) {
    return is_kivi(&d->c) ? kivi_quantized(&d->c.kvp, len) : 0;
}

/* ---- the four passes --------------------------------------------------------- */

void decode_format_store(const decode_ctx *d, decode_seq *s, size_t g, size_t rows, const float *k,
                         const float *v, size_t ld) {
    const decode_config *c = &d->c;
    const size_t dh = c->d_head;
    size_t (*slot_of)(const decode_ctx *, const decode_seq *, size_t, size_t) = c->op->slot_of;
    for (size_t i = 0; i < rows; i++) {
        const size_t pos = s->len + i;
        const float *kr = k + i * ld + g * dh, *vr = v + i * ld + g * dh;
        if (!is_kivi(c)) {
            const size_t slot = slot_of ? slot_of(d, s, g, pos) : pos;
            c->fmt->store(kr, dh, &c->kvp, row_at(d, s->kf, g, slot));
            c->fmt->store(vr, dh, &c->kvp, row_at(d, s->vf, g, slot));
            continue;
        }
        memcpy(ring_row(d, s->k, g, pos), kr, dh * sizeof(float));
        memcpy(ring_row(d, s->v, g, pos), vr, dh * sizeof(float));
        const size_t q0 = kivi_quantized(&c->kvp, pos), q1 = kivi_quantized(&c->kvp, pos + 1), G = c->kvp.group;
        if (q1 == q0) continue;
        float tile[TILE]; /* the group's G keys, oldest first, out of the ring */
        for (size_t t = 0; t < G; t++) memcpy(tile + t * dh, ring_row(d, s->k, g, q0 + t), dh * sizeof(float));
        c->fmt->key_group_store(tile, dh, &c->kvp, kgroup_at(d, s->kf, g, q0 / G));
        for (size_t t = 0; t < G; t++) c->fmt->store(ring_row(d, s->v, g, q0 + t), dh, &c->kvp, vrow_at(d, s->vf, g, q0 + t));
    }
}

/* sc[i * ld + j0 + r] <- scale * qe_i . tile_r, as decode_cache.c's score pass */
static void tile_scores(const float *restrict tile, size_t rows, size_t d, const float *restrict qe, size_t G,
                        float scale, float *restrict sc, size_t ld, size_t j0) {
    enum { LANES = 16 };
    const size_t dv = d - d % LANES;
    for (size_t r = 0; r < rows; r++)
        for (size_t i = 0; i < G; i++) {
            const float *q = qe + i * d, *kr = tile + r * d;
            float acc[LANES] = {0}, t = 0;
            for (size_t c = 0; c < dv; c += LANES)
                for (size_t l = 0; l < LANES; l++) acc[l] += kr[c + l] * q[c + l];
            for (size_t l = 0; l < LANES; l++) t += acc[l];
            for (size_t c = dv; c < d; c++) t += kr[c] * q[c];
            sc[i * ld + j0 + r] = scale * t;
        }
}

void decode_format_scores(const decode_ctx *d, const decode_seq *s, size_t g, size_t held,
                          const float *qe, size_t G, float scale, float *sc) {
    const size_t dh = d->c.d_head, q = quantized_of(d, s->len);
    float tile[TILE];
    for (size_t j = 0; j < held;) {
        const size_t rows = tile_rows(d, j, held, q);
        load_rows(d, s, 1, g, j, rows, q, tile);
        tile_scores(tile, rows, dh, qe, G, scale, sc, held, j);
        j += rows;
    }
}

void decode_format_weighted(const decode_ctx *d, const decode_seq *s, size_t g, size_t held,
                            const float *p, size_t G, float *out) {
    const size_t dh = d->c.d_head, q = quantized_of(d, s->len);
    float tile[TILE];
    memset(out, 0, G * dh * sizeof(float));
    for (size_t j = 0; j < held;) {
        const size_t rows = tile_rows(d, j, held, q);
        load_rows(d, s, 0, g, j, rows, q, tile);
        for (size_t r = 0; r < rows; r++)
            for (size_t i = 0; i < G; i++) axpy_row(out + i * dh, dh, p[i * held + j + r], tile + r * dh);
        j += rows;
    }
}

void decode_format_gather(const decode_ctx *d, const decode_seq *s, size_t g, const uint32_t *idx,
                          const float *w, size_t m, float *out) {
    const size_t dh = d->c.d_head, q = quantized_of(d, s->len);
    float row[TILE];
    memset(out, 0, dh * sizeof(float));
    for (size_t x = 0; x < m; x++) {
        load_rows(d, s, 0, g, idx[x], 1, q, row);
        axpy_row(out, dh, w[x], row);
    }
}

/* rows j0 .. j1 - 1 of K/V head g through the micro-kernel's online softmax:
 * a row format the micro-kernel reads as stored (decode_tile_stored_ok)
 * in place; otherwise (kivi, no AVX-512, d not a multiple of 32) the
 * decode_tile_attend steps over rows dequantized at most DECODE_TILE at a
 * time into one buffer, the keys then the values (at d 64: 32 KiB, in L1) */
void decode_format_attend(const decode_ctx *d, const decode_seq *s, size_t g, size_t j0, size_t j1,
                          const float *qe, size_t G, float scale, float *m, float *l, float *acc, float *tile) {
    float rows[TILE];
    const size_t dh = d->c.d_head, q = quantized_of(d, s->len);
    const int stored = d->c.fmt->stored;
    if (!is_kivi(&d->c) && decode_tile_stored_ok(stored, dh)) {
        decode_tile_attend_stored(stored, row_at(d, s->kf, g, j0), row_at(d, s->vf, g, j0), row_bytes(d), j1 - j0, dh,
                                  qe, G, scale, m, l, acc, tile, rows);
        return;
    }
    for (size_t j = j0; j < j1;) {
        size_t r = tile_rows(d, j, j1, q);
        if (r > DECODE_TILE) r = DECODE_TILE;
        load_rows(d, s, 1, g, j, r, q, rows);
        decode_tile_scores(rows, r, dh, qe, G, scale, tile, DECODE_TILE);
        decode_tile_softmax(tile, r, dh, G, m, l, acc);
        load_rows(d, s, 0, g, j, r, q, rows);
        decode_tile_weighted(rows, r, dh, tile, DECODE_TILE, G, acc);
        j += r;
    }
}

/* the stored K and V rows of slot `from` copied to slot `to`, K/V head g
 * (decode_cache_move: an eviction policy compacting what it keeps; row
 * formats only, decode_format_check refuses kivi with a policy) */
void decode_format_move(const decode_ctx *d, const decode_seq *s, size_t g, size_t to, size_t from) {
    const size_t b = row_bytes(d);
    memcpy(row_at(d, s->kf, g, to), row_at(d, s->kf, g, from), b);
    memcpy(row_at(d, s->vf, g, to), row_at(d, s->vf, g, from), b);
}

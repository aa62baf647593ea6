/* kv_kivi.c — KIVI's quantized cache (Liu et al., "KIVI: A Tuning-Free
 * Asymmetric 2bit Quantization for KV Cache", 2024; kv_format.h): keys per
 * channel over groups of G tokens, values per token over groups of
 * b = min(G, d) channels, `bits` (2 or 4) each, asymmetric: a group's min
 * m and scale s = (max - m) / (2^bits - 1) stored as fp16 (m', s'),
 * q = clamp(floor((x - m') / s' + 1/2), 0, 2^bits - 1), x' = q s' + m'
 * (float32, division as written: tests/gen_kivi_golden.py does the same in
 * NumPy). A group with s' = 0 stores q = 0 (x' = m').
 *
 * Layouts (codes packed from bit 0 of byte 0 up, value i at bits i*bits):
 *   a value row:  per channel group [m' | s' | b codes]   d/b (4 + b bits/8) bytes
 *   a key group:  [d mins m' | d scales s' | G d codes, token-major]
 *                                                        4 d + G d bits/8 bytes
 * Which tokens are quantized, and the float32 residual of the others, is
 * the cache's (kivi_quantized, decode_format.c). */
#include "kv_format.h"

#include <math.h>
#include <string.h>

static size_t vblock(size_t d, const kv_params *p) { return p->group < d ? p->group : d; }

/* m', s' of count values x[i * xs], stored at pm, ps */
static void group_params(const float *x, size_t count, size_t xs, unsigned bits, unsigned char *pm, unsigned char *ps) {
    float mn = x[0], mx = x[0];
    for (size_t i = 1; i < count; i++) {
        mn = fminf(mn, x[i * xs]);
        mx = fmaxf(mx, x[i * xs]);
    }
    kv_put_half(pm, mn);
    kv_put_half(ps, (mx - mn) / (float)((1u << bits) - 1));
}

static unsigned code_of(float x, float m, float s, unsigned bits) {
    if (!(s > 0)) return 0;
    const float q = floorf((x - m) / s + 0.5f), top = (float)((1u << bits) - 1);
    return q < 0 ? 0 : q > top ? (unsigned)top : (unsigned)q;
}

static void put_code(unsigned char *codes, size_t i, unsigned bits, unsigned q) {
    codes[i * bits / 8] |= (unsigned char)(q << (i * bits % 8));
}

static unsigned get_code(const unsigned char *codes, size_t i, unsigned bits) {
    return (codes[i * bits / 8] >> (i * bits % 8)) & ((1u << bits) - 1);
}

size_t kivi_row_bytes(size_t d, const kv_params *p) {
    const size_t b = vblock(d, p);
    if (!d || !b || d % b || b * p->bits % 8) return 0;
    return d / b * (4 + b * p->bits / 8);
}

void kivi_row_store(const float *x, size_t d, const kv_params *p, void *dst) {
    const size_t b = vblock(d, p), cb = b * p->bits / 8;
    unsigned char *o = dst;
    for (size_t i = 0; i < d; i += b, o += 4 + cb) {
        group_params(x + i, b, 1, p->bits, o, o + 2);
        const float m = kv_get_half(o), s = kv_get_half(o + 2);
        memset(o + 4, 0, cb);
        for (size_t j = 0; j < b; j++) put_code(o + 4, j, p->bits, code_of(x[i + j], m, s, p->bits));
    }
}

void kivi_row_load(const void *src, size_t d, const kv_params *p, float *x) {
    const size_t b = vblock(d, p), cb = b * p->bits / 8;
    const unsigned char *o = src;
    for (size_t i = 0; i < d; i += b, o += 4 + cb) {
        const float m = kv_get_half(o), s = kv_get_half(o + 2);
        for (size_t j = 0; j < b; j++) x[i + j] = (float)get_code(o + 4, j, p->bits) * s + m;
    }
}

size_t kivi_key_group_bytes(size_t d, const kv_params *p) {
    const size_t G = p->group;
    if (!d || !G || G * d * p->bits % 8) return 0;
    return 4 * d + G * d * p->bits / 8;
}

void kivi_key_group_store(const float *x, size_t d, const kv_params *p, void *dst) {
    const size_t G = p->group;
    unsigned char *o = dst, *codes = o + 4 * d;
    memset(codes, 0, G * d * p->bits / 8);
    for (size_t c = 0; c < d; c++) {
        group_params(x + c, G, d, p->bits, o + 2 * c, o + 2 * (d + c));
        const float m = kv_get_half(o + 2 * c), s = kv_get_half(o + 2 * (d + c));
        for (size_t t = 0; t < G; t++) put_code(codes, t * d + c, p->bits, code_of(x[t * d + c], m, s, p->bits));
    }
}

void kivi_key_load(const void *src, size_t d, const kv_params *p, size_t t0, size_t rows, float *x) {
    if (kivi_key_rows_simd(src, d, p, t0, rows, x)) return;
    const unsigned char *o = src, *codes = o + 4 * d;
    for (size_t c = 0; c < d; c++) {
        const float m = kv_get_half(o + 2 * c), s = kv_get_half(o + 2 * (d + c));
        for (size_t t = 0; t < rows; t++) x[t * d + c] = (float)get_code(codes, (t0 + t) * d + c, p->bits) * s + m;
    }
}

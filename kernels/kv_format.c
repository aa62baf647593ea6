/* kv_format.c — the cache formats (see kv_format.h): one row's store and
 * load per format, and the table. */
#include "kv_format.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- the formats ------------------------------------------------------------ */

static size_t f32_bytes(size_t d, const kv_params *p) { (void)p; return 4 * d; }
static void f32_store(const float *x, size_t d, const kv_params *p, void *dst) {
    (void)p; memcpy(dst, x, 4 * d); }
static void f32_load(const void *src, size_t d, const kv_params *p, float *x) {
    (void)p; memcpy(x, src, 4 * d); }

static size_t half_bytes(size_t d, const kv_params *p) { (void)p; return 2 * d; }
static void f16_store(const float *x, size_t d, const kv_params *p, void *dst) {
    (void)p;
    uint16_t *h = dst;
    for (size_t i = 0; i < d; i++) h[i] = kv_fp32_to_fp16(x[i]);
}
static void f16_load(const void *src, size_t d, const kv_params *p, float *x) {
    (void)p;
    const uint16_t *h = src;
    for (size_t i = 0; i < d; i++) x[i] = kv_fp16_to_fp32(h[i]);
}
static void bf16_store(const float *x, size_t d, const kv_params *p, void *dst) {
    (void)p;
    uint16_t *h = dst;
    for (size_t i = 0; i < d; i++) h[i] = kv_fp32_to_bf16(x[i]);
}
static void bf16_load(const void *src, size_t d, const kv_params *p, float *x) {
    (void)p;
    const uint16_t *h = src;
    for (size_t i = 0; i < d; i++) x[i] = kv_bf16_to_fp32(h[i]);
}

/* a block: the fp16 scale (2 bytes, unaligned), then the quants */

static size_t q8_0_bytes(size_t d, const kv_params *p) {
    (void)p;
    const size_t b = kv_block(d);
    return d && d % b == 0 ? d / b * (2 + b) : 0;
}
static void q8_0_store(const float *x, size_t d, const kv_params *kp, void *dst) {
    (void)kp;
    const size_t b = kv_block(d);
    unsigned char *p = dst;
    for (size_t i = 0; i < d; i += b, p += 2 + b) {
        float amax = 0;
        for (size_t j = 0; j < b; j++) amax = fmaxf(amax, fabsf(x[i + j]));
        const float s = amax / 127, id = s ? 1.0f / s : 0.0f;
        kv_put_half(p, s);
        for (size_t j = 0; j < b; j++) p[2 + j] = (unsigned char)(int8_t)roundf(x[i + j] * id);
    }
}
static void q8_0_load(const void *src, size_t d, const kv_params *kp, float *x) {
    (void)kp;
    const size_t b = kv_block(d);
    const unsigned char *p = src;
    for (size_t i = 0; i < d; i += b, p += 2 + b) {
        const float s = kv_get_half(p);
        for (size_t j = 0; j < b; j++) x[i + j] = (float)(int8_t)p[2 + j] * s;
    }
}

static size_t q4_0_bytes(size_t d, const kv_params *p) {
    (void)p;
    const size_t b = kv_block(d);
    return d && d % b == 0 && b % 2 == 0 ? d / b * (2 + b / 2) : 0;
}
static void q4_0_store(const float *x, size_t d, const kv_params *kp, void *dst) {
    (void)kp;
    const size_t b = kv_block(d);
    unsigned char *p = dst;
    for (size_t i = 0; i < d; i += b, p += 2 + b / 2) {
        float amax = 0, m = 0; /* the value of largest magnitude, the first on a tie */
        for (size_t j = 0; j < b; j++)
            if (amax < fabsf(x[i + j])) amax = fabsf(x[i + j]), m = x[i + j];
        const float s = m / -8, id = s ? 1.0f / s : 0.0f;
        kv_put_half(p, s);
        for (size_t j = 0; j < b / 2; j++) {
            const int lo = (int8_t)(x[i + j] * id + 8.5f), hi = (int8_t)(x[i + b / 2 + j] * id + 8.5f);
            p[2 + j] = (unsigned char)((lo < 15 ? lo : 15) | (hi < 15 ? hi : 15) << 4);
        }
    }
}
static void q4_0_load(const void *src, size_t d, const kv_params *kp, float *x) {
    (void)kp;
    const size_t b = kv_block(d);
    const unsigned char *p = src;
    for (size_t i = 0; i < d; i += b, p += 2 + b / 2) {
        const float s = kv_get_half(p);
        for (size_t j = 0; j < b / 2; j++) {
            x[i + j] = (float)((p[2 + j] & 15) - 8) * s;
            x[i + b / 2 + j] = (float)((p[2 + j] >> 4) - 8) * s;
        }
    }
}

/* One line per format: name, summary, row bytes, store, load, the stated error
 * (relative to the value, and to the block's largest magnitude: half a step of
 * the scale, and the fp16 scale's own rounding). */
const kv_format kv_formats[] = {
    {"f32", "float32, as computed (the reference)", f32_bytes, f32_store, f32_load, kv_rows_f32, 0, 0, NULL, NULL, NULL, KV_STORED_F32},
    {"f16", "IEEE half, round to nearest even", half_bytes, f16_store, f16_load, kv_rows_f16, 0x1p-11, 0, NULL, NULL, NULL, KV_STORED_F16},
    {"bf16", "bfloat16 (the float32's top half), round to nearest even", half_bytes, bf16_store, bf16_load, kv_rows_bf16, 0x1p-8, 0, NULL, NULL, NULL, KV_STORED_BF16},
    {"q8_0", "llama.cpp q8_0: blocks of min(32, d_head), fp16 scale, int8 (8.5 bits a value at 32)", q8_0_bytes, q8_0_store, q8_0_load, kv_rows_q8_0, 0x1p-10, 0.5 / 127 * 1.001, NULL, NULL, NULL, KV_STORED_Q8_0},
    {"q4_0", "llama.cpp q4_0: blocks of min(32, d_head), fp16 scale, 4-bit (4.5 bits a value at 32)", q4_0_bytes, q4_0_store, q4_0_load, kv_rows_q4_0, 0x1p-10, 1.0 / 8 * 1.001 + 0x1p-10, NULL, NULL, NULL, KV_STORED_Q4_0},
    {"kivi", "KIVI: --bits 2|4, keys per channel over --kivi-group tokens, values per token, the --residual most recent in f32",
     kivi_row_bytes, kivi_row_store, kivi_row_load, kivi_rows_load, 0x1p-10, 0, kivi_key_group_bytes, kivi_key_group_store, kivi_key_load, KV_STORED_NONE},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, KV_STORED_NONE},
};

const kv_format *kv_format_find(const char *name) {
    for (const kv_format *f = kv_formats; f->name; f++)
        if (!strcmp(f->name, name)) return f;
    return NULL;
}

const kv_params kv_params_default = {4, 32, 128};

int kv_format_check(const kv_format *f, size_t d, const kv_params *p, char *why, size_t cap) {
    if (f->key_group_bytes) {
        if (p->bits != 2 && p->bits != 4) {
            if (why && cap) snprintf(why, cap, "--bits %u: --kv-format %s takes 2 or 4", p->bits, f->name);
            return -1;
        }
        if (!p->group || !f->key_group_bytes(d, p) || !f->row_bytes(d, p)) {
            if (why && cap)
                snprintf(why, cap, "--kv-format %s: --kivi-group %zu must be at least 1 and min(group, d_head %zu) divide d_head", f->name,
                         p->group, d);
            return -1;
        }
        return 0;
    }
    if (f->row_bytes(d, p)) return 0;
    if (why && cap)
        snprintf(why, cap, "--kv-format %s stores rows in blocks of min(32, d_head) values (even for 4-bit): d_head %zu is not a multiple",
                 f->name, d);
    return -1;
}

double kv_format_bits(const kv_format *f, size_t d, const kv_params *p) {
    return d ? 8.0 * (double)f->row_bytes(d, p) / (double)d : 0;
}

size_t kv_format_block(const kv_format *f, size_t d, const kv_params *p) {
    return f->key_group_bytes ? (p->group < d ? p->group : d) : kv_block(d);
}

double kv_format_tol_block(const kv_format *f, const kv_params *p) {
    return f->key_group_bytes ? 1.0 / ((1u << p->bits) - 1) * 1.001 + 0x1p-9 : f->tol_block;
}

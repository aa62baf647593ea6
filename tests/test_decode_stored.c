/* test_decode_stored.c — decode's micro-kernel over rows as a format
 * stores them (decode_tile_attend_stored: f16, bf16, q8_0 and q4_0 read
 * and dequantized in registers) gives the same running max, sum and
 * output, bit for bit, as decode_tile_attend over the same rows
 * dequantized by the format's load_rows first: over 1 to 4 tiles with
 * tails of every length class (n 1, 15, 16, 17, 130, 300), query groups of
 * 1 to 8 (the 4-, 2- and 1-query blocks and their remainders), heads of
 * 16 (f16, bf16), 32, 64, 96 and 128, and a second call continuing the
 * first's softmax. The rows are quantized from random normal floats of
 * std 4, so the scales are what a cache holds. Where the kernel cannot
 * read a format in place (no AVX-512; q8_0 and q4_0 at d not a multiple
 * of 32) decode_tile_stored_ok says so, and that is checked instead. */
#include "check.h"
#include "decode_tile.h"
#include "kv_format.h"

#include <math.h>

static int same(float a, float b) {
    uint32_t x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    return x == y;
}

/* count of differing floats of a and b (n each) */
static size_t differ(const float *a, const float *b, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += !same(a[i], b[i]);
    return bad;
}

/* n rows of d quantized by f from normal floats: (n, row bytes) */
static unsigned char *stored_rows(const kv_format *f, size_t n, size_t d, const kv_params *kp) {
    const size_t rb = f->row_bytes(d, kp);
    unsigned char *s = malloc(n * rb);
    float *x = malloc(d * sizeof(float));
    for (size_t j = 0; j < n; j++) {
        test_fill(x, d, 4.0);
        f->store(x, d, kp, s + j * rb);
    }
    free(x);
    return s;
}

typedef struct {
    float *m, *l, *acc;
} state;

static state state_new(size_t G, size_t d) {
    state s = {malloc(G * sizeof(float)), malloc(G * sizeof(float)), calloc(G * d, sizeof(float))};
    for (size_t i = 0; i < G; i++) s.m[i] = -INFINITY, s.l[i] = 0;
    return s;
}

static void state_free(state s) {
    free(s.m);
    free(s.l);
    free(s.acc);
}

/* one format, head size, context and group: two calls (rows [0, n/2) and
 * [n/2, n)) each way */
static void check_case(const kv_format *f, size_t d, size_t n, size_t G) {
    const kv_params kp = kv_params_default;
    const size_t rb = f->row_bytes(d, &kp);
    unsigned char *K = stored_rows(f, n, d, &kp), *V = stored_rows(f, n, d, &kp);
    float *Kf = malloc(n * d * sizeof(float)), *Vf = malloc(n * d * sizeof(float)), *qe = malloc(G * d * sizeof(float));
    float *tile = malloc(G * DECODE_TILE * sizeof(float)), *rest = malloc(16 * d * sizeof(float));
    f->load_rows(K, n, d, &kp, Kf);
    f->load_rows(V, n, d, &kp, Vf);
    test_fill(qe, G * d, 1.0);
    const float scale = 1.0f / sqrtf((float)d);
    state got = state_new(G, d), want = state_new(G, d);
    const size_t half = n / 2;
    const size_t from[2] = {0, half}, to[2] = {half, n};
    for (int c = 0; c < 2; c++) {
        const size_t j0 = from[c], m = to[c] - from[c];
        if (!m) continue;
        decode_tile_attend_stored(f->stored, K + j0 * rb, V + j0 * rb, rb, m, d, qe, G, scale, got.m, got.l, got.acc,
                                  tile, rest);
        decode_tile_attend(Kf + j0 * d, Vf + j0 * d, m, d, qe, G, scale, want.m, want.l, want.acc, tile);
    }
    const size_t bad = differ(got.m, want.m, G) + differ(got.l, want.l, G) + differ(got.acc, want.acc, G * d);
    CHECK(!bad, "%s d %zu, n %zu, G %zu: %zu of the max, sum and output differ from the dequantized rows' (acc[0] %g against %g)",
          f->name, d, n, G, bad, got.acc[0], want.acc[0]);
    CHECK(isfinite(got.l[0]) && got.l[0] > 0, "%s d %zu n %zu: a sum of %g", f->name, d, n, got.l[0]);
    state_free(got);
    state_free(want);
    free(K), free(V), free(Kf), free(Vf), free(qe), free(tile), free(rest);
}

int main(void) {
    const size_t ds[] = {16, 32, 64, 96, 128}, ns[] = {1, 15, 16, 17, 130, 300}, gs[] = {1, 2, 3, 4, 5, 8};
    const char *names[] = {"f16", "bf16", "q8_0", "q4_0"};
    size_t cases = 0;
    for (size_t fi = 0; fi < 4; fi++) {
        const kv_format *f = kv_format_find(names[fi]);
        CHECK(f && f->stored != KV_STORED_NONE, "%s: read in place", names[fi]);
        if (!f) continue;
        for (size_t di = 0; di < sizeof ds / sizeof ds[0]; di++) {
            const size_t d = ds[di];
#if defined(__AVX512F__)
            const int quantized = f->stored == KV_STORED_Q8_0 || f->stored == KV_STORED_Q4_0;
            const int can = quantized ? d % 32 == 0 : 1;
#else
            const int can = 0;
#endif
            CHECK(decode_tile_stored_ok(f->stored, d) == can, "%s d %zu: stored_ok %d, expected %d", f->name, d,
                  decode_tile_stored_ok(f->stored, d), can);
            if (!can) continue;
            for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
                for (size_t gi = 0; gi < sizeof gs / sizeof gs[0]; gi++, cases++) check_case(f, d, ns[ni], gs[gi]);
        }
    }
    CHECK(kv_format_find("kivi")->stored == KV_STORED_NONE, "kivi is dequantized first");
    printf("note: %zu cases read in place\n", cases);
    return check_summary("test_decode_stored");
}

/* test_kv_rows.c — every format's bulk loader (load_rows, kv_rows.c: AVX-512
 * under -march=native, the portable loops otherwise) gives the same floats,
 * bit for bit, as its one-row load, on random bytes: rows of d_head 8, 16,
 * 48, 64, 128 (where the format stores them), runs of 1, 3, 7 and 17 rows
 * (f16 and bf16: 17 x 8 = 136 values, not a multiple of the 16 lanes), and
 * kivi at 2 and 4 bits with value groups of 8, 16, 32 and d; and kivi's key
 * groups (key_load, vectorised at d % 16 == 0) against the formula. Random
 * bytes hit every code, sign and exponent, subnormal and NaN scales: two
 * NaNs count as equal (the conversion may quiet a signalling one). */
#include "check.h"
#include "kv_format.h"

static int same(float a, float b) {
    uint32_t x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    return x == y || (isnan(a) && isnan(b));
}

static unsigned char *random_bytes(size_t n) {
    unsigned char *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)test_rand64();
    return p;
}

/* load_rows of `rows` rows against load, row by row */
static void check_rows(const kv_format *f, size_t d, const kv_params *kp, size_t rows) {
    const size_t rb = f->row_bytes(d, kp);
    unsigned char *src = random_bytes(rows * rb);
    float *got = malloc(rows * d * sizeof(float)), *want = malloc(rows * d * sizeof(float));
    f->load_rows(src, rows, d, kp, got);
    for (size_t r = 0; r < rows; r++) f->load(src + r * rb, d, kp, want + r * d);
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < rows * d; i++)
        if (!same(got[i], want[i]) && !bad++) first = i;
    char knobs[64] = "";
    if (f->key_group_bytes) snprintf(knobs, sizeof knobs, " (bits %u, group %zu)", kp->bits, kp->group);
    CHECK(!bad, "%s d %zu%s, %zu rows: %zu values differ, the first %zu: %g, one row at a time %g", f->name, d, knobs, rows, bad,
          first, got[first], want[first]);
    free(src);
    free(got);
    free(want);
}

static void test_rows(void) {
    const size_t ds[] = {8, 16, 48, 64, 128}, counts[] = {1, 3, 7, 17}, groups[] = {8, 16, 32, 128};
    const unsigned bits[] = {2, 4};
    size_t checked = 0;
    for (const kv_format *f = kv_formats; f->name; f++)
        for (size_t di = 0; di < sizeof ds / sizeof ds[0]; di++)
            for (size_t gi = 0; gi < (f->key_group_bytes ? sizeof groups / sizeof groups[0] : 1); gi++)
                for (size_t bi = 0; bi < (f->key_group_bytes ? 2u : 1u); bi++) {
                    const kv_params kp = {bits[bi], groups[gi], 0};
                    if (kv_format_check(f, ds[di], &kp, NULL, 0) || !f->row_bytes(ds[di], &kp)) continue;
                    for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++, checked++) check_rows(f, ds[di], &kp, counts[ci]);
                }
    /* f16 bf16 q8_0 q4_0 at the five heads (q8_0 and q4_0 not at 48), kivi: more */
    CHECK(checked >= 4 * 17, "%zu runs checked", checked);
}

/* kivi's key groups: key_load of rows t0 .. t0 + rows - 1 against
 * q s' + m' of each channel, codes token-major from bit 0 */
static void test_keys(void) {
    const kv_format *f = kv_format_find("kivi");
    const size_t ds[] = {8, 16, 48, 64, 128};
    for (unsigned bits = 2; bits <= 4; bits += 2)
        for (size_t di = 0; di < sizeof ds / sizeof ds[0]; di++) {
            const size_t d = ds[di], G = 32, t0 = 5, rows = 19;
            const kv_params kp = {bits, G, 0};
            unsigned char *src = random_bytes(f->key_group_bytes(d, &kp));
            float *got = malloc(rows * d * sizeof(float));
            f->key_load(src, d, &kp, t0, rows, got);
            size_t bad = 0;
            for (size_t t = 0; t < rows; t++)
                for (size_t c = 0; c < d; c++) {
                    const size_t i = (t0 + t) * d + c;
                    const unsigned q = (src[4 * d + i * bits / 8] >> (i * bits % 8)) & ((1u << bits) - 1);
                    const float want = (float)q * kv_get_half(src + 2 * (d + c)) + kv_get_half(src + 2 * c);
                    bad += !same(got[t * d + c], want);
                }
            CHECK(!bad, "kivi %u-bit keys of d %zu, rows %zu.. %zu: %zu values differ from q s' + m'", bits, d, t0, t0 + rows - 1, bad);
            free(src);
            free(got);
        }
}

int main(void) {
    test_rows();
    test_keys();
    return check_summary("test_kv_rows");
}

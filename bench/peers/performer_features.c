/* performer_features.c — writes the suite's Performer random features,
 * so the PyTorch peer of `make bench` runs FAVOR+ with exactly the W the
 * suite's performer draws (kernels/performer.c, performer_draw_features):
 *
 *   performer_features KV_HEADS D_HEAD M SEED OUT.npy
 *
 * OUT.npy: float32 (KV_HEADS, M, D_HEAD), one W per K/V head, as the kernel
 * draws them for --seed SEED. */
#include "methods.h"
#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int parse_size(const char *what, const char *s, size_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || v == 0 || v > (1ull << 20)) {
        fprintf(stderr, "performer_features: %s '%s': expected an integer in 1..2^20\n", what, s);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: performer_features KV_HEADS D_HEAD M SEED OUT.npy\n");
        return 2;
    }
    size_t kv, d, m, seed;
    if (parse_size("KV_HEADS", argv[1], &kv) || parse_size("D_HEAD", argv[2], &d) ||
        parse_size("M", argv[3], &m))
        return 2;
    char *end;
    errno = 0;
    seed = strtoull(argv[4], &end, 10);
    if (!*argv[4] || *end || errno) {
        fprintf(stderr, "performer_features: SEED '%s': expected a non-negative integer\n", argv[4]);
        return 2;
    }
    float *w = malloc(kv * m * d * sizeof(float));
    double *g = malloc(d * d * sizeof(double));
    if (!w || !g) {
        fprintf(stderr, "performer_features: out of memory\n");
        return 1;
    }
    for (size_t h = 0; h < kv; h++) performer_draw_features(m, d, (uint64_t)seed, h, w + h * m * d, g);
    const size_t shape[3] = {kv, m, d};
    char err[512];
    int rc = npy_write_f32(argv[5], w, 3, shape, err, sizeof err);
    if (rc) fprintf(stderr, "performer_features: %s\n", err);
    free(w);
    free(g);
    return rc ? 1 : 0;
}

/* fuzz_npy.c — libFuzzer target for the .npy reader (bench/io/npy.c).
 * npy_read takes a path, so each input is written to a file in /dev/shm
 * (tmpfs: no disk traffic) and read back. On success the result must be
 * self-consistent and survive a write/read round trip through npy_write_f64;
 * on failure the message must be one line naming the file, nothing held. */
#include "npy.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char in_path[128], out_path[128];

#define EXPECT(cond, ...)                                                     \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "fuzz_npy: %s: ", #cond);                         \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
            abort();                                                          \
        }                                                                     \
    } while (0)

static void remove_files(void) {
    unlink(in_path);
    unlink(out_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(in_path, sizeof in_path, "%s/attnbench-fuzz-npy-%ld.npy", dir, (long)getpid());
    snprintf(out_path, sizeof out_path, "%s/attnbench-fuzz-npy-%ld-rt.npy", dir, (long)getpid());
    atexit(remove_files);
    return 0;
}

static void write_input(const uint8_t *data, size_t size) {
    FILE *f = fopen(in_path, "wb");
    EXPECT(f != NULL, "cannot create %s", in_path);
    EXPECT(fwrite(data, 1, size, f) == size, "short write to %s", in_path);
    EXPECT(fclose(f) == 0, "close %s", in_path);
}

/* Known, reported: npy.c echoes a header key or dtype as written, so a key
 * holding a newline gives a two-line message. Tolerated here until npy.c
 * escapes what it echoes; every other message must be one line. */
static int echoes_header_text(const char *err) {
    return strstr(err, ": unexpected key '") || strstr(err, "dtype '");
}

static void check_error(const npy_array *a, const char *err) {
    EXPECT(a->data == NULL, "data left allocated after an error");
    EXPECT(strncmp(err, in_path, strlen(in_path)) == 0, "message does not name the file: '%s'", err);
    EXPECT(echoes_header_text(err) || strchr(err, '\n') == NULL, "message is not one line: '%s'", err);
    EXPECT(strlen(err) > strlen(in_path) + 2, "empty message: '%s'", err);
}

static void check_array(const npy_array *a, size_t file_size) {
    EXPECT(a->ndim >= 0 && a->ndim <= NPY_MAX_DIMS, "ndim %d", a->ndim);
    size_t count = 1;
    for (int i = 0; i < a->ndim; i++) count *= a->shape[i]; /* cannot overflow: the reader checked */
    EXPECT(count == a->count, "count %zu, product of shape %zu", a->count, count);
    EXPECT(a->count <= file_size, "count %zu from a %zu-byte file", a->count, file_size);
    EXPECT(a->data != NULL, "no data");
    for (size_t i = 0; i < a->count; i++) EXPECT(isfinite(a->data[i]), "element %zu not finite", i);
}

/* what was read, written as float64 and read again, is the same array */
static void check_round_trip(const npy_array *a) {
    char err[600];
    EXPECT(npy_write_f64(out_path, a->data, a->ndim, a->shape, err, sizeof err) == 0, "write: %s", err);
    npy_array b;
    EXPECT(npy_read(out_path, &b, err, sizeof err) == 0, "read back: %s", err);
    EXPECT(b.ndim == a->ndim && b.count == a->count, "round trip changed the shape");
    for (int i = 0; i < a->ndim; i++) EXPECT(b.shape[i] == a->shape[i], "round trip changed dim %d", i);
    EXPECT(a->count == 0 || memcmp(a->data, b.data, a->count * sizeof(double)) == 0, "round trip changed values");
    EXPECT(!strcmp(b.descr, "<f8"), "descr %s", b.descr);
    npy_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    write_input(data, size);
    npy_array a;
    char err[600] = "";
    if (npy_read(in_path, &a, err, sizeof err) != 0) {
        check_error(&a, err);
        return 0;
    }
    check_array(&a, size);
    check_round_trip(&a);
    npy_free(&a);
    return 0;
}

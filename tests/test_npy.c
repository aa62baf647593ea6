/* test_npy.c — the .npy reader and writer: round trips, format 2.0, and
 * every way a file can lie (bad magic, truncated, trailing bytes, big-endian,
 * Fortran order, huge header, overflowing shape, NaN and Inf). */
#include "check.h"
#include "npy.h"

#include <unistd.h>

static char dir[] = "/tmp/attnbench-npy-XXXXXX";

static const char *path_of(const char *name) {
    static char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

/* writes a file from a raw header dict and `data_bytes` bytes of data */
static void write_raw(const char *name, int major, const char *dict, const void *data, size_t data_bytes) {
    FILE *f = fopen(path_of(name), "wb");
    size_t hlen = strlen(dict);
    fwrite("\x93NUMPY", 1, 6, f);
    fputc(major, f); fputc(0, f);
    if (major == 1) { fputc((int)(hlen & 0xff), f); fputc((int)(hlen >> 8), f); }
    else for (int i = 0; i < 4; i++) fputc((int)((hlen >> (8 * i)) & 0xff), f);
    fwrite(dict, 1, hlen, f);
    if (data_bytes) fwrite(data, 1, data_bytes, f);
    fclose(f);
}

/* expect the read to fail with a message containing `want` */
static void expect_error(const char *name, const char *want) {
    npy_array a;
    char err[600] = "";
    int rc = npy_read(path_of(name), &a, err, sizeof err);
    CHECK(rc == -1, "%s: read should fail", name);
    CHECK(strstr(err, want) != NULL, "%s: message '%s' lacks '%s'", name, err, want);
    CHECK(strstr(err, name) != NULL, "%s: message '%s' does not name the file", name, err);
    CHECK(a.data == NULL, "%s: data left allocated after an error", name);
}

int main(void) {
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char err[600];

    /* round trip float32 and float64, 3-D and 1-D */
    float f[2 * 3 * 5];
    for (int i = 0; i < 30; i++) f[i] = (float)(i * 0.25 - 3);
    size_t shape[3] = {2, 3, 5};
    CHECK(npy_write_f32(path_of("f.npy"), f, 3, shape, err, sizeof err) == 0, "%s", err);
    npy_array a;
    CHECK(npy_read(path_of("f.npy"), &a, err, sizeof err) == 0, "%s", err);
    CHECK(a.ndim == 3 && a.shape[0] == 2 && a.shape[1] == 3 && a.shape[2] == 5 && a.count == 30, "shape");
    CHECK(!strcmp(a.descr, "<f4"), "descr %s", a.descr);
    for (int i = 0; i < 30; i++) CHECK(a.data[i] == f[i], "value %d", i);
    npy_free(&a);
    /* the data starts on a 64-byte boundary, as NumPy writes it */
    FILE *fp = fopen(path_of("f.npy"), "rb");
    fseek(fp, 0, SEEK_END);
    CHECK((ftell(fp) - 30 * 4) % 64 == 0, "header not padded to 64 bytes");
    fclose(fp);
    double d[4] = {1e-300, -2.5, 3.0, 1e300};
    size_t s1[1] = {4};
    CHECK(npy_write_f64(path_of("d.npy"), d, 1, s1, err, sizeof err) == 0, "%s", err);
    CHECK(npy_read(path_of("d.npy"), &a, err, sizeof err) == 0, "%s", err);
    CHECK(a.ndim == 1 && a.count == 4, "1-d shape");
    for (int i = 0; i < 4; i++) CHECK(a.data[i] == d[i], "f64 value %d", i);
    npy_free(&a);

    /* format 2.0, integers, extra spaces, trailing comma in the shape */
    int32_t ints[3] = {7, -1, 1 << 30};
    write_raw("v2.npy", 2, "{ 'descr' : '<i4' , 'fortran_order':False,'shape':(3,) }   \n", ints, sizeof ints);
    CHECK(npy_read(path_of("v2.npy"), &a, err, sizeof err) == 0, "v2: %s", err);
    CHECK(a.count == 3 && a.data[0] == 7 && a.data[1] == -1 && a.data[2] == (double)(1 << 30), "v2 values");
    npy_free(&a);
    /* a scalar: shape () has one element */
    float one = 4.5f;
    write_raw("scalar.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", &one, 4);
    CHECK(npy_read(path_of("scalar.npy"), &a, err, sizeof err) == 0 && a.ndim == 0 && a.count == 1 && a.data[0] == 4.5, "scalar: %s", err);
    npy_free(&a);

    /* files that lie */
    const char *ok_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";
    float six[6] = {1, 2, 3, 4, 5, 6};
    write_raw("short.npy", 1, ok_dict, six, 5 * 4);
    expect_error("short.npy", "truncated");
    write_raw("long.npy", 1, ok_dict, six, 6 * 4);
    FILE *g = fopen(path_of("long.npy"), "ab"); fputc(0, g); fclose(g);
    expect_error("long.npy", "after the data");
    write_raw("magic.npy", 1, ok_dict, six, 24);
    g = fopen(path_of("magic.npy"), "r+b"); fputc('X', g); fclose(g);
    expect_error("magic.npy", "bad magic");
    write_raw("big.npy", 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }\n", six, 24);
    expect_error("big.npy", "big-endian");
    write_raw("fortran.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n", six, 24);
    expect_error("fortran.npy", "Fortran");
    write_raw("dtype.npy", 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }\n", six, 24);
    expect_error("dtype.npy", "not supported");
    write_raw("nokey.npy", 1, "{'descr': '<f4', 'shape': (6,), }\n", six, 24);
    expect_error("nokey.npy", "fortran_order");
    write_raw("junk.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), } x\n", six, 24);
    expect_error("junk.npy", "junk");
    write_raw("badshape.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }\n", six, 24);
    expect_error("badshape.npy", "shape");
    write_raw("overflow.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }\n", six, 24);
    expect_error("overflow.npy", "overflow");
    write_raw("hugedim.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }\n", six, 24);
    expect_error("hugedim.npy", "overflow");
    write_raw("version.npy", 4, ok_dict, six, 24);
    expect_error("version.npy", "version");
    float bad[6] = {1, 2, NAN, 4, 5, 6};
    write_raw("nan.npy", 1, ok_dict, bad, 24);
    expect_error("nan.npy", "NaN");
    bad[2] = INFINITY;
    write_raw("inf.npy", 1, ok_dict, bad, 24);
    expect_error("inf.npy", "Inf");
    /* a header claiming 100 MB: refused without reading it */
    g = fopen(path_of("hdr.npy"), "wb");
    fwrite("\x93NUMPY\x02\x00", 1, 8, g);
    uint32_t hl = 100u << 20;
    fwrite(&hl, 4, 1, g);
    fwrite(ok_dict, 1, strlen(ok_dict), g);
    fclose(g);
    expect_error("hdr.npy", "limit");
    /* a header that claims more bytes than the file has */
    g = fopen(path_of("hdr2.npy"), "wb");
    fwrite("\x93NUMPY\x01\x00\xff\x7f", 1, 10, g);
    fwrite(ok_dict, 1, strlen(ok_dict), g);
    fclose(g);
    expect_error("hdr2.npy", "truncated");
    g = fopen(path_of("empty.npy"), "wb"); fclose(g);
    expect_error("empty.npy", "bad magic");
    expect_error("missing.npy", "cannot open");

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return check_summary("test_npy");
}

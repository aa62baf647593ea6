/* npy.c — see npy.h. The format: "\x93NUMPY", major, minor, header length
 * (uint16 LE in 1.0, uint32 LE in 2.0/3.0), then a Python dict literal
 * {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with
 * spaces and a newline, then the raw data. Every field is validated. */
#include "npy.h"
#include "errmsg.h"
#include "attention.h" /* size_mul */

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the header dict ---------------------------------------------------- */
typedef struct { const char *p, *end; } cursor;

static void skip_ws(cursor *c) { while (c->p < c->end && isspace((unsigned char)*c->p)) c->p++; }

static int eat(cursor *c, char ch) {
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) { c->p++; return 1; }
    return 0;
}

/* a quoted Python string into out (at most cap-1 chars) */
static int parse_str(cursor *c, char *out, size_t cap) {
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return -1;
    char q = *c->p++;
    size_t len = 0;
    while (c->p < c->end && *c->p != q) {
        if (len + 1 >= cap) return -1;
        out[len++] = *c->p++;
    }
    if (c->p >= c->end) return -1;
    c->p++;
    out[len] = '\0';
    return 0;
}

static int parse_shape(cursor *c, npy_array *a) {
    if (!eat(c, '(')) return -1;
    a->ndim = 0;
    for (;;) {
        skip_ws(c);
        if (eat(c, ')')) return 0;
        if (c->p >= c->end || !isdigit((unsigned char)*c->p)) return -1;
        if (a->ndim == NPY_MAX_DIMS) return -2;
        size_t v = 0;
        while (c->p < c->end && isdigit((unsigned char)*c->p)) {
            if (size_mul(v, 10, &v) || __builtin_add_overflow(v, (size_t)(*c->p - '0'), &v)) return -3;
            c->p++;
        }
        if (c->p < c->end && *c->p == 'L') c->p++; /* Python 2 longs */
        a->shape[a->ndim++] = v;
        if (!eat(c, ',')) { if (!eat(c, ')')) return -1; return 0; }
    }
}

/* itemsize and kind ('f', 'i', 'u') of a supported descr, or 0 */
static size_t descr_item(const char *d, char *kind) {
    if (strlen(d) != 3) return 0;
    if (d[0] != '<' && d[0] != '|') return 0;
    *kind = d[1];
    size_t sz = (size_t)(d[2] - '0');
    if (d[1] == 'f' && (sz == 4 || sz == 8) && d[0] == '<') return sz;
    if ((d[1] == 'i' || d[1] == 'u') && (sz == 1 || sz == 2 || sz == 4 || sz == 8)) {
        if (sz == 1 || d[0] == '<') return sz;
    }
    return 0;
}

static double element(const unsigned char *b, char kind, size_t sz) {
    /* little-endian host (x86-64, arm64): plain memcpy */
    switch (kind) {
    case 'f': if (sz == 4) { float f; memcpy(&f, b, 4); return f; } else { double x; memcpy(&x, b, 8); return x; }
    case 'i':
        switch (sz) {
        case 1: return (int8_t)b[0];
        case 2: { int16_t v; memcpy(&v, b, 2); return v; }
        case 4: { int32_t v; memcpy(&v, b, 4); return v; }
        default: { int64_t v; memcpy(&v, b, 8); return (double)v; }
        }
    default:
        switch (sz) {
        case 1: return b[0];
        case 2: { uint16_t v; memcpy(&v, b, 2); return v; }
        case 4: { uint32_t v; memcpy(&v, b, 4); return v; }
        default: { uint64_t v; memcpy(&v, b, 8); return (double)v; }
        }
    }
}

int npy_open(const char *path, npy_array *a, char *err, size_t errlen) {
    memset(a, 0, sizeof *a);
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; the check below
     * refuses anything but a regular file before a byte is read */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return err_set_at(err, errlen, path, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return err_set_at(err, errlen, path, "not a regular file (%s)", S_ISDIR(st.st_mode) ? "a directory" :
                    S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISCHR(st.st_mode) ? "a character device" : "not a plain file");
    }
    (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f) { close(fd); return err_set_at(err, errlen, path, "cannot open: %s", strerror(errno)); }
    char *hdr = NULL;
    int rc = -1;
    unsigned char pre[12];
    if (fread(pre, 1, 8, f) != 8 || memcmp(pre, "\x93NUMPY", 6) != 0) { err_set_at(err, errlen, path, "not a .npy file (bad magic)"); goto out; }
    unsigned major = pre[6], minor = pre[7];
    size_t hlen, prelen;
    if (major == 1) {
        if (fread(pre + 8, 1, 2, f) != 2) { err_set_at(err, errlen, path, "truncated header"); goto out; }
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
        prelen = 10;
    } else if (major == 2 || major == 3) {
        if (fread(pre + 8, 1, 4, f) != 4) { err_set_at(err, errlen, path, "truncated header"); goto out; }
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        prelen = 12;
    } else { err_set_at(err, errlen, path, "unsupported .npy format version %u.%u", major, minor); goto out; }
    if (minor != 0) { err_set_at(err, errlen, path, "unsupported .npy format version %u.%u", major, minor); goto out; }
    if (hlen > NPY_MAX_HEADER) { err_set_at(err, errlen, path, "header of %zu bytes is over the %u-byte limit", hlen, NPY_MAX_HEADER); goto out; }
    if ((size_t)st.st_size < prelen + hlen) { err_set_at(err, errlen, path, "truncated: header claims %zu bytes, file has %lld", hlen, (long long)st.st_size); goto out; }
    hdr = malloc(hlen + 1);
    if (!hdr || fread(hdr, 1, hlen, f) != hlen) { err_set_at(err, errlen, path, "cannot read header"); goto out; }
    hdr[hlen] = '\0';

    cursor c = {hdr, hdr + hlen};
    int have_descr = 0, have_order = 0, have_shape = 0, fortran = 0;
    if (!eat(&c, '{')) { err_set_at(err, errlen, path, "header is not a dict"); goto out; }
    for (;;) {
        if (eat(&c, '}')) break;
        char key[32];
        if (parse_str(&c, key, sizeof key) || !eat(&c, ':')) { err_set_at(err, errlen, path, "malformed header dict"); goto out; }
        if (!strcmp(key, "descr")) {
            if (parse_str(&c, a->descr, sizeof a->descr)) { err_set_at(err, errlen, path, "malformed or unsupported 'descr'"); goto out; }
            have_descr = 1;
        } else if (!strcmp(key, "fortran_order")) {
            skip_ws(&c);
            if (c.end - c.p >= 4 && !strncmp(c.p, "True", 4)) { fortran = 1; c.p += 4; }
            else if (c.end - c.p >= 5 && !strncmp(c.p, "False", 5)) { fortran = 0; c.p += 5; }
            else { err_set_at(err, errlen, path, "malformed 'fortran_order'"); goto out; }
            have_order = 1;
        } else if (!strcmp(key, "shape")) {
            int s = parse_shape(&c, a);
            if (s == -2) { err_set_at(err, errlen, path, "more than %d dimensions", NPY_MAX_DIMS); goto out; }
            if (s == -3) { err_set_at(err, errlen, path, "shape overflows"); goto out; }
            if (s) { err_set_at(err, errlen, path, "malformed 'shape'"); goto out; }
            have_shape = 1;
        } else { err_set_at(err, errlen, path, "unexpected key '%s' in header", key); goto out; }
        if (!eat(&c, ',')) { if (!eat(&c, '}')) { err_set_at(err, errlen, path, "malformed header dict"); goto out; } break; }
    }
    skip_ws(&c);
    if (c.p != c.end) { err_set_at(err, errlen, path, "junk after the header dict"); goto out; }
    if (!have_descr || !have_order || !have_shape) { err_set_at(err, errlen, path, "header lacks %s", !have_descr ? "'descr'" : !have_order ? "'fortran_order'" : "'shape'"); goto out; }
    if (fortran) { err_set_at(err, errlen, path, "Fortran order is not supported (save with numpy.ascontiguousarray)"); goto out; }
    char kind = 0;
    size_t item = descr_item(a->descr, &kind);
    if (!item) {
        if (a->descr[0] == '>') err_set_at(err, errlen, path, "big-endian dtype '%s' is not supported", a->descr);
        else err_set_at(err, errlen, path, "dtype '%s' is not supported (float32, float64 or integers)", a->descr);
        goto out;
    }
    a->count = 1;
    for (int i = 0; i < a->ndim; i++)
        if (size_mul(a->count, a->shape[i], &a->count)) { err_set_at(err, errlen, path, "shape overflows"); goto out; }
    size_t bytes;
    if (size_mul(a->count, item, &bytes) || size_mul(a->count, sizeof(double), &(size_t){0})) { err_set_at(err, errlen, path, "shape overflows"); goto out; }
    size_t have = (size_t)st.st_size - prelen - hlen;
    if (have < bytes) { err_set_at(err, errlen, path, "truncated: the header's shape needs %zu data bytes, the file holds %zu", bytes, have); goto out; }
    if (have > bytes) { err_set_at(err, errlen, path, "%zu bytes after the data the header describes", have - bytes); goto out; }
    a->file = f;
    a->item = item;
    a->kind = kind;
    f = NULL;
    rc = 0;
out:
    free(hdr);
    if (f) fclose(f);
    if (rc) npy_free(a);
    return rc;
}

int npy_load(const char *path, npy_array *a, char *err, size_t errlen) {
    FILE *f = a->file;
    const size_t item = a->item;
    unsigned char *buf = NULL;
    int rc = -1;
    if (!f) return err_set_at(err, errlen, path, "not open");
    a->data = malloc(a->count ? a->count * sizeof(double) : 1);
    if (!a->data) { err_set_at(err, errlen, path, "out of memory for %zu values", a->count); goto out; }
    enum { BUF = 1 << 16 };
    buf = malloc(BUF * item);
    if (!buf) { err_set_at(err, errlen, path, "out of memory"); goto out; }
    for (size_t i0 = 0; i0 < a->count; i0 += BUF) {
        size_t m = a->count - i0 < BUF ? a->count - i0 : BUF;
        if (fread(buf, item, m, f) != m) { err_set_at(err, errlen, path, "read error"); goto out; }
        for (size_t i = 0; i < m; i++) {
            double x = element(buf + i * item, a->kind, item);
            if (!isfinite(x)) { err_set_at(err, errlen, path, "holds %s at element %zu", isnan(x) ? "NaN" : "Inf", i0 + i); goto out; }
            a->data[i0 + i] = x;
        }
    }
    rc = 0;
out:
    free(buf);
    fclose(f);
    a->file = NULL;
    if (rc) npy_free(a);
    return rc;
}

int npy_read(const char *path, npy_array *a, char *err, size_t errlen) {
    if (npy_open(path, a, err, errlen)) return -1;
    return npy_load(path, a, err, errlen);
}

int npy_f32_range(const char *path, const npy_array *a, char *err, size_t errlen) {
    for (size_t i = 0; i < a->count; i++)
        if (fabs(a->data[i]) > FLT_MAX)
            return err_set_at(err, errlen, path, "element %zu is %g, beyond float32's range (%g): it would become Inf",
                        i, a->data[i], (double)FLT_MAX);
    return 0;
}

void npy_free(npy_array *a) {
    free(a->data);
    a->data = NULL;
    if (a->file) fclose(a->file);
    a->file = NULL;
}

static int write_npy(const char *path, const void *data, size_t item, const char *descr,
                     int ndim, const size_t *shape, char *err, size_t errlen) {
    char dict[512];
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        len += snprintf(dict + len, sizeof dict - (size_t)len, "%zu%s", shape[i],
                        ndim == 1 ? "," : (i + 1 < ndim ? ", " : ""));
        if (size_mul(count, shape[i], &count)) return err_set_at(err, errlen, path, "shape overflows");
    }
    len += snprintf(dict + len, sizeof dict - (size_t)len, "), }");
    /* pad with spaces so the data starts on a 64-byte boundary; end with \n */
    size_t total = 10 + (size_t)len + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)len + pad + 1;
    FILE *f = fopen(path, "wb");
    if (!f) return err_set_at(err, errlen, path, "cannot create: %s", strerror(errno));
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
    fwrite(pre, 1, 10, f);
    fwrite(dict, 1, (size_t)len, f);
    for (size_t i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
    fwrite(data, item, count, f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return err_set_at(err, errlen, path, "write failed: %s", strerror(errno ? errno : EIO));
    return 0;
}

int npy_write_f32(const char *path, const float *data, int ndim, const size_t *shape, char *err, size_t errlen) {
    return write_npy(path, data, sizeof(float), "<f4", ndim, shape, err, errlen);
}

int npy_write_f64(const char *path, const double *data, int ndim, const size_t *shape, char *err, size_t errlen) {
    return write_npy(path, data, sizeof(double), "<f8", ndim, shape, err, errlen);
}

int npy_write_i32(const char *path, const int32_t *data, int ndim, const size_t *shape, char *err, size_t errlen) {
    return write_npy(path, data, sizeof(int32_t), "<i4", ndim, shape, err, errlen);
}

/* point_id.c — the identity of a point (see point_id.h). */
#include "point_id.h"
#include "knobs.h"
#include "commands.h"
#include "options.h"
#include "readfile.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the columns that make a configuration: the layer, then the column of every
 * registry entry that identifies a point (knobs.h KF_ID), each once */
static int id_cols[COL_COUNT], NID;

static void id_cols_init(void) {
    if (NID) return;
    int seen[COL_COUNT] = {0}, n = 0;
    id_cols[n++] = COL_layer;
    seen[COL_layer] = 1;
    for (int i = 0; i < KN_COUNT; i++) {
        const int c = knob_defs[i].column;
        if ((knob_defs[i].flags & KF_ID) && c >= 0 && !seen[c]) { seen[c] = 1; id_cols[n++] = c; }
    }
    NID = n;
}

const int *point_id_columns(int *count) {
    id_cols_init();
    *count = NID;
    return id_cols;
}

/* one value as the key holds it: integers exactly, other numbers to the six
 * significant digits rows print, text as it is */
static void canonical(const char *v, char *out, size_t cap) {
    while (*v == ' ') v++;
    size_t len = strlen(v);
    while (len && v[len - 1] == ' ') len--;
    size_t digits = strspn(v, "0123456789");
    if (len && digits == len) {
        while (len > 1 && *v == '0') v++, len--;
        snprintf(out, cap, "%.*s", (int)len, v);
        return;
    }
    char *end;
    double x = len ? strtod(v, &end) : 0;
    if (len && end == v + len && isfinite(x)) {
        if (x == floor(x) && fabs(x) < 9007199254740992.0) snprintf(out, cap, "%.0f", x + 0.0);
        else snprintf(out, cap, "%.6g", x);
        return;
    }
    snprintf(out, cap, "%.*s", (int)len, v);
}

char *point_id_fields(const char *const field[COL_COUNT]) {
    id_cols_init();
    size_t cap = 64;
    for (int i = 0; i < NID; i++) cap += (field[id_cols[i]] ? strlen(field[id_cols[i]]) : 0) + 40;
    char *key = malloc(cap), val[4096];
    if (!key) return NULL;
    size_t len = 0;
    /* a model row's input is a checkpoint file: it is known by its file name,
     * so rows survive moving the checkpoints (a captured layer's directory,
     * whose leaf names repeat across captures, keeps its path) */
    const char *regime = field[COL_regime];
    const int by_name = regime && !strcmp(regime, "model");
    for (int i = 0; i < NID; i++) {
        const char *f = field[id_cols[i]];
        if (f && by_name && id_cols[i] == COL_input && strrchr(f, '/')) f = strrchr(f, '/') + 1;
        canonical(f ? f : "", val, sizeof val);
        len += (size_t)snprintf(key + len, cap - len, "%s%s", i ? "\x1f" : "", val);
    }
    return key;
}

char *point_id_row(const result_row *r) {
    const char *f[COL_COUNT];
    for (int c = 0; c < COL_COUNT; c++) f[c] = row_get(r, c);
    return point_id_fields(f);
}

void point_id_colmap(const csv_table *t, int colmap[COL_COUNT]) {
    for (int c = 0; c < COL_COUNT; c++) colmap[c] = table_col(t, result_column_names[c]);
}

char *point_id_table_row(const csv_table *t, size_t r, const int colmap[COL_COUNT]) {
    const char *f[COL_COUNT];
    for (int c = 0; c < COL_COUNT; c++) f[c] = table_get(t, r, colmap[c]);
    return point_id_fields(f);
}

int cmd_point_key(int argc, char **argv) {
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: attnbench point-key CSV\n\n"
               "Prints the point identity of each row of the results CSV, one line per row in\n"
               "the file's order, its values joined by '|': the key resume, merge and analyze\n"
               "know a point by (for scripts: two files hold the same points when their sorted\n"
               "keys are equal).\n"
               "exit status: 0 printed; 1 out of memory; 2 CSV cannot be read.\n");
        return 0;
    }
    if (argc != 2) return bad_input("point-key", "usage: attnbench point-key CSV");
    csv_table t;
    char err[4200];
    if (table_read(argv[1], &t, err, sizeof err)) return bad_input("point-key", "%s", err);
    int colmap[COL_COUNT], rc = 0;
    point_id_colmap(&t, colmap);
    for (size_t r = 0; r < t.nrows && !rc; r++) {
        char *key = point_id_table_row(&t, r, colmap);
        if (!key) { rc = 1; break; }
        for (char *c = key; *c; c++)
            if (*c == '\x1f') *c = '|';
        printf("%s\n", key);
        free(key);
    }
    table_free(&t);
    return rc;
}

/* ---- the set -------------------------------------------------------------- */

static uint64_t fnv(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static size_t slot_of(char *const *keys, size_t cap, const char *key) {
    size_t i = (size_t)fnv(key) & (cap - 1);
    while (keys[i] && strcmp(keys[i], key)) i = (i + 1) & (cap - 1);
    return i;
}

static int grow(point_set *s) {
    size_t cap = s->cap ? 2 * s->cap : 1024;
    char **keys = calloc(cap, sizeof *keys);
    size_t *vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) { free(keys); free(vals); return -1; }
    for (size_t i = 0; i < s->cap; i++)
        if (s->keys[i]) {
            size_t j = slot_of(keys, cap, s->keys[i]);
            keys[j] = s->keys[i];
            vals[j] = s->vals[i];
        }
    free(s->keys);
    free(s->vals);
    s->keys = keys;
    s->vals = vals;
    s->cap = cap;
    return 0;
}

int point_set_add(point_set *s, char *key, size_t val, size_t *first) {
    if (!key) return -1;
    if (2 * (s->count + 1) > s->cap && grow(s)) { free(key); return -1; }
    size_t i = slot_of(s->keys, s->cap, key);
    if (s->keys[i]) {
        if (first) *first = s->vals[i];
        free(key);
        return 0;
    }
    s->keys[i] = key;
    s->vals[i] = val;
    s->count++;
    return 1;
}

int point_set_find(const point_set *s, const char *key, size_t *val) {
    if (!s->cap || !key) return 0;
    size_t i = slot_of(s->keys, s->cap, key);
    if (!s->keys[i]) return 0;
    if (val) *val = s->vals[i];
    return 1;
}

void point_set_free(point_set *s) {
    for (size_t i = 0; i < s->cap; i++) free(s->keys[i]);
    free(s->keys);
    free(s->vals);
    memset(s, 0, sizeof *s);
}

/* ---- .npy shapes from headers ---------------------------------------------- */

/* the shape in DIR/NAME's header; 0 dims when it cannot be read */
static int npy_shape(const char *dir, const char *name, size_t shape[3]) {
    char path[4200], err[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    shape[0] = shape[1] = shape[2] = 0;
    if (access(path, F_OK) != 0) return 0;
    int fd = readfile_open(path, (size_t)1 << 62, err, sizeof err);
    if (fd < 0) return 0;
    unsigned char head[4096 + 12];
    ssize_t got = read(fd, head, sizeof head - 1);
    close(fd);
    if (got < 12 || memcmp(head, "\x93NUMPY", 6)) return 0;
    head[got] = '\0';
    size_t off = head[6] == 1 ? 10 : 12;
    const char *s = strstr((const char *)head + off, "'shape'");
    s = s ? strchr(s, '(') : NULL;
    int nd = 0;
    while (s && *s && *s != ')' && nd < 3) {
        s++;
        while (*s == ' ') s++;
        if (*s == ')') break;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (end == s || errno) return 0;
        shape[nd++] = (size_t)v;
        s = end;
        while (*s == ' ') s++;
    }
    return nd;
}

int point_id_peek_input(const char *dir, int ffn, input_shape *s) {
    memset(s, 0, sizeof *s);
    size_t a[3], b[3];
    if (ffn) {
        if (npy_shape(dir, "x.npy", a) != 2 || npy_shape(dir, "w1.npy", b) != 2) return -1;
        s->n = a[0], s->d_model = a[1], s->d_ff = b[1];
        return 0;
    }
    if (npy_shape(dir, "x.npy", a) == 2) {
        if (npy_shape(dir, "wq.npy", b) != 3) return -1;
        s->layer_form = 1;
        s->n = a[0], s->d_model = a[1], s->heads = b[0], s->d_head = b[2];
        return 0;
    }
    if (npy_shape(dir, "q.npy", a) != 3 || npy_shape(dir, "k.npy", b) != 3) return -1;
    s->heads = a[0], s->n = a[1], s->d_head = a[2], s->kv_heads = b[0];
    return 0;
}

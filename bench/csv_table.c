/* csv_table.c — reads a results CSV with libcsv (see csv_table.h). */
#include "csv_table.h"
#include "readfile.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* the record being parsed, and where finished ones go */
typedef struct {
    csv_table *t;
    char **fields;
    size_t nfields, cap;
    size_t rows_cap;
    int nomem;
} reader;

static void free_fields(char **f, size_t n) {
    for (size_t i = 0; i < n; i++) free(f[i]);
    free(f);
}

static void on_field(void *s, size_t len, void *data) {
    reader *r = data;
    if (r->nomem) return;
    if (r->nfields == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        char **grown = realloc(r->fields, cap * sizeof *grown);
        if (!grown) { r->nomem = 1; return; }
        r->fields = grown;
        r->cap = cap;
    }
    char *f = malloc(len + 1);
    if (!f) { r->nomem = 1; return; }
    if (len) memcpy(f, s, len);
    f[len] = '\0';
    r->fields[r->nfields++] = f;
}

static void on_record(int c, void *data) {
    (void)c;
    reader *r = data;
    csv_table *t = r->t;
    if (r->nomem) return;
    char **rec = r->fields;
    size_t n = r->nfields;
    r->fields = NULL;
    r->nfields = r->cap = 0;
    if (!t->header) { /* the first record is the header */
        t->header = rec;
        t->ncols = n;
        return;
    }
    if (n != t->ncols) {
        t->bad_rows++;
        free_fields(rec, n);
        return;
    }
    if (t->nrows == r->rows_cap) {
        size_t cap = r->rows_cap ? 2 * r->rows_cap : 256;
        char ***grown = realloc(t->rows, cap * sizeof *grown);
        if (!grown) { r->nomem = 1; free_fields(rec, n); return; }
        t->rows = grown;
        r->rows_cap = cap;
    }
    t->rows[t->nrows++] = rec;
}

int table_parse(const char *text, size_t len, csv_table *t, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    /* everything after the last newline is a torn line: leave it out */
    size_t whole = len;
    while (whole > 0 && text[whole - 1] != '\n') whole--;
    t->whole_bytes = whole;
    t->torn_bytes = len - whole;

    struct csv_parser p;
    reader r = {.t = t};
    int rc = 0;
    if (csv_init(&p, CSV_APPEND_NULL) != 0) {
        set_err(err, errlen, "cannot start the CSV parser");
        return -1;
    }
    if (csv_parse(&p, text, whole, on_field, on_record, &r) != whole) {
        set_err(err, errlen, "%s", csv_strerror(csv_error(&p)));
        rc = -1;
    }
    csv_fini(&p, on_field, on_record, &r);
    csv_free(&p);
    free_fields(r.fields, r.nfields);
    if (!rc && r.nomem) {
        set_err(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc) table_free(t);
    return rc;
}

int table_read(const char *path, csv_table *t, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    /* whole file in memory (a row is ~300 bytes): a regular file of at most
     * READFILE_CSV_MAX bytes, so a FIFO or /dev/zero is refused, not read forever */
    char *text;
    size_t len;
    if (readfile_all(path, READFILE_CSV_MAX, &text, &len, err, errlen)) return -1;
    char perr[256];
    int rc = table_parse(text, len, t, perr, sizeof perr);
    free(text);
    if (rc) set_err(err, errlen, "%s: %s", path, perr);
    return rc;
}

void table_free(csv_table *t) {
    for (size_t i = 0; i < t->nrows; i++) free_fields(t->rows[i], t->ncols);
    free(t->rows);
    free_fields(t->header, t->ncols);
    memset(t, 0, sizeof *t);
}

int table_col(const csv_table *t, const char *name) {
    for (size_t c = 0; c < t->ncols; c++)
        if (strcmp(t->header[c], name) == 0) return (int)c;
    return -1;
}

int table_same_header(const csv_table *a, const csv_table *b) {
    if (a->ncols != b->ncols) return 0;
    for (size_t c = 0; c < a->ncols; c++)
        if (strcmp(a->header[c], b->header[c])) return 0;
    return 1;
}

int table_write_line(FILE *f, char *const *fields, size_t count) {
    for (size_t c = 0; c < count; c++) {
        const char *s = fields[c] ? fields[c] : "";
        if (c && fputc(',', f) == EOF) return -1;
        if (strpbrk(s, ",\"\r\n")) {
            if (csv_fwrite(f, s, strlen(s)) != 0) return -1;
        } else if (fputs(s, f) == EOF) {
            return -1;
        }
    }
    return fputc('\n', f) == EOF ? -1 : 0;
}

/* csv_table.c — reads a results CSV with libcsv, one line a record (see csv_table.h). */
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

/* one line being parsed: the record being built, the line's first record */
typedef struct {
    char **fields, **rec;
    size_t nfields, cap, rec_n;
    size_t nrec;         /* records the line held */
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

/* keeps the line's first record; a second one only makes the line malformed */
static void on_record(int c, void *data) {
    (void)c;
    reader *r = data;
    if (r->nrec++ == 0 && !r->nomem) {
        r->rec = r->fields;
        r->rec_n = r->nfields;
    } else {
        free_fields(r->fields, r->nfields);
    }
    r->fields = NULL;
    r->nfields = r->cap = 0;
}

enum { CSV_OPTS = CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL };

/* Parses one physical line (without its '\n') into r: r->rec is its record
 * when the line is exactly one record, the caller frees it. 1 one record,
 * 0 a blank line, -1 malformed (a stray or unbalanced quote, two records). */
static int parse_line(struct csv_parser *p, reader *r, const char *s, size_t len) {
    r->rec = NULL;
    r->rec_n = r->nrec = 0;
    int bad = csv_parse(p, s, len, on_field, on_record, r) != len;
    if (bad && csv_error(p) == CSV_ENOMEM) r->nomem = 1;
    if (bad || csv_fini(p, on_field, on_record, r) != 0) { /* strict: the parser stays failed */
        bad = 1;
        csv_free(p);
        csv_init(p, CSV_OPTS);
    }
    free_fields(r->fields, r->nfields);
    r->fields = NULL;
    r->nfields = r->cap = 0;
    if (bad || r->nrec > 1 || r->nomem) {
        free_fields(r->rec, r->rec_n);
        r->rec = NULL;
        return -1;
    }
    return r->nrec == 1;
}

static int same_fields(char *const *a, char *const *b, size_t n) {
    for (size_t c = 0; c < n; c++)
        if (strcmp(a[c], b[c])) return 0;
    return 1;
}

/* a row for t (taking rec), a repeated header line, or a malformed line
 * (rec NULL, or of another width): freed and counted; 0, or -1 out of memory */
static int add_record(csv_table *t, size_t *rows_cap, char **rec, size_t n, size_t line) {
    if (!rec || n != t->ncols || same_fields(rec, t->header, n)) {
        int header = rec && n == t->ncols;
        size_t *count = header ? &t->header_rows : &t->bad_rows;
        size_t *first = header ? &t->first_header_line : &t->first_bad_line;
        if (!(*count)++) *first = line;
        free_fields(rec, rec ? n : 0);
        return 0;
    }
    if (t->nrows == *rows_cap) {
        size_t cap = *rows_cap ? 2 * *rows_cap : 256;
        char ***grown = realloc(t->rows, cap * sizeof *grown);
        if (!grown) { free_fields(rec, n); return -1; }
        t->rows = grown;
        *rows_cap = cap;
    }
    t->rows[t->nrows++] = rec;
    return 0;
}

int table_parse(const char *text, size_t len, csv_table *t, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    /* everything after the last newline is a torn line: leave it out */
    size_t whole = len;
    while (whole > 0 && text[whole - 1] != '\n') whole--;
    t->whole_bytes = whole;
    t->torn_bytes = len - whole;

    struct csv_parser p;
    reader r = {0};
    size_t rows_cap = 0, line = 0;
    int rc = 0;
    if (csv_init(&p, CSV_OPTS) != 0) {
        set_err(err, errlen, "cannot start the CSV parser");
        return -1;
    }
    for (size_t at = 0; at < whole && !rc; line++) {
        const char *s = text + at, *nl = memchr(s, '\n', whole - at);
        size_t n = (size_t)(nl - s);
        at += n + 1;
        int got = parse_line(&p, &r, s, n);
        if (r.nomem) rc = -1;
        else if (got == 0) continue; /* a blank line */
        else if (!t->header && got < 0) {
            set_err(err, errlen, "line %zu, the header: not one CSV record (a stray or unbalanced quote?)", line + 1);
            rc = -2;
        } else if (!t->header) {
            t->header = r.rec;
            t->ncols = r.rec_n;
        } else if (add_record(t, &rows_cap, r.rec, r.rec_n, line + 1)) { /* r.rec NULL: malformed */
            rc = -1;
        }
    }
    csv_free(&p);
    if (rc == -1) set_err(err, errlen, "out of memory");
    if (rc) table_free(t);
    return rc ? -1 : 0;
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

void table_note_left_out(const csv_table *t, const char *cmd, const char *path) {
    if (t->bad_rows)
        fprintf(stderr, "attnbench %s: %s: left out %zu malformed line(s) (the first is line %zu): "
                        "not one CSV record as wide as the header; the file keeps them\n",
                cmd, path, t->bad_rows, t->first_bad_line);
    if (t->header_rows)
        fprintf(stderr, "attnbench %s: %s: left out %zu repeated header line(s) (the first is line %zu)\n", cmd,
                path, t->header_rows, t->first_header_line);
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

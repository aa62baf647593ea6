/* fuzz_csv.c — libFuzzer target for the results-CSV reader (bench/io/csv_table.c:
 * table_parse, under table_read, which `sweep` uses to resume, `merge` and
 * `analyze` to read). Whatever the bytes, the table must be consistent: every
 * row as wide as the header and none equal to it, the torn tail exactly the
 * bytes after the last newline. Writing the table back with table_write_line and reading it again
 * must give the same fields (see `round_trips` for the two exceptions). */
#include "results.h"
#include "csv_table.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPECT(cond, ...)                                                     \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "fuzz_csv: %s: ", #cond);                         \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
            abort();                                                          \
        }                                                                     \
    } while (0)

static int blank(char c) { return c == ' ' || c == '\t'; }

/* Fields the writer cannot carry through libcsv's reader: leading or trailing
 * blanks (libcsv trims them from unquoted fields and table_write_line quotes
 * only for , " CR LF), and a one-column table's empty field (an empty line,
 * which libcsv skips). attnbench never writes either. */
static int round_trips(const csv_table *t) {
    if (t->ncols < 2) return 0;
    for (size_t r = 0; r <= t->nrows; r++) {
        char **f = r == 0 ? t->header : t->rows[r - 1];
        for (size_t c = 0; c < t->ncols; c++) {
            size_t len = strlen(f[c]);
            if (len && (blank(f[c][0]) || blank(f[c][len - 1]))) return 0;
        }
    }
    return 1;
}

static void check_round_trip(const csv_table *t) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    EXPECT(f != NULL, "open_memstream");
    EXPECT(table_write_line(f, t->header, t->ncols) == 0, "write header");
    for (size_t r = 0; r < t->nrows; r++) EXPECT(table_write_line(f, t->rows[r], t->ncols) == 0, "write row");
    EXPECT(fclose(f) == 0, "close memstream");
    csv_table u;
    char err[256];
    EXPECT(table_parse(text, len, &u, err, sizeof err) == 0, "re-read: %s", err);
    EXPECT(u.ncols == t->ncols && u.nrows == t->nrows && !u.bad_rows && !u.torn_bytes,
           "re-read %zu x %zu (bad %zu, torn %zu), wrote %zu x %zu", u.nrows, u.ncols, u.bad_rows,
           u.torn_bytes, t->nrows, t->ncols);
    for (size_t c = 0; c < t->ncols; c++)
        EXPECT(!strcmp(u.header[c], t->header[c]), "header %zu: '%s' became '%s'", c, t->header[c], u.header[c]);
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++)
            EXPECT(!strcmp(u.rows[r][c], t->rows[r][c]), "row %zu col %zu: '%s' became '%s'", r, c,
                   t->rows[r][c], u.rows[r][c]);
    table_free(&u);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    csv_table t;
    char err[256] = "";
    if (table_parse((const char *)data, size, &t, err, sizeof err) != 0) {
        EXPECT(err[0] != '\0', "no message");
        EXPECT(t.rows == NULL && t.header == NULL, "table left allocated after an error");
        return 0;
    }
    EXPECT(t.whole_bytes + t.torn_bytes == size, "whole %zu + torn %zu != %zu", t.whole_bytes, t.torn_bytes, size);
    EXPECT(t.whole_bytes == 0 || data[t.whole_bytes - 1] == '\n', "whole part does not end in a newline");
    EXPECT(memchr(data + t.whole_bytes, '\n', t.torn_bytes) == NULL, "newline in the torn tail");
    EXPECT(t.ncols > 0 || (t.nrows == 0 && t.header == NULL), "rows without a header");
    for (size_t r = 0; r < t.nrows; r++)
        for (size_t c = 0; c < t.ncols; c++) EXPECT(t.rows[r][c] != NULL, "row %zu col %zu NULL", r, c);
    /* what sweep's resume asks of a table */
    for (int c = 0; c < COL_COUNT; c++) {
        int i = table_col(&t, result_column_names[c]);
        EXPECT(i < 0 || !strcmp(t.header[i], result_column_names[c]), "table_col");
        for (size_t r = 0; r < t.nrows; r++) (void)strlen(table_get(&t, r, i));
    }
    EXPECT(table_same_header(&t, &t), "a table's header differs from itself");
    for (size_t r = 0; r < t.nrows; r++) { /* a line equal to the header is no row */
        size_t c = 0;
        while (c < t.ncols && !strcmp(t.rows[r][c], t.header[c])) c++;
        EXPECT(c < t.ncols, "row %zu is the header again", r);
    }
    EXPECT((t.bad_rows == 0) == (t.first_bad_line == 0) && (t.header_rows == 0) == (t.first_header_line == 0),
           "line numbers: %zu malformed from %zu, %zu headers from %zu", t.bad_rows, t.first_bad_line,
           t.header_rows, t.first_header_line);
    if (round_trips(&t)) check_round_trip(&t);
    table_free(&t);
    return 0;
}

/* csv_table.h — a results CSV in memory, read through libcsv: the header, then
 * rows of text fields. Used by `analyze`, by `merge`, and by `sweep` to find
 * the points a results file already holds. */
#ifndef CSV_TABLE_H
#define CSV_TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    size_t ncols;
    char **header;       /* ncols column names */
    size_t nrows;
    char ***rows;        /* rows[r][c], "" where empty */
    size_t bad_rows;     /* records whose field count differs from the header (dropped) */
    size_t torn_bytes;   /* bytes after the last newline (a torn last line, dropped) */
    size_t whole_bytes;  /* bytes up to and including the last newline */
} csv_table;

/* Reads path. A last line without its newline (an interrupted writer) and
 * records with the wrong number of fields are dropped and counted, not
 * fatal. An empty file is a table with no header (ncols 0).
 * 0, or -1 with err filled (cannot open, not CSV, out of memory). */
int table_read(const char *path, csv_table *t, char *err, size_t errlen);
/* The same for CSV text in memory (header line first). */
int table_parse(const char *text, size_t len, csv_table *t, char *err, size_t errlen);
void table_free(csv_table *t);

int table_col(const csv_table *t, const char *name);  /* index or -1 */
/* the field, or "" when col < 0 */
static inline const char *table_get(const csv_table *t, size_t row, int col) {
    return col < 0 ? "" : t->rows[row][col];
}

/* 1 when the two tables have the same columns in the same order */
int table_same_header(const csv_table *a, const csv_table *b);

/* Writes fields as one CSV line ending in "\n": bare where possible, quoted
 * by libcsv where a field holds a comma, quote or line break. 0, or -1. */
int table_write_line(FILE *f, char *const *fields, size_t count);

#endif

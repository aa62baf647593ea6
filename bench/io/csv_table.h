/* csv_table.h — a results CSV in memory, read through libcsv: the header, then
 * rows of text fields. Used by `analyze`, by `merge`, and by `sweep` to find
 * the points a results file already holds.
 *
 * A record is one physical line: attnbench never writes a line break inside a
 * field (row_set writes each as a blank), so a stray or unbalanced quote spoils
 * its own line and nothing after it. The first line that is not blank is the
 * header; each later line is a row when libcsv's strict parser reads it as
 * exactly one record as wide as the header. A line equal to the header (shards
 * joined with cat, a header written twice) is left out and counted; any other
 * line is malformed: left out and counted, never a row (so it never decides
 * which points a file holds). The file itself is only read. */
#ifndef CSV_TABLE_H
#define CSV_TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    size_t ncols;
    char **header;       /* ncols column names */
    size_t nrows;
    char ***rows;        /* rows[r][c], "" where empty */
    size_t bad_rows;     /* malformed lines (left out) ... */
    size_t first_bad_line;     /* ... and the first one's line number (1-based) */
    size_t header_rows;  /* lines equal to the header after the first (left out) ... */
    size_t first_header_line;  /* ... and the first one's line number */
    size_t torn_bytes;   /* bytes after the last newline (a torn last line, dropped) */
    size_t whole_bytes;  /* bytes up to and including the last newline */
} csv_table;

/* Reads path. A last line without its newline (an interrupted writer),
 * malformed lines and repeated header lines are left out and counted, not
 * fatal. An empty file is a table with no header (ncols 0).
 * 0, or -1 with err filled (cannot open, a header line that is not one CSV
 * record, out of memory). */
int table_read(const char *path, csv_table *t, char *err, size_t errlen);
/* The same for CSV text in memory (header line first). */
int table_parse(const char *text, size_t len, csv_table *t, char *err, size_t errlen);
/* One note on stderr ("attnbench CMD: PATH: left out ...") for the malformed
 * lines, one for the repeated header lines; nothing when there are none. */
void table_note_left_out(const csv_table *t, const char *cmd, const char *path);
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

/* results.c — CSV rows through libcsv, appended one whole line at a time. */
#include "results.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const result_column_names[COL_COUNT] = {
#define RESULT_NAME(name) #name,
    RESULT_COLUMNS(RESULT_NAME)
#undef RESULT_NAME
};

void row_init(result_row *r) { memset(r, 0, sizeof *r); }

void row_free(result_row *r) {
    for (int c = 0; c < COL_COUNT; c++) free(r->field[c]);
    memset(r, 0, sizeof *r);
}

void row_set(result_row *r, int col, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    /* a line break becomes a blank: a row is one physical line (csv_table.h) */
    for (char *c = s; c && (c = strpbrk(c, "\r\n"));) *c = ' ';
    free(r->field[col]);
    r->field[col] = s;
}

const char *row_get(const result_row *r, int col) { return r->field[col] ? r->field[col] : ""; }

int result_column_find(const char *name) {
    for (int c = 0; c < COL_COUNT; c++)
        if (strcmp(result_column_names[c], name) == 0) return c;
    return -1;
}

/* Appends fields as one CSV line. A field is quoted (by libcsv's csv_write)
 * only when it holds a comma, quote, CR or LF, or begins or ends with a blank
 * (readers that trim unquoted fields would lose it), so numbers stay bare. */
static char *fields_to_line(const char *const *fields, int count) {
    size_t cap = 256, len = 0;
    char *line = malloc(cap);
    if (!line) return NULL;
    for (int c = 0; c < count; c++) {
        const char *f = fields[c] ? fields[c] : "";
        size_t flen = strlen(f);
        size_t need = 2 * flen + 3 + 2; /* worst case quoted, plus ',' or "\n\0" */
        if (len + need > cap) {
            while (len + need > cap) cap *= 2;
            char *grown = realloc(line, cap);
            if (!grown) { free(line); return NULL; }
            line = grown;
        }
        if (c) line[len++] = ',';
        if (strpbrk(f, ",\"\r\n") || (flen && (f[0] == ' ' || f[0] == '\t' ||
                                                f[flen - 1] == ' ' || f[flen - 1] == '\t')))
            len += csv_write(line + len, cap - len, f, flen);
        else {
            memcpy(line + len, f, flen);
            len += flen;
        }
    }
    line[len++] = '\n';
    line[len] = '\0';
    return line;
}

char *results_header_line(void) { return fields_to_line(result_column_names, COL_COUNT); }

char *row_to_line(const result_row *r) {
    const char *f[COL_COUNT];
    for (int c = 0; c < COL_COUNT; c++) f[c] = row_get(r, c);
    return fields_to_line(f, COL_COUNT);
}

/* one write(2) of the whole text, or -1; a short write is an error (disk full) */
static int write_all_once(int fd, const char *text) {
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    if (w < 0) return -1;
    if ((size_t)w != len) { errno = ENOSPC; return -1; }
    return 0;
}

const char *const result_status_names[ST_COUNT] = {
#define RESULT_STATUS_NAME(name) #name,
    RESULT_STATUSES(RESULT_STATUS_NAME)
#undef RESULT_STATUS_NAME
};

int result_status_find(const char *name) {
    for (int i = 0; i < ST_COUNT; i++)
        if (!strcmp(result_status_names[i], name)) return i;
    return -1;
}

/* 1 when the file's size bytes are all blanks and line ends (a file that
 * holds no header yet); read only when small */
static int only_whitespace(int fd, off_t size) {
    if (size <= 0 || size > 65536) return size == 0;
    char buf[65536];
    ssize_t got = pread(fd, buf, (size_t)size, 0);
    if (got != (ssize_t)size) return 0;
    for (ssize_t i = 0; i < got; i++)
        if (!buf[i] || !strchr(" \t\r\n", buf[i])) return 0;
    return 1;
}

int results_append_fd(int fd, const result_row *r, int *wrote_header) {
    if (wrote_header) *wrote_header = 0;
    char *line = row_to_line(r);
    char *text = line;
    int rc = -1;
    if (!line) { errno = ENOMEM; return -1; }
    /* the header and the row go out in one write when the file is new, so a
     * crash cannot leave a header without its first row or a row without header */
    if (flock(fd, LOCK_EX) == 0) { /* writers to one file take turns (a no-op where fd holds it) */ }
    struct stat st;
    if (fstat(fd, &st) != 0) goto out;
    if (st.st_size > 0 && only_whitespace(fd, st.st_size)) {
        if (ftruncate(fd, 0) != 0) goto out;
        st.st_size = 0;
    }
    if (st.st_size == 0) {
        char *head = results_header_line();
        if (!head) { errno = ENOMEM; goto out; }
        text = malloc(strlen(head) + strlen(line) + 1);
        if (!text) { free(head); text = line; errno = ENOMEM; goto out; }
        strcpy(text, head);
        strcat(text, line);
        free(head);
        if (wrote_header) *wrote_header = 1;
    }
    rc = write_all_once(fd, text);
    if (rc != 0) { /* a short write (disk full): take the partial row back out */
        int saved = errno;
        if (ftruncate(fd, st.st_size) != 0) { /* the file keeps the fragment; errno says why we failed */ }
        errno = saved;
    }
out:
    if (text != line) free(text);
    free(line);
    return rc;
}

int results_append(const char *path, const result_row *r, int *wrote_header) {
    if (wrote_header) *wrote_header = 0;
    /* read access too, to tell a blank file from one with rows */
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EACCES) fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = results_append_fd(fd, r, wrote_header);
    int saved = errno;
    if (close(fd) != 0 && rc == 0) rc = -1;
    else errno = saved;
    return rc;
}

/* the columns that hold words or paths, never a measured number */
static int column_is_text(int c) {
    return c == COL_layer || c == COL_attention || c == COL_projection || c == COL_input || c == COL_status ||
           c == COL_blas_core || c == COL_note || c == COL_regime || c == COL_layers || c == COL_kv_format ||
           c == COL_roofline_bound;
}

/* 1 when a value of the ";"-separated list f reads whole as NaN or Inf */
static int field_nonfinite(const char *f) {
    char tok[64];
    for (const char *p = f; *p;) {
        size_t len = strcspn(p, ";");
        if (len < sizeof tok) {
            memcpy(tok, p, len);
            tok[len] = '\0';
            char *end;
            double v = strtod(tok, &end);
            if (len && !*end && !isfinite(v)) return 1;
        }
        p += len;
        if (*p) p++;
    }
    return 0;
}

int row_check_finite(result_row *r) {
    if (strcmp(row_get(r, COL_status), "ok") != 0) return 0;
    char names[1024];
    size_t len = 0;
    names[0] = '\0';
    for (int c = 0; c < COL_COUNT; c++)
        if (!column_is_text(c) && field_nonfinite(row_get(r, c)) && len < sizeof names)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s %s", len ? ", " : "",
                                    result_column_names[c], row_get(r, c));
    if (!len) return 0;
    const char *old = row_get(r, COL_note);
    char *note = NULL;
    if (asprintf(&note, "not finite: %s%s%s", names, *old ? "; " : "", old) < 0) note = NULL;
    row_set(r, COL_status, "nonfinite");
    row_set(r, COL_note, "%s", note ? note : "not finite");
    free(note);
    return 1;
}

/* test_results.c — the CSV contract: every required column in the header,
 * rows that read back through libcsv's strict parser, quoting, one header
 * per file, and a failed write reported (never half a row). */
#include "check.h"
#include "results.h"

#include <csv.h>
#include <errno.h>
#include <unistd.h>

/* ARCHITECTURE.md's required columns, in its order */
static const char *const required[] = {
    "layer", "attention", "projection", "n", "heads", "kv_heads", "d_head", "d_model", "d_ff", "k",
    "chunk", "features", "causal", "score_std", "head_sim", "input", "seed", "threads", "status",
    "time_median_s", "time_min_s", "reps", "gflops", "peak_rss_bytes", "kernel_peak_bytes",
    "workspace_bytes", "params", "rel_err", "max_abs_err", "cos_err", "entropy", "topk_mass"};

typedef struct { int fields, rows, cur; char first[64][64]; int row_fields[16]; } parsed;

static void on_field(void *s, size_t len, void *data) {
    parsed *p = data;
    if (p->rows == 0 && p->cur < 64) snprintf(p->first[p->cur], 64, "%.*s", (int)len, (char *)s);
    if (p->rows == 1 && p->cur == 15) snprintf(p->first[63], 64, "%.*s", (int)len, (char *)s);
    p->cur++;
}
static void on_row(int c, void *data) {
    (void)c;
    parsed *p = data;
    if (p->rows < 16) p->row_fields[p->rows] = p->cur;
    p->rows++;
    p->cur = 0;
}

static int parse_file(const char *path, parsed *p) {
    memset(p, 0, sizeof *p);
    struct csv_parser cp;
    csv_init(&cp, CSV_STRICT | CSV_STRICT_FINI);
    FILE *f = fopen(path, "rb");
    char buf[4096];
    size_t got;
    int ok = 1;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        if (csv_parse(&cp, buf, got, on_field, on_row, p) != got) { ok = 0; break; }
    if (ok && csv_fini(&cp, on_field, on_row, p) != 0) ok = 0;
    fclose(f);
    csv_free(&cp);
    return ok;
}

int main(void) {
    /* every required column, in order, at the start of the header */
    for (size_t i = 0; i < sizeof required / sizeof *required; i++) {
        CHECK(i < COL_COUNT && !strcmp(result_column_names[i], required[i]),
              "column %zu is '%s', want '%s'", i, i < COL_COUNT ? result_column_names[i] : "-", required[i]);
        CHECK(result_column_find(required[i]) == (int)i, "find %s", required[i]);
    }
    char path[] = "/tmp/attnbench-csv-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    result_row r;
    row_init(&r);
    row_set(&r, COL_layer, "attention");
    row_set(&r, COL_n, "%d", 1024);
    row_set(&r, COL_input, "dir,with \"quotes\"");
    row_set(&r, COL_note, "line1\nline2");
    int hdr = -1;
    CHECK(results_append(path, &r, &hdr) == 0 && hdr == 1, "first append writes the header");
    CHECK(results_append(path, &r, &hdr) == 0 && hdr == 0, "second append does not");
    parsed p;
    CHECK(parse_file(path, &p), "strict libcsv parse of %s", path);
    CHECK(p.rows == 3, "rows: %d, want header + 2", p.rows);
    for (int i = 0; i < 3 && i < p.rows; i++)
        CHECK(p.row_fields[i] == COL_COUNT, "row %d has %d fields, want %d", i, p.row_fields[i], COL_COUNT);
    CHECK(!strcmp(p.first[0], "layer"), "header starts with '%s'", p.first[0]);
    CHECK(!strcmp(p.first[63], "dir,with \"quotes\""), "quoted field read back as '%s'", p.first[63]);
    char *line = row_to_line(&r);
    CHECK(strstr(line, "attention,,,1024,") == line, "numbers stay bare: %s", line);
    free(line);
    /* leading and trailing blanks survive readers that trim unquoted fields */
    row_set(&r, COL_note, " padded ");
    line = row_to_line(&r);
    CHECK(strstr(line, ",\" padded \"") != NULL, "a field with blanks at its ends is quoted: %s", line);
    free(line);
    row_set(&r, COL_note, "inner blank");
    line = row_to_line(&r);
    CHECK(strstr(line, ",inner blank") != NULL, "inner blanks need no quotes: %s", line);
    free(line);
    /* a full disk: an error, nothing claimed written */
    errno = 0;
    CHECK(results_append("/dev/full", &r, &hdr) == -1, "append to /dev/full must fail");
    CHECK(results_append("/nonexistent-dir/x.csv", &r, &hdr) == -1, "append into a missing dir must fail");
    row_free(&r);
    unlink(path);
    return check_summary("test_results");
}

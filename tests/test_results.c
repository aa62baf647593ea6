/* test_results.c — the CSV contract: every required column in the header,
 * rows that read back through libcsv's strict parser, quoting, one header
 * per file, and a failed write reported (never half a row). */
#include "check.h"
#include "point_id.h"
#include "readfile.h"
#include "results.h"

#include <csv.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

/* the required columns of docs/DESIGN.md (the CSV columns), in its order */
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

/* issue 13: one identity per point; a blank file gets its header; status names
 * in one list; inputs that are not regular files refused before reading */
static void test_integrity(void) {
    const char *a[COL_COUNT] = {0}, *b[COL_COUNT] = {0};
    a[COL_layer] = b[COL_layer] = "attention";
    a[COL_attention] = b[COL_attention] = "performer";
    a[COL_score_std] = "4", b[COL_score_std] = "4.0";
    a[COL_seed] = "18446744073709551615", b[COL_seed] = "018446744073709551615";
    a[COL_features] = b[COL_features] = "17";
    a[COL_time_median_s] = "1", b[COL_time_median_s] = "2"; /* not identity */
    char *ka = point_id_fields(a), *kb = point_id_fields(b);
    CHECK(ka && kb && !strcmp(ka, kb), "4 and 4.0 (and timing) make one point: '%s' vs '%s'", ka, kb);
    b[COL_features] = "64";
    char *kc = point_id_fields(b);
    CHECK(kc && strcmp(ka, kc), "features 17 and 64 are two points");
    b[COL_features] = "17", b[COL_seed] = "18446744073709551614";
    char *kd = point_id_fields(b);
    CHECK(kd && strcmp(ka, kd), "seeds that differ in the last digit are two points");
    /* a checkpoint is known by its file name (rows survive a move); a
     * captured layer's directory by its path (leaf names repeat) */
    const char *m1[COL_COUNT] = {0}, *m2[COL_COUNT] = {0};
    m1[COL_regime] = m2[COL_regime] = "model";
    m1[COL_input] = "/elsewhere/models/stories260K.bin", m2[COL_input] = "data/stories260K.bin";
    char *km1 = point_id_fields(m1), *km2 = point_id_fields(m2);
    CHECK(km1 && km2 && !strcmp(km1, km2), "a moved checkpoint is the same point: '%s' vs '%s'", km1, km2);
    m2[COL_input] = "data/babyllama105.bin";
    free(km2);
    km2 = point_id_fields(m2);
    CHECK(km2 && strcmp(km1, km2), "two checkpoints are two points");
    m1[COL_regime] = m2[COL_regime] = "prefill";
    m1[COL_input] = "a/real/layer0", m2[COL_input] = "b/real/layer0";
    free(km1), free(km2);
    km1 = point_id_fields(m1), km2 = point_id_fields(m2);
    CHECK(km1 && km2 && strcmp(km1, km2), "two capture directories with one leaf name are two points");
    free(km1), free(km2);
    point_set set = {0};
    size_t first = 99;
    CHECK(point_set_add(&set, ka, 1, NULL) == 1 && point_set_add(&set, kb, 2, &first) == 0 && first == 1,
          "a key added twice is found with its first value (%zu)", first);
    CHECK(point_set_add(&set, kc, 3, NULL) == 1 && point_set_add(&set, kd, 4, NULL) == 1 && set.count == 3,
          "three distinct keys: %zu", set.count);
    for (size_t i = 0; i < 5000; i++) { /* growth keeps every key */
        char *k;
        if (asprintf(&k, "key%zu", i) < 0) break;
        point_set_add(&set, k, i, NULL);
    }
    size_t v = 0;
    CHECK(set.count == 5003 && point_set_find(&set, "key4321", &v) && v == 4321, "5003 keys: %zu", set.count);
    point_set_free(&set);

    CHECK(result_status_find("nonfinite") == ST_nonfinite && result_status_find("ok") == ST_ok &&
          result_status_find("bogus") == -1, "status names");

    char path[] = "/tmp/test_results_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, "\n  \n\n", 5) == 5, "blank file");
    if (fd >= 0) close(fd);
    result_row r;
    row_init(&r);
    row_set(&r, COL_status, "ok");
    int wrote = 0;
    CHECK(results_append(path, &r, &wrote) == 0 && wrote == 1, "a blank file gets the header (wrote %d)", wrote);
    char *text = NULL, err[256];
    size_t len = 0;
    CHECK(readfile_all(path, READFILE_CSV_MAX, &text, &len, err, sizeof err) == 0 && text &&
          !strncmp(text, "layer,attention,", 16), "the header comes first: '%.20s'", text ? text : "");
    free(text);
    unlink(path);
    row_free(&r);

    CHECK(readfile_all("/dev/zero", READFILE_CSV_MAX, &text, &len, err, sizeof err) == -1 &&
          strstr(err, "character device"), "/dev/zero refused: %s", err);
    char fifo[] = "/tmp/test_results_fifo_XXXXXX";
    int tfd = mkstemp(fifo);
    if (tfd >= 0) { close(tfd); unlink(fifo); }
    CHECK(mkfifo(fifo, 0600) == 0 && readfile_all(fifo, 100, &text, &len, err, sizeof err) == -1 &&
          strstr(err, "FIFO"), "a FIFO refused at once: %s", err);
    unlink(fifo);
    CHECK(readfile_all("/tmp", 100, &text, &len, err, sizeof err) == -1 && strstr(err, "is a directory"),
          "a directory refused: %s", err);
    CHECK(readfile_all("/nonexistent/x.csv", 100, &text, &len, err, sizeof err) == -1 &&
          strstr(err, strerror(ENOENT)), "ENOENT named: %s", err);
}

/* the one finiteness check every command's row passes (row_emit): an ok row
 * with NaN or Inf in a numeric column, a list value included, is nonfinite
 * with the columns named before its old note; text columns and rows of any
 * other status are left alone */
static void test_finite_check(void) {
    result_row r;
    row_init(&r);
    row_set(&r, COL_status, "ok");
    row_set(&r, COL_input, "inf"); /* a path, not a number */
    row_set(&r, COL_layers, "all");
    row_set(&r, COL_nll, "2.9");
    row_set(&r, COL_kl, "0");
    CHECK(row_check_finite(&r) == 0 && !strcmp(row_get(&r, COL_status), "ok"), "a finite row stays ok: %s", row_get(&r, COL_status));
    /* eval's row from the issue: one finite weight of 3e38 */
    row_set(&r, COL_nll, "%g", -NAN);
    row_set(&r, COL_dnll, "%g", NAN);
    row_set(&r, COL_layer_rel_err, "0.1;%g", INFINITY);
    row_set(&r, COL_note, "exact nll -nan; sampled");
    CHECK(row_check_finite(&r) == 1 && !strcmp(row_get(&r, COL_status), "nonfinite"), "status %s", row_get(&r, COL_status));
    CHECK(!strcmp(row_get(&r, COL_note), "not finite: nll -nan, dnll nan, layer_rel_err 0.1;inf; exact nll -nan; sampled"),
          "note: %s", row_get(&r, COL_note));
    CHECK(row_check_finite(&r) == 0, "a nonfinite row is left as it is");
    /* another status keeps its note (run's first bad element, an oom's cause) */
    row_set(&r, COL_status, "oom");
    row_set(&r, COL_note, "workspace");
    CHECK(row_check_finite(&r) == 0 && !strcmp(row_get(&r, COL_note), "workspace"), "oom row: %s", row_get(&r, COL_note));
    row_free(&r);
    row_init(&r);
    row_set(&r, COL_status, "ok");
    row_set(&r, COL_time_median_s, "-inf");
    CHECK(row_check_finite(&r) == 1 && !strcmp(row_get(&r, COL_note), "not finite: time_median_s -inf"), "no old note: %s",
          row_get(&r, COL_note));
    row_free(&r);
}

int main(void) {
    test_finite_check();
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
    test_integrity();
    return check_summary("test_results");
}

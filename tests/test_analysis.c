/* test_analysis.c — what `analyze`, `merge` and the sweep's resume rest on:
 * the log-log fit, the Pareto front, the CSV reader (torn last line, rows of
 * the wrong width, quoted fields, a malformed line that spoils only itself,
 * a repeated header line) with its writer, and the figure data the
 * gnuplot scripts read (panels in rows, series kept out of the legend,
 * marks on the edge); and the analysis's rules: a decode row never enters a
 * prefill fit, rows that differ in a knob are never one line, memory below
 * the measurement's resolution is the counted workspace, a point that did
 * not run is a mark on the edge, and the headline's data is written. */
#include "check.h"
#include "csv_table.h"
#include "figure.h"
#include "figures.h"
#include "fit.h"
#include "results.h"
#include "rows.h"
#include "scaling.h"
#include "summary.h"

static void test_fit(void) {
    double x[6] = {256, 512, 1024, 2048, 4096, 8192}, y[6], slope;
    for (int i = 0; i < 6; i++) y[i] = 3.0 * x[i] * x[i];
    CHECK(fit_loglog(x, y, 6, &slope) == 6 && fabs(slope - 2) < 1e-12, "n^2: slope %.15g", slope);
    for (int i = 0; i < 6; i++) y[i] = 7.0;
    CHECK(fit_loglog(x, y, 6, &slope) == 6 && fabs(slope) < 1e-12, "constant: slope %.15g", slope);
    /* non-positive and non-finite values take no part */
    for (int i = 0; i < 6; i++) y[i] = x[i];
    y[1] = 0;
    y[4] = NAN;
    CHECK(fit_loglog(x, y, 6, &slope) == 4 && fabs(slope - 1) < 1e-12, "with holes: slope %.15g", slope);
    double same[3] = {64, 64, 64}, yy[3] = {1, 2, 3};
    CHECK(fit_loglog(same, yy, 3, &slope) == 3 && isnan(slope), "one x: slope %g, want NAN", slope);
    CHECK(fit_loglog(x, y, 1, &slope) == 1 && isnan(slope), "one point: slope %g", slope);
}

static void test_pareto(void) {
    /* memory, error; the front is 0 (least memory), 2, 4 (least error) */
    double mem[6] = {10, 20, 30, 40, 50, 30};
    double err[6] = {5, 6, 1, 2, 0.5, 1.0};
    size_t idx[6];
    size_t n = pareto_front(mem, err, 6, 0, idx);
    CHECK(n == 3 && idx[0] == 0 && idx[1] == 2 && idx[2] == 4, "front of %zu: %zu %zu %zu", n,
          idx[0], n > 1 ? idx[1] : 99, n > 2 ? idx[2] : 99);
    /* a tie in memory and error: one of them, the first */
    CHECK(idx[1] == 2, "tie kept the later point %zu", idx[1]);
    /* with a tolerance, an error within 5% of a cheaper one does not count */
    double m2[3] = {1, 100, 200}, e2[3] = {1.00e-6, 0.99e-6, 0.5e-6};
    n = pareto_front(m2, e2, 3, 0.05, idx);
    CHECK(n == 2 && idx[0] == 0 && idx[1] == 2, "tolerance: front of %zu (%zu %zu)", n, idx[0], n > 1 ? idx[1] : 99);
    n = pareto_front(m2, e2, 3, 0, idx);
    CHECK(n == 3, "no tolerance: front of %zu, want 3", n);
    double m3[2] = {NAN, 1}, e3[2] = {0, 1};
    n = pareto_front(m3, e3, 2, 0, idx);
    CHECK(n == 1 && idx[0] == 1, "NAN memory takes no part");
    CHECK(pareto_front(m3, e3, 0, 0, idx) == 0, "empty");
}

static void test_table(void) {
    const char *text = "layer,attention,n,note\n"
                       "attention,vanilla,64,\n"
                       "attention,topk,128,\"a, quoted \"\"note\"\"\"\n"
                       "attention,short\n"              /* wrong width: dropped */
                       "\n"
                       "attention,chunked,256,x\n"
                       "attention,vanil";               /* torn: dropped */
    csv_table t;
    char err[256];
    CHECK(table_parse(text, strlen(text), &t, err, sizeof err) == 0, "parse: %s", err);
    CHECK(t.ncols == 4 && t.nrows == 3, "%zu cols, %zu rows", t.ncols, t.nrows);
    CHECK(t.bad_rows == 1, "bad rows %zu", t.bad_rows);
    CHECK(t.torn_bytes == strlen("attention,vanil"), "torn %zu", t.torn_bytes);
    CHECK(t.whole_bytes + t.torn_bytes == strlen(text), "whole %zu", t.whole_bytes);
    CHECK(table_col(&t, "n") == 2 && table_col(&t, "nope") == -1, "columns");
    if (t.nrows == 3) {
        CHECK(!strcmp(table_get(&t, 1, 3), "a, quoted \"note\""), "quoted field: [%s]", table_get(&t, 1, 3));
        CHECK(!strcmp(table_get(&t, 0, 3), ""), "empty field");
        CHECK(!strcmp(table_get(&t, 2, -1), ""), "column -1 is empty");
        /* written back and read again: the same fields */
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        CHECK(table_write_line(f, t.header, t.ncols) == 0, "write header");
        for (size_t r = 0; r < t.nrows; r++) CHECK(table_write_line(f, t.rows[r], t.ncols) == 0, "write row");
        fclose(f);
        csv_table u;
        CHECK(table_parse(buf, len, &u, err, sizeof err) == 0 && table_same_header(&t, &u) && u.nrows == 3,
              "round trip: %s", buf);
        for (size_t r = 0; r < u.nrows && r < 3; r++)
            for (size_t c = 0; c < u.ncols; c++)
                CHECK(!strcmp(t.rows[r][c], u.rows[r][c]), "row %zu col %zu: [%s] vs [%s]", r, c,
                      t.rows[r][c], u.rows[r][c]);
        CHECK(strstr(buf, "attention,vanilla,64,\n") != NULL, "numbers stay bare: %s", buf);
        table_free(&u);
        free(buf);
    }
    table_free(&t);
    /* nothing, or only a torn header: no columns, not an error */
    CHECK(table_parse("", 0, &t, err, sizeof err) == 0 && t.ncols == 0 && t.nrows == 0, "empty");
    table_free(&t);
    CHECK(table_parse("layer,att", 9, &t, err, sizeof err) == 0 && t.ncols == 0 && t.torn_bytes == 9, "torn header");
    table_free(&t);
    CHECK(table_read("/nonexistent/x.csv", &t, err, sizeof err) == -1 && strstr(err, "x.csv"), "missing: %s", err);
}

/* issue "nine ways", 4 and 5: a record is one line. A stray or unbalanced
 * quote spoils its own line only; a line equal to the header is no row. */
static void test_table_recovery(void) {
    static const struct {
        const char *what, *text, *last; /* last: the last row's first field */
        size_t rows, bad, first_bad, headers, first_header;
    } cases[] = {
        {"an unbalanced quote (sed '6a oops,\"')", "a,b,c\n1,2,3\noops,\"\n4,5,6\n7,8,9\n", "7", 3, 1, 3, 0, 0},
        {"a quoted field over a newline, then a line like a record", "a,b,c\n1,\"2\n4,5,6\n\"x\",y,z\n", "x", 2, 1, 2, 0, 0},
        {"a stray quote in a bare field", "a,b,c\n1,2\"x,3\n4,5,6\n", "4", 1, 1, 2, 0, 0},
        {"text after a closing quote", "a,b,c\n1,\"2\"x,3\n4,5,6\n", "4", 1, 1, 2, 0, 0},
        {"two records on one line (a bare CR)", "a,b,c\n1,2,3\r4,5,6\n7,8,9\n", "7", 1, 1, 2, 0, 0},
        {"CRLF line ends", "a,b,c\r\n1,2,3\r\n4,5,6\r\n", "4", 2, 0, 0, 0, 0},
        {"blank lines", "a,b,c\n\n1,2,3\n\n", "1", 1, 0, 0, 0, 0},
        {"a header twice (cat of shards)", "a,b,c\n1,2,3\na,b,c\n4,5,6\na,b,c\n7,8,9\n", "7", 3, 0, 0, 2, 3},
        {"a header quoted, and a header at the end", "a,b,c\n1,2,3\n\"a\",b,\"c\"\na,b,c\n", "1", 1, 0, 0, 2, 3},
        {"a header line, then a malformed one", "a,b,c\n1,2,3\na,b,c\n\"\n4,5,6\n", "4", 2, 1, 4, 1, 3},
    };
    char err[256];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        csv_table t;
        int rc = table_parse(cases[i].text, strlen(cases[i].text), &t, err, sizeof err);
        CHECK(rc == 0 && t.ncols == 3, "%s: rc %d, %zu cols: %s", cases[i].what, rc, t.ncols, err);
        CHECK(t.nrows == cases[i].rows && t.bad_rows == cases[i].bad && t.first_bad_line == cases[i].first_bad &&
                  t.header_rows == cases[i].headers && t.first_header_line == cases[i].first_header,
              "%s: %zu rows, %zu malformed (line %zu), %zu headers (line %zu); want %zu, %zu (%zu), %zu (%zu)",
              cases[i].what, t.nrows, t.bad_rows, t.first_bad_line, t.header_rows, t.first_header_line,
              cases[i].rows, cases[i].bad, cases[i].first_bad, cases[i].headers, cases[i].first_header);
        for (size_t r = 0; r < t.nrows; r++)
            CHECK(strcmp(t.rows[r][0], "a") && strcmp(t.rows[r][0], "oops"), "%s: row %zu is [%s]", cases[i].what, r,
                  t.rows[r][0]);
        CHECK(t.nrows && !strcmp(t.rows[t.nrows - 1][0], cases[i].last), "%s: the last row begins [%s], want [%s]",
              cases[i].what, t.nrows ? t.rows[t.nrows - 1][0] : "", cases[i].last);
        table_free(&t);
    }
    /* the header itself malformed: bad input, naming the line */
    csv_table t;
    err[0] = '\0';
    CHECK(table_parse("\na,\"b\nc\n", 8, &t, err, sizeof err) == -1 && strstr(err, "line 2"), "header: %s", err);
    /* a line break given to row_set is a blank: the row stays one line */
    result_row r;
    row_init(&r);
    row_set(&r, COL_note, "line1\nline2\r\n");
    char *line = row_to_line(&r);
    CHECK(line && strchr(line, '\n') == line + strlen(line) - 1 && strstr(line, "line1 line2  "), "row: %s", line);
    free(line);
    row_free(&r);
}

static void test_tint(void) {
    char c[8];
    color_tint("#0072B2", 0, c);
    CHECK(!strcmp(c, "#0072b2"), "tint 0: %s", c);
    color_tint("#000000", 1, c);
    CHECK(!strcmp(c, "#ffffff"), "tint 1: %s", c);
    color_tint("#000000", 0.5, c);
    CHECK(!strcmp(c, "#808080"), "tint 0.5: %s", c);
}

/* the whole of a small file, or NULL */
static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *buf = calloc(1, 65536);
    if (buf) buf[fread(buf, 1, 65535, f)] = '\0';
    fclose(f);
    return buf;
}

static void test_figure_meta(void) {
    char dir[] = "/tmp/test_analysis_XXXXXX";
    if (!mkdtemp(dir)) { CHECK(0, "mkdtemp"); return; }
    figure f;
    fig_init(&f, "t");
    snprintf(f.subtitle, sizeof f.subtitle, "top: synthetic\nbelow, \"real\" layers");
    f.ncols = 2;
    snprintf(f.panel_title[0], sizeof f.panel_title[0], "score std 4");
    snprintf(f.panel_title[2], sizeof f.panel_title[2], "layer0");
    snprintf(f.panel_xlabel[2], sizeof f.panel_xlabel[2], "workspace");
    fig_series *a = fig_series_get(&f, 1, "topk k=8", "#0072B2", 7, 1, 0);
    fig_series *b = fig_series_get(&f, 3, "topk k=8", "#0072B2", 7, 1, 0);
    fig_series *c = fig_series_get(&f, 3, "topk k=8 (twin)", "#4c9cc9", 6, 1, 0);
    CHECK(a && b && c && a != b, "series");
    if (a && b && c) {
        c->nokey = 1;
        fig_add(a, 1, 2);
        fig_add(b, 1, 3);
        fig_add(c, 1, 1);
    }
    CHECK(f.npanels == 3, "npanels %d", f.npanels);
    CHECK(fig_write(&f, dir, "x.csv") == 0, "fig_write");
    fig_free(&f);
    char path[128];
    snprintf(path, sizeof path, "%s/t.meta", dir);
    char *meta = slurp(path);
    CHECK(meta != NULL, "no %s", path);
    if (meta) {
        CHECK(strstr(meta, "npanels = 3\nncols = 2\n"), "ncols: %s", meta);
        CHECK(strstr(meta, "subtitle = \"top: synthetic\\nbelow, 'real' layers\"\n"), "subtitle's line break: %s", meta);
        CHECK(strstr(meta, "p_title[2] = \"\"; p_xlabel[2] = \"\"; p_first[2] = 1; p_last[2] = 0"), "a hole: %s", meta);
        CHECK(strstr(meta, "p_title[3] = \"layer0\"; p_xlabel[3] = \"workspace\""), "x label: %s", meta);
        /* series 3 (the twin) is out of the legend; series 2 repeats series 1's label */
        CHECK(strstr(meta, "s_key[1] = 1") && strstr(meta, "s_key[2] = 0") && strstr(meta, "s_key[3] = 0"), "keys: %s", meta);
        CHECK(strstr(meta, "nlegend = 1\n") && strstr(meta, "l_series[1] = 1\n"), "legend: %s", meta);
        free(meta);
    }
    /* one row: ncols is the number of panels */
    fig_init(&f, "u");
    fig_series *d = fig_series_get(&f, 2, "x", "#000000", 7, 1, 1);
    if (d) fig_add(d, 1, 1);
    CHECK(fig_write(&f, dir, "x.csv") == 0, "fig_write");
    fig_free(&f);
    snprintf(path, sizeof path, "%s/u.meta", dir);
    meta = slurp(path);
    CHECK(meta && strstr(meta, "npanels = 2\nncols = 2\n"), "one row: %s", meta ? meta : "(none)");
    free(meta);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "%s", cmd);
}

/* ---- the analysis's rules, on small tables ----------------------------------- */

/* a CSV of the rows given as "col=value col=value ..." strings, header first */
static char *csv_of(const char *const *rows, size_t n) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    char *h = results_header_line();
    fputs(h, f);
    free(h);
    for (size_t i = 0; i < n; i++) {
        result_row r;
        row_init(&r);
        char *copy = strdup(rows[i]), *save = NULL;
        for (char *kv = strtok_r(copy, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
            char *eq = strchr(kv, '=');
            *eq = '\0';
            row_set(&r, result_column_find(kv), "%s", eq + 1);
        }
        char *line = row_to_line(&r);
        fputs(line, f);
        free(line);
        free(copy);
        row_free(&r);
    }
    fclose(f);
    return buf;
}

static int load(data *d, const char *const *rows, size_t n) {
    char *text = csv_of(rows, n), err[256];
    csv_table t;
    int rc = table_parse(text, strlen(text), &t, err, sizeof err);
    free(text);
    CHECK(rc == 0, "parse: %s", err);
    if (rc) return -1;
    rc = data_load(d, &t, "test.csv");
    CHECK(rc == 0, "data_load: %d", rc);
    return rc;
}

#define SHAPE "layer=attention heads=8 d_head=64 causal=0 score_std=4 input=synthetic seed=1 threads=1"

/* the configuration of attention `a` whose first row has `col` = v, or NULL */
static const config *config_of(const data *d, const scaling *s, const char *a, int id, const char *v) {
    for (size_t i = 0; i < s->nc; i++)
        if (!strcmp(fld(d, s->c[i].first, COL_attention), a) && (!v || !strcmp(fld(d, s->c[i].first, id), v)))
            return &s->c[i];
    return NULL;
}

static void test_regime_filter(void) {
    /* vanilla's memory grows as n^2 in prefill; a decode row of the same
     * method and n, with a tiny memory, must not bend the slope */
    const char *rows[] = {
        SHAPE " attention=vanilla n=256 status=ok kernel_peak_bytes=1048576 workspace_bytes=1048576 time_median_s=1 rel_err=1e-6",
        SHAPE " attention=vanilla n=512 status=ok kernel_peak_bytes=4194304 workspace_bytes=4194304 time_median_s=4 rel_err=1e-6",
        SHAPE " attention=vanilla n=1024 status=ok kernel_peak_bytes=16777216 workspace_bytes=16777216 time_median_s=16 rel_err=1e-6",
        SHAPE " attention=vanilla n=2048 status=ok kernel_peak_bytes=100000 workspace_bytes=100000 time_median_s=1 rel_err=1e-6 regime=decode",
        SHAPE " attention=vanilla n=4096 status=ok kernel_peak_bytes=100000 workspace_bytes=100000 time_median_s=1 rel_err=1e-6 regime=model",
    };
    data d;
    if (load(&d, rows, 5)) return;
    CHECK(d.t.nrows == 3 && d.all.nrows == 5 && d.other_regimes == 2, "prefill view: %zu of %zu rows", d.t.nrows, d.all.nrows);
    scaling s;
    CHECK(scaling_init(&d, &s) == 0, "scaling_init");
    const config *g = config_of(&d, &s, "vanilla", COL_n, NULL);
    CHECK(g && g->ok.n == 3 && fabs(g->slope_peak - 2) < 1e-9 && fabs(g->slope_time - 2) < 1e-9,
          "vanilla's fit took %zu rows, slope %g", g ? g->ok.n : 0, g ? g->slope_peak : NAN);
    CHECK(regime_is_prefill("") && regime_is_prefill("prefill") && !regime_is_prefill("decode"), "regime names");
    scaling_free(&s);
    data_free(&d);
}

static void test_knob_separation(void) {
    /* two windows at three n each: two configurations, two lines */
    const char *rows[] = {
        SHAPE " attention=window sink=4 window=16 n=256 status=ok kernel_peak_bytes=100000 workspace_bytes=100000 time_median_s=1 rel_err=0.1",
        SHAPE " attention=window sink=4 window=16 n=512 status=ok kernel_peak_bytes=200000 workspace_bytes=200000 time_median_s=2 rel_err=0.1",
        SHAPE " attention=window sink=4 window=16 n=1024 status=ok kernel_peak_bytes=400000 workspace_bytes=400000 time_median_s=4 rel_err=0.1",
        SHAPE " attention=window sink=4 window=64 n=256 status=ok kernel_peak_bytes=800000 workspace_bytes=800000 time_median_s=1 rel_err=0.01",
        SHAPE " attention=window sink=4 window=64 n=512 status=ok kernel_peak_bytes=1600000 workspace_bytes=1600000 time_median_s=2 rel_err=0.01",
        SHAPE " attention=window sink=4 window=64 n=1024 status=ok kernel_peak_bytes=3200000 workspace_bytes=3200000 time_median_s=4 rel_err=0.01",
    };
    data d;
    if (load(&d, rows, 6)) return;
    CHECK(row_knob_cols(&d, 0) == (BIT(COL_sink) | BIT(COL_window)), "window's knobs: %#llx", (unsigned long long)row_knob_cols(&d, 0));
    scaling s;
    CHECK(scaling_init(&d, &s) == 0, "scaling_init");
    const config *a = config_of(&d, &s, "window", COL_window, "16"), *b = config_of(&d, &s, "window", COL_window, "64");
    CHECK(s.nc == 2 && a && b && a != b && a->ok.n == 3 && b->ok.n == 3, "%zu configurations", s.nc);
    CHECK(a && fabs(a->slope_peak - 1) < 1e-9, "window 16 alone: slope %g", a ? a->slope_peak : NAN);
    /* and two series in memory_vs_n, each named by its window */
    char dir[] = "/tmp/test_analysis_XXXXXX";
    if (mkdtemp(dir)) {
        CHECK(fig_memory_vs_n(&d, &s, dir) == 0, "memory_vs_n");
        char path[128];
        snprintf(path, sizeof path, "%s/memory_vs_n.meta", dir);
        char *meta = slurp(path);
        CHECK(meta && strstr(meta, "w=16") && strstr(meta, "w=64") && strstr(meta, "nseries = 2\n"), "series: %s",
              meta ? meta : "(none)");
        free(meta);
        snprintf(path, sizeof path, "rm -rf '%s'", dir);
        CHECK(system(path) == 0, "%s", path);
    }
    scaling_free(&s);
    data_free(&d);
}

static void test_memory_resolution(void) {
    const char *rows[] = {
        SHAPE " attention=chunked chunk=32 n=2048 status=ok kernel_peak_bytes=4096 workspace_bytes=32768 time_median_s=1 rel_err=1e-6",
        SHAPE " attention=chunked chunk=32 n=4096 status=ok kernel_peak_bytes=0 workspace_bytes=32768 time_median_s=2 rel_err=1e-6",
        SHAPE " attention=vanilla n=2048 status=ok kernel_peak_bytes=134217728 workspace_bytes=134217728 time_median_s=1 rel_err=1e-6",
    };
    data d;
    if (load(&d, rows, 3)) return;
    int c0, c1, c2;
    double m0 = row_memory(&d, 0, &c0), m1 = row_memory(&d, 1, &c1), m2 = row_memory(&d, 2, &c2);
    CHECK(m0 == 32768 && c0 == 1, "one page measured: %g (counted %d)", m0, c0);
    CHECK(m1 == 32768 && c1 == 1, "nothing measured: %g (counted %d)", m1, c1);
    CHECK(m2 == 134217728 && c2 == 0, "above the noise: %g (counted %d)", m2, c2);
    data_free(&d);
}

static void test_skipped_mark(void) {
    const char *rows[] = {
        SHAPE " attention=vanilla n=256 status=ok kernel_peak_bytes=1048576 workspace_bytes=1048576 time_median_s=1 rel_err=1e-6",
        SHAPE " attention=vanilla n=512 status=ok kernel_peak_bytes=4194304 workspace_bytes=4194304 time_median_s=4 rel_err=1e-6",
        SHAPE " attention=vanilla n=1024 status=ok kernel_peak_bytes=16777216 workspace_bytes=16777216 time_median_s=16 rel_err=1e-6",
        SHAPE " attention=vanilla n=4096 status=skipped note=over_the_limit",
    };
    data d;
    if (load(&d, rows, 4)) return;
    scaling s;
    CHECK(scaling_init(&d, &s) == 0, "scaling_init");
    char dir[] = "/tmp/test_analysis_XXXXXX";
    if (mkdtemp(dir)) {
        CHECK(fig_time_vs_n(&d, &s, dir) == 0, "time_vs_n");
        char path[128];
        snprintf(path, sizeof path, "%s/time_vs_n.meta", dir);
        char *meta = slurp(path);
        CHECK(meta && strstr(meta, "nmarks = 1\n") && strstr(meta, "mk_x[1] = 4096;") && strstr(meta, "vanilla: skipped"),
              "mark: %s", meta ? meta : "(none)");
        free(meta);
        /* and no point at n = 4096 among the series (only the baseline's rule) */
        snprintf(path, sizeof path, "%s/time_vs_n.dat", dir);
        char *dat = slurp(path), *series1 = dat ? strstr(dat, "# series 1") : NULL, *series2 = series1 ? strstr(series1 + 1, "# series") : NULL;
        if (series2) *series2 = '\0';
        CHECK(series1 && !strstr(series1, "\n4096 "), "a made-up point: %s", dat ? dat : "(none)");
        free(dat);
        snprintf(path, sizeof path, "rm -rf '%s'", dir);
        CHECK(system(path) == 0, "%s", path);
    }
    scaling_free(&s);
    data_free(&d);
}

static void test_headline(void) {
    const char *rows[] = {
        SHAPE " attention=vanilla n=2048 status=ok kernel_peak_bytes=134217728 workspace_bytes=134217728 time_median_s=1 rel_err=1e-6",
        SHAPE " attention=chunked chunk=256 n=2048 status=ok kernel_peak_bytes=4096 workspace_bytes=200000 time_median_s=1 rel_err=1e-6",
        SHAPE " attention=topk k=64 chunk=256 n=2048 status=ok kernel_peak_bytes=2000000 workspace_bytes=2000000 time_median_s=1 rel_err=0.01",
        "layer=attention heads=8 d_head=64 causal=0 score_std=1 input=synthetic seed=1 threads=1 attention=topk k=64 "
        "chunk=256 n=2048 status=ok kernel_peak_bytes=2000000 workspace_bytes=2000000 time_median_s=1 rel_err=0.5",
    };
    data d;
    if (load(&d, rows, 4)) return;
    scaling s;
    CHECK(scaling_init(&d, &s) == 0, "scaling_init");
    char dir[] = "/tmp/test_analysis_XXXXXX";
    if (mkdtemp(dir)) {
        CHECK(fig_headline(&d, &s, dir) == 0, "headline");
        char path[128];
        snprintf(path, sizeof path, "%s/headline.dat", dir);
        char *dat = slurp(path);
        /* panel 1 (score std 1): top-k; panel 2 (std 4): the three, chunked ringed (counted) and on the front */
        CHECK(dat && strstr(dat, "# panel 1\n2e+06 0.5 topk 64 1 0 0 "), "panel 1: %s", dat ? dat : "(none)");
        CHECK(dat && strstr(dat, "200000 1e-06 chunked 256 1 1 0 "), "chunked at its workspace: %s", dat ? dat : "");
        CHECK(dat && strstr(dat, "# panel 4"), "the real panel's block");
        free(dat);
        snprintf(path, sizeof path, "%s/headline.meta", dir);
        char *meta = slurp(path);
        CHECK(meta && strstr(meta, "h_count[1] = 1") && strstr(meta, "h_count[2] = 3") &&
              strstr(meta, "h_title[2] = \"prefill, score std 4\""), "meta: %s", meta ? meta : "(none)");
        free(meta);
        snprintf(path, sizeof path, "%s/families.gp", dir);
        char *fam = slurp(path);
        CHECK(fam && strstr(fam, "s eq \"window\" ? 13") && strstr(fam, "family_rgb(s)"), "families.gp: %s", fam ? fam : "(none)");
        free(fam);
        snprintf(path, sizeof path, "rm -rf '%s'", dir);
        CHECK(system(path) == 0, "%s", path);
    }
    scaling_free(&s);
    data_free(&d);
}

/* a FILE's text written by fn into a memory stream */
static char *written(void (*fn)(FILE *, const data *), const data *d) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fn(f, d);
    fclose(f);
    return buf;
}

#define WIN "layer=attention heads=8 d_head=64 score_std=4 input=synthetic seed=1 threads=1 attention=window sink=4 " \
            "n=2048 status=ok workspace_bytes=30000 time_median_s=1 "

static void test_window_causal(void) {
    /* the window study holds causal rows beside the non-causal ones: both in the table and the pair */
    const char *rows[] = {
        WIN "causal=0 window=16 rel_err=1.75", WIN "causal=1 window=16 rel_err=1.57",
        WIN "causal=0 window=1024 rel_err=0.83", WIN "causal=1 window=1024 rel_err=0.42",
        WIN "causal=0 window=64 rel_err=1.5",
    };
    data d;
    if (load(&d, rows, 5)) return;
    window_pair p;
    CHECK(window_causal_pair(&d, &p) == 0 && p.w == 1024 && p.err == 0.83 && p.err_causal == 0.42,
          "pair: w %g, %g / %g", p.w, p.err, p.err_causal);
    char *md = written(summary_window, &d);
    CHECK(md && strstr(md, "| 4 | s=4 w=1024 | 29.3 KiB* | 0.83 | 0.42 |\n") && strstr(md, "| 4 | s=4 w=64 | 29.3 KiB* | 1.5 | — |\n"),
          "window table: %s", md ? md : "(none)");
    free(md);
    data_free(&d);
}

static void summary_of(FILE *f, const data *d) {
    scaling s;
    CHECK(scaling_init(d, &s) == 0, "scaling_init");
    CHECK(summary_prefill(f, d, &s) == 0, "summary_prefill");
    scaling_free(&s);
}

static void test_not_run_regimes(void) {
    /* a decode row that did not run is listed with the prefill ones, with its status, L and note */
    const char *rows[] = {
        SHAPE " attention=vanilla n=256 status=skipped note=over_the_limit",
        SHAPE " attention=window sink=4 window=1024 n=1024 context=1024 regime=decode status=invalid note=larger_than_the_cache",
        SHAPE " attention=exact n=1024 context=1024 regime=decode status=ok step_time_s=0.001 cache_bytes=1000",
    };
    data d;
    if (load(&d, rows, 3)) return;
    char *md = written(summary_of, &d);
    char *sec = md ? strstr(md, "## Rows that did not run") : NULL;
    CHECK(sec && strstr(sec, "| skipped | prefill | vanilla |  | 256 | over_the_limit |\n") &&
          strstr(sec, "| invalid | decode | window | s=4 w=1024 | 1024 | larger_than_the_cache |\n") &&
          !strstr(sec, "| ok |"), "not run: %s", sec ? sec : "(none)");
    free(md);
    data_free(&d);
}

int main(void) {
    test_window_causal();
    test_not_run_regimes();
    test_regime_filter();
    test_knob_separation();
    test_memory_resolution();
    test_skipped_mark();
    test_headline();
    test_fit();
    test_pareto();
    test_table();
    test_table_recovery();
    test_tint();
    test_figure_meta();
    return check_summary("test_analysis");
}

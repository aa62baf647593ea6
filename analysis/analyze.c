/* analyze.c — `attnbench analyze CSV [--out DIR]`: what a results file says.
 *
 *   DIR/summary.md     per method at its best setting, scaling exponents
 *                      (log-log slope of memory and time against n),
 *                      crossovers against vanilla, the error / memory Pareto
 *                      fronts, the projection and feed-forward families, the
 *                      real study, the decode and model regimes, and the rows
 *                      that did not run;
 *   DIR/data/NAME.dat  the data of each figure of the registry (figures.h),
 *                      with a .meta beside it that scripts/NAME.gp loads.
 *
 * Rows whose status is not ok are kept to mark where a method stops, and
 * left out of every fit, front and line. Studies are found in the data, not
 * in the spec: a figure takes the largest slice of rows that agree on every
 * knob except the ones it plots. The files of the analysis, one idea each:
 * rows.c (row model, identity, knobs, memory), real.c (real layers and
 * twins), labels.c, scaling.c (slices and fits), compare.c (crossovers and
 * Pareto), figures.c + fig_*.c (the figure registry), summary*.c, and the
 * regimes' decode.c and model.c (regimes.h). */
#include "cli.h"
#include "analyze.h"
#include "figures.h"
#include "options.h"
#include "regimes.h"
#include "rows.h"
#include "scaling.h"
#include "summary.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const CMD = "analyze";

static const cli_opt opts[] = {
    {"out", "DIR", 0, "where to write (default: the CSV's directory)"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: attnbench analyze CSV [--out DIR]\n\n"
               "Reads a results CSV (a regular file of at most 1 GiB) and writes\n"
               "DIR/summary.md (each method at its best setting, scaling exponents, crossovers\n"
               "against vanilla, error/memory Pareto fronts, the projection and feed-forward\n"
               "families, the decode and model regimes, rows that did not run, points that rows\n"
               "hold twice) and the figure data DIR/data/NAME.dat + NAME.meta that\n"
               "scripts/figures.sh DIR draws. Rows whose status is not ok are kept for marking\n"
               "and left out of the fits.\n\n"
               "options:\n");
    cli_usage(f, opts, 1);
}

typedef struct {
    const char *csv, *out;
} analyze_args;

static int on_arg(void *ctx, int opt, const char *val) {
    analyze_args *a = ctx;
    if (opt == 0) { a->out = val; return 0; }
    if (a->csv) return bad_input(CMD, "unexpected argument '%s' (one CSV only)", val);
    a->csv = val;
    return 0;
}

static int make_dir(const char *path) {
    if (mkdir(path, 0755) == 0 || errno == EEXIST) return 0;
    fprintf(stderr, "attnbench analyze: cannot create %s: %s\n", path, strerror(errno));
    return -1;
}

/* summary.md: the prefill sections, the regimes' sections, the figures */
static int write_summary(const data *d, const scaling *s, const char *dir, const char *datadir) {
    char path[4200], err[600] = "";
    snprintf(path, sizeof path, "%s/summary.md", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "attnbench analyze: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = summary_prefill(f, d, s);
    if (!rc && analyze_decode(&d->all, d->path, datadir, f, err, sizeof err)) rc = -1;
    if (!rc && analyze_model(&d->all, d->path, datadir, f, err, sizeof err)) rc = -1;
    if (!rc && summary_verdicts(f, d, s)) rc = -1;
    if (!rc) summary_figures(f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rc) {
        fprintf(stderr, "attnbench analyze: cannot write %s%s%s\n", path, *err ? ": " : "", err);
        return -1;
    }
    return 0;
}

int cmd_analyze(int argc, char **argv) {
    analyze_args a = {0};
    int prc = cli_parse(CMD, opts, 1, argc, argv, on_arg, &a);
    if (prc == 1) { usage(stdout); return 0; }
    if (prc) return prc;
    const char *csv = a.csv, *out = a.out;
    struct stat ost;
    if (out && stat(out, &ost) == 0 && !S_ISDIR(ost.st_mode)) return bad_input(CMD, "--out %s: not a directory", out);
    if (!csv) return bad_input(CMD, "no CSV given (e.g. results/sweep.csv)");
    char dirbuf[4096];
    if (!out) {
        const char *slash = strrchr(csv, '/');
        snprintf(dirbuf, sizeof dirbuf, "%.*s", slash ? (int)(slash - csv) : 1, slash ? csv : ".");
        if (!dirbuf[0]) snprintf(dirbuf, sizeof dirbuf, "/");
        out = dirbuf;
    }

    csv_table t;
    char err[600];
    if (table_read(csv, &t, err, sizeof err)) return bad_input(CMD, "%s", err);
    if (!t.ncols) { table_free(&t); return bad_input(CMD, "%s: empty, no header", csv); }
    data d;
    int drc = data_load(&d, &t, csv);
    if (drc == -2) {
        data_free(&d);
        return bad_input(CMD, "%s: not a results CSV (no status, n or attention column)", csv);
    }
    if (d.all.torn_bytes) fprintf(stderr, "attnbench analyze: %s: left out a torn last line\n", csv);
    table_note_left_out(&d.all, CMD, csv);
    if (!drc && d.doubled)
        fprintf(stderr, "attnbench analyze: %s: warning: %zu row(s) repeat the point of an earlier row, e.g. %s "
                        "(summary.md lists them)\n", csv, d.doubled, d.doubled_example);

    char datadir[4200];
    snprintf(datadir, sizeof datadir, "%s/data", out);
    scaling s = {0};
    int rc = 1;
    if (make_dir(out) || make_dir(datadir)) goto done;
    if (drc || scaling_init(&d, &s)) {
        fprintf(stderr, "attnbench analyze: out of memory\n");
        goto done;
    }
    int bad = 0;
    for (const fig_entry *e = fig_registry; e->name; e++) bad |= e->build(&d, &s, datadir) != 0;
    bad |= write_summary(&d, &s, out, datadir) != 0;
    if (!bad) {
        fprintf(stderr, "attnbench analyze: %zu rows -> %s/summary.md, %s/*.dat\n", d.all.nrows, out, datadir);
        rc = 0;
    }
done:
    scaling_free(&s);
    data_free(&d);
    return rc;
}

/* summary.c — the prefill sections of summary.md (summary.h): rows by
 * status, n-scaling slopes, crossovers against the baseline, Pareto fronts,
 * rows that did not run. Every memory figure here is row_memory: the
 * measured kernel peak, or the counted workspace where the peak is below
 * 1 MiB (marked *). */
#include "compare.h"
#include "env.h"
#include "figures.h"
#include "labels.h"
#include "regime_rows.h"
#include "results.h"
#include "summary.h"
#include "traits.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the .env facts worth a line in the summary */
void summary_env(FILE *f, const char *csv) {
    char *path = env_sidecar_path(csv);
    FILE *e = path ? fopen(path, "r") : NULL;
    if (!e) { free(path); return; }
    static const char *const keys[] = {"cpu_model", "cores_online", "blas", "blas_core", "commit", "date", NULL};
    char line[4096];
    fprintf(f, "Machine and build (from `%s`):", path);
    while (fgets(line, sizeof line, e)) {
        line[strcspn(line, "\n")] = '\0';
        for (int i = 0; keys[i]; i++) {
            size_t kl = strlen(keys[i]);
            if (!strncmp(line, keys[i], kl) && line[kl] == '=') fprintf(f, " %s `%s`;", keys[i], line + kl + 1);
        }
    }
    fprintf(f, "\n\n");
    fclose(e);
    free(path);
}


static void summary_status(FILE *f, const data *d) {
    fprintf(f, "Rows by status:");
    for (int i = 0; i < ST_COUNT; i++) {
        size_t count = 0;
        for (size_t r = 0; r < d->t.nrows; r++) count += !strcmp(status_of(d, r), result_status_names[i]);
        if (count) fprintf(f, " %s %zu;", result_status_names[i], count);
    }
    fprintf(f, " rows that are not `ok` mark where a method stops and take no part in any fit.");
    if (d->other_regimes)
        fprintf(f, " %zu row(s) of other regimes (decode, model) are left out of every prefill section and "
                   "have their own below.", d->other_regimes);
    double lo = INFINITY, hi = 0; /* the resident set against the counted workspace below 1 MiB */
    for (size_t r = 0; r < d->t.nrows; r++) {
        double peak = num(d, r, d->peak), ws = num(d, r, d->ws);
        if (!is_ok(d, r) || !(ws > 0 && ws < RSS_RESOLUTION && peak > NOISE_PAGES * PAGE)) continue;
        lo = fmin(lo, peak / ws);
        hi = fmax(hi, peak / ws);
    }
    fprintf(f, "\n\nMemory in every conclusion below (tables, fronts, crossovers, \"holds less\") is the measured "
               "kernel peak (resident-set growth during the calls) from 1 MiB up; below 1 MiB the allocator's counted "
               "workspace stands in (marked * in the tables), since the resident set does not resolve it");
    if (hi > 0) fprintf(f, " (below 1 MiB its readings range %.2fx–%.2fx the counted workspace)", lo, hi);
    fprintf(f, ".\n\n");
}

static void summary_scaling(FILE *f, const data *d, const scaling *sc) {
    fprintf(f, "## Scaling with n\n\n"
               "Least-squares slope of log(y) against log(n) over each configuration's ok rows "
               "(at least 3 values of n): 1 is linear, 2 quadratic. Memory as above (rows: how many of "
               "them are the counted workspace); workspace is the allocator's count throughout. A point measured again "
               "with another seed (the chunk study re-measures one of these) is a configuration of its own: each fit, "
               "here and in the claims below, takes one seed's rows.\n\n"
               "| method | knobs | fixed | n | rows | memory | workspace | time |\n"
               "| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    size_t shown = 0;
    for (size_t i = 0; i < sc->nc; i++) {
        const config *g = &sc->c[i];
        if (g->distinct_n < 3) continue;
        char label[200], knobs[100], fixed[300], a[32], b[32], t[32], cnt[32] = "";
        method_label(d, g->first, label, sizeof label);
        knob_label(d, g->first, knob_cols(), knobs, sizeof knobs);
        study_text(d, &g->ok, BIT(COL_n) | method_cols(), fixed, sizeof fixed);
        double lo = INFINITY, hi = 0;
        for (size_t j = 0; j < g->ok.n; j++) {
            double n = idnum(d, g->ok.r[j], COL_n);
            lo = fmin(lo, n);
            hi = fmax(hi, n);
        }
        fmt_slope(g->slope_peak, a, sizeof a);
        fmt_slope(g->slope_ws, b, sizeof b);
        fmt_slope(g->slope_time, t, sizeof t);
        if (g->counted) snprintf(cnt, sizeof cnt, " (%zu*)", g->counted);
        fprintf(f, "| %s | %s | %s | %g–%g | %zu%s | %s | %s | %s |\n", label, *knobs ? knobs + 1 : "",
                fixed, lo, hi, g->ok.n, cnt, a, b, t);
        shown++;
    }
    if (!shown) fprintf(f, "| (no configuration ran at 3 or more n) | | | | | | | |\n");
}

static void summary_crossovers(FILE *f, const data *d, const scaling *sc) {
    fprintf(f, "\n## Crossovers against %s\n\n"
               "The smallest n from which a method uses less memory (or time) than %s with "
               "the same heads, sizes and input at every larger n compared; an n where %s "
               "did not run counts as a win.\n\n"
               "| method | knobs | n compared | memory | memory (workspace) | time |\n"
               "| --- | --- | --- | --- | --- | --- |\n", baseline_name(), baseline_name(), baseline_name());
    size_t shown = 0;
    for (size_t i = 0; i < sc->np; i++) {
        const config *g = &sc->c[sc->pick[i]];
        if (!is_attention(d, g->first) || op_baseline(fld(d, g->first, COL_attention))) continue;
        versus v;
        compare_with_baseline(d, g, &v);
        if (!v.count) continue;
        char label[200], knobs[100], mp[32], mw[32], mt[32];
        method_label(d, g->first, label, sizeof label);
        knob_label(d, g->first, knob_cols(), knobs, sizeof knobs);
        fmt_from(crossover(&v, v.beat_peak), mp, sizeof mp);
        fmt_from(crossover(&v, v.beat_ws), mw, sizeof mw);
        fmt_from(crossover(&v, v.beat_time), mt, sizeof mt);
        fprintf(f, "| %s | %s | %g–%g (%zu) | %s | %s | %s |\n", label, *knobs ? knobs + 1 : "", v.n[0],
                v.n[v.count - 1], v.count, mp, mw, mt);
        shown++;
    }
    if (!shown) fprintf(f, "| (no n-scaling rows beside %s) | | | | | |\n", baseline_name());
}

static int summary_pareto(FILE *f, const data *d) {
    fprintf(f, "\n## Error / memory Pareto fronts\n\n"
               "Per n and score std, or real layer (and the other fixed knobs), the configurations that no other "
               "beats on both memory and rel_err (errors within 5%% tie: float32 rounding separates the exact "
               "methods by less), in increasing memory.\n\n"
               "| n | score std | fixed | method | knobs | memory | rel_err |\n"
               "| --- | --- | --- | --- | --- | --- | --- |\n");
    pareto_group *gs;
    size_t ng;
    int over = 0;
    if (pareto_groups(d, &gs, &ng)) return -1;
    for (size_t k = 0; k < ng; k++) {
        const pareto_group *g = &gs[k];
        rowset rs = {g->rows, g->m, g->m};
        char fixed[300];
        study_text(d, &rs, BIT(COL_n) | BIT(COL_score_std) | method_cols() | BIT(COL_d_model), fixed, sizeof fixed);
        for (size_t i = 0; i < g->nf; i++) {
            size_t j = g->front[i], q = g->rows[j];
            char label[200], knobs[100], mb[32];
            method_label(d, q, label, sizeof label);
            knob_label(d, q, knob_cols(), knobs, sizeof knobs);
            fmt_bytes(g->mem[j], mb, sizeof mb);
            fprintf(f, "| %s | %s | %s | %s | %s | %s%s | %.3g |\n", fld(d, q, COL_n),
                    *fld(d, q, COL_score_std) ? fld(d, q, COL_score_std) : input_name(d, q), i ? "" : fixed, label,
                    *knobs ? knobs + 1 : "", mb, g->counted[j] ? "*" : "", g->err[j]);
            over |= g->err[j] > 1;
        }
    }
    if (!ng) fprintf(f, "| (no n with 3 or more ok rows of 2 or more methods) | | | | | | |\n");
    note_over_one(f, over);
    pareto_groups_free(gs, ng);
    return 0;
}

/* a note for a table cell: no '|' */
static void cell_note(const char *in, char *out, size_t cap) {
    snprintf(out, cap, "%s", in);
    for (char *p = out; *p; p++) if (*p == '|') *p = '/';
}

#define NOT_RUN_HEAD "| status | regime | method | knobs | n (decode: L) | note |\n| --- | --- | --- | --- | --- | --- |\n"

/* the decode and model rows that are not ok, after `shown` prefill ones; how many */
static size_t summary_not_run_regimes(FILE *f, const csv_table *all, size_t shown) {
    rtab rt;
    rt_init(&rt, all);
    size_t n = 0;
    for (size_t r = 0; r < all->nrows; r++) {
        if (regime_is_prefill(rt_get(&rt, r, COL_regime)) || rt_ok(&rt, r)) continue;
        if (!shown && !n) fprintf(f, NOT_RUN_HEAD);
        n++;
        char fam[100], set[64], note[300];
        double knob = 0;
        decode_family(&rt, r, fam, sizeof fam, &knob);
        family_setting(fam, knob, rt_family_minor(&rt, r, fam), set, sizeof set);
        cell_note(rt_get(&rt, r, COL_note), note, sizeof note);
        int dec = rt_regime(&rt, r, "decode");
        fprintf(f, "| %s | %s | %s | %s | %s | %s |\n", rt_get(&rt, r, COL_status), rt_get(&rt, r, COL_regime), fam, set,
                rt_get(&rt, r, dec ? COL_context : COL_n), note);
    }
    return n;
}

static void summary_not_run(FILE *f, const data *d) {
    fprintf(f, "\n## Rows that did not run\n\n");
    size_t shown = 0;
    for (size_t r = 0; r < d->t.nrows; r++) {
        if (is_ok(d, r)) continue;
        if (!shown++) fprintf(f, NOT_RUN_HEAD);
        char label[200], knobs[100], note[300];
        method_label(d, r, label, sizeof label);
        knob_label(d, r, knob_cols(), knobs, sizeof knobs);
        cell_note(table_get(&d->t, r, d->note), note, sizeof note);
        fprintf(f, "| %s | prefill | %s | %s | %s | %s |\n", status_of(d, r), label, *knobs ? knobs + 1 : "",
                fld(d, r, COL_n), note);
    }
    shown += summary_not_run_regimes(f, &d->all, shown);
    if (!shown) fprintf(f, "Every row is ok.\n");
    if (d->doubled) /* a point is one row: more is a doubled sweep */
        fprintf(f, "\n## Doubled points\n\n%zu row(s) repeat a point (its method and knobs) that an earlier "
                   "row holds, e.g. %s. Every figure and fit above took each of those rows; rerun the sweep "
                   "into a new file, or merge, to have each point once.\n", d->doubled, d->doubled_example);
    const csv_table *t = &d->all; /* lines read as no row (csv_table.h) */
    if (t->bad_rows || t->header_rows) fprintf(f, "\n## Lines left out\n\n");
    if (t->bad_rows)
        fprintf(f, "%zu malformed line(s), the first line %zu: not one CSV record as wide as the header. ",
                t->bad_rows, t->first_bad_line);
    if (t->header_rows) fprintf(f, "%zu repeated header line(s), the first line %zu. ", t->header_rows, t->first_header_line);
    if (t->bad_rows || t->header_rows) fprintf(f, "They took no part above; the file keeps them.\n");
}

int summary_prefill(FILE *f, const data *d, const scaling *s) {
    fprintf(f, "# attnbench results\n\n"
               "Written by `attnbench analyze` from `%s` (%zu rows). Do not edit: `make sweep` "
               "regenerates it.\n\n", d->path, d->all.nrows);
    summary_env(f, d->path);
    summary_status(f, d);
    summary_methods(f, d);
    summary_scaling(f, d, s);
    summary_crossovers(f, d, s);
    if (summary_pareto(f, d)) return -1;
    summary_window(f, d);
    summary_projections(f, d);
    summary_ffn(f, d);
    summary_real(f, d);
    summary_not_run(f, d);
    return 0;
}

void summary_figures(FILE *f) {
    fprintf(f, "\n## Figures\n\n");
    for (const fig_entry *e = fig_registry; e->name; e++)
        fprintf(f, "- [%s](figures/%s.svg) ![%s](figures/%s.png)\n", e->name, e->name, e->name, e->name);
}

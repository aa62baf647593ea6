/* fig_memory.c — error against memory: error_vs_memory (a panel per score
 * std, a panel per real layer) and the README's headline figure (headline.gp:
 * prefill at a few score stds, the real layers pooled, and the regimes'
 * serving and model planes, which analyze_decode / analyze_model write).
 *
 * One marker shape per family, one colour per family lightened for a small
 * knob value; memory is row_memory: where the measured kernel peak is within
 * NOISE_PAGES pages of zero, the counted workspace, ringed. */
#include "compare.h"
#include "figures.h"
#include "fit.h"
#include "labels.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the halo around a point whose memory is the counted workspace */
static const char *const COUNTED_LABEL = "ringed: peak below 16 KiB, drawn at counted workspace";

/* the score stds of the synthetic slice s, ascending, at most max; returns how many */
static int score_stds(const data *d, const rowset *s, double *stds, int max) {
    int nstd = 0;
    for (size_t i = 0; i < s->n; i++) {
        double v = idnum(d, s->r[i], COL_score_std);
        int seen = 0;
        for (int j = 0; j < nstd; j++) seen |= stds[j] == v || (isnan(v) && isnan(stds[j]));
        if (!seen && nstd < max) stds[nstd++] = v;
    }
    for (int a = 0; a < nstd; a++)
        for (int b = a + 1; b < nstd; b++)
            if (stds[b] < stds[a]) { double t = stds[a]; stds[a] = stds[b]; stds[b] = t; }
    return nstd;
}

static int same_std(double v, double w) { return v == w || (isnan(v) && isnan(w)); }

/* One set of points in panel `panel` of error_vs_memory: rows[0..m) as
 * points (hollow and out of the legend for a twin) and their Pareto front
 * as a staircase ending at its last point. mem, err, front: room for m. */
static void memory_points(const data *d, figure *f, int panel, const size_t *rows, size_t m, int twin,
                          int use_ws, double *mem, double *err, size_t *front) {
    for (size_t i = 0; i < m; i++) {
        size_t r = rows[i];
        char label[200], knobs[100], full[320], color[8], fam[128];
        method_label(d, r, label, sizeof label);
        knob_label(d, r, knob_cols() & ~tuning_cols(), knobs, sizeof knobs);
        snprintf(full, sizeof full, "%s%s%s", label, knobs, twin ? " (twin)" : "");
        family_of(d, r, fam, sizeof fam);
        ramp_color(family_color(fam), knob_value(d, r), color);
        int pt = family_marker(fam), counted = 0;
        fig_series *se = fig_series_get(f, panel, full, color, twin ? hollow_point(pt) : pt, 1, 0);
        if (se) {
            se->order = method_order(d, r) * 1e9 + knob_value(d, r);
            se->nokey = twin;
        }
        mem[i] = use_ws ? fmax(num(d, r, d->ws), 1) : row_memory(d, r, &counted);
        err[i] = fmax(num(d, r, d->rel_err), 1e-12);
        if (se) fig_add(se, mem[i], err[i]);
        fig_series *halo = counted ? fig_series_get(f, panel, COUNTED_LABEL, "#666666", 6, 1, 0) : NULL;
        if (halo) {
            halo->ps = 2.2;
            halo->order = 1e12;
            fig_add(halo, mem[i], err[i]);
        }
    }
    size_t nf = pareto_front(mem, err, m, ERR_TIE, front);
    fig_series *fs = !nf ? NULL : twin ? fig_series_get(f, panel, "Pareto front of the synthetic twin", "#999999", 7, 3, 1)
                                       : fig_series_get(f, panel, "Pareto front", "#555555", 7, 2, 1);
    if (!fs) return;
    fs->order = twin ? -0.5 : -1;
    fs->ps = 0;
    fs->lw = 1.2;
    /* a staircase: what the least memory up to x buys, ending at the last front point */
    for (size_t i = 0; i < nf; i++) {
        if (i) fig_add(fs, mem[front[i]], err[front[i - 1]]);
        fig_add(fs, mem[front[i]], err[front[i]]);
    }
}

/* the synthetic and real slices error_vs_memory and the headline draw:
 * every method and knob free but the chunk (the chunk study is its own
 * figure), one n, heads, head sim ... */
static void memory_slices(const data *d, rowset *s, rowset *real) {
    rows_where(d, s, keep_attention_err);
    slice(d, s, (method_cols() & ~tuning_cols()) | BIT(COL_score_std));
    real_rows_where(d, real, keep_attention_err);
    slice(d, real, (method_cols() & ~tuning_cols()) | INPUT_COLS);
}

/* error against memory at one n: a panel per score std of the synthetic
 * study, and below them a panel per real layer with its twin (memory: the
 * counted workspace, so a layer and its twin sit at the same memory).
 * Long for its panel layout, kept in one place. */
int fig_error_vs_memory(const data *d, const scaling *sc, const char *datadir) {
    (void)sc;
    figure f;
    fig_init(&f, "error_vs_memory");
    rowset s = {0}, real = {0};
    memory_slices(d, &s, &real);
    char ctx[300];
    study_text(d, &s, BIT(COL_score_std) | method_cols(), ctx, sizeof ctx);
    size_t len = (size_t)snprintf(f.subtitle, sizeof f.subtitle, "%s; memory: measured kernel peak, or where "
                                  "that is within 16 KiB of zero the counted workspace (ringed)", ctx);
    enum { ROW = FIG_MAX_PANELS / 2 };
    double stds[ROW];
    int nstd = score_stds(d, &s, stds, ROW);
    const real_layer *lay[ROW];
    int nlay = 0;
    for (size_t i = 0; i < d->nlayers && nlay < ROW; i++) {
        int has = 0;
        for (size_t j = 0; j < real.n && !has; j++) has = !strcmp(fld(d, real.r[j], COL_input), d->layers[i].input);
        if (has) lay[nlay++] = &d->layers[i];
    }
    int ncols = nstd > nlay ? nstd : nlay, below = nstd ? ncols : 0;
    f.ncols = ncols ? ncols : 1;
    f.npanels = nlay ? below + nlay : (nstd ? nstd : 1);
    for (int p = 0; p < nstd; p++) {
        if (isnan(stds[p])) snprintf(f.panel_title[p], sizeof f.panel_title[p], "input tensors");
        else snprintf(f.panel_title[p], sizeof f.panel_title[p], "score std %g", stds[p]);
    }
    if (nlay && len < sizeof f.subtitle) {
        char more[400];
        study_text(d, &real, method_cols() | INPUT_COLS, ctx, sizeof ctx);
        snprintf(more, sizeof more, "%sreal layers (filled) and their synthetic twins (hollow, same logit std): "
                 "%.200s; memory: counted workspace", nstd ? "\nbelow, " : "", ctx);
        size_t add = strlen(more) < sizeof f.subtitle - 1 - len ? strlen(more) : sizeof f.subtitle - 1 - len;
        memcpy(f.subtitle + len, more, add);
        f.subtitle[len + add] = '\0';
    }
    for (int i = 0; i < nlay; i++) {
        char twin[64] = "no twin";
        if (isfinite(lay[i]->twin_std)) snprintf(twin, sizeof twin, "twin: score std %g", lay[i]->twin_std);
        snprintf(f.panel_title[below + i], sizeof f.panel_title[below + i], "%s: logit std %.3g; %s",
                 lay[i]->name, lay[i]->logit_std, twin);
        snprintf(f.panel_xlabel[below + i], sizeof f.panel_xlabel[below + i], "workspace (bytes counted, log)");
    }
    size_t cap = s.n + real.n + 1;
    double *mem = malloc(cap * sizeof *mem), *err = malloc(cap * sizeof *err);
    size_t *front = malloc(cap * sizeof *front), *rows = malloc(cap * sizeof *rows);
    if (!mem || !err || !front || !rows) goto out;
    for (int p = 0; p < nstd; p++) {
        size_t m = 0;
        for (size_t i = 0; i < s.n; i++)
            if (same_std(idnum(d, s.r[i], COL_score_std), stds[p])) rows[m++] = s.r[i];
        memory_points(d, &f, p + 1, rows, m, 0, 0, mem, err, front);
    }
    for (int i = 0; i < nlay; i++) {
        for (int twin = 0; twin < 2; twin++) {
            size_t m = 0;
            for (size_t j = 0; j < real.n; j++) {
                size_t r = real.r[j];
                if (twin ? !is_twin_of(d, r, lay[i]) : strcmp(fld(d, r, COL_input), lay[i]->input)) continue;
                rows[m++] = r;
            }
            memory_points(d, &f, below + i + 1, rows, m, twin, 1, mem, err, front);
        }
    }
out:
    free(mem); free(err); free(front); free(rows); free(s.r); free(real.r);
    return fig_save(&f, datadir, d);
}

/* ---- the headline ------------------------------------------------------------ */

/* the headline's score stds: 1, 4, 8 where the rows have them, else the nearest */
static int headline_stds(const double *have, int nhave, double *pick) {
    static const double want[] = {1, 4, 8};
    int np = 0;
    for (int i = 0; i < 3; i++) {
        double best = NAN;
        for (int j = 0; j < nhave; j++)
            if (have[j] > 0 && (isnan(best) || fabs(log(have[j] / want[i])) < fabs(log(best / want[i])))) best = have[j];
        int seen = 0;
        for (int j = 0; j < np; j++) seen |= pick[j] == best;
        if (isfinite(best) && !seen) pick[np++] = best;
    }
    return np;
}

/* the index in d->layers of the real layer row r measures or is the twin of; -1: none */
static int layer_index(const data *d, size_t r) {
    const real_layer *l = layer_of(d, r);
    for (size_t i = 0; i < d->nlayers && !l; i++)
        if (is_twin_of(d, r, &d->layers[i])) l = &d->layers[i];
    return l ? (int)(l - d->layers) : -1;
}

/* one block of headline.dat: rows[0..m) as x y family knob_value front
 * counted twin layer (the index of the real layer, -1 for a synthetic row:
 * use_ws marks the real block), the front over the rows that are not twins */
static size_t headline_block(const data *d, FILE *f, const size_t *rows, size_t m, int use_ws,
                             double *mem, double *err, size_t *front, double *box) {
    size_t nb = 0;
    for (size_t i = 0; i < m; i++) {
        size_t r = rows[i];
        mem[i] = use_ws ? fmax(num(d, r, d->ws), 1) : row_memory(d, r, NULL);
        err[i] = fmax(num(d, r, d->rel_err), 1e-12);
    }
    /* the front of the block's own rows (a twin is drawn beside them, not on it) */
    double *bm = calloc(m + 1, sizeof *bm), *be = calloc(m + 1, sizeof *be);
    size_t nf = 0, *base = malloc((m + 1) * sizeof *base);
    if (bm && be && base) {
        for (size_t i = 0; i < m; i++)
            if (!in_study(d, rows[i], STUDY_TWIN)) { bm[nb] = mem[i]; be[nb] = err[i]; base[nb++] = i; }
        nf = pareto_front(bm, be, nb, ERR_TIE, front);
        for (size_t j = 0; j < nf; j++) front[j] = base[front[j]];
    }
    free(bm);
    free(be);
    free(base);
    for (size_t i = 0; i < m; i++) {
        size_t r = rows[i];
        char fam[128];
        family_of(d, r, fam, sizeof fam);
        int on = 0, counted = 0;
        for (size_t j = 0; j < nf; j++) on |= front[j] == i;
        if (!use_ws) row_memory(d, r, &counted);
        fprintf(f, "%.6g %.6g %s %g %d %d %d %d\n", mem[i], err[i], fam, knob_value(d, r), on, counted,
                in_study(d, r, STUDY_TWIN), use_ws ? layer_index(d, r) : -1);
        box[0] = fmin(box[0], mem[i]);
        box[1] = fmax(box[1], mem[i]);
        box[2] = fmin(box[2], err[i]);
        box[3] = fmax(box[3], err[i]);
    }
    return m;
}

/* DIR/data/headline.dat (blocks: one per prefill score std, then the real
 * layers pooled with their twins) and headline.meta (panel titles, point
 * counts, the shared ranges); headline.gp adds the regimes' two planes. */
int fig_headline(const data *d, const scaling *sc, const char *datadir) {
    (void)sc;
    rowset s = {0}, real = {0};
    memory_slices(d, &s, &real);
    double have[FIG_MAX_PANELS], stds[3];
    int nhave = score_stds(d, &s, have, FIG_MAX_PANELS), nstd = headline_stds(have, nhave, stds);
    char path[4300], ctx[300];
    snprintf(path, sizeof path, "%s/headline.dat", datadir);
    FILE *dat = fopen(path, "w");
    snprintf(path, sizeof path, "%s/headline.meta", datadir);
    FILE *meta = dat ? fopen(path, "w") : NULL;
    size_t cap = s.n + real.n + 1, counts[4] = {0};
    double *mem = malloc(cap * sizeof *mem), *err = malloc(cap * sizeof *err);
    size_t *front = malloc(cap * sizeof *front), *rows = malloc(cap * sizeof *rows);
    double box[4] = {INFINITY, 0, INFINITY, 0}, rbox[4] = {INFINITY, 0, INFINITY, 0};
    int rc = -1;
    if (!dat || !meta || !mem || !err || !front || !rows) goto out;
    fprintf(dat, "# headline: written by `attnbench analyze` from %s; columns: memory rel_err family "
                 "knob_value front counted twin layer; blocks: score std panels, then the real layers\n", d->path);
    for (int p = 0; p < 3; p++) {
        size_t m = 0;
        for (size_t i = 0; p < nstd && i < s.n; i++)
            if (same_std(idnum(d, s.r[i], COL_score_std), stds[p])) rows[m++] = s.r[i];
        fprintf(dat, "%s# panel %d\n", p ? "\n\n" : "", p + 1);
        counts[p] = headline_block(d, dat, rows, m, 0, mem, err, front, box);
        if (!m) fprintf(dat, "# (no rows)\n");
    }
    fprintf(dat, "\n\n# panel 4: real layers and their twins\n");
    counts[3] = headline_block(d, dat, real.r, real.n, 1, mem, err, front, rbox);
    study_text(d, &s, BIT(COL_score_std) | method_cols(), ctx, sizeof ctx);
    fprintf(meta, "# headline: written by `attnbench analyze`; read by scripts/headline.gp\n"
                  "h_study = \"%s\"\narray h_title[4]\narray h_count[4]\n", ctx);
    for (int p = 0; p < 3; p++) {
        if (p < nstd) fprintf(meta, "h_title[%d] = \"prefill, score std %g\"; ", p + 1, stds[p]);
        else fprintf(meta, "h_title[%d] = \"prefill\"; ", p + 1);
        fprintf(meta, "h_count[%d] = %zu\n", p + 1, counts[p]);
    }
    study_text(d, &real, method_cols() | INPUT_COLS, ctx, sizeof ctx);
    fprintf(meta, "h_title[4] = \"real layers (%zu) and twins\"; h_count[4] = %zu\nh_real_study = \"%s\"\n",
            d->nlayers, counts[3], ctx);
    /* the real panel: its own x range (the counted workspace), a colour per layer */
    if (rbox[1] > 0) fprintf(meta, "h_rxmin = %.6g; h_rxmax = %.6g\n", rbox[0], rbox[1]);
    fprintf(meta, "h_nlayers = %zu\narray h_layer[%zu]\n", d->nlayers, d->nlayers ? d->nlayers : 1);
    for (size_t i = 0; i < d->nlayers; i++) fprintf(meta, "h_layer[%zu] = \"%s\"\n", i + 1, d->layers[i].name);
    box[2] = fmin(box[2], rbox[2]);
    box[3] = fmax(box[3], rbox[3]);
    if (box[1] > 0)
        fprintf(meta, "h_xmin = %.6g; h_xmax = %.6g; h_ymin = %.6g; h_ymax = %.6g\n", box[0], box[1], box[2], box[3]);
    rc = write_family_gp(datadir);
out:
    if (rc) fprintf(stderr, "attnbench analyze: cannot write %s/headline.dat: %s\n", datadir, strerror(errno));
    if (dat && fclose(dat)) rc = -1;
    if (meta && fclose(meta)) rc = -1;
    free(mem); free(err); free(front); free(rows); free(s.r); free(real.r);
    return rc;
}

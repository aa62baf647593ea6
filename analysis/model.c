/* model.c — the model regime (regimes.h): rows of `attnbench eval`.
 *
 *   DIR/data/model_dnll.dat            the headline's panel (regimes_formats:
 *                                      a block per checkpoint, cache_bytes dnll
 *                                      family knob front dnll_se pt rgb)
 *   DIR/data/model_dnll_vs_cache.*     scripts/model_dnll_vs_cache.gp: ΔNLL and
 *                                      KL against cache, a row of panels per
 *                                      checkpoint
 *   DIR/data/layer_sensitivity.*       scripts/layer_sensitivity.gp: ΔNLL of one
 *                                      substituted layer against its knob, a
 *                                      line per layer
 *   summary.md                         the model section and the claims table
 *                                      (model_summary.c, model_claims.c)
 *
 * ΔNLL with its standard error (dnll_se) as an error bar; a ΔNLL or KL at
 * or below Y_FLOOR (the exact model: 0) is no value a log axis can show: it
 * is a marker on the panel's bottom edge at its x, labelled, never a value. */
#include "figure.h"
#include "labels.h"
#include "model_study.h"
#include "regimes.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define Y_FLOOR 1e-6

static int write_dat(const rtab *rt, const mckpt *c, size_t nc, const char *datadir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/model_dnll.dat", datadir);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "# model_dnll.dat: written by `attnbench analyze` (analysis/model.c), read by scripts/headline.gp;\n"
               "# eval rows that substitute every layer with one setting; a block per checkpoint\n"
               "# columns: cache_bytes dnll family knob_value front dnll_se pt rgb (dnll may be <= 0; dnll_se 0: none;\n"
               "# pt, rgb: its marker, as in serving_plane.dat)\n");
    for (size_t i = 0; i < nc; i++) {
        fprintf(f, "%s# model=%s\n", i ? "\n\n" : "", c[i].name);
        for (size_t j = 0; j < c[i].nplane; j++) {
            const plane_pt *p = &c[i].plane[j];
            double se = rt_num(rt, p->row, COL_dnll_se);
            int pt;
            char color[8];
            regime_style(p->family, p->knob, &pt, color);
            fprintf(f, "%.9g %.9g %s %g %d %.6g %d %ld\n", p->x, p->y, p->family, p->knob, p->front,
                    isfinite(se) && se > 0 ? se : 0, pt, strtol(color + 1, NULL, 16));
        }
    }
    int bad = ferror(f);
    return fclose(f) || bad ? -1 : 0;
}

static fig_series *point_series(figure *g, const rtab *rt, int panel, const plane_pt *p, double order) {
    char label[120], set[64], color[8];
    family_setting(p->family, p->knob, rt_family_minor(rt, p->row, p->family), set, sizeof set);
    snprintf(label, sizeof label, "%s%s%s", p->family, *set ? " " : "", set);
    int pt;
    regime_style(p->family, p->knob, &pt, color);
    fig_series *s = fig_series_get(g, panel, label, color, pt, 1, 0);
    if (s) { s->order = order; s->ps = 1.3; }
    return s;
}

/* the order of the legend: exact, projections, operators by knob */
static double plane_order(const plane_pt *p) {
    const int i = family_rank(p->family);
    return i >= 0 ? 10.0 * (double)i + p->knob * 1e-6 : 100 + p->knob * 1e-6;
}

/* a point of series s with its error bar, or, at or below Y_FLOOR, a marker
 * on the bottom edge: "LABEL: WHAT <= 0" */
static int model_point(figure *g, fig_series *s, double x, double y, double se, const char *what) {
    if (!isfinite(y)) return 0;
    if (y > Y_FLOOR) return fig_add_se(s, x, y, se);
    char text[48];
    snprintf(text, sizeof text, "%.24s: %s <= 0", s->label, what);
    return fig_mark_bottom(g, s->panel, x, text, s->color, s->pt);
}

/* one checkpoint's pair of panels: ΔNLL (front, 1% line) and KL */
static int plane_panels(figure *g, const rtab *rt, const mckpt *c, int panel) {
    snprintf(g->panel_title[panel - 1], sizeof g->panel_title[0], "%s: ΔNLL (exact NLL %.3g)", c->name, c->nll_exact);
    snprintf(g->panel_title[panel], sizeof g->panel_title[0], "%s: KL(exact || approx)", c->name);
    snprintf(g->panel_xlabel[panel - 1], sizeof g->panel_xlabel[0], "cache per sequence when decoding (bytes)");
    snprintf(g->panel_xlabel[panel], sizeof g->panel_xlabel[0], "cache per sequence when decoding (bytes)");
    if (!c->nplane) return 0;
    int rc = 0;
    double lo = INFINITY, hi = 0;
    for (size_t j = 0; j < c->nplane; j++) { lo = fmin(lo, c->plane[j].x); hi = fmax(hi, c->plane[j].x); }
    fig_series *one = fig_series_get(g, panel, "1% of exact NLL", "#999999", 0, 3, 1);
    fig_series *fr = fig_series_get(g, panel, "Pareto front", "#555555", 0, 2, 1);
    if (!one || !fr) return -1;
    one->ps = fr->ps = 0;
    one->order = 1e9;
    fr->order = 1e9 + 1;
    if (isfinite(c->nll_exact)) rc |= fig_add(one, lo / 1.5, 0.01 * c->nll_exact) | fig_add(one, hi * 1.5, 0.01 * c->nll_exact);
    /* the front by increasing cache, as a staircase (each corner a hair left of the next point) */
    double last = NAN, at = 0;
    for (;;) {
        const plane_pt *next = NULL;
        for (size_t j = 0; j < c->nplane; j++)
            if (c->plane[j].front && c->plane[j].x > at && (!next || c->plane[j].x < next->x)) next = &c->plane[j];
        if (!next) break;
        if (next->y <= Y_FLOOR) break; /* on the bottom edge: its marker ends the front */
        if (isfinite(last)) rc |= fig_add(fr, next->x * (1 - 1e-6), last);
        last = next->y;
        rc |= fig_add(fr, next->x, last);
        at = next->x;
    }
    for (size_t j = 0; j < c->nplane && !rc; j++) {
        const plane_pt *p = &c->plane[j];
        fig_series *a = point_series(g, rt, panel, p, plane_order(p)), *b = point_series(g, rt, panel + 1, p, plane_order(p));
        rc = !a || !b || model_point(g, a, p->x, p->y, rt_num(rt, p->row, COL_dnll_se), "ΔNLL") ||
             model_point(g, b, p->x, rt_num(rt, p->row, COL_kl), 0, "KL");
    }
    return rc;
}

static int fig_plane(const rtab *rt, const mckpt *c, size_t nc, const char *datadir, const char *csv) {
    figure g;
    fig_init(&g, "model_dnll_vs_cache");
    g.ncols = 2;
    g.npanels = 2;
    snprintf(g.subtitle, sizeof g.subtitle, "%s",
             "every layer's attention replaced (projections: the checkpoint's own weights converted, no uptraining)\n"
             "against the exact model on the same tokens; bars: ± 1 standard error over the sequences (cut at 1/20 of the value);\n"
             "markers on the bottom edge: ΔNLL or KL <= 1e-6 (the exact model), which a log axis cannot show");
    int rc = 0;
    for (size_t i = 0; i < nc && 2 * i + 2 <= FIG_MAX_PANELS && !rc; i++) rc = plane_panels(&g, rt, &c[i], 2 * (int)i + 1);
    if (!nc) snprintf(g.panel_title[0], sizeof g.panel_title[0], "no model rows");
    if (!rc) rc = fig_write(&g, datadir, csv ? csv : "a results table");
    fig_free(&g);
    return rc;
}

/* layer_sensitivity: a panel per checkpoint and operator, x its knob, a line per layer */
static int fig_sensitivity(const rtab *rt, const mckpt *c, size_t nc, const char *datadir, const char *csv) {
    static const char *const palette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00",
                                          "#56B4E9", "#882255", "#999933", "#000000", "#44AA99"};
    static const int shapes[] = {7, 5, 9, 11, 13, 15};
    figure g;
    fig_init(&g, "layer_sensitivity");
    snprintf(g.subtitle, sizeof g.subtitle, "%s",
             "ΔNLL with one layer's attention replaced, the others exact: which layers need a larger budget "
             "(bars: ± 1 standard error; markers on the bottom edge: ΔNLL <= 1e-6)");
    char ops[FIG_MAX_PANELS][64];
    int np = 0, rc = 0;
    for (size_t i = 0; i < nc && !rc; i++)
        for (size_t j = 0; j < c[i].n && !rc; j++) {
            size_t r = c[i].rows[j];
            int layer = model_single_layer(rt, r);
            char fam[48];
            double knob;
            if (layer < 0 || !rt_ok(rt, r) || strcmp(rt_get(rt, r, COL_layer), "attention") ||
                model_family(rt, r, c[i].native_kv, fam, sizeof fam, &knob) || !(knob > 0))
                continue;
            char key[64];
            snprintf(key, sizeof key, "%s: %s", c[i].name, fam);
            int p = 0;
            while (p < np && strcmp(ops[p], key)) p++;
            if (p == np) {
                if (np == FIG_MAX_PANELS) continue;
                snprintf(ops[np++], sizeof ops[0], "%s", key);
                snprintf(g.panel_title[p], sizeof g.panel_title[0], "%s, one layer at a time", key);
                family_axis(fam, g.panel_xlabel[p], sizeof g.panel_xlabel[0]);
            }
            char label[32];
            snprintf(label, sizeof label, "layer %d", layer);
            fig_series *s = fig_series_get(&g, p + 1, label, palette[layer % 10], shapes[layer % 6], 1, 1);
            if (!s) { rc = -1; break; }
            s->order = layer;
            int dup = 0;
            for (size_t k = 0; k < s->npts; k++) dup |= s->pts[k].x == knob;
            if (!dup) rc = model_point(&g, s, knob, rt_num(rt, r, COL_dnll), rt_num(rt, r, COL_dnll_se), "ΔNLL");
        }
    g.ncols = np > 2 ? 2 : np;
    if (!np) snprintf(g.panel_title[0], sizeof g.panel_title[0], "no rows with one layer replaced");
    if (!rc) rc = fig_write(&g, datadir, csv ? csv : "a results table");
    fig_free(&g);
    return rc;
}

int analyze_model(const csv_table *t, const char *csv, const char *datadir, FILE *summary, char *err, size_t errlen) {
    rtab rt;
    rt_init(&rt, t);
    mckpt *c = NULL;
    size_t nc = 0;
    if (mckpts_find(&rt, &c, &nc)) { snprintf(err, errlen, "out of memory (model rows)"); return -1; }
    int rc = 0;
    if (write_dat(&rt, c, nc, datadir) || fig_plane(&rt, c, nc, datadir, csv) || fig_sensitivity(&rt, c, nc, datadir, csv)) {
        snprintf(err, errlen, "cannot write the model figures' data in %s: %s", datadir, strerror(errno));
        rc = -1;
    }
    if (!rc) {
        model_summary(summary, &rt, c, nc);
        claims_table(summary, &rt, c, nc);
    }
    mckpts_free(c, nc);
    return rc;
}

/* decode.c — the decode regime (regimes.h): rows of `attnbench decode`.
 *
 *   DIR/data/serving_plane.dat       the headline's panel (regimes_formats:
 *                                    cache_bytes rel_err family knob front) of
 *                                    one study at its plane context
 *   DIR/data/serving_plane_fig.*     scripts/serving_plane.gp: the same plane,
 *                                    a panel per study (head similarity, input)
 *   DIR/data/decode_time_vs_L.*      scripts/decode_time_vs_L.gp: time per
 *                                    step against the context, a line per family
 *   summary.md                       the decode section (decode_summary.c)
 *
 * The plane's context is the largest every family of the study ran
 * (decode_study.c). */
#include "decode_study.h"
#include "figure.h"
#include "labels.h"
#include "regimes.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "16k" for 16384 */
static void fmt_ctx(double L, char *out, size_t cap) {
    if (L >= 1024 && fmod(L, 1024) == 0) snprintf(out, cap, "%gk", L / 1024);
    else snprintf(out, cap, "%g", L);
}

static void fam_label(const dfam *f, char *out, size_t cap) {
    char set[64];
    family_setting(f->family, f->knob, f->minor, set, sizeof set);
    snprintf(out, cap, "%s%s%s", f->family, *set ? " " : "", set);
}

/* the points of study s at its plane context, the front marked; *n points */
static plane_pt *plane_points(const rtab *rt, const dstudy *s, size_t *n) {
    plane_pt *p = calloc(s->nfam ? s->nfam : 1, sizeof *p);
    *n = 0;
    if (!p) return NULL;
    for (size_t j = 0; j < s->nfam; j++) {
        long r = dstudy_row(rt, s, &s->fam[j], s->plane_L);
        if (r < 0) continue;
        plane_pt *q = &p[(*n)++];
        q->row = (size_t)r;
        snprintf(q->family, sizeof q->family, "%s", s->fam[j].family);
        q->knob = s->fam[j].knob;
        q->x = rt_num(rt, (size_t)r, COL_cache_bytes);
        q->y = rt_num(rt, (size_t)r, COL_rel_err);
    }
    if (plane_front(p, *n, 0)) { free(p); return NULL; }
    return p;
}

/* on a log plane: within a quarter of a decade in both axes (rel_err at
 * or below 1e-6 counted as 1e-6, where the headline draws it) */
static int same_spot(const plane_pt *a, const plane_pt *b) {
    const double ya = fmax(a->y, 1e-6), yb = fmax(b->y, 1e-6);
    return a->x > 0 && b->x > 0 && fabs(log10(a->x / b->x)) < 0.1 && fabs(log10(ya / yb)) < 0.25;
}

/* the headline's text at point i: its family's name where it shares its
 * spot with others or is a KV cache format or policy, else "-"; *rank: how
 * many named points of the spot come before it (the label's line) */
static void spot_label(const plane_pt *p, size_t n, size_t i, char *out, size_t cap, int *rank) {
    int pt;
    char c[8];
    size_t near = 0;
    *rank = 0;
    for (size_t j = 0; j < n; j++)
        if (j != i && same_spot(&p[j], &p[i]) && isfinite(p[j].y)) {
            near++;
            *rank += j < i && strcmp(p[j].family, p[i].family);
            if (j < i && !strcmp(p[j].family, p[i].family)) { snprintf(out, cap, "-"); return; } /* named once */
        }
    snprintf(out, cap, "%s", near || regime_style(p[i].family, 0, &pt, c) ? p[i].family : "-");
}

/* DIR/data/serving_plane.dat (regimes_formats.md): the headline's study */
static int write_plane_dat(const rtab *rt, const dstudy *s, size_t ns, const char *datadir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/serving_plane.dat", datadir);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    long h = dstudy_headline(rt, s, ns);
    if (h >= 0) {
        char name[120], text[300];
        dstudy_name(rt, &s[h], name, sizeof name);
        dstudy_text(rt, &s[h], text, sizeof text);
        fprintf(f, "# L=%.0f\n# %s, %s: decode rows at the largest context every family ran\n", s[h].plane_L, name, text);
    }
    fprintf(f, "# serving_plane.dat: written by `attnbench analyze` (analysis/decode.c), read by scripts/headline.gp\n"
               "# columns: cache_bytes rel_err family knob_value front label pt rgb line (label: the family where\n"
               "# points share a spot or of a KV cache format or policy, - none; line: the label's line at the spot;\n"
               "# pt, rgb: its marker)\n");
    size_t n = 0;
    plane_pt *p = h >= 0 ? plane_points(rt, &s[h], &n) : NULL;
    if (h >= 0 && !p) { fclose(f); return -1; }
    for (size_t i = 0; i < n; i++)
        if (p[i].x > 0 && isfinite(p[i].y)) {
            char label[200];
            int rank;
            spot_label(p, n, i, label, sizeof label, &rank);
            int pt;
            char color[8];
            regime_style(p[i].family, p[i].knob, &pt, color);
            fprintf(f, "%.9g %.9g %s %g %d %s %d %ld %d\n", p[i].x, p[i].y, p[i].family, p[i].knob, p[i].front,
                    label, pt, strtol(color + 1, NULL, 16), rank);
        }
    free(p);
    int bad = ferror(f);
    return fclose(f) || bad ? -1 : 0;
}

/* a series of points per family, its colour lightened for a small knob (a
 * policy's cache budget; a cache format keeps its colour) */
static fig_series *fam_series(figure *g, int panel, const dfam *f, int lines, double order) {
    char label[120], color[8];
    fam_label(f, label, sizeof label);
    int pt, kv = regime_style(f->family, f->knob, &pt, color);
    fig_series *x = fig_series_get(g, panel, label, color, pt, 1, lines);
    if (x) { x->order = order; x->ps = kv ? 1.6 : 1.3; }
    return x;
}

/* serving_plane_fig: a panel per study, every family at its plane context,
 * the front as a grey staircase */
static int fig_plane(const rtab *rt, const dstudy *s, size_t ns, const char *datadir, const char *csv) {
    figure g;
    fig_init(&g, "serving_plane_fig");
    g.ncols = ns > 3 ? 3 : (int)ns;
    snprintf(g.subtitle, sizeof g.subtitle, "%s",
             "rel_err vs float64 exact attention at the largest context every family ran\n"
             "grey dashes: the Pareto front; lighter: smaller knob");
    int rc = 0;
    for (size_t i = 0; i < ns && i < FIG_MAX_PANELS && !rc; i++) {
        int panel = (int)i + 1;
        char name[120], L[32];
        dstudy_name(rt, &s[i], name, sizeof name);
        fmt_ctx(s[i].plane_L, L, sizeof L);
        snprintf(g.panel_title[i], sizeof g.panel_title[i], "%s, L = %s", name, L);
        size_t n = 0;
        plane_pt *p = plane_points(rt, &s[i], &n);
        if (!p) return fig_free(&g), -1;
        /* the front first (under the points), each step's corner a hair left of the next point */
        fig_series *fr = fig_series_get(&g, panel, "Pareto front", "#555555", 0, 2, 1);
        if (!fr) rc = -1;
        else { fr->ps = 0; fr->order = 1e9; }
        double last_y = NAN;
        /* p is in legend order: the front by increasing cache */
        size_t *ord = malloc((n ? n : 1) * sizeof *ord), nf = 0;
        for (size_t k = 0; ord && k < n; k++)
            if (p[k].front) {
                size_t at = nf++;
                while (at > 0 && p[ord[at - 1]].x > p[k].x) { ord[at] = ord[at - 1]; at--; }
                ord[at] = k;
            }
        for (size_t k = 0; ord && fr && k < nf && !rc; k++) {
            if (isfinite(last_y)) rc |= fig_add(fr, p[ord[k]].x * (1 - 1e-6), last_y);
            rc |= fig_add(fr, p[ord[k]].x, p[ord[k]].y);
            last_y = p[ord[k]].y;
        }
        if (!ord) rc = -1;
        free(ord);
        for (size_t k = 0; k < n && !rc; k++) {
            dfam f = {{0}, p[k].knob, rt_family_minor(rt, p[k].row, p[k].family)};
            snprintf(f.family, sizeof f.family, "%s", p[k].family);
            fig_series *x = fam_series(&g, panel, &f, 0, (double)k);
            rc = !x || fig_add(x, p[k].x, p[k].y);
        }
        free(p);
    }
    if (!ns) snprintf(g.panel_title[0], sizeof g.panel_title[0], "no decode rows");
    if (!rc) rc = fig_write(&g, datadir, csv ? csv : "a results table");
    fig_free(&g);
    return rc;
}

/* every decode row that did not run, an 'x' on the top edge of its study's
 * panel at its context, in its family's colour, and a legend line
 * "FAMILY SETTING, L = 1k: STATUS" */
static int not_run_marks(figure *g, const rtab *rt, const dstudy *s, size_t ns) {
    for (size_t r = 0; r < rt->t->nrows; r++) {
        if (!rt_regime(rt, r, "decode") || rt_ok(rt, r)) continue;
        long i = dstudy_of_row(rt, s, ns, r);
        if (i < 0 || i >= FIG_MAX_PANELS) continue;
        dfam f = {{0}, 0, 0};
        decode_family(rt, r, f.family, sizeof f.family, &f.knob);
        f.minor = rt_family_minor(rt, r, f.family);
        char label[120], L[32], text[64];
        fam_label(&f, label, sizeof label);
        fmt_ctx(rt_num(rt, r, COL_context), L, sizeof L);
        snprintf(text, sizeof text, "%.22s, L = %.6s: %.12s", label, L, rt_get(rt, r, COL_status));
        if (fig_mark(g, (int)i + 1, rt_num(rt, r, COL_context), text, family_color(f.family), 2)) return -1;
    }
    return 0;
}

/* decode_time_vs_L: a panel per study, a line per family; rows that did not
 * run as marks on the top edge (not_run_marks) */
static int fig_time(const rtab *rt, const dstudy *s, size_t ns, const char *datadir, const char *csv) {
    figure g;
    fig_init(&g, "decode_time_vs_L");
    g.ncols = ns > 3 ? 3 : (int)ns;
    snprintf(g.subtitle, sizeof g.subtitle, "%s",
             "exact MHA reads its whole cache every step (slope ~1);\n"
             "window and Performer hold a fixed state (flat)");
    int rc = 0;
    for (size_t i = 0; i < ns && i < FIG_MAX_PANELS && !rc; i++) {
        int panel = (int)i + 1;
        char name[120];
        dstudy_name(rt, &s[i], name, sizeof name);
        snprintf(g.panel_title[i], sizeof g.panel_title[i], "%s", name);
        for (size_t j = 0; j < s[i].nfam && !rc; j++) {
            fig_series *x = fam_series(&g, panel, &s[i].fam[j], 1, (double)j);
            if (!x) { rc = -1; break; }
            x->ps = 1.0;
            for (size_t c = 0; c < s[i].nctx && !rc; c++) {
                long r = dstudy_row(rt, &s[i], &s[i].fam[j], s[i].ctx[c]);
                if (r >= 0) rc = fig_add(x, s[i].ctx[c], rt_num(rt, (size_t)r, COL_step_time_s));
            }
        }
        if (s[i].nctx == 1) {
            char L[32];
            fmt_ctx(s[i].ctx[0], L, sizeof L);
            snprintf(g.panel_title[i], sizeof g.panel_title[i], "%.100s (one context ran: L = %.16s)", name, L);
        }
    }
    if (!rc) rc = not_run_marks(&g, rt, s, ns);
    if (g.nmarks) {
        size_t len = strlen(g.subtitle);
        snprintf(g.subtitle + len, sizeof g.subtitle - len, "; x on the top edge: a point that did not run (its status in the legend)");
    }
    if (!ns) snprintf(g.panel_title[0], sizeof g.panel_title[0], "no decode rows");
    if (!rc) rc = fig_write(&g, datadir, csv ? csv : "a results table");
    fig_free(&g);
    return rc;
}

int analyze_decode(const csv_table *t, const char *csv, const char *datadir, FILE *summary, char *err, size_t errlen) {
    rtab rt;
    rt_init(&rt, t);
    dstudy *s = NULL;
    size_t ns = 0;
    if (dstudies_find(&rt, &s, &ns)) { snprintf(err, errlen, "out of memory (decode rows)"); return -1; }
    int rc = 0;
    if (write_plane_dat(&rt, s, ns, datadir) || fig_plane(&rt, s, ns, datadir, csv) ||
        fig_time(&rt, s, ns, datadir, csv)) {
        snprintf(err, errlen, "cannot write the decode figures' data in %s: %s", datadir, strerror(errno));
        rc = -1;
    }
    if (!rc) decode_summary(summary, &rt, s, ns, csv);
    dstudies_free(s, ns);
    return rc;
}

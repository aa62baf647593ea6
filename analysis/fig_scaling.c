/* fig_scaling.c — memory and time against n (each method's n-scaling
 * configuration, with the points that did not run marked on the top edge),
 * and memory and time against the chunk size. */
#include "figures.h"
#include "labels.h"
#include "traits.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the rows of configuration g that did not run, each a mark on the top edge
 * of panel 1 with its status; *stop_n: the least n where the baseline did not run */
static void not_run_marks(const data *d, figure *f, const config *g, double *stop_n) {
    for (size_t r = 0; r < d->t.nrows; r++) {
        if (is_ok(d, r) || is_unknown_method(d, r) || !same_config(d, g->first, r, BIT(COL_n), 1)) continue;
        char label[200], text[48];
        method_label(d, g->first, label, sizeof label);
        snprintf(text, sizeof text, "%.30s: %s", label, status_of(d, r));
        fig_mark(f, 1, idnum(d, r, COL_n), text, row_color(d, g->first), !strcmp(status_of(d, r), "oom") ? 2 : 3);
        double n = idnum(d, r, COL_n);
        if (op_baseline(fld(d, g->first, COL_attention)) && (isnan(*stop_n) || n < *stop_n)) *stop_n = n;
    }
}

/* memory (row_memory) or time against n: each method's n-scaling line (one
 * configuration: every knob fixed), the points that did not run marked on
 * the top edge, and a rule where the baseline stops */
static int fig_vs_n(const data *d, const scaling *sc, const char *datadir, int want_time) {
    figure f;
    fig_init(&f, want_time ? "time_vs_n" : "memory_vs_n");
    double ymin = INFINITY, ymax = 0, stop_n = NAN;
    size_t counted = 0;
    rowset all = {0};
    for (size_t i = 0; i < sc->np; i++) {
        const config *g = &sc->c[sc->pick[i]];
        if (!is_attention(d, g->first)) continue;
        char label[200], knobs[100], full[400], fam[128], sl[32];
        method_label(d, g->first, label, sizeof label);
        knob_label(d, g->first, knob_cols(), knobs, sizeof knobs);
        fmt_slope(want_time ? g->slope_time : g->slope_peak, sl, sizeof sl);
        snprintf(full, sizeof full, "%s%s (slope %s)", label, knobs, sl);
        family_of(d, g->first, fam, sizeof fam);
        fig_series *se = fig_series_get(&f, 1, full, row_color(d, g->first), family_marker(fam), 1, 1);
        if (se) se->order = method_order(d, g->first);
        for (size_t j = 0; se && j < g->ok.n; j++) {
            size_t r = g->ok.r[j];
            int c = 0;
            double y = want_time ? num(d, r, d->time) : row_memory(d, r, &c);
            counted += c;
            fig_add(se, idnum(d, r, COL_n), y);
            if (y < ymin) ymin = y;
            if (y > ymax) ymax = y;
            rs_add(&all, r);
        }
        not_run_marks(d, &f, g, &stop_n);
    }
    study_text(d, &all, BIT(COL_n) | method_cols(), f.subtitle, sizeof f.subtitle);
    size_t len = strlen(f.subtitle);
    if (!want_time && counted && len < sizeof f.subtitle)
        len += (size_t)snprintf(f.subtitle + len, sizeof f.subtitle - len, "%smemory: the counted workspace where "
                                "the measured peak is within 16 KiB of zero (%zu point(s))", len ? "; " : "", counted);
    if (f.nmarks && len < sizeof f.subtitle)
        snprintf(f.subtitle + len, sizeof f.subtitle - len, "%smarks on the top edge: points that did not run "
                 "(their status in the legend), not values", len ? "\n" : "");
    if (isfinite(stop_n) && isfinite(ymin)) {
        char lab[200];
        snprintf(lab, sizeof lab, "%s stops at n = %g", baseline_name(), stop_n);
        fig_series *se = fig_series_get(&f, 1, lab, "#999999", 7, 3, 1);
        if (se) { /* a vertical rule the height of the lines, its foot a hair left (no x beyond stop_n) */
            se->order = 1e12;
            se->ps = 0;
            se->lw = 1;
            fig_add(se, stop_n * (1 - 1e-7), ymin);
            fig_add(se, stop_n, ymax);
        }
    }
    free(all.r);
    return fig_save(&f, datadir, d);
}

int fig_memory_vs_n(const data *d, const scaling *s, const char *datadir) { return fig_vs_n(d, s, datadir, 0); }
int fig_time_vs_n(const data *d, const scaling *s, const char *datadir) { return fig_vs_n(d, s, datadir, 1); }

static int keep_chunk_method(const data *d, size_t r) {
    return is_attention(d, r) && (row_knob_cols(d, r) & BIT(COL_chunk));
}

/* memory and time of the chunked methods against the chunk size at one n.
 * Timings compare only when taken in one study: the CSV does not say which
 * study timed a point two studies share (the sweep runs it once), and the
 * subtitle says so. */
int fig_chunk_tradeoff(const data *d, const scaling *sc, const char *datadir) {
    (void)sc;
    figure f;
    fig_init(&f, "chunk_tradeoff");
    rowset s = {0};
    rows_where(d, &s, keep_chunk_method);
    slice(d, &s, BIT(COL_attention) | BIT(COL_chunk));
    study_text(d, &s, BIT(COL_chunk), f.subtitle, sizeof f.subtitle);
    f.npanels = 2;
    snprintf(f.panel_title[0], sizeof f.panel_title[0], "memory");
    snprintf(f.panel_title[1], sizeof f.panel_title[1], "time");
    for (size_t i = 0; i < s.n; i++) {
        size_t r = s.r[i];
        char label[200], knobs[100], full[320], ws_label[340], tint[8];
        method_label(d, r, label, sizeof label);
        knob_label(d, r, knob_cols() & ~tuning_cols(), knobs, sizeof knobs);
        snprintf(full, sizeof full, "%s%s", label, knobs);
        snprintf(ws_label, sizeof ws_label, "%s%s workspace (counted)", label, knobs);
        fig_series *m = fig_series_get(&f, 1, full, row_color(d, r), 7, 1, 1);
        color_tint(row_color(d, r), 0.35, tint);
        fig_series *w = fig_series_get(&f, 1, ws_label, tint, 6, 2, 1);
        fig_series *t = fig_series_get(&f, 2, full, row_color(d, r), 7, 1, 1);
        double x = idnum(d, r, COL_chunk);
        if (m) m->order = t ? (t->order = method_order(d, r)) : method_order(d, r);
        if (w) w->order = method_order(d, r) + 0.5;
        /* the measured peak where it is above the noise; below, only the count */
        double peak = num(d, r, d->peak);
        if (m && peak > NOISE_PAGES * PAGE) fig_add(m, x, peak);
        if (w) fig_add(w, x, fmax(num(d, r, d->ws), 1));
        if (t) fig_add(t, x, num(d, r, d->time));
    }
    size_t len = strlen(f.subtitle);
    if (len < sizeof f.subtitle)
        snprintf(f.subtitle + len, sizeof f.subtitle - len, "%smeasured peak drawn only above 16 KiB", len ? "\n" : "");
    free(s.r);
    return fig_save(&f, datadir, d);
}

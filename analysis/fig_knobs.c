/* fig_knobs.c — error against a method's knob (top-k's k, Performer's m,
 * the window's size; one line per method, knobs and score std, the real
 * layers below beside their twins), the projections' error against head
 * similarity, and the top-k feed-forward's error against k. */
#include "figures.h"
#include "labels.h"
#include "methods.h"
#include "spec.h"
#include "traits.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the real layers' lines and twins (Okabe-Ito and Tol), top-k's blue last */
static const char *const layer_palette[] = {"#D55E00", "#009E73", "#CC79A7", "#56B4E9",
                                            "#E69F00", "#882255", "#999933", "#0072B2"};

static int keep_k_method(const data *d, size_t r) {
    return is_attention(d, r) && (row_knob_cols(d, r) & BIT(COL_k)) && num(d, r, d->rel_err) >= 0;
}
static int keep_features_method(const data *d, size_t r) {
    return is_attention(d, r) && (row_knob_cols(d, r) & BIT(COL_features)) &&
           num(d, r, d->rel_err) >= 0;
}
static int keep_window_method(const data *d, size_t r) {
    return is_attention(d, r) && (row_knob_cols(d, r) & BIT(COL_window)) && num(d, r, d->rel_err) >= 0;
}
static int keep_projection(const data *d, size_t r) {
    const char *p = fld(d, r, COL_projection);
    return is_attention(d, r) && *p && !proj_reference(p) && num(d, r, d->rel_err) >= 0;
}
static int keep_ffn_k(const data *d, size_t r) {
    return is_ffn(d, r) && *fld(d, r, COL_k) && num(d, r, d->rel_err) >= 0;
}

/* lines of y against knob x, one per method and `line_id` value, shaded from
 * light (small value) to the method's colour (large) */
static void knob_lines(const data *d, const rowset *s, figure *f, int panel, int x_id, int y_col,
                       int line_id, const char *line_name, double floor) {
    for (size_t i = 0; i < s->n; i++) {
        size_t r = s->r[i];
        char label[200], full[300], color[8];
        method_label(d, r, label, sizeof label);
        /* shade by the rank of the line value among the study's values */
        size_t rank = 0, count = 0;
        const char *lv = fld(d, r, line_id);
        for (size_t j = 0; j < s->n; j++) {
            const char *w = fld(d, s->r[j], line_id);
            int first = 1;
            for (size_t z = 0; z < j && first; z++) first = !same_text(fld(d, s->r[z], line_id), w);
            if (!first) continue;
            count++;
            rank += strtod(w, NULL) < strtod(lv, NULL);
        }
        color_tint(row_color(d, r), count > 1 ? 0.7 * (double)(count - 1 - rank) / (double)(count - 1) : 0, color);
        if (line_id >= 0 && *lv) snprintf(full, sizeof full, "%s, %s %s", label, line_name, lv);
        else snprintf(full, sizeof full, "%s", label);
        char fam[128];
        family_of(d, r, fam, sizeof fam);
        fig_series *se = fig_series_get(f, panel, full, color, family_marker(fam), 1, 1);
        if (se) se->order = method_order(d, r) * 1e9 + (*lv ? strtod(lv, NULL) : 0);
        double y = num(d, r, y_col);
        if (se) fig_add(se, idnum(d, r, x_id), floor > 0 ? fmax(y, floor) : y);
    }
}

/* y against knob x for each real layer (solid, its own colour) and its
 * synthetic twin (dashed, the same colour), from the real study's rows s */
static void real_lines(const data *d, const rowset *s, figure *f, int panel, int x_id, int y_col, double floor) {
    for (size_t i = 0; i < d->nlayers; i++) {
        const real_layer *l = &d->layers[i];
        const char *color = layer_palette[i % (sizeof layer_palette / sizeof layer_palette[0])];
        char real_label[200], twin_label[200];
        snprintf(real_label, sizeof real_label, "%s: real, logit std %.3g", l->name, l->logit_std);
        snprintf(twin_label, sizeof twin_label, "%s: synthetic twin, score std %g", l->name, l->twin_std);
        for (size_t j = 0; j < s->n; j++) {
            size_t r = s->r[j];
            int twin = is_twin_of(d, r, l);
            if (!twin && strcmp(fld(d, r, COL_input), l->input)) continue;
            fig_series *se = fig_series_get(f, panel, twin ? twin_label : real_label, color, twin ? 6 : 7, twin ? 2 : 1, 1);
            if (!se) continue;
            se->order = 1e13 + 2.0 * (double)i + twin;
            double y = num(d, r, y_col);
            fig_add(se, idnum(d, r, x_id), floor > 0 ? fmax(y, floor) : y);
        }
    }
}

/* error (and the kept mass) against a method's knob: one line per score std
 * of the synthetic study; below, the real layers beside their twins */
static int fig_error_vs_knob(const data *d, const char *datadir, const char *name,
                             int (*keep)(const data *, size_t), int x_id, int mass_panel) {
    figure f;
    fig_init(&f, name);
    rowset s = {0}, real = {0};
    rows_where(d, &s, keep);
    slice(d, &s, BIT(COL_attention) | BIT(x_id) | BIT(COL_score_std));
    study_text(d, &s, BIT(x_id) | BIT(COL_score_std), f.subtitle, sizeof f.subtitle);
    knob_lines(d, &s, &f, 1, x_id, d->rel_err, COL_score_std, "score std", 1e-12);
    snprintf(f.panel_title[0], sizeof f.panel_title[0], "error");
    int ncols = 1;
    if (mass_panel) {
        knob_lines(d, &s, &f, 2, x_id, d->topk_mass, COL_score_std, "score std", 0);
        snprintf(f.panel_title[1], sizeof f.panel_title[1], "mass of the kept keys");
        ncols = 2;
    }
    f.npanels = f.ncols = ncols;
    real_rows_where(d, &real, keep);
    slice(d, &real, BIT(COL_attention) | BIT(x_id) | INPUT_COLS);
    if (real.n) {
        int below = s.n ? ncols : 0;
        char ctx[300];
        study_text(d, &real, BIT(x_id) | INPUT_COLS, ctx, sizeof ctx);
        size_t len = strlen(f.subtitle);
        len += (size_t)snprintf(f.subtitle + len, sizeof f.subtitle - len, "%sreal layers (solid) and their "
                                "synthetic twins (dashed, same logit std): %.200s", s.n ? "\nbelow, " : "", ctx);
        real_lines(d, &real, &f, below + 1, x_id, d->rel_err, 1e-12);
        snprintf(f.panel_title[below], sizeof f.panel_title[below], "real layers: error");
        if (mass_panel) {
            real_lines(d, &real, &f, below + 2, x_id, d->topk_mass, 0);
            snprintf(f.panel_title[below + 1], sizeof f.panel_title[below + 1], "real layers: mass of the kept keys");
        }
        f.npanels = below + ncols;
    }
    free(s.r);
    free(real.r);
    return fig_save(&f, datadir, d);
}

/* error of each projection scheme against the similarity of the heads */
int fig_error_vs_head_sim(const data *d, const scaling *sc, const char *datadir) {
    (void)sc;
    figure f;
    fig_init(&f, "error_vs_head_sim");
    rowset s = {0};
    rows_where(d, &s, keep_projection);
    slice(d, &s, BIT(COL_projection) | BIT(COL_kv_heads) | BIT(COL_head_sim) | BIT(COL_d_model));
    study_text(d, &s, BIT(COL_head_sim) | BIT(COL_projection), f.subtitle, sizeof f.subtitle);
    const char *att = s.n ? fld(d, s.r[0], COL_attention) : "";
    if (*att && strlen(f.subtitle) + strlen(att) + 20 < sizeof f.subtitle)
        snprintf(f.subtitle + strlen(f.subtitle), sizeof f.subtitle - strlen(f.subtitle), "%s%s attention",
                 f.subtitle[0] ? ", " : "", att);
    for (size_t i = 0; i < s.n; i++) {
        size_t r = s.r[i];
        const char *p = fld(d, r, COL_projection);
        char label[200];
        /* these lines are projections: name them so */
        if (spec_knob_applies(SK_KV_HEADS, fld(d, r, COL_attention), p))
            snprintf(label, sizeof label, "%s G=%s", p, fld(d, r, COL_kv_heads));
        else
            snprintf(label, sizeof label, "%s", p);
        /* a marker per scheme and K/V head count, and a dash per scheme, so
         * schemes whose errors coincide (mhe-add, mhe-mul) stay visible */
        const proj_scheme *ps = proj_scheme_find(p);
        size_t scheme = ps ? (size_t)(ps - proj_schemes) : 0;
        static const int pts[] = {7, 5, 9, 11, 13, 4, 6, 8, 10, 12, 15, 14};
        int pt = pts[((size_t)idnum(d, r, COL_kv_heads) + 3 * scheme) % 12];
        fig_series *se = fig_series_get(&f, 1, label, row_color(d, r), pt, 1 + (int)(scheme % 3), 1);
        if (se) se->order = method_order(d, r) * 1e3 + knob_value(d, r);
        if (se) fig_add(se, idnum(d, r, COL_head_sim), fmax(num(d, r, d->rel_err), 1e-12));
    }
    free(s.r);
    return fig_save(&f, datadir, d);
}

int fig_ffn_error_vs_k(const data *d, const scaling *sc, const char *datadir) {
    (void)sc;
    figure f;
    fig_init(&f, "ffn_error_vs_k");
    rowset s = {0};
    rows_where(d, &s, keep_ffn_k);
    slice(d, &s, BIT(COL_k) | BIT(COL_d_ff));
    study_text(d, &s, BIT(COL_k) | BIT(COL_d_ff), f.subtitle, sizeof f.subtitle);
    knob_lines(d, &s, &f, 1, COL_k, d->rel_err, COL_d_ff, "d_ff", 1e-12);
    knob_lines(d, &s, &f, 2, COL_k, d->topk_mass, COL_d_ff, "d_ff", 0);
    f.npanels = 2;
    snprintf(f.panel_title[0], sizeof f.panel_title[0], "error");
    snprintf(f.panel_title[1], sizeof f.panel_title[1], "ReLU mass of the kept units");
    free(s.r);
    return fig_save(&f, datadir, d);
}


int fig_error_vs_k(const data *d, const scaling *s, const char *datadir) {
    (void)s;
    return fig_error_vs_knob(d, datadir, "error_vs_k", keep_k_method, COL_k, 1);
}
int fig_error_vs_features(const data *d, const scaling *s, const char *datadir) {
    (void)s;
    return fig_error_vs_knob(d, datadir, "error_vs_features", keep_features_method, COL_features, 0);
}
int fig_error_vs_window(const data *d, const scaling *s, const char *datadir) {
    (void)s;
    return fig_error_vs_knob(d, datadir, "error_vs_window", keep_window_method, COL_window, 1);
}

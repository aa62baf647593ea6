/* scaling.c — studies, slices and the n-scaling fits (scaling.h). */
#include "scaling.h"
#include "fit.h"
#include "knobs.h"
#include "labels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void slice(const data *d, rowset *s, colset free_cols) {
    int nid, order[COL_COUNT], no = 0;
    const int *ids = id_columns(&nid);
    order[no++] = COL_n;
    for (int i = 0; i < nid; i++)
        if (ids[i] != COL_n) order[no++] = ids[i];
    for (int oi = 0; oi < no; oi++) {
        int c = order[oi];
        if (free_cols & BIT(c)) continue;
        size_t best = (size_t)-1, best_count = 0;
        for (size_t i = 0; i < s->n; i++) {
            const char *v = fld(d, s->r[i], c);
            if (!*v) continue;
            size_t count = 0;
            for (size_t j = 0; j < s->n; j++) count += same_text(v, fld(d, s->r[j], c));
            int better = count > best_count ||
                         (count == best_count && c == COL_n && best != (size_t)-1 &&
                          idnum(d, s->r[i], c) > idnum(d, best, c));
            if (better) { best = s->r[i]; best_count = count; }
        }
        if (best == (size_t)-1) continue;
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++) {
            const char *v = fld(d, s->r[i], c);
            if (!*v || same_text(v, fld(d, best, c))) s->r[k++] = s->r[i];
        }
        s->n = k;
    }
}

void study_text(const data *d, const rowset *s, colset skip, char *out, size_t cap) {
    /* the shape, the method knobs (-1: each as "NAME %s", the registry's order), the input */
    static const struct { int id; const char *fmt; } parts[] = {
        {COL_n, "n = %s"}, {COL_heads, "%s heads"}, {COL_d_head, "d_head %s"}, {COL_d_model, "d_model %s"},
        {COL_d_ff, "d_ff %s"}, {-1, NULL}, {COL_score_std, "score std %s"}, {COL_head_sim, "head sim %s"},
        {COL_projection, "%s"},
    };
    int ids[COL_COUNT + 16], nids = 0;
    const char *fmts[COL_COUNT + 16];
    char knob_fmt[KN_COUNT][40];
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (parts[i].id >= 0) { ids[nids] = parts[i].id; fmts[nids++] = parts[i].fmt; continue; }
        for (int k = 0; k < KN_COUNT; k++)
            if (KNOB_IS_METHOD(knob_defs[k].bit) && knob_defs[k].column >= 0) {
                snprintf(knob_fmt[k], sizeof knob_fmt[k], "%s %%s", knob_defs[k].name);
                ids[nids] = knob_defs[k].column;
                fmts[nids++] = knob_fmt[k];
            }
    }
    size_t len = 0;
    out[0] = '\0';
    if (!s->n) return;
    for (int i = 0; i < nids && len < cap; i++) {
        int id = ids[i];
        if (skip & BIT(id)) continue;
        const char *v = "";
        int same = 1;
        for (size_t j = 0; j < s->n && same; j++) {
            const char *w = fld(d, s->r[j], id);
            if (!*w) continue;
            if (!*v) v = w;
            else same = same_text(v, w);
        }
        if (!*v || !same) continue;
        if (len) len += (size_t)snprintf(out + len, cap - len, ", ");
        if (len < cap) len += (size_t)snprintf(out + len, cap - len, fmts[i], v);
    }
    int causal = 0;
    for (size_t j = 0; j < s->n && !(skip & BIT(COL_causal)); j++) causal |= idnum(d, s->r[j], COL_causal) == 1;
    if (causal && len < cap) snprintf(out + len, cap - len, "%scausal", len ? ", " : "");
}

/* the ok rows of the synthetic study that `keep` takes, for a figure */
void rows_where(const data *d, rowset *s, int (*keep)(const data *, size_t)) {
    for (size_t r = 0; r < d->t.nrows; r++)
        if (is_ok(d, r) && in_study(d, r, STUDY_SYNTHETIC) && keep(d, r)) rs_add(s, r);
}

/* the ok rows of the real layers and of their twins that `keep` takes */
void real_rows_where(const data *d, rowset *s, int (*keep)(const data *, size_t)) {
    for (size_t r = 0; r < d->t.nrows; r++) {
        if (!is_ok(d, r) || !keep(d, r)) continue;
        const real_layer *l = in_study(d, r, STUDY_REAL) ? layer_of(d, r) : NULL;
        int twin = 0;
        for (size_t i = 0; i < d->nlayers && !twin && !l; i++) twin = is_twin_of(d, r, &d->layers[i]);
        if (l || twin) rs_add(s, r);
    }
}

/* ok rows grouped by every knob but n */
static int group_configs(const data *d, config **out, size_t *nout) {
    config *c = NULL;
    size_t nc = 0, cap = 0;
    for (size_t r = 0; r < d->t.nrows; r++) {
        if (!is_ok(d, r)) continue;
        size_t i = 0;
        while (i < nc && !same_config(d, c[i].first, r, BIT(COL_n), 0)) i++;
        if (i == nc) {
            if (nc == cap) {
                cap = cap ? 2 * cap : 32;
                config *grown = realloc(c, cap * sizeof *grown);
                if (!grown) goto nomem;
                c = grown;
            }
            memset(&c[nc], 0, sizeof c[nc]);
            c[nc++].first = r;
        }
        if (rs_add(&c[i].ok, r)) goto nomem;
    }
    for (size_t i = 0; i < nc; i++) {
        config *g = &c[i];
        size_t m = g->ok.n;
        double *x = malloc((m + 1) * sizeof *x), *y = malloc((m + 1) * 3 * sizeof *y);
        if (!x || !y) { free(x); free(y); goto nomem; }
        for (size_t j = 0; j < m; j++) {
            size_t r = g->ok.r[j];
            x[j] = idnum(d, r, COL_n);
            int counted;
            y[j] = row_memory(d, r, &counted);
            g->counted += counted;
            y[m + j] = num(d, r, d->ws);
            y[2 * m + j] = num(d, r, d->time);
            size_t seen = 0;
            for (size_t q = 0; q < j; q++) seen += x[q] == x[j];
            g->distinct_n += !seen;
        }
        fit_loglog(x, y, m, &g->slope_peak);
        fit_loglog(x, y + m, m, &g->slope_ws);
        fit_loglog(x, y + 2 * m, m, &g->slope_time);
        free(x);
        free(y);
    }
    *out = c;
    *nout = nc;
    return 0;
nomem:
    for (size_t i = 0; i < nc; i++) free(c[i].ok.r);
    free(c);
    return -1;
}

static void configs_free(config *c, size_t n) {
    for (size_t i = 0; i < n; i++) free(c[i].ok.r);
    free(c);
}

/* The n-scaling configurations: of those with at least 3 distinct n, one
 * per method and knob values (a line each: rows that differ in a knob are
 * never one line), the one with the most n. Writes indices into `pick`;
 * returns how many. */
static size_t scaling_picks(const data *d, const config *c, size_t nc, size_t *pick) {
    size_t np = 0;
    for (size_t i = 0; i < nc; i++) {
        if (c[i].distinct_n < 3) continue;
        char li[300], lj[300];
        method_label(d, c[i].first, li, 200);
        knob_label(d, c[i].first, knob_cols(), li + strlen(li), 100);
        size_t j = 0;
        for (; j < np; j++) {
            method_label(d, c[pick[j]].first, lj, 200);
            knob_label(d, c[pick[j]].first, knob_cols(), lj + strlen(lj), 100);
            if (!strcmp(li, lj) && is_ffn(d, c[i].first) == is_ffn(d, c[pick[j]].first)) break;
        }
        if (j == np) pick[np++] = i;
        else if (c[i].distinct_n > c[pick[j]].distinct_n) pick[j] = i;
    }
    return np;
}


int scaling_init(const data *d, scaling *s) {
    memset(s, 0, sizeof *s);
    if (group_configs(d, &s->c, &s->nc)) return -1;
    s->pick = malloc((s->nc + 1) * sizeof *s->pick);
    if (!s->pick) return -1;
    s->np = scaling_picks(d, s->c, s->nc, s->pick);
    return 0;
}

void scaling_free(scaling *s) {
    configs_free(s->c, s->nc);
    free(s->pick);
    memset(s, 0, sizeof *s);
}

/* rows.c — the row model of `analyze` (rows.h): the prefill view of a
 * results file, the identity and knob columns of a row, the memory a
 * conclusion may use, the points a file holds twice. */
#include "rows.h"
#include "point_id.h"
#include "results.h"
#include "knobs.h"
#include "options.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the identity and knob columns, from the registry once */
static int id_order[COL_COUNT], id_n;
static colset ids, knobs, tuning;

static void columns_init(void) {
    if (id_n) return;
    int n;
    const int *pid = point_id_columns(&n);
    int placed_knobs = 0;
    for (int c = 0; c < COL_COUNT; c++)
        for (int i = 0; i < n; i++) ids |= pid[i] == c ? BIT(c) : 0;
    for (int i = 0; i < KN_COUNT; i++) {
        const knob_def *k = &knob_defs[i];
        if (!k->bit || k->column < 0) continue;
        knobs |= BIT(k->column);
        if (k->flags & KF_TUNING) tuning |= BIT(k->column);
    }
    for (int c = 0; c < COL_COUNT; c++) {
        if (!(ids & BIT(c))) continue;
        const knob_def *k = NULL;
        for (int i = 0; i < KN_COUNT && !k; i++)
            if (knob_defs[i].column == c && KNOB_IS_METHOD(knob_defs[i].bit)) k = &knob_defs[i];
        if (!k) { id_order[id_n++] = c; continue; }
        if (placed_knobs++) continue; /* the method knobs together, in the registry's order */
        for (int i = 0; i < KN_COUNT; i++)
            if (KNOB_IS_METHOD(knob_defs[i].bit) && (ids & BIT(knob_defs[i].column)))
                id_order[id_n++] = knob_defs[i].column;
    }
}

const int *id_columns(int *count) {
    columns_init();
    *count = id_n;
    return id_order;
}
colset id_cols(void) { columns_init(); return ids; }
colset knob_cols(void) { columns_init(); return knobs; }
colset tuning_cols(void) { columns_init(); return tuning; }
colset shape_cols(void) { return id_cols() & ~knob_cols(); }
colset method_cols(void) { return BIT(COL_attention) | BIT(COL_projection) | knob_cols(); }

int rs_add(rowset *s, size_t r) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        size_t *grown = realloc(s->r, cap * sizeof *grown);
        if (!grown) return -1;
        s->r = grown;
        s->cap = cap;
    }
    s->r[s->n++] = r;
    return 0;
}

int regime_is_prefill(const char *regime) { return !regime || !*regime || !strcmp(regime, "prefill"); }

/* the rows of the file that repeat an earlier row's point: count, first example */
static int count_doubled(data *d) {
    int colmap[COL_COUNT];
    point_id_colmap(&d->all, colmap);
    point_set set = {0};
    for (size_t r = 0; r < d->all.nrows; r++) {
        int added = point_set_add(&set, point_id_table_row(&d->all, r, colmap), r, NULL);
        if (added < 0) { point_set_free(&set); return -1; }
        if (added == 0 && !d->doubled++)
            snprintf(d->doubled_example, sizeof d->doubled_example, "row %zu (%s %s n=%s)", r + 1,
                     table_get(&d->all, r, colmap[COL_attention]), table_get(&d->all, r, colmap[COL_projection]),
                     table_get(&d->all, r, colmap[COL_n]));
    }
    point_set_free(&set);
    return 0;
}

int data_init(data *d, csv_table *table, const char *path) {
    memset(d, 0, sizeof *d);
    d->all = *table;
    memset(table, 0, sizeof *table);
    d->path = path;
    /* the prefill view: the same header, the rows of the prefill regime */
    int regime = table_col(&d->all, "regime");
    d->t = d->all;
    d->t.rows = malloc((d->all.nrows ? d->all.nrows : 1) * sizeof *d->t.rows);
    if (!d->t.rows) return -1;
    d->t.nrows = 0;
    for (size_t r = 0; r < d->all.nrows; r++) {
        if (regime_is_prefill(table_get(&d->all, r, regime))) d->t.rows[d->t.nrows++] = d->all.rows[r];
        else d->other_regimes++;
    }
    for (int c = 0; c < COL_COUNT; c++) d->col[c] = table_col(&d->t, result_column_names[c]);
    d->status = table_col(&d->t, "status");
    d->time = table_col(&d->t, "time_median_s");
    d->peak = table_col(&d->t, "kernel_peak_bytes");
    d->ws = table_col(&d->t, "workspace_bytes");
    d->rel_err = table_col(&d->t, "rel_err");
    d->topk_mass = table_col(&d->t, "topk_mass");
    d->note = table_col(&d->t, "note");
    d->logit_std = table_col(&d->t, "logit_std");
    d->entropy = table_col(&d->t, "entropy");
    d->params = table_col(&d->t, "params");
    if (d->status < 0 || d->col[COL_n] < 0 || d->col[COL_attention] < 0) return -2;
    if (count_doubled(d)) return -1;
    return 0;
}

void data_free(data *d) {
    free(d->t.rows);
    d->t.rows = NULL;
    table_free(&d->all);
    free(d->study);
    free(d->layers);
    d->study = NULL;
    d->layers = NULL;
}

const char *fld(const data *d, size_t r, int c) { return table_get(&d->t, r, d->col[c]); }

double num(const data *d, size_t r, int col) {
    const char *s = table_get(&d->t, r, col);
    char *end;
    if (!*s) return NAN;
    double v = strtod(s, &end);
    return *end ? NAN : v;
}
double idnum(const data *d, size_t r, int c) { return num(d, r, d->col[c]); }

const char *status_of(const data *d, size_t r) { return table_get(&d->t, r, d->status); }
int is_ok(const data *d, size_t r) { return !strcmp(status_of(d, r), "ok"); }
int is_attention(const data *d, size_t r) {
    const char *l = fld(d, r, COL_layer);
    return !strcmp(l, "attention") || (!*l && *fld(d, r, COL_attention));
}
int is_ffn(const data *d, size_t r) { return !strcmp(fld(d, r, COL_layer), "ffn"); }
int is_real(const data *d, size_t r) {
    const char *in = fld(d, r, COL_input);
    return *in && strcmp(in, "synthetic");
}
int in_study(const data *d, size_t r, int study) { return d->study && d->study[r] == study; }
int is_unknown_method(const data *d, size_t r) {
    return !strcmp(status_of(d, r), "skipped") && !strncmp(table_get(&d->t, r, d->note), "unknown method", 14);
}

int same_text(const char *a, const char *b) {
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    if (*a && *b && !*ea && !*eb) return x == y;
    return !strcmp(a, b);
}

int same_config(const data *d, size_t r, size_t q, colset skip, int lenient) {
    int n;
    const int *cols = id_columns(&n);
    for (int i = 0; i < n; i++) {
        const int c = cols[i];
        if (skip & BIT(c)) continue;
        const char *b = fld(d, q, c);
        if (lenient && !*b) continue;
        if (!same_text(fld(d, r, c), b)) return 0;
    }
    return 1;
}

/* a projection's knob (kv_heads: every projection records its K/V heads,
 * only some choose them) counts only where the row's scheme reads it */
colset row_knob_cols(const data *d, size_t r) {
    colset bits = 0;
    for (int i = 0; i < KN_COUNT; i++) {
        const knob_def *k = &knob_defs[i];
        if (!k->bit || k->column < 0 || !*fld(d, r, k->column)) continue;
        if (!KNOB_IS_METHOD(k->bit) &&
            (is_ffn(d, r) || !knob_applies(i, OPTS_RUN, fld(d, r, COL_attention), fld(d, r, COL_projection))))
            continue;
        bits |= BIT(k->column);
    }
    return bits;
}

double row_memory(const data *d, size_t r, int *counted) {
    return memory_rule(num(d, r, d->peak), num(d, r, d->ws), counted);
}

double memory_rule(double peak, double ws, int *counted) {
    if (counted) *counted = 0;
    if (isfinite(peak) && peak >= RSS_RESOLUTION) return peak;
    if (isfinite(ws) && ws >= 0) {
        if (counted) *counted = 1;
        return fmax(ws, 1);
    }
    return isfinite(peak) ? fmax(peak, PAGE) : NAN;
}

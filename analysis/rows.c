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

const char *const id_names[ID_COUNT] = {
#define ID_NAME(id, name) #name,
    ID_COLUMNS(ID_NAME)
#undef ID_NAME
};

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
    for (int c = 0; c < ID_COUNT; c++) d->id[c] = table_col(&d->t, id_names[c]);
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
    if (d->status < 0 || d->id[ID_N] < 0 || d->id[ID_ATTENTION] < 0) return -2;
    if (count_doubled(d) || find_real_study(d)) return -1;
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

const char *fld(const data *d, size_t r, int id) { return table_get(&d->t, r, d->id[id]); }

double num(const data *d, size_t r, int col) {
    const char *s = table_get(&d->t, r, col);
    char *end;
    if (!*s) return NAN;
    double v = strtod(s, &end);
    return *end ? NAN : v;
}
double idnum(const data *d, size_t r, int id) { return num(d, r, d->id[id]); }

const char *status_of(const data *d, size_t r) { return table_get(&d->t, r, d->status); }
int is_ok(const data *d, size_t r) { return !strcmp(status_of(d, r), "ok"); }
int is_attention(const data *d, size_t r) {
    const char *l = fld(d, r, ID_LAYER);
    return !strcmp(l, "attention") || (!*l && *fld(d, r, ID_ATTENTION));
}
int is_ffn(const data *d, size_t r) { return !strcmp(fld(d, r, ID_LAYER), "ffn"); }
int is_real(const data *d, size_t r) {
    const char *in = fld(d, r, ID_INPUT);
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

int same_config(const data *d, size_t r, size_t q, unsigned skip, int lenient) {
    for (int c = 0; c < ID_COUNT; c++) {
        if (skip & BIT(c)) continue;
        const char *b = fld(d, q, c);
        if (lenient && !*b) continue;
        if (!same_text(fld(d, r, c), b)) return 0;
    }
    return 1;
}

/* the identity columns that are a method's (or projection's) knob in the
 * registry (knobs.h: an entry with a KNOB_* bit), and set in the row; a
 * projection's knob (kv_heads: every projection records its K/V heads, only
 * some choose them) only where the row's scheme reads it */
unsigned row_knob_cols(const data *d, size_t r) {
    unsigned bits = 0;
    for (int c = 0; c < ID_COUNT; c++) {
        if (!(KNOB_BITS & BIT(c)) || !*fld(d, r, c)) continue;
        const int col = result_column_find(id_names[c]);
        for (int i = 0; i < KN_COUNT; i++) {
            const knob_def *k = &knob_defs[i];
            if (k->column != col || !k->bit) continue;
            if (k->bit == KNOB_KV_HEADS &&
                (is_ffn(d, r) || !knob_applies(i, OPTS_RUN, fld(d, r, ID_ATTENTION), fld(d, r, ID_PROJECTION))))
                break;
            bits |= BIT(c);
            break;
        }
    }
    return bits;
}

double row_memory(const data *d, size_t r, int *counted) {
    double peak = num(d, r, d->peak), ws = num(d, r, d->ws);
    if (counted) *counted = 0;
    if (isfinite(peak) && peak > NOISE_PAGES * PAGE) return peak;
    if (isfinite(ws) && ws >= 0) {
        if (counted) *counted = 1;
        return fmax(ws, 1);
    }
    return isfinite(peak) ? fmax(peak, PAGE) : NAN;
}

/* real.c — the real study (rows.h): rows whose `input` is a directory (a
 * captured layer) are the real study, each input one layer; synthetic rows
 * of the same shape as a real row (n, heads, d_head, causal) are its twins,
 * and the twin of a layer is the score std nearest its measured logit std. */
#include "rows.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a twin is a synthetic score std within this factor of a layer's logit std */
static const double TWIN_TOL = 1.25;

static int by_input(const void *a, const void *b) {
    return strverscmp(((const real_layer *)a)->input, ((const real_layer *)b)->input);
}

const real_layer *layer_of(const data *d, size_t r) {
    for (size_t i = 0; i < d->nlayers; i++)
        if (!strcmp(d->layers[i].input, fld(d, r, COL_input))) return &d->layers[i];
    return NULL;
}

/* "layer0" for a real row, else its input */
const char *input_name(const data *d, size_t r) {
    const real_layer *l = layer_of(d, r);
    return l ? l->name : fld(d, r, COL_input);
}

/* a synthetic row with a real row's shape */
static int real_shape(const data *d, size_t q, size_t r) {
    static const int ids[] = {COL_n, COL_heads, COL_d_head, COL_causal};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (!same_text(fld(d, q, ids[i]), fld(d, r, ids[i]))) return 0;
    return 1;
}

/* Marks each row's study, finds the layers (ok attention rows of a real
 * input), their figures and their twins. 0, or -1 (memory). */
int find_real_study(data *d) {
    size_t nr = d->t.nrows;
    d->study = calloc(nr ? nr : 1, 1);
    if (!d->study) return -1;
    for (size_t r = 0; r < nr; r++) {
        if (!is_attention(d, r) || !is_real(d, r)) continue;
        d->study[r] = STUDY_REAL;
        if (!is_ok(d, r)) continue;
        real_layer *l = (real_layer *)layer_of(d, r);
        if (!l) {
            real_layer *grown = realloc(d->layers, (d->nlayers + 1) * sizeof *grown);
            if (!grown) return -1;
            d->layers = grown;
            l = &d->layers[d->nlayers++];
            *l = (real_layer){.input = fld(d, r, COL_input), .logit_std = NAN, .entropy = NAN, .twin_std = NAN};
        }
        if (!isfinite(l->logit_std)) l->logit_std = num(d, r, d->logit_std);
        if (!isfinite(l->entropy)) l->entropy = num(d, r, d->entropy);
    }
    if (!d->nlayers) return 0;
    qsort(d->layers, d->nlayers, sizeof *d->layers, by_input);
    for (size_t q = 0; q < nr; q++) {
        if (d->study[q] || !is_attention(d, q) || is_real(d, q)) continue;
        for (size_t r = 0; r < nr && !d->study[q]; r++)
            if (d->study[r] == STUDY_REAL && is_ok(d, r) && real_shape(d, q, r)) d->study[q] = STUDY_TWIN;
    }
    for (size_t i = 0; i < d->nlayers; i++) {
        real_layer *l = &d->layers[i];
        /* the name: the path's last part, unless two layers share it */
        const char *in = l->input, *end = in + strlen(in);
        while (end > in + 1 && end[-1] == '/') end--;
        const char *start = end;
        while (start > in && start[-1] != '/') start--;
        snprintf(l->name, sizeof l->name, "%.*s", (int)(end - start), start);
        double best = log(TWIN_TOL);
        for (size_t q = 0; q < nr && isfinite(l->logit_std) && l->logit_std > 0; q++) {
            double sd = idnum(d, q, COL_score_std);
            if (!in_study(d, q, STUDY_TWIN) || !is_ok(d, q) || !(sd > 0)) continue;
            double dist = fabs(log(sd / l->logit_std));
            if (dist <= best) { best = dist; l->twin_std = sd; }
        }
    }
    for (size_t i = 0; i < d->nlayers; i++)
        for (size_t j = 0; j < d->nlayers; j++)
            if (i != j && !strcmp(d->layers[i].name, d->layers[j].name)) {
                snprintf(d->layers[i].name, sizeof d->layers[i].name, "%s", d->layers[i].input);
                break;
            }
    return 0;
}

/* r is a row of layer l's twin: the twin study at l's score std */
int is_twin_of(const data *d, size_t r, const real_layer *l) {
    double sd = idnum(d, r, COL_score_std);
    return in_study(d, r, STUDY_TWIN) && isfinite(l->twin_std) && fabs(sd - l->twin_std) <= 1e-9 * l->twin_std;
}

/* the ok twin row of real row r (same knobs, the layer's twin std), or -1 */
long twin_row(const data *d, size_t r) {
    const real_layer *l = layer_of(d, r);
    for (size_t q = 0; l && q < d->t.nrows; q++)
        if (is_ok(d, q) && is_twin_of(d, q, l) && same_config(d, r, q, INPUT_COLS, 0)) return (long)q;
    return -1;
}

int data_load(data *d, csv_table *table, const char *path) {
    const int rc = data_init(d, table, path);
    return rc ? rc : find_real_study(d);
}

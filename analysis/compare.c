/* compare.c — crossovers against the baseline and Pareto groups (compare.h). */
#include "compare.h"
#include "fit.h"
#include "traits.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double crossover(const versus *v, const int *beat) {
    double from = NAN;
    for (size_t i = v->count; i-- > 0;) {
        if (!beat[i]) break;
        from = v->n[i];
    }
    return from;
}

/* the baseline's row for row r (same shape and input), an ok one first; -1: none */
static long baseline_row(const data *d, size_t r, int *ok) {
    long base = -1;
    *ok = 0;
    for (size_t q = 0; q < d->t.nrows; q++) {
        if (!op_baseline(fld(d, q, COL_attention)) || !same_config(d, r, q, BIT(COL_attention) | knob_cols(), 1))
            continue;
        if (is_unknown_method(d, q)) continue;
        int qok = is_ok(d, q);
        if (base < 0 || (qok && !*ok)) { base = (long)q; *ok = qok; }
    }
    return base;
}

void compare_with_baseline(const data *d, const config *g, versus *v) {
    memset(v, 0, sizeof *v);
    /* n ascending */
    size_t idx[64], m = 0;
    for (size_t j = 0; j < g->ok.n && m < 64; j++) idx[m++] = g->ok.r[j];
    for (size_t a = 0; a < m; a++)
        for (size_t b = a + 1; b < m; b++)
            if (idnum(d, idx[b], COL_n) < idnum(d, idx[a], COL_n)) { size_t t = idx[a]; idx[a] = idx[b]; idx[b] = t; }
    for (size_t j = 0; j < m; j++) {
        size_t r = idx[j];
        int base_ok;
        long base = baseline_row(d, r, &base_ok);
        if (base < 0) continue;
        size_t k = v->count++;
        v->n[k] = idnum(d, r, COL_n);
        if (!base_ok) { /* the baseline could not run this n */
            v->beat_peak[k] = v->beat_ws[k] = v->beat_time[k] = 1;
            continue;
        }
        v->beat_peak[k] = row_memory(d, r, NULL) < row_memory(d, (size_t)base, NULL);
        v->beat_ws[k] = num(d, r, d->ws) < num(d, (size_t)base, d->ws);
        v->beat_time[k] = num(d, r, d->time) < num(d, (size_t)base, d->time);
    }
}

static int keep(const data *d, size_t r) { return is_ok(d, r) && is_attention(d, r) && num(d, r, d->rel_err) >= 0; }

static void group_free(pareto_group *g) {
    free(g->rows);
    free(g->mem);
    free(g->err);
    free(g->counted);
    free(g->front);
}

void pareto_groups_free(pareto_group *g, size_t n) {
    for (size_t i = 0; i < n; i++) group_free(&g[i]);
    free(g);
}

/* the group of the rows that agree with row r, marked done; 0, or -1 */
static int gather(const data *d, size_t r, char *done, pareto_group *g) {
    size_t nr = d->t.nrows;
    const colset skip = method_cols() | BIT(COL_d_model);
    memset(g, 0, sizeof *g);
    g->rows = malloc(nr * sizeof *g->rows);
    g->mem = malloc(nr * sizeof *g->mem);
    g->err = malloc(nr * sizeof *g->err);
    g->counted = malloc(nr * sizeof *g->counted);
    g->front = malloc(nr * sizeof *g->front);
    if (!g->rows || !g->mem || !g->err || !g->counted || !g->front) return -1;
    for (size_t q = r; q < nr; q++) {
        if (done[q] || !keep(d, q) || !same_config(d, r, q, skip, 0)) continue;
        done[q] = 1;
        int newm = 1;
        for (size_t z = 0; z < g->m && newm; z++)
            newm = strcmp(fld(d, g->rows[z], COL_attention), fld(d, q, COL_attention)) ||
                   strcmp(fld(d, g->rows[z], COL_projection), fld(d, q, COL_projection));
        g->methods += newm;
        g->mem[g->m] = row_memory(d, q, &g->counted[g->m]);
        g->err[g->m] = num(d, q, d->rel_err);
        g->rows[g->m++] = q;
    }
    g->nf = pareto_front(g->mem, g->err, g->m, ERR_TIE, g->front);
    return 0;
}

int pareto_groups(const data *d, pareto_group **out, size_t *nout) {
    size_t nr = d->t.nrows, n = 0, cap = 0;
    pareto_group *gs = NULL;
    char *done = calloc(nr ? nr : 1, 1);
    if (!done) return -1;
    for (size_t r = 0; r < nr; r++) {
        if (done[r] || !keep(d, r)) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            pareto_group *grown = realloc(gs, cap * sizeof *grown);
            if (!grown) goto nomem;
            gs = grown;
        }
        pareto_group *g = &gs[n++];
        if (gather(d, r, done, g)) { n--; group_free(g); goto nomem; }
        if (g->m < 3 || g->methods < 2) { group_free(g); n--; }
    }
    free(done);
    *out = gs;
    *nout = n;
    return 0;
nomem:
    free(done);
    pareto_groups_free(gs, n);
    return -1;
}

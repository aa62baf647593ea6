/* summary_real.c — the real study's section of summary.md: each captured
 * layer beside its synthetic twin (summary.h). */
#include "labels.h"
#include "summary.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the real study's table compares errors at these knob values (or the
 * nearest the rows have) */
static const double REAL_K = 32, REAL_FEATURES = 64;
/* and top-k's error and kept mass against k at these k (or the nearest) */
static const double REAL_KS[] = {8, 32, 64};

/* the value of knob `id` nearest `want` among the ok real rows of methods
 * that read `mask`; NAN where there are none */
static double real_knob_nearest(const data *d, colset mask, int id, double want) {
    double best = NAN;
    for (size_t r = 0; r < d->t.nrows; r++) {
        double v = idnum(d, r, id);
        if (!in_study(d, r, STUDY_REAL) || !is_ok(d, r) || !(row_knob_cols(d, r) & mask) || !(v > 0))
            continue;
        if (isnan(best) || fabs(log(v / want)) < fabs(log(best / want))) best = v;
    }
    return best;
}

/* an ok row of layer l for a method reading `mask` at knob id = v, one with
 * a twin where there is one; -1 where there is none. *twin: its twin or -1 */
static long real_row_at(const data *d, const real_layer *l, colset mask, int id, double v, long *twin) {
    long found = -1;
    *twin = -1;
    for (size_t r = 0; r < d->t.nrows && isfinite(v); r++) {
        if (!in_study(d, r, STUDY_REAL) || !is_ok(d, r) || strcmp(fld(d, r, COL_input), l->input) ||
            !(row_knob_cols(d, r) & mask) || idnum(d, r, id) != v)
            continue;
        if (found < 0) found = (long)r;
        if ((*twin = twin_row(d, r)) >= 0) return (long)r;
    }
    return found;
}

/* "0.0606 / 0.0306 | 1.98" and the ratio for the geometric mean (NAN: none) */
static double fmt_pair(const data *d, long r, long q, int col, char *out, size_t cap, int with_ratio) {
    double a = r >= 0 ? num(d, (size_t)r, col) : NAN, b = q >= 0 ? num(d, (size_t)q, col) : NAN;
    double ratio = a / b;
    char sa[32] = "—", sb[32] = "—";
    if (isfinite(a)) snprintf(sa, sizeof sa, "%.3g", a);
    if (isfinite(b)) snprintf(sb, sizeof sb, "%.3g", b);
    if (!with_ratio) snprintf(out, cap, "%s / %s", sa, sb);
    else if (isfinite(ratio) && b > 0) snprintf(out, cap, "%s / %s | %.2f", sa, sb, ratio);
    else snprintf(out, cap, "%s / %s | —", sa, sb);
    return isfinite(ratio) && ratio > 0 ? ratio : NAN;
}

/* "0.177 (0.834)": rel_err and kept mass of row r, or "—" */
static void fmt_err_mass(const data *d, long r, char *out, size_t cap) {
    if (r < 0) snprintf(out, cap, "—");
    else snprintf(out, cap, "%.3g (%.3g)", num(d, (size_t)r, d->rel_err), num(d, (size_t)r, d->topk_mass));
}

/* top-k's rel_err (kept mass) on each layer and its twin at REAL_KS */
static void summary_real_k(FILE *f, const data *d) {
    double ks[sizeof REAL_KS / sizeof REAL_KS[0]];
    size_t nk = 0;
    for (size_t i = 0; i < sizeof REAL_KS / sizeof REAL_KS[0]; i++) {
        double k = real_knob_nearest(d, BIT(COL_k), COL_k, REAL_KS[i]);
        if (isfinite(k) && (!nk || ks[nk - 1] != k)) ks[nk++] = k;
    }
    if (!nk) return;
    fprintf(f, "\nTop-k rel_err (kept mass) against k, real / twin:\n\n| layer (logit std) |");
    for (size_t i = 0; i < nk; i++) fprintf(f, " k = %g |", ks[i]);
    fprintf(f, "\n| --- |");
    for (size_t i = 0; i < nk; i++) fprintf(f, " --- |");
    fprintf(f, "\n");
    for (size_t i = 0; i < d->nlayers; i++) {
        const real_layer *l = &d->layers[i];
        fprintf(f, "| %s (%.3g) |", l->name, l->logit_std);
        for (size_t j = 0; j < nk; j++) {
            long twin, r = real_row_at(d, l, BIT(COL_k), COL_k, ks[j], &twin);
            char a[64], b[64];
            fmt_err_mass(d, r, a, sizeof a);
            fmt_err_mass(d, twin, b, sizeof b);
            fprintf(f, " %s / %s |", a, b);
        }
        fprintf(f, "\n");
    }
}

void summary_real(FILE *f, const data *d) {
    if (!d->nlayers) return;
    double k = real_knob_nearest(d, BIT(COL_k), COL_k, REAL_K);
    double m = real_knob_nearest(d, BIT(COL_features), COL_features, REAL_FEATURES);
    size_t r0 = 0;
    while (r0 < d->t.nrows && !(in_study(d, r0, STUDY_REAL) && is_ok(d, r0))) r0++;
    const char *n = fld(d, r0, COL_n), *h = fld(d, r0, COL_heads), *dh = fld(d, r0, COL_d_head);
    fprintf(f, "\n## Real attention beside its synthetic twins\n\n"
               "Each real layer (rows whose `input` is a directory of q, k, v, such as a layer that "
               "`attnbench capture` wrote) beside its synthetic twin: synthetic input of the same shape "
               "(n = %s, %s heads, d_head %s%s) at the score std nearest the layer's logit std. Logit std "
               "(of q·k/√d over the causal pairs of sampled query rows) and entropy (mean exact-attention "
               "row entropy, nats) are as `run` measured them, the same way for a layer and its twin; the "
               "twin's score std is what the spec set (`make sweep`: the capture's logit std over all causal "
               "pairs, 3 significant digits). Errors are top-k at k = %g and Performer at m = %g, real / twin, "
               "and their ratio.\n\n"
               "| layer | input | logit std | entropy | twin: score std (logit std, entropy) | "
               "top-k rel_err real / twin | ratio | top-k kept mass real / twin | "
               "Performer rel_err real / twin | ratio |\n"
               "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
            n, h, dh, idnum(d, r0, COL_causal) == 1 ? ", causal" : "", k, m);
    double log_k = 0, log_m = 0;
    int count_k = 0, count_m = 0, over = 0;
    for (size_t i = 0; i < d->nlayers; i++) {
        const real_layer *l = &d->layers[i];
        long tk, tm;
        long rk = real_row_at(d, l, BIT(COL_k), COL_k, k, &tk), rm = real_row_at(d, l, BIT(COL_features), COL_features, m, &tm);
        char twin[120] = "none near", ek[80], mass[80], em[80];
        if (isfinite(l->twin_std)) {
            long q = rk >= 0 ? tk : rm >= 0 ? tm : -1;
            if (q >= 0)
                snprintf(twin, sizeof twin, "%g (%.3g, %.3g)", l->twin_std, num(d, (size_t)q, d->logit_std),
                         num(d, (size_t)q, d->entropy));
            else
                snprintf(twin, sizeof twin, "%g", l->twin_std);
        }
        double a = fmt_pair(d, rk, tk, d->rel_err, ek, sizeof ek, 1);
        fmt_pair(d, rk, tk, d->topk_mass, mass, sizeof mass, 0);
        double b = fmt_pair(d, rm, tm, d->rel_err, em, sizeof em, 1);
        const long shown[4] = {rk, tk, rm, tm};
        for (int x = 0; x < 4; x++) over |= shown[x] >= 0 && num(d, (size_t)shown[x], d->rel_err) > 1;
        if (isfinite(a)) { log_k += log(a); count_k++; }
        if (isfinite(b)) { log_m += log(b); count_m++; }
        fprintf(f, "| %s | `%s` | %.3g | %.3g | %s | %s | %s | %s |\n", l->name, l->input, l->logit_std, l->entropy,
                twin, ek, mass, em);
    }
    note_over_one(f, over);
    fprintf(f, "\nGeometric mean of real / twin over the layers:");
    if (count_k) fprintf(f, " top-k (k = %g) %.2f over %d layer(s);", k, exp(log_k / count_k), count_k);
    if (count_m) fprintf(f, " Performer (m = %g) %.2f over %d layer(s);", m, exp(log_m / count_m), count_m);
    if (!count_k && !count_m) fprintf(f, " no layer has both rows;");
    fprintf(f, " above 1, the approximation loses more on the real layer than on synthetic input as peaked.\n");
    summary_real_k(f, d);
}


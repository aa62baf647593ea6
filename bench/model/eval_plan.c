/* eval_plan.c — per-layer top-k budgets (PyramidKV-style) for a target
 * ΔNLL or KL, chosen greedily on measured per-layer sensitivity.
 *
 *   1. sensitivity: each planned layer alone substituted at every k of the
 *      ladder 4, 8, 16, 32, 64, 128, 256 (those <= n): its dnll (or kl), one
 *      row each;
 *   2. greedy: every layer at the smallest k; while the predicted total
 *      (the sum of the layers' measured figures, i.e. assuming they add)
 *      misses the target, raise the k of the layer whose next rung buys the
 *      most figure per byte it reads, until the prediction meets the target
 *      or every layer is at the top;
 *   3. verify the plan by a full run (one row), and run uniform k up the
 *      ladder until one meets the target (one row each).
 * Top-k keeps every key in its cache, so k does not change cache_bytes; what
 * k buys in decoding is the values read per step, k * kv_heads * d_head * 4
 * bytes per layer, which is the cost the greedy step divides by. */
#include "eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RUNGS = 7 };
static const size_t ladder_all[RUNGS] = {4, 8, 16, 32, 64, 128, 256};

static int run_one(eval_sub *e, const eval_exact *ex, eval_stats *st, int use_kl, double *figure) {
    char err[512];
    free(st->layer_rel_err);
    if (eval_measure(e, ex, st, err, sizeof err)) {
        fprintf(stderr, "attnbench eval: plan: %s\n", err);
        return 1;
    }
    *figure = use_kl ? st->kl : st->dnll;
    return 0;
}

/* Reason for the length: the three steps share the ladder and the figures
 * table, and reading them in order is what makes the plan checkable. */
int eval_plan(eval_sub *e, const eval_exact *ex, int use_kl, double target, eval_emit_fn emit, void *ctx) {
    const int L = e->md->c.n_layers;
    const char *what = use_kl ? "kl" : "dnll";
    size_t ladder[RUNGS], rungs = 0;
    for (int j = 0; j < RUNGS; j++) if (ladder_all[j] <= ex->n) ladder[rungs++] = ladder_all[j];
    if (!rungs) ladder[rungs++] = ex->n;
    int *planned = malloc((size_t)L * sizeof(int)), *level = calloc((size_t)L, sizeof(int));
    double *fig = malloc((size_t)L * RUNGS * sizeof(double));
    eval_stats st = {0};
    int rc = 1;
    char note[512];
    if (!planned || !level || !fig) { fprintf(stderr, "attnbench eval: plan: out of memory\n"); goto done; }
    memcpy(planned, e->sub, (size_t)L * sizeof(int));

    /* 1. sensitivity */
    for (int l = 0; l < L; l++) {
        if (!planned[l]) continue;
        for (int i = 0; i < L; i++) e->sub[i] = i == l;
        for (size_t j = 0; j < rungs; j++) {
            e->knobs[l].k = ladder[j];
            if (run_one(e, ex, &st, use_kl, &fig[l * RUNGS + j])) goto done;
            snprintf(note, sizeof note, "plan sensitivity: layer %d alone at k %zu", l, ladder[j]);
            if (emit(ctx, e, &st, note)) goto done;
        }
    }

    /* 2. greedy on the predicted total */
    const double per_k = (double)e->kv * (double)e->md->c.head_size * 4.0;
    double predicted = 0;
    for (int l = 0; l < L; l++) if (planned[l]) predicted += fig[l * RUNGS];
    while (predicted > target) {
        int best = -1;
        double best_gain = -INFINITY;
        for (int l = 0; l < L; l++) {
            if (!planned[l] || level[l] + 1 >= (int)rungs) continue;
            double gain = (fig[l * RUNGS + level[l]] - fig[l * RUNGS + level[l] + 1]) /
                          ((double)(ladder[level[l] + 1] - ladder[level[l]]) * per_k);
            if (gain > best_gain) { best_gain = gain; best = l; }
        }
        if (best < 0) break;
        predicted += fig[best * RUNGS + level[best] + 1] - fig[best * RUNGS + level[best]];
        level[best]++;
    }

    /* 3. verify the plan, then uniform k up the ladder */
    double got;
    memcpy(e->sub, planned, (size_t)L * sizeof(int));
    for (int l = 0; l < L; l++) if (planned[l]) e->knobs[l].k = ladder[level[l]];
    if (run_one(e, ex, &st, use_kl, &got)) goto done;
    snprintf(note, sizeof note, "plan per-layer: target %s %g; predicted %.4g; measured %.4g: %s", what, target, predicted, got,
             got <= target ? "meets it" : "misses it");
    if (emit(ctx, e, &st, note)) goto done;
    for (size_t j = 0; j < rungs; j++) {
        for (int l = 0; l < L; l++) if (planned[l]) e->knobs[l].k = ladder[j];
        if (run_one(e, ex, &st, use_kl, &got)) goto done;
        snprintf(note, sizeof note, "plan uniform: k %zu; target %s %g; measured %.4g: %s", ladder[j], what, target, got,
                 got <= target ? "meets it" : "misses it");
        if (emit(ctx, e, &st, note)) goto done;
        if (got <= target) break;
    }
    rc = 0;
done:
    free(st.layer_rel_err);
    free(planned); free(level); free(fig);
    return rc;
}

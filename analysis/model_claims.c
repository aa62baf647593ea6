/* model_claims.c — the claims table of summary.md (model_study.h): each
 * claim of the seeds (top-k attention, Gupta et al. 2021; MHE, Xue & Aletras
 * 2023; multi-query attention) beside the figure these rows measure, the
 * setting, and a verdict. Every number comes from the rows: prefill rows
 * for top-k's memory against n and the feed-forward, decode rows for the
 * caches, model rows for quality, the params column for MHE's formula. */
#include "fit.h"
#include "labels.h"
#include "model_study.h"
#include "rows.h"
#include "knobs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WITHIN 0.01
/* a memory slope against n at most this is linear */
#define LINEAR_SLOPE 1.2

static int is_prefill(const rtab *rt, size_t r) { return regime_is_prefill(rt_get(rt, r, COL_regime)) && rt_ok(rt, r); }
static int is_synthetic(const rtab *rt, size_t r) {
    const char *in = rt_get(rt, r, COL_input);
    return !*in || !strcmp(in, "synthetic");
}
static int is_mha(const char *p) { return !*p || proj_reference(p); }

/* rows.h's memory: the measured peak, or the counted workspace below what the peak resolves */
static double memory_of(const rtab *rt, size_t r) {
    return memory_rule(rt_num(rt, r, COL_kernel_peak_bytes), rt_num(rt, r, COL_workspace_bytes), NULL);
}

static int same_cols(const rtab *rt, size_t a, size_t b, const int *cols, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(rt_get(rt, a, cols[i]), rt_get(rt, b, cols[i]))) return 0;
    return 1;
}

/* rows a and b agree on every method knob (the registry's) */
static int same_knobs(const rtab *rt, size_t a, size_t b) {
    for (int i = 0; i < KN_COUNT; i++)
        if (KNOB_IS_METHOD(knob_defs[i].bit) && strcmp(rt_get(rt, a, knob_defs[i].column), rt_get(rt, b, knob_defs[i].column)))
            return 0;
    return 1;
}

/* the log-log slope of memory against n of the prefill configuration of
 * `attention` (MHA, synthetic) with the most n; *lo, *hi its n range */
static double memory_slope(const rtab *rt, const char *attention, size_t *first, double *lo, double *hi, size_t *npts) {
    static const int cfg[] = {COL_layer, COL_heads, COL_d_head, COL_d_model, COL_score_std, COL_head_sim, COL_causal, COL_threads, COL_seed};
    size_t nr = rt->t->nrows, best_n = 0;
    double best = NAN;
    double *x = malloc((nr + 1) * sizeof *x), *y = malloc((nr + 1) * sizeof *y);
    for (size_t r = 0; x && y && r < nr; r++) {
        if (!is_prefill(rt, r) || strcmp(rt_get(rt, r, COL_attention), attention) || !is_synthetic(rt, r) ||
            !is_mha(rt_get(rt, r, COL_projection)) || !strcmp(rt_get(rt, r, COL_layer), "ffn"))
            continue;
        size_t m = 0, earlier = 0;
        double a = INFINITY, b = 0;
        for (size_t q = 0; q < nr; q++) {
            if (!is_prefill(rt, q) || strcmp(rt_get(rt, q, COL_attention), attention) || !is_synthetic(rt, q) ||
                !is_mha(rt_get(rt, q, COL_projection)) || !same_cols(rt, r, q, cfg, sizeof cfg / sizeof cfg[0]) ||
                !same_knobs(rt, r, q))
                continue;
            if (q < r) { earlier = 1; break; } /* this configuration was fitted at its first row */
            x[m] = rt_num(rt, q, COL_n);
            y[m++] = memory_of(rt, q);
            a = fmin(a, x[m - 1]);
            b = fmax(b, x[m - 1]);
        }
        double slope;
        if (earlier || m < 3 || m <= best_n || fit_loglog(x, y, m, &slope) < 3 || !isfinite(slope)) continue;
        best = slope;
        best_n = m;
        *first = r;
        *lo = a;
        *hi = b;
    }
    free(x);
    free(y);
    *npts = best_n;
    return best;
}

static const char *pct(double part, double whole, char *buf) {
    fmt_pct(part, whole, buf, 32);
    return buf;
}

static void claim_row(FILE *f, const char *claim, const char *measured, const char *setting, const char *verdict) {
    fprintf(f, "| %s | %s | %s | %s |\n", claim, measured, setting, verdict);
}

static void claim_linear_memory(FILE *f, const rtab *rt) {
    size_t r = 0, m = 0, mv = 0, rv = 0;
    double lo = 0, hi = 0, lov = 0, hiv = 0, s = NAN, sv = NAN;
    const char *topk = keeps_largest_name(), *base = baseline_name();
    if (topk) s = memory_slope(rt, topk, &r, &lo, &hi, &m);
    sv = memory_slope(rt, base, &rv, &lov, &hiv, &mv);
    char meas[400], set[300], verdict[160];
    if (!m) {
        claim_row(f, "top-k: linear memory", "—", "—", "not testable here: no prefill top-k rows at 3 or more n");
        return;
    }
    snprintf(meas, sizeof meas, "memory grows as n^%.2f%s", s, "");
    if (mv) snprintf(meas + strlen(meas), sizeof meas - strlen(meas), " (%s: n^%.2f)", base, sv);
    snprintf(set, sizeof set, "prefill, k %s, chunk %s, %s heads of %s, n %g–%g (%zu rows); memory: measured peak, or "
             "the counted workspace below 1 MiB; one seed's rows, as in the scaling table", rt_get(rt, r, COL_k), rt_get(rt, r, COL_chunk),
             rt_get(rt, r, COL_heads), rt_get(rt, r, COL_d_head), lo, hi, m);
    snprintf(verdict, sizeof verdict, "%s", s <= LINEAR_SLOPE ? "holds" : "does not hold (slope above 1.2)");
    claim_row(f, "top-k (Gupta et al. 2021): linear memory in n", meas, set, verdict);
}

/* the smallest k of top-k in every layer within 1% of the exact NLL, per checkpoint */
static void claim_drop_in(FILE *f, const rtab *rt, const mckpt *c, size_t nc) {
    char pb[32];
    char meas[1200] = "", set[600] = "", verdict[600] = "";
    size_t lm = 0, ls = 0, lv = 0;
    int any = 0;
    for (size_t i = 0; i < nc; i++) {
        const plane_pt *best = NULL, *largest = NULL;
        for (size_t j = 0; j < c[i].nplane; j++) {
            const plane_pt *p = &c[i].plane[j];
            if (!family_keeps_largest(p->family)) continue;
            if (!largest || p->knob > largest->knob) largest = p;
            if (p->y <= WITHIN * c[i].nll_exact && (!best || p->knob < best->knob)) best = p;
        }
        if (!largest) continue;
        any = 1;
        const plane_pt *p = best ? best : largest;
        lm += (size_t)snprintf(meas + lm, sizeof meas - lm, "%s%s: k=%g ΔNLL %.3g (%s of NLL), top-1 %.3g",
                               lm ? "; " : "", c[i].name, p->knob, p->y, pct(p->y, c[i].nll_exact, pb), rt_num(rt, p->row, COL_top1));
        ls += (size_t)snprintf(set + ls, sizeof set - ls, "%s%s, every layer, n %s, %s sequences", ls ? "; " : "", c[i].name,
                               rt_get(rt, p->row, COL_n), rt_get(rt, p->row, COL_sequences));
        if (best) lv += (size_t)snprintf(verdict + lv, sizeof verdict - lv, "%s%s: holds from k = %g", lv ? "; " : "", c[i].name, best->knob);
        else lv += (size_t)snprintf(verdict + lv, sizeof verdict - lv, "%s%s: does not hold up to k = %g", lv ? "; " : "",
                                    c[i].name, largest->knob);
        if (lm >= sizeof meas || ls >= sizeof set || lv >= sizeof verdict) break;
    }
    if (!any) {
        claim_row(f, "top-k: drop-in without retraining, nearly identical quality", "—", "—",
                  "not testable here: no model rows with top-k in every layer");
        return;
    }
    claim_row(f, "top-k: drop-in without retraining, nearly identical quality (here: ΔNLL ≤ 1% of the exact NLL)",
              meas, set, verdict);
}

/* the top-k feed-forward's memory beside the dense layer's (prefill ffn rows) */
static void claim_ffn(FILE *f, const rtab *rt, const mckpt *c, size_t nc) {
    char pb[32];
    static const int shape[] = {COL_d_ff, COL_d_model, COL_n, COL_input, COL_threads};
    long best = -1, dense = -1;
    double ratio = INFINITY;
    for (size_t r = 0; r < rt->t->nrows; r++) {
        if (!is_prefill(rt, r) || strcmp(rt_get(rt, r, COL_layer), "ffn") || !op_keeps_largest(rt_get(rt, r, COL_attention), 1)) continue;
        for (size_t q = 0; q < rt->t->nrows; q++) {
            if (!is_prefill(rt, q) || strcmp(rt_get(rt, q, COL_layer), "ffn") || !op_exact(rt_get(rt, q, COL_attention)) ||
                !same_cols(rt, r, q, shape, sizeof shape / sizeof shape[0]))
                continue;
            double x = memory_of(rt, r) / memory_of(rt, q);
            if (x < ratio) { ratio = x; best = (long)r; dense = (long)q; }
            break;
        }
    }
    char meas[600] = "—", set[400] = "—", verdict[200];
    if (best >= 0) {
        char a[32], b[32];
        fmt_bytes(memory_of(rt, (size_t)best), a, sizeof a);
        fmt_bytes(memory_of(rt, (size_t)dense), b, sizeof b);
        snprintf(meas, sizeof meas, "least memory against the dense layer: %s vs %s (%.2fx), rel_err %.3g, time %.2fx the dense layer's",
                 a, b, ratio, rt_num(rt, (size_t)best, COL_rel_err),
                 rt_num(rt, (size_t)best, COL_time_median_s) / rt_num(rt, (size_t)dense, COL_time_median_s));
        snprintf(set, sizeof set, "prefill ffn, k %s of d_ff %s, d_model %s, n %s", rt_get(rt, (size_t)best, COL_k),
                 rt_get(rt, (size_t)best, COL_d_ff), rt_get(rt, (size_t)best, COL_d_model), rt_get(rt, (size_t)best, COL_n));
        snprintf(verdict, sizeof verdict, "%s", ratio < 0.9 ? "holds" : "does not hold here (no less memory than the dense layer)");
    } else {
        snprintf(verdict, sizeof verdict, "not testable here: no prefill feed-forward rows (top-k beside exact)");
    }
    /* in a model: the FFN rows of eval */
    size_t lm = strlen(meas);
    for (size_t i = 0; i < nc; i++)
        for (size_t j = 0; j < c[i].n; j++) {
            size_t r = c[i].rows[j];
            if (!rt_ok(rt, r) || strcmp(rt_get(rt, r, COL_layer), "ffn") || lm >= sizeof meas) continue;
            double d = rt_num(rt, r, COL_dnll);
            lm += (size_t)snprintf(meas + lm, sizeof meas - lm, "; in %s (d_ff %s): ΔNLL %.3g (%s of NLL)", c[i].name,
                                   rt_get(rt, r, COL_d_ff), d, pct(d, c[i].nll_exact, pb));
            break;
        }
    claim_row(f, "top-k: feed-forward memory savings", meas, set, verdict);
}

/* params against 3·d_model·d_head + 3·heads·d_head (the MHE paper's count) */
static void claim_mhe_params(FILE *f, const rtab *rt) {
    size_t rows = 0, match = 0;
    long ex = -1;
    for (size_t r = 0; r < rt->t->nrows; r++) {
        const char *p = rt_get(rt, r, COL_projection);
        if (!proj_embeds(p) || rt_regime(rt, r, "model") || !rt_ok(rt, r)) continue;
        double dm = rt_num(rt, r, COL_d_model), h = rt_num(rt, r, COL_heads), dh = rt_num(rt, r, COL_d_head);
        double got = rt_num(rt, r, COL_params);
        if (!isfinite(got) || !isfinite(dm * h * dh)) continue;
        rows++;
        if (got == 3 * dm * dh + 3 * h * dh) { match++; if (ex < 0) ex = (long)r; }
    }
    if (!rows) {
        claim_row(f, "MHE (Xue & Aletras 2023): parameters 3·d_model·d_head + 3·heads·d_head", "—", "—",
                  "not testable here: no MHE rows with params");
        return;
    }
    char meas[300], set[200] = "—";
    snprintf(meas, sizeof meas, "%zu of %zu MHE rows' params equal the formula", match, rows);
    if (ex >= 0) {
        double dm = rt_num(rt, (size_t)ex, COL_d_model), h = rt_num(rt, (size_t)ex, COL_heads), dh = rt_num(rt, (size_t)ex, COL_d_head);
        snprintf(set, sizeof set, "e.g. d_model %g, %g heads of %g: %s params, MHA's 3·heads·d_model·d_head = %.0f (%.1f%%)",
                 dm, h, dh, rt_get(rt, (size_t)ex, COL_params), 3 * h * dm * dh, 100 * rt_num(rt, (size_t)ex, COL_params) / (3 * h * dm * dh));
    }
    claim_row(f, "MHE (Xue & Aletras 2023): parameters 3·d_model·d_head + 3·heads·d_head", meas, set,
              match == rows ? "holds" : "does not hold for every row");
}

/* decode: the exact-attention row of projection p in the study of row `like` (same context, shape) */
static long decode_exact(const rtab *rt, size_t like, const char *p) {
    static const int shape[] = {COL_context, COL_heads, COL_d_head, COL_batch, COL_input, COL_head_sim, COL_score_std};
    for (size_t r = 0; r < rt->t->nrows; r++)
        if (rt_regime(rt, r, "decode") && rt_ok(rt, r) && rt_exact_op(rt_get(rt, r, COL_attention)) &&
            !strcmp(rt_get(rt, r, COL_projection), p) && same_cols(rt, like, r, shape, sizeof shape / sizeof shape[0]))
            return (long)r;
    return -1;
}

/* the decode row of exact attention with projection p at the largest context where MHA ran too */
static long decode_pair(const rtab *rt, const char *p, long *mha) {
    long best = -1;
    for (size_t r = 0; r < rt->t->nrows; r++) {
        if (!rt_regime(rt, r, "decode") || !rt_ok(rt, r) || !rt_exact_op(rt_get(rt, r, COL_attention)) ||
            strcmp(rt_get(rt, r, COL_projection), p))
            continue;
        long m = decode_exact(rt, r, reference_name());
        if (m >= 0 && (best < 0 || rt_num(rt, r, COL_context) > rt_num(rt, (size_t)best, COL_context))) { best = (long)r; *mha = m; }
    }
    return best;
}

/* the schemes in the legend's order (family_rank), *n of them */
static int legend_schemes(const proj_scheme **out) {
    int n = 0;
    for (int o = 0; o < family_ranks(); o++)
        for (const proj_scheme *p = proj_schemes; p->name; p++)
            if (family_rank(p->name) == o) out[n++] = p;
    return n;
}

static void claim_mhe_memory(FILE *f, const rtab *rt) {
    long mha = -1, r = -1;
    const proj_scheme *others[32];
    const int nothers = legend_schemes(others);
    for (int i = nothers - 1; i >= 0 && r < 0; i--) /* the last MHE scheme with rows: mhe-mul, else mhe-add */
        if (others[i]->embed) r = decode_pair(rt, others[i]->name, &mha);
    if (r < 0) {
        claim_row(f, "MHE: memory efficiency against other attention methods", "—", "—",
                  "not testable here: no decode rows of MHE beside exact MHA");
        return;
    }
    char meas[600], set[200], c1[32], c2[32];
    fmt_bytes(rt_num(rt, (size_t)r, COL_cache_bytes), c1, sizeof c1);
    fmt_bytes(rt_num(rt, (size_t)mha, COL_cache_bytes), c2, sizeof c2);
    size_t lm = (size_t)snprintf(meas, sizeof meas, "%s: cache %s (mha %s), params %s", rt_get(rt, (size_t)r, COL_projection),
                                 c1, c2, rt_get(rt, (size_t)r, COL_params));
    int least = 1;
    for (int i = 0; i < nothers && lm < sizeof meas; i++) {
        if (!strcmp(others[i]->name, rt_get(rt, (size_t)r, COL_projection))) continue; /* the claim's own */
        long o = decode_exact(rt, (size_t)r, others[i]->name);
        if (o < 0 || o == r) continue;
        char cb[32], g[64];
        fmt_bytes(rt_num(rt, (size_t)o, COL_cache_bytes), cb, sizeof cb);
        const int kc = family_knob_column(others[i]->name);
        family_setting(others[i]->name, kc >= 0 ? rt_num(rt, (size_t)o, kc) : 0, 0, g, sizeof g);
        lm += (size_t)snprintf(meas + lm, sizeof meas - lm, "; %s%s%s: cache %s, params %s", others[i]->name, *g ? " " : "",
                               g, cb, rt_get(rt, (size_t)o, COL_params));
        least &= rt_num(rt, (size_t)r, COL_cache_bytes) <= rt_num(rt, (size_t)o, COL_cache_bytes) &&
                 rt_num(rt, (size_t)r, COL_params) <= rt_num(rt, (size_t)o, COL_params);
    }
    snprintf(set, sizeof set, "decode, L = %s, %s heads of %s", rt_get(rt, (size_t)r, COL_context), rt_get(rt, (size_t)r, COL_heads),
             rt_get(rt, (size_t)r, COL_d_head));
    claim_row(f, "MHE: memory efficiency against other attention methods (cache and parameters)", meas, set,
              least ? "holds (no scheme here holds less cache or fewer parameters)" : "does not hold against every scheme");
}

static void claim_mhe_retention(FILE *f, const rtab *rt, const mckpt *c, size_t nc) {
    char pb[32];
    char meas[800] = "", set[300] = "";
    size_t lm = 0;
    int any = 0, all = 1;
    for (size_t i = 0; i < nc; i++)
        for (size_t j = 0; j < c[i].nplane && lm < sizeof meas; j++) {
            const plane_pt *p = &c[i].plane[j];
            const attn_method *op;
            const proj_scheme *ps;
            family_parse(p->family, &op, &ps);
            if (op || !ps || !ps->embed) continue;
            any = 1;
            all &= p->y <= WITHIN * c[i].nll_exact;
            lm += (size_t)snprintf(meas + lm, sizeof meas - lm, "%s%s %s: ΔNLL %.3g (%s of NLL), top-1 %.3g", lm ? "; " : "",
                                   c[i].name, p->family, p->y, pct(p->y, c[i].nll_exact, pb), rt_num(rt, p->row, COL_top1));
        }
    if (!any) {
        claim_row(f, "MHE: predictive performance retention", "—", "—", "not testable here: no model rows of MHE");
        return;
    }
    snprintf(set, sizeof set, "a trained checkpoint's Q/K/V converted to MHE (fitted, no training), every layer");
    claim_row(f, "MHE: predictive performance retention", meas, set,
              all ? "holds for conversion (within 1% of the NLL)"
                  : "does not hold for conversion without training; the paper trains MHE from the start, which is not "
                    "testable here");
}

static void claim_mqa(FILE *f, const rtab *rt, const mckpt *c, size_t nc) {
    char pb[32];
    const char *mqa = NULL;
    for (const proj_scheme *p = proj_schemes; p->name && !mqa; p++)
        if (proj_one_kv_head(p->name) && !p->embed) mqa = p->name;
    long mha = -1, r = mqa ? decode_pair(rt, mqa, &mha) : -1;
    char meas[600] = "—", set[200] = "—", verdict[200];
    if (r >= 0) {
        double ratio = rt_num(rt, (size_t)r, COL_cache_bytes) / rt_num(rt, (size_t)mha, COL_cache_bytes);
        double h = rt_num(rt, (size_t)r, COL_heads);
        snprintf(meas, sizeof meas, "cache %s / %s bytes = 1/%.4g (heads %g)", rt_get(rt, (size_t)r, COL_cache_bytes),
                 rt_get(rt, (size_t)mha, COL_cache_bytes), 1 / ratio, h);
        snprintf(set, sizeof set, "decode, L = %s, %g heads of %s", rt_get(rt, (size_t)r, COL_context), h,
                 rt_get(rt, (size_t)r, COL_d_head));
        snprintf(verdict, sizeof verdict, "%s", fabs(ratio * h - 1) <= 0.01 ? "holds" : "does not hold");
    } else {
        snprintf(verdict, sizeof verdict, "not testable here: no decode rows of %s beside exact MHA", mqa ? mqa : "MQA");
    }
    size_t lm = strlen(meas);
    for (size_t i = 0; i < nc && lm < sizeof meas; i++) {
        const plane_pt *p = mqa ? mckpt_point(&c[i], mqa, 0) : NULL;
        if (p) lm += (size_t)snprintf(meas + lm, sizeof meas - lm, "; converted %s: ΔNLL %.3g (%s of NLL) before uptraining",
                                      c[i].name, p->y, pct(p->y, c[i].nll_exact, pb));
    }
    claim_row(f, "multi-query attention: cache 1/heads of MHA's", meas, set, verdict);
}

void claims_table(FILE *f, const rtab *rt, const mckpt *c, size_t count) {
    fprintf(f, "\n## The claims of the seeds, measured\n\n"
               "Each claim beside what these rows measure (nearly identical quality is taken as ΔNLL within 1%% of the "
               "exact model's NLL).\n\n| claim | measured here | setting | verdict |\n| --- | --- | --- | --- |\n");
    claim_linear_memory(f, rt);
    claim_drop_in(f, rt, c, count);
    claim_ffn(f, rt, c, count);
    claim_mhe_params(f, rt);
    claim_mhe_memory(f, rt);
    claim_mhe_retention(f, rt, c, count);
    claim_mqa(f, rt, c, count);
}

/* summary_families.c — a table for every family in summary.md (summary.h):
 * each attention method at its best setting beside exact chunked, the
 * projection schemes (parameters, K/V cache per token, error against head
 * similarity) and the top-k feed-forward beside the dense layer. */
#include "compare.h"
#include "labels.h"
#include "summary.h"
#include "traits.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the per-method table's point: n = 2048, score std 4, or the nearest */
static const double BEST_N = 2048, BEST_STD = 4;

int keep_mha_err(const data *d, size_t r) {
    const char *p = fld(d, r, COL_projection);
    return is_attention(d, r) && (!*p || proj_reference(p)) && num(d, r, d->rel_err) >= 0;
}

double keep_nearest(const data *d, rowset *s, int id, double want) {
    double best = NAN;
    for (size_t i = 0; i < s->n; i++) {
        double v = idnum(d, s->r[i], id);
        if (v > 0 && (isnan(best) || fabs(log(v / want)) < fabs(log(best / want)))) best = v;
    }
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        if (idnum(d, s->r[i], id) == best) s->r[k++] = s->r[i];
    s->n = k;
    return best;
}

/* the best row of method label `m` in s: the least error among rows whose
 * memory is below `limit` (errors within ERR_TIE tie: the less memory); -1 */
static long best_of(const data *d, const rowset *s, const char *m, double limit) {
    long best = -1;
    for (size_t i = 0; i < s->n; i++) {
        size_t r = s->r[i];
        char label[200];
        method_label(d, r, label, sizeof label);
        double mem = row_memory(d, r, NULL), e = num(d, r, d->rel_err);
        if (strcmp(label, m) || !(mem < limit)) continue;
        if (best < 0) { best = (long)r; continue; }
        double be = num(d, (size_t)best, d->rel_err);
        if (e < be / (1 + ERR_TIE) || (e <= be * (1 + ERR_TIE) && mem < row_memory(d, (size_t)best, NULL)))
            best = (long)r;
    }
    return best;
}

/* "0.52x" or "—" */
static void fmt_ratio(double a, double b, char *out, size_t cap) {
    if (a > 0 && b > 0 && isfinite(a / b)) snprintf(out, cap, "%.2fx", a / b);
    else snprintf(out, cap, "—");
}

/* the row of each method at its best setting, with its words. Long: one
 * table, its choice of rows and its sentences read best in one place. */
void summary_methods(FILE *f, const data *d) {
    rowset s = {0};
    rows_where(d, &s, keep_mha_err);
    double n = keep_nearest(d, &s, COL_n, BEST_N), sd = keep_nearest(d, &s, COL_score_std, BEST_STD);
    slice(d, &s, method_cols() | BIT(COL_seed)); /* the chunk study re-measures this point with its own seed */
    long base = -1, exact = -1;
    for (size_t i = 0; i < s.n && base < 0; i++)
        if (op_baseline(fld(d, s.r[i], COL_attention))) base = (long)s.r[i];
    double limit = base >= 0 ? row_memory(d, (size_t)base, NULL) : INFINITY;
    const char *base_name = baseline_name(), *lin = exact_linear_name();
    exact = best_of(d, &s, lin, limit);
    fprintf(f, "## Each method at its best setting\n\n"
               "At n = %g, score std %g (the nearest the rows hold to 2048 and 4), each method's setting with "
               "the least error among those that use less memory than %s (for %s: its own row), beside exact "
               "%s attention. Memory as above.\n\n"
               "| method | setting | rel_err | time | memory | time vs %s | memory vs %s | in words |\n"
               "| --- | --- | --- | --- | --- | --- | --- | --- |\n", n, sd, base_name, base_name, lin, lin, lin);
    char done[16][200];
    size_t nd = 0, shown = 0;
    int over = 0;
    for (size_t i = 0; i < s.n && nd < 16; i++) {
        char m[200];
        method_label(d, s.r[i], m, sizeof m);
        int seen = 0;
        for (size_t j = 0; j < nd; j++) seen |= !strcmp(done[j], m);
        if (seen) continue;
        snprintf(done[nd++], sizeof done[0], "%s", m);
        long r = op_baseline(m) ? base : best_of(d, &s, m, limit);
        if (r < 0) continue;
        char knobs[100], mb[32], tr[32], mr[32], words[300];
        knob_label(d, (size_t)r, knob_cols(), knobs, sizeof knobs);
        double e = num(d, (size_t)r, d->rel_err), t = num(d, (size_t)r, d->time);
        int counted;
        double mem = row_memory(d, (size_t)r, &counted);
        fmt_bytes(mem, mb, sizeof mb);
        double et = exact >= 0 ? num(d, (size_t)exact, d->time) : NAN, em = exact >= 0 ? row_memory(d, (size_t)exact, NULL) : NAN;
        fmt_ratio(t, et, tr, sizeof tr);
        fmt_ratio(mem, em, mr, sizeof mr);
        if (e < 1e-5) snprintf(words, sizeof words, "exact (float32 rounding)");
        else snprintf(words, sizeof words, "off by %.2g%% of the output's norm", 100 * e);
        if (exact >= 0 && r != exact && isfinite(t / et))
            snprintf(words + strlen(words), sizeof words - strlen(words), ", %s and %s than %s",
                     t < et ? "faster" : "slower", mem < em ? "less memory" : "more memory", lin);
        fprintf(f, "| %s | %s | %.3g | %.3g s | %s%s | %s | %s | %s |\n", m, *knobs ? knobs + 1 : "(none)", e, t, mb,
                counted ? "*" : "", tr, mr, words);
        shown++;
        over |= e > 1;
    }
    if (!shown) fprintf(f, "| (no prefill rows with an error) | | | | | | | |\n");
    note_over_one(f, over);
    fprintf(f, "\n");
    free(s.r);
}

static int keep_projection(const data *d, size_t r) {
    const char *p = fld(d, r, COL_projection);
    return is_attention(d, r) && *p && !proj_reference(p) && num(d, r, d->rel_err) >= 0;
}

/* the K/V cache bytes per token of a row's projection: 2 * kv_heads *
 * d_head float32; the MHE schemes store one shared K, V (the heads differ
 * by an embedding applied on use) */
static double cache_per_token(const data *d, size_t r) {
    double kv = idnum(d, r, COL_kv_heads), dh = idnum(d, r, COL_d_head);
    if (proj_embeds(fld(d, r, COL_projection))) kv = 1;
    return 2 * kv * dh * 4;
}

void summary_projections(FILE *f, const data *d) {
    rowset s = {0};
    rows_where(d, &s, keep_projection);
    slice(d, &s, BIT(COL_projection) | BIT(COL_kv_heads) | BIT(COL_head_sim) | BIT(COL_d_model));
    fprintf(f, "\n## Projection schemes\n\n");
    if (!s.n) { fprintf(f, "No rows of the projection schemes.\n"); free(s.r); return; }
    static const double sims[] = {0, 0.5, 0.9, 0.99, 1};
    enum { NS = sizeof sims / sizeof sims[0] };
    size_t r0 = s.r[0];
    double heads = idnum(d, r0, COL_heads), dh = idnum(d, r0, COL_d_head), dm = idnum(d, r0, COL_d_model);
    double mha_params = 3 * dm * heads * dh, mha_cache = 2 * heads * dh * 4;
    char ctx[300];
    study_text(d, &s, BIT(COL_head_sim) | BIT(COL_projection) | BIT(COL_kv_heads), ctx, sizeof ctx);
    fprintf(f, "Against MHA (%g heads, d_head %g, d_model %g: %.0f Q/K/V parameters, %.0f bytes of K/V cache per "
               "token): each scheme's parameters and cache per token, and its rel_err against MHA as the heads' "
               "weights go from independent (head sim 0) to identical (1); %s.\n\n"
               "| scheme | params | vs MHA | K/V cache per token | vs MHA |", heads, dh, dm, mha_params, mha_cache, ctx);
    for (int i = 0; i < NS; i++) fprintf(f, " rel_err, sim %g |", sims[i]);
    fprintf(f, "\n| --- | --- | --- | --- | --- |");
    for (int i = 0; i < NS; i++) fprintf(f, " --- |");
    fprintf(f, "\n");
    char done[16][200];
    size_t nd = 0;
    int over = 0;
    for (size_t i = 0; i < s.n && nd < 16; i++) {
        size_t r = s.r[i];
        char m[200];
        method_label(d, r, m, sizeof m);
        int seen = 0;
        for (size_t j = 0; j < nd; j++) seen |= !strcmp(done[j], m);
        if (seen) continue;
        snprintf(done[nd++], sizeof done[0], "%s", m);
        double p = num(d, r, d->params), c = cache_per_token(d, r);
        fprintf(f, "| %s | %.0f | %.2fx | %.0f B | %.2fx |", m, p, p / mha_params, c, c / mha_cache);
        for (int k = 0; k < NS; k++) {
            double e = NAN;
            for (size_t j = 0; j < s.n; j++) {
                char mj[200];
                method_label(d, s.r[j], mj, sizeof mj);
                if (!strcmp(mj, m) && fabs(idnum(d, s.r[j], COL_head_sim) - sims[k]) < 1e-9) e = num(d, s.r[j], d->rel_err);
            }
            if (isfinite(e)) fprintf(f, " %.3g |", e);
            else fprintf(f, " — |");
            over |= e > 1;
        }
        fprintf(f, "\n");
    }
    note_over_one(f, over);
    size_t real = 0;
    for (size_t r = 0; r < d->t.nrows; r++) real += in_study(d, r, STUDY_REAL) && keep_projection(d, r) && is_ok(d, r);
    fprintf(f, "\nrel_err near 1 means the scheme's output has nothing in common with MHA's; it falls only as "
               "the heads become alike. %s\n",
            real ? "Real layers: see the real study below." :
                   "No real-layer rows of the projection schemes (they need a layer-form capture: x and the "
                   "Q/K/V weights).");
    free(s.r);
}

static int keep_ffn(const data *d, size_t r) { return is_ffn(d, r) && num(d, r, d->rel_err) >= 0; }

void summary_ffn(FILE *f, const data *d) {
    rowset s = {0};
    rows_where(d, &s, keep_ffn);
    slice(d, &s, BIT(COL_attention) | BIT(COL_k) | BIT(COL_d_ff));
    fprintf(f, "\n## Top-k feed-forward\n\n");
    if (!s.n) { fprintf(f, "No rows of the feed-forward layer.\n"); free(s.r); return; }
    char ctx[300];
    study_text(d, &s, BIT(COL_k) | BIT(COL_d_ff), ctx, sizeof ctx);
    fprintf(f, "The feed-forward layer keeping only the k largest hidden (ReLU) units per token, beside the "
               "dense layer of the same d_ff (%s): rel_err, the ReLU mass the kept units hold, time and memory "
               "(as above) and both against the dense layer.\n\n"
               "| d_ff | k | rel_err | kept mass | time | vs dense | memory | vs dense |\n"
               "| --- | --- | --- | --- | --- | --- | --- | --- |\n", ctx);
    /* by d_ff, dense first, then k ascending */
    for (size_t a = 0; a < s.n; a++)
        for (size_t b = a + 1; b < s.n; b++) {
            size_t x = s.r[a], y = s.r[b];
            double kx = *fld(d, x, COL_k) ? idnum(d, x, COL_k) : 0, ky = *fld(d, y, COL_k) ? idnum(d, y, COL_k) : 0;
            double fx = idnum(d, x, COL_d_ff), fy = idnum(d, y, COL_d_ff);
            if (fy < fx || (fy == fx && ky < kx)) { s.r[a] = y; s.r[b] = x; }
        }
    for (size_t i = 0; i < s.n; i++) {
        size_t r = s.r[i];
        long dense = -1;
        for (size_t j = 0; j < s.n && dense < 0; j++)
            if (!*fld(d, s.r[j], COL_k) && idnum(d, s.r[j], COL_d_ff) == idnum(d, r, COL_d_ff)) dense = (long)s.r[j];
        double t = num(d, r, d->time), mass = num(d, r, d->topk_mass);
        int counted;
        double mem = row_memory(d, r, &counted);
        char mb[32], tr[32], mr[32], ms[32] = "—";
        fmt_bytes(mem, mb, sizeof mb);
        fmt_ratio(t, dense >= 0 ? num(d, (size_t)dense, d->time) : NAN, tr, sizeof tr);
        fmt_ratio(mem, dense >= 0 ? row_memory(d, (size_t)dense, NULL) : NAN, mr, sizeof mr);
        if (isfinite(mass)) snprintf(ms, sizeof ms, "%.3g", mass);
        fprintf(f, "| %s | %s | %.3g | %s | %.3g s | %s | %s%s | %s |\n", fld(d, r, COL_d_ff),
                *fld(d, r, COL_k) ? fld(d, r, COL_k) : "dense", num(d, r, d->rel_err), ms, t, tr, mb,
                counted ? "*" : "", mr);
    }
    free(s.r);
}

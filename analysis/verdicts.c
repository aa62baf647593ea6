/* verdicts.c — the section "Verdicts" of summary.md (summary.h): which
 * method for which regime, each number and each verdict read from the rows
 * (prefill, decoding with memory to spare, memory-bound serving, what error
 * is acceptable, when none is worth it), so that the README, which copies
 * the section, says only what the rows say. Memory in the prefill verdicts
 * is the allocator's counted workspace (the resident set does not resolve
 * the small workspaces that decide them); a model-level ΔNLL is judged with
 * its interval (verdicts.h). */
#include "decode_study.h"
#include "labels.h"
#include "model_study.h"
#include "summary.h"
#include "traits.h"
#include "verdicts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the verdicts' point of the prefill rows: n = 2048, score std 4, or the nearest */
static const double V_N = 2048, V_STD = 4;

int dnll_class(double dnll, double se, double nll, double share) {
    if (!(se >= 0)) se = 0;
    double bound = share * nll;
    if (dnll + DNLL_Z * se <= bound) return DNLL_WITHIN;
    if (dnll - DNLL_Z * se > bound) return DNLL_ABOVE;
    return DNLL_UNDECIDED;
}

const char *dnll_words(int cls) {
    return cls == DNLL_WITHIN ? "within 1%" : cls == DNLL_ABOVE ? "above 1%" : "not distinguishable from 1%";
}

/* ", worse than returning zeros" after a rel_err above 1 */
static const char *zeros(double e) { return e > 1 ? ", worse than returning zeros" : ""; }

/* the share of the causal pairs (query i attends keys 0..i) that k keys per query keep at length n */
static double causal_kept(double k, double n) {
    if (!(k > 0 && n > 0)) return NAN;
    double m = fmin(k, n);
    return (m * (m + 1) / 2 + (n - m) * m) / (n * (n + 1) / 2);
}

static void row_name(const data *d, size_t r, char *out, size_t cap) {
    char label[200], knobs[100];
    method_label(d, r, label, sizeof label);
    knob_label(d, r, knob_cols(), knobs, sizeof knobs);
    snprintf(out, cap, "%s%s", label, knobs);
}

static int has_features(const data *d, size_t r) { return idnum(d, r, COL_features) > 0; }

static int is_op(const data *d, size_t r, const char *name) {
    return name && !strcmp(fld(d, r, COL_attention), name);
}

/* training or prefill: the least workspace exact chunked holds, its time
 * beside its fastest chunk, and every approximate setting that holds less */
static void prefill_verdict(FILE *f, const data *d, const rowset *s, double n, double sd) {
    const char *lin = exact_linear_name();
    long small = -1, fast = -1;
    for (size_t i = 0; i < s->n; i++) {
        size_t r = s->r[i];
        if (!is_op(d, r, lin) || !(num(d, r, d->ws) >= 0)) continue;
        if (small < 0 || num(d, r, d->ws) < num(d, (size_t)small, d->ws)) small = (long)r;
        if (fast < 0 || num(d, r, d->time) < num(d, (size_t)fast, d->time)) fast = (long)r;
    }
    fprintf(f, "- **Training or prefill** (all queries at once; memory: the kernel's scratch). ");
    if (small < 0) { fprintf(f, "No exact %s rows at n = %g, score std %g.\n", lin, n, sd); return; }
    char a[300], b[300], wb[32];
    row_name(d, (size_t)small, a, sizeof a);
    row_name(d, (size_t)fast, b, sizeof b);
    double ws = num(d, (size_t)small, d->ws), t = num(d, (size_t)small, d->time), tf = num(d, (size_t)fast, d->time);
    fmt_bytes(ws, wb, sizeof wb);
    fprintf(f, "Use exact %s attention: at n = %g, score std %g, %s holds %s of counted workspace in %.3g s, "
               "%.2fx the time of its fastest chunk (%s, %.3g s), at float32 rounding (rel_err %.3g). ",
            lin, n, sd, a, wb, t, t / tf, b, tf, num(d, (size_t)small, d->rel_err));
    size_t less = 0;
    for (size_t i = 0; i < s->n; i++) {
        size_t r = s->r[i];
        double w = num(d, r, d->ws), e = num(d, r, d->rel_err);
        if (op_exact(fld(d, r, COL_attention)) || !(w < ws)) continue;
        char nm[300], mb[32];
        row_name(d, r, nm, sizeof nm);
        fmt_bytes(w, mb, sizeof mb);
        fprintf(f, "%s%s (%s, rel_err %.3g%s)", less++ ? "; " : "Held less than that: ", nm, mb, e, zeros(e));
    }
    fprintf(f, "%s\n", less ? "." : "No approximate setting at this point held less.");
}

/* the n from which the top-k configuration of the scaling table is faster
 * than the exact linear one at every larger n both ran */
static void topk_time_verdict(FILE *f, const data *d, const scaling *sc) {
    const config *gt = NULL, *gc = NULL;
    for (size_t i = 0; i < sc->np; i++) {
        const config *g = &sc->c[sc->pick[i]];
        if (is_op(d, g->first, keeps_largest_name())) gt = g;
        if (is_op(d, g->first, exact_linear_name())) gc = g;
    }
    if (!gt || !gc || !same_config(d, gt->first, gc->first, method_cols() | BIT(COL_n), 1)) return;
    /* the largest n both ran where top-k was not faster; the answer: the next n both ran */
    double lost = NAN, answer = NAN, top = 0;
    size_t both = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < gt->ok.n; i++) {
            size_t r = gt->ok.r[i];
            double n = idnum(d, r, COL_n);
            for (size_t j = 0; j < gc->ok.n; j++) {
                size_t q = gc->ok.r[j];
                if (idnum(d, q, COL_n) != n) continue;
                if (pass == 0) {
                    both++;
                    top = fmax(top, n);
                    if (num(d, r, d->time) >= num(d, q, d->time) && !(lost >= n)) lost = n;
                } else if ((isnan(lost) || n > lost) && !(answer <= n)) answer = n;
            }
        }
    char a[300], b[300];
    row_name(d, gt->first, a, sizeof a);
    row_name(d, gc->first, b, sizeof b);
    if (isnan(answer))
        fprintf(f, "  %s was not faster than %s at the largest n both ran (%zu n compared, up to %g).\n", a, b, both, top);
    else
        fprintf(f, "  %s is faster than %s from n = %g on (every larger n both ran, up to %g; %zu n compared).\n",
                a, b, answer, top, both);
}

/* Performer at its largest m against score std, and the least k from which top-k is below it */
static void flat_verdict(FILE *f, const data *d, const rowset *all, double n) {
    const char *topk = keeps_largest_name();
    double m = 0;
    for (size_t i = 0; i < all->n; i++)
        if (has_features(d, all->r[i])) m = fmax(m, idnum(d, all->r[i], COL_features));
    if (!(m > 0)) return;
    fprintf(f, "- **Your attention: peaked or flat.** At n = %g, Performer (m=%g) against top-k as the score std "
               "(the spread of q·k/√d) goes from flat to peaked:\n\n"
               "| score std | Performer m=%g rel_err | top-k: least k below it | its rel_err | k / n |\n"
               "| --- | --- | --- | --- | --- |\n", n, m, m);
    int over = 0;
    double worst = -1, worst_sd = NAN;
    for (size_t i = 0; i < all->n; i++) {
        size_t p = all->r[i];
        if (!has_features(d, p) || idnum(d, p, COL_features) != m) continue;
        double sd = idnum(d, p, COL_score_std), e = num(d, p, d->rel_err);
        long best = -1;
        for (size_t j = 0; j < all->n; j++) {
            size_t q = all->r[j];
            if (!is_op(d, q, topk) || idnum(d, q, COL_score_std) != sd || !(num(d, q, d->rel_err) < e)) continue;
            if (best < 0 || idnum(d, q, COL_k) < idnum(d, (size_t)best, COL_k)) best = (long)q;
        }
        over |= e > 1;
        if (e > worst) { worst = e; worst_sd = sd; }
        if (best < 0) { fprintf(f, "| %g | %.3g | none measured | — | — |\n", sd, e); continue; }
        double k = idnum(d, (size_t)best, COL_k), ek = num(d, (size_t)best, d->rel_err);
        over |= ek > 1;
        fprintf(f, "| %g | %.3g | k=%g | %.3g | %.2g%% |\n", sd, e, k, ek, 100 * k / n);
    }
    note_over_one(f, over);
    fprintf(f, "\n  Performer's error is largest at score std %g (rel_err %.3g%s).\n", worst_sd, worst, zeros(worst));
}

/* the window study's largest window at score std 4, non-causal against causal */
static void window_verdict(FILE *f, const data *d) {
    window_pair p;
    if (window_causal_pair(d, &p)) return;
    fprintf(f, "- **Sliding window: causal or not.** At n = %g, score std %g, window s=%g w=%g is off by rel_err %.3g%s "
               "when every query sees every key, and by %.3g%s causal (the language-model case: query i sees keys "
               "0..i, so the window drops fewer of them); the window's section above has every width.\n",
            p.n, p.sd, p.sink, p.w, p.err, zeros(p.err), p.err_causal, zeros(p.err_causal));
}

static void prefill_verdicts(FILE *f, const data *d, const scaling *sc) {
    rowset all = {0}, s = {0};
    rows_where(d, &all, keep_mha_err);
    double n = keep_nearest(d, &all, COL_n, V_N);
    for (size_t i = 0; i < all.n; i++) rs_add(&s, all.r[i]);
    double sd = keep_nearest(d, &s, COL_score_std, V_STD);
    slice(d, &s, method_cols() | BIT(COL_seed)); /* the chunk study re-measures this point with its own seed */
    slice(d, &all, method_cols() | BIT(COL_score_std));
    if (s.n) {
        prefill_verdict(f, d, &s, n, sd);
        topk_time_verdict(f, d, sc);
        flat_verdict(f, d, &all, n);
    }
    window_verdict(f, d);
    free(all.r);
    free(s.r);
}

/* the largest context of s where exact attention and top-k both ran (the
 * study's plane context when none) */
static double topk_context(const rtab *rt, const dstudy *s, const dfam *ref) {
    for (size_t c = s->nctx; c-- > 0;) {
        if (dstudy_row(rt, s, ref, s->ctx[c]) < 0) continue;
        for (size_t i = 0; i < s->nfam; i++)
            if (family_keeps_largest(s->fam[i].family) && dstudy_row(rt, s, &s->fam[i], s->ctx[c]) >= 0) return s->ctx[c];
    }
    return s->plane_L;
}

/* decoding with memory to spare: top-k against exact at the headline
 * study's largest context where both ran, its cache and its step time */
static int decode_verdict(FILE *f, const rtab *rt) {
    dstudy *ds;
    size_t nd;
    if (dstudies_find(rt, &ds, &nd)) return -1;
    long h = dstudy_headline(rt, ds, nd);
    const dstudy *s = h >= 0 ? &ds[h] : NULL;
    dfam ref = dfam_reference();
    const double L = s ? topk_context(rt, s, &ref) : 0;
    long mr = s ? dstudy_row(rt, s, &ref, L) : -1;
    if (mr >= 0) {
        char text[300], cb[32];
        dstudy_text(rt, s, text, sizeof text);
        double t0 = rt_num(rt, (size_t)mr, COL_step_time_s), c0 = rt_num(rt, (size_t)mr, COL_cache_bytes);
        fmt_bytes(c0, cb, sizeof cb);
        fprintf(f, "- **Decoding with memory to spare** (one token a step against a KV cache; L = %g, %s): "
                   "exact attention holds %s a sequence at %.3g ms a step.", L, text, cb, 1e3 * t0);
        size_t shown = 0, faster = 0;
        for (size_t i = 0; i < s->nfam; i++) {
            if (!family_keeps_largest(s->fam[i].family)) continue;
            long r = dstudy_row(rt, s, &s->fam[i], L);
            if (r < 0) continue;
            char set[64], ratio[32];
            family_setting(s->fam[i].family, s->fam[i].knob, s->fam[i].minor, set, sizeof set);
            double e = rt_num(rt, (size_t)r, COL_rel_err);
            faster += rt_num(rt, (size_t)r, COL_step_time_s) < t0;
            fmt_ratio_x(rt_num(rt, (size_t)r, COL_cache_bytes), c0, ratio, sizeof ratio);
            fprintf(f, "%s%s %s: step time %.2fx exact's, cache %s exact's, rel_err %.3g%s, kept mass %.3g",
                    shown++ ? "; " : " Top-k reads fewer values but keeps every key: ", s->fam[i].family, set,
                    rt_num(rt, (size_t)r, COL_step_time_s) / t0, ratio, e, zeros(e), rt_num(rt, (size_t)r, COL_topk_mass));
        }
        if (!shown) fprintf(f, " No top-k rows at that context.\n");
        else if (faster == shown) fprintf(f, ". It saves time, never cache.\n");
        else fprintf(f, ". It never saves cache, and saves time at %zu of these %zu settings.\n", faster, shown);
    }
    dstudies_free(ds, nd);
    return 0;
}

/* "the model's own attention (GQA, 4 K/V heads)" from the exact row's heads */
static void own_attention(const rtab *rt, size_t r, char *out, size_t cap) {
    double h = rt_num(rt, r, COL_heads), kv = rt_num(rt, r, COL_kv_heads);
    const char *kind = !(kv > 0) || kv == h ? "MHA" : kv == 1 ? "MQA" : "GQA";
    snprintf(out, cap, "the model's own attention (%s, %g K/V heads for %g query heads)", kind, kv, h);
}

/* "mqa (4 → 1 K/V heads)", "window s=4 w=64" */
static void point_name(const rtab *rt, const plane_pt *p, double native_kv, char *out, size_t cap) {
    char set[64];
    family_setting(p->family, p->knob, rt_family_minor(rt, p->row, p->family), set, sizeof set);
    const attn_method *op;
    const proj_scheme *proj;
    family_parse(p->family, &op, &proj);
    double kv = rt_num(rt, p->row, COL_kv_heads);
    if (!op && proj && (proj_one_kv_head(proj->name) || (proj_knobs(proj->name) & KNOB_KV_HEADS)))
        snprintf(out, cap, "%s (%g → %g K/V heads)", p->family, native_kv, proj_one_kv_head(proj->name) ? 1 : kv);
    else snprintf(out, cap, "%s%s%s", p->family, *set ? " " : "", set);
}

static int point_class(const rtab *rt, const mckpt *c, const plane_pt *p) {
    return dnll_class(p->y, rt_num(rt, p->row, COL_dnll_se), c->nll_exact, DNLL_SHARE);
}

static void print_point(FILE *f, const rtab *rt, const mckpt *c, const plane_pt *p) {
    char nm[160], cb[32], pct[32];
    point_name(rt, p, c->native_kv, nm, sizeof nm);
    fmt_bytes(p->x, cb, sizeof cb);
    fmt_pct(p->y, c->nll_exact, pct, sizeof pct);
    fprintf(f, "%s, %s: ΔNLL %.3g ± %.2g, %s of the NLL, %s", nm, cb, p->y, rt_num(rt, p->row, COL_dnll_se), pct,
            dnll_words(point_class(rt, c, p)));
}

/* what shrinks the cache: a conversion of the projections (gqa, mqa, mhe:
 * the checkpoint's weights pooled or fitted, no uptraining), a cache format
 * (family "...@q4_0", with or without a policy), or an operator that holds
 * fewer keys (an eviction policy, the window, Performer's state) */
enum { SHRINK_CONVERSION, SHRINK_FORMAT, SHRINK_OPERATOR, SHRINK_KINDS };
static int shrink_kind(const char *family) {
    if (strchr(family, '@')) return SHRINK_FORMAT;
    const attn_method *op;
    const proj_scheme *proj;
    family_parse(family, &op, &proj);
    return !op && proj ? SHRINK_CONVERSION : SHRINK_OPERATOR;
}

/* memory-bound serving: per checkpoint, each family that shrinks the
 * cache at its least ΔNLL; good[kind] <- how many of those are not above 1% */
static void serving_verdict(FILE *f, const rtab *rt, const mckpt *c, size_t nc, size_t good[SHRINK_KINDS]) {
    fprintf(f, "- **Memory-bound serving** (the KV cache is what you pay). Each method that shrinks the cache, at "
               "its least ΔNLL: the conversions (gqa, mqa, mhe) pool or fit the checkpoint's own K/V weights "
               "without uptraining; the cache formats (name@format) store the same keys in fewer bits; the "
               "eviction policies, the window and Performer hold fewer keys or a fixed state:\n");
    for (size_t i = 0; i < nc; i++) {
        const plane_pt *ref = NULL;
        for (size_t j = 0; j < c[i].nplane; j++)
            if (family_reference(c[i].plane[j].family)) ref = &c[i].plane[j];
        if (!ref) continue;
        char own[160], cb[32];
        own_attention(rt, ref->row, own, sizeof own);
        fmt_bytes(ref->x, cb, sizeof cb);
        fprintf(f, "  - %s (n %s, %s sequences; %s holds %s a sequence): ", c[i].name, rt_get(rt, ref->row, COL_n),
                rt_get(rt, ref->row, COL_sequences), own, cb);
        size_t shown = 0;
        for (size_t j = 0; j < c[i].nplane; j++) {
            const plane_pt *p = &c[i].plane[j], *best = p;
            if (!(p->x < ref->x)) continue;
            int first = 1; /* print each family once, at its least ΔNLL among the settings that shrink */
            for (size_t q = 0; q < c[i].nplane; q++) {
                const plane_pt *o = &c[i].plane[q];
                if (strcmp(o->family, p->family) || !(o->x < ref->x)) continue;
                if (q < j) first = 0;
                if (o->y < best->y) best = o;
            }
            if (!first) continue;
            if (shown++) fprintf(f, "; ");
            print_point(f, rt, &c[i], best);
            good[shrink_kind(best->family)] += point_class(rt, &c[i], best) != DNLL_ABOVE;
        }
        fprintf(f, "%s\n", shown ? "." : "no setting that shrinks the cache ran.");
    }
}

/* the smallest top-k k (every layer) of class at most `cls`; NULL: none */
static const plane_pt *least_k(const rtab *rt, const mckpt *c, int cls) {
    const plane_pt *best = NULL;
    for (size_t j = 0; j < c->nplane; j++) {
        const plane_pt *p = &c->plane[j];
        if (family_keeps_largest(p->family) && point_class(rt, c, p) <= cls && (!best || p->knob < best->knob)) best = p;
    }
    return best;
}

static void print_k(FILE *f, const rtab *rt, const mckpt *c, const plane_pt *p, const char *what) {
    double n = rt_num(rt, p->row, COL_n);
    fprintf(f, "%s from k = %g (%.0f%% of n = %g, keeping %.0f%% of the causal pairs; ΔNLL %.3g ± %.2g)", what,
            p->knob, 100 * p->knob / n, n, 100 * causal_kept(p->knob, n), p->y, rt_num(rt, p->row, COL_dnll_se));
}

/* one layer at a time at the smallest k: the layer that costs the most */
static void layer_verdict(FILE *f, const rtab *rt, const mckpt *c) {
    double k = INFINITY;
    for (size_t i = 0; i < c->n; i++) {
        size_t r = c->rows[i];
        if (rt_ok(rt, r) && model_single_layer(rt, r) >= 0) k = fmin(k, rt_num(rt, r, COL_k));
    }
    long worst = -1;
    for (size_t i = 0; i < c->n; i++) {
        size_t r = c->rows[i];
        if (!rt_ok(rt, r) || model_single_layer(rt, r) < 0 || rt_num(rt, r, COL_k) != k) continue;
        if (worst < 0 || rt_num(rt, r, COL_dnll) > rt_num(rt, (size_t)worst, COL_dnll)) worst = (long)r;
    }
    if (worst < 0) return;
    fprintf(f, "; one layer at a time (k = %g, the other layers exact) layer %d costs the most, ΔNLL %.3g ± %.2g",
            k, model_single_layer(rt, (size_t)worst), rt_num(rt, (size_t)worst, COL_dnll),
            rt_num(rt, (size_t)worst, COL_dnll_se));
}

static void error_verdict(FILE *f, const rtab *rt, const mckpt *c, size_t nc) {
    fprintf(f, "- **What error is acceptable.** A layer's rel_err is a proxy; the model's ΔNLL is what counts. "
               "Top-k in every layer:\n");
    for (size_t i = 0; i < nc; i++) {
        const plane_pt *in = least_k(rt, &c[i], DNLL_WITHIN), *near = least_k(rt, &c[i], DNLL_UNDECIDED);
        fprintf(f, "  - %s: ", c[i].name);
        if (in) print_k(f, rt, &c[i], in, "within 1%");
        else fprintf(f, "no k measured is within 1%%");
        if (near && near != in) print_k(f, rt, &c[i], near, "; not distinguishable from 1%");
        layer_verdict(f, rt, &c[i]);
        fprintf(f, ".\n");
    }
}

static int model_verdicts(FILE *f, const data *d) {
    rtab rt;
    rt_init(&rt, &d->all);
    if (decode_verdict(f, &rt)) return -1;
    mckpt *c;
    size_t nc;
    if (mckpts_find(&rt, &c, &nc)) return -1;
    if (nc) {
        size_t good[SHRINK_KINDS] = {0};
        serving_verdict(f, &rt, c, nc, good);
        error_verdict(f, &rt, c, nc);
        fprintf(f, "- **When none is worth it.** Where your cache fits, exact attention costs nothing, and top-k "
                   "does not shrink the cache. Of the (checkpoint, method) pairs above that shrink it, within or "
                   "not distinguishable from 1%% of the NLL: %zu conversion(s) of the projections, %zu cache "
                   "format(s), %zu eviction policy / window / Performer setting(s).", good[SHRINK_CONVERSION],
                good[SHRINK_FORMAT], good[SHRINK_OPERATOR]);
        if (!good[SHRINK_CONVERSION])
            fprintf(f, " A conversion without uptraining loses too much here: train or uptrain for the scheme "
                       "(`attnbench train`), or shrink the cache with a format or a policy that holds within 1%%.");
        fprintf(f, "\n");
    }
    mckpts_free(c, nc);
    return 0;
}

int summary_verdicts(FILE *f, const data *d, const scaling *s) {
    fprintf(f, "\n## Verdicts\n\n"
               "Which method for which regime, every number read from the rows. Prefill memory here is the "
               "allocator's counted workspace (the resident set does not resolve workspaces this small). A ΔNLL "
               "is within 1%% of the exact NLL when ΔNLL + %.2f·se is, above 1%% when ΔNLL − %.2f·se is above, "
               "and otherwise not distinguishable from 1%% (se: the standard error over the sequences).\n\n",
            DNLL_Z, DNLL_Z);
    prefill_verdicts(f, d, s);
    return model_verdicts(f, d);
}

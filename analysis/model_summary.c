/* model_summary.c — the model section of summary.md (model_study.h): per
 * checkpoint, every configuration's ΔNLL, KL and top-1 beside its cache;
 * which method, at which setting, stays within 1% of the exact NLL; the
 * per-layer sensitivity and the planner's rows. */
#include "labels.h"
#include "model_study.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WITHIN 0.01

static void setting_of(const rtab *rt, const plane_pt *p, char *out, size_t cap) {
    mckpt_setting(rt, p->row, p->family, p->knob, out, cap);
}

static const char *within_text(int state) { return state == 2 ? "yes" : state == 1 ? "not distinguishable from 1%" : ""; }

/* the uniform attention rows that did not run, marked with their status */
static void failed_lines(FILE *f, const rtab *rt, const mckpt *c) {
    for (size_t i = 0; i < c->n; i++) {
        size_t r = c->rows[i];
        char fam[48], label[160], set[160], cache[32];
        double knob;
        if (rt_ok(rt, r) || !model_uniform(rt, r) || strcmp(rt_get(rt, r, COL_layer), "attention") ||
            model_family(rt, r, c->native_kv, fam, sizeof fam, &knob))
            continue;
        mckpt_family_label(rt, r, fam, label, sizeof label);
        mckpt_setting(rt, r, fam, knob, set, sizeof set);
        fmt_bytes(rt_num(rt, r, COL_cache_bytes), cache, sizeof cache);
        fprintf(f, "| %s | %s | %s | %s (did not run) | — | — | — | | |\n", label, set, cache, rt_get(rt, r, COL_status));
    }
}

static void plane_table(FILE *f, const rtab *rt, const mckpt *c) {
    fprintf(f, "| method | setting | cache / sequence | ΔNLL ± se (nats/token) | share of NLL | KL | top-1 | within 1%% | "
               "Pareto front |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    char *done = calloc(c->nplane ? c->nplane : 1, 1);
    if (!done) return;
    const int ranks = family_ranks();
    for (int o = 0; o <= ranks; o++) /* the legend's order (family_rank), then whatever is left */
        for (;;) { /* within a family by increasing knob */
            long best = -1;
            for (size_t j = 0; j < c->nplane; j++)
                if (!done[j] && (o == ranks || family_rank(c->plane[j].family) == o) &&
                    (best < 0 || c->plane[j].knob < c->plane[best].knob))
                    best = (long)j;
            if (best < 0) break;
            done[best] = 1;
            const plane_pt *p = &c->plane[best];
            char set[160], cache[32], se[32] = "", pct[32], label[160];
            setting_of(rt, p, set, sizeof set);
            fmt_bytes(p->x, cache, sizeof cache);
            fmt_pct(p->y, c->nll_exact, pct, sizeof pct);
            mckpt_family_label(rt, p->row, p->family, label, sizeof label);
            double s = rt_num(rt, p->row, COL_dnll_se);
            if (isfinite(s)) snprintf(se, sizeof se, " ± %.2g", s);
            int exact = family_reference(p->family);
            fprintf(f, "| %s | %s | %s | %.3g%s | %s | %.3g | %.3g | %s | %s |\n", label, set, cache, p->y, se, pct,
                    rt_num(rt, p->row, COL_kl), rt_num(rt, p->row, COL_top1),
                    exact ? "" : within_text(mckpt_within_state(rt, c, p->row, WITHIN)), p->front ? "yes" : "");
        }
    free(done);
    failed_lines(f, rt, c);
}

/* the settings of one within-1% state but `skip`, as ", topk k=32, ..." */
static int within_list(FILE *f, const rtab *rt, const mckpt *c, const plane_pt *skip, int state, const char *lead) {
    int more = 0;
    for (size_t j = 0; j < c->nplane; j++) {
        const plane_pt *p = &c->plane[j];
        if (p == skip || family_reference(p->family) || mckpt_within_state(rt, c, p->row, WITHIN) != state) continue;
        char set[160], label[160];
        setting_of(rt, p, set, sizeof set);
        mckpt_family_label(rt, p->row, p->family, label, sizeof label);
        fprintf(f, "%s %s %s", more++ ? "," : lead, label, set);
    }
    return more;
}

/* the answer: the least cache (then knob) whose whole 95% interval is
 * within 1%, every other one that is, and those whose interval straddles it */
static void answer(FILE *f, const rtab *rt, const mckpt *c) {
    const plane_pt *best = mckpt_within(rt, c, WITHIN);
    fprintf(f, "\n**Within 1%% of the exact NLL (ΔNLL + 1.96 se ≤ %.3g nats/token) on %s:** ", WITHIN * c->nll_exact, c->name);
    char set[160], label[160], pct[32];
    if (!best) {
        const plane_pt *near = NULL;
        for (size_t j = 0; j < c->nplane; j++)
            if (!family_reference(c->plane[j].family) && (!near || c->plane[j].y < near->y)) near = &c->plane[j];
        if (!near) { fprintf(f, "no approximation was run.\n"); return; }
        setting_of(rt, near, set, sizeof set);
        mckpt_family_label(rt, near->row, near->family, label, sizeof label);
        fmt_pct(near->y, c->nll_exact, pct, sizeof pct);
        fprintf(f, "none of the uniform settings run; the closest is %s %s (ΔNLL %.3g, %s of the NLL).", label, set,
                near->y, pct);
    } else {
        char cache[32], full[32];
        setting_of(rt, best, set, sizeof set);
        mckpt_family_label(rt, best->row, best->family, label, sizeof label);
        fmt_pct(best->y, c->nll_exact, pct, sizeof pct);
        fmt_bytes(best->x, cache, sizeof cache);
        const plane_pt *exact = mckpt_point(c, reference_name(), 0);
        fmt_bytes(exact ? exact->x : NAN, full, sizeof full);
        fprintf(f, "%s %s, ΔNLL %.3g (%s of the NLL), the least cache that meets it (%s a sequence; the exact model "
                   "holds %s). Also within 1%%:", label, set, best->y, pct, cache, full);
        fprintf(f, "%s", within_list(f, rt, c, best, 2, "") ? "." : " nothing else.");
    }
    if (within_list(f, rt, c, NULL, 1, " Not distinguishable from 1% (the 95% interval straddles it):")) fprintf(f, ".");
    fprintf(f, "\n");
}

/* ΔNLL of each layer alone, a column per knob value (top-k, or the first operator there is) */
static void sensitivity(FILE *f, const rtab *rt, const mckpt *c) {
    double knobs[32];
    size_t nk = 0;
    int layers = -1;
    char op[48] = "";
    for (size_t i = 0; i < c->n; i++) {
        size_t r = c->rows[i];
        int l = model_single_layer(rt, r);
        char fam[48];
        double k;
        if (l < 0 || !rt_ok(rt, r) || strcmp(rt_get(rt, r, COL_layer), "attention") ||
            model_family(rt, r, c->native_kv, fam, sizeof fam, &k) || !(k > 0))
            continue;
        if (!*op || (!family_keeps_largest(op) && family_keeps_largest(fam))) { snprintf(op, sizeof op, "%s", fam); nk = 0; layers = -1; }
        if (strcmp(op, fam)) continue;
        layers = l > layers ? l : layers;
        size_t j = 0;
        while (j < nk && knobs[j] != k) j++;
        if (j == nk && nk < 32) {
            size_t at = nk++;
            while (at > 0 && knobs[at - 1] > k) { knobs[at] = knobs[at - 1]; at--; }
            knobs[at] = k;
        }
    }
    if (layers < 0) return;
    fprintf(f, "\nOne layer at a time (%s, the other layers exact): ΔNLL per layer.\n\n| layer |", op);
    for (size_t j = 0; j < nk; j++) {
        char set[64];
        family_setting(op, knobs[j], 0, set, sizeof set);
        fprintf(f, " %s |", set);
    }
    fprintf(f, "\n| --- |");
    for (size_t j = 0; j < nk; j++) fprintf(f, " --- |");
    for (int l = 0; l <= layers; l++) {
        fprintf(f, "\n| %d |", l);
        for (size_t j = 0; j < nk; j++) {
            double v = NAN;
            for (size_t i = 0; i < c->n && !isfinite(v); i++) {
                size_t r = c->rows[i];
                char fam[48];
                double k;
                if (model_single_layer(rt, r) == l && rt_ok(rt, r) && !strcmp(rt_get(rt, r, COL_layer), "attention") &&
                    !model_family(rt, r, c->native_kv, fam, sizeof fam, &k) && !strcmp(fam, op) && k == knobs[j])
                    v = rt_num(rt, r, COL_dnll);
            }
            if (isfinite(v)) fprintf(f, " %.2g |", v);
            else fprintf(f, " — |");
        }
    }
    fprintf(f, "\n");
}

/* rows with a knob per layer (the planner's), the FFN rows, generation */
static void other_rows(FILE *f, const rtab *rt, const mckpt *c) {
    int head = 0, any_gen = 0;
    for (size_t i = 0; i < c->n; i++) {
        size_t r = c->rows[i];
        if (!rt_ok(rt, r)) continue;
        int per_layer = !model_uniform(rt, r) && model_single_layer(rt, r) < 0;
        int ffn = strstr(rt_get(rt, r, COL_layer), "ffn") != NULL;
        int gen = *rt_get(rt, r, COL_gen_tokens) != '\0';
        if (!per_layer && !ffn && !gen) continue;
        any_gen |= gen;
        if (!head++)
            fprintf(f, "\nOther rows (a knob per layer, the feed-forward, generation):\n\n| layer | attention | k | layers | "
                       "ΔNLL | share of NLL | KL | top-1 | cache / sequence | generation | note |\n"
                       "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        char cache[32], gen_txt[96] = "—", note[160];
        fmt_bytes(rt_num(rt, r, COL_cache_bytes), cache, sizeof cache);
        if (gen) {
            const char *fd = rt_get(rt, r, COL_gen_first_diff);
            snprintf(gen_txt, sizeof gen_txt, "%s tokens: first differs at %s, %.2g match", rt_get(rt, r, COL_gen_tokens),
                     *fd ? fd : "none", rt_num(rt, r, COL_gen_match));
        }
        snprintf(note, sizeof note, "%s", rt_get(rt, r, COL_note));
        note[strcspn(note, ";")] = '\0'; /* the first clause: "plan per-layer: target dnll 0.01" */
        for (char *q = note; *q; q++) if (*q == '|') *q = '/';
        double d = rt_num(rt, r, COL_dnll);
        char pct[32];
        fmt_pct(d, c->nll_exact, pct, sizeof pct);
        fprintf(f, "| %s | %s | %s | %s | %.3g | %s | %.3g | %.3g | %s | %s | %s |\n", rt_get(rt, r, COL_layer),
                rt_get(rt, r, COL_attention), *rt_get(rt, r, COL_k) ? rt_get(rt, r, COL_k) : "—", rt_get(rt, r, COL_layers),
                d, pct, rt_num(rt, r, COL_kl), rt_num(rt, r, COL_top1), cache, gen_txt, note);
    }
    if (head && !any_gen)
        fprintf(f, "\nThe generation column (gen_tokens, gen_first_diff, gen_match) is filled only by `attnbench eval "
                   "--generate G`; no row here ran it.\n");
}

void model_summary(FILE *f, const rtab *rt, const mckpt *c, size_t count) {
    fprintf(f, "\n## The model level: what each approximation costs a real model\n\n");
    if (!count) { fprintf(f, "No model rows (`attnbench eval`).\n"); return; }
    fprintf(f, "Rows of `attnbench eval`: a checkpoint teacher-forced over sampled sequences with attention replaced in "
               "every layer (projections convert the checkpoint's own weights, no uptraining), against the exact model "
               "on the same tokens. ΔNLL: nats per token (± its standard error over the sequences); KL: mean "
               "KL(exact || approximate) of the next-token distributions; top-1: the share of positions where both "
               "predict the same token; cache: what a sequence would hold when decoding; own attention: the checkpoint's "
               "(exact), with its K/V heads. Within 1%%: ΔNLL + 1.96 se at most 1%% of the exact NLL. Figures: [ΔNLL and KL against cache](figures/model_dnll_vs_cache.svg), "
               "[per-layer sensitivity](figures/layer_sensitivity.svg).\n");
    for (size_t i = 0; i < count; i++) {
        size_t r0 = c[i].rows[0];
        fprintf(f, "\n### %s (n %s, %s sequences, exact NLL %.4g nats/token)\n\n", c[i].name, rt_get(rt, r0, COL_n),
                rt_get(rt, r0, COL_sequences), c[i].nll_exact);
        plane_table(f, rt, &c[i]);
        answer(f, rt, &c[i]);
        model_front(f, rt, &c[i]);
        sensitivity(f, rt, &c[i]);
        other_rows(f, rt, &c[i]);
    }
}

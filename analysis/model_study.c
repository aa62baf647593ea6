/* model_study.c — model rows by checkpoint, and each checkpoint's ΔNLL
 * plane (model_study.h). */
#include "model_study.h"
#include "knobs.h"
#include "traits.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int model_uniform(const rtab *rt, size_t r) {
    const char *layers = rt_get(rt, r, COL_layers);
    if (*layers && strcmp(layers, "all")) return 0;
    for (int i = 0; i < KN_COUNT; i++) /* a method knob given per layer: "8;16" */
        if (KNOB_IS_METHOD(knob_defs[i].bit) && strchr(rt_get(rt, r, knob_defs[i].column), ';')) return 0;
    return 1;
}

int model_single_layer(const rtab *rt, size_t r) {
    const char *layers = rt_get(rt, r, COL_layers);
    char *end;
    long l = strtol(layers, &end, 10);
    return *layers && !*end && l >= 0 && l < 100000 ? (int)l : -1;
}

static void ckpt_name(const char *input, char *out, size_t cap) {
    const char *slash = strrchr(input, '/'), *base = slash ? slash + 1 : input;
    size_t len = strlen(base);
    if (len > 4 && !strcmp(base + len - 4, ".bin")) len -= 4;
    snprintf(out, cap, "%.*s", (int)len, base);
}

/* the checkpoint's own K/V heads, exact NLL and plane */
static int ckpt_index(const rtab *rt, mckpt *c) {
    c->native_kv = NAN;
    c->nll_exact = NAN;
    for (size_t i = 0; i < c->n; i++) { /* its own attention: projection EVAL_OWN */
        size_t r = c->rows[i];
        if (!strcmp(rt_get(rt, r, COL_projection), EVAL_OWN) && !isfinite(c->native_kv))
            c->native_kv = rt_num(rt, r, COL_kv_heads);
    }
    /* else the most K/V heads of a scheme that chooses them (gqa) */
    for (size_t j = 0; j < c->n && !isfinite(c->native_kv); j++)
        if (proj_knobs(rt_get(rt, c->rows[j], COL_projection)) & KNOB_KV_HEADS) {
            double kv = rt_num(rt, c->rows[j], COL_kv_heads);
            for (size_t i = j + 1; i < c->n; i++)
                if (proj_knobs(rt_get(rt, c->rows[i], COL_projection)) & KNOB_KV_HEADS)
                    kv = fmax(kv, rt_num(rt, c->rows[i], COL_kv_heads));
            c->native_kv = kv;
        }
    for (size_t i = 0; i < c->n && !isfinite(c->nll_exact); i++) {
        size_t r = c->rows[i];
        if (rt_ok(rt, r)) c->nll_exact = rt_num(rt, r, COL_nll) - rt_num(rt, r, COL_dnll);
    }
    c->plane = calloc(c->n ? c->n : 1, sizeof *c->plane);
    if (!c->plane) return -1;
    for (size_t i = 0; i < c->n; i++) {
        size_t r = c->rows[i];
        plane_pt p = {.row = r};
        if (!rt_ok(rt, r) || !model_uniform(rt, r) || strcmp(rt_get(rt, r, COL_layer), "attention") ||
            model_family(rt, r, c->native_kv, p.family, sizeof p.family, &p.knob))
            continue;
        p.x = rt_num(rt, r, COL_cache_bytes);
        p.y = rt_num(rt, r, COL_dnll);
        if (!(p.x > 0) || !isfinite(p.y)) continue;
        double sink = rt_num(rt, r, COL_sink);
        int dup = 0;
        for (size_t j = 0; j < c->nplane && !dup; j++) {
            double sj = rt_num(rt, c->plane[j].row, COL_sink);
            dup = !strcmp(c->plane[j].family, p.family) && c->plane[j].knob == p.knob &&
                  (sj == sink || (isnan(sj) && isnan(sink)));
        }
        if (!dup) c->plane[c->nplane++] = p;
    }
    return plane_front(c->plane, c->nplane, 1e-6);
}

int mckpts_find(const rtab *rt, mckpt **out, size_t *count) {
    mckpt *c = NULL;
    size_t nc = 0;
    for (size_t r = 0; r < rt->t->nrows; r++) {
        if (!rt_regime(rt, r, "model")) continue;
        const char *in = rt_get(rt, r, COL_input);
        size_t i = 0;
        while (i < nc && strcmp(c[i].input, in)) i++;
        if (i == nc) {
            mckpt *grown = realloc(c, (nc + 1) * sizeof *grown);
            if (!grown) goto fail;
            c = grown;
            memset(&c[nc], 0, sizeof *c);
            c[nc].input = in;
            ckpt_name(in, c[nc].name, sizeof c[nc].name);
            c[nc].rows = malloc(rt->t->nrows * sizeof *c[nc].rows);
            if (!c[nc++].rows) goto fail;
        }
        c[i].rows[c[i].n++] = r;
    }
    for (size_t i = 0; i < nc; i++)
        if (ckpt_index(rt, &c[i])) goto fail;
    /* a checkpoint without one ok row of finite NLL (all failed or nonfinite,
     * or written before every row was checked) has no exact NLL to measure
     * against: left out, never "exact NLL -nan" */
    size_t kept = 0;
    for (size_t i = 0; i < nc; i++) {
        if (isfinite(c[i].nll_exact)) c[kept++] = c[i];
        else { free(c[i].rows); free(c[i].plane); }
    }
    nc = kept;
    *out = c;
    *count = nc;
    return 0;
fail:
    mckpts_free(c, nc);
    return -1;
}

void mckpts_free(mckpt *c, size_t count) {
    for (size_t i = 0; i < count; i++) { free(c[i].rows); free(c[i].plane); }
    free(c);
}

const plane_pt *mckpt_point(const mckpt *c, const char *family, double knob) {
    for (size_t i = 0; i < c->nplane; i++)
        if (!strcmp(c->plane[i].family, family) && c->plane[i].knob == knob) return &c->plane[i];
    return NULL;
}

const plane_pt *mckpt_within(const rtab *rt, const mckpt *c, double share) {
    const plane_pt *best = NULL;
    for (size_t i = 0; i < c->nplane; i++) {
        const plane_pt *p = &c->plane[i];
        if (family_reference(p->family) || mckpt_within_state(rt, c, p->row, share) != 2) continue;
        if (!best || p->x < best->x || (p->x == best->x && p->knob < best->knob)) best = p;
    }
    return best;
}

double mckpt_ratio(const rtab *rt, const mckpt *c, size_t r) {
    const double given = rt_num(rt, r, COL_cache_ratio);
    if (isfinite(given)) return given;
    const double n = rt_num(rt, r, COL_n);
    double exact = NAN;
    for (size_t i = 0; i < c->n; i++) { /* the exact model's row, of the same n first */
        size_t q = c->rows[i];
        char fam[48];
        double knob;
        if (!rt_ok(rt, q) || !model_uniform(rt, q) || model_family(rt, q, c->native_kv, fam, sizeof fam, &knob) ||
            !family_reference(fam) || !(rt_num(rt, q, COL_cache_bytes) > 0))
            continue;
        if (rt_num(rt, q, COL_n) == n) { exact = rt_num(rt, q, COL_cache_bytes); break; }
        if (!isfinite(exact)) exact = rt_num(rt, q, COL_cache_bytes);
    }
    return rt_num(rt, r, COL_cache_bytes) / exact;
}

void mckpt_own_label(const rtab *rt, size_t r, char *out, size_t cap) {
    const double kv = rt_num(rt, r, COL_kv_heads), h = rt_num(rt, r, COL_heads);
    if (!(kv > 0) || !(h > 0)) { snprintf(out, cap, "own attention"); return; }
    const char *kind = kv == h ? "MHA" : kv == 1 ? "MQA" : "GQA";
    snprintf(out, cap, "own attention (%s, %g K/V head%s of %g)", kind, kv, kv == 1 ? "" : "s", h);
}

void mckpt_family_label(const rtab *rt, size_t r, const char *family, char *out, size_t cap) {
    const char *at = strchr(family, '@');
    char base[48], own[96];
    snprintf(base, sizeof base, "%.*s", at ? (int)(at - family) : (int)strlen(family), family);
    if (family_reference(base)) mckpt_own_label(rt, r, own, sizeof own);
    family_words(family, family_reference(base) ? own : NULL, out, cap);
}

double causal_share(double k, double n) {
    if (!(k > 0) || !(n > 0)) return NAN;
    if (k >= n) return 1;
    return (k * (k + 1) / 2 + (n - k) * k) / (n * (n + 1) / 2);
}

void mckpt_setting(const rtab *rt, size_t r, const char *family, double knob, char *out, size_t cap) {
    family_setting(family, knob, rt_family_minor(rt, r, family), out, cap);
    size_t len = strlen(out);
    const double n = rt_num(rt, r, COL_n), bits = rt_num(rt, r, COL_bits_per_value);
    if (op_keeps_largest(rt_get(rt, r, COL_attention), 0) && knob > 0 && n > 0 && len < cap)
        len += (size_t)snprintf(out + len, cap - len, " (k/n %.2g, %.2g%% of causal pairs)", knob / n,
                                100 * causal_share(knob, n));
    if (strchr(family, '@') && isfinite(bits) && len < cap)
        len += (size_t)snprintf(out + len, cap - len, "%s%g bits/value", len ? ", " : "", bits);
    if (!len) snprintf(out, cap, "—");
}

int mckpt_within_state(const rtab *rt, const mckpt *c, size_t r, double share) {
    const double d = rt_num(rt, r, COL_dnll), se = rt_num(rt, r, COL_dnll_se), lim = share * c->nll_exact;
    const double half = isfinite(se) ? 1.96 * se : 0;
    if (!isfinite(d) || !isfinite(lim)) return 0;
    return d + half <= lim ? 2 : d - half <= lim ? 1 : 0;
}

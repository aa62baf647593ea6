/* model_front.c — the KV-cache front of a checkpoint (model_study.h): every
 * setting that holds at most 1/2, 1/4 or 1/8 of the exact model's cache
 * (the cache formats, the eviction policies, the window, the conversions to
 * fewer K/V heads), listed once, at the smallest of those ratios it fits
 * (front_bucket), sorted by ΔNLL; a sentence per ratio naming the front,
 * whether its first two are told apart, what does better with less cache
 * and which methods never got there. A row that did not run is listed with
 * its status, never dropped. */
#include "model_study.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t row;
    char family[48];
    double knob, ratio, y, se;
    int ok;
} fpoint;

/* the short name of a sentence: "q4_0 cache" for the exact model's own
 * attention on a format, else family_words */
static void short_name(const fpoint *p, char *out, size_t cap) {
    const char *at = strchr(p->family, '@');
    char base[48];
    snprintf(base, sizeof base, "%.*s", at ? (int)(at - p->family) : (int)strlen(p->family), p->family);
    if (at && family_reference(base)) snprintf(out, cap, "%s cache", at + 1);
    else family_words(p->family, NULL, out, cap);
}

static void point_text(const rtab *rt, const fpoint *p, char *out, size_t cap) {
    char name[96], set[128];
    short_name(p, name, sizeof name);
    family_setting(p->family, p->knob, rt_family_minor(rt, p->row, p->family), set, sizeof set);
    snprintf(out, cap, "%s%s%s (%.2g of the cache, ΔNLL %.2g ± %.2g)", name, *set ? " " : "", set, p->ratio, p->y,
             isfinite(p->se) ? p->se : 0);
}

/* the plane's approximations and the uniform attention rows that did not run */
static fpoint *gather(const rtab *rt, const mckpt *c, size_t *count) {
    fpoint *v = calloc(c->n ? c->n : 1, sizeof *v);
    size_t n = 0;
    if (!v) return NULL;
    for (size_t j = 0; j < c->nplane; j++) {
        const plane_pt *p = &c->plane[j];
        if (family_reference(p->family)) continue;
        fpoint q = {.row = p->row, .knob = p->knob, .y = p->y, .ok = 1};
        snprintf(q.family, sizeof q.family, "%s", p->family);
        q.ratio = mckpt_ratio(rt, c, p->row);
        q.se = rt_num(rt, p->row, COL_dnll_se);
        v[n++] = q;
    }
    for (size_t i = 0; i < c->n; i++) {
        size_t r = c->rows[i];
        fpoint q = {.row = r, .y = NAN, .se = NAN};
        if (rt_ok(rt, r) || !model_uniform(rt, r) || strcmp(rt_get(rt, r, COL_layer), "attention") ||
            model_family(rt, r, c->native_kv, q.family, sizeof q.family, &q.knob) || family_reference(q.family))
            continue;
        q.ratio = mckpt_ratio(rt, c, r);
        v[n++] = q;
    }
    /* by ΔNLL, the rows that did not run last */
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0; b--) {
            const fpoint *x = &v[b - 1], *y = &v[b];
            int swap = x->ok != y->ok ? y->ok : x->ok && y->y < x->y;
            if (!swap) break;
            fpoint t = v[b - 1]; v[b - 1] = v[b]; v[b] = t;
        }
    *count = n;
    return v;
}

static void table_line(FILE *f, const rtab *rt, const fpoint *p, int bucket) {
    char label[160], set[160], dnll[64];
    mckpt_family_label(rt, p->row, p->family, label, sizeof label);
    mckpt_setting(rt, p->row, p->family, p->knob, set, sizeof set);
    size_t r = p->row;
    if (!p->ok) snprintf(dnll, sizeof dnll, "%s (did not run)", rt_get(rt, r, COL_status));
    else if (isfinite(p->se)) snprintf(dnll, sizeof dnll, "%.3g ± %.2g", p->y, p->se);
    else snprintf(dnll, sizeof dnll, "%.3g", p->y);
    char beyond[32], kl[32], p90[32], p99[32], top1[32], ratio[32];
    fmt_num(p->ratio, ratio, sizeof ratio);
    fmt_num(rt_num(rt, r, COL_dnll_beyond), beyond, sizeof beyond);
    fmt_num(rt_num(rt, r, COL_kl), kl, sizeof kl);
    fmt_num(rt_num(rt, r, COL_kl_p90), p90, sizeof p90);
    fmt_num(rt_num(rt, r, COL_kl_p99), p99, sizeof p99);
    fmt_num(rt_num(rt, r, COL_top1), top1, sizeof top1);
    fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", front_ratio_text(bucket), label, set, ratio,
            dnll, beyond, kl, p90, p99, top1);
}

/* the families that have no setting at or below ratio R, with their least ratio and why */
static void unreached(FILE *f, const rtab *rt, const fpoint *v, size_t n, int bucket) {
    const double R = front_ratio(bucket) * (1 + 1e-9);
    int said = 0;
    for (size_t i = 0; i < n; i++) {
        if (!v[i].ok) continue;
        int first = 1, reaches = 0;
        double least = INFINITY;
        size_t at = i;
        for (size_t j = 0; j < n; j++) {
            if (!v[j].ok || strcmp(v[j].family, v[i].family)) continue;
            first &= j >= i;
            reaches |= v[j].ratio <= R;
            if (v[j].ratio < least) { least = v[j].ratio; at = j; }
        }
        if (!first || reaches) continue;
        char name[96], why[96] = "";
        short_name(&v[i], name, sizeof name);
        const char *prompt = rt_get(rt, v[at].row, COL_prompt);
        const double resid = rt_num(rt, v[at].row, COL_residual), n_ = rt_num(rt, v[at].row, COL_n);
        if (resid >= n_) snprintf(why, sizeof why, ": its f32 residual (%g tokens) holds the whole sequence", resid);
        else if (least >= 1 - 1e-9) snprintf(why, sizeof why, ": it keeps the whole cache at every setting run");
        else if (*prompt) snprintf(why, sizeof why, ": it holds its prompt (%s tokens) until the prompt's end", prompt);
        fprintf(f, "%s %s (least %.2g of the cache%s)", said++ ? ";" : " Not at or below it in any setting run:", name,
                least, why);
    }
    if (said) fprintf(f, ".");
}

static void sentence(FILE *f, const rtab *rt, const mckpt *c, const fpoint *v, size_t n, int bucket) {
    const fpoint *in[3] = {NULL, NULL, NULL}, *less = NULL;
    size_t got = 0;
    for (size_t i = 0; i < n; i++) {
        if (!v[i].ok) continue;
        int b = front_bucket(v[i].ratio);
        if (b == bucket && got < 3) in[got++] = &v[i];
        if (b > bucket && (!less || v[i].y < less->y)) less = &v[i]; /* v is by ΔNLL: the first is the best */
    }
    fprintf(f, "\nAt %s of the cache on %s ", front_ratio_text(bucket), c->name);
    char a[512], b[512];
    if (!got)
        fprintf(f, "no setting lands (%s < cache ratio ≤ %s).", bucket + 1 < FRONT_RATIOS ? front_ratio_text(bucket + 1) : "0",
                front_ratio_text(bucket));
    else {
        point_text(rt, in[0], a, sizeof a);
        fprintf(f, "the front is %s", a);
        for (size_t k = 1; k < got; k++) {
            point_text(rt, in[k], b, sizeof b);
            fprintf(f, ", then %s", b);
        }
        if (got > 1) {
            short_name(in[0], a, sizeof a);
            short_name(in[1], b, sizeof b);
            int same = ci_overlap(in[0]->y, in[0]->se, in[1]->y, in[1]->se);
            fprintf(f, "; %s and %s are %sdistinguishable (their 95%% intervals %s)", a, b, same ? "not " : "",
                    same ? "overlap" : "do not overlap");
        }
        fprintf(f, ".");
    }
    if (less && (!got || less->y < in[0]->y)) {
        point_text(rt, less, a, sizeof a);
        fprintf(f, " With less cache, %s does better.", a);
    }
    unreached(f, rt, v, n, bucket);
    fprintf(f, "\n");
}

void model_front(FILE *f, const rtab *rt, const mckpt *c) {
    size_t n = 0;
    fpoint *v = gather(rt, c, &n);
    if (!v) return;
    fprintf(f, "\n**The KV-cache front of %s:** every setting that holds at most 1/2, 1/4 or 1/8 of the exact model's cache "
               "(cache ratio: its cache_ratio, else its cache over the exact row's), listed once, at the smallest of those "
               "ratios it fits (1/4: above 1/8 and at most 1/4; 1/8: at most 1/8), by ΔNLL. ΔNLL beyond: over the "
               "positions past the budget; KL p90, p99: percentiles of the per-position KL.\n\n"
               "| at | method | setting | cache ratio | ΔNLL ± se | ΔNLL beyond | KL | KL p90 | KL p99 | top-1 |\n"
               "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n", c->name);
    int rows = 0;
    for (int b = 0; b < FRONT_RATIOS; b++)
        for (size_t i = 0; i < n; i++)
            if (front_bucket(v[i].ratio) == b) { table_line(f, rt, &v[i], b); rows++; }
    if (!rows) fprintf(f, "| — | no setting at or below 1/2 of the cache | | | | | | | | |\n");
    for (int b = 0; b < FRONT_RATIOS; b++) sentence(f, rt, c, v, n, b);
    int head = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].ok || front_bucket(v[i].ratio) >= 0) continue;
        char name[96], set[128];
        short_name(&v[i], name, sizeof name);
        mckpt_setting(rt, v[i].row, v[i].family, v[i].knob, set, sizeof set);
        fprintf(f, "%s%s %s (%s)", head++ ? "; " : "\nDid not run, so on no front: ", name, set, rt_get(rt, v[i].row, COL_status));
    }
    if (head) fprintf(f, ".\n");
    free(v);
}

/* decode_study.c — decode rows as studies of families × contexts (decode_study.h). */
#include "decode_study.h"
#include "compare.h"
#include "labels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the columns a study's rows agree on (what the methods are compared on) */
static const int study_cols[] = {COL_heads, COL_d_head, COL_score_std, COL_head_sim, COL_input, COL_batch, COL_threads};
enum { NSTUDY_COLS = sizeof study_cols / sizeof study_cols[0] };

static int same_field(const char *a, const char *b) {
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    if (*a && *b && !*ea && !*eb) return x == y;
    return !strcmp(a, b);
}

static int same_study(const rtab *rt, size_t a, size_t b) {
    for (int i = 0; i < NSTUDY_COLS; i++)
        if (!same_field(rt_get(rt, a, study_cols[i]), rt_get(rt, b, study_cols[i]))) return 0;
    return 1;
}

static int is_synthetic(const rtab *rt, size_t r) {
    const char *in = rt_get(rt, r, COL_input);
    return !*in || !strcmp(in, "synthetic");
}

/* the legend's order (family_rank: exact MHA, the projections, the
 * operators), then combinations; a projection's K/V heads descending (toward
 * MHA first), an operator's knob ascending */
static double fam_order(const dfam *f) {
    const char *plus = strchr(f->family, '+');
    char head[48];
    snprintf(head, sizeof head, "%.*s", plus ? (int)(plus - f->family) : (int)strlen(f->family), f->family);
    const int i = family_rank(head);
    if (i < 0) return 1000.0 + f->knob * 1e-6;
    return (plus ? 100.0 : 0.0) + 10.0 * (double)i + (family_ramps(f->family) ? f->knob * 1e-6 : -f->knob * 1e-3);
}

int dfam_is_reference(const dfam *f) { return family_reference(f->family); }
dfam dfam_reference(void) {
    dfam f = {{0}, 0, 0};
    snprintf(f.family, sizeof f.family, "%s", reference_name());
    return f;
}

/* the same family and setting (a window's sink too: the minor knob; NAN ones match) */
static int dfam_same(const dfam *a, const dfam *b) {
    return !strcmp(a->family, b->family) && a->knob == b->knob &&
           (a->minor == b->minor || (isnan(a->minor) && isnan(b->minor)));
}

static int add_row(dstudy *s, size_t r) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 32;
        size_t *grown = realloc(s->rows, cap * sizeof *grown);
        if (!grown) return -1;
        s->rows = grown;
        s->cap = cap;
    }
    s->rows[s->n++] = r;
    return 0;
}

/* the families and contexts of a study's ok rows, and its plane's context */
static int study_index(const rtab *rt, dstudy *s) {
    s->fam = calloc(s->n ? s->n : 1, sizeof *s->fam);
    if (!s->fam) return -1;
    for (size_t i = 0; i < s->n; i++) {
        size_t r = s->rows[i];
        if (!rt_ok(rt, r)) continue;
        dfam f = {{0}, 0, 0};
        decode_family(rt, r, f.family, sizeof f.family, &f.knob);
        f.minor = rt_family_minor(rt, r, f.family);
        size_t j = 0;
        while (j < s->nfam && !dfam_same(&s->fam[j], &f)) j++;
        if (j == s->nfam) {
            /* insert in legend order */
            size_t at = s->nfam++;
            while (at > 0 && fam_order(&s->fam[at - 1]) > fam_order(&f)) { s->fam[at] = s->fam[at - 1]; at--; }
            s->fam[at] = f;
        }
        double L = rt_num(rt, r, COL_context);
        size_t c = 0;
        while (c < s->nctx && s->ctx[c] != L) c++;
        if (c == s->nctx && s->nctx < DS_MAX_CTX && isfinite(L)) {
            size_t at = s->nctx++;
            while (at > 0 && s->ctx[at - 1] > L) { s->ctx[at] = s->ctx[at - 1]; at--; }
            s->ctx[at] = L;
        }
    }
    s->plane_L = NAN;
    for (size_t c = 0; c < s->nctx; c++) {
        size_t count = 0;
        for (size_t j = 0; j < s->nfam; j++) count += dstudy_row(rt, s, &s->fam[j], s->ctx[c]) >= 0;
        if (count >= s->plane_count) { s->plane_count = count; s->plane_L = s->ctx[c]; }
    }
    return 0;
}

int dstudies_find(const rtab *rt, dstudy **out, size_t *count) {
    dstudy *s = NULL;
    size_t ns = 0;
    for (size_t r = 0; r < rt->t->nrows; r++) {
        if (!rt_regime(rt, r, "decode")) continue;
        size_t i = 0;
        while (i < ns && !same_study(rt, s[i].rows[0], r)) i++;
        if (i == ns) {
            dstudy *grown = realloc(s, (ns + 1) * sizeof *grown);
            if (!grown) goto fail;
            s = grown;
            memset(&s[ns++], 0, sizeof *s);
        }
        if (add_row(&s[i], r)) goto fail;
    }
    for (size_t i = 0; i < ns; i++)
        if (study_index(rt, &s[i])) goto fail;
    /* a study of rows that all failed (an invalid point records no sizes, so
     * it stands alone) has nothing to draw or compare: left out */
    size_t kept = 0;
    for (size_t i = 0; i < ns; i++) {
        if (s[i].nfam) s[kept++] = s[i];
        else { free(s[i].rows); free(s[i].fam); }
    }
    ns = kept;
    /* synthetic first, then by head similarity, then by input */
    for (size_t a = 0; a < ns; a++)
        for (size_t b = a + 1; b < ns; b++) {
            size_t ra = s[a].rows[0], rb = s[b].rows[0];
            int sa = is_synthetic(rt, ra), sb = is_synthetic(rt, rb);
            double ha = rt_num(rt, ra, COL_head_sim), hb = rt_num(rt, rb, COL_head_sim);
            int swap = sa != sb ? sb : (sa ? hb < ha : strcmp(rt_get(rt, rb, COL_input), rt_get(rt, ra, COL_input)) < 0);
            if (swap) { dstudy t = s[a]; s[a] = s[b]; s[b] = t; }
        }
    *out = s;
    *count = ns;
    return 0;
fail:
    dstudies_free(s, ns);
    return -1;
}

void dstudies_free(dstudy *s, size_t count) {
    for (size_t i = 0; i < count; i++) { free(s[i].rows); free(s[i].fam); }
    free(s);
}

long dstudy_row(const rtab *rt, const dstudy *s, const dfam *f, double L) {
    for (size_t i = 0; i < s->n; i++) {
        size_t r = s->rows[i];
        if (!rt_ok(rt, r) || rt_num(rt, r, COL_context) != L) continue;
        char fam[48];
        double knob;
        decode_family(rt, r, fam, sizeof fam, &knob);
        dfam g = {{0}, knob, rt_family_minor(rt, r, fam)};
        snprintf(g.family, sizeof g.family, "%s", fam);
        if (dfam_same(&g, f)) return (long)r;
    }
    return -1;
}

long dstudy_of_row(const rtab *rt, const dstudy *s, size_t count, size_t r) {
    for (size_t i = 0; i < count; i++)
        for (size_t k = 0; k < s[i].n; k++)
            if (s[i].rows[k] == r) return (long)i;
    /* a row that stood alone (a failed point records no batch): the first
     * study that agrees on every column the row has */
    for (size_t i = 0; i < count; i++) {
        int agree = 1;
        for (int c = 0; c < NSTUDY_COLS && agree; c++) {
            const char *v = rt_get(rt, r, study_cols[c]);
            agree = !*v || same_field(v, rt_get(rt, s[i].rows[0], study_cols[c]));
        }
        if (agree) return (long)i;
    }
    return -1;
}

long dstudy_headline(const rtab *rt, const dstudy *s, size_t count) {
    long best = -1;
    for (size_t i = 0; i < count; i++) {
        if (!s[i].plane_count || !is_synthetic(rt, s[i].rows[0])) continue;
        if (best < 0 || s[i].plane_count > s[best].plane_count) best = (long)i;
        /* ties keep the earlier: the smaller head similarity */
    }
    return best;
}

void dstudy_name(const rtab *rt, const dstudy *s, char *out, size_t cap) {
    size_t r = s->rows[0];
    if (is_synthetic(rt, r)) {
        const char *hs = rt_get(rt, r, COL_head_sim);
        snprintf(out, cap, "head-sim %s", *hs ? hs : "0");
    } else {
        const char *in = rt_get(rt, r, COL_input), *slash = strrchr(in, '/');
        snprintf(out, cap, "%s", slash && slash[1] ? slash + 1 : in);
    }
}

void dstudy_text(const rtab *rt, const dstudy *s, char *out, size_t cap) {
    size_t r = s->rows[0];
    const char *ss = rt_get(rt, r, COL_score_std), *st = rt_get(rt, r, COL_steps);
    snprintf(out, cap, "%s heads of %s%s%s, batch %s, %s thread(s)%s%s%s", rt_get(rt, r, COL_heads),
             rt_get(rt, r, COL_d_head), *ss && is_synthetic(rt, r) ? ", score std " : "", is_synthetic(rt, r) ? ss : "",
             *rt_get(rt, r, COL_batch) ? rt_get(rt, r, COL_batch) : "1", rt_get(rt, r, COL_threads),
             *st ? ", " : "", st, *st ? " timed steps" : "");
}

double dstudy_overtakes(const rtab *rt, const dstudy *s, const dfam *f) {
    versus v;
    memset(&v, 0, sizeof v);
    const dfam mha = dfam_reference();
    for (size_t c = 0; c < s->nctx && v.count < 64; c++) {
        long r = dstudy_row(rt, s, f, s->ctx[c]);
        if (r < 0) continue;
        long b = dstudy_row(rt, s, &mha, s->ctx[c]);
        int base_failed = 0;
        for (size_t i = 0; b < 0 && i < s->n; i++) { /* a reference row that did not run */
            size_t q = s->rows[i];
            char fam[48];
            double knob;
            decode_family(rt, q, fam, sizeof fam, &knob);
            base_failed |= !rt_ok(rt, q) && family_reference(fam) && rt_num(rt, q, COL_context) == s->ctx[c];
        }
        if (b < 0 && !base_failed) continue;
        size_t k = v.count++;
        v.n[k] = s->ctx[c];
        v.beat_time[k] = b < 0 || rt_num(rt, (size_t)r, COL_step_time_s) < rt_num(rt, (size_t)b, COL_step_time_s);
    }
    return crossover(&v, v.beat_time);
}

void ctx_text(double L, char *out, size_t cap) {
    if (L >= 1024 && fmod(L, 1024) == 0) snprintf(out, cap, "%gk", L / 1024);
    else snprintf(out, cap, "%g", L);
}

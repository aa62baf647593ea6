/* summary_window.c — the window study's section of summary.md (summary.h):
 * the sliding window's rel_err against its width and the score std, each
 * point non-causal (every query sees every key) beside causal (query i sees
 * keys 0..i: the language-model case), and the pair the Verdicts quote. */
#include "labels.h"
#include "summary.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* the window study's point: n = 2048, or the nearest */
static const double WIN_N = 2048, WIN_STD = 4;

static int keep_window(const data *d, size_t r) {
    return keep_mha_err(d, r) && (row_knob_cols(d, r) & BIT(COL_window));
}

/* the window rows at the n nearest 2048, causal and not, every score std */
static double window_rows(const data *d, rowset *s) {
    rows_where(d, s, keep_window);
    double n = keep_nearest(d, s, COL_n, WIN_N);
    slice(d, s, method_cols() | BIT(COL_score_std) | BIT(COL_causal) | BIT(COL_seed));
    return n;
}

/* the row of s at (score std, window, causal); -1: none */
static long window_at(const data *d, const rowset *s, double sd, double w, int causal) {
    for (size_t i = 0; i < s->n; i++) {
        size_t r = s->r[i];
        if (idnum(d, r, COL_score_std) == sd && idnum(d, r, COL_window) == w && (idnum(d, r, COL_causal) == 1) == causal)
            return (long)r;
    }
    return -1;
}

/* sorts s by score std, then window, then causal */
static void window_sort(const data *d, rowset *s) {
    static const int keys[] = {COL_score_std, COL_window, COL_causal};
    for (size_t a = 0; a < s->n; a++)
        for (size_t b = a + 1; b < s->n; b++)
            for (int k = 0; k < 3; k++) {
                double x = idnum(d, s->r[a], keys[k]), y = idnum(d, s->r[b], keys[k]);
                if (x == y) continue;
                if (y < x) { size_t t = s->r[a]; s->r[a] = s->r[b]; s->r[b] = t; }
                break;
            }
}

int window_causal_pair(const data *d, window_pair *p) {
    rowset s = {0};
    p->n = window_rows(d, &s);
    p->w = 0;
    for (size_t i = 0; i < s.n; i++) p->w = fmax(p->w, idnum(d, s.r[i], COL_window));
    rowset at = {0}; /* the largest window's rows: their score std nearest 4 */
    for (size_t i = 0; i < s.n; i++)
        if (idnum(d, s.r[i], COL_window) == p->w) rs_add(&at, s.r[i]);
    p->sd = keep_nearest(d, &at, COL_score_std, WIN_STD);
    long a = window_at(d, &s, p->sd, p->w, 0), c = window_at(d, &s, p->sd, p->w, 1);
    int found = a >= 0 && c >= 0;
    if (found) {
        p->err = num(d, (size_t)a, d->rel_err);
        p->err_causal = num(d, (size_t)c, d->rel_err);
        p->sink = idnum(d, (size_t)a, COL_sink);
    }
    free(at.r);
    free(s.r);
    return found ? 0 : -1;
}

void summary_window(FILE *f, const data *d) {
    rowset s = {0};
    double n = window_rows(d, &s);
    fprintf(f, "\n## Sliding window, causal and not\n\n");
    if (!s.n) { fprintf(f, "No rows of the sliding window.\n"); free(s.r); return; }
    window_sort(d, &s);
    char ctx[300];
    study_text(d, &s, method_cols() | BIT(COL_score_std) | BIT(COL_causal), ctx, sizeof ctx);
    fprintf(f, "The window's rel_err against its width w and the score std (%s): non-causal, every query sees every "
               "key and the window drops all but sinks + w of them; causal (the language-model case), query i sees "
               "keys 0..i and the window drops only the older ones. Memory as above.\n\n"
               "| score std | setting | memory | rel_err, non-causal | rel_err, causal |\n"
               "| --- | --- | --- | --- | --- |\n", ctx);
    int over = 0;
    for (size_t i = 0; i < s.n; i++) {
        size_t r = s.r[i];
        double sd = idnum(d, r, COL_score_std), w = idnum(d, r, COL_window);
        if (i && idnum(d, s.r[i - 1], COL_score_std) == sd && idnum(d, s.r[i - 1], COL_window) == w) continue;
        long a = window_at(d, &s, sd, w, 0), c = window_at(d, &s, sd, w, 1);
        char knobs[100], mb[32], ea[32] = "—", ec[32] = "—";
        knob_label(d, r, knob_cols(), knobs, sizeof knobs);
        int counted;
        fmt_bytes(row_memory(d, r, &counted), mb, sizeof mb);
        if (a >= 0) snprintf(ea, sizeof ea, "%.3g", num(d, (size_t)a, d->rel_err));
        if (c >= 0) snprintf(ec, sizeof ec, "%.3g", num(d, (size_t)c, d->rel_err));
        over |= (a >= 0 && num(d, (size_t)a, d->rel_err) > 1) || (c >= 0 && num(d, (size_t)c, d->rel_err) > 1);
        fprintf(f, "| %g | %s | %s%s | %s | %s |\n", sd, *knobs ? knobs + 1 : "", mb, counted ? "*" : "", ea, ec);
    }
    note_over_one(f, over);
    window_pair p;
    if (!window_causal_pair(d, &p))
        fprintf(f, "\nAt n = %g, score std %g, the largest window (w=%g of n) has rel_err %.3g causal against %.3g "
                   "non-causal.\n", n, p.sd, p.w, p.err_causal, p.err);
    free(s.r);
}

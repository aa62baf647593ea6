/* regime_rows.h — what the decode and model analyses (decode.c, model.c,
 * model_claims.c; regimes.h) share: the rows of one regime read by column
 * name from the whole table, their family (the method a reader tells apart,
 * the names of regimes_formats: mha mqa gqa mhe-add mhe-mul topk window
 * performer, an operator on another projection as "topk+mqa") and knob
 * value, the Pareto front of a set of points, and the studies (rows that
 * agree on everything but the method, its knob and the context).
 *
 * The prefill analysis reads `data` (rows.h), a view of prefill rows only;
 * these read the table itself, so a decode or model row never meets a
 * prefill figure and the other way round. */
#ifndef REGIME_ROWS_H
#define REGIME_ROWS_H

#include <stddef.h>
#include <stdio.h>

#include "csv_table.h"
#include "results.h"
#include "traits.h"

typedef struct {
    const csv_table *t;
    int col[COL_COUNT]; /* t's column of each results column (COL_*, results.h); -1: absent */
} rtab;

void rt_init(rtab *rt, const csv_table *t);
const char *rt_get(const rtab *rt, size_t r, int c);  /* "" where absent */
double rt_num(const rtab *rt, size_t r, int c);       /* NAN where empty or not a number */
int rt_ok(const rtab *rt, size_t r);                  /* status ok */
int rt_regime(const rtab *rt, size_t r, const char *regime);
/* an exact attention operator: exact, vanilla, chunked, or eval's "model" */
int rt_exact_op(const char *attention);

/* the family of a decode row and its knob (gqa: kv_heads; topk: k; window:
 * window; performer: features; the others 0) */
void decode_family(const rtab *rt, size_t r, char *out, size_t cap, double *knob);
/* the same for a model row; `native_kv` is the checkpoint's own K/V heads:
 * its own attention (gqa with those heads, "model") is the family "mha",
 * the exact model. -1 for an FFN row (no family of the planes). */
int model_family(const rtab *rt, size_t r, double native_kv, char *out, size_t cap, double *knob);

/* the value of the family operator's minor knob in row r (window's sink), 0: none */
double rt_family_minor(const rtab *rt, size_t r, const char *family);
/* a family's knob draws a colour ramp: an operator's knob does, a
 * projection's (K/V heads) does not */
int family_ramps(const char *family);
/* how a decode or model point of `family` at `knob` is drawn, the same in
 * every regime figure: the family's marker and colour (labels.h), or a KV
 * cache format's (mha@FORMAT: a hollow shape in one purple) or eviction
 * policy's (a line shape each); the colour lightened for a small knob where
 * the knob ramps (a policy's budget too). 1: a format or policy, else 0 */
int regime_style(const char *family, double knob, int *pt, char color[8]);

/* a point of a plane */
typedef struct {
    size_t row;
    char family[48];
    double knob, x, y;  /* x: cache bytes; y: the error */
    int front;
} plane_pt;

/* marks the Pareto front (less x and less y; errors within ERR_TIE tie)
 * among the points with finite positive x and finite y; y at or below
 * `floor` counts as floor. 0, or -1 (memory) */
int plane_front(plane_pt *p, size_t n, double floor);

/* ---- the KV-cache front: settings by the share of the exact cache they hold ---- */
/* the ratios of the fronts, 1/2 1/4 1/8 (FRONT_RATIOS of them) */
enum { FRONT_RATIOS = 3 };
double front_ratio(int i);
/* the front a cache ratio lands in: the i with front_ratio(i) / 2 < ratio <=
 * front_ratio(i) (the last takes every ratio at or below it), -1 above 1/2
 * or not a number. Each setting is listed once, at the smallest of the
 * ratios it fits. */
int front_bucket(double ratio);
/* "1/4" */
const char *front_ratio_text(int i);
/* two 95% intervals (value ± 1.96 se; a missing se counts as 0) overlap */
int ci_overlap(double y1, double se1, double y2, double se2);
/* a family for people: "@FMT" as ", FMT cache", the base (the part before
 * '@') replaced by `base` when given: "h2o, q8_0 cache" */
void family_words(const char *family, const char *base, char *out, size_t cap);

/* the text of a file's `key=` line (the .env sidecar), or NULL */
char *env_value(const char *env_path, const char *key, char *out, size_t cap);

/* numbers for the summary */
void fmt_ratio_x(double num, double den, char *out, size_t cap);  /* "8.00x", "—" */
void fmt_num(double v, char *out, size_t cap);                    /* %.3g or "—" */
void fmt_pct(double part, double whole, char *out, size_t cap);   /* "52%", "0.23%", "—" */

#endif

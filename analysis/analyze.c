/* analyze.c — `attnbench analyze CSV [--out DIR]`: what a results file says.
 *
 *   DIR/summary.md     scaling exponents (log-log slope of memory and time
 *                      against n), crossovers against vanilla, the error /
 *                      memory Pareto fronts, and the rows that did not run;
 *   DIR/data/NAME.dat  the data of each figure, with a .meta beside it that
 *                      the gnuplot scripts (scripts/NAME.gp) load.
 *
 * Rows whose status is not ok are kept to mark where a method stops, and
 * left out of every fit, front and line. Studies are found in the data, not
 * in the spec: a figure takes the largest slice of rows that agree on every
 * knob except the ones it plots, so a spec can lay its groups out freely.
 *
 * Real attention: rows whose `input` is a directory (a captured layer) are
 * the real study, each input one layer; synthetic rows of the same shape as
 * a real row (n, heads, d_head, causal) are its twins, and the twin of a
 * layer is the score std nearest its measured logit std. Both stay out of
 * the synthetic figures and get a row of panels of their own in
 * error_vs_memory, error_vs_k and error_vs_features, and a section of the
 * summary. */
#include "commands.h"
#include "env.h"
#include "figure.h"
#include "fit.h"
#include "methods.h"
#include "options.h"
#include "spec.h"
#include "table.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const CMD = "analyze";

/* the knobs that make a configuration (results columns) */
#define ID_COLUMNS(X)                                                          \
    X(LAYER, layer) X(ATTENTION, attention) X(PROJECTION, projection) X(N, n)  \
    X(HEADS, heads) X(KV_HEADS, kv_heads) X(D_HEAD, d_head) X(D_MODEL, d_model) \
    X(D_FF, d_ff) X(K, k) X(CHUNK, chunk) X(FEATURES, features)                \
    X(CAUSAL, causal) X(SCORE_STD, score_std) X(HEAD_SIM, head_sim)            \
    X(INPUT, input) X(SEED, seed) X(THREADS, threads)
enum {
#define ID_ENUM(id, name) ID_##id,
    ID_COLUMNS(ID_ENUM)
#undef ID_ENUM
    ID_COUNT
};
static const char *const id_names[ID_COUNT] = {
#define ID_NAME(id, name) #name,
    ID_COLUMNS(ID_NAME)
#undef ID_NAME
};
#define BIT(id) (1u << (id))
/* the knobs that tell a real layer's rows from its synthetic twin's */
#define INPUT_COLS (BIT(ID_INPUT) | BIT(ID_SCORE_STD) | BIT(ID_HEAD_SIM) | BIT(ID_D_MODEL))

/* a twin is a synthetic score std within this factor of a layer's logit std */
static const double TWIN_TOL = 1.25;
/* the real study's table compares errors at these knob values (or the
 * nearest the rows have) */
static const double REAL_K = 32, REAL_FEATURES = 64;
/* and top-k's error and kept mass against k at these k (or the nearest) */
static const double REAL_KS[] = {8, 32, 64};
/* the real layers' lines and twins (Okabe-Ito and Tol), top-k's blue last */
static const char *const layer_palette[] = {"#D55E00", "#009E73", "#CC79A7", "#56B4E9",
                                            "#E69F00", "#882255", "#999933", "#0072B2"};

/* errors within 5% of each other tie on a Pareto front (float32 rounding
 * separates the exact methods by less) */
static const double ERR_TIE = 0.05;
/* a memory figure below one page is below what RSS can resolve */
static const double PAGE = 4096.0;
/* the projection every error is measured against (ARCHITECTURE.md) */
static const char *const REF_PROJECTION = "mha";
/* the quadratic-memory baseline the crossovers are measured against */
static const char *const BASELINE = "vanilla";

/* a captured layer: the rows of one input directory */
typedef struct {
    const char *input;          /* the rows' `input` */
    char name[80];              /* for figures: the path's last part ("layer0") */
    double logit_std, entropy;  /* as its rows measured them */
    double twin_std;            /* its synthetic twin's score std; NAN: none near */
} real_layer;

/* which study a row belongs to */
enum { STUDY_SYNTHETIC = 0, STUDY_REAL = 1, STUDY_TWIN = 2 };

typedef struct {
    csv_table t;
    const char *path;
    int id[ID_COUNT];
    int status, time, peak, ws, rel_err, topk_mass, note, logit_std, entropy;
    char *study;                /* STUDY_* per row */
    real_layer *layers;         /* in natural order of their input */
    size_t nlayers;
} data;

typedef struct {
    size_t *r;
    size_t n, cap;
} rowset;

static int rs_add(rowset *s, size_t r) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        size_t *grown = realloc(s->r, cap * sizeof *grown);
        if (!grown) return -1;
        s->r = grown;
        s->cap = cap;
    }
    s->r[s->n++] = r;
    return 0;
}

static const char *fld(const data *d, size_t r, int id) { return table_get(&d->t, r, d->id[id]); }

static double num(const data *d, size_t r, int col) {
    const char *s = table_get(&d->t, r, col);
    char *end;
    if (!*s) return NAN;
    double v = strtod(s, &end);
    return *end ? NAN : v;
}
static double idnum(const data *d, size_t r, int id) { return num(d, r, d->id[id]); }

static int is_ok(const data *d, size_t r) { return !strcmp(table_get(&d->t, r, d->status), "ok"); }
static int is_attention(const data *d, size_t r) {
    const char *l = fld(d, r, ID_LAYER);
    return !strcmp(l, "attention") || (!*l && *fld(d, r, ID_ATTENTION));
}
static int is_ffn(const data *d, size_t r) { return !strcmp(fld(d, r, ID_LAYER), "ffn"); }
/* a row of a real input: `input` names a directory */
static int is_real(const data *d, size_t r) {
    const char *in = fld(d, r, ID_INPUT);
    return *in && strcmp(in, "synthetic");
}
static int in_study(const data *d, size_t r, int study) { return d->study && d->study[r] == study; }

/* numbers as numbers ("4" is "4.0"), the rest as text */
static int same_text(const char *a, const char *b) {
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    if (*a && *b && !*ea && !*eb) return x == y;
    return !strcmp(a, b);
}

/* rows r and q agree on every identity column outside `skip`; with
 * `lenient`, a column empty in q matches anything (rows the sweep built for
 * points that did not run carry only the knobs the point set) */
static int same_config(const data *d, size_t r, size_t q, unsigned skip, int lenient) {
    for (int c = 0; c < ID_COUNT; c++) {
        if (skip & BIT(c)) continue;
        const char *b = fld(d, q, c);
        if (lenient && !*b) continue;
        if (!same_text(fld(d, r, c), b)) return 0;
    }
    return 1;
}

/* ---- real inputs and their twins ------------------------------------------ */

static int by_input(const void *a, const void *b) {
    return strverscmp(((const real_layer *)a)->input, ((const real_layer *)b)->input);
}

static const real_layer *layer_of(const data *d, size_t r) {
    for (size_t i = 0; i < d->nlayers; i++)
        if (!strcmp(d->layers[i].input, fld(d, r, ID_INPUT))) return &d->layers[i];
    return NULL;
}

/* "layer0" for a real row, else its input */
static const char *input_name(const data *d, size_t r) {
    const real_layer *l = layer_of(d, r);
    return l ? l->name : fld(d, r, ID_INPUT);
}

/* a synthetic row with a real row's shape */
static int real_shape(const data *d, size_t q, size_t r) {
    static const int ids[] = {ID_N, ID_HEADS, ID_D_HEAD, ID_CAUSAL};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (!same_text(fld(d, q, ids[i]), fld(d, r, ids[i]))) return 0;
    return 1;
}

/* Marks each row's study, finds the layers (ok attention rows of a real
 * input), their figures and their twins. 0, or -1 (memory). */
static int find_real_study(data *d) {
    size_t nr = d->t.nrows;
    d->study = calloc(nr ? nr : 1, 1);
    if (!d->study) return -1;
    for (size_t r = 0; r < nr; r++) {
        if (!is_attention(d, r) || !is_real(d, r)) continue;
        d->study[r] = STUDY_REAL;
        if (!is_ok(d, r)) continue;
        real_layer *l = (real_layer *)layer_of(d, r);
        if (!l) {
            real_layer *grown = realloc(d->layers, (d->nlayers + 1) * sizeof *grown);
            if (!grown) return -1;
            d->layers = grown;
            l = &d->layers[d->nlayers++];
            *l = (real_layer){.input = fld(d, r, ID_INPUT), .logit_std = NAN, .entropy = NAN, .twin_std = NAN};
        }
        if (!isfinite(l->logit_std)) l->logit_std = num(d, r, d->logit_std);
        if (!isfinite(l->entropy)) l->entropy = num(d, r, d->entropy);
    }
    if (!d->nlayers) return 0;
    qsort(d->layers, d->nlayers, sizeof *d->layers, by_input);
    for (size_t q = 0; q < nr; q++) {
        if (d->study[q] || !is_attention(d, q) || is_real(d, q)) continue;
        for (size_t r = 0; r < nr && !d->study[q]; r++)
            if (d->study[r] == STUDY_REAL && is_ok(d, r) && real_shape(d, q, r)) d->study[q] = STUDY_TWIN;
    }
    for (size_t i = 0; i < d->nlayers; i++) {
        real_layer *l = &d->layers[i];
        /* the name: the path's last part, unless two layers share it */
        const char *in = l->input, *end = in + strlen(in);
        while (end > in + 1 && end[-1] == '/') end--;
        const char *start = end;
        while (start > in && start[-1] != '/') start--;
        snprintf(l->name, sizeof l->name, "%.*s", (int)(end - start), start);
        double best = log(TWIN_TOL);
        for (size_t q = 0; q < nr && isfinite(l->logit_std) && l->logit_std > 0; q++) {
            double sd = idnum(d, q, ID_SCORE_STD);
            if (!in_study(d, q, STUDY_TWIN) || !is_ok(d, q) || !(sd > 0)) continue;
            double dist = fabs(log(sd / l->logit_std));
            if (dist <= best) { best = dist; l->twin_std = sd; }
        }
    }
    for (size_t i = 0; i < d->nlayers; i++)
        for (size_t j = 0; j < d->nlayers; j++)
            if (i != j && !strcmp(d->layers[i].name, d->layers[j].name)) {
                snprintf(d->layers[i].name, sizeof d->layers[i].name, "%s", d->layers[i].input);
                break;
            }
    return 0;
}

/* r is a row of layer l's twin: the twin study at l's score std */
static int is_twin_of(const data *d, size_t r, const real_layer *l) {
    double sd = idnum(d, r, ID_SCORE_STD);
    return in_study(d, r, STUDY_TWIN) && isfinite(l->twin_std) && fabs(sd - l->twin_std) <= 1e-9 * l->twin_std;
}

/* the ok twin row of real row r (same knobs, the layer's twin std), or -1 */
static long twin_row(const data *d, size_t r) {
    const real_layer *l = layer_of(d, r);
    for (size_t q = 0; l && q < d->t.nrows; q++)
        if (is_ok(d, q) && is_twin_of(d, q, l) && same_config(d, r, q, INPUT_COLS, 0)) return (long)q;
    return -1;
}

/* ---- labels and colours ------------------------------------------------ */

/* "topk", "vanilla/gqa G=2", "ffn-topk" */
static void method_label(const data *d, size_t r, char *out, size_t cap) {
    const char *a = fld(d, r, ID_ATTENTION), *p = fld(d, r, ID_PROJECTION);
    if (is_ffn(d, r)) { snprintf(out, cap, "ffn-%s", *a ? a : "?"); return; }
    size_t len = (size_t)snprintf(out, cap, "%s", *a ? a : "?");
    if (*p && strcmp(p, REF_PROJECTION) && len < cap) len += (size_t)snprintf(out + len, cap - len, "/%s", p);
    if (*p && spec_knob_applies(SK_KV_HEADS, a, p) && *fld(d, r, ID_KV_HEADS) && len < cap)
        snprintf(out + len, cap - len, " G=%s", fld(d, r, ID_KV_HEADS));
}

/* " k=64 C=256 m=128" for the knobs in `which` that the row has */
static void knob_label(const data *d, size_t r, unsigned which, char *out, size_t cap) {
    static const int ids[3] = {ID_K, ID_CHUNK, ID_FEATURES};
    static const char *const names[3] = {"k", "C", "m"};
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < 3; i++)
        if ((which & BIT(ids[i])) && *fld(d, r, ids[i]) && len < cap)
            len += (size_t)snprintf(out + len, cap - len, " %s=%s", names[i], fld(d, r, ids[i]));
}

/* One colour per method in every figure: attention operators by their place
 * in attn_methods[], projection schemes other than MHA by theirs in
 * proj_schemes[] (Okabe-Ito and Tol's colour-blind-safe sets). */
static const char *method_color(const char *attention, const char *projection) {
    static const char *const attn_palette[] = {"#000000", "#E69F00", "#0072B2", "#009E73",
                                               "#882255", "#44AA99", "#999933", "#AA4499"};
    static const char *const proj_palette[] = {"#D55E00", "#CC79A7", "#56B4E9", "#332288",
                                               "#117733", "#DDCC77"};
    if (projection && *projection && strcmp(projection, REF_PROJECTION)) {
        int j = 0;
        for (const proj_scheme *p = proj_schemes; p->name; p++, j++)
            if (!strcmp(p->name, projection)) return proj_palette[(j ? j - 1 : 0) % 6];
    }
    int i = 0;
    for (const attn_method *m = attn_methods; m->name; m++, i++)
        if (!strcmp(m->name, attention)) return attn_palette[i % 8];
    return "#777777";
}
static const char *row_color(const data *d, size_t r) {
    return method_color(fld(d, r, ID_ATTENTION), is_ffn(d, r) ? NULL : fld(d, r, ID_PROJECTION));
}

/* the legend's order: attention operators as in attn_methods[], each with
 * its projection schemes as in proj_schemes[] */
static double method_order(const data *d, size_t r) {
    int ai = 99, pj = 0, i = 0;
    for (const attn_method *m = attn_methods; m->name; m++, i++)
        if (!strcmp(m->name, fld(d, r, ID_ATTENTION))) ai = i;
    i = 0;
    for (const proj_scheme *p = proj_schemes; p->name; p++, i++)
        if (!strcmp(p->name, fld(d, r, ID_PROJECTION))) pj = i;
    return (is_ffn(d, r) ? 1000.0 : 0.0) + ai * 10.0 + pj;
}
static double knob_value(const data *d, size_t r) {
    double k = idnum(d, r, ID_K), m = idnum(d, r, ID_FEATURES), g = idnum(d, r, ID_KV_HEADS);
    return isfinite(k) ? k : isfinite(m) ? m : isfinite(g) ? g : 0;
}

static const int point_types[] = {7, 5, 9, 11, 13, 4, 6, 8, 10, 12, 15, 14};
enum { NPT = sizeof point_types / sizeof point_types[0] };

static unsigned method_knobs(const char *attention) {
    const attn_method *m = attn_method_find(attention);
    return m ? m->knobs : 0;
}

/* ---- selecting a study --------------------------------------------------- */

/* Narrows s to one study: for every identity column outside `free`, n first,
 * the most common non-empty value is kept (ties: the larger n, else the one
 * met first); rows where the column is empty pass, since it does not apply
 * to them (chunked has no k). */
static void slice(const data *d, rowset *s, unsigned free_cols) {
    int order[ID_COUNT], no = 0;
    order[no++] = ID_N;
    for (int c = 0; c < ID_COUNT; c++)
        if (c != ID_N) order[no++] = c;
    for (int oi = 0; oi < no; oi++) {
        int c = order[oi];
        if (free_cols & BIT(c)) continue;
        size_t best = (size_t)-1, best_count = 0;
        for (size_t i = 0; i < s->n; i++) {
            const char *v = fld(d, s->r[i], c);
            if (!*v) continue;
            size_t count = 0;
            for (size_t j = 0; j < s->n; j++) count += same_text(v, fld(d, s->r[j], c));
            int better = count > best_count ||
                         (count == best_count && c == ID_N && best != (size_t)-1 &&
                          idnum(d, s->r[i], c) > idnum(d, best, c));
            if (better) { best = s->r[i]; best_count = count; }
        }
        if (best == (size_t)-1) continue;
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++) {
            const char *v = fld(d, s->r[i], c);
            if (!*v || same_text(v, fld(d, best, c))) s->r[k++] = s->r[i];
        }
        s->n = k;
    }
}

/* "n = 4096, 8 heads x d_head 64, score std 4": the fixed knobs of a study */
static void study_text(const data *d, const rowset *s, unsigned skip, char *out, size_t cap) {
    static const struct { int id; const char *fmt; } parts[] = {
        {ID_N, "n = %s"}, {ID_HEADS, "%s heads"}, {ID_D_HEAD, "d_head %s"}, {ID_D_MODEL, "d_model %s"},
        {ID_D_FF, "d_ff %s"}, {ID_K, "k %s"}, {ID_CHUNK, "chunk %s"}, {ID_FEATURES, "m %s"},
        {ID_SCORE_STD, "score std %s"}, {ID_HEAD_SIM, "head sim %s"}, {ID_PROJECTION, "%s"},
    };
    size_t len = 0;
    out[0] = '\0';
    if (!s->n) return;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0] && len < cap; i++) {
        int id = parts[i].id;
        if (skip & BIT(id)) continue;
        const char *v = "";
        int same = 1;
        for (size_t j = 0; j < s->n && same; j++) {
            const char *w = fld(d, s->r[j], id);
            if (!*w) continue;
            if (!*v) v = w;
            else same = same_text(v, w);
        }
        if (!*v || !same) continue;
        if (len) len += (size_t)snprintf(out + len, cap - len, ", ");
        if (len < cap) len += (size_t)snprintf(out + len, cap - len, parts[i].fmt, v);
    }
    int causal = 0;
    for (size_t j = 0; j < s->n; j++) causal |= idnum(d, s->r[j], ID_CAUSAL) == 1;
    if (causal && len < cap) snprintf(out + len, cap - len, "%scausal", len ? ", " : "");
}

/* ---- numbers for people ---------------------------------------------------- */

static void fmt_bytes(double b, char *out, size_t cap) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    if (!isfinite(b)) { snprintf(out, cap, "—"); return; }
    int u = 0;
    while (b >= 1024 && u < 4) { b /= 1024; u++; }
    snprintf(out, cap, u ? "%.3g %s" : "%.0f %s", b, units[u]);
}

static void fmt_slope(double v, char *out, size_t cap) {
    if (isfinite(v)) snprintf(out, cap, "%.2f", v);
    else snprintf(out, cap, "—");
}

/* ---- scaling with n --------------------------------------------------------- */

typedef struct {
    size_t first;       /* a row of the configuration */
    rowset ok;          /* its ok rows */
    size_t distinct_n;
    double slope_peak, slope_ws, slope_time;
} config;

/* ok rows grouped by every knob but n */
static int group_configs(const data *d, config **out, size_t *nout) {
    config *c = NULL;
    size_t nc = 0, cap = 0;
    for (size_t r = 0; r < d->t.nrows; r++) {
        if (!is_ok(d, r)) continue;
        size_t i = 0;
        while (i < nc && !same_config(d, c[i].first, r, BIT(ID_N), 0)) i++;
        if (i == nc) {
            if (nc == cap) {
                cap = cap ? 2 * cap : 32;
                config *grown = realloc(c, cap * sizeof *grown);
                if (!grown) goto nomem;
                c = grown;
            }
            memset(&c[nc], 0, sizeof c[nc]);
            c[nc++].first = r;
        }
        if (rs_add(&c[i].ok, r)) goto nomem;
    }
    for (size_t i = 0; i < nc; i++) {
        config *g = &c[i];
        size_t m = g->ok.n;
        double *x = malloc((m + 1) * sizeof *x), *y = malloc((m + 1) * 3 * sizeof *y);
        if (!x || !y) { free(x); free(y); goto nomem; }
        for (size_t j = 0; j < m; j++) {
            size_t r = g->ok.r[j];
            x[j] = idnum(d, r, ID_N);
            y[j] = fmax(num(d, r, d->peak), PAGE);
            y[m + j] = num(d, r, d->ws);
            y[2 * m + j] = num(d, r, d->time);
            size_t seen = 0;
            for (size_t q = 0; q < j; q++) seen += x[q] == x[j];
            g->distinct_n += !seen;
        }
        fit_loglog(x, y, m, &g->slope_peak);
        fit_loglog(x, y + m, m, &g->slope_ws);
        fit_loglog(x, y + 2 * m, m, &g->slope_time);
        free(x);
        free(y);
    }
    *out = c;
    *nout = nc;
    return 0;
nomem:
    for (size_t i = 0; i < nc; i++) free(c[i].ok.r);
    free(c);
    return -1;
}

static void configs_free(config *c, size_t n) {
    for (size_t i = 0; i < n; i++) free(c[i].ok.r);
    free(c);
}

/* The n-scaling configuration of each method: the one with the most distinct
 * n (at least 3). Writes indices into `pick`; returns how many. */
static size_t scaling_picks(const data *d, const config *c, size_t nc, size_t *pick) {
    size_t np = 0;
    for (size_t i = 0; i < nc; i++) {
        if (c[i].distinct_n < 3) continue;
        char li[200], lj[200];
        method_label(d, c[i].first, li, sizeof li);
        size_t j = 0;
        for (; j < np; j++) {
            method_label(d, c[pick[j]].first, lj, sizeof lj);
            if (!strcmp(li, lj) && is_ffn(d, c[i].first) == is_ffn(d, c[pick[j]].first)) break;
        }
        if (j == np) pick[np++] = i;
        else if (c[i].distinct_n > c[pick[j]].distinct_n) pick[j] = i;
    }
    return np;
}

/* ---- figures -------------------------------------------------------------- */

static int write_fig(figure *f, const char *datadir, const data *d) {
    int rc = fig_write(f, datadir, d->path);
    if (rc) fprintf(stderr, "attnbench analyze: cannot write %s/%s.dat: %s\n", datadir, f->name, strerror(errno));
    fig_free(f);
    return rc;
}

/* the ok rows of the synthetic study that `keep` takes, for a figure */
static void rows_where(const data *d, rowset *s, int (*keep)(const data *, size_t)) {
    for (size_t r = 0; r < d->t.nrows; r++)
        if (is_ok(d, r) && in_study(d, r, STUDY_SYNTHETIC) && keep(d, r)) rs_add(s, r);
}

/* the ok rows of the real layers and of their twins that `keep` takes */
static void real_rows_where(const data *d, rowset *s, int (*keep)(const data *, size_t)) {
    for (size_t r = 0; r < d->t.nrows; r++) {
        if (!is_ok(d, r) || !keep(d, r)) continue;
        const real_layer *l = in_study(d, r, STUDY_REAL) ? layer_of(d, r) : NULL;
        int twin = 0;
        for (size_t i = 0; i < d->nlayers && !twin && !l; i++) twin = is_twin_of(d, r, &d->layers[i]);
        if (l || twin) rs_add(s, r);
    }
}

static int keep_attention_err(const data *d, size_t r) {
    return is_attention(d, r) && num(d, r, d->rel_err) >= 0;
}

/* the knob value that tells a method's points apart (k, else m), or "" */
static const char *knob_of(const data *d, size_t r) {
    return *fld(d, r, ID_K) ? fld(d, r, ID_K) : fld(d, r, ID_FEATURES);
}

/* the rank of r's knob value among the distinct values its method has in s:
 * its point type, so one label has one point type in every panel */
static int knob_rank(const data *d, const rowset *s, size_t r) {
    const char *kv = knob_of(d, r);
    if (!*kv) return 0;
    char label[200], lq[200], lw[200];
    method_label(d, r, label, sizeof label);
    int rank = 0;
    for (size_t j = 0; j < s->n; j++) {
        size_t q = s->r[j];
        const char *kq = knob_of(d, q);
        if (!*kq || !(strtod(kq, NULL) < strtod(kv, NULL))) continue;
        method_label(d, q, lq, sizeof lq);
        if (strcmp(lq, label)) continue;
        int dup = 0; /* count each smaller value once */
        for (size_t z = 0; z < j && !dup; z++) {
            method_label(d, s->r[z], lw, sizeof lw);
            dup = !strcmp(lw, label) && same_text(knob_of(d, s->r[z]), kq);
        }
        rank += !dup;
    }
    return rank;
}

/* the hollow version of a filled point type: a synthetic twin beside its layer */
static int hollow_point(int pt) { return pt == 5 || pt == 7 || pt == 9 || pt == 11 || pt == 13 || pt == 15 ? pt - 1 : pt; }

/* One set of points in panel `panel` of error_vs_memory: rows[0..m) as
 * points (hollow, lighter and out of the legend for a twin) and their
 * Pareto front as a staircase out to `right`. mem, err, front: room for m. */
static void memory_points(const data *d, figure *f, int panel, const rowset *all, const size_t *rows,
                          size_t m, int twin, int mem_col, double right, double *mem, double *err, size_t *front) {
    for (size_t i = 0; i < m; i++) {
        size_t r = rows[i];
        char label[200], knobs[100], full[320], color[8];
        method_label(d, r, label, sizeof label);
        knob_label(d, r, BIT(ID_K) | BIT(ID_FEATURES), knobs, sizeof knobs);
        snprintf(full, sizeof full, "%s%s%s", label, knobs, twin ? " (twin)" : "");
        color_tint(row_color(d, r), twin ? 0.3 : 0, color);
        int pt = point_types[knob_rank(d, all, r) % NPT];
        fig_series *se = fig_series_get(f, panel, full, color, twin ? hollow_point(pt) : pt, 1, 0);
        if (se) {
            se->order = method_order(d, r) * 1e9 + knob_value(d, r);
            se->nokey = twin;
        }
        mem[i] = fmax(num(d, r, mem_col), mem_col == d->peak ? PAGE : 1);
        err[i] = fmax(num(d, r, d->rel_err), 1e-12);
        if (se) fig_add(se, mem[i], err[i]);
    }
    size_t nf = pareto_front(mem, err, m, ERR_TIE, front);
    fig_series *fs = !nf ? NULL : twin ? fig_series_get(f, panel, "Pareto front of the synthetic twin", "#999999", 7, 3, 1)
                                       : fig_series_get(f, panel, "Pareto front", "#555555", 7, 2, 1);
    if (!fs) return;
    fs->order = twin ? -0.5 : -1;
    fs->ps = 0;
    fs->lw = 1.2;
    /* a staircase: what the least memory up to x buys, to the panel's right */
    for (size_t i = 0; i < nf; i++) {
        if (i) fig_add(fs, mem[front[i]], err[front[i - 1]]);
        fig_add(fs, mem[front[i]], err[front[i]]);
    }
    if (right > mem[front[nf - 1]]) fig_add(fs, right, err[front[nf - 1]]);
}

/* error against kernel peak memory at one n: a panel per score std of the
 * synthetic study, and below them a panel per real layer with its twin.
 * The real study's memory is the counted workspace: at its small sizes
 * (n = 512, d_head 8: tens of KiB) the measured peak is page noise, and a
 * layer and its twin, which run the same kernel on the same shape, must sit
 * at the same memory. */
static int fig_error_vs_memory(const data *d, const char *datadir) {
    figure f;
    fig_init(&f, "error_vs_memory");
    unsigned method_cols = BIT(ID_ATTENTION) | BIT(ID_PROJECTION) | BIT(ID_KV_HEADS) | BIT(ID_K) |
                           BIT(ID_CHUNK) | BIT(ID_FEATURES);
    rowset s = {0}, real = {0}, all = {0};
    rows_where(d, &s, keep_attention_err);
    /* free: what tells the points apart; slice() fixes n, heads, head sim ... */
    slice(d, &s, method_cols | BIT(ID_SCORE_STD));
    real_rows_where(d, &real, keep_attention_err);
    slice(d, &real, method_cols | INPUT_COLS);
    for (size_t i = 0; i < s.n; i++) rs_add(&all, s.r[i]);
    for (size_t i = 0; i < real.n; i++) rs_add(&all, real.r[i]);
    char ctx[300];
    study_text(d, &s, BIT(ID_SCORE_STD) | BIT(ID_PROJECTION) | BIT(ID_K) | BIT(ID_CHUNK) | BIT(ID_FEATURES), ctx, sizeof ctx);
    size_t len = (size_t)snprintf(f.subtitle, sizeof f.subtitle, "%s; memory: measured kernel peak (at least one 4 KiB page)", ctx);
    /* the first row: distinct score std, ascending */
    enum { ROW = FIG_MAX_PANELS / 2 };
    double stds[ROW];
    int nstd = 0;
    for (size_t i = 0; i < s.n; i++) {
        double v = idnum(d, s.r[i], ID_SCORE_STD);
        int seen = 0;
        for (int j = 0; j < nstd; j++) seen |= stds[j] == v || (isnan(v) && isnan(stds[j]));
        if (!seen && nstd < ROW) stds[nstd++] = v;
    }
    for (int a = 0; a < nstd; a++)
        for (int b = a + 1; b < nstd; b++)
            if (stds[b] < stds[a]) { double t = stds[a]; stds[a] = stds[b]; stds[b] = t; }
    /* the second row: the layers with rows in the slice */
    const real_layer *lay[ROW];
    int nlay = 0;
    for (size_t i = 0; i < d->nlayers && nlay < ROW; i++) {
        int has = 0;
        for (size_t j = 0; j < real.n && !has; j++) has = !strcmp(fld(d, real.r[j], ID_INPUT), d->layers[i].input);
        if (has) lay[nlay++] = &d->layers[i];
    }
    int ncols = nstd > nlay ? nstd : nlay, below = nstd ? ncols : 0;
    f.ncols = ncols ? ncols : 1;
    f.npanels = nlay ? below + nlay : (nstd ? nstd : 1);
    for (int p = 0; p < nstd; p++) {
        if (isnan(stds[p])) snprintf(f.panel_title[p], sizeof f.panel_title[p], "input tensors");
        else snprintf(f.panel_title[p], sizeof f.panel_title[p], "score std %g", stds[p]);
    }
    if (nlay && len < sizeof f.subtitle) {
        study_text(d, &real, method_cols | INPUT_COLS, ctx, sizeof ctx);
        len += (size_t)snprintf(f.subtitle + len, sizeof f.subtitle - len, "%sreal layers (filled) and their "
                                "synthetic twins (hollow, same logit std): %.200s; memory: counted workspace",
                                nstd ? "\nbelow, " : "", ctx);
    }
    for (int i = 0; i < nlay; i++) {
        char twin[64] = "no twin";
        if (isfinite(lay[i]->twin_std)) snprintf(twin, sizeof twin, "twin: score std %g", lay[i]->twin_std);
        snprintf(f.panel_title[below + i], sizeof f.panel_title[below + i], "%s: logit std %.3g; %s",
                 lay[i]->name, lay[i]->logit_std, twin);
        snprintf(f.panel_xlabel[below + i], sizeof f.panel_xlabel[below + i], "workspace (bytes counted, log)");
    }
    double *mem = malloc((all.n + 1) * sizeof *mem), *err = malloc((all.n + 1) * sizeof *err);
    size_t *front = malloc((all.n + 1) * sizeof *front), *rows = malloc((all.n + 1) * sizeof *rows);
    if (!mem || !err || !front || !rows) goto out;
    for (int p = 0; p < nstd; p++) {
        size_t m = 0;
        double right = 0;
        for (size_t i = 0; i < s.n; i++) {
            double v = idnum(d, s.r[i], ID_SCORE_STD);
            if (!(v == stds[p] || (isnan(v) && isnan(stds[p])))) continue;
            rows[m++] = s.r[i];
            right = fmax(right, fmax(num(d, s.r[i], d->peak), PAGE));
        }
        memory_points(d, &f, p + 1, &all, rows, m, 0, d->peak, right, mem, err, front);
    }
    for (int i = 0; i < nlay; i++) {
        double right = 0;
        for (int twin = 0; twin < 2; twin++) {
            size_t m = 0;
            for (size_t j = 0; j < real.n; j++) {
                size_t r = real.r[j];
                if (twin ? !is_twin_of(d, r, lay[i]) : strcmp(fld(d, r, ID_INPUT), lay[i]->input)) continue;
                rows[m++] = r;
            }
            for (size_t j = 0; !twin && j < real.n; j++) /* both fronts run to the same right edge */
                if (!strcmp(fld(d, real.r[j], ID_INPUT), lay[i]->input) || is_twin_of(d, real.r[j], lay[i]))
                    right = fmax(right, fmax(num(d, real.r[j], d->ws), 1));
            memory_points(d, &f, below + i + 1, &all, rows, m, twin, d->ws, right, mem, err, front);
        }
    }
out:
    free(mem); free(err); free(front); free(rows); free(s.r); free(real.r); free(all.r);
    return write_fig(&f, datadir, d);
}

/* memory or time against n: each method's n-scaling line, its rows that did
 * not run marked above the lines, and a rule where the baseline stops */
static int fig_vs_n(const data *d, const char *datadir, const config *c, const size_t *pick,
                    size_t np, int want_time) {
    figure f;
    fig_init(&f, want_time ? "time_vs_n" : "memory_vs_n");
    int col = want_time ? d->time : d->peak;
    double ymax = 0, ymin = INFINITY;
    rowset all = {0};
    for (size_t i = 0; i < np; i++) {
        const config *g = &c[pick[i]];
        if (!is_attention(d, g->first)) continue;
        char label[200], knobs[100], full[400];
        method_label(d, g->first, label, sizeof label);
        knob_label(d, g->first, BIT(ID_K) | BIT(ID_CHUNK) | BIT(ID_FEATURES), knobs, sizeof knobs);
        double slope = want_time ? g->slope_time : g->slope_peak;
        char sl[32];
        fmt_slope(slope, sl, sizeof sl);
        snprintf(full, sizeof full, "%s%s (slope %s)", label, knobs, sl);
        fig_series *se = fig_series_get(&f, 1, full, row_color(d, g->first), point_types[i % NPT], 1, 1);
        if (se) se->order = method_order(d, g->first);
        for (size_t j = 0; se && j < g->ok.n; j++) {
            size_t r = g->ok.r[j];
            double y = want_time ? num(d, r, col) : fmax(num(d, r, col), PAGE);
            fig_add(se, idnum(d, r, ID_N), y);
            if (y > ymax) ymax = y;
            if (y < ymin) ymin = y;
            rs_add(&all, r);
        }
    }
    study_text(d, &all, BIT(ID_N) | BIT(ID_K) | BIT(ID_CHUNK) | BIT(ID_FEATURES) | BIT(ID_PROJECTION), f.subtitle, sizeof f.subtitle);
    /* rows of those configurations that did not run: a cross above the lines */
    double top = ymax > 0 ? ymax * 3 : 1;
    double stop_n = NAN;
    for (size_t i = 0; i < np; i++) {
        const config *g = &c[pick[i]];
        if (!is_attention(d, g->first)) continue;
        char label[200];
        method_label(d, g->first, label, sizeof label);
        for (size_t r = 0; r < d->t.nrows; r++) {
            if (is_ok(d, r) || !same_config(d, g->first, r, BIT(ID_N), 1)) continue;
            const char *st = table_get(&d->t, r, d->status);
            if (!strcmp(st, "skipped") && !strncmp(table_get(&d->t, r, d->note), "unknown method", 14)) continue;
            char full[300];
            snprintf(full, sizeof full, "%s: %s", label, st);
            fig_series *se = fig_series_get(&f, 1, full, row_color(d, g->first), !strcmp(st, "oom") ? 2 : 3, 1, 0);
            if (se) {
                se->ps = 1.6;
                se->order = method_order(d, g->first) + 0.5;
                fig_add(se, idnum(d, r, ID_N), top);
            }
            double n = idnum(d, r, ID_N);
            if (!strcmp(fld(d, g->first, ID_ATTENTION), BASELINE) && (isnan(stop_n) || n < stop_n)) stop_n = n;
        }
    }
    if (isfinite(stop_n) && ymax > 0) {
        char lab[200];
        snprintf(lab, sizeof lab, "%s stops at n = %g", BASELINE, stop_n);
        fig_series *se = fig_series_get(&f, 1, lab, "#999999", 7, 3, 1);
        if (se) {
            se->order = 1e12;
            se->ps = 0;
            se->lw = 1;
            fig_add(se, stop_n, ymin / 2);
            fig_add(se, stop_n * 1.0000001, top);
        }
    }
    free(all.r);
    return write_fig(&f, datadir, d);
}

static int keep_k_method(const data *d, size_t r) {
    return is_attention(d, r) && (method_knobs(fld(d, r, ID_ATTENTION)) & KNOB_K) && num(d, r, d->rel_err) >= 0;
}
static int keep_features_method(const data *d, size_t r) {
    return is_attention(d, r) && (method_knobs(fld(d, r, ID_ATTENTION)) & KNOB_FEATURES) &&
           num(d, r, d->rel_err) >= 0;
}
static int keep_chunk_method(const data *d, size_t r) {
    return is_attention(d, r) && (method_knobs(fld(d, r, ID_ATTENTION)) & KNOB_CHUNK);
}
static int keep_projection(const data *d, size_t r) {
    const char *p = fld(d, r, ID_PROJECTION);
    return is_attention(d, r) && *p && strcmp(p, REF_PROJECTION) && num(d, r, d->rel_err) >= 0;
}
static int keep_ffn_k(const data *d, size_t r) {
    return is_ffn(d, r) && *fld(d, r, ID_K) && num(d, r, d->rel_err) >= 0;
}

/* lines of y against knob x, one per method and `line_id` value, shaded from
 * light (small value) to the method's colour (large) */
static void knob_lines(const data *d, const rowset *s, figure *f, int panel, int x_id, int y_col,
                       int line_id, const char *line_name, double floor) {
    for (size_t i = 0; i < s->n; i++) {
        size_t r = s->r[i];
        char label[200], full[300], color[8];
        method_label(d, r, label, sizeof label);
        /* shade by the rank of the line value among the study's values */
        size_t rank = 0, count = 0;
        const char *lv = fld(d, r, line_id);
        for (size_t j = 0; j < s->n; j++) {
            const char *w = fld(d, s->r[j], line_id);
            int first = 1;
            for (size_t z = 0; z < j && first; z++) first = !same_text(fld(d, s->r[z], line_id), w);
            if (!first) continue;
            count++;
            rank += strtod(w, NULL) < strtod(lv, NULL);
        }
        color_tint(row_color(d, r), count > 1 ? 0.7 * (double)(count - 1 - rank) / (double)(count - 1) : 0, color);
        if (line_id >= 0 && *lv) snprintf(full, sizeof full, "%s, %s %s", label, line_name, lv);
        else snprintf(full, sizeof full, "%s", label);
        fig_series *se = fig_series_get(f, panel, full, color, point_types[rank % NPT], 1, 1);
        if (se) se->order = method_order(d, r) * 1e9 + (*lv ? strtod(lv, NULL) : 0);
        double y = num(d, r, y_col);
        if (se) fig_add(se, idnum(d, r, x_id), floor > 0 ? fmax(y, floor) : y);
    }
}

/* y against knob x for each real layer (solid, its own colour) and its
 * synthetic twin (dashed, the same colour), from the real study's rows s */
static void real_lines(const data *d, const rowset *s, figure *f, int panel, int x_id, int y_col, double floor) {
    for (size_t i = 0; i < d->nlayers; i++) {
        const real_layer *l = &d->layers[i];
        const char *color = layer_palette[i % (sizeof layer_palette / sizeof layer_palette[0])];
        char real_label[200], twin_label[200];
        snprintf(real_label, sizeof real_label, "%s: real, logit std %.3g", l->name, l->logit_std);
        snprintf(twin_label, sizeof twin_label, "%s: synthetic twin, score std %g", l->name, l->twin_std);
        for (size_t j = 0; j < s->n; j++) {
            size_t r = s->r[j];
            int twin = is_twin_of(d, r, l);
            if (!twin && strcmp(fld(d, r, ID_INPUT), l->input)) continue;
            fig_series *se = fig_series_get(f, panel, twin ? twin_label : real_label, color, twin ? 6 : 7, twin ? 2 : 1, 1);
            if (!se) continue;
            se->order = 1e13 + 2.0 * (double)i + twin;
            double y = num(d, r, y_col);
            fig_add(se, idnum(d, r, x_id), floor > 0 ? fmax(y, floor) : y);
        }
    }
}

/* error (and the kept mass) against a method's knob: one line per score std
 * of the synthetic study; below, the real layers beside their twins */
static int fig_error_vs_knob(const data *d, const char *datadir, const char *name,
                             int (*keep)(const data *, size_t), int x_id, int mass_panel) {
    figure f;
    fig_init(&f, name);
    rowset s = {0}, real = {0};
    rows_where(d, &s, keep);
    slice(d, &s, BIT(ID_ATTENTION) | BIT(x_id) | BIT(ID_SCORE_STD));
    study_text(d, &s, BIT(x_id) | BIT(ID_SCORE_STD), f.subtitle, sizeof f.subtitle);
    knob_lines(d, &s, &f, 1, x_id, d->rel_err, ID_SCORE_STD, "score std", 1e-12);
    snprintf(f.panel_title[0], sizeof f.panel_title[0], "error");
    int ncols = 1;
    if (mass_panel) {
        knob_lines(d, &s, &f, 2, x_id, d->topk_mass, ID_SCORE_STD, "score std", 0);
        snprintf(f.panel_title[1], sizeof f.panel_title[1], "mass of the kept keys");
        ncols = 2;
    }
    f.npanels = f.ncols = ncols;
    real_rows_where(d, &real, keep);
    slice(d, &real, BIT(ID_ATTENTION) | BIT(x_id) | INPUT_COLS);
    if (real.n) {
        int below = s.n ? ncols : 0;
        char ctx[300];
        study_text(d, &real, BIT(x_id) | INPUT_COLS, ctx, sizeof ctx);
        size_t len = strlen(f.subtitle);
        len += (size_t)snprintf(f.subtitle + len, sizeof f.subtitle - len, "%sreal layers (solid) and their "
                                "synthetic twins (dashed, same logit std): %.200s", s.n ? "\nbelow, " : "", ctx);
        real_lines(d, &real, &f, below + 1, x_id, d->rel_err, 1e-12);
        snprintf(f.panel_title[below], sizeof f.panel_title[below], "real layers: error");
        if (mass_panel) {
            real_lines(d, &real, &f, below + 2, x_id, d->topk_mass, 0);
            snprintf(f.panel_title[below + 1], sizeof f.panel_title[below + 1], "real layers: mass of the kept keys");
        }
        f.npanels = below + ncols;
    }
    free(s.r);
    free(real.r);
    return write_fig(&f, datadir, d);
}

/* memory and time of the chunked methods against the chunk size at one n */
static int fig_chunk_tradeoff(const data *d, const char *datadir) {
    figure f;
    fig_init(&f, "chunk_tradeoff");
    rowset s = {0};
    rows_where(d, &s, keep_chunk_method);
    slice(d, &s, BIT(ID_ATTENTION) | BIT(ID_CHUNK));
    study_text(d, &s, BIT(ID_CHUNK), f.subtitle, sizeof f.subtitle);
    f.npanels = 2;
    snprintf(f.panel_title[0], sizeof f.panel_title[0], "memory");
    snprintf(f.panel_title[1], sizeof f.panel_title[1], "time");
    for (size_t i = 0; i < s.n; i++) {
        size_t r = s.r[i];
        char label[200], knobs[100], full[320], ws_label[340], tint[8];
        method_label(d, r, label, sizeof label);
        knob_label(d, r, BIT(ID_K) | BIT(ID_FEATURES), knobs, sizeof knobs);
        snprintf(full, sizeof full, "%s%s", label, knobs);
        snprintf(ws_label, sizeof ws_label, "%s%s workspace (counted)", label, knobs);
        fig_series *m = fig_series_get(&f, 1, full, row_color(d, r), 7, 1, 1);
        color_tint(row_color(d, r), 0.35, tint);
        fig_series *w = fig_series_get(&f, 1, ws_label, tint, 6, 2, 1);
        fig_series *t = fig_series_get(&f, 2, full, row_color(d, r), 7, 1, 1);
        double x = idnum(d, r, ID_CHUNK);
        if (m) m->order = t ? (t->order = method_order(d, r)) : method_order(d, r);
        if (w) w->order = method_order(d, r) + 0.5;
        if (m) fig_add(m, x, fmax(num(d, r, d->peak), PAGE));
        if (w) fig_add(w, x, fmax(num(d, r, d->ws), 1));
        if (t) fig_add(t, x, num(d, r, d->time));
    }
    free(s.r);
    return write_fig(&f, datadir, d);
}

/* error of each projection scheme against the similarity of the heads */
static int fig_error_vs_head_sim(const data *d, const char *datadir) {
    figure f;
    fig_init(&f, "error_vs_head_sim");
    rowset s = {0};
    rows_where(d, &s, keep_projection);
    slice(d, &s, BIT(ID_PROJECTION) | BIT(ID_KV_HEADS) | BIT(ID_HEAD_SIM) | BIT(ID_D_MODEL));
    study_text(d, &s, BIT(ID_HEAD_SIM) | BIT(ID_PROJECTION), f.subtitle, sizeof f.subtitle);
    const char *att = s.n ? fld(d, s.r[0], ID_ATTENTION) : "";
    if (*att && strlen(f.subtitle) + strlen(att) + 20 < sizeof f.subtitle)
        snprintf(f.subtitle + strlen(f.subtitle), sizeof f.subtitle - strlen(f.subtitle), "%s%s attention",
                 f.subtitle[0] ? ", " : "", att);
    for (size_t i = 0; i < s.n; i++) {
        size_t r = s.r[i];
        const char *p = fld(d, r, ID_PROJECTION);
        char label[200];
        /* these lines are projections: name them so */
        if (spec_knob_applies(SK_KV_HEADS, fld(d, r, ID_ATTENTION), p))
            snprintf(label, sizeof label, "%s G=%s", p, fld(d, r, ID_KV_HEADS));
        else
            snprintf(label, sizeof label, "%s", p);
        /* a marker per scheme and K/V head count, and a dash per scheme, so
         * schemes whose errors coincide (mhe-add, mhe-mul) stay visible */
        const proj_scheme *ps = proj_scheme_find(p);
        size_t scheme = ps ? (size_t)(ps - proj_schemes) : 0;
        int pt = point_types[((size_t)idnum(d, r, ID_KV_HEADS) + 3 * scheme) % NPT];
        fig_series *se = fig_series_get(&f, 1, label, row_color(d, r), pt, 1 + (int)(scheme % 3), 1);
        if (se) se->order = method_order(d, r) * 1e3 + knob_value(d, r);
        if (se) fig_add(se, idnum(d, r, ID_HEAD_SIM), fmax(num(d, r, d->rel_err), 1e-12));
    }
    free(s.r);
    return write_fig(&f, datadir, d);
}

static int fig_ffn_error_vs_k(const data *d, const char *datadir) {
    figure f;
    fig_init(&f, "ffn_error_vs_k");
    rowset s = {0};
    rows_where(d, &s, keep_ffn_k);
    slice(d, &s, BIT(ID_K) | BIT(ID_D_FF));
    study_text(d, &s, BIT(ID_K) | BIT(ID_D_FF), f.subtitle, sizeof f.subtitle);
    knob_lines(d, &s, &f, 1, ID_K, d->rel_err, ID_D_FF, "d_ff", 1e-12);
    knob_lines(d, &s, &f, 2, ID_K, d->topk_mass, ID_D_FF, "d_ff", 0);
    f.npanels = 2;
    snprintf(f.panel_title[0], sizeof f.panel_title[0], "error");
    snprintf(f.panel_title[1], sizeof f.panel_title[1], "ReLU mass of the kept units");
    free(s.r);
    return write_fig(&f, datadir, d);
}

/* ---- summary.md ---------------------------------------------------------------- */

/* where a method beats the baseline for good: the smallest compared n from
 * which it wins at every larger compared n (NAN: never); *compared counts */
typedef struct {
    double n[64];
    int beat_peak[64], beat_ws[64], beat_time[64];
    size_t count;
} versus;

static double crossover(const versus *v, const int *beat) {
    double from = NAN;
    for (size_t i = v->count; i-- > 0;) {
        if (!beat[i]) break;
        from = v->n[i];
    }
    return from;
}

static void compare_with_baseline(const data *d, const config *g, versus *v) {
    memset(v, 0, sizeof *v);
    /* n ascending */
    size_t idx[64], m = 0;
    for (size_t j = 0; j < g->ok.n && m < 64; j++) idx[m++] = g->ok.r[j];
    for (size_t a = 0; a < m; a++)
        for (size_t b = a + 1; b < m; b++)
            if (idnum(d, idx[b], ID_N) < idnum(d, idx[a], ID_N)) { size_t t = idx[a]; idx[a] = idx[b]; idx[b] = t; }
    unsigned method_cols = BIT(ID_ATTENTION) | BIT(ID_K) | BIT(ID_CHUNK) | BIT(ID_FEATURES);
    for (size_t j = 0; j < m; j++) {
        size_t r = idx[j];
        long base = -1;
        int base_ok = 0;
        for (size_t q = 0; q < d->t.nrows; q++) {
            if (strcmp(fld(d, q, ID_ATTENTION), BASELINE) || !same_config(d, r, q, method_cols, 1)) continue;
            const char *st = table_get(&d->t, q, d->status);
            if (!strcmp(st, "skipped") && !strncmp(table_get(&d->t, q, d->note), "unknown method", 14)) continue;
            int ok = is_ok(d, q);
            if (base < 0 || (ok && !base_ok)) { base = (long)q; base_ok = ok; }
        }
        if (base < 0) continue;
        size_t k = v->count++;
        v->n[k] = idnum(d, r, ID_N);
        if (!base_ok) { /* the baseline could not run this n */
            v->beat_peak[k] = v->beat_ws[k] = v->beat_time[k] = 1;
            continue;
        }
        v->beat_peak[k] = fmax(num(d, r, d->peak), PAGE) < fmax(num(d, (size_t)base, d->peak), PAGE);
        v->beat_ws[k] = num(d, r, d->ws) < num(d, (size_t)base, d->ws);
        v->beat_time[k] = num(d, r, d->time) < num(d, (size_t)base, d->time);
    }
}

static void fmt_from(double n, char *out, size_t cap) {
    if (isfinite(n)) snprintf(out, cap, "n ≥ %g", n);
    else snprintf(out, cap, "never");
}

/* the .env facts worth a line in the summary */
static void summary_env(FILE *f, const char *csv) {
    char *path = env_sidecar_path(csv);
    FILE *e = path ? fopen(path, "r") : NULL;
    if (!e) { free(path); return; }
    static const char *const keys[] = {"cpu_model", "cores_online", "blas", "blas_core", "commit", "date", NULL};
    char line[4096];
    fprintf(f, "Machine and build (from `%s`):", path);
    while (fgets(line, sizeof line, e)) {
        line[strcspn(line, "\n")] = '\0';
        for (int i = 0; keys[i]; i++) {
            size_t kl = strlen(keys[i]);
            if (!strncmp(line, keys[i], kl) && line[kl] == '=') fprintf(f, " %s `%s`;", keys[i], line + kl + 1);
        }
    }
    fprintf(f, "\n\n");
    fclose(e);
    free(path);
}

/* ---- the real study in the summary ------------------------------------------ */

/* the value of knob `id` nearest `want` among the ok real rows of methods
 * that read `mask`; NAN where there are none */
static double real_knob_nearest(const data *d, unsigned mask, int id, double want) {
    double best = NAN;
    for (size_t r = 0; r < d->t.nrows; r++) {
        double v = idnum(d, r, id);
        if (!in_study(d, r, STUDY_REAL) || !is_ok(d, r) || !(method_knobs(fld(d, r, ID_ATTENTION)) & mask) || !(v > 0))
            continue;
        if (isnan(best) || fabs(log(v / want)) < fabs(log(best / want))) best = v;
    }
    return best;
}

/* an ok row of layer l for a method reading `mask` at knob id = v, one with
 * a twin where there is one; -1 where there is none. *twin: its twin or -1 */
static long real_row_at(const data *d, const real_layer *l, unsigned mask, int id, double v, long *twin) {
    long found = -1;
    *twin = -1;
    for (size_t r = 0; r < d->t.nrows && isfinite(v); r++) {
        if (!in_study(d, r, STUDY_REAL) || !is_ok(d, r) || strcmp(fld(d, r, ID_INPUT), l->input) ||
            !(method_knobs(fld(d, r, ID_ATTENTION)) & mask) || idnum(d, r, id) != v)
            continue;
        if (found < 0) found = (long)r;
        if ((*twin = twin_row(d, r)) >= 0) return (long)r;
    }
    return found;
}

/* "0.0606 / 0.0306 | 1.98" and the ratio for the geometric mean (NAN: none) */
static double fmt_pair(const data *d, long r, long q, int col, char *out, size_t cap, int with_ratio) {
    double a = r >= 0 ? num(d, (size_t)r, col) : NAN, b = q >= 0 ? num(d, (size_t)q, col) : NAN;
    double ratio = a / b;
    char sa[32] = "—", sb[32] = "—";
    if (isfinite(a)) snprintf(sa, sizeof sa, "%.3g", a);
    if (isfinite(b)) snprintf(sb, sizeof sb, "%.3g", b);
    if (!with_ratio) snprintf(out, cap, "%s / %s", sa, sb);
    else if (isfinite(ratio) && b > 0) snprintf(out, cap, "%s / %s | %.2f", sa, sb, ratio);
    else snprintf(out, cap, "%s / %s | —", sa, sb);
    return isfinite(ratio) && ratio > 0 ? ratio : NAN;
}

/* "0.177 (0.834)": rel_err and kept mass of row r, or "—" */
static void fmt_err_mass(const data *d, long r, char *out, size_t cap) {
    if (r < 0) snprintf(out, cap, "—");
    else snprintf(out, cap, "%.3g (%.3g)", num(d, (size_t)r, d->rel_err), num(d, (size_t)r, d->topk_mass));
}

/* top-k's rel_err (kept mass) on each layer and its twin at REAL_KS */
static void summary_real_k(FILE *f, const data *d) {
    double ks[sizeof REAL_KS / sizeof REAL_KS[0]];
    size_t nk = 0;
    for (size_t i = 0; i < sizeof REAL_KS / sizeof REAL_KS[0]; i++) {
        double k = real_knob_nearest(d, KNOB_K, ID_K, REAL_KS[i]);
        if (isfinite(k) && (!nk || ks[nk - 1] != k)) ks[nk++] = k;
    }
    if (!nk) return;
    fprintf(f, "\nTop-k rel_err (kept mass) against k, real / twin:\n\n| layer (logit std) |");
    for (size_t i = 0; i < nk; i++) fprintf(f, " k = %g |", ks[i]);
    fprintf(f, "\n| --- |");
    for (size_t i = 0; i < nk; i++) fprintf(f, " --- |");
    fprintf(f, "\n");
    for (size_t i = 0; i < d->nlayers; i++) {
        const real_layer *l = &d->layers[i];
        fprintf(f, "| %s (%.3g) |", l->name, l->logit_std);
        for (size_t j = 0; j < nk; j++) {
            long twin, r = real_row_at(d, l, KNOB_K, ID_K, ks[j], &twin);
            char a[64], b[64];
            fmt_err_mass(d, r, a, sizeof a);
            fmt_err_mass(d, twin, b, sizeof b);
            fprintf(f, " %s / %s |", a, b);
        }
        fprintf(f, "\n");
    }
}

static void summary_real(FILE *f, const data *d) {
    if (!d->nlayers) return;
    double k = real_knob_nearest(d, KNOB_K, ID_K, REAL_K);
    double m = real_knob_nearest(d, KNOB_FEATURES, ID_FEATURES, REAL_FEATURES);
    size_t r0 = 0;
    while (r0 < d->t.nrows && !(in_study(d, r0, STUDY_REAL) && is_ok(d, r0))) r0++;
    const char *n = fld(d, r0, ID_N), *h = fld(d, r0, ID_HEADS), *dh = fld(d, r0, ID_D_HEAD);
    fprintf(f, "\n## Real attention beside its synthetic twins\n\n"
               "Each real layer (rows whose `input` is a directory of q, k, v, such as a layer that "
               "`attnbench capture` wrote) beside its synthetic twin: synthetic input of the same shape "
               "(n = %s, %s heads, d_head %s%s) at the score std nearest the layer's logit std. Logit std "
               "(of q·k/√d over the causal pairs of sampled query rows) and entropy (mean exact-attention "
               "row entropy, nats) are as `run` measured them, the same way for a layer and its twin; the "
               "twin's score std is what the spec set (`make sweep`: the capture's logit std over all causal "
               "pairs, 3 significant digits). Errors are top-k at k = %g and Performer at m = %g, real / twin, "
               "and their ratio.\n\n"
               "| layer | input | logit std | entropy | twin: score std (logit std, entropy) | "
               "top-k rel_err real / twin | ratio | top-k kept mass real / twin | "
               "Performer rel_err real / twin | ratio |\n"
               "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
            n, h, dh, idnum(d, r0, ID_CAUSAL) == 1 ? ", causal" : "", k, m);
    double log_k = 0, log_m = 0;
    int count_k = 0, count_m = 0;
    for (size_t i = 0; i < d->nlayers; i++) {
        const real_layer *l = &d->layers[i];
        long tk, tm;
        long rk = real_row_at(d, l, KNOB_K, ID_K, k, &tk), rm = real_row_at(d, l, KNOB_FEATURES, ID_FEATURES, m, &tm);
        char twin[120] = "none near", ek[80], mass[80], em[80];
        if (isfinite(l->twin_std)) {
            long q = rk >= 0 ? tk : rm >= 0 ? tm : -1;
            if (q >= 0)
                snprintf(twin, sizeof twin, "%g (%.3g, %.3g)", l->twin_std, num(d, (size_t)q, d->logit_std),
                         num(d, (size_t)q, d->entropy));
            else
                snprintf(twin, sizeof twin, "%g", l->twin_std);
        }
        double a = fmt_pair(d, rk, tk, d->rel_err, ek, sizeof ek, 1);
        fmt_pair(d, rk, tk, d->topk_mass, mass, sizeof mass, 0);
        double b = fmt_pair(d, rm, tm, d->rel_err, em, sizeof em, 1);
        if (isfinite(a)) { log_k += log(a); count_k++; }
        if (isfinite(b)) { log_m += log(b); count_m++; }
        fprintf(f, "| %s | `%s` | %.3g | %.3g | %s | %s | %s | %s |\n", l->name, l->input, l->logit_std, l->entropy,
                twin, ek, mass, em);
    }
    fprintf(f, "\nGeometric mean of real / twin over the layers:");
    if (count_k) fprintf(f, " top-k (k = %g) %.2f over %d layer(s);", k, exp(log_k / count_k), count_k);
    if (count_m) fprintf(f, " Performer (m = %g) %.2f over %d layer(s);", m, exp(log_m / count_m), count_m);
    if (!count_k && !count_m) fprintf(f, " no layer has both rows;");
    fprintf(f, " above 1, the approximation loses more on the real layer than on synthetic input as peaked.\n");
    summary_real_k(f, d);
}

static int write_summary(const data *d, const char *dir, const config *c, size_t nc,
                         const size_t *pick, size_t np) {
    char *path = NULL;
    if (asprintf(&path, "%s/summary.md", dir) < 0) return -1;
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "attnbench analyze: %s: %s\n", path, strerror(errno));
        free(path);
        return -1;
    }
    fprintf(f, "# attnbench results\n\n"
               "Written by `attnbench analyze` from `%s` (%zu rows). Do not edit: `make sweep` "
               "regenerates it.\n\n", d->path, d->t.nrows);
    summary_env(f, d->path);
    /* rows by status */
    static const char *const statuses[] = {"ok", "oom", "timeout", "crashed", "invalid", "skipped"};
    fprintf(f, "Rows by status:");
    for (int i = 0; i < 6; i++) {
        size_t count = 0;
        for (size_t r = 0; r < d->t.nrows; r++) count += !strcmp(table_get(&d->t, r, d->status), statuses[i]);
        if (count) fprintf(f, " %s %zu;", statuses[i], count);
    }
    fprintf(f, " rows that are not `ok` mark where a method stops and take no part in any fit.\n\n");

    fprintf(f, "## Scaling with n\n\n"
               "Least-squares slope of log(y) against log(n) over each configuration's ok rows "
               "(at least 3 values of n): 1 is linear, 2 quadratic. Kernel peak is the measured "
               "resident-set growth during the calls (floored at one 4 KiB page); workspace is the "
               "allocator's count.\n\n"
               "| method | knobs | fixed | n | rows | kernel peak | workspace | time |\n"
               "| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    size_t shown = 0;
    for (size_t i = 0; i < nc; i++) {
        const config *g = &c[i];
        if (g->distinct_n < 3) continue;
        char label[200], knobs[100], fixed[300], a[32], b[32], t[32];
        method_label(d, g->first, label, sizeof label);
        knob_label(d, g->first, BIT(ID_K) | BIT(ID_CHUNK) | BIT(ID_FEATURES), knobs, sizeof knobs);
        study_text(d, &g->ok, BIT(ID_N) | BIT(ID_K) | BIT(ID_CHUNK) | BIT(ID_FEATURES) | BIT(ID_PROJECTION), fixed, sizeof fixed);
        double lo = INFINITY, hi = 0;
        for (size_t j = 0; j < g->ok.n; j++) {
            double n = idnum(d, g->ok.r[j], ID_N);
            lo = fmin(lo, n);
            hi = fmax(hi, n);
        }
        fmt_slope(g->slope_peak, a, sizeof a);
        fmt_slope(g->slope_ws, b, sizeof b);
        fmt_slope(g->slope_time, t, sizeof t);
        fprintf(f, "| %s | %s | %s | %g–%g | %zu | %s | %s | %s |\n", label, *knobs ? knobs + 1 : "",
                fixed, lo, hi, g->ok.n, a, b, t);
        shown++;
    }
    if (!shown) fprintf(f, "| (no configuration ran at 3 or more n) | | | | | | | |\n");

    fprintf(f, "\n## Crossovers against %s\n\n"
               "The smallest n from which a method uses less memory (or time) than %s with "
               "the same heads, sizes and input at every larger n compared; an n where %s "
               "did not run counts as a win.\n\n"
               "| method | knobs | n compared | memory (kernel peak) | memory (workspace) | time |\n"
               "| --- | --- | --- | --- | --- | --- |\n", BASELINE, BASELINE, BASELINE);
    shown = 0;
    for (size_t i = 0; i < np; i++) {
        const config *g = &c[pick[i]];
        if (!is_attention(d, g->first) || !strcmp(fld(d, g->first, ID_ATTENTION), BASELINE)) continue;
        versus v;
        compare_with_baseline(d, g, &v);
        if (!v.count) continue;
        char label[200], knobs[100], mp[32], mw[32], mt[32];
        method_label(d, g->first, label, sizeof label);
        knob_label(d, g->first, BIT(ID_K) | BIT(ID_CHUNK) | BIT(ID_FEATURES), knobs, sizeof knobs);
        fmt_from(crossover(&v, v.beat_peak), mp, sizeof mp);
        fmt_from(crossover(&v, v.beat_ws), mw, sizeof mw);
        fmt_from(crossover(&v, v.beat_time), mt, sizeof mt);
        fprintf(f, "| %s | %s | %g–%g (%zu) | %s | %s | %s |\n", label, *knobs ? knobs + 1 : "", v.n[0],
                v.n[v.count - 1], v.count, mp, mw, mt);
        shown++;
    }
    if (!shown) fprintf(f, "| (no n-scaling rows beside %s) | | | | | |\n", BASELINE);

    /* Pareto fronts: ok attention rows grouped by everything but the method and its knobs */
    fprintf(f, "\n## Error / memory Pareto fronts\n\n"
               "Per n and score std, or real layer (and the other fixed knobs), the configurations that no other "
               "beats on both kernel peak memory and rel_err (errors within 5%% tie: float32 "
               "rounding separates the exact methods by less), in increasing memory.\n\n"
               "| n | score std | fixed | method | knobs | kernel peak | rel_err |\n"
               "| --- | --- | --- | --- | --- | --- | --- |\n");
    unsigned method_cols = BIT(ID_ATTENTION) | BIT(ID_PROJECTION) | BIT(ID_KV_HEADS) | BIT(ID_K) |
                           BIT(ID_CHUNK) | BIT(ID_FEATURES) | BIT(ID_D_MODEL);
    size_t nrows = d->t.nrows;
    char *done = calloc(nrows ? nrows : 1, 1);
    size_t *grp = malloc((nrows + 1) * sizeof *grp), *front = malloc((nrows + 1) * sizeof *front);
    double *mem = malloc((nrows + 1) * sizeof *mem), *err = malloc((nrows + 1) * sizeof *err);
    shown = 0;
    for (size_t r = 0; done && grp && front && mem && err && r < nrows; r++) {
        if (done[r] || !is_ok(d, r) || !keep_attention_err(d, r)) continue;
        size_t m = 0, methods = 0;
        for (size_t q = r; q < nrows; q++) {
            if (done[q] || !is_ok(d, q) || !keep_attention_err(d, q) || !same_config(d, r, q, method_cols, 0)) continue;
            done[q] = 1;
            int newm = 1;
            for (size_t z = 0; z < m && newm; z++)
                newm = strcmp(fld(d, grp[z], ID_ATTENTION), fld(d, q, ID_ATTENTION)) ||
                       strcmp(fld(d, grp[z], ID_PROJECTION), fld(d, q, ID_PROJECTION));
            methods += newm;
            mem[m] = fmax(num(d, q, d->peak), PAGE);
            err[m] = num(d, q, d->rel_err);
            grp[m++] = q;
        }
        if (m < 3 || methods < 2) continue;
        rowset gs = {grp, m, m};
        char fixed[300];
        study_text(d, &gs, BIT(ID_N) | BIT(ID_SCORE_STD) | method_cols, fixed, sizeof fixed);
        size_t nf = pareto_front(mem, err, m, ERR_TIE, front);
        for (size_t i = 0; i < nf; i++) {
            size_t q = grp[front[i]];
            char label[200], knobs[100], mb[32];
            method_label(d, q, label, sizeof label);
            knob_label(d, q, BIT(ID_K) | BIT(ID_CHUNK) | BIT(ID_FEATURES), knobs, sizeof knobs);
            fmt_bytes(mem[front[i]], mb, sizeof mb);
            fprintf(f, "| %s | %s | %s | %s | %s | %s | %.3g |\n", fld(d, q, ID_N),
                    *fld(d, q, ID_SCORE_STD) ? fld(d, q, ID_SCORE_STD) : input_name(d, q), i ? "" : fixed, label,
                    *knobs ? knobs + 1 : "", mb, err[front[i]]);
        }
        shown++;
    }
    if (!shown) fprintf(f, "| (no n with 3 or more ok rows of 2 or more methods) | | | | | | |\n");
    free(done); free(grp); free(front); free(mem); free(err);

    summary_real(f, d);

    /* what did not run */
    fprintf(f, "\n## Rows that did not run\n\n");
    shown = 0;
    for (size_t r = 0; r < nrows; r++) {
        if (is_ok(d, r)) continue;
        if (!shown++) fprintf(f, "| status | method | knobs | n | note |\n| --- | --- | --- | --- | --- |\n");
        char label[200], knobs[100], note[300];
        method_label(d, r, label, sizeof label);
        knob_label(d, r, BIT(ID_K) | BIT(ID_CHUNK) | BIT(ID_FEATURES), knobs, sizeof knobs);
        snprintf(note, sizeof note, "%s", table_get(&d->t, r, d->note));
        for (char *p = note; *p; p++) if (*p == '|') *p = '/';
        fprintf(f, "| %s | %s | %s | %s | %s |\n", table_get(&d->t, r, d->status), label,
                *knobs ? knobs + 1 : "", fld(d, r, ID_N), note);
    }
    if (!shown) fprintf(f, "Every row is ok.\n");

    static const char *const figs[] = {"error_vs_memory", "memory_vs_n", "time_vs_n", "error_vs_k",
                                       "chunk_tradeoff", "error_vs_features", "error_vs_head_sim",
                                       "ffn_error_vs_k"};
    fprintf(f, "\n## Figures\n\n");
    for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++)
        fprintf(f, "- [%s](figures/%s.svg) ![%s](figures/%s.png)\n", figs[i], figs[i], figs[i], figs[i]);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "attnbench analyze: cannot write %s\n", path);
        free(path);
        return -1;
    }
    free(path);
    return 0;
}

/* ---- the command -------------------------------------------------------------- */

static void usage(FILE *f) {
    fprintf(f, "usage: attnbench analyze CSV [--out DIR]\n\n"
               "Reads a results CSV and writes DIR/summary.md (scaling exponents, crossovers\n"
               "against vanilla, error/memory Pareto fronts, rows that did not run) and the\n"
               "figure data DIR/data/NAME.dat + NAME.meta that scripts/figures.sh DIR draws.\n"
               "Rows whose status is not ok are kept for marking and left out of the fits.\n\n"
               "options:\n"
               "  --out DIR   where to write (default: the CSV's directory)\n");
}

static int make_dir(const char *path) {
    if (mkdir(path, 0755) == 0 || errno == EEXIST) return 0;
    fprintf(stderr, "attnbench analyze: cannot create %s: %s\n", path, strerror(errno));
    return -1;
}

int cmd_analyze(int argc, char **argv) {
    const char *csv = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 0; }
        if (!strcmp(argv[i], "--out")) {
            if (i + 1 >= argc || !*argv[i + 1]) return bad_input(CMD, "--out needs a directory");
            out = argv[++i];
        } else if (!strncmp(argv[i], "--", 2)) {
            return bad_input(CMD, "unknown option '%s' (see attnbench analyze --help)", argv[i]);
        } else if (csv) {
            return bad_input(CMD, "unexpected argument '%s' (one CSV only)", argv[i]);
        } else {
            csv = argv[i];
        }
    }
    if (!csv) return bad_input(CMD, "no CSV given (e.g. results/sweep.csv)");
    char dirbuf[4096];
    if (!out) {
        const char *slash = strrchr(csv, '/');
        snprintf(dirbuf, sizeof dirbuf, "%.*s", slash ? (int)(slash - csv) : 1, slash ? csv : ".");
        if (!dirbuf[0]) snprintf(dirbuf, sizeof dirbuf, "/");
        out = dirbuf;
    }

    data d;
    memset(&d, 0, sizeof d);
    d.path = csv;
    char err[600];
    if (table_read(csv, &d.t, err, sizeof err)) return bad_input(CMD, "%s", err);
    if (!d.t.ncols) { table_free(&d.t); return bad_input(CMD, "%s: empty, no header", csv); }
    for (int c = 0; c < ID_COUNT; c++) d.id[c] = table_col(&d.t, id_names[c]);
    d.status = table_col(&d.t, "status");
    d.time = table_col(&d.t, "time_median_s");
    d.peak = table_col(&d.t, "kernel_peak_bytes");
    d.ws = table_col(&d.t, "workspace_bytes");
    d.rel_err = table_col(&d.t, "rel_err");
    d.topk_mass = table_col(&d.t, "topk_mass");
    d.note = table_col(&d.t, "note");
    d.logit_std = table_col(&d.t, "logit_std");
    d.entropy = table_col(&d.t, "entropy");
    if (d.status < 0 || d.id[ID_N] < 0 || d.id[ID_ATTENTION] < 0) {
        table_free(&d.t);
        return bad_input(CMD, "%s: not a results CSV (no status, n or attention column)", csv);
    }
    if (d.t.torn_bytes) fprintf(stderr, "attnbench analyze: %s: left out a torn last line\n", csv);
    if (d.t.bad_rows) fprintf(stderr, "attnbench analyze: %s: left out %zu malformed row(s)\n", csv, d.t.bad_rows);

    char datadir[4200];
    snprintf(datadir, sizeof datadir, "%s/data", out);
    config *c = NULL;
    size_t nc = 0, *pick = NULL;
    int rc = 1;
    if (make_dir(out) || make_dir(datadir)) goto done;
    if (find_real_study(&d) || group_configs(&d, &c, &nc) || !(pick = malloc((nc + 1) * sizeof *pick))) {
        fprintf(stderr, "attnbench analyze: out of memory\n");
        goto done;
    }
    size_t np = scaling_picks(&d, c, nc, pick);
    int bad = 0;
    bad |= fig_error_vs_memory(&d, datadir);
    bad |= fig_vs_n(&d, datadir, c, pick, np, 0);
    bad |= fig_vs_n(&d, datadir, c, pick, np, 1);
    bad |= fig_error_vs_knob(&d, datadir, "error_vs_k", keep_k_method, ID_K, 1);
    bad |= fig_chunk_tradeoff(&d, datadir);
    bad |= fig_error_vs_knob(&d, datadir, "error_vs_features", keep_features_method, ID_FEATURES, 0);
    bad |= fig_error_vs_head_sim(&d, datadir);
    bad |= fig_ffn_error_vs_k(&d, datadir);
    bad |= write_summary(&d, out, c, nc, pick, np);
    if (!bad) {
        fprintf(stderr, "attnbench analyze: %zu rows -> %s/summary.md, %s/*.dat\n", d.t.nrows, out, datadir);
        rc = 0;
    }
done:
    free(pick);
    configs_free(c, nc);
    free(d.study);
    free(d.layers);
    table_free(&d.t);
    return rc;
}

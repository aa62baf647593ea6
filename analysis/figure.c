/* figure.c — figure data in the .dat/.meta form the gnuplot scripts read (figure.h). */
#include "figure.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fig_init(figure *f, const char *name) {
    memset(f, 0, sizeof *f);
    f->name = name;
    f->npanels = 1;
}

void fig_free(figure *f) {
    for (size_t i = 0; i < f->ns; i++) free(f->s[i].pts);
    free(f->s);
    free(f->marks);
    f->s = NULL;
    f->marks = NULL;
    f->ns = f->cap = f->nmarks = f->mcap = 0;
}

static int mark(figure *f, int panel, double x, const char *text, const char *color, int pt, int bottom) {
    if (panel < 1 || panel > FIG_MAX_PANELS || !isfinite(x)) return 0;
    if (f->nmarks == f->mcap) {
        size_t cap = f->mcap ? 2 * f->mcap : 8;
        fig_edge_mark *grown = realloc(f->marks, cap * sizeof *grown);
        if (!grown) return -1;
        f->marks = grown;
        f->mcap = cap;
    }
    fig_edge_mark *m = &f->marks[f->nmarks++];
    m->panel = panel;
    m->x = x;
    snprintf(m->text, sizeof m->text, "%s", text);
    snprintf(m->color, sizeof m->color, "%s", color);
    m->pt = pt;
    m->bottom = bottom;
    if (panel > f->npanels) f->npanels = panel;
    return 0;
}

int fig_mark(figure *f, int panel, double x, const char *text, const char *color, int pt) {
    return mark(f, panel, x, text, color, pt, 0);
}

int fig_mark_bottom(figure *f, int panel, double x, const char *text, const char *color, int pt) {
    return mark(f, panel, x, text, color, pt, 1);
}

fig_series *fig_series_get(figure *f, int panel, const char *label, const char *color, int pt,
                           int dt, int lines) {
    if (panel < 1 || panel > FIG_MAX_PANELS) return NULL;
    for (size_t i = 0; i < f->ns; i++)
        if (f->s[i].panel == panel && !strcmp(f->s[i].label, label)) return &f->s[i];
    if (f->ns == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 16;
        fig_series *grown = realloc(f->s, cap * sizeof *grown);
        if (!grown) return NULL;
        f->s = grown;
        f->cap = cap;
    }
    fig_series *s = &f->s[f->ns++];
    memset(s, 0, sizeof *s);
    s->panel = panel;
    snprintf(s->label, sizeof s->label, "%s", label);
    snprintf(s->color, sizeof s->color, "%s", color);
    s->pt = pt;
    s->dt = dt;
    s->ps = 1.0;
    s->lw = 1.5;
    s->lines = lines;
    if (panel > f->npanels) f->npanels = panel;
    return s;
}

int fig_add(fig_series *s, double x, double y) { return fig_add_se(s, x, y, 0); }

int fig_add_se(fig_series *s, double x, double y, double se) {
    if (!isfinite(x) || !isfinite(y)) return 0;
    if (s->npts == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        fig_point *grown = realloc(s->pts, cap * sizeof *grown);
        if (!grown) return -1;
        s->pts = grown;
        s->cap = cap;
    }
    s->pts[s->npts++] = (fig_point){x, y, isfinite(se) && se > 0 ? se : 0};
    return 0;
}

void color_tint(const char *hex, double t, char out[8]) {
    unsigned rgb = 0x777777;
    if (hex[0] == '#') rgb = (unsigned)strtoul(hex + 1, NULL, 16);
    unsigned c[3] = {(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255};
    for (int i = 0; i < 3; i++) c[i] = (unsigned)lround(c[i] + (255.0 - c[i]) * t);
    snprintf(out, 8, "#%02x%02x%02x", c[0] & 255, c[1] & 255, c[2] & 255);
}

static int by_x(const void *a, const void *b) {
    const fig_point *p = a, *q = b;
    return (p->x > q->x) - (p->x < q->x);
}

/* a gnuplot string literal: double quotes inside become single ones */
static void put_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '\n') fputs("\\n", f); /* gnuplot reads \n in a double-quoted string as a line break */
        else fputc(*s == '"' ? '\'' : *s == '\\' ? '/' : *s, f);
    }
    fputc('"', f);
}

/* the subtitle, its lines broken at spaces to at most FIG_WRAP characters
 * (UTF-8 continuation bytes not counted) */
static void put_wrapped(FILE *f, const char *s) {
    char buf[sizeof ((figure *)0)->subtitle + 64];
    size_t n = 0, line = 0, cut = (size_t)-1;  /* cut: the last space of this line */
    for (; *s && n + 1 < sizeof buf; s++) {
        buf[n] = *s;
        if (*s == '\n') line = 0, cut = (size_t)-1;
        else if ((*s & 0xc0) != 0x80 && ++line > FIG_WRAP && cut != (size_t)-1) {
            buf[cut] = '\n';
            line = 0;
            for (size_t i = cut + 1; i <= n; i++) line += (buf[i] & 0xc0) != 0x80;
            cut = (size_t)-1;
        }
        if (*s == ' ') cut = n;
        n++;
    }
    buf[n] = '\0';
    put_string(f, buf);
}

static int has_se(const fig_series *s) {
    for (size_t i = 0; i < s->npts; i++)
        if (s->pts[i].se > 0) return 1;
    return 0;
}

/* Long: the .dat and the .meta are one format, written side by side. */
int fig_write(const figure *f, const char *datadir, const char *source) {
    /* series in panel order, each panel's in the order they were made */
    size_t *order = malloc((f->ns ? f->ns : 1) * sizeof *order), no = 0;
    if (!order) return -1;
    for (int p = 1; p <= f->npanels; p++)
        for (size_t i = 0; i < f->ns; i++)
            if (f->s[i].panel == p && f->s[i].npts) order[no++] = i;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.dat", datadir, f->name);
    FILE *dat = fopen(path, "w");
    snprintf(path, sizeof path, "%s/%s.meta", datadir, f->name);
    FILE *meta = dat ? fopen(path, "w") : NULL;
    if (!dat || !meta) {
        int e = errno;
        if (dat) fclose(dat);
        free(order);
        errno = e;
        return -1;
    }
    fprintf(dat, "# %s: written by `attnbench analyze` from %s; one block per series (see %s.meta)\n",
            f->name, source, f->name);
    for (size_t k = 0; k < no; k++) {
        fig_series *s = &f->s[order[k]];
        if (s->lines) qsort(s->pts, s->npts, sizeof *s->pts, by_x);
        if (k) fprintf(dat, "\n\n");
        fprintf(dat, "# series %zu (panel %d): %s\n", k + 1, s->panel, s->label);
        for (size_t i = 0; i < s->npts; i++) {
            const fig_point *q = &s->pts[i];
            double lo = q->se > 0 ? fmax(q->y - q->se, q->y / 20) : 0, hi = q->se > 0 ? q->y + q->se : 0;
            fprintf(dat, "%.9g %.9g %.9g %.9g\n%s", q->x, q->y, lo, hi, s->lines ? "" : "\n");
        }
    }

    fprintf(meta, "# %s: written by `attnbench analyze` from %s; read by scripts/%s.gp\n", f->name,
            source, f->name);
    fprintf(meta, "subtitle = ");
    put_wrapped(meta, f->subtitle);
    fprintf(meta, "\nnpanels = %d\nncols = %d\nnseries = %zu\n", f->npanels,
            f->ncols > 0 && f->ncols < f->npanels ? f->ncols : f->npanels, no);
    int np = f->npanels > 0 ? f->npanels : 1;
    fprintf(meta, "array p_title[%d]\narray p_xlabel[%d]\narray p_first[%d]\narray p_last[%d]\n", np, np, np, np);
    for (int p = 1; p <= f->npanels; p++) {
        size_t first = 0, last = 0;
        for (size_t k = 0; k < no; k++)
            if (f->s[order[k]].panel == p) {
                if (!first) first = k + 1;
                last = k + 1;
            }
        fprintf(meta, "p_title[%d] = ", p);
        put_string(meta, f->panel_title[p - 1]);
        fprintf(meta, "; p_xlabel[%d] = ", p);
        put_string(meta, f->panel_xlabel[p - 1]);
        /* an empty panel gets first > last: the scripts draw "no data" there */
        fprintf(meta, "; p_first[%d] = %zu; p_last[%d] = %zu\n", p, first ? first : 1, p,
                first ? last : 0);
    }
    size_t ns = no ? no : 1;
    fprintf(meta, "array s_label[%zu]\narray s_color[%zu]\narray s_pt[%zu]\narray s_ps[%zu]\n"
                  "array s_dt[%zu]\narray s_lw[%zu]\narray s_key[%zu]\narray s_lines[%zu]\narray s_err[%zu]\n",
            ns, ns, ns, ns, ns, ns, ns, ns, ns);
    for (size_t k = 0; k < no; k++) {
        const fig_series *s = &f->s[order[k]];
        int key = s->label[0] != '\0' && !s->nokey;
        for (size_t j = 0; j < k && key; j++) key = f->s[order[j]].nokey || strcmp(f->s[order[j]].label, s->label) != 0;
        fprintf(meta, "s_label[%zu] = ", k + 1);
        put_string(meta, s->label);
        fprintf(meta, "; s_color[%zu] = \"%s\"; s_pt[%zu] = %d; s_ps[%zu] = %.2f; s_dt[%zu] = %d; "
                      "s_lw[%zu] = %.2f; s_key[%zu] = %d; s_lines[%zu] = %d; s_err[%zu] = %d\n",
                k + 1, s->color, k + 1, s->pt, k + 1, s->ps, k + 1, s->dt, k + 1, s->lw, k + 1, key,
                k + 1, s->lines, k + 1, has_se(s));
    }
    /* the legend: the first series of each label, by order, then first use */
    size_t *leg = malloc(ns * sizeof *leg), nl = 0;
    for (size_t k = 0; leg && k < no; k++) {
        const fig_series *s = &f->s[order[k]];
        int first = s->label[0] != '\0' && !s->nokey;
        for (size_t j = 0; j < k && first; j++) first = f->s[order[j]].nokey || strcmp(f->s[order[j]].label, s->label) != 0;
        if (!first) continue;
        size_t at = nl++;
        while (at > 0 && f->s[order[leg[at - 1] - 1]].order > s->order) {
            leg[at] = leg[at - 1];
            at--;
        }
        leg[at] = k + 1;
    }
    fprintf(meta, "nlegend = %zu\narray l_series[%zu]\n", nl, nl ? nl : 1);
    for (size_t j = 0; j < nl; j++) fprintf(meta, "l_series[%zu] = %zu\n", j + 1, leg[j]);
    free(leg);
    free(order);
    size_t nm = f->nmarks ? f->nmarks : 1;
    fprintf(meta, "nmarks = %zu\narray mk_panel[%zu]\narray mk_x[%zu]\narray mk_text[%zu]\narray mk_color[%zu]\n"
                  "array mk_pt[%zu]\narray mk_bottom[%zu]\narray mk_key[%zu]\n", f->nmarks, nm, nm, nm, nm, nm, nm, nm);
    for (size_t k = 0; k < f->nmarks; k++) {
        const fig_edge_mark *m = &f->marks[k];
        /* a top mark's text goes into the legend once (mk_key 1; 2: said by an earlier mark) */
        int key = !m->bottom;
        for (size_t j = 0; key == 1 && j < k; j++)
            if (!f->marks[j].bottom && !strcmp(f->marks[j].text, m->text) && !strcmp(f->marks[j].color, m->color) &&
                f->marks[j].pt == m->pt)
                key = 2;
        fprintf(meta, "mk_key[%zu] = %d; ", k + 1, key);
        fprintf(meta, "mk_panel[%zu] = %d; mk_x[%zu] = %.9g; mk_text[%zu] = ", k + 1, m->panel, k + 1, m->x, k + 1);
        put_string(meta, m->text);
        fprintf(meta, "; mk_color[%zu] = \"%s\"; mk_pt[%zu] = %d; mk_bottom[%zu] = %d\n", k + 1, m->color, k + 1,
                m->pt, k + 1, m->bottom);
    }
    int bad = ferror(dat) | ferror(meta);
    bad |= fclose(dat) != 0;
    bad |= fclose(meta) != 0;
    if (bad && !errno) errno = EIO;
    return bad ? -1 : 0;
}

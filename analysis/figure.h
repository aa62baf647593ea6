/* figure.h — the data of one figure, as the gnuplot scripts read it.
 *
 * A figure is panels of series; a series is a list of (x, y) points drawn
 * with one colour, point type and dash type. `analyze` fills a figure and
 * writes two files into DIR/data/:
 *
 *   NAME.dat   one block per series (gnuplot `index i-1`), blocks separated
 *              by two blank lines; columns x y lo hi (lo, hi: the error bar,
 *              y ± its standard error, 0 0 for none; a bar that would reach
 *              y <= 0 is cut at y / 20, the log axes' floor). Series drawn as separate
 *              points have a blank line after each point (no connecting line).
 *   NAME.meta  gnuplot statements: subtitle (lines of at most FIG_WRAP
 *              characters, so it fits the 900 px page), npanels, ncols (panels per row:
 *              panel p sits in row (p-1)/ncols, column (p-1)%ncols; a panel
 *              with no title and no series is not drawn), p_title[p], p_xlabel[p]
 *              (empty: the script's x label), p_first[p],
 *              p_last[p] (the series of panel p), nseries, and per series
 *              s_label, s_color ("#rrggbb"), s_pt, s_ps, s_dt, s_lw, s_key
 *              (1: shown in the legend: the first series of each label,
 *              unless the series asked to stay out of it),
 *              s_lines (1: joined points, 0: separate points), s_err (1: has
 *              error bars); nlegend and
 *              l_series[j], the series of the j-th legend entry (each label
 *              once, in the order the analysis gave); nmarks and per mark
 *              mk_panel, mk_x, mk_text, mk_color, mk_pt, mk_bottom, mk_key: a
 *              marker on the top edge of its panel at x, its text a line of
 *              the legend band (mk_key 1; 2: a duplicate of an earlier mark's
 *              line; a point that did not run: where it would be, never a
 *              value, its text clear of the data), or on the bottom edge
 *              (mk_bottom 1, mk_key 0), its text above it (a value a log axis
 *              cannot show, e.g. ΔNLL <= 0).
 *
 * The scripts (scripts/NAME.gp) choose axes, scales and layout; a figure
 * with nseries = 0 is drawn with a "no data" note. */
#ifndef FIGURE_H
#define FIGURE_H

#include <stddef.h>

enum { FIG_MAX_PANELS = 24, FIG_WRAP = 118 };

typedef struct {
    double x, y;
    double se;            /* standard error of y; 0: none */
} fig_point;

typedef struct {
    int panel;            /* 1-based */
    char label[160];
    char color[8];
    int pt, dt;           /* gnuplot point type, dash type */
    double ps, lw;        /* point size (0: no points), line width */
    int lines;            /* 1: points joined in increasing x; 0: separate points */
    int nokey;            /* 1: never in the legend (explained by a panel title) */
    double order;         /* the legend lists labels by this, then by first use */
    fig_point *pts;
    size_t npts, cap;
} fig_series;

/* a marker on a panel's top edge (fig_mark) */
typedef struct {
    int panel;
    double x;
    char text[48];
    char color[8];
    int pt;
    int bottom;           /* 1: on the bottom edge, the text above it */
} fig_edge_mark;

typedef struct {
    const char *name;     /* file stem: error_vs_memory */
    char subtitle[400];
    int npanels;
    int ncols;            /* panels per row; 0: all in one row */
    char panel_title[FIG_MAX_PANELS][160];
    char panel_xlabel[FIG_MAX_PANELS][120];  /* "" : the script's */
    fig_series *s;
    size_t ns, cap;
    fig_edge_mark *marks;
    size_t nmarks, mcap;
} figure;

void fig_init(figure *f, const char *name);
void fig_free(figure *f);

/* the series of panel `panel` named `label`, created with the given style
 * the first time; NULL when out of memory or panel out of range */
fig_series *fig_series_get(figure *f, int panel, const char *label, const char *color, int pt,
                           int dt, int lines);
int fig_add(fig_series *s, double x, double y);  /* 0, or -1 */
/* a point with an error bar y ± se (se not finite or <= 0: none); 0, or -1 */
int fig_add_se(fig_series *s, double x, double y, double se);
/* a marker at x on the top edge of panel `panel`, `text` in the legend; 0, or -1 */
int fig_mark(figure *f, int panel, double x, const char *text, const char *color, int pt);
/* the same on the bottom edge, `text` above it (a value the log axis cannot
 * show: where x is, never a value); 0, or -1 */
int fig_mark_bottom(figure *f, int panel, double x, const char *text, const char *color, int pt);

/* DIR/data/NAME.dat and NAME.meta; 0, or -1 with errno */
int fig_write(const figure *f, const char *datadir, const char *source);

/* "#rrggbb" mixed with white: t = 0 the colour, 1 white */
void color_tint(const char *hex, double t, char out[8]);

#endif

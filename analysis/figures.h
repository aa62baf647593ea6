/* figures.h — the figure registry: one builder per figure, each writing
 * DIR/data/NAME.dat + NAME.meta (figure.h) that scripts/NAME.gp draws.
 * A figure is one line in fig_registry[] (figures.c) plus its builder in
 * the file of its idea: fig_memory.c (error against memory, the headline),
 * fig_scaling.c (against n, against the chunk), fig_knobs.c (error against
 * a method's knob, the projections, the FFN). */
#ifndef FIGURES_H
#define FIGURES_H

#include "figure.h"
#include "rows.h"
#include "scaling.h"

typedef int (*fig_builder)(const data *d, const scaling *s, const char *datadir);

typedef struct {
    const char *name;     /* scripts/NAME.gp, DIR/figures/NAME.{svg,png} */
    fig_builder build;
} fig_entry;

extern const fig_entry fig_registry[];  /* ends with {NULL, NULL} */

/* writes f and frees it; prints the error once. 0, or -1 */
int fig_save(figure *f, const char *datadir, const data *d);

int fig_error_vs_memory(const data *d, const scaling *s, const char *datadir);
int fig_headline(const data *d, const scaling *s, const char *datadir);
int fig_memory_vs_n(const data *d, const scaling *s, const char *datadir);
int fig_time_vs_n(const data *d, const scaling *s, const char *datadir);
int fig_chunk_tradeoff(const data *d, const scaling *s, const char *datadir);
int fig_error_vs_k(const data *d, const scaling *s, const char *datadir);
int fig_error_vs_features(const data *d, const scaling *s, const char *datadir);
int fig_error_vs_window(const data *d, const scaling *s, const char *datadir);
int fig_error_vs_head_sim(const data *d, const scaling *s, const char *datadir);
int fig_ffn_error_vs_k(const data *d, const scaling *s, const char *datadir);

/* row filters the builders share */
int keep_attention_err(const data *d, size_t r);

#endif

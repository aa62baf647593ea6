/* figures.c — the figure registry (figures.h). */
#include "figures.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const fig_entry fig_registry[] = {
    {"headline", fig_headline},
    {"error_vs_memory", fig_error_vs_memory},
    {"memory_vs_n", fig_memory_vs_n},
    {"time_vs_n", fig_time_vs_n},
    {"error_vs_k", fig_error_vs_k},
    {"chunk_tradeoff", fig_chunk_tradeoff},
    {"error_vs_features", fig_error_vs_features},
    {"error_vs_window", fig_error_vs_window},
    {"error_vs_head_sim", fig_error_vs_head_sim},
    {"ffn_error_vs_k", fig_ffn_error_vs_k},
    {NULL, NULL},
};

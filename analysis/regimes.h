/* regimes.h — the analyses of the regimes other than prefill, called by
 * `attnbench analyze` after the prefill figures and summary:
 *
 *   analyze_decode   decode rows (regime "decode"): the serving plane
 *                    (DIR/data/serving_plane.dat) and the decode section of
 *                    summary.md;
 *   analyze_model    eval rows (regime "model"): the ΔNLL plane
 *                    (DIR/data/model_dnll.dat) and the model section.
 *
 * Each takes the whole table (every regime's rows; each picks its own), the
 * CSV's path (its .env sidecar), the data folder, and summary.md open for appending its section. The two .dat
 * files' columns (cache_bytes y family knob_value front, '#' comments
 * first) are what the headline figure, scripts/headline.gp, reads. Returns
 * 0, or -1 with err filled; `analyze` prints err once. */
#ifndef REGIMES_H
#define REGIMES_H

#include <stddef.h>
#include <stdio.h>

#include "csv_table.h"

int analyze_decode(const csv_table *t, const char *csv, const char *datadir, FILE *summary, char *err, size_t errlen);
int analyze_model(const csv_table *t, const char *csv, const char *datadir, FILE *summary, char *err, size_t errlen);

#endif

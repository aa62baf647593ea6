/* sweep_progress.h — what a sweep shows while it runs: one \r-rewritten line
 * on a terminal ([done/total] elapsed, ETA by estimated work, the point),
 * the children's warnings once each, and the closing count by status. */
#ifndef SWEEP_PROGRESS_H
#define SWEEP_PROGRESS_H

#include "results.h"
#include "sweep_plan.h"

#include <stddef.h>

typedef struct {
    int tty;
    double t0;
    size_t total, finished;
    double weight_total, weight_done;
    char shown[256];       /* current point's description */
    size_t counts[ST_COUNT + 1]; /* rows by status (ST_*; the last: any other) */
    char **warnings;       /* child warnings already shown */
    size_t nwarnings;
} progress;

/* a line for the point now running (plus how many more run beside it) */
void progress_show(progress *pg, size_t running);
/* takes the line back (a terminal only) */
void progress_clear(progress *pg);
/* the lines of a child's stderr holding "warning", each shown once */
void progress_warnings(progress *pg, const char *errtext);
/* a finished point: counted by its row's status, its weight done */
void progress_record(progress *pg, const plan *pl, const char *status);
/* the closing line ("N of M point(s) in T: counts -> out"); frees the warnings */
void progress_done(progress *pg, const char *out, int io_failed);

#endif

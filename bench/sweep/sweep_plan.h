/* sweep_plan.h — the sweep's planner: a point's options over run's / ffn's
 * defaults, whether it can run under --mem-limit, its weight for the ETA, and
 * the row (and identity key) a point gets when its child gives none. */
#ifndef SWEEP_PLAN_H
#define SWEEP_PLAN_H

#include "options.h"
#include "results.h"
#include "spec.h"

#include <stddef.h>

typedef struct {
    const sweep_point *pt;
    run_options o;          /* the point's options over run's / ffn's defaults */
    const char *skip;       /* non-NULL: record as skipped without running */
    char why[320];          /* the skip note */
    size_t need;            /* least bytes the point needs; 0 unknown */
    double weight;          /* estimated work, for the ETA */
    int done;               /* the results file already holds it */
    int dup;                /* runs with the options of an earlier point: left out */
    char *key;              /* its identity (point_id), made once by plan_key */
} plan;

void plan_point(const sweep_point *p, size_t mem_limit, size_t runtime, plan *pl);
void point_row(const plan *pl, const char *status, const char *note, result_row *r);
const char *plan_key(plan *pl);

#endif

/* sweep_resume.h — the sweep's points by identity: points two groups share
 * run once, a shard keeps its slice, and the points a results file already
 * holds are not run again (the identity is point_id's, through plan_key). */
#ifndef SWEEP_RESUME_H
#define SWEEP_RESUME_H

#include "sweep_plan.h"

#include <stddef.h>
#include <stdint.h>

/* The points of shard shard_i of shard_n (0: all), equivalent ones left out:
 * pl[0..*np). Frees the keys of the plans it drops. Returns the hash of every
 * shard's points (spec_points_fnv1a64). */
uint64_t sweep_keep_shard(plan *pl, size_t npoints, size_t shard_i, size_t shard_n, size_t *np);

/* Reads the results file path for the resume: checks its header, drops a
 * torn last line (truncating it away through fd, the locked output; fd < 0:
 * a dry run, which only says so), and marks .done on the points it holds.
 * 0 (also when the file does not exist), or -1 after a message. */
int sweep_resume_load(const char *path, int fd, plan *pl, size_t np);

#endif

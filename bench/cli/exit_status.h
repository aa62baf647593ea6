/* exit_status.h — what every attnbench command exits with, one list:
 *   0 a row was written (status ok, or nonfinite: a figure was NaN or Inf)
 *   1 anything else went wrong (an I/O error, an internal failure)
 *   2 bad input: one line on stderr naming it, no row
 *   3 out of memory: a row with status oom (or, for a command without
 *     rows, one line on stderr)
 * The sweep reads a point's exit status this way (sweep_pool.c). */
#ifndef EXIT_STATUS_H
#define EXIT_STATUS_H

enum { EXIT_ROW = 0, EXIT_INTERNAL = 1, EXIT_BAD_INPUT = 2, EXIT_OOM = 3 };

#endif

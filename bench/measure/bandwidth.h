/* bandwidth.h — the read-bandwidth probe: the rate at which this machine
 * streams memory it does not hold in any cache, the limit of a decode step
 * that reads its whole KV cache. STREAM-like: a sum of the floats of a
 * buffer well beyond the last-level cache (bandwidth_probe_bytes), each of
 * `threads` threads summing its own contiguous part, first-touched by that
 * thread; one pass warms up, then the median of BANDWIDTH_PASSES timed passes. */
#ifndef BANDWIDTH_H
#define BANDWIDTH_H

#include <stddef.h>

enum { BANDWIDTH_PASSES = 7 };

/* the probe's buffer: 8 x the last-level cache, within [256 MiB, 1 GiB] */
size_t bandwidth_probe_bytes(void);

/* read GB/s (1e9 bytes) of `threads` threads (1..64) over `bytes` bytes
 * (0: bandwidth_probe_bytes()); 0 if the buffer cannot be allocated */
double bandwidth_read_gbps(size_t bytes, size_t threads);

/* The read bandwidth as a curve over working-set sizes: BANDWIDTH_CURVE
 * sizes log-spaced from 256 KiB (inside L2) to 1 GiB (far beyond the
 * last-level cache) into bytes[], each size's GB/s on `threads` threads
 * into gbps[] (one 1 GiB buffer, first-touched once; a small size's part is
 * summed repeatedly, at least 16 MiB a pass, so a pass is not thread
 * start-up; the median of BANDWIDTH_PASSES passes after a warm-up pass).
 * About a second. 0, or -1 when the buffer cannot be allocated. */
enum { BANDWIDTH_CURVE = 8 };
int bandwidth_curve(size_t threads, size_t *bytes, double *gbps);

#endif

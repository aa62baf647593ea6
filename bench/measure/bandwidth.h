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

#endif

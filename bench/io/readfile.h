/* readfile.h — reading an input file (spec, results CSV, shard, sidecar,
 * capture.txt) whole, safely: it must be a regular file no larger than a
 * bound, checked with fstat on a descriptor opened O_NONBLOCK before a byte
 * is read, so a FIFO, /dev/zero, /dev/urandom or a directory is refused at
 * once instead of blocking or filling memory. */
#ifndef READFILE_H
#define READFILE_H

#include <stddef.h>

#define READFILE_CSV_MAX  ((size_t)1 << 30) /* results CSVs and shards: 1 GiB */
#define READFILE_SPEC_MAX ((size_t)1 << 20) /* specs, sidecars, capture.txt: 1 MiB */

/* Opens path for reading (O_NONBLOCK, O_CLOEXEC) and checks it is a regular
 * file of at most max bytes. Returns the descriptor (blocking mode restored),
 * or -1 with err = "PATH: why" (strerror of open's errno: ENOENT, ELOOP,
 * EACCES, ...; "is a directory", "not a regular file (a FIFO)", "larger than
 * the N MiB limit"). */
int readfile_open(const char *path, size_t max, char *err, size_t errlen);

/* The whole file, NUL-terminated (*len without the NUL); the caller frees.
 * 0, or -1 with err as readfile_open's or "PATH: read error: ...". */
int readfile_all(const char *path, size_t max, char **text, size_t *len, char *err, size_t errlen);

/* 0 when path does not exist or is a regular file; -1 with err naming what
 * it is otherwise (for an output that must be a regular file) */
int readfile_check_regular_or_absent(const char *path, char *err, size_t errlen);

#endif

/* spec_hash.h — which spec (its text and its points) and which shard of it
 * a sweep ran, for its .env sidecar, so that `attnbench merge` can refuse
 * shards of different specs or different splits. */
#ifndef SPEC_HASH_H
#define SPEC_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "spec.h"

/* FNV-1a, 64 bits: start from SPEC_HASH_INIT, feed the bytes in any chunks */
#define SPEC_HASH_INIT 0xcbf29ce484222325ull
uint64_t spec_hash_bytes(uint64_t hash, const void *data, size_t len);

/* The hash of the file's bytes. 0, or -1 with errno. */
int spec_hash_file(const char *path, uint64_t *hash);

/* `hash` fed with one point's command and arguments. Fed every point the
 * sweep runs, in order, from SPEC_HASH_INIT: the hash of what the rows are
 * of, after --define, --capture and input globs. */
uint64_t spec_point_hash(uint64_t hash, const sweep_point *point);

/* The sweep notes its spec, the hash of all of its points (every shard's)
 * and its shard once (shard_n 0: not sharded); env_write_sidecar then
 * writes, after the machine's facts:
 *   spec=PATH
 *   spec_fnv1a64=16 hex digits          (of the spec file's text)
 *   spec_points_fnv1a64=16 hex digits   (the points' hash)
 *   shard=I/N                           (only for --shard)
 * Nothing is written when no spec was noted (`attnbench run --csv`). */
void env_note_sweep(const char *spec_path, uint64_t points_hash, size_t shard_i, size_t shard_n);
/* The capture (--capture DIR) the sweep's points read: the sidecar then adds
 *   capture=DIR
 *   capture_fnv1a64=16 hex digits       (of DIR/capture.txt: model, tokens, stds)
 * Returns the hash text ("" when DIR/capture.txt cannot be read). */
const char *env_note_capture(const char *dir);
void env_write_sweep_lines(FILE *f);

#endif

/* sweep_out.h — the results file of a sweep: held open and locked for the
 * whole sweep (a second sweep on it is refused, never doubles rows), resumed
 * only when its .env sidecar says its rows came from the same sources, spec
 * points and capture, else moved aside with its sidecar (never deleted, never
 * overwritten); a missing or empty sidecar is written anew. */
#ifndef SWEEP_OUT_H
#define SWEEP_OUT_H

#include "results.h"

#include <stddef.h>

typedef enum { RESUME_AUTO, RESUME_ALWAYS, RESUME_NEVER } resume_mode;

/* what made the rows this sweep would write (hex text; "" where none) */
typedef struct {
    const char *source_hash;   /* env_source_hash() */
    const char *commit;        /* env_commit() */
    const char *points_hash;   /* spec_points_fnv1a64 */
    const char *capture_hash;  /* capture_fnv1a64 ("" without --capture) */
} sweep_origin;

/* Whether the rows already in out may be resumed: 1 yes (or nothing to
 * resume), 0 they are of another origin (why says which, one phrase).
 * Reads out's sidecar only. */
int sweep_out_may_resume(const char *out, resume_mode mode, const sweep_origin *o, char *why, size_t cap);

/* Opens out for appending, locked (flock, exclusive) for as long as the
 * descriptor lives; moves rows of another origin aside first (one line on
 * stderr saying where) and writes the sidecar where it is missing or empty.
 * Returns the descriptor, or -1 after one line on stderr with *status 2
 * (another sweep holds it) or 1 (I/O). */
int sweep_out_open(const char *out, resume_mode mode, const sweep_origin *o, int *status);

/* out and its sidecar to OUT-STEM.old-N.csv and .env (the first N where
 * neither exists; never replacing a file); the new name into moved.
 * 0, or -1 with errno. */
int sweep_out_move_aside(const char *out, char *moved, size_t cap);

/* --out results/x.csv: creates results/ when it is missing (one level).
 * 0, or -1 after a message. */
int sweep_out_make_parent(const char *path);

/* Appends the row through the locked output with one write(2) (its sidecar
 * was written when it was opened). 0, or -1 after a message. */
int sweep_out_append(int fd, const char *out, const result_row *r);

#endif

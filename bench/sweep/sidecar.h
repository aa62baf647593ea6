/* sidecar.h — the one reader of .env sidecars (key=value lines, written by
 * env.c beside a results CSV): `attnbench env-get KEY FILE` is how the
 * Makefile and the Slurm scripts read one, instead of grep/sed. */
#ifndef SIDECAR_H
#define SIDECAR_H

#include <stddef.h>

/* The value of the first "KEY=" line of text (up to the line's end), as a
 * new string; NULL when no line has the key (or out of memory). */
char *sidecar_value(const char *text, const char *key);

/* The text of a sidecar: FILE itself, or, for a results CSV (a name ending
 * in .csv), its sidecar (env_sidecar_path). A regular file of at most 1 MiB.
 * NULL with err when it cannot be read. */
char *sidecar_load(const char *file, char *err, size_t errlen);

#endif

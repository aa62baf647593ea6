/* errmsg.h — the one way a loader or reader reports why it failed: a
 * one-line message into the caller's buffer (llama2c.c, tokenizer.c, npy.c,
 * readfile.c). Control bytes (from a file name or a file's own bytes) are
 * written as \xNN, so no input can split or forge an error line. */
#ifndef ERRMSG_H
#define ERRMSG_H

#include <stddef.h>

/* err = the message; returns -1 (so `return err_set(...)` fails a call).
 * err may be NULL or errlen 0: nothing is written. */
int err_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* err = "PREFIX: the message" (a file's path, usually); returns -1 */
int err_set_at(char *err, size_t errlen, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif

/* fig_common.c — what every figure builder shares (figures.h): saving a
 * figure's data, the row filters. Below the builders; the registry
 * (figures.c) is above them. */
#include "figures.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int fig_save(figure *f, const char *datadir, const data *d) {
    int rc = fig_write(f, datadir, d->path);
    if (rc) fprintf(stderr, "attnbench analyze: cannot write %s/%s.dat: %s\n", datadir, f->name, strerror(errno));
    fig_free(f);
    return rc;
}

int keep_attention_err(const data *d, size_t r) { return is_attention(d, r) && num(d, r, d->rel_err) >= 0; }

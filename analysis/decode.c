/* decode.c — the decode regime's section of the analysis (analysis/regimes.h). */
#include "regimes.h"

int analyze_decode(const csv_table *t, const char *csv, const char *datadir, FILE *summary, char *err, size_t errlen) {
    (void)t, (void)csv, (void)datadir, (void)summary, (void)err, (void)errlen;
    return 0;
}

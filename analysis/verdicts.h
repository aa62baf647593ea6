/* verdicts.h — the rule every "within 1%" of the model level is judged by
 * (verdicts.c): a ΔNLL is within a share of the exact NLL only where its
 * whole interval, ΔNLL ± DNLL_Z standard errors, is; above it where the
 * whole interval is above; otherwise it is not distinguishable from it. */
#ifndef VERDICTS_H
#define VERDICTS_H

#define DNLL_Z 1.96
#define DNLL_SHARE 0.01

enum { DNLL_WITHIN = 0, DNLL_UNDECIDED = 1, DNLL_ABOVE = 2 };

/* the class of ΔNLL dnll ± se (se NAN or negative: 0) against share · nll */
int dnll_class(double dnll, double se, double nll, double share);
/* "within 1%", "not distinguishable from 1%", "above 1%" */
const char *dnll_words(int cls);

#endif

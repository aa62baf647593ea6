/* kv_options.h — the cache format of a decode or eval run from its options
 * (--kv-format, and kivi's --bits, --kivi-group, --residual), and the
 * columns a row records of it. */
#ifndef KV_OPTIONS_H
#define KV_OPTIONS_H

#include "kv_format.h"
#include "options.h"
#include "results.h"

/* the format (f32 when not given) and its knobs, checked against rows of
 * d_head values: 0, or 2 after one line on stderr */
int kv_format_of_options(const char *cmd, const run_options *o, size_t d_head, const kv_format **f, kv_params *p);
/* kv_format, and kivi's kv_bits, kivi_group, residual; bits_per_value when
 * positive */
void kv_format_set_columns(result_row *row, const kv_format *f, const kv_params *p, double bits_per_value);
/* "f32, f16, ..." for messages and --help */
void kv_format_names(char *buf, size_t cap);

#endif

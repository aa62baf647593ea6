/* kv_options.c — see kv_options.h */
#include "kv_options.h"

#include <stdio.h>
#include <string.h>

void kv_format_names(char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = '\0';
    for (const kv_format *f = kv_formats; f->name && len < cap; f++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", f->name);
}

int kv_format_of_options(const char *cmd, const run_options *o, size_t d_head, const kv_format **f, kv_params *p) {
    const char *name = o->kv_format ? o->kv_format : kv_formats[0].name;
    *f = kv_format_find(name);
    if (!*f) {
        char names[256];
        kv_format_names(names, sizeof names);
        return bad_input(cmd, "unknown --kv-format '%s' (one of: %s)", name, names);
    }
    static const char *const own[] = {"bits", "kivi-group", "residual"};
    for (int i = 0; i < 3 && !(*f)->key_group_bytes; i++)
        if (options_given(o, own[i])) return bad_input(cmd, "--%s applies to --kv-format kivi only, not %s", own[i], name);
    *p = (kv_params){(unsigned)o->bits, o->kivi_group, o->residual};
    char why[300];
    if (kv_format_check(*f, d_head, p, why, sizeof why)) return bad_input(cmd, "%s", why);
    return 0;
}

void kv_format_set_columns(result_row *row, const kv_format *f, const kv_params *p, double bits_per_value) {
    row_set(row, COL_kv_format, "%s", f->name);
    if (f->key_group_bytes) {
        row_set(row, COL_kv_bits, "%u", p->bits);
        row_set(row, COL_kivi_group, "%zu", p->group);
        row_set(row, COL_residual, "%zu", p->residual);
    }
    if (bits_per_value > 0) row_set(row, COL_bits_per_value, "%.6g", bits_per_value);
}

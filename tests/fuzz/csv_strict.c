/* csv_strict.c — checks a results CSV the way a strict consumer would read
 * it: libcsv in strict mode (CSV_STRICT | CSV_STRICT_FINI: a stray quote or
 * an unterminated quoted field is an error), every record as wide as the
 * header, the header once, the file ending in a newline (no torn last line).
 * Used by tests/e2e_faults.sh (built there with cc ... -lcsv).
 * usage: csv_strict FILE; prints "N rows", exit 0; or one line, exit 1. */
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t fields, records, header_fields, header_again;
    char *header[64];          /* the header's first fields, to spot it again */
    int same_as_header;        /* the record so far equals the header */
} state;

static void on_field(void *s, size_t len, void *data) {
    state *st = data;
    if (st->records == 0) {
        if (st->fields < 64) st->header[st->fields] = strndup(s, len);
    } else if (st->fields >= 64 || !st->header[st->fields] || strlen(st->header[st->fields]) != len ||
               memcmp(st->header[st->fields], s, len)) {
        st->same_as_header = 0;
    }
    st->fields++;
}

static size_t bad_record = 0, bad_width = 0;

static void on_record(int c, void *data) {
    (void)c;
    state *st = data;
    if (st->records == 0) st->header_fields = st->fields;
    else if (st->fields != st->header_fields) { if (!bad_record) bad_record = st->records + 1; bad_width = st->fields; }
    else if (st->same_as_header) st->header_again++;
    st->records++;
    st->fields = 0;
    st->same_as_header = 1;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: csv_strict FILE\n"); return 2; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) return 1;
    state st = {.same_as_header = 1};
    char buf[65536];
    size_t got, total = 0;
    int last = -1, rc = 0;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (csv_parse(&p, buf, got, on_field, on_record, &st) != got) {
            fprintf(stderr, "%s: libcsv (strict): %s near byte %zu\n", argv[1], csv_strerror(csv_error(&p)), total);
            rc = 1;
            break;
        }
        total += got;
        last = (unsigned char)buf[got - 1];
    }
    fclose(f);
    if (!rc && csv_fini(&p, on_field, on_record, &st) != 0) {
        fprintf(stderr, "%s: libcsv (strict): %s at the end\n", argv[1], csv_strerror(csv_error(&p)));
        rc = 1;
    }
    csv_free(&p);
    for (int i = 0; i < 64; i++) free(st.header[i]);
    if (rc) return 1;
    if (total && last != '\n') { fprintf(stderr, "%s: does not end in a newline (torn last line)\n", argv[1]); return 1; }
    if (st.records == 0) { fprintf(stderr, "%s: empty\n", argv[1]); return 1; }
    if (bad_record) { fprintf(stderr, "%s: record %zu has %zu fields, the header %zu\n", argv[1], bad_record, bad_width, st.header_fields); return 1; }
    if (st.header_again) { fprintf(stderr, "%s: the header appears %zu more time(s)\n", argv[1], st.header_again); return 1; }
    printf("%zu rows\n", st.records - 1);
    return 0;
}

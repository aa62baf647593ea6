/* point_id.h — one identity for a point of a sweep, used by resume, the
 * sweep's duplicate check, merge and analyze: the row's method and the knobs
 * that make the configuration, with the values the run RESOLVED (a point that
 * leaves --features to its default is the row with the features the default
 * gave for that shape, never "any features"). Numbers compare as numbers
 * ("4" is "4.0"); warmup, reps and ref-rows do not make a point. */
#ifndef POINT_ID_H
#define POINT_ID_H

#include <stddef.h>

#include "results.h"
#include "csv_table.h"

/* The identity key of a row given as fields by results column (COL_*; a NULL
 * field is empty). The caller frees; NULL when out of memory. */
/* the columns of the identity (COL_*): the layer, then the column of every
 * registry entry that identifies a point (knobs.h KF_ID), each once; *count
 * gets how many */
const int *point_id_columns(int *count);
char *point_id_fields(const char *const field[COL_COUNT]);
char *point_id_row(const result_row *r);

/* table column of each COL_* (-1 where the file lacks it), then the key of row r */
void point_id_colmap(const csv_table *t, int colmap[COL_COUNT]);
char *point_id_table_row(const csv_table *t, size_t r, const int colmap[COL_COUNT]);

/* A set of keys (open addressing on FNV-1a), each with the first value it
 * was added with: resume, merge and analyze find duplicates in linear time. */
typedef struct {
    char **keys;
    size_t *vals;
    size_t cap, count;
} point_set;

/* Takes ownership of key. 1 added; 0 already there (*first = its value, key
 * freed); -1 out of memory (key freed). */
int point_set_add(point_set *s, char *key, size_t val, size_t *first);
/* 1 and *val when key is in the set, else 0 */
int point_set_find(const point_set *s, const char *key, size_t *val);
void point_set_free(point_set *s);

/* The shapes an input directory's .npy headers give, without reading the
 * data: layer form x (n, d_model), wq (heads, d_model, d_head); operator
 * form q (heads, n, d_head), k (kv_heads, n, d_head); ffn x, w1 (d_model,
 * d_ff). Fields the files do not give are 0. 0, or -1 when the headers
 * cannot be read. */
typedef struct {
    int layer_form;
    size_t n, heads, kv_heads, d_head, d_model, d_ff;
} input_shape;
int point_id_peek_input(const char *dir, int ffn, input_shape *s);

#endif

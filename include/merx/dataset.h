/* merx — the interaction dataset (core layer): interactions aggregated per
 * (user, item), CSR by user and by item, built from a CSV (csv.h) or from
 * triplets, with string ids mapped by idmap.h. */
#ifndef MERX_DATASET_H
#define MERX_DATASET_H

#include <stdint.h>
#include "merx/csv.h"
#include "merx/error.h"
#include "merx/idmap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------- dataset */

/* Compressed sparse rows: row r holds indices[indptr[r] .. indptr[r+1]). */
typedef struct mx_csr {
  uint32_t rows;
  uint64_t nnz;
  uint64_t *indptr;  /* rows + 1 */
  uint32_t *indices; /* nnz, sorted within each row */
  float *values;     /* nnz */
  int64_t *times;    /* nnz, latest timestamp of the pair; NULL when no time column */
} mx_csr;

typedef struct mx_dataset {
  mx_idmap *users;
  mx_idmap *items;
  mx_csr by_user; /* rows = users, indices = items */
  mx_csr by_item; /* rows = items, indices = users */
  int has_value;  /* a value column was read (explicit feedback) */
  int has_time;
  /* what ingest saw */
  uint64_t rows_read;    /* data rows read from the file */
  uint64_t rows_skipped; /* rows with an empty user or item id */
  double value_min, value_max, value_sum; /* over aggregated pairs */
  int64_t time_min, time_max;
  /* check value of the store key whose pseudonyms the user ids are
   * (PRIVACY.md); 0: not known to be pseudonyms. Set by the .mxd loader. */
  uint64_t pseudonym_key;
  /* a dataset loaded from a .mxd file: its CSR arrays live in this mapping
   * (copy-on-write), which mx_dataset_free unmaps; NULL: arrays are owned */
  void *mapping;
  size_t mapping_size;
} mx_dataset;

typedef struct mx_event_weight {
  char name[64];
  float weight;
} mx_event_weight;

/* Largest magnitude of an interaction value (stored as float; rescale larger). */
#define MX_INTERACTION_MAX_VALUE 1e12

typedef struct mx_ingest_options {
  mx_csv_options csv;
  mx_columns columns;   /* roles user, item, value, time, event */
  int n_events;         /* event weights: value of a row = weight[event] (x value when present) */
  mx_event_weight events[32];
  int aggregate;        /* how repeated (user,item) rows combine: MX_AGG_SUM (default), MX_AGG_LAST, MX_AGG_MAX */
  int keep_times;       /* keep per-pair times when a time column is selected (default 1) */
  /* When set, every user id is replaced as it is read by what this returns
   * (a store's pseudonyms, PRIVACY.md): the replacement and *out_len, borrowed
   * until the next call, or NULL when out of memory. NULL: ids as read. */
  const char *(*user_rewrite)(void *ctx, const char *id, size_t len, size_t *out_len);
  void *user_rewrite_ctx;
  /* The check value of the key user_rewrite pseudonymises with (0: none):
   * lets the .mxd loader tell a file of this key's pseudonyms, to use as
   * it is, from one of another key's, which it refuses. */
  uint64_t user_rewrite_check;
} mx_ingest_options;

enum { MX_AGG_SUM = 0, MX_AGG_LAST = 1, MX_AGG_MAX = 2 };

MX_API mx_ingest_options mx_ingest_defaults(void);
/* The weights used when an event column is selected without any (DESIGN.md). */
#define MX_EVENT_WEIGHTS_DEFAULT "view=1,cart=4,purchase=10"
/* Parse "view=1,cart=4,purchase=10" into opts->events (replacing them). */
MX_API int mx_ingest_parse_event_weights(mx_ingest_options *opts, const char *spec, mx_error *err);
/* Append one event weight (name of len bytes, weight a finite number >= 0):
 * what the parser does per item, for callers holding pairs (the Lua table form). */
MX_API int mx_ingest_add_event_weight(mx_ingest_options *opts, const char *name, size_t len,
                                      double weight, mx_error *err);
/* The weight of an event type; MX_ENOTFOUND with "unknown event type 'x'
 * (weights are given for: ...)" in err (no location) when it has none. */
MX_API int mx_ingest_event_weight(const mx_ingest_options *opts, const char *event, float *weight,
                                  mx_error *err);

/* One interaction row as read from a file, before id mapping. */
typedef struct mx_interaction_row {
  const char *user;
  size_t user_len;
  const char *item;
  size_t item_len;
  double value;    /* 1 when no value/event column */
  int64_t time;    /* 0 when no time column */
  long line;       /* physical line in the file */
} mx_interaction_row;

/* Stream the interactions of a file to fn (rows with an empty user or item
 * are skipped and counted in *skipped). fn returns 0 to go on, non-zero to
 * stop with that status (fn may fill err). rows_read may be NULL. */
typedef int (*mx_interaction_fn)(void *ctx, const mx_interaction_row *row, mx_error *err);
MX_API int mx_interactions_read(const char *path, const mx_ingest_options *opts,
                                mx_interaction_fn fn, void *ctx, uint64_t *rows_read,
                                uint64_t *skipped, mx_error *err);

/* Read a whole file into a dataset. *out is owned by the caller (mx_dataset_free).
 * A packed dataset (.mxd, recognised by its first bytes whatever its name) is
 * loaded with mx_dataset_load_packed instead: opts' CSV and column options do
 * not apply to it, its user_rewrite does. */
MX_API int mx_dataset_load_csv(const char *path, const mx_ingest_options *opts, mx_dataset **out,
                               mx_error *err);

/* ------------------------------------------------ packed datasets (.mxd) */

/* A .mxd file holds a built dataset as it is in memory (id tables, both
 * CSRs with values and times, what ingest saw), little-endian, with a
 * versioned header and checksums, so a large CSV is parsed once
 * (src/core/data/dataset_file.c has the layout). */
#define MX_DATASET_FORMAT_VERSION 1
/* Write d to path atomically. pseudonym_key: the check value of the store
 * key whose pseudonyms d's user ids are (0: plain ids), recorded so a keyed
 * load can tell. Borrows d. */
MX_API int mx_dataset_save(const mx_dataset *d, uint64_t pseudonym_key, const char *path,
                           mx_error *err);
/* Load a .mxd by mmap. opts may be NULL; only its user_rewrite matters: a
 * file of plain user ids is pseudonymised on load, one of the same key's
 * pseudonyms (user_rewrite_check) is used as is, one of another key's is
 * refused (MX_EINVAL). Truncated, corrupt or foreign files: MX_EFORMAT with
 * the file named. *out is owned by the caller (mx_dataset_free). */
MX_API int mx_dataset_load_packed(const char *path, const mx_ingest_options *opts,
                                  mx_dataset **out, mx_error *err);
/* 1 when path is a readable file starting with the .mxd magic, else 0. */
MX_API int mx_dataset_is_packed(const char *path);

/* Build a dataset from n triplets with string ids; times may be NULL.
 * Used by tests, importers and the Lua layer. */
MX_API int mx_dataset_from_triplets(const char *const *users, const char *const *items,
                                    const float *values, const int64_t *times, size_t n,
                                    mx_dataset **out, mx_error *err);

/* Incremental builder (what the two functions above use). */
typedef struct mx_dataset_builder mx_dataset_builder;
MX_API mx_dataset_builder *mx_dataset_builder_create(void);
MX_API int mx_dataset_builder_add(mx_dataset_builder *b, const char *user, size_t user_len,
                                  const char *item, size_t item_len, float value, int64_t time);
/* Aggregation of repeated pairs (MX_AGG_*). */
MX_API void mx_dataset_builder_set_aggregate(mx_dataset_builder *b, int how);
/* Finish: aggregates repeated pairs and builds both CSRs. The builder is
 * consumed (freed) whatever the result. */
MX_API int mx_dataset_builder_finish(mx_dataset_builder *b, int has_value, int has_time,
                                     mx_dataset **out, mx_error *err);
MX_API void mx_dataset_builder_free(mx_dataset_builder *b);

MX_API void mx_dataset_free(mx_dataset *d);
MX_API uint32_t mx_dataset_users(const mx_dataset *d);
MX_API uint32_t mx_dataset_items(const mx_dataset *d);
MX_API uint64_t mx_dataset_nnz(const mx_dataset *d);
/* A 64-bit fingerprint of ids and values (stored in model files). */
MX_API uint64_t mx_dataset_fingerprint(const mx_dataset *d);

/* Free a CSR's arrays (not the struct). */
MX_API void mx_csr_free(mx_csr *c);
/* Transpose src (rows x cols) into dst (cols x rows). */
MX_API int mx_csr_transpose(const mx_csr *src, uint32_t cols, mx_csr *dst, mx_error *err);

#ifdef __cplusplus
}
#endif
#endif

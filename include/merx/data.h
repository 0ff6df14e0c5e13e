/* merx — tabular input and the interaction dataset.
 *
 * Three levels, each usable alone:
 *   mx_csv_*       streaming CSV/TSV reader (delimiter detection, RFC 4180
 *                  quotes, CRLF, BOM, .gz through zlib, exact file:line:column).
 *   mx_columns_*   "--columns user=CustomerID,item=StockCode" role selection.
 *   mx_idmap_*     string id -> dense uint32 index, strings kept for output.
 *   mx_dataset_*   interactions aggregated per (user, item), CSR by user and
 *                  by item, built from a CSV or from triplets. */
#ifndef MERX_DATA_H
#define MERX_DATA_H

#include <stdint.h>
#include <stdio.h>
#include "merx/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ CSV */

typedef struct mx_csv mx_csv;

typedef struct mx_csv_options {
  char sep;        /* 0: detect from the first line among , \t ; | */
  int has_header;  /* 1: first row is a header (default), 0: data from line 1 */
  size_t max_line; /* refuse a record longer than this many bytes (0: 1 GiB) */
} mx_csv_options;

/* Defaults: detect the separator, header present. */
MX_API mx_csv_options mx_csv_defaults(void);

/* Open path ("-" is stdin; .gz read transparently). On success *out owns the
 * file and must be closed with mx_csv_close. Errors: MX_EIO (missing or
 * unreadable, with strerror), MX_EEMPTY (empty file), MX_EPARSE. When
 * has_header is set the header is read here: see mx_csv_header. */
MX_API int mx_csv_open(const char *path, const mx_csv_options *opt, mx_csv **out, mx_error *err);
MX_API void mx_csv_close(mx_csv *csv);

/* Next record. Returns 1 with a row, 0 at end of file, <0 on error.
 * *fields and *lens point into the reader's buffer (fields are NUL-terminated,
 * quotes removed) and stay valid until the next call. Blank lines are skipped. */
MX_API int mx_csv_next(mx_csv *csv, char ***fields, size_t **lens, size_t *nfields, mx_error *err);

/* Header names (valid while open); count 0 when has_header was 0. */
MX_API size_t mx_csv_header(const mx_csv *csv, const char *const **names);
/* 1-based physical line where the last record returned by mx_csv_next began. */
MX_API long mx_csv_line(const mx_csv *csv);
MX_API const char *mx_csv_path(const mx_csv *csv);
MX_API char mx_csv_sep(const mx_csv *csv);
/* Compressed or plain bytes consumed so far (for progress) and the file size. */
MX_API uint64_t mx_csv_bytes_read(const mx_csv *csv);
MX_API uint64_t mx_csv_file_size(const mx_csv *csv);

/* Write one field to f, quoting when it contains sep, a quote, CR or LF. */
MX_API void mx_csv_write_field(FILE *f, const char *s, char sep);

/* -------------------------------------------------------------- columns */

#define MX_MAX_ROLES 16

/* A role selection: "user=CustomerID,item=StockCode" or "user=1,item=2". */
typedef struct mx_columns {
  int count;
  char role[MX_MAX_ROLES][32];
  char name[MX_MAX_ROLES][256]; /* header name, or a 1-based index as text */
  int index[MX_MAX_ROLES];      /* 0-based column after resolution, -1 before */
} mx_columns;

/* Parse a spec. allowed: NULL-terminated list of role names (NULL: any).
 * Errors name the bad role. */
MX_API int mx_columns_parse(const char *spec, const char *const *allowed, mx_columns *out,
                            mx_error *err);
/* Set (or add) role=name. */
MX_API int mx_columns_set(mx_columns *cols, const char *role, const char *name, mx_error *err);
/* Resolve names against the open file's header (or numeric indices when the
 * file has none). A missing name errors with the list of header columns. */
MX_API int mx_columns_resolve(mx_columns *cols, const mx_csv *csv, mx_error *err);
/* 0-based column index of role, -1 when not selected. */
MX_API int mx_columns_index(const mx_columns *cols, const char *role);

/* ------------------------------------------------------------ parsing */

/* Strict number parsing of a whole field: "1.5", " 2 ", "1e3". NaN, inf,
 * empty and trailing garbage are refused. Returns 0 or -1. */
MX_API int mx_parse_double(const char *s, double *out);
/* Timestamps: epoch seconds ("1291190760", "1291190760.5"), ISO 8601 dates
 * and date-times ("2010-12-01", "2010-12-01 08:26:00", "2010-12-01T08:26:00Z",
 * "...+01:00"). Local times without an offset are taken as UTC. Seconds since
 * the epoch in *out. Returns 0 or -1. */
MX_API int mx_parse_time(const char *s, int64_t *out);
/* Format epoch seconds as "YYYY-MM-DDTHH:MM:SSZ" (or "YYYY-MM-DD" when
 * date_only). buf needs 21 bytes. */
MX_API char *mx_format_time(int64_t t, int date_only, char *buf, size_t size);

/* -------------------------------------------------------------- id map */

typedef struct mx_idmap mx_idmap;

/* Create an empty map. Returns NULL on allocation failure. */
MX_API mx_idmap *mx_idmap_create(void);
MX_API void mx_idmap_free(mx_idmap *m);
/* Index of id (len bytes), inserting it with the next index when absent.
 * Returns the index, or -1 on allocation failure. Strings are copied. */
MX_API int64_t mx_idmap_intern(mx_idmap *m, const char *id, size_t len);
/* Index of id or -1 when absent. */
MX_API int64_t mx_idmap_find(const mx_idmap *m, const char *id, size_t len);
/* The id string of index i (borrowed, NUL-terminated, valid while m lives). */
MX_API const char *mx_idmap_name(const mx_idmap *m, uint32_t i);
MX_API uint32_t mx_idmap_size(const mx_idmap *m);

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

/* Read a whole file into a dataset. *out is owned by the caller (mx_dataset_free). */
MX_API int mx_dataset_load_csv(const char *path, const mx_ingest_options *opts, mx_dataset **out,
                               mx_error *err);

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

/* merx — tabular input (util layer; no dataset, no model):
 *   mx_csv_*       streaming CSV/TSV reader (delimiter detection, RFC 4180
 *                  quotes, CRLF, BOM, .gz through zlib, exact file:line:column).
 *   mx_columns_*   "--columns user=CustomerID,item=StockCode" role selection.
 *   mx_parse_*     strict numbers and timestamps of one field. */
#ifndef MERX_CSV_H
#define MERX_CSV_H

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
/* Write n fields as one record (fields quoted as above) and a newline. */
MX_API void mx_csv_write_row(FILE *f, const char *const *fields, size_t n, char sep);

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
 * empty and trailing garbage are refused. Returns MX_OK or MX_EPARSE. */
MX_API int mx_parse_double(const char *s, double *out);
/* Timestamps: epoch seconds ("1291190760", "1291190760.5"), ISO 8601 dates
 * and date-times ("2010-12-01", "2010-12-01 08:26:00", "2010-12-01T08:26:00Z",
 * "...+01:00"). Local times without an offset are taken as UTC. Seconds since
 * the epoch in *out. Returns MX_OK or MX_EPARSE. */
MX_API int mx_parse_time(const char *s, int64_t *out);
/* Format epoch seconds as "YYYY-MM-DDTHH:MM:SSZ" (or "YYYY-MM-DD" when
 * date_only). buf needs 21 bytes. */
MX_API char *mx_format_time(int64_t t, int date_only, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif

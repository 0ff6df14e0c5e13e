/* merx — files of ids, one per line: the lists a user hands to recommend,
 * similar, score, forget, coldstart and `model import`, read one way.
 *
 * Two readers. mx_id_list_read resolves the ids of a list against a known id
 * map (a model's users or items): the first field of each CSV line, an
 * optional header, unknown ids counted or refused. mx_id_lines_read returns
 * the ids themselves: the first CSV field or the whole line, blank lines
 * skipped or refused, repeats allowed or refused. Errors name file and
 * line. */
#ifndef MERX_IDLIST_H
#define MERX_IDLIST_H

#include <stddef.h>
#include <stdint.h>
#include "merx/error.h"
#include "merx/idmap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What reading an id list saw. */
typedef struct mx_id_list_stats {
  uint64_t rows;           /* ids read (header excluded) */
  uint64_t unknown;        /* ids not in the map */
  char first_unknown[128]; /* the first of them */
  long first_unknown_line;
  int header;              /* 1: the first line was taken as a header */
} mx_id_list_stats;

/* Read the first field of every line of path (CSV: delimiter detected,
 * quotes, .gz) as an id of map. A first line that is not a known id is a
 * header (e.g. "CustomerID"). Unknown ids: with fail_unknown, MX_ENOTFOUND
 * naming file:line and the id (what says "user" or "item"); otherwise
 * counted in st and left out. An empty file is MX_EEMPTY. *out (malloc'd,
 * caller frees) holds the indices in file order; *n their number. */
MX_API int mx_id_list_read(const char *path, const mx_idmap *map, const char *what,
                           int fail_unknown, uint32_t **out, uint32_t *n, mx_id_list_stats *st,
                           mx_error *err);

/* mx_id_lines_read flags */
enum {
  MX_ID_LINES_CSV = 1,    /* the id is the first CSV field (else the whole line, CR dropped) */
  MX_ID_LINES_NO_GAPS = 2 /* a blank line before the last is MX_EPARSE "empty id" (else skipped) */
};

/* The ids of path in file order (blank ones skipped). unique (may be NULL)
 * receives each id, and an id that repeats is MX_EPARSE naming its line;
 * *ids (may be NULL: then n is not set either) receives malloc'd copies,
 * *n of them, appended to the *n already there (*ids NULL and *n 0 for a
 * new list; free with mx_id_lines_free, also after an error). */
MX_API int mx_id_lines_read(const char *path, unsigned flags, mx_idmap *unique, char ***ids,
                            size_t *n, mx_error *err);
MX_API void mx_id_lines_free(char **ids, size_t n);

#ifdef __cplusplus
}
#endif
#endif

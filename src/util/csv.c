/* Streaming CSV/TSV reader.
 *
 * Records are found first (a quote-aware scan for the terminating newline),
 * then split in place: separators and newlines become NULs and quoted fields
 * are compacted, so a field is a pointer into the buffer and no per-field
 * allocation happens. A record that straddles the end of the buffer is moved
 * to the front and the buffer refilled (grown for very long records, up to
 * max_line). Input goes through zlib's gzread, which reads plain files
 * transparently and gives .gz support for free. */
#include "merx/csv.h"
#include "merx/idmap.h"
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CSV_CHUNK (1u << 20)

struct mx_csv {
  gzFile gz;
  char *path;
  mx_csv_options opt;
  char sep;
  char *buf;
  size_t cap, pos, end; /* unconsumed bytes are buf[pos, end) */
  int eof;
  long line;        /* physical line of the next unread byte */
  long record_line; /* line where the last returned record began */
  char **fields;
  size_t *lens;
  size_t nfields_cap;
  char **header;
  size_t nheader;
  uint64_t file_size;
  int fd; /* the regular file gz reads (owned by gz), -1 for stdin */
  int borrowed; /* a window (mx__csv_window_open): buf and path belong to the parent */
};

mx_csv_options mx_csv_defaults(void) {
  mx_csv_options o;
  memset(&o, 0, sizeof o);
  o.has_header = 1;
  return o;
}

/* zlib's message without the "<fd:3>: " it prefixes for a gzdopen'ed file
 * (the error names the real path already). */
static const char *gz_message(gzFile gz, int *ez) {
  const char *m = gzerror(gz, ez);
  if (m && strncmp(m, "<fd:", 4) == 0) {
    const char *q = strstr(m, ">: ");
    if (q) m = q + 3;
  }
  return m;
}

static int fill(mx_csv *c, mx_error *err) {
  /* Move the unconsumed tail to the front, then read more. */
  if (c->pos > 0) {
    memmove(c->buf, c->buf + c->pos, c->end - c->pos);
    c->end -= c->pos;
    c->pos = 0;
  }
  /* Grow only when a single record fills the whole buffer. */
  if (c->end == c->cap) {
    size_t limit = c->opt.max_line ? c->opt.max_line : ((size_t)1 << 30);
    if (c->cap >= limit + CSV_CHUNK)
      return mx_error_at(err, MX_ELIMIT, c->path, c->line, 0, NULL,
                         "record longer than %zu bytes", limit);
    size_t ncap = c->cap * 2;
    char *nb = realloc(c->buf, ncap + 1);
    if (!nb) return mx_error_set(err, MX_ENOMEM, "out of memory reading %s", c->path);
    c->buf = nb;
    c->cap = ncap;
  }
  size_t want = c->cap - c->end;
  if (want > (1u << 30)) want = 1u << 30;
  int r = gzread(c->gz, c->buf + c->end, (unsigned)want);
  if (r < 0) {
    int e = errno, ez;
    const char *m = gz_message(c->gz, &ez);
    if (ez == Z_ERRNO)
      return mx_error_at(err, MX_EIO, c->path, c->line, 0, NULL, "read failed: %s", strerror(e));
    return mx_error_at(err, MX_EIO, c->path, c->line, 0, NULL,
                       "corrupt compressed file (%s)", m);
  }
  if (r == 0) {
    int ez = Z_OK;
    const char *m = gz_message(c->gz, &ez);
    if (ez == Z_BUF_ERROR || ez == Z_DATA_ERROR)
      return mx_error_at(err, MX_EIO, c->path, c->line, 0, NULL,
                         "truncated or corrupt compressed file (%s)", m);
    /* A file truncated by another process while we read it ends early,
     * usually mid-record, and reads as a shorter but valid file: a model
     * trained on a fraction of the data, exit 0. Its size now tells. */
    struct stat st;
    if (c->fd >= 0 && fstat(c->fd, &st) == 0 && S_ISREG(st.st_mode) &&
        (uint64_t)st.st_size < c->file_size)
      return mx_error_at(err, MX_EIO, c->path, c->line, 0, NULL,
                         "file shrank from %llu to %llu bytes while being read "
                         "(truncated or rewritten by another process)",
                         (unsigned long long)c->file_size, (unsigned long long)st.st_size);
    c->eof = 1;
  }
  c->end += (size_t)r;
  c->buf[c->end] = '\0';
  return MX_OK;
}

/* Find the end of the record starting at buf[pos]: index of its '\n' (or end
 * of data at EOF). Returns 1 found, 0 need more data, <0 error. *newlines
 * counts newlines inside quotes. */
static int find_record_end(mx_csv *c, size_t *rec_end, long *newlines, int *quoted,
                           mx_error *err) {
  const char *b = c->buf + c->pos;
  size_t n = c->end - c->pos;
  const char *nl = memchr(b, '\n', n);
  size_t span = nl ? (size_t)(nl - b) : n;
  *newlines = 0;
  if (!memchr(b, '"', span)) {
    *quoted = 0;
    if (nl) { *rec_end = c->pos + span; return 1; }
    if (c->eof) { *rec_end = c->end; return 1; }
    return 0;
  }
  /* Quote-aware scan. A quote opens a quoted section only at the start of a
   * field; inside one, "" is an escaped quote. */
  *quoted = 1;
  int inq = 0;
  long nls = 0;
  size_t qstart = 0;
  long qline = 0;
  for (size_t i = 0; i < n; i++) {
    char ch = b[i];
    if (inq) {
      if (ch == '"') {
        if (i + 1 < n && b[i + 1] == '"') { i++; continue; }
        if (i + 1 >= n && !c->eof) return 0; /* might be a doubled quote */
        inq = 0;
      } else if (ch == '\n') {
        nls++;
      }
    } else if (ch == '"') {
      if (i == 0 || b[i - 1] == c->sep) {
        inq = 1;
        qstart = i;
        qline = c->line + nls;
      }
    } else if (ch == '\n') {
      *rec_end = c->pos + i;
      *newlines = nls;
      return 1;
    }
  }
  if (!c->eof) return 0;
  if (inq) {
    /* column of the opening quote: count separators before it on its line */
    long col = 1;
    for (size_t i = 0; i < qstart; i++)
      if (b[i] == c->sep) col++; else if (b[i] == '\n') col = 1;
    return mx_error_at(err, MX_EPARSE, c->path, qline, col, NULL,
                       "unterminated quoted field at end of file");
  }
  *rec_end = c->end;
  *newlines = nls;
  return 1;
}

static int push_field(mx_csv *c, size_t k, char *s, size_t len, mx_error *err) {
  if (k >= c->nfields_cap) {
    size_t ncap = c->nfields_cap ? c->nfields_cap * 2 : 64;
    char **nf = realloc(c->fields, ncap * sizeof *nf);
    if (!nf) return mx_error_set(err, MX_ENOMEM, "out of memory");
    c->fields = nf;
    size_t *nl = realloc(c->lens, ncap * sizeof *nl);
    if (!nl) return mx_error_set(err, MX_ENOMEM, "out of memory");
    c->lens = nl;
    c->nfields_cap = ncap;
  }
  c->fields[k] = s;
  c->lens[k] = len;
  return MX_OK;
}

/* Split buf[start, stop) in place. */
static int split_record(mx_csv *c, size_t start, size_t stop, int quoted, size_t *nf,
                        mx_error *err) {
  char *p = c->buf + start;
  char *e = c->buf + stop;
  if (e > p && e[-1] == '\r') e--; /* CRLF */
  *e = '\0';
  char sep = c->sep;
  size_t k = 0;
  if (!quoted) {
    for (;;) {
      char *s = p;
      char *q = memchr(p, sep, (size_t)(e - p));
      if (!q) q = e;
      *q = '\0';
      if (push_field(c, k++, s, (size_t)(q - s), err)) return err ? err->code : MX_ENOMEM;
      if (q == e) break;
      p = q + 1;
    }
    *nf = k;
    return MX_OK;
  }
  long line = c->line;
  for (;;) {
    char *s = p;
    if (*p == '"') {
      /* quoted field: compact in place */
      char *w = p;
      p++;
      for (;;) {
        if (p >= e) break; /* cannot happen: find_record_end checked */
        if (*p == '"') {
          if (p + 1 < e && p[1] == '"') { *w++ = '"'; p += 2; continue; }
          p++;
          break;
        }
        if (*p == '\n') line++;
        *w++ = *p++;
      }
      if (p < e && *p != sep) {
        /* text after the closing quote: RFC 4180 forbids it */
        return mx_error_at(err, MX_EPARSE, c->path, line, (long)k + 1, NULL,
                           "unexpected character '%c' after closing quote", *p);
      }
      char *after = p;
      *w = '\0';
      if (push_field(c, k++, s, (size_t)(w - s), err)) return MX_ENOMEM;
      if (after >= e) break;
      p = after + 1;
    } else {
      char *q = p;
      while (q < e && *q != sep) q++;
      *q = '\0';
      if (push_field(c, k++, s, (size_t)(q - s), err)) return MX_ENOMEM;
      if (q >= e) break;
      p = q + 1;
    }
  }
  *nf = k;
  return MX_OK;
}

/* Read the next record into c->fields. 1 record, 0 EOF, <0 error. */
static int read_record(mx_csv *c, size_t *nf, mx_error *err) {
  for (;;) {
    if (c->pos >= c->end) {
      if (c->eof) return 0;
      int rc = fill(c, err);
      if (rc) return rc;
      continue;
    }
    /* skip blank lines */
    char ch = c->buf[c->pos];
    if (ch == '\n') { c->pos++; c->line++; continue; }
    if (ch == '\r' && c->pos + 1 < c->end && c->buf[c->pos + 1] == '\n') {
      c->pos += 2; c->line++; continue;
    }
    size_t rec_end = 0;
    long nls = 0;
    int quoted = 0;
    int r = find_record_end(c, &rec_end, &nls, &quoted, err);
    if (r < 0) return r;
    if (r == 0) {
      if (c->eof) return 0;
      int rc = fill(c, err);
      if (rc) return rc;
      continue;
    }
    c->record_line = c->line;
    size_t start = c->pos;
    const char *nul = memchr(c->buf + start, '\0', rec_end - start);
    if (nul) {
      long col = 1;
      for (const char *q = c->buf + start; q < nul; q++) col += *q == c->sep;
      return mx_error_at(err, MX_EPARSE, c->path, c->line, col, NULL,
                         "NUL byte in the data (a binary file, or UTF-16 text?)");
    }
    int rc = split_record(c, start, rec_end, quoted, nf, err);
    if (rc) return rc;
    c->line += nls + 1;
    c->pos = rec_end < c->end ? rec_end + 1 : c->end;
    return 1;
  }
}

static char detect_sep(const char *line, size_t n) {
  const char cands[4] = {',', '\t', ';', '|'};
  size_t counts[4] = {0, 0, 0, 0};
  int inq = 0;
  for (size_t i = 0; i < n && line[i] != '\n'; i++) {
    if (line[i] == '"') inq = !inq;
    if (inq) continue;
    for (int k = 0; k < 4; k++)
      if (line[i] == cands[k]) counts[k]++;
  }
  int best = 0;
  for (int k = 1; k < 4; k++)
    if (counts[k] > counts[best]) best = k;
  return cands[best];
}

/* Refuse two columns with the same (non-empty) name. The names go through a
 * hash map, so a header of a million columns costs linear time, not the
 * quadratic pairwise comparison it once took (half an hour for 1e6). */
static int check_duplicate_names(mx_csv *c, mx_error *err) {
  mx_idmap *seen = mx_idmap_create();
  size_t *first = malloc((c->nheader ? c->nheader : 1) * sizeof *first);
  int rc = MX_OK;
  if (!seen || !first) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  for (size_t i = 0; rc == MX_OK && i < c->nheader; i++) {
    if (!c->header[i][0]) continue;
    uint32_t before = mx_idmap_size(seen);
    int64_t k = mx_idmap_intern(seen, c->header[i], strlen(c->header[i]));
    if (k < 0) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    else if ((uint32_t)k < before)
      rc = mx_error_at(err, MX_EPARSE, c->path, c->record_line, (long)i + 1, c->header[i],
                       "duplicate header name (also column %zu)", first[k] + 1);
    else first[k] = i;
  }
  free(first);
  mx_idmap_free(seen);
  return rc;
}

int mx_csv_open(const char *path, const mx_csv_options *opt, mx_csv **out, mx_error *err) {
  *out = NULL;
  mx_csv *c = calloc(1, sizeof *c);
  if (!c) return mx_error_set(err, MX_ENOMEM, "out of memory");
  c->opt = opt ? *opt : mx_csv_defaults();
  c->path = mx__strdup(path);
  c->cap = CSV_CHUNK;
  c->line = 1;
  c->fd = -1;
  if (!c->path) {
    mx_csv_close(c);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  int rc;
  if (strcmp(path, "-") == 0) {
    c->gz = gzdopen(0, "rb");
  } else {
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
      int e = errno;
      if (fd >= 0) close(fd);
      mx_csv_close(c);
      return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot open: %s", strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
      close(fd);
      mx_csv_close(c);
      return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot open: is a directory");
    }
    c->file_size = (uint64_t)st.st_size;
    c->gz = gzdopen(fd, "rb");
    if (c->gz) c->fd = fd;
    else close(fd);
    /* small files get a small buffer (x4 room for compressed input) */
    if (c->file_size < CSV_CHUNK / 4) c->cap = 4096 + (size_t)c->file_size * 4;
  }
  c->buf = malloc(c->cap + 1);
  if (!c->buf) {
    mx_csv_close(c);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  if (!c->gz) {
    int e = errno;
    mx_csv_close(c);
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot open: %s",
                       e ? strerror(e) : "out of memory");
  }
  gzbuffer(c->gz, 1u << 18);
  if ((rc = fill(c, err)) != 0) {
    mx_csv_close(c);
    return rc;
  }
  /* UTF-8 byte order mark */
  if (c->end >= 3 && (unsigned char)c->buf[0] == 0xEF && (unsigned char)c->buf[1] == 0xBB &&
      (unsigned char)c->buf[2] == 0xBF)
    c->pos = 3;
  /* skip leading blank lines when looking for the first record */
  size_t p = c->pos;
  while (p < c->end && (c->buf[p] == '\n' || c->buf[p] == '\r')) p++;
  if (p >= c->end) {
    mx_csv_close(c);
    return mx_error_at(err, MX_EEMPTY, path, 0, 0, NULL, "file is empty");
  }
  c->sep = c->opt.sep ? c->opt.sep : detect_sep(c->buf + p, c->end - p);
  if (c->opt.has_header) {
    size_t nf;
    rc = read_record(c, &nf, err);
    if (rc < 0) {
      mx_csv_close(c);
      return rc;
    }
    c->header = calloc(nf, sizeof *c->header);
    if (!c->header) {
      mx_csv_close(c);
      return mx_error_set(err, MX_ENOMEM, "out of memory");
    }
    c->nheader = nf;
    for (size_t i = 0; i < nf; i++) {
      c->header[i] = mx__strndup(c->fields[i], c->lens[i]);
      if (!c->header[i]) {
        mx_csv_close(c);
        return mx_error_set(err, MX_ENOMEM, "out of memory");
      }
    }
    if ((rc = check_duplicate_names(c, err)) != 0) {
      mx_csv_close(c);
      return rc;
    }
  }
  *out = c;
  return MX_OK;
}

void mx_csv_close(mx_csv *c) {
  if (!c) return;
  if (c->gz) gzclose(c->gz);
  for (size_t i = 0; i < c->nheader; i++) free(c->header[i]);
  free(c->header);
  free(c->fields);
  free(c->lens);
  if (!c->borrowed) {
    free(c->buf);
    free(c->path);
  }
  free(c);
}

/* ---- blocks of whole records, parsed by several threads
 *
 * A record boundary is a newline outside quotes. Where a stretch holds no
 * quote at all, any newline is one (found with memchr/memrchr); otherwise the
 * records are walked with the same quote-aware scan as mx_csv_next, from a
 * boundary already known. So a window splits exactly where the sequential
 * reader would, quoted newlines included. */

/* The end (one past the newline) of the last whole record of c->buf[from,
 * to), or from when there is none. c is not changed. */
static size_t last_boundary(const mx_csv *c, size_t from, size_t to) {
  const char *b = c->buf;
  const char *nl = memrchr(b + from, '\n', to - from);
  if (!nl) return from;
  if (!memchr(b + from, '"', (size_t)(nl - (b + from)))) return (size_t)(nl - b) + 1;
  mx_csv w = *c;
  w.end = to;
  w.eof = 0; /* a record running past `to` is not whole */
  size_t cut = from;
  for (w.pos = from; w.pos < to;) {
    size_t rec_end;
    long nls;
    int quoted;
    if (find_record_end(&w, &rec_end, &nls, &quoted, NULL) != 1) break;
    cut = rec_end + 1;
    w.pos = cut;
  }
  return cut;
}

int mx__csv_take_block(mx_csv *c, size_t want, char **data, size_t *len, long *first_line,
                      mx_error *err) {
  if (c->borrowed) return mx_error_set(err, MX_EINVAL, "a window has no blocks");
  if (c->cap < want) {
    char *nb = realloc(c->buf, want + 1);
    if (!nb) return mx_error_set(err, MX_ENOMEM, "out of memory reading %s", c->path);
    c->buf = nb;
    c->cap = want;
  }
  for (;;) {
    /* fill the buffer (fill() grows it when one record fills it) */
    while (!c->eof && (c->pos > 0 || c->end < c->cap)) {
      size_t before = c->end - c->pos;
      int rc = fill(c, err);
      if (rc) return rc;
      if (c->end - c->pos == before && !c->eof) break;
    }
    if (c->pos >= c->end) return 0;
    size_t cut = c->eof ? c->end : last_boundary(c, c->pos, c->end);
    if (cut == c->pos) {
      /* no whole record in a full buffer: grow it (fill() refuses past max_line) */
      int rc = fill(c, err);
      if (rc) return rc;
      continue;
    }
    *data = c->buf + c->pos;
    *len = cut - c->pos;
    *first_line = c->line;
    c->pos = cut;
    return 1;
  }
}

void mx__csv_block_done(mx_csv *c, long lines) { c->line += lines; }

void mx__csv_split_block(const mx_csv *c, char *data, size_t len, int parts, size_t *cuts) {
  mx_csv w = *c;
  w.buf = data;
  w.pos = 0;
  w.end = len;
  cuts[0] = 0;
  for (int k = 1; k < parts; k++) {
    size_t target = len / (size_t)parts * (size_t)k, from = cuts[k - 1];
    size_t cut = len;
    if (target < from) target = from;
    const char *nl = target < len ? memchr(data + target, '\n', len - target) : NULL;
    if (nl) {
      size_t after = (size_t)(nl - data) + 1;
      /* the first boundary at or past target: the next newline, when no
       * quote lies between the previous cut and it; else walk records */
      if (!memchr(data + from, '"', (size_t)(nl - (data + from)))) {
        cut = after;
      } else {
        w.eof = 1;
        for (w.pos = from; w.pos < len;) {
          size_t rec_end;
          long nls;
          int quoted;
          if (find_record_end(&w, &rec_end, &nls, &quoted, NULL) != 1) break;
          w.pos = rec_end < len ? rec_end + 1 : len;
          if (w.pos >= target) break;
        }
        cut = w.pos;
      }
    }
    cuts[k] = cut;
  }
  cuts[parts] = len;
}

int mx__csv_window_open(const mx_csv *parent, char *data, size_t len, long first_line,
                       mx_csv **out, mx_error *err) {
  *out = NULL;
  mx_csv *c = calloc(1, sizeof *c);
  if (!c) return mx_error_set(err, MX_ENOMEM, "out of memory");
  c->opt = parent->opt;
  c->path = parent->path;
  c->sep = parent->sep;
  c->buf = data;
  c->cap = c->end = len;
  c->eof = 1;
  c->line = first_line;
  c->fd = -1;
  c->borrowed = 1;
  c->file_size = parent->file_size;
  *out = c;
  return MX_OK;
}

long mx__csv_next_line(const mx_csv *c) { return c->line; }

int mx_csv_next(mx_csv *c, char ***fields, size_t **lens, size_t *nfields, mx_error *err) {
  size_t nf = 0;
  int r = read_record(c, &nf, err);
  if (r <= 0) {
    *nfields = 0;
    return r;
  }
  *fields = c->fields;
  *lens = c->lens;
  *nfields = nf;
  return 1;
}

size_t mx_csv_header(const mx_csv *c, const char *const **names) {
  if (names) *names = (const char *const *)c->header;
  return c->nheader;
}

long mx_csv_line(const mx_csv *c) { return c->record_line; }
const char *mx_csv_path(const mx_csv *c) { return c->path; }
char mx_csv_sep(const mx_csv *c) { return c->sep; }
uint64_t mx_csv_file_size(const mx_csv *c) { return c->file_size; }
uint64_t mx_csv_bytes_read(const mx_csv *c) {
  z_off_t off = gzoffset(c->gz);
  return off > 0 ? (uint64_t)off : 0;
}

void mx_csv_write_field(FILE *f, const char *s, char sep) {
  int need = 0;
  for (const char *p = s; *p; p++)
    if (*p == sep || *p == '"' || *p == '\n' || *p == '\r') { need = 1; break; }
  if (!need) { fputs(s, f); return; }
  fputc('"', f);
  for (const char *p = s; *p; p++) {
    if (*p == '"') fputc('"', f);
    fputc(*p, f);
  }
  fputc('"', f);
}

void mx_csv_write_row(FILE *f, const char *const *fields, size_t n, char sep) {
  for (size_t k = 0; k < n; k++) {
    if (k) fputc(sep, f);
    mx_csv_write_field(f, fields[k], sep);
  }
  fputc('\n', f);
}

/* Factor tables as Spark writes them (merx/model.h, mx_spark_factors_read):
 * the folder of part files of `model.userFactors.write.json(DIR)` (JSON
 * Lines {"id": 12, "features": [0.1, ...]}, .gz when written with
 * compression) or of a CSV with an id column and the features as one field
 * (`array_join(features, ' ')` or `to_json(features)`). Spark's
 * bookkeeping files (_SUCCESS, _committed_*, .crc checksums) are skipped;
 * parts are read in name order, so the rows are in a stable order. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "merx/model.h"
#include "util/util.h"

typedef struct table {
  mx_idmap *ids;
  float *data;
  uint64_t rows, cap;
  uint32_t rank;
  int id_type; /* 0 unknown, 1 integer, 2 string */
  const char *file;
  long line;
} table;

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_row(table *t, const char *id, size_t len, const float *v, uint32_t rank,
                   mx_error *err) {
  if (t->rank == 0) t->rank = rank;
  if (rank != t->rank)
    return mx_error_at(err, MX_EPARSE, t->file, t->line, 0, "features",
                       "%u features, but earlier rows have %u (the rank)", rank, t->rank);
  uint32_t before = mx_idmap_size(t->ids);
  if (mx_idmap_intern(t->ids, id, len) < 0) return mx_error_set(err, MX_ENOMEM, "out of memory");
  if (mx_idmap_size(t->ids) == before)
    return mx_error_at(err, MX_EPARSE, t->file, t->line, 0, "id", "id '%.*s' appears twice",
                       (int)(len > 64 ? 64 : len), id);
  if (t->rows == t->cap) {
    uint64_t nc = t->cap ? 2 * t->cap : 1024;
    float *nd = realloc(t->data, nc * rank * sizeof *nd);
    if (!nd) return mx_error_set(err, MX_ENOMEM, "out of memory");
    t->data = nd;
    t->cap = nc;
  }
  memcpy(t->data + t->rows * rank, v, rank * sizeof *v);
  t->rows++;
  return MX_OK;
}

static int check_value(table *t, double d, uint32_t k, mx_error *err) {
  if (!isfinite(d) || fabs(d) > 3.4e38)
    return mx_error_at(err, MX_EPARSE, t->file, t->line, 0, "features",
                       "feature %u is not a finite float", k + 1);
  return MX_OK;
}

/* One JSON line: {"id": integer or string, "features": [numbers]}. */
static int json_line(table *t, const char *s, size_t n, float **vec, uint32_t *vcap,
                     mx_error *err) {
  json_error_t je;
  json_t *o = json_loadb(s, n, 0, &je);
  if (!o) return mx_error_at(err, MX_EPARSE, t->file, t->line, je.column, NULL, "%s", je.text);
  int rc = MX_OK;
  json_t *id = json_object_get(o, "id"), *f = json_object_get(o, "features");
  char num[32];
  const char *ids = NULL;
  size_t idlen = 0;
  int type = 0;
  if (!json_is_object(o)) {
    rc = mx_error_at(err, MX_EPARSE, t->file, t->line, 0, NULL, "not a JSON object");
  } else if (json_is_integer(id)) {
    idlen = (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
    ids = num;
    type = 1;
  } else if (json_is_string(id) && json_string_length(id) > 0) {
    ids = json_string_value(id);
    idlen = json_string_length(id);
    type = 2;
  } else {
    rc = mx_error_at(err, MX_EPARSE, t->file, t->line, 0, "id",
                     id ? "must be an integer or a non-empty string" : "missing");
  }
  if (rc == MX_OK && t->id_type && type != t->id_type)
    rc = mx_error_at(err, MX_EPARSE, t->file, t->line, 0, "id", "a %s, but earlier ids are %ss",
                     type == 1 ? "number" : "string", t->id_type == 1 ? "number" : "string");
  if (rc == MX_OK && (!json_is_array(f) || json_array_size(f) == 0 ||
                      json_array_size(f) > 65536))
    rc = mx_error_at(err, MX_EPARSE, t->file, t->line, 0, "features",
                     f ? "must be a non-empty array of numbers" : "missing");
  uint32_t rank = rc == MX_OK ? (uint32_t)json_array_size(f) : 0;
  if (rc == MX_OK && rank > *vcap) {
    float *nv = realloc(*vec, rank * sizeof *nv);
    if (!nv) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    else {
      *vec = nv;
      *vcap = rank;
    }
  }
  for (uint32_t k = 0; rc == MX_OK && k < rank; k++) {
    json_t *x = json_array_get(f, k);
    if (!json_is_number(x))
      rc = mx_error_at(err, MX_EPARSE, t->file, t->line, 0, "features",
                       "feature %u is not a number", k + 1);
    else if ((rc = check_value(t, json_number_value(x), k, err)) == MX_OK)
      (*vec)[k] = (float)json_number_value(x);
  }
  if (rc == MX_OK) {
    t->id_type = type;
    rc = add_row(t, ids, idlen, *vec, rank, err);
  }
  json_decref(o);
  return rc;
}

static int read_json_part(table *t, const char *path, mx_error *err) {
  char *buf;
  size_t len;
  int rc = mx__read_file(path, &buf, &len, err);
  if (rc != MX_OK) return rc;
  float *vec = NULL;
  uint32_t vcap = 0;
  t->file = path;
  t->line = 0;
  for (char *p = buf, *end = buf + len; rc == MX_OK && p < end;) {
    char *nl = memchr(p, '\n', (size_t)(end - p));
    char *e = nl ? nl : end;
    t->line++;
    size_t n = (size_t)(e - p);
    while (n && (p[n - 1] == '\r' || p[n - 1] == ' ')) n--;
    if (n) rc = json_line(t, p, n, &vec, &vcap, err);
    p = nl ? nl + 1 : end;
  }
  free(vec);
  free(buf);
  return rc;
}

/* A features field: "[0.1,0.2]" (to_json) or numbers separated by spaces,
 * commas or semicolons (array_join). */
static int parse_features(table *t, const char *s, float **vec, uint32_t *vcap, uint32_t *rank,
                          mx_error *err) {
  while (*s == ' ') s++;
  int bracket = *s == '[';
  if (bracket) s++;
  uint32_t k = 0;
  for (;;) {
    while (*s == ' ' || *s == ',' || *s == ';') s++;
    if (!*s || (bracket && *s == ']')) break;
    char *endp;
    errno = 0;
    double d = strtod(s, &endp);
    if (endp == s)
      return mx_error_at(err, MX_EPARSE, t->file, t->line, 0, "features",
                         "feature %u is not a number: '%.20s'", k + 1, s);
    int rc = check_value(t, d, k, err);
    if (rc != MX_OK) return rc;
    if (k == *vcap) {
      uint32_t nc = *vcap ? 2 * *vcap : 64;
      float *nv = realloc(*vec, nc * sizeof *nv);
      if (!nv) return mx_error_set(err, MX_ENOMEM, "out of memory");
      *vec = nv;
      *vcap = nc;
    }
    (*vec)[k++] = (float)d;
    s = endp;
    if (*s && *s != ' ' && *s != ',' && *s != ';' && !(bracket && *s == ']'))
      return mx_error_at(err, MX_EPARSE, t->file, t->line, 0, "features",
                         "feature %u is not a number", k);
  }
  if (k == 0)
    return mx_error_at(err, MX_EPARSE, t->file, t->line, 0, "features", "no features");
  *rank = k;
  return MX_OK;
}

static int read_csv_part(table *t, const char *path, mx_error *err) {
  mx_csv_options co = mx_csv_defaults();
  mx_csv *csv;
  int rc = mx_csv_open(path, &co, &csv, err);
  if (rc != MX_OK) return rc;
  const char *const *h;
  size_t nh = mx_csv_header(csv, &h), ci = nh, cf = nh;
  for (size_t k = 0; k < nh; k++) {
    if (!strcmp(h[k], "id")) ci = k;
    if (!strcmp(h[k], "features")) cf = k;
  }
  if (ci == nh || cf == nh) {
    mx_csv_close(csv);
    return mx_error_at(err, MX_EPARSE, path, 1, 0, NULL,
                       "needs a header with columns 'id' and 'features'");
  }
  float *vec = NULL;
  uint32_t vcap = 0;
  char **f;
  size_t *l, nf;
  t->file = path;
  int r = 0;
  while (rc == MX_OK && (r = mx_csv_next(csv, &f, &l, &nf, err)) == 1) {
    t->line = mx_csv_line(csv);
    if (ci >= nf || cf >= nf || l[ci] == 0) {
      rc = mx_error_at(err, MX_EPARSE, path, t->line, (long)ci + 1, "id", "missing id");
      break;
    }
    /* ids are text in a CSV; a number like 12.0 is refused, as Spark writes ints */
    uint32_t rank = 0;
    if ((rc = parse_features(t, f[cf], &vec, &vcap, &rank, err)) == MX_OK)
      rc = add_row(t, f[ci], l[ci], vec, rank, err);
  }
  if (rc == MX_OK && r < 0) rc = r;
  free(vec);
  mx_csv_close(csv);
  return rc;
}

int mx_spark_factors_read(const char *path, int format, mx_idmap *ids, float **data,
                          uint64_t *rows, uint64_t *cols, mx_error *err) {
  *data = NULL;
  *rows = *cols = 0;
  if (format != MX_SPARK_JSON && format != MX_SPARK_CSV)
    return mx_error_set(err, MX_EINVAL, "unknown Spark table format %d", format);
  table t;
  memset(&t, 0, sizeof t);
  t.ids = ids;
  struct stat st;
  if (stat(path, &st) != 0)
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot open: %s", strerror(errno));
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = MX_OK;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    if (!d) return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "cannot open: %s", strerror(errno));
    const char *ext = format == MX_SPARK_JSON ? ".json" : ".csv";
    char gz[16];
    snprintf(gz, sizeof gz, "%s.gz", ext);
    struct dirent *e;
    while (rc == MX_OK && (e = readdir(d))) {
      /* _SUCCESS, _committed_*, .part-*.crc and other bookkeeping */
      if (e->d_name[0] == '_' || e->d_name[0] == '.' || ends_with(e->d_name, ".crc")) continue;
      if (!ends_with(e->d_name, ext) && !ends_with(e->d_name, gz)) continue;
      if (n == cap) {
        size_t nc = cap ? 2 * cap : 16;
        char **nn = realloc(names, nc * sizeof *nn);
        if (!nn) {
          rc = mx_error_set(err, MX_ENOMEM, "out of memory");
          break;
        }
        names = nn;
        cap = nc;
      }
      size_t k = strlen(path) + strlen(e->d_name) + 2;
      if (!(names[n] = malloc(k))) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      else snprintf(names[n++], k, "%s/%s", path, e->d_name);
    }
    closedir(d);
    if (rc == MX_OK && n == 0)
      rc = mx_error_at(err, MX_EINVAL, path, 0, 0, NULL, "no part files (*%s or *%s) in the folder",
                       ext, gz);
    if (rc == MX_OK) qsort(names, n, sizeof *names, by_name);
  } else {
    names = malloc(sizeof *names);
    if (!names || !(names[0] = mx__strdup(path))) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    else n = 1;
  }
  for (size_t i = 0; rc == MX_OK && i < n; i++)
    rc = format == MX_SPARK_JSON ? read_json_part(&t, names[i], err) : read_csv_part(&t, names[i], err);
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  if (rc == MX_OK && t.rows == 0) rc = mx_error_at(err, MX_EINVAL, path, 0, 0, NULL, "no rows");
  if (rc == MX_OK) {
    *data = mx_alloc_aligned(t.rows * t.rank * sizeof(float), 0);
    if (!*data) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    else {
      memcpy(*data, t.data, t.rows * t.rank * sizeof(float));
      *rows = t.rows;
      *cols = t.rank;
    }
  }
  free(t.data);
  return rc;
}

/* Product search (merx/search.h): loading an embedding index and a
 * catalogue, filtering rows, and ranking a query blended with a user's taste
 * on z-scores. */
#include "merx/search.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "merx/model.h"
#include "util/util.h"

/* ------------------------------------------------------- embedding index */

static int read_meta(const char *path, mx_embed_index *ix, mx_error *err) {
  json_error_t je;
  json_t *root = json_load_file(path, 0, &je);
  if (!root)
    return mx_error_at(err, MX_EIO, path, je.line > 0 ? je.line : 0, 0, NULL,
                       "cannot read the index metadata: %s", je.text);
  const char *e = json_string_value(json_object_get(root, "embedder"));
  int rc = MX_OK;
  if (!e || strlen(e) >= sizeof ix->embedder) {
    rc = mx_error_at(err, MX_EFORMAT, path, 0, 0, "embedder", "missing or invalid");
  } else {
    snprintf(ix->embedder, sizeof ix->embedder, "%s", e);
    const char *s;
    if ((s = json_string_value(json_object_get(root, "base_url"))))
      snprintf(ix->base_url, sizeof ix->base_url, "%s", s);
    if ((s = json_string_value(json_object_get(root, "model"))))
      snprintf(ix->model, sizeof ix->model, "%s", s);
    if ((s = json_string_value(json_object_get(root, "key_env"))))
      snprintf(ix->key_env, sizeof ix->key_env, "%s", s);
    ix->dimensions = (uint32_t)json_integer_value(json_object_get(root, "dimensions"));
  }
  json_decref(root);
  return rc;
}

static int read_ids(const char *path, mx_idmap **out, mx_error *err) {
  char *buf;
  size_t len;
  int rc = mx__read_file(path, &buf, &len, err);
  if (rc) return rc;
  mx_idmap *m = mx_idmap_create();
  if (!m) {
    free(buf);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  char *p = buf;
  long line = 0;
  while (p < buf + len) {
    char *nl = memchr(p, '\n', (size_t)(buf + len - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(buf + len - p);
    line++;
    uint32_t before = mx_idmap_size(m);
    if (mx_idmap_intern(m, p, n) != (int64_t)before) {
      mx_idmap_free(m);
      free(buf);
      return mx_error_at(err, MX_EFORMAT, path, line, 0, NULL, "repeated or empty id");
    }
    p += n + 1;
  }
  free(buf);
  *out = m;
  return MX_OK;
}

/* EMB.texts: one text per line, row order; absent: every text "". */
static int read_texts(const char *path, mx_embed_index *ix) {
  size_t len = 0;
  mx_error e;
  if (mx__read_file(path, &ix->texts_buf, &len, &e) != MX_OK) ix->texts_buf = NULL;
  ix->texts = calloc(ix->n ? ix->n : 1, sizeof *ix->texts);
  if (!ix->texts) return -1;
  char *p = ix->texts_buf, *end = ix->texts_buf ? ix->texts_buf + len : NULL;
  for (uint64_t i = 0; i < ix->n; i++) {
    if (p && p < end) {
      char *nl = memchr(p, '\n', (size_t)(end - p));
      if (nl) *nl = 0;
      ix->texts[i] = p;
      p = nl ? nl + 1 : end;
    } else {
      ix->texts[i] = (char *)"";
    }
  }
  return 0;
}

void mx_embed_index_free(mx_embed_index *ix) {
  if (!ix) return;
  mx_free_aligned(ix->rows);
  mx_idmap_free(ix->ids);
  free(ix->texts);
  free(ix->texts_buf);
  free(ix);
}

int mx_embed_index_load(const char *npy, mx_embed_index **out, mx_error *err) {
  *out = NULL;
  mx_embed_index *ix = calloc(1, sizeof *ix);
  if (!ix) return mx_error_set(err, MX_ENOMEM, "out of memory");
  char ids_path[1200], meta_path[1200], texts_path[1200];
  mx_embed_sidecar(npy, ".ids", ids_path, sizeof ids_path);
  mx_embed_sidecar(npy, ".meta.json", meta_path, sizeof meta_path);
  mx_embed_sidecar(npy, ".texts", texts_path, sizeof texts_path);
  int rc;
  if ((rc = read_meta(meta_path, ix, err)) || (rc = read_ids(ids_path, &ix->ids, err)) ||
      (rc = mx_npy_read(npy, &ix->rows, &ix->n, &ix->dim, err)) ||
      (rc = mx_embed_check(npy, ix->rows, ix->n, ix->dim, err)))
    goto fail;
  if (ix->n != mx_idmap_size(ix->ids)) {
    rc = mx_error_at(err, MX_EFORMAT, ids_path, 0, 0, NULL, "%u ids for %llu rows of %s",
                     mx_idmap_size(ix->ids), (unsigned long long)ix->n, npy);
    goto fail;
  }
  if (read_texts(texts_path, ix) != 0) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto fail;
  }
  *out = ix;
  return MX_OK;
fail:
  mx_embed_index_free(ix);
  return rc;
}

/* ---------------------------------------------------------- catalogue */

void mx_catalog_free(mx_catalog *c) {
  if (!c) return;
  mx_idmap_free(c->items);
  mx_idmap_free(c->categories);
  free(c->price);
  free(c->in_stock);
  free(c->category);
  free(c);
}

/* "1"/"true"/"yes" or a count > 0: 1; "0"/"false"/"no" or a count <= 0: 0;
 * empty: -1 (unknown); anything else: -2. */
static int parse_stock(const char *s) {
  if (!*s) return -1;
  if (!strcasecmp(s, "true") || !strcasecmp(s, "yes")) return 1;
  if (!strcasecmp(s, "false") || !strcasecmp(s, "no")) return 0;
  double v;
  if (mx_parse_double(s, &v) != 0) return -2;
  return v > 0;
}

static int catalog_grow(mx_catalog *c, size_t *cap, size_t need) {
  if (need <= *cap) return 0;
  size_t nc = *cap ? *cap * 2 : 1024;
  double *p = realloc(c->price, nc * sizeof *p);
  if (p) c->price = p;
  signed char *s = realloc(c->in_stock, nc);
  if (s) c->in_stock = s;
  uint32_t *g = realloc(c->category, nc * sizeof *g);
  if (g) c->category = g;
  if (!p || !s || !g) return -1;
  *cap = nc;
  return 0;
}

int mx_catalog_load(const char *path, mx_catalog **out, mx_error *err) {
  *out = NULL;
  mx_csv_options o = mx_csv_defaults();
  mx_csv *csv;
  int rc = mx_csv_open(path, &o, &csv, err);
  if (rc) return rc;
  mx_catalog *c = calloc(1, sizeof *c);
  if (!c || !(c->items = mx_idmap_create()) || !(c->categories = mx_idmap_create())) {
    mx_catalog_free(c);
    mx_csv_close(csv);
    return mx_error_set(err, MX_ENOMEM, "out of memory");
  }
  const char *const *names;
  size_t nh = mx_csv_header(csv, &names);
  int col_item = -1, col_price = -1, col_stock = -1, col_cat = -1;
  for (size_t i = 0; i < nh; i++) {
    if (!strcmp(names[i], "item")) col_item = (int)i;
    else if (!strcmp(names[i], "price")) col_price = (int)i;
    else if (!strcmp(names[i], "in_stock") || !strcmp(names[i], "stock")) col_stock = (int)i;
    else if (!strcmp(names[i], "category")) col_cat = (int)i;
  }
  size_t cap = 0;
  if (col_item < 0) {
    rc = mx_error_at(err, MX_ENOTFOUND, path, 1, 0, "item", "the catalogue needs an item column");
    goto fail;
  }
  char **f;
  size_t *lens, nf;
  int got;
  while ((got = mx_csv_next(csv, &f, &lens, &nf, err)) == 1) {
    long line = mx_csv_line(csv);
    if ((size_t)col_item >= nf || lens[col_item] == 0) {
      rc = mx_error_at(err, MX_EPARSE, path, line, col_item + 1, "item", "empty item id");
      goto fail;
    }
    uint32_t before = mx_idmap_size(c->items);
    int64_t id = mx_idmap_intern(c->items, f[col_item], lens[col_item]);
    if (id < 0 || catalog_grow(c, &cap, (size_t)before + 1) != 0) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto fail;
    }
    if (id != (int64_t)before) {
      rc = mx_error_at(err, MX_EPARSE, path, line, col_item + 1, "item", "repeated item '%s'",
                       f[col_item]);
      goto fail;
    }
    double price = NAN;
    if (col_price >= 0 && (size_t)col_price < nf && lens[col_price] > 0 &&
        mx_parse_double(f[col_price], &price) != 0) {
      rc = mx_error_at(err, MX_EPARSE, path, line, col_price + 1, "price", "not a number: '%s'",
                       f[col_price]);
      goto fail;
    }
    int stock = -1;
    if (col_stock >= 0 && (size_t)col_stock < nf && (stock = parse_stock(f[col_stock])) == -2) {
      rc = mx_error_at(err, MX_EPARSE, path, line, col_stock + 1, names[col_stock],
                       "not a count or true/false: '%s'", f[col_stock]);
      goto fail;
    }
    uint32_t cat = UINT32_MAX;
    if (col_cat >= 0 && (size_t)col_cat < nf && lens[col_cat] > 0) {
      int64_t ci = mx_idmap_intern(c->categories, f[col_cat], lens[col_cat]);
      if (ci < 0) {
        rc = mx_error_set(err, MX_ENOMEM, "out of memory");
        goto fail;
      }
      cat = (uint32_t)ci;
    }
    c->price[before] = price;
    c->in_stock[before] = (signed char)stock;
    c->category[before] = cat;
  }
  if (got < 0) {
    rc = got;
    goto fail;
  }
  mx_csv_close(csv);
  *out = c;
  return MX_OK;
fail:
  mx_csv_close(csv);
  mx_catalog_free(c);
  return rc;
}

/* --------------------------------------------------------------- filter */

mx_search_filter mx_search_filter_defaults(void) {
  mx_search_filter f = {-INFINITY, INFINITY, 0, NULL};
  return f;
}

size_t mx_search_filter_rows(const mx_embed_index *ix, const mx_catalog *cat,
                             const mx_search_filter *f, unsigned char *keep) {
  int by_price = f->price_min > -INFINITY || f->price_max < INFINITY;
  int any = by_price || f->in_stock || f->category;
  int64_t want_cat = -1;
  if (f->category && cat) want_cat = mx_idmap_find(cat->categories, f->category, strlen(f->category));
  size_t pass = 0;
  for (uint64_t i = 0; i < ix->n; i++) {
    int ok = 1;
    if (any) {
      const char *id = mx_idmap_name(ix->ids, (uint32_t)i);
      int64_t p = cat ? mx_idmap_find(cat->items, id, strlen(id)) : -1;
      if (p < 0) {
        ok = 0;
      } else {
        if (by_price && !(cat->price[p] >= f->price_min && cat->price[p] <= f->price_max)) ok = 0;
        if (f->in_stock && cat->in_stock[p] != 1) ok = 0;
        if (f->category && (want_cat < 0 || cat->category[p] != (uint32_t)want_cat)) ok = 0;
      }
    }
    keep[i] = (unsigned char)ok;
    pass += (size_t)ok;
  }
  return pass;
}

/* -------------------------------------------------------------- ranking */

static float cosine(const float *r, const float *q, uint64_t dim, double qn) {
  double dot = 0, rn = 0;
  for (uint64_t t = 0; t < dim; t++) {
    dot += (double)r[t] * q[t];
    rn += (double)r[t] * r[t];
  }
  return rn > 0 && qn > 0 ? (float)(dot / (sqrt(rn) * qn)) : 0.0f;
}

/* Mean and standard deviation of v over kept rows (only finite values). */
static void moments(const float *v, const unsigned char *keep, uint64_t n, double *mean,
                    double *sd) {
  double s = 0, s2 = 0;
  size_t c = 0;
  for (uint64_t i = 0; i < n; i++)
    if ((!keep || keep[i]) && isfinite(v[i])) {
      s += v[i];
      s2 += (double)v[i] * v[i];
      c++;
    }
  *mean = c ? s / (double)c : 0;
  double var = c > 1 ? (s2 - s * s / (double)c) / (double)(c - 1) : 0;
  *sd = var > 0 ? sqrt(var) : 0;
}

int mx_search_rank(const mx_embed_index *ix, const mx_search_query *q, uint32_t *idx,
                   float *score, size_t *count, mx_error *err) {
  size_t k = q->k, got = 0;
  *count = 0;
  if (k == 0 || ix->n == 0) return MX_OK;
  double qn = 0;
  for (uint64_t t = 0; t < ix->dim; t++) qn += (double)q->vector[t] * q->vector[t];
  qn = sqrt(qn);
  float *cs = NULL;
  double cm = 0, csd = 0, tm = 0, tsd = 0, w = q->blend;
  if (q->taste) {
    /* two passes: the z-scores need the moments of the candidates' cosines */
    cs = malloc(ix->n * sizeof *cs);
    if (!cs) return mx_error_set(err, MX_ENOMEM, "out of memory");
    for (uint64_t i = 0; i < ix->n; i++)
      cs[i] = !q->keep || q->keep[i] ? cosine(ix->rows + i * ix->dim, q->vector, ix->dim, qn) : 0;
    moments(cs, q->keep, ix->n, &cm, &csd);
    moments(q->taste, q->keep, ix->n, &tm, &tsd);
  }
  for (uint64_t i = 0; i < ix->n; i++) {
    if (q->keep && !q->keep[i]) continue;
    float s;
    if (!cs) {
      s = cosine(ix->rows + i * ix->dim, q->vector, ix->dim, qn);
    } else {
      double zc = csd > 0 ? (cs[i] - cm) / csd : 0;
      double zt = isfinite(q->taste[i]) && tsd > 0 ? (q->taste[i] - tm) / tsd : 0;
      s = (float)((1 - w) * zc + w * zt);
    }
    /* keep the best k: insertion into a short sorted list */
    if (got == k && !(s > score[k - 1])) continue;
    size_t p = got < k ? got++ : k - 1;
    while (p > 0 && s > score[p - 1]) {
      score[p] = score[p - 1];
      idx[p] = idx[p - 1];
      p--;
    }
    score[p] = s;
    idx[p] = (uint32_t)i;
  }
  free(cs);
  *count = got;
  return MX_OK;
}

void mx_search_taste(const mx_embed_index *ix, const mx_model *m, uint32_t u, float *taste) {
  for (uint64_t i = 0; i < ix->n; i++) {
    const char *id = mx_idmap_name(ix->ids, (uint32_t)i);
    int64_t it = mx_idmap_find(m->items, id, strlen(id));
    taste[i] = it < 0 ? NAN : mx_model_predict(m, u, (uint32_t)it);
  }
}

/* Product search (merx/search.h): the query dominates a user's taste at the
 * default blend, the blend weight still moves the ranking, filters from the
 * catalogue, and catalogue errors naming file, line and field. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/embed.h"
#include "merx/search.h"
#include "util/util.h"

/* 8 lanterns and 8 cake stands embedded with the built-in embedder. */
static const char *texts[] = {
    "white metal lantern",        "red metal lantern",         "silver hanging lantern",
    "antique glass lantern",      "moroccan tea light lantern","zinc garden lantern",
    "star lantern with candle",   "small black lantern",       "three tier cake stand",
    "pink polkadot cake stand",   "regency cake stand",        "glass cake stand with dome",
    "vintage cake stand",         "heart cake stand",          "red retrospot cake stand",
    "sweetheart cake stand"};
#define N 16

static mx_embed_index *make_index(void) {
  mx_embed_index *ix = calloc(1, sizeof *ix);
  assert_non_null(ix);
  mx_builtin_embed_options o = mx_builtin_embed_defaults();
  ix->n = N;
  ix->dim = o.dim;
  ix->rows = mx_alloc_aligned(N * o.dim * sizeof(float), 1);
  mx_error err;
  assert_int_equal(mx_builtin_embed(texts, N, &o, 1, ix->rows, &err), MX_OK);
  ix->ids = mx_idmap_create();
  char id[16];
  for (int i = 0; i < N; i++) {
    snprintf(id, sizeof id, "P%02d", i);
    assert_int_equal(mx_idmap_intern(ix->ids, id, strlen(id)), i);
  }
  ix->texts = calloc(N, sizeof *ix->texts);
  for (int i = 0; i < N; i++) ix->texts[i] = (char *)texts[i];
  return ix;
}

static void embed_query(const char *text, float *q) {
  mx_builtin_embed_options o = mx_builtin_embed_defaults();
  mx_error err;
  assert_int_equal(mx_builtin_embed(&text, 1, &o, 1, q, &err), MX_OK);
}

/* A shopper who buys cake stands: collaborative scores on the scale ALS
 * gives (cake stands around 0.9, lanterns around 0.05; one unknown item). */
static void cake_taste(float *taste) {
  for (int i = 0; i < N; i++) taste[i] = i < 8 ? 0.05f + 0.01f * (float)i : 0.9f + 0.01f * (float)i;
  taste[3] = NAN;
}

static void test_query_dominates_taste_at_default(void **state) {
  (void)state;
  mx_embed_index *ix = make_index();
  float q[256], taste[N], score[5];
  uint32_t idx[5];
  size_t got;
  mx_error err;
  embed_query("lantern", q);
  cake_taste(taste);
  mx_search_query sq = {q, taste, MX_SEARCH_BLEND_DEFAULT, NULL, 5};
  assert_int_equal(mx_search_rank(ix, &sq, idx, score, &got, &err), MX_OK);
  assert_int_equal(got, 5);
  for (size_t r = 0; r < got; r++) assert_true(idx[r] < 8); /* lanterns only */
  for (size_t r = 1; r < got; r++) assert_true(score[r - 1] >= score[r]);
  /* the taste still counts: a weight of 0.9 puts the cake stands first */
  sq.blend = 0.9;
  assert_int_equal(mx_search_rank(ix, &sq, idx, score, &got, &err), MX_OK);
  for (size_t r = 0; r < got; r++) assert_true(idx[r] >= 8);
  /* the former blend, 0.5 * cosine + 0.5 * taste min-max scaled to 0..1
   * (the weight docs/cli/search.md's example used; the "0.5 default"),
   * ranks cake stands above every lantern for this query: cosines of text
   * spread over a few tenths while the scaled taste spans 0..1 */
  float cs[N];
  uint32_t all[N];
  mx_search_query plain = {q, NULL, 0, NULL, N};
  assert_int_equal(mx_search_rank(ix, &plain, all, cs, &got, &err), MX_OK);
  assert_int_equal(got, N);
  float cosine_of[N], lo = INFINITY, hi = -INFINITY;
  for (size_t r = 0; r < got; r++) cosine_of[all[r]] = cs[r];
  for (int i = 0; i < N; i++)
    if (!isnan(taste[i])) {
      lo = fminf(lo, taste[i]);
      hi = fmaxf(hi, taste[i]);
    }
  int cakes_first = 0; /* cake stands the former blend ranks above every lantern */
  double best_lantern = 0;
  for (int i = 0; i < 8; i++) {
    double t = isnan(taste[i]) ? 0 : (taste[i] - lo) / (hi - lo);
    best_lantern = fmax(best_lantern, 0.5 * cosine_of[i] + 0.5 * t);
  }
  for (int i = 8; i < N; i++)
    cakes_first += 0.5 * cosine_of[i] + 0.5 * (taste[i] - lo) / (hi - lo) > best_lantern;
  assert_true(cakes_first > 0);
  mx_embed_index_free(ix);
}

static void test_blend_zero_is_cosine_order(void **state) {
  (void)state;
  mx_embed_index *ix = make_index();
  float q[256], taste[N], s1[N], s2[N];
  uint32_t i1[N], i2[N];
  size_t g1, g2;
  mx_error err;
  embed_query("red cake stand", q);
  cake_taste(taste);
  mx_search_query a = {q, NULL, 0, NULL, N}, b = {q, taste, 0, NULL, N};
  assert_int_equal(mx_search_rank(ix, &a, i1, s1, &g1, &err), MX_OK);
  assert_int_equal(mx_search_rank(ix, &b, i2, s2, &g2, &err), MX_OK);
  assert_int_equal(g1, g2);
  for (size_t r = 0; r < g1; r++) assert_int_equal(i1[r], i2[r]);
  assert_int_equal(i1[0], 14); /* "red retrospot cake stand" */
  mx_embed_index_free(ix);
}

static void test_filters(void **state) {
  (void)state;
  mx_embed_index *ix = make_index();
  const char *path = tu_write("catalog.csv",
                              "item,price,in_stock,category\n"
                              "P00,12.5,1,lighting\nP01,30,0,lighting\nP02,8,3,lighting\n"
                              "P08,20,yes,kitchen\nP09,5,true,kitchen\nP14,,false,kitchen\n");
  mx_catalog *cat;
  mx_error err;
  assert_int_equal(mx_catalog_load(path, &cat, &err), MX_OK);
  unsigned char keep[N];
  mx_search_filter f = mx_search_filter_defaults();
  f.price_max = 15;
  assert_int_equal(mx_search_filter_rows(ix, cat, &f, keep), 3); /* P00, P02, P09 */
  assert_true(keep[0] && keep[2] && keep[9] && !keep[1] && !keep[14] && !keep[5]);
  f = mx_search_filter_defaults();
  f.in_stock = 1;
  f.category = "kitchen";
  assert_int_equal(mx_search_filter_rows(ix, cat, &f, keep), 2); /* P08, P09 */
  f.category = "garden";
  assert_int_equal(mx_search_filter_rows(ix, cat, &f, keep), 0);
  f = mx_search_filter_defaults();
  assert_int_equal(mx_search_filter_rows(ix, cat, &f, keep), N); /* no filter: every row */
  /* ranking over the kept rows only */
  float q[256], score[4];
  uint32_t idx[4];
  size_t got;
  embed_query("cake stand", q);
  f.price_max = 15;
  mx_search_filter_rows(ix, cat, &f, keep);
  mx_search_query sq = {q, NULL, 0, keep, 4};
  assert_int_equal(mx_search_rank(ix, &sq, idx, score, &got, &err), MX_OK);
  assert_int_equal(got, 3);
  assert_int_equal(idx[0], 9);
  mx_catalog_free(cat);
  mx_embed_index_free(ix);
}

static void test_catalog_errors_name_line_and_field(void **state) {
  (void)state;
  mx_catalog *cat;
  mx_error err;
  char buf[1600];
  const char *p = tu_write("bad_price.csv", "item,price\nA,1\nB,cheap\n");
  assert_int_equal(mx_catalog_load(p, &cat, &err), MX_EPARSE);
  mx_error_format(&err, buf, sizeof buf);
  assert_non_null(strstr(buf, "bad_price.csv:3:2: field 'price'"));
  p = tu_write("dup.csv", "item,in_stock\nA,1\nA,0\n");
  assert_int_equal(mx_catalog_load(p, &cat, &err), MX_EPARSE);
  assert_non_null(strstr(err.message, "repeated item 'A'"));
  assert_int_equal(err.line, 3);
  p = tu_write("stock.csv", "item,in_stock\nA,maybe\n");
  assert_int_equal(mx_catalog_load(p, &cat, &err), MX_EPARSE);
  assert_string_equal(err.field, "in_stock");
  p = tu_write("noitem.csv", "sku,price\nA,1\n");
  assert_int_equal(mx_catalog_load(p, &cat, &err), MX_ENOTFOUND);
}

int main(void) {
  tu_filters();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_query_dominates_taste_at_default),
      cmocka_unit_test(test_blend_zero_is_cosine_order),
      cmocka_unit_test(test_filters),
      cmocka_unit_test(test_catalog_errors_name_line_and_field),
  };
  return tu_exit(cmocka_run_group_tests(tests, NULL, NULL));
}

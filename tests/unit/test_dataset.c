/* Id map, dataset building (CSR by user and by item, aggregation) and
 * interaction ingest with its error messages. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/data.h"
#include "util/util.h"

static void test_idmap_million(void **s) {
  (void)s;
  mx_idmap *m = mx_idmap_create();
  char buf[32];
  const uint32_t n = 1000000;
  for (uint32_t i = 0; i < n; i++) {
    int len = snprintf(buf, sizeof buf, "id-%u", i * 7919u);
    assert_int_equal(mx_idmap_intern(m, buf, (size_t)len), i);
  }
  assert_int_equal(mx_idmap_size(m), n);
  /* interning again returns the same index; lookups find every id */
  for (uint32_t i = 0; i < n; i += 997) {
    int len = snprintf(buf, sizeof buf, "id-%u", i * 7919u);
    assert_int_equal(mx_idmap_intern(m, buf, (size_t)len), i);
    assert_int_equal(mx_idmap_find(m, buf, (size_t)len), i);
    assert_string_equal(mx_idmap_name(m, i), buf);
  }
  assert_int_equal(mx_idmap_find(m, "id-1", 4), -1);
  /* ids are strings: "17850.0" and "17850" differ */
  assert_int_not_equal(mx_idmap_intern(m, "17850.0", 7), mx_idmap_intern(m, "17850", 5));
  mx_idmap_free(m);
}

/* CSR from the builder equals a naive dense aggregation on random data. */
static void test_csr_against_naive(void **s) {
  (void)s;
  const int nu = 57, ni = 91, n = 5000;
  mx_rng r;
  mx__rng_seed(&r, 3);
  double *dense = calloc((size_t)nu * ni, sizeof *dense);
  int64_t *tmax = calloc((size_t)nu * ni, sizeof *tmax);
  mx_dataset_builder *b = mx_dataset_builder_create();
  char us[16], is[16];
  /* ids are interned in first-seen order, so remember each one's index */
  int uidx[57], iidx[91];
  for (int k = 0; k < nu; k++) uidx[k] = -1;
  for (int k = 0; k < ni; k++) iidx[k] = -1;
  int nextu = 0, nexti = 0;
  for (int k = 0; k < n; k++) {
    int u = (int)mx__rng_below(&r, nu), i = (int)mx__rng_below(&r, ni);
    float v = (float)(1 + mx__rng_below(&r, 5));
    int64_t t = (int64_t)mx__rng_below(&r, 100000);
    if (uidx[u] < 0) uidx[u] = nextu++;
    if (iidx[i] < 0) iidx[i] = nexti++;
    snprintf(us, sizeof us, "u%d", u);
    snprintf(is, sizeof is, "i%d", i);
    assert_int_equal(mx_dataset_builder_add(b, us, strlen(us), is, strlen(is), v, t), 0);
    size_t cell = (size_t)uidx[u] * ni + (size_t)iidx[i];
    dense[cell] += v;
    if (t > tmax[cell]) tmax[cell] = t;
  }
  mx_dataset *d;
  mx_error err;
  assert_int_equal(mx_dataset_builder_finish(b, 1, 1, &d, &err), 0);
  assert_int_equal(mx_dataset_users(d), (uint32_t)nextu);
  assert_int_equal(mx_dataset_items(d), (uint32_t)nexti);
  uint64_t nnz = 0;
  for (int u = 0; u < nextu; u++)
    for (int i = 0; i < nexti; i++)
      if (dense[(size_t)u * ni + i] != 0) nnz++;
  assert_int_equal(mx_dataset_nnz(d), nnz);
  /* every CSR entry matches, rows are sorted, and the transpose agrees */
  for (int u = 0; u < nextu; u++) {
    for (uint64_t k = d->by_user.indptr[u]; k < d->by_user.indptr[u + 1]; k++) {
      uint32_t i = d->by_user.indices[k];
      if (k > d->by_user.indptr[u]) assert_true(d->by_user.indices[k - 1] < i);
      assert_true(d->by_user.values[k] == (float)dense[(size_t)u * ni + i]);
      assert_true(d->by_user.times[k] == tmax[(size_t)u * ni + i]);
    }
  }
  for (int i = 0; i < nexti; i++)
    for (uint64_t k = d->by_item.indptr[i]; k < d->by_item.indptr[i + 1]; k++) {
      uint32_t u = d->by_item.indices[k];
      if (k > d->by_item.indptr[i]) assert_true(d->by_item.indices[k - 1] < u);
      assert_true(d->by_item.values[k] == (float)dense[(size_t)u * ni + i]);
    }
  assert_int_equal(d->by_item.nnz, nnz);
  uint64_t fp = mx_dataset_fingerprint(d);
  assert_true(fp != 0);
  mx_dataset_free(d);
  free(dense);
  free(tmax);
}

static void test_aggregation_modes(void **s) {
  (void)s;
  const char *u[] = {"a", "a", "a", "b"};
  const char *i[] = {"x", "x", "x", "x"};
  const float v[] = {3, 5, 2, 1};
  for (int how = 0; how < 3; how++) {
    mx_dataset_builder *b = mx_dataset_builder_create();
    mx_dataset_builder_set_aggregate(b, how);
    for (int k = 0; k < 4; k++) mx_dataset_builder_add(b, u[k], 1, i[k], 1, v[k], k);
    mx_dataset *d;
    mx_error err;
    assert_int_equal(mx_dataset_builder_finish(b, 1, 0, &d, &err), 0);
    float want = how == MX_AGG_SUM ? 10.f : how == MX_AGG_LAST ? 2.f : 5.f;
    assert_true(d->by_user.values[0] == want);
    mx_dataset_free(d);
  }
}

static mx_ingest_options opts(const char *cols) {
  mx_ingest_options o = mx_ingest_defaults();
  mx_error err;
  if (cols) assert_int_equal(mx_columns_parse(cols, NULL, &o.columns, &err), 0);
  return o;
}

static void test_ingest_example(void **s) {
  (void)s;
  mx_ingest_options o = opts("user=CustomerID,item=StockCode,value=Quantity,time=InvoiceDate");
  mx_dataset *d;
  mx_error err;
  int rc = mx_dataset_load_csv(tu_examples("purchases.csv.gz"), &o, &d, &err);
  if (rc) fprintf(stderr, "%s\n", err.message);
  assert_int_equal(rc, 0);
  assert_int_equal(d->rows_read, 90622);
  assert_int_equal(d->rows_skipped, 0);
  assert_int_equal(mx_dataset_users(d), 1000);
  assert_true(mx_dataset_items(d) > 3000);
  assert_true(d->has_time && d->has_value);
  char buf[32];
  assert_string_equal(mx_format_time(d->time_min, 1, buf, sizeof buf), "2010-12-01");
  /* implicit: no value column, every row counts 1 */
  mx_dataset *d2;
  o = opts("user=CustomerID,item=StockCode");
  assert_int_equal(mx_dataset_load_csv(tu_examples("purchases.csv.gz"), &o, &d2, &err), 0);
  assert_int_equal(mx_dataset_nnz(d2), mx_dataset_nnz(d));
  assert_false(d2->has_value);
  assert_true(d2->value_sum == 90622.0);
  mx_dataset_free(d);
  mx_dataset_free(d2);
}

static void test_ingest_events_and_no_header(void **s) {
  (void)s;
  const char *p = tu_write("ev.tsv", "u1\tA\tview\nu1\tA\tpurchase\nu2\tB\tcart\n\tB\tview\n");
  mx_ingest_options o = opts("user=1,item=2,event=3");
  o.csv.has_header = 0;
  mx_dataset *d;
  mx_error err;
  assert_int_equal(mx_dataset_load_csv(p, &o, &d, &err), 0);
  assert_int_equal(mx_dataset_nnz(d), 2);
  assert_int_equal(d->rows_skipped, 1);
  assert_true(d->by_user.values[0] == 11.f); /* view 1 + purchase 10 */
  assert_true(d->by_user.values[1] == 4.f);
  mx_dataset_free(d);
  assert_int_equal(mx_ingest_parse_event_weights(&o, "view=1,buy=7", &err), 0);
  assert_int_equal(mx_dataset_load_csv(p, &o, &d, &err), MX_EPARSE);
  assert_int_equal(err.line, 2);
  assert_int_equal(err.column, 3);
  assert_non_null(strstr(err.message, "unknown event type 'purchase'"));
  assert_int_equal(mx_ingest_parse_event_weights(&o, "view=-1", &err), MX_EINVAL);
}

static void test_ingest_errors(void **s) {
  (void)s;
  mx_dataset *d;
  mx_error err;
  char buf[2048];
  /* a column name not in the header: the message lists the header */
  const char *p = tu_write("h.csv", "CustomerID,StockCode,Quantity\n1,A,2\n");
  mx_ingest_options o = opts("user=Customer,item=StockCode");
  assert_int_equal(mx_dataset_load_csv(p, &o, &d, &err), MX_ENOTFOUND);
  assert_string_equal(err.field, "user");
  assert_non_null(strstr(err.message, "CustomerID, StockCode, Quantity"));
  /* non-numeric, NaN and inf values: file:line:column and field */
  const char *bad[] = {"abc", "NaN", "inf", ""};
  for (int k = 0; k < 4; k++) {
    char text[128];
    snprintf(text, sizeof text, "CustomerID,StockCode,Quantity\n1,A,2\n2,B,%s\n", bad[k]);
    p = tu_write("v.csv", text);
    o = opts("user=CustomerID,item=StockCode,value=Quantity");
    assert_int_equal(mx_dataset_load_csv(p, &o, &d, &err), MX_EPARSE);
    mx_error_format(&err, buf, sizeof buf);
    assert_non_null(strstr(buf, "v.csv:3:3: field 'Quantity': not a finite number"));
  }
  /* bad timestamp */
  p = tu_write("t.csv", "u,i,t\n1,A,2010-13-01\n");
  o = opts("user=u,item=i,time=t");
  assert_int_equal(mx_dataset_load_csv(p, &o, &d, &err), MX_EPARSE);
  assert_int_equal(err.line, 2);
  assert_string_equal(err.field, "t");
  /* ragged row */
  p = tu_write("r.csv", "u,i,v\n1,A,2\n2,B\n");
  o = opts("user=u,item=i");
  assert_int_equal(mx_dataset_load_csv(p, &o, &d, &err), MX_EPARSE);
  assert_int_equal(err.line, 3);
  assert_non_null(strstr(err.message, "row has 2 fields, expected 3"));
  /* header only; empty; all ids empty */
  p = tu_write("ho.csv", "u,i\n");
  assert_int_equal(mx_dataset_load_csv(p, &o, &d, &err), MX_EEMPTY);
  p = tu_write("e.csv", "");
  assert_int_equal(mx_dataset_load_csv(p, &o, &d, &err), MX_EEMPTY);
  p = tu_write("ae.csv", "u,i\n,A\n2,\n");
  assert_int_equal(mx_dataset_load_csv(p, &o, &d, &err), MX_EEMPTY);
  assert_non_null(strstr(err.message, "empty user or item"));
  /* missing file */
  assert_int_equal(mx_dataset_load_csv(tu_path("missing.csv"), &o, &d, &err), MX_EIO);
  /* a bad role name */
  mx_columns c;
  const char *const roles[] = {"user", "item", NULL};
  assert_int_equal(mx_columns_parse("user=a,price=b", roles, &c, &err), MX_EINVAL);
  assert_non_null(strstr(err.message, "unknown role 'price'"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_idmap_million),     cmocka_unit_test(test_csr_against_naive),
      cmocka_unit_test(test_aggregation_modes), cmocka_unit_test(test_ingest_example),
      cmocka_unit_test(test_ingest_events_and_no_header), cmocka_unit_test(test_ingest_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

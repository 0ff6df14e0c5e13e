/* Fault injection over the code that moved from the bindings and the CLI to
 * the core and util (issue 18, move 2): group-by, RFM, candidate columns
 * for the allocation solver and files of ids. Every allocation fails in
 * turn; each function must end in a clean MX_ENOMEM with a message, or
 * succeed completely, and leak nothing (the sanitizer build's LeakSanitizer
 * checks that part). */
#include "testutil.h"
#include "faultalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merx/allocate.h"
#include "merx/groupby.h"
#include "merx/idlist.h"
#include "merx/rfm.h"

/* an error must say what went wrong */
static int clean(int rc, const mx_error *err) {
  return rc == MX_ENOMEM && err->message[0] == '\0' ? MX_EINVAL : rc;
}

static int group_once(void) {
  mx_group_agg ops[] = {MX_GROUP_SUM, MX_GROUP_COUNT_DISTINCT, MX_GROUP_LAST};
  mx_group *g;
  mx_error err;
  mx_error_clear(&err);
  int rc = mx_group_create(ops, 3, &g, &err);
  if (rc) return clean(rc, &err);
  char key[16], val[16];
  for (int r = 0; r < 3000 && rc == MX_OK; r++) {
    int kl = snprintf(key, sizeof key, "k%d", r % 1500), vl = snprintf(val, sizeof val, "v%d", r % 7);
    double num[3] = {1, 0, 0};
    const char *str[3] = {NULL, val, NULL};
    size_t len[3] = {0, (size_t)vl, 0};
    rc = mx_group_add(g, key, (size_t)kl, num, str, len, NULL, &err);
  }
  if (rc == MX_OK && (mx_group_count(g) != 1500 || mx_group_value(g, 0, 0) != 2)) rc = MX_EINVAL;
  mx_group_free(g);
  return clean(rc, &err);
}

static int rfm_once(void) {
  mx_rfm *r;
  mx_error err;
  mx_error_clear(&err);
  int rc = mx_rfm_create(1, &r, &err);
  if (rc) return clean(rc, &err);
  char user[16], order[16];
  for (int k = 0; k < 3000 && rc == MX_OK; k++) {
    int ul = snprintf(user, sizeof user, "c%d", k % 1200), ol = snprintf(order, sizeof order, "o%d", k);
    rc = mx_rfm_add(r, user, (size_t)ul, k * 3600.0, 1.5, order, (size_t)ol, &err);
  }
  const mx_rfm_row *row;
  uint32_t n;
  if (rc == MX_OK) rc = mx_rfm_score(r, 86400 * 200, &row, &n, &err);
  if (rc == MX_OK && n != 1200) rc = MX_EINVAL;
  mx_rfm_free(r);
  return clean(rc, &err);
}

static int columns_once(void) {
  enum { N = 600 };
  static uint32_t user[N], offer[N], group[N];
  static double value[N], cost[N];
  static const uint32_t gcap[3] = {50, UINT32_MAX, 70};
  static const char *gname[3] = {"a", "b", "c"};
  for (int i = 0; i < N; i++) {
    user[i] = (uint32_t)(i / 3);
    offer[i] = (uint32_t)(i % 3);
    group[i] = (uint32_t)(i % 3);
    value[i] = 1 + i % 5;
    cost[i] = 1;
  }
  mx_alloc_columns c = {N, user, offer, group, N / 3, 3, 3, value, cost, 0, 100, 1, NULL, gcap, gname};
  mx_alloc_problem *p;
  uint32_t *row;
  mx_error err;
  mx_error_clear(&err);
  int rc = mx_alloc_from_columns(&c, &p, &row, &err);
  if (rc) return clean(rc, &err);
  if (p->n_candidates != N || p->n_resources != 3) rc = MX_EINVAL;
  mx_alloc_problem_free(p);
  free(row);
  return rc;
}

static const char *g_ids;

static int ids_once(void) {
  mx_error err;
  mx_error_clear(&err);
  char **ids = NULL;
  size_t n = 0;
  int rc = mx_id_lines_read(g_ids, MX_ID_LINES_CSV, NULL, &ids, &n, &err);
  if (rc == MX_OK && n != 120) rc = MX_EINVAL;
  mx_id_lines_free(ids, n);
  if (rc) return clean(rc, &err);
  mx_idmap *m = mx_idmap_create();
  if (!m) return MX_ENOMEM;
  rc = mx_id_lines_read(g_ids, MX_ID_LINES_NO_GAPS, m, NULL, NULL, &err);
  if (rc == MX_OK && mx_idmap_size(m) != 120) rc = MX_EINVAL;
  mx_idmap_free(m);
  return clean(rc, &err);
}

static void test_every_allocation(void **s) {
  (void)s;
  char *text = malloc(1 << 14);
  size_t n = 0;
  for (int k = 0; k < 120; k++) n += (size_t)snprintf(text + n, 64, "id%d\n", k);
  g_ids = tu_write("ids.txt", text);
  free(text);
  fprintf(stderr, "group: %ld points\n", fa_sweep(group_once, "group"));
  fprintf(stderr, "rfm: %ld points\n", fa_sweep(rfm_once, "rfm"));
  fprintf(stderr, "alloc columns: %ld points\n", fa_sweep(columns_once, "alloc columns"));
  fprintf(stderr, "id lines: %ld points\n", fa_sweep(ids_once, "id lines"));
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_allocation)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

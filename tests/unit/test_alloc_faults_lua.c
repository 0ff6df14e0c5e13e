/* Fault injection through a script (as test_alloc_faults_train.c does for
 * the library calls): a `merx run` of a script that trains a model, loads
 * one from a file and uses both (recommend, score, similar, fold_in,
 * explain), with every allocation from the N-th on failing, for every N.
 * The Lua state's allocator is merx's (runtime.c), so Lua's own allocations
 * fail too and raise errors in the middle of the bindings. Each run must end
 * in an error that says memory ran out, or succeed; nothing may leak
 * (LeakSanitizer in the sanitizer build), in particular no model or result
 * the bindings held when Lua raised. */
#include "testutil.h"
#include "faultalloc.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "merx/model.h"
#include "merx/script.h"

static const char *g_code;
static char g_out[4096];

static int script_once(void) {
  mx_script_options o = mx_script_defaults();
  o.code = g_code;
  o.dry_run = 1;
  o.log_path = "";
  o.out_dir = g_out;
  o.timeout = 0;
  mx_script_result r;
  memset(&r, 0, sizeof r);
  mx_error err;
  mx_error_clear(&err);
  /* the run's own report (dry run summary, script errors) stays out of the
   * test log */
  fflush(stdout);
  fflush(stderr);
  int save_out = dup(1), save_err = dup(2), null = open("/dev/null", O_WRONLY);
  assert_true(save_out >= 0 && save_err >= 0 && null >= 0);
  dup2(null, 1);
  dup2(null, 2);
  int rc = mx_script_run(&o, &r, &err);
  fflush(stdout);
  fflush(stderr);
  dup2(save_out, 1);
  dup2(save_err, 2);
  close(save_out);
  close(save_err);
  close(null);
  mx_script_result_free(&r);
  if (rc == MX_OK) return MX_OK;
  /* MX_ENOMEM from the runtime, or a script error raised by a binding that
   * got MX_ENOMEM (or by Lua itself) saying so; not the --memory limit */
  if ((rc == MX_ENOMEM || rc == MX_ESCRIPT) &&
      (strstr(err.message, "out of memory") || strstr(err.message, "not enough memory")))
    return MX_ENOMEM;
  if (rc == MX_ENOMEM && strcmp(err.message, "cannot create a Lua state") == 0) return MX_ENOMEM;
  fprintf(stderr, "script failed with %s: %s\n", mx_strerror(rc), err.message);
  return rc;
}

static void test_script_every_allocation(void **s) {
  (void)s;
  /* a model file for merx.model.load, written with the library */
  const char *users[] = {"a", "a", "a", "b", "b", "c", "c", "d", "d", "d", "e"};
  const char *items[] = {"x", "y", "z", "x", "y", "y", "z", "x", "z", "w", "w"};
  mx_error err;
  mx_dataset *d = NULL;
  assert_int_equal(mx_dataset_from_triplets(users, items, NULL, NULL, 11, &d, &err), MX_OK);
  mx_train_options t = mx_train_defaults(MX_MODEL_IALS);
  t.factors = 3;
  t.epochs = 2;
  t.reg = 0.5;
  t.threads = 1;
  mx_model *m = NULL;
  assert_int_equal(mx_model_train(d, &t, &m, &err), MX_OK);
  assert_int_equal(mx_model_save(m, tu_path("shop.mxm"), &err), MX_OK);
  mx_model_free(m);
  mx_dataset_free(d);
  snprintf(g_out, sizeof g_out, "%s", tu_path("out"));
  assert_int_equal(chdir(tu_tmpdir()), 0);
  g_code =
      "local t = { user = { 'a', 'a', 'a', 'b', 'b', 'c', 'c', 'd', 'd', 'd', 'e' },\n"
      "            item = { 'x', 'y', 'z', 'x', 'y', 'y', 'z', 'x', 'z', 'w', 'w' } }\n"
      "local m <close> = merx.model.train(t, { algo = 'ials', factors = 3, epochs = 2,\n"
      "                                        reg = 0.5, threads = 1 })\n"
      "local items = m:recommend({ 'a', 'b', 'nobody' }, 2)\n"
      "assert(#items == 3 and items[1][1] == 'w')\n"
      "local l <close> = merx.model.load('shop.mxm')\n"
      "local mat <close> = l:score({ 'a', 'b' }, { 'x', 'y', 'w' })\n"
      "assert(#mat:argmax() == 2)\n"
      "local sim = l:similar({ 'x', 'nothing' }, 2)\n"
      "assert(#sim[1] == 2)\n"
      "local f = l:fold_in({ 'x', 'y', 'unknown' }, { k = 2 })\n"
      "assert(#f >= 1)\n"
      "local why = l:explain({ 'b' }, { 'z' }, 2)\n"
      "assert(#why == 1)\n"
      "local info = l:info()\n"
      "assert(info.users == 5)\n";
  /* Memory stays exhausted from the k-th allocation on: Lua retries a
   * failed allocation after an emergency collection, so a single failure
   * would hardly ever reach the script (and a sweep of both kinds costs
   * twice the time under ASan). */
  long points = fa_sweep_persistent(script_once, "script");
  fprintf(stderr, "script (train, load, recommend, score, similar, fold_in, explain; memory "
                  "exhausted from each point on): %ld allocation-failure points tested\n", points);
}

/* merx.data: read (roles and typed columns), group, rfm and a staged write
 * of the frames the model scripts train on. */
static void test_data_script_every_allocation(void **s) {
  (void)s;
  tu_write("orders.csv",
           "order,customer,sku,qty,price,day\n"
           "o1,c1,A,2,10.0,2024-03-01\n"
           "o1,c1,B,1,5.5,2024-03-01\n"
           "o2,c2,A,1,10.0,2024-02-10\n"
           "o3,c1,C,4,2.25,2024-03-20\n"
           "o4,c3,B,3,5.5,2024-01-05\n"
           "o5,c2,C,2,2.25,2024-03-28\n");
  snprintf(g_out, sizeof g_out, "%s", tu_path("out"));
  assert_int_equal(chdir(tu_tmpdir()), 0);
  g_code =
      "local t, n = merx.data.read('orders.csv', { columns = { user = 'customer', item = 'sku',\n"
      "  value = 'qty', time = 'day', order = 'order' } })\n"
      "assert(n == 6)\n"
      "local raw = merx.data.read('orders.csv', { types = { price = 'number', qty = 'integer' } })\n"
      "t.spend = {}\n"
      "for i = 1, n do t.spend[i] = t.value[i] * raw.price[i] end\n"
      "local g, ng = merx.data.group(t, 'user', { spend = { 'sum', 'spend' }, lines = 'count',\n"
      "  orders = { 'count_distinct', 'order' }, last = { 'max', 'time' },\n"
      "  first_item = { 'first', 'item' }, avg = { 'mean', 'value' } })\n"
      "assert(ng == 3)\n"
      "local r, nr = merx.data.rfm(t, { value = 'spend', order = 'order',\n"
      "  now = merx.time('2024-04-01') })\n"
      "assert(nr == 3)\n"
      "merx.data.write('rfm.csv', r)\n"
      "local ok = pcall(merx.data.read, 'orders.csv', { types = { sku = 'number' } })\n"
      "assert(not ok)\n";
  long points = fa_sweep_persistent(script_once, "data script");
  fprintf(stderr, "script (merx.data read, group, rfm, write; memory exhausted from each point "
                  "on): %ld allocation-failure points tested\n", points);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_script_every_allocation),
      cmocka_unit_test(test_data_script_every_allocation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

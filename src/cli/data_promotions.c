/* merx data promotions: a campaign's committed decisions in the ledger as a
 * promotion regressor (id,time,name,value) on a series file's periods, for
 * `merx forecast --method arima --regressors`. */
#include <stdlib.h>
#include <string.h>

#include "cli/forecast_cli.h"
#include "store/decisions.h"
#include "store/store.h"
#include "util/util.h"

int mx__cmd_data_promotions(int argc, char **argv);

static const char *usage =
    "usage: merx data promotions --data FILE --format long [--columns id=..,time=..,value=..]\n"
    "                            [--freq day|week|month] --horizon H [--store DIR | --log FILE]\n"
    "                            [--kind offer] [--run RUN_ID] [--item-field item]\n"
    "                            [--time-field FIELD] [--map FILE] [--name promotion]\n"
    "                            --out FILE.csv [--json]\n\n"
    "Turn the decisions committed to the ledger (merx run --store) into a regressor for\n"
    "the series of --data (read as merx forecast reads it): per series and period of the\n"
    "history and the H periods after it, the number of decisions of --kind whose record's\n"
    "--item-field is the series id (or maps to it through --map, rows key,id with a\n"
    "header), dated by the record's --time-field or else by the decision's time (the\n"
    "run's merx.now()). Every period is written, zeros included, so the file feeds\n"
    "merx forecast --method arima --regressors directly.\n"
    "  --run RUN_ID    only that run's decisions (default: every run)\n"
    "Output columns: id,time,name,value. --json prints {\"series\", \"periods\",\n"
    "\"decisions\", \"unmatched\", \"outside\", \"out\"}.\n"
    "\nExample:\n"
    "  merx data promotions --store st --data examples/data/daily_sales.csv --format long\n"
    "      --columns id=StockCode,time=date,value=quantity --freq week --horizon 4\n"
    "      --out promo.csv\n";

typedef struct {
  mx_promotion_count *rows;
  size_t n, cap;
  long no_key, bad_time;
  const char *field, *ledger;
  int rc;
  mx_error *err;
} collect;

static int on_group(void *ctx, const char *key, const char *when, long count) {
  collect *c = ctx;
  if (!key) {
    c->no_key += count; /* a decision that promotes no item (e.g. a general coupon) */
    return 0;
  }
  int64_t t;
  if (!when || mx_parse_time(when, &t) != 0) {
    /* the record's time field is missing or not a date: the user named a field
     * the campaign does not write, or wrote it otherwise; say which */
    if (when)
      c->rc = mx_error_at(c->err, MX_EPARSE, c->ledger, 0, 0, c->field ? c->field : "time",
                          "%ld decision(s) for '%s' have a time that is not a date: '%.60s'",
                          count, key, when);
    else
      c->rc = mx_error_at(c->err, MX_EPARSE, c->ledger, 0, 0, c->field,
                          "%ld decision(s) for '%s' have no such text field", count, key);
    return 1;
  }
  if (c->n == c->cap) {
    size_t nc = c->cap ? 2 * c->cap : 256;
    mx_promotion_count *nr = realloc(c->rows, nc * sizeof *nr);
    if (!nr) {
      c->rc = mx_error_set(c->err, MX_ENOMEM, "out of memory");
      return 1;
    }
    c->rows = nr, c->cap = nc;
  }
  char *k = mx__strdup(key);
  if (!k) {
    c->rc = mx_error_set(c->err, MX_ENOMEM, "out of memory");
    return 1;
  }
  c->rows[c->n++] = (mx_promotion_count){k, t, count};
  return 0;
}

int mx__cmd_data_promotions(int argc, char **argv) {
  const char *cmd = "data promotions";
  mx_args a;
  int rc = mx__args_parse(&a, cmd,
                         "horizon= store= log= kind= run= item-field= time-field= map= name= out= json"
                         MX_CLI_SERIES_SPEC, argc, argv, 3);
  if (rc) return rc;
  if (mx__cli_help(&a, usage) == 0) return MX_EXIT_OK;
  if ((rc = mx__args_require(&a, "horizon")) || (rc = mx__args_require(&a, "out"))) return rc;
  long horizon;
  if ((rc = mx__args_int(&a, "horizon", 1, 0, 100000, &horizon))) return rc;
  const char *format = mx__args_get(&a, "format", NULL);
  if (format && strcmp(format, "long") != 0)
    return mx__cli_usage(cmd, "--format: promotions need dated series (long), got '%s'", format);
  const char *store = mx__args_get(&a, "store", NULL), *log = mx__args_get(&a, "log", NULL);
  if (store && log) return mx__cli_usage(cmd, "give --store or --log, not both");
  if (!store && !log) store = mx__store_from_env();
  if (!store && !log) return mx__cli_usage(cmd, "missing --store DIR or --log FILE (or set MERX_STORE)");
  const char *name = mx__args_get(&a, "name", "promotion");
  if (!name[0]) return mx__cli_usage(cmd, "--name: empty");
  mx_series_set *s;
  if ((rc = mx__cli_read_series(&a, &s))) return rc;
  mx_error err;
  mx_error_clear(&err);
  mx_promotion_map *map = NULL;
  mx_decision_log *dl = NULL;
  mx_regressors *r = NULL;
  mx_promotion_stats st;
  collect c = {0};
  c.err = &err;
  c.field = mx__args_get(&a, "time-field", NULL);
  char *ledger = store ? mx__store_ledger_path(store) : mx__strdup(log);
  int status = MX_EXIT_OK;
  if (!ledger) {
    status = MX_EXIT_FAIL;
    goto done;
  }
  c.ledger = ledger;
  const char *mpath = mx__args_get(&a, "map", NULL);
  if ((mpath && mx_promotion_map_read(mpath, &map, &err) != MX_OK) ||
      mx__decisions_open(ledger, 0, &dl, &err) != MX_OK) {
    status = mx__cli_fail(cmd, &err);
    goto done;
  }
  long groups = mx__decisions_group(dl, mx__args_get(&a, "kind", "offer"), mx__args_get(&a, "run", NULL),
                                   mx__args_get(&a, "item-field", "item"), c.field, on_group, &c, &err);
  if (groups < 0 || c.rc) {
    status = mx__cli_fail(cmd, &err);
    goto done;
  }
  if (mx_promotions_regressors(c.rows, c.n, map, s, (int)horizon, name, &r, &st, &err) != MX_OK) {
    status = mx__cli_fail(cmd, &err);
    goto done;
  }
  mx_atomic_file af;
  memset(&af, 0, sizeof af);
  if (mx__atomic_open(&af, mx__args_get(&a, "out", NULL), &err) != MX_OK) {
    status = mx__cli_fail(cmd, &err);
    goto done;
  }
  fputs("id,time,name,value\n", af.f);
  size_t periods = 0;
  for (size_t i = 0; i < s->count; i++)
    for (size_t t = 0; t < r->len[i]; t++, periods++) {
      char tb[32];
      mx_csv_write_field(af.f, s->ids[i], ',');
      mx_format_time(mx_series_time(s, i, (long)t), 1, tb, sizeof tb);
      fprintf(af.f, ",%s,", tb);
      mx_csv_write_field(af.f, name, ',');
      fprintf(af.f, ",%.17g\n", r->values[i][t]);
    }
  if (mx__atomic_commit(&af, &err) != MX_OK) {
    status = mx__cli_fail(cmd, &err);
    goto done;
  }
  if (mx__args_has(&a, "json")) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "series"); mx__json_int(&j, (int64_t)s->count);
    mx__json_key(&j, "periods"); mx__json_int(&j, (int64_t)periods);
    mx__json_key(&j, "decisions"); mx__json_int(&j, st.used);
    mx__json_key(&j, "unmatched"); mx__json_int(&j, st.unmatched + c.no_key);
    mx__json_key(&j, "outside"); mx__json_int(&j, st.outside);
    mx__json_key(&j, "out"); mx__json_string(&j, mx__args_get(&a, "out", ""));
    mx__json_object_end(&j);
    fputc('\n', stdout);
  } else {
    fprintf(stderr, "data promotions: %ld decisions in %zu series x periods rows; %ld of no series"
                    " (%ld without field '%s'), %ld outside history + horizon\n",
            st.used, periods, st.unmatched + c.no_key, c.no_key,
            mx__args_get(&a, "item-field", "item"), st.outside);
  }
done:
  for (size_t k = 0; k < c.n; k++) free((char *)c.rows[k].key);
  free(c.rows);
  mx_regressors_free(r);
  if (dl) mx__decisions_close(dl);
  mx_promotion_map_free(map);
  free(ledger);
  mx_series_set_free(s);
  return status;
}

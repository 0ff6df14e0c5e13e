/* Measuring an experiment from the ledger (`merx measure --store DIR
 * --experiment NAME`, merx.measure{ experiment = NAME }): the units of the
 * measurement from the ledger, not from a file. Plain C shared by the CLI and
 * the Lua binding (the lua layer is the lowest that sees both the store and
 * the core's measure). Each user exposed in the experiment
 * (in run RUN_ID with --run) is one unit, in the arm of their first
 * assignment; the experiment's control arm and planned shares become the
 * control and the sample-ratio check's shares unless given. The segment is
 * the assignment's stratum (--segment stratum) or a field of the user's first
 * exposure record (--segment segment: the segment the campaign logged). */
#include "lua/measure_store.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store/experiments.h"
#include "util/util.h"

typedef struct arms_ctx {
  mx_measure_store *s;
  int n;
} arms_ctx;

static int read_arm(void *p, const mx_arm_summary *a) {
  arms_ctx *c = p;
  if (c->n == MX_MEASURE_MAX_ARMS) return 1;
  snprintf(c->s->arm[c->n], sizeof c->s->arm[c->n], "%s", a->arm);
  c->s->share[c->n] = a->share;
  c->n++;
  return 0;
}

static int read_def(void *p, const mx_experiment_def *d) {
  mx_measure_store *s = p;
  s->found = 1;
  snprintf(s->control, sizeof s->control, "%s", d->control);
  return 1;
}

/* The segment of a unit: the field s->segment of the user's first exposure
 * record (looked up by user; NULL when the record has none). */
typedef struct seg_ctx {
  const char *experiment, *field;
  char *value; /* malloc'd */
} seg_ctx;

static int first_record(void *p, const mx_exposure_row *r) {
  seg_ctx *c = p;
  if (strcmp(r->experiment, c->experiment) != 0) return 0;
  json_t *rec = json_loadb(r->record, r->record_len ? r->record_len : strlen(r->record), 0, NULL);
  json_t *v = rec ? json_object_get(rec, c->field) : NULL;
  if (json_is_string(v)) c->value = mx__strdup(json_string_value(v));
  else if (json_is_integer(v) || json_is_real(v) || json_is_boolean(v)) {
    c->value = json_dumps(v, JSON_ENCODE_ANY);
  }
  json_decref(rec);
  return 1;
}

typedef struct units_ctx {
  mx_measure_store *s;
  mx_measure *m;
  mx_error *err;
  int rc;
} units_ctx;

static int add_unit(void *p, const mx_exposed_unit *u) {
  units_ctx *c = p;
  const char *seg = NULL;
  char *owned = NULL;
  if (c->s->segment && strcmp(c->s->segment, "stratum") == 0) {
    seg = u->stratum;
  } else if (c->s->segment) {
    seg_ctx sc = {c->s->experiment, c->s->segment, NULL};
    /* the user's exposures of this experiment, oldest first: the first one */
    c->rc = mx__experiments_user_exposures(c->s->log, u->user, first_record, &sc, c->err);
    if (c->rc) return 1;
    seg = owned = sc.value;
  }
  c->rc = mx_measure_add_unit(c->m, u->user, u->user_len, u->arm, seg, c->err);
  free(owned);
  return c->rc != MX_OK;
}

static int units(void *ctx, mx_measure *m, mx_error *err) {
  mx_measure_store *s = ctx;
  units_ctx c = {s, m, err, MX_OK};
  int rc = mx__experiments_units(s->log, s->experiment, s->run, add_unit, &c, err);
  return rc ? rc : c.rc;
}

int mx__measure_store_open(mx_measure_store *s, const char *ledger, const char *experiment,
                          const char *run, const char *segment, mx_measure_request *req,
                          mx_error *err) {
  memset(s, 0, sizeof *s);
  s->experiment = experiment;
  s->run = run;
  s->segment = segment;
  s->ledger = mx__strdup(ledger);
  if (!s->ledger) return mx_error_set(err, MX_ENOMEM, "out of memory");
  int rc = mx__decisions_open(s->ledger, 0, &s->log, err);
  if (rc) return rc;
  if ((rc = mx__experiments_each(s->log, experiment, read_def, s, err))) return rc;
  if (!s->found)
    return mx_error_at(err, MX_ENOTFOUND, s->ledger, 0, 0, NULL,
                       "no experiment '%s' in the ledger (`merx experiments` lists them)",
                       experiment);
  arms_ctx ac = {s, 0};
  if ((rc = mx__experiments_summary(s->log, experiment, read_arm, &ac, err))) return rc;
  if (!req->opt.control) req->opt.control = s->control;
  else if (strcmp(req->opt.control, s->control) != 0)
    return mx_error_set(err, MX_EINVAL,
                        "--control %s: the control arm of experiment '%s' is '%s'",
                        req->opt.control, experiment, s->control);
  if (req->opt.n_shares == 0) {
    req->opt.n_shares = ac.n;
    for (int i = 0; i < ac.n; i++) {
      req->opt.share_arm[i] = s->arm[i];
      req->opt.share[i] = s->share[i];
    }
  }
  req->units = units;
  req->units_ctx = s;
  return MX_OK;
}

void mx__measure_store_close(mx_measure_store *s) {
  mx__decisions_close(s->log);
  free(s->ledger);
  memset(s, 0, sizeof *s);
}

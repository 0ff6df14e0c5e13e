/* The store's ledger as the source of measurement units (measure_store.c),
 * for `merx measure --store` and merx.measure{ experiment = }. */
#ifndef MERX_LUA_MEASURE_STORE_H
#define MERX_LUA_MEASURE_STORE_H

#include "merx/measure.h"
#include "store/decisions.h"

typedef struct mx_measure_store {
  const char *experiment, *run, *segment;
  char *ledger;
  mx_decision_log *log;
  int found;
  char control[128];
  char arm[MX_MEASURE_MAX_ARMS][128];
  double share[MX_MEASURE_MAX_ARMS];
} mx_measure_store;

/* Open the ledger (a file path) and point req at the experiment: its units (the users
 * exposed, in run when not NULL), its control arm (req's must match when
 * set) and its planned shares (unless req has shares). s must outlive
 * mx_measure_run; close it after (also after a failure). */
int mx__measure_store_open(mx_measure_store *s, const char *ledger, const char *experiment,
                          const char *run, const char *segment, mx_measure_request *req,
                          mx_error *err);
void mx__measure_store_close(mx_measure_store *s);

#endif

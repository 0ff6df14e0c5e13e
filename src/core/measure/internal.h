/* Shared by the files of src/core/measure only. */
#ifndef MERX_CORE_MEASURE_INTERNAL_H
#define MERX_CORE_MEASURE_INTERNAL_H

#include "merx/measure.h"

/* Name of metric k, the number of metrics, whether covariates are read. */
const char *mx__measure_metric(const mx_measure *m, int k);
int mx__measure_metrics(const mx_measure *m);
int mx__measure_cuped(const mx_measure *m);

#endif

/* merx uplift: the HTML report of a trained model (uplift_report.c). */
#ifndef MERX_CLI_UPLIFT_H
#define MERX_CLI_UPLIFT_H

#include "merx/uplift.h"

/* Write a self-contained HTML page (inline SVG, no scripts or external
 * files) with the held-out Qini and uplift curves against random targeting
 * and the figures with their intervals; atomically. data names the input. */
int mx__uplift_report_html(const char *path, const mx_uplift_model *m, const mx_uplift_report *r,
                          const char *data, mx_error *err);

#endif

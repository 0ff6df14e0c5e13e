/* `merx plan --plot FILE.html` (drawn by plot_html.c): per item the projected
 * stock over the forecast horizon with and without the planned order, the
 * 80/95% band of that projection, the safety stock and the order-up-to level.
 *
 * Projection: position (on hand + on order, outstanding orders counted at
 * once, as the replay's default start) minus the cumulative forecast; the
 * planned order arrives after ceil(lead_time) periods. The band is the
 * projection -/+ z times the sd of the cumulative forecast error (the
 * forecast's cum_sigma, else the root of the summed sigma^2). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/plan.h"
#include "cli/plot_html.h"
#include "merx/forecast.h"

static void item_chart(FILE *f, const mx_plan_input *it, const mx_plan_row *row) {
  size_t H = it->horizon, n = H + 1;
  double *noorder = malloc(n * sizeof(double)), *stock = malloc(n * sizeof(double));
  double *band = malloc(4 * n * sizeof(double)), *mark = malloc(n * sizeof(double));
  if (!noorder || !stock || !band || !mark) {
    free(noorder), free(stock), free(band), free(mark);
    fputs("<p class=\"meta\">out of memory drawing this item</p>", f);
    return;
  }
  double *lo80 = band, *hi80 = band + n, *lo95 = band + 2 * n, *hi95 = band + 3 * n;
  double lt = it->item.lead_time;
  size_t arrive = (size_t)ceil(lt > 0 ? lt : 0);
  double cum = 0, var = 0;
  int has_sd = it->cum_sigma || it->sigma;
  for (size_t k = 0; k < n; k++) {
    if (k > 0) {
      cum += it->mean[k - 1];
      if (it->cum_sigma) var = it->cum_sigma[k - 1] * it->cum_sigma[k - 1];
      else if (it->sigma) var += it->sigma[k - 1] * it->sigma[k - 1];
    }
    noorder[k] = row->position - cum;
    stock[k] = noorder[k] + (k >= arrive ? row->order : 0);
    double sd = has_sd ? sqrt(var) : NAN;
    lo80[k] = stock[k] - 1.2815515655446004 * sd, hi80[k] = stock[k] + 1.2815515655446004 * sd;
    lo95[k] = stock[k] - 1.959963984540054 * sd, hi95[k] = stock[k] + 1.959963984540054 * sd;
    mark[k] = (k == arrive && row->order > 0) ? stock[k] : NAN;
  }
  double lo = 0, hi = -INFINITY;
  mx__plot_range(noorder, n, &lo, &hi);
  mx__plot_range(band, 4 * n, &lo, &hi);
  mx__plot_range(&row->safety_stock, 1, &lo, &hi);
  mx__plot_range(&row->target, 1, &lo, &hi);
  mx_plot_xaxis ax = {it->freq, it->first_time, 0, "period"};
  mx_plot_chart c;
  mx__plot_chart_begin(&c, f, &ax, 0, (long)H, lo, hi, it->id);
  if (has_sd) {
    mx__plot_band(&c, 0, lo95, hi95, n, "fan95", "95%");
    mx__plot_band(&c, 0, lo80, hi80, n, "fan80", "80%");
  }
  mx__plot_hrule(&c, 0, "zero", "");
  mx__plot_hrule(&c, row->safety_stock, "safety", "safety stock");
  mx__plot_hrule(&c, row->target, "target", "order-up-to");
  mx__plot_line(&c, 0, noorder, n, "noorder", "without the order");
  mx__plot_line(&c, 0, stock, n, "stock", "projected stock");
  if (row->order > 0 && arrive <= H) {
    char label[64];
    snprintf(label, sizeof label, "order %.6g arrives", row->order);
    mx__plot_vrule(&c, (double)arrive, "origin", label);
    mx__plot_marks(&c, 0, mark, n, "order", "order arrives");
  }
  mx__plot_chart_end(&c);
  free(noorder), free(stock), free(band), free(mark);
}

static const char *const plan_cls[] = {"stock", "noorder", "fan80", "fan95", "safety", "target"};
static const char *const plan_label[] = {"projected stock", "without the order", "80% band",
                                         "95% band", "safety stock", "order-up-to level"};

void mx__plan_plot_html(FILE *f, const mx_plan_set *ps, const mx_plan_row *rows,
                       size_t max_items) {
  size_t planned = 0;
  for (size_t i = 0; i < ps->n; i++) planned += ps->items[i].horizon > 0;
  char intro[400];
  snprintf(intro, sizeof intro,
           "%zu items planned. Projected stock: on hand + on order minus the cumulative "
           "forecast; the order arrives after the lead time.%s",
           planned, planned > max_items ? " Only the first items are drawn (--plot-max)." : "");
  mx__plot_page_begin(f, "merx plan", intro);
  mx__plot_legend(f, plan_cls, plan_label, 6);
  size_t drawn = 0;
  for (size_t i = 0; i < ps->n && drawn < max_items; i++) {
    const mx_plan_input *it = &ps->items[i];
    if (it->horizon == 0) continue;
    const mx_plan_row *r = &rows[i];
    drawn++;
    mx__plot_panel_begin(f, it->id);
    fprintf(f,
            "<p class=\"meta\">on hand %.6g, on order %.6g, lead time %.6g, review %.6g; "
            "lead-time demand %.6g &#177; %.4g; safety stock %.6g; order-up-to %.6g; "
            "<b>order %.6g</b>%s</p>\n",
            it->item.on_hand, it->item.on_order, it->item.lead_time, it->item.review, r->ltd_mean,
            r->ltd_sd, r->safety_stock, r->target, r->order,
            r->horizon_short ? " (forecast shorter than lead time + review)" : "");
    item_chart(f, it, r);
    mx__plot_panel_end(f);
  }
  mx__plot_page_end(f);
}

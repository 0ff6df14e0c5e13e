/* `merx uplift train --html FILE`: the held-out Qini and uplift curves of
 * the model against random targeting, as inline SVG in one HTML file that
 * opens offline. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/uplift_cli.h"
#include "util/util.h"

#define W 460.0
#define H 300.0
#define L 62.0 /* left margin (axis labels) */
#define B 34.0 /* bottom margin */

static void html_text(FILE *f, const char *s) {
  for (; s && *s; s++) {
    if (*s == '<') fputs("&lt;", f);
    else if (*s == '>') fputs("&gt;", f);
    else if (*s == '&') fputs("&amp;", f);
    else if (*s == '"') fputs("&quot;", f);
    else fputc(*s, f);
  }
}

/* One chart: the model's curve (blue), random targeting (grey, dashed, from
 * 0 to the ate), the zero line, axes with the y range printed. */
static void chart(FILE *f, const char *title, const double *x, const double *y, double ate,
                  const char *caption) {
  double lo = fmin(0, ate), hi = fmax(0, ate);
  for (int k = 0; k < MX_UPLIFT_CURVE_POINTS; k++) lo = fmin(lo, y[k]), hi = fmax(hi, y[k]);
  if (!(hi > lo)) hi = lo + 1;
  double pad = 0.05 * (hi - lo);
  lo -= pad, hi += pad;
#define PX(v) (L + (W - L - 10) * (v))
#define PY(v) (H - B - (H - B - 10) * ((v) - lo) / (hi - lo))
  fputs("<figure><figcaption>", f);
  html_text(f, title);
  fprintf(f, "</figcaption><svg width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" "
             "xmlns=\"http://www.w3.org/2000/svg\">", W, H, W, H);
  fprintf(f, "<rect x=\"%g\" y=\"10\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#ccc\"/>",
          L, W - L - 10, H - B - 10);
  fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-width=\"0.5\"/>",
          PX(0), PY(0), PX(1), PY(0));
  fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\" "
             "stroke-dasharray=\"5,4\" stroke-width=\"1.2\"/>",
          PX(0), PY(0), PX(1), PY(ate));
  fputs("<polyline fill=\"none\" stroke=\"#1f4fa0\" stroke-width=\"2\" points=\"", f);
  for (int k = 0; k < MX_UPLIFT_CURVE_POINTS; k++) fprintf(f, "%.1f,%.1f ", PX(x[k]), PY(y[k]));
  fputs("\"/>", f);
  for (int t = 0; t <= 4; t++) {
    double v = t / 4.0;
    fprintf(f, "<text x=\"%.1f\" y=\"%g\" font-size=\"10\" text-anchor=\"middle\" fill=\"#555\">%.0f%%</text>",
            PX(v), H - B + 13, v * 100);
  }
  fprintf(f, "<text x=\"%.1f\" y=\"%g\" font-size=\"11\" text-anchor=\"middle\" fill=\"#333\">share of "
             "customers targeted (best uplift scores first)</text>", PX(0.5), H - 4);
  fprintf(f, "<text x=\"%g\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\" fill=\"#555\">%.3g</text>",
          L - 4, PY(hi - pad) + 4, hi - pad);
  fprintf(f, "<text x=\"%g\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\" fill=\"#555\">%.3g</text>",
          L - 4, PY(lo + pad) + 4, lo + pad);
  fprintf(f, "<text x=\"%g\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\" fill=\"#555\">0</text>",
          L - 4, PY(0) + 4);
  fputs("</svg><p class=\"c\">", f);
  html_text(f, caption);
  fputs("</p></figure>\n", f);
#undef PX
#undef PY
}

static void row(FILE *f, const char *name, double v, double lo, double hi) {
  fputs("<tr><td>", f);
  html_text(f, name);
  fprintf(f, "</td><td>%.6g</td><td>", v);
  if (isfinite(lo)) fprintf(f, "[%.6g, %.6g]", lo, hi);
  fputs("</td></tr>\n", f);
}

int mx__uplift_report_html(const char *path, const mx_uplift_model *m, const mx_uplift_report *r,
                          const char *data, mx_error *err) {
  mx_atomic_file af;
  int rc = mx__atomic_open(&af, path, err);
  if (rc) return rc;
  FILE *f = af.f;
  const mx_uplift_eval *e = &r->test;
  fputs("<!doctype html><html><head><meta charset=\"utf-8\"><title>merx uplift</title>"
        "<style>body{font:13px sans-serif;margin:16px;max-width:1000px}figure{display:inline-block;"
        "margin:6px;border:1px solid #ddd;padding:6px;vertical-align:top}figcaption{font-weight:bold}"
        "p.c{width:440px;color:#444}table{border-collapse:collapse}td,th{border:1px solid #ddd;"
        "padding:3px 8px;text-align:left}</style></head><body><h1>merx uplift</h1>\n<p>",
        f);
  fprintf(f, "%s, ", m->learner == MX_UPLIFT_T_LEARNER     ? "T-learner (two models)"
                    : m->learner == MX_UPLIFT_TRANSFORMED ? "transformed-outcome learner"
                                                          : "given scores");
  fputs(m->binary ? "0/1 outcome <b>" : "numeric outcome <b>", f);
  html_text(f, m->outcome);
  fputs("</b>: arm <b>", f);
  html_text(f, m->treated_arm);
  fputs("</b> against control <b>", f);
  html_text(f, m->control_arm);
  fputs("</b>. Data ", f);
  html_text(f, data);
  if (r->train_treated + r->train_control > 0)
    fprintf(f, ": %zu rows of the two arms; trained on %zu treated and %zu control rows, "
               "evaluated on %zu treated and %zu control rows held out (seed %llu).</p>\n",
            r->rows, r->train_treated, r->train_control, r->test_treated, r->test_control,
            (unsigned long long)m->seed);
  else
    fprintf(f, ": evaluated on all %zu treated and %zu control rows.</p>\n", r->test_treated,
            r->test_control);
  if (!r->evaluated) {
    fputs("<p>No rows were held out (--test-share 0): nothing to evaluate.</p></body></html>\n", f);
    return mx__atomic_commit(&af, err);
  }
  fputs("<table><tr><th>held-out figure</th><th>value</th><th>95% bootstrap interval</th></tr>\n", f);
  row(f, "average uplift (ate)", e->ate, NAN, NAN);
  row(f, "Qini coefficient (area between Qini curve and random)", e->qini, e->qini_lo, e->qini_hi);
  row(f, "AUUC (area under the uplift curve)", e->auuc, e->auuc_lo, e->auuc_hi);
  row(f, "AUUC of random targeting (ate / 2)", e->random_area, NAN, NAN);
  row(f, "AUUC gain over random", e->auuc - e->random_area, e->gain_lo, e->gain_hi);
  fprintf(f, "</table><p>%d bootstrap replicates, treated and control rows resampled separately. "
             "%s</p>\n",
          e->bootstrap,
          !e->bootstrap ? ""
          : e->qini_lo > 0 ? "The Qini interval lies above zero: the model targets better than random."
                           : "The Qini interval reaches zero: not shown better than random targeting.");
  chart(f, "Qini curve", e->x, e->qini_curve, e->ate,
        "Incremental outcome of the targeted customers (treated outcome minus the control "
        "outcome scaled to the treated count), per treated customer of the whole test set "
        "(Radcliffe 2007). Dashed: random targeting.");
  chart(f, "Uplift curve", e->x, e->uplift_curve, e->ate,
        "Uplift among the targeted (treated mean minus control mean) times the share "
        "targeted. Dashed: random targeting.");
  fputs("</body></html>\n", f);
  return mx__atomic_commit(&af, err);
}

/* Reports of a measurement: JSON (the `merx measure --json` contract plus
 * extras), a long CSV table, a terminal table and a self-contained HTML page
 * with one inline SVG chart per metric. A number that cannot be computed is
 * null in JSON, an empty field in CSV and "n/a" in text, never "nan". */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "merx/measure.h"
#include "util/util.h"

/* ------------------------------------------------------------------- JSON */

static void json_cell(mx_json *j, const mx_measure_result *r, const mx_measure_cell *c, int a) {
  mx__json_object_begin(j);
  mx__json_key(j, "arm"); mx__json_string(j, c->arm);
  mx__json_key(j, "users"); mx__json_int(j, (int64_t)c->users);
  if (!c->segment) {
    mx__json_key(j, "share"); mx__json_double_exact(j, r->users ? (double)c->users / (double)r->users : NAN);
    mx__json_key(j, "expected_share"); mx__json_double_exact(j, r->expected_share[a]);
  }
  const char *names[] = {"means", "sd", "lo95", "hi95"};
  double *vals[] = {c->mean, c->sd, c->lo95, c->hi95};
  for (int q = 0; q < 4; q++) {
    mx__json_key(j, names[q]);
    mx__json_object_begin(j);
    for (int k = 0; k < r->n_metrics; k++) {
      mx__json_key(j, r->metrics[k]);
      mx__json_double_exact(j, vals[q][k]);
    }
    mx__json_object_end(j);
  }
  mx__json_object_end(j);
}

static void json_diff(mx_json *j, const mx_diff_interval *d) {
  mx__json_key(j, "diff"); mx__json_double_exact(j, d->diff);
  mx__json_key(j, "lo95"); mx__json_double_exact(j, d->lo);
  mx__json_key(j, "hi95"); mx__json_double_exact(j, d->hi);
}

static void json_uplift(mx_json *j, const mx_measure_result *r, const mx_measure_uplift *u) {
  mx__json_object_begin(j);
  mx__json_key(j, "arm"); mx__json_string(j, u->arm);
  mx__json_key(j, "metric"); mx__json_string(j, r->metrics[u->metric]);
  json_diff(j, &u->d);
  mx__json_key(j, "rel"); mx__json_double_exact(j, u->rel);
  mx__json_key(j, "p_value"); mx__json_double_exact(j, u->d.p_value);
  mx__json_key(j, "rel_lo95"); mx__json_double_exact(j, u->rel_lo);
  mx__json_key(j, "rel_hi95"); mx__json_double_exact(j, u->rel_hi);
  mx__json_key(j, "method"); mx__json_string(j, u->method);
  mx__json_key(j, "se"); mx__json_double_exact(j, u->d.se);
  mx__json_key(j, "df"); mx__json_double_exact(j, u->d.df); /* null for the z test */
  if (r->cuped) {
    mx__json_key(j, "cuped");
    mx__json_object_begin(j);
    json_diff(j, &u->cuped);
    mx__json_key(j, "p_value"); mx__json_double_exact(j, u->cuped.p_value);
    mx__json_key(j, "theta"); mx__json_double_exact(j, u->theta);
    mx__json_key(j, "variance_reduction"); mx__json_double_exact(j, u->variance_reduction);
    mx__json_object_end(j);
  }
  mx__json_object_end(j);
}

static void json_uplifts(mx_json *j, const mx_measure_result *r, const char *segment) {
  mx__json_array_begin(j);
  for (int i = 0; i < r->n_uplift; i++) {
    const mx_measure_uplift *u = &r->uplift[i];
    if ((u->segment == NULL) != (segment == NULL)) continue;
    if (segment && strcmp(u->segment, segment)) continue;
    json_uplift(j, r, u);
  }
  mx__json_array_end(j);
}

void mx_measure_write_json(const mx_measure_result *r, FILE *f) {
  mx_json j;
  mx__json_init(&j, f);
  mx__json_object_begin(&j);
  mx__json_key(&j, "arms");
  mx__json_array_begin(&j);
  for (int a = 0; a < r->n_arms; a++) json_cell(&j, r, &r->arms[a], a);
  mx__json_array_end(&j);
  mx__json_key(&j, "uplift");
  json_uplifts(&j, r, NULL);
  mx__json_key(&j, "srm_p_value"); mx__json_double_exact(&j, r->srm_p_value);
  mx__json_key(&j, "srm_chi2"); mx__json_double_exact(&j, r->srm_chi2);
  mx__json_key(&j, "control"); mx__json_string(&j, r->control);
  mx__json_key(&j, "metrics");
  mx__json_array_begin(&j);
  for (int k = 0; k < r->n_metrics; k++) {
    mx__json_object_begin(&j);
    mx__json_key(&j, "name"); mx__json_string(&j, r->metrics[k]);
    mx__json_key(&j, "kind"); mx__json_string(&j, r->binary[k] ? "binary" : "continuous");
    mx__json_object_end(&j);
  }
  mx__json_array_end(&j);
  mx__json_key(&j, "users"); mx__json_int(&j, (int64_t)r->users);
  mx__json_key(&j, "outcome_rows"); mx__json_int(&j, (int64_t)r->outcome_rows);
  mx__json_key(&j, "unknown_outcome_rows"); mx__json_int(&j, (int64_t)r->unknown_rows);
  mx__json_key(&j, "outside_window_rows"); mx__json_int(&j, (int64_t)r->outside_rows);
  if (r->n_segments) {
    mx__json_key(&j, "segments");
    mx__json_array_begin(&j);
    for (int s = 0; s < r->n_segments; s++) {
      mx__json_object_begin(&j);
      mx__json_key(&j, "segment"); mx__json_string(&j, r->segments[s]);
      mx__json_key(&j, "arms");
      mx__json_array_begin(&j);
      for (int a = 0; a < r->n_arms; a++)
        json_cell(&j, r, &r->segment_arms[(size_t)s * r->n_arms + a], a);
      mx__json_array_end(&j);
      mx__json_key(&j, "uplift");
      json_uplifts(&j, r, r->segments[s]);
      mx__json_object_end(&j);
    }
    mx__json_array_end(&j);
  }
  mx__json_key(&j, "warnings");
  mx__json_array_begin(&j);
  for (int w = 0; w < r->n_warnings; w++) mx__json_string(&j, r->warnings[w]);
  mx__json_array_end(&j);
  mx__json_object_end(&j);
  fputc('\n', f);
}

/* -------------------------------------------------------------------- CSV */

static void csv_num(FILE *f, double v) {
  fputc(',', f);
  if (isfinite(v)) fprintf(f, "%.17g", v);
}

static const mx_measure_uplift *find_uplift(const mx_measure_result *r, const char *segment,
                                            const char *arm, int k) {
  for (int i = 0; i < r->n_uplift; i++) {
    const mx_measure_uplift *u = &r->uplift[i];
    if (u->metric != k || strcmp(u->arm, arm)) continue;
    if ((u->segment == NULL) != (segment == NULL)) continue;
    if (segment && strcmp(u->segment, segment)) continue;
    return u;
  }
  return NULL;
}

static void csv_cell(FILE *f, const mx_measure_result *r, const mx_measure_cell *c) {
  for (int k = 0; k < r->n_metrics; k++) {
    mx_csv_write_field(f, c->segment ? c->segment : "", ',');
    fputc(',', f);
    mx_csv_write_field(f, c->arm, ',');
    fputc(',', f);
    mx_csv_write_field(f, r->metrics[k], ',');
    fprintf(f, ",%llu", (unsigned long long)c->users);
    csv_num(f, c->mean[k]);
    csv_num(f, c->lo95[k]);
    csv_num(f, c->hi95[k]);
    const mx_measure_uplift *u = find_uplift(r, c->segment, c->arm, k);
    if (u) {
      csv_num(f, u->d.diff);
      csv_num(f, u->d.lo);
      csv_num(f, u->d.hi);
      csv_num(f, u->rel);
      csv_num(f, u->rel_lo);
      csv_num(f, u->rel_hi);
      csv_num(f, u->d.p_value);
      fprintf(f, ",%s", u->method);
      csv_num(f, u->cuped.diff);
      csv_num(f, u->cuped.lo);
      csv_num(f, u->cuped.hi);
      csv_num(f, u->cuped.p_value);
      csv_num(f, u->variance_reduction);
    } else {
      fputs(",,,,,,,,,,,,,", f);
    }
    fputc('\n', f);
  }
}

void mx_measure_write_csv(const mx_measure_result *r, FILE *f) {
  fputs("segment,arm,metric,users,mean,lo95,hi95,diff,diff_lo95,diff_hi95,rel,rel_lo95,rel_hi95,"
        "p_value,method,cuped_diff,cuped_lo95,cuped_hi95,cuped_p_value,variance_reduction\n",
        f);
  for (int a = 0; a < r->n_arms; a++) csv_cell(f, r, &r->arms[a]);
  for (int s = 0; s < r->n_segments; s++)
    for (int a = 0; a < r->n_arms; a++) csv_cell(f, r, &r->segment_arms[(size_t)s * r->n_arms + a]);
}

/* ------------------------------------------------------------------- text */

/* A number into buf with a literal printf spec, or "n/a". */
#define fmt(buf, size, spec, v) \
  (isfinite(v) ? (snprintf((buf), (size), spec, (v)), (const char *)(buf)) : "n/a")

static void text_uplift(FILE *f, const mx_measure_result *r, const char *segment) {
  char b[6][48];
  for (int i = 0; i < r->n_uplift; i++) {
    const mx_measure_uplift *u = &r->uplift[i];
    if ((u->segment == NULL) != (segment == NULL)) continue;
    if (segment && strcmp(u->segment, segment)) continue;
    fprintf(f, "  %-20s %-14s %12s  [%s, %s]  rel %s  p %s", u->arm, r->metrics[u->metric],
            fmt(b[0], 48, "%+.6g", u->d.diff), fmt(b[1], 48, "%+.6g", u->d.lo),
            fmt(b[2], 48, "%+.6g", u->d.hi), fmt(b[3], 48, "%+.2f%%", 100 * u->rel),
            fmt(b[4], 48, "%.3g", u->d.p_value));
    if (r->cuped)
      fprintf(f, "  cuped %s [%s, %s] (variance reduction %s)", fmt(b[0], 48, "%+.6g", u->cuped.diff),
              fmt(b[1], 48, "%+.6g", u->cuped.lo), fmt(b[2], 48, "%+.6g", u->cuped.hi),
              fmt(b[5], 48, "%.1f%%", 100 * u->variance_reduction));
    fputc('\n', f);
  }
}

static void text_cells(FILE *f, const mx_measure_result *r, const mx_measure_cell *cells) {
  char b[3][48];
  for (int a = 0; a < r->n_arms; a++) {
    const mx_measure_cell *c = &cells[a];
    fprintf(f, "  %-20s %9llu", c->arm, (unsigned long long)c->users);
    for (int k = 0; k < r->n_metrics; k++)
      fprintf(f, "  %s=%s [%s, %s]", r->metrics[k], fmt(b[0], 48, "%.6g", c->mean[k]),
              fmt(b[1], 48, "%.6g", c->lo95[k]), fmt(b[2], 48, "%.6g", c->hi95[k]));
    fputc('\n', f);
  }
}

void mx_measure_write_text(const mx_measure_result *r, FILE *f) {
  char b[48];
  fprintf(f, "users %llu, control '%s', sample-ratio check p = %s\n",
          (unsigned long long)r->users, r->control, fmt(b, sizeof b, "%.3g", r->srm_p_value));
  fprintf(f, "arms (users, mean [95%% interval]):\n");
  text_cells(f, r, r->arms);
  fprintf(f, "uplift vs '%s' (diff [95%% interval], relative, p-value):\n", r->control);
  text_uplift(f, r, NULL);
  for (int s = 0; s < r->n_segments; s++) {
    fprintf(f, "segment '%s':\n", r->segments[s]);
    text_cells(f, r, &r->segment_arms[(size_t)s * r->n_arms]);
    text_uplift(f, r, r->segments[s]);
  }
}

/* ------------------------------------------------------------------- HTML */

static void html_escape(FILE *f, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '&': fputs("&amp;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&#39;", f); break;
    default: fputc(*s, f);
    }
  }
}

typedef struct scale {
  double lo, hi;
  int x0, width;
} scale;

static double sx(const scale *s, double v) {
  return s->x0 + (v - s->lo) / (s->hi - s->lo) * s->width;
}

static void extend(double *lo, double *hi, double v) {
  if (!isfinite(v)) return;
  if (v < *lo) *lo = v;
  if (v > *hi) *hi = v;
}

static void fix_range(scale *s) {
  if (!(s->hi > s->lo)) {
    double c = isfinite(s->lo) ? s->lo : 0;
    s->lo = c - 1;
    s->hi = c + 1;
  }
  double pad = 0.05 * (s->hi - s->lo);
  s->lo -= pad;
  s->hi += pad;
}

/* A horizontal axis at y with the scale's ends labelled. */
static void html_axis(FILE *f, const scale *s, int y) {
  char b[2][48];
  fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#ccc\"/>\n", s->x0,
          s->x0 + s->width, y, y);
  fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#666\">%s</text>\n", s->x0, y + 12,
          fmt(b[0], 48, "%.4g", s->lo));
  fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#666\" text-anchor=\"end\">%s</text>\n",
          s->x0 + s->width, y + 12, fmt(b[1], 48, "%.4g", s->hi));
}

/* One metric: the arm means with their intervals (top), the uplift of each
 * arm over the control with its interval and a zero line (bottom). */
static void html_chart(FILE *f, const mx_measure_result *r, int k) {
  const int row = 26, label = 170, width = 440, top = 24;
  int n_up = 0;
  for (int i = 0; i < r->n_uplift; i++) n_up += !r->uplift[i].segment && r->uplift[i].metric == k;
  scale sm = {INFINITY, -INFINITY, label, width}, su = {0, 0, label, width};
  for (int a = 0; a < r->n_arms; a++) {
    extend(&sm.lo, &sm.hi, r->arms[a].lo95[k]);
    extend(&sm.lo, &sm.hi, r->arms[a].hi95[k]);
    extend(&sm.lo, &sm.hi, r->arms[a].mean[k]);
  }
  for (int i = 0; i < r->n_uplift; i++) {
    const mx_measure_uplift *u = &r->uplift[i];
    if (u->segment || u->metric != k) continue;
    extend(&su.lo, &su.hi, u->d.lo);
    extend(&su.lo, &su.hi, u->d.hi);
  }
  fix_range(&sm);
  fix_range(&su);
  int h1 = top + row * r->n_arms + 20, h2 = top + row * n_up + 20;
  int H = h1 + h2 + 10, W = label + width + 120;
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
             "role=\"img\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H);
  fprintf(f, "<text x=\"4\" y=\"15\" font-weight=\"bold\">mean per arm, 95%% interval</text>\n");
  char b[3][48];
  for (int a = 0; a < r->n_arms; a++) {
    const mx_measure_cell *c = &r->arms[a];
    int y = top + row * a + row / 2;
    fprintf(f, "<text x=\"4\" y=\"%d\">", y + 4);
    html_escape(f, c->arm);
    fprintf(f, "%s</text>\n", a == 0 ? " (control)" : "");
    if (!isfinite(c->mean[k])) {
      fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#888\">no users</text>\n", label, y + 4);
      continue;
    }
    const char *col = a == 0 ? "#555" : "#1f6fb4";
    if (isfinite(c->lo95[k]) && isfinite(c->hi95[k]))
      fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/>\n",
              sx(&sm, c->lo95[k]), sx(&sm, c->hi95[k]), y, y, col);
    fprintf(f, "<circle cx=\"%.1f\" cy=\"%d\" r=\"4\" fill=\"%s\"/>\n", sx(&sm, c->mean[k]), y, col);
    fprintf(f, "<text x=\"%d\" y=\"%d\">%s [%s, %s]</text>\n", label + width + 6, y + 4,
            fmt(b[0], 48, "%.4g", c->mean[k]), fmt(b[1], 48, "%.4g", c->lo95[k]),
            fmt(b[2], 48, "%.4g", c->hi95[k]));
  }
  html_axis(f, &sm, top + row * r->n_arms + 2);
  int y0 = h1;
  fprintf(f, "<text x=\"4\" y=\"%d\" font-weight=\"bold\">uplift vs control, 95%% interval</text>\n",
          y0 + 15);
  double zx = sx(&su, 0);
  fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#aaa\" stroke-dasharray=\"3,3\"/>\n",
          zx, zx, y0 + top - 4, y0 + top + row * n_up);
  int i_row = 0;
  for (int i = 0; i < r->n_uplift; i++) {
    const mx_measure_uplift *u = &r->uplift[i];
    if (u->segment || u->metric != k) continue;
    int y = y0 + top + row * i_row++ + row / 2;
    fprintf(f, "<text x=\"4\" y=\"%d\">", y + 4);
    html_escape(f, u->arm);
    fputs("</text>\n", f);
    if (!isfinite(u->d.diff)) {
      fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#888\">not computable</text>\n", label, y + 4);
      continue;
    }
    const char *col = u->d.lo > 0 ? "#2a8a2a" : u->d.hi < 0 ? "#c0392b" : "#1f6fb4";
    if (isfinite(u->d.lo) && isfinite(u->d.hi))
      fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/>\n",
              sx(&su, u->d.lo), sx(&su, u->d.hi), y, y, col);
    fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"8\" height=\"8\" fill=\"%s\"/>\n",
            sx(&su, u->d.diff) - 4, y - 4, col);
    fprintf(f, "<text x=\"%d\" y=\"%d\">%s [%s, %s]</text>\n", label + width + 6, y + 4,
            fmt(b[0], 48, "%+.4g", u->d.diff), fmt(b[1], 48, "%+.4g", u->d.lo),
            fmt(b[2], 48, "%+.4g", u->d.hi));
  }
  html_axis(f, &su, y0 + top + row * n_up + 2);
  fputs("</svg>\n", f);
}

static void html_table(FILE *f, const mx_measure_result *r, const char *segment) {
  char b[8][48];
  fputs("<table>\n<tr><th>arm</th><th>metric</th><th>users</th><th>mean</th><th>95% interval</th>"
        "<th>diff</th><th>95% interval</th><th>relative</th><th>p-value</th>", f);
  if (r->cuped) fputs("<th>CUPED diff</th><th>95% interval</th><th>variance reduction</th>", f);
  fputs("</tr>\n", f);
  const mx_measure_cell *cells = r->arms;
  if (segment)
    for (int s = 0; s < r->n_segments; s++)
      if (!strcmp(r->segments[s], segment)) cells = &r->segment_arms[(size_t)s * r->n_arms];
  for (int a = 0; a < r->n_arms; a++)
    for (int k = 0; k < r->n_metrics; k++) {
      const mx_measure_cell *c = &cells[a];
      fputs("<tr><td>", f);
      html_escape(f, c->arm);
      fputs("</td><td>", f);
      html_escape(f, r->metrics[k]);
      fprintf(f, "</td><td>%llu</td><td>%s</td><td>[%s, %s]</td>", (unsigned long long)c->users,
              fmt(b[0], 48, "%.6g", c->mean[k]), fmt(b[1], 48, "%.6g", c->lo95[k]),
              fmt(b[2], 48, "%.6g", c->hi95[k]));
      const mx_measure_uplift *u = a ? find_uplift(r, segment, c->arm, k) : NULL;
      if (u) {
        fprintf(f, "<td>%s</td><td>[%s, %s]</td><td>%s</td><td>%s</td>",
                fmt(b[3], 48, "%+.6g", u->d.diff), fmt(b[4], 48, "%+.6g", u->d.lo),
                fmt(b[5], 48, "%+.6g", u->d.hi), fmt(b[6], 48, "%+.2f%%", 100 * u->rel),
                fmt(b[7], 48, "%.3g", u->d.p_value));
        if (r->cuped)
          fprintf(f, "<td>%s</td><td>[%s, %s]</td><td>%s</td>", fmt(b[0], 48, "%+.6g", u->cuped.diff),
                  fmt(b[1], 48, "%+.6g", u->cuped.lo), fmt(b[2], 48, "%+.6g", u->cuped.hi),
                  fmt(b[3], 48, "%.1f%%", 100 * u->variance_reduction));
      } else {
        fprintf(f, "<td colspan=\"%d\">%s</td>", r->cuped ? 7 : 4, a ? "n/a" : "control");
      }
      fputs("</tr>\n", f);
    }
  fputs("</table>\n", f);
}

void mx_measure_write_html(const mx_measure_result *r, const char *title, FILE *f) {
  if (!title) title = "merx measure";
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
  html_escape(f, title);
  fputs("</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:1100px}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:right}td:first-child,td:nth-child(2){text-align:left}"
        ".warn{color:#a40}</style></head><body>\n<h1>", f);
  html_escape(f, title);
  char b[48];
  fprintf(f, "</h1>\n<p>%llu users; control arm <b>", (unsigned long long)r->users);
  html_escape(f, r->control);
  fprintf(f, "</b>; sample-ratio check p = %s. Intervals are 95%%: Newcombe's hybrid score "
             "interval (Wilson) for 0/1 metrics, Welch's t interval otherwise.</p>\n",
          fmt(b, sizeof b, "%.3g", r->srm_p_value));
  for (int w = 0; w < r->n_warnings; w++) {
    fputs("<p class=\"warn\">warning: ", f);
    html_escape(f, r->warnings[w]);
    fputs("</p>\n", f);
  }
  for (int k = 0; k < r->n_metrics; k++) {
    fputs("<h2>", f);
    html_escape(f, r->metrics[k]);
    fprintf(f, " <small>(%s)</small></h2>\n", r->binary[k] ? "0/1: Newcombe" : "Welch");
    html_chart(f, r, k);
  }
  fputs("<h2>All figures</h2>\n", f);
  html_table(f, r, NULL);
  for (int s = 0; s < r->n_segments; s++) {
    fputs("<h3>segment ", f);
    html_escape(f, r->segments[s]);
    fputs("</h3>\n", f);
    html_table(f, r, r->segments[s]);
  }
  fputs("</body></html>\n", f);
}

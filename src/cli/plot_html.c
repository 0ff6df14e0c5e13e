/* Drawing of the `--plot` pages (plot_html.h): escaping, axes with "nice"
 * value ticks (1, 2, 5 x 10^k, as Heckbert's "Nice numbers for graph labels",
 * Graphics Gems 1990), calendar ticks, bands, lines, tooltips, search. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/plot_html.h"
#include "merx/forecast.h"
#include "util/util.h"

int mx__plot_commit(mx_atomic_file *out, mx_atomic_file *page, mx_error *err) {
  if (!page) return out ? mx__atomic_commit(out, err) : MX_OK;
  if (!out) return mx__atomic_commit(page, err);
  mx_atomic_file *both[2] = {out, page};
  int rc = mx__atomic_publish(both, 2, err);
  if (rc == MX_OK) mx__atomic_settle(both, 2);
  return rc;
}

/* ------------------------------------------------------------- escaping */

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, <= U+10FFFF), or 0. */
static int utf8_len(const unsigned char *s) {
  unsigned c = s[0];
  if (c < 0x80) return 1;
  int n;
  unsigned min;
  if ((c & 0xE0) == 0xC0) n = 2, min = 0x80, c &= 0x1F;
  else if ((c & 0xF0) == 0xE0) n = 3, min = 0x800, c &= 0x0F;
  else if ((c & 0xF8) == 0xF0) n = 4, min = 0x10000, c &= 0x07;
  else return 0;
  for (int k = 1; k < n; k++) {
    if ((s[k] & 0xC0) != 0x80) return 0;
    c = (c << 6) | (s[k] & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  return n;
}

void mx__plot_text(FILE *f, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    unsigned c = *p;
    if (c == '<') fputs("&lt;", f);
    else if (c == '>') fputs("&gt;", f);
    else if (c == '&') fputs("&amp;", f);
    else if (c == '"') fputs("&quot;", f);
    else if (c == '\'') fputs("&#39;", f);
    else if (c < 0x20 || c == 0x7F) fputs("&#xFFFD;", f);
    else if (c >= 0x80) {
      int n = utf8_len(p);
      if (!n) {
        fputs("&#xFFFD;", f);
        p++;
        continue;
      }
      fwrite(p, 1, (size_t)n, f);
      p += n;
      continue;
    } else fputc((int)c, f);
    p++;
  }
}

/* --------------------------------------------------------------- x-axis */

static int64_t days_of(const mx_plot_xaxis *ax, long k, int *y, int *m, int *d) {
  int64_t days = (ax->t0 >= 0 ? ax->t0 : ax->t0 - 86399) / 86400, yy;
  if (ax->freq == MX_FREQ_MONTH) {
    int mm, dd;
    mx__civil_from_days(days, &yy, &mm, &dd);
    int64_t months = yy * 12 + (mm - 1) + k;
    int64_t ny = months >= 0 ? months / 12 : -((-months + 11) / 12);
    int nm = (int)(months - ny * 12) + 1;
    days = mx__days_from_civil(ny, nm, 1);
  } else {
    days += (int64_t)k * (ax->freq == MX_FREQ_WEEK ? 7 : 1);
  }
  int mm, dd;
  mx__civil_from_days(days, &yy, &mm, &dd);
  if (y) *y = (int)yy;
  if (m) *m = mm;
  if (d) *d = dd;
  return days;
}

static int dated(const mx_plot_xaxis *ax) {
  return ax->freq == MX_FREQ_DAY || ax->freq == MX_FREQ_WEEK || ax->freq == MX_FREQ_MONTH;
}

void mx__plot_xlabel(const mx_plot_xaxis *ax, long k, char *buf, size_t size) {
  if (!dated(ax)) {
    snprintf(buf, size, "%s %ld", ax->name ? ax->name : "t", ax->first + k);
    return;
  }
  int y, m, d;
  days_of(ax, k, &y, &m, &d);
  if (ax->freq == MX_FREQ_MONTH) snprintf(buf, size, "%04d-%02d", y, m);
  else snprintf(buf, size, "%04d-%02d-%02d", y, m, d);
}

/* --------------------------------------------------------------- charts */

static double px(const mx_plot_chart *c, double x) {
  double span = (double)(c->x1 - c->x0);
  return c->ml + (c->w - c->ml - c->mr) * (x - (double)c->x0) / (span > 0 ? span : 1);
}

static double py(const mx_plot_chart *c, double v) {
  return c->mt + (c->h - c->mt - c->mb) * (c->y1 - v) / (c->y1 - c->y0);
}

static double nice_step(double raw) {
  double p = pow(10, floor(log10(raw))), f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

void mx__plot_range(const double *v, size_t n, double *lo, double *hi) {
  for (size_t i = 0; i < n; i++)
    if (isfinite(v[i])) {
      if (v[i] < *lo) *lo = v[i];
      if (v[i] > *hi) *hi = v[i];
    }
}

static void xtick(mx_plot_chart *c, long k, const char *label) {
  double x = px(c, (double)k), yb = c->h - c->mb;
  fprintf(c->f,
          "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
          "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
          x, c->mt, x, yb + 4, x, yb + 16);
  mx__plot_text(c->f, label);
  fputs("</text>", c->f);
}

/* Calendar ticks: month starts, thinned to every 1, 2, 3, 6, 12, 24, 60 or
 * 120 months (aligned on January) so at most 8 show; spans with fewer than
 * three month starts tick every 1, 2, 7, 14 ... periods instead. */
static void x_ticks(mx_plot_chart *c) {
  long n = c->x1 - c->x0 + 1;
  char buf[48];
  fputs("<g class=\"axis x\">", c->f);
  if (dated(&c->ax)) {
    long starts = 0;
    int pm = -1;
    for (long k = c->x0; k <= c->x1; k++) {
      int m;
      days_of(&c->ax, k, NULL, &m, NULL);
      if (m != pm && (pm >= 0 || c->ax.freq == MX_FREQ_MONTH)) starts++;
      pm = m;
    }
    if (starts >= 3) {
      static const int every[] = {1, 2, 3, 6, 12, 24, 60, 120, 240};
      int e = 0;
      while (e < 8 && starts / every[e] > 8) e++;
      int step = every[e];
      pm = -1;
      for (long k = c->x0; k <= c->x1; k++) {
        int y, m;
        days_of(&c->ax, k, &y, &m, NULL);
        int first = m != pm && (pm >= 0 || c->ax.freq == MX_FREQ_MONTH);
        pm = m;
        if (!first || ((int64_t)y * 12 + (m - 1)) % step != 0) continue;
        if (step >= 12) snprintf(buf, sizeof buf, "%04d", y);
        else snprintf(buf, sizeof buf, "%04d-%02d", y, m);
        xtick(c, k, buf);
      }
      fputs("</g>", c->f);
      return;
    }
  }
  static const long every[] = {1, 2, 5, 7, 10, 14, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000};
  size_t e = 0;
  while (e + 1 < sizeof every / sizeof every[0] && n / every[e] > 8) e++;
  for (long k = c->x0; k <= c->x1; k += every[e]) {
    mx__plot_xlabel(&c->ax, k, buf, sizeof buf);
    xtick(c, k, buf);
  }
  fputs("</g>", c->f);
}

void mx__plot_chart_begin(mx_plot_chart *c, FILE *f, const mx_plot_xaxis *ax, long x0, long x1,
                         double ylo, double yhi, const char *title) {
  memset(c, 0, sizeof *c);
  c->f = f;
  c->ax = *ax;
  c->w = 760, c->h = 250, c->ml = 64, c->mr = 96, c->mt = 12, c->mb = 30;
  c->x0 = x0, c->x1 = x1 > x0 ? x1 : x0 + 1;
  if (!(ylo <= yhi)) ylo = 0, yhi = 1;
  if (!(yhi > ylo)) {
    double pad = fabs(ylo) > 0 ? fabs(ylo) * 0.1 : 1;
    ylo -= pad, yhi += pad;
  }
  double step = nice_step((yhi - ylo) / 5);
  c->y0 = floor(ylo / step) * step;
  c->y1 = ceil(yhi / step) * step;
  fprintf(f,
          "<svg class=\"chart\" width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" "
          "data-l=\"%g\" data-r=\"%g\" data-x0=\"%ld\" data-x1=\"%ld\" role=\"img\"><title>",
          c->w, c->h, c->w, c->h, c->ml, c->w - c->mr, c->x0, c->x1);
  mx__plot_text(f, title ? title : "");
  fputs("</title><g class=\"axis y\">", f);
  for (double v = c->y0; v <= c->y1 + step * 0.5; v += step) {
    double t = fabs(v) < step * 1e-9 ? 0 : v, y = py(c, t);
    fprintf(f,
            "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
            "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.6g</text>",
            c->ml - 4, y, c->w - c->mr, y, c->ml - 7, y + 4, t);
  }
  fputs("</g>", f);
  x_ticks(c);
  fprintf(f, "<line class=\"frame\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", c->ml, c->mt,
          c->ml, c->h - c->mb);
  fprintf(f, "<line class=\"frame\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", c->ml,
          c->h - c->mb, c->w - c->mr, c->h - c->mb);
}

static void add_tip(mx_plot_chart *c, const char *tip, long start, size_t n, const double *a,
                    const double *b) {
  if (!tip || c->ntips >= MX_PLOT_MAX_TIPS) return;
  snprintf(c->tips[c->ntips].name, sizeof c->tips[c->ntips].name, "%s", tip);
  c->tips[c->ntips].start = start;
  c->tips[c->ntips].n = n;
  c->tips[c->ntips].a = a;
  c->tips[c->ntips].b = b;
  c->ntips++;
}

void mx__plot_band(mx_plot_chart *c, long start, const double *lo, const double *hi, size_t n,
                  const char *cls, const char *tip) {
  if (n == 0) return;
  fprintf(c->f, "<polygon class=\"%s\" points=\"", cls);
  for (size_t j = 0; j < n; j++)
    if (isfinite(hi[j])) fprintf(c->f, "%.1f,%.1f ", px(c, (double)start + (double)j), py(c, hi[j]));
  for (size_t j = n; j-- > 0;)
    if (isfinite(lo[j])) fprintf(c->f, "%.1f,%.1f ", px(c, (double)start + (double)j), py(c, lo[j]));
  fputs("\"/>", c->f);
  add_tip(c, tip, start, n, lo, hi);
}

void mx__plot_line(mx_plot_chart *c, long start, const double *y, size_t n, const char *cls,
                  const char *tip) {
  int open = 0;
  for (size_t j = 0; j < n; j++) {
    if (!isfinite(y[j])) {
      if (open) fputs("\"/>", c->f);
      open = 0;
      continue;
    }
    if (!open) fprintf(c->f, "<polyline class=\"%s\" points=\"", cls);
    open = 1;
    fprintf(c->f, "%.1f,%.1f ", px(c, (double)start + (double)j), py(c, y[j]));
  }
  if (open) fputs("\"/>", c->f);
  add_tip(c, tip, start, n, y, NULL);
}

void mx__plot_marks(mx_plot_chart *c, long start, const double *y, size_t n, const char *cls,
                   const char *tip) {
  for (size_t j = 0; j < n; j++)
    if (isfinite(y[j]))
      fprintf(c->f, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"/>", cls,
              px(c, (double)start + (double)j), py(c, y[j]));
  add_tip(c, tip, start, n, y, NULL);
}

void mx__plot_hrule(mx_plot_chart *c, double y, const char *cls, const char *label) {
  if (!isfinite(y)) return;
  double yy = py(c, y);
  fprintf(c->f,
          "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
          "<text class=\"rule\" x=\"%.1f\" y=\"%.1f\">",
          cls, c->ml, yy, c->w - c->mr, yy, c->w - c->mr + 4, yy + 4);
  mx__plot_text(c->f, label);
  fprintf(c->f, " %.4g</text>", y);
}

void mx__plot_vrule(mx_plot_chart *c, double x, const char *cls, const char *label) {
  double xx = px(c, x);
  fprintf(c->f,
          "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
          "<text class=\"rule\" x=\"%.1f\" y=\"%.1f\">",
          cls, xx, c->mt, xx, c->h - c->mb, xx + 3, c->mt + 10);
  mx__plot_text(c->f, label);
  fputs("</text>", c->f);
}

void mx__plot_legend(FILE *f, const char *const *cls, const char *const *label, int n) {
  fputs("<p class=\"legend\">", f);
  for (int k = 0; k < n; k++) {
    fprintf(f, "<svg width=\"22\" height=\"10\"><rect class=\"%s\" width=\"22\" height=\"10\"/></svg> ",
            cls[k]);
    mx__plot_text(f, label[k]);
    fputs(" &nbsp; ", f);
  }
  fputs("</p>", f);
}

/* One text row per x index, "label|name value|name lo – hi", read by the
 * page script on hover (rows rather than an element per point keep 1,000
 * periods of history one small text node). */
void mx__plot_chart_end(mx_plot_chart *c) {
  fputs("<metadata class=\"tips\">", c->f);
  char buf[48];
  for (long k = c->x0; k <= c->x1; k++) {
    mx__plot_xlabel(&c->ax, k, buf, sizeof buf);
    mx__plot_text(c->f, buf);
    for (int t = 0; t < c->ntips; t++) {
      long j = k - c->tips[t].start;
      if (j < 0 || (size_t)j >= c->tips[t].n) continue;
      double a = c->tips[t].a[j];
      if (!isfinite(a)) continue;
      fputc('|', c->f);
      mx__plot_text(c->f, c->tips[t].name);
      if (c->tips[t].b) fprintf(c->f, " %.6g &#8211; %.6g", a, c->tips[t].b[j]);
      else fprintf(c->f, " %.6g", a);
    }
    fputc('\n', c->f);
  }
  fputs("</metadata></svg>\n", c->f);
}

/* ----------------------------------------------------------------- page */

void mx__plot_page_begin(FILE *f, const char *title, const char *intro) {
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
  mx__plot_text(f, title);
  fputs("</title><style>\n"
        "body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}\n"
        "h1{font-size:20px}h2{font-size:15px;margin:4px 0}\n"
        ".panel{border-top:1px solid #ddd;padding:8px 0}.meta{color:#555;margin:2px 0}\n"
        "#search{font-size:14px;padding:4px;width:22em}#count{color:#555;margin-left:8px}\n"
        "svg.chart{display:block;background:#fff}\n"
        ".grid{stroke:#eee}.frame{stroke:#888}.tick,.rule{font-size:10px;fill:#555}\n"
        ".hist{fill:none;stroke:#333;stroke-width:1.2}.actual{fill:none;stroke:#333;stroke-width:1.2;stroke-dasharray:2 2}\n"
        ".fc{fill:none;stroke:#1f4fa0;stroke-width:2}.fan95{fill:#3b7dd8;fill-opacity:.18}\n"
        ".fan80{fill:#3b7dd8;fill-opacity:.32}.origin{stroke:#999;stroke-dasharray:3 3}\n"
        ".stock{fill:none;stroke:#1f4fa0;stroke-width:2}.noorder{fill:none;stroke:#999;stroke-width:1.2;stroke-dasharray:4 3}\n"
        ".safety{stroke:#d9822b;stroke-width:1.5}.target{stroke:#2b9d48;stroke-width:1.5;stroke-dasharray:6 3}\n"
        ".order{fill:#d12f2f}.zero{stroke:#c00;stroke-width:.8}\n"
        ".m0{fill:none;stroke:#1f4fa0;stroke-width:2}.m1{fill:none;stroke:#d9822b;stroke-width:2}\n"
        ".m2{fill:none;stroke:#2b9d48;stroke-width:2}.m3{fill:none;stroke:#8e44ad;stroke-width:2}\n"
        ".m4{fill:none;stroke:#c0392b;stroke-width:2}.m5{fill:none;stroke:#7f8c8d;stroke-width:2}\n"
        ".legend rect.hist,.legend rect.fc,.legend rect.stock,.legend rect.m0{fill:#1f4fa0}\n"
        ".legend rect.hist{fill:#333}.legend rect.actual{fill:#777}.legend rect.safety{fill:#d9822b}\n"
        ".legend rect.target{fill:#2b9d48}.legend rect.noorder{fill:#bbb}.legend rect.m1{fill:#d9822b}\n"
        ".legend rect.m2{fill:#2b9d48}.legend rect.m3{fill:#8e44ad}.legend rect.m4{fill:#c0392b}\n"
        ".legend rect.m5{fill:#7f8c8d}\n"
        "table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right}th{border-bottom:1px solid #999}\n"
        "td:first-child,th:first-child{text-align:left}\n"
        "#tip{position:fixed;display:none;background:#fffbe6;border:1px solid #bba;padding:4px 6px;"
        "font-size:12px;pointer-events:none;white-space:pre}\n"
        ".hover{stroke:#d12f2f;stroke-width:1}\n"
        "</style></head><body>\n<h1>",
        f);
  mx__plot_text(f, title);
  fputs("</h1>\n", f);
  if (intro) fprintf(f, "<p class=\"intro\">%s</p>\n", intro);
  fputs("<p><input id=\"search\" type=\"search\" placeholder=\"search series by id\" "
        "aria-label=\"search series by id\"><span id=\"count\"></span></p>\n<div id=\"tip\"></div>\n",
        f);
}

void mx__plot_panel_begin(FILE *f, const char *id) {
  fputs("<section class=\"panel\" data-id=\"", f);
  mx__plot_text(f, id);
  fputs("\"><h2>", f);
  mx__plot_text(f, id);
  fputs("</h2>\n", f);
}

void mx__plot_panel_end(FILE *f) { fputs("</section>\n", f); }

void mx__plot_page_end(FILE *f) {
  fputs("<script>\n"
        "(function(){\n"
        "var panels=[].slice.call(document.querySelectorAll('section.panel'));\n"
        "var box=document.getElementById('search'),count=document.getElementById('count');\n"
        "function filter(){var q=box.value.toLowerCase(),n=0;\n"
        " panels.forEach(function(p){var on=p.getAttribute('data-id').toLowerCase().indexOf(q)>=0;\n"
        "  p.style.display=on?'':'none';if(on)n++;});\n"
        " count.textContent=n+' of '+panels.length+' shown';}\n"
        "box.addEventListener('input',filter);\n"
        "var q=/[?&]q=([^&]*)/.exec(location.search);if(q)box.value=decodeURIComponent(q[1]);filter();\n"
        "var tip=document.getElementById('tip');\n"
        "[].forEach.call(document.querySelectorAll('svg.chart'),function(s){\n"
        " var rows=null,l=+s.getAttribute('data-l'),r=+s.getAttribute('data-r'),\n"
        "  x0=+s.getAttribute('data-x0'),x1=+s.getAttribute('data-x1'),line=null;\n"
        " s.addEventListener('mousemove',function(e){\n"
        "  if(!rows){var m=s.querySelector('metadata.tips');rows=m?m.textContent.split('\\n'):[];}\n"
        "  var b=s.getBoundingClientRect(),x=(e.clientX-b.left)*s.viewBox.baseVal.width/b.width;\n"
        "  var k=Math.round((x-l)/(r-l)*(x1-x0));if(k<0||k>x1-x0||!rows[k]){tip.style.display='none';return;}\n"
        "  var xx=l+(r-l)*k/(x1-x0);\n"
        "  if(!line){line=document.createElementNS('http://www.w3.org/2000/svg','line');\n"
        "   line.setAttribute('class','hover');s.appendChild(line);}\n"
        "  line.setAttribute('x1',xx);line.setAttribute('x2',xx);line.setAttribute('y1',0);\n"
        "  line.setAttribute('y2',s.viewBox.baseVal.height);\n"
        "  tip.textContent=rows[k].split('|').join('\\n');tip.style.display='block';\n"
        "  tip.style.left=(e.clientX+12)+'px';tip.style.top=(e.clientY+12)+'px';});\n"
        " s.addEventListener('mouseleave',function(){tip.style.display='none';});\n"
        "});\n"
        "})();\n"
        "</script>\n</body></html>\n",
        f);
}

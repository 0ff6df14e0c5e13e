/* Progress bar on stderr, only when stderr is a terminal. */
#include "util/util.h"

#include <unistd.h>

static int g_progress_override = -1; /* -1: decide by isatty */

void mx__progress_set_enabled(int on) { g_progress_override = on ? 1 : 0; }

void mx__progress_start(mx_progress *p, const char *label, uint64_t total) {
  p->label = label;
  p->total = total;
  p->done = 0;
  p->started = mx__now_seconds();
  p->last_draw = 0;
  p->enabled = g_progress_override >= 0 ? g_progress_override : isatty(STDERR_FILENO);
}

static void draw(mx_progress *p, double now) {
  const int width = 30;
  double frac = p->total ? (double)p->done / (double)p->total : 0.0;
  if (frac > 1) frac = 1;
  int fill = (int)(frac * width);
  fprintf(stderr, "\r%-12s [", p->label ? p->label : "");
  for (int i = 0; i < width; i++) fputc(i < fill ? '#' : '.', stderr);
  double el = now - p->started;
  if (p->total)
    fprintf(stderr, "] %5.1f%%  %.1fs", 100.0 * frac, el);
  else
    fprintf(stderr, "] %llu  %.1fs", (unsigned long long)p->done, el);
  fflush(stderr);
}

void mx__progress_update(mx_progress *p, uint64_t done) {
  p->done = done;
  if (!p->enabled) return;
  double now = mx__now_seconds();
  if (now - p->last_draw < 0.1) return;
  p->last_draw = now;
  draw(p, now);
}

void mx__progress_finish(mx_progress *p) {
  if (!p->enabled) return;
  if (p->total) p->done = p->total;
  draw(p, mx__now_seconds());
  fputc('\n', stderr);
}

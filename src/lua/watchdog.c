/* The sandbox's alarm: arms the count hook only when a limit needs it.
 *
 * Lua 5.4 pays for any count hook on every VM instruction, whatever the
 * count: with a hook set, luaV_execute traps into luaG_traceexec on each
 * instruction to decrement the counter (ldebug.c), so a hook every 1,000
 * instructions cost merx run 35-49% of its speed (issue #21). So the normal
 * path runs with no hook at all, and the hook is set, with a count of 1, at
 * the moment a limit is crossed:
 *   - the deadline: a per-thread POSIX timer (CLOCK_MONOTONIC, absolute, the
 *     clock of mx__now_seconds) signals the thread running the script exactly
 *     at run->deadline; the handler sets the hook on that thread's states;
 *   - a signal (mx_script_interrupt): fires every armed thread's timer now;
 *   - memory: the allocator sets the hook itself (runtime.c).
 * Setting the hook from a signal handler on the running thread is what
 * lua.c does for Ctrl-C (lua_sethook is async-signal-safe); loops see it at
 * their next backward jump (lvm.c: updatetrap in OP_JMP / OP_FORLOOP). The
 * hook then checks the limit precisely and stops the run, as before. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lua/internal.h"

#define MAX_THREADS 256

static _Thread_local mx_run *t_armed; /* the run this thread is running */
static _Thread_local int t_slot = -1; /* this thread's timer in g_timers */
static timer_t g_timers[MAX_THREADS];
static atomic_int g_used[MAX_THREADS];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_key;
static int g_signo, g_ready;

static void on_alarm(int sig) {
  (void)sig;
  mx_run *run = t_armed;
  if (run) mx__run_arm_hook(run);
}

/* Thread exit: give the timer back. */
static void release(void *p) {
  int slot = (int)(intptr_t)p - 1;
  if (slot < 0) return;
  timer_delete(g_timers[slot]);
  atomic_store(&g_used[slot], 0);
}

static void init_once(void) {
  g_signo = SIGRTMIN + 3;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(g_signo, &sa, NULL) != 0) return;
  if (pthread_key_create(&g_key, release) != 0) return;
  g_ready = 1;
}

/* This thread's timer slot, created on first use; -1 when none can be had
 * (then only the C-side polls and the memory hook hold the limits). */
static int thread_slot(void) {
  if (t_slot >= 0) return t_slot;
  pthread_once(&g_once, init_once);
  if (!g_ready) return -1;
  for (int i = 0; i < MAX_THREADS; i++) {
    int zero = 0;
    if (!atomic_compare_exchange_strong(&g_used[i], &zero, 2)) continue;
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = g_signo;
    sev._sigev_un._tid = gettid();
    if (timer_create(CLOCK_MONOTONIC, &sev, &g_timers[i]) != 0) {
      atomic_store(&g_used[i], 0);
      return -1;
    }
    atomic_store(&g_used[i], 1); /* usable by mx__watch_interrupt from now on */
    pthread_setspecific(g_key, (void *)(intptr_t)(i + 1));
    t_slot = i;
    return i;
  }
  return -1;
}

static void set_timer(int slot, double at) {
  struct itimerspec its;
  memset(&its, 0, sizeof its);
  if (at > 0) {
    its.it_value.tv_sec = (time_t)at;
    its.it_value.tv_nsec = (long)((at - (double)(time_t)at) * 1e9);
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;
  }
  timer_settime(g_timers[slot], TIMER_ABSTIME, &its, NULL);
}

void mx__watch_arm(mx_run *run) {
  if (run->watch_armed) mx__watch_disarm(run);
  run->watch_prev = t_armed;
  run->watch_armed = 1;
  t_armed = run;
  int slot = thread_slot();
  if (slot >= 0) set_timer(slot, run->deadline);
  /* a signal that came before the run was armed still stops it */
  if (mx__script_interrupted()) mx__run_arm_hook(run);
}

void mx__watch_disarm(mx_run *run) {
  if (!run->watch_armed || t_armed != run) return;
  run->watch_armed = 0;
  t_armed = run->watch_prev;
  run->watch_prev = NULL;
  if (t_slot >= 0) set_timer(t_slot, t_armed ? t_armed->deadline : 0);
}

void mx__watch_interrupt(void) {
  struct itimerspec now;
  memset(&now, 0, sizeof now);
  now.it_value.tv_nsec = 1; /* relative: at once */
  for (int i = 0; i < MAX_THREADS; i++)
    if (atomic_load(&g_used[i]) == 1) timer_settime(g_timers[i], 0, &now, NULL);
}

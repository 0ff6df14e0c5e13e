/* merx allocate: choose offers per user under a budget, caps and other
 * global limits, and print the certificate (objective, spend, dual bound,
 * gap). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "merx/allocate.h"
#include "lua/audit_store.h"
#include "merx/audit.h"
#include "util/util.h"

static const char *usage_text =
    "usage: merx allocate --data FILE --columns user=..,offer=..,value=..,cost=.. --budget B\n"
    "                     [--cap OFFER=N ...] [--per-user M] [--constraint COLUMN=LIMIT ...]\n"
    "                     [--caps FILE] [--threads T] --out FILE.csv [--json]\n"
    "                     [--save-duals FILE [--shards N]]\n"
    "                     [--groups FILE:COLUMN [--group-share GROUP=MIN:MAX ...] [--parity R]]\n"
    "       merx allocate --data FILE --columns ... --duals FILE [--shard i/n] --out FILE.csv\n"
    "       merx allocate --synthetic USERS:OFFERS:CONSTRAINTS[:SEED] [--out FILE.csv] [--json]\n"
    "                     [--save-duals FILE [--shards N] | --duals FILE [--shard i/n]]\n\n"
    "Give each user at most M offers (default 1) from its candidate rows, maximising the\n"
    "total value subject to total cost <= B, at most N uses of each capped offer, and\n"
    "sum of each extra cost COLUMN <= LIMIT. One row per eligible (user, offer) pair;\n"
    "'no offer' is always allowed. Roles: user, offer, value, cost, and optionally margin\n"
    "(the value used is value x margin, e.g. a model's conversion score x the offer's\n"
    "margin). Costs must be >= 0; a repeated (user, offer) pair is an error.\n\n"
    "Solved through the Lagrangian dual; the plan always meets every limit. Prints the\n"
    "objective, spend per constraint, the dual bound (no plan can do better) and the gap.\n"
    "Output columns: user,offer,value,cost (then one column per --constraint).\n\n"
    "  --caps FILE         caps from a CSV with a header: offer id, cap (first two columns)\n"
    "  --save-duals FILE   write the solved prices\n"
    "  --shards N          with --save-duals: also each of N shards' use of every limit in\n"
    "                      this plan (its quota when it applies the prices)\n"
    "  --duals FILE        apply saved prices without solving (limits come from the file)\n"
    "  --shard i/n         with --duals: only users with hash(user) mod n == i (0-based),\n"
    "                      each limit split into quotas (saved by --shards n, else even)\n"
    "                      that sum to it, so shard plans concatenate safely\n"
    "  --synthetic U:J:K   generate U users x J offers with K cost constraints (benchmark)\n"
    "  --tolerance X       relative price precision (default 1e-6)\n"
    "  --max-cycles N      coordinate-descent cycles on the full data (default 8)\n"
    "  --gap G             stop once the plan is surely within G of the bound (default 1e-4)\n"
    "  --write-lp FILE     also write the LP relaxation (CPLEX LP format, for glpsol --lp)\n"
    "  --sample N          warm-start on a sample of N users when users > 4N (default 200000)\n\n"
    "Parity constraints (a fairness audit's remedy, see merx audit):\n"
    "  --groups FILE:COLUMN  each user's group from an attribute file (column 'user', or\n"
    "                      --group-user-column); users without a row are group 'unknown'\n"
    "  --group-share G=MIN:MAX  group G's share of all offers within [MIN, MAX]\n"
    "  --parity R          every group's offer rate (offers per user of the group) at least\n"
    "                      R x every other group's (0.8: the four-fifths rule)\n"
    "With them the output also gives each constraint's dual price (value gained per unit\n"
    "of relaxation), each group's rate and share, the objective without the constraints\n"
    "and the value they cost (JSON key \"parity\"). Not with --duals or --save-duals.\n"
    "\nExample:\n"
    "  merx allocate --synthetic 100000:10:3 --out allocation.csv --json\n";

static const char *const roles[] = {"user", "offer", "value", "cost", "margin", NULL};

#define CMD "allocate"

typedef struct {
  int nextra;
  const char *extra_col[MX_ALLOC_MAX_RESOURCES];
  double extra_limit[MX_ALLOC_MAX_RESOURCES];
} constraint_opts;

/* ------------------------------------------------------------- output */

static void id_of(const mx_idmap *m, const char *prefix, uint32_t i, char *buf, size_t n,
                  const char **out) {
  if (m) {
    *out = mx_idmap_name(m, i);
  } else {
    snprintf(buf, n, "%s%u", prefix, i);
    *out = buf;
  }
}

/* "%.7g" without printf's cost for the common range (10M-row plans spend
 * most of their output time in printf): 7 significant digits, trailing
 * zeros dropped; other magnitudes fall back to snprintf. */
static void put_g7(FILE *f, double x) {
  char buf[48];
  double a = fabs(x);
  if (a == 0) {
    fputc('0', f);
    return;
  }
  if (!(a >= 1e-4 && a < 1e6)) {
    fprintf(f, "%.7g", x);
    return;
  }
  static const double pow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10};
  int e = 0; /* a in [10^e, 10^(e+1)) */
  if (a >= 1) {
    while (e < 5 && a >= pow10[e + 1]) e++;
  } else {
    e = -1;
    while (a * pow10[-e] < 1) e--;
  }
  int dec = 6 - e; /* digits after the point, 1..10 */
  uint64_t m = (uint64_t)llround(a * pow10[dec]);
  if (m >= 10000000ULL) { /* rounded up to the next power of ten */
    fprintf(f, "%.7g", x);
    return;
  }
  uint64_t ip = m / (uint64_t)pow10[dec], fp = m % (uint64_t)pow10[dec];
  int n = snprintf(buf, sizeof buf, "%s%llu", x < 0 ? "-" : "", (unsigned long long)ip);
  if (fp) {
    char fr[16];
    for (int i = dec - 1; i >= 0; i--) {
      fr[i] = (char)('0' + fp % 10);
      fp /= 10;
    }
    int len = dec;
    while (len > 0 && fr[len - 1] == '0') len--;
    buf[n++] = '.';
    memcpy(buf + n, fr, (size_t)len);
    n += len;
  }
  fwrite(buf, 1, (size_t)n, f);
}

static int write_plan(const char *path, const mx_alloc_problem *p, const mx_alloc_result *res,
                      mx_error *err) {
  mx_atomic_file af;
  int rc = mx__atomic_open(&af, path, err);
  if (rc) return rc;
  FILE *f = af.f;
  int K = p->n_resources;
  fputs("user,offer,value,cost", f);
  for (int k = 1; k < K; k++) {
    fputc(',', f);
    mx_csv_write_field(f, p->resource_name[k], ',');
  }
  fputc('\n', f);
  uint32_t u = 0;
  char ub[32], ob[32];
  for (uint64_t i = 0; i < res->assigned; i++) {
    uint64_t q = res->chosen[i];
    while (p->indptr[u + 1] <= q) u++;
    const char *us, *os;
    id_of(p->users, "u", u, ub, sizeof ub, &us);
    id_of(p->offers, "o", p->offer[q], ob, sizeof ob, &os);
    mx_csv_write_field(f, us, ',');
    fputc(',', f);
    mx_csv_write_field(f, os, ',');
    fputc(',', f);
    put_g7(f, (double)p->value[q]);
    if (K == 0) fputs(",0", f);
    for (int k = 0; k < K; k++) {
      fputc(',', f);
      put_g7(f, (double)p->cost[q * (uint64_t)K + (uint64_t)k]);
    }
    fputc('\n', f);
  }
  if (ferror(f)) {
    mx__atomic_abort(&af);
    return mx_error_at(err, MX_EIO, path, 0, 0, NULL, "write failed");
  }
  return mx__atomic_commit(&af, err);
}

/* --groups FILE:COLUMN, --group-share, --parity on problem p (whose users
 * have ids). Returns 0, or an exit code after printing why. */
static int apply_groups(const mx_args *a, mx_alloc_problem *p) {
  const char *spec = mx__args_get(a, "groups", NULL);
  const char *shares[MX_ALLOC_MAX_GROUPS * 2];
  int nshares = mx__args_all(a, "group-share", shares, MX_ALLOC_MAX_GROUPS * 2);
  int parity = mx__args_has(a, "parity");
  if (!spec) {
    if (nshares || parity) return mx__cli_usage(CMD, "--group-share and --parity need --groups FILE:COLUMN");
    return 0;
  }
  if (!nshares && !parity) return mx__cli_usage(CMD, "--groups needs --group-share or --parity");
  double ratio = 0.8;
  int rc = mx__args_double(a, "parity", 0.8, 1e-9, 1, &ratio);
  if (rc) return rc;
  if (!p->users) return mx__cli_usage(CMD, "--groups needs --data (users with ids)");
  char file[4096];
  const char *column;
  if (mx__audit_split_attribute(spec, file, sizeof file, &column))
    return mx__cli_usage(CMD, "--groups: expected FILE:COLUMN, got '%s'", spec);
  mx_error err;
  mx_error_clear(&err);
  mx_audit *au = NULL;
  mx_idmap *names = mx_idmap_create();
  uint32_t *grp = malloc((p->n_users ? p->n_users : 1) * sizeof *grp);
  rc = !names || !grp ? mx_error_set(&err, MX_ENOMEM, "out of memory") : mx_audit_create(&au, &err);
  if (rc == MX_OK)
    rc = mx_audit_read_attribute(au, file, column, mx__args_get(a, "group-user-column", NULL), &err);
  for (uint32_t u = 0; rc == MX_OK && u < p->n_users; u++) {
    const char *id = mx_idmap_name(p->users, u);
    const char *g = mx_audit_group_of(au, id, strlen(id));
    if (!g) g = MX_AUDIT_UNKNOWN;
    int64_t gi = mx_idmap_intern(names, g, strlen(g));
    if (gi < 0) rc = mx_error_set(&err, MX_ENOMEM, "out of memory");
    else if (gi >= MX_ALLOC_MAX_GROUPS)
      rc = mx_error_at(&err, MX_EINVAL, file, 0, 0, column,
                       "more than %d groups: parity constraints need a coarser attribute",
                       MX_ALLOC_MAX_GROUPS);
    else grp[u] = (uint32_t)gi;
  }
  if (rc == MX_OK) {
    uint32_t G = mx_idmap_size(names);
    const char *gn[MX_ALLOC_MAX_GROUPS];
    for (uint32_t g = 0; g < G; g++) gn[g] = mx_idmap_name(names, g);
    rc = mx_alloc_problem_set_groups(p, grp, G, gn, &err);
    /* rates are per user of the population: the file's users of each group,
     * also those without a candidate row */
    for (uint32_t g = 0; rc == MX_OK && g < G; g++) {
      double n = (double)mx_audit_group_size(au, gn[g]);
      if (n > p->group_users[g]) p->group_users[g] = n;
    }
  }
  for (int i = 0; rc == MX_OK && i < nshares; i++) {
    const char *eq = strrchr(shares[i], '=');
    double lo, hi;
    char lob[64], *colon2;
    if (!eq || eq == shares[i] || strlen(eq + 1) >= sizeof lob) goto bad_share;
    snprintf(lob, sizeof lob, "%s", eq + 1);
    if (!(colon2 = strchr(lob, ':'))) goto bad_share;
    *colon2 = 0;
    if ((lob[0] ? mx_parse_double(lob, &lo) : (lo = 0, 0)) ||
        (colon2[1] ? mx_parse_double(colon2 + 1, &hi) : (hi = 1, 0)))
      goto bad_share;
    int64_t g = mx_idmap_find(names, shares[i], (size_t)(eq - shares[i]));
    if (g < 0) {
      rc = mx_error_at(&err, MX_ENOTFOUND, file, 0, 0, column,
                       "--group-share: no user of the data is in group '%.*s'",
                       (int)(eq - shares[i]), shares[i]);
      break;
    }
    rc = mx_alloc_add_share(p, (uint32_t)g, lo, hi, &err);
    continue;
  bad_share:
    mx_audit_free(au);
    mx_idmap_free(names);
    free(grp);
    return mx__cli_usage(CMD, "--group-share: expected GROUP=MIN:MAX (shares in [0, 1]), got '%s'",
                        shares[i]);
  }
  if (rc == MX_OK && parity) rc = mx_alloc_add_parity(p, ratio, &err);
  mx_audit_free(au);
  mx_idmap_free(names);
  free(grp);
  if (rc == MX_EINVAL && !err.file[0]) {
    fprintf(stderr, "merx %s: %s\n", CMD, err.message);
    return MX_EXIT_USAGE;
  }
  return rc ? mx__cli_fail(CMD, &err) : 0;
}

static void print_parity_json(mx_json *j, const mx_alloc_problem *p, const mx_alloc_result *res,
                              double unconstrained) {
  mx__json_key(j, "parity");
  mx__json_object_begin(j);
  mx__json_key(j, "unconstrained_objective"); mx__json_double(j, unconstrained);
  mx__json_key(j, "value_lost"); mx__json_double(j, unconstrained - res->objective);
  mx__json_key(j, "constraints");
  mx__json_array_begin(j);
  for (int c = 0; c < p->n_group_constraints; c++) {
    mx__json_object_begin(j);
    mx__json_key(j, "name"); mx__json_string(j, p->gc[c].name);
    mx__json_key(j, "usage"); mx__json_double(j, mx_alloc_group_usage(p, c, res->group_used));
    mx__json_key(j, "limit"); mx__json_double(j, p->gc[c].limit);
    mx__json_key(j, "price"); mx__json_double(j, res->nu[c]);
    mx__json_object_end(j);
  }
  mx__json_array_end(j);
  mx__json_key(j, "groups");
  mx__json_array_begin(j);
  for (uint32_t g = 0; g < p->n_groups; g++) {
    mx__json_object_begin(j);
    mx__json_key(j, "group"); mx__json_string(j, p->group_name[g]);
    mx__json_key(j, "users"); mx__json_double(j, p->group_users[g]);
    mx__json_key(j, "offers"); mx__json_double(j, res->group_used[g]);
    mx__json_key(j, "rate");
    mx__json_double(j, p->group_users[g] > 0 ? res->group_used[g] / p->group_users[g] : NAN);
    mx__json_key(j, "share");
    mx__json_double(j, res->assigned ? res->group_used[g] / (double)res->assigned : NAN);
    mx__json_object_end(j);
  }
  mx__json_array_end(j);
  mx__json_object_end(j);
}

static void print_parity_text(const mx_alloc_problem *p, const mx_alloc_result *res,
                              double unconstrained) {
  for (uint32_t g = 0; g < p->n_groups; g++)
    printf("group %-8s %.0f offers to %.0f users (rate %.4f, share %.4f)\n", p->group_name[g],
           res->group_used[g], p->group_users[g],
           p->group_users[g] > 0 ? res->group_used[g] / p->group_users[g] : NAN,
           res->assigned ? res->group_used[g] / (double)res->assigned : NAN);
  for (int c = 0; c < p->n_group_constraints; c++)
    if (res->nu[c] > 0)
      printf("parity %s binds (price %.6g)\n", p->gc[c].name, res->nu[c]);
  printf("parity cost    %.6f of %.6f without the parity constraints (%.2f%%)\n",
         unconstrained - res->objective, unconstrained,
         unconstrained > 0 ? 100 * (unconstrained - res->objective) / unconstrained : 0.0);
}

static void print_certificate(const mx_alloc_problem *p, const mx_alloc_result *res, int json,
                              double read_s, double total_s, const char *shard,
                              double unconstrained) {
  int K = p->n_resources;
  char ob[32];
  if (json) {
    mx_json j;
    mx__json_init(&j, stdout);
    mx__json_object_begin(&j);
    mx__json_key(&j, "objective"); mx__json_double(&j, res->objective);
    mx__json_key(&j, "spend"); mx__json_double(&j, K ? res->spend[0] : 0);
    mx__json_key(&j, "bound"); mx__json_double(&j, res->bound);
    mx__json_key(&j, "gap"); mx__json_double(&j, res->gap);
    mx__json_key(&j, "assigned"); mx__json_int(&j, (int64_t)res->assigned);
    mx__json_key(&j, "seconds"); mx__json_double(&j, total_s);
    mx__json_key(&j, "solve_seconds"); mx__json_double(&j, res->seconds);
    mx__json_key(&j, "read_seconds"); mx__json_double(&j, read_s);
    mx__json_key(&j, "users"); mx__json_int(&j, p->n_users);
    mx__json_key(&j, "offers"); mx__json_int(&j, p->n_offers);
    mx__json_key(&j, "candidates"); mx__json_int(&j, (int64_t)p->n_candidates);
    mx__json_key(&j, "per_user"); mx__json_int(&j, p->per_user);
    mx__json_key(&j, "constraints");
    mx__json_array_begin(&j);
    for (int k = 0; k < K; k++) {
      mx__json_object_begin(&j);
      mx__json_key(&j, "name"); mx__json_string(&j, p->resource_name[k]);
      mx__json_key(&j, "limit"); mx__json_double(&j, p->limit[k]);
      mx__json_key(&j, "spend"); mx__json_double(&j, res->spend[k]);
      mx__json_key(&j, "price"); mx__json_double(&j, res->lambda[k]);
      mx__json_object_end(&j);
    }
    mx__json_array_end(&j);
    mx__json_key(&j, "caps");
    mx__json_array_begin(&j);
    for (uint32_t o = 0; o < p->n_offers; o++) {
      if (!isfinite(p->cap[o])) continue;
      const char *os;
      id_of(p->offers, "o", o, ob, sizeof ob, &os);
      mx__json_object_begin(&j);
      mx__json_key(&j, "offer"); mx__json_string(&j, os);
      mx__json_key(&j, "cap"); mx__json_double(&j, p->cap[o]);
      mx__json_key(&j, "used"); mx__json_double(&j, res->used[o]);
      mx__json_key(&j, "price"); mx__json_double(&j, res->mu[o]);
      mx__json_object_end(&j);
    }
    mx__json_array_end(&j);
    mx__json_key(&j, "cycles"); mx__json_int(&j, res->cycles);
    mx__json_key(&j, "passes"); mx__json_int(&j, res->passes);
    mx__json_key(&j, "sample_passes"); mx__json_int(&j, res->sample_passes);
    mx__json_key(&j, "repaired"); mx__json_int(&j, (int64_t)res->repaired);
    mx__json_key(&j, "filled"); mx__json_int(&j, (int64_t)res->filled);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    mx__json_key(&j, "cpu_seconds");
    mx__json_double(&j, (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
                           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec);
    mx__json_key(&j, "peak_rss_mb"); mx__json_double(&j, (double)mx__peak_rss_bytes() / 1048576.0);
    if (shard) {
      mx__json_key(&j, "shard"); mx__json_string(&j, shard);
    }
    if (p->n_group_constraints) print_parity_json(&j, p, res, unconstrained);
    mx__json_object_end(&j);
    fputc('\n', stdout);
    return;
  }
  printf("users          %u (%llu candidate pairs, %u offers, at most %u per user)\n", p->n_users,
         (unsigned long long)p->n_candidates, p->n_offers, p->per_user);
  printf("assigned       %llu\n", (unsigned long long)res->assigned);
  printf("objective      %.6f\n", res->objective);
  printf("bound          %.6f   (no plan can exceed this)\n", res->bound);
  printf("gap            %.4f%%\n", 100 * res->gap);
  for (int k = 0; k < K; k++)
    printf("spend %-8s %.6f of %.6g (price %.6g)\n", p->resource_name[k], res->spend[k],
           p->limit[k], res->lambda[k]);
  for (uint32_t o = 0; o < p->n_offers; o++) {
    if (!isfinite(p->cap[o])) continue;
    const char *os;
    id_of(p->offers, "o", o, ob, sizeof ob, &os);
    printf("cap   %-8s %.0f of %.0f (price %.6g)\n", os, res->used[o], p->cap[o], res->mu[o]);
  }
  if (p->n_group_constraints) print_parity_text(p, res, unconstrained);
  fprintf(stderr, "solved in %.3f s (%d cycles, %ld passes + %ld on a sample; %llu repaired, "
          "%llu filled)\n", res->seconds, res->cycles, res->passes, res->sample_passes,
          (unsigned long long)res->repaired, (unsigned long long)res->filled);
}

/* --save-duals, with --shards N each shard's use of every limit in this plan
 * (its quota when it applies the prices). */
static int save_duals(const char *path, const mx_alloc_problem *p, const mx_alloc_result *res,
                      uint32_t shards, mx_error *err) {
  if (shards <= 1) return mx_alloc_duals_save(path, p, res, err);
  uint32_t *shard_of = malloc((p->n_users ? p->n_users : 1) * sizeof *shard_of);
  if (!shard_of) return mx_error_set(err, MX_ENOMEM, "out of memory");
  for (uint32_t u = 0; u < p->n_users; u++) {
    char buf[16];
    const char *id = p->users ? mx_idmap_name(p->users, u) : buf;
    if (!p->users) snprintf(buf, sizeof buf, "u%u", u);
    shard_of[u] = mx_alloc_shard_of(id, strlen(id), shards);
  }
  mx_alloc_duals d;
  int rc = mx_alloc_duals_from(p, res, NULL, &d, err);
  if (rc == MX_OK) rc = mx_alloc_duals_set_quotas(&d, p, res, shard_of, shards, err);
  if (rc == MX_OK) rc = mx_alloc_duals_write(path, &d, err);
  mx_alloc_duals_free(&d);
  free(shard_of);
  return rc;
}

int mx__cmd_allocate(int argc, char **argv) {
  mx_args a;
  int rc = mx__args_parse(&a, CMD,
                         "data= budget= cap* per-user= constraint* threads= out= json save-duals= "
                         "duals= shard= shards= synthetic= tolerance= max-cycles= sample= gap= write-lp= caps= "
                         "groups= group-share* parity= group-user-column=" MX_CLI_INPUT_SPEC,
                         argc, argv, 2);
  if (rc) return rc;
  if (mx__cli_help(&a, usage_text) == 0) return MX_EXIT_OK;
  double t_start = mx__now_seconds();
  const char *synthetic = mx__args_get(&a, "synthetic", NULL);
  const char *duals_path = mx__args_get(&a, "duals", NULL);
  const char *out = mx__args_get(&a, "out", NULL);
  if (!synthetic) {
    if ((rc = mx__args_require(&a, "data"))) return rc;
    if ((rc = mx__args_require(&a, "out"))) return rc;
    if (!duals_path && (rc = mx__args_require(&a, "budget"))) return rc;
  }
  if (duals_path && (mx__args_has(&a, "budget") || mx__args_has(&a, "cap") ||
                     mx__args_has(&a, "constraint") || mx__args_has(&a, "per-user")))
    return mx__cli_usage(CMD, "--duals takes the limits from the duals file: drop --budget, "
                             "--cap, --constraint and --per-user");
  if (mx__args_has(&a, "groups") && (duals_path || mx__args_has(&a, "save-duals")))
    return mx__cli_usage(CMD, "--groups: parity constraints hold over all users together; their "
                             "prices are not saved in or applied from duals files");
  if (mx__args_has(&a, "shard") && !duals_path)
    return mx__cli_usage(CMD, "--shard needs --duals (prices solved on the whole data)");
  long save_shards = 1;
  if (mx__args_has(&a, "shards") && !mx__args_has(&a, "save-duals"))
    return mx__cli_usage(CMD, "--shards N goes with --save-duals FILE");
  if ((rc = mx__args_int(&a, "shards", 1, 1, 1000000, &save_shards))) return rc;
  double budget, tol;
  long per_user, max_cycles, sample;
  int threads;
  if ((rc = mx__args_double(&a, "budget", INFINITY, -1e300, INFINITY, &budget))) return rc;
  if ((rc = mx__args_int(&a, "per-user", 1, 1, 1000000, &per_user))) return rc;
  if ((rc = mx__args_double(&a, "tolerance", 1e-6, 1e-15, 0.1, &tol))) return rc;
  if ((rc = mx__args_int(&a, "max-cycles", 8, 1, 1000, &max_cycles))) return rc;
  double gap_target;
  if ((rc = mx__args_double(&a, "gap", 1e-4, 0, 1, &gap_target))) return rc;
  if ((rc = mx__args_int(&a, "sample", 200000, 0, 1000000000, &sample))) return rc;
  if ((rc = mx__cli_threads(&a, &threads))) return rc;
  unsigned shard_i = 0, shard_n = 1;
  const char *shard = mx__args_get(&a, "shard", NULL);
  if (shard) {
    unsigned long long v[2];
    if (mx__parse_uints(shard, '/', v, 2) != 2 || v[1] < 1 || v[1] > UINT32_MAX || v[0] >= v[1])
      return mx__cli_usage(CMD, "--shard: expected i/n with 0 <= i < n, got '%s'", shard);
    shard_i = (unsigned)v[0];
    shard_n = (unsigned)v[1];
  }
  /* --constraint COLUMN=LIMIT */
  constraint_opts co = {0};
  const char *cons[MX_ALLOC_MAX_RESOURCES + 1];
  int ncons = mx__args_all(&a, "constraint", cons, MX_ALLOC_MAX_RESOURCES + 1);
  if (ncons > MX_MAX_ROLES - 5 || ncons >= MX_ALLOC_MAX_RESOURCES)
    return mx__cli_usage(CMD, "at most %d --constraint options", MX_MAX_ROLES - 5);
  static char colbuf[MX_ALLOC_MAX_RESOURCES][256];
  for (int i = 0; i < ncons; i++) {
    const char *eq = strrchr(cons[i], '=');
    if (!eq || eq == cons[i] || (size_t)(eq - cons[i]) >= sizeof colbuf[i])
      return mx__cli_usage(CMD, "--constraint: expected COLUMN=LIMIT, got '%s'", cons[i]);
    memcpy(colbuf[i], cons[i], (size_t)(eq - cons[i]));
    colbuf[i][eq - cons[i]] = '\0';
    if (mx_parse_double(eq + 1, &co.extra_limit[i]))
      return mx__cli_usage(CMD, "--constraint %s: limit '%s' is not a number", colbuf[i], eq + 1);
    co.extra_col[i] = colbuf[i];
  }
  co.nextra = ncons;

  mx_alloc_options opt = mx_alloc_defaults();
  opt.threads = threads;
  opt.tolerance = tol;
  opt.max_cycles = (int)max_cycles;
  opt.sample_users = (uint32_t)sample;
  opt.gap = gap_target;

  mx_error err;
  mx_error_clear(&err);
  mx_alloc_problem *p = NULL;
  mx_alloc_duals duals;
  memset(&duals, 0, sizeof duals);
  double read_s = 0;
  const char *data = mx__args_get(&a, "data", NULL);
  if (synthetic) {
    if (data) return mx__cli_usage(CMD, "--synthetic replaces --data");
    double t0 = mx__now_seconds();
    if ((rc = mx_alloc_synthetic(synthetic, threads, &p, &err))) {
      if (rc == MX_EINVAL) {
        fprintf(stderr, "merx %s: %s\n", CMD, err.message);
        return MX_EXIT_USAGE;
      }
      return mx__cli_fail(CMD, &err);
    }
    if (duals_path && (rc = mx_alloc_duals_load(duals_path, &duals, &err))) {
      mx_alloc_problem_free(p);
      return mx__cli_fail(CMD, &err);
    }
    if (shard_n > 1) { /* this shard's users, by the hash of their names u0, u1, ... */
      uint8_t *keep = malloc(p->n_users ? p->n_users : 1);
      mx_alloc_problem *sp = NULL;
      if (!keep) rc = mx_error_set(&err, MX_ENOMEM, "out of memory");
      for (uint32_t u = 0; keep && u < p->n_users; u++) {
        char id[16];
        int len = snprintf(id, sizeof id, "u%u", u);
        keep[u] = mx_alloc_shard_of(id, (size_t)len, shard_n) == shard_i;
      }
      if (keep) rc = mx_alloc_problem_subset(p, keep, &sp, &err);
      free(keep);
      mx_alloc_problem_free(p);
      p = sp;
      if (rc) {
        mx_alloc_duals_free(&duals);
        return mx__cli_fail(CMD, &err);
      }
    }
    read_s = mx__now_seconds() - t0;
    if (mx__args_has(&a, "budget")) p->limit[0] = budget;
    p->per_user = (uint32_t)per_user;
  } else {
    mx_ingest_options io;
    if ((rc = mx__cli_ingest_options(&a, roles, &io))) return rc;
    /* every role must be named */
    static const char *const need[] = {"user", "offer", "value", "cost"};
    for (int i = 0; i < 4; i++) {
      int found = 0;
      for (int r = 0; r < io.columns.count; r++) found |= strcmp(io.columns.role[r], need[i]) == 0;
      if (!found)
        return mx__cli_usage(CMD, "--columns must name the %s column (user=..,offer=..,value=..,cost=..)",
                            need[i]);
    }
    if (duals_path) {
      if ((rc = mx_alloc_duals_load(duals_path, &duals, &err))) return mx__cli_fail(CMD, &err);
      /* extra cost columns are the duals' resources after the first */
      co.nextra = duals.n_resources > 0 ? duals.n_resources - 1 : 0;
      for (int k = 0; k < co.nextra; k++) co.extra_col[k] = duals.resource_name[k + 1];
    }
    static char rolebuf[MX_ALLOC_MAX_RESOURCES][32];
    const char *cost_roles[MX_ALLOC_MAX_RESOURCES];
    cost_roles[0] = "cost";
    for (int k = 0; k < co.nextra; k++) {
      snprintf(rolebuf[k], sizeof rolebuf[k], "cost%d", k + 2);
      cost_roles[k + 1] = rolebuf[k];
      if (mx_columns_set(&io.columns, rolebuf[k], co.extra_col[k], &err)) {
        mx_alloc_duals_free(&duals);
        return mx__cli_usage(CMD, "--constraint %s: %s", co.extra_col[k], err.message);
      }
    }
    double t0 = mx__now_seconds();
    rc = mx_alloc_read_csv(data, &io, 1 + co.nextra, cost_roles, shard_i, shard_n, &p, &err);
    read_s = mx__now_seconds() - t0;
    if (rc) {
      mx_alloc_duals_free(&duals);
      return mx__cli_fail(CMD, &err);
    }
    p->limit[0] = budget;
    for (int k = 0; k < co.nextra; k++) p->limit[k + 1] = co.extra_limit[k];
    p->per_user = (uint32_t)per_user;
  }
  if (!duals_path) {
    const char *caps[4096];
    int ncaps = mx__args_all(&a, "cap", caps, 4096);
    for (int i = 0; i < ncaps; i++) {
      const char *eq = strrchr(caps[i], '=');
      double n;
      if (!eq || eq == caps[i] || mx_parse_double(eq + 1, &n) || n != floor(n)) {
        mx_alloc_problem_free(p);
        return mx__cli_usage(CMD, "--cap: expected OFFER=N with a whole number N, got '%s'", caps[i]);
      }
      char id[1024];
      snprintf(id, sizeof id, "%.*s", (int)(eq - caps[i]), caps[i]);
      if (p->offers) {
        rc = mx_alloc_problem_set_cap(p, id, n, &err);
      } else {
        /* synthetic offers are named o0, o1, ... */
        unsigned long long jv;
        if (id[0] != 'o' || mx__parse_uints(id + 1, ',', &jv, 1) != 1 || jv >= p->n_offers) {
          rc = mx_error_set(&err, MX_ENOTFOUND, "--cap: unknown offer '%s'", id);
        } else if (n < 0) {
          rc = mx_error_set(&err, MX_EINFEASIBLE, "infeasible: cap of offer '%s' is %g < 0", id, n);
        } else {
          p->cap[jv] = n;
          rc = MX_OK;
        }
      }
      if (rc) {
        if (rc == MX_ENOTFOUND)
          mx_error_set(&err, rc, "--cap %s: unknown offer '%s' (no row of %s names it)", caps[i],
                       id, data ? data : "the data");
        mx_alloc_problem_free(p);
        return mx__cli_fail(CMD, &err);
      }
    }
  }

  const char *caps_file = mx__args_get(&a, "caps", NULL);
  if (caps_file && duals_path) {
    mx_alloc_problem_free(p);
    return mx__cli_usage(CMD, "--duals takes the caps from the duals file: drop --caps");
  }
  if (caps_file && (rc = mx_alloc_read_caps(caps_file, p, &err))) {
    mx_alloc_problem_free(p);
    return mx__cli_fail(CMD, &err);
  }
  if ((rc = apply_groups(&a, p))) {
    mx_alloc_duals_free(&duals);
    mx_alloc_problem_free(p);
    return rc;
  }
  const char *lp = mx__args_get(&a, "write-lp", NULL);
  if (lp && (rc = mx_alloc_write_lp(lp, p, &err))) {
    mx_alloc_duals_free(&duals);
    mx_alloc_problem_free(p);
    return mx__cli_fail(CMD, &err);
  }
  mx_alloc_result res;
  memset(&res, 0, sizeof res);
  if (duals_path) {
    double *lambda = calloc(MX_ALLOC_MAX_RESOURCES, sizeof *lambda);
    double *mu = calloc(p->n_offers ? p->n_offers : 1, sizeof *mu);
    if (!lambda || !mu) {
      rc = mx_error_set(&err, MX_ENOMEM, "out of memory");
    } else {
      rc = mx_alloc_duals_install(&duals, p, shard_i, shard_n, lambda, mu, &err);
      if (rc == MX_OK) rc = mx_alloc_apply(p, lambda, mu, &opt, &res, &err);
    }
    free(lambda);
    free(mu);
  } else {
    rc = mx_alloc_solve(p, &opt, &res, &err);
  }
  double unconstrained = NAN;
  if (rc == MX_OK && p->n_group_constraints)
    rc = mx_alloc_unconstrained_objective(p, &opt, &unconstrained, &err);
  mx_alloc_duals_free(&duals);
  if (rc == MX_OK && out) rc = write_plan(out, p, &res, &err);
  const char *save = mx__args_get(&a, "save-duals", NULL);
  if (rc == MX_OK && save) rc = save_duals(save, p, &res, (uint32_t)save_shards, &err);
  if (rc) {
    mx_alloc_result_free(&res);
    mx_alloc_problem_free(p);
    return mx__cli_fail(CMD, &err);
  }
  print_certificate(p, &res, mx__args_has(&a, "json"), read_s, mx__now_seconds() - t_start, shard,
                    unconstrained);
  mx_alloc_result_free(&res);
  mx_alloc_problem_free(p);
  return MX_EXIT_OK;
}

/* Uplift learners: the T-learner and the transformed-outcome learner
 * (references in merx/uplift.h), with the held-out split and evaluation. */
#include "core/uplift/internal.h"
#include "merx/glm.h"
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

mx_uplift_options mx_uplift_defaults(void) {
  mx_uplift_options o;
  memset(&o, 0, sizeof o);
  o.learner = MX_UPLIFT_T_LEARNER;
  o.reg = 1.0;
  o.test_share = 0.3;
  o.seed = 1;
  o.bootstrap = 200;
  o.max_iter = 50;
  return o;
}

const char *mx_uplift_learner_name(mx_uplift_learner l) {
  return l == MX_UPLIFT_TRANSFORMED ? "transformed" : l == MX_UPLIFT_T_LEARNER ? "t" : "?";
}

int mx_uplift_learner_parse(const char *name) {
  if (strcmp(name, "t") == 0) return MX_UPLIFT_T_LEARNER;
  if (strcmp(name, "transformed") == 0) return MX_UPLIFT_TRANSFORMED;
  return -1;
}

void mx_uplift_free(mx_uplift_model *m) {
  if (!m) return;
  for (uint32_t q = 0; q < m->n_features; q++) {
    for (uint32_t l = 0; l < m->features[q].n_levels; l++) free(m->features[q].levels[l]);
    free(m->features[q].levels);
    free(m->features[q].name);
  }
  free(m->features);
  free(m->treatment);
  free(m->outcome);
  free(m->user);
  free(m->treated_arm);
  free(m->control_arm);
  free(m->coef[0]);
  free(m->coef[1]);
  free(m);
}

/* "a, b, c" of a categorical column's levels. */
static void level_list(const mx_uplift_table *t, int c, char *buf, size_t size) {
  buf[0] = '\0';
  uint32_t nl = mx_idmap_size(t->col[c].levels);
  for (uint32_t l = 0; l < nl; l++) {
    if (l) strncat(buf, ", ", size - strlen(buf) - 1);
    strncat(buf, mx_idmap_name(t->col[c].levels, l), size - strlen(buf) - 1);
  }
}

/* Which arms are compared: codes of the treated and control levels. */
static int resolve_arms(const mx_uplift_table *t, int c, const mx_uplift_options *o, int64_t *tr,
                        int64_t *ct, mx_error *err) {
  if (!t->col[c].code)
    return mx_error_set(err, MX_EINVAL, "treatment column '%s' must hold arm names (read it as categorical)",
                        o->treatment);
  const mx_idmap *lv = t->col[c].levels;
  uint32_t nl = mx_idmap_size(lv);
  char list[512];
  level_list(t, c, list, sizeof list);
  *tr = *ct = -1;
  if (o->treated_arm && (*tr = mx_idmap_find(lv, o->treated_arm, strlen(o->treated_arm))) < 0)
    return mx_error_set(err, MX_ENOTFOUND, "no row of column '%s' has the treatment arm '%s' (arms: %s)",
                        o->treatment, o->treated_arm, list);
  if (o->control_arm && (*ct = mx_idmap_find(lv, o->control_arm, strlen(o->control_arm))) < 0)
    return mx_error_set(err, MX_ENOTFOUND, "no row of column '%s' has the control arm '%s' (arms: %s)",
                        o->treatment, o->control_arm, list);
  if (*tr >= 0 && *ct >= 0) {
    if (*tr == *ct)
      return mx_error_set(err, MX_EINVAL, "the treatment and control arms are both '%s'", o->control_arm);
    return MX_OK;
  }
  if (*tr < 0 && *ct < 0 && nl == 2) {
    int64_t one = mx_idmap_find(lv, "1", 1), zero = mx_idmap_find(lv, "0", 1);
    if (one >= 0 && zero >= 0) {
      *tr = one, *ct = zero;
      return MX_OK;
    }
  }
  if (nl == 2 && (*tr >= 0 || *ct >= 0)) {
    if (*tr < 0) *tr = *ct == 0 ? 1 : 0;
    else *ct = *tr == 0 ? 1 : 0;
    return MX_OK;
  }
  if (nl < 2)
    return mx_error_set(err, MX_EEMPTY, "column '%s' has a single arm (%s): an uplift model needs "
                                        "treated and control rows",
                        o->treatment, list);
  return mx_error_set(err, MX_EINVAL, "column '%s' has %u arms (%s): name the %s",
                      o->treatment, nl, list,
                      *tr < 0 && *ct < 0 ? "treatment and control arms" : *tr < 0 ? "treatment arm" : "control arm");
}

int mx_uplift_table_arms(const mx_uplift_table *t, const char *treatment, const char *treated_arm,
                         const char *control_arm, unsigned char *flag, const char **treated_name,
                         const char **control_name, mx_error *err) {
  int c = mx_uplift_table_find(t, treatment);
  if (c < 0) return mx_error_set(err, MX_ENOTFOUND, "no treatment column '%s'", treatment);
  mx_uplift_options o = mx_uplift_defaults();
  o.treatment = treatment;
  o.treated_arm = treated_arm;
  o.control_arm = control_arm;
  int64_t tr, ct;
  int rc = resolve_arms(t, c, &o, &tr, &ct, err);
  if (rc) return rc;
  const uint32_t *arm = t->col[c].code;
  for (size_t i = 0; i < t->rows; i++)
    flag[i] = arm[i] == (uint32_t)tr ? 1 : arm[i] == (uint32_t)ct ? 0 : 2;
  if (treated_name) *treated_name = mx_idmap_name(t->col[c].levels, (uint32_t)tr);
  if (control_name) *control_name = mx_idmap_name(t->col[c].levels, (uint32_t)ct);
  return MX_OK;
}

/* Fit one outcome model on rows X[0..n) (width p): logistic for 0/1
 * outcomes, ridge otherwise. */
static int fit_one(const double *X, const double *y, size_t n, uint32_t p, int binary,
                   const mx_uplift_options *o, double *beta, int *iters, const char *what,
                   mx_error *err) {
  int rc = binary ? mx_glm_logistic_fit(X, y, n, p, o->reg, o->max_iter, beta, iters, err)
                  : mx_glm_ridge_fit(X, y, n, p, o->reg, beta, err);
  if (rc && err) {
    char msg[MX_ERROR_MESSAGE_MAX];
    size_t wl = strlen(what);
    if (wl + 2 < sizeof msg) {
      memcpy(msg, what, wl);
      memcpy(msg + wl, ": ", 2);
      size_t ml = strnlen(err->message, sizeof err->message);
      if (ml > sizeof msg - wl - 3) ml = sizeof msg - wl - 3;
      memcpy(msg + wl + 2, err->message, ml);
      msg[wl + 2 + ml] = '\0';
      memcpy(err->message, msg, sizeof msg);
    }
  }
  return rc;
}

/* Predicted uplift (and outcomes under each arm) of design rows X. */
static void predict(const mx_uplift_model *m, const double *X, size_t n, double *uplift,
                    double *treated, double *control, double *tmp) {
  if (m->learner == MX_UPLIFT_TRANSFORMED) {
    mx_glm_predict(X, n, m->width, m->coef[0], 0, uplift);
    for (size_t i = 0; i < n; i++) {
      if (treated) treated[i] = NAN;
      if (control) control[i] = NAN;
    }
    return;
  }
  mx_glm_predict(X, n, m->width, m->coef[0], m->binary, uplift);
  mx_glm_predict(X, n, m->width, m->coef[1], m->binary, tmp);
  for (size_t i = 0; i < n; i++) {
    if (treated) treated[i] = uplift[i];
    if (control) control[i] = tmp[i];
    uplift[i] -= tmp[i];
  }
}

static int copy_names(mx_uplift_model *m, const mx_uplift_options *o, const char *tr,
                      const char *ct) {
  m->treatment = mx__strdup(o->treatment);
  m->outcome = mx__strdup(o->outcome);
  m->user = o->user ? mx__strdup(o->user) : NULL;
  m->treated_arm = mx__strdup(tr);
  m->control_arm = mx__strdup(ct);
  return m->treatment && m->outcome && (!o->user || m->user) && m->treated_arm && m->control_arm;
}

int mx_uplift_train(const mx_uplift_table *t, const mx_uplift_options *o, mx_uplift_model **out,
                    mx_uplift_report *report, mx_error *err) {
  *out = NULL;
  mx_uplift_report rep_local;
  mx_uplift_report *rep = report ? report : &rep_local;
  memset(rep, 0, sizeof *rep);
  if (!o->treatment || !o->outcome)
    return mx_error_set(err, MX_EINVAL, "the treatment and outcome columns are required");
  if (o->learner != MX_UPLIFT_T_LEARNER && o->learner != MX_UPLIFT_TRANSFORMED)
    return mx_error_set(err, MX_EINVAL, "unknown learner %d", (int)o->learner);
  if (!(o->test_share >= 0 && o->test_share < 1))
    return mx_error_set(err, MX_EINVAL, "the test share must be in [0, 1), got %g", o->test_share);
  if (!(o->reg >= 0) || !isfinite(o->reg))
    return mx_error_set(err, MX_EINVAL, "the regularisation must be a finite number >= 0");
  if (o->bootstrap < 0 || o->bootstrap > 100000)
    return mx_error_set(err, MX_EINVAL, "bootstrap replicates must be in 0..100000");
  int ctc = mx_uplift_table_find(t, o->treatment), yc = mx_uplift_table_find(t, o->outcome);
  int uc = o->user ? mx_uplift_table_find(t, o->user) : -1;
  if (ctc < 0 || yc < 0 || (o->user && uc < 0)) {
    char list[512] = "";
    for (int c = 0; c < t->ncols; c++) {
      if (c) strncat(list, ", ", sizeof list - strlen(list) - 1);
      strncat(list, t->col[c].name, sizeof list - strlen(list) - 1);
    }
    const char *role = ctc < 0 ? "treatment" : yc < 0 ? "outcome" : "user";
    return mx_error_set(err, MX_ENOTFOUND, "no %s column '%s' (columns: %s)", role,
                        ctc < 0 ? o->treatment : yc < 0 ? o->outcome : o->user, list);
  }
  if (!t->col[yc].num)
    return mx_error_set(err, MX_EINVAL, "outcome column '%s' is not numeric", o->outcome);
  if (o->embeddings && uc < 0)
    return mx_error_set(err, MX_EINVAL, "embedding features need the user column");
  int64_t tr, ct;
  int rc = resolve_arms(t, ctc, o, &tr, &ct, err);
  if (rc) return rc;

  /* features: given, or every column but the roles */
  const char **names = NULL;
  int nn = 0;
  names = malloc((size_t)(t->ncols + o->n_features + 1) * sizeof *names);
  if (!names) return mx_error_set(err, MX_ENOMEM, "out of memory");
  if (o->features) {
    for (int q = 0; q < o->n_features; q++) {
      const char *f = o->features[q];
      const char *role = strcmp(f, o->treatment) == 0 ? "treatment"
                         : strcmp(f, o->outcome) == 0 ? "outcome"
                         : o->user && strcmp(f, o->user) == 0 ? "user" : NULL;
      if (role) {
        free(names);
        return mx_error_set(err, MX_EINVAL, "feature '%s' is the %s column", f, role);
      }
      if (mx_uplift_table_find(t, f) < 0) {
        free(names);
        return mx_error_set(err, MX_ENOTFOUND, "no feature column '%s'", f);
      }
      for (int r = 0; r < nn; r++)
        if (strcmp(names[r], f) == 0) {
          free(names);
          return mx_error_set(err, MX_EINVAL, "feature '%s' given twice", f);
        }
      names[nn++] = f;
    }
  } else {
    for (int c = 0; c < t->ncols; c++)
      if (c != ctc && c != yc && c != uc) names[nn++] = t->col[c].name;
  }

  mx_uplift_model *m = calloc(1, sizeof *m);
  size_t *rows = malloc((t->rows ? t->rows : 1) * sizeof *rows);
  size_t *test = malloc((t->rows ? t->rows : 1) * sizeof *test);
  double *X = NULL, *y = NULL, *z = NULL, *s = NULL, *tmp = NULL;
  unsigned char *tt = NULL;
  float *emb = NULL;
  size_t *ar = NULL; /* the training rows of one arm */
  if (!m || !rows || !test) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  m->learner = o->learner;
  m->reg = o->reg;
  m->test_share = o->test_share;
  m->seed = o->seed;
  if (!copy_names(m, o, mx_idmap_name(t->col[ctc].levels, (uint32_t)tr),
                  mx_idmap_name(t->col[ctc].levels, (uint32_t)ct))) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  const uint32_t *arm = t->col[ctc].code;
  const double *yv = t->col[yc].num;

  /* stratified split: within each arm, a seeded shuffle; the first
   * round(share * n_arm) rows of it are held out */
  size_t n_arm[2] = {0, 0};
  for (size_t i = 0; i < t->rows; i++) {
    if (arm[i] == (uint32_t)tr) n_arm[0]++;
    else if (arm[i] == (uint32_t)ct) n_arm[1]++;
    else rep->rows_other_arms++;
  }
  rep->rows = n_arm[0] + n_arm[1];
  if (n_arm[0] == 0 || n_arm[1] == 0) {
    rc = mx_error_set(err, MX_EEMPTY, "arm '%s' has no rows", n_arm[0] ? m->control_arm : m->treated_arm);
    goto done;
  }
  size_t ntrain = 0, ntest = 0;
  mx_rng rng;
  mx__rng_seed(&rng, o->seed);
  for (int a = 0; a < 2; a++) {
    uint32_t code = (uint32_t)(a == 0 ? tr : ct);
    size_t base = ntrain, cnt = 0;
    /* collect, shuffle (Fisher-Yates), split */
    for (size_t i = 0; i < t->rows; i++)
      if (arm[i] == code) rows[base + cnt++] = i;
    for (size_t i = cnt; i > 1; i--) {
      size_t j = mx__rng_below(&rng, (uint32_t)i);
      size_t sw = rows[base + i - 1];
      rows[base + i - 1] = rows[base + j];
      rows[base + j] = sw;
    }
    size_t nt = (size_t)llround(o->test_share * (double)cnt);
    if (o->test_share > 0 && (nt == 0 || nt == cnt)) {
      rc = mx_error_set(err, MX_EEMPTY, "arm '%s' has %zu rows: too few for a %g test share",
                        a == 0 ? m->treated_arm : m->control_arm, cnt, o->test_share);
      goto done;
    }
    for (size_t i = 0; i < nt; i++) test[ntest++] = rows[base + i];
    /* keep the training rows of this arm at rows[base ..) */
    memmove(rows + base, rows + base + nt, (cnt - nt) * sizeof *rows);
    ntrain += cnt - nt;
    if (a == 0) rep->train_treated = cnt - nt, rep->test_treated = nt;
    else rep->train_control = cnt - nt, rep->test_control = nt;
  }
  /* training rows in table order: the fit does not depend on the shuffle */
  size_t *sorted = rows;
  {
    /* counting sort by row index over a mark array */
    unsigned char *mark = calloc(t->rows, 1);
    if (!mark) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
    for (size_t i = 0; i < ntrain; i++) mark[rows[i]] = 1;
    size_t k = 0;
    for (size_t i = 0; i < t->rows; i++)
      if (mark[i]) sorted[k++] = i;
    memset(mark, 0, t->rows);
    for (size_t i = 0; i < ntest; i++) mark[test[i]] = 1;
    k = 0;
    for (size_t i = 0; i < t->rows; i++)
      if (mark[i]) test[k++] = i;
    free(mark);
  }
  m->train_rows = ntrain;
  if ((rc = mx_cancel_check(o->cancel, "uplift training", err))) goto done;

  if (o->embeddings) {
    if ((rc = mx__uplift_user_factors(t, uc, o->embeddings, &emb, &rep->embed_unknown, err))) goto done;
    m->embed_dims = o->embeddings->factors;
    m->embed_fingerprint = o->embeddings->data_fingerprint;
  }
  if ((rc = mx__uplift_design_fit(m, t, names, nn, emb, rows, ntrain, err))) goto done;
  uint32_t p = m->width;
  size_t nmax = ntrain > ntest ? ntrain : ntest;
  X = malloc(nmax * p * sizeof *X);
  y = malloc(nmax * sizeof *y);
  z = malloc(nmax * sizeof *z);
  s = malloc(nmax * sizeof *s);
  tmp = malloc(nmax * sizeof *tmp);
  tt = malloc(nmax ? nmax : 1);
  ar = malloc((nmax ? nmax : 1) * sizeof *ar);
  m->n_coef = o->learner == MX_UPLIFT_T_LEARNER ? 2 : 1;
  m->coef[0] = calloc(p, sizeof(double));
  m->coef[1] = m->n_coef == 2 ? calloc(p, sizeof(double)) : NULL;
  if (!X || !y || !z || !s || !tmp || !tt || !ar || !m->coef[0] || (m->n_coef == 2 && !m->coef[1])) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  /* outcome kind from the training rows */
  m->binary = 1;
  for (size_t i = 0; i < ntrain; i++)
    if (yv[rows[i]] != 0 && yv[rows[i]] != 1) m->binary = 0;
  size_t n1 = 0;
  for (size_t i = 0; i < ntrain; i++) n1 += arm[rows[i]] == (uint32_t)tr;
  m->propensity = (double)n1 / (double)ntrain;

  if (o->learner == MX_UPLIFT_T_LEARNER) {
    /* two fits, each on its arm's rows */
    for (int a = 0; a < 2; a++) {
      uint32_t code = (uint32_t)(a == 0 ? tr : ct);
      size_t k = 0;
      for (size_t i = 0; i < ntrain; i++)
        if (arm[rows[i]] == code) ar[k++] = rows[i];
      if ((rc = mx__uplift_design_rows(m, t, emb, ar, k, X, err))) goto done;
      for (size_t i = 0; i < k; i++) y[i] = yv[ar[i]];
      char what[600];
      snprintf(what, sizeof what, "%s model of arm '%s'", m->binary ? "logistic" : "ridge",
               a == 0 ? m->treated_arm : m->control_arm);
      if ((rc = fit_one(X, y, k, p, m->binary, o, m->coef[a], &rep->iterations[a], what, err)))
        goto done;
      if ((rc = mx_cancel_check(o->cancel, "uplift training", err))) goto done;
    }
  } else {
    /* Z = Y (T - e) / (e (1 - e)) (Athey & Imbens 2016, eq. 2.3) */
    double e = m->propensity;
    if ((rc = mx__uplift_design_rows(m, t, emb, rows, ntrain, X, err))) goto done;
    for (size_t i = 0; i < ntrain; i++) {
      double T = arm[rows[i]] == (uint32_t)tr ? 1 : 0;
      z[i] = yv[rows[i]] * (T - e) / (e * (1 - e));
    }
    if ((rc = fit_one(X, z, ntrain, p, 0, o, m->coef[0], NULL, "ridge model of the transformed outcome", err)))
      goto done;
  }

  if (ntest > 0) {
    if ((rc = mx__uplift_design_rows(m, t, emb, test, ntest, X, err))) goto done;
    predict(m, X, ntest, s, NULL, NULL, tmp);
    for (size_t i = 0; i < ntest; i++) {
      tt[i] = arm[test[i]] == (uint32_t)tr;
      y[i] = yv[test[i]];
    }
    if ((rc = mx_uplift_evaluate(s, tt, y, ntest, o->bootstrap, o->seed, &rep->test, err))) goto done;
    rep->evaluated = 1;
  }
done:
  free(names);
  free(rows);
  free(test);
  free(X);
  free(y);
  free(z);
  free(s);
  free(tmp);
  free(tt);
  free(ar);
  free(emb);
  if (rc) {
    mx_uplift_free(m);
    return rc;
  }
  *out = m;
  return MX_OK;
}

double mx_uplift_train_bytes(const mx_uplift_table *t, const mx_uplift_options *o) {
  double width = 1 + (o->embeddings ? o->embeddings->factors : 0);
  for (int c = 0; c < t->ncols; c++) {
    const char *name = t->col[c].name;
    int used = !o->features;
    for (int q = 0; o->features && q < o->n_features; q++) used |= strcmp(o->features[q], name) == 0;
    if (!used) continue;
    width += t->col[c].code ? fmin(mx_idmap_size(t->col[c].levels), 1000) : 1;
  }
  double n = (double)t->rows;
  /* design matrix and its weighted copy, ~12 work vectors, row lists */
  return n * (16 * width + 12 * 8 + 4 * sizeof(size_t) + 4 * (double)(o->embeddings ? o->embeddings->factors : 0)) +
         (double)o->bootstrap * 24 + width * width * 8 + 65536;
}

int mx_uplift_score(const mx_uplift_model *m, const mx_uplift_table *t, const mx_model *embeddings,
                    double *uplift, double *treated, double *control, size_t *embed_unknown,
                    mx_error *err) {
  if (embed_unknown) *embed_unknown = 0;
  float *emb = NULL;
  int rc = MX_OK;
  if (m->embed_dims) {
    if (!embeddings)
      return mx_error_set(err, MX_EINVAL, "the model uses %u user factors as features: give the embedding model it was trained with",
                          m->embed_dims);
    if (embeddings->factors != m->embed_dims || embeddings->data_fingerprint != m->embed_fingerprint)
      return mx_error_set(err, MX_EINVAL,
                          "the embedding model is not the one used in training (%u factors, data "
                          "fingerprint %016llx; expected %u, %016llx)",
                          embeddings->factors, (unsigned long long)embeddings->data_fingerprint,
                          m->embed_dims, (unsigned long long)m->embed_fingerprint);
    int uc = m->user ? mx_uplift_table_find(t, m->user) : -1;
    if (uc < 0)
      return mx_error_set(err, MX_ENOTFOUND, "the data has no user column '%s' (needed for the user factors)",
                          m->user ? m->user : "");
    size_t unk = 0;
    if ((rc = mx__uplift_user_factors(t, uc, embeddings, &emb, &unk, err))) return rc;
    if (embed_unknown) *embed_unknown = unk;
  }
  /* blocks of rows bound the design matrix's memory */
  const size_t block = 8192;
  size_t nb = t->rows < block ? t->rows : block;
  double *X = malloc((nb ? nb : 1) * m->width * sizeof *X), *tmp = malloc((nb ? nb : 1) * sizeof *tmp);
  size_t *idx = malloc((nb ? nb : 1) * sizeof *idx);
  if (!X || !tmp || !idx) rc = mx_error_set(err, MX_ENOMEM, "out of memory");
  for (size_t b = 0; rc == MX_OK && b < t->rows; b += block) {
    size_t n = t->rows - b < block ? t->rows - b : block;
    for (size_t i = 0; i < n; i++) idx[i] = b + i;
    if ((rc = mx__uplift_design_rows(m, t, emb, idx, n, X, err))) break;
    predict(m, X, n, uplift + b, treated ? treated + b : NULL, control ? control + b : NULL, tmp);
  }
  free(X);
  free(tmp);
  free(idx);
  free(emb);
  return rc;
}

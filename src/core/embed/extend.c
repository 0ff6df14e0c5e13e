/* A model extended with new items from their content (merx/embed.h,
 * mx_coldstart_extend): what `merx coldstart map` writes. The map is fitted
 * on the embedded items the model knows, every other embedded item is
 * appended with mapped factors, and known items can be shrunk towards
 * their mapped factors. */
#include "merx/embed.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

int mx_coldstart_extend(const mx_model *base, const float *x, uint64_t rows, uint32_t d,
                        const char *const *ids, double reg, double shrink, mx_model **out,
                        mx_coldstart_stats *st, mx_error *err) {
  *out = NULL;
  memset(st, 0, sizeof *st);
  uint32_t k = base->factors;
  if (k == 0 || !base->item_factors)
    return mx_error_set(err, MX_EINVAL, "a %s model has no item factors to map to",
                        mx_model_kind_name(base->kind));
  int rc = MX_OK;
  mx_coldstart *cs = NULL;
  mx_model *ext = NULL;
  float *xf = malloc(rows * d * sizeof *xf);
  float *qf = malloc(rows * (size_t)k * sizeof *qf);
  float *xn = malloc(rows * d * sizeof *xn);
  float *qn = NULL, *qt = NULL;
  uint32_t *users_of = NULL;
  const char **new_ids = malloc((rows ? rows : 1) * sizeof *new_ids);
  uint32_t *fit_item = malloc((rows ? rows : 1) * sizeof *fit_item);
  if (!xf || !qf || !xn || !new_ids || !fit_item) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  /* the rows the model knows fit the map; the others are new items */
  size_t nfit = 0, nnew = 0;
  for (uint64_t r = 0; r < rows; r++) {
    int64_t it = mx_idmap_find(base->items, ids[r], strlen(ids[r]));
    if (it >= 0) {
      memcpy(xf + nfit * d, x + r * d, d * sizeof *xf);
      memcpy(qf + nfit * k, base->item_factors + (size_t)it * k, k * sizeof *qf);
      fit_item[nfit] = (uint32_t)it;
      nfit++;
    } else {
      memcpy(xn + nnew * d, x + r * d, d * sizeof *xn);
      new_ids[nnew++] = ids[r];
    }
  }
  if ((rc = mx_coldstart_fit(xf, qf, nfit, d, k, reg, &cs, err))) goto done;
  if (!(qn = malloc((nnew ? nnew : 1) * (size_t)k * sizeof *qn))) {
    rc = mx_error_set(err, MX_ENOMEM, "out of memory");
    goto done;
  }
  mx_coldstart_apply(cs, xn, nnew, qn);
  if ((rc = mx_model_add_items(base, new_ids, qn, nnew, &ext, err))) goto done;
  st->fit = nfit;
  st->added = nnew;
  st->r2_train = cs->r2_train;
  if (shrink > 0) {
    /* q = (n q + N q_text) / (n + N), n the item's training users (the
     * model's seen lists): a content prior, as in Agarwal & Chen's RLFM */
    users_of = calloc(base->n_items ? base->n_items : 1, sizeof *users_of);
    qt = malloc((size_t)k * sizeof *qt);
    if (!users_of || !qt) {
      rc = mx_error_set(err, MX_ENOMEM, "out of memory");
      goto done;
    }
    for (uint64_t q = 0; q < base->seen.indptr[base->seen.rows]; q++)
      users_of[base->seen.indices[q]]++;
    for (size_t r = 0; r < nfit; r++) {
      uint32_t it = fit_item[r];
      double n = users_of[it], w = n / (n + shrink);
      mx_coldstart_apply(cs, xf + r * d, 1, qt);
      float *q = ext->item_factors + (size_t)it * k;
      for (uint32_t c = 0; c < k; c++) q[c] = (float)(w * q[c] + (1 - w) * qt[c]);
      st->shrunk++;
    }
  }
  *out = ext;
  ext = NULL;
done:
  mx_model_free(ext);
  mx_coldstart_free(cs);
  free(xf), free(qf), free(xn), free(qn), free(qt), free(users_of), free(new_ids), free(fit_item);
  return rc;
}

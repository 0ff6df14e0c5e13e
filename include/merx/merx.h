/* merx — umbrella header for libmerx, the C core (no Lua in it):
 * ingest, models, scoring, forecasting, inventory, allocation and the
 * OpenAI-compatible HTTP clients. The script runtime (script.h) and the
 * scheduler (schedule.h) belong to the merx application layer and are not
 * part of libmerx. */
#ifndef MERX_MERX_H
#define MERX_MERX_H

#include "merx/error.h"
#include "merx/data.h"
#include "merx/model.h"
#include "merx/score.h"
#include "merx/forecast.h"
#include "merx/inventory.h"
#include "merx/replenish.h"
#include "merx/allocate.h"
#include "merx/http.h"
#include "merx/embed.h"
#include "merx/measure.h"
#include "merx/ann.h"
#include "merx/experiment.h"
#include "merx/bandit.h"
#include "merx/glm.h"
#include "merx/uplift.h"

#endif

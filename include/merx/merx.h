/* merx — umbrella header for libmerx, the C core (no Lua in it):
 * ingest, models, scoring, forecasting, inventory, allocation and the
 * OpenAI-compatible HTTP clients. The script runtime (script.h) and the
 * scheduler (schedule.h) belong to the merx application layer and are not
 * part of libmerx.
 *
 * Conventions every public header follows (details in the header of each function):
 *
 * Errors. A function that can fail returns int: MX_OK (0) or a negative MX_E* code
 *   (merx/error.h), and fills the caller's mx_error (message, file, line, column, field)
 *   when one is passed. -1 is MX_ENOMEM, nothing else: a status is never a bare -1. The
 *   exceptions say so in their comment: lookups that return an index (-1 when absent, e.g.
 *   mx_columns_index, mx_model_kind_parse) and counts. mx_strerror(code) names a code.
 * Ownership. Handles are opaque, made by mx_X_open/_create/_load/_build and released by the
 *   matching mx_X_close/_free, which accept NULL. What an output pointer (`**out`) receives
 *   on MX_OK is the caller's; const pointer arguments are borrowed for the call; a
 *   pointer into a handle (names, factors, arrays of a result) lives as long as the handle.
 *   Strings the caller frees say so (free with free(), unless a mx_X_free is named).
 * Threads. Different handles may be used from different threads at once. One handle is
 *   safe to share between threads for reading only (scoring, forecasting from a loaded
 *   model, mx_ann queries) where its header says so; everything that changes a handle needs
 *   the caller's own lock. Work that runs in parallel takes a `threads` option, and results
 *   are reproducible for a seed and a thread count.
 * Process-wide state. The library keeps little: curl_global_init once (first HTTP call),
 *   OpenBLAS's thread count (set around each BLAS call under a lock, then restored), the CPU
 *   feature probe (MERX_NO_AVX2 disables the AVX2 kernels) and the progress-bar switch. It
 *   never changes the locale, signal handlers, TZ or the working directory; keys are read
 *   from the environment variable a config names, at the call that needs them.
 * Output. The library never exits and never prints results or errors: messages go into
 *   mx_error and the caller decides. The only writes to stderr are the progress bar of long
 *   reads, drawn only when stderr is a terminal, and the MERX_ALLOC_TRACE debug trace.
 * Cancellation. Long loops poll the mx_cancel a caller passes (deadline and flag) and then
 *   return MX_EINTERRUPTED; files are written atomically, so a stopped call publishes none.
 * Names. What these headers declare is the API: functions and types are mx_, macros and
 *   constants MX_, and only the functions marked MX_API are exported. The library's own
 *   cross-file functions are mx__ (two underscores, as libuv's uv__), declared under src/
 *   and hidden: not API, they may change in any release.
 */
#ifndef MERX_MERX_H
#define MERX_MERX_H

#include "merx/error.h"
#include "merx/data.h"
#include "merx/idlist.h"
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
#include "merx/groupby.h"
#include "merx/rfm.h"

#endif

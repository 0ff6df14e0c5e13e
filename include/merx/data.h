/* merx — tabular input and the interaction dataset: includes the three
 * headers it was split into, each usable alone:
 *   merx/csv.h      CSV reader, --columns roles, number and time parsing (util)
 *   merx/idmap.h    string id -> dense index (util)
 *   merx/dataset.h  the interaction dataset (core)
 * New code includes the one it needs. */
#ifndef MERX_DATA_H
#define MERX_DATA_H

#include "merx/csv.h"
#include "merx/dataset.h"
#include "merx/idmap.h"

#endif

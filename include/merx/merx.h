/* merx — umbrella header for libmerx (the C core, no Lua). */
#ifndef MERX_MERX_H
#define MERX_MERX_H

#include "merx/error.h"
#include "merx/data.h"
#include "merx/model.h"

#endif

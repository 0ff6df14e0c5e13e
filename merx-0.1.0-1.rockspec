-- luarocks make (in a merx checkout) builds merx.so, the merx runtime as a
-- module for a stock Lua 5.4, and installs it with the pure-Lua modules
-- (merx/campaign.lua): `local merx = require "merx"`. The Debian packages
-- of scripts/lib.sh (OpenBLAS, libcurl, SQLite, zlib, jansson) must be
-- installed; CMake finds them with pkg-config.
rockspec_format = "3.0"
package = "merx"
version = "0.1.0-1"
source = {
  url = "git+file://.",
}
description = {
  summary = "A Lua-scriptable decision engine: recommendation, forecasting, inventory, allocation",
  detailed = [[
merx is a C library with a sandboxed Lua 5.4 runtime. This rock installs the
runtime as the Lua module `merx` (merx.so) plus its pure-Lua helpers.]],
  license = "see the repository",
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    CMAKE_INSTALL_PREFIX = "$(PREFIX)",
    MERX_LUA_ROCK = "ON",
    MERX_BUILD_TESTS = "OFF",
    MERX_LUA_CMOD_DIR = "$(LIBDIR)",
    MERX_LUA_LMOD_DIR = "$(LUADIR)",
  },
}

/* Lua pattern matching with a step budget: string.find, match, gmatch and
 * gsub for the sandbox.
 *
 * Lua's own matcher (lstrlib.c) backtracks inside one C call, where the
 * count hook never fires: string.find(("a"):rep(3000), ".-.-.-b") runs for
 * minutes, deaf to --timeout and signals. This is the same matcher, with the
 * same semantics and error messages as Lua 5.4's, except that its work is
 * counted: every match step, every byte a repetition or %b scans and every
 * candidate position of a plain find adds to ms->steps, and every
 * MX_PATTERN_POLL steps the run is polled (mx__run_poll: signal, memory,
 * deadline). A stopped run raises its stop message, and stays stopped like
 * any other stop. Outside a run (no mx_run on the state) nothing is polled.
 *
 * The matching algorithm, its structure and its messages follow lstrlib.c of
 * Lua 5.4, under this license:
 *
 * Copyright (C) 1994-2022 Lua.org, PUC-Rio.
 *
 * Permission is hereby granted, free of charge, to any person obtaining
 * a copy of this software and associated documentation files (the
 * "Software"), to deal in the Software without restriction, including
 * without limitation the rights to use, copy, modify, merge, publish,
 * distribute, sublicense, and/or sell copies of the Software, and to
 * permit persons to whom the Software is furnished to do so, subject to
 * the following conditions:
 *
 * The above copyright notice and this permission notice shall be
 * included in all copies or substantial portions of the Software.
 *
 * THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
 * EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
 * MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT.
 * IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY
 * CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT,
 * TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE
 * SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE. */
#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/internal.h"

#define PAT_MAXCAPTURES 32 /* LUA_MAXCAPTURES */
#define PAT_MAXDEPTH 200   /* MAXCCALLS: recursion depth of match() */
#define CAP_UNFINISHED (-1)
#define CAP_POSITION (-2)
#define ESC '%'
#define SPECIALS "^$*+?.([%-"
/* Weighted steps between polls: a poll reads the clock, a step is a few
 * instructions, so this keeps polling well under 1% of matching time while
 * a stop lands within milliseconds. */
#define MX_PATTERN_POLL ((size_t)1 << 16)

#define uchar(c) ((unsigned char)(c))

typedef struct match_state {
  const char *src_init, *src_end, *p_end;
  lua_State *L;
  mx_run *run;        /* NULL: not polled */
  size_t steps;       /* weighted work since the last poll */
  int depth;          /* recursion left */
  int level;          /* captures open or closed */
  struct {
    const char *init;
    ptrdiff_t len;
  } capture[PAT_MAXCAPTURES];
} match_state;

static const char *do_match(match_state *ms, const char *s, const char *p);

/* Count work; past the budget, poll the run and raise its stop. */
static void spend(match_state *ms, size_t cost) {
  ms->steps += cost;
  if (ms->steps < MX_PATTERN_POLL || !ms->run) return;
  ms->steps = 0;
  if (mx__run_poll(ms->L, ms->run)) {
    lua_pushstring(ms->L, ms->run->stop_msg);
    lua_error(ms->L);
  }
}

static int capture_index(match_state *ms, int c) {
  int l = c - '1';
  if (l < 0 || l >= ms->level || ms->capture[l].len == CAP_UNFINISHED)
    return luaL_error(ms->L, "invalid capture index %%%d", l + 1);
  return l;
}

static int open_capture(match_state *ms) {
  for (int level = ms->level - 1; level >= 0; level--)
    if (ms->capture[level].len == CAP_UNFINISHED) return level;
  return luaL_error(ms->L, "invalid pattern capture");
}

/* End of the single-character class starting at p. */
static const char *class_end(match_state *ms, const char *p) {
  switch (*p++) {
  case ESC:
    if (p == ms->p_end) luaL_error(ms->L, "malformed pattern (ends with '%%')");
    return p + 1;
  case '[':
    if (*p == '^') p++;
    do { /* look for the ']' */
      if (p == ms->p_end) luaL_error(ms->L, "malformed pattern (missing ']')");
      if (*(p++) == ESC && p < ms->p_end) p++; /* skip escapes (e.g. '%]') */
    } while (*p != ']');
    return p + 1;
  default:
    return p;
  }
}

static int class_matches(int c, int cl) {
  int res;
  switch (tolower(cl)) {
  case 'a': res = isalpha(c); break;
  case 'c': res = iscntrl(c); break;
  case 'd': res = isdigit(c); break;
  case 'g': res = isgraph(c); break;
  case 'l': res = islower(c); break;
  case 'p': res = ispunct(c); break;
  case 's': res = isspace(c); break;
  case 'u': res = isupper(c); break;
  case 'w': res = isalnum(c); break;
  case 'x': res = isxdigit(c); break;
  case 'z': res = c == 0; break; /* deprecated in Lua, still accepted */
  default: return cl == c;
  }
  if (isupper(cl)) res = !res;
  return res;
}

/* Does c belong to the set [p .. ec] (p at '[', ec at the closing ']')? */
static int set_matches(int c, const char *p, const char *ec) {
  int sig = 1;
  if (*(p + 1) == '^') {
    sig = 0;
    p++;
  }
  while (++p < ec) {
    if (*p == ESC) {
      p++;
      if (class_matches(c, uchar(*p))) return sig;
    } else if (*(p + 1) == '-' && p + 2 < ec) {
      p += 2;
      if (uchar(*(p - 2)) <= c && c <= uchar(*p)) return sig;
    } else if (uchar(*p) == c) {
      return sig;
    }
  }
  return !sig;
}

static int single_matches(match_state *ms, const char *s, const char *p, const char *ep) {
  if (s >= ms->src_end) return 0;
  int c = uchar(*s);
  switch (*p) {
  case '.': return 1;
  case ESC: return class_matches(c, uchar(*(p + 1)));
  case '[': return set_matches(c, p, ep - 1);
  default: return uchar(*p) == c;
  }
}

static const char *balance(match_state *ms, const char *s, const char *p) {
  if (p >= ms->p_end - 1) luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
  if (s >= ms->src_end || *s != *p) return NULL;
  int open = *p, close = *(p + 1), depth = 1;
  const char *start = s;
  const char *found = NULL;
  while (++s < ms->src_end) {
    if (*s == close) {
      if (--depth == 0) {
        found = s + 1;
        break;
      }
    } else if (*s == open) {
      depth++;
    }
  }
  spend(ms, (size_t)(s - start));
  return found;
}

/* Longest run of single matches, then back off until the rest matches. */
static const char *expand_max(match_state *ms, const char *s, const char *p, const char *ep) {
  ptrdiff_t i = 0;
  while (single_matches(ms, s + i, p, ep)) i++;
  spend(ms, (size_t)i);
  for (; i >= 0; i--) {
    const char *res = do_match(ms, s + i, ep + 1);
    if (res) return res;
  }
  return NULL;
}

/* Shortest run of single matches after which the rest matches. */
static const char *expand_min(match_state *ms, const char *s, const char *p, const char *ep) {
  for (;;) {
    const char *res = do_match(ms, s, ep + 1);
    if (res) return res;
    if (!single_matches(ms, s, p, ep)) return NULL;
    s++;
  }
}

static const char *capture_begin(match_state *ms, const char *s, const char *p, int what) {
  int level = ms->level;
  if (level >= PAT_MAXCAPTURES) luaL_error(ms->L, "too many captures");
  ms->capture[level].init = s;
  ms->capture[level].len = what;
  ms->level = level + 1;
  const char *res = do_match(ms, s, p);
  if (!res) ms->level--; /* undo the capture */
  return res;
}

static const char *capture_end(match_state *ms, const char *s, const char *p) {
  int l = open_capture(ms);
  ms->capture[l].len = s - ms->capture[l].init;
  const char *res = do_match(ms, s, p);
  if (!res) ms->capture[l].len = CAP_UNFINISHED;
  return res;
}

static const char *back_reference(match_state *ms, const char *s, int c) {
  int l = capture_index(ms, c);
  size_t len = (size_t)ms->capture[l].len;
  if ((size_t)(ms->src_end - s) >= len && memcmp(ms->capture[l].init, s, len) == 0) {
    spend(ms, len);
    return s + len;
  }
  return NULL;
}

static const char *do_match(match_state *ms, const char *s, const char *p) {
  if (ms->depth-- == 0) luaL_error(ms->L, "pattern too complex");
  for (;;) { /* each turn matches one item; tail positions loop instead of recursing */
    spend(ms, 1);
    if (p == ms->p_end) break;
    const char *ep;
    switch (*p) {
    case '(':
      s = p[1] == ')' ? capture_begin(ms, s, p + 2, CAP_POSITION)
                      : capture_begin(ms, s, p + 1, CAP_UNFINISHED);
      goto done;
    case ')':
      s = capture_end(ms, s, p + 1);
      goto done;
    case '$':
      if (p + 1 != ms->p_end) goto single; /* '$' is a plain character here */
      s = s == ms->src_end ? s : NULL;
      goto done;
    case ESC:
      switch (p[1]) {
      case 'b':
        s = balance(ms, s, p + 2);
        if (!s) goto done;
        p += 4;
        continue;
      case 'f': {
        p += 2;
        if (*p != '[') luaL_error(ms->L, "missing '[' after '%%f' in pattern");
        ep = class_end(ms, p);
        int prev = s == ms->src_init ? '\0' : *(s - 1);
        /* at the end of the subject *s is the terminating '\0', as in Lua */
        if (!set_matches(uchar(prev), p, ep - 1) && set_matches(uchar(*s), p, ep - 1)) {
          p = ep;
          continue;
        }
        s = NULL;
        goto done;
      }
      case '0': case '1': case '2': case '3': case '4':
      case '5': case '6': case '7': case '8': case '9':
        s = back_reference(ms, s, uchar(p[1]));
        if (!s) goto done;
        p += 2;
        continue;
      default:
        goto single;
      }
    default:
    single:
      ep = class_end(ms, p);
      if (!single_matches(ms, s, p, ep)) {
        if (*ep == '*' || *ep == '?' || *ep == '-') { /* these accept an empty match */
          p = ep + 1;
          continue;
        }
        s = NULL;
        goto done;
      }
      switch (*ep) {
      case '?': {
        const char *res = do_match(ms, s + 1, ep + 1);
        if (res) {
          s = res;
          goto done;
        }
        p = ep + 1;
        continue;
      }
      case '+': s = expand_max(ms, s + 1, p, ep); goto done;
      case '*': s = expand_max(ms, s, p, ep); goto done;
      case '-': s = expand_min(ms, s, p, ep); goto done;
      default:
        s++;
        p = ep;
        continue;
      }
    }
  }
done:
  ms->depth++;
  return s;
}

/* Capture i of a match [s, e) (the whole match when there are no captures).
 * Returns its length or CAP_POSITION (the position is then pushed). */
static ptrdiff_t capture_get(match_state *ms, int i, const char *s, const char *e,
                             const char **cap) {
  if (i >= ms->level) {
    if (i != 0) luaL_error(ms->L, "invalid capture index %%%d", i + 1);
    *cap = s;
    return e - s;
  }
  ptrdiff_t len = ms->capture[i].len;
  *cap = ms->capture[i].init;
  if (len == CAP_UNFINISHED) luaL_error(ms->L, "unfinished capture");
  else if (len == CAP_POSITION)
    lua_pushinteger(ms->L, (ms->capture[i].init - ms->src_init) + 1);
  return len;
}

static void capture_push(match_state *ms, int i, const char *s, const char *e) {
  const char *cap;
  ptrdiff_t len = capture_get(ms, i, s, e, &cap);
  if (len != CAP_POSITION) lua_pushlstring(ms->L, cap, (size_t)len);
}

static int captures_push(match_state *ms, const char *s, const char *e) {
  int n = (ms->level == 0 && s) ? 1 : ms->level;
  luaL_checkstack(ms->L, n, "too many captures");
  for (int i = 0; i < n; i++) capture_push(ms, i, s, e);
  return n;
}

static int has_specials(const char *p, size_t len) {
  size_t upto = 0;
  do { /* the pattern may hold '\0's: check each part */
    if (strpbrk(p + upto, SPECIALS)) return 1;
    upto += strlen(p + upto) + 1;
  } while (upto <= len);
  return 0;
}

static void state_init(match_state *ms, lua_State *L, const char *s, size_t ls, const char *p,
                       size_t lp) {
  ms->L = L;
  mx_run *run = mx__lua_run(L);
  ms->run = run && run->sandboxed ? run : NULL;
  ms->steps = 0;
  ms->depth = PAT_MAXDEPTH;
  ms->src_init = s;
  ms->src_end = s + ls;
  ms->p_end = p + lp;
}

static void state_reset(match_state *ms) { ms->level = 0; }

/* Plain substring search, counting each candidate position it compares. */
static const char *find_plain(match_state *ms, const char *s, size_t ls, const char *p,
                              size_t lp) {
  if (lp == 0) return s;
  if (lp > ls) return NULL;
  const char *end = s + (ls - lp) + 1; /* past the last possible start */
  while (s < end) {
    const char *at = memchr(s, *p, (size_t)(end - s));
    if (!at) {
      spend(ms, (size_t)(end - s));
      return NULL;
    }
    spend(ms, (size_t)(at - s) + lp);
    if (memcmp(at, p, lp) == 0) return at;
    s = at + 1;
  }
  return NULL;
}

/* Lua's posrelat for a start position: 1-based, negative from the end. */
static size_t start_position(lua_Integer pos, size_t len) {
  if (pos > 0) return (size_t)pos;
  if (pos == 0) return 1;
  if (pos < -(lua_Integer)len) return 1;
  return len + (size_t)pos + 1;
}

static int find_or_match(lua_State *L, int find) {
  size_t ls, lp;
  const char *s = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  size_t init = start_position(luaL_optinteger(L, 3, 1), ls) - 1;
  if (init > ls) {
    luaL_pushfail(L);
    return 1;
  }
  match_state ms;
  state_init(&ms, L, s, ls, p, lp);
  if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
    const char *at = find_plain(&ms, s + init, ls - init, p, lp);
    if (at) {
      lua_pushinteger(L, (at - s) + 1);
      lua_pushinteger(L, (lua_Integer)((size_t)(at - s) + lp));
      return 2;
    }
  } else {
    const char *s1 = s + init;
    int anchor = *p == '^';
    if (anchor) {
      p++;
      lp--;
      ms.p_end = p + lp;
    }
    do {
      state_reset(&ms);
      const char *e = do_match(&ms, s1, p);
      if (e) {
        if (find) {
          lua_pushinteger(L, (s1 - s) + 1);
          lua_pushinteger(L, e - s);
          return captures_push(&ms, NULL, 0) + 2;
        }
        return captures_push(&ms, s1, e);
      }
    } while (s1++ < ms.src_end && !anchor);
  }
  luaL_pushfail(L);
  return 1;
}

static int pat_find(lua_State *L) { return find_or_match(L, 1); }
static int pat_match(lua_State *L) { return find_or_match(L, 0); }

typedef struct gmatch_state {
  const char *src;       /* where the next search starts */
  const char *p;         /* pattern */
  const char *lastmatch; /* end of the last match (no empty match there again) */
  match_state ms;
} gmatch_state;

static int gmatch_next(lua_State *L) {
  gmatch_state *gm = lua_touserdata(L, lua_upvalueindex(3));
  gm->ms.L = L; /* the iterator may run in another coroutine */
  for (const char *src = gm->src; src <= gm->ms.src_end; src++) {
    state_reset(&gm->ms);
    const char *e = do_match(&gm->ms, src, gm->p);
    if (e && e != gm->lastmatch) {
      gm->src = gm->lastmatch = e;
      return captures_push(&gm->ms, src, e);
    }
  }
  return 0;
}

static int pat_gmatch(lua_State *L) {
  size_t ls, lp;
  const char *s = luaL_checklstring(L, 1, &ls);
  const char *p = luaL_checklstring(L, 2, &lp);
  size_t init = start_position(luaL_optinteger(L, 3, 1), ls) - 1;
  lua_settop(L, 2); /* subject and pattern stay alive as upvalues */
  gmatch_state *gm = lua_newuserdatauv(L, sizeof *gm, 0);
  if (init > ls) init = ls + 1; /* start past the end: no matches */
  state_init(&gm->ms, L, s, ls, p, lp);
  gm->src = s + init;
  gm->p = p;
  gm->lastmatch = NULL;
  lua_pushcclosure(L, gmatch_next, 3);
  return 1;
}

/* Append the replacement string (argument 3) with its %0-%9 and %%. */
static void add_string(match_state *ms, luaL_Buffer *b, const char *s, const char *e) {
  lua_State *L = ms->L;
  size_t l;
  const char *news = lua_tolstring(L, 3, &l);
  const char *p;
  while ((p = memchr(news, ESC, l)) != NULL) {
    luaL_addlstring(b, news, (size_t)(p - news));
    p++; /* the character after '%' ('\0' at the end of the string) */
    if (*p == ESC) {
      luaL_addchar(b, *p);
    } else if (*p == '0') {
      luaL_addlstring(b, s, (size_t)(e - s));
    } else if (isdigit(uchar(*p))) {
      const char *cap;
      ptrdiff_t len = capture_get(ms, *p - '1', s, e, &cap);
      if (len == CAP_POSITION) luaL_addvalue(b);
      else luaL_addlstring(b, cap, (size_t)len);
    } else {
      luaL_error(L, "invalid use of '%c' in replacement string", ESC);
    }
    l -= (size_t)(p + 1 - news);
    news = p + 1;
  }
  luaL_addlstring(b, news, l);
}

/* Append the replacement of match [s, e); returns whether it changed. */
static int add_value(match_state *ms, luaL_Buffer *b, const char *s, const char *e, int tr) {
  lua_State *L = ms->L;
  switch (tr) {
  case LUA_TFUNCTION: {
    lua_pushvalue(L, 3);
    int n = captures_push(ms, s, e);
    lua_call(L, n, 1);
    break;
  }
  case LUA_TTABLE:
    capture_push(ms, 0, s, e);
    lua_gettable(L, 3);
    break;
  default:
    add_string(ms, b, s, e);
    return 1;
  }
  if (!lua_toboolean(L, -1)) { /* nil or false: keep the original text */
    lua_pop(L, 1);
    luaL_addlstring(b, s, (size_t)(e - s));
    return 0;
  }
  if (!lua_isstring(L, -1))
    return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  luaL_addvalue(b);
  return 1;
}

static int pat_gsub(lua_State *L) {
  size_t srcl, lp;
  const char *src = luaL_checklstring(L, 1, &srcl);
  const char *p = luaL_checklstring(L, 2, &lp);
  const char *lastmatch = NULL;
  int tr = lua_type(L, 3);
  lua_Integer max_s = luaL_optinteger(L, 4, (lua_Integer)srcl + 1);
  int anchor = *p == '^';
  lua_Integer n = 0;
  int changed = 0;
  luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION ||
                          tr == LUA_TTABLE,
                   3, "string/function/table");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  if (anchor) {
    p++;
    lp--;
  }
  match_state ms;
  state_init(&ms, L, src, srcl, p, lp);
  while (n < max_s) {
    state_reset(&ms);
    const char *e = do_match(&ms, src, p);
    if (e && e != lastmatch) {
      n++;
      changed = add_value(&ms, &b, src, e, tr) | changed;
      src = lastmatch = e;
    } else if (src < ms.src_end) {
      luaL_addchar(&b, *src++);
    } else {
      break;
    }
    if (anchor) break;
  }
  if (!changed) {
    lua_pushvalue(L, 1); /* the subject itself */
  } else {
    luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
    luaL_pushresult(&b);
  }
  lua_pushinteger(L, n);
  return 2;
}

void mx__pattern_install(lua_State *L, int table) {
  static const luaL_Reg fns[] = {{"find", pat_find},
                                 {"match", pat_match},
                                 {"gmatch", pat_gmatch},
                                 {"gsub", pat_gsub},
                                 {NULL, NULL}};
  table = lua_absindex(L, table);
  for (const luaL_Reg *f = fns; f->name; f++) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, table, f->name);
  }
}
